/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_util.h: a tiny timing harness for the bench_* programs. An operation is run in batches,
 * doubling the batch size until one batch takes at least 0.2 s of CLOCK_MONOTONIC time; then 5
 * batches of that size are timed and the median is reported, in picoseconds per operation so
 * that everything stays in integers (the project uses no floating point). The 5 batches of all
 * cases are interleaved round-robin so that ratios survive load changes on a shared machine. Header-only: each
 * benchmark is one .c file. It deliberately does no CPU pinning or warm-up beyond the sizing
 * batches; run under `taskset -c 1` for steadier numbers.
 */
#ifndef MN_BENCH_UTIL_H
#define MN_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define BENCH_BATCH_NS_MIN 200000000ull /* 0.2 s */
#define BENCH_BATCHES 5

typedef void (*bench_fn)(void *ctx);

typedef struct bench_case {
    const char *section; /* e.g. "ed25519", "vrf" */
    const char *name;    /* e.g. "verify" */
    bench_fn fn;         /* runs the operation once */
    void *ctx;
    uint64_t ps_per_op; /* filled by bench_measure_all: median of BENCH_BATCHES batches */
    uint64_t batch_ops;
} bench_case;

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t bench_batch_ns(const bench_case *c, uint64_t ops)
{
    const uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < ops; i++)
        c->fn(c->ctx);
    return bench_now_ns() - start;
}

static inline void bench_sort(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort; a handful of elements */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            const uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* Times every case: first sizes each batch (doubling until one batch takes >= 0.2 s), then runs
 * BENCH_BATCHES rounds in which every case runs one batch, round-robin, so that a change in
 * machine load during the run hits all cases alike and ratios between them stay meaningful. */
static inline void bench_measure_all(bench_case *cases, size_t n)
{
    uint64_t ps[64][BENCH_BATCHES];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        uint64_t ops = 1;
        while (bench_batch_ns(&cases[i], ops) < BENCH_BATCH_NS_MIN)
            ops *= 2;
        cases[i].batch_ops = ops;
    }
    for (int b = 0; b < BENCH_BATCHES; b++)
        for (size_t i = 0; i < n; i++)
            ps[i][b] = bench_batch_ns(&cases[i], cases[i].batch_ops) * 1000u / cases[i].batch_ops;
    for (size_t i = 0; i < n; i++) {
        bench_sort(ps[i], BENCH_BATCHES);
        cases[i].ps_per_op = ps[i][BENCH_BATCHES / 2];
    }
}

/* Formats picoseconds as nanoseconds with one decimal, e.g. "37812.4". */
static inline const char *bench_fmt_ns(char buf[32], uint64_t ps)
{
    snprintf(buf, 32, "%llu.%llu", (unsigned long long)(ps / 1000),
             (unsigned long long)(ps % 1000 / 100));
    return buf;
}

/* Formats a / b as a ratio with two decimals, e.g. "2.41". */
static inline const char *bench_fmt_ratio(char buf[32], uint64_t a, uint64_t b)
{
    const uint64_t r = b == 0 ? 0 : (a * 100 + b / 2) / b;
    snprintf(buf, 32, "%llu.%02llu", (unsigned long long)(r / 100),
             (unsigned long long)(r % 100));
    return buf;
}

static inline uint64_t bench_ops_per_s(uint64_t ps)
{
    return ps == 0 ? 0 : 1000000000000ull / ps;
}

#endif
