"""A digit classifier trained on real data: scikit-learn's bundled 8x8
handwritten digits (1797 images, 10 classes; the UCI optical recognition of
handwritten digits test set), shipped inside the package, no download.

An MLP 64-64-32-10 (ReLU) is trained in float on 80% of the images, then
quantized to int8 with the same per-channel scheme and kernels as the
MLPerf models (nnref.py), activations calibrated on the training images.
The held-back 20% are embedded with their labels; the integer model's
exact number of correct answers on them is the golden figure the firmware
must reproduce.

    pip install scikit-learn numpy
    python3 gen/gen_digits.py   (from workloads/)
"""

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import nnref as nn

# Pixels are 0..16; scale 16/255 with zero point -128 spans them exactly.
IN_SCALE, IN_ZP = 16.0 / 255.0, -128


def quantize_pixels(x):
    return np.clip(np.round(x / IN_SCALE) + IN_ZP, -128, 127).astype(np.int64)


def main():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    mlp = MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=600, random_state=0)
    mlp.fit(x_train, y_train)
    float_acc = mlp.score(x_test, y_test)

    x = nn.Tensor(quantize_pixels(x_train).reshape(-1, 1, 1, 64), IN_SCALE, IN_ZP)
    t = x
    n_layers = len(mlp.coefs_)
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        t = nn.fc(t, w.T, b, relu=i < n_layers - 1)
    layers = nn.graph(t)
    arena = nn.plan_arena(layers)
    macs = sum(layer.macs for layer in layers)

    q_test = quantize_pixels(x_test)
    logits = nn.replay_fc(layers, q_test)
    # The firmware takes nn_argmax (first maximum on ties), as np.argmax does.
    correct = int((logits.argmax(axis=1) == y_test).sum())
    n = len(y_test)
    assert correct * 10 >= 9 * n, f"int8 accuracy {correct}/{n} below 90%"

    body = [f"/* 8x8 digits MLP 64-64-32-10 trained with scikit-learn {sklearn.__version__};\n"
            f" * float accuracy {float_acc:.4f}, int8 accuracy {correct}/{n} on the held-back images.\n"
            f" * MACs per inference: {macs}. */\n",
            nn.emit_layers("digits", layers),
            nn.c_array("int8_t", "digits_test_images", q_test, 16),
            nn.c_array("uint8_t", "digits_test_labels", y_test),
            f"#define DIGITS_N_LAYERS {len(layers)}\n#define DIGITS_N_TEST {n}\n"
            f"#define DIGITS_FEATURES 64\n#define DIGITS_CLASSES 10\n"
            f"#define DIGITS_ARENA_BYTES {arena}\n#define DIGITS_MACS {macs}\n"
            f"/* Held-back images the int8 model classifies correctly. */\n"
            f"#define DIGITS_EXPECTED_CORRECT {correct}\n"]
    with open("inference/digits_mlp_model.h", "w") as f:
        f.write(nn.header("DIGITS_MLP_MODEL_H", "\n".join(body), "gen_digits.py"))
    print(f"digits: float {float_acc:.4f}, int8 {correct}/{n}, {macs} MACs, arena {arena} bytes")


if __name__ == "__main__":
    main()
