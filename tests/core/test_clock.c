/* SPDX-License-Identifier: Apache-2.0 — tests of the clock and rng interfaces. */
#include "metanode/clock.h"
#include "mn_test.h"

static void manual_clock_moves_only_by_hand(void)
{
    mn_clock c;
    mn_clock_manual_init(&c, 1000);
    ASSERT_U64_EQ(c.mono_ns(&c), 1000);
    mn_clock_manual_advance(&c, 5);
    ASSERT_U64_EQ(c.mono_ns(&c), 1005);
    ASSERT_U64_EQ(c.wall_ns(&c), 1005);
    mn_clock *sys = mn_clock_system();
    uint64_t a = sys->mono_ns(sys), b = sys->mono_ns(sys);
    ASSERT_TRUE(b >= a);
}

static void seeded_rng_is_reproducible(void)
{
    uint8_t seed[32] = {1};
    mn_rng r1, r2;
    mn_rng_seeded_init(&r1, seed);
    mn_rng_seeded_init(&r2, seed);
    uint8_t a[100], b[100];
    r1.fill(&r1, a, sizeof(a));
    r2.fill(&r2, b, sizeof(b));
    ASSERT_MEM_EQ(a, b, sizeof(a));
    seed[0] = 2;
    mn_rng_seeded_init(&r2, seed);
    r2.fill(&r2, b, sizeof(b));
    ASSERT_TRUE(memcmp(a, b, sizeof(a)) != 0);
}

static void uniform_stays_in_bounds_and_covers(void)
{
    uint8_t seed[32] = {7};
    mn_rng r;
    mn_rng_seeded_init(&r, seed);
    unsigned hits[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t v = mn_rng_uniform(&r, 7);
        ASSERT_TRUE(v < 7);
        hits[v]++;
    }
    for (int i = 0; i < 7; i++)
        ASSERT_TRUE(hits[i] > 800 && hits[i] < 1200); /* mean 1000, sd ~31: 6 sd margin */
    ASSERT_U64_EQ(mn_rng_uniform(&r, 1), 0);
}

MN_TEST_MAIN("core.clock", MN_TEST(manual_clock_moves_only_by_hand),
             MN_TEST(seeded_rng_is_reproducible), MN_TEST(uniform_stays_in_bounds_and_covers))
