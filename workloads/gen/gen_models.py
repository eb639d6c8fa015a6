"""The four MLPerf Tiny inference models with seeded random int8 weights.

Layer shapes follow the MLPerf Tiny reference models (KWS DS-CNN, VWW
MobileNetV1 0.25, IC ResNet-8, AD FC autoencoder), with batch norm folded
into the preceding layer as the TFLite converter does. Weights are He-normal
floats from a seeded generator, quantized per channel to int8; activations
are calibrated on the fixed test input, so every layer uses its int8 range.
The golden output (checksum and argmax) comes from the bit-exact integer
model in nnref.py.

    python3 gen/gen_models.py   (from workloads/)
"""

import numpy as np

import nnref as nn

PUBLISHED_MACS = {"kws_dscnn": 2.66e6, "vww_mobilenet": 7.49e6, "ic_resnet8": 12.5e6, "ad_autoencoder": 0.264e6}


class Weights:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def conv(self, x, out_c, k, stride=1, relu=True, padding="same"):
        k_h, k_w = (k, k) if isinstance(k, int) else k
        in_c = x.shape[-1]
        fan_in = k_h * k_w * in_c
        w = self.rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(out_c, k_h, k_w, in_c))
        b = self.rng.normal(0.0, 0.1, size=out_c)
        return nn.conv(x, w, b, stride=stride, padding=padding, relu=relu)

    def dwconv(self, x, stride=1):
        c = x.shape[-1]
        w = self.rng.normal(0.0, np.sqrt(2.0 / 9), size=(3, 3, c))
        b = self.rng.normal(0.0, 0.1, size=c)
        return nn.dwconv(x, w, b, stride=stride)

    def fc(self, x, out_c, relu=True):
        in_c = int(np.prod(x.shape))
        w = self.rng.normal(0.0, np.sqrt(2.0 / in_c), size=(out_c, in_c))
        b = self.rng.normal(0.0, 0.1, size=out_c)
        return nn.fc(x, w, b, relu=relu)

    def input(self, h, w, c, scale):
        return nn.Tensor(self.rng.integers(-128, 128, size=(1, h, w, c)), scale, 0)


def kws_dscnn():
    g = Weights(1)
    x_in = g.input(49, 10, 1, 0.25)
    x = g.conv(x_in, 64, (10, 4), stride=2)
    for _ in range(4):
        x = g.dwconv(x)
        x = g.conv(x, 64, 1)
    x = nn.pool(x, (25, 5), 1)
    x = nn.softmax(g.fc(x, 12, relu=False))
    return x_in, x, "MLPerf Tiny keyword spotting DS-CNN: conv 10x4/2 (64), 4 x (dw 3x3 + pw 64), avgpool, FC 12, softmax; 49x10x1 MFCC input."


def vww_mobilenet():
    g = Weights(2)
    x_in = g.input(96, 96, 3, 1.0 / 128)
    x = g.conv(x_in, 8, 3, stride=2)
    # (pointwise filters, depthwise stride) of MobileNetV1 with width 0.25
    for out_c, stride in [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1),
                          (128, 1), (128, 1), (128, 1), (256, 2), (256, 1)]:
        x = g.dwconv(x, stride)
        x = g.conv(x, out_c, 1)
    x = nn.pool(x, 3, 1)
    x = nn.softmax(g.fc(x, 2, relu=False))
    return x_in, x, "MLPerf Tiny visual wake words MobileNetV1 0.25: conv 3x3/2 (8), 13 depthwise-separable blocks, avgpool, FC 2, softmax; 96x96x3 input."


def ic_resnet8():
    g = Weights(3)
    x_in = g.input(32, 32, 3, 1.0 / 128)
    x = g.conv(x_in, 16, 3)
    for out_c, stride in [(16, 1), (32, 2), (64, 2)]:
        y = g.conv(x, out_c, 3, stride=stride)
        y = g.conv(y, out_c, 3, relu=False)
        if stride != 1:
            x = g.conv(x, out_c, 1, stride=stride, relu=False)
        x = nn.add(x, y)
    x = nn.pool(x, 8, 1)
    x = nn.softmax(g.fc(x, 10, relu=False))
    return x_in, x, "MLPerf Tiny image classification ResNet-8: conv 3x3 (16), three residual stages (16, 32/2, 64/2) with 1x1 projection shortcuts, avgpool, FC 10, softmax; 32x32x3 input."


def ad_autoencoder():
    g = Weights(4)
    x_in = g.input(1, 1, 640, 0.05)
    x = x_in
    for out_c in [128, 128, 128, 128, 8, 128, 128, 128, 128]:
        x = g.fc(x, out_c)
    x = g.fc(x, 640, relu=False)
    return x_in, x, "MLPerf Tiny anomaly detection FC autoencoder 640-128-128-128-128-8-128-128-128-128-640; 5 frames x 128 mel input."


def main():
    for build in [kws_dscnn, vww_mobilenet, ic_resnet8, ad_autoencoder]:
        name = build.__name__
        x_in, out, notes = build()
        macs, arena = nn.emit_model(name, notes.split(":")[0] + ".", "gen_models.py", x_in, out, notes)
        off = macs / PUBLISHED_MACS[name] - 1
        assert abs(off) <= 0.05, (name, macs)
        print(f"{name}: {macs} MACs ({off:+.2%} vs published), arena {arena} bytes")


if __name__ == "__main__":
    main()
