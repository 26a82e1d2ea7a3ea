/* SPDX-License-Identifier: Apache-2.0
 *
 * compile.h: the code emitter the validator drives (compile.c). It appends operations and
 * immediates to a growable cell array, opens a fuel segment lazily at the first charged
 * instruction after a label or branch and folds each instruction's cost into it, and keeps the
 * unresolved forward branches of a block as a chain threaded through their own offset cells.
 * It knows nothing of types: the validator decides what is live and what each branch keeps.
 */
#ifndef MN_WASM_COMPILE_H
#define MN_WASM_COMPILE_H

#include "internal.h"

#define MN__WASM_NO_FIXUP UINT32_MAX

typedef struct mn__wasm_emit {
    mn__wasm_cell *code;
    uint32_t len;
    uint32_t cap;
    const void *const *ops;
    bool metered;
    bool failed;        /* allocation or size limit hit; reported by the validator */
    uint32_t fuel_cell; /* immediate of the open FUEL operation, or MN__WASM_NO_FIXUP */
    /* Target-cost cells of charging forward branches patched to position tk_at, filled when
     * the segment starting there is complete (see emit_fixup_charged). */
    uint32_t *tk;
    uint32_t tk_len, tk_cap, tk_at;
} mn__wasm_emit;

void mn__wasm_emit_init(mn__wasm_emit *e, bool metered);
void mn__wasm_emit_deinit(mn__wasm_emit *e);
/* Appends an operation charged `cost` fuel (0 for bookkeeping operations). */
void mn__wasm_emit_op(mn__wasm_emit *e, unsigned op, uint32_t cost);
void mn__wasm_emit_imm(mn__wasm_emit *e, uint64_t imm);
/* Charges `cost` for an instruction that emits no operation (local.get, const, drop). */
void mn__wasm_emit_charge(mn__wasm_emit *e, uint32_t cost);
/* Marks a branch target at the current position: the next charged instruction starts a new
 * fuel segment. Also called after every branch. */
void mn__wasm_emit_label(mn__wasm_emit *e);
/* Appends a forward offset cell to the chain *head (resolved later by emit_patch). */
void mn__wasm_emit_fixup(mn__wasm_emit *e, uint32_t *head);
/* Appends the offset cell of a backward branch to target. */
void mn__wasm_emit_backward(mn__wasm_emit *e, uint32_t target);
/* Like emit_fixup for a branch that charges its target's first segment when taken: appends
 * the offset cell and the target-cost cell after it. When the chain is patched to a position
 * whose segment starts with FUEL, the cost cell gets that segment's cost once it is complete
 * and the offset skips the FUEL operation; otherwise the cost stays 0. */
void mn__wasm_emit_fixup_charged(mn__wasm_emit *e, uint32_t *head);
/* Resolves every cell of the chain to branch to the current position. */
void mn__wasm_emit_patch(mn__wasm_emit *e, uint32_t head);
/* Completes the translation of a function (fills pending target costs). */
void mn__wasm_emit_finish(mn__wasm_emit *e);

#endif
