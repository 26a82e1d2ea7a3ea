/* SPDX-License-Identifier: Apache-2.0
 *
 * tally.c: the validator set of the core and the bookkeeping of one height's messages: a
 * bounded window of round slots, each holding the round's proposals and its prevotes and
 * precommits counted by voting power (one vote per validator, duplicates ignored, conflicting
 * second votes kept out of the count and reported), and commit certificates built from and
 * checked against them. Pure bookkeeping: which rule fires on these counts is in bft.c.
 */
#include <string.h>

#include "internal.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

int mn_bft_valset_init(mn_bft_valset *vs, const mn_bft_member *members, uint32_t count,
                       mn_err *err)
{
    if (count == 0 || count > MN_VALIDATORS_MAX)
        return mn_err_set(err, count == 0 ? MN_EINVAL : MN_ELIMIT, 0, "%u validators", count);
    mn_validator v[MN_VALIDATORS_MAX];
    for (uint32_t i = 0; i < count; i++) {
        mn_node_id(v[i].id, members[i].pk);
        v[i].stake = members[i].stake;
    }
    memset(vs, 0, sizeof(*vs));
    int rc = mn_valset_init(&vs->set, v, count, err);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < count; i++) {
        int k = mn_bft_valset_find(vs, v[i].id);
        MN_ASSERT(k >= 0);
        memcpy(vs->pk[k], members[i].pk, MN_ED25519_PUBLICKEY_BYTES);
        memcpy(vs->vrf_pk[k], members[i].vrf_pk, MN_VRF_PUBLICKEY_BYTES);
    }
    const uint64_t total = vs->set.total_stake; /* < 2^63, so 2 * total fits */
    vs->quorum = 2 * total / 3 + 1;
    vs->skip = total / 3 + 1;
    MN_ASSERT(3 * (vs->quorum - 1) <= 2 * total && vs->quorum <= total);
    return 0;
}

int mn_bft_valset_find(const mn_bft_valset *vs, const uint8_t id[static MN_ID_BYTES])
{
    uint32_t lo = 0, hi = vs->set.count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = memcmp(vs->set.members[mid].id, id, MN_ID_BYTES);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

uint64_t mn_bft_snapshot_height(uint64_t height)
{
    return height > MN_STAKE_LOOKBACK ? height - MN_STAKE_LOOKBACK : 0;
}

/* ---- round slots ------------------------------------------------------------------------ */

/* Rounds whose votes the rules still need: the current one, those of our lock and valid
 * value, and the valid round named by the current round's proposal (line 28). */
static bool is_protected(const mn_bft *b, uint32_t round)
{
    if (round == b->round || (int64_t)round == b->locked_round ||
        (int64_t)round == b->valid_round)
        return true;
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++) {
        const mn__bft_round *s = &b->rounds[i];
        if (s->used && s->round == b->round && s->proposal_count > 0 &&
            s->proposals[0].pol_round == (int64_t)round)
            return true;
    }
    return false;
}

/* How far a round is from the current one: r+1 -> 1, r-1 -> 2, r+2 -> 3, ... so that when the
 * window is full the farthest rounds (far-future spam first) give way; protected rounds are
 * at distance 0 and never give way. */
static uint64_t farness(const mn_bft *b, uint32_t round)
{
    const uint32_t current = b->round;
    if (is_protected(b, round))
        return 0;
    if (round >= current)
        return 2 * (uint64_t)(round - current) - 1;
    return 2 * (uint64_t)(current - round);
}

mn__bft_round *mn__round_find(mn_bft *b, uint32_t round)
{
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++)
        if (b->rounds[i].used && b->rounds[i].round == round)
            return &b->rounds[i];
    return NULL;
}

mn__bft_round *mn__round_get(mn_bft *b, uint32_t round)
{
    mn__bft_round *s = mn__round_find(b, round);
    if (s != NULL)
        return s;
    mn__bft_round *victim = NULL;
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS && victim == NULL; i++)
        if (!b->rounds[i].used)
            victim = &b->rounds[i];
    if (victim == NULL) {
        uint64_t worst = farness(b, round);
        for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++) {
            uint64_t f = farness(b, b->rounds[i].round);
            if (f > worst) {
                worst = f;
                victim = &b->rounds[i];
            }
        }
        if (victim == NULL)
            return NULL; /* the new round is the farthest: drop its message */
    }
    memset(victim, 0, sizeof(*victim));
    victim->used = true;
    victim->round = round;
    victim->generation = ++b->slot_generations;
    return victim;
}

void mn__rounds_reset(mn_bft *b)
{
    /* Only the flags: a slot is cleared whole when it is taken again (mn__round_get), which
     * keeps a new height from touching the whole window (about 0.5 MB). */
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++)
        b->rounds[i].used = false;
}

static bool bit_get(const uint8_t *bits, uint32_t i)
{
    return (bits[i / 8] >> (i % 8)) & 1u;
}

static void bit_set(uint8_t *bits, uint32_t i)
{
    bits[i / 8] = (uint8_t)(bits[i / 8] | (1u << (i % 8)));
}

void mn__round_mark_sender(mn_bft *b, mn__bft_round *s, uint32_t idx)
{
    if (bit_get(s->senders, idx))
        return;
    bit_set(s->senders, idx);
    s->sender_power += b->vs->set.members[idx].stake;
    MN_ASSERT(s->sender_power <= b->vs->set.total_stake);
}

static uint32_t tally_index(mn__bft_votes *vs, bool has_value, const uint8_t *value)
{
    for (uint32_t k = 0; k < vs->tally_count; k++) {
        if (vs->tallies[k].has_value != has_value)
            continue;
        if (!has_value || memcmp(vs->tallies[k].value, value, MN_BLOCK_ID_BYTES) == 0)
            return k;
    }
    return UINT32_MAX;
}

uint64_t mn__votes_power(const mn__bft_round *s, mn_vote_type type, bool has_value,
                         const uint8_t *value)
{
    if (s == NULL)
        return 0;
    mn__bft_votes *vs = (mn__bft_votes *)&s->votes[type - 1];
    uint32_t k = tally_index(vs, has_value, value);
    return k == UINT32_MAX ? 0 : vs->tallies[k].power;
}

bool mn__votes_get(const mn_bft *b, const mn__bft_round *s, mn_vote_type type, uint32_t idx,
                   uint32_t which, mn_vote *v)
{
    const mn__bft_votes *vs = &s->votes[type - 1];
    MN_ASSERT(which < 2);
    if (vs->choice[idx][which] == 0)
        return false;
    const uint32_t k = vs->choice[idx][which] - 1u;
    memset(v, 0, sizeof(*v));
    v->type = type;
    v->height = b->height;
    v->round = s->round;
    v->has_value = vs->tallies[k].has_value;
    if (v->has_value)
        memcpy(v->value, vs->tallies[k].value, MN_BLOCK_ID_BYTES);
    memcpy(v->signer, b->vs->set.members[idx].id, MN_ID_BYTES);
    memcpy(v->signature, vs->sig[idx][which], MN_ED25519_SIG_BYTES);
    return true;
}

bool mn__votes_is_for(const mn__bft_round *s, mn_vote_type type, uint32_t idx, uint32_t which,
                      const uint8_t id[32])
{
    const mn__bft_votes *vs = &s->votes[type - 1];
    if (vs->choice[idx][which] == 0)
        return false;
    const uint32_t k = vs->choice[idx][which] - 1u;
    return vs->tallies[k].has_value && memcmp(vs->tallies[k].value, id, 32) == 0;
}

bool mn__votes_holds(const mn__bft_round *s, const mn_vote *v, uint32_t idx)
{
    const mn__bft_votes *vs = &s->votes[v->type - 1];
    const uint32_t k = tally_index((mn__bft_votes *)vs, v->has_value, v->value);
    return k != UINT32_MAX && (vs->choice[idx][0] == k + 1 || vs->choice[idx][1] == k + 1);
}

int mn__votes_add(mn_bft *b, mn__bft_round *s, const mn_vote *v, uint32_t idx)
{
    mn__bft_votes *vs = &s->votes[v->type - 1];
    uint32_t k = tally_index(vs, v->has_value, v->value);
    uint16_t *choice = vs->choice[idx];
    if (choice[1] != 0 || (choice[0] != 0 && choice[0] - 1u == k))
        return MN__VOTE_DUPLICATE; /* the same vote again, or a third value */
    const uint32_t which = choice[0] == 0 ? 0 : 1;
    if (k == UINT32_MAX) {
        /* each validator adds at most two values */
        MN_ASSERT(vs->tally_count < 2 * MN_VALIDATORS_MAX);
        k = vs->tally_count++;
        vs->tallies[k].has_value = v->has_value;
        memcpy(vs->tallies[k].value, v->value, MN_BLOCK_ID_BYTES);
        vs->tallies[k].power = 0;
    }
    const uint64_t stake = b->vs->set.members[idx].stake;
    choice[which] = (uint16_t)(k + 1);
    memcpy(vs->sig[idx][which], v->signature, MN_ED25519_SIG_BYTES);
    vs->tallies[k].power += stake;
    MN_ASSERT(vs->tallies[k].power <= b->vs->set.total_stake);
    if (which == 1)
        return MN__VOTE_CONFLICT;
    vs->power_any += stake;
    MN_ASSERT(vs->power_any <= b->vs->set.total_stake);
    mn__round_mark_sender(b, s, idx);
    return MN__VOTE_COUNTED;
}

/* ---- commit certificates ------------------------------------------------------------------ */

void mn__cert_build(const mn_bft *b, const mn__bft_round *s, mn_vote_type type,
                    const uint8_t id[32], mn_commit_cert *c)
{
    const mn__bft_votes *vs = &s->votes[type - 1];
    const uint32_t count = b->vs->set.count;
    memset(c, 0, sizeof(*c));
    c->height = b->height;
    c->round = s->round;
    memcpy(c->value, id, MN_BLOCK_ID_BYTES);
    c->signer_bytes = (count + 7) / 8;
    for (uint32_t i = 0; i < count; i++)
        for (uint32_t which = 0; which < 2; which++) {
            if (!mn__votes_is_for(s, type, i, which, id))
                continue;
            bit_set(c->signers, i);
            memcpy(c->signatures[c->sig_count++], vs->sig[i][which], MN_ED25519_SIG_BYTES);
            break;
        }
}

int mn__verify_sig(const mn_bft_hooks *hooks, const uint8_t sig[64], uint8_t tag,
                   const mn_buf *msg, const uint8_t pk[32])
{
    if (hooks != NULL && hooks->verify != NULL)
        return hooks->verify(hooks->ctx, sig, tag, msg->data, msg->len, pk);
    return mn_verify(sig, tag, msg->data, msg->len, pk);
}

static int check_cert_shape(const mn_bft_valset *vs, const mn_block_header *h,
                            const mn_commit_cert *c, mn_err *err)
{
    const uint32_t count = vs->set.count;
    uint8_t id[MN_BLOCK_ID_BYTES];
    mn_block_id(id, h);
    if (c->height != h->height || memcmp(c->value, id, MN_BLOCK_ID_BYTES) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "certificate is for another block");
    if (c->signer_bytes != (count + 7) / 8)
        return mn_err_set(err, MN_ECORRUPT, 0, "signer bitset of %u bytes for %u validators",
                          c->signer_bytes, count);
    for (uint32_t i = count; i < c->signer_bytes * 8; i++)
        if (bit_get(c->signers, i))
            return mn_err_set(err, MN_ECORRUPT, 0, "signer bit %u beyond the set", i);
    return 0;
}

int mn_bft_verify_commit(const mn_bft_valset *vs, const char *chain_id,
                         const mn_block_header *h, const mn_commit_cert *c,
                         const mn_bft_hooks *hooks, mn_err *err)
{
    int rc = check_cert_shape(vs, h, c, err);
    if (rc != 0)
        return rc;
    mn_vote v = {.type = MN_VOTE_PRECOMMIT, .height = c->height, .round = c->round,
                 .has_value = true};
    memcpy(v.value, c->value, MN_BLOCK_ID_BYTES);
    uint64_t power = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < vs->set.count; i++) {
        if (!bit_get(c->signers, i))
            continue;
        MN_ASSERT(k < c->sig_count);
        memcpy(v.signer, vs->set.members[i].id, MN_ID_BYTES);
        uint8_t raw[256];
        mn_buf buf = {.data = raw, .len = 0, .cap = sizeof(raw), .max = sizeof(raw)};
        MN_ASSERT(mn_vote_sign_bytes(&v, chain_id, &buf, err) == 0);
        if (mn__verify_sig(hooks, c->signatures[k++], MN_TAG_VOTE, &buf, vs->pk[i]) != 0)
            return mn_err_set(err, MN_ECRYPTO, 0, "precommit of signer %u does not verify", i);
        power += vs->set.members[i].stake;
    }
    if (k != c->sig_count)
        return mn_err_set(err, MN_ECORRUPT, 0, "%u signatures for %u signers", c->sig_count, k);
    if (power < vs->quorum)
        return mn_err_set(err, MN_ECRYPTO, 0, "certificate power %llu below quorum %llu",
                          (unsigned long long)power, (unsigned long long)vs->quorum);
    return 0;
}
