// cores: cortex-m4f cortex-m7f
/* MLPerf Tiny keyword spotting DS-CNN with the portable reference kernels, to compare kernel sets on one core. */
#include "kws_dscnn_model.h"

#define MODEL kws_dscnn_model
#define MODEL_ARENA_BYTES KWS_DSCNN_ARENA_BYTES
#define MODEL_KERNELS nn_kernels_ref
#include "model_image.h"
