// cores: cortex-m4f cortex-m7f
/* Persisting a reformed model: train on the device, then erase a flash
 * sector and program the new weights through the STM32F4/F7 flash controller
 * (stm32_flash.h), read them back, and run inference from flash.
 *
 * Data: iris (scikit-learn), 100 training samples, 50 held back. A 4-8-3
 * fp32 MLP is trained from a seeded random start (30 epochs of mini-batch
 * SGD, batch 10), stored as a record (header + weights + CRC-32) in the last
 * sector of flash:
 *   cortex-m4f image, STM32F407: sector 11, 128 KiB at 0x080E0000 (RM0090 3.3 Table 5);
 *   cortex-m7f image, STM32F746: sector 7, 256 KiB at 0x080C0000 (RM0385 3.3.1 Table 3).
 * The two builds differ in their FPU (fpv5-d16 has double precision), which
 * is how the source tells them apart. Images run only on targets with that
 * controller; elsewhere the first controller access faults.
 *
 * The check: the erase left the record's span all ones, every programmed
 * word reads back, the CRC matches, the model read from flash scores
 * exactly what the RAM model scores, and held-back accuracy rose from the
 * untrained model's to at least 0.9.
 *
 * QEMU has no flash controller; compile this file with -DSTM32_FLASH_MODEL
 * (plus the Makefile's cortex-m4f flags, CFLAGS, LDFLAGS, runtime/cortex-m4f.ld
 * and the runtime's C files) to run the same driver against the software
 * model in stm32_flash.h, then
 *   qemu-system-arm -M mps2-an386 -nographic -semihosting -kernel flash_persist_model.elf
 *
 * Regions: roi_train_step (one mini-batch), roi_flash_erase, roi_flash_program.
 */
#include "data/iris.h"
#include "mlp.h"
#include "stm32_flash.h"

#define HIDDEN 8
#define PARAMS ((IRIS_FEATURES + 1) * HIDDEN + (HIDDEN + 1) * IRIS_CLASSES)
#define BATCH 10
#define EPOCHS 30
#define LEARNING_RATE 0.1f

#ifdef STM32_FLASH_MODEL
static uint32_t model_window[FLASH_MODEL_WORDS];
#define PERSIST_SECTOR 11u
#define PERSIST_ADDR model_window
#elif __ARM_FP & 8
#define PERSIST_SECTOR 7u
#define PERSIST_ADDR ((volatile uint32_t *)0x080C0000u)
#else
#define PERSIST_SECTOR 11u
#define PERSIST_ADDR ((volatile uint32_t *)0x080E0000u)
#endif

/* Linker symbols (runtime/sections.ld): the image's flash contents end with
 * the initial values of .data. */
extern uint32_t _sidata[], _sdata[], _edata[];

/* Offset into flash of an address in flash or in its boot alias at 0. */
#define FLASH_OFFSET(a) ((uint32_t)(uintptr_t)(a) & 0x07FFFFFFu)

#define RECORD_MAGIC 0x4D424D31u /* "MBM1" */

/* What goes to flash: whole 32-bit words, programmed in order. A union, so
 * the same bytes are read as floats (inference) and as words (programming,
 * CRC) without breaking C's aliasing rules. */
#define HEADER_WORDS 4
typedef union {
    struct {
        uint32_t magic;
        uint32_t params;
        uint32_t steps; /* SGD steps the model was trained for */
        uint32_t crc;   /* CRC-32 of the parameter words */
        float weights[PARAMS];
    } m;
    uint32_t words[HEADER_WORDS + PARAMS];
} model_record;

#define RECORD_WORDS (HEADER_WORDS + PARAMS)
_Static_assert(sizeof(model_record) == 4 * RECORD_WORDS, "record has padding");

#ifdef STM32_FLASH_MODEL
_Static_assert(RECORD_WORDS <= FLASH_MODEL_WORDS, "record larger than the model's window");
#endif

static tr_mlp net = {2, {IRIS_FEATURES, HIDDEN, IRIS_CLASSES}, {{0}}};
static float params[PARAMS];
static float grads[PARAMS];
static model_record record;

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit. */
static uint32_t crc32_words(const uint32_t *w, int n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (int i = 0; i < n; i++)
        for (int byte = 0; byte < 4; byte++) {
            crc ^= (w[i] >> (8 * byte)) & 0xFFu;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    return ~crc;
}

MB_ROI float roi_train_step(const uint16_t *order)
{
    float loss = 0.0f;
    for (int n = 0; n < BATCH; n++) {
        int s = order[n];
        loss += tr_mlp_accumulate(&net, params, grads, iris_features[s], iris_labels[s]);
    }
    tr_sgd_apply(params, grads, PARAMS, LEARNING_RATE / BATCH);
    return loss / BATCH;
}

MB_ROI uint32_t roi_flash_erase(void)
{
    flash_unlock();
    uint32_t errors = flash_erase_sector(PERSIST_SECTOR);
    flash_lock();
    return errors;
}

MB_ROI uint32_t roi_flash_program(const model_record *r)
{
    flash_unlock();
    uint32_t errors = flash_program_words(PERSIST_ADDR, r->words, RECORD_WORDS);
    flash_lock();
    return errors;
}

static float heldout(const float *weights, float *loss)
{
    return tr_mlp_evaluate(&net, weights, &iris_features[0][0], iris_labels, IRIS_TRAIN,
                           IRIS_SAMPLES, loss);
}

static int fail(const char *why)
{
    return mb_report(0, why);
}

int main(void)
{
#ifdef STM32_FLASH_MODEL
    mb_print("flash_persist (software flash controller model): iris, 4-8-3 fp32\n");
    flash_model_attach(PERSIST_SECTOR, model_window);
#else
    mb_print("flash_persist: iris, 4-8-3 fp32, weights persisted to flash sector ");
    mb_print_int(PERSIST_SECTOR);
    mb_print(" at ");
    mb_print_hex((uint32_t)(uintptr_t)PERSIST_ADDR);
    mb_print("\n");
    uint32_t image_end = FLASH_OFFSET(_sidata) +
                         (uint32_t)((char *)_edata - (char *)_sdata);
    if (image_end > FLASH_OFFSET(PERSIST_ADDR))
        return fail("the image reaches into the sector it would erase");
#endif
    if (!tr_mlp_fits(&net, PARAMS))
        return fail("network does not fit mlp.h's buffers");

    uint32_t rng = 0x1415u;
    tr_mlp_init(&net, params, &rng);
    static uint16_t order[IRIS_TRAIN];
    for (int i = 0; i < IRIS_TRAIN; i++)
        order[i] = (uint16_t)i;

    float loss_before, loss_after, loss_flash;
    float acc_before = heldout(params, &loss_before);
    tr_print_figure("untrained: heldout_loss", loss_before, 3, " ");
    tr_print_figure("heldout_acc", acc_before, 3, "\n");
    uint32_t steps = 0;
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        tr_shuffle(order, IRIS_TRAIN, &rng);
        float batch_loss = 0.0f;
        for (int i = 0; i + BATCH <= IRIS_TRAIN; i += BATCH, steps++)
            batch_loss += roi_train_step(order + i);
        if (epoch % 10 == 0) {
            mb_print("epoch=");
            mb_print_int(epoch);
            tr_print_figure(" batch_loss", batch_loss / (IRIS_TRAIN / BATCH), 3, "\n");
        }
    }
    float acc_after = heldout(params, &loss_after);
    tr_print_figure("trained (RAM): heldout_loss", loss_after, 3, " ");
    tr_print_figure("heldout_acc", acc_after, 3, "\n");

    record.m.magic = RECORD_MAGIC;
    record.m.params = PARAMS;
    record.m.steps = steps;
    for (int i = 0; i < PARAMS; i++)
        record.m.weights[i] = params[i];
    record.m.crc = crc32_words(record.words + HEADER_WORDS, PARAMS);

    if (roi_flash_erase() != 0)
        return fail("flash controller reported an erase error");
    for (int i = 0; i < RECORD_WORDS; i++)
        if (PERSIST_ADDR[i] != 0xFFFFFFFFu)
            return fail("sector not erased");
    if (roi_flash_program(&record) != 0)
        return fail("flash controller reported a programming error");

    const volatile uint32_t *flash = PERSIST_ADDR;
    int mismatches = 0;
    for (int i = 0; i < RECORD_WORDS; i++)
        mismatches += flash[i] != record.words[i];
    const model_record *stored = (const model_record *)(uintptr_t)PERSIST_ADDR;
    uint32_t crc = crc32_words(stored->words + HEADER_WORDS, PARAMS);
    mb_print("persisted words=");
    mb_print_int(RECORD_WORDS);
    mb_print(" mismatches=");
    mb_print_int(mismatches);
    mb_print(" crc=");
    mb_print_hex(crc);
    mb_print("\n");
    if (mismatches != 0 || stored->m.magic != RECORD_MAGIC || crc != record.m.crc)
        return fail("read-back of the persisted model differs");

    float acc_flash = heldout(stored->m.weights, &loss_flash);
    tr_print_figure("persisted (flash): heldout_loss", loss_flash, 3, " ");
    tr_print_figure("heldout_acc", acc_flash, 3, "\n");
#ifdef STM32_FLASH_MODEL
    mb_print("model: erases=");
    mb_print_int((int32_t)flash_model.erases);
    mb_print(" stores=");
    mb_print_int((int32_t)flash_model.stores);
    mb_print(" refused=");
    mb_print_int((int32_t)flash_model.ignored);
    mb_print("\n");
    if (flash_model.erases != 1 || flash_model.stores != (uint32_t)RECORD_WORDS ||
        flash_model.ignored != 0)
        return fail("unexpected controller traffic");
#endif

    if (acc_flash != acc_after || loss_flash != loss_after)
        return fail("model read from flash scores differently");
    return mb_report(acc_after >= 0.9f && acc_after > acc_before,
                     "held-back accuracy did not rise to 0.9");
}
