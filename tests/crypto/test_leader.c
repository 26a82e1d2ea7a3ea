/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of stake-weighted proposer selection: exact proposers against an independent Python
 * implementation (tools/leader_ref.py → leader_golden.json), a chi-square test that shares
 * follow stakes, validator-set validation, and seed chaining.
 */
#include <math.h>
#include <stdlib.h>

#include "metanode/hash.h"
#include "metanode/leader.h"
#include "metanode/tags.h"
#include "mn_test.h"

static void load_set(json_t *arr, mn_validator_set *set)
{
    static mn_validator vals[MN_VALIDATORS_MAX];
    size_t i;
    json_t *v;
    ASSERT_TRUE(json_array_size(arr) <= MN_VALIDATORS_MAX);
    json_array_foreach(arr, i, v) {
        mn_test_json_hex_n(v, "id", vals[i].id, 32);
        vals[i].stake = (uint64_t)json_integer_value(json_object_get(v, "stake"));
    }
    mn_err err;
    ASSERT_OK(mn_valset_init(set, vals, (uint32_t)json_array_size(arr), &err), &err);
}

static void golden_proposers_match_reference(void)
{
    ASSERT_EQ(MN_TAG_LEADER_DRAW, 0x1d); /* the reference script hard-codes the tag */
    json_t *doc = mn_test_load_json(mn_test_source_path("tests/crypto/leader_golden.json"));
    json_t *sets = json_object_get(doc, "sets"), *cases = json_object_get(doc, "cases");
    ASSERT_TRUE(json_array_size(cases) >= 100);
    static mn_validator_set set;
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        load_set(json_object_get(sets, json_string_value(json_object_get(c, "set"))), &set);
        uint8_t seed[32], want[32];
        mn_test_json_hex_n(c, "seed", seed, 32);
        mn_test_json_hex_n(c, "proposer_id", want, 32);
        /* Heights are decimal strings: jansson cannot hold integers above INT64_MAX. */
        uint64_t height = strtoull(json_string_value(json_object_get(c, "height")), NULL, 10);
        uint32_t round = (uint32_t)json_integer_value(json_object_get(c, "round"));
        uint32_t m = mn_leader_proposer(&set, seed, height, round);
        if (memcmp(set.members[m].id, want, 32) != 0)
            mn_test_fail(__FILE__, __LINE__, "case %zu: proposer differs from reference", i);
    }
    json_decref(doc);
}

/* Wilson-Hilferty approximation of the chi-square quantile at z standard deviations. */
static double chi2_bound(int df, double z)
{
    double k = df;
    double t = 1.0 - 2.0 / (9.0 * k) + z * sqrt(2.0 / (9.0 * k));
    return k * t * t * t;
}

static double chi2_of_draws(const uint64_t *stakes, uint32_t n, uint64_t draws, uint8_t tag)
{
    static mn_validator vals[MN_VALIDATORS_MAX];
    static mn_validator_set set;
    uint64_t hits[MN_VALIDATORS_MAX] = {0};
    for (uint32_t i = 0; i < n; i++) {
        uint8_t seed[2] = {tag, (uint8_t)i};
        mn_sha256(vals[i].id, seed, 2);
        vals[i].stake = stakes[i];
    }
    mn_err err;
    ASSERT_OK(mn_valset_init(&set, vals, n, &err), &err);
    uint8_t seed[32];
    mn_sha256(seed, &tag, 1);
    for (uint64_t h = 0; h < draws; h++)
        hits[mn_leader_proposer(&set, seed, h, (uint32_t)(h % 3))]++;
    double chi2 = 0;
    for (uint32_t i = 0; i < n; i++) {
        double expected = (double)draws * (double)set.members[i].stake / (double)set.total_stake;
        double d = (double)hits[i] - expected;
        chi2 += d * d / expected;
    }
    return chi2;
}

/* Fixed seeds make this deterministic; the bound (6 standard deviations, p < 1e-9) is chosen
 * so that a correct implementation passes for any seed, while a selection that ignored stake
 * or favoured an end of the interval would exceed it by orders of magnitude. */
static void shares_follow_stakes(void)
{
    static const uint64_t small[] = {10, 20, 30, 40};
    double c1 = chi2_of_draws(small, 4, 200000, 1);
    ASSERT_TRUE(c1 < chi2_bound(3, 6.0));
    static const uint64_t skew[] = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
    double c2 = chi2_of_draws(skew, 10, 200000, 2);
    ASSERT_TRUE(c2 < chi2_bound(9, 6.0));
    /* Total near 2^63: a quarter of draws are rejected; shares must still be exact. */
    static const uint64_t huge2[] = {UINT64_C(1) << 62, UINT64_C(1) << 61};
    double c3 = chi2_of_draws(huge2, 2, 100000, 3);
    ASSERT_TRUE(c3 < chi2_bound(1, 6.0));
    fprintf(stderr, "  chi2: %.2f (bound %.1f), %.2f (bound %.1f), %.2f (bound %.1f)\n", c1,
            chi2_bound(3, 6.0), c2, chi2_bound(9, 6.0), c3, chi2_bound(1, 6.0));
}

static void valset_rejects_bad_sets(void)
{
    static mn_validator vals[MN_VALIDATORS_MAX + 1];
    static mn_validator_set set;
    mn_err err;
    memset(vals, 0, sizeof(vals));
    for (int i = 0; i <= (int)MN_VALIDATORS_MAX; i++) {
        vals[i].id[0] = (uint8_t)i;
        vals[i].id[1] = (uint8_t)(i >> 8);
        vals[i].stake = 1;
    }
    ASSERT_EQ(mn_valset_init(&set, vals, 0, &err), -MN_EINVAL);
    ASSERT_EQ(mn_valset_init(&set, vals, MN_VALIDATORS_MAX + 1, &err), -MN_ELIMIT);
    ASSERT_OK(mn_valset_init(&set, vals, MN_VALIDATORS_MAX, &err), &err);
    vals[1].stake = 0;
    ASSERT_EQ(mn_valset_init(&set, vals, 3, &err), -MN_EINVAL);
    vals[1].stake = 1;
    vals[1].id[0] = 0; /* duplicate of vals[0] */
    ASSERT_EQ(mn_valset_init(&set, vals, 3, &err), -MN_EINVAL);
    vals[1].id[0] = 1;
    vals[0].stake = UINT64_C(1) << 62;
    vals[1].stake = UINT64_C(1) << 62;
    ASSERT_EQ(mn_valset_init(&set, vals, 2, &err), -MN_EINVAL); /* total 2^63 */
    vals[1].stake = (UINT64_C(1) << 62) - 1;
    ASSERT_OK(mn_valset_init(&set, vals, 2, &err), &err);
}

static void order_of_input_does_not_matter(void)
{
    mn_validator a[3], b[3];
    for (int i = 0; i < 3; i++) {
        uint8_t t = (uint8_t)i;
        mn_sha256(a[i].id, &t, 1);
        a[i].stake = (uint64_t)(i + 1) * 7;
        b[2 - i] = a[i];
    }
    static mn_validator_set sa, sb;
    mn_err err;
    ASSERT_OK(mn_valset_init(&sa, a, 3, &err), &err);
    ASSERT_OK(mn_valset_init(&sb, b, 3, &err), &err);
    uint8_t seed[32] = {9};
    for (uint64_t h = 0; h < 500; h++)
        ASSERT_EQ(mn_leader_proposer(&sa, seed, h, 0), mn_leader_proposer(&sb, seed, h, 0));
}

static void seeds_chain_and_alpha_layout(void)
{
    uint8_t g1[32], g2[32], beta[64] = {1}, n1[32], n2[32], alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_genesis_seed(g1, "chain-a");
    mn_leader_genesis_seed(g2, "chain-b");
    ASSERT_TRUE(memcmp(g1, g2, 32) != 0);
    mn_leader_next_seed(n1, beta);
    beta[63] ^= 1;
    mn_leader_next_seed(n2, beta);
    ASSERT_TRUE(memcmp(n1, n2, 32) != 0);
    mn_leader_alpha(alpha, g1, 0x0102030405060708u);
    ASSERT_MEM_EQ(alpha, g1, 32);
    ASSERT_EQ(alpha[32], 1);
    ASSERT_EQ(alpha[39], 8);
    /* genesis(x) and next(beta) never collide: different second byte under the same tag */
    uint8_t buf[66] = {MN_TAG_VRF_SEED, 1}, want[32];
    memcpy(buf + 2, beta, 64);
    mn_sha256(want, buf, sizeof(buf));
    ASSERT_MEM_EQ(n2, want, 32);
}

MN_TEST_MAIN("crypto.leader", MN_TEST(golden_proposers_match_reference),
             MN_TEST(shares_follow_stakes), MN_TEST(valset_rejects_bad_sets),
             MN_TEST(order_of_input_does_not_matter), MN_TEST(seeds_chain_and_alpha_layout))
