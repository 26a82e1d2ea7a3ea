/* SPDX-License-Identifier: Apache-2.0
 *
 * wasm.h: the embedding API of Metanode's WebAssembly engine (WebAssembly 2.0 without SIMD,
 * binary format only). A module is decoded, validated and translated once into the engine's
 * internal code; instances live in a store, which owns every instance, function, table,
 * memory and global created in it and frees them all together (so exports of one instance can
 * be imported by another without reference counting). Execution is metered with fuel per
 * store, bounded by the limits in limits.h, and never recurses on the C stack per WASM call.
 *
 * The engine does not parse the text format, does not run threads, and is not re-entrant: a
 * host function may not call back into the store that called it (MN_ESTATE). A store and
 * everything in it belong to one thread.
 *
 * Errors: MN_ECORRUPT for malformed bytes (decoding), MN_EINVAL for a well-formed module that
 * fails validation, MN_ELIMIT when a bound of limits.h or of the configuration is exceeded,
 * MN_EUNSUPPORTED for features outside the supported set (SIMD, threads, ...), MN_ENOTFOUND /
 * MN_EINVAL when linking fails, MN_ETRAP when guest code traps (mn_wasm_store_trap() gives the
 * kind; the message is the spec's canonical trap text), MN_ENOMEM when allocation fails.
 */
#ifndef METANODE_WASM_H
#define METANODE_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/error.h"

/* Value types, numbered by their binary encoding. */
typedef enum mn_wasm_type {
    MN_WASM_I32 = 0x7f,
    MN_WASM_I64 = 0x7e,
    MN_WASM_F32 = 0x7d,
    MN_WASM_F64 = 0x7c,
    MN_WASM_FUNCREF = 0x70,
    MN_WASM_EXTERNREF = 0x6f,
} mn_wasm_type;

/* A typed value. Floats are carried as raw IEEE bits so NaN payloads survive exactly.
 * References: 0 is null; a funcref is an opaque engine handle; an externref is any non-zero
 * host value. */
typedef struct mn_wasm_val {
    mn_wasm_type type;
    union {
        uint32_t i32;
        uint64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        uintptr_t ref;
    } of;
} mn_wasm_val;

typedef enum mn_wasm_trap {
    MN_WASM_TRAP_NONE = 0,
    MN_WASM_TRAP_UNREACHABLE,
    MN_WASM_TRAP_MEMORY_OOB,     /* out of bounds memory access */
    MN_WASM_TRAP_TABLE_OOB,      /* out of bounds table access */
    MN_WASM_TRAP_DIV_ZERO,       /* integer divide by zero */
    MN_WASM_TRAP_INT_OVERFLOW,   /* integer overflow */
    MN_WASM_TRAP_BAD_CONVERSION, /* invalid conversion to integer */
    MN_WASM_TRAP_INDIRECT_TYPE,  /* indirect call type mismatch */
    MN_WASM_TRAP_UNDEFINED_ELEM, /* undefined element */
    MN_WASM_TRAP_UNINIT_ELEM,    /* uninitialized element */
    MN_WASM_TRAP_STACK,          /* call stack exhausted (call depth or value stack) */
    MN_WASM_TRAP_FUEL,           /* fuel exhausted */
    MN_WASM_TRAP_HOST,           /* a host function failed */
    MN_WASM_TRAP_COUNT
} mn_wasm_trap;

/* Canonical text of a trap kind ("integer divide by zero", ...). Never NULL. */
const char *mn_wasm_trap_text(mn_wasm_trap trap);

typedef enum mn_wasm_extern_kind {
    MN_WASM_EXTERN_FUNC = 0,
    MN_WASM_EXTERN_TABLE = 1,
    MN_WASM_EXTERN_MEMORY = 2,
    MN_WASM_EXTERN_GLOBAL = 3,
} mn_wasm_extern_kind;

typedef struct mn_wasm_module mn_wasm_module;
typedef struct mn_wasm_store mn_wasm_store;
typedef struct mn_wasm_instance mn_wasm_instance;
typedef struct mn_wasm_func mn_wasm_func;
typedef struct mn_wasm_table mn_wasm_table;
typedef struct mn_wasm_memory mn_wasm_memory;
typedef struct mn_wasm_global mn_wasm_global;

/* An external value: what an import receives and an export yields. */
typedef struct mn_wasm_extern {
    mn_wasm_extern_kind kind;
    union {
        mn_wasm_func *func;
        mn_wasm_table *table;
        mn_wasm_memory *memory;
        mn_wasm_global *global;
    } of;
} mn_wasm_extern;

/* A function signature; the arrays are borrowed. */
typedef struct mn_wasm_functype {
    uint32_t params_count;
    uint32_t results_count;
    const mn_wasm_type *params;
    const mn_wasm_type *results;
} mn_wasm_functype;

/* Module options, fixed at load time because they shape the translated code. */
typedef struct mn_wasm_config {
    bool metered;        /* insert fuel charges (cost table MN_WASM_FUEL_TABLE_VERSION) */
    bool canonical_nans; /* policy mode: NaN results of float arithmetic become canonical */
} mn_wasm_config;

/* Store limits; zero fields take the defaults of limits.h, larger values are clamped to the
 * hard maxima there. */
typedef struct mn_wasm_limits {
    uint32_t memory_pages_max; /* per memory; memory.grow beyond it returns -1 */
    uint32_t table_elems_max;  /* per table; table.grow beyond it returns -1 */
    uint32_t call_depth_max;   /* nested WASM calls */
    uint32_t stack_slots_max;  /* 64-bit frame slots of all active calls (params, locals,
                                * operands) */
} mn_wasm_limits;

/* Host function: args has the parameter values, results receives the results (types are the
 * function type's). `caller` is the instance whose code made the call (NULL when invoked
 * directly), for access to its memory through mn_wasm_instance_memory(). A non-zero return
 * traps with MN_WASM_TRAP_HOST and err's message. */
typedef int (*mn_wasm_host_fn)(void *ctx, mn_wasm_instance *caller, const mn_wasm_val *args,
                               mn_wasm_val *results, mn_err *err);

/* ---- modules ------------------------------------------------------------------------- */

/* Decodes, validates and translates a module (copies the bytes). *out is freed with
 * mn_wasm_module_free. A module may be instantiated many times, in any stores; free those
 * stores before the module. cfg may be NULL (unmetered, NaNs untouched). */
int mn_wasm_module_load(const uint8_t *bytes, size_t len, const mn_wasm_config *cfg,
                        mn_wasm_module **out, mn_err *err);
void mn_wasm_module_free(mn_wasm_module *mod);

/* Imports and exports of a module, in declaration order. Names are (pointer, length): they
 * may contain NUL bytes. The pointers live as long as the module. */
uint32_t mn_wasm_module_imports_count(const mn_wasm_module *mod);
void mn_wasm_module_import(const mn_wasm_module *mod, uint32_t index, const uint8_t **module,
                           uint32_t *module_len, const uint8_t **name, uint32_t *name_len,
                           mn_wasm_extern_kind *kind);
uint32_t mn_wasm_module_exports_count(const mn_wasm_module *mod);
void mn_wasm_module_export(const mn_wasm_module *mod, uint32_t index, const uint8_t **name,
                           uint32_t *name_len, mn_wasm_extern_kind *kind);

/* ---- stores and host objects --------------------------------------------------------- */

/* A store with the given limits (NULL: defaults). It allocates its frame-slot and call stacks
 * up front (MN_ENOMEM). Free with mn_wasm_store_free. */
int mn_wasm_store_new(const mn_wasm_limits *limits, mn_wasm_store **out, mn_err *err);
/* Frees the store and everything created in it. Accepts NULL. */
void mn_wasm_store_free(mn_wasm_store *store);

/* Fuel: metered code traps with MN_WASM_TRAP_FUEL when a charge exceeds the remaining fuel
 * (the failing charge is not deducted). A new store has MN_WASM_FUEL_DEFAULT. */
void mn_wasm_store_set_fuel(mn_wasm_store *store, uint64_t fuel);
uint64_t mn_wasm_store_fuel(const mn_wasm_store *store);
/* Kind of the last trap in this store (MN_WASM_TRAP_NONE after a call that did not trap). */
mn_wasm_trap mn_wasm_store_trap(const mn_wasm_store *store);

/* Host objects owned by the store, to pass as imports. A host function's type is copied;
 * MN_ELIMIT for more than MN_WASM_FUNC_PARAMS_MAX parameters or results, or for a memory or
 * table whose minimum exceeds the store's limit. */
int mn_wasm_func_new_host(mn_wasm_store *store, const mn_wasm_functype *type,
                          mn_wasm_host_fn fn, void *ctx, mn_wasm_func **out, mn_err *err);
/* max_pages / max_elems: UINT32_MAX means no maximum. */
int mn_wasm_memory_new(mn_wasm_store *store, uint32_t min_pages, uint32_t max_pages,
                       mn_wasm_memory **out, mn_err *err);
int mn_wasm_table_new(mn_wasm_store *store, mn_wasm_type elem_type, uint32_t min_elems,
                      uint32_t max_elems, mn_wasm_table **out, mn_err *err);
int mn_wasm_global_new(mn_wasm_store *store, mn_wasm_val value, bool mutable_,
                       mn_wasm_global **out, mn_err *err);

/* ---- instances ----------------------------------------------------------------------- */

/* Instantiates mod in store with the given imports (one per module import, in order):
 * links (MN_ENOTFOUND is never returned here; a type mismatch is MN_EINVAL "incompatible
 * import type"), allocates, initialises element and data segments in order and runs the start
 * function. If a segment is out of bounds or the start function traps, returns MN_ETRAP; the
 * writes made before stay visible in imported memories and tables. The instance belongs to
 * the store. */
int mn_wasm_instantiate(mn_wasm_store *store, const mn_wasm_module *mod,
                        const mn_wasm_extern *imports, size_t imports_count,
                        mn_wasm_instance **out, mn_err *err);

/* Looks an export up by name; MN_ENOTFOUND if absent. */
int mn_wasm_instance_export(const mn_wasm_instance *inst, const uint8_t *name, size_t name_len,
                            mn_wasm_extern *out, mn_err *err);

/* Calls a function with typed arguments (checked against its type: MN_EINVAL on mismatch) and
 * writes its results (results_cap must be at least the result count). */
int mn_wasm_func_call(mn_wasm_store *store, mn_wasm_func *func, const mn_wasm_val *args,
                      size_t args_count, mn_wasm_val *results, size_t results_cap,
                      mn_err *err);
/* The function's type: counts, and the types into params / results when not NULL (room for
 * MN_WASM_FUNC_PARAMS_MAX each). */
void mn_wasm_func_type(const mn_wasm_func *func, uint32_t *params_count,
                       uint32_t *results_count, mn_wasm_type *params, mn_wasm_type *results);

mn_wasm_val mn_wasm_global_get(const mn_wasm_global *global);

/* Memory 0 of an instance, or NULL. */
mn_wasm_memory *mn_wasm_instance_memory(const mn_wasm_instance *inst);
/* Current size in bytes and base pointer. The pointer is invalidated by memory.grow. */
uint8_t *mn_wasm_memory_data(const mn_wasm_memory *mem, uint64_t *len_bytes);
/* Copies between guest memory and the host with bounds checks (MN_EINVAL when out of
 * bounds). */
int mn_wasm_memory_read(const mn_wasm_memory *mem, uint64_t offset, void *out, size_t len,
                        mn_err *err);
int mn_wasm_memory_write(mn_wasm_memory *mem, uint64_t offset, const void *data, size_t len,
                         mn_err *err);

#endif
