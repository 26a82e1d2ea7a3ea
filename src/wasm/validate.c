/* SPDX-License-Identifier: Apache-2.0
 *
 * validate.c: function validation and, in the same pass over each body, translation. After
 * the module-level rules (module.c), each body is decoded instruction by instruction and type
 * checked with the operand/control stack algorithm of the spec's appendix (explicit bounded
 * stacks, no recursion, the polymorphic stack after unreachable code), and every instruction
 * in live code is translated into slot-addressed code (compile.h): operand stack position i
 * lives in frame slot locals + i, `local.get` and constants are kept as pending aliases on the
 * validator's stack and read in place by the instruction that consumes them, and a result
 * stored to a local by the next `local.set`/`local.tee` is written there directly. Pending
 * values are materialised into their home slots before any label, branch or call, and before
 * a write to a local they alias. Code after an unconditional branch is validated but not
 * emitted. Malformed encodings met inside bodies are MN_ECORRUPT, type errors MN_EINVAL.
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "internal.h"

#define UNKNOWN 0 /* the bottom type of the polymorphic stack */
#define OPERANDS_MAX (1u << 20)
#define NONE UINT32_MAX
#define ALIAS_SCAN_MAX 64u /* longest pending run searched for aliases before a local write */

enum { LOC_TEMP, LOC_LOCAL, LOC_CONST };

/* One entry of the validator's operand stack and where its value is. */
typedef struct sv {
    uint8_t type;
    uint8_t loc;
    uint16_t canon_op; /* policy mode: the WASM opcode of canon_cell's operation */
    uint32_t local;
    uint64_t k;
    /* A temporary computed by the canonicalising operation at this cell and not read by
     * anything yet (see uncanon_operand), or NONE. Every push resets it. */
    uint32_t canon_cell;
} sv;

typedef struct ctl {
    uint8_t kind; /* 0 function, 0x02 block, 0x03 loop, 0x04 if, 0x05 else */
    bool unreachable;
    bool dead; /* opened in unreachable code: nothing inside is emitted */
    uint32_t height;
    uint32_t params_count, results_count;
    const uint8_t *params, *results;
    uint32_t label;      /* loop head */
    uint32_t fixups;     /* forward branches to the end */
    uint32_t else_fixup; /* an if's jump to its else arm */
} ctl;

typedef struct vstate {
    const mn_wasm_module *mod;
    const mn__wasm_funcdef *fd;
    uint32_t locals; /* params + declared locals */
    sv *ops;
    uint32_t ops_len, ops_cap, ops_max;
    uint32_t pending_lo; /* entries below are all LOC_TEMP */
    ctl *ctls;
    uint32_t ctls_len, ctls_cap;
    /* The last emitted operation's result slot(s), retargetable by a following local.set. */
    uint32_t rt_cell[2];
    uint8_t rt_field[2];
    uint32_t rt_pos;
    uint64_t work;         /* validation work so far, all functions (see work()) */
    uint32_t ft_cell;      /* fall-through charge cell of the last conditional branch */
    uint32_t last_op_cell; /* the last emitted operation, for compare-and-branch fusion */
    unsigned last_op;
    mn__wasm_emit e;
    mn_err *err;
} vstate;

static const uint8_t single_types[256] = {
    [MN_WASM_I32] = MN_WASM_I32,         [MN_WASM_I64] = MN_WASM_I64,
    [MN_WASM_F32] = MN_WASM_F32,         [MN_WASM_F64] = MN_WASM_F64,
    [MN_WASM_FUNCREF] = MN_WASM_FUNCREF, [MN_WASM_EXTERNREF] = MN_WASM_EXTERNREF,
};

static int invalid(vstate *v, const char *msg)
{
    return mn_err_set(v->err, MN_EINVAL, 0, "%s", msg);
}

static int mismatch(vstate *v)
{
    return invalid(v, "type mismatch");
}

/* ---- operand and control stacks (the spec appendix algorithm) ------------------------ */

static int push_loc(vstate *v, uint8_t t, uint8_t loc, uint32_t local, uint64_t k)
{
    if (v->ops_len == v->ops_cap) {
        if (v->ops_cap >= OPERANDS_MAX)
            return mn_err_set(v->err, MN_ELIMIT, 0, "operand stack too deep");
        uint32_t cap = v->ops_cap ? v->ops_cap * 2 : 64;
        sv *ops = realloc(v->ops, cap * sizeof(*ops));
        if (!ops)
            return mn_err_set(v->err, MN_ENOMEM, 0, "out of memory validating");
        v->ops = ops;
        v->ops_cap = cap;
    }
    if (loc != LOC_TEMP && v->pending_lo > v->ops_len)
        v->pending_lo = v->ops_len;
    v->ops[v->ops_len++] = (sv){t, loc, 0, local, k, NONE};
    if (v->ops_len > v->ops_max)
        v->ops_max = v->ops_len;
    return 0;
}

static int push(vstate *v, uint8_t t)
{
    return push_loc(v, t, LOC_TEMP, 0, 0);
}

static int pop(vstate *v, uint8_t *out)
{
    ctl *c = &v->ctls[v->ctls_len - 1];
    *out = UNKNOWN;
    if (v->ops_len == c->height) {
        if (c->unreachable)
            return 0;
        return mismatch(v);
    }
    *out = v->ops[--v->ops_len].type;
    return 0;
}

static int pop_expect(vstate *v, uint8_t want)
{
    uint8_t t;
    int rc = pop(v, &t);
    if (rc)
        return rc;
    if (t != want && t != UNKNOWN && want != UNKNOWN)
        return mismatch(v);
    return 0;
}

/* Counts validation work that one instruction can multiply (block, call and branch types of
 * up to MN_WASM_FUNC_PARAMS_MAX values), so no module makes loading quadratic. */
static int work(vstate *v, uint32_t n)
{
    v->work += n;
    if (v->work > MN_WASM_VALIDATE_WORK_MAX)
        return mn_err_set(v->err, MN_ELIMIT, 0, "module too complex to validate");
    return 0;
}

static int pop_vals(vstate *v, const uint8_t *types, uint32_t n)
{
    if (work(v, n))
        return -MN_ELIMIT;
    for (uint32_t i = n; i > 0; i--) {
        int rc = pop_expect(v, types[i - 1]);
        if (rc)
            return rc;
    }
    return 0;
}

static int push_vals(vstate *v, const uint8_t *types, uint32_t n)
{
    if (work(v, n))
        return -MN_ELIMIT;
    for (uint32_t i = 0; i < n; i++) {
        int rc = push(v, types[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static bool live(const vstate *v)
{
    const ctl *c = &v->ctls[v->ctls_len - 1];
    return !c->unreachable && !c->dead;
}

static int push_ctl(vstate *v, uint8_t kind, const uint8_t *params, uint32_t np,
                    const uint8_t *results, uint32_t nr)
{
    if (v->ctls_len == v->ctls_cap) {
        if (v->ctls_cap >= MN_WASM_BLOCK_DEPTH_MAX)
            return mn_err_set(v->err, MN_ELIMIT, 0, "blocks nested too deep");
        uint32_t cap = v->ctls_cap ? v->ctls_cap * 2 : 16;
        ctl *ctls = realloc(v->ctls, cap * sizeof(*ctls));
        if (!ctls)
            return mn_err_set(v->err, MN_ENOMEM, 0, "out of memory validating");
        v->ctls = ctls;
        v->ctls_cap = cap;
    }
    bool dead = v->ctls_len > 0 && !live(v);
    ctl *c = &v->ctls[v->ctls_len++];
    *c = (ctl){.kind = kind,
               .dead = dead,
               .height = v->ops_len,
               .params_count = np,
               .results_count = nr,
               .params = params,
               .results = results,
               .label = v->e.len,
               .fixups = MN__WASM_NO_FIXUP,
               .else_fixup = MN__WASM_NO_FIXUP};
    return push_vals(v, params, np);
}

static int pop_ctl(vstate *v, ctl *out)
{
    ctl *c = &v->ctls[v->ctls_len - 1];
    int rc = pop_vals(v, c->results, c->results_count);
    if (rc)
        return rc;
    if (v->ops_len != c->height)
        return mismatch(v);
    *out = *c;
    v->ctls_len--;
    return 0;
}

static void set_unreachable(vstate *v)
{
    ctl *c = &v->ctls[v->ctls_len - 1];
    v->ops_len = c->height;
    c->unreachable = true;
}

static void label_types(const ctl *c, const uint8_t **types, uint32_t *n)
{
    if (c->kind == 0x03) {
        *types = c->params;
        *n = c->params_count;
    } else {
        *types = c->results;
        *n = c->results_count;
    }
}

/* ---- emission ------------------------------------------------------------------------ */

/* Home slot of operand stack position pos. */
static uint32_t home(const vstate *v, uint32_t pos)
{
    return v->locals + pos;
}

static void no_retarget(vstate *v)
{
    v->rt_cell[0] = v->rt_cell[1] = NONE;
}

static void emit(vstate *v, unsigned op, uint32_t cost)
{
    no_retarget(v);
    mn__wasm_emit_op(&v->e, op, cost);
    v->last_op_cell = v->e.len - 1;
    v->last_op = op;
}

static void imm(vstate *v, uint64_t x)
{
    mn__wasm_emit_imm(&v->e, x);
}

/* Emits the slot cell of the current operation; returns its index. */
static uint32_t slots(vstate *v, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    mn__wasm_cell cell = {.u64 = 0};
    cell.s[0] = (uint16_t)a;
    cell.s[1] = (uint16_t)b;
    cell.s[2] = (uint16_t)c;
    cell.s[3] = (uint16_t)d;
    uint32_t at = v->e.len;
    mn__wasm_emit_imm(&v->e, cell.u64);
    return at;
}

static void label(vstate *v)
{
    no_retarget(v);
    v->last_op = 0; /* nothing fuses across a label */
    mn__wasm_emit_label(&v->e);
}

/* Whether a fuel segment is open and has charged nothing yet: only a conditional branch's
 * fall-through cell (see take_fall_through) opens one empty. A construct end that no branch
 * targets may then leave it open: continuing an empty segment there charges exactly what a
 * new segment would, at the same point, so the cost table's totals and trap points hold. */
static bool open_segment_empty(const vstate *v)
{
    const mn__wasm_emit *e = &v->e;
    return !e->failed && e->fuel_cell != MN__WASM_NO_FIXUP && e->code[e->fuel_cell].u64 == 0;
}

/* Emits slot `to` = slot `from`; two copies in a row become one COPY2. */
static void emit_copy(vstate *v, uint32_t from, uint32_t to, uint32_t cost)
{
    bool charged_here = cost == 0 || !v->e.metered || v->e.fuel_cell != MN__WASM_NO_FIXUP;
    if (v->last_op == MN__OP_COPY && !v->e.failed && v->last_op_cell + 2 == v->e.len &&
        charged_here) {
        mn__wasm_emit_charge(&v->e, cost);
        v->e.code[v->last_op_cell].op = v->e.ops[MN__OP_COPY2];
        v->e.code[v->last_op_cell + 1].s[2] = (uint16_t)from;
        v->e.code[v->last_op_cell + 1].s[3] = (uint16_t)to;
        v->last_op = MN__OP_COPY2;
        no_retarget(v);
        return;
    }
    emit(v, MN__OP_COPY, cost);
    slots(v, from, to, 0, 0);
}

/* Records that the operation just emitted wrote stack position pos through field `field` of
 * the slot cell at `cell`. */
static void retargetable(vstate *v, uint32_t cell, uint8_t field, uint32_t pos)
{
    v->rt_cell[0] = cell;
    v->rt_field[0] = field;
    v->rt_cell[1] = NONE;
    v->rt_pos = pos;
}

/* Puts the value of stack position pos into its home slot. */
static void materialize(vstate *v, uint32_t pos)
{
    sv *e = &v->ops[pos];
    if (e->loc == LOC_LOCAL) {
        emit_copy(v, e->local, home(v, pos), 0);
    } else if (e->loc == LOC_CONST) {
        emit(v, MN__OP_CONST, 0);
        slots(v, home(v, pos), 0, 0, 0);
        imm(v, e->k);
    }
    e->loc = LOC_TEMP;
}

static void materialize_all(vstate *v)
{
    uint32_t from = v->pending_lo < v->ops_len ? v->pending_lo : v->ops_len;
    for (uint32_t i = from; i < v->ops_len; i++)
        materialize(v, i);
    v->pending_lo = v->ops_len;
}

/* Slot to read the (already popped) entry at pos from; constants are materialised. */
static uint32_t src(vstate *v, uint32_t pos)
{
    sv *e = &v->ops[pos];
    if (e->loc == LOC_CONST)
        materialize(v, pos);
    return e->loc == LOC_LOCAL ? e->local : home(v, pos);
}

/* For a backward branch to a loop whose head opens a fuel segment: that segment's cost, which
 * the taken branch charges before jumping past the FUEL operation (0 when unmetered or when
 * the loop head does not start with FUEL). The head segment is complete by the time any branch
 * back to it is emitted. */
static uint64_t loop_head_fuel(const vstate *v, uint32_t label_at)
{
    const mn__wasm_emit *e = &v->e;
    if (!e->metered || e->failed || label_at + 1 >= e->len)
        return 0;
    if (e->code[label_at].op != e->ops[MN__OP_FUEL])
        return 0;
    return e->code[label_at + 1].u64;
}

/* Appends the offset of a backward branch (to past the head's FUEL when it charges) and
 * returns the charge to append after the other immediates, or 0. */
static uint64_t backward(vstate *v, uint32_t target, uint64_t cost)
{
    mn__wasm_emit_backward(&v->e, cost ? target + 2 : target);
    return cost;
}

/* The i32 comparison that is true exactly when `cmp` (0x46..0x4f) is false. */
static unsigned negate_cmp(unsigned cmp)
{
    static const uint8_t neg[10] = {0x47, 0x46, 0x4e, 0x4f, 0x4c, 0x4d, 0x4a, 0x4b, 0x48, 0x49};
    return neg[cmp - 0x46];
}

/* Emits a branch taken when the i32 at cond (stack position cond_pos) is non-zero
 * (when_true) or zero, to a forward fixup chain or a backward target. If the condition was
 * computed by an i32 comparison just before, the comparison is removed and fused into the
 * branch (its fuel was already charged). */
static void emit_cond_branch(vstate *v, bool when_true, uint32_t cond, uint32_t cond_pos,
                             uint32_t *fixups, uint32_t back_target, bool ft)
{
    unsigned cmp = 0;
    uint32_t a = 0, b = 0;
    uint64_t k = 0;
    bool with_k = false;
    if (!v->e.failed && v->rt_cell[0] != NONE && v->rt_pos == cond_pos &&
        v->ops[cond_pos].loc == LOC_TEMP) {
        unsigned lo = v->last_op;
        mn__wasm_cell sl = v->e.code[v->last_op_cell + 1];
        if (lo >= 0x46 && lo <= 0x4f) {
            cmp = lo, a = sl.s[0], b = sl.s[1];
        } else if (lo >= MN__OP_IMM + 0x46 && lo <= MN__OP_IMM + 0x4f) {
            cmp = lo - MN__OP_IMM, a = sl.s[0], with_k = true;
            k = v->e.code[v->last_op_cell + 2].u64;
        } else if (lo == 0x45) {
            cmp = 0x46, a = sl.s[0], with_k = true; /* eqz is eq 0 */
        }
        if (cmp)
            v->e.len = v->last_op_cell;
    }
    /* A backward branch charges its loop head's segment itself (the ..._F forms); a forward
     * one may charge its fall-through segment itself (the ..._T forms), whose cost cell then
     * collects the segment's charges (see take_fall_through). */
    uint64_t cost = fixups ? 0 : loop_head_fuel(v, back_target);
    /* A backward br_if that charges its loop head may also charge its fall-through (the code
     * after the loop, typically), saving that segment's FUEL operation on every loop exit. */
    ft = ft && v->e.metered && (fixups || (cost && !cmp && when_true));
    if (cmp) {
        if (!when_true)
            cmp = negate_cmp(cmp);
        unsigned base = with_k ? (cost ? MN__OP_BRCIF : ft ? MN__OP_BRCIT : MN__OP_BRCI)
                               : (cost ? MN__OP_BRCF : ft ? MN__OP_BRCT : MN__OP_BRC);
        emit(v, base + (cmp - 0x46), 1);
        slots(v, a, b, 0, 0);
    } else {
        MN_ASSERT(when_true || fixups);
        unsigned op = when_true ? (cost ? (ft ? MN__OP_BR_IF_FT : MN__OP_BR_IF_F)
                                        : ft ? MN__OP_BR_IF_T : MN__OP_BR_IF)
                                : (ft ? MN__OP_BR_UNLESS_T : MN__OP_BR_UNLESS);
        emit(v, op, 1);
        slots(v, cond, 0, 0, 0);
    }
    if (fixups && ft)
        mn__wasm_emit_fixup_charged(&v->e, fixups);
    else if (fixups)
        mn__wasm_emit_fixup(&v->e, fixups);
    else
        backward(v, back_target, cost);
    if (with_k)
        imm(v, k);
    if (cost) /* re-read: the branch itself may belong to the head segment */
        imm(v, loop_head_fuel(v, back_target));
    if (ft && !v->e.failed) {
        v->ft_cell = v->e.len;
        imm(v, 0);
    }
}

/* After the label that follows a conditional branch: if the branch charges its fall-through
 * segment, that segment's charges go into the branch's cost cell instead of a FUEL op. */
static void take_fall_through(vstate *v)
{
    if (v->ft_cell != NONE)
        v->e.fuel_cell = v->ft_cell;
    v->ft_cell = NONE;
}

/* Emits the target part of a branch to label depth `depth` with the label's values on top of
 * the stack (already materialised). `cond` is the condition's slot for conditional forms. */
static void emit_branch(vstate *v, bool conditional, uint32_t cond, uint32_t cond_pos,
                        uint32_t depth)
{
    ctl *c = &v->ctls[v->ctls_len - 1 - depth];
    const uint8_t *types;
    uint32_t keep;
    label_types(c, &types, &keep);
    uint32_t from = home(v, v->ops_len - keep);
    if (c->kind == 0) {
        uint32_t skip = MN__WASM_NO_FIXUP;
        if (conditional)
            emit_cond_branch(v, false, cond, cond_pos, &skip, 0, false);
        emit(v, MN__OP_RETURN, (conditional ? 0 : 1) + keep / MN_WASM_FUEL_BULK_UNIT);
        slots(v, from, keep, 0, 0);
        mn__wasm_emit_patch(&v->e, skip);
        return;
    }
    uint32_t to = home(v, c->height);
    bool moves = keep && from != to;
    if (conditional && !moves) {
        emit_cond_branch(v, true, cond, cond_pos, c->kind == 0x03 ? NULL : &c->fixups,
                         c->label, true);
        return;
    }
    if (!moves && c->kind == 0x03) {
        uint64_t cost = loop_head_fuel(v, c->label);
        emit(v, cost ? MN__OP_BR_F : MN__OP_BR, 1);
        if (backward(v, c->label, cost)) /* re-read: the branch may be in the head segment */
            imm(v, loop_head_fuel(v, c->label));
        return;
    }
    unsigned op = conditional ? (moves ? MN__OP_BR_IF_DROP : MN__OP_BR_IF)
                              : (moves ? MN__OP_BR_DROP : MN__OP_BR);
    emit(v, op, 1 + (moves ? keep / MN_WASM_FUEL_BULK_UNIT : 0)); /* moving values costs per 64 */
    if (conditional || moves)
        slots(v, cond, from, to, keep);
    if (c->kind == 0x03)
        mn__wasm_emit_backward(&v->e, c->label);
    else
        mn__wasm_emit_fixup(&v->e, &c->fixups);
}

/* ---- immediates -------------------------------------------------------------------- */

static int rd_index(vstate *v, mn__wasm_rd *rd, uint32_t *out)
{
    return mn__wasm_rd_u32(rd, out, v->err);
}

static int rd_blocktype(vstate *v, mn__wasm_rd *rd, const uint8_t **params, uint32_t *np,
                        const uint8_t **results, uint32_t *nr)
{
    if (rd->p >= rd->end)
        return mn_err_set(v->err, MN_ECORRUPT, 0, "unexpected end");
    uint8_t b = *rd->p;
    *np = *nr = 0;
    *params = *results = NULL;
    if (b == 0x40) {
        rd->p++;
        return 0;
    }
    if (mn__wasm_is_valtype(b)) {
        rd->p++;
        *results = &single_types[b];
        *nr = 1;
        return 0;
    }
    int64_t x;
    int rc = mn__wasm_rd_s33(rd, &x, v->err);
    if (rc)
        return rc;
    if (x < 0)
        return mn_err_set(v->err, MN_ECORRUPT, 0, "malformed block type");
    if ((uint64_t)x >= v->mod->types_count)
        return invalid(v, "unknown type");
    const mn__wasm_functype *ft = &v->mod->types[x];
    *params = ft->types;
    *np = ft->params_count;
    *results = ft->types + ft->params_count;
    *nr = ft->results_count;
    return 0;
}

static int memarg(vstate *v, mn__wasm_rd *rd, uint32_t natural_log2, uint32_t *offset)
{
    uint32_t align;
    int rc = mn__wasm_rd_u32(rd, &align, v->err);
    if (rc == 0)
        rc = mn__wasm_rd_u32(rd, offset, v->err);
    if (rc)
        return rc;
    if (v->mod->memories_count == 0)
        return invalid(v, "unknown memory 0");
    if (align > natural_log2)
        return invalid(v, "alignment must not be larger than natural");
    return 0;
}

/* ---- instruction groups --------------------------------------------------------------- */

/* Signatures of the plain numeric instructions: operand types, '>', result type;
 * i=i32 I=i64 f=f32 F=f64. */
static const char *numeric_sig(unsigned op)
{
    if (op == 0x45)
        return "i>i";
    if (op >= 0x46 && op <= 0x4f)
        return "ii>i";
    if (op == 0x50)
        return "I>i";
    if (op >= 0x51 && op <= 0x5a)
        return "II>i";
    if (op >= 0x5b && op <= 0x60)
        return "ff>i";
    if (op >= 0x61 && op <= 0x66)
        return "FF>i";
    if (op >= 0x67 && op <= 0x69)
        return "i>i";
    if (op >= 0x6a && op <= 0x78)
        return "ii>i";
    if (op >= 0x79 && op <= 0x7b)
        return "I>I";
    if (op >= 0x7c && op <= 0x8a)
        return "II>I";
    if (op >= 0x8b && op <= 0x91)
        return "f>f";
    if (op >= 0x92 && op <= 0x98)
        return "ff>f";
    if (op >= 0x99 && op <= 0x9f)
        return "F>F";
    if (op >= 0xa0 && op <= 0xa6)
        return "FF>F";
    static const char *conv[] = {
        "I>i", "f>i", "f>i", "F>i", "F>i", "i>I", "i>I", "f>I", "f>I", "F>I", "F>I", /* a7-b1 */
        "i>f", "i>f", "I>f", "I>f", "F>f",                                          /* b2-b6 */
        "i>F", "i>F", "I>F", "I>F", "f>F",                                          /* b7-bb */
        "f>i", "F>I", "i>f", "I>F",                                                 /* bc-bf */
        "i>i", "i>i", "I>I", "I>I", "I>I",                                          /* c0-c4 */
    };
    if (op >= 0xa7 && op <= 0xc4)
        return conv[op - 0xa7];
    static const char *sat[] = {"f>i", "f>i", "F>i", "F>i", "f>I", "f>I", "F>I", "F>I"};
    if (op >= MN__OP_FC && op <= MN__OP_FC + 7)
        return sat[op - MN__OP_FC];
    return NULL;
}

static uint8_t sig_type(char c)
{
    switch (c) {
    case 'i':
        return MN_WASM_I32;
    case 'I':
        return MN_WASM_I64;
    case 'f':
        return MN_WASM_F32;
    default:
        return MN_WASM_F64;
    }
}

/* Float arithmetic whose NaN results policy mode canonicalises. */
static bool canon_op(unsigned op)
{
    return (op >= 0x8d && op <= 0x97) || op == 0xb6 || (op >= 0x9b && op <= 0xa5) ||
           op == 0xbb;
}

/* Reinterpretations only relabel the bits: no code. */
static bool is_reinterpret(unsigned op)
{
    return op >= 0xbc && op <= 0xbf;
}

/* Integer operations with a form taking their second operand as an immediate. */
static bool has_imm_form(unsigned op)
{
    return (op >= 0x46 && op <= 0x4f) || (op >= 0x6a && op <= 0x6c) ||
           (op >= 0x71 && op <= 0x78) || (op >= 0x51 && op <= 0x5a) ||
           (op >= 0x7c && op <= 0x7e) || (op >= 0x83 && op <= 0x8a);
}

/* Before a canonicalising operation: an operand (stack positions pos..pos+n-1) that a
 * canonicalising operation computed, and that nothing else has read (an entry is read once:
 * branches, blocks and tees that keep a value push a fresh entry), may come from that
 * operation's plain form. A NaN operand makes every canonicalising operation return NaN,
 * which it canonicalises, so the producer's NaN payload is never observed: results stay
 * bit-identical with one NaN check fewer (`a * b + c` checks once). */
static void uncanon_operands(vstate *v, uint32_t pos, uint32_t n)
{
    for (uint32_t i = pos; i < pos + n; i++) {
        sv *e = &v->ops[i];
        if (e->loc == LOC_TEMP && e->canon_cell != NONE && !v->e.failed)
            v->e.code[e->canon_cell].op = v->e.ops[e->canon_op];
        e->canon_cell = NONE;
    }
}

static int numeric(vstate *v, unsigned op, const char *sig, bool canon)
{
    const char *gt = strchr(sig, '>');
    uint32_t n = (uint32_t)(gt - sig);
    for (uint32_t i = n; i > 0; i--) {
        int rc = pop_expect(v, sig_type(sig[i - 1]));
        if (rc)
            return rc;
    }
    uint32_t pos = v->ops_len;
    if (!live(v))
        return push(v, sig_type(gt[1]));
    if (is_reinterpret(op)) {
        mn__wasm_emit_charge(&v->e, 1);
        v->ops_len++; /* same value, same location */
        v->ops[pos].type = sig_type(gt[1]);
        return 0;
    }
    if (n == 2 && v->ops[pos + 1].loc == LOC_CONST && has_imm_form(op)) {
        uint32_t a1 = src(v, pos);
        emit(v, MN__OP_IMM + op, 1);
        uint32_t c1 = slots(v, a1, home(v, pos), 0, 0);
        imm(v, v->ops[pos + 1].k);
        int rc1 = push(v, sig_type(gt[1]));
        retargetable(v, c1, 1, pos);
        return rc1;
    }
    uint32_t a = src(v, pos), b = n == 2 ? src(v, pos + 1) : 0;
    /* Policy mode uses the canonicalising form of float arithmetic (same operands). */
    bool canonicalise = canon && canon_op(op);
    if (canonicalise)
        uncanon_operands(v, pos, n);
    emit(v, canonicalise ? MN__OP_CANON + op : op, 1);
    uint32_t op_cell = v->last_op_cell;
    uint32_t cell = n == 2 ? slots(v, a, b, home(v, pos), 0) : slots(v, a, home(v, pos), 0, 0);
    uint8_t field = n == 2 ? 2 : 1;
    int rc = push(v, sig_type(gt[1]));
    if (rc == 0 && canonicalise) {
        v->ops[pos].canon_cell = op_cell;
        v->ops[pos].canon_op = (uint16_t)op;
    }
    retargetable(v, cell, field, pos);
    return rc;
}

/* Loads 0x28-0x35 and stores 0x36-0x3e. */
static int memory_access(vstate *v, mn__wasm_rd *rd, unsigned op)
{
    static const uint8_t load_log2[] = {2, 3, 2, 3, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2};
    static const char load_type[] = "iIfFiiiiIIIIII";
    static const uint8_t store_log2[] = {2, 3, 2, 3, 0, 1, 0, 1, 2};
    static const char store_type[] = "iIfFiiIII";
    bool load = op <= 0x35;
    uint32_t k = load ? op - 0x28 : op - 0x36;
    uint32_t offset;
    int rc = memarg(v, rd, load ? load_log2[k] : store_log2[k], &offset);
    if (rc)
        return rc;
    if (load) {
        if ((rc = pop_expect(v, MN_WASM_I32)))
            return rc;
    } else {
        if ((rc = pop_expect(v, sig_type(store_type[k]))) || (rc = pop_expect(v, MN_WASM_I32)))
            return rc;
    }
    uint32_t pos = v->ops_len;
    if (live(v)) {
        uint32_t a = src(v, pos);
        uint32_t b = load ? home(v, pos) : src(v, pos + 1);
        emit(v, op, 1);
        uint32_t cell = slots(v, a, b, 0, 0);
        imm(v, offset);
        if (load) {
            rc = push(v, sig_type(load_type[k]));
            retargetable(v, cell, 1, pos);
            return rc;
        }
        return 0;
    }
    return load ? push(v, sig_type(load_type[k])) : 0;
}

static int need_table(vstate *v, uint32_t t)
{
    if (t >= v->mod->tables_count)
        return invalid(v, "unknown table");
    return 0;
}

static int need_elem(vstate *v, uint32_t s)
{
    if (s >= v->mod->elems_count)
        return invalid(v, "unknown elem segment");
    return 0;
}

static int need_data(vstate *v, uint32_t s)
{
    /* An index past the segments is invalid whether or not the count was declared (the spec
     * interpreter's order); a valid index still needs the data count section (malformed). */
    uint32_t count = v->mod->has_data_count ? v->mod->data_count : v->mod->datas_count;
    if (s >= count)
        return invalid(v, "unknown data segment");
    if (!v->mod->has_data_count)
        return mn_err_set(v->err, MN_ECORRUPT, 0, "data count section required");
    return 0;
}

static int need_memory(vstate *v)
{
    if (v->mod->memories_count == 0)
        return invalid(v, "unknown memory 0");
    return 0;
}

static int zero_byte(vstate *v, mn__wasm_rd *rd)
{
    uint8_t b;
    int rc = mn__wasm_rd_u8(rd, &b, v->err);
    if (rc == 0 && b != 0)
        return mn_err_set(v->err, MN_ECORRUPT, 0, "zero byte expected");
    return rc;
}

static int pop3(vstate *v, uint8_t a, uint8_t b, uint8_t c)
{
    int rc = pop_expect(v, c);
    if (rc == 0)
        rc = pop_expect(v, b);
    if (rc == 0)
        rc = pop_expect(v, a);
    return rc;
}

/* Emits an operation reading the `n` popped entries at pos.. (and writing `dst` when it has a
 * result), followed by its immediates. */
static void emit_sources(vstate *v, unsigned op, uint32_t pos, uint32_t n, bool result,
                         uint64_t imm1, uint64_t imm2, uint32_t nimm)
{
    uint32_t s[4] = {0, 0, 0, 0};
    for (uint32_t i = 0; i < n; i++)
        s[i] = src(v, pos + i);
    if (result)
        s[n] = home(v, pos);
    /* Cost table v1: bulk operations also pay per MN_WASM_FUEL_BULK_UNIT bytes or elements,
     * memory.grow per byte it zeroes (1,024 per page). */
    uint32_t counted = NONE;
    uint64_t mul = 1;
    if (op == MN__OP_FC + 8 || op == MN__OP_FC + 10 || op == MN__OP_FC + 11 ||
        op == MN__OP_FC + 12 || op == MN__OP_FC + 14 || op == MN__OP_FC + 17)
        counted = s[2];
    else if (op == MN__OP_FC + 15)
        counted = s[1];
    else if (op == 0x40)
        counted = s[0], mul = MN__WASM_PAGE_BYTES;
    if (counted != NONE && v->e.metered) {
        emit(v, MN__OP_FUEL_DYN, 0);
        slots(v, counted, 0, 0, 0);
        imm(v, mul);
    }
    emit(v, op, 1);
    slots(v, s[0], s[1], s[2], s[3]);
    if (nimm >= 1)
        imm(v, imm1);
    if (nimm >= 2)
        imm(v, imm2);
}

/* 0xFC 8..17: bulk memory and table operations. */
static int bulk(vstate *v, mn__wasm_rd *rd, uint32_t sub)
{
    uint32_t a = 0, b = 0, n = 3, nimm = 0;
    int rc = 0;
    bool result = false;
    switch (sub) {
    case 8: /* memory.init */
        if ((rc = rd_index(v, rd, &a)) || (rc = need_data(v, a)) || (rc = zero_byte(v, rd)) ||
            (rc = need_memory(v)))
            return rc;
        rc = pop3(v, MN_WASM_I32, MN_WASM_I32, MN_WASM_I32);
        nimm = 1;
        break;
    case 9: /* data.drop */
        if ((rc = rd_index(v, rd, &a)) || (rc = need_data(v, a)))
            return rc;
        n = 0, nimm = 1;
        break;
    case 10: /* memory.copy */
        if ((rc = zero_byte(v, rd)) || (rc = zero_byte(v, rd)) || (rc = need_memory(v)))
            return rc;
        rc = pop3(v, MN_WASM_I32, MN_WASM_I32, MN_WASM_I32);
        break;
    case 11: /* memory.fill */
        if ((rc = zero_byte(v, rd)) || (rc = need_memory(v)))
            return rc;
        rc = pop3(v, MN_WASM_I32, MN_WASM_I32, MN_WASM_I32);
        break;
    case 12: /* table.init elem table */
        if ((rc = rd_index(v, rd, &a)) || (rc = rd_index(v, rd, &b)) ||
            (rc = need_elem(v, a)) || (rc = need_table(v, b)))
            return rc;
        if (v->mod->elems[a].type != v->mod->tables[b].elem)
            return mismatch(v);
        rc = pop3(v, MN_WASM_I32, MN_WASM_I32, MN_WASM_I32);
        nimm = 2;
        break;
    case 13: /* elem.drop */
        if ((rc = rd_index(v, rd, &a)) || (rc = need_elem(v, a)))
            return rc;
        n = 0, nimm = 1;
        break;
    case 14: /* table.copy dst src */
        if ((rc = rd_index(v, rd, &a)) || (rc = rd_index(v, rd, &b)) ||
            (rc = need_table(v, a)) || (rc = need_table(v, b)))
            return rc;
        if (v->mod->tables[a].elem != v->mod->tables[b].elem)
            return mismatch(v);
        rc = pop3(v, MN_WASM_I32, MN_WASM_I32, MN_WASM_I32);
        nimm = 2;
        break;
    case 15: /* table.grow: init, n -> old size */
        if ((rc = rd_index(v, rd, &a)) || (rc = need_table(v, a)))
            return rc;
        if ((rc = pop_expect(v, MN_WASM_I32)) || (rc = pop_expect(v, v->mod->tables[a].elem)))
            return rc;
        n = 2, nimm = 1, result = true;
        break;
    case 16: /* table.size */
        if ((rc = rd_index(v, rd, &a)) || (rc = need_table(v, a)))
            return rc;
        n = 0, nimm = 1, result = true;
        break;
    case 17: /* table.fill */
        if ((rc = rd_index(v, rd, &a)) || (rc = need_table(v, a)))
            return rc;
        rc = pop3(v, MN_WASM_I32, v->mod->tables[a].elem, MN_WASM_I32);
        nimm = 1;
        break;
    default:
        return mn_err_set(v->err, MN_ECORRUPT, 0, "illegal opcode 0xfc %u", sub);
    }
    if (rc)
        return rc;
    if (live(v))
        emit_sources(v, MN__OP_FC + sub, v->ops_len, n, result, a, b, nimm);
    return result ? push(v, MN_WASM_I32) : 0;
}

static int prefixed(vstate *v, mn__wasm_rd *rd)
{
    uint32_t sub;
    int rc = mn__wasm_rd_u32(rd, &sub, v->err);
    if (rc)
        return rc;
    if (sub <= 7)
        return numeric(v, MN__OP_FC + sub, numeric_sig(MN__OP_FC + sub), false);
    return bulk(v, rd, sub);
}

/* ---- control instructions ------------------------------------------------------------- */

static int op_block(vstate *v, mn__wasm_rd *rd, uint8_t kind)
{
    const uint8_t *params, *results;
    uint32_t np, nr;
    int rc = rd_blocktype(v, rd, &params, &np, &results, &nr);
    if (rc == 0 && kind == 0x04)
        rc = pop_expect(v, MN_WASM_I32);
    if (rc)
        return rc;
    uint32_t cond_pos = v->ops_len;
    if ((rc = pop_vals(v, params, np)))
        return rc;
    bool was_live = live(v);
    uint32_t else_fixup = MN__WASM_NO_FIXUP;
    if (was_live) {
        uint32_t cond = kind == 0x04 ? src(v, cond_pos) : 0;
        v->ops_len += np;
        materialize_all(v);
        v->ops_len -= np;
        if (kind == 0x04)
            emit_cond_branch(v, false, cond, cond_pos, &else_fixup, 0, true);
        if (kind == 0x02) {
            no_retarget(v); /* a block's start is no branch target: the segment goes on */
        } else {
            label(v);
            take_fall_through(v);
        }
    }
    if ((rc = push_ctl(v, kind, params, np, results, nr)))
        return rc;
    v->ctls[v->ctls_len - 1].else_fixup = else_fixup;
    return 0;
}

static int op_else(vstate *v)
{
    ctl *top = &v->ctls[v->ctls_len - 1];
    if (top->kind != 0x04)
        return invalid(v, "else without if");
    bool end_live = live(v);
    if (end_live)
        materialize_all(v);
    ctl c;
    int rc = pop_ctl(v, &c);
    if (rc)
        return rc;
    if (end_live) {
        emit(v, MN__OP_BR, 0);
        mn__wasm_emit_fixup(&v->e, &c.fixups);
    }
    if (!c.dead) {
        mn__wasm_emit_patch(&v->e, c.else_fixup);
        label(v);
    }
    v->ctls_len++;
    ctl *n = &v->ctls[v->ctls_len - 1];
    *n = c;
    n->kind = 0x05;
    n->unreachable = false;
    n->else_fixup = MN__WASM_NO_FIXUP;
    return push_vals(v, c.params, c.params_count);
}

static int op_end(vstate *v)
{
    bool end_live = live(v);
    if (end_live)
        materialize_all(v);
    ctl c;
    int rc = pop_ctl(v, &c);
    if (rc)
        return rc;
    if (c.kind == 0) {
        if (end_live) {
            emit(v, MN__OP_RETURN, c.results_count / MN_WASM_FUEL_BULK_UNIT);
            slots(v, home(v, 0), c.results_count, 0, 0);
        }
        return 0;
    }
    if (c.kind == 0x04 && c.params_count != c.results_count)
        return mismatch(v); /* an if without else must not change the types */
    if (c.kind == 0x04) {
        for (uint32_t i = 0; i < c.params_count; i++)
            if (c.params[i] != c.results[i])
                return mismatch(v);
    }
    if (!c.dead) {
        bool target = c.else_fixup != MN__WASM_NO_FIXUP || c.fixups != MN__WASM_NO_FIXUP;
        mn__wasm_emit_patch(&v->e, c.else_fixup);
        mn__wasm_emit_patch(&v->e, c.fixups);
        if (target || !open_segment_empty(v)) {
            label(v);
        } else { /* reached only by falling through: the empty segment may go on (no FUEL) */
            no_retarget(v);
            v->last_op = 0;
        }
    }
    return push_vals(v, c.results, c.results_count);
}

static int need_label(vstate *v, uint32_t depth)
{
    if (depth >= v->ctls_len)
        return invalid(v, "unknown label");
    return 0;
}

static int op_br(vstate *v, mn__wasm_rd *rd, bool conditional)
{
    uint32_t depth;
    int rc = rd_index(v, rd, &depth);
    if (rc == 0)
        rc = need_label(v, depth);
    if (rc == 0 && conditional)
        rc = pop_expect(v, MN_WASM_I32);
    if (rc)
        return rc;
    uint32_t cond_pos = v->ops_len;
    const uint8_t *types;
    uint32_t n;
    label_types(&v->ctls[v->ctls_len - 1 - depth], &types, &n);
    if ((rc = pop_vals(v, types, n)))
        return rc;
    if (live(v)) {
        uint32_t cond = conditional ? src(v, cond_pos) : 0;
        v->ops_len += n; /* the branch sees the values in place */
        materialize_all(v);
        emit_branch(v, conditional, cond, cond_pos, depth);
        v->ops_len -= n;
        label(v);
        take_fall_through(v);
    }
    if (!conditional) {
        set_unreachable(v);
        return 0;
    }
    return push_vals(v, types, n);
}

static int op_br_table(vstate *v, mn__wasm_rd *rd)
{
    uint32_t count;
    int rc = mn__wasm_rd_u32(rd, &count, v->err);
    if (rc)
        return rc;
    if (count > MN_WASM_BR_TABLE_MAX)
        return mn_err_set(v->err, MN_ELIMIT, 0, "br_table too large");
    if ((uint64_t)count >= (uint64_t)(rd->end - rd->p))
        return mn_err_set(v->err, MN_ECORRUPT, 0, "unexpected end");
    const uint8_t *targets = rd->p;
    uint32_t depth;
    for (uint32_t i = 0; i <= count; i++) /* first pass: decode to find the default */
        if ((rc = rd_index(v, rd, &depth)) || (rc = need_label(v, depth)))
            return rc;
    if ((rc = pop_expect(v, MN_WASM_I32)))
        return rc;
    const uint8_t *dtypes;
    uint32_t arity;
    label_types(&v->ctls[v->ctls_len - 1 - depth], &dtypes, &arity);
    mn__wasm_rd again = {targets, rd->p};
    bool emitting = live(v);
    if (emitting) {
        uint32_t index = src(v, v->ops_len);
        materialize_all(v);
        emit(v, MN__OP_BR_TABLE, 1 + arity / MN_WASM_FUEL_BULK_UNIT);
        slots(v, index, arity, v->ops_len >= arity ? home(v, v->ops_len - arity) : 0, 0);
        imm(v, count);
    }
    for (uint32_t i = 0; i <= count; i++) {
        uint32_t d;
        (void)rd_index(v, &again, &d);
        ctl *c = &v->ctls[v->ctls_len - 1 - d];
        const uint8_t *types;
        uint32_t n;
        label_types(c, &types, &n);
        if (n != arity)
            return mismatch(v);
        uint32_t base = v->ops_len;
        if ((rc = pop_vals(v, types, n)))
            return rc;
        v->ops_len = base; /* push back what was popped: the same entries */
        if (!emitting)
            continue;
        if (c->kind == 0) {
            imm(v, UINT64_MAX); /* offset marker: return */
        } else if (c->kind == 0x03) {
            mn__wasm_emit_backward(&v->e, c->label);
        } else {
            mn__wasm_emit_fixup(&v->e, &c->fixups);
        }
        imm(v, c->kind == 0 ? home(v, 0) - v->locals : home(v, c->height));
    }
    if ((rc = pop_vals(v, dtypes, arity)))
        return rc;
    if (emitting)
        label(v);
    set_unreachable(v);
    return 0;
}

static int emit_call(vstate *v, const mn__wasm_functype *ft, unsigned op, uint64_t x,
                     uint64_t table, bool indirect)
{
    int rc = 0;
    if (indirect && (rc = pop_expect(v, MN_WASM_I32)))
        return rc;
    uint32_t index_pos = v->ops_len;
    if ((rc = pop_vals(v, ft->types, ft->params_count)))
        return rc;
    if (live(v)) {
        uint32_t index = indirect ? src(v, index_pos) : 0;
        v->ops_len += ft->params_count;
        materialize_all(v);
        v->ops_len -= ft->params_count;
        emit(v, op, 1 + (ft->params_count + ft->results_count) / MN_WASM_FUEL_BULK_UNIT);
        slots(v, home(v, v->ops_len), index, 0, 0);
        imm(v, x);
        if (indirect)
            imm(v, table);
    }
    return push_vals(v, ft->types + ft->params_count, ft->results_count);
}

static int op_call(vstate *v, mn__wasm_rd *rd)
{
    uint32_t f;
    int rc = rd_index(v, rd, &f);
    if (rc)
        return rc;
    if (f >= v->mod->funcs_count)
        return invalid(v, "unknown function");
    const mn__wasm_functype *ft = &v->mod->types[v->mod->func_type_index[f]];
    return emit_call(v, ft, MN__OP_CALL, f, 0, false);
}

static int op_call_indirect(vstate *v, mn__wasm_rd *rd)
{
    uint32_t t, table;
    int rc = rd_index(v, rd, &t);
    if (rc == 0)
        rc = rd_index(v, rd, &table);
    if (rc)
        return rc;
    if (table >= v->mod->tables_count)
        return invalid(v, "unknown table");
    if (v->mod->tables[table].elem != MN_WASM_FUNCREF)
        return mismatch(v);
    if (t >= v->mod->types_count)
        return invalid(v, "unknown type");
    return emit_call(v, &v->mod->types[t], MN__OP_CALL_INDIRECT, t, table, true);
}

static int op_select(vstate *v, mn__wasm_rd *rd, bool typed)
{
    uint8_t want = UNKNOWN;
    int rc;
    if (typed) {
        uint32_t n;
        if ((rc = mn__wasm_rd_u32(rd, &n, v->err)))
            return rc;
        if (n != 1)
            return invalid(v, "invalid result arity");
        if ((rc = mn__wasm_rd_valtype(rd, &want, v->err)))
            return rc;
    }
    uint8_t t1, t2;
    if ((rc = pop_expect(v, MN_WASM_I32)) || (rc = pop(v, &t1)) || (rc = pop(v, &t2)))
        return rc;
    if (typed) {
        if ((t1 != want && t1 != UNKNOWN) || (t2 != want && t2 != UNKNOWN))
            return mismatch(v);
    } else {
        if (mn__wasm_is_ref(t1) || mn__wasm_is_ref(t2))
            return mismatch(v);
        if (t1 != t2 && t1 != UNKNOWN && t2 != UNKNOWN)
            return mismatch(v);
        want = t1 == UNKNOWN ? t2 : t1;
    }
    uint32_t pos = v->ops_len;
    if (live(v)) {
        uint32_t a = src(v, pos), b = src(v, pos + 1), c = src(v, pos + 2);
        emit(v, 0x1b, 1);
        uint32_t cell = slots(v, a, b, c, home(v, pos));
        rc = push(v, want);
        retargetable(v, cell, 3, pos);
        return rc;
    }
    return push(v, want);
}

/* Before writing local x: no pending entry may still read x. */
static void protect_local(vstate *v, uint32_t x)
{
    uint32_t from = v->pending_lo < v->ops_len ? v->pending_lo : v->ops_len;
    if (v->ops_len - from > ALIAS_SCAN_MAX) {
        materialize_all(v);
        return;
    }
    for (uint32_t i = from; i < v->ops_len; i++) {
        if (v->ops[i].loc == LOC_LOCAL && v->ops[i].local == x) {
            materialize_all(v);
            return;
        }
    }
}

static bool aliased(const vstate *v, uint32_t x)
{
    uint32_t from = v->pending_lo < v->ops_len ? v->pending_lo : v->ops_len;
    if (v->ops_len - from > ALIAS_SCAN_MAX)
        return true;
    for (uint32_t i = from; i < v->ops_len; i++)
        if (v->ops[i].loc == LOC_LOCAL && v->ops[i].local == x)
            return true;
    return false;
}

/* local.set / local.tee of the value at stack position pos (already popped). */
static void emit_local_write(vstate *v, uint32_t x, uint32_t pos)
{
    sv *e = &v->ops[pos];
    if (e->loc == LOC_TEMP && v->rt_cell[0] != NONE && v->rt_pos == pos && !aliased(v, x)) {
        /* the operation that produced the value writes the local directly */
        for (int i = 0; i < 2; i++)
            if (v->rt_cell[i] != NONE && !v->e.failed)
                v->e.code[v->rt_cell[i]].s[v->rt_field[i]] = (uint16_t)x;
        no_retarget(v);
        mn__wasm_emit_charge(&v->e, 1);
        return;
    }
    if (e->loc == LOC_LOCAL && e->local == x) {
        mn__wasm_emit_charge(&v->e, 1);
        return;
    }
    protect_local(v, x); /* the value's own entry is popped: it is read below, not moved */
    if (e->loc == LOC_CONST) {
        emit(v, MN__OP_CONST, 1);
        slots(v, x, 0, 0, 0);
        imm(v, e->k);
        return;
    }
    emit_copy(v, e->loc == LOC_LOCAL ? e->local : home(v, pos), x, 1);
}

static int op_local(vstate *v, mn__wasm_rd *rd, unsigned op)
{
    uint32_t x;
    int rc = rd_index(v, rd, &x);
    if (rc)
        return rc;
    if (x >= v->locals)
        return invalid(v, "unknown local");
    uint8_t t = v->fd->local_types[x];
    if (op == 0x20) {
        if (live(v))
            mn__wasm_emit_charge(&v->e, 1);
        return push_loc(v, t, LOC_LOCAL, x, 0);
    }
    if ((rc = pop_expect(v, t)))
        return rc;
    uint32_t pos = v->ops_len;
    if (!live(v))
        return op == 0x21 ? 0 : push(v, t);
    emit_local_write(v, x, pos);
    return op == 0x21 ? 0 : push_loc(v, t, LOC_LOCAL, x, 0);
}

static int op_global(vstate *v, mn__wasm_rd *rd, unsigned op)
{
    uint32_t x;
    int rc = rd_index(v, rd, &x);
    if (rc)
        return rc;
    if (x >= v->mod->globals_count)
        return invalid(v, "unknown global");
    mn__wasm_globaltype g = v->mod->global_types[x];
    if (op == 0x24) {
        if (!g.mut)
            return invalid(v, "global is immutable");
        if ((rc = pop_expect(v, g.type)))
            return rc;
        if (live(v))
            emit_sources(v, op, v->ops_len, 1, false, x, 0, 1);
        return 0;
    }
    uint32_t pos = v->ops_len;
    if (live(v)) {
        emit(v, op, 1);
        uint32_t cell = slots(v, home(v, pos), 0, 0, 0);
        imm(v, x);
        rc = push(v, g.type);
        retargetable(v, cell, 0, pos);
        return rc;
    }
    return push(v, g.type);
}

static int op_table_access(vstate *v, mn__wasm_rd *rd, unsigned op)
{
    uint32_t x;
    int rc = rd_index(v, rd, &x);
    if (rc == 0)
        rc = need_table(v, x);
    if (rc)
        return rc;
    uint8_t t = v->mod->tables[x].elem;
    if (op == 0x26 && (rc = pop_expect(v, t)))
        return rc;
    if ((rc = pop_expect(v, MN_WASM_I32)))
        return rc;
    if (live(v))
        emit_sources(v, op, v->ops_len, op == 0x25 ? 1 : 2, op == 0x25, x, 0, 1);
    return op == 0x25 ? push(v, t) : 0;
}

static int op_const(vstate *v, mn__wasm_rd *rd, uint8_t op)
{
    uint64_t val = 0;
    uint8_t type;
    int rc;
    if (op == 0x41) {
        int32_t x;
        rc = mn__wasm_rd_s32(rd, &x, v->err);
        val = (uint32_t)x, type = MN_WASM_I32;
    } else if (op == 0x42) {
        int64_t x;
        rc = mn__wasm_rd_s64(rd, &x, v->err);
        val = (uint64_t)x, type = MN_WASM_I64;
    } else {
        const uint8_t *p;
        size_t n = op == 0x43 ? 4 : 8;
        rc = mn__wasm_rd_bytes(rd, n, &p, v->err);
        if (rc == 0)
            memcpy(&val, p, n);
        type = op == 0x43 ? MN_WASM_F32 : MN_WASM_F64;
    }
    if (rc)
        return rc;
    if (live(v))
        mn__wasm_emit_charge(&v->e, 1);
    return push_loc(v, type, LOC_CONST, 0, val);
}

static int op_ref(vstate *v, mn__wasm_rd *rd, uint8_t op)
{
    int rc;
    if (op == 0xd0) {
        uint8_t t;
        if ((rc = mn__wasm_rd_u8(rd, &t, v->err)))
            return rc;
        if (!mn__wasm_is_ref(t))
            return mn_err_set(v->err, MN_ECORRUPT, 0, "malformed reference type");
        if (live(v))
            mn__wasm_emit_charge(&v->e, 1);
        return push_loc(v, t, LOC_CONST, 0, 0);
    }
    if (op == 0xd1) {
        uint8_t t;
        if ((rc = pop(v, &t)))
            return rc;
        if (t != UNKNOWN && !mn__wasm_is_ref(t))
            return mismatch(v);
        if (live(v))
            emit_sources(v, op, v->ops_len, 1, true, 0, 0, 0);
        return push(v, MN_WASM_I32);
    }
    uint32_t f;
    if ((rc = rd_index(v, rd, &f)))
        return rc;
    if (f >= v->mod->funcs_count)
        return invalid(v, "unknown function");
    if (!v->mod->func_declared[f])
        return invalid(v, "undeclared function reference");
    if (live(v))
        emit_sources(v, op, v->ops_len, 0, true, f, 0, 1);
    return push(v, MN_WASM_FUNCREF);
}

static int op_memory_size_grow(vstate *v, mn__wasm_rd *rd, uint8_t op)
{
    int rc;
    if ((rc = zero_byte(v, rd)) || (rc = need_memory(v)))
        return rc;
    if (op == 0x40 && (rc = pop_expect(v, MN_WASM_I32)))
        return rc;
    if (live(v))
        emit_sources(v, op, v->ops_len, op == 0x40, true, 0, 0, 0);
    return push(v, MN_WASM_I32);
}

static int op_return(vstate *v)
{
    const ctl *f = &v->ctls[0];
    int rc = pop_vals(v, f->results, f->results_count);
    if (rc)
        return rc;
    if (live(v)) {
        v->ops_len += f->results_count;
        materialize_all(v);
        emit(v, MN__OP_RETURN, 1 + f->results_count / MN_WASM_FUEL_BULK_UNIT);
        slots(v, home(v, v->ops_len - f->results_count), f->results_count, 0, 0);
        v->ops_len -= f->results_count;
        label(v);
    }
    set_unreachable(v);
    return 0;
}

static int instruction(vstate *v, mn__wasm_rd *rd, uint8_t op)
{
    uint8_t t;
    const char *sig;
    switch (op) {
    case 0x00: /* unreachable */
        if (live(v)) {
            emit(v, 0x00, 1);
            label(v);
        }
        set_unreachable(v);
        return 0;
    case 0x01:
        return 0;
    case 0x02:
    case 0x03:
    case 0x04:
        return op_block(v, rd, op);
    case 0x05:
        return op_else(v);
    case 0x0b:
        return op_end(v);
    case 0x0c:
        return op_br(v, rd, false);
    case 0x0d:
        return op_br(v, rd, true);
    case 0x0e:
        return op_br_table(v, rd);
    case 0x0f:
        return op_return(v);
    case 0x10:
        return op_call(v, rd);
    case 0x11:
        return op_call_indirect(v, rd);
    case 0x1a:
        if (live(v))
            mn__wasm_emit_charge(&v->e, 1);
        return pop(v, &t);
    case 0x1b:
    case 0x1c:
        return op_select(v, rd, op == 0x1c);
    case 0x20:
    case 0x21:
    case 0x22:
        return op_local(v, rd, op);
    case 0x23:
    case 0x24:
        return op_global(v, rd, op);
    case 0x25:
    case 0x26:
        return op_table_access(v, rd, op);
    case 0x3f:
    case 0x40:
        return op_memory_size_grow(v, rd, op);
    case 0x41:
    case 0x42:
    case 0x43:
    case 0x44:
        return op_const(v, rd, op);
    case 0xd0:
    case 0xd1:
    case 0xd2:
        return op_ref(v, rd, op);
    case 0xfc:
        return prefixed(v, rd);
    default:
        break;
    }
    if (op >= 0x28 && op <= 0x3e)
        return memory_access(v, rd, op);
    if ((sig = numeric_sig(op)) != NULL)
        return numeric(v, op, sig, v->mod->cfg.canonical_nans);
    return mn_err_set(v->err, MN_ECORRUPT, 0, "illegal opcode 0x%02x", op);
}

static int function_body(vstate *v, mn__wasm_funcdef *fd)
{
    const mn__wasm_functype *ft = &v->mod->types[fd->type_index];
    v->fd = fd;
    v->locals = ft->params_count + fd->locals_count;
    v->ops_len = v->ops_max = 0;
    v->pending_lo = 0;
    v->ctls_len = 0;
    v->ft_cell = NONE;
    no_retarget(v);
    mn__wasm_emit_init(&v->e, v->mod->cfg.metered);
    /* Cost table v1: entering a function also pays for zeroing its locals, per 64. */
    mn__wasm_emit_charge(&v->e, fd->locals_count / MN_WASM_FUEL_BULK_UNIT);
    int rc = push_ctl(v, 0, NULL, 0, ft->types + ft->params_count, ft->results_count);
    mn__wasm_rd rd = {fd->body, fd->body_end};
    while (rc == 0 && v->ctls_len > 0) {
        uint8_t op;
        if ((rc = mn__wasm_rd_u8(&rd, &op, v->err)))
            break;
        rc = instruction(v, &rd, op);
    }
    if (rc == 0 && rd.p != rd.end)
        rc = mn_err_set(v->err, MN_ECORRUPT, 0, "section size mismatch (code after end)");
    mn__wasm_emit_finish(&v->e);
    if (rc == 0 && v->e.failed)
        rc = mn_err_set(v->err, MN_ELIMIT, 0, "translated code too large");
    if (rc == 0 && (uint64_t)v->locals + v->ops_max > MN_WASM_FRAME_SLOTS_MAX)
        rc = mn_err_set(v->err, MN_ELIMIT, 0, "function frame of %u slots exceeds the limit",
                        v->locals + v->ops_max);
    if (rc) {
        mn__wasm_emit_deinit(&v->e);
        return rc;
    }
    fd->code = v->e.code;
    fd->code_cells = v->e.len;
    fd->entry_fuel = loop_head_fuel(v, 0); /* a call charges it and skips the FUEL */
    fd->frame_slots = v->locals + v->ops_max;
    return 0;
}

int mn__wasm_validate(mn_wasm_module *mod, mn_err *err)
{
    int rc = mn__wasm_check_module(mod, err);
    if (rc)
        return rc;
    vstate v = {.mod = mod, .err = err};
    uint32_t defined = mod->funcs_count - mod->func_imports_count;
    for (uint32_t i = 0; i < defined && rc == 0; i++) {
        rc = function_body(&v, &mod->funcs[i]);
        if (rc)
            mn_err_wrap(err, "function %u", mod->func_imports_count + i);
    }
    free(v.ops);
    free(v.ctls);
    return rc;
}
