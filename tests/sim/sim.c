/* SPDX-License-Identifier: Apache-2.0
 *
 * sim.c: the simulator described in sim.h. The world is a priority queue of events ordered by
 * (simulated time, sequence number), so ties never depend on memory addresses; every random
 * choice comes from one ChaCha20 stream keyed by the seed; tables are only looked up, never
 * iterated. Messages travel as their canonical encoding and every receiver decodes them, so
 * the codec is exercised too. Signatures are real; the verification hooks of the core memoise
 * results per distinct (signature, message, key), so each message is verified once per run
 * instead of once per receiver: the answers are exactly mn_verify's and mn_vrf_verify's.
 * Validator sets: states[c] is the set after committing block c, drawn from a stake schedule
 * with its own random stream (so it does not depend on timing); a node's valset_at hook
 * answers only for heights whose snapshot its application has applied, which checks the
 * core's side of the hook contract, and with dynamic stakes the application sometimes lags
 * behind the decisions, so the core also meets heights whose set is not known yet.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/clock.h"
#include "metanode/consensus.h"
#include "metanode/hash.h"
#include "metanode/vrf.h"

#define MS 1000000ull
#define EVENTS_MAX 20000000ull /* a run that needs more is stuck: reported as a failure */
#define TRACE_LEN 48u
#define INVALID_PAYLOAD 0xbd   /* payload[0] of a block the application refuses */

enum { EV_DELIVER, EV_TIMEOUT, EV_VALIDATE, EV_CRASH, EV_RESTART, EV_TICK, EV_SPLIT, EV_JOIN,
       EV_HEAL, EV_STATUS, EV_APPLY };
enum { BZ_SILENT = 1, BZ_EQUIVOCATE = 2, BZ_DOUBLE_VOTE = 4, BZ_INVALID = 8, BZ_BAD_VRF = 16 };

typedef struct msg {
    uint32_t refs;
    uint32_t len;
    uint8_t data[];
} msg;

typedef struct event {
    uint64_t time, seq;
    uint8_t type, step;
    bool ok;
    uint16_t node, from;
    uint32_t inc, round;
    uint64_t height;
    uint8_t id[32];
    msg *m;
} event;

/* Open addressing over 32-byte digests; looked up only, never iterated. */
typedef struct entry {
    uint8_t key[32];
    bool used;
    uint8_t flag;
    uint8_t val[64];
} entry;

typedef struct table {
    entry *slots;
    size_t cap, len;
} table;

typedef struct world world;

#define SPARE_NODES(n) (2u + (n) / 16u) /* nodes outside the genesis set (dynamic stakes) */
#define STAKE_CHANGE_PCT 40u            /* chance of one change per committed block */
#define MIN_MEMBERS 3u                  /* a set keeps at least this many members */

typedef struct node {
    world *w;
    uint32_t idx;
    uint32_t byz;              /* BZ_* mask; 0 for an honest validator */
    mn_bft *core;              /* NULL while crashed */
    uint32_t inc;              /* incarnation: events of an older one are dropped */
    mn_keypair key;
    uint8_t vrf_sk[64];
    bool has_persisted;
    mn_bft_sign_state persisted; /* the durable signing state */
    uint64_t decided;          /* heights decided (durable) */
    uint64_t applied;          /* blocks the application has applied: what valset_at knows */
    uint64_t progress;         /* (height, round, step) at the last tick */
    uint64_t *commit_sent_at;  /* per peer: last catch-up reply time */
} node;

struct world {
    sim_config cfg;
    sim_result *res;
    mn_rng rng;
    char chain_id[32];
    uint32_t n;                         /* nodes: the genesis set, then the spare ones */
    node *nodes;
    mn_bft_valset all;                  /* every node's key: id -> node index */
    mn_bft_member members[MN_VALIDATORS_MAX]; /* keys of node i */
    uint64_t stake[MN_VALIDATORS_MAX];  /* of node i in the latest state */
    mn_rng stake_rng;                   /* the stake schedule's own stream */
    mn_bft_valset **states;             /* states[c]: the set after committing block c */
    uint64_t state_count, state_cap;
    mn_bft_config bcfg;
    event *heap;
    size_t heap_len, heap_cap;
    uint64_t seq, now, events;
    uint32_t drop_pct, dup_pct;
    uint64_t delay_max;
    bool faults_on;
    uint8_t group[MN_VALIDATORS_MAX];
    bool split;
    uint64_t target, deadline;
    uint64_t chain_len, chain_cap;      /* decided blocks: index h - 1 */
    mn_block_header *headers;
    mn_commit_cert **certs;
    uint8_t (*seeds)[32];               /* seeds[h - 1] = seed_h */
    table signed_by, first_seen, vcache, vrfcache;
    mn_bft_actions *out;
    mn_cmsg *rx;
    event trace[TRACE_LEN];
    uint64_t trace_count;
    bool failed;
};

/* ---- small utilities ------------------------------------------------------------------- */

static uint64_t rnd(world *w, uint64_t bound)
{
    return mn_rng_uniform(&w->rng, bound);
}

static bool pct(world *w, uint32_t p)
{
    return rnd(w, 100) < p;
}

/* A table key: plain SHA-256 of a || b (simulator bookkeeping, never hashed by a node). */
static void digest(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
    uint8_t buf[1024];
    MN_ASSERT(alen + blen <= sizeof(buf));
    memcpy(buf, a, alen);
    memcpy(buf + alen, b, blen);
    mn_sha256(out, buf, alen + blen);
}

static void table_free(table *t)
{
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

static entry *table_slot(entry *slots, size_t cap, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, sizeof(h));
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i].used || memcmp(slots[i].key, key, 32) == 0)
            return &slots[i];
}

static entry *table_put(table *t, const uint8_t key[32], bool *fresh)
{
    if (2 * (t->len + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        entry *slots = calloc(cap, sizeof(*slots));
        MN_ASSERT(slots != NULL);
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].used)
                *table_slot(slots, cap, t->slots[i].key) = t->slots[i];
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    entry *e = table_slot(t->slots, t->cap, key);
    *fresh = !e->used;
    if (*fresh) {
        memset(e, 0, sizeof(*e));
        memcpy(e->key, key, 32);
        e->used = true;
        t->len++;
    }
    return e;
}

/* ---- validator sets over heights ---------------------------------------------------------- */

static uint64_t byz_power(const world *w)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < w->n; i++)
        if (w->nodes[i].byz)
            p += w->stake[i];
    return p;
}

/* One step of the schedule on w->stake: a join, a leave, a bond or an unbond, undone when the
 * set would lose its Byzantine bound (3 byz < total) or shrink below MIN_MEMBERS. */
static void stake_change(world *w)
{
    mn_rng *r = &w->stake_rng;
    if (mn_rng_uniform(r, 100) >= STAKE_CHANGE_PCT)
        return;
    const uint32_t i = (uint32_t)mn_rng_uniform(r, w->n);
    const uint64_t old = w->stake[i];
    uint64_t now;
    if (old == 0)
        now = w->cfg.unequal_stakes ? 1 + mn_rng_uniform(r, 100) : 10; /* join */
    else if (!w->cfg.unequal_stakes)
        now = 0; /* leave */
    else
        switch (mn_rng_uniform(r, 3)) {
        case 0: now = 0; break;                                 /* leave */
        case 1: now = old + 1 + mn_rng_uniform(r, 50); break;   /* bond */
        default: now = 1 + mn_rng_uniform(r, old); break;       /* unbond part */
        }
    w->stake[i] = now;
    uint64_t total = 0;
    uint32_t members = 0;
    for (uint32_t k = 0; k < w->n; k++) {
        total += w->stake[k];
        members += w->stake[k] > 0;
    }
    if (members < MIN_MEMBERS || 3 * byz_power(w) >= total)
        w->stake[i] = old;
    else if (now != old)
        w->res->stake_changes++;
}

/* Appends the next state (the genesis set first) from w->stake after one schedule step. */
static void next_state(world *w)
{
    if (w->state_count > 0 && w->cfg.dynamic_stakes)
        stake_change(w);
    mn_bft_member m[MN_VALIDATORS_MAX];
    uint32_t count = 0;
    for (uint32_t i = 0; i < w->n; i++)
        if (w->stake[i] > 0) {
            m[count] = w->members[i];
            m[count++].stake = w->stake[i];
        }
    if (w->state_count == w->state_cap) {
        w->state_cap = w->state_cap ? 2 * w->state_cap : 16;
        w->states = realloc(w->states, w->state_cap * sizeof(*w->states));
        MN_ASSERT(w->states != NULL);
    }
    mn_bft_valset *vs = malloc(sizeof(*vs));
    MN_ASSERT(vs != NULL);
    mn_err err;
    MN_ASSERT(mn_bft_valset_init(vs, m, count, &err) == 0);
    MN_ASSERT(3 * byz_power(w) < vs->set.total_stake); /* at most f by power, every height */
    w->states[w->state_count++] = vs;
}

/* The set of height h: the state after committing block h - MN_STAKE_LOOKBACK (static runs:
 * the genesis set for every height). */
static const mn_bft_valset *set_of(world *w, uint64_t h)
{
    if (!w->cfg.dynamic_stakes)
        return w->states[0];
    const uint64_t c = mn_bft_snapshot_height(h);
    while (w->state_count <= c)
        next_state(w);
    return w->states[c];
}

/* The application's answer: a node knows the sets up to its committed height + look-back. */
static const mn_bft_valset *valset_at(void *ctx, uint64_t height)
{
    node *x = ctx;
    if (mn_bft_snapshot_height(height) > x->applied) {
        x->w->res->unknown_sets++;
        return NULL;
    }
    return set_of(x->w, height);
}

static void fail_msg(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_msg(world *w, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = true;
    w->res->ok = false;
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    snprintf(w->res->failure, sizeof(w->res->failure), "t=%llums %s",
             (unsigned long long)(w->now / MS), detail);
}

/* Every failure message names what broke, then two numbers (validators, heights...). */
#define FAIL(w, fmt, what, a, b)                                                               \
    fail_msg(w, fmt, what, (unsigned long long)(a), (unsigned long long)(b))

/* ---- the event queue ----------------------------------------------------------------------- */

static bool before(const event *a, const event *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static void push(world *w, event ev)
{
    if (w->heap_len == w->heap_cap) {
        w->heap_cap = w->heap_cap ? 2 * w->heap_cap : 4096;
        w->heap = realloc(w->heap, w->heap_cap * sizeof(event));
        MN_ASSERT(w->heap != NULL);
    }
    ev.seq = w->seq++;
    size_t i = w->heap_len++;
    while (i > 0 && before(&ev, &w->heap[(i - 1) / 2])) {
        w->heap[i] = w->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    w->heap[i] = ev;
}

static event pop(world *w)
{
    event top = w->heap[0], last = w->heap[--w->heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= w->heap_len)
            break;
        if (c + 1 < w->heap_len && before(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!before(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (w->heap_len > 0)
        w->heap[i] = last;
    return top;
}

static void at(world *w, uint64_t delay, uint8_t type, uint32_t who, event ev)
{
    ev.time = w->now + delay;
    ev.type = type;
    ev.node = (uint16_t)who;
    push(w, ev);
}

static void msg_unref(msg *m)
{
    if (m != NULL && --m->refs == 0)
        free(m);
}

/* ---- verification caches (the core's hooks) ----------------------------------------------- */

static int cached_verify(void *ctx, const uint8_t sig[64], uint8_t tag, const void *m,
                         size_t len, const uint8_t pk[32])
{
    world *w = ((node *)ctx)->w;
    uint8_t head[97], key[32];
    memcpy(head, sig, 64);
    head[64] = tag;
    memcpy(head + 65, pk, 32);
    digest(key, head, sizeof(head), m, len);
    bool fresh;
    entry *e = table_put(&w->vcache, key, &fresh);
    if (fresh)
        e->flag = mn_verify(sig, tag, m, len, pk) == 0 ? 1 : 2;
    return e->flag == 1 ? 0 : -1;
}

static int cached_vrf(void *ctx, uint8_t beta[64], const uint8_t pk[32], const uint8_t proof[80],
                      const uint8_t *alpha, size_t alpha_len)
{
    world *w = ((node *)ctx)->w;
    uint8_t head[112], key[32];
    memcpy(head, pk, 32);
    memcpy(head + 32, proof, 80);
    digest(key, head, sizeof(head), alpha, alpha_len);
    bool fresh;
    entry *e = table_put(&w->vrfcache, key, &fresh);
    if (fresh)
        e->flag = mn_vrf_verify(e->val, pk, proof, alpha, alpha_len, MN_VRF_SUITE_TAI) == 0 ? 1
                                                                                          : 2;
    if (e->flag != 1)
        return -1;
    memcpy(beta, e->val, 64);
    return 0;
}

static void get_payload(void *ctx, uint64_t height, uint8_t payload[32])
{
    node *x = ctx;
    uint8_t in[12];
    mn_store_u64_be(in, height);
    mn_store_u32_be(in + 8, x->idx);
    mn_sha256(payload, in, sizeof(in));
    payload[0] &= 0x7f; /* never INVALID_PAYLOAD */
    if (x->byz & BZ_INVALID)
        payload[0] = INVALID_PAYLOAD;
}

/* ---- network ------------------------------------------------------------------------------ */

static msg *encode(world *w, const mn_cmsg *m)
{
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, MN_CMSG_BYTES_MAX);
    MN_ASSERT(mn_cmsg_encode(m, &b, &err) == 0);
    msg *out = malloc(sizeof(msg) + b.len);
    MN_ASSERT(out != NULL);
    out->refs = 1; /* the sender's reference, dropped by the caller */
    out->len = (uint32_t)b.len;
    memcpy(out->data, b.data, b.len);
    mn_buf_deinit(&b);
    (void)w;
    return out;
}

/* Puts one copy of m on the wire from -> to, through the faults of the moment. */
static void send_to(world *w, uint32_t from, uint32_t to, msg *m)
{
    if (w->faults_on && ((w->split && w->group[from] != w->group[to]) || pct(w, w->drop_pct))) {
        w->res->faults++;
        return;
    }
    int copies = w->faults_on && pct(w, w->dup_pct) ? 2 : 1;
    w->res->faults += (uint64_t)(copies - 1);
    for (int c = 0; c < copies; c++) {
        event ev = {.from = (uint16_t)from, .m = m};
        m->refs++;
        at(w, MS / 2 + rnd(w, w->delay_max), EV_DELIVER, to, ev);
    }
}

static void broadcast(world *w, uint32_t from, const mn_cmsg *c)
{
    msg *m = encode(w, c);
    for (uint32_t to = 0; to < w->n; to++)
        if (to != from)
            send_to(w, from, to, m);
    msg_unref(m);
}

/* An equivocation: each peer gets a, b, or both (in an order the delays decide). */
static void split_send(world *w, uint32_t from, const mn_cmsg *a, const mn_cmsg *b)
{
    msg *ma = encode(w, a), *mb = encode(w, b);
    for (uint32_t to = 0; to < w->n; to++) {
        if (to == from)
            continue;
        uint64_t r = rnd(w, 4);
        if (r != 1)
            send_to(w, from, to, ma);
        if (r != 0)
            send_to(w, from, to, mb);
    }
    msg_unref(ma);
    msg_unref(mb);
    w->res->equivocations++;
    w->res->faults++;
}

/* What a Byzantine validator does with a message its (honest) core wants to broadcast. */
static void byz_send(world *w, node *x, mn_cmsg *c)
{
    if (x->byz & BZ_SILENT)
        return;
    if (c->kind == MN_CMSG_PROPOSAL) {
        mn_proposal *p = &c->u.proposal;
        if (x->byz & BZ_BAD_VRF) {
            p->header.vrf_proof[33] ^= 0x40; /* c changes: decodes, never verifies */
            mn_proposal_sign(p, w->chain_id, &x->key);
        }
        if (x->byz & BZ_EQUIVOCATE) {
            mn_cmsg d = *c;
            d.u.proposal.header.payload[31] ^= 0x5a;
            mn_proposal_sign(&d.u.proposal, w->chain_id, &x->key);
            split_send(w, x->idx, c, &d);
            return;
        }
    } else if (c->kind == MN_CMSG_VOTE && (x->byz & BZ_DOUBLE_VOTE)) {
        mn_cmsg d = *c;
        mn_vote *v = &d.u.vote;
        v->has_value = !v->has_value;
        memset(v->value, 0, 32);
        if (v->has_value)
            w->rng.fill(&w->rng, v->value, 32);
        mn_vote_sign(v, w->chain_id, &x->key);
        split_send(w, x->idx, c, &d);
        return;
    }
    broadcast(w, x->idx, c);
}

/* ---- oracles ------------------------------------------------------------------------------- */

static uint32_t signer_of(const world *w, const mn_cmsg *c)
{
    const uint8_t *id = c->kind == MN_CMSG_PROPOSAL ? c->u.proposal.signer : c->u.vote.signer;
    int idx = mn_bft_valset_find(&w->all, id);
    MN_ASSERT(idx >= 0); /* the core accepted or produced it */
    return (uint32_t)idx;
}

/* No honest validator signs two different messages for one (height, round, step). Checked on
 * everything an honest validator sends, its own messages and relayed ones (proofs of lock). */
static void check_signed(world *w, const mn_cmsg *c)
{
    node *x = &w->nodes[signer_of(w, c)];
    uint8_t kmat[21], key[32], val[32];
    uint64_t h = c->kind == MN_CMSG_PROPOSAL ? c->u.proposal.height : c->u.vote.height;
    const uint8_t *id = c->kind == MN_CMSG_PROPOSAL ? c->u.proposal.signer : c->u.vote.signer;
    if (mn_bft_valset_find(set_of(w, h), id) < 0) /* only members of h's set sign at h */
        FAIL(w, "%s: node %llu signed at height %llu outside its set", "membership", x->idx, h);
    if (x->byz)
        return;
    uint32_t r = c->kind == MN_CMSG_PROPOSAL ? c->u.proposal.round : c->u.vote.round;
    mn_store_u64_be(kmat, h);
    mn_store_u32_be(kmat + 8, r);
    mn_store_u32_be(kmat + 12, x->idx);
    kmat[16] = c->kind == MN_CMSG_PROPOSAL ? 0 : (uint8_t)c->u.vote.type;
    memset(kmat + 17, 0, 4);
    if (c->kind == MN_CMSG_PROPOSAL) {
        uint8_t body[40];
        mn_block_id(body, &c->u.proposal.header);
        mn_store_u64_be(body + 32, (uint64_t)c->u.proposal.pol_round);
        mn_sha256(val, body, sizeof(body));
    } else {
        uint8_t body[33];
        body[0] = c->u.vote.has_value;
        memcpy(body + 1, c->u.vote.value, 32);
        mn_sha256(val, body, sizeof(body));
    }
    digest(key, "signed", 6, kmat, sizeof(kmat));
    bool fresh;
    entry *e = table_put(&w->signed_by, key, &fresh);
    if (fresh)
        memcpy(e->val, val, 32);
    else if (memcmp(e->val, val, 32) != 0)
        FAIL(w, "%s: validator %llu signed twice at height %llu", "double sign", x->idx, h);
}

/* Key of "what receiver x (this incarnation) first saw from signer s for (h, r, kind)". */
static void seen_key(uint8_t key[32], const node *x, const mn_cmsg *c, uint32_t signer,
                     uint8_t val[32])
{
    uint8_t kmat[29];
    const bool prop = c->kind == MN_CMSG_PROPOSAL;
    mn_store_u64_be(kmat, prop ? c->u.proposal.height : c->u.vote.height);
    mn_store_u32_be(kmat + 8, prop ? c->u.proposal.round : c->u.vote.round);
    mn_store_u32_be(kmat + 12, signer);
    mn_store_u32_be(kmat + 16, x->idx);
    mn_store_u32_be(kmat + 20, x->inc);
    kmat[24] = prop ? 0 : (uint8_t)c->u.vote.type;
    memset(kmat + 25, 0, 4);
    digest(key, "seen", 4, kmat, sizeof(kmat));
    if (prop) {
        uint8_t body[40];
        mn_block_id(body, &c->u.proposal.header);
        mn_store_u64_be(body + 32, (uint64_t)c->u.proposal.pol_round);
        mn_sha256(val, body, sizeof(body));
    } else {
        uint8_t body[33] = {c->u.vote.has_value};
        memcpy(body + 1, c->u.vote.value, 32);
        mn_sha256(val, body, sizeof(body));
    }
}

/* The generation of the core's slot for a round (0: no slot). A slot evicted and taken again
 * has forgotten its votes, so what it saw before is not owed evidence. */
static uint64_t slot_generation(const mn_bft *b, uint32_t round)
{
    for (uint32_t i = 0; i < MN_BFT_ROUND_SLOTS; i++)
        if (b->rounds[i].used && b->rounds[i].round == round)
            return b->rounds[i].generation;
    return 0;
}

/* After an honest x handled a message from a Byzantine signer at x's height: the first
 * version is remembered; a different second one must have produced evidence, unless the
 * round's slot was recycled in between (the round window of limits.h). */
static void check_evidence(world *w, node *x, const mn_cmsg *c, uint32_t signer)
{
    uint8_t key[32], val[32];
    seen_key(key, x, c, signer, val);
    const uint32_t round = c->kind == MN_CMSG_PROPOSAL ? c->u.proposal.round : c->u.vote.round;
    const uint64_t gen = slot_generation(x->core, round);
    if (gen == 0)
        return; /* outside the core's round window: nothing was kept, nothing is owed */
    bool fresh, evidence = false;
    for (uint32_t i = 0; i < w->out->count; i++)
        evidence |= w->out->items[i].kind == MN_ACT_EVIDENCE;
    entry *e = table_put(&w->first_seen, key, &fresh);
    uint8_t g[8];
    mn_store_u64_be(g, gen);
    if (fresh || memcmp(e->val + 32, g, 8) != 0) {
        memcpy(e->val, val, 32);
        memcpy(e->val + 32, g, 8);
        e->flag = evidence; /* the core may hold a vote we did not see (a restored POL) */
        return;
    }
    if (memcmp(e->val, val, 32) == 0 || e->flag)
        return;
    e->flag = evidence;
    if (!e->flag)
        FAIL(w, "%s: validator %llu missed the equivocation of %llu", "evidence", x->idx,
             signer);
}

/* ---- decisions ------------------------------------------------------------------------------ */

static void chain_append(world *w, const mn_block_header *h, const mn_commit_cert *c)
{
    if (w->chain_len + 2 > w->chain_cap) {
        w->chain_cap = w->chain_cap ? 2 * w->chain_cap : 64;
        w->headers = realloc(w->headers, w->chain_cap * sizeof(*w->headers));
        w->certs = realloc(w->certs, w->chain_cap * sizeof(*w->certs));
        w->seeds = realloc(w->seeds, w->chain_cap * sizeof(*w->seeds));
        MN_ASSERT(w->headers && w->certs && w->seeds);
    }
    w->headers[w->chain_len] = *h;
    w->certs[w->chain_len] = malloc(sizeof(mn_commit_cert));
    MN_ASSERT(w->certs[w->chain_len] != NULL);
    *w->certs[w->chain_len] = *c;
    uint8_t beta[64];
    MN_ASSERT(mn_vrf_proof_to_hash(beta, h->vrf_proof, MN_VRF_SUITE_TAI) == 0);
    mn_leader_next_seed(w->seeds[w->chain_len + 1], beta);
    w->chain_len++;
}

/* Agreement and validity, checked at every decision of an honest validator. */
static void on_decide(world *w, node *x, const mn_block_header *h, const mn_commit_cert *c)
{
    if (h->height != x->decided + 1) {
        FAIL(w, "%s: height %llu after %llu", "decision out of order", h->height, x->decided);
        return;
    }
    x->decided = h->height;
    /* With dynamic stakes the application sometimes applies a block up to 30 ms after its
     * decision, so the core may reach a height whose set it does not know yet. */
    if (w->cfg.dynamic_stakes && pct(w, 25)) {
        event ev = {.inc = x->inc, .height = h->height};
        at(w, rnd(w, 30 * MS), EV_APPLY, x->idx, ev);
    } else if (h->height > x->applied) {
        x->applied = h->height;
    }
    if (x->byz)
        return;
    uint8_t id[32], gid[32];
    mn_block_id(id, h);
    if (h->height <= w->chain_len) {
        mn_block_id(gid, &w->headers[h->height - 1]);
        if (memcmp(id, gid, 32) != 0)
            FAIL(w, "%s: validator %llu decided another block at height %llu", "agreement",
                 x->idx, h->height);
        return;
    }
    MN_ASSERT(h->height == w->chain_len + 1);
    mn_err err;
    mn_bft_hooks hooks = w->bcfg.hooks;
    hooks.ctx = x;
    if (h->payload[0] == INVALID_PAYLOAD)
        FAIL(w, "%s: invalid block decided by %llu at height %llu", "validity", x->idx,
             h->height);
    else if (mn_bft_verify_commit(set_of(w, h->height), w->chain_id, h, c, &hooks, &err) != 0)
        FAIL(w, "%s: certificate of %llu at height %llu does not verify", "certificate",
             x->idx, h->height);
    chain_append(w, h, c);
}

/* ---- running a node's actions ------------------------------------------------------------- */

static void crash(world *w, node *x);

static void run_actions(world *w, node *x)
{
    mn_bft_actions *out = w->out;
    for (uint32_t i = 0; i < out->count && !w->failed; i++) {
        mn_bft_action *a = &out->items[i];
        event ev = {.inc = x->inc};
        switch (a->kind) {
        case MN_ACT_PERSIST:
            if (!x->byz && w->faults_on && pct(w, 1) && rnd(w, 4) == 0) {
                if (rnd(w, 2) == 0) { /* the write completes, the send does not */
                    x->persisted = *a->u.persist;
                    x->has_persisted = true;
                }
                crash(w, x); /* otherwise the write being synced is lost */
                return;
            }
            x->persisted = *a->u.persist;
            x->has_persisted = true;
            break;
        case MN_ACT_BROADCAST: {
            mn_cmsg c = {.kind = a->u.msg.kind};
            if (c.kind == MN_CMSG_PROPOSAL)
                c.u.proposal = a->u.msg.proposal;
            else
                c.u.vote = a->u.msg.vote;
            if (x->byz) {
                byz_send(w, x, &c);
            } else {
                check_signed(w, &c);
                broadcast(w, x->idx, &c);
            }
            break;
        }
        case MN_ACT_TIMEOUT:
            ev.step = (uint8_t)a->u.timeout.step;
            ev.height = a->u.timeout.height;
            ev.round = a->u.timeout.round;
            at(w, a->u.timeout.delay_ns, EV_TIMEOUT, x->idx, ev);
            break;
        case MN_ACT_VALIDATE:
            mn_block_id(ev.id, &a->u.validate);
            ev.ok = a->u.validate.payload[0] != INVALID_PAYLOAD;
            at(w, rnd(w, 2 * MS), EV_VALIDATE, x->idx, ev);
            break;
        case MN_ACT_DECIDE:
            on_decide(w, x, a->u.decide.header, a->u.decide.cert);
            break;
        case MN_ACT_EVIDENCE:
            if (!x->byz)
                w->res->evidence++;
            break;
        }
    }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void crash(world *w, node *x)
{
    MN_ASSERT(x->core != NULL);
    mn_bft_deinit(x->core);
    free(x->core);
    x->core = NULL;
    x->inc++;
    w->res->faults++;
    event ev = {0};
    at(w, w->faults_on ? 10 * MS + rnd(w, 300 * MS) : MS, EV_RESTART, x->idx, ev);
}

static void restart(world *w, node *x)
{
    if (x->core != NULL)
        return;
    mn_bft_chain ch = {.height = x->decided + 1};
    x->applied = x->decided; /* the application re-applies its stored blocks */
    MN_ASSERT(x->decided <= w->chain_len || x->byz);
    if (x->decided > w->chain_len)
        return;
    memcpy(ch.seed, w->seeds[x->decided], 32);
    if (x->decided > 0)
        mn_block_id(ch.parent, &w->headers[x->decided - 1]);
    x->core = calloc(1, sizeof(mn_bft));
    MN_ASSERT(x->core != NULL);
    mn_err err;
    mn_bft_config cfg = w->bcfg;
    cfg.hooks.ctx = x; /* valset_at is called inside mn_bft_init */
    if (mn_bft_init(x->core, &cfg, &x->key, x->vrf_sk, &ch,
                    x->has_persisted ? &x->persisted : NULL, &err) != 0) {
        FAIL(w, "%s: validator %llu cannot restart (%llu)", err.msg, x->idx, 0);
        return;
    }
    mn_bft_start(x->core, w->out);
    run_actions(w, x);
}

/* ---- events ------------------------------------------------------------------------------- */

/* A node behind us sent a message of height h: hand it the decided block and certificate. */
static void catch_up(world *w, node *x, uint32_t to, uint64_t h)
{
    if (h == 0 || h > x->decided || h > w->chain_len)
        return;
    if (x->commit_sent_at[to] != 0 && w->now - x->commit_sent_at[to] < 20 * MS)
        return;
    x->commit_sent_at[to] = w->now;
    mn_cmsg *c = calloc(1, sizeof(*c));
    MN_ASSERT(c != NULL);
    c->kind = MN_CMSG_COMMIT;
    c->u.commit.header = w->headers[h - 1];
    c->u.commit.cert = *w->certs[h - 1];
    msg *m = encode(w, c);
    send_to(w, x->idx, to, m);
    msg_unref(m);
    free(c);
}

static int hand_to_core(world *w, node *x, const mn_cmsg *c, uint64_t *height, mn_err *err)
{
    switch (c->kind) {
    case MN_CMSG_PROPOSAL:
        *height = c->u.proposal.height;
        return mn_bft_on_proposal(x->core, &c->u.proposal, w->out, err);
    case MN_CMSG_VOTE:
        *height = c->u.vote.height;
        return mn_bft_on_vote(x->core, &c->u.vote, w->out, err);
    case MN_CMSG_COMMIT:
        *height = c->u.commit.header.height;
        return mn_bft_on_commit(x->core, &c->u.commit.header, &c->u.commit.cert, w->out, err);
    default:
        return mn_err_set(err, MN_ECORRUPT, 0, "unexpected message kind %d", (int)c->kind);
    }
}

static void deliver(world *w, const event *ev)
{
    node *x = &w->nodes[ev->node];
    if (x->core == NULL)
        return;
    w->res->deliveries++;
    mn_err err;
    if (mn_cmsg_decode(ev->m->data, ev->m->len, w->rx, &err) != 0) {
        FAIL(w, "%s (from %llu to %llu)", err.msg, ev->from, ev->node);
        return;
    }
    const mn_cmsg *c = w->rx;
    const uint64_t was = x->core->height;
    uint64_t h = 0;
    if (hand_to_core(w, x, c, &h, &err) != 0) {
        FAIL(w, "core refused a signed message: %s (from %llu to %llu)", err.msg, ev->from,
             ev->node);
        return;
    }
    if (!x->byz && c->kind != MN_CMSG_COMMIT && h == was && w->nodes[signer_of(w, c)].byz)
        check_evidence(w, x, c, signer_of(w, c));
    run_actions(w, x);
    if (!x->byz && c->kind != MN_CMSG_COMMIT && h < was)
        catch_up(w, x, ev->from, h);
}

static uint64_t progress_of(const mn_bft *b)
{
    return b->height << 24 ^ (uint64_t)b->round << 4 ^ (uint64_t)b->step;
}

static void tick(world *w, node *x)
{
    event ev = {0};
    at(w, 100 * MS, EV_TICK, x->idx, ev);
    if (x->core == NULL)
        return;
    const uint64_t p = progress_of(x->core);
    if (p == x->progress && !x->byz) { /* stuck: retransmit, and tell a peer our height */
        mn_bft_rebroadcast(x->core, w->out);
        run_actions(w, x);
        const uint32_t to = (uint32_t)rnd(w, w->n);
        if (to != x->idx && x->core != NULL && !(w->faults_on && pct(w, w->drop_pct))) {
            event st = {.from = (uint16_t)x->idx, .height = x->core->height};
            at(w, MS / 2 + rnd(w, w->delay_max), EV_STATUS, to, st);
        }
    }
    x->progress = p;
}

static void heal(world *w)
{
    w->faults_on = false;
    w->split = false;
    uint64_t best = 0;
    for (uint32_t i = 0; i < w->n; i++) {
        node *x = &w->nodes[i];
        if (x->core == NULL)
            restart(w, x);
        if (!x->byz && x->decided > best)
            best = x->decided;
    }
    w->target = best + 3;
    w->deadline = w->now + 60000 * MS;
}

static void dispatch(world *w, const event *ev)
{
    node *x = &w->nodes[ev->node];
    const bool live = x->core != NULL && ev->inc == x->inc;
    switch (ev->type) {
    case EV_DELIVER:
        deliver(w, ev);
        break;
    case EV_TIMEOUT:
        if (live) {
            mn_bft_on_timeout(x->core, (mn_bft_step)ev->step, ev->height, ev->round, w->out);
            run_actions(w, x);
        }
        break;
    case EV_VALIDATE:
        if (live) {
            mn_bft_on_validated(x->core, ev->id, ev->ok, w->out);
            run_actions(w, x);
        }
        break;
    case EV_CRASH:
        if (x->core != NULL && !x->byz && w->faults_on)
            crash(w, x);
        break;
    case EV_RESTART:
        restart(w, x);
        break;
    case EV_TICK:
        tick(w, x);
        break;
    case EV_SPLIT:
        if (w->faults_on) {
            for (uint32_t i = 0; i < w->n; i++)
                w->group[i] = (uint8_t)rnd(w, 2);
            w->split = true;
            w->res->faults++;
            at(w, 50 * MS + rnd(w, 400 * MS), EV_JOIN, 0, (event){0});
        }
        break;
    case EV_JOIN:
        w->split = false;
        break;
    case EV_HEAL:
        heal(w);
        break;
    case EV_APPLY:
        if (ev->inc == x->inc && ev->height > x->applied)
            x->applied = ev->height;
        break;
    case EV_STATUS: /* the relay's status exchange: a peer behind us gets the next commit */
        if (x->core != NULL && !x->byz)
            catch_up(w, x, ev->from, ev->height);
        break;
    }
}

/* ---- setup and the run ---------------------------------------------------------------------- */

/* The genesis validators' keys and stakes, then (dynamic stakes) the spare nodes' keys. Node
 * i is member i of w->all (every key sorted by id); a static run's nodes are its genesis set
 * in set order, as before stake changes existed (same draws, same runs). */
static void make_validators(world *w)
{
    mn_bft_member m[MN_VALIDATORS_MAX];
    mn_keypair keys[MN_VALIDATORS_MAX];
    static uint8_t vrf_sk[MN_VALIDATORS_MAX][64];
    const uint32_t genesis = w->cfg.validators;
    for (uint32_t i = 0; i < w->n; i++) {
        uint8_t seed[32];
        w->rng.fill(&w->rng, seed, sizeof(seed));
        mn_keypair_from_seed(&keys[i], seed);
        w->rng.fill(&w->rng, seed, sizeof(seed));
        MN_ASSERT(mn_vrf_keypair_from_seed(m[i].vrf_pk, vrf_sk[i], seed) == 0);
        memcpy(m[i].pk, keys[i].pk, 32);
        m[i].stake = i >= genesis ? 0 : w->cfg.unequal_stakes ? 1 + rnd(w, 100) : 10;
    }
    mn_bft_member ids[MN_VALIDATORS_MAX];
    for (uint32_t i = 0; i < w->n; i++) {
        ids[i] = m[i];
        ids[i].stake = m[i].stake ? m[i].stake : 1; /* w->all only maps ids to nodes */
    }
    mn_err err;
    MN_ASSERT(mn_bft_valset_init(&w->all, ids, w->n, &err) == 0);
    w->nodes = calloc(w->n, sizeof(node));
    MN_ASSERT(w->nodes != NULL);
    for (uint32_t i = 0; i < w->n; i++) {
        uint8_t id[32];
        mn_node_id(id, keys[i].pk);
        const int k = mn_bft_valset_find(&w->all, id);
        node *x = &w->nodes[k];
        x->key = keys[i];
        memcpy(x->vrf_sk, vrf_sk[i], 64);
        w->members[k] = m[i];
        w->stake[k] = m[i].stake;
    }
    for (uint32_t i = 0; i < w->n; i++) {
        w->nodes[i].w = w;
        w->nodes[i].idx = i;
        w->nodes[i].commit_sent_at = calloc(w->n, sizeof(uint64_t));
        MN_ASSERT(w->nodes[i].commit_sent_at != NULL);
    }
}

/* Up to f by power in the genesis set: a random subset whose stake stays strictly below a
 * third of the total (the stake schedule keeps it so at every height). */
static void make_byzantine(world *w)
{
    if (!pct(w, 70))
        return;
    const mn_bft_valset *g = w->states[0];
    uint64_t power = 0;
    const uint64_t total = g->set.total_stake;
    for (uint32_t k = 0; k < g->set.count; k++) {
        const uint32_t i = (uint32_t)rnd(w, g->set.count);
        node *x = &w->nodes[mn_bft_valset_find(&w->all, g->set.members[i].id)];
        const uint64_t stake = g->set.members[i].stake;
        if (x->byz || 3 * (power + stake) >= total)
            continue;
        power += stake;
        /* silent, or a non-empty mix of EQUIVOCATE, DOUBLE_VOTE, INVALID and BAD_VRF */
        x->byz = rnd(w, 5) == 0 ? BZ_SILENT : (uint32_t)(1 + rnd(w, 15)) << 1;
        w->res->byzantine++;
    }
}

static void schedule_faults(world *w)
{
    const uint64_t fault_ms = 500 + rnd(w, 1000);
    w->drop_pct = (uint32_t)rnd(w, 31);
    w->dup_pct = (uint32_t)rnd(w, 11);
    w->delay_max = (2 + rnd(w, 19)) * MS;
    w->faults_on = true;
    for (uint32_t i = 0; i < w->n; i++) {
        at(w, rnd(w, 5 * MS), EV_RESTART, i, (event){0});
        at(w, 50 * MS + rnd(w, 10 * MS), EV_TICK, i, (event){0});
    }
    for (uint64_t k = rnd(w, 4); k > 0; k--)
        at(w, rnd(w, fault_ms * MS), EV_CRASH, (uint32_t)rnd(w, w->n), (event){0});
    for (uint64_t k = rnd(w, 3); k > 0; k--)
        at(w, rnd(w, fault_ms * MS), EV_SPLIT, 0, (event){0});
    at(w, fault_ms * MS, EV_HEAL, 0, (event){0});
}

static void setup(world *w, const sim_config *cfg, sim_result *res)
{
    w->cfg = *cfg;
    w->res = res;
    memset(res, 0, sizeof(*res));
    res->ok = true;
    uint8_t seed[32] = {0};
    mn_store_u64_be(seed, cfg->seed);
    mn_store_u32_be(seed + 8, cfg->validators);
    seed[12] = cfg->unequal_stakes;
    mn_rng_seeded_init(&w->rng, seed);
    snprintf(w->chain_id, sizeof(w->chain_id), "sim-%llu", (unsigned long long)cfg->seed);
    MN_ASSERT(cfg->validators >= 1 && cfg->validators <= MN_VALIDATORS_MAX);
    w->n = cfg->validators;
    if (cfg->dynamic_stakes) {
        w->n += SPARE_NODES(cfg->validators);
        if (w->n > MN_VALIDATORS_MAX)
            w->n = MN_VALIDATORS_MAX;
        seed[13] = 's'; /* the stake schedule's stream, apart from the world's */
        mn_rng_seeded_init(&w->stake_rng, seed);
    }
    make_validators(w);
    next_state(w); /* states[0]: the genesis set */
    w->bcfg = (mn_bft_config){
        .chain_id = w->chain_id,
        .timeouts = {40 * MS, 5 * MS, 10 * MS, 5 * MS, 10 * MS, 5 * MS, 1 * MS},
        .hooks = {.get_payload = get_payload, .verify = cached_verify, .vrf_verify = cached_vrf,
                  .valset_at = valset_at}};
    make_byzantine(w);
    w->chain_cap = 64;
    w->headers = malloc(w->chain_cap * sizeof(*w->headers));
    w->certs = malloc(w->chain_cap * sizeof(*w->certs));
    w->seeds = malloc(w->chain_cap * sizeof(*w->seeds));
    w->out = malloc(sizeof(*w->out));
    w->rx = malloc(sizeof(*w->rx));
    MN_ASSERT(w->headers && w->certs && w->seeds && w->out && w->rx);
    mn_leader_genesis_seed(w->seeds[0], w->chain_id);
    schedule_faults(w);
}

static uint64_t min_honest(const world *w)
{
    uint64_t m = UINT64_MAX;
    for (uint32_t i = 0; i < w->n; i++)
        if (!w->nodes[i].byz && w->nodes[i].decided < m)
            m = w->nodes[i].decided;
    return m;
}

static void print_trace(const world *w)
{
    static const char *names[] = {"deliver", "timeout", "validate", "crash", "restart",
                                  "tick", "split", "join", "heal", "status", "apply"};
    fprintf(stderr, "sim: FAILED seed=%llu validators=%u unequal=%d dynamic=%d: %s\n",
            (unsigned long long)w->cfg.seed, w->cfg.validators, (int)w->cfg.unequal_stakes,
            (int)w->cfg.dynamic_stakes, w->res->failure);
    for (uint32_t i = 0; i < w->n; i++)
    {
        const mn_bft *b = w->nodes[i].core;
        fprintf(stderr, "  node %u: stake %llu (latest state) byz 0x%x decided %llu", i,
                (unsigned long long)w->stake[i], w->nodes[i].byz,
                (unsigned long long)w->nodes[i].decided);
        if (b == NULL)
            fprintf(stderr, " (down)\n");
        else
            fprintf(stderr, " at h=%llu r=%u step=%d locked=%lld valid=%lld\n",
                    (unsigned long long)b->height, b->round, (int)b->step,
                    (long long)b->locked_round, (long long)b->valid_round);
    }
    uint64_t n = w->trace_count < TRACE_LEN ? w->trace_count : TRACE_LEN;
    for (uint64_t k = w->trace_count - n; k < w->trace_count; k++) {
        const event *e = &w->trace[k % TRACE_LEN];
        fprintf(stderr, "  t=%lluus %-8s node %u from %u h=%llu r=%u\n",
                (unsigned long long)(e->time / 1000), names[e->type], e->node, e->from,
                (unsigned long long)e->height, e->round);
    }
    fprintf(stderr, "  reproduce: test_sim_consensus --seed %llu --validators %u%s%s\n",
            (unsigned long long)w->cfg.seed, w->cfg.validators,
            w->cfg.unequal_stakes ? " --unequal" : "", w->cfg.dynamic_stakes ? " --dynamic" : "");
}

static void teardown(world *w)
{
    for (uint32_t i = 0; i < w->n; i++) {
        node *x = &w->nodes[i];
        if (x->core != NULL) {
            if (!x->byz)
                w->res->rounds += x->core->stat_rounds_started;
            mn_bft_deinit(x->core);
            free(x->core);
        }
        free(x->commit_sent_at);
    }
    while (w->heap_len > 0) {
        event ev = pop(w);
        msg_unref(ev.m);
    }
    for (uint64_t h = 0; h < w->chain_len; h++)
        free(w->certs[h]);
    for (uint64_t c = 0; c < w->state_count; c++)
        free(w->states[c]);
    free(w->states);
    free(w->heap);
    free(w->nodes);
    free(w->headers);
    free(w->certs);
    free(w->seeds);
    free(w->out);
    free(w->rx);
    table_free(&w->signed_by);
    table_free(&w->first_seen);
    table_free(&w->vcache);
    table_free(&w->vrfcache);
}

void sim_run(const sim_config *cfg, sim_result *res)
{
    world *w = calloc(1, sizeof(*w));
    MN_ASSERT(w != NULL);
    setup(w, cfg, res);
    while (!w->failed && w->heap_len > 0) {
        event ev = pop(w);
        w->now = ev.time;
        w->trace[w->trace_count++ % TRACE_LEN] = ev;
        if (++w->events > EVENTS_MAX)
            FAIL(w, "%s: more than %llu events (%llu)", "stuck", EVENTS_MAX, 0);
        else if (w->deadline != 0 && w->now > w->deadline)
            FAIL(w, "%s: honest validators at %llu, target %llu", "liveness", min_honest(w),
                 w->target);
        else
            dispatch(w, &ev);
        msg_unref(ev.m);
        if (w->target != 0 && min_honest(w) >= w->target)
            break;
    }
    res->heights = min_honest(w);
    res->sim_ms = w->now / MS;
    if (w->failed)
        print_trace(w);
    teardown(w);
    free(w);
}
