/* mcubench firmware runtime: the few services every workload image uses.
 *
 * An image is one C file with `int main(void)` linked with every C file
 * in runtime/ and kernels/ and newlib nano (libc, libm, libgcc). startup.c sets up the
 * stack, copies .data, zeroes .bss, turns the FPU on (F builds) and calls
 * main(); the value main() returns becomes the exit status.
 *
 * Output and exit go through Arm semihosting (BKPT 0xAB), the only I/O the
 * mcubench harness and QEMU `-semihosting` share:
 *
 *   mb_print("text\n");        SYS_WRITE0, a NUL-terminated string
 *   mb_print_int(-42);          signed decimal, no newline
 *   mb_print_hex(0xbeefu);      "0x" and 8 lowercase hex digits, no newline
 *   mb_exit(code);              SYS_EXIT_EXTENDED; 0 means the image's own check passed
 *
 * printf() also works (newlib nano; _write is routed to SYS_WRITE0), as does
 * malloc() (heap between the end of .bss and the reserved stack), but both
 * cost flash and cycles the plain helpers above do not.
 *
 * Regions of interest: the harness reports every function whose symbol
 * starts with `roi_` as a region named by the rest of the symbol, with its
 * calls and inclusive cycles. Declare them with MB_ROI so the compiler keeps
 * them as real calls under their own name (no inlining, no cloning):
 *
 *   MB_ROI void roi_inference(void) { ... }
 *
 * Marked regions: code that is not a function of its own, such as one layer
 * of a model run by a loop, is measured between two calls:
 *
 *   mb_region_begin("3 dwconv 3x3", 72000);   name, and MACs (0 if none)
 *   ...                                       inclusive: callees, interrupts
 *   mb_region_end();                          ends the innermost open one
 *
 * The harness reports each name with its calls, cycles, energy and, given
 * MACs, cycles per MAC; nn_run marks every model layer this way. Elsewhere
 * the two functions do nothing, so the same image runs on QEMU or a board.
 *
 * Convention for a workload: print what it computed, then a last line
 * `PASS`, or `FAIL <reason>`, and return 0 only on PASS (mb_report does both).
 *
 * Memory: code and const data in flash; .data/.bss/heap/stack in the RAM of
 * the core's linker script (runtime/<core>.ld). The top MB_STACK_BYTES of RAM
 * are reserved for the stack, so an image whose .data+.bss would run into it
 * fails to link instead of failing at run time.
 */
#ifndef MCUBENCH_H
#define MCUBENCH_H

#include <stdint.h>

#define MB_ROI __attribute__((noinline, noipa))

void mb_print(const char *s);
void mb_print_int(int32_t v);
void mb_print_hex(uint32_t v);
__attribute__((noreturn)) void mb_exit(int code);

/* Prints "PASS\n" when ok, else "FAIL <why>\n"; returns the exit status
 * main() should return (0 on PASS, 1 on FAIL). */
int mb_report(int ok, const char *why);

/* Marked regions (see above); `name` must stay valid until the run ends. */
MB_ROI void mb_region_begin(const char *name, uint32_t macs);
MB_ROI void mb_region_end(void);

#endif
