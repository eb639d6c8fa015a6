/* Vector table, reset handler and semihosting for the speed workload.
 * Self-contained so the bench firmware does not move when the suite's
 * runtime in workloads/ changes. */
#include <stdint.h>

#include "bench.h"

int main(void);

/* Defined by the linker script (mps2-an386.ld, stm32f407.ld). */
extern uint32_t __stack_top[];
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];

/* Semihosting operations, Arm "Semihosting for AArch32 and AArch64" v3.0. */
#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
/* ADP_Stopped_ApplicationExit: the reason whose second word is the exit status. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static void semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
}

void bench_print(const char *s)
{
    semihost(SYS_WRITE0, s);
}

void bench_print_hex(uint32_t v)
{
    char text[11] = "0x";
    for (int i = 0; i < 8; i++)
        text[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xF];
    text[10] = '\0';
    bench_print(text);
}

void bench_print_dec(uint32_t v)
{
    char text[11];
    int at = 10;
    text[at] = '\0';
    do {
        text[--at] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    bench_print(&text[at]);
}

__attribute__((noreturn)) void bench_exit(uint32_t code)
{
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) /* reached only if the host ignores the exit call */
        __asm__ volatile("bkpt 0");
}

__attribute__((noreturn)) void Reset_Handler(void)
{
    /* CPACR (ARMv7-M ARM B3.2.20): full access to CP10/CP11 turns the FPU on,
     * before any code the compiler may have given FP instructions. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;)
        *dst++ = *src++;
    for (uint32_t *dst = __bss_start; dst < __bss_end;)
        *dst++ = 0;
    bench_exit((uint32_t)main());
}

/* The workload takes no exceptions; one means a bug, so stop with a failure. */
__attribute__((noreturn)) void Fault_Handler(void)
{
    bench_print("FAIL unexpected exception\n");
    bench_exit(3);
}

typedef void (*vector_t)(void);

/* ARMv7-M ARM B1.5.3: the initial SP, then the 15 system exception vectors. */
__attribute__((section(".vectors"), used)) static const vector_t vectors[16] = {
    (vector_t)(uintptr_t)__stack_top,
    Reset_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    0, 0, 0, 0,
    Fault_Handler, Fault_Handler, 0, Fault_Handler, Fault_Handler,
};
