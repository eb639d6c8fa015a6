// cores: cortex-m4f cortex-m7f
/* Federated / meta-learning round on one device, TinyReptile-style (Ren et
 * al., 2023; Reptile: Nichol et al., 2018): starting from the server's model,
 * run a few local SGD steps on the device's own data, then move the model
 * part of the way toward the locally trained weights,
 *     w <- w + eps * (w_local - w),
 * which is the Reptile outer step and, with one client, the FedAvg average.
 *
 * Data: wine (scikit-learn). The server model (13-16-3 fp32, flash) was
 * trained on other clients' samples; this device's 78 samples come through
 * differently calibrated sensors (per-feature gain and offset), so the server
 * model does worse on them. Five rounds of ten local mini-batch steps
 * (batch 8) on 48 samples, eps = 0.5; the device's 30 held-back samples are
 * scored after each round.
 *
 * The check: the interpolated model's held-back loss ends at most half the
 * server model's, and its accuracy at least 0.9 and no lower than the server's.
 *
 * Regions: roi_train_step is one local mini-batch step; roi_interpolate is
 * the outer update.
 */
#include "data/wine_fedavg.h"
#include "mlp.h"

#define ROUNDS 5
#define LOCAL_STEPS 10
#define BATCH 8
#define LEARNING_RATE 0.05f
#define EPS 0.5f

static tr_mlp net = {2, {WINE_FEATURES, WINE_HIDDEN, WINE_CLASSES}, {{0}}};
static float global[WINE_PARAMS]; /* the model this device holds and reports */
static float local[WINE_PARAMS];  /* its locally trained copy within a round */
static float grads[WINE_PARAMS];

/* One local SGD step on device samples order[0..BATCH-1]; returns their mean loss. */
MB_ROI float roi_train_step(const uint16_t *order)
{
    float loss = 0.0f;
    for (int n = 0; n < BATCH; n++) {
        int s = order[n];
        loss += tr_mlp_accumulate(&net, local, grads, wine_device_features[s],
                                  wine_device_labels[s]);
    }
    tr_sgd_apply(local, grads, WINE_PARAMS, LEARNING_RATE / BATCH);
    return loss / BATCH;
}

/* The outer step: global <- global + EPS (local - global); returns the
 * squared norm of the applied update. */
MB_ROI float roi_interpolate(void)
{
    float norm2 = 0.0f;
    for (int i = 0; i < WINE_PARAMS; i++) {
        float step = EPS * (local[i] - global[i]);
        global[i] += step;
        norm2 += step * step;
    }
    return norm2;
}

static float score(const float *params, float *loss)
{
    return tr_mlp_evaluate(&net, params, &wine_device_features[0][0], wine_device_labels,
                           WINE_DEVICE_TRAIN, WINE_DEVICE_SAMPLES, loss);
}

int main(void)
{
    mb_print("fedavg_reptile: wine, 13-16-3 fp32, server model adapted to one device\n");
    if (!tr_mlp_fits(&net, WINE_PARAMS))
        return mb_report(0, "network does not fit mlp.h's buffers");
    for (int i = 0; i < WINE_PARAMS; i++)
        global[i] = wine_server_params[i];

    uint16_t order[WINE_DEVICE_TRAIN];
    for (int i = 0; i < WINE_DEVICE_TRAIN; i++)
        order[i] = (uint16_t)i;
    uint32_t rng = 0xfedu;

    float server_loss, loss, local_loss;
    float server_acc = score(global, &server_loss);
    float acc = server_acc;
    mb_print("round=0");
    tr_print_figure(" heldout_loss", server_loss, 3, " ");
    tr_print_figure("heldout_acc", server_acc, 3, "\n");
    for (int round = 1; round <= ROUNDS; round++) {
        for (int i = 0; i < WINE_PARAMS; i++)
            local[i] = global[i];
        int next = WINE_DEVICE_TRAIN;
        for (int step = 0; step < LOCAL_STEPS; step++) {
            if (next + BATCH > WINE_DEVICE_TRAIN) { /* a new pass, in a new order */
                tr_shuffle(order, WINE_DEVICE_TRAIN, &rng);
                next = 0;
            }
            roi_train_step(order + next);
            next += BATCH;
        }
        float local_acc = score(local, &local_loss);
        float norm2 = roi_interpolate();
        acc = score(global, &loss);
        mb_print("round=");
        mb_print_int(round);
        tr_print_figure(" local_loss", local_loss, 3, " ");
        tr_print_figure("local_acc", local_acc, 3, " ");
        tr_print_figure("update_norm2", norm2, 4, " ");
        tr_print_figure("heldout_loss", loss, 3, " ");
        tr_print_figure("heldout_acc", acc, 3, "\n");
    }

    if (loss > 0.5f * server_loss)
        return mb_report(0, "interpolated model's loss did not halve");
    return mb_report(acc >= 0.9f && acc >= server_acc, "interpolated model's accuracy too low");
}
