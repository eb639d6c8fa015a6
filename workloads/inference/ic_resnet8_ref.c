// cores: cortex-m4f cortex-m7f
/* MLPerf Tiny image classification ResNet-8 with the portable reference kernels, to compare kernel sets on one core. */
#include "ic_resnet8_model.h"

#define MODEL ic_resnet8_model
#define MODEL_ARENA_BYTES IC_RESNET8_ARENA_BYTES
#define MODEL_KERNELS nn_kernels_ref
#include "model_image.h"
