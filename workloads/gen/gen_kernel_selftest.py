"""Golden data for inference/kernel_selftest.c.

Small layers with awkward shapes (odd channel counts, columns that are not
a multiple of four, stride 2 with asymmetric SAME padding, negative outputs)
on seeded random data, with the outputs of the bit-exact Python model
(nnref.py). The firmware runs every kernel, reference and DSP, on the same
inputs and must reproduce these bytes.

    python3 gen/gen_kernel_selftest.py   (from workloads/)
"""

import numpy as np

import nnref as nn

rng = np.random.default_rng(20240601)


def rand_input(h, w, c, scale=0.05):
    q = rng.integers(-128, 128, size=(1, h, w, c))
    return nn.Tensor(q, scale, int(rng.integers(-20, 21)))


def he(shape, fan_in):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)


def bias(n):
    return rng.normal(0.0, 0.1, size=n)


def clamped(out, hi):
    """out with its layer's activation range narrowed to [act_min, hi], as a
    fused ReLU6 does: the DSP kernels then take their general output stage."""
    layer = out.producer
    layer.act_max = hi
    out.q = np.clip(out.q, layer.act_min, hi)
    return out


def near_zero_point(h, w, c):
    """Inputs within one step of the zero point: the sums are so small that
    the output multipliers exceed 1 (a left shift)."""
    zp = int(rng.integers(-20, 21))
    return nn.Tensor(zp + rng.integers(-1, 2, size=(1, h, w, c)), 0.05, zp)


cases = []


def case(name, out):
    cases.append((name, out.producer))


x = rand_input(9, 7, 3)
case("conv 3x3 s2 same, 3->5", nn.conv(x, he((5, 3, 3, 3), 27), bias(5), stride=2))
x = rand_input(5, 6, 8)
case("conv 1x1, 8->6", nn.conv(x, he((6, 1, 1, 8), 8), bias(6)))
x = rand_input(6, 8, 5)
case("conv 2x3 valid, 5->3, linear", nn.conv(x, he((3, 2, 3, 5), 30), bias(3), padding="valid", relu=False))
x = rand_input(11, 5, 1)
case("conv 10x4 s2 same, 1->4", nn.conv(x, he((4, 10, 4, 1), 40), bias(4), stride=2))
x = rand_input(7, 6, 6)
case("dwconv 3x3 s1 same, 6", nn.dwconv(x, he((3, 3, 6), 9), bias(6)))
x = rand_input(7, 9, 8)
case("dwconv 3x3 s2 same, 8, linear", nn.dwconv(x, he((3, 3, 8), 9), bias(8), stride=2, relu=False))
x = rand_input(8, 6, 8)
case("dwconv 3x3 s1 same, 8, clamped", clamped(nn.dwconv(x, he((3, 3, 8), 9), bias(8)), 40))
x = rand_input(7, 7, 4)
case("dwconv 3x3 s2 same, 4, clamped", clamped(nn.dwconv(x, he((3, 3, 4), 9), bias(4), stride=2), 30))
x = near_zero_point(6, 5, 4)
case("dwconv 3x3 s1 same, 4, multiplier > 1", nn.dwconv(x, he((3, 3, 4), 9), bias(4) * 0.01))
x = rand_input(6, 5, 8)
case("conv 3x3 s1 same, 8->6, clamped", clamped(nn.conv(x, he((6, 3, 3, 8), 72), bias(6)), 50))
x = near_zero_point(5, 4, 8)
case("conv 1x1, 8->5, multiplier > 1", nn.conv(x, he((5, 1, 1, 8), 8), bias(5) * 0.01))
x = rand_input(1, 1, 37)
case("fc 37->11", nn.fc(x, he((11, 37), 37), bias(11)))
x = rand_input(1, 1, 24)
case("fc 24->9, clamped", clamped(nn.fc(x, he((9, 24), 24), bias(9)), 20))
x = rand_input(1, 1, 64)
case("fc 64->10, linear", nn.fc(x, he((10, 64), 64), bias(10), relu=False))
x = rand_input(7, 7, 5)
case("avgpool 3x3 s2 same", nn.pool(x, 3, 2, padding="same"))
x = rand_input(6, 6, 3)
case("maxpool 2x2 s2", nn.pool(x, 2, 2, average=False))
a = rand_input(4, 5, 6, scale=0.04)
b = rand_input(4, 5, 6, scale=0.11)
case("add, relu", nn.add(a, b))
a = rand_input(3, 3, 7, scale=0.09)
case("add to itself, linear", nn.add(a, a, relu=False))
x = rand_input(1, 3, 10, scale=0.12)
case("softmax 3 rows of 10", nn.softmax(x))

body = []
layers = [layer for _, layer in cases]
for layer in layers:
    layer.out_off = 0
body.append(nn.emit_layers("selftest", layers))
rows = []
macs = 0
for i, (name, layer) in enumerate(cases):
    body.append(nn.c_array("int8_t", f"selftest_in{i}", layer.inputs[0].q))
    in2 = "0"
    if len(layer.inputs) > 1:
        body.append(nn.c_array("int8_t", f"selftest_in2_{i}", layer.inputs[1].q))
        in2 = f"selftest_in2_{i}"
    body.append(nn.c_array("int8_t", f"selftest_out{i}", layer.output.q))
    n_out = int(np.prod(layer.output.shape))
    rows.append(f'    {{"{name}", &selftest_layers[{i}], selftest_in{i}, {in2}, selftest_out{i}, {n_out}}},\n')
    macs += layer.macs

body.append("typedef struct {\n    const char *name;\n    const nn_layer *layer;\n"
            "    const int8_t *in, *in2, *expect;\n    int n_out;\n} selftest_case;\n")
body.append(f"static const selftest_case selftest_cases[{len(cases)}] = {{\n" + "".join(rows) + "};\n")
body.append(f"#define SELFTEST_MAX_OUT {max(int(np.prod(l.output.shape)) for l in layers)}\n")
body.append(f"/* MACs of one pass over the conv, depthwise and FC cases with one kernel set. */\n"
            f"#define SELFTEST_MACS {macs}\n")
with open("inference/kernel_selftest_data.h", "w") as f:
    f.write(nn.header("KERNEL_SELFTEST_DATA_H", "\n".join(body), "gen_kernel_selftest.py"))
print(f"{len(cases)} cases, {macs} MACs per kernel set")
