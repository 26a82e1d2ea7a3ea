/* SPDX-License-Identifier: Apache-2.0
 *
 * internal.h: data structures shared by the stages of the WASM engine: the decoded module
 * (decode.c), the validator that drives the translator (validate.c, compile.c), the runtime
 * objects of a store (instance.c) and the interpreter (exec.c). It also holds the bounded byte
 * reader every stage uses: each read checks the end pointer, LEB128 follows the spec's exact
 * rules (no overlong or over-range encodings). Nothing here is public API; see wasm.h.
 */
#ifndef MN_WASM_INTERNAL_H
#define MN_WASM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/assert.h"
#include "metanode/error.h"
#include "metanode/limits.h"
#include "metanode/wasm.h"

MN_STATIC_ASSERT(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__); /* memory is accessed natively */

#define MN__WASM_PAGE_BYTES 65536u

/* ---- bounded reader ------------------------------------------------------------------ */

typedef struct mn__wasm_rd {
    const uint8_t *p;
    const uint8_t *end;
} mn__wasm_rd;

int mn__wasm_rd_u8(mn__wasm_rd *rd, uint8_t *out, mn_err *err);
int mn__wasm_rd_u32(mn__wasm_rd *rd, uint32_t *out, mn_err *err);
int mn__wasm_rd_s32(mn__wasm_rd *rd, int32_t *out, mn_err *err);
int mn__wasm_rd_s33(mn__wasm_rd *rd, int64_t *out, mn_err *err);
int mn__wasm_rd_s64(mn__wasm_rd *rd, int64_t *out, mn_err *err);
int mn__wasm_rd_bytes(mn__wasm_rd *rd, size_t n, const uint8_t **out, mn_err *err);
/* Reads a value type byte (MN_ECORRUPT "malformed value type" otherwise). */
int mn__wasm_rd_valtype(mn__wasm_rd *rd, uint8_t *out, mn_err *err);
bool mn__wasm_is_valtype(uint8_t b);
static inline bool mn__wasm_is_ref(uint8_t t)
{
    return t == MN_WASM_FUNCREF || t == MN_WASM_EXTERNREF;
}

/* ---- module ---------------------------------------------------------------------------- */

typedef struct mn__wasm_name {
    const uint8_t *ptr;
    uint32_t len;
} mn__wasm_name;

typedef struct mn__wasm_functype {
    uint32_t params_count;
    uint32_t results_count;
    uint8_t *types; /* params then results */
} mn__wasm_functype;

typedef struct mn__wasm_limits {
    uint32_t min;
    uint32_t max;
    bool has_max;
} mn__wasm_limits;

typedef struct mn__wasm_tabletype {
    uint8_t elem;
    mn__wasm_limits lim;
} mn__wasm_tabletype;

typedef struct mn__wasm_globaltype {
    uint8_t type;
    bool mut;
} mn__wasm_globaltype;

/* A constant expression. Only single-instruction forms exist in WebAssembly 2.0; an empty or
 * longer expression is recorded (values_count != 1) and rejected by the validator. */
typedef enum mn__wasm_ce_op {
    MN__WASM_CE_CONST, /* value has the bits, type the value type */
    MN__WASM_CE_REF_NULL,
    MN__WASM_CE_REF_FUNC,
    MN__WASM_CE_GLOBAL_GET,
} mn__wasm_ce_op;

typedef struct mn__wasm_constexpr {
    uint8_t op;
    uint8_t type;         /* for CONST and REF_NULL */
    uint32_t values_count; /* values the expression leaves on the stack */
    uint32_t index;       /* function or global index */
    uint64_t value;
} mn__wasm_constexpr;

typedef struct mn__wasm_import {
    mn__wasm_name module;
    mn__wasm_name name;
    uint8_t kind; /* mn_wasm_extern_kind */
    union {
        uint32_t type_index;
        mn__wasm_tabletype table;
        mn__wasm_limits memory;
        mn__wasm_globaltype global;
    } of;
} mn__wasm_import;

/* One 8-byte cell of translated code: an operation (label address, direct threading) or an
 * immediate. */
typedef union mn__wasm_cell {
    const void *op;
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    uint16_t s[4]; /* frame slots an operation reads and writes */
} mn__wasm_cell;

typedef struct mn__wasm_funcdef {
    uint32_t type_index;
    const uint8_t *body; /* after the locals declarations */
    const uint8_t *body_end;
    uint32_t locals_count; /* declared locals, not counting parameters */
    uint8_t *local_types;  /* params_count + locals_count entries */
    /* Filled by the translator. */
    mn__wasm_cell *code;
    uint32_t code_cells;
    uint32_t frame_slots; /* params + locals + highest operand stack */
    uint64_t entry_fuel;  /* cost of the first segment when the code starts with FUEL */
} mn__wasm_funcdef;

typedef struct mn__wasm_global {
    mn__wasm_globaltype type;
    mn__wasm_constexpr init;
} mn__wasm_global;

typedef struct mn__wasm_export {
    mn__wasm_name name;
    uint8_t kind;
    uint32_t index;
} mn__wasm_export;

typedef enum mn__wasm_seg_mode {
    MN__WASM_SEG_ACTIVE,
    MN__WASM_SEG_PASSIVE,
    MN__WASM_SEG_DECLARATIVE,
} mn__wasm_seg_mode;

typedef struct mn__wasm_elem {
    uint8_t mode;
    uint8_t type; /* reference type */
    uint32_t table_index;
    mn__wasm_constexpr offset;
    uint32_t inits_count;
    mn__wasm_constexpr *inits;
} mn__wasm_elem;

typedef struct mn__wasm_data {
    uint8_t mode;
    uint32_t memory_index;
    mn__wasm_constexpr offset;
    const uint8_t *bytes;
    uint32_t len;
} mn__wasm_data;

struct mn_wasm_module {
    uint8_t *bytes; /* our copy; names and bodies point into it */
    size_t len;
    mn_wasm_config cfg;

    mn__wasm_functype *types;
    uint32_t types_count;
    mn__wasm_import *imports;
    uint32_t imports_count;

    /* Index spaces: imports first, then definitions. */
    uint32_t funcs_count, func_imports_count;
    uint32_t *func_type_index; /* per function index */
    mn__wasm_funcdef *funcs;   /* defined functions (funcs_count - func_imports_count) */
    uint32_t tables_count, table_imports_count;
    mn__wasm_tabletype *tables;
    uint32_t memories_count, memory_imports_count;
    mn__wasm_limits *memories;
    uint32_t globals_count, global_imports_count;
    mn__wasm_globaltype *global_types; /* per global index */
    mn__wasm_global *globals;          /* defined globals */

    mn__wasm_export *exports;
    uint32_t exports_count;
    bool has_start;
    uint32_t start;
    mn__wasm_elem *elems;
    uint32_t elems_count;
    mn__wasm_data *datas;
    uint32_t datas_count;
    bool has_data_count;
    uint32_t data_count;
    uint32_t code_count; /* entries of the code section (checked against functions) */
    bool *func_declared; /* C.refs: functions that ref.func may name in code */
};

/* Decodes every section; function bodies are delimited but not parsed (validate.c does). */
int mn__wasm_decode(mn_wasm_module *mod, mn_err *err);
/* Module-level validation rules (module.c). */
int mn__wasm_check_module(mn_wasm_module *mod, mn_err *err);
/* Validates the module and translates every function body. */
int mn__wasm_validate(mn_wasm_module *mod, mn_err *err);
void mn__wasm_module_release(mn_wasm_module *mod);
bool mn__wasm_functype_eq(const mn__wasm_functype *a, const mn__wasm_functype *b);

/* ---- translated code ----------------------------------------------------------------- */

/* Internal operations. Single-byte WASM opcodes keep their number, 0xFC-prefixed ones are
 * 0x100 + sub-opcode, and the translator's own operations follow. */
enum {
    MN__OP_FC = 0x100,
    MN__OP_FUEL = 0x120,  /* imm: cost */
    MN__OP_BR,            /* imm: offset */
    MN__OP_BR_DROP,       /* slots: -, from, to, keep; imm: offset */
    MN__OP_BR_IF,         /* slots: cond; imm: offset */
    MN__OP_BR_IF_DROP,    /* slots: cond, from, to, keep; imm: offset */
    MN__OP_BR_UNLESS,     /* slots: cond; imm: offset */
    MN__OP_BR_TABLE,      /* slots: index, keep, from; imm: count, (offset, to) x (count+1) */
    MN__OP_RETURN,        /* slots: from, keep */
    MN__OP_CALL,          /* slots: args base; imm: function index */
    MN__OP_CALL_INDIRECT, /* slots: args base, index; imm: type index, table index */
    MN__OP_CONST,         /* slots: to; imm: value */
    MN__OP_COPY,          /* slots: from, to */
    MN__OP_COPY2,         /* slots: from, to, from2, to2 (two copies in sequence) */
    MN__OP_BR_F,    /* backward BR charging the loop head: imm: offset, cost */
    MN__OP_FUEL_DYN, /* slots: n; imm: mul. Charges (n * mul) / 64 before a bulk operation */
    MN__OP_BR_IF_F, /* slots: cond; imm: offset, cost */
    /* Fused i32 compare-and-branch, one per compare 0x46..0x4f: slots a, b; imm: offset. */
    MN__OP_BRC = 0x140,
    /* The same against a constant: slots a; imm: offset, constant. */
    MN__OP_BRCI = 0x150,
    /* Backward forms charging the loop head's fuel: imm ..., cost. */
    MN__OP_BRCF = 0x160,
    MN__OP_BRCIF = 0x170,
    /* Forward forms charging their target's first segment when taken (then jumping past its
     * FUEL; 0 when the target does not start with FUEL) and their fall-through segment when
     * not taken: imm: offset, target cost, [constant,] fall-through cost. */
    MN__OP_BRCT = 0x180,
    MN__OP_BRCIT = 0x190,
    MN__OP_BR_IF_T = 0x1a0, /* slots: cond; imm: offset, target cost, fall-through cost */
    MN__OP_BR_UNLESS_T,
    MN__OP_BR_IF_FT, /* backward BR_IF_F also charging its fall-through: imm: offset, cost, ft */
    /* Binary operations whose second operand is a constant: MN__OP_IMM + WASM opcode;
     * slots a, to; imm: constant. */
    MN__OP_IMM = 0x200,
    /* Float arithmetic that canonicalises a NaN result (policy mode): MN__OP_CANON + opcode. */
    MN__OP_CANON = 0x300,
    MN__OP_COUNT = 0x400
};

/* Direct-threading table of the interpreter: the address of each operation's handler. */
const void *const *mn__wasm_exec_ops(void);

/* ---- runtime objects ----------------------------------------------------------------- */

struct mn_wasm_func {
    const mn__wasm_functype *type;
    mn_wasm_instance *inst;            /* NULL for host functions */
    const mn__wasm_funcdef *def;       /* translated code of a WASM function */
    mn_wasm_host_fn host;
    void *host_ctx;
};

struct mn_wasm_memory {
    uint8_t *data;
    uint64_t bytes;
    uint32_t pages;
    uint32_t max; /* effective maximum: declared maximum capped by the store limit */
    uint32_t declared_max;
    bool has_max;
};

struct mn_wasm_table {
    uint8_t elem;
    uint64_t *elems;
    uint32_t size;
    uint32_t max;
    uint32_t declared_max;
    bool has_max;
};

struct mn_wasm_global {
    uint8_t type;
    bool mut;
    uint64_t val;
};

struct mn_wasm_instance {
    const mn_wasm_module *mod;
    mn_wasm_store *store;
    mn_wasm_func **funcs;
    mn_wasm_table **tables;
    mn_wasm_memory **memories;
    mn_wasm_global **globals;
    mn_wasm_extern *exports;
    uint64_t **elem_refs;     /* evaluated element segments; NULL entries when dropped */
    uint32_t *elem_sizes;     /* 0 once dropped */
    uint32_t *data_sizes;     /* 0 once dropped */
    mn_wasm_func *own_funcs;  /* the defined functions' objects */
};

typedef struct mn__wasm_frame {
    const mn__wasm_cell *pc; /* return address; NULL marks the host's entry frame */
    uint64_t *fp;
    mn_wasm_instance *inst;
} mn__wasm_frame;

typedef struct mn__wasm_obj {
    void *ptr;
    uint8_t kind;
} mn__wasm_obj;

struct mn_wasm_store {
    mn_wasm_limits limits;
    int64_t fuel;
    mn_wasm_trap trap;
    bool running;
    uint64_t *stack;
    mn__wasm_frame *frames;
    mn__wasm_obj *objs;
    size_t objs_count, objs_cap;
    mn_wasm_val *host_args; /* scratch for host calls: 2 * MN_WASM_FUNC_PARAMS_MAX */
};

/* Runs func with its arguments in store->stack[0..params); leaves results there. */
int mn__wasm_exec(mn_wasm_store *store, mn_wasm_func *func, mn_err *err);
int mn__wasm_trap(mn_wasm_store *store, mn_wasm_trap trap, mn_err *err);
/* memory.grow semantics: returns old pages or -1; MN_ENOMEM below the limit is fatal. */
int64_t mn__wasm_memory_grow(mn_wasm_memory *mem, uint32_t delta, int *fatal);
int64_t mn__wasm_table_grow(mn_wasm_table *table, uint32_t delta, uint64_t init, int *fatal);

#endif
