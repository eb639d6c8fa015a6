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
 * two columns; fully connected layers on four output rows, so each column
 * word feeds four. Their inner loops are inline asm, which keeps all of
 * their values in registers. Depthwise layers unpack their input into
 * per-channel planes instead (see nn_dwconv_dsp). Results are bit-identical
 * to the reference kernels: only the order of the integer additions
 * changes. */
#include "nn.h"

#if defined(__ARM_FEATURE_DSP)

#include <arm_acle.h>
#include <string.h>

/* Longest column (k_h * k_w * in_c, or FC inputs) the DSP path widens;
 * longer ones use the reference kernel. 21 KiB of RAM: the int8 im2col
 * buffer, and either two widened columns (convolutions do two pixels at a
 * time) or a depthwise layer's band of 16-bit planes and its sums. */
#define COL_MAX 1024
/* Depthwise band: DW_ROWS rows of DW_ROW words (four channels of up to 128
 * input columns); a fixed row length lets the inner loop reach three rows
 * from one pointer. DW_ACC sums of one channel. */
#define DW_ROW 256
#define DW_ROWS 16
#define DW_ACC 1024

static int8_t col8[COL_MAX];

static union {
    int16_t col16[2][COL_MAX];
    struct {
        int32_t planes[DW_ROWS][DW_ROW];
        int32_t acc[DW_ACC];
    };
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

/* The output stage of a whole layer in four instructions a value, when every
 * channel allows it (the usual case): multiplier below 1/2 with a right
 * shift of 1..22, |bias| < 2^29 and the full int8 output range. Then the
 * doubled accumulator fits in 32 bits for any column up to COL_MAX
 * (|acc| <= 2^29 + 255 * 128 * 1024 < 2^30), SMMULR of it is the rounding
 * doubling high multiply, and the rounding shift and the output zero point
 * fold into one addition: (x + 2^(r-1) - (x < 0) + zp * 2^r) >> r. */
typedef struct {
    int32_t mult, add, right;
} rq_channel;

#define RQ_MAX 256
static rq_channel rq[RQ_MAX];

/* Fills rq for layer l; returns 0 (rq unused) if any channel needs the
 * portable output stage. */
static int rq_prepare(const nn_layer *l)
{
    const int out_c = l->out_c;
    if (out_c > RQ_MAX || l->act_min != -128 || l->act_max != 127)
        return 0;
    for (int c = 0; c < out_c; c++) {
        const int shift = l->shift[c], bias = l->bias[c];
        if (shift > -1 || shift < -22 || bias <= -(1 << 29) || bias >= (1 << 29))
            return 0;
        const int right = -shift;
        rq[c].mult = l->mult[c];
        rq[c].add = (1 << (right - 1)) + l->out_offset * (1 << right);
        rq[c].right = right;
    }
    return 1;
}

static inline __attribute__((always_inline)) int8_t rq_finish(const rq_channel *e, int32_t acc)
{
    int32_t x;
    __asm__("smmulr %0, %1, %2" : "=r"(x) : "r"(acc * 2), "r"(e->mult));
    return (int8_t)__ssat((x + (x >> 31) + e->add) >> e->right, 8);
}

/* out[c] for accumulator acc: the fast output stage if rq holds the layer. */
static inline __attribute__((always_inline)) int8_t out_value(const out_stage *q, int fast, int32_t acc, int c)
{
    return fast ? rq_finish(&rq[c], acc) : finish(q, acc, c);
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
 * widened column (length k) with weight row o. Four rows at a time share
 * each pair of column loads. */
static void mat_vec(const nn_layer *l, int fast, const int16_t *col, int k, int8_t *out)
{
    const out_stage q = out_stage_of(l);
    const int8_t *w = l->weights;
    const int out_c = l->out_c, k4 = k & ~3;
    int o = 0;
    for (; o + 4 <= out_c; o += 4) {
        /* w2 is pre-incremented, so it starts a word early. */
        const int8_t *w0 = w + o * k, *w2 = w0 + 2 * k - 4;
        int32_t a0 = q.bias[o], a1 = q.bias[o + 1], a2 = q.bias[o + 2], a3 = q.bias[o + 3];
        if (k >= 4) {
            const int16_t *c = col;
            int n = k >> 2;
            uint32_t lo, hi, x, y, t;
            /* Rows o + 1 and o + 3 are read at offset k from rows o and
             * o + 2, which leaves all other registers to the loop: per
             * four inputs, six loads back to back (one cycle each after
             * the first on Cortex-M4), eight SXTB16 and eight SMLAD, each
             * SMLAD one instruction away from the SXTB16 it needs (Cortex-M7
             * waits a cycle for a DSP result feeding a DSP instruction). */
            __asm__("1:\n\t"
                    "ldr %[y], [%[w0], %[k]]\n\t"
                    "ldr %[x], [%[w0]], #4\n\t"
                    "ldr %[lo], [%[c]], #4\n\t"
                    "ldr %[hi], [%[c]], #4\n\t"
                    "sxtb16 %[t], %[x]\n\t"
                    "sxtb16 %[x], %[x], ror #8\n\t"
                    "smlad %[a0], %[lo], %[t], %[a0]\n\t"
                    "sxtb16 %[t], %[y]\n\t"
                    "smlad %[a0], %[hi], %[x], %[a0]\n\t"
                    "sxtb16 %[y], %[y], ror #8\n\t"
                    "ldr %[x], [%[w2], #4]!\n\t"
                    "smlad %[a1], %[lo], %[t], %[a1]\n\t"
                    "sxtb16 %[t], %[x]\n\t"
                    "smlad %[a1], %[hi], %[y], %[a1]\n\t"
                    "ldr %[y], [%[w2], %[k]]\n\t"
                    "sxtb16 %[x], %[x], ror #8\n\t"
                    "smlad %[a2], %[lo], %[t], %[a2]\n\t"
                    "sxtb16 %[t], %[y]\n\t"
                    "smlad %[a2], %[hi], %[x], %[a2]\n\t"
                    "sxtb16 %[y], %[y], ror #8\n\t"
                    "subs %[n], %[n], #1\n\t"
                    "smlad %[a3], %[lo], %[t], %[a3]\n\t"
                    "smlad %[a3], %[hi], %[y], %[a3]\n\t"
                    "bne 1b"
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [c] "+r"(c), [w0] "+r"(w0),
                      [w2] "+r"(w2), [n] "+r"(n), [lo] "=&r"(lo), [hi] "=&r"(hi), [x] "=&r"(x), [y] "=&r"(y),
                      [t] "=&r"(t)
                    : [k] "r"(k)
                    : "cc", "memory");
        }
        for (int i = k4; i < k; i++) { /* w0 and w2 have moved on by k4 */
            a0 += col[i] * w0[i - k4];
            a1 += col[i] * w0[k + i - k4];
            a2 += col[i] * w2[4 + i - k4];
            a3 += col[i] * w2[4 + k + i - k4];
        }
        out[o] = out_value(&q, fast, a0, o);
        out[o + 1] = out_value(&q, fast, a1, o + 1);
        out[o + 2] = out_value(&q, fast, a2, o + 2);
        out[o + 3] = out_value(&q, fast, a3, o + 3);
    }
    for (; o < out_c; o++)
        out[o] = out_value(&q, fast, dot(col, w + o * k, k, q.bias[o]), o);
}

/* mat_vec for the two columns work.col16[0] and [1] (two output pixels) at
 * once: each weight word is loaded and unpacked once for four
 * multiply-accumulate pairs. */
static inline __attribute__((always_inline)) void mat_vec2(const nn_layer *l, int fast, int k, int8_t *out_a,
                                                           int8_t *out_b)
{
    const out_stage q = out_stage_of(l);
    const int16_t *col_a = work.col16[0], *col_b = work.col16[1];
    const int8_t *w = l->weights;
    const int out_c = l->out_c, k4 = k & ~3;
    int o = 0;
    for (; o + 2 <= out_c; o += 2) {
        const int8_t *w0 = w + o * k;
        int32_t a0 = q.bias[o], a1 = q.bias[o + 1];
        int32_t b0 = a0, b1 = a1;
        if (k >= 4) {
            const int16_t *c = col_a;
            int n = k >> 2;
            uint32_t x, y, t, u, ca, cb;
            /* Row o + 1 is read at offset k from row o and column b at a
             * fixed offset from column a, which leaves all other registers
             * to the loop: per four inputs, six loads, four SXTB16 and
             * eight SMLAD. */
            __asm__("1:\n\t"
                    "ldr %[x], [%[w0], %[k]]\n\t"
                    "ldr %[y], [%[w0]], #4\n\t"
                    "ldr %[cb], [%[c], %[ab]]\n\t"
                    "ldr %[ca], [%[c]], #4\n\t"
                    "sxtb16 %[t], %[y]\n\t"
                    "sxtb16 %[u], %[x]\n\t"
                    "smlad %[a0], %[ca], %[t], %[a0]\n\t"
                    "sxtb16 %[y], %[y], ror #8\n\t"
                    "smlad %[a1], %[ca], %[u], %[a1]\n\t"
                    "sxtb16 %[x], %[x], ror #8\n\t"
                    "smlad %[b0], %[cb], %[t], %[b0]\n\t"
                    "ldr %[ca], [%[c], %[ab]]\n\t"
                    "smlad %[b1], %[cb], %[u], %[b1]\n\t"
                    "ldr %[cb], [%[c]], #4\n\t"
                    "smlad %[b0], %[ca], %[y], %[b0]\n\t"
                    "smlad %[b1], %[ca], %[x], %[b1]\n\t"
                    "subs %[n], %[n], #1\n\t"
                    "smlad %[a0], %[cb], %[y], %[a0]\n\t"
                    "smlad %[a1], %[cb], %[x], %[a1]\n\t"
                    "bne 1b"
                    : [a0] "+r"(a0), [a1] "+r"(a1), [b0] "+r"(b0), [b1] "+r"(b1), [c] "+r"(c), [w0] "+r"(w0),
                      [n] "+r"(n), [x] "=&r"(x), [y] "=&r"(y), [t] "=&r"(t), [u] "=&r"(u), [ca] "=&r"(ca),
                      [cb] "=&r"(cb)
                    : [k] "r"(k), [ab] "i"(sizeof work.col16[0])
                    : "cc", "memory");
        }
        for (int i = k4; i < k; i++) { /* w0 has moved on by k4 */
            const int8_t w_0 = w0[i - k4], w_1 = w0[k + i - k4];
            a0 += col_a[i] * w_0;
            a1 += col_a[i] * w_1;
            b0 += col_b[i] * w_0;
            b1 += col_b[i] * w_1;
        }
        if (fast) { /* one load of each channel's constants for both pixels */
            const rq_channel e0 = rq[o], e1 = rq[o + 1];
            out_a[o] = rq_finish(&e0, a0);
            out_b[o] = rq_finish(&e0, b0);
            out_a[o + 1] = rq_finish(&e1, a1);
            out_b[o + 1] = rq_finish(&e1, b1);
        } else {
            out_a[o] = finish(&q, a0, o);
            out_a[o + 1] = finish(&q, a1, o + 1);
            out_b[o] = finish(&q, b0, o);
            out_b[o + 1] = finish(&q, b1, o + 1);
        }
    }
    if (o < out_c) {
        out_a[o] = out_value(&q, fast, dot(col_a, w + o * k, k, q.bias[o]), o);
        out_b[o] = out_value(&q, fast, dot(col_b, w + o * k, k, q.bias[o]), o);
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
    /* Each kernel row's in-bounds taps [kx0, kx1) are adjacent in the
     * input. With whole groups of four channels per tap, the widened order
     * of a tap does not depend on its neighbours: each row widens in one
     * call, and padding is 0. Otherwise each row is one copy into the int8
     * column, padding holding the input zero point, widened at the end. */
    const int k_w = l->k_w, row = k_w * in_c;
    const int kx0 = x0 < 0 ? -x0 : 0, kx1 = in_w - x0 < k_w ? in_w - x0 : k_w;
    if ((in_c & 3) == 0) {
        for (int ky = 0; ky < l->k_h; ky++, dst += row) {
            const int iy = y0 + ky;
            if (iy < 0 || iy >= in_h || kx0 >= kx1) {
                memset(dst, 0, (size_t)row * sizeof *dst);
                continue;
            }
            memset(dst, 0, (size_t)(kx0 * in_c) * sizeof *dst);
            widen(in + (iy * in_w + x0 + kx0) * in_c, (kx1 - kx0) * in_c, l->in_offset, dst + kx0 * in_c);
            memset(dst + kx1 * in_c, 0, (size_t)((k_w - kx1) * in_c) * sizeof *dst);
        }
        return;
    }
    int8_t *d = col8;
    for (int ky = 0; ky < l->k_h; ky++, d += row) {
        const int iy = y0 + ky;
        if (iy < 0 || iy >= in_h || kx0 >= kx1) {
            memset(d, -l->in_offset, (size_t)row);
            continue;
        }
        memset(d, -l->in_offset, (size_t)(kx0 * in_c));
        memcpy(d + kx0 * in_c, in + (iy * in_w + x0 + kx0) * in_c, (size_t)((kx1 - kx0) * in_c));
        memset(d + kx1 * in_c, -l->in_offset, (size_t)((k_w - kx1) * in_c));
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
    const int fast = rq_prepare(l);
    int p = 0;
    for (; p + 2 <= pixels; p += 2, out += 2 * out_c) {
        im2col(l, in, p, work.col16[0]);
        im2col(l, in, p + 1, work.col16[1]);
        if (fast)
            mat_vec2(l, 1, k, out, out + out_c);
        else
            mat_vec2(l, 0, k, out, out + out_c);
    }
    if (p < pixels) {
        im2col(l, in, p, work.col16[0]);
        mat_vec(l, fast, work.col16[0], k, out);
    }
}

void nn_fc_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    if (l->in_c > COL_MAX) {
        nn_fc_ref(l, in, out);
        return;
    }
    widen(in, l->in_c, l->in_offset, work.col16[0]);
    mat_vec(l, rq_prepare(l), work.col16[0], l->in_c, out);
}

/* Depthwise 3x3, stride 1 or 2, the layout of the CMSIS-NN-style kernels
 * turned around: rather than unpacking each input byte for each of the nine
 * taps that read it, a band of input rows is unpacked once into 16-bit
 * planes, one per channel, where a word holds two horizontally adjacent
 * pixels of one channel (the input offset added, padding as 0). Then a
 * kernel row is a dot product SMLAD can take directly: with A = [p0, p1],
 * B = [p2, p3] and the row's weights packed as W01 = [w0, w1] and
 * W12 = [w1, w2], two neighbouring outputs of stride 1 are
 *     o0 = SMLAD(A, W01) + B.lo * W12.hi,  o1 = A.hi * W01.lo + SMLAD(B, W12)
 * which is six MACs from two loads and four multiply-accumulates, with the
 * nine weights and the requantization of one channel in registers.
 *
 * Planes for four channels are filled together: one word load per pixel,
 * two SXTAB16 (the offset added as they unpack), and PKHBT/PKHTB pair two
 * pixels' halfwords per channel. The band buffer interleaves the four
 * channels word by word, so each store and each load in the inner loop uses
 * an immediate offset. */

/* [low half of a, low half of b] and [high half of a, high half of b]. */
static inline uint32_t pack_lo(uint32_t a, uint32_t b)
{
    return (a & 0xffffu) | (b << 16);
}

static inline uint32_t pack_hi(uint32_t a, uint32_t b)
{
    return (a >> 16) | (b & 0xffff0000u);
}

/* The geometry of one band buffer: words per row (four channels, two
 * pixels a word) and the input columns that pair up into its words. */
typedef struct {
    const int8_t *in;
    int in_h, in_w, c_n, pad_top, pad_left;
    int pairs; /* words per row and channel */
    int32_t in_offset;
} dw_band;

/* The plane words of four channels for two pixels, from their input words
 * v0 and v1: one SXTAB16 pair per pixel, then PKHBT/PKHTB. */
static inline __attribute__((always_inline)) void dw_put4(int32_t *d, uint32_t v0, uint32_t v1, uint32_t off2)
{
    uint32_t e0 = (uint32_t)__sxtab16(off2, v0), o0 = (uint32_t)sxtab16_odd(off2, v0);
    uint32_t e1 = (uint32_t)__sxtab16(off2, v1), o1 = (uint32_t)sxtab16_odd(off2, v1);
    d[0] = (int32_t)pack_lo(e0, e1);
    d[1] = (int32_t)pack_lo(o0, o1);
    d[2] = (int32_t)pack_hi(e0, e1);
    d[3] = (int32_t)pack_hi(o0, o1);
}

/* Band row `dst` from input row iy for channels c .. c + n - 1 (n <= 4;
 * missing channels are zero). A pixel outside the input reads as four bytes
 * of the input zero point, which the offset turns into 0, as in the
 * reference kernel; a row outside the input is all zeros. */
static void dw_fill_row(const dw_band *b, int iy, int c, int n, int32_t *dst)
{
    const int words = 4 * b->pairs, c_n = b->c_n, in_w = b->in_w;
    if (iy < 0 || iy >= b->in_h) {
        memset(dst, 0, (size_t)words * sizeof *dst);
        return;
    }
    const int8_t *row = b->in + iy * in_w * c_n + c;
    const uint32_t off2 = pack_offset(b->in_offset);
    if (n < 4) { /* only a layer whose channels are not a multiple of 4 */
        for (int i = 0; i < words; i++) {
            const int x = 2 * (i >> 2) - b->pad_left + 1, q = i & 3;
            const int32_t lo = x > 0 && x <= in_w && q < n ? row[(x - 1) * c_n + q] + b->in_offset : 0;
            const int32_t hi = x >= 0 && x < in_w && q < n ? row[x * c_n + q] + b->in_offset : 0;
            dst[i] = (int32_t)pack_lo((uint32_t)lo, (uint32_t)hi);
        }
        return;
    }
    const uint32_t pad = (uint8_t)-b->in_offset * 0x01010101u;
    /* Words whose two pixels are both inside the input: [j_lo, j_hi). */
    const int j_lo = (b->pad_left + 1) >> 1, j_hi = (in_w + b->pad_left) >> 1;
    for (int j = 0; j < b->pairs; j++) {
        int x = 2 * j - b->pad_left;
        if (j == j_lo) {
            const int8_t *p = row + x * c_n;
            for (; j < j_hi; j++, p += 2 * c_n)
                dw_put4(dst + 4 * j, load32(p), load32(p + c_n), off2);
            if (j == b->pairs)
                break;
            x = 2 * j - b->pad_left;
        }
        const uint32_t v0 = x >= 0 && x < in_w ? load32(row + x * c_n) : pad;
        const uint32_t v1 = x + 1 >= 0 && x + 1 < in_w ? load32(row + (x + 1) * c_n) : pad;
        dw_put4(dst + 4 * j, v0, v1, off2);
    }
}

/* One channel's weights and output stage. In the fast form (requantization
 * by SMMULR, rounding shift right by 1..22, full int8 range) the weights
 * and bias are doubled, which SMMULR's doubling high multiply needs:
 * |bias| < 2^29 and nine int8 weights times |x| <= 255 keep the doubled
 * sum inside int32, so no accumulator needs checking. */
typedef struct {
    int32_t w01[3], w12[3];
    int32_t bias;
    int32_t mult;
    int32_t add;   /* fast form: 2^(right - 1) + out_offset * 2^right */
    int32_t shift; /* fast form: right; else the layer's shift */
} dw_channel;

static int dw_setup(const nn_layer *l, int c, dw_channel *ch)
{
    const int shift = l->shift[c], bias = l->bias[c];
    const int fast = l->act_min == -128 && l->act_max == 127 && shift <= -1 && shift >= -22 &&
                     bias > -(1 << 29) && bias < (1 << 29);
    const int scale = fast ? 2 : 1;
    const int8_t *w = l->weights + c;
    const int c_n = l->in_c;
    for (int r = 0; r < 3; r++, w += 3 * c_n) {
        uint32_t w0 = (uint32_t)(w[0] * scale), w1 = (uint32_t)(w[c_n] * scale);
        uint32_t w2 = (uint32_t)(w[2 * c_n] * scale);
        ch->w01[r] = (int32_t)pack_lo(w0, w1);
        ch->w12[r] = (int32_t)pack_lo(w1, w2);
    }
    ch->bias = bias * scale;
    ch->mult = l->mult[c];
    if (fast) {
        const int right = -shift;
        ch->add = (1 << (right - 1)) + l->out_offset * (1 << right);
        ch->shift = right;
    } else {
        ch->add = 0;
        ch->shift = shift;
    }
    return fast;
}

/* The portable output stage, for channels the fast form does not cover. */
static __attribute__((noinline)) int8_t dw_finish_slow(const out_stage *q, const dw_channel *ch, int32_t acc)
{
    return nn_clamp(nn_requantize(acc, ch->mult, ch->shift) + q->out_offset, q->act_min, q->act_max);
}

static inline __attribute__((always_inline)) int8_t dw_finish(const out_stage *q, const dw_channel *ch, int32_t acc,
                                                              int fast)
{
    if (!fast)
        return dw_finish_slow(q, ch, acc);
    int32_t x;
    __asm__("smmulr %0, %1, %2" : "=r"(x) : "r"(acc), "r"(ch->mult));
    return (int8_t)__ssat((x + (x >> 31) + ch->add) >> ch->shift, 8);
}

/* The sums of one channel's output rows [0, rows) into
 * acc[y * out_w + x]: plane is the channel's first word in band row 0. A
 * pair's second sum past the end of a row of odd width lands on the next
 * row's first, which overwrites it. Each pair is one pass of an asm loop
 * that keeps the six weight words and the bias in registers; the three
 * band rows are fixed offsets from one pointer. Not inlined, so that the
 * loop has all the registers. */
/* The operands both stride loops of dw_sums share: its locals by name. */
#define DW_SUMS_OPERANDS                                                                            \
    : [p] "+r"(p), [a] "+r"(a), [n] "+r"(n), [a0] "=&r"(a0), [a1] "=&r"(a1), [t] "=&r"(t),           \
      [u] "=&r"(u), [w01_0] "+r"(w01_0), [w12_0] "+r"(w12_0), [w01_1] "+r"(w01_1),                 \
      [w12_1] "+r"(w12_1), [w01_2] "+r"(w01_2), [w12_2] "+r"(w12_2), [bias] "+r"(bias)            \
    : [r1] "i"(4 * DW_ROW), [r2] "i"(8 * DW_ROW)                                                    \
    : "cc", "memory"

static __attribute__((noinline)) void dw_sums(const int32_t *plane, int stride, int rows, int out_w,
                                              const dw_channel *ch, int32_t *acc)
{
    const int pairs = (out_w + 1) >> 1;
    /* In-out operands, though the asm does not change them: GCC's register
     * allocation finds room for fourteen of those. */
    int32_t w01_0 = ch->w01[0], w01_1 = ch->w01[1], w01_2 = ch->w01[2];
    int32_t w12_0 = ch->w12[0], w12_1 = ch->w12[1], w12_2 = ch->w12[2], bias = ch->bias;
    for (int y = 0; y < rows; y++, plane += stride * DW_ROW, acc += out_w) {
        const int32_t *p = plane;
        int32_t *a = acc;
        int n = pairs;
        int32_t a0, a1, t, u;
        /* volatile: the sums leave through memory, not through the outputs. */
        if (stride == 1) /* words 0 and 1 of each row: [x0, x1] and [x2, x3] */
            __asm__ volatile("1:\n\t"
                             "ldr %[t], [%[p], %[r1]]\n\t"
                             "ldr %[u], [%[p], %[r1] + 16]\n\t"
                             "smlad %[a0], %[t], %[w01_1], %[bias]\n\t"
                             "smlatb %[a1], %[t], %[w01_1], %[bias]\n\t"
                             "smlabt %[a0], %[u], %[w12_1], %[a0]\n\t"
                             "smlad %[a1], %[u], %[w12_1], %[a1]\n\t"
                             "ldr %[t], [%[p], %[r2]]\n\t"
                             "ldr %[u], [%[p], %[r2] + 16]\n\t"
                             "smlad %[a0], %[t], %[w01_2], %[a0]\n\t"
                             "smlatb %[a1], %[t], %[w01_2], %[a1]\n\t"
                             "smlabt %[a0], %[u], %[w12_2], %[a0]\n\t"
                             "smlad %[a1], %[u], %[w12_2], %[a1]\n\t"
                             "ldr %[u], [%[p], #16]\n\t"
                             "ldr %[t], [%[p]], #16\n\t"
                             "smlabt %[a0], %[u], %[w12_0], %[a0]\n\t"
                             "smlad %[a1], %[u], %[w12_0], %[a1]\n\t"
                             "smlad %[a0], %[t], %[w01_0], %[a0]\n\t"
                             "smlatb %[a1], %[t], %[w01_0], %[a1]\n\t"
                             "subs %[n], %[n], #1\n\t"
                             "strd %[a0], %[a1], [%[a]], #8\n\t"
                             "bne 1b"
                             DW_SUMS_OPERANDS);
        else /* words 0, 1 and 2: [x0, x1], [x2, x3] and [x4, x5] */
            __asm__ volatile("1:\n\t"
                             "ldr %[t], [%[p], %[r1]]\n\t"
                             "ldr %[u], [%[p], %[r1] + 16]\n\t"
                             "smlad %[a0], %[t], %[w01_1], %[bias]\n\t"
                             "smlad %[a1], %[u], %[w01_1], %[bias]\n\t"
                             "ldr %[t], [%[p], %[r1] + 32]\n\t"
                             "smlabt %[a0], %[u], %[w12_1], %[a0]\n\t"
                             "smlabt %[a1], %[t], %[w12_1], %[a1]\n\t"
                             "ldr %[t], [%[p], %[r2]]\n\t"
                             "ldr %[u], [%[p], %[r2] + 16]\n\t"
                             "smlad %[a0], %[t], %[w01_2], %[a0]\n\t"
                             "smlad %[a1], %[u], %[w01_2], %[a1]\n\t"
                             "ldr %[t], [%[p], %[r2] + 32]\n\t"
                             "smlabt %[a0], %[u], %[w12_2], %[a0]\n\t"
                             "smlabt %[a1], %[t], %[w12_2], %[a1]\n\t"
                             "ldr %[u], [%[p], #16]\n\t"
                             "ldr %[t], [%[p], #32]\n\t"
                             "smlabt %[a0], %[u], %[w12_0], %[a0]\n\t"
                             "smlad %[a1], %[u], %[w01_0], %[a1]\n\t"
                             "smlabt %[a1], %[t], %[w12_0], %[a1]\n\t"
                             "ldr %[t], [%[p]], #32\n\t"
                             "smlad %[a0], %[t], %[w01_0], %[a0]\n\t"
                             "subs %[n], %[n], #1\n\t"
                             "strd %[a0], %[a1], [%[a]], #8\n\t"
                             "bne 1b"
                             DW_SUMS_OPERANDS);
    }
}

/* out[i * c_n] for the n sums in acc; two a pass, as a loop of one output
 * would cost a third more. */
static inline __attribute__((always_inline)) void dw_outputs(const out_stage *q, const dw_channel *ch,
                                                             const int32_t *acc, int n, int c_n, int fast,
                                                             int8_t *out)
{
    for (; n >= 2; n -= 2, acc += 2) {
        const int32_t s0 = acc[0], s1 = acc[1];
        *out = dw_finish(q, ch, s0, fast);
        out += c_n;
        *out = dw_finish(q, ch, s1, fast);
        out += c_n;
    }
    if (n)
        *out = dw_finish(q, ch, acc[0], fast);
}

/* Depthwise: 3x3 kernels with stride 1 or 2 run on band planes (above);
 * other shapes, and rows too wide for the band buffer, use the reference
 * kernel. */
void nn_dwconv_dsp(const nn_layer *l, const int8_t *in, int8_t *out)
{
    const int stride = l->stride_w, out_h = l->out_h, out_w = l->out_w, c_n = l->in_c;
    /* Plane columns: every input column, and all that the last (possibly
     * padded out) output pair reads. */
    int width = 2 * stride * ((out_w + 1) >> 1) + 2;
    if (width < l->in_w + l->pad_left)
        width = (l->in_w + l->pad_left + 1) & ~1;
    if (l->k_h != 3 || l->k_w != 3 || l->stride_h != stride || (stride != 1 && stride != 2) ||
        2 * width > DW_ROW || out_w >= DW_ACC) {
        nn_dwconv_ref(l, in, out);
        return;
    }
    const dw_band b = {in, l->in_h, l->in_w, c_n, l->pad_top, l->pad_left, width >> 1, l->in_offset};
    const out_stage q = out_stage_of(l);
    /* Output rows per band: band rows (band - 1) * stride .. + 2 must fit
     * the planes, and band * out_w sums (plus one past a row of odd width)
     * the accumulators. */
    int band = (DW_ROWS - 3) / stride + 1;
    if (band * out_w >= DW_ACC)
        band = (DW_ACC - 1) / out_w;
    for (int y0 = 0; y0 < out_h; y0 += band) {
        const int rows = out_h - y0 < band ? out_h - y0 : band;
        const int in_rows = (rows - 1) * stride + 3;
        for (int c = 0; c < c_n; c += 4) {
            const int n = c_n - c < 4 ? c_n - c : 4;
            for (int r = 0; r < in_rows; r++)
                dw_fill_row(&b, y0 * stride + r - l->pad_top, c, n, work.planes[r]);
            for (int i = 0; i < n; i++) {
                dw_channel ch;
                int8_t *o = out + y0 * out_w * c_n + c + i;
                const int fast = dw_setup(l, c + i, &ch);
                dw_sums(&work.planes[0][i], stride, rows, out_w, &ch, work.acc);
                if (fast)
                    dw_outputs(&q, &ch, work.acc, rows * out_w, c_n, 1, o);
                else
                    dw_outputs(&q, &ch, work.acc, rows * out_w, c_n, 0, o);
            }
        }
    }
}

#endif
