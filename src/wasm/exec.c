/* SPDX-License-Identifier: Apache-2.0
 *
 * exec.c: the interpreter. It runs slot-addressed translated code (compile.h, validate.c):
 * every operation names the frame slots it reads and writes (16 bits each, packed in the cell
 * after the operation), so there is no operand stack pointer at run time. Dispatch is direct
 * threading: each operation cell holds the address of its handler label (GNU labels-as-values,
 * gcc and clang), so dispatch is one indirect jump. Frames live in the store's slot array and
 * call records in its frame array, both bounded by the store's limits, so a WASM call never
 * recurses on the C stack and deep recursion is a clean "call stack exhausted" trap. A
 * function's frame is checked once on entry to fit all its slots. Memory accesses compute the
 * effective address in 64 bits and do one compare.
 *
 * Every handler is free of C undefined behaviour for any operand: division and conversions
 * are range-checked first, shifts are masked, integer arithmetic is unsigned. Floats are kept
 * as raw bits in the slots and only converted to float/double for arithmetic, so loads,
 * stores, neg, abs, copysign and reinterpretations preserve NaN payloads bit for bit; policy
 * mode uses canonicalising forms of the float arithmetic handlers. Fuel is charged by FUEL
 * operations at segment heads, by calls and branches for the segment they enter (skipping its
 * FUEL), and by FUEL_DYN before bulk operations. This file does not validate anything: it
 * trusts the translator's output.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static inline float f32_of(uint64_t s)
{
    uint32_t u = (uint32_t)s;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint64_t of_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline double f64_of(uint64_t s)
{
    double d;
    memcpy(&d, &s, 8);
    return d;
}

static inline uint64_t of_f64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* Policy mode: any NaN result becomes the positive canonical NaN (returned as slot bits). */
static inline uint64_t canon32(float f)
{
    return f != f ? 0x7fc00000u : of_f32(f);
}

static inline uint64_t canon64(double d)
{
    return d != d ? 0x7ff8000000000000ull : of_f64(d);
}

/* WebAssembly min/max: NaN if either operand is NaN, and -0 < +0. */
static float min_f32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static float max_f32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static double min_f64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static double max_f64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* libm's rounding functions may return a signalling NaN unchanged; WebAssembly wants it quiet
 * (an arithmetic NaN), which adding it to itself gives. */
#define ROUNDING(name, T, fn)                                                                  \
    static inline T name(T x)                                                                  \
    {                                                                                          \
        return x != x ? x + x : fn(x);                                                         \
    }
ROUNDING(ceil_f32, float, ceilf)
ROUNDING(floor_f32, float, floorf)
ROUNDING(trunc_f32, float, truncf)
ROUNDING(nearest_f32, float, rintf)
ROUNDING(ceil_f64, double, ceil)
ROUNDING(floor_f64, double, floor)
ROUNDING(trunc_f64, double, trunc)
ROUNDING(nearest_f64, double, rint)

static inline uint32_t rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return b ? (a << b) | (a >> (32 - b)) : a;
}

static inline uint32_t rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return b ? (a >> b) | (a << (32 - b)) : a;
}

static inline uint64_t rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return b ? (a << b) | (a >> (64 - b)) : a;
}

static inline uint64_t rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return b ? (a >> b) | (a << (64 - b)) : a;
}

const char *mn_wasm_trap_text(mn_wasm_trap trap)
{
    static const char *const text[MN_WASM_TRAP_COUNT] = {
        [MN_WASM_TRAP_NONE] = "no trap",
        [MN_WASM_TRAP_UNREACHABLE] = "unreachable",
        [MN_WASM_TRAP_MEMORY_OOB] = "out of bounds memory access",
        [MN_WASM_TRAP_TABLE_OOB] = "out of bounds table access",
        [MN_WASM_TRAP_DIV_ZERO] = "integer divide by zero",
        [MN_WASM_TRAP_INT_OVERFLOW] = "integer overflow",
        [MN_WASM_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
        [MN_WASM_TRAP_INDIRECT_TYPE] = "indirect call type mismatch",
        [MN_WASM_TRAP_UNDEFINED_ELEM] = "undefined element",
        [MN_WASM_TRAP_UNINIT_ELEM] = "uninitialized element",
        [MN_WASM_TRAP_STACK] = "call stack exhausted",
        [MN_WASM_TRAP_FUEL] = "fuel exhausted",
        [MN_WASM_TRAP_HOST] = "host function failed",
    };
    if ((unsigned)trap >= MN_WASM_TRAP_COUNT)
        return "unknown trap";
    return text[trap];
}

int mn__wasm_trap(mn_wasm_store *store, mn_wasm_trap trap, mn_err *err)
{
    store->trap = trap;
    return mn_err_set(err, MN_ETRAP, 0, "%s", mn_wasm_trap_text(trap));
}

/* Calls a host function with the arguments at args (slots) and writes the results there. */
static int host_call(mn_wasm_store *store, mn_wasm_func *f, mn_wasm_instance *caller,
                     uint64_t *args, mn_err *err)
{
    const mn__wasm_functype *ft = f->type;
    mn_wasm_val *in = store->host_args, *out = store->host_args + MN_WASM_FUNC_PARAMS_MAX;
    for (uint32_t i = 0; i < ft->params_count; i++) {
        in[i].type = (mn_wasm_type)ft->types[i];
        in[i].of.i64 = args[i];
    }
    for (uint32_t i = 0; i < ft->results_count; i++) {
        out[i].type = (mn_wasm_type)ft->types[ft->params_count + i];
        out[i].of.i64 = 0;
    }
    mn_err herr = {0};
    if (f->host(f->host_ctx, caller, in, out, &herr) != 0) {
        store->trap = MN_WASM_TRAP_HOST;
        return mn_err_set(err, MN_ETRAP, 0, "host function failed: %s", herr.msg);
    }
    for (uint32_t i = 0; i < ft->results_count; i++) {
        uint8_t t = ft->types[ft->params_count + i];
        args[i] = (t == MN_WASM_I32 || t == MN_WASM_F32) ? out[i].of.i32 : out[i].of.i64;
    }
    return 0;
}

#define NEXT() goto *pc->op
#define TRAP(kind)                                                                             \
    do {                                                                                       \
        trap = (kind);                                                                         \
        goto trapped;                                                                          \
    } while (0)
#define RELOAD_MEMORY()                                                                        \
    do {                                                                                       \
        mn_wasm_memory *m0_ = inst->mod->memories_count ? inst->memories[0] : NULL;            \
        mem = m0_ ? m0_->data : NULL;                                                          \
        mem_len = m0_ ? m0_->bytes : 0;                                                        \
    } while (0)

/* Operand i of the current operation: the frame slot named in the cell after the op. */
#define S(i) (pc[1].s[i])
#define R(i) fp[S(i)]
#define I32(x) ((uint32_t)(x))
#define BIN32(label, expr)                                                                     \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(R(1));                                                 \
        R(2) = (uint32_t)(expr);                                                               \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define BIN64(label, expr)                                                                     \
    label : {                                                                                  \
        uint64_t a = R(0), b = R(1);                                                           \
        R(2) = (uint64_t)(expr);                                                               \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define CMP64(label, expr)                                                                     \
    label : {                                                                                  \
        uint64_t a = R(0), b = R(1);                                                           \
        R(2) = (uint32_t)(expr);                                                               \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define UN(label, T, expr)                                                                     \
    label : {                                                                                  \
        T a = (T)R(0);                                                                         \
        R(1) = (expr);                                                                         \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define BINF32(label, expr)                                                                    \
    label : {                                                                                  \
        float a = f32_of(R(0)), b = f32_of(R(1));                                              \
        R(2) = (expr);                                                                         \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define BINF64(label, expr)                                                                    \
    label : {                                                                                  \
        double a = f64_of(R(0)), b = f64_of(R(1));                                             \
        R(2) = (expr);                                                                         \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define LOAD(label, T, conv)                                                                   \
    label : {                                                                                  \
        uint64_t ea = (uint64_t)I32(R(0)) + pc[2].u64;                                         \
        if (ea + sizeof(T) > mem_len)                                                          \
            TRAP(MN_WASM_TRAP_MEMORY_OOB);                                                     \
        T v_;                                                                                  \
        memcpy(&v_, mem + ea, sizeof(T));                                                      \
        R(1) = conv(v_);                                                                       \
        pc += 3;                                                                               \
        NEXT();                                                                                \
    }
#define STORE(label, T)                                                                        \
    label : {                                                                                  \
        uint64_t ea = (uint64_t)I32(R(0)) + pc[2].u64;                                         \
        if (ea + sizeof(T) > mem_len)                                                          \
            TRAP(MN_WASM_TRAP_MEMORY_OOB);                                                     \
        T v_ = (T)R(1);                                                                        \
        memcpy(mem + ea, &v_, sizeof(T));                                                      \
        pc += 3;                                                                               \
        NEXT();                                                                                \
    }
/* Float to integer: `lo < x < hi` is the exactly representable open range of the result. */
#define TRUNC(label, FT, get, IT, lo, hi)                                                      \
    label : {                                                                                  \
        FT x = get(R(0));                                                                      \
        if (x != x)                                                                            \
            TRAP(MN_WASM_TRAP_BAD_CONVERSION);                                                 \
        if (!(x > (lo) && x < (hi)))                                                           \
            TRAP(MN_WASM_TRAP_INT_OVERFLOW);                                                   \
        uint64_t r_ = (uint64_t)(IT)x;                                                         \
        R(1) = sizeof(IT) == 4 ? (uint32_t)r_ : r_;                                            \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }
#define TRUNC_SAT(label, FT, get, IT, lo, hi, min, max)                                        \
    label : {                                                                                  \
        FT x = get(R(0));                                                                      \
        IT r;                                                                                  \
        if (x > (lo) && x < (hi))                                                              \
            r = (IT)x;                                                                         \
        else if (x != x)                                                                       \
            r = 0;                                                                             \
        else if (x < 0)                                                                        \
            r = (min);                                                                         \
        else                                                                                   \
            r = (max);                                                                         \
        R(1) = sizeof(IT) == 4 ? (uint32_t)(uint64_t)r : (uint64_t)r;                          \
        pc += 2;                                                                               \
        NEXT();                                                                                \
    }

#define BRC(label, expr)                                                                       \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(R(1));                                                 \
        pc = (expr) ? pc + 2 + pc[2].i64 : pc + 3;                                             \
        NEXT();                                                                                \
    }
#define BRCI(label, expr)                                                                      \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(pc[3].u64);                                            \
        pc = (expr) ? pc + 2 + pc[2].i64 : pc + 4;                                             \
        NEXT();                                                                                \
    }
#define CHARGE_AND_JUMP(cost_cell)                                                             \
    do {                                                                                       \
        int64_t cost_ = pc[cost_cell].i64;                                                     \
        if (fuel < cost_)                                                                      \
            TRAP(MN_WASM_TRAP_FUEL);                                                           \
        fuel -= cost_;                                                                         \
        pc = pc + 2 + pc[2].i64;                                                               \
    } while (0)
#define BRCF(label, expr)                                                                      \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(R(1));                                                 \
        if (expr)                                                                              \
            CHARGE_AND_JUMP(3);                                                                \
        else                                                                                   \
            pc += 4;                                                                           \
        NEXT();                                                                                \
    }
#define BRCIF(label, expr)                                                                     \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(pc[3].u64);                                            \
        if (expr)                                                                              \
            CHARGE_AND_JUMP(4);                                                                \
        else                                                                                   \
            pc += 5;                                                                           \
        NEXT();                                                                                \
    }
#define CHARGE_AND_FALL(cost_cell, cells)                                                      \
    do {                                                                                       \
        int64_t cost_ = pc[cost_cell].i64;                                                     \
        if (fuel < cost_)                                                                      \
            TRAP(MN_WASM_TRAP_FUEL);                                                           \
        fuel -= cost_;                                                                         \
        pc += (cells);                                                                         \
    } while (0)
#define BRCT(label, expr)                                                                      \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(R(1));                                                 \
        if (expr)                                                                              \
            CHARGE_AND_JUMP(3);                                                                \
        else                                                                                   \
            CHARGE_AND_FALL(4, 5);                                                             \
        NEXT();                                                                                \
    }
#define BRCIT(label, expr)                                                                     \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(pc[4].u64);                                            \
        if (expr)                                                                              \
            CHARGE_AND_JUMP(3);                                                                \
        else                                                                                   \
            CHARGE_AND_FALL(5, 6);                                                             \
        NEXT();                                                                                \
    }
#define BIN32I(label, expr)                                                                    \
    label : {                                                                                  \
        uint32_t a = I32(R(0)), b = I32(pc[2].u64);                                            \
        R(1) = (uint32_t)(expr);                                                               \
        pc += 3;                                                                               \
        NEXT();                                                                                \
    }
#define BIN64I(label, expr)                                                                    \
    label : {                                                                                  \
        uint64_t a = R(0), b = pc[2].u64;                                                      \
        R(1) = (uint64_t)(expr);                                                               \
        pc += 3;                                                                               \
        NEXT();                                                                                \
    }
#define CMP64I(label, expr)                                                                    \
    label : {                                                                                  \
        uint64_t a = R(0), b = pc[2].u64;                                                      \
        R(1) = (uint32_t)(expr);                                                               \
        pc += 3;                                                                               \
        NEXT();                                                                                \
    }

#define S8_32(v) ((uint32_t)(int32_t)(v))
#define U_32(v) ((uint32_t)(v))
#define S_64(v) ((uint64_t)(int64_t)(v))
#define U_64(v) ((uint64_t)(v))

static int run(mn_wasm_store *store, mn_wasm_func *func, mn_err *err,
               const void *const **table_out)
{
    static const void *const ops[MN__OP_COUNT] = {
        [0x00] = &&op_unreachable, [0x1b] = &&op_select,
        [0x23] = &&op_global_get, [0x24] = &&op_global_set, [0x25] = &&op_table_get,
        [0x26] = &&op_table_set, [0x28] = &&op_i32_load, [0x29] = &&op_i64_load,
        [0x2a] = &&op_f32_load, [0x2b] = &&op_f64_load, [0x2c] = &&op_i32_load8_s,
        [0x2d] = &&op_i32_load8_u, [0x2e] = &&op_i32_load16_s, [0x2f] = &&op_i32_load16_u,
        [0x30] = &&op_i64_load8_s, [0x31] = &&op_i64_load8_u, [0x32] = &&op_i64_load16_s,
        [0x33] = &&op_i64_load16_u, [0x34] = &&op_i64_load32_s, [0x35] = &&op_i64_load32_u,
        [0x36] = &&op_i32_store, [0x37] = &&op_i64_store, [0x38] = &&op_f32_store,
        [0x39] = &&op_f64_store, [0x3a] = &&op_i32_store8, [0x3b] = &&op_i32_store16,
        [0x3c] = &&op_i64_store8, [0x3d] = &&op_i64_store16, [0x3e] = &&op_i64_store32,
        [0x3f] = &&op_memory_size, [0x40] = &&op_memory_grow,
        [0x45] = &&op_i32_eqz, [0x46] = &&op_i32_eq, [0x47] = &&op_i32_ne,
        [0x48] = &&op_i32_lt_s, [0x49] = &&op_i32_lt_u, [0x4a] = &&op_i32_gt_s,
        [0x4b] = &&op_i32_gt_u, [0x4c] = &&op_i32_le_s, [0x4d] = &&op_i32_le_u,
        [0x4e] = &&op_i32_ge_s, [0x4f] = &&op_i32_ge_u, [0x50] = &&op_i64_eqz,
        [0x51] = &&op_i64_eq, [0x52] = &&op_i64_ne, [0x53] = &&op_i64_lt_s,
        [0x54] = &&op_i64_lt_u, [0x55] = &&op_i64_gt_s, [0x56] = &&op_i64_gt_u,
        [0x57] = &&op_i64_le_s, [0x58] = &&op_i64_le_u, [0x59] = &&op_i64_ge_s,
        [0x5a] = &&op_i64_ge_u, [0x5b] = &&op_f32_eq, [0x5c] = &&op_f32_ne,
        [0x5d] = &&op_f32_lt, [0x5e] = &&op_f32_gt, [0x5f] = &&op_f32_le, [0x60] = &&op_f32_ge,
        [0x61] = &&op_f64_eq, [0x62] = &&op_f64_ne, [0x63] = &&op_f64_lt,
        [0x64] = &&op_f64_gt, [0x65] = &&op_f64_le, [0x66] = &&op_f64_ge,
        [0x67] = &&op_i32_clz, [0x68] = &&op_i32_ctz, [0x69] = &&op_i32_popcnt,
        [0x6a] = &&op_i32_add, [0x6b] = &&op_i32_sub, [0x6c] = &&op_i32_mul,
        [0x6d] = &&op_i32_div_s, [0x6e] = &&op_i32_div_u, [0x6f] = &&op_i32_rem_s,
        [0x70] = &&op_i32_rem_u, [0x71] = &&op_i32_and, [0x72] = &&op_i32_or,
        [0x73] = &&op_i32_xor, [0x74] = &&op_i32_shl, [0x75] = &&op_i32_shr_s,
        [0x76] = &&op_i32_shr_u, [0x77] = &&op_i32_rotl, [0x78] = &&op_i32_rotr,
        [0x79] = &&op_i64_clz, [0x7a] = &&op_i64_ctz, [0x7b] = &&op_i64_popcnt,
        [0x7c] = &&op_i64_add, [0x7d] = &&op_i64_sub, [0x7e] = &&op_i64_mul,
        [0x7f] = &&op_i64_div_s, [0x80] = &&op_i64_div_u, [0x81] = &&op_i64_rem_s,
        [0x82] = &&op_i64_rem_u, [0x83] = &&op_i64_and, [0x84] = &&op_i64_or,
        [0x85] = &&op_i64_xor, [0x86] = &&op_i64_shl, [0x87] = &&op_i64_shr_s,
        [0x88] = &&op_i64_shr_u, [0x89] = &&op_i64_rotl, [0x8a] = &&op_i64_rotr,
        [0x8b] = &&op_f32_abs, [0x8c] = &&op_f32_neg, [0x8d] = &&op_f32_ceil,
        [0x8e] = &&op_f32_floor, [0x8f] = &&op_f32_trunc, [0x90] = &&op_f32_nearest,
        [0x91] = &&op_f32_sqrt, [0x92] = &&op_f32_add, [0x93] = &&op_f32_sub,
        [0x94] = &&op_f32_mul, [0x95] = &&op_f32_div, [0x96] = &&op_f32_min,
        [0x97] = &&op_f32_max, [0x98] = &&op_f32_copysign, [0x99] = &&op_f64_abs,
        [0x9a] = &&op_f64_neg, [0x9b] = &&op_f64_ceil, [0x9c] = &&op_f64_floor,
        [0x9d] = &&op_f64_trunc, [0x9e] = &&op_f64_nearest, [0x9f] = &&op_f64_sqrt,
        [0xa0] = &&op_f64_add, [0xa1] = &&op_f64_sub, [0xa2] = &&op_f64_mul,
        [0xa3] = &&op_f64_div, [0xa4] = &&op_f64_min, [0xa5] = &&op_f64_max,
        [0xa6] = &&op_f64_copysign, [0xa7] = &&op_i32_wrap_i64,
        [0xa8] = &&op_i32_trunc_f32_s, [0xa9] = &&op_i32_trunc_f32_u,
        [0xaa] = &&op_i32_trunc_f64_s, [0xab] = &&op_i32_trunc_f64_u,
        [0xac] = &&op_i64_extend_i32_s, [0xad] = &&op_i64_extend_i32_u,
        [0xae] = &&op_i64_trunc_f32_s, [0xaf] = &&op_i64_trunc_f32_u,
        [0xb0] = &&op_i64_trunc_f64_s, [0xb1] = &&op_i64_trunc_f64_u,
        [0xb2] = &&op_f32_convert_i32_s, [0xb3] = &&op_f32_convert_i32_u,
        [0xb4] = &&op_f32_convert_i64_s, [0xb5] = &&op_f32_convert_i64_u,
        [0xb6] = &&op_f32_demote_f64, [0xb7] = &&op_f64_convert_i32_s,
        [0xb8] = &&op_f64_convert_i32_u, [0xb9] = &&op_f64_convert_i64_s,
        [0xba] = &&op_f64_convert_i64_u, [0xbb] = &&op_f64_promote_f32,
        [0xc0] = &&op_i32_extend8_s, [0xc1] = &&op_i32_extend16_s,
        [0xc2] = &&op_i64_extend8_s, [0xc3] = &&op_i64_extend16_s,
        [0xc4] = &&op_i64_extend32_s, [0xd1] = &&op_ref_is_null, [0xd2] = &&op_ref_func,
        [MN__OP_FC + 0] = &&op_i32_trunc_sat_f32_s, [MN__OP_FC + 1] = &&op_i32_trunc_sat_f32_u,
        [MN__OP_FC + 2] = &&op_i32_trunc_sat_f64_s, [MN__OP_FC + 3] = &&op_i32_trunc_sat_f64_u,
        [MN__OP_FC + 4] = &&op_i64_trunc_sat_f32_s, [MN__OP_FC + 5] = &&op_i64_trunc_sat_f32_u,
        [MN__OP_FC + 6] = &&op_i64_trunc_sat_f64_s, [MN__OP_FC + 7] = &&op_i64_trunc_sat_f64_u,
        [MN__OP_FC + 8] = &&op_memory_init, [MN__OP_FC + 9] = &&op_data_drop,
        [MN__OP_FC + 10] = &&op_memory_copy, [MN__OP_FC + 11] = &&op_memory_fill,
        [MN__OP_FC + 12] = &&op_table_init, [MN__OP_FC + 13] = &&op_elem_drop,
        [MN__OP_FC + 14] = &&op_table_copy, [MN__OP_FC + 15] = &&op_table_grow,
        [MN__OP_FC + 16] = &&op_table_size, [MN__OP_FC + 17] = &&op_table_fill,
        [MN__OP_FUEL] = &&op_fuel, [MN__OP_BR] = &&op_br, [MN__OP_BR_DROP] = &&op_br_drop,
        [MN__OP_BR_IF] = &&op_br_if, [MN__OP_BR_IF_DROP] = &&op_br_if_drop,
        [MN__OP_BR_UNLESS] = &&op_br_unless, [MN__OP_BR_TABLE] = &&op_br_table,
        [MN__OP_RETURN] = &&op_return, [MN__OP_CALL] = &&op_call,
        [MN__OP_CALL_INDIRECT] = &&op_call_indirect, [MN__OP_CONST] = &&op_const,
        [MN__OP_COPY] = &&op_copy, [MN__OP_COPY2] = &&op_copy2,
        [MN__OP_BRCT + 0] = &&op_brct_eq, [MN__OP_BRCIT + 0] = &&op_brcit_eq,
        [MN__OP_BRCT + 1] = &&op_brct_ne, [MN__OP_BRCIT + 1] = &&op_brcit_ne,
        [MN__OP_BRCT + 2] = &&op_brct_lt_s, [MN__OP_BRCIT + 2] = &&op_brcit_lt_s,
        [MN__OP_BRCT + 3] = &&op_brct_lt_u, [MN__OP_BRCIT + 3] = &&op_brcit_lt_u,
        [MN__OP_BRCT + 4] = &&op_brct_gt_s, [MN__OP_BRCIT + 4] = &&op_brcit_gt_s,
        [MN__OP_BRCT + 5] = &&op_brct_gt_u, [MN__OP_BRCIT + 5] = &&op_brcit_gt_u,
        [MN__OP_BRCT + 6] = &&op_brct_le_s, [MN__OP_BRCIT + 6] = &&op_brcit_le_s,
        [MN__OP_BRCT + 7] = &&op_brct_le_u, [MN__OP_BRCIT + 7] = &&op_brcit_le_u,
        [MN__OP_BRCT + 8] = &&op_brct_ge_s, [MN__OP_BRCIT + 8] = &&op_brcit_ge_s,
        [MN__OP_BRCT + 9] = &&op_brct_ge_u, [MN__OP_BRCIT + 9] = &&op_brcit_ge_u,
        [MN__OP_BR_IF_T] = &&op_br_if_t, [MN__OP_BR_UNLESS_T] = &&op_br_unless_t,
        [MN__OP_BR_IF_FT] = &&op_br_if_ft,
        [MN__OP_CANON + 0x8d] = &&op_c_8d,
        [MN__OP_CANON + 0x8e] = &&op_c_8e,
        [MN__OP_CANON + 0x8f] = &&op_c_8f,
        [MN__OP_CANON + 0x90] = &&op_c_90,
        [MN__OP_CANON + 0x91] = &&op_c_91,
        [MN__OP_CANON + 0x9b] = &&op_c_9b,
        [MN__OP_CANON + 0x9c] = &&op_c_9c,
        [MN__OP_CANON + 0x9d] = &&op_c_9d,
        [MN__OP_CANON + 0x9e] = &&op_c_9e,
        [MN__OP_CANON + 0x9f] = &&op_c_9f,
        [MN__OP_CANON + 0x92] = &&op_c_92,
        [MN__OP_CANON + 0x93] = &&op_c_93,
        [MN__OP_CANON + 0x94] = &&op_c_94,
        [MN__OP_CANON + 0x95] = &&op_c_95,
        [MN__OP_CANON + 0x96] = &&op_c_96,
        [MN__OP_CANON + 0x97] = &&op_c_97,
        [MN__OP_CANON + 0xa0] = &&op_c_a0,
        [MN__OP_CANON + 0xa1] = &&op_c_a1,
        [MN__OP_CANON + 0xa2] = &&op_c_a2,
        [MN__OP_CANON + 0xa3] = &&op_c_a3,
        [MN__OP_CANON + 0xa4] = &&op_c_a4,
        [MN__OP_CANON + 0xa5] = &&op_c_a5,
        [MN__OP_CANON + 0xb6] = &&op_c_b6, [MN__OP_CANON + 0xbb] = &&op_c_bb,
        [MN__OP_BRCF + 0] = &&op_brcf_eq, [MN__OP_BRCIF + 0] = &&op_brcif_eq,
        [MN__OP_BRCF + 1] = &&op_brcf_ne, [MN__OP_BRCIF + 1] = &&op_brcif_ne,
        [MN__OP_BRCF + 2] = &&op_brcf_lt_s, [MN__OP_BRCIF + 2] = &&op_brcif_lt_s,
        [MN__OP_BRCF + 3] = &&op_brcf_lt_u, [MN__OP_BRCIF + 3] = &&op_brcif_lt_u,
        [MN__OP_BRCF + 4] = &&op_brcf_gt_s, [MN__OP_BRCIF + 4] = &&op_brcif_gt_s,
        [MN__OP_BRCF + 5] = &&op_brcf_gt_u, [MN__OP_BRCIF + 5] = &&op_brcif_gt_u,
        [MN__OP_BRCF + 6] = &&op_brcf_le_s, [MN__OP_BRCIF + 6] = &&op_brcif_le_s,
        [MN__OP_BRCF + 7] = &&op_brcf_le_u, [MN__OP_BRCIF + 7] = &&op_brcif_le_u,
        [MN__OP_BRCF + 8] = &&op_brcf_ge_s, [MN__OP_BRCIF + 8] = &&op_brcif_ge_s,
        [MN__OP_BRCF + 9] = &&op_brcf_ge_u, [MN__OP_BRCIF + 9] = &&op_brcif_ge_u,
        [MN__OP_FUEL_DYN] = &&op_fuel_dyn, [MN__OP_BR_F] = &&op_br_f,
        [MN__OP_BR_IF_F] = &&op_br_if_f,
        [MN__OP_IMM + 0x77] = &&op_i32_rotl_imm, [MN__OP_IMM + 0x78] = &&op_i32_rotr_imm,
        [MN__OP_IMM + 0x89] = &&op_i64_rotl_imm, [MN__OP_IMM + 0x8a] = &&op_i64_rotr_imm,
        [MN__OP_BRC + 0] = &&op_brc_eq, [MN__OP_BRCI + 0] = &&op_brci_eq,
        [MN__OP_BRC + 1] = &&op_brc_ne, [MN__OP_BRCI + 1] = &&op_brci_ne,
        [MN__OP_BRC + 2] = &&op_brc_lt_s, [MN__OP_BRCI + 2] = &&op_brci_lt_s,
        [MN__OP_BRC + 3] = &&op_brc_lt_u, [MN__OP_BRCI + 3] = &&op_brci_lt_u,
        [MN__OP_BRC + 4] = &&op_brc_gt_s, [MN__OP_BRCI + 4] = &&op_brci_gt_s,
        [MN__OP_BRC + 5] = &&op_brc_gt_u, [MN__OP_BRCI + 5] = &&op_brci_gt_u,
        [MN__OP_BRC + 6] = &&op_brc_le_s, [MN__OP_BRCI + 6] = &&op_brci_le_s,
        [MN__OP_BRC + 7] = &&op_brc_le_u, [MN__OP_BRCI + 7] = &&op_brci_le_u,
        [MN__OP_BRC + 8] = &&op_brc_ge_s, [MN__OP_BRCI + 8] = &&op_brci_ge_s,
        [MN__OP_BRC + 9] = &&op_brc_ge_u, [MN__OP_BRCI + 9] = &&op_brci_ge_u,
        [MN__OP_IMM + 0x46] = &&op_i32_eq_imm,
        [MN__OP_IMM + 0x47] = &&op_i32_ne_imm,
        [MN__OP_IMM + 0x48] = &&op_i32_lt_s_imm,
        [MN__OP_IMM + 0x49] = &&op_i32_lt_u_imm,
        [MN__OP_IMM + 0x4a] = &&op_i32_gt_s_imm,
        [MN__OP_IMM + 0x4b] = &&op_i32_gt_u_imm,
        [MN__OP_IMM + 0x4c] = &&op_i32_le_s_imm,
        [MN__OP_IMM + 0x4d] = &&op_i32_le_u_imm,
        [MN__OP_IMM + 0x4e] = &&op_i32_ge_s_imm,
        [MN__OP_IMM + 0x4f] = &&op_i32_ge_u_imm,
        [MN__OP_IMM + 0x6a] = &&op_i32_add_imm,
        [MN__OP_IMM + 0x6b] = &&op_i32_sub_imm,
        [MN__OP_IMM + 0x6c] = &&op_i32_mul_imm,
        [MN__OP_IMM + 0x71] = &&op_i32_and_imm,
        [MN__OP_IMM + 0x72] = &&op_i32_or_imm,
        [MN__OP_IMM + 0x73] = &&op_i32_xor_imm,
        [MN__OP_IMM + 0x74] = &&op_i32_shl_imm,
        [MN__OP_IMM + 0x75] = &&op_i32_shr_s_imm,
        [MN__OP_IMM + 0x76] = &&op_i32_shr_u_imm,
        [MN__OP_IMM + 0x51] = &&op_i64_eq_imm,
        [MN__OP_IMM + 0x52] = &&op_i64_ne_imm,
        [MN__OP_IMM + 0x53] = &&op_i64_lt_s_imm,
        [MN__OP_IMM + 0x54] = &&op_i64_lt_u_imm,
        [MN__OP_IMM + 0x55] = &&op_i64_gt_s_imm,
        [MN__OP_IMM + 0x56] = &&op_i64_gt_u_imm,
        [MN__OP_IMM + 0x57] = &&op_i64_le_s_imm,
        [MN__OP_IMM + 0x58] = &&op_i64_le_u_imm,
        [MN__OP_IMM + 0x59] = &&op_i64_ge_s_imm,
        [MN__OP_IMM + 0x5a] = &&op_i64_ge_u_imm,
        [MN__OP_IMM + 0x7c] = &&op_i64_add_imm,
        [MN__OP_IMM + 0x7d] = &&op_i64_sub_imm,
        [MN__OP_IMM + 0x7e] = &&op_i64_mul_imm,
        [MN__OP_IMM + 0x83] = &&op_i64_and_imm,
        [MN__OP_IMM + 0x84] = &&op_i64_or_imm,
        [MN__OP_IMM + 0x85] = &&op_i64_xor_imm,
        [MN__OP_IMM + 0x86] = &&op_i64_shl_imm,
        [MN__OP_IMM + 0x87] = &&op_i64_shr_s_imm,
        [MN__OP_IMM + 0x88] = &&op_i64_shr_u_imm,
    };
    if (table_out) {
        *table_out = ops;
        return 0;
    }

    mn_wasm_trap trap = MN_WASM_TRAP_NONE;
    int64_t fuel = store->fuel;
    uint64_t *const stack_end = store->stack + store->limits.stack_slots_max;
    mn__wasm_frame *const frames_end = store->frames + store->limits.call_depth_max;
    mn__wasm_frame *frame = store->frames;
    mn_wasm_instance *inst = func->inst;
    const mn__wasm_cell *pc;
    uint64_t *fp = store->stack;
    uint8_t *mem;
    uint64_t mem_len;
    mn_wasm_func *callee;
    uint64_t *args;

    frame->pc = NULL;
    frame->fp = NULL;
    frame->inst = NULL;
    {
        const mn__wasm_funcdef *d = func->def;
        uint32_t np = func->type->params_count;
        if ((size_t)(stack_end - fp) < d->frame_slots)
            TRAP(MN_WASM_TRAP_STACK);
        memset(fp + np, 0, (size_t)d->locals_count * sizeof(uint64_t));
        pc = d->code;
    }
    RELOAD_MEMORY();
    NEXT();

op_unreachable:
    TRAP(MN_WASM_TRAP_UNREACHABLE);
op_fuel: {
    int64_t cost = pc[1].i64;
    if (fuel < cost)
        TRAP(MN_WASM_TRAP_FUEL);
    fuel -= cost;
    pc += 2;
    NEXT();
}
op_fuel_dyn: {
    int64_t cost = (int64_t)(((uint64_t)I32(R(0)) * pc[2].u64) / MN_WASM_FUEL_BULK_UNIT);
    if (fuel < cost)
        TRAP(MN_WASM_TRAP_FUEL);
    fuel -= cost;
    pc += 3;
    NEXT();
}
op_br:
    pc = pc + 1 + pc[1].i64;
    NEXT();
op_br_drop:
    memmove(fp + S(2), fp + S(1), (size_t)S(3) * sizeof(uint64_t));
    pc = pc + 2 + pc[2].i64;
    NEXT();
op_br_if:
    if (I32(R(0)))
        pc = pc + 2 + pc[2].i64;
    else
        pc += 3;
    NEXT();
op_br_if_drop:
    if (I32(R(0))) {
        memmove(fp + S(2), fp + S(1), (size_t)S(3) * sizeof(uint64_t));
        pc = pc + 2 + pc[2].i64;
    } else {
        pc += 3;
    }
    NEXT();
op_br_unless:
    if (!I32(R(0)))
        pc = pc + 2 + pc[2].i64;
    else
        pc += 3;
    NEXT();
op_br_table: {
    uint64_t n = pc[2].u64;
    uint64_t i = I32(R(0));
    if (i > n)
        i = n;
    const mn__wasm_cell *e = pc + 3 + 2 * i;
    uint32_t keep = S(1), from = S(2);
    if (e[0].i64 == -1) {
        memmove(fp, fp + from, (size_t)keep * sizeof(uint64_t));
        goto do_return;
    }
    if (from != e[1].u64)
        memmove(fp + e[1].u64, fp + from, (size_t)keep * sizeof(uint64_t));
    pc = e + e[0].i64;
    NEXT();
}
op_return:
    if (S(1) == 1) /* the common case, without a library call */
        fp[0] = R(0);
    else
        memmove(fp, fp + S(0), (size_t)S(1) * sizeof(uint64_t));
do_return:
    if (frame->pc == NULL)
        goto done;
    pc = frame->pc;
    fp = frame->fp;
    if (frame->inst != inst) {
        inst = frame->inst;
        RELOAD_MEMORY();
    }
    frame--;
    NEXT();
op_call:
    callee = inst->funcs[pc[2].u64];
    args = fp + S(0);
    pc += 3;
    goto do_call;
op_call_indirect: {
    mn_wasm_table *t = inst->tables[pc[3].u64];
    uint32_t i = I32(R(1));
    if (i >= t->size)
        TRAP(MN_WASM_TRAP_UNDEFINED_ELEM);
    callee = (mn_wasm_func *)(uintptr_t)t->elems[i];
    if (!callee)
        TRAP(MN_WASM_TRAP_UNINIT_ELEM);
    const mn__wasm_functype *want = &inst->mod->types[pc[2].u64];
    if (callee->type != want && !mn__wasm_functype_eq(callee->type, want))
        TRAP(MN_WASM_TRAP_INDIRECT_TYPE);
    args = fp + S(0);
    pc += 4;
    goto do_call;
}
do_call: {
    if (callee->host) {
        store->fuel = fuel;
        if (host_call(store, callee, inst, args, err) != 0)
            return -MN_ETRAP;
        fuel = store->fuel;
        RELOAD_MEMORY();
        NEXT();
    }
    const mn__wasm_funcdef *d = callee->def;
    if (frame + 1 >= frames_end || (size_t)(stack_end - args) < d->frame_slots)
        TRAP(MN_WASM_TRAP_STACK);
    frame++;
    frame->pc = pc;
    frame->fp = fp;
    frame->inst = inst;
    fp = args;
    {
        uint64_t *locals = fp + callee->type->params_count;
        uint32_t n = d->locals_count;
        if (n <= 8) /* the common case, without a library call */
            for (uint32_t k = 0; k < n; k++)
                locals[k] = 0;
        else
            memset(locals, 0, (size_t)n * sizeof(uint64_t));
    }
    pc = d->code;
    if (d->entry_fuel) { /* charge the first segment here and skip its FUEL operation */
        if (fuel < (int64_t)d->entry_fuel)
            TRAP(MN_WASM_TRAP_FUEL);
        fuel -= (int64_t)d->entry_fuel;
        pc += 2;
    }
    if (callee->inst != inst) {
        inst = callee->inst;
        RELOAD_MEMORY();
    }
    NEXT();
}
op_const:
    R(0) = pc[2].u64;
    pc += 3;
    NEXT();
op_copy:
    R(1) = R(0);
    pc += 2;
    NEXT();
op_copy2:
    R(1) = R(0);
    R(3) = R(2);
    pc += 2;
    NEXT();
op_global_get:
    R(0) = inst->globals[pc[2].u64]->val;
    pc += 3;
    NEXT();
op_global_set:
    inst->globals[pc[2].u64]->val = R(0);
    pc += 3;
    NEXT();
op_select:
    R(3) = I32(R(2)) ? R(0) : R(1);
    pc += 2;
    NEXT();

    /* ---- memory ---- */
    LOAD(op_i32_load, uint32_t, U_32)
    LOAD(op_i64_load, uint64_t, U_64)
    LOAD(op_f32_load, uint32_t, U_32)
    LOAD(op_f64_load, uint64_t, U_64)
    LOAD(op_i32_load8_s, int8_t, S8_32)
    LOAD(op_i32_load8_u, uint8_t, U_32)
    LOAD(op_i32_load16_s, int16_t, S8_32)
    LOAD(op_i32_load16_u, uint16_t, U_32)
    LOAD(op_i64_load8_s, int8_t, S_64)
    LOAD(op_i64_load8_u, uint8_t, U_64)
    LOAD(op_i64_load16_s, int16_t, S_64)
    LOAD(op_i64_load16_u, uint16_t, U_64)
    LOAD(op_i64_load32_s, int32_t, S_64)
    LOAD(op_i64_load32_u, uint32_t, U_64)
    STORE(op_i32_store, uint32_t)
    STORE(op_i64_store, uint64_t)
    STORE(op_f32_store, uint32_t)
    STORE(op_f64_store, uint64_t)
    STORE(op_i32_store8, uint8_t)
    STORE(op_i32_store16, uint16_t)
    STORE(op_i64_store8, uint8_t)
    STORE(op_i64_store16, uint16_t)
    STORE(op_i64_store32, uint32_t)
op_memory_size:
    R(0) = (uint32_t)(mem_len / MN__WASM_PAGE_BYTES);
    pc += 2;
    NEXT();
op_memory_grow: {
    int fatal = 0;
    int64_t old = mn__wasm_memory_grow(inst->memories[0], I32(R(0)), &fatal);
    if (fatal) {
        store->fuel = fuel;
        store->trap = MN_WASM_TRAP_NONE;
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory growing a memory");
    }
    R(1) = (uint32_t)old;
    RELOAD_MEMORY();
    pc += 2;
    NEXT();
}
op_memory_init: {
    uint64_t d = I32(R(0)), s = I32(R(1)), n = I32(R(2));
    uint32_t seg = (uint32_t)pc[2].u64;
    if (s + n > inst->data_sizes[seg] || d + n > mem_len)
        TRAP(MN_WASM_TRAP_MEMORY_OOB);
    if (n)
        memcpy(mem + d, inst->mod->datas[seg].bytes + s, n);
    pc += 3;
    NEXT();
}
op_data_drop:
    inst->data_sizes[pc[2].u64] = 0;
    pc += 3;
    NEXT();
op_memory_copy: {
    uint64_t d = I32(R(0)), s = I32(R(1)), n = I32(R(2));
    if (s + n > mem_len || d + n > mem_len)
        TRAP(MN_WASM_TRAP_MEMORY_OOB);
    if (n)
        memmove(mem + d, mem + s, n);
    pc += 2;
    NEXT();
}
op_memory_fill: {
    uint64_t d = I32(R(0)), n = I32(R(2));
    uint8_t val = (uint8_t)R(1);
    if (d + n > mem_len)
        TRAP(MN_WASM_TRAP_MEMORY_OOB);
    if (n)
        memset(mem + d, val, n);
    pc += 2;
    NEXT();
}

    /* ---- tables and references ---- */
op_table_get: {
    mn_wasm_table *t = inst->tables[pc[2].u64];
    uint32_t i = I32(R(0));
    if (i >= t->size)
        TRAP(MN_WASM_TRAP_TABLE_OOB);
    R(1) = t->elems[i];
    pc += 3;
    NEXT();
}
op_table_set: {
    mn_wasm_table *t = inst->tables[pc[2].u64];
    uint32_t i = I32(R(0));
    if (i >= t->size)
        TRAP(MN_WASM_TRAP_TABLE_OOB);
    t->elems[i] = R(1);
    pc += 3;
    NEXT();
}
op_table_size:
    R(0) = inst->tables[pc[2].u64]->size;
    pc += 3;
    NEXT();
op_table_grow: {
    int fatal = 0;
    int64_t old = mn__wasm_table_grow(inst->tables[pc[2].u64], I32(R(1)), R(0), &fatal);
    if (fatal) {
        store->fuel = fuel;
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory growing a table");
    }
    R(2) = (uint32_t)old;
    pc += 3;
    NEXT();
}
op_table_fill: {
    mn_wasm_table *t = inst->tables[pc[2].u64];
    uint64_t i = I32(R(0)), val = R(1), n = I32(R(2));
    if (i + n > t->size)
        TRAP(MN_WASM_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = val;
    pc += 3;
    NEXT();
}
op_table_copy: {
    mn_wasm_table *td = inst->tables[pc[2].u64], *ts = inst->tables[pc[3].u64];
    uint64_t d = I32(R(0)), s = I32(R(1)), n = I32(R(2));
    if (s + n > ts->size || d + n > td->size)
        TRAP(MN_WASM_TRAP_TABLE_OOB);
    if (n)
        memmove(td->elems + d, ts->elems + s, n * sizeof(uint64_t));
    pc += 4;
    NEXT();
}
op_table_init: {
    uint32_t seg = (uint32_t)pc[2].u64;
    mn_wasm_table *t = inst->tables[pc[3].u64];
    uint64_t d = I32(R(0)), s = I32(R(1)), n = I32(R(2));
    if (s + n > inst->elem_sizes[seg] || d + n > t->size)
        TRAP(MN_WASM_TRAP_TABLE_OOB);
    if (n)
        memcpy(t->elems + d, inst->elem_refs[seg] + s, n * sizeof(uint64_t));
    pc += 4;
    NEXT();
}
op_elem_drop:
    inst->elem_sizes[pc[2].u64] = 0;
    pc += 3;
    NEXT();
op_ref_is_null:
    R(1) = R(0) == 0;
    pc += 2;
    NEXT();
op_ref_func:
    R(0) = (uint64_t)(uintptr_t)inst->funcs[pc[2].u64];
    pc += 3;
    NEXT();
    /* ---- fused compare-and-branch, immediate forms ---- */
    BRC(op_brc_eq, a == b)
    BRCI(op_brci_eq, a == b)
    BRC(op_brc_ne, a != b)
    BRCI(op_brci_ne, a != b)
    BRC(op_brc_lt_s, (int32_t)a < (int32_t)b)
    BRCI(op_brci_lt_s, (int32_t)a < (int32_t)b)
    BRC(op_brc_lt_u, a < b)
    BRCI(op_brci_lt_u, a < b)
    BRC(op_brc_gt_s, (int32_t)a > (int32_t)b)
    BRCI(op_brci_gt_s, (int32_t)a > (int32_t)b)
    BRC(op_brc_gt_u, a > b)
    BRCI(op_brci_gt_u, a > b)
    BRC(op_brc_le_s, (int32_t)a <= (int32_t)b)
    BRCI(op_brci_le_s, (int32_t)a <= (int32_t)b)
    BRC(op_brc_le_u, a <= b)
    BRCI(op_brci_le_u, a <= b)
    BRC(op_brc_ge_s, (int32_t)a >= (int32_t)b)
    BRCI(op_brci_ge_s, (int32_t)a >= (int32_t)b)
    BRC(op_brc_ge_u, a >= b)
    BRCI(op_brci_ge_u, a >= b)
    BIN32I(op_i32_eq_imm, a == b)
    BIN32I(op_i32_ne_imm, a != b)
    BIN32I(op_i32_lt_s_imm, (int32_t)a < (int32_t)b)
    BIN32I(op_i32_lt_u_imm, a < b)
    BIN32I(op_i32_gt_s_imm, (int32_t)a > (int32_t)b)
    BIN32I(op_i32_gt_u_imm, a > b)
    BIN32I(op_i32_le_s_imm, (int32_t)a <= (int32_t)b)
    BIN32I(op_i32_le_u_imm, a <= b)
    BIN32I(op_i32_ge_s_imm, (int32_t)a >= (int32_t)b)
    BIN32I(op_i32_ge_u_imm, a >= b)
    BIN32I(op_i32_add_imm, a + b)
    BIN32I(op_i32_sub_imm, a - b)
    BIN32I(op_i32_mul_imm, a * b)
    BIN32I(op_i32_and_imm, a & b)
    BIN32I(op_i32_or_imm, a | b)
    BIN32I(op_i32_xor_imm, a ^ b)
    BIN32I(op_i32_shl_imm, a << (b & 31))
    BIN32I(op_i32_shr_s_imm, (int32_t)a >> (b & 31))
    BIN32I(op_i32_shr_u_imm, a >> (b & 31))
    CMP64I(op_i64_eq_imm, a == b)
    CMP64I(op_i64_ne_imm, a != b)
    CMP64I(op_i64_lt_s_imm, (int64_t)a < (int64_t)b)
    CMP64I(op_i64_lt_u_imm, a < b)
    CMP64I(op_i64_gt_s_imm, (int64_t)a > (int64_t)b)
    CMP64I(op_i64_gt_u_imm, a > b)
    CMP64I(op_i64_le_s_imm, (int64_t)a <= (int64_t)b)
    CMP64I(op_i64_le_u_imm, a <= b)
    CMP64I(op_i64_ge_s_imm, (int64_t)a >= (int64_t)b)
    CMP64I(op_i64_ge_u_imm, a >= b)
    BIN64I(op_i64_add_imm, a + b)
    BIN64I(op_i64_sub_imm, a - b)
    BIN64I(op_i64_mul_imm, a * b)
    BIN64I(op_i64_and_imm, a & b)
    BIN64I(op_i64_or_imm, a | b)
    BIN64I(op_i64_xor_imm, a ^ b)
    BIN64I(op_i64_shl_imm, a << (b & 63))
    BIN64I(op_i64_shr_s_imm, (int64_t)a >> (b & 63))
    BIN64I(op_i64_shr_u_imm, a >> (b & 63))

    BRCF(op_brcf_eq, a == b)
    BRCIF(op_brcif_eq, a == b)
    BRCF(op_brcf_ne, a != b)
    BRCIF(op_brcif_ne, a != b)
    BRCF(op_brcf_lt_s, (int32_t)a < (int32_t)b)
    BRCIF(op_brcif_lt_s, (int32_t)a < (int32_t)b)
    BRCF(op_brcf_lt_u, a < b)
    BRCIF(op_brcif_lt_u, a < b)
    BRCF(op_brcf_gt_s, (int32_t)a > (int32_t)b)
    BRCIF(op_brcif_gt_s, (int32_t)a > (int32_t)b)
    BRCF(op_brcf_gt_u, a > b)
    BRCIF(op_brcif_gt_u, a > b)
    BRCF(op_brcf_le_s, (int32_t)a <= (int32_t)b)
    BRCIF(op_brcif_le_s, (int32_t)a <= (int32_t)b)
    BRCF(op_brcf_le_u, a <= b)
    BRCIF(op_brcif_le_u, a <= b)
    BRCF(op_brcf_ge_s, (int32_t)a >= (int32_t)b)
    BRCIF(op_brcif_ge_s, (int32_t)a >= (int32_t)b)
    BRCF(op_brcf_ge_u, a >= b)
    BRCIF(op_brcif_ge_u, a >= b)
    BIN32I(op_i32_rotl_imm, rotl32(a, b))
    BIN32I(op_i32_rotr_imm, rotr32(a, b))
    BIN64I(op_i64_rotl_imm, rotl64(a, b))
    BIN64I(op_i64_rotr_imm, rotr64(a, b))
op_br_f: {
    int64_t cost = pc[2].i64;
    if (fuel < cost)
        TRAP(MN_WASM_TRAP_FUEL);
    fuel -= cost;
    pc = pc + 1 + pc[1].i64;
    NEXT();
}
op_br_if_f:
    if (I32(R(0))) {
        int64_t cost = pc[3].i64;
        if (fuel < cost)
            TRAP(MN_WASM_TRAP_FUEL);
        fuel -= cost;
        pc = pc + 2 + pc[2].i64;
    } else {
        pc += 4;
    }
    NEXT();

    /* ---- policy mode: float arithmetic with canonical NaN results ---- */
    UN(op_c_8d, uint64_t, canon32(ceil_f32(f32_of(a))))
    UN(op_c_8e, uint64_t, canon32(floor_f32(f32_of(a))))
    UN(op_c_8f, uint64_t, canon32(trunc_f32(f32_of(a))))
    UN(op_c_90, uint64_t, canon32(nearest_f32(f32_of(a))))
    UN(op_c_91, uint64_t, canon32(sqrtf(f32_of(a))))
    UN(op_c_9b, uint64_t, canon64(ceil_f64(f64_of(a))))
    UN(op_c_9c, uint64_t, canon64(floor_f64(f64_of(a))))
    UN(op_c_9d, uint64_t, canon64(trunc_f64(f64_of(a))))
    UN(op_c_9e, uint64_t, canon64(nearest_f64(f64_of(a))))
    UN(op_c_9f, uint64_t, canon64(sqrt(f64_of(a))))
    BINF32(op_c_92, canon32(a + b))
    BINF32(op_c_93, canon32(a - b))
    BINF32(op_c_94, canon32(a * b))
    BINF32(op_c_95, canon32(a / b))
    BINF32(op_c_96, canon32(min_f32(a, b)))
    BINF32(op_c_97, canon32(max_f32(a, b)))
    BINF64(op_c_a0, canon64(a + b))
    BINF64(op_c_a1, canon64(a - b))
    BINF64(op_c_a2, canon64(a * b))
    BINF64(op_c_a3, canon64(a / b))
    BINF64(op_c_a4, canon64(min_f64(a, b)))
    BINF64(op_c_a5, canon64(max_f64(a, b)))
    UN(op_c_b6, uint64_t, canon32((float)f64_of(a)))
    UN(op_c_bb, uint64_t, canon64((double)f32_of(a)))

    BRCT(op_brct_eq, a == b)
    BRCIT(op_brcit_eq, a == b)
    BRCT(op_brct_ne, a != b)
    BRCIT(op_brcit_ne, a != b)
    BRCT(op_brct_lt_s, (int32_t)a < (int32_t)b)
    BRCIT(op_brcit_lt_s, (int32_t)a < (int32_t)b)
    BRCT(op_brct_lt_u, a < b)
    BRCIT(op_brcit_lt_u, a < b)
    BRCT(op_brct_gt_s, (int32_t)a > (int32_t)b)
    BRCIT(op_brcit_gt_s, (int32_t)a > (int32_t)b)
    BRCT(op_brct_gt_u, a > b)
    BRCIT(op_brcit_gt_u, a > b)
    BRCT(op_brct_le_s, (int32_t)a <= (int32_t)b)
    BRCIT(op_brcit_le_s, (int32_t)a <= (int32_t)b)
    BRCT(op_brct_le_u, a <= b)
    BRCIT(op_brcit_le_u, a <= b)
    BRCT(op_brct_ge_s, (int32_t)a >= (int32_t)b)
    BRCIT(op_brcit_ge_s, (int32_t)a >= (int32_t)b)
    BRCT(op_brct_ge_u, a >= b)
    BRCIT(op_brcit_ge_u, a >= b)
op_br_if_t:
    if (I32(R(0)))
        CHARGE_AND_JUMP(3);
    else
        CHARGE_AND_FALL(4, 5);
    NEXT();
op_br_unless_t:
    if (!I32(R(0)))
        CHARGE_AND_JUMP(3);
    else
        CHARGE_AND_FALL(4, 5);
    NEXT();
op_br_if_ft:
    if (I32(R(0)))
        CHARGE_AND_JUMP(3);
    else
        CHARGE_AND_FALL(4, 5);
    NEXT();

    /* ---- i32 ---- */
    UN(op_i32_eqz, uint32_t, a == 0)
    BIN32(op_i32_eq, a == b)
    BIN32(op_i32_ne, a != b)
    BIN32(op_i32_lt_s, (int32_t)a < (int32_t)b)
    BIN32(op_i32_lt_u, a < b)
    BIN32(op_i32_gt_s, (int32_t)a > (int32_t)b)
    BIN32(op_i32_gt_u, a > b)
    BIN32(op_i32_le_s, (int32_t)a <= (int32_t)b)
    BIN32(op_i32_le_u, a <= b)
    BIN32(op_i32_ge_s, (int32_t)a >= (int32_t)b)
    BIN32(op_i32_ge_u, a >= b)
    UN(op_i32_clz, uint32_t, a ? (uint32_t)__builtin_clz(a) : 32u)
    UN(op_i32_ctz, uint32_t, a ? (uint32_t)__builtin_ctz(a) : 32u)
    UN(op_i32_popcnt, uint32_t, (uint32_t)__builtin_popcount(a))
    BIN32(op_i32_add, a + b)
    BIN32(op_i32_sub, a - b)
    BIN32(op_i32_mul, a * b)
op_i32_div_s: {
    uint32_t a = I32(R(0)), b = I32(R(1));
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    if (a == 0x80000000u && b == 0xffffffffu)
        TRAP(MN_WASM_TRAP_INT_OVERFLOW);
    R(2) = (uint32_t)((int32_t)a / (int32_t)b);
    pc += 2;
    NEXT();
}
op_i32_div_u: {
    uint32_t a = I32(R(0)), b = I32(R(1));
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    R(2) = a / b;
    pc += 2;
    NEXT();
}
op_i32_rem_s: {
    uint32_t a = I32(R(0)), b = I32(R(1));
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    R(2) = b == 0xffffffffu ? 0 : (uint32_t)((int32_t)a % (int32_t)b);
    pc += 2;
    NEXT();
}
op_i32_rem_u: {
    uint32_t a = I32(R(0)), b = I32(R(1));
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    R(2) = a % b;
    pc += 2;
    NEXT();
}
    BIN32(op_i32_and, a & b)
    BIN32(op_i32_or, a | b)
    BIN32(op_i32_xor, a ^ b)
    BIN32(op_i32_shl, a << (b & 31))
    BIN32(op_i32_shr_s, (int32_t)a >> (b & 31))
    BIN32(op_i32_shr_u, a >> (b & 31))
    BIN32(op_i32_rotl, rotl32(a, b))
    BIN32(op_i32_rotr, rotr32(a, b))

    /* ---- i64 ---- */
    UN(op_i64_eqz, uint64_t, (uint64_t)(a == 0))
    CMP64(op_i64_eq, a == b)
    CMP64(op_i64_ne, a != b)
    CMP64(op_i64_lt_s, (int64_t)a < (int64_t)b)
    CMP64(op_i64_lt_u, a < b)
    CMP64(op_i64_gt_s, (int64_t)a > (int64_t)b)
    CMP64(op_i64_gt_u, a > b)
    CMP64(op_i64_le_s, (int64_t)a <= (int64_t)b)
    CMP64(op_i64_le_u, a <= b)
    CMP64(op_i64_ge_s, (int64_t)a >= (int64_t)b)
    CMP64(op_i64_ge_u, a >= b)
    UN(op_i64_clz, uint64_t, a ? (uint64_t)__builtin_clzll(a) : 64u)
    UN(op_i64_ctz, uint64_t, a ? (uint64_t)__builtin_ctzll(a) : 64u)
    UN(op_i64_popcnt, uint64_t, (uint64_t)__builtin_popcountll(a))
    BIN64(op_i64_add, a + b)
    BIN64(op_i64_sub, a - b)
    BIN64(op_i64_mul, a * b)
op_i64_div_s: {
    uint64_t a = R(0), b = R(1);
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    if (a == 0x8000000000000000ull && b == UINT64_MAX)
        TRAP(MN_WASM_TRAP_INT_OVERFLOW);
    R(2) = (uint64_t)((int64_t)a / (int64_t)b);
    pc += 2;
    NEXT();
}
op_i64_div_u: {
    uint64_t a = R(0), b = R(1);
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    R(2) = a / b;
    pc += 2;
    NEXT();
}
op_i64_rem_s: {
    uint64_t a = R(0), b = R(1);
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    R(2) = b == UINT64_MAX ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
    pc += 2;
    NEXT();
}
op_i64_rem_u: {
    uint64_t a = R(0), b = R(1);
    if (b == 0)
        TRAP(MN_WASM_TRAP_DIV_ZERO);
    R(2) = a % b;
    pc += 2;
    NEXT();
}
    BIN64(op_i64_and, a & b)
    BIN64(op_i64_or, a | b)
    BIN64(op_i64_xor, a ^ b)
    BIN64(op_i64_shl, a << (b & 63))
    BIN64(op_i64_shr_s, (int64_t)a >> (b & 63))
    BIN64(op_i64_shr_u, a >> (b & 63))
    BIN64(op_i64_rotl, rotl64(a, b))
    BIN64(op_i64_rotr, rotr64(a, b))

    /* ---- f32 / f64 comparisons ---- */
    BINF32(op_f32_eq, (uint64_t)(a == b))
    BINF32(op_f32_ne, (uint64_t)(a != b))
    BINF32(op_f32_lt, (uint64_t)(a < b))
    BINF32(op_f32_gt, (uint64_t)(a > b))
    BINF32(op_f32_le, (uint64_t)(a <= b))
    BINF32(op_f32_ge, (uint64_t)(a >= b))
    BINF64(op_f64_eq, (uint64_t)(a == b))
    BINF64(op_f64_ne, (uint64_t)(a != b))
    BINF64(op_f64_lt, (uint64_t)(a < b))
    BINF64(op_f64_gt, (uint64_t)(a > b))
    BINF64(op_f64_le, (uint64_t)(a <= b))
    BINF64(op_f64_ge, (uint64_t)(a >= b))

    /* ---- f32 arithmetic ---- */
    UN(op_f32_abs, uint64_t, a & 0x7fffffffu)
    UN(op_f32_neg, uint64_t, (a ^ 0x80000000u) & 0xffffffffu)
    UN(op_f32_ceil, uint64_t, of_f32(ceil_f32(f32_of(a))))
    UN(op_f32_floor, uint64_t, of_f32(floor_f32(f32_of(a))))
    UN(op_f32_trunc, uint64_t, of_f32(trunc_f32(f32_of(a))))
    UN(op_f32_nearest, uint64_t, of_f32(nearest_f32(f32_of(a))))
    UN(op_f32_sqrt, uint64_t, of_f32(sqrtf(f32_of(a))))
    BINF32(op_f32_add, of_f32(a + b))
    BINF32(op_f32_sub, of_f32(a - b))
    BINF32(op_f32_mul, of_f32(a * b))
    BINF32(op_f32_div, of_f32(a / b))
    BINF32(op_f32_min, of_f32(min_f32(a, b)))
    BINF32(op_f32_max, of_f32(max_f32(a, b)))
    BIN64(op_f32_copysign, (a & 0x7fffffffu) | (b & 0x80000000u))

    /* ---- f64 arithmetic ---- */
    UN(op_f64_abs, uint64_t, a & 0x7fffffffffffffffull)
    UN(op_f64_neg, uint64_t, a ^ 0x8000000000000000ull)
    UN(op_f64_ceil, uint64_t, of_f64(ceil_f64(f64_of(a))))
    UN(op_f64_floor, uint64_t, of_f64(floor_f64(f64_of(a))))
    UN(op_f64_trunc, uint64_t, of_f64(trunc_f64(f64_of(a))))
    UN(op_f64_nearest, uint64_t, of_f64(nearest_f64(f64_of(a))))
    UN(op_f64_sqrt, uint64_t, of_f64(sqrt(f64_of(a))))
    BINF64(op_f64_add, of_f64(a + b))
    BINF64(op_f64_sub, of_f64(a - b))
    BINF64(op_f64_mul, of_f64(a * b))
    BINF64(op_f64_div, of_f64(a / b))
    BINF64(op_f64_min, of_f64(min_f64(a, b)))
    BINF64(op_f64_max, of_f64(max_f64(a, b)))
    BIN64(op_f64_copysign, (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))

    /* ---- conversions ---- */
    UN(op_i32_wrap_i64, uint64_t, (uint32_t)a)
    TRUNC(op_i32_trunc_f32_s, float, f32_of, int32_t, -2147483904.0f, 2147483648.0f)
    TRUNC(op_i32_trunc_f32_u, float, f32_of, uint32_t, -1.0f, 4294967296.0f)
    TRUNC(op_i32_trunc_f64_s, double, f64_of, int32_t, -2147483649.0, 2147483648.0)
    TRUNC(op_i32_trunc_f64_u, double, f64_of, uint32_t, -1.0, 4294967296.0)
    TRUNC(op_i64_trunc_f32_s, float, f32_of, int64_t, -9223373136366403584.0f,
          9223372036854775808.0f)
    TRUNC(op_i64_trunc_f32_u, float, f32_of, uint64_t, -1.0f, 18446744073709551616.0f)
    TRUNC(op_i64_trunc_f64_s, double, f64_of, int64_t, -9223372036854777856.0,
          9223372036854775808.0)
    TRUNC(op_i64_trunc_f64_u, double, f64_of, uint64_t, -1.0, 18446744073709551616.0)
    TRUNC_SAT(op_i32_trunc_sat_f32_s, float, f32_of, int32_t, -2147483904.0f, 2147483648.0f,
              INT32_MIN, INT32_MAX)
    TRUNC_SAT(op_i32_trunc_sat_f32_u, float, f32_of, uint32_t, -1.0f, 4294967296.0f, 0,
              UINT32_MAX)
    TRUNC_SAT(op_i32_trunc_sat_f64_s, double, f64_of, int32_t, -2147483649.0, 2147483648.0,
              INT32_MIN, INT32_MAX)
    TRUNC_SAT(op_i32_trunc_sat_f64_u, double, f64_of, uint32_t, -1.0, 4294967296.0, 0,
              UINT32_MAX)
    TRUNC_SAT(op_i64_trunc_sat_f32_s, float, f32_of, int64_t, -9223373136366403584.0f,
              9223372036854775808.0f, INT64_MIN, INT64_MAX)
    TRUNC_SAT(op_i64_trunc_sat_f32_u, float, f32_of, uint64_t, -1.0f, 18446744073709551616.0f,
              0, UINT64_MAX)
    TRUNC_SAT(op_i64_trunc_sat_f64_s, double, f64_of, int64_t, -9223372036854777856.0,
              9223372036854775808.0, INT64_MIN, INT64_MAX)
    TRUNC_SAT(op_i64_trunc_sat_f64_u, double, f64_of, uint64_t, -1.0, 18446744073709551616.0,
              0, UINT64_MAX)
    UN(op_i64_extend_i32_s, uint64_t, (uint64_t)(int64_t)(int32_t)(uint32_t)a)
    UN(op_i64_extend_i32_u, uint64_t, (uint64_t)(uint32_t)a)
    UN(op_f32_convert_i32_s, uint64_t, of_f32((float)(int32_t)(uint32_t)a))
    UN(op_f32_convert_i32_u, uint64_t, of_f32((float)(uint32_t)a))
    UN(op_f32_convert_i64_s, uint64_t, of_f32((float)(int64_t)a))
    UN(op_f32_convert_i64_u, uint64_t, of_f32((float)a))
    UN(op_f32_demote_f64, uint64_t, of_f32((float)f64_of(a)))
    UN(op_f64_convert_i32_s, uint64_t, of_f64((double)(int32_t)(uint32_t)a))
    UN(op_f64_convert_i32_u, uint64_t, of_f64((double)(uint32_t)a))
    UN(op_f64_convert_i64_s, uint64_t, of_f64((double)(int64_t)a))
    UN(op_f64_convert_i64_u, uint64_t, of_f64((double)a))
    UN(op_f64_promote_f32, uint64_t, of_f64((double)f32_of(a)))
    UN(op_i32_extend8_s, uint64_t, (uint32_t)(int32_t)(int8_t)(uint8_t)a)
    UN(op_i32_extend16_s, uint64_t, (uint32_t)(int32_t)(int16_t)(uint16_t)a)
    UN(op_i64_extend8_s, uint64_t, (uint64_t)(int64_t)(int8_t)(uint8_t)a)
    UN(op_i64_extend16_s, uint64_t, (uint64_t)(int64_t)(int16_t)(uint16_t)a)
    UN(op_i64_extend32_s, uint64_t, (uint64_t)(int64_t)(int32_t)(uint32_t)a)

done:
    store->fuel = fuel;
    store->trap = MN_WASM_TRAP_NONE;
    return 0;
trapped:
    store->fuel = fuel;
    return mn__wasm_trap(store, trap, err);
}

const void *const *mn__wasm_exec_ops(void)
{
    const void *const *table = NULL;
    run(NULL, NULL, NULL, &table);
    return table;
}

int mn__wasm_exec(mn_wasm_store *store, mn_wasm_func *func, mn_err *err)
{
    MN_ASSERT(func->def != NULL);
    MN_ASSERT(!store->running);
    store->running = true;
    int rc = run(store, func, err, NULL);
    store->running = false;
    return rc;
}
