/* SPDX-License-Identifier: Apache-2.0
 *
 * test_state.c: the persistent Merkle treap. After random sequences of puts and deletes the
 * incremental root equals the root of the same entries inserted from scratch (so the root is
 * a function of the content, not the history); older versions are untouched by changes to
 * clones; reads and prefix visits agree with a plain model; and the number of hashes per
 * change grows with log n, not n.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "mn_test.h"

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

#define KEYS 300

typedef struct model {
    bool present[KEYS];
    uint8_t val[KEYS][16];
    size_t vlen[KEYS];
} model;

static size_t key_of(uint32_t i, uint8_t *key)
{
    /* variable lengths, shared prefixes: "k" + decimal, some with a suffix */
    int n = snprintf((char *)key, 16, "k%u", i);
    if (i % 7 == 0)
        key[n++] = 0;
    return (size_t)n;
}

static void test_random_vs_scratch(void)
{
    mn_err err;
    for (int round = 0; round < 20; round++) {
        mn__tree t;
        mn__tree_init(&t);
        model m;
        memset(&m, 0, sizeof m);
        for (int op = 0; op < 2000; op++) {
            const uint32_t i = (uint32_t)(rnd() % KEYS);
            uint8_t key[16];
            const size_t klen = key_of(i, key);
            if (rnd() % 3 == 0) {
                mn__tree_del(&t, key, klen);
                m.present[i] = false;
            } else {
                m.vlen[i] = (size_t)(rnd() % 16);
                for (size_t j = 0; j < m.vlen[i]; j++)
                    m.val[i][j] = (uint8_t)rnd();
                ASSERT_OK(mn__tree_put(&t, key, klen, m.val[i], m.vlen[i], &err), &err);
                m.present[i] = true;
            }
            if (op % 97 == 0) {
                uint8_t a[32], b[32];
                mn__tree_root(&t, a);
                mn__tree_root_scratch(&t, b);
                ASSERT_MEM_EQ(a, b, 32);
            }
        }
        uint64_t count = 0;
        for (uint32_t i = 0; i < KEYS; i++) {
            uint8_t key[16];
            const size_t klen = key_of(i, key);
            size_t vlen;
            const uint8_t *v = mn__tree_get(&t, key, klen, &vlen);
            ASSERT_EQ(v != NULL, m.present[i]);
            if (v != NULL) {
                ASSERT_EQ(vlen, m.vlen[i]);
                ASSERT_TRUE(vlen == 0 || memcmp(v, m.val[i], vlen) == 0);
                count++;
            }
        }
        ASSERT_U64_EQ(mn__tree_count(&t), count);
        uint8_t a[32], b[32];
        mn__tree_root(&t, a);
        mn__tree_root_scratch(&t, b);
        ASSERT_MEM_EQ(a, b, 32);
        mn__tree_deinit(&t);
    }
}

static void test_versions_isolated(void)
{
    mn_err err;
    mn__tree base, v1;
    mn__tree_init(&base);
    mn__tree_init(&v1);
    for (uint32_t i = 0; i < 500; i++) {
        uint8_t key[16];
        const size_t klen = key_of(i, key);
        ASSERT_OK(mn__tree_put(&base, key, klen, key, klen, &err), &err);
    }
    uint8_t r0[32], r1[32], r2[32];
    mn__tree_root(&base, r0);
    mn__tree_clone(&v1, &base);
    for (uint32_t i = 0; i < 500; i += 3) {
        uint8_t key[16];
        const size_t klen = key_of(i, key);
        if (i % 2)
            mn__tree_del(&v1, key, klen);
        else
            ASSERT_OK(mn__tree_put(&v1, key, klen, (const uint8_t *)"x", 1, &err), &err);
    }
    mn__tree_root(&v1, r1);
    mn__tree_root(&base, r2);
    ASSERT_MEM_EQ(r0, r2, 32); /* the base did not change */
    ASSERT_TRUE(memcmp(r0, r1, 32) != 0);
    ASSERT_U64_EQ(mn__tree_count(&base), 500);
    uint8_t key[16];
    size_t vlen;
    const size_t klen = key_of(3, key);
    ASSERT_TRUE(mn__tree_get(&base, key, klen, &vlen) != NULL);
    ASSERT_TRUE(mn__tree_get(&v1, key, klen, &vlen) == NULL);
    mn__tree_deinit(&base); /* v1 keeps the shared nodes alive */
    mn__tree_root_scratch(&v1, r2);
    ASSERT_MEM_EQ(r1, r2, 32);
    mn__tree_deinit(&v1);
}

typedef struct visit_ctx {
    int count;
    uint8_t last[16];
    size_t last_len;
} visit_ctx;

static int on_entry(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    visit_ctx *c = ctx;
    ASSERT_TRUE(klen >= 2 && key[0] == 'k' && key[1] == '1');
    if (c->count > 0) {
        const size_t m = c->last_len < klen ? c->last_len : klen;
        const int d = memcmp(c->last, key, m);
        ASSERT_TRUE(d < 0 || (d == 0 && c->last_len < klen));
    }
    memcpy(c->last, key, klen);
    c->last_len = klen;
    c->count++;
    return 0;
}

static void test_visit_prefix(void)
{
    mn_err err;
    mn__tree t;
    mn__tree_init(&t);
    int want = 0;
    for (uint32_t i = 0; i < 300; i++) {
        uint8_t key[16];
        const size_t klen = key_of(i, key);
        ASSERT_OK(mn__tree_put(&t, key, klen, key, klen, &err), &err);
        want += key[1] == '1';
    }
    visit_ctx c = {0};
    ASSERT_EQ(mn__tree_visit(&t, (const uint8_t *)"k1", 2, on_entry, &c), 0);
    ASSERT_EQ(c.count, want);
    mn__tree_deinit(&t);
}

/* Hashes for 64 changes on trees of growing size: O(log n) per change. */
static void test_hashes_logarithmic(void)
{
    mn_err err;
    uint64_t per[3];
    const uint32_t sizes[3] = {1000, 10000, 100000};
    for (int s = 0; s < 3; s++) {
        mn__tree t, v;
        mn__tree_init(&t);
        mn__tree_init(&v);
        for (uint32_t i = 0; i < sizes[s]; i++) {
            uint8_t key[16];
            const size_t klen = key_of(i, key);
            ASSERT_OK(mn__tree_put(&t, key, klen, key, klen, &err), &err);
        }
        uint8_t root[32];
        mn__tree_root(&t, root);
        mn__tree_clone(&v, &t);
        const uint64_t before = mn__tree_hash_count;
        for (uint32_t i = 0; i < 64; i++) {
            uint8_t key[16];
            const size_t klen = key_of((uint32_t)(rnd() % sizes[s]), key);
            ASSERT_OK(mn__tree_put(&v, key, klen, (const uint8_t *)"new", 3, &err), &err);
        }
        mn__tree_root(&v, root);
        per[s] = mn__tree_hash_count - before;
        mn__tree_deinit(&v);
        mn__tree_deinit(&t);
    }
    /* 100x the entries: the hashes per change may grow by about log2(100) ~ 7 levels, far
     * from 100x. */
    ASSERT_TRUE(per[2] < per[0] * 3);
    ASSERT_TRUE(per[0] < 64u * 2u * 30u);
}

MN_TEST_MAIN("ledger.state", MN_TEST(test_random_vs_scratch), MN_TEST(test_versions_isolated),
             MN_TEST(test_visit_prefix), MN_TEST(test_hashes_logarithmic))
