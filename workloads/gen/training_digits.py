"""Frozen int8 feature extractor for the TinyOL and few-shot workloads (8x8 digits).

The extractor (64 pixels -> 64 ReLU features, int8 weights) is pretrained here on
classes 0..5 of one half of scikit-learn's digits set only, so classes 6..9 are new
to it. The other half is the device's data: the firmware learns a 10-class output
layer on it online (tinyol.c) or enrolls classes 6..9 as prototypes (fewshot_prototypes.c).

Input quantization: a pixel is 0..16 and is fed as int8 with scale 1/16 (real = q/16).
"""

import numpy as np
from sklearn.datasets import load_digits

from training_common import Header, Int8Dense, mlp_logits, relu, train_mlp

SEED = 2024
PRETRAIN = 900  # samples of the shuffled set the vendor pretrains on
BASE_CLASSES = 6  # the extractor sees classes 0..5 only
FEATURES = 64
DEVICE_TRAIN = 600  # device samples streamed / enrolled from; the rest are held back


def main():
    digits = load_digits()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(digits.target))
    pixels = digits.data[order].astype(np.int64)  # 0..16
    labels = digits.target[order]

    pre = (np.arange(len(labels)) < PRETRAIN) & (labels < BASE_CLASSES)
    x_pre = pixels[pre].astype(np.float32) / 16.0
    params = train_mlp(x_pre, labels[pre], [FEATURES], BASE_CLASSES, rng, epochs=10, lr=0.05)
    acc_pre = (mlp_logits(params, x_pre).argmax(1) == labels[pre]).mean()

    w, b = params[0]
    feat_scale = float(relu(x_pre @ w.T + b).max()) / 127.0
    layer = Int8Dense(w, b, 1.0 / 16.0, feat_scale)

    dev_pixels = pixels[PRETRAIN:]
    dev_labels = labels[PRETRAIN:]
    emb = layer.forward(dev_pixels)

    h = Header(
        "digits_extractor",
        [
            "training_digits.py (seed %d)" % SEED,
            "Source data: scikit-learn load_digits (UCI optical digits, 8x8, pixels 0..16).",
            "Extractor pretrained on classes 0..%d: accuracy %.3f on its pretraining set."
            % (BASE_CLASSES - 1, acc_pre),
            "Device split: %d samples, first %d for training/enrollment, rest held back."
            % (len(dev_labels), DEVICE_TRAIN),
        ],
    )
    h.define("DIGITS_PIXELS", 64)
    h.define("DIGITS_CLASSES", 10)
    h.define("DIGITS_BASE_CLASSES", BASE_CLASSES)
    h.define("DIGITS_FEATURES", FEATURES)
    h.define("DIGITS_DEVICE_SAMPLES", len(dev_labels))
    h.define("DIGITS_DEVICE_TRAIN", DEVICE_TRAIN)
    h.define("DIGITS_FEATURE_SCALE", "%.9gf" % np.float32(feat_scale))
    # Lets the firmware check that its int8 arithmetic matches this model bit for bit:
    # sum over all device embeddings of q * (flat index % 251 + 1).
    weights = (np.arange(emb.size) % 251 + 1).reshape(emb.shape)
    h.define("DIGITS_EMBEDDING_CHECKSUM", "%d" % int((emb * weights).sum()))
    h.blank()
    layer.emit(h, "digits_fe")
    h.array("uint8_t", "digits_device_pixels", dev_pixels)
    h.array("uint8_t", "digits_device_labels", dev_labels, per_line=32)
    h.write()


if __name__ == "__main__":
    main()
