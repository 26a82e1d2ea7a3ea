/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the relay's token buckets: a new bucket holds its burst; refill is exact to the
 * thousandth of a token (no drift over many small steps); a flood gets exactly burst plus rate
 * times time; a cost above the burst never passes; extreme rates and gaps do not overflow; the
 * paired take charges both buckets or neither.
 */
#include "metanode/relay.h"
#include "mn_test.h"

static void test_starts_full(void)
{
    mn_relay_rate r = {.per_s = 1, .burst = 5};
    mn_relay_bucket b;
    mn_relay_bucket_init(&b, &r, 100);
    for (int i = 0; i < 5; i++)
        ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 1, 100));
    ASSERT_FALSE(mn_relay_bucket_take(&b, &r, 1, 100));
    ASSERT_U64_EQ(b.milli, 0);
}

/* 3 tokens a second: a token takes 333.33 ms, so 333 ms is not enough and 334 ms is. */
static void test_refill_exact(void)
{
    mn_relay_rate r = {.per_s = 3, .burst = 20};
    mn_relay_bucket b;
    mn_relay_bucket_init(&b, &r, 0);
    ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 20, 0));
    ASSERT_FALSE(mn_relay_bucket_take(&b, &r, 1, 333));
    ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 1, 334));
    ASSERT_U64_EQ(b.milli, 2);
    /* 3,000 one-millisecond steps give exactly 9 tokens: nothing is lost to rounding. */
    for (uint64_t t = 335; t < 3335; t++)
        ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 0, t));
    ASSERT_U64_EQ(b.milli, 2 + 9000);
    /* Full stays full. */
    ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 0, 1000000));
    ASSERT_U64_EQ(b.milli, 20000);
}

/* A peer trying every millisecond for a second gets burst + rate * 0.999 s, no more. */
static void test_flood(void)
{
    mn_relay_rate r = {.per_s = 10, .burst = 10};
    mn_relay_bucket b;
    mn_relay_bucket_init(&b, &r, 0);
    int ok = 0;
    for (uint64_t t = 0; t < 1000; t++)
        ok += mn_relay_bucket_take(&b, &r, 1, t);
    ASSERT_EQ(ok, 19); /* 10,000 + 9,990 thousandths */
}

static void test_cost_above_burst(void)
{
    mn_relay_rate r = {.per_s = 1000, .burst = 100};
    mn_relay_bucket b;
    mn_relay_bucket_init(&b, &r, 0);
    ASSERT_FALSE(mn_relay_bucket_take(&b, &r, 101, 0));
    ASSERT_FALSE(mn_relay_bucket_take(&b, &r, UINT64_MAX, UINT64_MAX / 2));
    ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 100, UINT64_MAX / 2));
}

static void test_no_overflow(void)
{
    mn_relay_rate r = {.per_s = UINT32_MAX, .burst = UINT32_MAX};
    mn_relay_bucket b;
    mn_relay_bucket_init(&b, &r, 0);
    ASSERT_TRUE(mn_relay_bucket_take(&b, &r, UINT32_MAX, 0));
    ASSERT_TRUE(mn_relay_bucket_take(&b, &r, 0, UINT64_MAX - 1));
    ASSERT_U64_EQ(b.milli, (uint64_t)UINT32_MAX * 1000u);
    mn_relay_rate slow = {.per_s = 1, .burst = 1};
    mn_relay_bucket_init(&b, &slow, 0);
    ASSERT_TRUE(mn_relay_bucket_take(&b, &slow, 1, 0));
    ASSERT_FALSE(mn_relay_bucket_take(&b, &slow, 1, 999));
    ASSERT_TRUE(mn_relay_bucket_take(&b, &slow, 1, 1000));
}

static void test_take2_atomic(void)
{
    mn_relay_rate rm = {.per_s = 1, .burst = 2}, rb = {.per_s = 100, .burst = 1000};
    mn_relay_bucket m, by;
    mn_relay_bucket_init(&m, &rm, 0);
    mn_relay_bucket_init(&by, &rb, 0);
    ASSERT_TRUE(mn_relay_bucket_take2(&m, &rm, 1, &by, &rb, 900, 0));
    ASSERT_FALSE(mn_relay_bucket_take2(&m, &rm, 1, &by, &rb, 200, 0)); /* bytes short */
    ASSERT_U64_EQ(m.milli, 1000);                                      /* message not charged */
    ASSERT_TRUE(mn_relay_bucket_take2(&m, &rm, 1, &by, &rb, 100, 0));
    ASSERT_FALSE(mn_relay_bucket_take2(&m, &rm, 1, &by, &rb, 0, 0)); /* messages short */
    ASSERT_U64_EQ(by.milli, 0);
}

MN_TEST_MAIN("net.relay_rate", MN_TEST(test_starts_full), MN_TEST(test_refill_exact),
             MN_TEST(test_flood), MN_TEST(test_cost_above_burst), MN_TEST(test_no_overflow),
             MN_TEST(test_take2_atomic))
