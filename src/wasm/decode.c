/* SPDX-License-Identifier: Apache-2.0
 *
 * decode.c: the binary decoder. It checks the header, walks the sections in the spec's order
 * (each at most once, custom sections anywhere), reads every vector with a count bounded by
 * limits.h and by the bytes that remain, checks that each section is consumed exactly, and
 * fills the mn_wasm_module tables. Function bodies are only delimited here and their locals
 * counted; their instructions are decoded by validate.c, which translates at the same time.
 * Malformed input is MN_ECORRUPT ("malformed" in the spec's terms); input outside the
 * supported feature set is MN_EUNSUPPORTED. Nothing here is type-checked: index and type
 * rules belong to the validator.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- reader ---------------------------------------------------------------------------- */

static int unexpected_end(mn_err *err)
{
    return mn_err_set(err, MN_ECORRUPT, 0, "unexpected end");
}

/* Every reader writes its out-parameter first, so callers never see an indeterminate value
 * (and gcc -O2 can tell). */
int mn__wasm_rd_u8(mn__wasm_rd *rd, uint8_t *out, mn_err *err)
{
    *out = 0;
    if (rd->p >= rd->end)
        return unexpected_end(err);
    *out = *rd->p++;
    return 0;
}

/* LEB128 of `bits` bits. The last byte's bits beyond the value must be zero (unsigned) or
 * copies of the sign bit (signed): anything else is "integer too large". */
static int rd_leb(mn__wasm_rd *rd, unsigned bits, bool is_signed, uint64_t *out, mn_err *err)
{
    unsigned max_bytes = (bits + 6) / 7;
    uint64_t v = 0;
    *out = 0;
    for (unsigned i = 0; i < max_bytes; i++) {
        if (rd->p >= rd->end)
            return unexpected_end(err);
        uint8_t b = *rd->p++;
        bool last = i + 1 == max_bytes;
        if (last) {
            unsigned used = bits - 7 * i; /* value bits in this byte, 1..7 */
            uint8_t mask = (uint8_t)((1u << used) - 1);
            if (b & 0x80)
                return mn_err_set(err, MN_ECORRUPT, 0, "integer representation too long");
            uint8_t ext = (uint8_t)(b & 0x7f & ~mask);
            uint8_t want = 0;
            if (is_signed && ((b >> (used - 1)) & 1))
                want = (uint8_t)(0x7f & ~mask);
            if (ext != want)
                return mn_err_set(err, MN_ECORRUPT, 0, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            unsigned n = 7 * (i + 1);
            if (is_signed && n < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << n;
            *out = v;
            return 0;
        }
    }
    MN_UNREACHABLE();
}

int mn__wasm_rd_u32(mn__wasm_rd *rd, uint32_t *out, mn_err *err)
{
    *out = 0;
    uint64_t v;
    int rc = rd_leb(rd, 32, false, &v, err);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

int mn__wasm_rd_s32(mn__wasm_rd *rd, int32_t *out, mn_err *err)
{
    *out = 0;
    uint64_t v;
    int rc = rd_leb(rd, 32, true, &v, err);
    if (rc == 0)
        *out = (int32_t)(uint32_t)v;
    return rc;
}

int mn__wasm_rd_s33(mn__wasm_rd *rd, int64_t *out, mn_err *err)
{
    *out = 0;
    uint64_t v;
    int rc = rd_leb(rd, 33, true, &v, err);
    if (rc == 0)
        *out = (int64_t)v;
    return rc;
}

int mn__wasm_rd_s64(mn__wasm_rd *rd, int64_t *out, mn_err *err)
{
    *out = 0;
    uint64_t v;
    int rc = rd_leb(rd, 64, true, &v, err);
    if (rc == 0)
        *out = (int64_t)v;
    return rc;
}

int mn__wasm_rd_bytes(mn__wasm_rd *rd, size_t n, const uint8_t **out, mn_err *err)
{
    *out = rd->p;
    if ((size_t)(rd->end - rd->p) < n)
        return unexpected_end(err);
    *out = rd->p;
    rd->p += n;
    return 0;
}

bool mn__wasm_is_valtype(uint8_t b)
{
    return b == MN_WASM_I32 || b == MN_WASM_I64 || b == MN_WASM_F32 || b == MN_WASM_F64 ||
           b == MN_WASM_FUNCREF || b == MN_WASM_EXTERNREF;
}

int mn__wasm_rd_valtype(mn__wasm_rd *rd, uint8_t *out, mn_err *err)
{
    uint8_t b;
    *out = 0;
    int rc = mn__wasm_rd_u8(rd, &b, err);
    if (rc)
        return rc;
    if (b == 0x7b)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "SIMD (v128) is not supported");
    if (!mn__wasm_is_valtype(b))
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed value type 0x%02x", b);
    *out = b;
    return 0;
}

/* ---- helpers --------------------------------------------------------------------------- */

/* Reads a vector count and checks it against the limit and against the bytes left (each
 * entry takes at least min_entry_bytes), so a huge count cannot drive a huge allocation. */
static int rd_count(mn__wasm_rd *rd, size_t min_entry_bytes, uint32_t *out, mn_err *err)
{
    uint32_t n;
    int rc = mn__wasm_rd_u32(rd, &n, err);
    if (rc)
        return rc;
    if (n > MN_WASM_VECTOR_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "vector of %u entries exceeds the limit", n);
    if ((uint64_t)n * min_entry_bytes > (uint64_t)(rd->end - rd->p))
        return unexpected_end(err);
    *out = n;
    return 0;
}

static void *alloc_array(size_t n, size_t size)
{
    return calloc(n ? n : 1, size);
}

static int no_memory(mn_err *err)
{
    return mn_err_set(err, MN_ENOMEM, 0, "out of memory decoding module");
}

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const uint8_t *s, uint32_t len)
{
    uint32_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint32_t n, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (uint32_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
            return false;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static int rd_name(mn__wasm_rd *rd, mn__wasm_name *out, mn_err *err)
{
    uint32_t len;
    const uint8_t *p;
    int rc = mn__wasm_rd_u32(rd, &len, err);
    if (rc == 0)
        rc = mn__wasm_rd_bytes(rd, len, &p, err);
    if (rc)
        return rc;
    if (!utf8_valid(p, len))
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed UTF-8 encoding");
    out->ptr = p;
    out->len = len;
    return 0;
}

static int rd_reftype(mn__wasm_rd *rd, uint8_t *out, mn_err *err)
{
    uint8_t b;
    int rc = mn__wasm_rd_u8(rd, &b, err);
    if (rc)
        return rc;
    if (!mn__wasm_is_ref(b))
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed reference type");
    *out = b;
    return 0;
}

static int rd_limits(mn__wasm_rd *rd, mn__wasm_limits *out, mn_err *err)
{
    uint8_t flag;
    int rc = mn__wasm_rd_u8(rd, &flag, err);
    if (rc)
        return rc;
    if (flag > 1)
        return mn_err_set(err, MN_ECORRUPT, 0, "integer too large (limits flag 0x%02x)", flag);
    out->has_max = flag == 1;
    out->max = UINT32_MAX;
    rc = mn__wasm_rd_u32(rd, &out->min, err);
    if (rc == 0 && out->has_max)
        rc = mn__wasm_rd_u32(rd, &out->max, err);
    return rc;
}

static int rd_tabletype(mn__wasm_rd *rd, mn__wasm_tabletype *out, mn_err *err)
{
    int rc = rd_reftype(rd, &out->elem, err);
    return rc ? rc : rd_limits(rd, &out->lim, err);
}

static int rd_globaltype(mn__wasm_rd *rd, mn__wasm_globaltype *out, mn_err *err)
{
    uint8_t mut;
    int rc = mn__wasm_rd_valtype(rd, &out->type, err);
    if (rc == 0)
        rc = mn__wasm_rd_u8(rd, &mut, err);
    if (rc)
        return rc;
    if (mut > 1)
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed mutability");
    out->mut = mut == 1;
    return 0;
}

/* A constant expression: constant instructions up to `end`. Any other instruction is
 * "constant expression required" (a validation error, reported here because the decoder cannot
 * skip an instruction it does not know the immediates of). */
static int rd_constexpr(mn__wasm_rd *rd, mn__wasm_constexpr *ce, mn_err *err)
{
    memset(ce, 0, sizeof(*ce));
    for (uint32_t steps = 0;; steps++) {
        uint8_t op;
        int rc = mn__wasm_rd_u8(rd, &op, err);
        if (rc)
            return rc;
        if (op == 0x0b)
            return 0;
        if (steps >= 16)
            return mn_err_set(err, MN_EINVAL, 0, "constant expression required");
        ce->values_count++;
        switch (op) {
        case 0x41: {
            int32_t v;
            rc = mn__wasm_rd_s32(rd, &v, err);
            ce->op = MN__WASM_CE_CONST, ce->type = MN_WASM_I32, ce->value = (uint32_t)v;
            break;
        }
        case 0x42: {
            int64_t v;
            rc = mn__wasm_rd_s64(rd, &v, err);
            ce->op = MN__WASM_CE_CONST, ce->type = MN_WASM_I64, ce->value = (uint64_t)v;
            break;
        }
        case 0x43:
        case 0x44: {
            const uint8_t *p;
            size_t n = op == 0x43 ? 4 : 8;
            rc = mn__wasm_rd_bytes(rd, n, &p, err);
            if (rc)
                return rc;
            ce->op = MN__WASM_CE_CONST;
            ce->type = op == 0x43 ? MN_WASM_F32 : MN_WASM_F64;
            ce->value = 0;
            memcpy(&ce->value, p, n);
            break;
        }
        case 0xd0:
            ce->op = MN__WASM_CE_REF_NULL;
            rc = rd_reftype(rd, &ce->type, err);
            break;
        case 0xd2:
            ce->op = MN__WASM_CE_REF_FUNC;
            rc = mn__wasm_rd_u32(rd, &ce->index, err);
            break;
        case 0x23:
            ce->op = MN__WASM_CE_GLOBAL_GET;
            rc = mn__wasm_rd_u32(rd, &ce->index, err);
            break;
        default:
            /* An instruction that exists but is not constant makes the module invalid; a byte
             * that is no instruction at all makes it malformed. */
            if (op <= 0x05 || (op >= 0x0b && op <= 0x11) || (op >= 0x1a && op <= 0x1c) ||
                (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xc4) || op == 0xd1 ||
                op == 0xfc)
                return mn_err_set(err, MN_EINVAL, 0, "constant expression required");
            return mn_err_set(err, MN_ECORRUPT, 0, "illegal opcode 0x%02x", op);
        }
        if (rc)
            return rc;
    }
}

/* ---- sections -------------------------------------------------------------------------- */

static int sec_types(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    int rc = rd_count(rd, 3, &mod->types_count, err);
    if (rc)
        return rc;
    mod->types = alloc_array(mod->types_count, sizeof(*mod->types));
    if (!mod->types)
        return no_memory(err);
    for (uint32_t i = 0; i < mod->types_count; i++) {
        mn__wasm_functype *ft = &mod->types[i];
        uint8_t form;
        uint32_t np, nr;
        if ((rc = mn__wasm_rd_u8(rd, &form, err)))
            return rc;
        if (form != 0x60)
            return mn_err_set(err, MN_ECORRUPT, 0, "integer representation too long (type form)");
        if ((rc = rd_count(rd, 1, &np, err)))
            return rc;
        if (np > MN_WASM_FUNC_PARAMS_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "too many parameters");
        uint8_t tmp[2 * MN_WASM_FUNC_PARAMS_MAX];
        for (uint32_t k = 0; k < np; k++)
            if ((rc = mn__wasm_rd_valtype(rd, &tmp[k], err)))
                return rc;
        if ((rc = rd_count(rd, 1, &nr, err)))
            return rc;
        if (nr > MN_WASM_FUNC_PARAMS_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "too many results");
        for (uint32_t k = 0; k < nr; k++)
            if ((rc = mn__wasm_rd_valtype(rd, &tmp[np + k], err)))
                return rc;
        ft->types = alloc_array((size_t)np + nr, 1);
        if (!ft->types)
            return no_memory(err);
        memcpy(ft->types, tmp, (size_t)np + nr);
        ft->params_count = np;
        ft->results_count = nr;
    }
    return 0;
}

static int sec_imports(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    int rc = rd_count(rd, 4, &mod->imports_count, err);
    if (rc)
        return rc;
    mod->imports = alloc_array(mod->imports_count, sizeof(*mod->imports));
    if (!mod->imports)
        return no_memory(err);
    for (uint32_t i = 0; i < mod->imports_count; i++) {
        mn__wasm_import *im = &mod->imports[i];
        if ((rc = rd_name(rd, &im->module, err)) || (rc = rd_name(rd, &im->name, err)) ||
            (rc = mn__wasm_rd_u8(rd, &im->kind, err)))
            return rc;
        switch (im->kind) {
        case MN_WASM_EXTERN_FUNC:
            rc = mn__wasm_rd_u32(rd, &im->of.type_index, err);
            mod->func_imports_count++;
            break;
        case MN_WASM_EXTERN_TABLE:
            rc = rd_tabletype(rd, &im->of.table, err);
            mod->table_imports_count++;
            break;
        case MN_WASM_EXTERN_MEMORY:
            rc = rd_limits(rd, &im->of.memory, err);
            mod->memory_imports_count++;
            break;
        case MN_WASM_EXTERN_GLOBAL:
            rc = rd_globaltype(rd, &im->of.global, err);
            mod->global_imports_count++;
            break;
        default:
            return mn_err_set(err, MN_ECORRUPT, 0, "malformed import kind");
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int sec_functions(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    uint32_t n;
    int rc = rd_count(rd, 1, &n, err);
    if (rc)
        return rc;
    mod->funcs_count = mod->func_imports_count + n;
    mod->funcs = alloc_array(n, sizeof(*mod->funcs));
    if (!mod->funcs)
        return no_memory(err);
    for (uint32_t i = 0; i < n; i++)
        if ((rc = mn__wasm_rd_u32(rd, &mod->funcs[i].type_index, err)))
            return rc;
    return 0;
}

static int sec_tables(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    uint32_t n;
    int rc = rd_count(rd, 3, &n, err);
    if (rc)
        return rc;
    mod->tables_count = mod->table_imports_count + n;
    mod->tables = alloc_array(mod->tables_count, sizeof(*mod->tables));
    if (!mod->tables)
        return no_memory(err);
    for (uint32_t i = 0; i < n; i++)
        if ((rc = rd_tabletype(rd, &mod->tables[mod->table_imports_count + i], err)))
            return rc;
    return 0;
}

static int sec_memories(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    uint32_t n;
    int rc = rd_count(rd, 2, &n, err);
    if (rc)
        return rc;
    mod->memories_count = mod->memory_imports_count + n;
    mod->memories = alloc_array(mod->memories_count, sizeof(*mod->memories));
    if (!mod->memories)
        return no_memory(err);
    for (uint32_t i = 0; i < n; i++)
        if ((rc = rd_limits(rd, &mod->memories[mod->memory_imports_count + i], err)))
            return rc;
    return 0;
}

static int sec_globals(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    uint32_t n;
    int rc = rd_count(rd, 3, &n, err);
    if (rc)
        return rc;
    mod->globals_count = mod->global_imports_count + n;
    mod->globals = alloc_array(n, sizeof(*mod->globals));
    mod->global_types = alloc_array(mod->globals_count, sizeof(*mod->global_types));
    if (!mod->globals || !mod->global_types)
        return no_memory(err);
    for (uint32_t i = 0; i < n; i++) {
        mn__wasm_global *g = &mod->globals[i];
        if ((rc = rd_globaltype(rd, &g->type, err)) || (rc = rd_constexpr(rd, &g->init, err)))
            return rc;
        mod->global_types[mod->global_imports_count + i] = g->type;
    }
    return 0;
}

static int sec_exports(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    int rc = rd_count(rd, 3, &mod->exports_count, err);
    if (rc)
        return rc;
    mod->exports = alloc_array(mod->exports_count, sizeof(*mod->exports));
    if (!mod->exports)
        return no_memory(err);
    for (uint32_t i = 0; i < mod->exports_count; i++) {
        mn__wasm_export *ex = &mod->exports[i];
        if ((rc = rd_name(rd, &ex->name, err)) || (rc = mn__wasm_rd_u8(rd, &ex->kind, err)) ||
            (rc = mn__wasm_rd_u32(rd, &ex->index, err)))
            return rc;
        if (ex->kind > MN_WASM_EXTERN_GLOBAL)
            return mn_err_set(err, MN_ECORRUPT, 0, "malformed export kind");
    }
    return 0;
}

static int elem_func_indices(mn__wasm_rd *rd, mn__wasm_elem *el, mn_err *err)
{
    int rc = rd_count(rd, 1, &el->inits_count, err);
    if (rc)
        return rc;
    el->inits = alloc_array(el->inits_count, sizeof(*el->inits));
    if (!el->inits)
        return no_memory(err);
    for (uint32_t k = 0; k < el->inits_count; k++) {
        el->inits[k].op = MN__WASM_CE_REF_FUNC;
        el->inits[k].values_count = 1;
        if ((rc = mn__wasm_rd_u32(rd, &el->inits[k].index, err)))
            return rc;
    }
    return 0;
}

static int elem_exprs(mn__wasm_rd *rd, mn__wasm_elem *el, mn_err *err)
{
    int rc = rd_count(rd, 2, &el->inits_count, err);
    if (rc)
        return rc;
    el->inits = alloc_array(el->inits_count, sizeof(*el->inits));
    if (!el->inits)
        return no_memory(err);
    for (uint32_t k = 0; k < el->inits_count; k++)
        if ((rc = rd_constexpr(rd, &el->inits[k], err)))
            return rc;
    return 0;
}

static int elem_one(mn__wasm_rd *rd, mn__wasm_elem *el, mn_err *err)
{
    uint32_t flags;
    int rc = mn__wasm_rd_u32(rd, &flags, err);
    if (rc)
        return rc;
    if (flags > 7)
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed elements segment kind");
    el->type = MN_WASM_FUNCREF;
    el->mode = (flags & 1) ? ((flags & 2) ? MN__WASM_SEG_DECLARATIVE : MN__WASM_SEG_PASSIVE)
                           : MN__WASM_SEG_ACTIVE;
    if (el->mode == MN__WASM_SEG_ACTIVE) {
        if ((flags & 2) && (rc = mn__wasm_rd_u32(rd, &el->table_index, err)))
            return rc;
        if ((rc = rd_constexpr(rd, &el->offset, err)))
            return rc;
    }
    bool exprs = flags & 4;
    if (flags & 3) { /* explicit element kind or reference type */
        if (exprs) {
            rc = rd_reftype(rd, &el->type, err);
        } else {
            uint8_t kind;
            rc = mn__wasm_rd_u8(rd, &kind, err);
            if (rc == 0 && kind != 0)
                return mn_err_set(err, MN_ECORRUPT, 0, "malformed element kind");
        }
        if (rc)
            return rc;
    }
    return exprs ? elem_exprs(rd, el, err) : elem_func_indices(rd, el, err);
}

static int sec_elems(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    int rc = rd_count(rd, 2, &mod->elems_count, err);
    if (rc)
        return rc;
    mod->elems = alloc_array(mod->elems_count, sizeof(*mod->elems));
    if (!mod->elems)
        return no_memory(err);
    for (uint32_t i = 0; i < mod->elems_count; i++)
        if ((rc = elem_one(rd, &mod->elems[i], err)))
            return rc;
    return 0;
}

static int code_one(mn_wasm_module *mod, mn__wasm_funcdef *fd, mn__wasm_rd *rd, mn_err *err)
{
    uint32_t size;
    const uint8_t *body;
    int rc = mn__wasm_rd_u32(rd, &size, err);
    if (rc == 0)
        rc = mn__wasm_rd_bytes(rd, size, &body, err);
    if (rc)
        return rc;
    mn__wasm_rd b = {body, body + size};
    uint32_t groups;
    if ((rc = mn__wasm_rd_u32(&b, &groups, err)))
        return rc;
    if (fd->type_index >= mod->types_count)
        return mn_err_set(err, MN_EINVAL, 0, "unknown type %u", fd->type_index);
    uint32_t params = mod->types[fd->type_index].params_count;
    /* First pass: count locals in 64 bits so a huge sum is "too many locals", not a wrap. */
    mn__wasm_rd scan = b;
    uint64_t total = 0;
    for (uint32_t g = 0; g < groups; g++) {
        uint32_t n;
        uint8_t t;
        if ((rc = mn__wasm_rd_u32(&scan, &n, err)) || (rc = mn__wasm_rd_valtype(&scan, &t, err)))
            return rc;
        total += n;
        if (total + params > MN_WASM_FUNC_LOCALS_MAX)
            return mn_err_set(err, MN_ECORRUPT, 0, "too many locals");
    }
    fd->locals_count = (uint32_t)total;
    fd->local_types = alloc_array((size_t)params + total, 1);
    if (!fd->local_types)
        return no_memory(err);
    memcpy(fd->local_types, mod->types[fd->type_index].types, params);
    uint32_t at = params;
    for (uint32_t g = 0; g < groups; g++) {
        uint32_t n;
        uint8_t t;
        (void)mn__wasm_rd_u32(&b, &n, err);
        (void)mn__wasm_rd_valtype(&b, &t, err);
        memset(fd->local_types + at, t, n);
        at += n;
    }
    fd->body = b.p;
    fd->body_end = b.end;
    return 0;
}

static int sec_code(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    int rc = rd_count(rd, 1, &mod->code_count, err);
    if (rc)
        return rc;
    uint32_t defined = mod->funcs ? mod->funcs_count - mod->func_imports_count : 0;
    if (mod->code_count != defined)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < mod->code_count; i++)
        if ((rc = code_one(mod, &mod->funcs[i], rd, err)))
            return rc;
    return 0;
}

static int data_one(mn__wasm_rd *rd, mn__wasm_data *d, mn_err *err)
{
    uint32_t flags;
    int rc = mn__wasm_rd_u32(rd, &flags, err);
    if (rc)
        return rc;
    if (flags > 2)
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed data segment kind");
    d->mode = flags == 1 ? MN__WASM_SEG_PASSIVE : MN__WASM_SEG_ACTIVE;
    if (flags == 2 && (rc = mn__wasm_rd_u32(rd, &d->memory_index, err)))
        return rc;
    if (flags != 1 && (rc = rd_constexpr(rd, &d->offset, err)))
        return rc;
    if ((rc = mn__wasm_rd_u32(rd, &d->len, err)))
        return rc;
    return mn__wasm_rd_bytes(rd, d->len, &d->bytes, err);
}

static int sec_data(mn_wasm_module *mod, mn__wasm_rd *rd, mn_err *err)
{
    int rc = rd_count(rd, 1, &mod->datas_count, err);
    if (rc)
        return rc;
    if (mod->has_data_count && mod->data_count != mod->datas_count)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "data count and data section have inconsistent lengths");
    mod->datas = alloc_array(mod->datas_count, sizeof(*mod->datas));
    if (!mod->datas)
        return no_memory(err);
    for (uint32_t i = 0; i < mod->datas_count; i++)
        if ((rc = data_one(rd, &mod->datas[i], err)))
            return rc;
    return 0;
}

static int sec_custom(mn__wasm_rd *rd, mn_err *err)
{
    mn__wasm_name name;
    int rc = rd_name(rd, &name, err);
    if (rc == 0)
        rd->p = rd->end; /* contents are ignored (the name section is not used yet) */
    return rc;
}

static int section(mn_wasm_module *mod, uint8_t id, mn__wasm_rd *rd, mn_err *err)
{
    switch (id) {
    case 0:
        return sec_custom(rd, err);
    case 1:
        return sec_types(mod, rd, err);
    case 2:
        return sec_imports(mod, rd, err);
    case 3:
        return sec_functions(mod, rd, err);
    case 4:
        return sec_tables(mod, rd, err);
    case 5:
        return sec_memories(mod, rd, err);
    case 6:
        return sec_globals(mod, rd, err);
    case 7:
        return sec_exports(mod, rd, err);
    case 8:
        mod->has_start = true;
        return mn__wasm_rd_u32(rd, &mod->start, err);
    case 9:
        return sec_elems(mod, rd, err);
    case 10:
        return sec_code(mod, rd, err);
    case 11:
        return sec_data(mod, rd, err);
    case 12:
        mod->has_data_count = true;
        return mn__wasm_rd_u32(rd, &mod->data_count, err);
    default:
        return mn_err_set(err, MN_ECORRUPT, 0, "malformed section id %u", id);
    }
}

/* Position of each section id in the required order (data count comes before code). */
static int section_rank(uint8_t id)
{
    static const int rank[13] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};
    return id < 13 ? rank[id] : -1;
}

/* Index spaces that no section filled still need their (import-only) arrays. */
static int finish_spaces(mn_wasm_module *mod, mn_err *err)
{
    if (!mod->funcs) {
        mod->funcs_count = mod->func_imports_count;
        mod->funcs = alloc_array(0, sizeof(*mod->funcs));
    }
    if (!mod->tables) {
        mod->tables_count = mod->table_imports_count;
        mod->tables = alloc_array(mod->tables_count, sizeof(*mod->tables));
    }
    if (!mod->memories) {
        mod->memories_count = mod->memory_imports_count;
        mod->memories = alloc_array(mod->memories_count, sizeof(*mod->memories));
    }
    if (!mod->global_types) {
        mod->globals_count = mod->global_imports_count;
        mod->global_types = alloc_array(mod->globals_count, sizeof(*mod->global_types));
        mod->globals = alloc_array(0, sizeof(*mod->globals));
    }
    mod->func_type_index = alloc_array(mod->funcs_count, sizeof(uint32_t));
    mod->func_declared = alloc_array(mod->funcs_count, sizeof(bool));
    if (!mod->funcs || !mod->tables || !mod->memories || !mod->global_types || !mod->globals ||
        !mod->func_type_index || !mod->func_declared)
        return no_memory(err);
    uint32_t f = 0, t = 0, m = 0, g = 0;
    for (uint32_t i = 0; i < mod->imports_count; i++) {
        const mn__wasm_import *im = &mod->imports[i];
        if (im->kind == MN_WASM_EXTERN_FUNC)
            mod->func_type_index[f++] = im->of.type_index;
        else if (im->kind == MN_WASM_EXTERN_TABLE)
            mod->tables[t++] = im->of.table;
        else if (im->kind == MN_WASM_EXTERN_MEMORY)
            mod->memories[m++] = im->of.memory;
        else
            mod->global_types[g++] = im->of.global;
    }
    for (uint32_t i = mod->func_imports_count; i < mod->funcs_count; i++)
        mod->func_type_index[i] = mod->funcs[i - mod->func_imports_count].type_index;
    return 0;
}

int mn__wasm_decode(mn_wasm_module *mod, mn_err *err)
{
    mn__wasm_rd rd = {mod->bytes, mod->bytes + mod->len};
    const uint8_t *hdr;
    if (mn__wasm_rd_bytes(&rd, 4, &hdr, err) || memcmp(hdr, "\0asm", 4) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "magic header not detected");
    if (mn__wasm_rd_bytes(&rd, 4, &hdr, err) || memcmp(hdr, "\1\0\0\0", 4) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown binary version");
    int last_rank = 0;
    while (rd.p < rd.end) {
        uint8_t id;
        uint32_t size;
        const uint8_t *body;
        int rc = mn__wasm_rd_u8(&rd, &id, err);
        if (rc == 0)
            rc = mn__wasm_rd_u32(&rd, &size, err);
        if (rc)
            return rc;
        if (section_rank(id) < 0)
            return mn_err_set(err, MN_ECORRUPT, 0, "malformed section id %u", id);
        if (id != 0) {
            if (section_rank(id) <= last_rank)
                return mn_err_set(err, MN_ECORRUPT, 0, "unexpected content after last section");
            last_rank = section_rank(id);
        }
        if ((rc = mn__wasm_rd_bytes(&rd, size, &body, err)))
            return mn_err_set(err, MN_ECORRUPT, 0, "length out of bounds (section size)");
        mn__wasm_rd sec = {body, body + size};
        if ((rc = section(mod, id, &sec, err)))
            return rc;
        if (sec.p != sec.end)
            return mn_err_set(err, MN_ECORRUPT, 0, "section size mismatch");
    }
    int rc = finish_spaces(mod, err);
    if (rc)
        return rc;
    if (mod->code_count != mod->funcs_count - mod->func_imports_count)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "function and code section have inconsistent lengths");
    if (mod->has_data_count && mod->data_count != mod->datas_count)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "data count and data section have inconsistent lengths");
    return 0;
}
