/* Shared helpers of the on-device training workloads: printing of figures,
 * a seeded PRNG, fp32 dense layers with their backward pass, softmax
 * cross-entropy, and the frozen int8 dense layer the feature extractors use.
 *
 * Header-only on purpose: the Makefile turns every C file in training/ into an
 * image, so shared code cannot live in a .c file there. Each image includes this once.
 */
#ifndef TRAINING_COMMON_H
#define TRAINING_COMMON_H

#include <stdint.h>

#include "mcubench.h"

/* ---- output ------------------------------------------------------------- */

/* Prints v with `decimals` digits after the point (no printf: newlib's float
 * formatting costs tens of KiB of flash). */
static inline void tr_print_fixed(float v, int decimals)
{
    int32_t scale = 1;
    for (int i = 0; i < decimals; i++)
        scale *= 10;
    int negative = v < 0.0f;
    int32_t q = (int32_t)((negative ? -v : v) * (float)scale + 0.5f);
    if (negative && q != 0)
        mb_print("-");
    mb_print_int(q / scale);
    if (decimals > 0) {
        char frac[12];
        int32_t f = q % scale;
        frac[0] = '.';
        for (int i = decimals; i >= 1; i--) {
            frac[i] = (char)('0' + f % 10);
            f /= 10;
        }
        frac[decimals + 1] = '\0';
        mb_print(frac);
    }
}

/* "name=value" with value fixed-point, then `end` (" " or "\n"). */
static inline void tr_print_figure(const char *name, float v, int decimals, const char *end)
{
    mb_print(name);
    mb_print("=");
    tr_print_fixed(v, decimals);
    mb_print(end);
}

/* ---- deterministic random numbers (xorshift32, Marsaglia 2003) ---------- */

static inline uint32_t tr_rand(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Uniform in [-1, 1). */
static inline float tr_rand_sym(uint32_t *state)
{
    return (float)(int32_t)tr_rand(state) * (1.0f / 2147483648.0f);
}

/* Fisher-Yates shuffle of an index array. */
static inline void tr_shuffle(uint16_t *idx, int n, uint32_t *state)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(tr_rand(state) % (uint32_t)(i + 1));
        uint16_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* ---- single-precision exp and log --------------------------------------- */

/* newlib's expf/logf differ per FPU: on the double-precision FPU of the
 * cortex-m7f build they compute in double, on cortex-m4f in float, with
 * errno handling on top. These float-only versions give every core the same
 * arithmetic. Measured against double precision: relative error of tr_expf
 * below 1e-7, error of tr_logf below 1.2e-7 (relative, absolute near x = 1). */

static inline float tr_bits_to_float(uint32_t u)
{
    union { uint32_t u; float f; } v = {u};
    return v.f;
}

static inline uint32_t tr_float_to_bits(float f)
{
    union { float f; uint32_t u; } v = {f};
    return v.u;
}

/* e^x: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to r^7
 * (truncation < 1e-8 relative), then 2^n put into the exponent field. */
static inline float tr_expf(float x)
{
    if (x < -87.0f)
        return 0.0f;
    if (x > 88.0f)
        x = 88.0f;
    float fn = x * 1.44269504f; /* log2(e) */
    int32_t n = (int32_t)(fn < 0.0f ? fn - 0.5f : fn + 0.5f);
    /* ln2 split in two so n * ln2_hi is exact for |n| <= 128. */
    float r = (x - (float)n * 0.693145752f) - (float)n * 1.42860677e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6.0f + r * (1.0f / 24.0f +
              r * (1.0f / 120.0f + r * (1.0f / 720.0f + r * (1.0f / 5040.0f)))))));
    return p * tr_bits_to_float((uint32_t)(n + 127) << 23);
}

/* ln x for x > 0 (normal): x = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, series to s^9. */
static inline float tr_logf(float x)
{
    uint32_t u = tr_float_to_bits(x);
    int32_t e = (int32_t)((u >> 23) & 0xFFu) - 127;
    float m = tr_bits_to_float((u & 0x007FFFFFu) | 0x3F800000u); /* [1, 2) */
    if (m > 1.41421356f) {
        m *= 0.5f;
        e++;
    }
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float series = s * (2.0f + s2 * (2.0f / 3.0f + s2 * (2.0f / 5.0f + s2 * (2.0f / 7.0f +
                   s2 * (2.0f / 9.0f)))));
    return (float)e * 0.693147182f + series;
}

/* Square root of x >= 0: exponent-halving first guess (within 6%), then four
 * Newton steps, each squaring the relative error. Keeps libm and its errno
 * state out of the images. */
static inline float tr_sqrtf(float x)
{
    if (x <= 0.0f)
        return 0.0f;
    float r = tr_bits_to_float((tr_float_to_bits(x) >> 1) + 0x1FC00000u);
    for (int i = 0; i < 4; i++)
        r = 0.5f * (r + x / r);
    return r;
}

/* ---- fp32 layers -------------------------------------------------------- */

/* y = W x + b, optionally followed by ReLU; W is [n_out][n_in] row-major. */
static inline void tr_dense(const float *w, const float *b, const float *x, float *y, int n_in,
                     int n_out, int relu)
{
    for (int o = 0; o < n_out; o++) {
        const float *row = w + o * n_in;
        float acc = b[o];
        for (int i = 0; i < n_in; i++)
            acc += row[i] * x[i];
        y[o] = relu && acc < 0.0f ? 0.0f : acc;
    }
}

/* Backward pass of tr_dense for one sample, given dL/dy in dy (already masked
 * by the ReLU derivative where the layer has one):
 *   gw += dy x^T and gb += dy (either may be 0 to skip), dx = W^T dy (dx may be 0). */
static inline void tr_dense_backward(const float *w, const float *x, const float *dy, float *gw,
                              float *gb, float *dx, int n_in, int n_out)
{
    if (dx)
        for (int i = 0; i < n_in; i++)
            dx[i] = 0.0f;
    for (int o = 0; o < n_out; o++) {
        float d = dy[o];
        if (gb)
            gb[o] += d;
        if (gw) {
            float *grow = gw + o * n_in;
            for (int i = 0; i < n_in; i++)
                grow[i] += d * x[i];
        }
        if (dx) {
            const float *row = w + o * n_in;
            for (int i = 0; i < n_in; i++)
                dx[i] += d * row[i];
        }
    }
}

/* dy *= relu'(y): zero the gradient where the ReLU output was zero. */
static inline void tr_relu_backward(const float *y, float *dy, int n)
{
    for (int i = 0; i < n; i++)
        if (y[i] <= 0.0f)
            dy[i] = 0.0f;
}

/* Softmax cross-entropy of logits z against `label`. Writes dL/dz = p - onehot
 * into grad (may be 0) and returns the loss -log p[label]. */
static inline float tr_softmax_xent(const float *z, int n, int label, float *grad)
{
    float zmax = z[0];
    for (int i = 1; i < n; i++)
        if (z[i] > zmax)
            zmax = z[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++)
        sum += tr_expf(z[i] - zmax);
    float log_sum = tr_logf(sum);
    if (grad)
        for (int i = 0; i < n; i++)
            grad[i] = tr_expf(z[i] - zmax - log_sum) - (i == label ? 1.0f : 0.0f);
    return log_sum - (z[label] - zmax);
}

static inline int tr_argmax(const float *z, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (z[i] > z[best])
            best = i;
    return best;
}

/* p -= lr * g, then g = 0 (ready for the next mini-batch). */
static inline void tr_sgd_apply(float *p, float *g, int n, float lr)
{
    for (int i = 0; i < n; i++) {
        p[i] -= lr * g[i];
        g[i] = 0.0f;
    }
}

/* He-uniform initialisation: U(-sqrt(6/n_in), sqrt(6/n_in)), biases zero. */
static inline void tr_init_dense(float *w, float *b, int n_in, int n_out, uint32_t *rng)
{
    float limit = tr_sqrtf(6.0f / (float)n_in);
    for (int i = 0; i < n_in * n_out; i++)
        w[i] = limit * tr_rand_sym(rng);
    for (int o = 0; o < n_out; o++)
        b[o] = 0.0f;
}

/* ---- frozen int8 layer -------------------------------------------------- */

/* acc * M with M = mult * 2^-(31 + shift), round half up; the generator's
 * requantize() is the bit-exact reference (workloads/gen/training_common.py). */
static inline int32_t tr_requant(int32_t acc, int32_t mult, int shift)
{
    int total = 31 + shift;
    int64_t p = (int64_t)acc * mult + ((int64_t)1 << (total - 1));
    return (int32_t)(p >> total);
}

/* out = clamp(requant(b + W x), 0, 127): int8 dense layer with ReLU, weights
 * const (flash), symmetric per-output-row weight scales folded into mult/shift. */
static inline void tr_dense_s8_relu(const int8_t *w, const int32_t *b, const int32_t *mult,
                             const int8_t *shift, const int8_t *x, int8_t *out, int n_in,
                             int n_out)
{
    for (int o = 0; o < n_out; o++) {
        const int8_t *row = w + o * n_in;
        int32_t acc = b[o];
        for (int i = 0; i < n_in; i++)
            acc += (int32_t)row[i] * x[i];
        int32_t q = tr_requant(acc, mult[o], shift[o]);
        out[o] = (int8_t)(q < 0 ? 0 : q > 127 ? 127 : q);
    }
}

#endif
