/* The body of every model image: runs the model once on its fixed input
 * inside roi_inference() and checks the output against the golden checksum
 * and argmax from the bit-exact Python model.
 *
 * Before including, define MODEL (an nn_model), MODEL_ARENA_BYTES and
 * MODEL_KERNELS (an nn_kernels: nn_kernels_ref or NN_KERNELS_BEST). */
#ifndef MODEL_IMAGE_H
#define MODEL_IMAGE_H

#include "mcubench.h"
#include "nn.h"

static int8_t arena[MODEL_ARENA_BYTES] __attribute__((aligned(4)));
static const int8_t *output;

MB_ROI void roi_inference(void)
{
    output = nn_run(MODEL.layers, MODEL.n_layers, MODEL.input, arena, &MODEL_KERNELS);
}

int main(void)
{
    roi_inference();
    int top = nn_argmax(output, MODEL.out_len);
    uint32_t sum = nn_checksum(output, MODEL.out_len);
    mb_print(MODEL.name);
    mb_print(": argmax ");
    mb_print_int(top);
    mb_print(" checksum ");
    mb_print_hex(sum);
    mb_print("\n");
    return mb_report(top == MODEL.argmax && sum == MODEL.checksum,
                     "output differs from the golden result");
}

#endif
