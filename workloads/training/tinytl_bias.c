// cores: cortex-m4f cortex-m7f
/* TinyTL-style bias-only fine-tuning (Cai et al., 2020) of a pretrained fp32
 * 64-32-16-10 network to a shifted task: every weight stays frozen in flash,
 * only the 58 biases live in RAM and are trained.
 *
 * Data: 8x8 digits (scikit-learn); the network was pretrained on clean
 * inputs; the device's sensor has drifted (gain 0.5, offset 0.35 of full
 * scale), which costs the frozen model accuracy. Bias gradients need no
 * stored input activations (dL/db = dL/dz), only each layer's ReLU pattern of
 * the current sample, so activation memory does not grow with the batch.
 *
 * Three epochs of mini-batch SGD (batch 10) over 600 drifted samples; the
 * held-back 297 are scored before and after every epoch. The check: held-back
 * loss at most half of the initial one, accuracy up by at least 0.1.
 *
 * Region roi_train_step: one mini-batch (10 forward + backward passes, one update).
 */
#include "common.h"
#include "data/tinytl_digits.h"

#define BATCH 10
#define EPOCHS 3
#define LEARNING_RATE 0.05f

/* Trainable state: biases and their gradient accumulators (464 bytes). */
static float b1[TL_HIDDEN1], b2[TL_HIDDEN2], b3[TL_CLASSES];
static float g1[TL_HIDDEN1], g2[TL_HIDDEN2], g3[TL_CLASSES];

/* What the drifted sensor delivers for a device sample. */
static void sensor(int sample, float *x)
{
    for (int i = 0; i < TL_INPUTS; i++)
        x[i] = TL_DRIFT_GAIN * (float)tl_device_pixels[sample][i] * (1.0f / 16.0f) +
               TL_DRIFT_OFFSET;
}

/* Forward pass; keeps the hidden activations for the backward pass. */
static void forward(int sample, float *h1, float *h2, float *z)
{
    float x[TL_INPUTS];
    sensor(sample, x);
    tr_dense(&tl_w1[0][0], b1, x, h1, TL_INPUTS, TL_HIDDEN1, 1);
    tr_dense(&tl_w2[0][0], b2, h1, h2, TL_HIDDEN1, TL_HIDDEN2, 1);
    tr_dense(&tl_w3[0][0], b3, h2, z, TL_HIDDEN2, TL_CLASSES, 0);
}

/* One mini-batch of bias-only SGD over device samples order[0..BATCH-1];
 * returns the batch's mean loss. */
MB_ROI float roi_train_step(const uint16_t *order)
{
    float loss = 0.0f;
    for (int n = 0; n < BATCH; n++) {
        int s = order[n];
        float h1[TL_HIDDEN1], h2[TL_HIDDEN2], z[TL_CLASSES];
        float dz[TL_CLASSES], dh2[TL_HIDDEN2], dh1[TL_HIDDEN1];
        forward(s, h1, h2, z);
        loss += tr_softmax_xent(z, TL_CLASSES, tl_device_labels[s], dz);
        /* Bias gradients only: weight gradients (and the inputs they need) are skipped. */
        tr_dense_backward(&tl_w3[0][0], h2, dz, 0, g3, dh2, TL_HIDDEN2, TL_CLASSES);
        tr_relu_backward(h2, dh2, TL_HIDDEN2);
        tr_dense_backward(&tl_w2[0][0], h1, dh2, 0, g2, dh1, TL_HIDDEN1, TL_HIDDEN2);
        tr_relu_backward(h1, dh1, TL_HIDDEN1);
        tr_dense_backward(&tl_w1[0][0], 0, dh1, 0, g1, 0, TL_INPUTS, TL_HIDDEN1);
    }
    tr_sgd_apply(b1, g1, TL_HIDDEN1, LEARNING_RATE / BATCH);
    tr_sgd_apply(b2, g2, TL_HIDDEN2, LEARNING_RATE / BATCH);
    tr_sgd_apply(b3, g3, TL_CLASSES, LEARNING_RATE / BATCH);
    return loss / BATCH;
}

/* Held-back accuracy; mean loss through *loss. */
static float evaluate(float *loss)
{
    int correct = 0;
    float total = 0.0f;
    for (int s = TL_DEVICE_TRAIN; s < TL_DEVICE_SAMPLES; s++) {
        float h1[TL_HIDDEN1], h2[TL_HIDDEN2], z[TL_CLASSES];
        forward(s, h1, h2, z);
        total += tr_softmax_xent(z, TL_CLASSES, tl_device_labels[s], 0);
        correct += tr_argmax(z, TL_CLASSES) == tl_device_labels[s];
    }
    *loss = total / (float)(TL_DEVICE_SAMPLES - TL_DEVICE_TRAIN);
    return (float)correct / (float)(TL_DEVICE_SAMPLES - TL_DEVICE_TRAIN);
}

static void copy(float *dst, const float *src, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] = src[i];
}

int main(void)
{
    mb_print("tinytl_bias: digits 8x8, 64-32-16-10 fp32, drifted sensor, biases trained\n");
    copy(b1, tl_b1_pretrained, TL_HIDDEN1);
    copy(b2, tl_b2_pretrained, TL_HIDDEN2);
    copy(b3, tl_b3_pretrained, TL_CLASSES);

    static uint16_t order[TL_DEVICE_TRAIN];
    for (int i = 0; i < TL_DEVICE_TRAIN; i++)
        order[i] = (uint16_t)i;
    uint32_t rng = 0x7e57u;

    float loss_before, loss;
    float acc_before = evaluate(&loss_before);
    tr_print_figure("epoch=0 heldout_loss", loss_before, 3, " ");
    tr_print_figure("heldout_acc", acc_before, 3, "\n");
    float acc = acc_before;
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        tr_shuffle(order, TL_DEVICE_TRAIN, &rng);
        float train_loss = 0.0f;
        for (int i = 0; i < TL_DEVICE_TRAIN; i += BATCH)
            train_loss += roi_train_step(order + i);
        acc = evaluate(&loss);
        mb_print("epoch=");
        mb_print_int(epoch);
        tr_print_figure(" train_loss", train_loss / (TL_DEVICE_TRAIN / BATCH), 3, " ");
        tr_print_figure("heldout_loss", loss, 3, " ");
        tr_print_figure("heldout_acc", acc, 3, "\n");
    }
    mb_print("trainable parameters=");
    mb_print_int(TL_HIDDEN1 + TL_HIDDEN2 + TL_CLASSES);
    mb_print(" of ");
    mb_print_int(TL_INPUTS * TL_HIDDEN1 + TL_HIDDEN1 * TL_HIDDEN2 + TL_HIDDEN2 * TL_CLASSES +
                 TL_HIDDEN1 + TL_HIDDEN2 + TL_CLASSES);
    mb_print("\n");

    if (loss > 0.5f * loss_before)
        return mb_report(0, "held-back loss did not halve");
    return mb_report(acc - acc_before >= 0.1f, "held-back accuracy did not rise by 0.1");
}
