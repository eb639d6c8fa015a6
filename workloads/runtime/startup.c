/* Reset handler and vector table for every core the workloads build for. */
#include "mcubench.h"

#include <stdint.h>
#include <string.h>

int main(void);

/* Symbols from the linker scripts (runtime/sections.ld). */
extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

/* Coprocessor Access Control Register, ARMv7-M ARM B3.2.20: CP10 and CP11
 * (bits 20..23) set to full access turn the FPU on. */
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

__attribute__((noreturn)) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
    mb_exit(main());
}

/* Any exception other than reset is a bug in the workload: say which fault
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

/* Hands the stacked exception frame (on the main stack: the workloads never
 * switch to the process stack) to fault_report. */
__attribute__((naked, noreturn)) void Fault_Handler(void)
{
    __asm__ volatile("mrs r0, msp\n\tb fault_report");
}

typedef void (*vector_t)(void);

/* ARMv7-M ARM B1.5.3: word 0 is the initial SP, then the 15 system
 * exception vectors. No device interrupts are enabled by any workload. */
__attribute__((section(".isr_vector"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)__stack_top,
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
