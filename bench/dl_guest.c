/* SPDX-License-Identifier: Apache-2.0
 *
 * dl_guest.c: the guest program of bench_docklock: `dl_guest MODE N` makes N allowed syscalls
 * (getppid), N trapped syscalls (raw clock_gettime), N iterations of a CPU-bound loop, or
 * nothing (MODE none), so that differences of whole-run times give per-operation costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[2]);
    volatile unsigned long acc = 1;
    struct timespec ts;
    for (long i = 0; i < n; i++) {
        if (strcmp(argv[1], "getppid") == 0)
            acc += (unsigned long)syscall(SYS_getppid);
        else if (strcmp(argv[1], "clock") == 0)
            acc += (unsigned long)syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
        else if (strcmp(argv[1], "cpu") == 0)
            acc = acc * 6364136223846793005ul + 1442695040888963407ul;
    }
    printf("%lu\n", (unsigned long)acc);
    return 0;
}
