/* SPDX-License-Identifier: Apache-2.0
 *
 * wasm_dump.c: runs every exported function of a module once, in export order, with zero
 * arguments, on one instance, and prints what happened in the line format of binaryen's
 * `wasm-opt --fuzz-exec-before` ("[fuzz-exec] calling NAME", "[LoggingExternalInterface
 * logging V]", "[fuzz-exec] note result: NAME => V", "[trap ...]"), so diff_binaryen.py can
 * compare the engine with binaryen's interpreter on modules made by `wasm-opt -ttf`. Like
 * binaryen, it calls the export hangLimitInitializer (if any) before each call. Floats are
 * printed as raw bits ("f32:0x...", "f64:0x...") and compared by the script. The imports
 * fuzzing-support.log-{i32,i64,f32,f64} are provided; any other import fails the load.
 * A development tool, not a test: exit status 0 unless the module cannot be loaded.
 *
 * Usage: wasm_dump [--policy] FILE.wasm
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/bytes.h"
#include "metanode/wasm.h"

#define FUEL_PER_CALL 100000000ull

static void print_val(const mn_wasm_val *v)
{
    switch (v->type) {
    case MN_WASM_I32:
        printf("%" PRId32, (int32_t)v->of.i32);
        break;
    case MN_WASM_I64:
        printf("%" PRId64, (int64_t)v->of.i64);
        break;
    case MN_WASM_F32:
        printf("f32:0x%08" PRIx32, v->of.f32_bits);
        break;
    case MN_WASM_F64:
        printf("f64:0x%016" PRIx64, v->of.f64_bits);
        break;
    default:
        printf(v->of.ref ? "ref" : "null");
        break;
    }
}

static int log_fn(void *ctx, mn_wasm_instance *caller, const mn_wasm_val *args,
                  mn_wasm_val *results, mn_err *err)
{
    (void)ctx, (void)caller, (void)results, (void)err;
    printf("[LoggingExternalInterface logging ");
    print_val(&args[0]);
    printf("]\n");
    return 0;
}

static int load(const char *path, bool policy, mn_wasm_store *store, mn_wasm_module **mod,
                mn_wasm_instance **inst, mn_err *err)
{
    uint8_t *bytes;
    size_t len;
    mn_wasm_config cfg = {.metered = true, .canonical_nans = policy};
    if (mn_file_read(path, 0, &bytes, &len, err) != 0)
        return -1;
    int rc = mn_wasm_module_load(bytes, len, &cfg, mod, err);
    free(bytes);
    if (rc)
        return rc;
    uint32_t n = mn_wasm_module_imports_count(*mod);
    mn_wasm_extern imports[16];
    if (n > 16)
        return mn_err_set(err, MN_ELIMIT, 0, "too many imports");
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *m, *f;
        uint32_t ml, fl;
        mn_wasm_extern_kind kind;
        mn_wasm_module_import(*mod, i, &m, &ml, &f, &fl, &kind);
        static const char *names[] = {"log-i32", "log-i64", "log-f32", "log-f64"};
        static const mn_wasm_type types[] = {MN_WASM_I32, MN_WASM_I64, MN_WASM_F32,
                                             MN_WASM_F64};
        int k = -1;
        for (int j = 0; j < 4; j++)
            if (fl == strlen(names[j]) && !memcmp(f, names[j], fl))
                k = j;
        if (kind != MN_WASM_EXTERN_FUNC || ml != 15 || memcmp(m, "fuzzing-support", 15) ||
            k < 0)
            return mn_err_set(err, MN_ENOTFOUND, 0, "unknown import %.*s.%.*s", (int)ml, m,
                              (int)fl, f);
        mn_wasm_functype ft = {1, 0, &types[k], NULL};
        imports[i].kind = MN_WASM_EXTERN_FUNC;
        if ((rc = mn_wasm_func_new_host(store, &ft, log_fn, NULL, &imports[i].of.func, err)))
            return rc;
    }
    return mn_wasm_instantiate(store, *mod, imports, n, inst, err);
}

int main(int argc, char **argv)
{
    bool policy = argc > 2 && !strcmp(argv[1], "--policy");
    if (argc < 2 || (policy && argc < 3)) {
        fprintf(stderr, "usage: %s [--policy] FILE.wasm\n", argv[0]);
        return 2;
    }
    mn_err err;
    mn_wasm_store *store;
    mn_wasm_module *mod = NULL;
    mn_wasm_instance *inst;
    if (mn_wasm_store_new(NULL, &store, &err) != 0)
        return 1;
    if (load(argv[policy ? 2 : 1], policy, store, &mod, &inst, &err) != 0) {
        printf("[load error] %s\n", err.msg);
        return 1;
    }
    /* binaryen resets its hang-limit global before every export call; so do we. */
    mn_wasm_extern hang;
    bool has_hang = mn_wasm_instance_export(inst, (const uint8_t *)"hangLimitInitializer", 20,
                                            &hang, &err) == 0 &&
                    hang.kind == MN_WASM_EXTERN_FUNC;
    static mn_wasm_val args[1000], results[1000];
    static mn_wasm_type types[1000];
    for (uint32_t i = 0; i < mn_wasm_module_exports_count(mod); i++) {
        const uint8_t *name;
        uint32_t name_len;
        mn_wasm_extern_kind kind;
        mn_wasm_extern ex;
        mn_wasm_module_export(mod, i, &name, &name_len, &kind);
        if (kind != MN_WASM_EXTERN_FUNC ||
            mn_wasm_instance_export(inst, name, name_len, &ex, &err) != 0)
            continue;
        uint32_t np, nr;
        mn_wasm_func_type(ex.of.func, &np, &nr, types, NULL);
        for (uint32_t k = 0; k < np; k++) {
            args[k].type = types[k];
            args[k].of.i64 = 0;
        }
        printf("[fuzz-exec] calling %.*s\n", (int)name_len, (const char *)name);
        mn_wasm_store_set_fuel(store, FUEL_PER_CALL);
        if (has_hang)
            (void)mn_wasm_func_call(store, hang.of.func, NULL, 0, results, 1000, &err);
        if (mn_wasm_func_call(store, ex.of.func, args, np, results, 1000, &err) != 0) {
            printf("[trap %s]\n", err.msg);
            continue;
        }
        for (uint32_t k = 0; k < nr && k < 1; k++) {
            printf("[fuzz-exec] note result: %.*s => ", (int)name_len, (const char *)name);
            print_val(&results[k]);
            printf("\n");
        }
    }
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
    return 0;
}
