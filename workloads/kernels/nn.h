/* int8 neural-network kernels with TensorFlow Lite's quantized semantics.
 *
 * Tensors are NHWC int8 with batch 1. A real value is scale * (q - zero_point).
 * Weights are symmetric int8 (zero point 0): conv weights [out_c][k_h][k_w][in_c],
 * depthwise weights [k_h][k_w][c] (depth multiplier 1), fully connected
 * weights [out_c][in_c]. Bias is int32 in units of input_scale * weight_scale.
 *
 * Requantization is per output channel: acc * mult[c] * 2^shift[c] / 2^31,
 * computed with a saturating rounding doubling high multiply and a rounding
 * right shift exactly as TFLite's MultiplyByQuantizedMultiplier does, then
 * the output zero point is added and the result clamped to [act_min, act_max]
 * (ReLU is act_min = output zero point).
 *
 * Every conv, depthwise and fully connected kernel exists twice: a portable
 * reference (nn_*_ref) and, when the core has the DSP extension
 * (__ARM_FEATURE_DSP: Cortex-M4/M7), a SIMD version (nn_*_dsp) built on
 * SMLAD/SXTB16. Both give bit-identical results; kernel_selftest checks that.
 */
#ifndef NN_H
#define NN_H

#include <stdint.h>

enum nn_op {
    NN_CONV,      /* 2-D convolution, weights, bias, per-channel requant */
    NN_DWCONV,    /* depthwise convolution, depth multiplier 1 */
    NN_FC,        /* fully connected: in_c inputs -> out_c outputs */
    NN_AVGPOOL,   /* average over the in-bounds taps; same scale in and out */
    NN_MAXPOOL,   /* maximum; same scale in and out */
    NN_ADD,       /* elementwise add of in and in2 with its own rescaling */
    NN_SOFTMAX,   /* over the last dimension; output scale 1/256, zero point -128;
                   * exp() from a per-layer table rather than TFLite's
                   * fixed-point exp, so it may differ from TFLite by one unit */
};

/* Sentinel arena offset: the layer reads the model input passed to nn_run. */
#define NN_INPUT 0xFFFFFFFFu

/* Left shift applied to both add operands before rescaling (TFLite uses 20
 * for int8 so the rescaled operands keep enough fraction bits). */
#define NN_ADD_LEFT_SHIFT 20

typedef struct nn_layer {
    uint8_t op;
    uint8_t k_h, k_w, stride_h, stride_w, pad_top, pad_left;
    int8_t act_min, act_max;
    uint16_t in_h, in_w, in_c;
    uint16_t out_h, out_w, out_c;
    int32_t in_offset;   /* minus the input zero point */
    int32_t in2_offset;  /* NN_ADD: minus the second input's zero point */
    int32_t out_offset;  /* the output zero point */
    const int8_t *weights;
    const int32_t *bias;
    /* Requantization: per output channel for CONV/DWCONV/FC; for NN_ADD
     * entries 0 and 1 rescale the two inputs and entry 2 the sum. */
    const int32_t *mult;
    const int8_t *shift;
    /* NN_SOFTMAX: exp(-d * input_scale) in Q20 for d = 0..255. */
    const uint32_t *exp_table;
    /* Arena byte offsets used by nn_run (NN_INPUT for the model input). */
    uint32_t in, in2, out;
    /* Name and multiply-accumulates, for the per-layer profile nn_run marks. */
    const char *name;
    uint32_t macs;
} nn_layer;

/* TFLite's MultiplyByQuantizedMultiplier: acc * mult * 2^shift / 2^31 with
 * the same rounding, bit for bit, for every mult >= 0 (the generators only
 * make multipliers in [2^30, 2^31) or 0). Inline because every output value
 * of every kernel passes through it.
 *
 * SaturatingRoundingDoublingHighMul only saturates for INT32_MIN * INT32_MIN,
 * which mult >= 0 rules out, and its rounding (nudge 2^30, or 1 - 2^30 for a
 * negative product, then divide truncating toward zero) equals
 * floor((a * b + 2^30) / 2^31) for either sign: one SMULL, an add and a
 * shift. RoundingDivideByPOT rounds half away from zero. Right shifts of
 * negative values are arithmetic in GCC (implementation-defined in C). */
static inline int32_t nn_requantize(int32_t acc, int32_t mult, int32_t shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int64_t product = (int64_t)(acc * (1 << left)) * mult;
    int32_t x = (int32_t)((product + (1 << 30)) >> 31);
    int32_t mask = (int32_t)((1u << right) - 1u);
    int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> right) + ((x & mask) > threshold ? 1 : 0);
}

/* v limited to [lo, hi]: the activation clamp every kernel ends with. */
static inline int8_t nn_clamp(int32_t v, int8_t lo, int8_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

void nn_conv_ref(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_dwconv_ref(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_fc_ref(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_avgpool(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_maxpool(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_add(const nn_layer *l, const int8_t *in, const int8_t *in2, int8_t *out);
void nn_softmax(const nn_layer *l, const int8_t *in, int8_t *out);

#if defined(__ARM_FEATURE_DSP)
void nn_conv_dsp(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_dwconv_dsp(const nn_layer *l, const int8_t *in, int8_t *out);
void nn_fc_dsp(const nn_layer *l, const int8_t *in, int8_t *out);
#endif

/* The kernels a model runs its hot layers with. */
typedef struct nn_kernels {
    void (*conv)(const nn_layer *l, const int8_t *in, int8_t *out);
    void (*dwconv)(const nn_layer *l, const int8_t *in, int8_t *out);
    void (*fc)(const nn_layer *l, const int8_t *in, int8_t *out);
} nn_kernels;

extern const nn_kernels nn_kernels_ref;
#if defined(__ARM_FEATURE_DSP)
extern const nn_kernels nn_kernels_dsp;
/* The fastest kernels this core has. */
#define NN_KERNELS_BEST nn_kernels_dsp
#else
#define NN_KERNELS_BEST nn_kernels_ref
#endif

/* Runs one layer with kernel set k; in2 is only read by NN_ADD. */
void nn_run_layer(const nn_layer *l, const int8_t *in, const int8_t *in2, int8_t *out,
                  const nn_kernels *k);

/* Runs n layers in order, with intermediate tensors at their arena offsets;
 * returns the last layer's output. Each layer runs inside a marked region
 * named after it (mb_region_begin), so a run's profile lists every layer. */
const int8_t *nn_run(const nn_layer *layers, int n, const int8_t *input, int8_t *arena,
                     const nn_kernels *k);

/* A generated model with its fixed test input and the golden result the
 * bit-exact Python model computed for it (gen/gen_models.py). */
typedef struct nn_model {
    const char *name;
    const nn_layer *layers;
    int n_layers;
    const int8_t *input;
    int out_len;
    uint32_t checksum; /* nn_checksum of the output */
    int argmax;        /* nn_argmax of the output */
} nn_model;

/* FNV-1a over n bytes: the checksum the generator computes for golden outputs. */
uint32_t nn_checksum(const int8_t *p, int n);
/* Index of the largest of n values (the first one on ties). */
int nn_argmax(const int8_t *p, int n);

#endif
