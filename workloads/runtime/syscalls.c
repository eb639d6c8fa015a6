/* newlib nano system calls, so printf(), malloc() and C++ new work without
 * librdimon: output goes to mb_print; the heap runs from __heap_start to
 * __heap_end, which the linker script reserves (runtime/sections.ld: up to
 * the stack; `mcubench ldscript`: --heap KiB), and _sbrk refuses to pass it. */
#include "mcubench.h"

#include <errno.h>
#include <stddef.h>
#include <sys/stat.h>

extern char __heap_start[], __heap_end[];

/* The handle C++ static objects register their destructors under
 * (__cxa_atexit). crtbegin.o defines it, but -nostartfiles leaves that out;
 * weak, so a link that keeps crtbegin.o uses its own. */
__attribute__((weak)) void *__dso_handle = &__dso_handle;

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
