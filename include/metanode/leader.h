/* SPDX-License-Identifier: Apache-2.0
 *
 * leader.h: stake-weighted proposer selection and VRF seed chaining (consensus rules).
 *
 * A validator set is kept sorted by validator id; validator i owns the half-open interval
 * [cum_i, cum_i + stake_i) of [0, total_stake). The proposer of (seed, height, round) is the
 * owner of the value v drawn as follows, with integers only:
 *   for counter = 0, 1, ...:
 *     d = SHA-256(MN_TAG_LEADER_DRAW || seed || u64be(height) || u32be(round) || u32be(counter))
 *     x = u64be(d[0..8])
 *     if x < 2^64 - (2^64 mod total): v = x mod total; stop      (rejection: no modulo bias)
 * Intervals partition [0, total), so exactly one validator owns v: ties are impossible.
 *
 * Seed chaining: the proposer of height h proves alpha_h = seed_h || u64be(h) with its VRF
 * key; the proof travels in the block header and every validator verifies it; then
 * seed_{h+1} = SHA-256(MN_TAG_VRF_SEED || 0x01 || beta_h), where beta_h is the VRF output;
 * the genesis seed is SHA-256(MN_TAG_VRF_SEED || 0x00 || chain_id).
 *
 * Not here: which stake snapshot (look-back) a height uses, rounds and timeouts (consensus).
 */
#ifndef METANODE_LEADER_H
#define METANODE_LEADER_H

#include <stdint.h>

#include "metanode/error.h"
#include "metanode/limits.h"

#define MN_SEED_BYTES 32u
#define MN_LEADER_ALPHA_BYTES (MN_SEED_BYTES + 8u)

typedef struct mn_validator {
    uint8_t id[32];
    uint64_t stake;
} mn_validator;

typedef struct mn_validator_set {
    uint32_t count;
    uint64_t total_stake;
    mn_validator members[MN_VALIDATORS_MAX];   /* sorted by id, strictly increasing */
    uint64_t cumulative[MN_VALIDATORS_MAX];    /* cumulative[i] = sum of stakes before i */
} mn_validator_set;

/* Builds a set from validators in any order. MN_EINVAL for an empty set, a zero stake, a
 * duplicate id, or a total stake that does not fit in 63 bits; MN_ELIMIT beyond
 * MN_VALIDATORS_MAX. */
int mn_valset_init(mn_validator_set *set, const mn_validator *validators, uint32_t count,
                   mn_err *err);

/* Index (into set->members) of the proposer of (seed, height, round). */
uint32_t mn_leader_proposer(const mn_validator_set *set, const uint8_t seed[static MN_SEED_BYTES],
                            uint64_t height, uint32_t round);

/* alpha_h = seed_h || u64be(h): what the proposer of height h proves with its VRF key. */
void mn_leader_alpha(uint8_t alpha[static MN_LEADER_ALPHA_BYTES],
                     const uint8_t seed[static MN_SEED_BYTES], uint64_t height);

/* seed_{h+1} = SHA-256(MN_TAG_VRF_SEED || 0x01 || beta_h). */
void mn_leader_next_seed(uint8_t next[static MN_SEED_BYTES], const uint8_t beta[static 64]);

/* The genesis seed: SHA-256(MN_TAG_VRF_SEED || 0x00 || chain_id). */
void mn_leader_genesis_seed(uint8_t seed[static MN_SEED_BYTES], const char *chain_id);

#endif
