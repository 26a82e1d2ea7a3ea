/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_consensus.c: the ceiling of the consensus core before any networking. A cluster of 4
 * or 31 validators runs in one thread over a zero-delay, loss-free network (each validator has
 * an inbox; a message of a later height waits there until the validator gets to that height),
 * with real Ed25519 signatures and VRF proofs, no verification cache and no codec. One
 * operation = one height decided by every validator. Reported: heights per second for the
 * whole cluster on one core, each case's ratio to one Ed25519 verification (the baseline,
 * measured in the same run), and CPU per height split into Ed25519 verification, VRF
 * verification and the rest (rule evaluation, signing, VRF proving, bookkeeping). The set
 * reaches the cores through the valset_at hook, as a node's per-height sets will (here the
 * same set answers every height: stake changes cost one lookup per height).
 * Run: build/release/bench/bench_consensus (or build/dev/...; taskset -c 1 for steadier runs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "metanode/consensus.h"

#define NODES_MAX 31

#define KIND_COMMIT_TIMEOUT 0xff

typedef struct entry {
    uint8_t kind; /* MN_CMSG_PROPOSAL, MN_CMSG_VOTE, 0: "validated", or KIND_COMMIT_TIMEOUT */
    uint64_t height;
    mn_proposal proposal;
    mn_vote vote;
    uint8_t id[32];
} entry;

typedef struct inbox {
    entry *items;
    size_t len, cap;
} inbox;

typedef struct cluster {
    uint32_t n;
    mn_bft_valset vs;
    mn_bft_config cfg;
    mn_keypair keys[NODES_MAX];
    uint8_t vrf_sk[NODES_MAX][64];
    mn_bft *cores[NODES_MAX];
    inbox in[NODES_MAX];
    mn_bft_actions *out;
    uint64_t verify_ns, vrf_ns, verify_calls, vrf_calls;
} cluster;

static cluster *timing; /* the cluster being timed: the verification counters live here */

static int timed_verify(void *ctx, const uint8_t sig[64], uint8_t tag, const void *msg,
                        size_t len, const uint8_t pk[32])
{
    (void)ctx;
    const uint64_t t0 = bench_now_ns();
    int rc = mn_verify(sig, tag, msg, len, pk);
    timing->verify_ns += bench_now_ns() - t0;
    timing->verify_calls++;
    return rc;
}

static int timed_vrf(void *ctx, uint8_t beta[64], const uint8_t pk[32], const uint8_t proof[80],
                     const uint8_t *alpha, size_t alpha_len)
{
    (void)ctx;
    const uint64_t t0 = bench_now_ns();
    int rc = mn_vrf_verify(beta, pk, proof, alpha, alpha_len, MN_VRF_SUITE_TAI);
    timing->vrf_ns += bench_now_ns() - t0;
    timing->vrf_calls++;
    return rc;
}

static const mn_bft_valset *valset_at(void *ctx, uint64_t height)
{
    (void)height;
    return &((cluster *)ctx)->vs;
}

static void payload(void *ctx, uint64_t height, uint8_t out[32])
{
    (void)ctx;
    memset(out, 0, 32);
    mn_store_u64_be(out, height);
}

static void push(inbox *q, const entry *e)
{
    if (q->len == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 64;
        q->items = realloc(q->items, q->cap * sizeof(entry));
        if (q->items == NULL)
            abort();
    }
    q->items[q->len++] = *e;
}

static void run_actions(cluster *c, uint32_t from)
{
    const mn_bft_actions *out = c->out;
    for (uint32_t i = 0; i < out->count; i++) {
        const mn_bft_action *a = &out->items[i];
        entry e;
        memset(&e, 0, sizeof(e));
        if (a->kind == MN_ACT_VALIDATE) {
            mn_block_id(e.id, &a->u.validate);
            push(&c->in[from], &e);
        } else if (a->kind == MN_ACT_TIMEOUT && a->u.timeout.step == MN_STEP_COMMIT) {
            e.kind = KIND_COMMIT_TIMEOUT; /* the next height starts at once (commit_ns 0) */
            e.height = a->u.timeout.height;
            push(&c->in[from], &e);
        } else if (a->kind == MN_ACT_BROADCAST) {
            e.kind = (uint8_t)a->u.msg.kind;
            e.proposal = a->u.msg.proposal;
            e.vote = a->u.msg.vote;
            e.height = e.kind == MN_CMSG_PROPOSAL ? e.proposal.height : e.vote.height;
            for (uint32_t to = 0; to < c->n; to++)
                if (to != from)
                    push(&c->in[to], &e);
        }
    }
}

/* Delivers node i's first message it can use now; false if it has none. */
static bool step(cluster *c, uint32_t i)
{
    inbox *q = &c->in[i];
    mn_bft *b = c->cores[i];
    for (size_t k = 0; k < q->len; k++) {
        if (q->items[k].kind != 0 && q->items[k].kind != KIND_COMMIT_TIMEOUT &&
            q->items[k].height > b->height)
            continue;
        entry e = q->items[k];
        memmove(&q->items[k], &q->items[k + 1], (q->len - k - 1) * sizeof(entry));
        q->len--;
        mn_err err;
        int rc = 0;
        if (e.kind == 0)
            mn_bft_on_validated(b, e.id, true, c->out);
        else if (e.kind == KIND_COMMIT_TIMEOUT)
            mn_bft_on_timeout(b, MN_STEP_COMMIT, e.height, 0, c->out);
        else if (e.kind == MN_CMSG_PROPOSAL)
            rc = mn_bft_on_proposal(b, &e.proposal, c->out, &err);
        else
            rc = mn_bft_on_vote(b, &e.vote, c->out, &err);
        if (rc != 0) {
            fprintf(stderr, "bench_consensus: %s\n", err.msg);
            abort();
        }
        run_actions(c, i);
        return true;
    }
    return false;
}

static cluster *cluster_new(uint32_t n)
{
    cluster *c = calloc(1, sizeof(*c));
    c->n = n;
    mn_bft_member m[NODES_MAX];
    mn_keypair keys[NODES_MAX];
    uint8_t vsk[NODES_MAX][64];
    for (uint32_t i = 0; i < n; i++) {
        uint8_t seed[32];
        memset(seed, (int)(i + 1), sizeof(seed));
        mn_keypair_from_seed(&keys[i], seed);
        seed[0] ^= 0x80;
        if (mn_vrf_keypair_from_seed(m[i].vrf_pk, vsk[i], seed) != 0)
            abort();
        memcpy(m[i].pk, keys[i].pk, 32);
        m[i].stake = 10;
    }
    mn_err err;
    if (mn_bft_valset_init(&c->vs, m, n, &err) != 0)
        abort();
    c->cfg = (mn_bft_config){.chain_id = "bench",
                             .timeouts = {40000000, 1000000, 10000000, 1000000, 10000000,
                                          1000000, 0},
                             .hooks = {.ctx = c, .get_payload = payload, .verify = timed_verify,
                                       .vrf_verify = timed_vrf, .valset_at = valset_at}};
    c->out = malloc(sizeof(*c->out));
    mn_bft_chain ch = {.height = 1};
    mn_leader_genesis_seed(ch.seed, "bench");
    for (uint32_t i = 0; i < n; i++) {
        uint8_t id[32];
        mn_node_id(id, keys[i].pk);
        const int k = mn_bft_valset_find(&c->vs, id);
        c->cores[k] = calloc(1, sizeof(mn_bft));
        if (mn_bft_init(c->cores[k], &c->cfg, &keys[i], vsk[i], &ch, NULL, &err) != 0)
            abort();
    }
    for (uint32_t i = 0; i < n; i++) { /* start only after every core exists */
        mn_bft_start(c->cores[i], c->out);
        run_actions(c, i);
    }
    return c;
}

/* One operation: every validator decides one more height. */
static void decide_one_height(void *ctx)
{
    cluster *c = ctx;
    timing = c;
    const uint64_t target = c->cores[0]->height + 1;
    for (;;) {
        bool all = true, moved = false;
        for (uint32_t i = 0; i < c->n; i++) {
            all = all && c->cores[i]->height >= target;
            if (c->cores[i]->height < target + 1)
                moved = step(c, i) || moved;
        }
        if (all)
            return;
        if (!moved) {
            fprintf(stderr, "bench_consensus: the cluster stalled\n");
            abort();
        }
    }
}

typedef struct verify_ctx {
    mn_keypair kp;
    uint8_t sig[64];
    uint8_t msg[84];
} verify_ctx;

static void one_verify(void *ctx)
{
    verify_ctx *v = ctx;
    if (mn_verify(v->sig, 0x11, v->msg, sizeof(v->msg), v->kp.pk) != 0)
        abort();
}

static void split(uint32_t n)
{
    cluster *c = cluster_new(n);
    timing = c;
    decide_one_height(c); /* warm up */
    c->verify_ns = c->vrf_ns = c->verify_calls = c->vrf_calls = 0;
    const uint32_t heights = n > 10 ? 20 : 200;
    const uint64_t t0 = bench_now_ns();
    for (uint32_t h = 0; h < heights; h++)
        decide_one_height(c);
    const uint64_t total = bench_now_ns() - t0;
    const uint64_t rest = total - c->verify_ns - c->vrf_ns;
    printf("consensus %2u validators: per height %8llu us total = ed25519 verify %8llu us "
           "(%llu calls) + vrf verify %6llu us (%llu calls) + rest %7llu us; "
           "ed25519 share %llu%%\n",
           n, (unsigned long long)(total / heights / 1000),
           (unsigned long long)(c->verify_ns / heights / 1000),
           (unsigned long long)(c->verify_calls / heights),
           (unsigned long long)(c->vrf_ns / heights / 1000),
           (unsigned long long)(c->vrf_calls / heights),
           (unsigned long long)(rest / heights / 1000),
           (unsigned long long)(c->verify_ns * 100 / total));
}

int main(void)
{
    mn_err err;
    if (mn_crypto_init(&err) != 0) {
        fprintf(stderr, "bench_consensus: %s\n", err.msg);
        return 1;
    }
    verify_ctx v;
    uint8_t seed[32] = {7};
    mn_keypair_from_seed(&v.kp, seed);
    memset(v.msg, 0x42, sizeof(v.msg));
    mn_sign(v.sig, 0x11, v.msg, sizeof(v.msg), &v.kp);
    bench_case cases[] = {
        {"ed25519", "verify (baseline)", one_verify, &v, 0, 0},
        {"consensus", "height, 4 validators", decide_one_height, cluster_new(4), 0, 0},
        {"consensus", "height, 31 validators", decide_one_height, cluster_new(31), 0, 0},
    };
    bench_measure_all(cases, 3);
    char a[32], r[32];
    for (size_t i = 0; i < 3; i++)
        printf("%-10s %-24s %12s ns/op %8llu op/s  ratio to verify %s\n", cases[i].section,
               cases[i].name, bench_fmt_ns(a, cases[i].ps_per_op),
               (unsigned long long)bench_ops_per_s(cases[i].ps_per_op),
               bench_fmt_ratio(r, cases[i].ps_per_op, cases[0].ps_per_op));
    split(4);
    split(31);
    return 0;
}
