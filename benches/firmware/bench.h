/* Console and exit through Arm semihosting (startup.c). */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>

void bench_print(const char *s);
void bench_print_hex(uint32_t v);
void bench_print_dec(uint32_t v);
__attribute__((noreturn)) void bench_exit(uint32_t code);

#endif
