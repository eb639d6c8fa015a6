/* Kernels for cores with the DSP extension (Cortex-M4/M7), built on the
 * dual 16-bit multiply-accumulate SMLAD and the byte-pair unpack SXTB16
 * through ACLE intrinsics (arm_acle.h), plus inline asm for the forms
 * with a built-in rotation.
 *
 * SXTB16 unpacks bytes 0 and 2 of a word into two halfwords, and with the
 * word rotated by 8 bytes 1 and 3. Activations are widened once into a
 * 16-bit column in exactly that order (b0 b2 b1 b3 per group of four) with
 * the input offset added, so the inner loop is two word loads of the column,
 * one of weights, two SXTB16 and two SMLAD per four MACs. Results are
 * bit-identical to the reference kernels: only the order of the integer
 * additions changes. */
#include "nn.h"

#if defined(__ARM_FEATURE_DSP)

#include <arm_acle.h>
#include <string.h>

/* Longest column (k_h * k_w * in_c, or FC inputs) the DSP path widens;
 * longer ones use the reference kernel. 2 KiB + 1 KiB of RAM. */
#define COL_MAX 1024

static int8_t col8[COL_MAX];
static int16_t col16[COL_MAX];

static uint32_t load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v); /* an unaligned LDR on Cortex-M4/M7 */
    return v;
}

/* Bytes 1 and 3 as two halfwords: SXTB16 with its built-in rotation by 8
 * (one instruction; a C rotate plus the ACLE intrinsic compiles to two). */
static int32_t sxtb16_odd(uint32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* The same, added to the two halfwords of a. */
static int32_t sxtab16_odd(uint32_t a, uint32_t v)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
}

static uint32_t pack_offset(int32_t offset)
{
    return ((uint32_t)offset & 0xffffu) | ((uint32_t)offset << 16);
}

static int8_t clamp(int32_t v, int8_t lo, int8_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* Widens n int8 values to the reordered 16-bit column, adding offset. */
static void widen(const int8_t *src, int n, int32_t offset, int16_t *dst)
{
    uint32_t off2 = pack_offset(offset);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w = load32(src + i);
        uint32_t even = (uint32_t)__sxtab16(off2, w);       /* b0, b2 */
        uint32_t odd = (uint32_t)sxtab16_odd(off2, w);  /* b1, b3 */
        memcpy(dst + i, &even, 4);
        memcpy(dst + i + 2, &odd, 4);
    }
    for (; i < n; i++) /* the tail stays in natural order */
        dst[i] = (int16_t)(src[i] + offset);
}

/* out[o] for o in 0..out_c: requantized dot product of the widened column
 * (length k) with weight row o. Two rows at a time share the column loads. */
static void mat_vec(const nn_layer *l, const int16_t *col, int k, int8_t *out)
{
    const int8_t *w = l->weights;
    int o = 0;
    for (; o + 2 <= l->out_c; o += 2) {
        const int8_t *w0 = w + o * k;
        const int8_t *w1 = w0 + k;
        int32_t a0 = l->bias[o], a1 = l->bias[o + 1];
        const int16_t *c = col;
        const int8_t *p0 = w0, *p1 = w1;
        for (int n = k >> 2; n > 0; n--, c += 4, p0 += 4, p1 += 4) {
            int32_t lo = (int32_t)load32(c);
            int32_t hi = (int32_t)load32(c + 2);
            uint32_t x0 = load32(p0), x1 = load32(p1);
            a0 = __smlad(lo, __sxtb16(x0), a0);
            a0 = __smlad(hi, sxtb16_odd(x0), a0);
            a1 = __smlad(lo, __sxtb16(x1), a1);
            a1 = __smlad(hi, sxtb16_odd(x1), a1);
        }
        for (int i = k & ~3; i < k; i++) {
            a0 += col[i] * w0[i];
            a1 += col[i] * w1[i];
        }
        a0 = nn_requantize(a0, l->mult[o], l->shift[o]) + l->out_offset;
        a1 = nn_requantize(a1, l->mult[o + 1], l->shift[o + 1]) + l->out_offset;
        out[o] = clamp(a0, l->act_min, l->act_max);
        out[o + 1] = clamp(a1, l->act_min, l->act_max);
    }
    if (o < l->out_c) {
        const int8_t *w0 = w + o * k;
        int32_t a0 = l->bias[o];
        const int16_t *c = col;
        const int8_t *p0 = w0;
        for (int n = k >> 2; n > 0; n--, c += 4, p0 += 4) {
            uint32_t x0 = load32(p0);
            a0 = __smlad((int32_t)load32(c), __sxtb16(x0), a0);
            a0 = __smlad((int32_t)load32(c + 2), sxtb16_odd(x0), a0);
        }
        for (int i = k & ~3; i < k; i++)
            a0 += col[i] * w0[i];
        a0 = nn_requantize(a0, l->mult[o], l->shift[o]) + l->out_offset;
        out[o] = clamp(a0, l->act_min, l->act_max);
    }
}

void nn_conv_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    int k = l->k_h * l->k_w * l->in_c;
    if (k > COL_MAX) {
        nn_conv_ref(l, in, out);
        return;
    }
    /* A 1x1 unpadded convolution reads its column straight from the input. */
    int pointwise = l->k_h == 1 && l->k_w == 1 && l->pad_top == 0 && l->pad_left == 0;
    int8_t zero_point = (int8_t)-l->in_offset;
    for (int oy = 0; oy < l->out_h; oy++) {
        for (int ox = 0; ox < l->out_w; ox++) {
            int y0 = oy * l->stride_h - l->pad_top;
            int x0 = ox * l->stride_w - l->pad_left;
            const int8_t *src;
            if (pointwise) {
                src = in + (y0 * l->in_w + x0) * l->in_c;
            } else {
                /* im2col; padding holds the input zero point, which the
                 * offset turns into 0, so it adds nothing, as in the reference. */
                int8_t *dst = col8;
                for (int ky = 0; ky < l->k_h; ky++) {
                    int iy = y0 + ky;
                    for (int kx = 0; kx < l->k_w; kx++, dst += l->in_c) {
                        int ix = x0 + kx;
                        if (iy < 0 || iy >= l->in_h || ix < 0 || ix >= l->in_w)
                            memset(dst, zero_point, (size_t)l->in_c);
                        else
                            memcpy(dst, in + (iy * l->in_w + ix) * l->in_c, (size_t)l->in_c);
                    }
                }
                src = col8;
            }
            widen(src, k, l->in_offset, col16);
            mat_vec(l, col16, k, out);
            out += l->out_c;
        }
    }
}

void nn_fc_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    if (l->in_c > COL_MAX) {
        nn_fc_ref(l, in, out);
        return;
    }
    widen(in, l->in_c, l->in_offset, col16);
    mat_vec(l, col16, l->in_c, out);
}

/* Depthwise: channels are innermost in both activations and weights, so four
 * channels load as one word each; SMLABB/SMLATT multiply the matching
 * halfwords of the unpacked pairs into four separate accumulators. */
void nn_dwconv_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    int c_n = l->in_c;
    uint32_t off2 = pack_offset(l->in_offset);
    for (int oy = 0; oy < l->out_h; oy++) {
        for (int ox = 0; ox < l->out_w; ox++) {
            int y0 = oy * l->stride_h - l->pad_top;
            int x0 = ox * l->stride_w - l->pad_left;
            int ky0 = y0 < 0 ? -y0 : 0;
            int ky1 = l->in_h - y0 < l->k_h ? l->in_h - y0 : l->k_h;
            int kx0 = x0 < 0 ? -x0 : 0;
            int kx1 = l->in_w - x0 < l->k_w ? l->in_w - x0 : l->k_w;
            int c = 0;
            for (; c + 4 <= c_n; c += 4) {
                int32_t a0 = l->bias[c], a1 = l->bias[c + 1];
                int32_t a2 = l->bias[c + 2], a3 = l->bias[c + 3];
                for (int ky = ky0; ky < ky1; ky++) {
                    const int8_t *ip = in + ((y0 + ky) * l->in_w + x0) * c_n + c;
                    const int8_t *wp = l->weights + ky * l->k_w * c_n + c;
                    for (int kx = kx0; kx < kx1; kx++) {
                        uint32_t x = load32(ip + kx * c_n);
                        uint32_t w = load32(wp + kx * c_n);
                        int32_t xe = __sxtab16(off2, x), xo = sxtab16_odd(off2, x);
                        int32_t we = __sxtb16(w), wo = sxtb16_odd(w);
                        a0 = __smlabb(xe, we, a0);
                        a2 = __smlatt(xe, we, a2);
                        a1 = __smlabb(xo, wo, a1);
                        a3 = __smlatt(xo, wo, a3);
                    }
                }
                int32_t acc[4] = {a0, a1, a2, a3};
                for (int j = 0; j < 4; j++) {
                    int32_t v = nn_requantize(acc[j], l->mult[c + j], l->shift[c + j]) + l->out_offset;
                    out[c + j] = clamp(v, l->act_min, l->act_max);
                }
            }
            for (; c < c_n; c++) {
                int32_t acc = l->bias[c];
                for (int ky = ky0; ky < ky1; ky++)
                    for (int kx = kx0; kx < kx1; kx++)
                        acc += (in[((y0 + ky) * l->in_w + x0 + kx) * c_n + c] + l->in_offset) *
                               l->weights[(ky * l->k_w + kx) * c_n + c];
                acc = nn_requantize(acc, l->mult[c], l->shift[c]) + l->out_offset;
                out[c] = clamp(acc, l->act_min, l->act_max);
            }
            out += c_n;
        }
    }
}

#endif
