/* mb_print and mb_exit for host builds of the inference images (see
 * `make host-test`): stdout and exit() stand in for semihosting. */
#include "mcubench.h"

#include <stdio.h>
#include <stdlib.h>

void mb_print(const char *s)
{
    fputs(s, stdout);
}

void mb_exit(int code)
{
    exit(code);
}
