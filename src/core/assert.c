/* SPDX-License-Identifier: Apache-2.0
 *
 * assert.c: mn_panic, the end of every failed assertion. Prints the location and a backtrace
 * to stderr and aborts. Does not try to recover or clean up: state is no longer trusted.
 */
#include "metanode/assert.h"

#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

_Noreturn void mn_panic(const char *file, int line, const char *expr)
{
    fprintf(stderr, "metanode: assertion failed at %s:%d: %s\n", file, line, expr);
    void *frames[32];
    int n = backtrace(frames, 32);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    abort();
}
