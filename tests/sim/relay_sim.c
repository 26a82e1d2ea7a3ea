/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_sim.c: the gossip relay simulator (see relay_sim.h). A binary heap of timed events
 * (deliveries, heartbeats, publications) drives N real relays; each event's actions become new
 * deliveries. Figures are taken over honest receivers and messages published by honest nodes.
 * Deliberately simple network: latency by region pair plus jitter, one uplink per node, loss
 * per transmission; no congestion collapse, no CPU time, no reordering beyond what latency
 * gives. The address-book scenario (eclipse) is in relay_sim_eclipse.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"
#include "relay_sim.h"
#include "relay_sim_internal.h"

/* ---- randomness ------------------------------------------------------------------------ */

uint64_t rsim_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t rsim_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rsim_rand(s) % n);
}

/* ---- events ---------------------------------------------------------------------------- */

typedef enum ev_kind { EV_MSG = 1, EV_CTRL, EV_HEARTBEAT, EV_PUBLISH, EV_SPAM } ev_kind;

typedef struct ev {
    uint64_t at_ms, seq;
    uint32_t kind, node, slot, msg, hops;
    uint8_t *bytes; /* EV_CTRL: encoded control message (owned) */
    uint32_t len;
} ev;

typedef struct heap {
    ev *v;
    size_t n, cap;
    uint64_t seq;
} heap;

static bool before(const ev *a, const ev *b)
{
    return a->at_ms < b->at_ms || (a->at_ms == b->at_ms && a->seq < b->seq);
}

static void heap_push(heap *h, ev e)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 4096;
        h->v = realloc(h->v, h->cap * sizeof *h->v);
        if (!h->v)
            abort();
    }
    e.seq = h->seq++;
    size_t i = h->n++;
    while (i > 0 && before(&e, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
}

static ev heap_pop(heap *h)
{
    ev top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!before(&h->v[c], &last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n > 0)
        h->v[i] = last;
    return top;
}

/* ---- the network ----------------------------------------------------------------------- */

typedef enum role { HONEST = 0, CENSOR, SPAMMER } role;

typedef struct link {
    uint32_t node, slot; /* the other end */
    bool up;
} link;

typedef struct node {
    mn_relay *r;
    role role;
    uint32_t region;
    uint32_t up_bytes_per_ms;
    uint64_t uplink_free_ms;
    uint8_t addr[16];
    mn_keypair kp;
    link links[MN_RELAY_PEERS_MAX];
    uint32_t links_count; /* slots used so far (never reused here) */
    uint32_t outbound;
} node;

typedef struct message {
    uint8_t *data;
    uint32_t len;
    uint32_t origin;
    uint32_t topic;
    uint64_t published_ms;
    bool valid;
} message;

typedef struct sim {
    const relay_sim_config *cfg;
    relay_sim_result *res;
    uint64_t rng;
    uint64_t now_ms;
    node *nodes;
    message *msgs;
    uint32_t msgs_count, msgs_cap;
    uint32_t *first_ms;  /* [node * messages + msg]: first delivery time + 1, 0: never */
    uint8_t *first_hops;
    uint32_t *spam_invalid; /* [honest node * nodes + spammer]: bad signatures accepted for check */
    heap h;
    mn_relay_actions *acts;
    uint32_t honest_msgs;
} sim;

#define TOPIC MN_RELAY_TOPIC_TRANSACTIONS
#define WARMUP_MS 3000u
#define DRAIN_MS 8000u

/* One-way latency by region pair (ms): 4 regions, 15 ms inside one, 40-140 ms across. */
static const uint32_t region_ms[4][4] = {
    {15, 40, 90, 140}, {40, 15, 70, 120}, {90, 70, 15, 60}, {140, 120, 60, 15}};

static uint32_t latency(sim *s, uint32_t a, uint32_t b)
{
    uint32_t base = region_ms[s->nodes[a].region][s->nodes[b].region];
    return base + rsim_below(&s->rng, base / 4 + 1);
}

/* Puts bytes on a's uplink towards b: the arrival time, or 0 if the transmission is lost. */
static uint64_t transmit(sim *s, uint32_t a, uint32_t b, uint32_t bytes)
{
    node *n = &s->nodes[a];
    uint64_t start = n->uplink_free_ms > s->now_ms ? n->uplink_free_ms : s->now_ms;
    n->uplink_free_ms = start + bytes / n->up_bytes_per_ms;
    if (s->cfg->loss_permille && rsim_below(&s->rng, 1000) < s->cfg->loss_permille) {
        s->res->lost++;
        return 0;
    }
    return n->uplink_free_ms + latency(s, a, b);
}

static uint32_t hops_of(sim *s, uint32_t n, uint32_t msg)
{
    return s->first_hops[(size_t)n * s->cfg->messages + msg];
}

static void execute(sim *s, uint32_t n, uint32_t msg_hops_from)
{
    node *nd = &s->nodes[n];
    mn_relay_actions *a = s->acts;
    for (uint32_t i = 0; i < a->count; i++) {
        const mn_relay_action *x = &a->items[i];
        if (x->kind == MN_RELAY_ACT_RELEASE || x->kind == MN_RELAY_ACT_PX ||
            x->kind == MN_RELAY_ACT_DIAL)
            continue; /* the simulated network keeps its topology */
        if (x->kind == MN_RELAY_ACT_DISCONNECT) {
            s->res->health_drops++;
            continue;
        }
        MN_ASSERT(x->peer < nd->links_count && nd->links[x->peer].up);
        link *l = &nd->links[x->peer];
        if (x->kind == MN_RELAY_ACT_PING) { /* answered at once with the link's round trip */
            mn_relay_on_pong(nd->r, x->peer, 2 * latency(s, n, l->node), s->now_ms);
            continue;
        }
        if (x->kind == MN_RELAY_ACT_SEND_MSG) {
            message *m = &s->msgs[x->ref];
            if (nd->role == CENSOR && m->topic == TOPIC)
                continue; /* the attack: swallow the topic (forwarding and IWANT replies) */
            s->res->sent_msgs++;
            uint64_t at = transmit(s, n, l->node, m->len);
            if (at == 0)
                continue;
            uint32_t hops = 1;
            if (x->ref < s->cfg->messages)
                hops = hops_of(s, n, (uint32_t)x->ref) + 1;
            (void)msg_hops_from;
            heap_push(&s->h, (ev){.at_ms = at, .kind = EV_MSG, .node = l->node, .slot = l->slot,
                                  .msg = (uint32_t)x->ref, .hops = hops});
        } else {
            mn_buf b;
            mn_err err;
            mn_buf_init(&b, 0);
            if (mn_relay_ctrl_encode(&a->ctrls[x->ctrl], &b, &err) != 0)
                abort(); /* the relay never builds a message the codec refuses */
            s->res->sent_ctrl++;
            uint64_t at = transmit(s, n, l->node, (uint32_t)b.len);
            if (at == 0) {
                mn_buf_deinit(&b);
                continue;
            }
            size_t len;
            uint8_t *bytes = mn_buf_take(&b, &len);
            heap_push(&s->h, (ev){.at_ms = at, .kind = EV_CTRL, .node = l->node,
                                  .slot = l->slot, .bytes = bytes, .len = (uint32_t)len});
        }
    }
}

static mn_relay *new_relay(sim *s, uint32_t i)
{
    mn_relay *r = calloc(1, sizeof *r); /* pages of the unused seen-cache stay untouched */
    if (!r)
        abort();
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    cfg.seen_capacity = 4096;
    for (uint32_t k = 0; k < sizeof cfg.seen_key; k++)
        cfg.seen_key[k] = (uint8_t)rsim_rand(&s->rng);
    for (uint32_t k = 0; k < sizeof cfg.rng_seed; k++)
        cfg.rng_seed[k] = (uint8_t)rsim_rand(&s->rng);
    /* P3 on, tuned to the simulated rate: an honest mesh peer delivers about half of the
     * topic's messages first or within the window; a censor delivers none. */
    cfg.score.mesh_threshold[TOPIC - MN_RELAY_TOPIC_FIRST] = s->cfg->rate_per_s / 4 + 1;
    cfg.score.mesh_window_ms = 2000;
    cfg.inbound_max = 64;
    (void)i;
    mn_relay_init(r, &cfg, 0);
    return r;
}

/* a dials b; false if b refuses (connection limits) or they are linked already. */
static bool connect_nodes(sim *s, uint32_t a, uint32_t b)
{
    node *na = &s->nodes[a], *nb = &s->nodes[b];
    for (uint32_t i = 0; i < na->links_count; i++)
        if (na->links[i].node == b && na->links[i].up)
            return false;
    if (na->links_count >= MN_RELAY_PEERS_MAX || nb->links_count >= MN_RELAY_PEERS_MAX)
        return false;
    if (!mn_relay_conn_admit(nb->r, na->addr, s->now_ms))
        return false;
    uint32_t sa = na->links_count++, sb = nb->links_count++;
    na->links[sa] = (link){.node = b, .slot = sb, .up = true};
    nb->links[sb] = (link){.node = a, .slot = sa, .up = true};
    mn_relay_peer_info ia = {0}, ib = {0};
    memcpy(ia.node, nb->kp.pk, 32); /* what a knows of b */
    memcpy(ia.addr, nb->addr, 16);
    ia.port = 7000;
    ia.outbound = true;
    memcpy(ib.node, na->kp.pk, 32);
    memcpy(ib.addr, na->addr, 16);
    ib.port = 7000;
    mn_relay_on_peer_up(na->r, sa, &ia, s->now_ms);
    mn_relay_on_peer_up(nb->r, sb, &ib, s->now_ms);
    na->outbound++;
    return true;
}

static uint32_t add_message(sim *s, uint32_t origin, uint32_t topic, bool valid, uint64_t seq)
{
    if (s->msgs_count == s->msgs_cap) {
        s->msgs_cap = s->msgs_cap ? 2 * s->msgs_cap : 1024;
        s->msgs = realloc(s->msgs, s->msgs_cap * sizeof *s->msgs);
        if (!s->msgs)
            abort();
    }
    uint8_t *payload = calloc(1, s->cfg->payload_bytes + 1);
    if (!payload)
        abort();
    mn_store_u64_le(payload, seq);
    mn_relay_env env = {.topic = topic, .seq = seq, .payload = payload,
                        .payload_len = s->cfg->payload_bytes};
    mn_err err;
    if (mn_relay_env_sign(&env, &s->nodes[origin].kp, &err) != 0)
        abort();
    if (!valid)
        env.sig[7] ^= 0x40;
    mn_buf b;
    mn_buf_init(&b, 0);
    if (mn_relay_env_encode(&env, &b, &err) != 0)
        abort();
    free(payload);
    message *m = &s->msgs[s->msgs_count];
    size_t len;
    m->data = mn_buf_take(&b, &len);
    m->len = (uint32_t)len;
    m->origin = origin;
    m->topic = topic;
    m->valid = valid;
    m->published_ms = 0;
    return s->msgs_count++;
}

static void record_first(sim *s, uint32_t n, uint32_t msg, uint32_t hops)
{
    if (msg >= s->cfg->messages)
        return;
    size_t k = (size_t)n * s->cfg->messages + msg;
    if (s->first_ms[k] == 0) {
        s->first_ms[k] = (uint32_t)(s->now_ms - s->msgs[msg].published_ms) + 1;
        s->first_hops[k] = (uint8_t)(hops > 255 ? 255 : hops);
    }
}

static void handle(sim *s, ev *e)
{
    node *nd = &s->nodes[e->node];
    if (!nd->links[e->slot].up) {
        free(e->bytes);
        return;
    }
    switch (e->kind) {
    case EV_MSG: {
        message *m = &s->msgs[e->msg];
        mn_relay_admission adm;
        mn_relay_on_gossip(nd->r, e->slot, m->data, m->len, e->msg, s->now_ms, &adm, s->acts);
        if (adm.verdict == MN_RELAY_ACCEPT)
            record_first(s, e->node, e->msg, e->hops);
        if (adm.verdict == MN_RELAY_BAD_SIGNATURE && s->spam_invalid &&
            nd->role == HONEST)
            s->spam_invalid[(size_t)e->node * s->cfg->nodes + nd->links[e->slot].node]++;
        execute(s, e->node, e->hops);
        break;
    }
    case EV_CTRL:
        mn_relay_on_ctrl(nd->r, e->slot, e->bytes, e->len, s->now_ms, s->acts);
        free(e->bytes);
        execute(s, e->node, 0);
        break;
    default:
        abort();
    }
}

static void publish(sim *s, uint32_t msg)
{
    message *m = &s->msgs[msg];
    m->published_ms = s->now_ms;
    mn_err err;
    if (mn_relay_publish(s->nodes[m->origin].r, m->data, m->len, msg, s->now_ms, s->acts,
                         &err) != 0)
        abort();
    record_first(s, m->origin, msg, 0);
    execute(s, m->origin, 0);
}

/* Spammers send a message with a bad signature to every peer, each heartbeat. */
static void spam(sim *s, uint32_t n, uint64_t *seq)
{
    node *nd = &s->nodes[n];
    uint32_t msg = add_message(s, n, TOPIC, false, (*seq)++);
    for (uint32_t i = 0; i < nd->links_count; i++) {
        if (!nd->links[i].up)
            continue;
        uint64_t at = transmit(s, n, nd->links[i].node, s->msgs[msg].len);
        if (at)
            heap_push(&s->h, (ev){.at_ms = at, .kind = EV_MSG, .node = nd->links[i].node,
                                  .slot = nd->links[i].slot, .msg = msg, .hops = 1});
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(uint32_t *v, size_t n, uint32_t p)
{
    if (n == 0)
        return 0;
    size_t i = (n * p + 99) / 100;
    return v[i == 0 ? 0 : i - 1];
}

static void measure(sim *s)
{
    const relay_sim_config *c = s->cfg;
    relay_sim_result *res = s->res;
    size_t cap = (size_t)c->nodes * c->messages;
    uint32_t *lat = malloc(cap * sizeof *lat), *hops = malloc(cap * sizeof *hops);
    if (!lat || !hops)
        abort();
    size_t k = 0;
    uint64_t honest_nodes = 0, dups = 0;
    for (uint32_t n = 0; n < c->nodes; n++) {
        if (s->nodes[n].role != HONEST)
            continue;
        honest_nodes++;
        for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++)
            dups += s->nodes[n].r->metrics.msgs_dup[t];
        res->iwant_served += s->nodes[n].r->metrics.iwant_served;
        res->pruned_score += s->nodes[n].r->metrics.peers_pruned_score;
        for (uint32_t m = 0; m < c->messages; m++) {
            if (s->msgs[m].origin == n)
                continue;
            res->expected++;
            uint32_t f = s->first_ms[(size_t)n * c->messages + m];
            if (f == 0)
                continue;
            res->delivered++;
            lat[k] = f - 1;
            hops[k++] = s->first_hops[(size_t)n * c->messages + m];
        }
    }
    qsort(lat, k, sizeof *lat, cmp_u32);
    qsort(hops, k, sizeof *hops, cmp_u32);
    res->latency_p50_ms = pct(lat, k, 50), res->latency_p99_ms = pct(lat, k, 99);
    res->hops_p50 = pct(hops, k, 50), res->hops_p99 = pct(hops, k, 99);
    res->dup_milli = honest_nodes && c->messages ? dups * 1000 / (honest_nodes * c->messages) : 0;
    free(lat);
    free(hops);
}

static void gossip_run(const relay_sim_config *c, relay_sim_result *res)
{
    sim s = {.cfg = c, .res = res, .rng = c->seed * 0x2545f4914f6cdd1dull + 1};
    s.acts = malloc(sizeof *s.acts);
    s.nodes = calloc(c->nodes, sizeof *s.nodes);
    s.first_ms = calloc((size_t)c->nodes * c->messages, sizeof *s.first_ms);
    s.first_hops = calloc((size_t)c->nodes * c->messages, 1);
    if (!s.acts || !s.nodes || !s.first_ms || !s.first_hops)
        abort();
    if (c->scenario == RELAY_SIM_SPAM) {
        s.spam_invalid = calloc((size_t)c->nodes * c->nodes, sizeof *s.spam_invalid);
        if (!s.spam_invalid)
            abort();
    }
    uint32_t attackers = c->nodes * c->attackers_percent / 100;
    for (uint32_t i = 0; i < c->nodes; i++) {
        node *n = &s.nodes[i];
        uint8_t seed[MN_ED25519_SEED_BYTES];
        for (uint32_t k = 0; k < sizeof seed; k++)
            seed[k] = (uint8_t)rsim_rand(&s.rng);
        mn_keypair_from_seed(&n->kp, seed);
        n->r = new_relay(&s, i);
        n->region = rsim_below(&s.rng, 4);
        n->up_bytes_per_ms = 1250 + rsim_below(&s.rng, 11250); /* 10-100 Mbit/s */
        n->addr[10] = 0xff, n->addr[11] = 0xff;
        for (uint32_t k = 12; k < 16; k++)
            n->addr[k] = (uint8_t)rsim_rand(&s.rng);
        n->addr[12] = (uint8_t)(1 + n->addr[12] % 223);
    }
    /* attackers: a random subset */
    for (uint32_t placed = 0; placed < attackers;) {
        uint32_t i = rsim_below(&s.rng, c->nodes);
        if (s.nodes[i].role != HONEST)
            continue;
        s.nodes[i].role = c->scenario == RELAY_SIM_SPAM ? SPAMMER : CENSOR;
        placed++;
    }
    /* every node dials 8 random others (as with 8 outbound peers) */
    for (uint32_t i = 0; i < c->nodes; i++) {
        uint32_t tries = 0;
        while (s.nodes[i].outbound < 8 && tries++ < 100)
            connect_nodes(&s, i, rsim_below(&s.rng, c->nodes));
    }
    for (uint32_t i = 0; i < c->nodes; i++)
        heap_push(&s.h, (ev){.at_ms = 1 + rsim_below(&s.rng, 1000), .kind = EV_HEARTBEAT,
                             .node = i});
    /* publications from random honest nodes at the configured rate */
    uint64_t gap = 1000 / (c->rate_per_s ? c->rate_per_s : 1);
    for (uint32_t m = 0; m < c->messages; m++) {
        uint32_t o;
        do
            o = rsim_below(&s.rng, c->nodes);
        while (s.nodes[o].role != HONEST);
        add_message(&s, o, TOPIC, true, m);
        heap_push(&s.h, (ev){.at_ms = WARMUP_MS + m * gap, .kind = EV_PUBLISH, .msg = m});
    }
    uint64_t end = WARMUP_MS + (uint64_t)c->messages * gap + DRAIN_MS;
    uint64_t spam_seq = 1u << 30;
    while (s.h.n > 0) {
        ev e = heap_pop(&s.h);
        if (e.at_ms > end) {
            free(e.bytes);
            continue;
        }
        s.now_ms = e.at_ms;
        if (e.kind == EV_HEARTBEAT) {
            node *nd = &s.nodes[e.node];
            mn_relay_heartbeat(nd->r, s.now_ms, s.acts);
            execute(&s, e.node, 0);
            if (nd->role == SPAMMER && s.now_ms >= WARMUP_MS)
                spam(&s, e.node, &spam_seq);
            heap_push(&s.h, (ev){.at_ms = s.now_ms + nd->r->cfg.mesh.heartbeat_ms,
                                 .kind = EV_HEARTBEAT, .node = e.node});
        } else if (e.kind == EV_PUBLISH) {
            publish(&s, e.msg);
        } else {
            handle(&s, &e);
        }
    }
    res->sim_ms = s.now_ms;
    measure(&s);
    if (s.spam_invalid) {
        for (uint32_t n = 0; n < c->nodes; n++) {
            if (s.nodes[n].role != HONEST)
                continue;
            for (uint32_t i = 0; i < s.nodes[n].links_count; i++) {
                uint32_t sp = s.nodes[n].links[i].node;
                if (s.nodes[sp].role != SPAMMER)
                    continue;
                uint32_t v = s.spam_invalid[(size_t)n * c->nodes + sp];
                if (v > res->spam_max_invalid)
                    res->spam_max_invalid = v;
                if (s.nodes[n].r->peers[i].verdicts[MN_RELAY_GRAYLISTED] == 0)
                    res->spam_unlisted++;
            }
        }
    }
    for (uint32_t i = 0; i < c->nodes; i++)
        free(s.nodes[i].r);
    for (uint32_t m = 0; m < s.msgs_count; m++)
        free(s.msgs[m].data);
    free(s.msgs);
    free(s.nodes);
    free(s.first_ms);
    free(s.first_hops);
    free(s.spam_invalid);
    free(s.h.v);
    free(s.acts);
}

/* ---- sybil: one /24 floods a node with connections ------------------------------------- */

static void sybil_run(const relay_sim_config *c, relay_sim_result *res)
{
    uint64_t rng = c->seed * 0x9e3779b97f4a7c15ull + 7;
    sim s = {.cfg = c, .res = res, .rng = rng};
    mn_relay *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    cfg.seen_capacity = 1024;
    mn_relay_init(r, &cfg, 0);
    /* 30 honest inbound peers from distinct /24s connect first */
    uint32_t slot = 0;
    for (uint32_t i = 0; i < 30; i++) {
        uint8_t a[16] = {0};
        a[10] = a[11] = 0xff, a[12] = 10, a[13] = (uint8_t)i, a[14] = (uint8_t)rsim_rand(&s.rng);
        a[15] = 1;
        if (mn_relay_conn_admit(r, a, 0)) {
            mn_relay_peer_info info = {0};
            memcpy(info.addr, a, 16);
            info.node[0] = (uint8_t)i, info.node[1] = 0x11;
            mn_relay_on_peer_up(r, slot++, &info, 0);
        }
    }
    res->honest_before = slot;
    /* 10,000 attempts from 203.0.113.0/24 over 10 s; admitted ones stay connected */
    uint8_t a[16] = {0};
    a[10] = a[11] = 0xff, a[12] = 203, a[13] = 0, a[14] = 113;
    for (uint32_t i = 0; i < 10000; i++) {
        uint64_t now = 1 + i;
        a[15] = (uint8_t)rsim_rand(&s.rng);
        res->sybil_attempts++;
        if (mn_relay_conn_admit(r, a, now)) {
            mn_relay_peer_info info = {0};
            memcpy(info.addr, a, 16);
            info.node[0] = (uint8_t)i, info.node[1] = (uint8_t)(i >> 8), info.node[2] = 0x22;
            mn_relay_on_peer_up(r, slot++, &info, now);
            res->sybil_admitted++;
        }
    }
    /* honest newcomers from other /24s still get in */
    uint32_t newcomers = 0;
    for (uint32_t i = 0; i < 3; i++) {
        uint8_t b[16] = {0};
        b[10] = b[11] = 0xff, b[12] = 172, b[13] = 16, b[14] = (uint8_t)i, b[15] = 9;
        newcomers += mn_relay_conn_admit(r, b, 10001 + i);
    }
    uint32_t kept = 0;
    for (uint32_t q = 0; q < res->honest_before; q++)
        kept += r->peers[q].up;
    res->honest_kept = kept;
    res->pass = res->sybil_admitted <= cfg.inbound_per_group_max && kept == res->honest_before &&
                newcomers == 3 && res->honest_before == 30;
    snprintf(res->check, sizeof res->check,
             "sybil admitted %llu of %llu (cap %u), honest kept %u/%u, newcomers %u/3",
             (unsigned long long)res->sybil_admitted, (unsigned long long)res->sybil_attempts,
             cfg.inbound_per_group_max, kept, res->honest_before, newcomers);
    free(r);
}

/* ---- scenarios ------------------------------------------------------------------------- */

static const char *const names[RELAY_SIM_SCENARIOS] = {"baseline", "loss20",  "censor",
                                                       "spam",     "sybil", "eclipse"};

const char *relay_sim_name(relay_sim_scenario sc)
{
    return sc < RELAY_SIM_SCENARIOS ? names[sc] : "?";
}

void relay_sim_config_default(relay_sim_config *cfg, relay_sim_scenario sc, uint32_t nodes,
                              uint32_t messages, uint64_t seed)
{
    *cfg = (relay_sim_config){.scenario = sc, .nodes = nodes, .messages = messages,
                              .rate_per_s = 20, .payload_bytes = 512, .seed = seed, .runs = 10};
    if (sc == RELAY_SIM_LOSS)
        cfg->loss_permille = 200;
    if (sc == RELAY_SIM_CENSOR)
        cfg->attackers_percent = 20;
    if (sc == RELAY_SIM_SPAM)
        cfg->attackers_percent = 5;
}

void relay_sim_run(const relay_sim_config *c, relay_sim_result *res)
{
    memset(res, 0, sizeof *res);
    if (c->scenario == RELAY_SIM_SYBIL) {
        sybil_run(c, res);
        return;
    }
    if (c->scenario == RELAY_SIM_ECLIPSE) {
        rsim_eclipse_run(c, res);
        return;
    }
    gossip_run(c, res);
    uint64_t ratio_ppm = res->expected ? res->delivered * 1000000 / res->expected : 0;
    /* duplicates per node per message at most about D: we allow 1.5 D */
    bool dups_ok = res->dup_milli <= 9000;
    switch (c->scenario) {
    case RELAY_SIM_BASELINE:
        res->pass = res->delivered == res->expected && res->expected > 0 && dups_ok;
        break;
    case RELAY_SIM_SPAM:
        res->pass = res->delivered == res->expected && res->expected > 0 &&
                    res->spam_max_invalid <= 5 && res->spam_unlisted == 0;
        break;
    default:
        res->pass = ratio_ppm >= 990000 && res->expected > 0;
        break;
    }
    snprintf(res->check, sizeof res->check, "delivery %llu.%04llu %% (goal %s), dup/node/msg %llu.%03llu",
             (unsigned long long)(ratio_ppm / 10000), (unsigned long long)(ratio_ppm % 10000),
             c->scenario == RELAY_SIM_BASELINE || c->scenario == RELAY_SIM_SPAM ? "100" : ">= 99",
             (unsigned long long)(res->dup_milli / 1000), (unsigned long long)(res->dup_milli % 1000));
}
