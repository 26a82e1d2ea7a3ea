/* SPDX-License-Identifier: Apache-2.0
 *
 * test_model.c: a model-based test derived from the paper. `model` below is Algorithm 1 of
 * "The latest gossip on BFT consensus" written as literally as possible for one process of 4
 * equal validators at one height: a message log, and every "upon" rule evaluated over the log
 * (counting distinct senders of matching messages, so a Byzantine sender's two different
 * votes each count toward their own value, exactly as the paper's message sets do). No
 * windows, no persistence, no crypto. Random traces (seeded, 3 other validators of which any
 * may equivocate; proposals valid or invalid, fresh or re-proposed with any valid round;
 * votes for nil, proposed values or unknown values; stale and current timeouts) are fed to the
 * model and to the real core (real signatures and VRF proofs), and after every event their
 * observable outputs (votes and proposals broadcast, timeouts scheduled, the decision) and
 * their state (round, step, locked and valid value and round) must be equal. Agreement among
 * 4 validators with 1 Byzantine is the simulator's job (tests/sim); this test pins the rules.
 */
#include <stdlib.h>

#include "metanode/clock.h"
#include "metanode/consensus.h"
#include "mn_test.h"

#define N 4
#define ROUNDS 4
#define LOG_MAX 512
#define OUT_MAX 64
static const char *chain = "metanode-model";

/* ---- the paper's process ---------------------------------------------------------------- */

enum { M_PROPOSAL, M_PREVOTE, M_PRECOMMIT };

typedef struct mmsg {
    int kind, sender;
    uint32_t round;
    bool has_value;
    uint8_t id[32];
    int64_t vr;
    bool valid; /* proposals: valid(v) */
} mmsg;

/* An observable output: a message sent (kind, round, value, vr), a timeout (kind = 10 + step),
 * or a decision (kind = 20). */
typedef struct mout {
    int kind;
    uint32_t round;
    bool has_value;
    uint8_t id[32];
    int64_t vr;
} mout;

typedef struct model {
    int self;
    int proposer[ROUNDS + 2];
    uint8_t own_block[32];        /* getValue() */
    uint32_t round;
    int step;
    int64_t locked_round, valid_round;
    uint8_t locked[32], valid[32];
    bool decided;
    uint8_t decision[32];
    bool first34[ROUNDS + 2], first36[ROUNDS + 2], first47[ROUNDS + 2];
    mmsg log[LOG_MAX];
    int log_len;
    mout out[OUT_MAX];
    int out_len;
} model;

static void m_emit(model *m, int kind, uint32_t round, bool has_value, const uint8_t *id,
                   int64_t vr)
{
    ASSERT_TRUE(m->out_len < OUT_MAX);
    mout *o = &m->out[m->out_len++];
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    o->round = round;
    o->has_value = has_value;
    if (has_value)
        memcpy(o->id, id, 32);
    o->vr = vr;
}

static void m_log(model *m, int kind, int sender, uint32_t round, bool has_value,
                  const uint8_t *id, int64_t vr, bool valid)
{
    ASSERT_TRUE(m->log_len < LOG_MAX);
    mmsg *g = &m->log[m->log_len++];
    memset(g, 0, sizeof(*g));
    g->kind = kind;
    g->sender = sender;
    g->round = round;
    g->has_value = has_value;
    if (has_value)
        memcpy(g->id, id, 32);
    g->vr = vr;
    g->valid = valid;
}

static void m_broadcast(model *m, int kind, bool has_value, const uint8_t *id, int64_t vr)
{
    m_emit(m, kind, m->round, has_value, id, vr);
    m_log(m, kind, m->self, m->round, has_value, id, vr, true);
}

/* Distinct senders of `kind` messages in `round` for the value (any_value: whatever). */
static int m_count(const model *m, int kind, uint32_t round, bool any_value, bool has_value,
                   const uint8_t *id)
{
    bool seen[N] = {false};
    int count = 0;
    for (int i = 0; i < m->log_len; i++) {
        const mmsg *g = &m->log[i];
        if ((kind >= 0 && g->kind != kind) || g->round != round || seen[g->sender])
            continue;
        if (!any_value && (g->has_value != has_value ||
                           (has_value && memcmp(g->id, id, 32) != 0)))
            continue;
        seen[g->sender] = true;
        count++;
    }
    return count;
}

static const mmsg *m_proposal(const model *m, uint32_t round)
{
    for (int i = 0; i < m->log_len; i++)
        if (m->log[i].kind == M_PROPOSAL && m->log[i].round == round &&
            m->log[i].sender == m->proposer[round])
            return &m->log[i];
    return NULL;
}

static void m_start_round(model *m, uint32_t round) /* lines 11-21 */
{
    m->round = round;
    m->step = MN_STEP_PROPOSE;
    if (m->proposer[round] == m->self) {
        if (m->valid_round >= 0)
            m_broadcast(m, M_PROPOSAL, true, m->valid, m->valid_round);
        else
            m_broadcast(m, M_PROPOSAL, true, m->own_block, -1);
    } else {
        m_emit(m, 10 + MN_STEP_PROPOSE, round, false, NULL, 0);
    }
}

static bool m_rules(model *m)
{
    const uint32_t r = m->round;
    const mmsg *p = m_proposal(m, r);
    if (p != NULL && m->step == MN_STEP_PROPOSE && p->vr == -1) { /* line 22 */
        bool yes = p->valid && (m->locked_round == -1 || memcmp(m->locked, p->id, 32) == 0);
        m_broadcast(m, M_PREVOTE, yes, p->id, 0);
        m->step = MN_STEP_PREVOTE;
        return true;
    }
    if (p != NULL && m->step == MN_STEP_PROPOSE && p->vr >= 0 && p->vr < (int64_t)r &&
        m_count(m, M_PREVOTE, (uint32_t)p->vr, false, true, p->id) >= 3) { /* line 28 */
        bool yes = p->valid && (m->locked_round <= p->vr || memcmp(m->locked, p->id, 32) == 0);
        m_broadcast(m, M_PREVOTE, yes, p->id, 0);
        m->step = MN_STEP_PREVOTE;
        return true;
    }
    if (m->step == MN_STEP_PREVOTE && !m->first34[r] &&
        m_count(m, M_PREVOTE, r, true, false, NULL) >= 3) { /* line 34 */
        m->first34[r] = true;
        m_emit(m, 10 + MN_STEP_PREVOTE, r, false, NULL, 0);
        return true;
    }
    if (p != NULL && p->valid && m->step >= MN_STEP_PREVOTE && !m->first36[r] &&
        m_count(m, M_PREVOTE, r, false, true, p->id) >= 3) { /* line 36 */
        m->first36[r] = true;
        if (m->step == MN_STEP_PREVOTE) {
            memcpy(m->locked, p->id, 32);
            m->locked_round = r;
            m_broadcast(m, M_PRECOMMIT, true, p->id, 0);
            m->step = MN_STEP_PRECOMMIT;
        }
        memcpy(m->valid, p->id, 32);
        m->valid_round = r;
        return true;
    }
    if (m->step == MN_STEP_PREVOTE && m_count(m, M_PREVOTE, r, false, false, NULL) >= 3) {
        m_broadcast(m, M_PRECOMMIT, false, NULL, 0); /* line 44 */
        m->step = MN_STEP_PRECOMMIT;
        return true;
    }
    if (!m->first47[r] && m_count(m, M_PRECOMMIT, r, true, false, NULL) >= 3) { /* line 47 */
        m->first47[r] = true;
        m_emit(m, 10 + MN_STEP_PRECOMMIT, r, false, NULL, 0);
        return true;
    }
    for (uint32_t rr = 0; rr <= ROUNDS && !m->decided; rr++) { /* line 49 */
        const mmsg *q = m_proposal(m, rr);
        if (q != NULL && q->valid && m_count(m, M_PRECOMMIT, rr, false, true, q->id) >= 3) {
            m->decided = true;
            memcpy(m->decision, q->id, 32);
            m_emit(m, 20, rr, true, q->id, 0);
            return true;
        }
    }
    for (uint32_t rr = ROUNDS; rr > r && !m->decided; rr--) /* line 55 */
        if (m_count(m, -1, rr, true, false, NULL) >= 2) {
            m_start_round(m, rr);
            return true;
        }
    return false;
}

static void m_process(model *m)
{
    while (!m->decided && m_rules(m)) {
    }
}

static void m_timeout(model *m, int step, uint32_t round) /* lines 57-67 */
{
    if (round != m->round || m->decided)
        return;
    if (step == MN_STEP_PROPOSE && m->step == MN_STEP_PROPOSE) {
        m_broadcast(m, M_PREVOTE, false, NULL, 0);
        m->step = MN_STEP_PREVOTE;
    } else if (step == MN_STEP_PREVOTE && m->step == MN_STEP_PREVOTE) {
        m_broadcast(m, M_PRECOMMIT, false, NULL, 0);
        m->step = MN_STEP_PRECOMMIT;
    } else if (step == MN_STEP_PRECOMMIT && round + 1 <= ROUNDS) {
        m_start_round(m, round + 1);
    }
}

/* ---- the harness ---------------------------------------------------------------------------- */

typedef struct world {
    mn_keypair key[N];
    uint8_t vrf_sk[N][64];
    mn_bft_valset vs;
    mn_bft_config cfg;
    mn_bft_chain chain;
    mn_bft *core;
    model m;
    mn_bft_actions *out, *more; /* large: on the heap */
    mn_rng rng;
    mn_block_header pool[16];
    int pool_len;
    mn_vote sent[N][ROUNDS + 1][2][2]; /* per sender, round, type: up to two values */
    int sent_count[N][ROUNDS + 1][2];
    bool proposed[ROUNDS + 1];
    struct { int step; uint32_t round; } timers[64];
    int timer_count;
} world;

static void own_payload(void *ctx, uint64_t height, uint8_t out[32])
{
    (void)ctx;
    (void)height;
    memset(out, 0x01, 32);
}

static uint64_t rnd(world *w, uint64_t bound)
{
    return mn_rng_uniform(&w->rng, bound);
}

static mn_block_header header_by(world *w, int author, uint8_t payload)
{
    mn_block_header h;
    memset(&h, 0, sizeof(h));
    h.height = 1;
    memcpy(h.proposer, w->vs.set.members[author].id, 32);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, w->chain.seed, 1);
    ASSERT_EQ(mn_vrf_prove(h.vrf_proof, w->vrf_sk[author], alpha, sizeof(alpha),
                           MN_VRF_SUITE_TAI), 0);
    memset(h.payload, payload, 32);
    return h;
}

/* Core actions -> the model's output vocabulary; VALIDATE answered at once (and its actions
 * appended), PERSIST ignored, timeouts remembered for later firing. */
static int core_outputs(world *w, mout *o)
{
    int n = 0;
    for (uint32_t i = 0; i < w->out->count; i++) {
        const mn_bft_action *a = &w->out->items[i];
        mout x;
        memset(&x, 0, sizeof(x));
        if (a->kind == MN_ACT_VALIDATE) {
            uint8_t id[32];
            mn_block_id(id, &a->u.validate);
            mn_bft_on_validated(w->core, id, a->u.validate.payload[0] != 2, w->more);
            for (uint32_t k = 0; k < w->more->count; k++) { /* appended: processed in turn */
                ASSERT_TRUE(w->out->count < MN_BFT_ACTIONS_MAX);
                w->out->items[w->out->count++] = w->more->items[k];
            }
            continue;
        }
        if (a->kind == MN_ACT_TIMEOUT) {
            x.kind = 10 + (int)a->u.timeout.step;
            x.round = a->u.timeout.round;
            w->timers[w->timer_count].step = (int)a->u.timeout.step;
            w->timers[w->timer_count++].round = a->u.timeout.round;
            ASSERT_TRUE(w->timer_count < 64);
        } else if (a->kind == MN_ACT_BROADCAST && a->u.msg.kind == MN_CMSG_PROPOSAL) {
            x.kind = M_PROPOSAL;
            x.round = a->u.msg.proposal.round;
            x.has_value = true;
            mn_block_id(x.id, &a->u.msg.proposal.header);
            x.vr = a->u.msg.proposal.pol_round;
        } else if (a->kind == MN_ACT_BROADCAST) {
            const mn_vote *v = &a->u.msg.vote;
            if (i == 0 || w->out->items[i - 1].kind != MN_ACT_PERSIST)
                continue; /* not just signed: a relayed vote (proof of lock), i.e. gossip */
            x.kind = v->type == MN_VOTE_PREVOTE ? M_PREVOTE : M_PRECOMMIT;
            x.round = v->round;
            x.has_value = v->has_value;
            memcpy(x.id, v->value, 32);
        } else if (a->kind == MN_ACT_DECIDE) {
            x.kind = 20;
            x.round = a->u.decide.cert->round;
            x.has_value = true;
            mn_block_id(x.id, a->u.decide.header);
        } else {
            continue;
        }
        ASSERT_TRUE(n < OUT_MAX);
        o[n++] = x;
        if (x.kind == 20)
            break; /* what follows belongs to height 2, which the model does not run */
    }
    return n;
}

static void compare(world *w, const char *what)
{
    mout got[OUT_MAX];
    const int n = core_outputs(w, got);
    if (n != w->m.out_len) {
        for (int i = 0; i < n; i++)
            fprintf(stderr, "  core  %d r%u %d %02x vr %lld\n", got[i].kind, got[i].round,
                    got[i].has_value, got[i].id[0], (long long)got[i].vr);
        for (int i = 0; i < w->m.out_len; i++)
            fprintf(stderr, "  model %d r%u %d %02x vr %lld\n", w->m.out[i].kind,
                    w->m.out[i].round, w->m.out[i].has_value, w->m.out[i].id[0],
                    (long long)w->m.out[i].vr);
        fprintf(stderr, "  model: round %u step %d\n", w->m.round, w->m.step);
    }
    if (n != w->m.out_len)
        mn_test_fail(__FILE__, __LINE__, "%s: core emitted %d outputs, model %d", what, n,
                     w->m.out_len);
    for (int i = 0; i < n; i++) {
        const mout *a = &got[i], *b = &w->m.out[i];
        ASSERT_EQ(a->kind, b->kind);
        ASSERT_EQ(a->round, b->round);
        ASSERT_EQ(a->has_value, b->has_value);
        if (a->has_value)
            ASSERT_MEM_EQ(a->id, b->id, 32);
        if (a->kind == M_PROPOSAL)
            ASSERT_EQ(a->vr, b->vr);
    }
    w->m.out_len = 0;
    if (w->m.decided)
        return; /* the core has moved to height 2 */
    ASSERT_EQ(w->core->round, w->m.round);
    ASSERT_EQ(w->core->step, w->m.step);
    ASSERT_EQ(w->core->locked_round, w->m.locked_round);
    ASSERT_EQ(w->core->valid_round, w->m.valid_round);
    uint8_t id[32];
    if (w->m.locked_round >= 0) {
        mn_block_id(id, &w->core->locked_value);
        ASSERT_MEM_EQ(id, w->m.locked, 32);
    }
    if (w->m.valid_round >= 0) {
        mn_block_id(id, &w->core->valid_value);
        ASSERT_MEM_EQ(id, w->m.valid, 32);
    }
}

/* ---- traces ------------------------------------------------------------------------------- */

static void world_init(world *w, uint64_t seed, int self)
{
    uint8_t s[32] = {0};
    mn_store_u64_be(s, seed);
    mn_rng_seeded_init(&w->rng, s);
    mn_bft_member mem[N];
    mn_keypair keys[N];
    uint8_t vsk[N][64];
    for (int i = 0; i < N; i++) {
        uint8_t k[32];
        memset(k, 0x60 + i, sizeof(k));
        mn_keypair_from_seed(&keys[i], k);
        k[1] ^= 0x55;
        ASSERT_EQ(mn_vrf_keypair_from_seed(mem[i].vrf_pk, vsk[i], k), 0);
        memcpy(mem[i].pk, keys[i].pk, 32);
        mem[i].stake = 10;
    }
    mn_err err;
    ASSERT_OK(mn_bft_valset_init(&w->vs, mem, N, &err), &err);
    for (int i = 0; i < N; i++) { /* index everything by set member */
        uint8_t id[32];
        mn_node_id(id, keys[i].pk);
        const int m = mn_bft_valset_find(&w->vs, id);
        w->key[m] = keys[i];
        memcpy(w->vrf_sk[m], vsk[i], 64);
    }
    w->cfg = (mn_bft_config){.chain_id = chain, .valset = &w->vs,
                             .timeouts = {40, 1, 10, 1, 10, 1, 0},
                             .hooks = {.get_payload = own_payload}};
    w->chain.height = 1;
    mn_leader_genesis_seed(w->chain.seed, chain);
    w->core = calloc(1, sizeof(mn_bft));
    ASSERT_OK(mn_bft_init(w->core, &w->cfg, &w->key[self], w->vrf_sk[self], &w->chain, NULL,
                          &err), &err);
    model *m = &w->m;
    m->self = self;
    m->locked_round = m->valid_round = -1;
    for (uint32_t r = 0; r <= ROUNDS + 1; r++)
        m->proposer[r] = (int)mn_leader_proposer(&w->vs.set, w->chain.seed, 1, r);
    mn_block_header own = header_by(w, self, 0x01);
    mn_block_id(m->own_block, &own);
}

static void send_proposal(world *w)
{
    const uint32_t r = (uint32_t)rnd(w, ROUNDS + 1);
    const int pr = w->m.proposer[r];
    if (pr == w->m.self || w->proposed[r])
        return;
    w->proposed[r] = true;
    mn_proposal p;
    memset(&p, 0, sizeof(p));
    p.height = 1;
    p.round = r;
    p.pol_round = (int64_t)rnd(w, r + 1) - 1;
    if (w->pool_len > 0 && rnd(w, 2) == 0) {
        p.header = w->pool[rnd(w, (uint64_t)w->pool_len)]; /* re-proposal, any author */
    } else {
        p.header = header_by(w, pr, (uint8_t)(2 + rnd(w, 3))); /* payload 2: invalid */
        if (w->pool_len < 16)
            w->pool[w->pool_len++] = p.header;
    }
    mn_proposal_sign(&p, chain, &w->key[pr]);
    uint8_t id[32];
    mn_block_id(id, &p.header);
    m_log(&w->m, M_PROPOSAL, pr, r, true, id, p.pol_round, p.header.payload[0] != 2);
    m_process(&w->m);
    mn_err err;
    ASSERT_OK(mn_bft_on_proposal(w->core, &p, w->out, &err), &err);
    compare(w, "proposal");
}

static void send_vote(world *w)
{
    int sender = (int)rnd(w, N);
    if (sender == w->m.self)
        return;
    /* Mostly the model's current round, and mostly the value proposed in it, so that traces
     * reach quorums and decisions as well as the corner cases. */
    const uint32_t r = rnd(w, 2) == 0 ? w->m.round : (uint32_t)rnd(w, ROUNDS + 1);
    const int t = (int)rnd(w, 2);
    const mmsg *prop = m_proposal(&w->m, r);
    if (w->sent_count[sender][r][t] == 2)
        return; /* the core ignores a third value; the paper's log would not */
    mn_vote v;
    memset(&v, 0, sizeof(v));
    v.type = t == 0 ? MN_VOTE_PREVOTE : MN_VOTE_PRECOMMIT;
    v.height = 1;
    v.round = r;
    const uint64_t pick = rnd(w, (uint64_t)w->pool_len + 3);
    if (prop != NULL && rnd(w, 3) != 0) {
        v.has_value = true;
        memcpy(v.value, prop->id, 32);
    } else if (pick < (uint64_t)w->pool_len) {
        v.has_value = true;
        mn_block_id(v.value, &w->pool[pick]);
    } else if (pick == (uint64_t)w->pool_len) {
        v.has_value = true;
        memset(v.value, 0xee, 32); /* a value nobody proposed */
    }
    for (int k = 0; k < w->sent_count[sender][r][t]; k++)
        if (!mn_vote_conflicts(&w->sent[sender][r][t][k], &v))
            return; /* the same vote again: not new information for either side */
    mn_vote_sign(&v, chain, &w->key[sender]);
    w->sent[sender][r][t][w->sent_count[sender][r][t]++] = v;
    m_log(&w->m, t == 0 ? M_PREVOTE : M_PRECOMMIT, sender, r, v.has_value, v.value, 0, true);
    m_process(&w->m);
    mn_err err;
    ASSERT_OK(mn_bft_on_vote(w->core, &v, w->out, &err), &err);
    compare(w, "vote");
}

static void fire_timeout(world *w)
{
    if (w->timer_count == 0)
        return;
    const int k = (int)rnd(w, (uint64_t)w->timer_count);
    const int step = w->timers[k].step;
    const uint32_t round = w->timers[k].round;
    w->timers[k] = w->timers[--w->timer_count];
    if (round >= ROUNDS)
        return; /* the model stops at ROUNDS */
    m_timeout(&w->m, step, round);
    m_process(&w->m);
    mn_bft_on_timeout(w->core, (mn_bft_step)step, 1, round, w->out);
    compare(w, "timeout");
}

static bool run_trace(uint64_t seed, int self)
{
    world *w = calloc(1, sizeof(*w));
    w->out = malloc(sizeof(*w->out));
    w->more = malloc(sizeof(*w->more));
    world_init(w, seed, self);
    m_start_round(&w->m, 0);
    m_process(&w->m);
    mn_bft_start(w->core, w->out);
    compare(w, "start");
    for (int e = 0; e < 120 && !w->m.decided; e++) {
        const uint64_t k = rnd(w, 10);
        if (k < 5)
            send_vote(w);
        else if (k < 7)
            send_proposal(w);
        else
            fire_timeout(w);
    }
    const bool decided = w->m.decided;
    free(w->core);
    free(w->out);
    free(w->more);
    free(w);
    return decided;
}

static void test_core_matches_paper_model(void)
{
    int decided = 0;
    for (uint64_t seed = 1; seed <= 1500; seed++)
        decided += run_trace(seed, (int)(seed % N));
    fprintf(stderr, "  %d of 1500 traces reached a decision\n", decided);
    ASSERT_TRUE(decided > 100); /* the traces do reach line 49, not only the early rules */
}

MN_TEST_MAIN("consensus.model", MN_TEST(test_core_matches_paper_model))
