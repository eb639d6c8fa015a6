/* Semihosting output and exit (see mcubench.h). */
#include "mcubench.h"

#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>

/* Operation numbers from Arm's "Semihosting for AArch32 and AArch64", v3.0. */
enum { SYS_WRITE0 = 0x04, SYS_EXIT_EXTENDED = 0x20 };
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

void mb_print_int(int32_t v)
{
    char buf[12];
    char *p = buf + sizeof buf;
    /* Work on the magnitude as unsigned so INT32_MIN prints correctly. */
    uint32_t m = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + m % 10u);
        m /= 10u;
    } while (m != 0u);
    if (v < 0)
        *--p = '-';
    mb_print(p);
}

void mb_print_hex(uint32_t v)
{
    char buf[11];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xfu];
    buf[10] = '\0';
    mb_print(buf);
}

void mb_exit(int code)
{
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) /* a host that ignores the exit request leaves us here */
        __asm__ volatile("bkpt 0");
}

int mb_report(int ok, const char *why)
{
    if (ok) {
        mb_print("PASS\n");
        return 0;
    }
    mb_print("FAIL ");
    mb_print(why);
    mb_print("\n");
    return 1;
}

/* newlib system calls, so printf() and malloc() work without librdimon. */

extern char __heap_start[], __heap_end[];

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = __heap_start;
    if (incr > __heap_end - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}

int _write(int fd, const char *buf, int len)
{
    (void)fd;
    char chunk[65];
    int done = 0;
    while (done < len) {
        int n = len - done < 64 ? len - done : 64;
        for (int i = 0; i < n; i++)
            chunk[i] = buf[done + i];
        chunk[n] = '\0';
        mb_print(chunk);
        done += n;
    }
    return len;
}

void _exit(int code)
{
    mb_exit(code);
}

int _close(int fd)
{
    (void)fd;
    return -1;
}

int _fstat(int fd, struct stat *st)
{
    (void)fd;
    st->st_mode = S_IFCHR;
    return 0;
}

int _isatty(int fd)
{
    (void)fd;
    return 1;
}

int _lseek(int fd, int off, int whence)
{
    (void)fd;
    (void)off;
    (void)whence;
    return 0;
}

int _read(int fd, char *buf, int len)
{
    (void)fd;
    (void)buf;
    (void)len;
    return 0;
}

int _kill(int pid, int sig)
{
    (void)pid;
    (void)sig;
    errno = EINVAL;
    return -1;
}

int _getpid(void)
{
    return 1;
}
