// cores: cortex-m4f cortex-m7f
/* Full on-device training: a 30-16-8-2 fp32 MLP, every weight and bias
 * trained from a seeded random start by backpropagation and mini-batch SGD.
 *
 * Data: Wisconsin diagnostic breast cancer (scikit-learn), 400 training
 * samples, 169 held back. Eight epochs of 25 mini-batches of 16.
 *
 * After each epoch the whole training set and the held-back set are scored.
 * The check: the training loss never rises by more than 5% from one epoch
 * to the next, the final training loss is at most a fifth of the
 * untrained model's, and held-back accuracy ends at 0.93 or above.
 *
 * Region roi_train_step: one mini-batch (16 forward + backward passes, one update).
 */
#include "data/breast_cancer.h"
#include "mlp.h"

#define HIDDEN1 16
#define HIDDEN2 8
#define PARAMS ((BC_FEATURES + 1) * HIDDEN1 + (HIDDEN1 + 1) * HIDDEN2 + (HIDDEN2 + 1) * BC_CLASSES)
#define BATCH 16
#define EPOCHS 8
#define LEARNING_RATE 0.1f

static tr_mlp net = {3, {BC_FEATURES, HIDDEN1, HIDDEN2, BC_CLASSES}, {{0}}};
static float params[PARAMS];
static float grads[PARAMS];

/* One mini-batch: samples order[0..BATCH-1]; returns their mean loss. */
MB_ROI float roi_train_step(const uint16_t *order)
{
    float loss = 0.0f;
    for (int n = 0; n < BATCH; n++) {
        int s = order[n];
        loss += tr_mlp_accumulate(&net, params, grads, bc_features[s], bc_labels[s]);
    }
    tr_sgd_apply(params, grads, PARAMS, LEARNING_RATE / BATCH);
    return loss / BATCH;
}

int main(void)
{
    mb_print("mlp_backprop: breast cancer, 30-16-8-2 fp32 MLP, full backprop, batch 16\n");
    if (!tr_mlp_fits(&net, PARAMS))
        return mb_report(0, "network does not fit mlp.h's buffers");
    uint32_t rng = 0x5eedu;
    tr_mlp_init(&net, params, &rng);

    static uint16_t order[BC_TRAIN];
    for (int i = 0; i < BC_TRAIN; i++)
        order[i] = (uint16_t)i;

    float train_loss, test_loss;
    tr_mlp_evaluate(&net, params, &bc_features[0][0], bc_labels, 0, BC_TRAIN, &train_loss);
    float acc = tr_mlp_evaluate(&net, params, &bc_features[0][0], bc_labels, BC_TRAIN,
                                BC_SAMPLES, &test_loss);
    float initial = train_loss, previous = train_loss;
    int monotone = 1;
    mb_print("epoch=0");
    tr_print_figure(" train_loss", train_loss, 3, " ");
    tr_print_figure("heldout_loss", test_loss, 3, " ");
    tr_print_figure("heldout_acc", acc, 3, "\n");
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        tr_shuffle(order, BC_TRAIN, &rng);
        float batch_loss = 0.0f;
        for (int i = 0; i + BATCH <= BC_TRAIN; i += BATCH)
            batch_loss += roi_train_step(order + i);
        batch_loss /= BC_TRAIN / BATCH;
        tr_mlp_evaluate(&net, params, &bc_features[0][0], bc_labels, 0, BC_TRAIN, &train_loss);
        acc = tr_mlp_evaluate(&net, params, &bc_features[0][0], bc_labels, BC_TRAIN, BC_SAMPLES,
                              &test_loss);
        mb_print("epoch=");
        mb_print_int(epoch);
        tr_print_figure(" batch_loss", batch_loss, 3, " ");
        tr_print_figure("train_loss", train_loss, 3, " ");
        tr_print_figure("heldout_loss", test_loss, 3, " ");
        tr_print_figure("heldout_acc", acc, 3, "\n");
        if (train_loss > 1.05f * previous)
            monotone = 0;
        previous = train_loss;
    }
    mb_print("parameters=");
    mb_print_int(PARAMS);
    mb_print(" trainable state bytes=");
    mb_print_int((int32_t)(sizeof params + sizeof grads + sizeof net));
    mb_print("\n");

    if (!monotone)
        return mb_report(0, "training loss rose between epochs");
    if (train_loss > 0.2f * initial)
        return mb_report(0, "training loss did not fall to a fifth");
    return mb_report(acc >= 0.93f, "held-back accuracy below 0.93");
}
