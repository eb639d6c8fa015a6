/* MLPerf Tiny image classification ResNet-8, with the DSP kernels where the core has them. */
#include "ic_resnet8_model.h"

#define MODEL ic_resnet8_model
#define MODEL_ARENA_BYTES IC_RESNET8_ARENA_BYTES
#define MODEL_KERNELS NN_KERNELS_BEST
#include "model_image.h"
