/* SPDX-License-Identifier: Apache-2.0
 *
 * test_bft.c: the consensus core driven by hand through the scenarios of Algorithm 1 (paper
 * line numbers in the test names' comments): a decision with its certificate and the chained
 * seed, the nil path through timeouts, locking and the valid-round re-proposal, the f+1 round
 * skip, vote accounting (duplicates, outsiders, bad signatures), equivocation evidence,
 * double-sign protection across a restart, invalid VRF proofs, commit catch-up, and growing
 * timeouts. Four validators with equal stake (quorum 3, f+1 = 2) unless a test says otherwise.
 */
#include <stdlib.h>

#include "metanode/consensus.h"
#include "mn_test.h"

#define N 4
static const char *chain = "metanode-bft-test";

typedef struct fixture {
    mn_keypair key[N];
    uint8_t vrf_pk[N][32], vrf_sk[N][64];
    mn_bft_valset vs;
    mn_bft_config cfg;
    mn_bft_chain chain;
    int member_of[N]; /* key i -> index in the set */
    int key_of[N];    /* set index -> key i */
} fixture;

static void payload(void *ctx, uint64_t height, uint8_t out[32])
{
    (void)ctx;
    memset(out, (int)(height & 0xff), 32);
}

static fixture *fixture_new(const uint64_t *stakes)
{
    fixture *f = calloc(1, sizeof(*f));
    mn_bft_member m[N];
    for (int i = 0; i < N; i++) {
        uint8_t seed[32];
        memset(seed, 0x40 + i, sizeof(seed));
        mn_keypair_from_seed(&f->key[i], seed);
        seed[0] ^= 0xff;
        ASSERT_EQ(mn_vrf_keypair_from_seed(f->vrf_pk[i], f->vrf_sk[i], seed), 0);
        memcpy(m[i].pk, f->key[i].pk, 32);
        memcpy(m[i].vrf_pk, f->vrf_pk[i], 32);
        m[i].stake = stakes ? stakes[i] : 10;
    }
    mn_err err;
    ASSERT_OK(mn_bft_valset_init(&f->vs, m, N, &err), &err);
    for (int i = 0; i < N; i++) {
        uint8_t id[32];
        mn_node_id(id, f->key[i].pk);
        f->member_of[i] = mn_bft_valset_find(&f->vs, id);
        f->key_of[f->member_of[i]] = i;
    }
    f->cfg = (mn_bft_config){.chain_id = chain, .valset = &f->vs,
                             .timeouts = {40, 1, 10, 1, 10, 1, 0},
                             .hooks = {.get_payload = payload}};
    f->chain.height = 1;
    mn_leader_genesis_seed(f->chain.seed, chain);
    return f;
}

/* Key index of proposer(h, r) for the fixture's current chain seed. */
static int proposer_key(const fixture *f, uint64_t h, uint32_t r)
{
    return f->key_of[mn_leader_proposer(&f->vs.set, f->chain.seed, h, r)];
}

/* A key index that is not the proposer of rounds 0..3 at height 1 (the node under test). */
static int pick_subject(const fixture *f)
{
    for (int i = 0; i < N; i++) {
        bool proposes = false;
        for (uint32_t r = 0; r < 4; r++)
            proposes |= proposer_key(f, 1, r) == i;
        if (!proposes)
            return i;
    }
    return -1;
}

static mn_bft *node_new(const fixture *f, int i, const mn_bft_sign_state *ps, mn_bft_actions *out)
{
    mn_bft *b = calloc(1, sizeof(*b));
    mn_err err;
    ASSERT_OK(mn_bft_init(b, &f->cfg, &f->key[i], f->vrf_sk[i], &f->chain, ps, &err), &err);
    mn_bft_start(b, out);
    return b;
}

static mn_block_header block_by(const fixture *f, int i, uint8_t payload_byte, bool good_proof)
{
    mn_block_header h;
    memset(&h, 0, sizeof(h));
    h.height = f->chain.height;
    memcpy(h.parent, f->chain.parent, 32);
    mn_node_id(h.proposer, f->key[i].pk);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, f->chain.seed, h.height);
    ASSERT_EQ(mn_vrf_prove(h.vrf_proof, f->vrf_sk[i], alpha, sizeof(alpha), MN_VRF_SUITE_TAI), 0);
    if (!good_proof)
        h.vrf_proof[40] ^= 1;
    memset(h.payload, payload_byte, 32);
    return h;
}

static mn_proposal proposal_of(const fixture *f, uint32_t round, int64_t vr,
                               const mn_block_header *h)
{
    mn_proposal p;
    memset(&p, 0, sizeof(p));
    p.height = h->height;
    p.round = round;
    p.pol_round = vr;
    p.header = *h;
    mn_proposal_sign(&p, chain, &f->key[proposer_key(f, h->height, round)]);
    return p;
}

static mn_vote vote_of(const fixture *f, int i, mn_vote_type t, uint32_t round,
                       const mn_block_header *h)
{
    mn_vote v;
    memset(&v, 0, sizeof(v));
    v.type = t;
    v.height = f->chain.height;
    v.round = round;
    if (h != NULL) {
        v.has_value = true;
        mn_block_id(v.value, h);
    }
    mn_vote_sign(&v, chain, &f->key[i]);
    return v;
}

/* The index of the first action of a kind at or after `from`, or -1. */
static int find_action(const mn_bft_actions *out, mn_bft_action_kind kind, uint32_t from)
{
    for (uint32_t i = from; i < out->count; i++)
        if (out->items[i].kind == kind)
            return (int)i;
    return -1;
}

/* The single vote broadcast in out (asserts exactly one, preceded by a PERSIST). */
static mn_vote sent_vote(const mn_bft_actions *out)
{
    int p = find_action(out, MN_ACT_PERSIST, 0);
    int v = find_action(out, MN_ACT_BROADCAST, 0);
    ASSERT_TRUE(p >= 0);
    ASSERT_TRUE(v > p);
    ASSERT_EQ(out->items[v].u.msg.kind, MN_CMSG_VOTE);
    ASSERT_EQ(find_action(out, MN_ACT_BROADCAST, (uint32_t)v + 1), -1);
    return out->items[v].u.msg.vote;
}

static void feed_vote(mn_bft *b, const mn_vote *v, mn_bft_actions *out)
{
    mn_err err;
    ASSERT_OK(mn_bft_on_vote(b, v, out, &err), &err);
}

static void feed_proposal(mn_bft *b, const mn_proposal *p, mn_bft_actions *out)
{
    mn_err err;
    ASSERT_OK(mn_bft_on_proposal(b, p, out, &err), &err);
}

/* Other key indices than `me`, in order. */
static void others(int me, int o[N - 1])
{
    for (int i = 0, k = 0; i < N; i++)
        if (i != me)
            o[k++] = i;
}

static mn_bft_actions out;

/* Lines 22-25, 36-41, 49-54: proposal, polka, lock, precommits, decision and certificate. */
static void test_decide_with_certificate(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f), pr = proposer_key(f, 1, 0);
    ASSERT_TRUE(me >= 0);
    mn_bft *b = node_new(f, me, NULL, &out);
    ASSERT_EQ(out.count, 2); /* not the proposer: the round is persisted, a propose timeout */
    ASSERT_EQ(out.items[0].kind, MN_ACT_PERSIST);
    ASSERT_EQ(out.items[0].u.persist->round, 0);
    ASSERT_EQ(out.items[0].u.persist->step, 0);
    ASSERT_EQ(out.items[1].kind, MN_ACT_TIMEOUT);
    ASSERT_U64_EQ(out.items[1].u.timeout.delay_ns, 40);

    mn_block_header h = block_by(f, pr, 0xaa, true);
    mn_proposal p = proposal_of(f, 0, -1, &h);
    feed_proposal(b, &p, &out);
    ASSERT_EQ(out.count, 1);
    ASSERT_EQ(out.items[0].kind, MN_ACT_VALIDATE); /* waits for valid(v) */
    uint8_t id[32];
    mn_block_id(id, &h);
    mn_bft_on_validated(b, id, true, &out);
    mn_vote pv = sent_vote(&out);
    ASSERT_EQ(pv.type, MN_VOTE_PREVOTE);
    ASSERT_TRUE(pv.has_value);
    ASSERT_MEM_EQ(pv.value, id, 32);
    ASSERT_EQ(b->step, MN_STEP_PREVOTE);

    int o[N - 1];
    others(me, o);
    mn_vote v1 = vote_of(f, o[0], MN_VOTE_PREVOTE, 0, &h);
    feed_vote(b, &v1, &out);
    ASSERT_EQ(out.count, 0); /* 2 of 4: no quorum yet */
    mn_vote v2 = vote_of(f, o[1], MN_VOTE_PREVOTE, 0, &h);
    feed_vote(b, &v2, &out);
    mn_vote pc = sent_vote(&out); /* line 36: lock and precommit */
    ASSERT_EQ(pc.type, MN_VOTE_PRECOMMIT);
    ASSERT_EQ(b->locked_round, 0);
    int pi = find_action(&out, MN_ACT_PERSIST, 0);
    ASSERT_EQ(out.items[pi].u.persist->locked_round, 0); /* the lock is persisted with the vote */
    ASSERT_TRUE(find_action(&out, MN_ACT_TIMEOUT, 0) >= 0); /* line 34 */

    mn_vote c1 = vote_of(f, o[0], MN_VOTE_PRECOMMIT, 0, &h);
    mn_vote c2 = vote_of(f, o[2], MN_VOTE_PRECOMMIT, 0, &h);
    feed_vote(b, &c1, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_DECIDE, 0), -1);
    feed_vote(b, &c2, &out);
    int d = find_action(&out, MN_ACT_DECIDE, 0);
    ASSERT_TRUE(d >= 0);
    const mn_bft_action *a = &out.items[d];
    ASSERT_MEM_EQ(a->u.decide.header, &h, sizeof(h));
    ASSERT_EQ(a->u.decide.cert->sig_count, 3);
    mn_err err;
    ASSERT_OK(mn_bft_verify_commit(&f->vs, chain, &h, a->u.decide.cert, NULL, &err), &err);
    ASSERT_EQ(mn_bft_verify_commit(&f->vs, "other-chain", &h, a->u.decide.cert, NULL, &err),
              -MN_ECRYPTO);

    /* Next height: seed chained from the block's VRF output, parent = id, locks reset. */
    uint8_t beta[64], seed2[32];
    ASSERT_EQ(mn_vrf_proof_to_hash(beta, h.vrf_proof, MN_VRF_SUITE_TAI), 0);
    mn_leader_next_seed(seed2, beta);
    ASSERT_U64_EQ(b->height, 2);
    ASSERT_MEM_EQ(b->seed, seed2, 32);
    ASSERT_MEM_EQ(b->parent, id, 32);
    ASSERT_EQ(b->locked_round, -1);
    ASSERT_EQ(b->round, 0);
    free(b);
    free(f);
}

/* Lines 57-60, 44-46, 47-48, 65-67: nothing proposed; timeouts lead to nil and round 1. */
static void test_nil_round_and_timeouts(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_bft_on_timeout(b, MN_STEP_PROPOSE, 1, 0, &out);
    mn_vote pv = sent_vote(&out);
    ASSERT_EQ(pv.type, MN_VOTE_PREVOTE);
    ASSERT_FALSE(pv.has_value);
    mn_bft_on_timeout(b, MN_STEP_PROPOSE, 1, 0, &out); /* stale: step is prevote */
    ASSERT_EQ(out.count, 0);
    int o[N - 1];
    others(me, o);
    for (int k = 0; k < 2; k++) {
        mn_vote v = vote_of(f, o[k], MN_VOTE_PREVOTE, 0, NULL);
        feed_vote(b, &v, &out);
    }
    mn_vote pc = sent_vote(&out); /* line 44 */
    ASSERT_EQ(pc.type, MN_VOTE_PRECOMMIT);
    ASSERT_FALSE(pc.has_value);
    for (int k = 0; k < 2; k++) {
        mn_vote v = vote_of(f, o[k], MN_VOTE_PRECOMMIT, 0, NULL);
        feed_vote(b, &v, &out);
    }
    int t = find_action(&out, MN_ACT_TIMEOUT, 0); /* line 47 */
    ASSERT_TRUE(t >= 0);
    ASSERT_EQ(out.items[t].u.timeout.step, MN_STEP_PRECOMMIT);
    ASSERT_U64_EQ(out.items[t].u.timeout.delay_ns, 10);
    mn_bft_on_timeout(b, MN_STEP_PRECOMMIT, 1, 0, &out);
    ASSERT_EQ(b->round, 1);
    ASSERT_EQ(b->step, MN_STEP_PROPOSE);
    t = find_action(&out, MN_ACT_TIMEOUT, 0);
    ASSERT_TRUE(t >= 0);
    ASSERT_U64_EQ(out.items[t].u.timeout.delay_ns, 41); /* grows with the round */
    free(b);
    free(f);
}

/* Lines 22-27 with a lock: a locked node prevotes nil for another value with vr = -1; lines
 * 28-33: it prevotes for that value once it comes with a polka from a round >= its lock; and
 * line 36 in prevote step moves the lock. */
static void test_lock_and_valid_round(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    int o[N - 1];
    others(me, o);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_block_header v = block_by(f, proposer_key(f, 1, 0), 0x01, true);
    mn_proposal p0 = proposal_of(f, 0, -1, &v);
    feed_proposal(b, &p0, &out);
    uint8_t vid[32];
    mn_block_id(vid, &v);
    mn_bft_on_validated(b, vid, true, &out);
    for (int k = 0; k < 2; k++) {
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 0, &v);
        feed_vote(b, &pv, &out);
    }
    ASSERT_EQ(b->locked_round, 0);
    ASSERT_EQ(b->valid_round, 0);
    /* Round 1 by precommit timeout (others precommit nil). */
    for (int k = 0; k < 2; k++) {
        mn_vote pc = vote_of(f, o[k], MN_VOTE_PRECOMMIT, 0, NULL);
        feed_vote(b, &pc, &out);
    }
    mn_bft_on_timeout(b, MN_STEP_PRECOMMIT, 1, 0, &out);
    ASSERT_EQ(b->round, 1);
    mn_block_header w = block_by(f, proposer_key(f, 1, 1), 0x02, true);
    uint8_t wid[32];
    mn_block_id(wid, &w);
    mn_proposal p1 = proposal_of(f, 1, -1, &w);
    feed_proposal(b, &p1, &out);
    mn_bft_on_validated(b, wid, true, &out);
    mn_vote nil = sent_vote(&out);
    ASSERT_FALSE(nil.has_value); /* locked on v */
    /* f+1 of round 2 moves us on (line 55) before the polka for w in round 1 arrives, so
     * line 36 never fires for it here and the lock on v (round 0) stays. */
    for (int k = 0; k < 2; k++) {
        mn_vote r2 = vote_of(f, o[k], MN_VOTE_PRECOMMIT, 2, NULL);
        feed_vote(b, &r2, &out);
    }
    ASSERT_EQ(b->round, 2);
    for (int k = 0; k < 3; k++) {
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 1, &w);
        feed_vote(b, &pv, &out);
    }
    ASSERT_EQ(b->locked_round, 0);
    ASSERT_EQ(b->step, MN_STEP_PROPOSE);
    mn_proposal p2 = proposal_of(f, 2, 1, &w);
    feed_proposal(b, &p2, &out);
    mn_vote yes = sent_vote(&out);
    ASSERT_TRUE(yes.has_value); /* lockedRound 0 <= vr 1 */
    ASSERT_MEM_EQ(yes.value, wid, 32);
    for (int k = 0; k < 2; k++) { /* a polka for w in round 2 while in prevote: relock */
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 2, &w);
        feed_vote(b, &pv, &out);
    }
    ASSERT_EQ(b->locked_round, 2);
    mn_vote pc = sent_vote(&out);
    ASSERT_EQ(pc.type, MN_VOTE_PRECOMMIT);
    ASSERT_MEM_EQ(pc.value, wid, 32);
    free(b);
    free(f);
}

/* Line 55: f+1 of power in a higher round moves us there; f alone does not. */
static void test_round_skip(void)
{
    const uint64_t stakes[N] = {10, 10, 10, 31}; /* total 61: f+1 means power >= 21 */
    fixture *f = fixture_new(stakes);
    const int me = 0;
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_vote a = vote_of(f, 1, MN_VOTE_PREVOTE, 5, NULL);
    feed_vote(b, &a, &out);
    mn_vote c = vote_of(f, 2, MN_VOTE_PRECOMMIT, 5, NULL);
    feed_vote(b, &c, &out);
    ASSERT_EQ(b->round, 0); /* 20 of 61 */
    mn_vote d = vote_of(f, 3, MN_VOTE_PREVOTE, 7, NULL);
    feed_vote(b, &d, &out);
    ASSERT_EQ(b->round, 7); /* 31 alone is more than a third */
    ASSERT_TRUE(find_action(&out, MN_ACT_TIMEOUT, 0) >= 0 ||
                find_action(&out, MN_ACT_BROADCAST, 0) >= 0);
    free(b);
    free(f);
}

/* Vote accounting: duplicates count once, outsiders and bad signatures are refused, and a
 * second different vote is evidence and not counted. */
static void test_vote_accounting_and_evidence(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    int o[N - 1];
    others(me, o);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_bft_on_timeout(b, MN_STEP_PROPOSE, 1, 0, &out); /* we prevote nil */
    mn_vote v = vote_of(f, o[0], MN_VOTE_PREVOTE, 0, NULL);
    feed_vote(b, &v, &out);
    const uint64_t verified = b->stat_signatures_verified;
    feed_vote(b, &v, &out); /* duplicate */
    ASSERT_EQ(out.count, 0);
    mn_vote copy = v; /* a relayed copy is not verified again, whatever its signature */
    copy.signature[0] ^= 1;
    feed_vote(b, &copy, &out);
    ASSERT_EQ(out.count, 0);
    ASSERT_U64_EQ(b->stat_signatures_verified, verified);
    ASSERT_EQ(b->step, MN_STEP_PREVOTE); /* 2 of 4 */

    mn_block_header h = block_by(f, o[0], 0x33, true);
    mn_vote conflicting = vote_of(f, o[0], MN_VOTE_PREVOTE, 0, &h);
    feed_vote(b, &conflicting, &out);
    ASSERT_EQ(out.count, 1);
    ASSERT_EQ(out.items[0].kind, MN_ACT_EVIDENCE);
    const mn_evidence *e = &out.items[0].u.evidence;
    ASSERT_EQ(e->kind, MN_EVIDENCE_DUPLICATE_VOTE);
    mn_err err;
    for (int k = 0; k < 2; k++)
        ASSERT_OK(mn_vote_verify(&e->u.votes[k], chain, f->key[o[0]].pk, &err), &err);
    mn_buf enc;
    mn_buf_init(&enc, 0);
    ASSERT_OK(mn_evidence_encode(e, &enc, &err), &err);
    mn_evidence back;
    ASSERT_OK(mn_evidence_decode(enc.data, enc.len, &back, &err), &err);
    mn_buf_deinit(&enc);
    feed_vote(b, &conflicting, &out); /* reported once */
    ASSERT_EQ(out.count, 0);
    ASSERT_EQ(b->step, MN_STEP_PREVOTE); /* it counts toward its own value only, not nil */

    mn_keypair outsider;
    uint8_t seed[32] = {0x99};
    mn_keypair_from_seed(&outsider, seed);
    mn_vote x = v;
    mn_vote_sign(&x, chain, &outsider);
    ASSERT_EQ(mn_bft_on_vote(b, &x, &out, &err), -MN_EPERM);
    mn_vote forged = vote_of(f, o[1], MN_VOTE_PREVOTE, 0, NULL);
    forged.signature[5] ^= 1;
    ASSERT_EQ(mn_bft_on_vote(b, &forged, &out, &err), -MN_ECRYPTO);
    ASSERT_EQ(b->step, MN_STEP_PREVOTE);
    mn_vote good = vote_of(f, o[1], MN_VOTE_PREVOTE, 0, NULL);
    feed_vote(b, &good, &out);
    ASSERT_EQ(b->step, MN_STEP_PRECOMMIT); /* now 3 of 4 for nil */

    /* Proposals: from a validator that is not the round's proposer is refused. */
    int not_proposer = proposer_key(f, 1, 1) == o[0] ? o[1] : o[0];
    mn_block_header h1 = block_by(f, not_proposer, 1, true);
    mn_proposal p = proposal_of(f, 1, -1, &h1);
    mn_proposal_sign(&p, chain, &f->key[not_proposer]);
    ASSERT_EQ(mn_bft_on_proposal(b, &p, &out, &err), -MN_EPERM);
    free(b);
    free(f);
}

/* Double proposals of one proposer in one round are evidence; a bad VRF proof is an invalid
 * block (prevote nil at once, without asking the application). */
static void test_proposal_evidence_and_bad_vrf(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f), pr = proposer_key(f, 1, 0);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_block_header bad = block_by(f, pr, 0x10, false);
    mn_proposal p = proposal_of(f, 0, -1, &bad);
    feed_proposal(b, &p, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_VALIDATE, 0), -1);
    mn_vote nil = sent_vote(&out);
    ASSERT_FALSE(nil.has_value);
    mn_block_header good = block_by(f, pr, 0x11, true);
    mn_proposal q = proposal_of(f, 0, -1, &good);
    feed_proposal(b, &q, &out);
    int e = find_action(&out, MN_ACT_EVIDENCE, 0);
    ASSERT_TRUE(e >= 0);
    ASSERT_EQ(out.items[e].u.evidence.kind, MN_EVIDENCE_DUPLICATE_PROPOSAL);
    feed_proposal(b, &q, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_EVIDENCE, 0), -1);
    free(b);
    free(f);
}

/* Persist-before-sign and a restart from the persisted state: the restarted node keeps its
 * lock and never signs again in a (height, round, step) it signed before. */
static void test_restart_never_double_signs(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    int o[N - 1];
    others(me, o);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_block_header v = block_by(f, proposer_key(f, 1, 0), 0x05, true);
    mn_proposal p = proposal_of(f, 0, -1, &v);
    feed_proposal(b, &p, &out);
    uint8_t vid[32];
    mn_block_id(vid, &v);
    mn_bft_on_validated(b, vid, true, &out);
    for (int k = 0; k < 2; k++) {
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 0, &v);
        feed_vote(b, &pv, &out);
    }
    int pi = find_action(&out, MN_ACT_PERSIST, 0);
    ASSERT_TRUE(pi >= 0);
    mn_bft_sign_state saved = *out.items[pi].u.persist;
    ASSERT_EQ(saved.step, MN_STEP_PRECOMMIT);
    ASSERT_EQ(saved.locked_round, 0);
    free(b);

    b = node_new(f, me, &saved, &out); /* restart: round 0 again, lock restored */
    ASSERT_EQ(b->locked_round, 0);
    ASSERT_EQ(b->round, 0);
    mn_bft_on_timeout(b, MN_STEP_PROPOSE, 1, 0, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_BROADCAST, 0), -1); /* no second prevote */
    for (int k = 0; k < 3; k++) {
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 0, NULL);
        feed_vote(b, &pv, &out);
    }
    ASSERT_EQ(find_action(&out, MN_ACT_BROADCAST, 0), -1); /* no precommit nil after v */
    /* Round 1: a different value with vr = -1 gets nil (the lock survived the restart). */
    mn_bft_on_timeout(b, MN_STEP_PRECOMMIT, 1, 0, &out);
    for (int k = 0; k < 3; k++) {
        mn_vote pc = vote_of(f, o[k], MN_VOTE_PRECOMMIT, 0, NULL);
        feed_vote(b, &pc, &out);
    }
    mn_bft_on_timeout(b, MN_STEP_PRECOMMIT, 1, 0, &out);
    ASSERT_EQ(b->round, 1);
    mn_block_header w = block_by(f, proposer_key(f, 1, 1), 0x06, true);
    mn_proposal p1 = proposal_of(f, 1, -1, &w);
    feed_proposal(b, &p1, &out);
    uint8_t wid[32];
    mn_block_id(wid, &w);
    mn_bft_on_validated(b, wid, true, &out);
    mn_vote nil = sent_vote(&out);
    ASSERT_FALSE(nil.has_value);
    free(b);
    /* A persisted state ahead of the chain (decision lost in a crash): sign nothing below it. */
    saved.height = 2;
    b = node_new(f, me, &saved, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_PERSIST, 0), -1);
    mn_bft_on_timeout(b, MN_STEP_PROPOSE, 1, 0, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_BROADCAST, 0), -1);
    ASSERT_EQ(b->step, MN_STEP_PREVOTE);
    free(b);
    free(f);
}

/* After a restart the validator still holds and retransmits what it signed and the proof of
 * lock of its valid value (others may need those votes), and it did not fall back a round. */
static void test_restart_keeps_messages_and_proof_of_lock(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    int o[N - 1];
    others(me, o);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_block_header v = block_by(f, proposer_key(f, 1, 0), 0x07, true);
    mn_proposal p = proposal_of(f, 0, -1, &v);
    feed_proposal(b, &p, &out);
    uint8_t vid[32];
    mn_block_id(vid, &v);
    mn_bft_on_validated(b, vid, true, &out);
    for (int k = 0; k < 2; k++) {
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 0, &v);
        feed_vote(b, &pv, &out);
    }
    ASSERT_EQ(b->valid_round, 0);
    /* Round 1 entered by the others' round-1 messages (f+1): persisted without a signature. */
    for (int k = 0; k < 2; k++) {
        mn_vote r1 = vote_of(f, o[k], MN_VOTE_PREVOTE, 1, NULL);
        feed_vote(b, &r1, &out);
    }
    ASSERT_EQ(b->round, 1);
    int pi = find_action(&out, MN_ACT_PERSIST, 0);
    ASSERT_TRUE(pi >= 0);
    mn_bft_sign_state saved = *out.items[pi].u.persist;
    ASSERT_EQ(saved.round, 1);
    ASSERT_EQ(saved.step, 0);
    ASSERT_EQ(saved.own[1].round, 0);
    ASSERT_TRUE(saved.own[1].has_prevote && saved.own[1].has_precommit);
    ASSERT_EQ(saved.valid_pol.sig_count, 3);
    /* Line 55's justification: the two round-1 prevotes that made it skip. */
    ASSERT_EQ(saved.entry.round, 1);
    ASSERT_EQ(saved.entry.vote_count, 2);
    ASSERT_FALSE(saved.entry.has_proposal);
    for (uint32_t k = 0; k < 2; k++)
        ASSERT_TRUE(saved.entry.votes[k].type == MN_VOTE_PREVOTE &&
                    saved.entry.votes[k].round == 1);
    free(b);

    b = node_new(f, me, &saved, &out);
    ASSERT_EQ(b->round, 1); /* not back to round 0 */
    mn_bft_rebroadcast(b, &out);
    int own = 0, pol = 0, entry = 0;
    for (uint32_t i = 0; i < out.count; i++) {
        const mn_bft_action *a = &out.items[i];
        ASSERT_NE(a->kind, MN_ACT_PERSIST); /* retransmission signs nothing */
        if (a->kind != MN_ACT_BROADCAST || a->u.msg.kind != MN_CMSG_VOTE)
            continue;
        const mn_vote *x = &a->u.msg.vote;
        mn_err err;
        int signer = mn_bft_valset_find(&f->vs, x->signer);
        ASSERT_OK(mn_vote_verify(x, chain, f->key[f->key_of[signer]].pk, &err), &err);
        own += f->key_of[signer] == me && x->round == 0;
        pol += x->type == MN_VOTE_PREVOTE && x->round == 0 && x->has_value &&
               memcmp(x->value, vid, 32) == 0;
        entry += x->type == MN_VOTE_PREVOTE && x->round == 1 && f->key_of[signer] != me;
    }
    ASSERT_TRUE(own >= 2); /* its prevote and precommit of round 0 */
    ASSERT_TRUE(pol >= 3); /* the proof of lock: three prevotes for v */
    ASSERT_EQ(entry, 2);   /* the f+1 round-1 prevotes it skipped on */
    /* A validator still in round 0 follows on those relayed votes alone (line 55). */
    mn_bft *c = node_new(f, o[2], NULL, &out);
    for (uint32_t k = 0; k < 2; k++)
        feed_vote(c, &saved.entry.votes[k], &out);
    ASSERT_EQ(c->round, 1);
    free(c);
    free(b);
    /* An entry vote conflicting with the restored proof of lock (an equivocator's other
     * prevote of round 0) is not held silently: seeing it again yields evidence (sim seed
     * 10306 10 0), and it is still relayed. */
    memset(&saved.entry, 0, sizeof(saved.entry));
    saved.entry.vote_count = 1;
    saved.entry.votes[0] = vote_of(f, o[0], MN_VOTE_PREVOTE, 0, NULL); /* POL: o[0] for v */
    b = node_new(f, me, &saved, &out);
    mn_bft_rebroadcast(b, &out);
    bool relayed = false;
    for (uint32_t i = 0; i < out.count; i++)
        relayed |= out.items[i].kind == MN_ACT_BROADCAST &&
                   out.items[i].u.msg.kind == MN_CMSG_VOTE &&
                   memcmp(out.items[i].u.msg.vote.signature, saved.entry.votes[0].signature,
                          64) == 0;
    ASSERT_TRUE(relayed);
    feed_vote(b, &saved.entry.votes[0], &out);
    ASSERT_TRUE(find_action(&out, MN_ACT_EVIDENCE, 0) >= 0);
    free(b);
    free(f);
}

/* Issue 6 (simulator seed 16093 4 1): a validator that entered round 1 on timeoutPrecommit
 * (line 65) and restarted still holds and retransmits the 2f+1 precommits of round 0 that
 * justified it, and a validator that lacked them follows it into round 1. */
static void test_restart_keeps_round_entry_precommits(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    int o[N - 1];
    others(me, o);
    mn_bft *b = node_new(f, me, NULL, &out);
    ASSERT_EQ(find_action(&out, MN_ACT_PERSIST, 0), 0);
    ASSERT_EQ(out.items[0].u.persist->entry.vote_count, 0); /* round 0: nothing to justify */
    mn_bft_on_timeout(b, MN_STEP_PROPOSE, 1, 0, &out); /* line 57: prevote nil */
    for (int k = 0; k < 2; k++) {
        mn_vote pv = vote_of(f, o[k], MN_VOTE_PREVOTE, 0, NULL);
        feed_vote(b, &pv, &out);
    }
    ASSERT_EQ(b->step, MN_STEP_PRECOMMIT); /* line 44: precommit nil */
    for (int k = 0; k < 2; k++) {
        mn_vote pc = vote_of(f, o[k], MN_VOTE_PRECOMMIT, 0, NULL);
        feed_vote(b, &pc, &out);
    }
    ASSERT_TRUE(find_action(&out, MN_ACT_TIMEOUT, 0) >= 0); /* line 47 */
    mn_bft_on_timeout(b, MN_STEP_PRECOMMIT, 1, 0, &out);    /* line 65 */
    ASSERT_EQ(b->round, 1);
    int pi = find_action(&out, MN_ACT_PERSIST, 0);
    ASSERT_TRUE(pi >= 0);
    /* PERSIST before anything is broadcast in the new round. */
    int bi = find_action(&out, MN_ACT_BROADCAST, 0);
    ASSERT_TRUE(bi == -1 || bi > pi);
    mn_bft_sign_state *saved = malloc(sizeof(*saved));
    *saved = *out.items[pi].u.persist;
    ASSERT_EQ(saved->round, 1);
    ASSERT_EQ(saved->entry.round, 0);
    ASSERT_EQ(saved->entry.vote_count, 3); /* o[0], o[1] and its own */
    ASSERT_FALSE(saved->entry.has_proposal);
    for (uint32_t k = 0; k < saved->entry.vote_count; k++) {
        const mn_vote *x = &saved->entry.votes[k];
        ASSERT_TRUE(x->type == MN_VOTE_PRECOMMIT && x->round == 0 && x->height == 1);
        if (k > 0) /* validator order */
            ASSERT_TRUE(memcmp(saved->entry.votes[k - 1].signer, x->signer, 32) < 0);
    }
    free(b);

    b = node_new(f, me, saved, &out); /* restart */
    ASSERT_EQ(b->round, 1);
    mn_bft *c = node_new(f, o[2], NULL, &out); /* never got the round-0 precommits */
    mn_bft_actions *relay = malloc(sizeof(*relay));
    mn_bft_rebroadcast(b, relay);
    int precommits = 0;
    bool timer = false;
    for (uint32_t i = 0; i < relay->count; i++) {
        const mn_bft_action *a = &relay->items[i];
        ASSERT_NE(a->kind, MN_ACT_PERSIST);
        if (a->kind != MN_ACT_BROADCAST || a->u.msg.kind != MN_CMSG_VOTE)
            continue;
        const mn_vote *x = &a->u.msg.vote;
        if (x->type == MN_VOTE_PRECOMMIT && x->round == 0)
            precommits++;
        feed_vote(c, x, &out); /* counted like any vote (signature checked) */
        for (uint32_t j = 0; j < out.count; j++)
            timer |= out.items[j].kind == MN_ACT_TIMEOUT &&
                     out.items[j].u.timeout.step == MN_STEP_PRECOMMIT &&
                     out.items[j].u.timeout.round == 0;
    }
    ASSERT_EQ(precommits, 3);
    ASSERT_TRUE(timer); /* line 47 fired on the relayed precommits */
    ASSERT_EQ(c->round, 0);
    mn_bft_on_timeout(c, MN_STEP_PRECOMMIT, 1, 0, &out); /* line 65 */
    ASSERT_EQ(c->round, 1);
    ASSERT_TRUE(c->signed_state.entry.vote_count >= 3); /* and it persists them in turn */

    /* Evicted or not, a restored entry is retransmitted: drop the slot of round 0. */
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++)
        if (b->rounds[i].used && b->rounds[i].round == 0)
            b->rounds[i].used = false;
    mn_bft_rebroadcast(b, relay);
    precommits = 0;
    for (uint32_t i = 0; i < relay->count; i++) {
        const mn_bft_action *a = &relay->items[i];
        precommits += a->kind == MN_ACT_BROADCAST && a->u.msg.kind == MN_CMSG_VOTE &&
                      a->u.msg.vote.type == MN_VOTE_PRECOMMIT && a->u.msg.vote.round == 0;
    }
    ASSERT_EQ(precommits, 3);
    free(relay);
    free(saved);
    free(c);
    free(b);
    free(f);
}

/* A validator with more than 2/3 of the stake decides alone, but one height per call: the
 * next height starts on the commit timeout (found by the simulator with unequal stakes). */
static void test_dominant_validator_one_decision_per_event(void)
{
    const uint64_t stakes[N] = {100, 1, 1, 1};
    fixture *f = fixture_new(stakes);
    mn_bft *b = node_new(f, 0, NULL, &out);
    int decisions = 0;
    for (int iter = 0; iter < 200; iter++) {
        int decides = 0, t = -1;
        for (uint32_t i = 0; i < out.count; i++) {
            decides += out.items[i].kind == MN_ACT_DECIDE;
            if (out.items[i].kind == MN_ACT_TIMEOUT)
                t = (int)i; /* the last timeout scheduled is the one that matters */
        }
        ASSERT_TRUE(decides <= 1);
        decisions += decides;
        if (b->height == 6)
            break;
        ASSERT_TRUE(t >= 0); /* alone, it always has something to wait for */
        const mn_bft_action a = out.items[t];
        if (decides == 1)
            ASSERT_EQ(a.u.timeout.step, MN_STEP_COMMIT);
        mn_bft_on_timeout(b, a.u.timeout.step, a.u.timeout.height, a.u.timeout.round, &out);
    }
    ASSERT_EQ(decisions, 5);
    ASSERT_U64_EQ(b->height, 6);
    free(b);
    free(f);
}

/* A late node decides from a commit certificate; a tampered one is refused. */
static void test_commit_catch_up(void)
{
    fixture *f = fixture_new(NULL);
    const int me = pick_subject(f);
    mn_bft *b = node_new(f, me, NULL, &out);
    mn_block_header h = block_by(f, proposer_key(f, 1, 2), 0x44, true);
    mn_commit_cert *c = calloc(1, sizeof(*c));
    c->height = 1;
    c->round = 2;
    mn_block_id(c->value, &h);
    c->signer_bytes = 1;
    int o[N - 1];
    others(me, o);
    /* Signatures in set order of the three others. */
    for (int m = 0; m < N; m++) {
        int k = f->key_of[m];
        if (k == me)
            continue;
        c->signers[0] |= (uint8_t)(1u << m);
        mn_vote pc = vote_of(f, k, MN_VOTE_PRECOMMIT, 2, &h);
        memcpy(c->signatures[c->sig_count++], pc.signature, 64);
    }
    mn_err err;
    mn_commit_cert bad = *c;
    bad.signatures[1][0] ^= 1;
    ASSERT_EQ(mn_bft_on_commit(b, &h, &bad, &out, &err), -MN_ECRYPTO);
    bad = *c;
    bad.signers[0] |= 0x10; /* a bit beyond the set */
    ASSERT_EQ(mn_bft_on_commit(b, &h, &bad, &out, &err), -MN_ECORRUPT);
    bad = *c; /* two signatures: below quorum */
    bad.signers[0] = 0;
    bad.sig_count = 0;
    for (int m = 0, n = 0; m < N && n < 2; m++)
        if (c->signers[0] & (1u << m)) {
            bad.signers[0] |= (uint8_t)(1u << m);
            memcpy(bad.signatures[bad.sig_count++], c->signatures[n++], 64);
        }
    ASSERT_EQ(mn_bft_on_commit(b, &h, &bad, &out, &err), -MN_ECRYPTO);
    ASSERT_U64_EQ(b->height, 1);
    ASSERT_OK(mn_bft_on_commit(b, &h, c, &out, &err), &err);
    ASSERT_TRUE(find_action(&out, MN_ACT_DECIDE, 0) >= 0);
    ASSERT_U64_EQ(b->height, 2);
    free(c);
    free(b);
    free(f);
}

/* The proposer proposes a new block with its VRF proof, and re-proposes validValue with
 * validRound in a later round (lines 14-19). */
static void test_proposer_builds_block(void)
{
    fixture *f = fixture_new(NULL);
    const int pr = proposer_key(f, 1, 0);
    mn_bft *b = node_new(f, pr, NULL, &out);
    int bi = find_action(&out, MN_ACT_BROADCAST, 0);
    ASSERT_TRUE(bi > find_action(&out, MN_ACT_PERSIST, 0));
    const mn_proposal *p = &out.items[bi].u.msg.proposal;
    ASSERT_EQ(p->pol_round, -1);
    mn_err err;
    ASSERT_OK(mn_proposal_verify(p, chain, f->key[pr].pk, &err), &err);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES], beta[64];
    mn_leader_alpha(alpha, f->chain.seed, 1);
    ASSERT_EQ(mn_vrf_verify(beta, f->vrf_pk[pr], p->header.vrf_proof, alpha, sizeof(alpha),
                            MN_VRF_SUITE_TAI), 0);
    /* Its own proposal is valid to it: it prevotes for it at once. */
    int vi = find_action(&out, MN_ACT_BROADCAST, (uint32_t)bi + 1);
    ASSERT_TRUE(vi > bi);
    ASSERT_TRUE(out.items[vi].u.msg.vote.has_value);
    free(b);
    free(f);
}

/* ---- stake changes: one validator set per height ---------------------------------------- */

#define P 5 /* keys of the stake-change tests: four at genesis, one that joins later */

/* The application's stake states: states[c] is the set after committing block c (0: genesis;
 * the last one stays). Height h is run by states[mn_bft_snapshot_height(h)]. */
typedef struct dyn {
    mn_keypair key[P];
    uint8_t vrf_pk[P][32], vrf_sk[P][64];
    mn_bft_valset states[3];
    uint32_t state_count;
} dyn;

/* One node: its core and its application's last committed height (what valset_at knows). */
typedef struct dyn_node {
    dyn *d;
    uint32_t k;
    mn_bft *b;
    uint64_t committed;
    uint64_t asked_max;      /* highest height valset_at was asked for */
    uint8_t decided[8][32];  /* ids of the blocks decided at heights 1.. */
} dyn_node;

static const mn_bft_valset *dyn_set(const dyn *d, uint64_t height)
{
    uint64_t c = mn_bft_snapshot_height(height);
    return &d->states[c < d->state_count ? c : d->state_count - 1];
}

static const mn_bft_valset *dyn_valset_at(void *ctx, uint64_t height)
{
    dyn_node *n = ctx;
    if (height > n->asked_max)
        n->asked_max = height;
    if (mn_bft_snapshot_height(height) > n->committed)
        return NULL; /* not committed yet: the application cannot know it */
    return dyn_set(n->d, height);
}

/* A set from stakes per key (0: not a member). */
static void dyn_state(dyn *d, uint32_t c, const uint64_t stakes[P])
{
    mn_bft_member m[P];
    uint32_t count = 0;
    for (uint32_t i = 0; i < P; i++) {
        if (stakes[i] == 0)
            continue;
        memcpy(m[count].pk, d->key[i].pk, 32);
        memcpy(m[count].vrf_pk, d->vrf_pk[i], 32);
        m[count++].stake = stakes[i];
    }
    mn_err err;
    ASSERT_OK(mn_bft_valset_init(&d->states[c], m, count, &err), &err);
    if (c + 1 > d->state_count)
        d->state_count = c + 1;
}

static dyn *dyn_new(void)
{
    dyn *d = calloc(1, sizeof(*d));
    for (int i = 0; i < P; i++) {
        uint8_t seed[32];
        memset(seed, 0x60 + i, sizeof(seed));
        mn_keypair_from_seed(&d->key[i], seed);
        seed[0] ^= 0xff;
        ASSERT_EQ(mn_vrf_keypair_from_seed(d->vrf_pk[i], d->vrf_sk[i], seed), 0);
    }
    return d;
}

/* The key index of member idx of a set. */
static uint32_t dyn_key_of(const dyn *d, const mn_bft_valset *vs, uint32_t idx)
{
    for (uint32_t i = 0; i < P; i++) {
        uint8_t id[32];
        mn_node_id(id, d->key[i].pk);
        if (memcmp(id, vs->set.members[idx].id, 32) == 0)
            return i;
    }
    ASSERT_TRUE(false);
    return 0;
}

static mn_bft_config dyn_config(dyn_node *n)
{
    return (mn_bft_config){.chain_id = chain, .timeouts = {40, 1, 10, 1, 10, 1, 0},
                           .hooks = {.ctx = n, .get_payload = payload,
                                     .valset_at = dyn_valset_at}};
}

/* A block at `height` on `parent` by key k, with its VRF proof over seed. */
static mn_block_header dyn_block(const dyn *d, uint32_t k, uint64_t height, const uint8_t seed[32],
                                 const uint8_t parent[32])
{
    mn_block_header h;
    memset(&h, 0, sizeof(h));
    h.height = height;
    memcpy(h.parent, parent, 32);
    mn_node_id(h.proposer, d->key[k].pk);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, seed, height);
    ASSERT_EQ(mn_vrf_prove(h.vrf_proof, d->vrf_sk[k], alpha, sizeof(alpha), MN_VRF_SUITE_TAI), 0);
    memset(h.payload, 0x5e, 32);
    return h;
}

static mn_vote dyn_vote(const dyn *d, uint32_t k, mn_vote_type t, uint64_t height, uint32_t round)
{
    mn_vote v;
    memset(&v, 0, sizeof(v));
    v.type = t;
    v.height = height;
    v.round = round;
    mn_vote_sign(&v, chain, &d->key[k]);
    return v;
}

/* The proposer of height h follows the stakes of the snapshot at h - MN_STAKE_LOOKBACK, not
 * the application's current stakes; a height whose snapshot is not committed is unknown. */
static void test_proposer_follows_stake_snapshot(void)
{
    dyn *d = dyn_new();
    const uint64_t genesis[P] = {10, 10, 10, 10, 0};
    const uint64_t after1[P] = {1000, 10, 10, 10, 0}; /* key 0 bonds: the set of height 3 */
    const uint64_t after2[P] = {10, 1000, 10, 10, 0}; /* key 1 bonds, 0 unbonds: height 4 */
    dyn_state(d, 0, genesis);
    dyn_state(d, 1, after1);
    dyn_state(d, 2, after2);
    ASSERT_U64_EQ(mn_bft_snapshot_height(3), 3 - MN_STAKE_LOOKBACK);
    ASSERT_U64_EQ(mn_bft_snapshot_height(MN_STAKE_LOOKBACK), 0);
    dyn_node n = {.d = d, .committed = 2}; /* the application's current stakes: after2 */
    mn_bft_config cfg = dyn_config(&n);
    mn_bft_chain ch = {.height = 3};
    mn_leader_genesis_seed(ch.seed, "some seed");
    memset(ch.parent, 0x22, 32);
    /* A round whose proposer differs between the snapshot and the current stakes. */
    const mn_bft_valset *snap = &d->states[1], *cur = &d->states[2];
    int32_t round = -1;
    uint32_t by_snap = 0, by_cur = 0;
    for (uint32_t r = 0; r < MN_BFT_ROUND_SLOTS && round < 0; r++) {
        by_snap = dyn_key_of(d, snap, mn_leader_proposer(&snap->set, ch.seed, 3, r));
        by_cur = dyn_key_of(d, cur, mn_leader_proposer(&cur->set, ch.seed, 3, r));
        if (by_snap != by_cur)
            round = (int32_t)r;
    }
    ASSERT_TRUE(round >= 0);
    mn_bft *b = calloc(1, sizeof(*b));
    mn_err err;
    ASSERT_OK(mn_bft_init(b, &cfg, NULL, NULL, &ch, NULL, &err), &err); /* an observer */
    ASSERT_U64_EQ(n.asked_max, 3);
    ASSERT_TRUE(b->vs == snap);
    mn_bft_start(b, &out);

    mn_block_header hc = dyn_block(d, by_cur, 3, ch.seed, ch.parent);
    mn_proposal pc = {.height = 3, .round = (uint32_t)round, .pol_round = -1, .header = hc};
    mn_proposal_sign(&pc, chain, &d->key[by_cur]);
    ASSERT_EQ(mn_bft_on_proposal(b, &pc, &out, &err), -MN_EPERM);
    mn_block_header hs = dyn_block(d, by_snap, 3, ch.seed, ch.parent);
    mn_proposal ps = {.height = 3, .round = (uint32_t)round, .pol_round = -1, .header = hs};
    mn_proposal_sign(&ps, chain, &d->key[by_snap]);
    feed_proposal(b, &ps, &out);
    ASSERT_TRUE(find_action(&out, MN_ACT_VALIDATE, 0) >= 0); /* header ok: author in the set */
    free(b);

    /* The snapshot proposer itself proposes at once when round 0 is its own. */
    const uint32_t p0 = dyn_key_of(d, snap, mn_leader_proposer(&snap->set, ch.seed, 3, 0));
    b = calloc(1, sizeof(*b));
    ASSERT_OK(mn_bft_init(b, &cfg, &d->key[p0], d->vrf_sk[p0], &ch, NULL, &err), &err);
    mn_bft_start(b, &out);
    int bi = find_action(&out, MN_ACT_BROADCAST, 0);
    ASSERT_TRUE(bi >= 0);
    ASSERT_EQ(out.items[bi].u.msg.kind, MN_CMSG_PROPOSAL);
    free(b);

    /* The application has committed only height 0: the set of height 3 is unknown. */
    n.committed = 0;
    b = calloc(1, sizeof(*b));
    ASSERT_EQ(mn_bft_init(b, &cfg, NULL, NULL, &ch, NULL, &err), -MN_ESTATE);
    free(b);
    free(d);
}

/* The sets of the network test: key 0 leaves and key 4 joins with the state after block 2,
 * so at height 4; key 1 also bonds more. */
static void dyn_leave_join_states(dyn *d)
{
    const uint64_t genesis[P] = {10, 10, 10, 10, 0};
    const uint64_t after2[P] = {0, 20, 10, 10, 10};
    dyn_state(d, 0, genesis);
    dyn_state(d, 1, genesis);
    dyn_state(d, 2, after2);
}

/* A vote is counted only against the set of its height: a member of another height's set is
 * refused; a vote of a height whose set is unknown is ignored; the height starts once the
 * application knows its set. */
static void test_vote_from_another_heights_set_refused(void)
{
    dyn *d = dyn_new();
    dyn_leave_join_states(d);
    dyn_node n = {.d = d, .committed = 2};
    mn_bft_config cfg = dyn_config(&n);
    mn_bft_chain ch = {.height = 3};
    mn_leader_genesis_seed(ch.seed, chain);
    memset(ch.parent, 0x33, 32);
    mn_bft *b = calloc(1, sizeof(*b));
    mn_err err;
    ASSERT_OK(mn_bft_init(b, &cfg, &d->key[2], d->vrf_sk[2], &ch, NULL, &err), &err);
    mn_bft_start(b, &out);
    mn_vote joiner = dyn_vote(d, 4, MN_VOTE_PREVOTE, 3, 0); /* key 4 votes from height 4 on */
    ASSERT_EQ(mn_bft_on_vote(b, &joiner, &out, &err), -MN_EPERM);
    mn_vote early = dyn_vote(d, 4, MN_VOTE_PREVOTE, 4, 0); /* another height: ignored */
    feed_vote(b, &early, &out);
    ASSERT_EQ(out.count, 0);
    mn_vote leaver = dyn_vote(d, 0, MN_VOTE_PREVOTE, 3, 0); /* key 0 still votes at 3 */
    feed_vote(b, &leaver, &out);

    /* Height 3 decided from a certificate of the set of height 3, while the application lags
     * (it has committed only block 1): the set of height 4 is unknown. */
    mn_block_header h3 = dyn_block(d, 0, 3, ch.seed, ch.parent);
    mn_commit_cert *c = calloc(1, sizeof(*c));
    const mn_bft_valset *s3 = dyn_set(d, 3);
    c->height = 3;
    mn_block_id(c->value, &h3);
    c->signer_bytes = 1;
    for (uint32_t i = 0; i < s3->set.count; i++) {
        mn_vote pc = dyn_vote(d, dyn_key_of(d, s3, i), MN_VOTE_PRECOMMIT, 3, 0);
        pc.has_value = true;
        memcpy(pc.value, c->value, 32);
        mn_vote_sign(&pc, chain, &d->key[dyn_key_of(d, s3, i)]);
        c->signers[0] |= (uint8_t)(1u << i);
        memcpy(c->signatures[c->sig_count++], pc.signature, 64);
    }
    ASSERT_EQ(mn_bft_verify_commit(dyn_set(d, 4), chain, &h3, c, NULL, &err), -MN_ECRYPTO);
    n.committed = 1;
    ASSERT_OK(mn_bft_on_commit(b, &h3, c, &out, &err), &err);
    ASSERT_TRUE(find_action(&out, MN_ACT_DECIDE, 0) >= 0);
    ASSERT_U64_EQ(b->height, 4);
    ASSERT_TRUE(b->vs == NULL);
    feed_vote(b, &early, &out); /* the set of height 4 is unknown: ignored */
    ASSERT_EQ(out.count, 0);
    mn_bft_on_timeout(b, MN_STEP_COMMIT, 4, 0, &out); /* cannot start: re-armed */
    ASSERT_EQ(out.count, 1);
    ASSERT_EQ(out.items[0].kind, MN_ACT_TIMEOUT);
    ASSERT_EQ(out.items[0].u.timeout.step, MN_STEP_COMMIT);
    ASSERT_U64_EQ(out.items[0].u.timeout.delay_ns, 40);
    n.committed = 3; /* the application stored block 3 (and 2) */
    mn_bft_on_timeout(b, MN_STEP_COMMIT, 4, 0, &out);
    ASSERT_TRUE(b->vs == dyn_set(d, 4));
    ASSERT_TRUE(find_action(&out, MN_ACT_PERSIST, 0) >= 0); /* key 2 signs at height 4 too */
    mn_vote gone = dyn_vote(d, 0, MN_VOTE_PREVOTE, 4, 0); /* key 0 left with height 4 */
    ASSERT_EQ(mn_bft_on_vote(b, &gone, &out, &err), -MN_EPERM);
    feed_vote(b, &early, &out); /* now counted: key 4 is in the set of height 4 */
    uint64_t prevote_power = 0; /* round 0 of height 4: key 4's prevote (key 2 waits) */
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++)
        if (b->rounds[i].used && b->rounds[i].round == 0)
            prevote_power = b->rounds[i].votes[0].power_any;
    ASSERT_U64_EQ(prevote_power, 10);
    free(c);
    free(b);
    free(d);
}

/* A small lossless network of the five keys deciding heights 1..5 while the set changes at
 * height 4: the leaver signs nothing from height 4 on, the joiner signs from height 4 on,
 * everyone decides the same blocks, and each certificate's bitset is over its height's set. */
typedef struct dyn_item {
    bool validated;
    uint32_t node; /* sender of a message; receiver of a validation */
    mn_cmsg_kind kind;
    mn_proposal proposal;
    mn_vote vote;
    uint8_t id[32];
} dyn_item;

typedef struct dyn_timer {
    uint32_t node, round;
    mn_bft_step step;
    uint64_t height, due, seq;
} dyn_timer;

typedef struct dyn_net {
    dyn *d;
    dyn_node nodes[P];
    dyn_item *q;
    size_t head, tail, cap;
    dyn_timer timers[4 * P * 64];
    uint32_t timer_count;
    uint64_t now, seq;
    uint64_t signed_min[P], signed_max[P]; /* heights of the messages each key signed */
} dyn_net;

static void dyn_push(dyn_net *net, const dyn_item *it)
{
    if (net->tail == net->cap) {
        net->cap = net->cap ? 2 * net->cap : 1024;
        net->q = realloc(net->q, net->cap * sizeof(*net->q));
    }
    net->q[net->tail++] = *it;
}

static void dyn_actions(dyn_net *net, uint32_t i)
{
    dyn_node *n = &net->nodes[i];
    for (uint32_t k = 0; k < out.count; k++) {
        const mn_bft_action *a = &out.items[k];
        dyn_item it = {.node = i};
        switch (a->kind) {
        case MN_ACT_PERSIST:
            break;
        case MN_ACT_BROADCAST: {
            it.kind = a->u.msg.kind;
            it.proposal = a->u.msg.proposal;
            it.vote = a->u.msg.vote;
            const bool prop = it.kind == MN_CMSG_PROPOSAL;
            const uint8_t *signer = prop ? it.proposal.signer : it.vote.signer;
            const uint64_t h = prop ? it.proposal.height : it.vote.height;
            uint8_t id[32];
            mn_node_id(id, n->d->key[i].pk);
            if (memcmp(id, signer, 32) == 0) { /* our own signature (not a relayed vote) */
                if (net->signed_min[i] == 0 || h < net->signed_min[i])
                    net->signed_min[i] = h;
                if (h > net->signed_max[i])
                    net->signed_max[i] = h;
            }
            dyn_push(net, &it);
            break;
        }
        case MN_ACT_TIMEOUT: {
            ASSERT_TRUE(net->timer_count < sizeof(net->timers) / sizeof(net->timers[0]));
            dyn_timer *t = &net->timers[net->timer_count++];
            *t = (dyn_timer){.node = i, .round = a->u.timeout.round, .step = a->u.timeout.step,
                             .height = a->u.timeout.height, .due = net->now + a->u.timeout.delay_ns,
                             .seq = net->seq++};
            break;
        }
        case MN_ACT_VALIDATE:
            it.validated = true;
            mn_block_id(it.id, &a->u.validate);
            dyn_push(net, &it);
            break;
        case MN_ACT_DECIDE: {
            const mn_block_header *h = a->u.decide.header;
            const mn_commit_cert *c = a->u.decide.cert;
            ASSERT_U64_EQ(h->height, n->committed + 1);
            mn_err err;
            const mn_bft_valset *vs = dyn_set(n->d, h->height);
            ASSERT_EQ(c->signer_bytes, (vs->set.count + 7) / 8);
            ASSERT_OK(mn_bft_verify_commit(vs, chain, h, c, NULL, &err), &err);
            if (h->height <= 3) /* its bitset is over the old set: not height 4's */
                ASSERT_EQ(mn_bft_verify_commit(dyn_set(n->d, 4), chain, h, c, NULL, &err),
                          -MN_ECRYPTO);
            ASSERT_TRUE(h->height <= 8);
            mn_block_id(n->decided[h->height - 1], h);
            n->committed = h->height;
            break;
        }
        case MN_ACT_EVIDENCE:
            ASSERT_TRUE(false); /* nobody equivocates here */
            break;
        }
    }
}

static void test_validator_leaves_and_joins(void)
{
    dyn_net *net = calloc(1, sizeof(*net));
    dyn *d = net->d = dyn_new();
    dyn_leave_join_states(d);
    mn_bft_chain ch = {.height = 1};
    mn_leader_genesis_seed(ch.seed, chain);
    mn_err err;
    for (uint32_t i = 0; i < P; i++) {
        dyn_node *n = &net->nodes[i];
        *n = (dyn_node){.d = d, .k = i};
        mn_bft_config cfg = dyn_config(n);
        n->b = calloc(1, sizeof(mn_bft));
        ASSERT_OK(mn_bft_init(n->b, &cfg, &d->key[i], d->vrf_sk[i], &ch, NULL, &err), &err);
    }
    ASSERT_EQ(net->nodes[4].b->self, -1); /* not in the genesis set: an observer */
    for (uint32_t i = 0; i < P; i++) {
        mn_bft_start(net->nodes[i].b, &out);
        dyn_actions(net, i);
    }
    const uint64_t target = 5;
    for (uint32_t steps = 0;; steps++) {
        ASSERT_TRUE(steps < 200000);
        bool done = true;
        for (uint32_t i = 0; i < P; i++)
            done &= net->nodes[i].committed >= target;
        if (done)
            break;
        if (net->head < net->tail) {
            const dyn_item it = net->q[net->head++];
            if (it.validated) {
                mn_bft_on_validated(net->nodes[it.node].b, it.id, true, &out);
                dyn_actions(net, it.node);
                continue;
            }
            for (uint32_t j = 0; j < P; j++) {
                if (j == it.node)
                    continue;
                mn_bft *b = net->nodes[j].b;
                if (it.kind == MN_CMSG_PROPOSAL)
                    ASSERT_OK(mn_bft_on_proposal(b, &it.proposal, &out, &err), &err);
                else
                    ASSERT_OK(mn_bft_on_vote(b, &it.vote, &out, &err), &err);
                dyn_actions(net, j);
            }
            continue;
        }
        ASSERT_TRUE(net->timer_count > 0);
        uint32_t best = 0;
        for (uint32_t t = 1; t < net->timer_count; t++) {
            const dyn_timer *x = &net->timers[t], *y = &net->timers[best];
            if (x->due < y->due || (x->due == y->due && x->seq < y->seq))
                best = t;
        }
        const dyn_timer t = net->timers[best];
        net->timers[best] = net->timers[--net->timer_count];
        net->now = t.due;
        mn_bft_on_timeout(net->nodes[t.node].b, t.step, t.height, t.round, &out);
        dyn_actions(net, t.node);
    }
    for (uint32_t i = 1; i < P; i++)
        for (uint32_t h = 0; h < target; h++)
            ASSERT_MEM_EQ(net->nodes[i].decided[h], net->nodes[0].decided[h], 32);
    ASSERT_U64_EQ(net->signed_min[0], 1); /* the leaver signed at heights 1..3 only */
    ASSERT_U64_EQ(net->signed_max[0], 3);
    ASSERT_U64_EQ(net->signed_min[4], 4); /* the joiner from height 4 on */
    ASSERT_TRUE(net->signed_max[4] >= target);
    ASSERT_EQ(net->nodes[0].b->self, -1);
    ASSERT_TRUE(net->nodes[4].b->self >= 0);
    for (uint32_t i = 0; i < P; i++) /* nobody ever needed a set beyond its snapshot */
        ASSERT_TRUE(net->nodes[i].asked_max <= net->nodes[i].committed + MN_STAKE_LOOKBACK);
    for (uint32_t i = 0; i < P; i++)
        free(net->nodes[i].b);
    free(net->q);
    free(d);
    free(net);
}

MN_TEST_MAIN("consensus.bft", MN_TEST(test_decide_with_certificate),
             MN_TEST(test_nil_round_and_timeouts), MN_TEST(test_lock_and_valid_round),
             MN_TEST(test_round_skip), MN_TEST(test_vote_accounting_and_evidence),
             MN_TEST(test_proposal_evidence_and_bad_vrf), MN_TEST(test_restart_never_double_signs),
             MN_TEST(test_restart_keeps_messages_and_proof_of_lock),
             MN_TEST(test_restart_keeps_round_entry_precommits),
             MN_TEST(test_dominant_validator_one_decision_per_event),
             MN_TEST(test_commit_catch_up), MN_TEST(test_proposer_builds_block),
             MN_TEST(test_proposer_follows_stake_snapshot),
             MN_TEST(test_vote_from_another_heights_set_refused),
             MN_TEST(test_validator_leaves_and_joins))
