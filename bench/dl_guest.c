/* SPDX-License-Identifier: Apache-2.0
 *
 * dl_guest.c: the guest program of bench_docklock: `dl_guest MODE N` makes N allowed syscalls
 * (getppid), N trapped syscalls (raw clock_gettime), N iterations of a CPU-bound loop, N
 * one-byte round trips over two pipes with a forked child (pingpong: every message is a
 * hand-over between two processes, the turn scheduler's worst case), or nothing (MODE none),
 * so that differences of whole-run times give per-operation costs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pingpong(long n)
{
    int up[2], down[2];
    char c = 'x';
    if (pipe(up) != 0 || pipe(down) != 0)
        return 1;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        for (long i = 0; i < n; i++)
            if (read(down[0], &c, 1) != 1 || write(up[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    for (long i = 0; i < n; i++)
        if (write(down[1], &c, 1) != 1 || read(up[0], &c, 1) != 1)
            return 1;
    int st;
    waitpid(pid, &st, 0);
    printf("%ld\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[2]);
    if (strcmp(argv[1], "pingpong") == 0)
        return pingpong(n);
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
