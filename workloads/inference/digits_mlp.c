/* Classifies the held-back images of scikit-learn's 8x8 digits set with the
 * int8 MLP trained on the rest (gen/gen_digits.py), one roi_inference() per
 * image, and checks the number of correct answers against the count the
 * bit-exact Python model got; it must also be at least 90%. */
#include "digits_mlp_model.h"
#include "mcubench.h"
#include "nn.h"

static int8_t arena[DIGITS_ARENA_BYTES] __attribute__((aligned(4)));

MB_ROI int roi_inference(const int8_t *image)
{
    const int8_t *logits = nn_run(digits_layers, DIGITS_N_LAYERS, image, arena, &NN_KERNELS_BEST);
    return nn_argmax(logits, DIGITS_CLASSES);
}

int main(void)
{
    int correct = 0;
    for (int i = 0; i < DIGITS_N_TEST; i++)
        correct += roi_inference(digits_test_images + i * DIGITS_FEATURES) == digits_test_labels[i];
    mb_print("digits: ");
    mb_print_int(correct);
    mb_print("/");
    mb_print_int(DIGITS_N_TEST);
    mb_print(" held-back images correct (");
    mb_print_int(correct * 1000 / DIGITS_N_TEST);
    mb_print(" per mille), expected ");
    mb_print_int(DIGITS_EXPECTED_CORRECT);
    mb_print("\n");
    if (correct != DIGITS_EXPECTED_CORRECT)
        return mb_report(0, "accuracy differs from the int8 reference");
    return mb_report(correct * 10 >= DIGITS_N_TEST * 9, "accuracy below 90%");
}
