/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_wasm.c: speed of the WASM engine on the kernels of shared/wasm-bench (fib, sieve,
 * matmul, sha256, noop; README there), unmetered and metered, against the same kernels built
 * natively (bench_wasm_native_<kernel>, clang/gcc -O2, built by bench/CMakeLists.txt), plus
 * load + validation + translation speed on a large synthetic module. Each kernel's run() is
 * called `reps` times in-process and the best call is reported, as native_main.c does; every
 * result is checked against the README's table. Not part of CTest.
 *
 * With --wasm-interp, also times Debian wabt's `wasm-interp --run-all-exports` on each kernel
 * (a whole process, so it includes its start-up; seconds to tens of seconds per kernel).
 *
 * --small runs each kernel's parameterised export on small inputs instead (checked against
 * the README's small-size results) and --plain-only / --metered-only run one mode: together
 * they give stable instruction counts under `valgrind --tool=callgrind`.
 *
 * The metered run only meters; --canon adds NaN canonicalisation (full policy mode).
 *
 * Usage: bench_wasm [--reps N] [--wasm-interp] [--small] [--canon] [--plain-only|--metered-only]
 *                   [KERNEL ...]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "metanode/wasm.h"

typedef struct kernel {
    const char *name;
    uint64_t expect; /* run()'s result, as the raw slot value */
    /* --small: a parameterised export with small arguments and its known result (README) */
    const char *small_entry;
    uint32_t small_args[2];
    uint32_t small_args_count;
    uint64_t small_expect;
} kernel;

static const kernel kernels[] = {
    {"fib", 24157817u, "fib", {30, 0}, 1, 832040u},
    {"sieve", 283146u, "sieve", {1000000, 1}, 2, 78498u},
    {"matmul", (uint64_t)-27067, "matmul", {16, 100}, 2, 3361u},
    {"sha256", 3723339212u, "sha256_reps", {1, 0}, 1, 388765148u},
    {"noop", 0, "run", {0, 0}, 0, 0},
};

static bool small; /* --small: short runs, e.g. for callgrind instruction counts */
static bool canon; /* --canon: the metered run also canonicalises NaNs (full policy mode) */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Best time of `reps` calls of run() on a fresh instance; -1 on error. */
static double run_wasm(const uint8_t *bytes, size_t len, bool metered, int reps,
                       const kernel *kern, uint64_t *fuel_used)
{
    const char *entry = small ? kern->small_entry : "run";
    uint64_t expect = small ? kern->small_expect : kern->expect;
    mn_wasm_val args[2];
    size_t nargs = small ? kern->small_args_count : 0;
    for (size_t i = 0; i < nargs; i++) {
        args[i].type = MN_WASM_I32;
        args[i].of.i32 = kern->small_args[i];
    }
    mn_err err;
    mn_wasm_config cfg = {.metered = metered, .canonical_nans = metered && canon};
    mn_wasm_module *mod;
    mn_wasm_store *store;
    mn_wasm_instance *inst;
    if (mn_wasm_module_load(bytes, len, &cfg, &mod, &err) != 0 ||
        mn_wasm_store_new(NULL, &store, &err) != 0) {
        fprintf(stderr, "load: %s\n", err.msg);
        return -1;
    }
    double best = 1e30;
    if (mn_wasm_instantiate(store, mod, NULL, 0, &inst, &err) != 0) {
        fprintf(stderr, "instantiate: %s\n", err.msg);
        best = -1;
        goto out;
    }
    mn_wasm_extern ex;
    if (mn_wasm_instance_export(inst, (const uint8_t *)entry, strlen(entry), &ex, &err) != 0) {
        best = -1;
        goto out;
    }
    for (int i = 0; i < reps; i++) {
        mn_wasm_val res[1];
        mn_wasm_store_set_fuel(store, 1ull << 62);
        double t0 = now();
        int rc = mn_wasm_func_call(store, ex.of.func, args, nargs, res, 1, &err);
        double t = now() - t0;
        *fuel_used = (1ull << 62) - mn_wasm_store_fuel(store);
        uint64_t got = res[0].type == MN_WASM_I32 ? res[0].of.i32 : res[0].of.i64;
        if (rc != 0 || got != expect) {
            fprintf(stderr, "run: %s (got %" PRIu64 ")\n", rc ? err.msg : "wrong result", got);
            best = -1;
            goto out;
        }
        if (t < best)
            best = t;
    }
out:
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
    return best;
}

/* Runs bench_wasm_native_<name> next to this binary and parses its best call time. */
static double run_native(const char *self_dir, const char *name)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "%s/bench_wasm_native_%s 2>&1 >/dev/null", self_dir, name);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    double t = -1;
    char line[256];
    while (fgets(line, sizeof(line), p))
        sscanf(line, "best_call_seconds %lf", &t);
    pclose(p);
    return t;
}

/* Wall time of one `wasm-interp --run-all-exports` process on path; -1 if it fails. */
static double run_wasm_interp(const char *path)
{
    char cmd[16384];
    snprintf(cmd, sizeof(cmd), "wasm-interp --run-all-exports '%s' >/dev/null 2>&1", path);
    double t0 = now();
    if (system(cmd) != 0)
        return -1;
    return now() - t0;
}

static void put_leb(mn_buf *b, uint64_t v)
{
    mn_err err;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        mn_buf_append_byte(b, (uint8_t)(byte | (v ? 0x80 : 0)), &err);
    } while (v);
}

/* A large valid module: `funcs` functions (i32, i32) -> i32 with loops, locals, arithmetic,
 * calls and memory traffic, each body about 1 KiB. */
static uint8_t *synth_module(uint32_t funcs, size_t *len)
{
    mn_err err;
    mn_buf body, code, out;
    mn_buf_init(&code, 0);
    mn_buf_init(&out, 0);
    for (uint32_t f = 0; f < funcs; f++) {
        mn_buf_init(&body, 0);
        const uint8_t head[] = {1, 2, 0x7f, 0x03, 0x40, 0x20, 0, 0x20, 1, 0x6a, 0x21, 2};
        mn_buf_append(&body, head, sizeof(head), &err);
        for (int k = 0; k < 60; k++) {
            const uint8_t blk[] = {0x20, 2, 0x41, (uint8_t)(k & 0x3f), 0x6c, 0x20, 0, 0x73,
                                   0x21, 2,  0x20, 1,    0x28, 2,  0,    0x20, 2,    0x6a,
                                   0x21, 3};
            mn_buf_append(&body, blk, sizeof(blk), &err);
        }
        const uint8_t tail[] = {0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x20, 2, 0x0b};
        mn_buf_append(&body, tail, sizeof(tail), &err);
        put_leb(&code, body.len);
        mn_buf_append(&code, body.data, body.len, &err);
        mn_buf_deinit(&body);
    }
    const uint8_t hdr[] = {0, 'a', 's', 'm', 1, 0, 0, 0,
                           1, 7, 1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f}; /* type section */
    mn_buf_append(&out, hdr, sizeof(hdr), &err);
    mn_buf fsec;
    mn_buf_init(&fsec, 0);
    put_leb(&fsec, funcs);
    for (uint32_t f = 0; f < funcs; f++)
        mn_buf_append_byte(&fsec, 0, &err);
    mn_buf_append_byte(&out, 3, &err);
    put_leb(&out, fsec.len);
    mn_buf_append(&out, fsec.data, fsec.len, &err);
    const uint8_t memsec[] = {5, 3, 1, 0, 1};
    mn_buf_append(&out, memsec, sizeof(memsec), &err);
    mn_buf csec;
    mn_buf_init(&csec, 0);
    put_leb(&csec, funcs);
    mn_buf_append(&csec, code.data, code.len, &err);
    mn_buf_append_byte(&out, 10, &err);
    put_leb(&out, csec.len);
    mn_buf_append(&out, csec.data, csec.len, &err);
    mn_buf_deinit(&fsec);
    mn_buf_deinit(&csec);
    mn_buf_deinit(&code);
    return mn_buf_take(&out, len);
}

static void bench_load(void)
{
    size_t len;
    uint8_t *bytes = synth_module(16000, &len);
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        mn_err err;
        mn_wasm_module *mod;
        double t0 = now();
        if (mn_wasm_module_load(bytes, len, NULL, &mod, &err) != 0) {
            fprintf(stderr, "synthetic module: %s\n", err.msg);
            exit(1);
        }
        double t = now() - t0;
        mn_wasm_module_free(mod);
        if (t < best)
            best = t;
    }
    printf("load+validate+translate: %.1f MB module in %.3f s = %.1f MB/s\n", len / 1e6, best,
           len / 1e6 / best);
    free(bytes);
}

int main(int argc, char **argv)
{
    int reps = 3, first = 1;
    bool interp = false;
    if (argc > 2 && !strcmp(argv[1], "--reps")) {
        reps = atoi(argv[2]);
        first = 3;
    }
    int modes = 3; /* 1 plain, 2 metered */
    for (; argc > first && !strncmp(argv[first], "--", 2); first++) {
        if (!strcmp(argv[first], "--wasm-interp"))
            interp = true;
        else if (!strcmp(argv[first], "--small"))
            small = true;
        else if (!strcmp(argv[first], "--canon"))
            canon = true;
        else if (!strcmp(argv[first], "--plain-only"))
            modes = 1;
        else if (!strcmp(argv[first], "--metered-only"))
            modes = 2;
    }
    const char *shared = getenv("MN_SHARED_DIR");
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/wasm-bench/wasm", shared ? shared : MN_SHARED_DIR_DEFAULT);
    printf("%-8s %10s %10s %10s %8s %8s %14s %12s\n", "kernel", "native_s", "wasm_s",
           "metered_s", "x_native", "meter_%", "fuel", "wasm-interp");
    int failures = 0;
    for (size_t k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
        bool selected = argc <= first;
        for (int a = first; a < argc; a++)
            selected |= !strcmp(argv[a], kernels[k].name);
        if (!selected)
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s.wasm", dir, kernels[k].name);
        uint8_t *bytes;
        size_t len;
        mn_err err;
        if (mn_file_read(path, 0, &bytes, &len, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        uint64_t fuel = 0, unused;
        double plain = modes & 1 ? run_wasm(bytes, len, false, reps, &kernels[k], &unused) : 1;
        double metered = modes & 2 ? run_wasm(bytes, len, true, reps, &kernels[k], &fuel) : 1;
        double native = small ? 0 : run_native(self, kernels[k].name);
        double wi = interp ? run_wasm_interp(path) : -1;
        free(bytes);
        if (plain < 0 || metered < 0) {
            failures++;
            continue;
        }
        printf("%-8s %10.4f %10.4f %10.4f %8.1f %8.1f %14" PRIu64 " %12.3f\n", kernels[k].name,
               native, plain, metered, native > 0 ? plain / native : 0.0,
               100.0 * (metered - plain) / plain, fuel, wi);
    }
    if (!small)
        bench_load();
    return failures ? 1 : 0;
}
