/* Emulator speed workload: repeated 64x64 by 64x64 int8 matrix products with
 * int32 accumulation, the inner loop of int8 TinyML layers. Each round
 * multiplies A by B (B stored transposed, so both operands stream through
 * memory), folds the int32 results into an FNV-1a checksum and requantizes
 * them into the next A, so every round depends on the one before.
 *
 * ROUNDS sets the length: the default (about 1.35e9 instructions on a
 * Cortex-M4) is the one scripts/compare-speed times; the Makefile builds a
 * short variant with -DROUNDS=14 (about 2e7) for the criterion benches.
 * The image prints the checksum, then PASS when it matches the value for
 * that length (EXPECTED, from a run under qemu-system-arm), and exits 0. */
#include <stdint.h>

#include "bench.h"

#ifndef ROUNDS
#define ROUNDS 969
#endif

/* Checksums of the two lengths the Makefile builds, from qemu-system-arm 7.2
 * runs of these images. Other lengths print the checksum without a check. */
#if ROUNDS == 969
#define EXPECTED 0x3c1d5065u
#elif ROUNDS == 14
#define EXPECTED 0xbad406bau
#endif

#define N 64

static int8_t a[N * N];
static int8_t bt[N * N]; /* B transposed: bt[j * N + k] = B[k][j] */
static int32_t c[N * N];

/* C = A x B for one round. */
__attribute__((noinline)) void roi_gemm(const int8_t *restrict lhs,
                                        const int8_t *restrict rhs_t,
                                        int32_t *restrict out)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j++) {
            const int8_t *row = lhs + i * N;
            const int8_t *col = rhs_t + j * N;
            int32_t acc = 0;
            for (int k = 0; k < N; k++)
                acc += row[k] * col[k];
            out[i * N + j] = acc;
        }
    }
}

static int8_t saturate_s8(int32_t v)
{
    return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
}

/* Numerical Recipes' 32-bit LCG; the top byte is the sample. */
static uint32_t lcg_state = 12345u;

static int8_t next_s8(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (int8_t)(lcg_state >> 24);
}

int main(void)
{
    for (int i = 0; i < N * N; i++)
        a[i] = next_s8();
    for (int i = 0; i < N * N; i++)
        bt[i] = next_s8();

    uint32_t checksum = 2166136261u; /* FNV-1a offset basis */
    for (int round = 0; round < ROUNDS; round++) {
        roi_gemm(a, bt, c);
        for (int i = 0; i < N * N; i++) {
            checksum = (checksum ^ (uint32_t)c[i]) * 16777619u; /* FNV prime */
            /* A sum of 64 int8 products spans about 2^20; >> 9 keeps the
             * next A spread over the int8 range. */
            a[i] = saturate_s8(c[i] >> 9);
        }
    }

    bench_print("matmul_int8 rounds ");
    bench_print_dec(ROUNDS);
    bench_print(" checksum ");
    bench_print_hex(checksum);
    bench_print("\n");
#ifdef EXPECTED
    if (checksum != EXPECTED) {
        bench_print("FAIL checksum differs from the reference\n");
        return 1;
    }
    bench_print("PASS\n");
#endif
    return 0;
}
