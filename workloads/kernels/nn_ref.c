/* Portable reference kernels: plain C loops that follow TFLite's int8
 * reference kernels operation by operation. They run on every core and are
 * the yardstick the DSP kernels are checked against. Each works on a local
 * copy of its layer, as TFLite's kernels work on local parameters: int8
 * stores could alias *layer, which would make the compiler reload every
 * field inside the loops. */
#include "nn.h"

void nn_conv_ref(const nn_layer *layer, const int8_t *in, int8_t *out)
{
    const nn_layer l = *layer;
    for (int oy = 0; oy < l.out_h; oy++) {
        for (int ox = 0; ox < l.out_w; ox++) {
            int y0 = oy * l.stride_h - l.pad_top;
            int x0 = ox * l.stride_w - l.pad_left;
            for (int oc = 0; oc < l.out_c; oc++) {
                int32_t acc = l.bias[oc];
                for (int ky = 0; ky < l.k_h; ky++) {
                    int iy = y0 + ky;
                    if (iy < 0 || iy >= l.in_h)
                        continue;
                    for (int kx = 0; kx < l.k_w; kx++) {
                        int ix = x0 + kx;
                        if (ix < 0 || ix >= l.in_w)
                            continue;
                        const int8_t *ip = in + (iy * l.in_w + ix) * l.in_c;
                        const int8_t *wp = l.weights + ((oc * l.k_h + ky) * l.k_w + kx) * l.in_c;
                        for (int ic = 0; ic < l.in_c; ic++)
                            acc += (ip[ic] + l.in_offset) * wp[ic];
                    }
                }
                acc = nn_requantize(acc, l.mult[oc], l.shift[oc]) + l.out_offset;
                *out++ = nn_clamp(acc, l.act_min, l.act_max);
            }
        }
    }
}

void nn_dwconv_ref(const nn_layer *layer, const int8_t *in, int8_t *out)
{
    const nn_layer l = *layer;
    int c_n = l.in_c;
    for (int oy = 0; oy < l.out_h; oy++) {
        for (int ox = 0; ox < l.out_w; ox++) {
            int y0 = oy * l.stride_h - l.pad_top;
            int x0 = ox * l.stride_w - l.pad_left;
            for (int c = 0; c < c_n; c++) {
                int32_t acc = l.bias[c];
                for (int ky = 0; ky < l.k_h; ky++) {
                    int iy = y0 + ky;
                    if (iy < 0 || iy >= l.in_h)
                        continue;
                    for (int kx = 0; kx < l.k_w; kx++) {
                        int ix = x0 + kx;
                        if (ix < 0 || ix >= l.in_w)
                            continue;
                        acc += (in[(iy * l.in_w + ix) * c_n + c] + l.in_offset) *
                               l.weights[(ky * l.k_w + kx) * c_n + c];
                    }
                }
                acc = nn_requantize(acc, l.mult[c], l.shift[c]) + l.out_offset;
                *out++ = nn_clamp(acc, l.act_min, l.act_max);
            }
        }
    }
}

void nn_fc_ref(const nn_layer *layer, const int8_t *in, int8_t *out)
{
    const nn_layer l = *layer;
    for (int o = 0; o < l.out_c; o++) {
        const int8_t *wp = l.weights + o * l.in_c;
        int32_t acc = l.bias[o];
        for (int i = 0; i < l.in_c; i++)
            acc += (in[i] + l.in_offset) * wp[i];
        acc = nn_requantize(acc, l.mult[o], l.shift[o]) + l.out_offset;
        out[o] = nn_clamp(acc, l.act_min, l.act_max);
    }
}

/* Pooling visits the in-bounds taps of each window; padding is not counted. */
static void pool(const nn_layer *layer, const int8_t *in, int8_t *out, int average)
{
    const nn_layer l = *layer;
    int c_n = l.in_c;
    for (int oy = 0; oy < l.out_h; oy++) {
        for (int ox = 0; ox < l.out_w; ox++) {
            int y0 = oy * l.stride_h - l.pad_top;
            int x0 = ox * l.stride_w - l.pad_left;
            for (int c = 0; c < c_n; c++) {
                int32_t sum = 0, count = 0, max = INT8_MIN;
                for (int ky = 0; ky < l.k_h; ky++) {
                    int iy = y0 + ky;
                    if (iy < 0 || iy >= l.in_h)
                        continue;
                    for (int kx = 0; kx < l.k_w; kx++) {
                        int ix = x0 + kx;
                        if (ix < 0 || ix >= l.in_w)
                            continue;
                        int32_t v = in[(iy * l.in_w + ix) * c_n + c];
                        sum += v;
                        count++;
                        if (v > max)
                            max = v;
                    }
                }
                int32_t v = max;
                if (average) /* round half away from zero, as TFLite does */
                    v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                *out++ = nn_clamp(v, l.act_min, l.act_max);
            }
        }
    }
}

void nn_avgpool(const nn_layer *l, const int8_t *in, int8_t *out)
{
    pool(l, in, out, 1);
}

void nn_maxpool(const nn_layer *l, const int8_t *in, int8_t *out)
{
    pool(l, in, out, 0);
}

void nn_add(const nn_layer *layer, const int8_t *in, const int8_t *in2, int8_t *out)
{
    const nn_layer l = *layer;
    int n = l.out_h * l.out_w * l.out_c;
    for (int i = 0; i < n; i++) {
        int32_t a = (in[i] + l.in_offset) * (1 << NN_ADD_LEFT_SHIFT);
        int32_t b = (in2[i] + l.in2_offset) * (1 << NN_ADD_LEFT_SHIFT);
        int32_t sum = nn_requantize(a, l.mult[0], l.shift[0]) +
                      nn_requantize(b, l.mult[1], l.shift[1]);
        int32_t v = nn_requantize(sum, l.mult[2], l.shift[2]) + l.out_offset;
        out[i] = nn_clamp(v, l.act_min, l.act_max);
    }
}

/* exp() comes from the layer's table, indexed by the distance to the row's
 * maximum, so the result is exact integer arithmetic on every core:
 * out = round(256 * e / sum(e)) - 128. Rows up to 4096 wide fit 32 bits. */
void nn_softmax(const nn_layer *layer, const int8_t *in, int8_t *out)
{
    const nn_layer l = *layer;
    int depth = l.in_c;
    int rows = l.in_h * l.in_w;
    for (int r = 0; r < rows; r++, in += depth, out += depth) {
        int32_t max = INT8_MIN;
        for (int i = 0; i < depth; i++)
            if (in[i] > max)
                max = in[i];
        uint32_t sum = 0;
        for (int i = 0; i < depth; i++)
            sum += l.exp_table[max - in[i]];
        for (int i = 0; i < depth; i++) {
            uint32_t p = (l.exp_table[max - in[i]] * 256u + sum / 2u) / sum;
            out[i] = nn_clamp((int32_t)p - 128, -128, 127);
        }
    }
}
