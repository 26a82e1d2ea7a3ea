/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_wasm_module.c: arbitrary bytes through the whole WASM engine: decode, validate and
 * translate; if that succeeds, instantiate with a stub for every import (functions returning
 * zeros, fresh memories/tables/globals of the declared type) and call every exported function
 * with zero arguments, under small limits and a fuel cap so no input can hang or exhaust
 * memory. Errors and traps are expected outcomes; crashes, sanitizer reports, assertion
 * failures and hangs are bugs. It includes the engine's internal header to read import types,
 * which the public API does not expose.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/wasm/internal.h"
#include "metanode/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FUEL 200000u

static int stub_fn(void *ctx, mn_wasm_instance *caller, const mn_wasm_val *args,
                   mn_wasm_val *results, mn_err *err)
{
    (void)ctx, (void)caller, (void)args, (void)results, (void)err;
    return 0; /* results were zeroed by the engine */
}

static int make_import(mn_wasm_store *store, const mn_wasm_module *mod, uint32_t i,
                       mn_wasm_extern *out, mn_err *err)
{
    const mn__wasm_import *im = &mod->imports[i];
    out->kind = (mn_wasm_extern_kind)im->kind;
    switch (im->kind) {
    case MN_WASM_EXTERN_FUNC: {
        const mn__wasm_functype *ft = &mod->types[im->of.type_index];
        mn_wasm_type params[MN_WASM_FUNC_PARAMS_MAX], results[MN_WASM_FUNC_PARAMS_MAX];
        for (uint32_t k = 0; k < ft->params_count; k++)
            params[k] = (mn_wasm_type)ft->types[k];
        for (uint32_t k = 0; k < ft->results_count; k++)
            results[k] = (mn_wasm_type)ft->types[ft->params_count + k];
        mn_wasm_functype t = {ft->params_count, ft->results_count, params, results};
        return mn_wasm_func_new_host(store, &t, stub_fn, NULL, &out->of.func, err);
    }
    case MN_WASM_EXTERN_TABLE: {
        const mn__wasm_tabletype *tt = &im->of.table;
        return mn_wasm_table_new(store, (mn_wasm_type)tt->elem, tt->lim.min,
                                 tt->lim.has_max ? tt->lim.max : UINT32_MAX, &out->of.table, err);
    }
    case MN_WASM_EXTERN_MEMORY: {
        const mn__wasm_limits *l = &im->of.memory;
        return mn_wasm_memory_new(store, l->min, l->has_max ? l->max : UINT32_MAX,
                                  &out->of.memory, err);
    }
    default: {
        mn_wasm_val v = {.type = (mn_wasm_type)im->of.global.type};
        v.of.i64 = 0;
        return mn_wasm_global_new(store, v, im->of.global.mut, &out->of.global, err);
    }
    }
}

static void call_exports(mn_wasm_store *store, mn_wasm_instance *inst, const mn_wasm_module *m)
{
    static mn_wasm_val args[MN_WASM_FUNC_PARAMS_MAX], results[MN_WASM_FUNC_PARAMS_MAX];
    static mn_wasm_type types[MN_WASM_FUNC_PARAMS_MAX];
    for (uint32_t i = 0; i < mn_wasm_module_exports_count(m); i++) {
        const uint8_t *name;
        uint32_t name_len;
        mn_wasm_extern_kind kind;
        mn_wasm_module_export(m, i, &name, &name_len, &kind);
        mn_wasm_extern ex;
        mn_err err;
        if (kind != MN_WASM_EXTERN_FUNC ||
            mn_wasm_instance_export(inst, name, name_len, &ex, &err) != 0)
            continue;
        uint32_t np, nr;
        mn_wasm_func_type(ex.of.func, &np, &nr, types, NULL);
        for (uint32_t k = 0; k < np; k++) {
            args[k].type = types[k];
            args[k].of.i64 = 0;
        }
        mn_wasm_store_set_fuel(store, FUZZ_FUEL);
        (void)mn_wasm_func_call(store, ex.of.func, args, np, results, MN_WASM_FUNC_PARAMS_MAX,
                                &err);
        MN_ASSERT(mn_wasm_store_fuel(store) <= FUZZ_FUEL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_err err;
    mn_wasm_config cfg = {.metered = true, .canonical_nans = size & 1};
    mn_wasm_module *mod;
    if (mn_wasm_module_load(data, size, &cfg, &mod, &err) != 0)
        return 0;
    mn_wasm_limits limits = {.memory_pages_max = 16,
                             .table_elems_max = 10000,
                             .call_depth_max = 500,
                             .stack_slots_max = 1u << 16};
    mn_wasm_store *store;
    if (mn_wasm_store_new(&limits, &store, &err) != 0)
        abort();
    mn_wasm_store_set_fuel(store, FUZZ_FUEL);
    uint32_t n = mn_wasm_module_imports_count(mod);
    mn_wasm_extern *imports = calloc(n + 1, sizeof(*imports));
    int rc = imports ? 0 : -1;
    for (uint32_t i = 0; i < n && rc == 0; i++)
        rc = make_import(store, mod, i, &imports[i], &err);
    mn_wasm_instance *inst;
    if (rc == 0 && mn_wasm_instantiate(store, mod, imports, n, &inst, &err) == 0)
        call_exports(store, inst, mod);
    free(imports);
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
    return 0;
}
