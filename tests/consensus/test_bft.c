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
    free(b);

    b = node_new(f, me, &saved, &out);
    ASSERT_EQ(b->round, 1); /* not back to round 0 */
    mn_bft_rebroadcast(b, &out);
    int own = 0, pol = 0;
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
    }
    ASSERT_TRUE(own >= 2); /* its prevote and precommit of round 0 */
    ASSERT_TRUE(pol >= 3); /* the proof of lock: three prevotes for v */
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

MN_TEST_MAIN("consensus.bft", MN_TEST(test_decide_with_certificate),
             MN_TEST(test_nil_round_and_timeouts), MN_TEST(test_lock_and_valid_round),
             MN_TEST(test_round_skip), MN_TEST(test_vote_accounting_and_evidence),
             MN_TEST(test_proposal_evidence_and_bad_vrf), MN_TEST(test_restart_never_double_signs),
             MN_TEST(test_restart_keeps_messages_and_proof_of_lock),
             MN_TEST(test_dominant_validator_one_decision_per_event),
             MN_TEST(test_commit_catch_up), MN_TEST(test_proposer_builds_block))
