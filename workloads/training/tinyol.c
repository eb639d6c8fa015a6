// cores: cortex-m4f cortex-m7f
/* TinyOL-style online learning (Ren et al., 2021): a frozen int8 feature
 * extractor in flash and one trainable fp32 output layer in RAM, updated by
 * SGD on one streaming sample at a time, each seen once.
 *
 * Data: 8x8 digits (scikit-learn). The extractor (64 -> 64, int8) was
 * pretrained on classes 0..5 only; the device learns a new 10-class head from
 * zero on 600 streamed samples and is scored on 297 held-back ones.
 *
 * Figures: held-back accuracy and loss before and after, and the prequential
 * loss (each sample's loss just before the model learns from it) per block of
 * 100 samples. The check: the int8 embeddings match the generator bit for
 * bit, accuracy rises by at least 0.5 to at least 0.75, and the prequential
 * loss of the last block is under half that of the first.
 *
 * Region roi_train_step: one streamed sample (embed, forward, backward, update).
 */
#include "digits_features.h"

#define CLASSES DIGITS_CLASSES
#define FEATURES DIGITS_FEATURES
#define BLOCK 100
#define LEARNING_RATE 0.05f

/* The trainable head: the only model state in RAM (2.6 KiB). */
static float head_w[CLASSES][FEATURES];
static float head_b[CLASSES];

/* Dequantized features for the fp32 head. */
static void embed(int sample, float *features)
{
    int8_t q[FEATURES];
    digits_embed(sample, q);
    for (int i = 0; i < FEATURES; i++)
        features[i] = (float)q[i] * DIGITS_FEATURE_SCALE;
}

/* One online update; returns the sample's loss before the update. */
MB_ROI float roi_train_step(int sample)
{
    float x[FEATURES], z[CLASSES], dz[CLASSES];
    embed(sample, x);
    tr_dense(&head_w[0][0], head_b, x, z, FEATURES, CLASSES, 0);
    float loss = tr_softmax_xent(z, CLASSES, digits_device_labels[sample], dz);
    for (int o = 0; o < CLASSES; o++) {
        float step = LEARNING_RATE * dz[o];
        head_b[o] -= step;
        for (int i = 0; i < FEATURES; i++)
            head_w[o][i] -= step * x[i];
    }
    return loss;
}

/* Accuracy on the held-back samples; mean loss through *loss. */
static float evaluate(float *loss)
{
    int correct = 0;
    float total = 0.0f;
    for (int s = DIGITS_DEVICE_TRAIN; s < DIGITS_DEVICE_SAMPLES; s++) {
        float x[FEATURES], z[CLASSES];
        embed(s, x);
        tr_dense(&head_w[0][0], head_b, x, z, FEATURES, CLASSES, 0);
        total += tr_softmax_xent(z, CLASSES, digits_device_labels[s], 0);
        correct += tr_argmax(z, CLASSES) == digits_device_labels[s];
    }
    *loss = total / (float)(DIGITS_DEVICE_SAMPLES - DIGITS_DEVICE_TRAIN);
    return (float)correct / (float)(DIGITS_DEVICE_SAMPLES - DIGITS_DEVICE_TRAIN);
}

int main(void)
{
    mb_print("tinyol: digits 8x8, frozen int8 extractor (pretrained on 0..5), online fp32 head\n");
    int bit_exact = digits_check_embeddings();

    float loss_before, loss_after;
    float acc_before = evaluate(&loss_before);
    tr_print_figure("before: heldout_acc", acc_before, 3, " ");
    tr_print_figure("heldout_loss", loss_before, 3, "\n");

    float first_block = 0.0f, block = 0.0f;
    for (int s = 0; s < DIGITS_DEVICE_TRAIN; s++) {
        block += roi_train_step(s);
        if ((s + 1) % BLOCK == 0) {
            block /= BLOCK;
            mb_print("samples=");
            mb_print_int(s + 1);
            tr_print_figure(" prequential_loss", block, 3, "\n");
            if (s + 1 == BLOCK)
                first_block = block;
            if (s + 1 < DIGITS_DEVICE_TRAIN)
                block = 0.0f;
        }
    }

    float acc_after = evaluate(&loss_after);
    tr_print_figure("after: heldout_acc", acc_after, 3, " ");
    tr_print_figure("heldout_loss", loss_after, 3, "\n");

    if (!bit_exact)
        return mb_report(0, "int8 embeddings differ from the generator's");
    if (acc_after < 0.75f || acc_after - acc_before < 0.5f)
        return mb_report(0, "held-back accuracy did not rise enough");
    return mb_report(block < 0.5f * first_block, "prequential loss did not halve");
}
