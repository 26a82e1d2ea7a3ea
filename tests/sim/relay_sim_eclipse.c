/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_sim_eclipse.c: the eclipse scenario on the real address book. Honest nodes (cfg
 * nodes) have addresses spread over the IPv4 space; the attacker owns as many addresses again
 * (half of all) but only in 4 /16 groups, accepts every connection, and each round floods
 * every honest node's book with hundreds of its addresses, while honest peers pass on samples
 * of their own books (mn_addrbook_sample), attacker addresses included: pollution spreads. Each round 10 % of honest nodes go offline or
 * come back, and every honest node drops its outbound peers and dials again: anchors first,
 * then mn_addrbook_select until 8 outbound peers (distinct groups); a feeler probes one new
 * address and pending tried collisions are tested. The check: after every round, every honest
 * node has at least one honest outbound peer, in every run. Not here: inbound eclipse (inbound
 * slots are bounded per /24 in relay_conn.c), timing of the attack against restarts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/relay_addrbook.h"
#include "relay_sim_internal.h"

#define ROUNDS 6u
#define OUTBOUND 8u
#define FLOOD_PER_ROUND 400u
#define SHARE_PER_PEER 20u

typedef struct enode {
    mn_addrbook *ab;
    mn_addr self;
    bool online;
    uint32_t out[OUTBOUND];  /* outbound peers: index < honest, or honest + attacker index */
    uint32_t out_count;
} enode;

static void v4(mn_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
    memset(a, 0, sizeof *a);
    a->ip[10] = a->ip[11] = 0xff;
    a->ip[12] = b0, a->ip[13] = b1, a->ip[14] = b2, a->ip[15] = b3;
    a->port = 7000;
    memcpy(a->node, a->ip + 12, 4); /* a stand-in identity */
    a->node[31] = 1;
}

/* Which node an address is: honest index, honest + attacker index, or UINT32_MAX. */
typedef struct world {
    uint32_t honest, attackers;
    enode *nodes;
    mn_addr *attacker_addrs;
    uint64_t rng;
} world;

static uint32_t who(const world *w, const mn_addr *a)
{
    /* attacker addresses are 100.64-67.x.y; honest ones carry their index in node[4..8] */
    if (a->ip[12] == 100 && a->ip[13] >= 64 && a->ip[13] < 68) {
        uint32_t i = ((uint32_t)a->ip[14] << 8 | a->ip[15]) * 4 + (uint32_t)(a->ip[13] - 64);
        return i < w->attackers ? w->honest + i : UINT32_MAX;
    }
    uint32_t idx = (uint32_t)a->node[4] | (uint32_t)a->node[5] << 8 | (uint32_t)a->node[6] << 16;
    return idx < w->honest ? idx : UINT32_MAX;
}

static void drop_outbound(world *w, enode *n)
{
    for (uint32_t i = 0; i < n->out_count; i++) {
        uint32_t p = n->out[i];
        const mn_addr *a = p < w->honest ? &w->nodes[p].self : &w->attacker_addrs[p - w->honest];
        mn_addrbook_disconnected(n->ab, a);
    }
    n->out_count = 0;
}

/* Dials a: attackers always answer, honest nodes when online. */
static bool dial(world *w, enode *n, const mn_addr *a, uint64_t now, bool keep)
{
    uint32_t p = who(w, a);
    bool ok = p != UINT32_MAX && (p >= w->honest || w->nodes[p].online) && n != &w->nodes[p];
    if (!ok) {
        mn_addrbook_failed(n->ab, a, now);
        return false;
    }
    mn_addrbook_good(n->ab, a, now);
    if (keep) {
        for (uint32_t i = 0; i < n->out_count; i++)
            if (n->out[i] == p)
                return false;
        mn_addrbook_connected(n->ab, a, true);
        n->out[n->out_count++] = p;
    }
    return true;
}

static uint32_t honest_out(const world *w, const enode *n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n->out_count; i++)
        k += n->out[i] < w->honest;
    return k;
}

/* One run. diverse: outbound peers from mn_addrbook_select (distinct groups); otherwise the
 * control: random new-table picks (mn_addrbook_feeler) with no group rule. *eclipsed counts
 * (node, round) pairs left without any honest outbound peer. */
static bool one_run(const relay_sim_config *c, uint64_t seed, bool diverse, uint32_t *min_honest,
                    uint32_t *eclipsed)
{
    world w = {.honest = c->nodes, .attackers = c->nodes, .rng = seed * 0xd1342543de82ef95ull + 3};
    w.nodes = calloc(w.honest, sizeof *w.nodes);
    w.attacker_addrs = calloc(w.attackers, sizeof *w.attacker_addrs);
    if (!w.nodes || !w.attacker_addrs)
        abort();
    for (uint32_t i = 0; i < w.attackers; i++) /* i < 4 * 65536: exactly 4 /16 groups */
        v4(&w.attacker_addrs[i], 100, (uint8_t)(64 + i % 4), (uint8_t)(i / 4 >> 8),
           (uint8_t)(i / 4));
    for (uint32_t i = 0; i < w.honest; i++) {
        enode *n = &w.nodes[i];
        uint8_t b0;
        do
            b0 = (uint8_t)(11 + rsim_below(&w.rng, 212));
        while (b0 == 100 || b0 == 127);
        v4(&n->self, b0, (uint8_t)rsim_rand(&w.rng), (uint8_t)rsim_rand(&w.rng),
           (uint8_t)(1 + rsim_below(&w.rng, 254)));
        n->self.node[4] = (uint8_t)i, n->self.node[5] = (uint8_t)(i >> 8);
        n->self.node[6] = (uint8_t)(i >> 16);
        n->online = true;
        n->ab = malloc(sizeof *n->ab);
        if (!n->ab)
            abort();
        uint8_t key[16];
        for (uint32_t k = 0; k < 16; k++)
            key[k] = (uint8_t)rsim_rand(&w.rng);
        mn_addrbook_init(n->ab, key, rsim_rand(&w.rng), NULL, OUTBOUND, OUTBOUND);
    }
    uint64_t now = 1000;
    /* bootstrap: 30 honest addresses from a seed each */
    for (uint32_t i = 0; i < w.honest; i++) {
        uint8_t seed_src[16] = {0};
        seed_src[10] = seed_src[11] = 0xff, seed_src[12] = 9, seed_src[13] = (uint8_t)i;
        for (uint32_t k = 0; k < 30; k++)
            mn_addrbook_add(w.nodes[i].ab, &w.nodes[rsim_below(&w.rng, w.honest)].self, seed_src,
                            now);
    }
    bool ok = true;
    *min_honest = OUTBOUND;
    for (uint32_t round = 0; round < ROUNDS; round++) {
        now += 600000; /* ten minutes a round: back-offs from earlier rounds run out */
        for (uint32_t i = 0; i < w.honest; i++)
            if (rsim_below(&w.rng, 10) == 0)
                w.nodes[i].online = !w.nodes[i].online;
        /* the flood, and honest gossip that carries attacker addresses on */
        for (uint32_t i = 0; i < w.honest; i++) {
            enode *n = &w.nodes[i];
            for (uint32_t k = 0; k < FLOOD_PER_ROUND; k++) {
                const mn_addr *a = &w.attacker_addrs[rsim_below(&w.rng, w.attackers)];
                mn_addrbook_add(n->ab, a, w.attacker_addrs[rsim_below(&w.rng, 4)].ip, now);
            }
            for (uint32_t p = 0; p < n->out_count; p++) {
                if (n->out[p] >= w.honest)
                    continue;
                /* what the peer's own book offers (attacker addresses included) */
                enode *peer = &w.nodes[n->out[p]];
                mn_addr shared[SHARE_PER_PEER];
                uint32_t k = mn_addrbook_sample(peer->ab, shared, SHARE_PER_PEER);
                for (uint32_t j = 0; j < k; j++)
                    mn_addrbook_add(n->ab, &shared[j], peer->self.ip, now);
            }
        }
        /* churn: everyone reconnects, anchors first */
        for (uint32_t i = 0; i < w.honest; i++) {
            enode *n = &w.nodes[i];
            if (!n->online)
                continue;
            mn_addr anchors[MN_ADDRBOOK_ANCHORS_MAX];
            uint32_t na = mn_addrbook_anchors(n->ab, anchors);
            drop_outbound(&w, n);
            for (uint32_t k = 0; k < na && k < 2; k++)
                dial(&w, n, &anchors[k], now, true);
            mn_addr a;
            for (uint32_t tries = 0; n->out_count < OUTBOUND && tries < 40; tries++) {
                if (!(diverse ? mn_addrbook_select(n->ab, now, &a)
                              : mn_addrbook_feeler(n->ab, now, &a)))
                    break;
                dial(&w, n, &a, now, true);
            }
            if (mn_addrbook_feeler(n->ab, now, &a))
                dial(&w, n, &a, now, false);
            for (uint32_t k = 0; k < 3 && mn_addrbook_collision(n->ab, &a, now); k++)
                dial(&w, n, &a, now, false);
        }
        for (uint32_t i = 0; i < w.honest; i++) {
            if (!w.nodes[i].online)
                continue;
            uint32_t h = honest_out(&w, &w.nodes[i]);
            if (h < *min_honest)
                *min_honest = h;
            ok &= h >= 1;
            *eclipsed += h == 0;
        }
    }
    for (uint32_t i = 0; i < w.honest; i++)
        free(w.nodes[i].ab);
    free(w.nodes);
    free(w.attacker_addrs);
    return ok;
}

void rsim_eclipse_run(const relay_sim_config *c, relay_sim_result *res)
{
    res->eclipse_min_honest_out = OUTBOUND;
    for (uint32_t r = 0; r < c->runs; r++) {
        uint32_t min_h, eclipsed = 0;
        bool ok = one_run(c, c->seed + r, true, &min_h, &eclipsed);
        res->eclipse_runs++;
        res->eclipse_ok_runs += ok;
        if (min_h < res->eclipse_min_honest_out)
            res->eclipse_min_honest_out = min_h;
    }
    /* the control: the same attack on books whose outbound picks ignore groups */
    uint32_t control_min, control_eclipsed = 0;
    one_run(c, c->seed, false, &control_min, &control_eclipsed);
    res->eclipse_control = control_eclipsed;
    res->pass = res->eclipse_runs > 0 && res->eclipse_ok_runs == res->eclipse_runs;
    snprintf(res->check, sizeof res->check,
             "runs with every honest node keeping an honest outbound peer %u/%u (fewest %u of "
             "%u); control without group rule: %u node-rounds eclipsed",
             res->eclipse_ok_runs, res->eclipse_runs, res->eclipse_min_honest_out, OUTBOUND,
             control_eclipsed);
}
