// cores: cortex-m4f cortex-m7f cortex-m3
/* Few-shot class enrollment with prototypes on int8 embeddings: no gradient,
 * no floating point. A frozen int8 extractor in flash (pretrained on digits
 * 0..5 only) embeds each shot; a new class is the rounded mean of its shots'
 * embeddings (an int8 prototype); a query takes the class of the nearest
 * prototype (squared L2 distance in integers).
 *
 * Data: 8x8 digits (scikit-learn). Classes 6..9, never seen by the extractor,
 * are enrolled one shot per class at a time from the device's stream (k = 1..5);
 * after each round every held-back sample of classes 6..9 is classified
 * (4-way). Pure integer code, so it also builds for cortex-m3.
 *
 * The check: the embeddings match the generator bit for bit, 5-shot accuracy
 * is at least 0.85 (chance 0.25) and at least 0.1 above 1-shot accuracy.
 *
 * Regions: roi_train_step enrolls one shot; roi_classify labels one query.
 */
#include "digits_features.h"

#define FEATURES DIGITS_FEATURES
#define NEW_CLASSES (DIGITS_CLASSES - DIGITS_BASE_CLASSES)
#define MAX_SHOTS 5

static int32_t shot_sum[NEW_CLASSES][FEATURES];
static int32_t shot_count[NEW_CLASSES];
static int8_t prototype[NEW_CLASSES][FEATURES];

/* Enrolls device sample `sample` as one more shot of new class `cls`. */
MB_ROI void roi_train_step(int sample, int cls)
{
    int8_t q[FEATURES];
    digits_embed(sample, q);
    int32_t n = ++shot_count[cls];
    for (int i = 0; i < FEATURES; i++) {
        shot_sum[cls][i] += q[i];
        /* Rounded mean; sums are non-negative (ReLU features). */
        prototype[cls][i] = (int8_t)((shot_sum[cls][i] + n / 2) / n);
    }
}

/* Nearest prototype to device sample `sample`; returns the class (0-based among new classes). */
MB_ROI int roi_classify(int sample)
{
    int8_t q[FEATURES];
    digits_embed(sample, q);
    int best = 0;
    int32_t best_dist = INT32_MAX;
    for (int c = 0; c < NEW_CLASSES; c++) {
        int32_t dist = 0;
        for (int i = 0; i < FEATURES; i++) {
            int32_t d = (int32_t)q[i] - prototype[c][i];
            dist += d * d;
        }
        if (dist < best_dist) {
            best_dist = dist;
            best = c;
        }
    }
    return best;
}

/* Index of the next not-yet-enrolled shot of new class `cls` in the training stream. */
static int next_shot(int cls, int after)
{
    for (int s = after + 1; s < DIGITS_DEVICE_TRAIN; s++)
        if (digits_device_labels[s] == DIGITS_BASE_CLASSES + cls)
            return s;
    return -1;
}

/* Fraction of held-back queries of the new classes labelled correctly. */
static float query_accuracy(int *queries)
{
    int correct = 0, total = 0;
    for (int s = DIGITS_DEVICE_TRAIN; s < DIGITS_DEVICE_SAMPLES; s++) {
        int label = digits_device_labels[s];
        if (label < DIGITS_BASE_CLASSES)
            continue;
        total++;
        correct += roi_classify(s) == label - DIGITS_BASE_CLASSES;
    }
    *queries = total;
    return (float)correct / (float)total;
}

int main(void)
{
    mb_print("fewshot_prototypes: digits 8x8, enroll classes 6..9 on a frozen int8 extractor\n");
    int bit_exact = digits_check_embeddings();

    int last[NEW_CLASSES];
    for (int c = 0; c < NEW_CLASSES; c++)
        last[c] = -1;
    float acc_first = 0.0f, acc = 0.0f;
    for (int k = 1; k <= MAX_SHOTS; k++) {
        for (int c = 0; c < NEW_CLASSES; c++) {
            last[c] = next_shot(c, last[c]);
            if (last[c] < 0)
                return mb_report(0, "not enough shots in the device stream");
            roi_train_step(last[c], c);
        }
        int queries;
        acc = query_accuracy(&queries);
        if (k == 1)
            acc_first = acc;
        mb_print("shots=");
        mb_print_int(k);
        mb_print(" way=");
        mb_print_int(NEW_CLASSES);
        mb_print(" queries=");
        mb_print_int(queries);
        tr_print_figure(" accuracy", acc, 3, "\n");
    }
    mb_print("prototype RAM bytes=");
    mb_print_int((int32_t)(sizeof shot_sum + sizeof shot_count + sizeof prototype));
    mb_print("\n");

    if (!bit_exact)
        return mb_report(0, "int8 embeddings differ from the generator's");
    if (acc < 0.85f)
        return mb_report(0, "5-shot accuracy below 0.85");
    return mb_report(acc - acc_first >= 0.1f, "more shots did not raise accuracy by 0.1");
}
