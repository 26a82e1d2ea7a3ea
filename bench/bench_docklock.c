/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_docklock.c: the cost of the cage, as ratios to native runs measured in the same run.
 * Each workload is run natively (fork + exec + wait) and in the cage (mn_docklock_run), 5 times
 * each, interleaved, and the median wall time is kept. Per-syscall costs are differences
 * between a run making N calls and one making none, divided by N, so start-up cancels out.
 * argv[1] is the path of dl_guest. Needs root. Not a test: nothing fails on slowness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "metanode/docklock.h"

#define RUNS 5

static uint64_t native_ns(const char *const *argv)
{
    uint64_t t0 = bench_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", 1);
        dup2(null, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return bench_now_ns() - t0;
}

static uint64_t cage_ns(const char *const *argv, uint32_t argc)
{
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = argc;
    cfg.epoch_ns = MN_DOCKLOCK_EPOCH_NS;
    mn_docklock_result res;
    mn_err err;
    uint64_t t0 = bench_now_ns();
    if (mn_docklock_run(&cfg, &res, &err) != 0) {
        fprintf(stderr, "cage: %s\n", err.msg);
        exit(1);
    }
    uint64_t t = bench_now_ns() - t0;
    mn_docklock_result_deinit(&res);
    return t;
}

/* Median wall time of RUNS native and RUNS cage runs, interleaved. */
static void measure(const char *const *argv, uint32_t argc, uint64_t *nat, uint64_t *cag)
{
    uint64_t a[RUNS], b[RUNS];
    for (int i = 0; i < RUNS; i++) {
        a[i] = native_ns(argv);
        b[i] = cage_ns(argv, argc);
    }
    bench_sort(a, RUNS);
    bench_sort(b, RUNS);
    *nat = a[RUNS / 2];
    *cag = b[RUNS / 2];
}

int main(int argc, char **argv)
{
    if (argc < 2 || geteuid() != 0) {
        fprintf(stderr, "usage (as root): %s PATH/dl_guest\n", argv[0]);
        return 2;
    }
    const char *g = argv[1];
    const long n = 20000;
    char nbuf[32];
    snprintf(nbuf, sizeof(nbuf), "%ld", n);
    const char *none[] = {g, "none", "0", NULL}, *allow[] = {g, "getppid", nbuf, NULL};
    const char *trap[] = {g, "clock", nbuf, NULL}, *cpu[] = {g, "cpu", "400000000", NULL};
    const char *py[] = {"/usr/bin/python3", "-c", "import json, re, random; print(1)", NULL};
    uint64_t n0, c0, na, ca, nt, ct, ncpu, ccpu, npy, cpy;
    measure(none, 3, &n0, &c0);
    measure(allow, 3, &na, &ca);
    measure(trap, 3, &nt, &ct);
    measure(cpu, 3, &ncpu, &ccpu);
    measure(py, 3, &npy, &cpy);
    char r[32];
    printf("%-34s %12s %12s %8s\n", "workload", "native", "cage", "ratio");
    printf("%-34s %10llu ns %10llu ns %8s\n", "start-up (empty program)",
           (unsigned long long)n0, (unsigned long long)c0, bench_fmt_ratio(r, c0, n0));
    uint64_t pa_n = (na - n0) / n, pa_c = (ca > c0 ? ca - c0 : 0) / n;
    uint64_t pt_n = (nt - n0) / n, pt_c = (ct > c0 ? ct - c0 : 0) / n;
    printf("%-34s %10llu ns %10llu ns %8s\n", "allowed syscall (getppid), each",
           (unsigned long long)pa_n, (unsigned long long)pa_c, bench_fmt_ratio(r, pa_c, pa_n));
    printf("%-34s %10llu ns %10llu ns %8s\n", "trapped syscall (clock_gettime)",
           (unsigned long long)pt_n, (unsigned long long)pt_c, bench_fmt_ratio(r, pt_c, pt_n));
    printf("%-34s %10llu ns %10llu ns %8s\n", "CPU-bound loop (4e8 iterations)",
           (unsigned long long)ncpu, (unsigned long long)ccpu, bench_fmt_ratio(r, ccpu, ncpu));
    printf("%-34s %10llu ns %10llu ns %8s\n", "python3 start-up + short script",
           (unsigned long long)npy, (unsigned long long)cpy, bench_fmt_ratio(r, cpy, npy));
    return 0;
}
