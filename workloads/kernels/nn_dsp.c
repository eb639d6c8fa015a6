/* Kernels for cores with the DSP extension (Cortex-M4/M7), built on the
 * dual 16-bit multiply-accumulate SMLAD and the byte-pair unpack SXTB16
 * through ACLE intrinsics (arm_acle.h), plus inline asm for the forms
 * with a built-in rotation.
 *
 * SXTB16 unpacks bytes 0 and 2 of a word into two halfwords, and with the
 * word rotated by 8 bytes 1 and 3. Activations are widened once into a
 * 16-bit column in exactly that order (b0 b2 b1 b3 per group of four) with
 * the input offset added, so four MACs take two word loads of the column,
 * one of weights, two SXTB16 and two SMLAD. Convolutions work on two output
 * pixels and two output channels at once, so each unpacked weight word feeds
 * two columns. Results are bit-identical to the reference kernels: only the
 * order of the integer additions changes. */
#include "nn.h"

#if defined(__ARM_FEATURE_DSP)

#include <arm_acle.h>
#include <string.h>

/* Longest column (k_h * k_w * in_c, or FC inputs) the DSP path widens;
 * longer ones use the reference kernel. 5 KiB of RAM: the int8 im2col
 * buffer and two widened columns (convolutions do two pixels at a time). */
#define COL_MAX 1024

static int8_t col8[COL_MAX];
/* Widened columns for convolutions; a depthwise layer's accumulators of one
 * output pixel share the space. */
static union {
    int16_t col16[2][COL_MAX];
    int32_t acc[COL_MAX];
} work;

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

/* Widens n int8 values to the reordered 16-bit column, adding offset. */
static void widen(const int8_t *src, int n, int32_t offset, int16_t *dst)
{
    uint32_t off2 = pack_offset(offset);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w = load32(src + i);
        uint32_t even = (uint32_t)__sxtab16(off2, w);   /* b0, b2 */
        uint32_t odd = (uint32_t)sxtab16_odd(off2, w);  /* b1, b3 */
        memcpy(dst + i, &even, 4);
        memcpy(dst + i + 2, &odd, 4);
    }
    for (; i < n; i++) /* the tail stays in natural order */
        dst[i] = (int16_t)(src[i] + offset);
}

/* The output stage of one layer, copied out of the nn_layer so the compiler
 * keeps it in registers across stores to int8 outputs (which may alias it). */
typedef struct {
    const int32_t *bias, *mult;
    const int8_t *shift;
    int32_t out_offset;
    int8_t act_min, act_max;
} out_stage;

static out_stage out_stage_of(const nn_layer *l)
{
    out_stage q = {l->bias, l->mult, l->shift, l->out_offset, l->act_min, l->act_max};
    return q;
}

/* nn_requantize in a third of the instructions, bit for bit the same, for
 * the usual multiplier below 1 (shift <= 0; others take the portable form):
 * - the rounding doubling high multiply floor((a * m + 2^30) / 2^31) equals
 *   SMMULR(2a, m) = floor((2am + 2^31) / 2^32) whenever 2a fits in 32 bits
 *   (else the portable form runs);
 * - dividing by 2^r (r > 0) rounding half away from zero is
 *   (x + 2^(r-1) - (x < 0)) >> r, the -1 being x >> 31; no overflow, as
 *   |x| < 2^30 once 2a fits and r <= 31. */
static inline __attribute__((always_inline)) int32_t requantize(int32_t acc, int32_t mult, int32_t shift)
{
    const int32_t a2 = (int32_t)((uint32_t)acc << 1);
    if (__builtin_expect(shift > 0 || (a2 >> 1) != acc, 0))
        return nn_requantize(acc, mult, shift);
    int32_t x;
    __asm__("smmulr %0, %1, %2" : "=r"(x) : "r"(a2), "r"(mult));
    const int right = -shift;
    if (__builtin_expect(right == 0, 0))
        return x;
    return (x + (1 << (right - 1)) + (x >> 31)) >> right;
}

static inline __attribute__((always_inline)) int8_t finish(const out_stage *q, int32_t acc, int c)
{
    int32_t v = requantize(acc, q->mult[c], q->shift[c]) + q->out_offset;
    v = v < q->act_min ? q->act_min : v;
    return (int8_t)(v > q->act_max ? q->act_max : v);
}

/* out[c] for the n accumulators of one output pixel: apart from the loop
 * that sums them, the output stage keeps its constants in registers. */
static void finish_all(const out_stage *q, const int32_t *acc, int n, int8_t *out)
{
    for (int c = 0; c < n; c++)
        out[c] = finish(q, acc[c], c);
}

/* acc += dot(col, row) over k, for a column widened by widen(). */
static int32_t dot(const int16_t *col, const int8_t *row, int k, int32_t acc)
{
    const int16_t *c = col;
    const int8_t *w = row;
    for (int n = k >> 2; n > 0; n--, c += 4, w += 4) {
        uint32_t x = load32(w);
        acc = __smlad((int32_t)load32(c), __sxtb16(x), acc);
        acc = __smlad((int32_t)load32(c + 2), sxtb16_odd(x), acc);
    }
    for (int i = k & ~3; i < k; i++)
        acc += col[i] * row[i];
    return acc;
}

/* out[o] for every output channel o: the requantized dot product of one
 * widened column (length k) with weight row o. Two rows at a time share the
 * column loads. */
static void mat_vec(const nn_layer *l, const int16_t *col, int k, int8_t *out)
{
    const out_stage q = out_stage_of(l);
    const int8_t *w = l->weights;
    const int out_c = l->out_c;
    int o = 0;
    for (; o + 2 <= out_c; o += 2) {
        const int8_t *w0 = w + o * k;
        const int8_t *w1 = w0 + k;
        int32_t a0 = q.bias[o], a1 = q.bias[o + 1];
        const int16_t *c = col;
        for (int n = k >> 2; n > 0; n--, c += 4, w0 += 4, w1 += 4) {
            int32_t lo = (int32_t)load32(c);
            int32_t hi = (int32_t)load32(c + 2);
            uint32_t x0 = load32(w0), x1 = load32(w1);
            a0 = __smlad(lo, __sxtb16(x0), a0);
            a0 = __smlad(hi, sxtb16_odd(x0), a0);
            a1 = __smlad(lo, __sxtb16(x1), a1);
            a1 = __smlad(hi, sxtb16_odd(x1), a1);
        }
        for (int i = k & ~3; i < k; i++) {
            a0 += col[i] * w0[i - (k & ~3)];
            a1 += col[i] * w1[i - (k & ~3)];
        }
        out[o] = finish(&q, a0, o);
        out[o + 1] = finish(&q, a1, o + 1);
    }
    if (o < out_c)
        out[o] = finish(&q, dot(col, w + o * k, k, q.bias[o]), o);
}

/* The same for two columns (two output pixels) at once: each weight word is
 * loaded and unpacked once for four multiply-accumulate pairs. */
static void mat_vec2(const nn_layer *l, const int16_t *col_a, const int16_t *col_b, int k,
                     int8_t *out_a, int8_t *out_b)
{
    const out_stage q = out_stage_of(l);
    const int8_t *w = l->weights;
    const int out_c = l->out_c;
    int o = 0;
    for (; o + 2 <= out_c; o += 2) {
        const int8_t *w0 = w + o * k;
        const int8_t *w1 = w0 + k;
        int32_t a0 = q.bias[o], a1 = q.bias[o + 1];
        int32_t b0 = a0, b1 = a1;
        const int16_t *ca = col_a, *cb = col_b;
        for (int n = k >> 2; n > 0; n--, ca += 4, cb += 4, w0 += 4, w1 += 4) {
            uint32_t x0 = load32(w0), x1 = load32(w1);
            int32_t w0e = __sxtb16(x0), w0o = sxtb16_odd(x0);
            int32_t w1e = __sxtb16(x1), w1o = sxtb16_odd(x1);
            int32_t c = (int32_t)load32(ca);
            a0 = __smlad(c, w0e, a0);
            a1 = __smlad(c, w1e, a1);
            c = (int32_t)load32(ca + 2);
            a0 = __smlad(c, w0o, a0);
            a1 = __smlad(c, w1o, a1);
            c = (int32_t)load32(cb);
            b0 = __smlad(c, w0e, b0);
            b1 = __smlad(c, w1e, b1);
            c = (int32_t)load32(cb + 2);
            b0 = __smlad(c, w0o, b0);
            b1 = __smlad(c, w1o, b1);
        }
        for (int i = k & ~3; i < k; i++) {
            int j = i - (k & ~3);
            a0 += col_a[i] * w0[j];
            a1 += col_a[i] * w1[j];
            b0 += col_b[i] * w0[j];
            b1 += col_b[i] * w1[j];
        }
        out_a[o] = finish(&q, a0, o);
        out_a[o + 1] = finish(&q, a1, o + 1);
        out_b[o] = finish(&q, b0, o);
        out_b[o + 1] = finish(&q, b1, o + 1);
    }
    if (o < out_c) {
        out_a[o] = finish(&q, dot(col_a, w + o * k, k, q.bias[o]), o);
        out_b[o] = finish(&q, dot(col_b, w + o * k, k, q.bias[o]), o);
    }
}

/* Widens the receptive field of output pixel p into dst. Padding holds the
 * input zero point, which the offset turns into 0, so it adds nothing, as
 * in the reference kernel. */
static void im2col(const nn_layer *l, const int8_t *in, int p, int16_t *dst)
{
    const int in_c = l->in_c, in_w = l->in_w, in_h = l->in_h;
    const int y0 = p / l->out_w * l->stride_h - l->pad_top;
    const int x0 = p % l->out_w * l->stride_w - l->pad_left;
    const int k = l->k_h * l->k_w * in_c;
    /* A 1x1 unpadded convolution reads its column straight from the input. */
    if (k == in_c && l->pad_top == 0 && l->pad_left == 0) {
        widen(in + (y0 * in_w + x0) * in_c, k, l->in_offset, dst);
        return;
    }
    int8_t *d = col8;
    for (int ky = 0; ky < l->k_h; ky++) {
        int iy = y0 + ky;
        for (int kx = 0; kx < l->k_w; kx++, d += in_c) {
            int ix = x0 + kx;
            if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w)
                memset(d, -l->in_offset, (size_t)in_c);
            else
                memcpy(d, in + (iy * in_w + ix) * in_c, (size_t)in_c);
        }
    }
    widen(col8, k, l->in_offset, dst);
}

void nn_conv_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    const int k = l->k_h * l->k_w * l->in_c;
    if (k > COL_MAX) {
        nn_conv_ref(l, in, out);
        return;
    }
    const int pixels = l->out_h * l->out_w, out_c = l->out_c;
    int p = 0;
    for (; p + 2 <= pixels; p += 2, out += 2 * out_c) {
        im2col(l, in, p, work.col16[0]);
        im2col(l, in, p + 1, work.col16[1]);
        mat_vec2(l, work.col16[0], work.col16[1], k, out, out + out_c);
    }
    if (p < pixels) {
        im2col(l, in, p, work.col16[0]);
        mat_vec(l, work.col16[0], k, out);
    }
}

void nn_fc_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    if (l->in_c > COL_MAX) {
        nn_fc_ref(l, in, out);
        return;
    }
    widen(in, l->in_c, l->in_offset, work.col16[0]);
    mat_vec(l, work.col16[0], l->in_c, out);
}

/* Four channels of one depthwise tap: x and w point at the tap's input and
 * weight words; SMLABB/SMLATT multiply the matching halfwords of the
 * unpacked pairs into the four accumulators. */
#define DW_TAP(x, w)                                                      \
    do {                                                                  \
        uint32_t xv_ = load32(x), wv_ = load32(w);                        \
        int32_t xe_ = __sxtab16(off2, xv_), xo_ = sxtab16_odd(off2, xv_); \
        int32_t we_ = __sxtb16(wv_), wo_ = sxtb16_odd(wv_);               \
        a0 = __smlabb(xe_, we_, a0);                                      \
        a2 = __smlatt(xe_, we_, a2);                                      \
        a1 = __smlabb(xo_, wo_, a1);                                      \
        a3 = __smlatt(xo_, wo_, a3);                                      \
    } while (0)

/* Depthwise: channels are innermost in both activations and weights, so four
 * channels load as one word each. A 3x3 window wholly inside the input (all
 * output pixels but a padded layer's border) runs its nine taps unrolled:
 * with nine MACs per output, loop control would cost as much as they do. */
void nn_dwconv_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    if (l->in_c > COL_MAX) {
        nn_dwconv_ref(l, in, out);
        return;
    }
    const out_stage q = out_stage_of(l);
    const int c_n = l->in_c, in_h = l->in_h, in_w = l->in_w, k_h = l->k_h, k_w = l->k_w;
    const int32_t in_offset = l->in_offset;
    const uint32_t off2 = pack_offset(in_offset);
    const int8_t *weights = l->weights;
    for (int oy = 0; oy < l->out_h; oy++) {
        const int y0 = oy * l->stride_h - l->pad_top;
        const int ky0 = y0 < 0 ? -y0 : 0;
        const int ky1 = in_h - y0 < k_h ? in_h - y0 : k_h;
        for (int ox = 0; ox < l->out_w; ox++, out += c_n) {
            const int x0 = ox * l->stride_w - l->pad_left;
            const int kx0 = x0 < 0 ? -x0 : 0;
            const int kx1 = in_w - x0 < k_w ? in_w - x0 : k_w;
            /* The in-bounds part of the window: its first tap in the input
             * and in the weights, and its size. */
            const int8_t *in0 = in + ((y0 + ky0) * in_w + x0 + kx0) * c_n;
            const int8_t *w_0 = weights + (ky0 * k_w + kx0) * c_n;
            const int rows = ky1 - ky0, cols = kx1 - kx0;
            const int whole3x3 = k_h == 3 && k_w == 3 && rows == 3 && cols == 3;
            const int row = in_w * c_n;
            int c = 0;
            for (; c + 4 <= c_n; c += 4) {
                int32_t a0 = q.bias[c], a1 = q.bias[c + 1];
                int32_t a2 = q.bias[c + 2], a3 = q.bias[c + 3];
                const int8_t *ip = in0 + c, *wp = w_0 + c;
                if (whole3x3) {
                    DW_TAP(ip, wp);
                    DW_TAP(ip + c_n, wp + c_n);
                    DW_TAP(ip + 2 * c_n, wp + 2 * c_n);
                    ip += row;
                    wp += 3 * c_n;
                    DW_TAP(ip, wp);
                    DW_TAP(ip + c_n, wp + c_n);
                    DW_TAP(ip + 2 * c_n, wp + 2 * c_n);
                    ip += row;
                    wp += 3 * c_n;
                    DW_TAP(ip, wp);
                    DW_TAP(ip + c_n, wp + c_n);
                    DW_TAP(ip + 2 * c_n, wp + 2 * c_n);
                } else {
                    for (int r = rows; r > 0; r--, ip += row, wp += k_w * c_n) {
                        const int8_t *x_p = ip, *w_p = wp;
                        for (int t = cols; t > 0; t--, x_p += c_n, w_p += c_n)
                            DW_TAP(x_p, w_p);
                    }
                }
                int32_t *sums = work.acc + c;
                sums[0] = a0;
                sums[1] = a1;
                sums[2] = a2;
                sums[3] = a3;
            }
            for (; c < c_n; c++) {
                int32_t acc = q.bias[c];
                for (int r = 0; r < rows; r++)
                    for (int t = 0; t < cols; t++)
                        acc += (in0[(r * in_w + t) * c_n + c] + in_offset) * w_0[(r * k_w + t) * c_n + c];
                work.acc[c] = acc;
            }
            finish_all(&q, work.acc, c_n, out);
        }
    }
}

#endif
