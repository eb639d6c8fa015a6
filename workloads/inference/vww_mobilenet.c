/* MLPerf Tiny visual wake words MobileNetV1 0.25, with the DSP kernels where the core has them. */
#include "vww_mobilenet_model.h"

#define MODEL vww_mobilenet_model
#define MODEL_ARENA_BYTES VWW_MOBILENET_ARENA_BYTES
#define MODEL_KERNELS NN_KERNELS_BEST
#include "model_image.h"
