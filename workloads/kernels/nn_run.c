/* The layer-list interpreter every model image runs, and the helpers its
 * golden checks use. */
#include "mcubench.h"
#include "nn.h"

const nn_kernels nn_kernels_ref = {nn_conv_ref, nn_dwconv_ref, nn_fc_ref};
#if defined(__ARM_FEATURE_DSP)
const nn_kernels nn_kernels_dsp = {nn_conv_dsp, nn_dwconv_dsp, nn_fc_dsp};
#endif

void nn_run_layer(const nn_layer *l, const int8_t *in, const int8_t *in2, int8_t *out,
                  const nn_kernels *k)
{
    switch (l->op) {
    case NN_CONV:
        k->conv(l, in, out);
        break;
    case NN_DWCONV:
        k->dwconv(l, in, out);
        break;
    case NN_FC:
        k->fc(l, in, out);
        break;
    case NN_AVGPOOL:
        nn_avgpool(l, in, out);
        break;
    case NN_MAXPOOL:
        nn_maxpool(l, in, out);
        break;
    case NN_ADD:
        nn_add(l, in, in2, out);
        break;
    case NN_SOFTMAX:
        nn_softmax(l, in, out);
        break;
    }
}

const int8_t *nn_run(const nn_layer *layers, int n, const int8_t *input, int8_t *arena,
                     const nn_kernels *k)
{
    int8_t *out = arena;
    for (int i = 0; i < n; i++) {
        const nn_layer *l = &layers[i];
        const int8_t *in = l->in == NN_INPUT ? input : arena + l->in;
        const int8_t *in2 = l->in2 == NN_INPUT ? input : arena + l->in2;
        out = arena + l->out;
        mb_region_begin(l->name, l->macs);
        nn_run_layer(l, in, in2, out, k);
        mb_region_end();
    }
    return out;
}

uint32_t nn_checksum(const int8_t *p, int n)
{
    /* FNV-1a, 32 bit: offset basis 2166136261, prime 16777619. */
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 16777619u;
    }
    return h;
}

int nn_argmax(const int8_t *p, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}
