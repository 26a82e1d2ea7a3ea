/* SPDX-License-Identifier: Apache-2.0 — embedding API of the WASM engine: fuel accounting,
 * limits, traps, host functions, NaN canonicalisation, error codes and guest memory access.
 * The module below is t.wat (in the comment) compiled with wat2wasm. */
#include <stdlib.h>

#include "metanode/wasm.h"
#include "mn_test.h"

/*
(module
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "mem") 1)
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $top
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $top)))
    (local.get $i))
  (func (export "count2") (param $n i32) (result i32)
    (local $i i32)
    (loop $top
      (br_if $top (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                            (local.get $n))))
    (local.get $i))
  (func $rec (export "rec") (param i32) (result i32)
    (i32.add (call $rec (local.get 0)) (i32.const 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "nan") (result f32) (f32.div (f32.const 0) (f32.const 0)))
  (func (export "neg_nan") (param f32) (result f32) (f32.neg (local.get 0)))
  (func (export "call_host") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))
*/
static const uint8_t t_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x15, 0x04, 0x60,
  0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00,
  0x01, 0x7d, 0x60, 0x01, 0x7d, 0x01, 0x7d, 0x02, 0x0c, 0x01, 0x04, 0x68,
  0x6f, 0x73, 0x74, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x03, 0x09, 0x08,
  0x01, 0x01, 0x01, 0x01, 0x02, 0x03, 0x00, 0x01, 0x05, 0x03, 0x01, 0x00,
  0x01, 0x07, 0x48, 0x09, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x05, 0x63,
  0x6f, 0x75, 0x6e, 0x74, 0x00, 0x01, 0x06, 0x63, 0x6f, 0x75, 0x6e, 0x74,
  0x32, 0x00, 0x02, 0x03, 0x72, 0x65, 0x63, 0x00, 0x03, 0x04, 0x67, 0x72,
  0x6f, 0x77, 0x00, 0x04, 0x03, 0x6e, 0x61, 0x6e, 0x00, 0x05, 0x07, 0x6e,
  0x65, 0x67, 0x5f, 0x6e, 0x61, 0x6e, 0x00, 0x06, 0x09, 0x63, 0x61, 0x6c,
  0x6c, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x07, 0x04, 0x6c, 0x6f, 0x61,
  0x64, 0x00, 0x08, 0x0a, 0x6a, 0x08, 0x1c, 0x01, 0x01, 0x7f, 0x02, 0x40,
  0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20, 0x01, 0x41,
  0x01, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x01, 0x0b, 0x15,
  0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x22, 0x01,
  0x20, 0x00, 0x49, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b, 0x09, 0x00, 0x20,
  0x00, 0x10, 0x03, 0x41, 0x01, 0x6a, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40,
  0x00, 0x0b, 0x0d, 0x00, 0x43, 0x00, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00,
  0x00, 0x00, 0x95, 0x0b, 0x05, 0x00, 0x20, 0x00, 0x8c, 0x0b, 0x08, 0x00,
  0x20, 0x00, 0x20, 0x01, 0x10, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28,
  0x02, 0x00, 0x0b
};

typedef struct fixture {
    mn_wasm_module *mod;
    mn_wasm_store *store;
    mn_wasm_instance *inst;
    int host_calls;
} fixture;

static int host_add(void *ctx, mn_wasm_instance *caller, const mn_wasm_val *args,
                    mn_wasm_val *results, mn_err *err)
{
    fixture *f = ctx;
    f->host_calls++;
    ASSERT_TRUE(caller == f->inst);
    if (args[0].of.i32 == 666)
        return mn_err_set(err, MN_EINVAL, 0, "the host refuses 666");
    results[0].of.i32 = args[0].of.i32 + args[1].of.i32;
    return 0;
}

static void setup(fixture *f, bool policy, const mn_wasm_limits *limits)
{
    mn_err err;
    mn_wasm_config cfg = {.metered = policy, .canonical_nans = policy};
    *f = (fixture){0};
    ASSERT_OK(mn_wasm_module_load(t_wasm, sizeof(t_wasm), &cfg, &f->mod, &err), &err);
    ASSERT_OK(mn_wasm_store_new(limits, &f->store, &err), &err);
    mn_wasm_type ii[2] = {MN_WASM_I32, MN_WASM_I32};
    mn_wasm_functype ft = {2, 1, ii, ii};
    mn_wasm_extern imp = {.kind = MN_WASM_EXTERN_FUNC};
    ASSERT_OK(mn_wasm_func_new_host(f->store, &ft, host_add, f, &imp.of.func, &err), &err);
    ASSERT_OK(mn_wasm_instantiate(f->store, f->mod, &imp, 1, &f->inst, &err), &err);
}

static void teardown(fixture *f)
{
    mn_wasm_store_free(f->store);
    mn_wasm_module_free(f->mod);
}

static int call1(fixture *f, const char *name, mn_wasm_val arg, size_t nargs, mn_wasm_val *res,
                 mn_err *err)
{
    mn_wasm_extern ex;
    ASSERT_OK(mn_wasm_instance_export(f->inst, (const uint8_t *)name, strlen(name), &ex, err),
              err);
    ASSERT_EQ(ex.kind, MN_WASM_EXTERN_FUNC);
    return mn_wasm_func_call(f->store, ex.of.func, &arg, nargs, res, 1, err);
}

static mn_wasm_val i32(uint32_t v)
{
    mn_wasm_val x = {.type = MN_WASM_I32};
    x.of.i32 = v;
    return x;
}

/* Cost table v1 on `count`: 4 per loop test, 5 per increment, 1 for the final local.get. */
static void fuel_is_exact_and_exhaustion_traps(void)
{
    fixture f;
    mn_err err;
    mn_wasm_val res;
    setup(&f, true, NULL);
    for (uint32_t n = 0; n < 50; n += 7) {
        mn_wasm_store_set_fuel(f.store, 1000);
        ASSERT_OK(call1(&f, "count", i32(n), 1, &res, &err), &err);
        ASSERT_EQ(res.of.i32, n);
        ASSERT_U64_EQ(1000 - mn_wasm_store_fuel(f.store), 9u * n + 5u);
    }
    /* count2's backward branch closes its loop's head segment, which it charges itself on
     * every taken jump: 7 per iteration, 1 after the loop. */
    for (uint32_t n = 1; n < 50; n += 7) {
        mn_wasm_store_set_fuel(f.store, 1000);
        ASSERT_OK(call1(&f, "count2", i32(n), 1, &res, &err), &err);
        ASSERT_EQ(res.of.i32, n);
        ASSERT_U64_EQ(1000 - mn_wasm_store_fuel(f.store), 7u * n + 1u);
    }
    mn_wasm_store_set_fuel(f.store, 7 * 10);
    ASSERT_EQ(call1(&f, "count2", i32(100), 1, &res, &err), -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_FUEL);
    ASSERT_U64_EQ(mn_wasm_store_fuel(f.store), 0);
    /* 100 iterations need 905: with 900 the call traps, distinctly, and keeps what is left. */
    mn_wasm_store_set_fuel(f.store, 900);
    ASSERT_EQ(call1(&f, "count", i32(100), 1, &res, &err), -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_FUEL);
    ASSERT_STR_EQ(err.msg, "fuel exhausted");
    ASSERT_TRUE(mn_wasm_store_fuel(f.store) < 9);
    /* The store is usable after a trap. */
    mn_wasm_store_set_fuel(f.store, 1000);
    ASSERT_OK(call1(&f, "count", i32(3), 1, &res, &err), &err);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_NONE);
    teardown(&f);
}

/*
(module
  (func (export "down") (param $n i32) (result i32)
    (local $c i32)
    (if (i32.lt_s (local.get $n) (i32.const 1)) (then (return (i32.const 0))))
    (loop $top
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (local.set $c (i32.gt_s (local.get $n) (i32.const 0)))
      (br_if $top (local.get $c)))
    (local.get $n)))
*/
static const uint8_t down_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04,
  0x64, 0x6f, 0x77, 0x6e, 0x00, 0x00, 0x0a, 0x28, 0x01, 0x26, 0x01, 0x01,
  0x7f, 0x20, 0x00, 0x41, 0x01, 0x48, 0x04, 0x40, 0x41, 0x00, 0x0f, 0x0b,
  0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x20, 0x00, 0x41,
  0x00, 0x4a, 0x21, 0x01, 0x20, 0x01, 0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b,
};

/* Calls down(n) with `fuel`; returns the call's status and stores what is left in *left. */
static int call_down(mn_wasm_store *store, mn_wasm_func *fn, uint32_t n, uint64_t fuel,
                     uint64_t *left)
{
    mn_err err;
    mn_wasm_val res;
    mn_wasm_val arg = i32(n);
    mn_wasm_store_set_fuel(store, fuel);
    int rc = mn_wasm_func_call(store, fn, &arg, 1, &res, 1, &err);
    *left = mn_wasm_store_fuel(store);
    if (rc == 0)
        ASSERT_EQ(res.of.i32, 0);
    else
        ASSERT_EQ(mn_wasm_store_trap(store), MN_WASM_TRAP_FUEL);
    return rc;
}

/* The segments that branches charge for their targets (the if's end, entered only by its
 * taken branch; the code after the loop, charged by the loop's br_if when it falls through)
 * cost what cost table v1 says, and an exhausted charge traps there deducting nothing:
 * 4 on entry, 2 for the then arm, 10 per iteration, 1 after the loop. */
static void branches_charge_their_targets_exactly(void)
{
    mn_err err;
    mn_wasm_config cfg = {.metered = true, .canonical_nans = true};
    mn_wasm_module *mod;
    mn_wasm_store *store;
    mn_wasm_instance *inst;
    mn_wasm_extern ex;
    uint64_t left;
    ASSERT_OK(mn_wasm_module_load(down_wasm, sizeof(down_wasm), &cfg, &mod, &err), &err);
    ASSERT_OK(mn_wasm_store_new(NULL, &store, &err), &err);
    ASSERT_OK(mn_wasm_instantiate(store, mod, NULL, 0, &inst, &err), &err);
    ASSERT_OK(mn_wasm_instance_export(inst, (const uint8_t *)"down", 4, &ex, &err), &err);
    mn_wasm_func *fn = ex.of.func;
    ASSERT_EQ(call_down(store, fn, 0, 100, &left), 0);
    ASSERT_U64_EQ(100 - left, 6);
    for (uint32_t n = 1; n < 20; n += 3) {
        ASSERT_EQ(call_down(store, fn, n, 1000, &left), 0);
        ASSERT_U64_EQ(1000 - left, 10u * n + 5u);
        ASSERT_EQ(call_down(store, fn, n, 10u * n + 5u, &left), 0);
        ASSERT_U64_EQ(left, 0);
        ASSERT_EQ(call_down(store, fn, n, 10u * n + 4u, &left), -MN_ETRAP); /* after the loop */
        ASSERT_U64_EQ(left, 0);
    }
    ASSERT_EQ(call_down(store, fn, 3, 4 + 9, &left), -MN_ETRAP); /* the loop's first segment */
    ASSERT_U64_EQ(left, 9);
    ASSERT_EQ(call_down(store, fn, 3, 4 + 25, &left), -MN_ETRAP); /* its third iteration */
    ASSERT_U64_EQ(left, 5);
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
}

static void unmetered_code_uses_no_fuel(void)
{
    fixture f;
    mn_err err;
    mn_wasm_val res;
    setup(&f, false, NULL);
    mn_wasm_store_set_fuel(f.store, 5);
    ASSERT_OK(call1(&f, "count", i32(1000), 1, &res, &err), &err);
    ASSERT_EQ(res.of.i32, 1000);
    ASSERT_U64_EQ(mn_wasm_store_fuel(f.store), 5);
    teardown(&f);
}

static void deep_recursion_is_a_clean_trap(void)
{
    fixture f;
    mn_err err;
    mn_wasm_val res;
    mn_wasm_limits lim = {.call_depth_max = 300};
    setup(&f, true, &lim);
    ASSERT_EQ(call1(&f, "rec", i32(1), 1, &res, &err), -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_STACK);
    ASSERT_STR_EQ(err.msg, "call stack exhausted");
    teardown(&f);
    /* The default limits hold too (the frames are on the engine's stack, not C's). */
    setup(&f, false, NULL);
    ASSERT_EQ(call1(&f, "rec", i32(1), 1, &res, &err), -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_STACK);
    teardown(&f);
}

static void memory_grow_respects_the_store_limit(void)
{
    fixture f;
    mn_err err;
    mn_wasm_val res;
    mn_wasm_limits lim = {.memory_pages_max = 4};
    setup(&f, true, &lim);
    mn_wasm_store_set_fuel(f.store, 10000);
    ASSERT_OK(call1(&f, "grow", i32(3), 1, &res, &err), &err);
    ASSERT_EQ(res.of.i32, 1);
    /* local.get + memory.grow, plus 1,024 per page grown (cost table v1). */
    ASSERT_U64_EQ(10000 - mn_wasm_store_fuel(f.store), 2 + 3 * 1024);
    ASSERT_OK(call1(&f, "grow", i32(1), 1, &res, &err), &err);
    ASSERT_EQ(res.of.i32, -1 & 0xffffffffu);
    mn_wasm_memory *mem = mn_wasm_instance_memory(f.inst);
    uint64_t len;
    ASSERT_TRUE(mn_wasm_memory_data(mem, &len) != NULL);
    ASSERT_U64_EQ(len, 4u * 65536u);
    /* Guest memory access from the host is bounds-checked. */
    uint32_t word = 0x11223344;
    ASSERT_OK(mn_wasm_memory_write(mem, len - 4, &word, 4, &err), &err);
    ASSERT_EQ(mn_wasm_memory_write(mem, len - 3, &word, 4, &err), -MN_EINVAL);
    ASSERT_EQ(mn_wasm_memory_read(mem, UINT64_MAX, &word, 4, &err), -MN_EINVAL);
    ASSERT_OK(call1(&f, "load", i32((uint32_t)len - 4), 1, &res, &err), &err);
    ASSERT_EQ(res.of.i32, 0x11223344);
    ASSERT_EQ(call1(&f, "load", i32((uint32_t)len - 3), 1, &res, &err), -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_MEMORY_OOB);
    teardown(&f);
}

static void host_functions_are_called_and_can_fail(void)
{
    fixture f;
    mn_err err;
    mn_wasm_val args[2] = {i32(40), i32(2)}, res;
    setup(&f, true, NULL);
    mn_wasm_extern ex;
    ASSERT_OK(mn_wasm_instance_export(f.inst, (const uint8_t *)"call_host", 9, &ex, &err), &err);
    ASSERT_OK(mn_wasm_func_call(f.store, ex.of.func, args, 2, &res, 1, &err), &err);
    ASSERT_EQ(res.of.i32, 42);
    ASSERT_EQ(f.host_calls, 1);
    args[0] = i32(666);
    ASSERT_EQ(mn_wasm_func_call(f.store, ex.of.func, args, 2, &res, 1, &err), -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(f.store), MN_WASM_TRAP_HOST);
    ASSERT_TRUE(strstr(err.msg, "666") != NULL);
    /* Wrong argument types are the caller's error, not a trap. */
    args[0].type = MN_WASM_I64;
    ASSERT_EQ(mn_wasm_func_call(f.store, ex.of.func, args, 2, &res, 1, &err), -MN_EINVAL);
    teardown(&f);
}

static void policy_mode_canonicalises_nans_but_not_neg(void)
{
    fixture f;
    mn_err err;
    mn_wasm_val res, arg = {.type = MN_WASM_F32};
    setup(&f, true, NULL);
    ASSERT_OK(call1(&f, "nan", arg, 0, &res, &err), &err);
    ASSERT_EQ(res.of.f32_bits, 0x7fc00000u);
    arg.of.f32_bits = 0x7fa00001u; /* a signalling NaN: neg must flip only the sign */
    ASSERT_OK(call1(&f, "neg_nan", arg, 1, &res, &err), &err);
    ASSERT_EQ(res.of.f32_bits, 0xffa00001u);
    teardown(&f);
}

/*
(module
  (func (export "fma") (param f32 f32 f32) (result f32)
    (f32.add (f32.mul (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "tee") (param f32 f32 f32) (result f32)
    (local f32)
    (drop (f32.add (local.tee 3 (f32.mul (local.get 0) (local.get 1))) (local.get 2)))
    (f32.neg (local.get 3)))
  (func (export "if") (param f32 f32 f32) (result f32)
    (f32.mul (local.get 0) (local.get 1))
    (if (param f32) (result f32) (f32.ne (local.get 2) (local.get 2))
      (then (f32.add (local.get 2))) (else (f32.neg))))
  (func (export "brif") (param f32 f32 f32) (result f32)
    (f32.neg (block (result f32)
      (br_if 0 (f32.mul (local.get 0) (local.get 1)) (f32.eq (local.get 2) (local.get 2)))
      (f32.add (local.get 2))))))
*/
static const uint8_t canon_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x02, 0x60,
  0x03, 0x7d, 0x7d, 0x7d, 0x01, 0x7d, 0x60, 0x01, 0x7d, 0x01, 0x7d, 0x03,
  0x05, 0x04, 0x00, 0x00, 0x00, 0x00, 0x07, 0x19, 0x04, 0x03, 0x66, 0x6d,
  0x61, 0x00, 0x00, 0x03, 0x74, 0x65, 0x65, 0x00, 0x01, 0x02, 0x69, 0x66,
  0x00, 0x02, 0x04, 0x62, 0x72, 0x69, 0x66, 0x00, 0x03, 0x0a, 0x4a, 0x04,
  0x0a, 0x00, 0x20, 0x00, 0x20, 0x01, 0x94, 0x20, 0x02, 0x92, 0x0b, 0x12,
  0x01, 0x01, 0x7d, 0x20, 0x00, 0x20, 0x01, 0x94, 0x22, 0x03, 0x20, 0x02,
  0x92, 0x1a, 0x20, 0x03, 0x8c, 0x0b, 0x14, 0x00, 0x20, 0x00, 0x20, 0x01,
  0x94, 0x20, 0x02, 0x20, 0x02, 0x5c, 0x04, 0x01, 0x20, 0x02, 0x92, 0x05,
  0x8c, 0x0b, 0x0b, 0x15, 0x00, 0x02, 0x7d, 0x20, 0x00, 0x20, 0x01, 0x94,
  0x20, 0x02, 0x20, 0x02, 0x5b, 0x0d, 0x00, 0x20, 0x02, 0x92, 0x0b, 0x8c,
  0x0b,
};

/* f32 bits of export `name` (policy mode) called with three f32 bit patterns. */
static uint32_t canon_call(mn_wasm_instance *inst, mn_wasm_store *store, const char *name,
                           uint32_t a, uint32_t b, uint32_t c)
{
    mn_err err;
    mn_wasm_extern ex;
    mn_wasm_val args[3], res;
    uint32_t bits[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        args[i].type = MN_WASM_F32;
        args[i].of.f32_bits = bits[i];
    }
    ASSERT_OK(mn_wasm_instance_export(inst, (const uint8_t *)name, strlen(name), &ex, &err),
              &err);
    ASSERT_OK(mn_wasm_func_call(store, ex.of.func, args, 3, &res, 1, &err), &err);
    return res.of.f32_bits;
}

/* A canonicalising operation whose result only another one reads is translated to its plain
 * form; a value that anything else can also read (a local, the other arm of an if, a branch
 * target) stays canonicalised. */
static void policy_mode_canonicalises_shared_values(void)
{
    mn_err err;
    mn_wasm_config cfg = {.metered = true, .canonical_nans = true};
    mn_wasm_module *mod;
    mn_wasm_store *store;
    mn_wasm_instance *inst;
    ASSERT_OK(mn_wasm_module_load(canon_wasm, sizeof(canon_wasm), &cfg, &mod, &err), &err);
    ASSERT_OK(mn_wasm_store_new(NULL, &store, &err), &err);
    ASSERT_OK(mn_wasm_instantiate(store, mod, NULL, 0, &inst, &err), &err);
    mn_wasm_store_set_fuel(store, 1000);
    const uint32_t snan = 0x7fa00001u, two = 0x40000000u, one = 0x3f800000u;
    ASSERT_EQ(canon_call(inst, store, "fma", snan, two, one), 0x7fc00000u);
    ASSERT_EQ(canon_call(inst, store, "tee", snan, two, one), 0xffc00000u);
    ASSERT_EQ(canon_call(inst, store, "if", snan, two, snan), 0x7fc00000u);
    ASSERT_EQ(canon_call(inst, store, "if", snan, two, one), 0xffc00000u);
    ASSERT_EQ(canon_call(inst, store, "brif", snan, two, one), 0xffc00000u);
    ASSERT_EQ(canon_call(inst, store, "brif", snan, two, snan), 0xffc00000u);
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
}

static void bad_modules_are_errors(void)
{
    mn_err err;
    mn_wasm_module *mod;
    uint8_t bytes[sizeof(t_wasm)];
    ASSERT_EQ(mn_wasm_module_load(t_wasm, 7, NULL, &mod, &err), -MN_ECORRUPT);
    memcpy(bytes, t_wasm, sizeof(bytes));
    bytes[4] = 2; /* version */
    ASSERT_EQ(mn_wasm_module_load(bytes, sizeof(bytes), NULL, &mod, &err), -MN_ECORRUPT);
    /* Truncations never crash; cut inside the last (code) section they are errors. Cut at a
     * section boundary before the function section they leave a valid smaller module. */
    for (size_t n = 8; n < sizeof(t_wasm); n++) {
        int rc = mn_wasm_module_load(t_wasm, n, NULL, &mod, &err);
        if (rc == 0)
            mn_wasm_module_free(mod);
        if (n > sizeof(t_wasm) - 80)
            ASSERT_TRUE(rc < 0);
    }
    /* i32.add of an i32 and a missing operand: "type mismatch" is MN_EINVAL. */
    static const uint8_t invalid[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7f,
                                      3,    2,   1,   0,  10, 7, 1, 5, 0, 0x41, 1, 0x6a, 0x0b};
    ASSERT_EQ(mn_wasm_module_load(invalid, sizeof(invalid), NULL, &mod, &err), -MN_EINVAL);
    ASSERT_STR_EQ(err.msg, "function 0: type mismatch");
}

/*
(module
  (import "host" "reenter" (func $reenter))
  (memory (export "mem") 1)
  (func (export "fill") (param $n i32) (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
  (func (export "call_reenter") (call $reenter))
  (func (export "nop")))
*/
static const uint8_t b_wasm[] = {
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60,
  0x00, 0x00, 0x60, 0x01, 0x7f, 0x00, 0x02, 0x10, 0x01, 0x04, 0x68, 0x6f,
  0x73, 0x74, 0x07, 0x72, 0x65, 0x65, 0x6e, 0x74, 0x65, 0x72, 0x00, 0x00,
  0x03, 0x04, 0x03, 0x01, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07,
  0x23, 0x04, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04, 0x66, 0x69, 0x6c,
  0x6c, 0x00, 0x01, 0x0c, 0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x72, 0x65, 0x65,
  0x6e, 0x74, 0x65, 0x72, 0x00, 0x02, 0x03, 0x6e, 0x6f, 0x70, 0x00, 0x03,
  0x0a, 0x15, 0x03, 0x0b, 0x00, 0x41, 0x00, 0x41, 0x07, 0x20, 0x00, 0xfc,
  0x0b, 0x00, 0x0b, 0x04, 0x00, 0x10, 0x00, 0x0b, 0x02, 0x00, 0x0b
};

typedef struct reenter_ctx {
    mn_wasm_store *store;
    mn_wasm_func *target;
    int rc;
} reenter_ctx;

static int host_reenter(void *ctx, mn_wasm_instance *caller, const mn_wasm_val *args,
                        mn_wasm_val *results, mn_err *err)
{
    (void)caller, (void)args, (void)results;
    reenter_ctx *r = ctx;
    mn_wasm_val none;
    r->rc = mn_wasm_func_call(r->store, r->target, NULL, 0, &none, 0, err);
    return 0;
}

static mn_wasm_func *export_func(mn_wasm_instance *inst, const char *name)
{
    mn_err err;
    mn_wasm_extern ex;
    ASSERT_OK(mn_wasm_instance_export(inst, (const uint8_t *)name, strlen(name), &ex, &err),
              &err);
    ASSERT_EQ(ex.kind, MN_WASM_EXTERN_FUNC);
    return ex.of.func;
}

/* memory.fill pays 1 per 64 bytes on top of its instructions; a host function cannot re-enter
 * the store that called it. */
static void bulk_fuel_and_no_reentry(void)
{
    mn_err err;
    mn_wasm_module *mod;
    mn_wasm_store *store;
    mn_wasm_instance *inst;
    mn_wasm_config cfg = {.metered = true};
    ASSERT_OK(mn_wasm_module_load(b_wasm, sizeof(b_wasm), &cfg, &mod, &err), &err);
    ASSERT_OK(mn_wasm_store_new(NULL, &store, &err), &err);
    reenter_ctx r = {.store = store, .rc = 0};
    mn_wasm_functype ft = {0, 0, NULL, NULL};
    mn_wasm_extern imp = {.kind = MN_WASM_EXTERN_FUNC};
    ASSERT_OK(mn_wasm_func_new_host(store, &ft, host_reenter, &r, &imp.of.func, &err), &err);
    ASSERT_OK(mn_wasm_instantiate(store, mod, &imp, 1, &inst, &err), &err);
    mn_wasm_val arg = {.type = MN_WASM_I32}, none;
    arg.of.i32 = 6400;
    mn_wasm_store_set_fuel(store, 1000);
    ASSERT_OK(mn_wasm_func_call(store, export_func(inst, "fill"), &arg, 1, &none, 0, &err), &err);
    ASSERT_U64_EQ(1000 - mn_wasm_store_fuel(store), 4 + 6400 / 64); /* 3 operands + fill */
    uint8_t byte;
    ASSERT_OK(mn_wasm_memory_read(mn_wasm_instance_memory(inst), 6399, &byte, 1, &err), &err);
    ASSERT_EQ(byte, 7);
    /* Not enough fuel for the bytes: a fuel trap before any byte is written. */
    arg.of.i32 = 65536;
    mn_wasm_store_set_fuel(store, 500);
    ASSERT_EQ(mn_wasm_func_call(store, export_func(inst, "fill"), &arg, 1, &none, 0, &err),
              -MN_ETRAP);
    ASSERT_EQ(mn_wasm_store_trap(store), MN_WASM_TRAP_FUEL);
    ASSERT_OK(mn_wasm_memory_read(mn_wasm_instance_memory(inst), 6400, &byte, 1, &err), &err);
    ASSERT_EQ(byte, 0);
    r.target = export_func(inst, "nop");
    mn_wasm_store_set_fuel(store, 1000);
    ASSERT_OK(mn_wasm_func_call(store, export_func(inst, "call_reenter"), NULL, 0, &none, 0,
                                &err),
              &err);
    ASSERT_EQ(r.rc, -MN_ESTATE);
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
}

MN_TEST_MAIN("wasm.api", MN_TEST(fuel_is_exact_and_exhaustion_traps),
             MN_TEST(branches_charge_their_targets_exactly),
             MN_TEST(unmetered_code_uses_no_fuel), MN_TEST(deep_recursion_is_a_clean_trap),
             MN_TEST(memory_grow_respects_the_store_limit),
             MN_TEST(host_functions_are_called_and_can_fail),
             MN_TEST(policy_mode_canonicalises_nans_but_not_neg),
             MN_TEST(policy_mode_canonicalises_shared_values), MN_TEST(bad_modules_are_errors),
             MN_TEST(bulk_fuel_and_no_reentry))
