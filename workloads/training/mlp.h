/* A small fp32 ReLU MLP with softmax cross-entropy, trained by backpropagation.
 *
 * Parameters live in one flat float array, per layer W [out][in] row-major
 * then b [out], so whole models can be copied, interpolated (FedAvg/Reptile)
 * or written to flash as one block. Gradients use the same layout.
 * Backpropagation runs one sample at a time and accumulates into the gradient
 * array, so activation memory is one sample's, whatever the batch size.
 */
#ifndef TRAINING_MLP_H
#define TRAINING_MLP_H

#include "common.h"

#define TR_MLP_MAX_LAYERS 3
#define TR_MLP_MAX_WIDTH 32

typedef struct {
    int layers;                          /* weight layers, <= TR_MLP_MAX_LAYERS */
    int dims[TR_MLP_MAX_LAYERS + 1];     /* input, hidden..., classes; all but input <= TR_MLP_MAX_WIDTH */
    float acts[TR_MLP_MAX_LAYERS][TR_MLP_MAX_WIDTH]; /* each layer's output, latest forward */
} tr_mlp;

static inline int tr_mlp_param_count(const tr_mlp *m)
{
    int n = 0;
    for (int l = 0; l < m->layers; l++)
        n += (m->dims[l] + 1) * m->dims[l + 1];
    return n;
}

/* Whether `m` fits the fixed buffers (layers, widths) and has `params` parameters. */
static inline int tr_mlp_fits(const tr_mlp *m, int params)
{
    if (m->layers < 1 || m->layers > TR_MLP_MAX_LAYERS)
        return 0;
    for (int l = 1; l <= m->layers; l++)
        if (m->dims[l] > TR_MLP_MAX_WIDTH)
            return 0;
    return tr_mlp_param_count(m) == params;
}

/* He-uniform weights, zero biases, from the seeded PRNG. */
static inline void tr_mlp_init(const tr_mlp *m, float *params, uint32_t *rng)
{
    for (int l = 0; l < m->layers; l++) {
        int n_in = m->dims[l], n_out = m->dims[l + 1];
        tr_init_dense(params, params + n_in * n_out, n_in, n_out, rng);
        params += (n_in + 1) * n_out;
    }
}

/* Forward pass with `params` (RAM or flash); returns the logits. */
static inline const float *tr_mlp_forward(tr_mlp *m, const float *params, const float *x)
{
    const float *in = x;
    for (int l = 0; l < m->layers; l++) {
        int n_in = m->dims[l], n_out = m->dims[l + 1];
        tr_dense(params, params + n_in * n_out, in, m->acts[l], n_in, n_out, l + 1 < m->layers);
        params += (n_in + 1) * n_out;
        in = m->acts[l];
    }
    return in;
}

/* Forward and backward for one sample: adds dL/dparams to `grads` and
 * returns the loss. */
static inline float tr_mlp_accumulate(tr_mlp *m, const float *params, float *grads,
                                      const float *x, int label)
{
    float delta[2][TR_MLP_MAX_WIDTH];
    int classes = m->dims[m->layers];
    const float *z = tr_mlp_forward(m, params, x);
    float loss = tr_softmax_xent(z, classes, label, delta[0]);

    /* Offsets of the last layer's parameters, walked back layer by layer. */
    int offset = tr_mlp_param_count(m);
    int cur = 0;
    for (int l = m->layers - 1; l >= 0; l--) {
        int n_in = m->dims[l], n_out = m->dims[l + 1];
        offset -= (n_in + 1) * n_out;
        const float *in = l > 0 ? m->acts[l - 1] : x;
        float *dx = l > 0 ? delta[cur ^ 1] : 0;
        tr_dense_backward(params + offset, in, delta[cur], grads + offset,
                          grads + offset + n_in * n_out, dx, n_in, n_out);
        if (l > 0) {
            tr_relu_backward(m->acts[l - 1], dx, n_in);
            cur ^= 1;
        }
    }
    return loss;
}

/* Mean loss and accuracy of `params` on samples [first, last) of a dataset
 * stored as features [n][dims[0]] and labels [n]. */
static inline float tr_mlp_evaluate(tr_mlp *m, const float *params, const float *features,
                                    const uint8_t *labels, int first, int last, float *loss)
{
    int correct = 0;
    float total = 0.0f;
    int classes = m->dims[m->layers];
    for (int s = first; s < last; s++) {
        const float *z = tr_mlp_forward(m, params, features + s * m->dims[0]);
        total += tr_softmax_xent(z, classes, labels[s], 0);
        correct += tr_argmax(z, classes) == labels[s];
    }
    *loss = total / (float)(last - first);
    return (float)correct / (float)(last - first);
}

#endif
