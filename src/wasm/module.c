/* SPDX-License-Identifier: Apache-2.0
 *
 * module.c: the module-level validation rules of WebAssembly 2.0: type, table and memory
 * limits (at most one memory), import and export indices and unique export names, constant
 * expressions (which see only imported, immutable globals), element and data segments, the
 * start function, and the set C.refs of functions that `ref.func` may name in code. Function
 * bodies are checked afterwards by validate.c. Every failure is MN_EINVAL with the spec's
 * wording where it has one; nothing here allocates except the sorted copy of the exports.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int invalid_m(mn_err *err, const char *msg)
{
    return mn_err_set(err, MN_EINVAL, 0, "%s", msg);
}

/* Checks a constant expression of type `want`; globals_visible bounds global.get. */
static int check_const(const mn_wasm_module *mod, const mn__wasm_constexpr *ce, uint8_t want,
                       uint32_t globals_visible, mn_err *err)
{
    if (ce->values_count != 1)
        return invalid_m(err, "type mismatch");
    uint8_t t = ce->type;
    if (ce->op == MN__WASM_CE_REF_FUNC) {
        if (ce->index >= mod->funcs_count)
            return invalid_m(err, "unknown function");
        t = MN_WASM_FUNCREF;
    } else if (ce->op == MN__WASM_CE_GLOBAL_GET) {
        if (ce->index >= globals_visible)
            return invalid_m(err, "unknown global");
        if (mod->global_types[ce->index].mut)
            return invalid_m(err, "constant expression required");
        t = mod->global_types[ce->index].type;
    }
    if (t != want)
        return invalid_m(err, "type mismatch");
    return 0;
}

static int check_limits(const mn__wasm_limits *l, uint64_t bound, mn_err *err)
{
    if (l->min > bound)
        return invalid_m(err, bound == 65536 ? "memory size must be at most 65536 pages (4GiB)"
                                             : "table size");
    if (l->has_max && l->max > bound)
        return invalid_m(err, bound == 65536 ? "memory size must be at most 65536 pages (4GiB)"
                                             : "table size");
    if (l->has_max && l->max < l->min)
        return invalid_m(err, "size minimum must not be greater than maximum");
    return 0;
}

static void mark_declared(mn_wasm_module *mod, const mn__wasm_constexpr *ce)
{
    if (ce->op == MN__WASM_CE_REF_FUNC && ce->index < mod->funcs_count)
        mod->func_declared[ce->index] = true;
}

static int check_imports(mn_wasm_module *mod, mn_err *err)
{
    for (uint32_t i = 0; i < mod->imports_count; i++) {
        const mn__wasm_import *im = &mod->imports[i];
        int rc = 0;
        if (im->kind == MN_WASM_EXTERN_FUNC && im->of.type_index >= mod->types_count)
            return invalid_m(err, "unknown type");
        if (im->kind == MN_WASM_EXTERN_TABLE)
            rc = check_limits(&im->of.table.lim, UINT32_MAX, err);
        if (im->kind == MN_WASM_EXTERN_MEMORY)
            rc = check_limits(&im->of.memory, 65536, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int check_segments(mn_wasm_module *mod, mn_err *err)
{
    for (uint32_t i = 0; i < mod->elems_count; i++) {
        const mn__wasm_elem *el = &mod->elems[i];
        int rc;
        for (uint32_t k = 0; k < el->inits_count; k++)
            if ((rc = check_const(mod, &el->inits[k], el->type, mod->global_imports_count, err)))
                return rc;
        if (el->mode != MN__WASM_SEG_ACTIVE)
            continue;
        if (el->table_index >= mod->tables_count)
            return invalid_m(err, "unknown table");
        if (mod->tables[el->table_index].elem != el->type)
            return invalid_m(err, "type mismatch");
        if ((rc = check_const(mod, &el->offset, MN_WASM_I32, mod->global_imports_count, err)))
            return rc;
    }
    for (uint32_t i = 0; i < mod->datas_count; i++) {
        const mn__wasm_data *d = &mod->datas[i];
        if (d->mode != MN__WASM_SEG_ACTIVE)
            continue;
        if (d->memory_index >= mod->memories_count)
            return invalid_m(err, "unknown memory");
        int rc = check_const(mod, &d->offset, MN_WASM_I32, mod->global_imports_count, err);
        if (rc)
            return rc;
    }
    return 0;
}

static bool name_eq(mn__wasm_name a, mn__wasm_name b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int name_cmp(const void *a, const void *b)
{
    const mn__wasm_export *x = a, *y = b;
    uint32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int c = memcmp(x->name.ptr, y->name.ptr, n);
    if (c)
        return c;
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static int check_exports(mn_wasm_module *mod, mn_err *err)
{
    static const char *unknown[] = {"unknown function", "unknown table", "unknown memory",
                                    "unknown global"};
    for (uint32_t i = 0; i < mod->exports_count; i++) {
        const mn__wasm_export *ex = &mod->exports[i];
        uint32_t counts[4] = {mod->funcs_count, mod->tables_count, mod->memories_count,
                              mod->globals_count};
        if (ex->index >= counts[ex->kind])
            return invalid_m(err, unknown[ex->kind]);
        if (ex->kind == MN_WASM_EXTERN_FUNC)
            mod->func_declared[ex->index] = true;
    }
    if (mod->exports_count < 2)
        return 0;
    mn__wasm_export *sorted = malloc(mod->exports_count * sizeof(*sorted));
    if (!sorted)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory validating");
    memcpy(sorted, mod->exports, mod->exports_count * sizeof(*sorted));
    qsort(sorted, mod->exports_count, sizeof(*sorted), name_cmp);
    int rc = 0;
    for (uint32_t i = 1; i < mod->exports_count && rc == 0; i++)
        if (name_eq(sorted[i - 1].name, sorted[i].name))
            rc = invalid_m(err, "duplicate export name");
    free(sorted);
    return rc;
}

int mn__wasm_check_module(mn_wasm_module *mod, mn_err *err)
{
    int rc = check_imports(mod, err);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < mod->funcs_count; i++)
        if (mod->func_type_index[i] >= mod->types_count)
            return invalid_m(err, "unknown type");
    for (uint32_t i = mod->table_imports_count; i < mod->tables_count; i++)
        if ((rc = check_limits(&mod->tables[i].lim, UINT32_MAX, err)))
            return rc;
    for (uint32_t i = mod->memory_imports_count; i < mod->memories_count; i++)
        if ((rc = check_limits(&mod->memories[i], 65536, err)))
            return rc;
    if (mod->memories_count > 1)
        return invalid_m(err, "multiple memories");
    for (uint32_t i = 0; i < mod->globals_count - mod->global_imports_count; i++) {
        const mn__wasm_global *g = &mod->globals[i];
        /* Initialisers see only imported globals (WebAssembly 2.0). */
        if ((rc = check_const(mod, &g->init, g->type.type, mod->global_imports_count, err)))
            return rc;
        mark_declared(mod, &g->init);
    }
    for (uint32_t i = 0; i < mod->elems_count; i++)
        for (uint32_t k = 0; k < mod->elems[i].inits_count; k++)
            mark_declared(mod, &mod->elems[i].inits[k]);
    if ((rc = check_segments(mod, err)) || (rc = check_exports(mod, err)))
        return rc;
    if (mod->has_start) {
        if (mod->start >= mod->funcs_count)
            return invalid_m(err, "unknown function");
        const mn__wasm_functype *ft = &mod->types[mod->func_type_index[mod->start]];
        if (ft->params_count || ft->results_count)
            return invalid_m(err, "start function");
    }
    return 0;
}

