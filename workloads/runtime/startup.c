/* Reset handler and vector table: the start of every workload image, and of
 * any C or C++ firmware linked with the board-support package (bsp.mk).
 *
 * It works with runtime/sections.ld and with the scripts `mcubench ldscript`
 * writes: both define the ST names used here (_estack, _sidata, _sdata,
 * _edata, _sbss, _ebss) and the constructor arrays. */
#include "bsp.h"

#include <stdlib.h>
#include <string.h>

int main(void);

extern uint32_t _estack[];
extern uint32_t _sidata[], _sdata[], _edata[];
extern uint32_t _sbss[], _ebss[];

typedef void (*vector_t)(void);

/* Static constructors: C++ objects with a constructor, and C functions marked
 * __attribute__((constructor)). newlib's __libc_init_array would run them too,
 * but it also calls _init from crti.o, which -nostartfiles leaves out. */
extern const vector_t __preinit_array_start[], __preinit_array_end[];
extern const vector_t __init_array_start[], __init_array_end[];

/* Coprocessor Access Control Register, ARMv7-M ARM B3.2.20: CP10 and CP11
 * (bits 20..23) set to full access turn the FPU on. */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
/* ARMv7-M ARM C1.6.5 and C1.8.7: DEMCR.TRCENA powers the DWT, and
 * DWT_CTRL.CYCCNTENA starts the cycle counter mb_cycles() reads. */
#define DCB_DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)

__attribute__((noreturn)) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(_sdata, _sidata, (size_t)((char *)_edata - (char *)_sdata));
    memset(_sbss, 0, (size_t)((char *)_ebss - (char *)_sbss));
    DCB_DEMCR |= 1u << 24;
    DWT_CTRL |= 1u;
    for (const vector_t *f = __preinit_array_start; f < __preinit_array_end; f++)
        (*f)();
    for (const vector_t *f = __init_array_start; f < __init_array_end; f++)
        (*f)();
    /* exit, not _exit: it runs the static destructors and flushes stdio. */
    exit(main());
}

/* Any exception other than reset is a bug in the firmware: say which fault
 * and where, and stop with a status the harness reports as a failure.
 * Fault status registers: ARMv7-M ARM B3.2.15 (CFSR), B3.2.16 (HFSR),
 * B3.2.18 (BFAR: the faulting address when CFSR.BFARVALID, bit 15, is set). */
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)

__attribute__((noreturn, used)) static void fault_report(const uint32_t *frame)
{
    mb_print("FAIL unexpected exception: CFSR ");
    mb_print_hex(SCB_CFSR);
    mb_print(" HFSR ");
    mb_print_hex(SCB_HFSR);
    mb_print(" BFAR ");
    mb_print_hex(SCB_BFAR);
    mb_print(" PC ");
    mb_print_hex(frame[6]); /* the exception frame: r0-r3, r12, lr, pc, xpsr */
    mb_print("\n");
    mb_exit(3);
}

/* Hands the stacked exception frame (on the main stack: this start-up code
 * never switches to the process stack) to fault_report. */
__attribute__((naked, noreturn)) void Fault_Handler(void)
{
    __asm__ volatile("mrs r0, msp\n\tb fault_report");
}

/* ARMv7-M ARM B1.5.3: word 0 is the initial SP, then the 15 system
 * exception vectors. No device interrupts are enabled here. */
__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)_estack,
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};
