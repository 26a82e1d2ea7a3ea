/* SPDX-License-Identifier: Apache-2.0
 *
 * bft.c: the rules of Tendermint's Algorithm 1 ("The latest gossip on BFT consensus",
 * Buchman, Kwon, Milosevic 2018) over the bookkeeping of tally.c. Comments "line N" name the
 * paper's pseudo-code lines. After every event the core re-checks every "upon" rule until none
 * fires (process()); each rule's guard changes when it fires, so the loop ends. Signing goes
 * through one gate (may_sign) that refuses any (height, round, step) not above the last one
 * persisted, and every signed message is recorded in the durable state and PERSISTed before
 * its BROADCAST: this is the double-sign protection, and it survives restarts because the
 * driver hands the last persisted state back to mn_bft_init. Deliberately absent: the "unlock
 * on a later nil-POL" rule of old Tendermint releases (not in the paper; removed upstream).
 * Added to the paper: a commit timeout between a decision and the next height (line 54), and
 * a validator set per height (the stake snapshot of MN_STAKE_LOOKBACK heights before, from the
 * valset_at hook): the core looks it up when it enters a height, counts everything of that
 * height against it, and signs only at heights whose set holds its key.
 */
#include <string.h>

#include <sodium/utils.h>

#include "internal.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static mn_bft_action *emit(mn_bft *b, mn_bft_action_kind kind)
{
    MN_ASSERT(b->out != NULL);
    MN_ASSERT(b->out->count < MN_BFT_ACTIONS_MAX);
    mn_bft_action *a = &b->out->items[b->out->count++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    return a;
}

static uint64_t grow(uint64_t base, uint64_t delta, uint32_t round)
{
    if (delta != 0 && round > (UINT64_MAX - base) / delta)
        return UINT64_MAX;
    return base + delta * round;
}

static void schedule(mn_bft *b, mn_bft_step step, uint64_t delay_ns)
{
    mn_bft_action *a = emit(b, MN_ACT_TIMEOUT);
    a->u.timeout.step = step;
    a->u.timeout.height = b->height;
    a->u.timeout.round = b->round;
    a->u.timeout.delay_ns = delay_ns;
}

/* The set of the current height from the application (or the fixed set) and our index in
 * it; false while the application does not know it yet. */
static bool load_set(mn_bft *b)
{
    b->vs = b->hooks.valset_at != NULL ? b->hooks.valset_at(b->hooks.ctx, b->height)
                                       : b->fixed_vs;
    b->self = -1;
    if (b->vs != NULL && b->has_key)
        b->self = mn_bft_valset_find(b->vs, b->self_id);
    return b->vs != NULL;
}

static uint32_t proposer_of(const mn_bft *b, uint32_t round)
{
    return mn_leader_proposer(&b->vs->set, b->seed, b->height, round);
}

static bool is_block(const mn_block_header *h, const uint8_t id[MN_BLOCK_ID_BYTES])
{
    uint8_t hid[MN_BLOCK_ID_BYTES];
    mn_block_id(hid, h);
    return memcmp(hid, id, MN_BLOCK_ID_BYTES) == 0;
}

static int verify_sig(const mn_bft *b, const uint8_t sig[64], uint8_t tag, const mn_buf *msg,
                      uint32_t idx)
{
    ((mn_bft *)b)->stat_signatures_verified++;
    return mn__verify_sig(&b->hooks, sig, tag, msg, b->vs->pk[idx]);
}

/* valid(v) without the application's part: right height and parent, an author in the set, and
 * the author's VRF proof over alpha(seed_h, h). Writes beta on success. */
static bool header_ok(const mn_bft *b, const mn_block_header *h, uint8_t beta[64])
{
    if (h->height != b->height || memcmp(h->parent, b->parent, MN_BLOCK_ID_BYTES) != 0)
        return false;
    int idx = mn_bft_valset_find(b->vs, h->proposer);
    if (idx < 0)
        return false;
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, b->seed, b->height);
    if (b->hooks.vrf_verify != NULL)
        return b->hooks.vrf_verify(b->hooks.ctx, beta, b->vs->vrf_pk[idx], h->vrf_proof, alpha,
                                   sizeof(alpha)) == 0;
    return mn_vrf_verify(beta, b->vs->vrf_pk[idx], h->vrf_proof, alpha, sizeof(alpha),
                         MN_VRF_SUITE_TAI) == 0;
}

/* ---- signing gate ----------------------------------------------------------------------- */

/* True when (height, round, step) is not above what was last persisted. */
static bool already_signed(const mn_bft *b, uint32_t round, uint32_t step)
{
    const mn_bft_sign_state *s = &b->signed_state;
    if (s->height != b->height)
        return s->height > b->height;
    if (s->round != round)
        return s->round > round;
    return s->step >= step;
}

/* The only way to a signature: refuses what could conflict with anything signed before. */
static bool may_sign(const mn_bft *b, uint32_t round, uint32_t step)
{
    return b->self >= 0 && !already_signed(b, round, step);
}

/* Copies the locks into the durable state and emits PERSIST (a validator's only). */
static void persist_state(mn_bft *b)
{
    mn_bft_sign_state *s = &b->signed_state;
    s->locked_round = b->locked_round;
    s->locked_value = b->locked_value;
    s->valid_round = b->valid_round;
    s->valid_value = b->valid_value;
    s->valid_pol = b->valid_pol;
    emit(b, MN_ACT_PERSIST)->u.persist = s;
}

/* How a round was entered: StartRound(0) of a height or a restart re-entering its round
 * (nothing to show), line 65 (timeoutPrecommit of the round before) or line 55 (f+1 of it). */
typedef enum { ENTRY_NONE, ENTRY_TIMEOUT, ENTRY_SKIP } entry_kind;

static void entry_add(mn_bft_entry *e, const mn_vote *v)
{
    MN_ASSERT(e->vote_count < MN_VALIDATORS_MAX);
    e->votes[e->vote_count++] = *v;
}

/* The justification of entering b->round (mn_bft_entry): line 65, the precommits of round
 * b->round - 1 we hold (2f+1 of any values); line 55, one vote of every validator with one in
 * b->round (its prevote, else its precommit) and the proposal if its proposer has no vote. */
static void build_entry(mn_bft *b, entry_kind kind, mn_bft_entry *e)
{
    memset(e, 0, sizeof(*e));
    if (kind == ENTRY_NONE)
        return;
    MN_ASSERT(kind == ENTRY_SKIP || b->round > 0);
    const uint32_t round = kind == ENTRY_SKIP ? b->round : b->round - 1;
    const mn__bft_round *s = mn__round_find(b, round);
    if (s == NULL)
        return;
    mn_vote v;
    for (uint32_t i = 0; i < b->vs->set.count; i++) {
        if (kind == ENTRY_SKIP && mn__votes_get(b, s, MN_VOTE_PREVOTE, i, 0, &v))
            entry_add(e, &v); /* one message per sender is enough for f+1 */
        else if (mn__votes_get(b, s, MN_VOTE_PRECOMMIT, i, 0, &v))
            entry_add(e, &v);
    }
    if (kind == ENTRY_SKIP && s->proposal_count > 0) {
        const int idx = mn_bft_valset_find(b->vs, s->proposals[0].signer);
        MN_ASSERT(idx >= 0);
        if (!mn__votes_get(b, s, MN_VOTE_PREVOTE, (uint32_t)idx, 0, &v) &&
            !mn__votes_get(b, s, MN_VOTE_PRECOMMIT, (uint32_t)idx, 0, &v)) {
            e->has_proposal = true;
            e->proposal = s->proposals[0];
        }
    }
    if (e->vote_count > 0 || e->has_proposal)
        e->round = round;
}

/* Entering a round is durable too, so a restart never falls back to an older round (where
 * the others are no longer), and so is why it was entered (the messages of line 65 or 55),
 * which the others may lack. Our messages of the round before are kept for retransmission. */
static void persist_round(mn_bft *b, entry_kind kind)
{
    mn_bft_sign_state *s = &b->signed_state;
    if (b->self < 0 || s->height > b->height)
        return; /* behind our own signatures: catching up, we sign nothing until past them */
    if (s->height != b->height) {
        memset(s->own, 0, sizeof(s->own));
    } else if (s->round != b->round) {
        MN_ASSERT(s->round < b->round);
        s->own[1] = s->own[0];
        memset(&s->own[0], 0, sizeof(s->own[0]));
    } else {
        return; /* a restart re-entering its persisted round */
    }
    s->height = b->height;
    s->round = b->round;
    s->own[0].round = b->round;
    s->step = 0;
    build_entry(b, kind, &s->entry);
    persist_state(b);
}

/* Records a message just signed (in memory only) and emits PERSIST; the caller broadcasts
 * after it. */
static void persist_signed(mn_bft *b, uint32_t step, const mn_proposal *p, const mn_vote *v)
{
    mn_bft_sign_state *s = &b->signed_state;
    MN_ASSERT(may_sign(b, b->round, step));
    MN_ASSERT(s->height == b->height && s->round == b->round && s->own[0].round == b->round);
    s->step = step;
    mn_bft_own_round *own = &s->own[0];
    if (p != NULL) {
        own->has_proposal = true;
        own->proposal = *p;
    } else if (v->type == MN_VOTE_PREVOTE) {
        own->has_prevote = true;
        own->prevote = *v;
    } else {
        own->has_precommit = true;
        own->precommit = *v;
    }
    persist_state(b);
}

static void send_vote(mn_bft *b, mn_vote_type type, bool has_value, const uint8_t *id)
{
    const uint32_t step = type == MN_VOTE_PREVOTE ? MN_STEP_PREVOTE : MN_STEP_PRECOMMIT;
    if (!may_sign(b, b->round, step))
        return;
    mn_vote v;
    memset(&v, 0, sizeof(v));
    v.type = type;
    v.height = b->height;
    v.round = b->round;
    v.has_value = has_value;
    if (has_value)
        memcpy(v.value, id, MN_BLOCK_ID_BYTES);
    mn_vote_sign(&v, b->chain_id, &b->key);
    persist_signed(b, step, NULL, &v);
    mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
    a->u.msg.kind = MN_CMSG_VOTE;
    a->u.msg.vote = v;
    mn__bft_round *s = mn__round_get(b, b->round); /* the current round always has a slot */
    MN_ASSERT(s != NULL);
    MN_ASSERT(mn__votes_add(b, s, &v, (uint32_t)b->self) == MN__VOTE_COUNTED);
}

/* ---- proposals ---------------------------------------------------------------------------- */

static void store_proposal(mn_bft *b, mn__bft_round *s, const mn_proposal *p,
                           const uint8_t id[32], const uint8_t beta[64], mn__bft_validity v)
{
    MN_ASSERT(s->proposal_count < MN_BFT_PROPOSALS_PER_ROUND);
    const uint32_t k = s->proposal_count++;
    s->proposals[k] = *p;
    memcpy(s->proposal_id[k], id, MN_BLOCK_ID_BYTES);
    memcpy(s->beta[k], beta, MN_VRF_OUTPUT_BYTES);
    s->validity[k] = v;
    int idx = mn_bft_valset_find(b->vs, p->signer);
    MN_ASSERT(idx >= 0);
    mn__round_mark_sender(b, s, (uint32_t)idx);
}

/* getValue(): a new block on our parent with our VRF proof (proved once per height). */
static void new_block(mn_bft *b, mn_block_header *h)
{
    if (!b->have_own_proof) {
        uint8_t alpha[MN_LEADER_ALPHA_BYTES];
        mn_leader_alpha(alpha, b->seed, b->height);
        MN_ASSERT(mn_vrf_prove(b->own_proof, b->vrf_sk, alpha, sizeof(alpha),
                               MN_VRF_SUITE_TAI) == 0);
        b->have_own_proof = true;
    }
    memset(h, 0, sizeof(*h));
    h->height = b->height;
    memcpy(h->parent, b->parent, MN_BLOCK_ID_BYTES);
    memcpy(h->proposer, b->vs->set.members[b->self].id, MN_ID_BYTES);
    memcpy(h->vrf_proof, b->own_proof, MN_VRF_PROOF_BYTES);
    b->hooks.get_payload(b->hooks.ctx, b->height, h->payload);
}

/* The proof of lock of our valid value: every prevote we hold for it in its round, signed by
 * their authors. Sent with a proposal that names validRound (so that line 28 can fire at
 * nodes that missed that round) and with retransmissions. */
static void send_pol(mn_bft *b)
{
    if (b->valid_round < 0)
        return;
    const mn__bft_round *s = mn__round_find(b, (uint32_t)b->valid_round);
    if (s == NULL) /* protected from eviction, but not kept across a restart */
        return;
    uint8_t id[MN_BLOCK_ID_BYTES];
    mn_block_id(id, &b->valid_value);
    for (uint32_t i = 0; i < b->vs->set.count; i++)
        for (uint32_t which = 0; which < 2; which++) {
            if (!mn__votes_is_for(s, MN_VOTE_PREVOTE, i, which, id))
                continue;
            mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
            a->u.msg.kind = MN_CMSG_VOTE;
            MN_ASSERT(mn__votes_get(b, s, MN_VOTE_PREVOTE, i, which, &a->u.msg.vote));
        }
}

/* Lines 14-19: broadcast <PROPOSAL, h, round, validValue or getValue(), validRound>. */
static bool propose(mn_bft *b)
{
    mn_proposal p;
    memset(&p, 0, sizeof(p));
    p.height = b->height;
    p.round = b->round;
    p.pol_round = b->valid_round;
    if (b->valid_round >= 0)
        p.header = b->valid_value;
    else
        new_block(b, &p.header);
    if (!may_sign(b, b->round, MN_STEP_PROPOSE))
        return false;
    mn_proposal_sign(&p, b->chain_id, &b->key);
    persist_signed(b, MN_STEP_PROPOSE, &p, NULL);
    mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
    a->u.msg.kind = MN_CMSG_PROPOSAL;
    a->u.msg.proposal = p;
    uint8_t id[MN_BLOCK_ID_BYTES], beta[MN_VRF_OUTPUT_BYTES];
    mn_block_id(id, &p.header);
    MN_ASSERT(mn_vrf_proof_to_hash(beta, p.header.vrf_proof, MN_VRF_SUITE_TAI) == 0);
    mn__bft_round *s = mn__round_get(b, b->round);
    MN_ASSERT(s != NULL);
    MN_ASSERT(s->proposal_count == 0);
    store_proposal(b, s, &p, id, beta, MN__VALIDITY_VALID);
    send_pol(b);
    return true;
}

/* After a restart: our signed messages of the last two rounds and the proof of lock of our
 * valid value go back into their slots, so they count and can be retransmitted. */
static void restore_round(mn_bft *b, const mn_bft_own_round *own)
{
    if (!own->has_proposal && !own->has_prevote && !own->has_precommit)
        return;
    mn__bft_round *s = mn__round_get(b, own->round);
    if (s == NULL)
        return;
    if (own->has_proposal) {
        uint8_t id[MN_BLOCK_ID_BYTES], beta[MN_VRF_OUTPUT_BYTES];
        mn_block_id(id, &own->proposal.header);
        MN_ASSERT(mn_vrf_proof_to_hash(beta, own->proposal.header.vrf_proof,
                                       MN_VRF_SUITE_TAI) == 0);
        store_proposal(b, s, &own->proposal, id, beta, MN__VALIDITY_VALID);
    }
    if (own->has_prevote)
        (void)mn__votes_add(b, s, &own->prevote, (uint32_t)b->self);
    if (own->has_precommit)
        (void)mn__votes_add(b, s, &own->precommit, (uint32_t)b->self);
}

static void restore_pol(mn_bft *b, const mn_commit_cert *pol)
{
    mn__bft_round *s = mn__round_get(b, pol->round);
    if (s == NULL || b->valid_round < 0)
        return;
    mn_vote v = {.type = MN_VOTE_PREVOTE, .height = b->height, .round = pol->round,
                 .has_value = true};
    memcpy(v.value, pol->value, MN_BLOCK_ID_BYTES);
    for (uint32_t i = 0, k = 0; i < b->vs->set.count && k < pol->sig_count; i++) {
        if (!((pol->signers[i / 8] >> (i % 8)) & 1u))
            continue;
        memcpy(v.signer, b->vs->set.members[i].id, MN_ID_BYTES);
        memcpy(v.signature, pol->signatures[k++], MN_ED25519_SIG_BYTES);
        (void)mn__votes_add(b, s, &v, i);
    }
}

/* After a restart: the votes that justified entering our round go back into their slot, so
 * that they count and are retransmitted (the proposal waits for mn_bft_start: it needs the
 * application's valid(v)). Checked loosely: they come from our own durable state. A vote of
 * a validator that already has one there (an equivocator's other vote, from the restored proof
 * of lock) is left out: it would count nothing more, and holding both silently would keep the
 * core from reporting the equivocation when it sees it again (send_entry still relays it). */
static void restore_entry_votes(mn_bft *b, const mn_bft_entry *e)
{
    mn_vote held;
    for (uint32_t k = 0; k < e->vote_count && k < MN_VALIDATORS_MAX; k++) {
        const mn_vote *v = &e->votes[k];
        const int idx = mn_bft_valset_find(b->vs, v->signer);
        if (idx < 0 || v->height != b->height)
            continue;
        mn__bft_round *s = mn__round_get(b, v->round);
        if (s != NULL && !mn__votes_get(b, s, v->type, (uint32_t)idx, 0, &held))
            (void)mn__votes_add(b, s, v, (uint32_t)idx);
    }
}

/* Lines 11-21: StartRound(round), entered as `kind` says. A proposer that may not sign again
 * (restarted after it had already proposed in this round) waits for the propose timeout like
 * everyone else. */
static void start_round(mn_bft *b, uint32_t round, entry_kind kind)
{
    MN_ASSERT(b->vs != NULL); /* a height starts only once its set is known */
    b->round = round;
    b->step = MN_STEP_PROPOSE;
    b->prevote_timer_started = false;
    b->precommit_timer_started = false;
    b->line36_done = false;
    b->stat_rounds_started++;
    persist_round(b, kind);
    if (b->self >= 0 && proposer_of(b, round) == (uint32_t)b->self && propose(b))
        return;
    schedule(b, MN_STEP_PROPOSE,
             grow(b->timeouts.propose_ns, b->timeouts.propose_delta_ns, round));
}

/* Line 49 continued, and the commit path: decide, then move to height h + 1 (line 54). */
static void decide_and_advance(mn_bft *b, const uint8_t id[32], const uint8_t beta[64])
{
    mn_bft_action *a = emit(b, MN_ACT_DECIDE);
    a->u.decide.header = &b->decided_header;
    a->u.decide.cert = &b->decided_cert;
    b->height++;
    /* The set of the new height (the application committed h - 1, so it knows the snapshot
     * of h + 1 - MN_STAKE_LOOKBACK); if not, messages of h + 1 wait until it does. */
    (void)load_set(b);
    mn_leader_next_seed(b->seed, beta);
    memcpy(b->parent, id, MN_BLOCK_ID_BYTES);
    b->locked_round = -1;
    b->valid_round = -1;
    memset(&b->locked_value, 0, sizeof(b->locked_value));
    memset(&b->valid_value, 0, sizeof(b->valid_value));
    memset(&b->valid_pol, 0, sizeof(b->valid_pol));
    b->have_own_proof = false;
    mn__rounds_reset(b);
    /* StartRound(0) (line 54) waits for the commit timeout: one decision per event (DECIDE
     * points into the core), and a validator with more than 2/3 of the power alone cannot
     * decide height after height inside one call. Messages of the new height are kept. */
    b->round = 0;
    b->step = MN_STEP_PROPOSE;
    b->awaiting_height = true;
    schedule(b, MN_STEP_COMMIT, b->timeouts.commit_ns);
}

/* ---- the upon rules ----------------------------------------------------------------------- */

/* Lines 22-33: the first proposal of this round, with vr = -1, or with vr >= 0 and a polka
 * for it in round vr. Waits while the application has not answered valid(v). */
static bool rule_proposal(mn_bft *b)
{
    mn__bft_round *s = mn__round_find(b, b->round);
    if (b->step != MN_STEP_PROPOSE || s == NULL || s->proposal_count == 0)
        return false;
    const mn_proposal *p = &s->proposals[0];
    const uint8_t *id = s->proposal_id[0];
    bool ok;
    if (p->pol_round == -1) { /* line 22 */
        if (s->validity[0] == MN__VALIDITY_PENDING)
            return false;
        ok = s->validity[0] == MN__VALIDITY_VALID &&
             (b->locked_round == -1 || is_block(&b->locked_value, id));
    } else { /* line 28 */
        const mn__bft_round *vr = mn__round_find(b, (uint32_t)p->pol_round);
        if (mn__votes_power(vr, MN_VOTE_PREVOTE, true, id) < b->vs->quorum ||
            s->validity[0] == MN__VALIDITY_PENDING)
            return false;
        ok = s->validity[0] == MN__VALIDITY_VALID &&
             (b->locked_round <= p->pol_round || is_block(&b->locked_value, id));
    }
    send_vote(b, MN_VOTE_PREVOTE, ok, id);
    b->step = MN_STEP_PREVOTE;
    return true;
}

/* Line 34: 2f+1 prevotes of any kind in this round, for the first time: timeoutPrevote. */
static bool rule_prevote_any(mn_bft *b)
{
    const mn__bft_round *s = mn__round_find(b, b->round);
    if (b->step != MN_STEP_PREVOTE || b->prevote_timer_started || s == NULL ||
        s->votes[0].power_any < b->vs->quorum)
        return false;
    b->prevote_timer_started = true;
    schedule(b, MN_STEP_PREVOTE,
             grow(b->timeouts.prevote_ns, b->timeouts.prevote_delta_ns, b->round));
    return true;
}

/* Line 36: the proposal and 2f+1 prevotes for it in this round, valid, step >= prevote, for
 * the first time: lock and precommit (if still in prevote), and remember it as validValue. */
static bool rule_polka(mn_bft *b)
{
    const mn__bft_round *s = mn__round_find(b, b->round);
    if (b->line36_done || b->step < MN_STEP_PREVOTE || s == NULL || s->proposal_count == 0)
        return false;
    for (uint32_t k = 0; k < s->proposal_count; k++) {
        const uint8_t *id = s->proposal_id[k];
        if (s->validity[k] != MN__VALIDITY_VALID ||
            mn__votes_power(s, MN_VOTE_PREVOTE, true, id) < b->vs->quorum)
            continue;
        const mn_block_header v = s->proposals[k].header;
        const bool precommit = b->step == MN_STEP_PREVOTE;
        b->line36_done = true;
        b->valid_value = v; /* lines 42-43, first: the precommit persists them with the lock */
        b->valid_round = b->round;
        mn__cert_build(b, s, MN_VOTE_PREVOTE, id, &b->valid_pol);
        if (precommit) { /* lines 37-41 */
            b->locked_value = v;
            b->locked_round = b->round;
            send_vote(b, MN_VOTE_PRECOMMIT, true, id);
            b->step = MN_STEP_PRECOMMIT;
        }
        return true;
    }
    return false;
}

/* Line 44: 2f+1 prevotes for nil in this round while in prevote: precommit nil. */
static bool rule_nil_polka(mn_bft *b)
{
    const mn__bft_round *s = mn__round_find(b, b->round);
    if (b->step != MN_STEP_PREVOTE ||
        mn__votes_power(s, MN_VOTE_PREVOTE, false, NULL) < b->vs->quorum)
        return false;
    send_vote(b, MN_VOTE_PRECOMMIT, false, NULL);
    b->step = MN_STEP_PRECOMMIT;
    return true;
}

/* Line 47: 2f+1 precommits of any kind in this round, for the first time: timeoutPrecommit. */
static bool rule_precommit_any(mn_bft *b)
{
    const mn__bft_round *s = mn__round_find(b, b->round);
    if (b->precommit_timer_started || s == NULL || s->votes[1].power_any < b->vs->quorum)
        return false;
    b->precommit_timer_started = true;
    schedule(b, MN_STEP_PRECOMMIT,
             grow(b->timeouts.precommit_ns, b->timeouts.precommit_delta_ns, b->round));
    return true;
}

/* Line 49: a proposal of any round r and 2f+1 precommits for it in r, valid: decide. */
static bool rule_decide(mn_bft *b)
{
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++) {
        const mn__bft_round *s = &b->rounds[i];
        if (!s->used)
            continue;
        for (uint32_t k = 0; k < s->proposal_count; k++) {
            const uint8_t *id = s->proposal_id[k];
            if (s->validity[k] != MN__VALIDITY_VALID ||
                mn__votes_power(s, MN_VOTE_PRECOMMIT, true, id) < b->vs->quorum)
                continue;
            uint8_t did[MN_BLOCK_ID_BYTES], beta[MN_VRF_OUTPUT_BYTES];
            memcpy(did, id, sizeof(did));
            memcpy(beta, s->beta[k], sizeof(beta));
            b->decided_header = s->proposals[k].header;
            mn__cert_build(b, s, MN_VOTE_PRECOMMIT, did, &b->decided_cert);
            MN_ASSERT(b->decided_cert.height == b->decided_header.height);
            decide_and_advance(b, did, beta);
            return true;
        }
    }
    return false;
}

/* Line 55: f+1 (by power) of the validators have a message in a round above ours. */
static bool rule_skip(mn_bft *b)
{
    bool found = false;
    uint32_t best = 0;
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++) {
        const mn__bft_round *s = &b->rounds[i];
        if (s->used && s->round > b->round && s->sender_power >= b->vs->skip &&
            (!found || s->round > best)) {
            found = true;
            best = s->round;
        }
    }
    if (found)
        start_round(b, best, ENTRY_SKIP);
    return found;
}

static void process(mn_bft *b)
{
    for (uint32_t guard = 0; !b->awaiting_height; guard++) {
        MN_ASSERT(guard < 1000u); /* every rule changes its own guard when it fires */
        if (rule_proposal(b) || rule_prevote_any(b) || rule_polka(b) || rule_nil_polka(b) ||
            rule_precommit_any(b) || rule_decide(b) || rule_skip(b))
            continue;
        return;
    }
}

static void begin(mn_bft *b, mn_bft_actions *out)
{
    MN_ASSERT(b->out == NULL);
    out->count = 0;
    b->out = out;
    if (b->vs == NULL)
        (void)load_set(b); /* the application may have learned the set since */
}

static int end(mn_bft *b, int rc)
{
    process(b);
    b->out = NULL;
    return rc;
}

/* ---- init ---------------------------------------------------------------------------------- */

static void restore(mn_bft *b, const mn_bft_sign_state *ps)
{
    b->signed_state = *ps;
    if (ps->height != b->height)
        return;
    b->round = ps->round;
    b->locked_round = ps->locked_round;
    b->locked_value = ps->locked_value;
    b->valid_round = ps->valid_round;
    b->valid_value = ps->valid_value;
    b->valid_pol = ps->valid_pol;
    if (b->self < 0)
        return;
    restore_round(b, &ps->own[0]);
    restore_round(b, &ps->own[1]);
    if (ps->valid_round >= 0)
        restore_pol(b, &ps->valid_pol);
    restore_entry_votes(b, &ps->entry);
}

int mn_bft_init(mn_bft *b, const mn_bft_config *cfg, const mn_keypair *key,
                const uint8_t vrf_sk[MN_VRF_SECRETKEY_BYTES], const mn_bft_chain *chain,
                const mn_bft_sign_state *persisted, mn_err *err)
{
    const size_t len = strlen(cfg->chain_id);
    if (len == 0 || len > MN_CHAIN_ID_BYTES_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "chain id of %zu bytes", len);
    if (chain->height == 0)
        return mn_err_set(err, MN_EINVAL, 0, "height 0");
    if (cfg->hooks.valset_at == NULL && cfg->valset == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "no validator set (valset_at hook or valset)");
    if (key != NULL && cfg->hooks.get_payload == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "a validator needs the get_payload hook");
    memset(b, 0, sizeof(*b));
    memcpy(b->chain_id, cfg->chain_id, len);
    b->fixed_vs = cfg->valset;
    b->timeouts = cfg->timeouts;
    b->hooks = cfg->hooks;
    if (key != NULL) {
        b->has_key = true;
        mn_node_id(b->self_id, key->pk);
        b->key = *key;
        memcpy(b->vrf_sk, vrf_sk, MN_VRF_SECRETKEY_BYTES);
    }
    b->height = chain->height;
    if (!load_set(b)) {
        mn_bft_deinit(b);
        return mn_err_set(err, MN_ESTATE, 0, "validator set of height %llu unknown",
                          (unsigned long long)chain->height);
    }
    memcpy(b->seed, chain->seed, MN_SEED_BYTES);
    memcpy(b->parent, chain->parent, MN_BLOCK_ID_BYTES);
    b->locked_round = -1;
    b->valid_round = -1;
    b->step = MN_STEP_PROPOSE;
    if (persisted != NULL)
        restore(b, persisted);
    return 0;
}

void mn_bft_deinit(mn_bft *b)
{
    if (b == NULL)
        return;
    sodium_memzero(&b->key, sizeof(b->key));
    sodium_memzero(b->vrf_sk, sizeof(b->vrf_sk));
}

/* ---- events ------------------------------------------------------------------------------- */

static void accept_proposal(mn_bft *b, mn__bft_round *s, const mn_proposal *p);

/* After a restart: the proposal among the messages that justified our round (line 55) goes
 * back into its slot like one received, validity asked again. */
static void restore_entry_proposal(mn_bft *b)
{
    const mn_bft_entry *e = &b->signed_state.entry;
    if (b->self < 0 || b->signed_state.height != b->height || !e->has_proposal ||
        e->proposal.height != b->height)
        return;
    const uint32_t idx = proposer_of(b, e->proposal.round);
    if (memcmp(e->proposal.signer, b->vs->set.members[idx].id, MN_ID_BYTES) != 0)
        return;
    mn__bft_round *s = mn__round_get(b, e->proposal.round);
    if (s != NULL)
        accept_proposal(b, s, &e->proposal);
}

void mn_bft_start(mn_bft *b, mn_bft_actions *out)
{
    begin(b, out);
    restore_entry_proposal(b);
    start_round(b, b->round, ENTRY_NONE); /* a restart keeps the persisted entry */
    (void)end(b, 0);
}

/* The validity of a block id already known at this height (another round's proposal, or our
 * lock or valid value, both validated before), else PENDING. */
static mn__bft_validity known_validity(const mn_bft *b, const uint8_t id[32], bool *asked)
{
    *asked = false;
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++) {
        const mn__bft_round *s = &b->rounds[i];
        for (uint32_t k = 0; s->used && k < s->proposal_count; k++) {
            if (memcmp(s->proposal_id[k], id, MN_BLOCK_ID_BYTES) != 0)
                continue;
            if (s->validity[k] != MN__VALIDITY_PENDING)
                return s->validity[k];
            *asked = true;
        }
    }
    if ((b->locked_round >= 0 && is_block(&b->locked_value, id)) ||
        (b->valid_round >= 0 && is_block(&b->valid_value, id)))
        return MN__VALIDITY_VALID;
    return MN__VALIDITY_PENDING;
}

static void accept_proposal(mn_bft *b, mn__bft_round *s, const mn_proposal *p)
{
    uint8_t id[MN_BLOCK_ID_BYTES], beta[MN_VRF_OUTPUT_BYTES];
    mn_block_id(id, &p->header);
    for (uint32_t k = 0; k < s->proposal_count; k++)
        if (!mn_proposal_conflicts(&s->proposals[k], p))
            return; /* the same proposal again */
    if (s->proposal_count > 0 && !s->proposal_evidenced) {
        s->proposal_evidenced = true;
        mn_evidence_from_proposals(&emit(b, MN_ACT_EVIDENCE)->u.evidence, &s->proposals[0], p);
    }
    if (s->proposal_count == MN_BFT_PROPOSALS_PER_ROUND)
        return;
    memset(beta, 0, sizeof(beta));
    mn__bft_validity v = MN__VALIDITY_INVALID;
    if (header_ok(b, &p->header, beta)) {
        bool asked;
        v = known_validity(b, id, &asked);
        if (v == MN__VALIDITY_PENDING && !asked)
            emit(b, MN_ACT_VALIDATE)->u.validate = p->header;
    }
    store_proposal(b, s, p, id, beta, v);
}

int mn_bft_on_proposal(mn_bft *b, const mn_proposal *p, mn_bft_actions *out, mn_err *err)
{
    begin(b, out);
    if (p->height != b->height || b->vs == NULL)
        return end(b, 0);
    MN_ASSERT(mn_proposal_check(p, NULL) == 0); /* decoders guarantee it */
    const uint32_t idx = proposer_of(b, p->round);
    if (memcmp(p->signer, b->vs->set.members[idx].id, MN_ID_BYTES) != 0)
        return end(b, mn_err_set(err, MN_EPERM, 0, "proposal from a validator that is not "
                                                   "the proposer of round %u", p->round));
    uint8_t raw[256];
    mn_buf buf = {.data = raw, .len = 0, .cap = sizeof(raw), .max = sizeof(raw)};
    MN_ASSERT(mn_proposal_sign_bytes(p, b->chain_id, &buf, err) == 0);
    if (verify_sig(b, p->signature, MN_TAG_PROPOSAL, &buf, idx) != 0)
        return end(b, mn_err_set(err, MN_ECRYPTO, 0, "proposal signature does not verify"));
    mn__bft_round *s = mn__round_get(b, p->round);
    if (s != NULL)
        accept_proposal(b, s, p);
    return end(b, 0);
}

int mn_bft_on_vote(mn_bft *b, const mn_vote *v, mn_bft_actions *out, mn_err *err)
{
    begin(b, out);
    if (v->height != b->height || b->vs == NULL)
        return end(b, 0);
    MN_ASSERT(mn_vote_check(v, NULL) == 0);
    const int idx = mn_bft_valset_find(b->vs, v->signer);
    if (idx < 0)
        return end(b, mn_err_set(err, MN_EPERM, 0, "vote from outside the validator set"));
    const mn__bft_round *held = mn__round_find(b, v->round);
    if (held != NULL && mn__votes_holds(held, v, (uint32_t)idx))
        return end(b, 0); /* relayed again: we verified this content once, it adds nothing */
    uint8_t raw[256];
    mn_buf buf = {.data = raw, .len = 0, .cap = sizeof(raw), .max = sizeof(raw)};
    MN_ASSERT(mn_vote_sign_bytes(v, b->chain_id, &buf, err) == 0);
    if (verify_sig(b, v->signature, MN_TAG_VOTE, &buf, (uint32_t)idx) != 0)
        return end(b, mn_err_set(err, MN_ECRYPTO, 0, "vote signature does not verify"));
    mn__bft_round *s = mn__round_get(b, v->round);
    if (s != NULL && mn__votes_add(b, s, v, (uint32_t)idx) == MN__VOTE_CONFLICT) {
        mn_vote first;
        MN_ASSERT(mn__votes_get(b, s, v->type, (uint32_t)idx, 0, &first));
        mn_evidence_from_votes(&emit(b, MN_ACT_EVIDENCE)->u.evidence, &first, v);
    }
    return end(b, 0);
}

/* Lines 57-67. */
void mn_bft_on_timeout(mn_bft *b, mn_bft_step step, uint64_t height, uint32_t round,
                       mn_bft_actions *out)
{
    begin(b, out);
    if (step == MN_STEP_COMMIT && height == b->height && b->awaiting_height) {
        if (b->vs == NULL) { /* the set of this height is still unknown: try again later */
            schedule(b, MN_STEP_COMMIT, b->timeouts.propose_ns);
        } else {
            b->awaiting_height = false;
            start_round(b, 0, ENTRY_NONE);
        }
    } else if (height == b->height && round == b->round && !b->awaiting_height) {
        if (step == MN_STEP_PROPOSE && b->step == MN_STEP_PROPOSE) { /* line 57 */
            send_vote(b, MN_VOTE_PREVOTE, false, NULL);
            b->step = MN_STEP_PREVOTE;
        } else if (step == MN_STEP_PREVOTE && b->step == MN_STEP_PREVOTE) { /* line 61 */
            send_vote(b, MN_VOTE_PRECOMMIT, false, NULL);
            b->step = MN_STEP_PRECOMMIT;
        } else if (step == MN_STEP_PRECOMMIT) { /* line 65 */
            start_round(b, round + 1, ENTRY_TIMEOUT);
        }
    }
    (void)end(b, 0);
}

void mn_bft_on_validated(mn_bft *b, const uint8_t id[static MN_BLOCK_ID_BYTES], bool valid,
                         mn_bft_actions *out)
{
    begin(b, out);
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++) {
        mn__bft_round *s = &b->rounds[i];
        for (uint32_t k = 0; s->used && k < s->proposal_count; k++)
            if (s->validity[k] == MN__VALIDITY_PENDING &&
                memcmp(s->proposal_id[k], id, MN_BLOCK_ID_BYTES) == 0)
                s->validity[k] = valid ? MN__VALIDITY_VALID : MN__VALIDITY_INVALID;
    }
    (void)end(b, 0);
}

int mn_bft_on_commit(mn_bft *b, const mn_block_header *h, const mn_commit_cert *c,
                     mn_bft_actions *out, mn_err *err)
{
    begin(b, out);
    if (h->height != b->height || b->vs == NULL)
        return end(b, 0);
    int rc = mn_bft_verify_commit(b->vs, b->chain_id, h, c, &b->hooks, err);
    if (rc != 0)
        return end(b, rc);
    uint8_t id[MN_BLOCK_ID_BYTES], beta[MN_VRF_OUTPUT_BYTES];
    if (!header_ok(b, h, beta))
        return end(b, mn_err_set(err, MN_ECRYPTO, 0, "certified block has a bad parent or "
                                                      "VRF proof"));
    mn_block_id(id, h);
    b->decided_header = *h;
    b->decided_cert = *c;
    decide_and_advance(b, id, beta);
    return end(b, 0);
}

/* Every message of a round we hold (proposals, and the votes of every validator, each under
 * its author's signature), the way Tendermint's gossip relays votes: a validator stuck in a
 * round needs the others' votes of that round, or f+1 of a later one, not just ours. */
static void relay_round(mn_bft *b, uint32_t round, bool proposals)
{
    const mn__bft_round *s = mn__round_find(b, round);
    if (s == NULL)
        return;
    for (uint32_t k = 0; proposals && k < s->proposal_count; k++) {
        mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
        a->u.msg.kind = MN_CMSG_PROPOSAL;
        a->u.msg.proposal = s->proposals[k];
    }
    mn_vote v;
    for (int t = MN_VOTE_PREVOTE; t <= MN_VOTE_PRECOMMIT; t++)
        for (uint32_t i = 0; i < b->vs->set.count; i++) {
            if (!mn__votes_get(b, s, (mn_vote_type)t, i, 0, &v))
                continue; /* first votes only: second ones travel as evidence and POLs */
            mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
            a->u.msg.kind = MN_CMSG_VOTE;
            a->u.msg.vote = v;
        }
}

/* The justification of our round (mn_bft_entry): what of it the round's slot does not hold
 * (relay_round sent what it does; after a restart or an eviction it may hold less). */
static void send_entry(mn_bft *b)
{
    const mn_bft_sign_state *ss = &b->signed_state;
    const mn_bft_entry *e = &ss->entry;
    if (ss->height != b->height || ss->round != b->round)
        return;
    const mn__bft_round *s = mn__round_find(b, e->round);
    for (uint32_t k = 0; k < e->vote_count; k++) {
        const int idx = mn_bft_valset_find(b->vs, e->votes[k].signer);
        if (s != NULL && idx >= 0 && mn__votes_holds(s, &e->votes[k], (uint32_t)idx))
            continue;
        mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
        a->u.msg.kind = MN_CMSG_VOTE;
        a->u.msg.vote = e->votes[k];
    }
    if (e->has_proposal && (s == NULL || s->proposal_count == 0)) {
        mn_bft_action *a = emit(b, MN_ACT_BROADCAST);
        a->u.msg.kind = MN_CMSG_PROPOSAL;
        a->u.msg.proposal = e->proposal;
    }
}

void mn_bft_rebroadcast(mn_bft *b, mn_bft_actions *out)
{
    begin(b, out);
    if (b->vs == NULL) { /* nothing of this height is held */
        b->out = NULL;
        return;
    }
    relay_round(b, b->round, true);
    if (b->round > 0)
        relay_round(b, b->round - 1, false);
    if (b->self >= 0) {
        send_pol(b);
        send_entry(b);
    }
    b->out = NULL;
}
