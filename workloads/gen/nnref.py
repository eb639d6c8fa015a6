"""Bit-exact Python model of the int8 kernels in workloads/kernels/, plus the
graph builder and C emitter the generators share.

Every integer step mirrors the C code (and TFLite's int8 reference kernels):
int32 accumulation, per-channel requantization with a saturating rounding
doubling high multiply and a rounding right shift, output zero point, clamp.
Arrays are int64 so nothing wraps; `_int32` asserts that every value the C
code keeps in an int32 actually fits, so a generated model cannot rely on
overflow behaviour.

Graph building quantizes float weights and calibrates each tensor's scale
and zero point on the data flowing through it (post-training quantization,
as the TFLite converter does), then runs the exact integer kernels to get
the tensor the next layer sees. Tensors are batched: q has shape (N, h, w, c).
"""

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
ADD_LEFT_SHIFT = 20  # NN_ADD_LEFT_SHIFT in kernels/nn.h
EXP_TABLE_BITS = 20  # softmax exp table in Q20 (kernels/nn_ref.c)


def _int32(x):
    x = np.asarray(x, dtype=np.int64)
    assert x.min(initial=0) >= INT32_MIN and x.max(initial=0) <= INT32_MAX, "int32 overflow"
    return x


def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul of int32 arrays."""
    a = _int32(a)
    b = _int32(b)
    ab = a * b
    x = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(x >= 0, x >> 31, -((-x) >> 31))  # C division truncates toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def rounding_divide_by_pot(x, exponent):
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def requantize(acc, mult, shift):
    """nn_requantize: acc * mult * 2^shift / 2^31 with TFLite's rounding."""
    acc = _int32(acc)
    mult = np.asarray(mult, dtype=np.int64)
    assert mult.min(initial=0) >= 0, "nn_requantize needs mult >= 0"
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(srdhm(_int32(acc << left), mult), right)


def quantize_multiplier(real):
    """(mult, shift) with real = mult * 2^shift / 2^31, mult in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    frac, shift = math.frexp(real)
    mult = int(round(frac * (1 << 31)))
    if mult == 1 << 31:
        mult //= 2
        shift += 1
    assert -31 <= shift <= 30, real
    return mult, shift


def same_padding(size, k, stride):
    """TFLite SAME padding: (output size, padding before)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return out, total // 2


class Tensor:
    def __init__(self, q, scale, zp, producer=None):
        self.q = np.asarray(q, dtype=np.int64)
        self.scale = float(scale)
        self.zp = int(zp)
        self.producer = producer  # the Layer that writes it; None for the model input

    @property
    def shape(self):
        return self.q.shape[1:]

    def real(self):
        return self.scale * (self.q - self.zp)


def output_quant(real, relu):
    """Scale and zero point covering the calibration range (always holding 0)."""
    lo = 0.0 if relu else min(float(real.min()), 0.0)
    hi = max(float(real.max()), 0.0)
    if hi - lo < 1e-6:
        hi = lo + 1e-6
    scale = (hi - lo) / 255.0
    zp = int(np.clip(round(-128 - lo / scale), -128, 127))
    return scale, zp


class Layer:
    """One nn_layer: geometry, constant data and the tensors it joins."""

    def __init__(self, op, inputs, **kw):
        self.op = op
        self.inputs = inputs
        self.k_h = self.k_w = self.stride_h = self.stride_w = 1
        self.pad_top = self.pad_left = 0
        self.act_min, self.act_max = -128, 127
        self.weights = self.bias = self.mult = self.shift = self.exp_table = None
        self.macs = 0
        self.__dict__.update(kw)
        self.output = None


def _quantize_weights(w_f, axis_out):
    """Symmetric per-output-channel int8 weights and their scales."""
    moved = np.moveaxis(w_f, axis_out, 0)
    scales = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1) / 127.0
    scales = np.maximum(scales, 1e-8)
    shape = [1] * w_f.ndim
    shape[axis_out] = -1
    w_q = np.clip(np.round(w_f / scales.reshape(shape)), -127, 127).astype(np.int64)
    return w_q, scales


def _finish(layer, x, acc, w_scales, relu, b_f):
    """Bias, requantization and calibration shared by conv, depthwise and FC."""
    layer.bias = np.round(b_f / (x.scale * w_scales)).astype(np.int64)
    acc = acc + layer.bias
    real = acc * (x.scale * w_scales)
    scale, zp = output_quant(np.maximum(real, 0) if relu else real, relu)
    pairs = [quantize_multiplier(x.scale * s / scale) for s in w_scales]
    layer.mult = np.array([p[0] for p in pairs], dtype=np.int64)
    layer.shift = np.array([p[1] for p in pairs], dtype=np.int64)
    layer.act_min = zp if relu else -128
    layer.output = Tensor(_requantize_output(layer, acc, zp), scale, zp, layer)
    return layer.output


def _requantize_output(layer, acc, zp):
    q = requantize(acc, layer.mult, layer.shift) + zp
    return np.clip(q, layer.act_min, layer.act_max)


def replay_fc(layers, q):
    """Runs a chain of FC layers, built and calibrated earlier, on new int8
    inputs q of shape (N, features): exactly what nn_fc_* compute."""
    for layer in layers:
        assert layer.op == "NN_FC"
        x = layer.inputs[0]
        acc = (q.reshape(q.shape[0], -1) - x.zp) @ layer.weights.T + layer.bias
        q = _requantize_output(layer, acc, layer.output.zp)
    return q


def _geometry(x, k_h, k_w, stride, padding):
    n, h, w, c = x.q.shape
    if padding == "same":
        oh, pt = same_padding(h, k_h, stride)
        ow, pl = same_padding(w, k_w, stride)
    else:
        oh, ow, pt, pl = (h - k_h) // stride + 1, (w - k_w) // stride + 1, 0, 0
    return oh, ow, pt, pl


def _windows(x, k_h, k_w, stride, oh, ow, pt, pl, fill):
    """(N, oh, ow, k_h, k_w, c) patches of x.q, padded with fill."""
    n, h, w, c = x.q.shape
    ph = max((oh - 1) * stride + k_h - h - pt, 0)
    pw = max((ow - 1) * stride + k_w - w - pl, 0)
    xp = np.pad(x.q, ((0, 0), (pt, ph), (pl, pw), (0, 0)), constant_values=fill)
    out = np.empty((n, oh, ow, k_h, k_w, c), dtype=np.int64)
    for ky in range(k_h):
        for kx in range(k_w):
            out[:, :, :, ky, kx, :] = xp[:, ky : ky + stride * oh : stride, kx : kx + stride * ow : stride, :]
    return out


def _valid_mask(x, k_h, k_w, stride, oh, ow, pt, pl):
    ones = Tensor(np.ones((1,) + tuple(x.shape[:2]) + (1,)), 1, 0)
    return _windows(ones, k_h, k_w, stride, oh, ow, pt, pl, 0)


def conv(x, w_f, b_f, stride=1, padding="same", relu=True):
    """w_f: float weights [out_c][k_h][k_w][in_c]."""
    out_c, k_h, k_w, in_c = w_f.shape
    oh, ow, pt, pl = _geometry(x, k_h, k_w, stride, padding)
    w_q, ws = _quantize_weights(w_f, 0)
    # Padding holds the zero point, so (q - zp) is 0 there: the taps the C
    # kernels skip.
    patches = _windows(x, k_h, k_w, stride, oh, ow, pt, pl, x.zp) - x.zp
    acc = np.tensordot(patches, w_q, axes=([3, 4, 5], [1, 2, 3]))
    layer = Layer("NN_CONV", [x], k_h=k_h, k_w=k_w, stride_h=stride, stride_w=stride,
                  pad_top=pt, pad_left=pl, weights=w_q, macs=oh * ow * out_c * k_h * k_w * in_c)
    return _finish(layer, x, acc, ws, relu, b_f)


def dwconv(x, w_f, b_f, stride=1, padding="same", relu=True):
    """w_f: float weights [k_h][k_w][c]."""
    k_h, k_w, c = w_f.shape
    oh, ow, pt, pl = _geometry(x, k_h, k_w, stride, padding)
    w_q, ws = _quantize_weights(w_f, 2)
    patches = _windows(x, k_h, k_w, stride, oh, ow, pt, pl, x.zp) - x.zp
    acc = np.einsum("nhwyxc,yxc->nhwc", patches, w_q)
    layer = Layer("NN_DWCONV", [x], k_h=k_h, k_w=k_w, stride_h=stride, stride_w=stride,
                  pad_top=pt, pad_left=pl, weights=w_q, macs=oh * ow * c * k_h * k_w)
    return _finish(layer, x, acc, ws, relu, b_f)


def fc(x, w_f, b_f, relu=True):
    """w_f: float weights [out_c][in_c]; x is flattened in NHWC order."""
    out_c, in_c = w_f.shape
    n = x.q.shape[0]
    flat = x.q.reshape(n, -1)
    assert flat.shape[1] == in_c
    w_q, ws = _quantize_weights(w_f, 0)
    acc = (flat - x.zp) @ w_q.T
    layer = Layer("NN_FC", [x], weights=w_q, macs=out_c * in_c)
    out = _finish(layer, x, acc.reshape(n, 1, 1, out_c), ws, relu, b_f)
    return out


def pool(x, k, stride, padding="valid", average=True):
    """k: window size, an int or (k_h, k_w)."""
    k_h, k_w = (k, k) if isinstance(k, int) else k
    oh, ow, pt, pl = _geometry(x, k_h, k_w, stride, padding)
    mask = _valid_mask(x, k_h, k_w, stride, oh, ow, pt, pl)
    patches = _windows(x, k_h, k_w, stride, oh, ow, pt, pl, 0)
    if average:
        total = (patches * mask).sum(axis=(3, 4))
        count = mask.sum(axis=(3, 4))
        half = count // 2
        num = np.where(total > 0, total + half, total - half)
        q = np.where(num >= 0, num // count, -((-num) // count))
    else:
        q = np.where(mask == 1, patches, -128).max(axis=(3, 4))
    layer = Layer("NN_AVGPOOL" if average else "NN_MAXPOOL", [x], k_h=k_h, k_w=k_w,
                  stride_h=stride, stride_w=stride, pad_top=pt, pad_left=pl)
    layer.output = Tensor(np.clip(q, -128, 127), x.scale, x.zp, layer)
    return layer.output


def add(a, b, relu=True):
    """TFLite int8 ADD: both inputs rescaled to a common 2*max(scale) grid."""
    assert a.shape == b.shape
    scale, zp = output_quant(np.maximum(a.real() + b.real(), 0) if relu else a.real() + b.real(), relu)
    twice_max = 2 * max(a.scale, b.scale)
    pairs = [quantize_multiplier(a.scale / twice_max), quantize_multiplier(b.scale / twice_max),
             quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * scale))]
    layer = Layer("NN_ADD", [a, b], mult=np.array([p[0] for p in pairs]),
                  shift=np.array([p[1] for p in pairs]), act_min=zp if relu else -128)
    sa = requantize((a.q - a.zp) << ADD_LEFT_SHIFT, pairs[0][0], pairs[0][1])
    sb = requantize((b.q - b.zp) << ADD_LEFT_SHIFT, pairs[1][0], pairs[1][1])
    q = requantize(sa + sb, pairs[2][0], pairs[2][1]) + zp
    layer.output = Tensor(np.clip(q, layer.act_min, 127), scale, zp, layer)
    return layer.output


def softmax(x):
    """exp from a Q20 table of exp(-d * scale), d = max - q; output scale 1/256."""
    table = np.array([int(math.floor(math.exp(-d * x.scale) * (1 << EXP_TABLE_BITS) + 0.5))
                      for d in range(256)], dtype=np.int64)
    assert x.shape[-1] <= 4096
    mx = x.q.max(axis=-1, keepdims=True)
    e = table[mx - x.q]
    total = e.sum(axis=-1, keepdims=True)
    p = (e * 256 + total // 2) // total
    layer = Layer("NN_SOFTMAX", [x], exp_table=table)
    layer.output = Tensor(np.clip(p - 128, -128, 127), 1.0 / 256, -128, layer)
    return layer.output


def graph(output):
    """Layers in execution order (the order they were built in)."""
    seen, order = set(), []

    def visit(t):
        layer = t.producer
        if layer is None or id(layer) in seen:
            return
        for i in layer.inputs:
            visit(i)
        seen.add(id(layer))
        order.append(layer)

    visit(output)
    return order


def plan_arena(layers):
    """Arena offsets (sets layer.out_off) and the arena size in bytes.

    A tensor lives from the layer that writes it to its last reader, and an
    output never overlaps the layer's inputs. Each output goes to the end of
    the arena away from its first input (lowest free gap or highest), so a
    chain of layers ping-pongs between the two ends; the arena starts at the
    largest total of simultaneously live tensors and grows until it fits."""
    last_use = {}
    for i, layer in enumerate(layers):
        for t in layer.inputs:
            last_use[id(t)] = i
    sizes = [(int(np.prod(layer.output.shape)) + 3) & ~3 for layer in layers]

    def place(arena):
        live = []  # (offset, size, tensor id)
        offsets = {}
        for i, layer in enumerate(layers):
            live = [a for a in live if last_use.get(a[2], len(layers)) >= i]
            need = sizes[i]
            gaps, cursor = [], 0
            for start, length, _ in sorted(live):
                if start - cursor >= need:
                    gaps.append((cursor, start))
                cursor = max(cursor, start + length)
            if arena - cursor >= need:
                gaps.append((cursor, arena))
            if not gaps:
                return None
            src = layer.inputs[0].producer
            low = src is None or offsets[id(src)] + sizes[layers.index(src)] / 2 >= arena / 2
            offset = gaps[0][0] if low else gaps[-1][1] - need
            offsets[id(layer)] = offset
            live.append((offset, need, id(layer.output)))
        return offsets

    arena = max(_live_bytes(layers, last_use, sizes, i) for i in range(len(layers)))
    while (offsets := place(arena)) is None:
        arena += 4
    for layer in layers:
        layer.out_off = offsets[id(layer)]
    return arena


def _live_bytes(layers, last_use, sizes, i):
    """Bytes of tensors alive while layer i runs, its output included."""
    total = sizes[i]
    for j in range(i):
        if last_use.get(id(layers[j].output), len(layers)) >= i:
            total += sizes[j]
    return total


def fnv1a(values):
    h = 2166136261
    for v in np.asarray(values).reshape(-1):
        h ^= int(v) & 0xFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def c_array(ctype, name, values, per_line=24):
    vals = [str(int(v)) for v in np.asarray(values).reshape(-1)]
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


def emit_layers(prefix, layers, input_offsets=None):
    """C arrays for every layer's constants and the nn_layer table.
    input_offsets maps a tensor id to its arena offset (NN_INPUT if absent)."""
    out = []
    entries = []

    def offset_of(t):
        if t.producer is None:
            return "NN_INPUT"
        return str(t.producer.out_off)

    for i, layer in enumerate(layers):
        x = layer.inputs[0]
        y = layer.output
        name = f"{prefix}_l{i}"
        fields = {}
        if layer.weights is not None:
            out.append(c_array("int8_t", f"{name}_w", layer.weights))
            fields["weights"] = f"{name}_w"
        if layer.bias is not None:
            out.append(c_array("int32_t", f"{name}_b", layer.bias, 8))
            fields["bias"] = f"{name}_b"
        if layer.mult is not None:
            out.append(c_array("int32_t", f"{name}_m", layer.mult, 6))
            out.append(c_array("int8_t", f"{name}_s", layer.shift))
            fields["mult"] = f"{name}_m"
            fields["shift"] = f"{name}_s"
        if layer.exp_table is not None:
            out.append(c_array("uint32_t", f"{name}_e", layer.exp_table, 8))
            fields["exp_table"] = f"{name}_e"
        ih, iw, ic = (1, 1, int(np.prod(x.shape))) if layer.op == "NN_FC" else _hwc(x)
        oh, ow, oc = _hwc(y)
        in2 = offset_of(layer.inputs[1]) if len(layer.inputs) > 1 else "0"
        in2_offset = -layer.inputs[1].zp if len(layer.inputs) > 1 else 0
        e = (f"    {{.op = {layer.op}, .k_h = {layer.k_h}, .k_w = {layer.k_w}, "
             f".stride_h = {layer.stride_h}, .stride_w = {layer.stride_w}, "
             f".pad_top = {layer.pad_top}, .pad_left = {layer.pad_left},\n"
             f"     .act_min = {layer.act_min}, .act_max = {layer.act_max}, "
             f".in_h = {ih}, .in_w = {iw}, .in_c = {ic}, .out_h = {oh}, .out_w = {ow}, .out_c = {oc},\n"
             f"     .in_offset = {-x.zp}, .in2_offset = {in2_offset}, .out_offset = {y.zp},\n     ")
        e += "".join(f".{k} = {v}, " for k, v in fields.items())
        e += f".in = {offset_of(x)}, .in2 = {in2}, .out = {layer.out_off},\n"
        e += f"     .name = \"{layer_name(i, layer)}\", .macs = {layer.macs}}},\n"
        entries.append(e)
    out.append(f"static const nn_layer {prefix}_layers[{len(layers)}] = {{\n" + "".join(entries) + "};\n")
    return "\n".join(out)


def layer_name(i, layer):
    """The layer's name in profiles: its index, operator and window, e.g.
    `3 dwconv 3x3/2`."""
    op = layer.op.removeprefix("NN_").lower()
    name = f"{i} {op}"
    if layer.op in ("NN_CONV", "NN_DWCONV", "NN_AVGPOOL", "NN_MAXPOOL"):
        name += f" {layer.k_h}x{layer.k_w}"
        if max(layer.stride_h, layer.stride_w) > 1:
            name += f"/{layer.stride_h}"
    return name


def _hwc(t):
    s = t.shape
    if len(s) == 1:
        return 1, 1, s[0]
    return s


def header(guard, body, source):
    return (f"/* Generated by workloads/gen/{source}; do not edit. */\n"
            f"#ifndef {guard}\n#define {guard}\n\n#include \"nn.h\"\n\n{body}\n#endif\n")


def emit_model(prefix, title, source, x_in, out, notes):
    """A model header: constants, layer table, input, golden result, arena
    size and MAC count. Returns (MACs, arena bytes)."""
    layers = graph(out)
    arena = plan_arena(layers)
    macs = sum(layer.macs for layer in layers)
    upper = prefix.upper()
    body = [f"/* {title}\n *\n * {notes}\n * MACs per inference: {macs}. */\n",
            emit_layers(prefix, layers),
            c_array("int8_t", f"{prefix}_input", x_in.q),
            f"#define {upper}_ARENA_BYTES {arena}\n#define {upper}_MACS {macs}\n",
            f"static const nn_model {prefix}_model = {{\n"
            f"    .name = \"{prefix}\",\n    .layers = {prefix}_layers,\n"
            f"    .n_layers = {len(layers)},\n    .input = {prefix}_input,\n"
            f"    .out_len = {int(np.prod(out.shape))},\n"
            f"    .checksum = 0x{fnv1a(out.q):08x}u,\n"
            f"    .argmax = {int(np.argmax(out.q.reshape(-1)))},\n}};\n"]
    with open(f"inference/{prefix}_model.h", "w") as f:
        f.write(header(f"{upper}_MODEL_H", "\n".join(body), source))
    return macs, arena
