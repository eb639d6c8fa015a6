/* MLPerf Tiny anomaly detection FC autoencoder, with the DSP kernels where the core has them. */
#include "ad_autoencoder_model.h"

#define MODEL ad_autoencoder_model
#define MODEL_ARENA_BYTES AD_AUTOENCODER_ARENA_BYTES
#define MODEL_KERNELS NN_KERNELS_BEST
#include "model_image.h"
