/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the gossip seen-cache: membership, the exact expiry boundary (present one
 * millisecond before the TTL, gone at it), expired ids making room before any live id is
 * evicted, oldest-first eviction when full, ids ground into one bucket, and a seeded random
 * run checked against a naive model (a list with expiry times).
 */
#include <string.h>

#include <sodium/crypto_shorthash.h>

#include "metanode/relay.h"
#include "mn_test.h"

static mn_relay_seen cache; /* large: keep it off the stack */
static const uint8_t key[MN_RELAY_SEEN_KEY_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void mkid(uint8_t id[MN_RELAY_ID_BYTES], uint64_t n)
{
    memset(id, 0, MN_RELAY_ID_BYTES);
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(n >> (8 * i));
}

static void test_basic(void)
{
    uint8_t a[32], b[32];
    mkid(a, 1), mkid(b, 2);
    mn_relay_seen_init(&cache, 16, key, 0);
    ASSERT_FALSE(mn_relay_seen_has(&cache, a, 0));
    ASSERT_FALSE(mn_relay_seen_add(&cache, a, 0));
    ASSERT_TRUE(mn_relay_seen_has(&cache, a, 0));
    ASSERT_FALSE(mn_relay_seen_has(&cache, b, 0));
    ASSERT_EQ(cache.count, 1);
}

static void test_expiry_boundary(void)
{
    uint8_t a[32];
    mkid(a, 1);
    mn_relay_seen_init(&cache, 16, key, 1000);
    mn_relay_seen_add(&cache, a, 1000);
    ASSERT_TRUE(MN_RELAY_SEEN_TTL_MS >= 120000);
    ASSERT_TRUE(mn_relay_seen_has(&cache, a, 1000 + MN_RELAY_SEEN_TTL_MS - 1));
    ASSERT_FALSE(mn_relay_seen_has(&cache, a, 1000 + MN_RELAY_SEEN_TTL_MS));
    ASSERT_EQ(cache.count, 0);
    /* Once expired it can be added again and lives a full TTL from then. */
    mn_relay_seen_add(&cache, a, 1000 + MN_RELAY_SEEN_TTL_MS);
    ASSERT_TRUE(mn_relay_seen_has(&cache, a, 1000 + 2 * MN_RELAY_SEEN_TTL_MS - 1));
}

static void test_eviction_oldest_first(void)
{
    uint8_t id[32];
    mn_relay_seen_init(&cache, 4, key, 0);
    for (uint64_t n = 0; n < 4; n++) {
        mkid(id, n);
        ASSERT_FALSE(mn_relay_seen_add(&cache, id, n));
    }
    mkid(id, 4);
    ASSERT_TRUE(mn_relay_seen_add(&cache, id, 10));
    ASSERT_U64_EQ(cache.evictions, 1);
    mkid(id, 0);
    ASSERT_FALSE(mn_relay_seen_has(&cache, id, 10)); /* the oldest went */
    for (uint64_t n = 1; n < 5; n++) {
        mkid(id, n);
        ASSERT_TRUE(mn_relay_seen_has(&cache, id, 10));
    }
}

/* Expired ids make room: a full cache whose ids have all expired evicts nothing live. */
static void test_expired_before_evicted(void)
{
    uint8_t id[32];
    mn_relay_seen_init(&cache, 4, key, 0);
    for (uint64_t n = 0; n < 4; n++)
        mkid(id, n), mn_relay_seen_add(&cache, id, 0);
    mkid(id, 9);
    ASSERT_FALSE(mn_relay_seen_add(&cache, id, MN_RELAY_SEEN_TTL_MS));
    ASSERT_U64_EQ(cache.evictions, 0);
    ASSERT_EQ(cache.count, 1);
}

/* An attacker who knew the key could put every id in one bucket; even then lookups, expiry and
 * eviction stay correct (the key makes that grinding infeasible without it). */
static void test_one_bucket(void)
{
    enum { CAP = 16 };
    uint8_t ids[CAP + 4][32];
    int got = 0;
    for (uint64_t n = 0; got < CAP + 4; n++) {
        uint8_t id[32], h[crypto_shorthash_BYTES];
        mkid(id, n);
        crypto_shorthash(h, id, sizeof id, key);
        if ((h[0] & (CAP - 1)) == 3)
            memcpy(ids[got++], id, 32);
    }
    mn_relay_seen_init(&cache, CAP, key, 0);
    for (int i = 0; i < CAP + 4; i++)
        ASSERT_EQ(mn_relay_seen_add(&cache, ids[i], (uint64_t)i), i >= CAP);
    for (int i = 0; i < CAP + 4; i++)
        ASSERT_EQ(mn_relay_seen_has(&cache, ids[i], CAP + 4), i >= 4);
    ASSERT_FALSE(mn_relay_seen_has(&cache, ids[19], 19 + MN_RELAY_SEEN_TTL_MS));
    ASSERT_EQ(cache.count, 0);
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* Seeded random lookups and adds against a model: an id is present exactly when its latest
 * addition is among the CAP most recent additions and less than a TTL old. */
static void test_random_model(void)
{
    enum { CAP = 32, IDS = 96, STEPS = 20000 };
    static uint64_t expires[IDS], added[IDS]; /* added: 1-based index of the latest addition */
    uint64_t x = 0x9e3779b97f4a7c15ull, now = 5, adds = 0;
    memset(expires, 0, sizeof expires);
    memset(added, 0, sizeof added);
    mn_relay_seen_init(&cache, CAP, key, now);
    for (int step = 0; step < STEPS; step++) {
        now += rnd(&x) % 5000;
        uint64_t n = rnd(&x) % IDS;
        uint8_t id[32];
        mkid(id, n);
        bool want = added[n] != 0 && added[n] + CAP > adds && expires[n] > now;
        bool in = mn_relay_seen_has(&cache, id, now);
        ASSERT_EQ(in, want);
        if (!in) {
            mn_relay_seen_add(&cache, id, now);
            expires[n] = now + MN_RELAY_SEEN_TTL_MS;
            added[n] = ++adds;
        }
        ASSERT_TRUE(cache.count <= CAP);
    }
    ASSERT_TRUE(cache.evictions > 0); /* the run did reach the capacity edge */
}

MN_TEST_MAIN("net.relay_seen", MN_TEST(test_basic), MN_TEST(test_expiry_boundary),
             MN_TEST(test_eviction_oldest_first), MN_TEST(test_expired_before_evicted),
             MN_TEST(test_one_bucket), MN_TEST(test_random_model))
