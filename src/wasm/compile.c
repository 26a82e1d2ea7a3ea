/* SPDX-License-Identifier: Apache-2.0
 *
 * compile.c: the emitter behind compile.h. Code is an array of 8-byte cells; an operation cell
 * holds the address of its handler in exec.c (direct threading), immediates follow it. Branch
 * offsets are relative to the offset cell itself. The size of a function's code is bounded by
 * a small multiple of its body size (every WASM instruction emits at most a few cells, except
 * br_table whose cells are bounded by its own encoded targets), checked against
 * MN_WASM_MODULE_BYTES_MAX so a hostile body cannot make the emitter grow without bound.
 */
#include "compile.h"

#include <stdlib.h>

void mn__wasm_emit_init(mn__wasm_emit *e, bool metered)
{
    *e = (mn__wasm_emit){0};
    e->ops = mn__wasm_exec_ops();
    e->metered = metered;
    e->fuel_cell = MN__WASM_NO_FIXUP;
}

void mn__wasm_emit_deinit(mn__wasm_emit *e)
{
    free(e->code);
    e->code = NULL;
    free(e->tk);
    e->tk = NULL;
}

/* A chain cell holds the next cell's index in its low 32 bits; this bit marks a charging
 * branch, whose target-cost cell follows the offset cell. */
#define FIXUP_CHARGED (1ull << 32)

/* The segment starting at tk_at is complete: its cost goes to the charging branches that
 * reach it, which then jump past its FUEL operation. Charging the same amount just before
 * the same instruction keeps totals and trap points; a failing charge deducts nothing. */
static void resolve_targets(mn__wasm_emit *e)
{
    if (!e->failed && e->tk_at + 1 < e->len && e->code[e->tk_at].op == e->ops[MN__OP_FUEL]) {
        uint64_t cost = e->code[e->tk_at + 1].u64;
        for (uint32_t i = 0; i < e->tk_len; i++) {
            e->code[e->tk[i]].u64 = cost;
            e->code[e->tk[i] - 1].i64 += 2;
        }
    }
    e->tk_len = 0;
}

static void add_target(mn__wasm_emit *e, uint32_t cost_cell)
{
    if (e->tk_len && e->tk_at != e->len)
        resolve_targets(e); /* an earlier label's segment ended at this patch */
    if (e->tk_len == e->tk_cap) {
        uint32_t cap = e->tk_cap ? e->tk_cap * 2 : 16;
        uint32_t *tk = realloc(e->tk, cap * sizeof(*tk));
        if (!tk) {
            e->failed = true;
            return;
        }
        e->tk = tk;
        e->tk_cap = cap;
    }
    e->tk_at = e->len;
    e->tk[e->tk_len++] = cost_cell;
}

static void put(mn__wasm_emit *e, mn__wasm_cell c)
{
    if (e->failed)
        return;
    if (e->len == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 64;
        if ((uint64_t)cap * sizeof(mn__wasm_cell) > 8ull * MN_WASM_MODULE_BYTES_MAX) {
            e->failed = true;
            return;
        }
        mn__wasm_cell *code = realloc(e->code, cap * sizeof(*code));
        if (!code) {
            e->failed = true;
            return;
        }
        e->code = code;
        e->cap = cap;
    }
    e->code[e->len++] = c;
}

void mn__wasm_emit_charge(mn__wasm_emit *e, uint32_t cost)
{
    if (cost && e->metered) {
        if (e->fuel_cell == MN__WASM_NO_FIXUP) {
            put(e, (mn__wasm_cell){.op = e->ops[MN__OP_FUEL]});
            e->fuel_cell = e->len;
            put(e, (mn__wasm_cell){.u64 = 0});
        }
        if (!e->failed)
            e->code[e->fuel_cell].u64 += cost;
    }
}

void mn__wasm_emit_op(mn__wasm_emit *e, unsigned op, uint32_t cost)
{
    MN_ASSERT(op < MN__OP_COUNT);
    MN_ASSERT(e->ops[op] != NULL);
    mn__wasm_emit_charge(e, cost);
    put(e, (mn__wasm_cell){.op = e->ops[op]});
}

void mn__wasm_emit_imm(mn__wasm_emit *e, uint64_t imm)
{
    put(e, (mn__wasm_cell){.u64 = imm});
}

void mn__wasm_emit_label(mn__wasm_emit *e)
{
    if (e->tk_len && e->len > e->tk_at)
        resolve_targets(e); /* the segment that started at tk_at ends here */
    e->fuel_cell = MN__WASM_NO_FIXUP;
}

void mn__wasm_emit_finish(mn__wasm_emit *e)
{
    if (e->tk_len)
        resolve_targets(e);
    e->fuel_cell = MN__WASM_NO_FIXUP;
    free(e->tk); /* the code outlives the emitter; the pending list does not */
    e->tk = NULL;
    e->tk_len = e->tk_cap = 0;
}

void mn__wasm_emit_fixup(mn__wasm_emit *e, uint32_t *head)
{
    uint32_t at = e->len;
    put(e, (mn__wasm_cell){.u64 = *head});
    if (!e->failed)
        *head = at;
}

void mn__wasm_emit_fixup_charged(mn__wasm_emit *e, uint32_t *head)
{
    uint32_t at = e->len;
    put(e, (mn__wasm_cell){.u64 = *head | FIXUP_CHARGED});
    put(e, (mn__wasm_cell){.u64 = 0});
    if (!e->failed)
        *head = at;
}

void mn__wasm_emit_backward(mn__wasm_emit *e, uint32_t target)
{
    put(e, (mn__wasm_cell){.i64 = (int64_t)target - (int64_t)e->len});
}

void mn__wasm_emit_patch(mn__wasm_emit *e, uint32_t head)
{
    if (e->failed)
        return;
    /* Each cell of the chain appears once and the chain ends: bounded by e->len steps. */
    for (uint32_t steps = 0; head != MN__WASM_NO_FIXUP; steps++) {
        MN_ASSERT(steps <= e->len && head < e->len);
        uint64_t cell = e->code[head].u64;
        uint32_t next = (uint32_t)cell;
        e->code[head].i64 = (int64_t)e->len - (int64_t)head;
        if (cell & FIXUP_CHARGED)
            add_target(e, head + 1);
        head = next;
    }
}
