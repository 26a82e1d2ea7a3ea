/* SPDX-License-Identifier: Apache-2.0
 *
 * instance.c: modules, stores and instances: the embedding API of wasm.h. A store owns every
 * object created in it (a flat list freed at mn_wasm_store_free), so instances can share
 * functions, tables, memories and globals freely. Instantiation follows WebAssembly 2.0: check
 * each import against its declared type (subtyping of limits), allocate, evaluate globals,
 * then apply active element and data segments in order (a failing segment traps and leaves
 * earlier writes in place), drop declarative segments, and run the start function. This file
 * does not resolve imports by name: the embedder passes the externs in import order.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { OBJ_FUNC, OBJ_TABLE, OBJ_MEMORY, OBJ_GLOBAL, OBJ_INSTANCE, OBJ_FUNCTYPE };

bool mn__wasm_functype_eq(const mn__wasm_functype *a, const mn__wasm_functype *b)
{
    return a->params_count == b->params_count && a->results_count == b->results_count &&
           memcmp(a->types, b->types, (size_t)a->params_count + a->results_count) == 0;
}

/* ---- modules --------------------------------------------------------------------------- */

void mn__wasm_module_release(mn_wasm_module *mod)
{
    for (uint32_t i = 0; mod->types && i < mod->types_count; i++)
        free(mod->types[i].types);
    free(mod->types);
    free(mod->imports);
    uint32_t defined = mod->funcs ? mod->funcs_count - mod->func_imports_count : 0;
    for (uint32_t i = 0; mod->funcs && i < defined; i++) {
        free(mod->funcs[i].local_types);
        free(mod->funcs[i].code);
    }
    free(mod->funcs);
    free(mod->func_type_index);
    free(mod->tables);
    free(mod->memories);
    free(mod->global_types);
    free(mod->globals);
    free(mod->exports);
    for (uint32_t i = 0; mod->elems && i < mod->elems_count; i++)
        free(mod->elems[i].inits);
    free(mod->elems);
    free(mod->datas);
    free(mod->func_declared);
    free(mod->bytes);
}

int mn_wasm_module_load(const uint8_t *bytes, size_t len, const mn_wasm_config *cfg,
                        mn_wasm_module **out, mn_err *err)
{
    if (len > MN_WASM_MODULE_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "module of %zu bytes exceeds the limit", len);
    mn_wasm_module *mod = calloc(1, sizeof(*mod));
    if (!mod || !(mod->bytes = malloc(len ? len : 1))) {
        free(mod);
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory loading module");
    }
    if (len)
        memcpy(mod->bytes, bytes, len);
    mod->len = len;
    if (cfg)
        mod->cfg = *cfg;
    int rc = mn__wasm_decode(mod, err);
    if (rc == 0)
        rc = mn__wasm_validate(mod, err);
    if (rc) {
        mn__wasm_module_release(mod);
        free(mod);
        return rc;
    }
    *out = mod;
    return 0;
}

void mn_wasm_module_free(mn_wasm_module *mod)
{
    if (!mod)
        return;
    mn__wasm_module_release(mod);
    free(mod);
}

uint32_t mn_wasm_module_imports_count(const mn_wasm_module *mod)
{
    return mod->imports_count;
}

void mn_wasm_module_import(const mn_wasm_module *mod, uint32_t index, const uint8_t **module,
                           uint32_t *module_len, const uint8_t **name, uint32_t *name_len,
                           mn_wasm_extern_kind *kind)
{
    MN_ASSERT(index < mod->imports_count);
    const mn__wasm_import *im = &mod->imports[index];
    *module = im->module.ptr;
    *module_len = im->module.len;
    *name = im->name.ptr;
    *name_len = im->name.len;
    *kind = (mn_wasm_extern_kind)im->kind;
}

uint32_t mn_wasm_module_exports_count(const mn_wasm_module *mod)
{
    return mod->exports_count;
}

void mn_wasm_module_export(const mn_wasm_module *mod, uint32_t index, const uint8_t **name,
                           uint32_t *name_len, mn_wasm_extern_kind *kind)
{
    MN_ASSERT(index < mod->exports_count);
    *name = mod->exports[index].name.ptr;
    *name_len = mod->exports[index].name.len;
    *kind = (mn_wasm_extern_kind)mod->exports[index].kind;
}

/* ---- stores ---------------------------------------------------------------------------- */

static uint32_t clamp(uint32_t v, uint32_t dflt, uint32_t hard)
{
    if (v == 0)
        return dflt;
    return v > hard ? hard : v;
}

int mn_wasm_store_new(const mn_wasm_limits *limits, mn_wasm_store **out, mn_err *err)
{
    mn_wasm_store *s = calloc(1, sizeof(*s));
    if (!s)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory creating store");
    mn_wasm_limits l = limits ? *limits : (mn_wasm_limits){0};
    s->limits.memory_pages_max =
        clamp(l.memory_pages_max, MN_WASM_PAGES_DEFAULT, MN_WASM_PAGES_HARD_MAX);
    s->limits.table_elems_max =
        clamp(l.table_elems_max, MN_WASM_TABLE_ELEMS_DEFAULT, MN_WASM_TABLE_ELEMS_HARD_MAX);
    s->limits.call_depth_max =
        clamp(l.call_depth_max, MN_WASM_CALL_DEPTH_DEFAULT, MN_WASM_CALL_DEPTH_HARD_MAX);
    s->limits.stack_slots_max =
        clamp(l.stack_slots_max, MN_WASM_STACK_SLOTS_DEFAULT, MN_WASM_STACK_SLOTS_HARD_MAX);
    if (s->limits.stack_slots_max < 2 * MN_WASM_FUNC_PARAMS_MAX)
        s->limits.stack_slots_max = 2 * MN_WASM_FUNC_PARAMS_MAX;
    s->fuel = (int64_t)MN_WASM_FUEL_DEFAULT;
    s->stack = malloc((size_t)s->limits.stack_slots_max * sizeof(uint64_t));
    s->frames = malloc((size_t)s->limits.call_depth_max * sizeof(mn__wasm_frame));
    s->host_args = malloc(2 * MN_WASM_FUNC_PARAMS_MAX * sizeof(mn_wasm_val));
    if (!s->stack || !s->frames || !s->host_args) {
        mn_wasm_store_free(s);
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory creating store");
    }
    *out = s;
    return 0;
}

static void free_obj(mn__wasm_obj *o)
{
    switch (o->kind) {
    case OBJ_TABLE:
        free(((mn_wasm_table *)o->ptr)->elems);
        break;
    case OBJ_MEMORY:
        free(((mn_wasm_memory *)o->ptr)->data);
        break;
    case OBJ_FUNCTYPE:
        free(((mn__wasm_functype *)o->ptr)->types);
        break;
    case OBJ_INSTANCE: {
        mn_wasm_instance *in = o->ptr;
        free(in->funcs);
        free(in->tables);
        free(in->memories);
        free(in->globals);
        free(in->exports);
        for (uint32_t i = 0; in->elem_refs && i < in->mod->elems_count; i++)
            free(in->elem_refs[i]);
        free(in->elem_refs);
        free(in->elem_sizes);
        free(in->data_sizes);
        free(in->own_funcs);
        break;
    }
    default:
        break;
    }
    free(o->ptr);
}

void mn_wasm_store_free(mn_wasm_store *store)
{
    if (!store)
        return;
    for (size_t i = store->objs_count; i > 0; i--)
        free_obj(&store->objs[i - 1]);
    free(store->objs);
    free(store->stack);
    free(store->frames);
    free(store->host_args);
    free(store);
}

void mn_wasm_store_set_fuel(mn_wasm_store *store, uint64_t fuel)
{
    store->fuel = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
}

uint64_t mn_wasm_store_fuel(const mn_wasm_store *store)
{
    return (uint64_t)store->fuel;
}

mn_wasm_trap mn_wasm_store_trap(const mn_wasm_store *store)
{
    return store->trap;
}

/* Allocates a zeroed object of `size` bytes owned by the store. */
static void *store_alloc(mn_wasm_store *s, size_t size, uint8_t kind, mn_err *err)
{
    if (s->objs_count == s->objs_cap) {
        size_t cap = s->objs_cap ? s->objs_cap * 2 : 32;
        mn__wasm_obj *objs = realloc(s->objs, cap * sizeof(*objs));
        if (!objs) {
            mn_err_set(err, MN_ENOMEM, 0, "out of memory in store");
            return NULL;
        }
        s->objs = objs;
        s->objs_cap = cap;
    }
    void *p = calloc(1, size);
    if (!p) {
        mn_err_set(err, MN_ENOMEM, 0, "out of memory in store");
        return NULL;
    }
    s->objs[s->objs_count++] = (mn__wasm_obj){p, kind};
    return p;
}

int mn_wasm_func_new_host(mn_wasm_store *store, const mn_wasm_functype *type,
                          mn_wasm_host_fn fn, void *ctx, mn_wasm_func **out, mn_err *err)
{
    if (type->params_count > MN_WASM_FUNC_PARAMS_MAX ||
        type->results_count > MN_WASM_FUNC_PARAMS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "host function type too large");
    mn__wasm_functype *ft = store_alloc(store, sizeof(*ft), OBJ_FUNCTYPE, err);
    if (!ft)
        return -MN_ENOMEM;
    ft->types = malloc((size_t)type->params_count + type->results_count + 1);
    if (!ft->types)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory in store");
    for (uint32_t i = 0; i < type->params_count; i++)
        ft->types[i] = (uint8_t)type->params[i];
    for (uint32_t i = 0; i < type->results_count; i++)
        ft->types[type->params_count + i] = (uint8_t)type->results[i];
    ft->params_count = type->params_count;
    ft->results_count = type->results_count;
    mn_wasm_func *f = store_alloc(store, sizeof(*f), OBJ_FUNC, err);
    if (!f)
        return -MN_ENOMEM;
    f->type = ft;
    f->host = fn;
    f->host_ctx = ctx;
    *out = f;
    return 0;
}

int mn_wasm_memory_new(mn_wasm_store *store, uint32_t min_pages, uint32_t max_pages,
                       mn_wasm_memory **out, mn_err *err)
{
    uint32_t cap = store->limits.memory_pages_max;
    if (min_pages > cap)
        return mn_err_set(err, MN_ELIMIT, 0, "memory of %u pages exceeds the limit of %u",
                          min_pages, cap);
    mn_wasm_memory *m = store_alloc(store, sizeof(*m), OBJ_MEMORY, err);
    if (!m)
        return -MN_ENOMEM;
    m->max = max_pages < cap ? max_pages : cap;
    m->declared_max = max_pages;
    m->has_max = max_pages != UINT32_MAX;
    m->pages = min_pages;
    m->bytes = (uint64_t)min_pages * MN__WASM_PAGE_BYTES;
    m->data = calloc(m->bytes ? m->bytes : 1, 1);
    if (!m->data)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory allocating %u pages", min_pages);
    *out = m;
    return 0;
}

int mn_wasm_table_new(mn_wasm_store *store, mn_wasm_type elem_type, uint32_t min_elems,
                      uint32_t max_elems, mn_wasm_table **out, mn_err *err)
{
    uint32_t cap = store->limits.table_elems_max;
    if (min_elems > cap)
        return mn_err_set(err, MN_ELIMIT, 0, "table of %u elements exceeds the limit of %u",
                          min_elems, cap);
    mn_wasm_table *t = store_alloc(store, sizeof(*t), OBJ_TABLE, err);
    if (!t)
        return -MN_ENOMEM;
    t->elem = (uint8_t)elem_type;
    t->max = max_elems < cap ? max_elems : cap;
    t->declared_max = max_elems;
    t->has_max = max_elems != UINT32_MAX;
    t->size = min_elems;
    t->elems = calloc(min_elems ? min_elems : 1, sizeof(uint64_t));
    if (!t->elems)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory allocating a table");
    *out = t;
    return 0;
}

int mn_wasm_global_new(mn_wasm_store *store, mn_wasm_val value, bool mutable_,
                       mn_wasm_global **out, mn_err *err)
{
    mn_wasm_global *g = store_alloc(store, sizeof(*g), OBJ_GLOBAL, err);
    if (!g)
        return -MN_ENOMEM;
    g->type = (uint8_t)value.type;
    g->mut = mutable_;
    g->val = (value.type == MN_WASM_I32 || value.type == MN_WASM_F32) ? value.of.i32
                                                                      : value.of.i64;
    *out = g;
    return 0;
}

int64_t mn__wasm_memory_grow(mn_wasm_memory *mem, uint32_t delta, int *fatal)
{
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    if ((uint64_t)old + delta > mem->max)
        return -1;
    uint64_t bytes = (uint64_t)(old + delta) * MN__WASM_PAGE_BYTES;
    uint8_t *data = realloc(mem->data, bytes);
    if (!data) {
        *fatal = 1;
        return -1;
    }
    memset(data + mem->bytes, 0, bytes - mem->bytes);
    mem->data = data;
    mem->bytes = bytes;
    mem->pages = old + delta;
    return old;
}

int64_t mn__wasm_table_grow(mn_wasm_table *table, uint32_t delta, uint64_t init, int *fatal)
{
    uint32_t old = table->size;
    if ((uint64_t)old + delta > table->max)
        return -1;
    if (delta == 0)
        return old;
    uint64_t *elems = realloc(table->elems, ((size_t)old + delta) * sizeof(uint64_t));
    if (!elems) {
        *fatal = 1;
        return -1;
    }
    for (uint32_t i = 0; i < delta; i++)
        elems[old + i] = init;
    table->elems = elems;
    table->size = old + delta;
    return old;
}

/* ---- instantiation --------------------------------------------------------------------- */

static bool limits_match(uint32_t min, uint32_t max, bool has_max, const mn__wasm_limits *want)
{
    if (min < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

static int incompatible(mn_err *err, uint32_t i)
{
    return mn_err_set(err, MN_EINVAL, 0, "incompatible import type (import %u)", i);
}

static int link_import(mn_wasm_instance *in, const mn__wasm_import *im, const mn_wasm_extern *ex,
                       uint32_t i, uint32_t counts[4], mn_err *err)
{
    const mn_wasm_module *mod = in->mod;
    if ((uint8_t)ex->kind != im->kind)
        return incompatible(err, i);
    switch (im->kind) {
    case MN_WASM_EXTERN_FUNC:
        if (!mn__wasm_functype_eq(ex->of.func->type, &mod->types[im->of.type_index]))
            return incompatible(err, i);
        in->funcs[counts[0]++] = ex->of.func;
        break;
    case MN_WASM_EXTERN_TABLE: {
        const mn_wasm_table *t = ex->of.table;
        if (t->elem != im->of.table.elem ||
            !limits_match(t->size, t->declared_max, t->has_max, &im->of.table.lim))
            return incompatible(err, i);
        in->tables[counts[1]++] = ex->of.table;
        break;
    }
    case MN_WASM_EXTERN_MEMORY: {
        const mn_wasm_memory *m = ex->of.memory;
        if (!limits_match(m->pages, m->declared_max, m->has_max, &im->of.memory))
            return incompatible(err, i);
        in->memories[counts[2]++] = ex->of.memory;
        break;
    }
    default:
        if (ex->of.global->type != im->of.global.type || ex->of.global->mut != im->of.global.mut)
            return incompatible(err, i);
        in->globals[counts[3]++] = ex->of.global;
        break;
    }
    return 0;
}

static uint64_t eval_const(const mn_wasm_instance *in, const mn__wasm_constexpr *ce)
{
    switch (ce->op) {
    case MN__WASM_CE_REF_NULL:
        return 0;
    case MN__WASM_CE_REF_FUNC:
        return (uint64_t)(uintptr_t)in->funcs[ce->index];
    case MN__WASM_CE_GLOBAL_GET:
        return in->globals[ce->index]->val;
    default:
        return ce->value;
    }
}

static int alloc_parts(mn_wasm_instance *in, mn_err *err)
{
    const mn_wasm_module *mod = in->mod;
    uint32_t defined = mod->funcs_count - mod->func_imports_count;
    in->funcs = calloc(mod->funcs_count + 1, sizeof(*in->funcs));
    in->tables = calloc(mod->tables_count + 1, sizeof(*in->tables));
    in->memories = calloc(mod->memories_count + 1, sizeof(*in->memories));
    in->globals = calloc(mod->globals_count + 1, sizeof(*in->globals));
    in->exports = calloc(mod->exports_count + 1, sizeof(*in->exports));
    in->elem_refs = calloc(mod->elems_count + 1, sizeof(*in->elem_refs));
    in->elem_sizes = calloc(mod->elems_count + 1, sizeof(*in->elem_sizes));
    in->data_sizes = calloc(mod->datas_count + 1, sizeof(*in->data_sizes));
    in->own_funcs = calloc(defined + 1, sizeof(*in->own_funcs));
    if (!in->funcs || !in->tables || !in->memories || !in->globals || !in->exports ||
        !in->elem_refs || !in->elem_sizes || !in->data_sizes || !in->own_funcs)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory instantiating");
    return 0;
}

static int define_objects(mn_wasm_store *s, mn_wasm_instance *in, mn_err *err)
{
    const mn_wasm_module *mod = in->mod;
    int rc;
    for (uint32_t i = mod->func_imports_count; i < mod->funcs_count; i++) {
        mn_wasm_func *f = &in->own_funcs[i - mod->func_imports_count];
        f->type = &mod->types[mod->func_type_index[i]];
        f->inst = in;
        f->def = &mod->funcs[i - mod->func_imports_count];
        in->funcs[i] = f;
    }
    for (uint32_t i = mod->table_imports_count; i < mod->tables_count; i++) {
        const mn__wasm_tabletype *tt = &mod->tables[i];
        if ((rc = mn_wasm_table_new(s, (mn_wasm_type)tt->elem, tt->lim.min,
                                    tt->lim.has_max ? tt->lim.max : UINT32_MAX, &in->tables[i],
                                    err)))
            return rc;
    }
    for (uint32_t i = mod->memory_imports_count; i < mod->memories_count; i++) {
        const mn__wasm_limits *l = &mod->memories[i];
        if ((rc = mn_wasm_memory_new(s, l->min, l->has_max ? l->max : UINT32_MAX,
                                     &in->memories[i], err)))
            return rc;
    }
    for (uint32_t i = mod->global_imports_count; i < mod->globals_count; i++) {
        const mn__wasm_global *g = &mod->globals[i - mod->global_imports_count];
        mn_wasm_val v = {.type = (mn_wasm_type)g->type.type};
        v.of.i64 = eval_const(in, &g->init);
        if ((rc = mn_wasm_global_new(s, v, g->type.mut, &in->globals[i], err)))
            return rc;
    }
    for (uint32_t i = 0; i < mod->exports_count; i++) {
        const mn__wasm_export *ex = &mod->exports[i];
        mn_wasm_extern *e = &in->exports[i];
        e->kind = (mn_wasm_extern_kind)ex->kind;
        if (ex->kind == MN_WASM_EXTERN_FUNC)
            e->of.func = in->funcs[ex->index];
        else if (ex->kind == MN_WASM_EXTERN_TABLE)
            e->of.table = in->tables[ex->index];
        else if (ex->kind == MN_WASM_EXTERN_MEMORY)
            e->of.memory = in->memories[ex->index];
        else
            e->of.global = in->globals[ex->index];
    }
    return 0;
}

static int eval_segments(mn_wasm_instance *in, mn_err *err)
{
    const mn_wasm_module *mod = in->mod;
    for (uint32_t i = 0; i < mod->elems_count; i++) {
        const mn__wasm_elem *el = &mod->elems[i];
        in->elem_refs[i] = calloc(el->inits_count + 1, sizeof(uint64_t));
        if (!in->elem_refs[i])
            return mn_err_set(err, MN_ENOMEM, 0, "out of memory instantiating");
        for (uint32_t k = 0; k < el->inits_count; k++)
            in->elem_refs[i][k] = eval_const(in, &el->inits[k]);
        in->elem_sizes[i] = el->inits_count;
    }
    for (uint32_t i = 0; i < mod->datas_count; i++)
        in->data_sizes[i] = mod->datas[i].len;
    return 0;
}

static int apply_segments(mn_wasm_store *s, mn_wasm_instance *in, mn_err *err)
{
    const mn_wasm_module *mod = in->mod;
    for (uint32_t i = 0; i < mod->elems_count; i++) {
        const mn__wasm_elem *el = &mod->elems[i];
        if (el->mode == MN__WASM_SEG_PASSIVE)
            continue;
        if (el->mode == MN__WASM_SEG_ACTIVE) {
            mn_wasm_table *t = in->tables[el->table_index];
            uint64_t off = (uint32_t)eval_const(in, &el->offset);
            if (off + el->inits_count > t->size)
                return mn__wasm_trap(s, MN_WASM_TRAP_TABLE_OOB, err);
            if (el->inits_count)
                memcpy(t->elems + off, in->elem_refs[i], el->inits_count * sizeof(uint64_t));
        }
        in->elem_sizes[i] = 0;
    }
    for (uint32_t i = 0; i < mod->datas_count; i++) {
        const mn__wasm_data *d = &mod->datas[i];
        if (d->mode != MN__WASM_SEG_ACTIVE)
            continue;
        mn_wasm_memory *m = in->memories[d->memory_index];
        uint64_t off = (uint32_t)eval_const(in, &d->offset);
        if (off + d->len > m->bytes)
            return mn__wasm_trap(s, MN_WASM_TRAP_MEMORY_OOB, err);
        if (d->len)
            memcpy(m->data + off, d->bytes, d->len);
        in->data_sizes[i] = 0;
    }
    return 0;
}

int mn_wasm_instantiate(mn_wasm_store *store, const mn_wasm_module *mod,
                        const mn_wasm_extern *imports, size_t imports_count,
                        mn_wasm_instance **out, mn_err *err)
{
    if (imports_count != mod->imports_count)
        return mn_err_set(err, MN_EINVAL, 0, "module needs %u imports, got %zu",
                          mod->imports_count, imports_count);
    mn_wasm_instance *in = store_alloc(store, sizeof(*in), OBJ_INSTANCE, err);
    if (!in)
        return -MN_ENOMEM;
    in->mod = mod;
    in->store = store;
    int rc = alloc_parts(in, err);
    if (rc)
        return rc;
    uint32_t counts[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < mod->imports_count; i++)
        if ((rc = link_import(in, &mod->imports[i], &imports[i], i, counts, err)))
            return rc;
    if ((rc = define_objects(store, in, err)) || (rc = eval_segments(in, err)) ||
        (rc = apply_segments(store, in, err)))
        return rc;
    if (mod->has_start) {
        mn_wasm_val none;
        if ((rc = mn_wasm_func_call(store, in->funcs[mod->start], NULL, 0, &none, 0, err)))
            return rc;
    }
    *out = in;
    return 0;
}

int mn_wasm_instance_export(const mn_wasm_instance *inst, const uint8_t *name, size_t name_len,
                            mn_wasm_extern *out, mn_err *err)
{
    const mn_wasm_module *mod = inst->mod;
    for (uint32_t i = 0; i < mod->exports_count; i++) {
        const mn__wasm_name *n = &mod->exports[i].name;
        if (n->len == name_len && memcmp(n->ptr, name, name_len) == 0) {
            *out = inst->exports[i];
            return 0;
        }
    }
    return mn_err_set(err, MN_ENOTFOUND, 0, "no export named \"%.*s\"", (int)name_len,
                      (const char *)name);
}

void mn_wasm_func_type(const mn_wasm_func *func, uint32_t *params_count,
                       uint32_t *results_count, mn_wasm_type *params, mn_wasm_type *results)
{
    const mn__wasm_functype *ft = func->type;
    *params_count = ft->params_count;
    *results_count = ft->results_count;
    for (uint32_t i = 0; params && i < ft->params_count; i++)
        params[i] = (mn_wasm_type)ft->types[i];
    for (uint32_t i = 0; results && i < ft->results_count; i++)
        results[i] = (mn_wasm_type)ft->types[ft->params_count + i];
}

static uint64_t val_slot(const mn_wasm_val *v)
{
    return (v->type == MN_WASM_I32 || v->type == MN_WASM_F32) ? v->of.i32 : v->of.i64;
}

int mn_wasm_func_call(mn_wasm_store *store, mn_wasm_func *func, const mn_wasm_val *args,
                      size_t args_count, mn_wasm_val *results, size_t results_cap, mn_err *err)
{
    const mn__wasm_functype *ft = func->type;
    if (store->running)
        return mn_err_set(err, MN_ESTATE, 0, "the store is already running (re-entrant call)");
    if (args_count != ft->params_count || results_cap < ft->results_count)
        return mn_err_set(err, MN_EINVAL, 0, "wrong number of arguments or results");
    for (uint32_t i = 0; i < ft->params_count; i++)
        if ((uint8_t)args[i].type != ft->types[i])
            return mn_err_set(err, MN_EINVAL, 0, "argument %u has the wrong type", i);
    store->trap = MN_WASM_TRAP_NONE;
    for (uint32_t i = 0; i < ft->params_count; i++)
        store->stack[i] = val_slot(&args[i]);
    int rc;
    if (func->host) {
        store->running = true;
        rc = 0;
        mn_err herr = {0};
        mn_wasm_val *in = store->host_args, *outv = store->host_args + MN_WASM_FUNC_PARAMS_MAX;
        if (args_count)
            memcpy(in, args, args_count * sizeof(*in));
        for (uint32_t i = 0; i < ft->results_count; i++)
            outv[i] = (mn_wasm_val){.type = (mn_wasm_type)ft->types[ft->params_count + i]};
        if (func->host(func->host_ctx, NULL, in, outv, &herr) != 0) {
            store->trap = MN_WASM_TRAP_HOST;
            rc = mn_err_set(err, MN_ETRAP, 0, "host function failed: %s", herr.msg);
        }
        for (uint32_t i = 0; rc == 0 && i < ft->results_count; i++)
            store->stack[i] = val_slot(&outv[i]);
        store->running = false;
    } else {
        rc = mn__wasm_exec(store, func, err);
    }
    if (rc)
        return rc;
    for (uint32_t i = 0; i < ft->results_count; i++) {
        results[i].type = (mn_wasm_type)ft->types[ft->params_count + i];
        results[i].of.i64 = store->stack[i];
    }
    return 0;
}

mn_wasm_val mn_wasm_global_get(const mn_wasm_global *global)
{
    mn_wasm_val v = {.type = (mn_wasm_type)global->type};
    v.of.i64 = global->val;
    return v;
}

mn_wasm_memory *mn_wasm_instance_memory(const mn_wasm_instance *inst)
{
    return inst->mod->memories_count ? inst->memories[0] : NULL;
}

uint8_t *mn_wasm_memory_data(const mn_wasm_memory *mem, uint64_t *len_bytes)
{
    *len_bytes = mem->bytes;
    return mem->data;
}

int mn_wasm_memory_read(const mn_wasm_memory *mem, uint64_t offset, void *out, size_t len,
                        mn_err *err)
{
    if (offset > mem->bytes || len > mem->bytes - offset)
        return mn_err_set(err, MN_EINVAL, 0, "guest memory read out of bounds");
    memcpy(out, mem->data + offset, len);
    return 0;
}

int mn_wasm_memory_write(mn_wasm_memory *mem, uint64_t offset, const void *data, size_t len,
                         mn_err *err)
{
    if (offset > mem->bytes || len > mem->bytes - offset)
        return mn_err_set(err, MN_EINVAL, 0, "guest memory write out of bounds");
    memcpy(mem->data + offset, data, len);
    return 0;
}
