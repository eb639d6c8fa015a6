/* MLPerf Tiny keyword spotting DS-CNN, with the DSP kernels where the core has them. */
#include "kws_dscnn_model.h"

#define MODEL kws_dscnn_model
#define MODEL_ARENA_BYTES KWS_DSCNN_ARENA_BYTES
#define MODEL_KERNELS NN_KERNELS_BEST
#include "model_image.h"
