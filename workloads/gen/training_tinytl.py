"""Pretrained fp32 digits network and drifted device data for tinytl_bias.c.

The vendor trains a 64-32-16-10 ReLU network on one half of scikit-learn's digits
set (clean inputs, pixel / 16). The device's sensor has drifted: it reports
GAIN * pixel / 16 + OFFSET. The firmware freezes every weight (flash) and trains only
the biases on the drifted stream (TinyTL's bias-only update, Cai et al., 2020).
"""

import numpy as np
from sklearn.datasets import load_digits

from training_common import Header, mlp_logits, softmax, train_mlp

SEED = 7
PRETRAIN = 900
HIDDEN = [32, 16]
DEVICE_TRAIN = 600
GAIN = 0.5  # the drifted sensor's gain and offset (fractions of full scale)
OFFSET = 0.35


def loss_acc(params, x, y):
    z = mlp_logits(params, x)
    p = softmax(z)
    return -np.log(p[np.arange(len(y)), y]).mean(), (z.argmax(1) == y).mean()


def main():
    digits = load_digits()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(digits.target))
    pixels = digits.data[order].astype(np.int64)
    labels = digits.target[order]
    x = pixels.astype(np.float32) / 16.0

    params = train_mlp(x[:PRETRAIN], labels[:PRETRAIN], HIDDEN, 10, rng, epochs=30, lr=0.05)
    held = slice(PRETRAIN + DEVICE_TRAIN, None)
    clean = loss_acc(params, x[held], labels[held])
    drift = loss_acc(params, GAIN * x[held] + OFFSET, labels[held])

    h = Header(
        "tinytl_digits",
        [
            "training_tinytl.py (seed %d)" % SEED,
            "Source data: scikit-learn load_digits (UCI optical digits, 8x8, pixels 0..16).",
            "Network 64-%s-10 pretrained on %d clean samples." % ("-".join(map(str, HIDDEN)), PRETRAIN),
            "Held-back device samples, clean inputs: loss %.3f, accuracy %.3f;" % clean,
            "drifted inputs (gain %.2f, offset %.2f): loss %.3f, accuracy %.3f." % ((GAIN, OFFSET) + drift),
        ],
    )
    h.define("TL_INPUTS", 64)
    h.define("TL_HIDDEN1", HIDDEN[0])
    h.define("TL_HIDDEN2", HIDDEN[1])
    h.define("TL_CLASSES", 10)
    h.define("TL_DEVICE_SAMPLES", len(labels) - PRETRAIN)
    h.define("TL_DEVICE_TRAIN", DEVICE_TRAIN)
    h.define("TL_DRIFT_GAIN", "%.9gf" % GAIN)
    h.define("TL_DRIFT_OFFSET", "%.9gf" % OFFSET)
    h.blank()
    for i, (w, b) in enumerate(params, start=1):
        h.array("float", "tl_w%d" % i, w)
        h.array("float", "tl_b%d_pretrained" % i, b)
    h.array("uint8_t", "tl_device_pixels", pixels[PRETRAIN:])
    h.array("uint8_t", "tl_device_labels", labels[PRETRAIN:], per_line=32)
    h.write()


if __name__ == "__main__":
    main()
