/* The board-support package's header for firmware built outside this
 * repository (TFLM, CMSIS-NN, vendor code), in C or C++: the firmware API of
 * mcubench.h (mb_print, mb_exit, ...) with C linkage, and the cycle counter.
 *
 * runtime/startup.c starts DWT_CYCCNT before the constructors and main run,
 * so mb_cycles() counts core cycles from reset (it wraps every 2^32 cycles:
 * take differences). Under mcubench a read returns the modeled cycles of
 * every instruction before it; QEMU reads 0. See bsp.mk for the sources and
 * flags, and docs/tflm.md for a TFLM build that uses them. */
#ifndef MCUBENCH_BSP_H
#define MCUBENCH_BSP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "mcubench.h"

/* DWT_CYCCNT, ARMv7-M ARM C1.8.7. */
static inline uint32_t mb_cycles(void)
{
    return *(volatile uint32_t *)0xE0001004u;
}

/* How many mb_cycles() make a second: the core clock, asked of the host with
 * semihosting SYS_TICKFREQ. mcubench answers with the modeled core clock in
 * Hz as the firmware has set it (the target's clock_mhz until the firmware
 * programs the clock tree). */
uint32_t mb_cycles_per_second(void);

#ifdef __cplusplus
}
#endif

#endif
