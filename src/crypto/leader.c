/* SPDX-License-Identifier: Apache-2.0
 *
 * leader.c: the proposer draw and seed chaining specified in leader.h. Integer arithmetic
 * only, no iteration over anything but the sorted member array, so every node computes the
 * same proposer. Does not touch keys or VRF proofs: callers prove and verify with vrf.h.
 */
#include "metanode/leader.h"

#include <stdlib.h>
#include <string.h>

#include "metanode/bytes.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

/* Total stake stays below 2^63 so sums of stakes can never overflow uint64_t. */
#define TOTAL_STAKE_MAX (UINT64_C(1) << 63)

static int by_id(const void *a, const void *b)
{
    return memcmp(((const mn_validator *)a)->id, ((const mn_validator *)b)->id, 32);
}

int mn_valset_init(mn_validator_set *set, const mn_validator *validators, uint32_t count,
                   mn_err *err)
{
    if (count == 0)
        return mn_err_set(err, MN_EINVAL, 0, "validator set is empty");
    if (count > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "%u validators, at most %u", count,
                          MN_VALIDATORS_MAX);
    memset(set, 0, sizeof(*set));
    memcpy(set->members, validators, count * sizeof(*validators));
    qsort(set->members, count, sizeof(set->members[0]), by_id);
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++) {
        const mn_validator *v = &set->members[i];
        if (v->stake == 0)
            return mn_err_set(err, MN_EINVAL, 0, "validator %u has zero stake", i);
        if (i > 0 && memcmp(set->members[i - 1].id, v->id, 32) == 0)
            return mn_err_set(err, MN_EINVAL, 0, "duplicate validator id");
        if (v->stake >= TOTAL_STAKE_MAX - total)
            return mn_err_set(err, MN_EINVAL, 0, "total stake exceeds 2^63");
        set->cumulative[i] = total;
        total += v->stake;
    }
    set->count = count;
    set->total_stake = total;
    MN_ASSERT(total > 0 && total < TOTAL_STAKE_MAX);
    return 0;
}

static uint64_t draw(const uint8_t seed[MN_SEED_BYTES], uint64_t height, uint32_t round,
                     uint32_t counter)
{
    uint8_t msg[MN_SEED_BYTES + 16], digest[32];
    memcpy(msg, seed, MN_SEED_BYTES);
    mn_store_u64_be(msg + MN_SEED_BYTES, height);
    mn_store_u32_be(msg + MN_SEED_BYTES + 8, round);
    mn_store_u32_be(msg + MN_SEED_BYTES + 12, counter);
    mn_sha256_tagged(digest, MN_TAG_LEADER_DRAW, msg, sizeof(msg));
    return mn_load_u64_be(digest);
}

uint32_t mn_leader_proposer(const mn_validator_set *set, const uint8_t seed[static MN_SEED_BYTES],
                            uint64_t height, uint32_t round)
{
    MN_ASSERT(set->count > 0 && set->total_stake > 0);
    const uint64_t total = set->total_stake;
    /* Accept x < 2^64 - (2^64 mod total), a multiple of total; (2^64 mod total) computed as
     * (UINT64_MAX mod total + 1) mod total. Since total < 2^63, fewer than half the draws are
     * rejected, and 2^-64 per extra draw makes a long run impossible in practice. */
    const uint64_t rem = (UINT64_MAX % total + 1) % total;
    uint64_t v = 0;
    for (uint32_t counter = 0;; counter++) {
        MN_ASSERT(counter != UINT32_MAX);
        uint64_t x = draw(seed, height, round, counter);
        if (rem == 0 || x < 0 - rem) {
            v = x % total;
            break;
        }
    }
    /* Binary search for the last i with cumulative[i] <= v. */
    uint32_t lo = 0, hi = set->count; /* invariant: cumulative[lo] <= v < cumulative[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (set->cumulative[mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    MN_ASSERT(set->cumulative[lo] <= v && v - set->cumulative[lo] < set->members[lo].stake);
    return lo;
}

void mn_leader_alpha(uint8_t alpha[static MN_LEADER_ALPHA_BYTES],
                     const uint8_t seed[static MN_SEED_BYTES], uint64_t height)
{
    memcpy(alpha, seed, MN_SEED_BYTES);
    mn_store_u64_be(alpha + MN_SEED_BYTES, height);
}

/* Both seeds hash under MN_TAG_VRF_SEED; a second byte (0 genesis, 1 chained) keeps a
 * 64-byte chain id from ever colliding with a VRF output. */
void mn_leader_next_seed(uint8_t next[static MN_SEED_BYTES], const uint8_t beta[static 64])
{
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, MN_TAG_VRF_SEED);
    mn_sha256_update(&ctx, (const uint8_t[]){1}, 1);
    mn_sha256_update(&ctx, beta, 64);
    mn_sha256_final(&ctx, next);
}

void mn_leader_genesis_seed(uint8_t seed[static MN_SEED_BYTES], const char *chain_id)
{
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, MN_TAG_VRF_SEED);
    mn_sha256_update(&ctx, (const uint8_t[]){0}, 1);
    mn_sha256_update(&ctx, chain_id, strlen(chain_id));
    mn_sha256_final(&ctx, seed);
}
