/* Output, exit and the core clock through Arm semihosting (see mcubench.h
 * and bsp.h). */
#include "bsp.h"

/* Operation numbers from Arm's "Semihosting for AArch32 and AArch64", v3.0. */
enum { SYS_WRITE0 = 0x04, SYS_EXIT_EXTENDED = 0x20, SYS_TICKFREQ = 0x31 };
/* ADP_Stopped_ApplicationExit: the reason code that carries an exit status. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void mb_print(const char *s)
{
    semihost(SYS_WRITE0, s);
}

void mb_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) /* a host that ignores the exit request leaves us here */
        __asm__ volatile("bkpt 0");
}

uint32_t mb_cycles_per_second(void)
{
    /* The parameter register must be 0; -1 means the host has no tick
     * frequency, which 0 reports here as TFLM's ticks_per_second() does. */
    int hz = semihost(SYS_TICKFREQ, 0);
    return hz < 0 ? 0u : (uint32_t)hz;
}
