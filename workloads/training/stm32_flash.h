/* Driver for the STM32F4/F7 embedded-flash controller: unlock, sector erase,
 * word programming, lock. Register interface from RM0090 (STM32F405/407)
 * section 3.9, which RM0385 (STM32F746) section 3.7 repeats at the same
 * address and bit positions:
 *   FLASH base 0x40023C00; KEYR +0x04 (keys 0x45670123 then 0xCDEF89AB);
 *   SR +0x0C (BSY bit 16; error flags bits 4..7, write 1 to clear);
 *   CR +0x10 (PG bit 0, SER bit 1, SNB bits 6:3, PSIZE bits 9:8, STRT bit 16,
 *   LOCK bit 31). Sequences: RM0090 3.6.3 (sector erase), 3.6.4 (programming).
 *
 * QEMU's mps2-an386 has no such controller. Built with -DSTM32_FLASH_MODEL,
 * every register access and flash store goes instead to a small software
 * model of the controller (below), so the driver's sequences can be checked
 * under QEMU: the model ignores a wrong key order, CR writes while locked,
 * stores without PG or with another PSIZE, and erases only the sector SNB
 * names, so a driver mistake shows up as a failed read-back.
 */
#ifndef TRAINING_STM32_FLASH_H
#define TRAINING_STM32_FLASH_H

#include <stdint.h>

#define FLASH_CTRL_BASE 0x40023C00u
#define FLASH_KEYR 0x04u
#define FLASH_SR 0x0Cu
#define FLASH_CR 0x10u

#define FLASH_KEY1 0x45670123u
#define FLASH_KEY2 0xCDEF89ABu

#define FLASH_SR_ERRORS (0xFu << 4) /* WRPERR, PGAERR, PGPERR, PGSERR */
#define FLASH_SR_BSY (1u << 16)

#define FLASH_CR_PG (1u << 0)
#define FLASH_CR_SER (1u << 1)
#define FLASH_CR_SNB(n) ((uint32_t)(n) << 3)
#define FLASH_CR_PSIZE_X32 (2u << 8) /* word parallelism: VDD 2.7..3.6 V */
#define FLASH_CR_STRT (1u << 16)
#define FLASH_CR_LOCK (1u << 31)

#ifdef STM32_FLASH_MODEL

/* The software controller: state and the window of flash it backs. */
#define FLASH_MODEL_WORDS 256
static struct {
    uint32_t cr;
    uint32_t unlock_step;
    uint32_t busy_polls; /* SR reads left that still show BSY */
    uint32_t sector;     /* the sector the window belongs to */
    uint32_t *window;
    uint32_t erases, stores;
    uint32_t ignored; /* accesses the controller refused (locked, no PG, ...) */
} flash_model;

static inline void flash_model_attach(uint32_t sector, uint32_t *window)
{
    flash_model.cr = FLASH_CR_LOCK;
    flash_model.sector = sector;
    flash_model.window = window;
    for (int i = 0; i < FLASH_MODEL_WORDS; i++) /* whatever an old image left there */
        window[i] = 0x5A5A5A5Au + (uint32_t)i;
}

static inline uint32_t flash_reg_read(uint32_t offset)
{
    if (offset == FLASH_CR)
        return flash_model.cr;
    if (offset == FLASH_SR && flash_model.busy_polls > 0) {
        flash_model.busy_polls--;
        return FLASH_SR_BSY;
    }
    return 0;
}

static inline void flash_reg_write(uint32_t offset, uint32_t value)
{
    if (offset == FLASH_KEYR) {
        if (flash_model.unlock_step == 0 && value == FLASH_KEY1)
            flash_model.unlock_step = 1;
        else if (flash_model.unlock_step == 1 && value == FLASH_KEY2) {
            flash_model.cr &= ~FLASH_CR_LOCK;
            flash_model.unlock_step = 0;
        } else {
            flash_model.unlock_step = 0;
        }
    } else if (offset == FLASH_SR) {
        /* error flags are write-1-to-clear; the model raises none */
    } else if (offset == FLASH_CR && !(flash_model.cr & FLASH_CR_LOCK)) {
        flash_model.cr = value & ~FLASH_CR_STRT;
        if ((value & (FLASH_CR_STRT | FLASH_CR_SER)) == (FLASH_CR_STRT | FLASH_CR_SER)) {
            flash_model.busy_polls = 3;
            if (((value >> 3) & 0xFu) == flash_model.sector) {
                for (int i = 0; i < FLASH_MODEL_WORDS; i++)
                    flash_model.window[i] = 0xFFFFFFFFu;
                flash_model.erases++;
            }
        }
    } else {
        flash_model.ignored++;
    }
}

static inline void flash_store(volatile uint32_t *addr, uint32_t value)
{
    uint32_t cr = flash_model.cr;
    if ((cr & (FLASH_CR_PG | FLASH_CR_LOCK)) == FLASH_CR_PG &&
        (cr & (3u << 8)) == FLASH_CR_PSIZE_X32) {
        *addr &= value; /* NOR flash: programming only clears bits */
        flash_model.busy_polls = 1;
        flash_model.stores++;
    } else {
        flash_model.ignored++;
    }
}

#else

static inline uint32_t flash_reg_read(uint32_t offset)
{
    return *(volatile uint32_t *)(FLASH_CTRL_BASE + offset);
}

static inline void flash_reg_write(uint32_t offset, uint32_t value)
{
    *(volatile uint32_t *)(FLASH_CTRL_BASE + offset) = value;
}

static inline void flash_store(volatile uint32_t *addr, uint32_t value)
{
    *addr = value;
}

#endif

/* Returned instead of hanging when BSY never clears (no controller there). */
#define FLASH_TIMEOUT (1u << 31)

/* Bound on BSY polls: at a few cycles per poll, 2^28 polls last seconds at
 * every target's clock, longer than any sector erase of these parts. */
#define FLASH_MAX_POLLS (1u << 28)

/* Waits for the current operation; returns its error flags (0 when it went well). */
static inline uint32_t flash_wait(void)
{
    for (uint32_t n = 0; n < FLASH_MAX_POLLS; n++) {
        uint32_t sr = flash_reg_read(FLASH_SR);
        if (!(sr & FLASH_SR_BSY))
            return sr & FLASH_SR_ERRORS;
    }
    return FLASH_TIMEOUT;
}

static inline void flash_unlock(void)
{
    if (flash_reg_read(FLASH_CR) & FLASH_CR_LOCK) {
        flash_reg_write(FLASH_KEYR, FLASH_KEY1);
        flash_reg_write(FLASH_KEYR, FLASH_KEY2);
    }
    flash_reg_write(FLASH_SR, FLASH_SR_ERRORS); /* clear stale error flags */
}

static inline void flash_lock(void)
{
    flash_reg_write(FLASH_CR, FLASH_CR_LOCK);
}

/* Erases sector `sector` (RM0090 3.6.3); returns the error flags. */
static inline uint32_t flash_erase_sector(uint32_t sector)
{
    if (flash_wait() == FLASH_TIMEOUT)
        return FLASH_TIMEOUT;
    uint32_t cr = FLASH_CR_PSIZE_X32 | FLASH_CR_SER | FLASH_CR_SNB(sector);
    flash_reg_write(FLASH_CR, cr);
    flash_reg_write(FLASH_CR, cr | FLASH_CR_STRT);
    uint32_t errors = flash_wait();
    flash_reg_write(FLASH_CR, 0);
    return errors;
}

/* Programs `words` 32-bit words at `dst` (erased flash) from `src`, one write
 * per word with x32 parallelism (RM0090 3.6.4); returns the OR of the error flags. */
static inline uint32_t flash_program_words(volatile uint32_t *dst, const uint32_t *src, int words)
{
    uint32_t errors = flash_wait();
    if (errors == FLASH_TIMEOUT)
        return errors;
    flash_reg_write(FLASH_CR, FLASH_CR_PSIZE_X32 | FLASH_CR_PG);
    for (int i = 0; i < words && !(errors & FLASH_TIMEOUT); i++) {
        flash_store(dst + i, src[i]);
        errors |= flash_wait();
    }
    flash_reg_write(FLASH_CR, 0);
    return errors;
}

#endif
