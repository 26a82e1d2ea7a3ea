/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_mesh.c: the gossipsub v1.1 mesh on top of admission: forwarding accepted messages to
 * each topic's mesh, flood-publishing the node's own messages, GRAFT/PRUNE with back-off and
 * peer exchange, lazy IHAVE/IWANT repair from the history with promises, and the heartbeat
 * that keeps each mesh between d_lo and d_hi with d_out outbound peers and prunes peers whose
 * score fell below zero. Every event fills a caller-owned action list (send a message or a
 * batched control message, release a history handle, a PX dial candidate); nothing here does
 * I/O, reads a clock or allocates. Peer choices use a xoshiro256** stream seeded by the caller,
 * so a run is reproducible. Not here: admission (relay.c), dialling (the driver/address book).
 */
#include <string.h>

#include "relay_internal.h"

#define BIT(t) (1u << (t))
#define TOPIC_INDEX(t) ((t) - MN_RELAY_TOPIC_FIRST)

void mn_relay_mesh_params_default(mn_relay_mesh_params *p)
{
    /* gossipsub v1.1's defaults, with a one-second heartbeat and one-minute back-off. */
    *p = (mn_relay_mesh_params){
        .d = 6, .d_lo = 4, .d_hi = 12, .d_score = 4, .d_out = 2, .d_lazy = 6,
        .heartbeat_ms = 1000, .prune_backoff_s = 60, .ihave_per_heartbeat = 10,
        .iwant_followup_ms = 3000, .flood_publish = true, .fanout_ttl_ms = 60000,
        .iwant_bytes_per_heartbeat = 2 * MN_BPCI_MSG_BYTES_MAX,
        .og_ticks = 60, .og_peers = 2, .og_threshold = 1000,
    };
}

int mn_relay_mesh_params_check(const mn_relay_mesh_params *p, mn_err *err)
{
    if (!(p->d_lo >= 1 && p->d_lo <= p->d && p->d <= p->d_hi && p->d_hi < MN_RELAY_PEERS_MAX &&
          p->d_score <= p->d && p->d_out < p->d_lo && p->d_out <= p->d / 2 &&
          p->d_lazy < MN_RELAY_PEERS_MAX && p->og_peers <= p->d_hi - p->d))
        return mn_err_set(err, MN_EINVAL, 0, "mesh degrees d=%u lo=%u hi=%u score=%u out=%u",
                          p->d, p->d_lo, p->d_hi, p->d_score, p->d_out);
    if (p->heartbeat_ms == 0 || p->prune_backoff_s == 0 ||
        p->prune_backoff_s > MN_RELAY_BACKOFF_S_MAX || p->ihave_per_heartbeat == 0 ||
        p->iwant_followup_ms == 0 || p->iwant_bytes_per_heartbeat < MN_BPCI_MSG_BYTES_MAX ||
        p->fanout_ttl_ms == 0)
        return mn_err_set(err, MN_EINVAL, 0, "mesh timing parameters");
    return 0;
}

/* ---- randomness (xoshiro256**) ---------------------------------------------------------- */

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(mn_relay *r)
{
    uint64_t *s = r->rng;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t, s[3] = rotl(s[3], 45);
    return result;
}

/* Moves k random elements of v[0..n) to its front (partial Fisher-Yates). */
static void sample(mn_relay *r, uint16_t *v, uint32_t n, uint32_t k)
{
    for (uint32_t i = 0; i < k && i < n; i++) {
        uint32_t j = i + (uint32_t)(rnd(r) % (n - i));
        uint16_t tmp = v[i];
        v[i] = v[j], v[j] = tmp;
    }
}

/* ---- actions --------------------------------------------------------------------------- */

static void out_clear(mn_relay_actions *out)
{
    out->count = 0;
    out->ctrls_count = 0;
    memset(out->ctrl_of_peer, 0, sizeof out->ctrl_of_peer);
}

mn_relay_action *mn__relay_push(mn_relay_actions *out, mn_relay_action_kind kind, uint32_t peer)
{
    MN_ASSERT(out->count < MN_RELAY_ACTIONS_MAX);
    mn_relay_action *a = &out->items[out->count++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->peer = peer;
    return a;
}

#define push mn__relay_push

static mn_relay_ctrl *ctrl_for(mn_relay_actions *out, uint32_t peer)
{
    if (out->ctrl_of_peer[peer] == 0) {
        MN_ASSERT(out->ctrls_count < MN_RELAY_PEERS_MAX);
        uint32_t i = out->ctrls_count++;
        memset(&out->ctrls[i], 0, sizeof out->ctrls[i]);
        out->peer_of_ctrl[i] = (uint16_t)peer;
        out->ctrl_of_peer[peer] = (uint16_t)(i + 1);
    }
    return &out->ctrls[out->ctrl_of_peer[peer] - 1];
}

static uint32_t popcount(uint32_t v)
{
    uint32_t n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

/* One SEND_CTRL per peer that has something, after the event's other actions. */
static void flush(mn_relay *r, mn_relay_actions *out)
{
    for (uint32_t i = 0; i < out->ctrls_count; i++) {
        const mn_relay_ctrl *c = &out->ctrls[i];
        if (mn_relay_ctrl_empty(c))
            continue;
        mn_relay_action *a = push(out, MN_RELAY_ACT_SEND_CTRL, out->peer_of_ctrl[i]);
        a->ctrl = i;
        r->metrics.ctrl_out++;
        r->metrics.graft_out += popcount(c->graft);
        r->metrics.prune_out += popcount(c->prune);
        r->metrics.iwant_out += c->iwant_count;
    }
}

static void send_msg(mn_relay *r, mn_relay_actions *out, uint32_t peer, uint64_t ref,
                     uint32_t topic)
{
    push(out, MN_RELAY_ACT_SEND_MSG, peer)->ref = ref;
    r->metrics.msgs_out[TOPIC_INDEX(topic)]++;
}

static void release(mn_relay *r, mn_relay_actions *out, uint64_t ref)
{
    push(out, MN_RELAY_ACT_RELEASE, 0)->ref = ref;
    (void)r;
}

/* ---- peers and scores ------------------------------------------------------------------ */

static int64_t score_now(mn_relay *r, mn_relay_peer *p, uint64_t now_ms)
{
    mn_relay_score_decay(&p->score, &r->cfg.score, now_ms);
    for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++)
        p->score.mesh_ms[TOPIC_INDEX(t)] =
            (p->mesh & BIT(t)) ? now_ms - p->mesh_since_ms[TOPIC_INDEX(t)] : 0;
    return mn_relay_score_value(&p->score, &r->cfg.score);
}

int64_t mn_relay_peer_score(mn_relay *r, uint32_t peer, uint64_t now_ms)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX && r->peers[peer].up);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    return score_now(r, &r->peers[peer], now_ms);
}

void mn_relay_set_app_score(mn_relay *r, uint32_t peer, int64_t app)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX && r->peers[peer].up);
    const int64_t bound = 1000000000000ll; /* keeps the sum far inside int64 */
    r->peers[peer].score.app = app > bound ? bound : app < -bound ? -bound : app;
}

static void mesh_add(mn_relay_peer *p, uint32_t topic, uint64_t now_ms)
{
    p->mesh |= BIT(topic);
    p->mesh_since_ms[TOPIC_INDEX(topic)] = now_ms;
}

static void mesh_remove(mn_relay *r, mn_relay_peer *p, uint32_t topic, uint64_t now_ms)
{
    MN_ASSERT(p->mesh & BIT(topic));
    score_now(r, p, now_ms); /* brings mesh_ms up to date for the deficit */
    mn_relay_score_mesh_leave(&p->score, &r->cfg.score, topic);
    p->mesh &= ~BIT(topic);
}

static uint64_t backoff_until(const mn_relay *r, uint64_t now_ms, uint32_t backoff_s)
{
    (void)r;
    return now_ms + (uint64_t)backoff_s * 1000u;
}

/* Queues a PRUNE of topic to peer (optionally with PX: other mesh peers of the topic whose
 * node id and port we know) and starts our own back-off for it. */
static void prune_to(mn_relay *r, mn_relay_actions *out, uint32_t peer, uint32_t topic,
                     bool with_px, uint64_t now_ms)
{
    mn_relay_ctrl *c = ctrl_for(out, peer);
    c->prune |= BIT(topic);
    c->backoff_s = r->cfg.mesh.prune_backoff_s;
    r->peers[peer].backoff_until_ms[TOPIC_INDEX(topic)] =
        backoff_until(r, now_ms, r->cfg.mesh.prune_backoff_s);
    if (!with_px)
        return;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX && c->px_count < MN_RELAY_PX_MAX; q++) {
        const mn_relay_peer *o = &r->peers[q];
        if (q == peer || !o->up || !(o->mesh & BIT(topic)) || o->info.port == 0)
            continue;
        uint8_t any = 0;
        for (uint32_t i = 0; i < sizeof o->info.node; i++)
            any |= o->info.node[i];
        if (any == 0)
            continue;
        mn_relay_px *x = &c->px[c->px_count++];
        memcpy(x->node, o->info.node, sizeof x->node);
        memcpy(x->addr, o->info.addr, sizeof x->addr);
        x->port = o->info.port;
    }
}

/* Promises: an IWANT we sent is kept when the message arrives from anyone. */
static void keep_promises(mn_relay *r, const uint8_t id[MN_RELAY_ID_BYTES])
{
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *p = &r->peers[q];
        for (uint32_t i = 0; i < p->promises_count;) {
            if (memcmp(p->promises[i].id, id, MN_RELAY_ID_BYTES) == 0)
                p->promises[i] = p->promises[--p->promises_count];
            else
                i++;
        }
    }
}

static void remember(mn_relay *r, mn_relay_actions *out, const uint8_t id[MN_RELAY_ID_BYTES],
                     uint32_t topic, uint64_t ref, size_t len, uint64_t now_ms)
{
    uint64_t evicted;
    MN_ASSERT(len <= MN_BPCI_MSG_BYTES_MAX);
    if (mn_relay_mcache_put(&r->mcache, id, topic, ref, (uint32_t)len, now_ms, &evicted)) {
        r->metrics.mcache_evictions++;
        release(r, out, evicted);
    }
}

/* ---- messages -------------------------------------------------------------------------- */

void mn_relay_on_gossip(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                        uint64_t ref, uint64_t now_ms, mn_relay_admission *adm,
                        mn_relay_actions *out)
{
    out_clear(out);
    mn_relay_on_message(r, peer, data, len, now_ms, adm);
    mn_relay_peer *p = &r->peers[peer];
    uint32_t t = adm->topic;
    if (adm->verdict == MN_RELAY_DUPLICATE && (p->mesh & BIT(t))) {
        const mn_relay_mcache_entry *e = mn_relay_mcache_get(&r->mcache, adm->id);
        if (e != NULL && now_ms - e->added_ms <= r->cfg.score.mesh_window_ms)
            mn_relay_score_mesh_delivery(&p->score, t);
    }
    if (adm->verdict != MN_RELAY_ACCEPT)
        return;
    keep_promises(r, adm->id);
    if (p->mesh & BIT(t))
        mn_relay_score_mesh_delivery(&p->score, t);
    remember(r, out, adm->id, t, ref, len, now_ms);
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        const mn_relay_peer *o = &r->peers[q];
        if (q != peer && o->up && ((o->mesh & BIT(t)) || o->info.explicit_peer))
            send_msg(r, out, q, ref, t);
    }
}

static uint32_t mesh_count(const mn_relay *r, uint32_t topic, uint32_t *outbound);

/* Keeps topic t's fanout at d peers: drops peers gone or below the publish threshold, adds
 * random ones (not explicit, not in the mesh) at or above it. */
static void fanout_fill(mn_relay *r, uint32_t t, uint64_t now_ms)
{
    uint32_t have = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *o = &r->peers[q];
        if (!(o->fanout & BIT(t)))
            continue;
        if (!o->up || o->info.explicit_peer ||
            score_now(r, o, now_ms) < r->cfg.score.publish_threshold)
            o->fanout &= ~BIT(t);
        else
            have++;
    }
    if (have >= r->cfg.mesh.d)
        return;
    uint16_t cand[MN_RELAY_PEERS_MAX];
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *o = &r->peers[q];
        if (o->up && !o->info.explicit_peer && !(o->fanout & BIT(t)) && !(o->mesh & BIT(t)) &&
            score_now(r, o, now_ms) >= r->cfg.score.publish_threshold)
            cand[n++] = (uint16_t)q;
    }
    const uint32_t want = r->cfg.mesh.d - have;
    sample(r, cand, n, want);
    for (uint32_t i = 0; i < want && i < n; i++)
        r->peers[cand[i]].fanout |= BIT(t);
}

int mn_relay_publish(mn_relay *r, const uint8_t *data, size_t len, uint64_t ref,
                     uint64_t now_ms, mn_relay_actions *out, mn_err *err)
{
    out_clear(out);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    mn_relay_env env;
    MN_TRY(mn_relay_env_decode(data, len, &env, err));
    uint8_t id[MN_RELAY_ID_BYTES];
    mn_relay_msg_id(id, data, len);
    if (mn_relay_seen_has(&r->seen, id, now_ms))
        return mn_err_set(err, MN_EINVAL, 0, "gossip publish: message already seen");
    mn_relay_seen_add(&r->seen, id, now_ms);
    uint32_t t = env.topic;
    r->metrics.msgs_published[TOPIC_INDEX(t)]++;
    r->rate_count[TOPIC_INDEX(t)]++;
    remember(r, out, id, t, ref, len, now_ms);
    const bool sub = (r->cfg.subscribed & BIT(t)) != 0;
    const bool flood = sub && r->cfg.mesh.flood_publish;
    const bool fan = !sub || (!flood && mesh_count(r, t, NULL) == 0);
    if (fan) {
        r->fanout_pub_ms[TOPIC_INDEX(t)] = now_ms;
        fanout_fill(r, t, now_ms);
    }
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *o = &r->peers[q];
        if (!o->up)
            continue;
        bool to = o->info.explicit_peer || (!fan && (o->mesh & BIT(t)));
        if (!to && fan && (o->fanout & BIT(t))) {
            to = true;
            r->metrics.fanout_out[TOPIC_INDEX(t)]++;
        }
        if (!to && flood)
            to = score_now(r, o, now_ms) >= r->cfg.score.publish_threshold;
        if (to)
            send_msg(r, out, q, ref, t);
    }
    return 0;
}

/* ---- control --------------------------------------------------------------------------- */

static uint32_t mesh_count(const mn_relay *r, uint32_t topic, uint32_t *outbound)
{
    uint32_t n = 0, o = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        if (r->peers[q].up && (r->peers[q].mesh & BIT(topic))) {
            n++;
            o += r->peers[q].info.outbound;
        }
    if (outbound)
        *outbound = o;
    return n;
}

static void on_graft(mn_relay *r, uint32_t peer, uint32_t t, int64_t score, uint64_t now_ms,
                     mn_relay_actions *out)
{
    mn_relay_peer *p = &r->peers[peer];
    r->metrics.graft_in++;
    if (p->mesh & BIT(t))
        return;
    if (p->info.explicit_peer || !(r->cfg.subscribed & BIT(t))) {
        prune_to(r, out, peer, t, false, now_ms); /* not a mesh of ours: no penalty */
        return;
    }
    if (p->backoff_until_ms[TOPIC_INDEX(t)] > now_ms) {
        mn_relay_score_penalty(&p->score); /* grafting while told to back off */
        prune_to(r, out, peer, t, false, now_ms);
        return;
    }
    if (score < 0) {
        prune_to(r, out, peer, t, false, now_ms);
        return;
    }
    if (!p->info.outbound && mesh_count(r, t, NULL) >= r->cfg.mesh.d_hi) {
        prune_to(r, out, peer, t, true, now_ms);
        return;
    }
    mesh_add(p, t, now_ms);
}

static void on_ihave(mn_relay *r, uint32_t peer, const mn_relay_ctrl *c, uint64_t now_ms,
                     mn_relay_actions *out)
{
    mn_relay_peer *p = &r->peers[peer];
    r->metrics.ihave_in += c->ihave_count;
    if (++p->ihave_recv > r->cfg.mesh.ihave_per_heartbeat)
        return;
    mn_relay_ctrl *reply = NULL;
    for (uint32_t i = 0; i < c->ihave_count; i++) {
        const uint8_t *id = c->ihave[i].id;
        if (p->iwant_asked >= MN_RELAY_IWANT_IDS_MAX)
            break;
        if (mn_relay_seen_has(&r->seen, id, now_ms))
            continue;
        if (reply == NULL)
            reply = ctrl_for(out, peer);
        bool dup = false;
        for (uint32_t j = 0; j < reply->iwant_count && !dup; j++)
            dup = memcmp(reply->iwant[j], id, MN_RELAY_ID_BYTES) == 0;
        if (dup || reply->iwant_count >= MN_RELAY_IWANT_IDS_MAX)
            continue;
        memcpy(reply->iwant[reply->iwant_count++], id, MN_RELAY_ID_BYTES);
        p->iwant_asked++;
    }
    if (reply != NULL && reply->iwant_count > 0 && p->promises_count < MN_RELAY_PROMISES_MAX) {
        /* One promise per IWANT, on an id chosen at random (gossipsub's tracer does the same). */
        mn_relay_promise *pr = &p->promises[p->promises_count++];
        memcpy(pr->id, reply->iwant[rnd(r) % reply->iwant_count], MN_RELAY_ID_BYTES);
        pr->due_ms = now_ms + r->cfg.mesh.iwant_followup_ms;
    }
}

/* Answers one IWANT id from the history, at most MN_RELAY_IWANT_RETRANSMIT_MAX times per id and
 * iwant_bytes_per_heartbeat bytes per heartbeat to one peer. */
static void serve_iwant(mn_relay *r, uint32_t peer, const uint8_t id[MN_RELAY_ID_BYTES],
                        mn_relay_actions *out)
{
    mn_relay_peer *p = &r->peers[peer];
    const mn_relay_mcache_entry *e = mn_relay_mcache_get(&r->mcache, id);
    if (e == NULL)
        return;
    uint32_t k = 0;
    while (k < MN_RELAY_SERVED_MAX && memcmp(p->served[k].id, id, MN_RELAY_ID_BYTES) != 0)
        k++;
    if ((k < MN_RELAY_SERVED_MAX && p->served[k].count >= MN_RELAY_IWANT_RETRANSMIT_MAX) ||
        p->iwant_bytes + e->len > r->cfg.mesh.iwant_bytes_per_heartbeat) {
        r->metrics.iwant_refused++;
        return;
    }
    if (k == MN_RELAY_SERVED_MAX) {
        k = p->served_next;
        p->served_next = (p->served_next + 1) % MN_RELAY_SERVED_MAX;
        memcpy(p->served[k].id, id, MN_RELAY_ID_BYTES);
        p->served[k].count = 0;
    }
    p->served[k].count++;
    p->iwant_bytes += e->len;
    send_msg(r, out, peer, e->ref, e->topic);
    r->metrics.iwant_served++;
}

void mn_relay_on_ctrl_decoded(mn_relay *r, uint32_t peer, const mn_relay_ctrl *c,
                              uint64_t now_ms, mn_relay_actions *out)
{
    out_clear(out);
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX && r->peers[peer].up);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    mn_relay_peer *p = &r->peers[peer];
    int64_t score = score_now(r, p, now_ms);
    if (score < r->cfg.score.graylist_threshold) {
        r->metrics.graylisted++;
        return;
    }
    r->metrics.ctrl_in++;
    for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++)
        if (c->graft & BIT(t))
            on_graft(r, peer, t, score, now_ms, out);
    for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++) {
        if (!(c->prune & BIT(t)))
            continue;
        r->metrics.prune_in++;
        if (p->mesh & BIT(t))
            mesh_remove(r, p, t, now_ms);
        uint32_t b = c->backoff_s ? c->backoff_s : r->cfg.mesh.prune_backoff_s;
        p->backoff_until_ms[TOPIC_INDEX(t)] = backoff_until(r, now_ms, b);
    }
    if (c->prune && score >= r->cfg.score.accept_px_threshold)
        for (uint32_t i = 0; i < c->px_count; i++)
            push(out, MN_RELAY_ACT_PX, peer)->px = c->px[i];
    if (score >= r->cfg.score.gossip_threshold) {
        if (c->ihave_count)
            on_ihave(r, peer, c, now_ms, out);
        r->metrics.iwant_in += c->iwant_count;
        for (uint32_t i = 0; i < c->iwant_count; i++)
            serve_iwant(r, peer, c->iwant[i], out);
    }
    flush(r, out);
}

void mn_relay_on_ctrl(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                      uint64_t now_ms, mn_relay_actions *out)
{
    out_clear(out);
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX && r->peers[peer].up);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    mn_relay_peer *p = &r->peers[peer];
    if (!mn_relay_bucket_take2(&p->msgs, &r->cfg.peer_msgs, 1, &p->bytes, &r->cfg.peer_bytes,
                               len, now_ms)) {
        r->metrics.rate_limited++;
        return;
    }
    mn_relay_ctrl c;
    mn_err err;
    if (mn_relay_ctrl_decode(data, len, &c, &err) != 0) {
        r->metrics.ctrl_undecodable++;
        mn_relay_score_penalty(&p->score);
        return;
    }
    mn_relay_on_ctrl_decoded(r, peer, &c, now_ms, out);
}

/* ---- heartbeat ------------------------------------------------------------------------- */

static void colocation(mn_relay *r)
{
    uint16_t up[MN_RELAY_PEERS_MAX];
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        if (r->peers[q].up && !r->peers[q].info.explicit_peer &&
            !r->peers[q].info.colocation_exempt)
            up[n++] = (uint16_t)q;
        else if (r->peers[q].up)
            r->peers[q].score.colocated = 0;
    for (uint32_t a = 0; a < n; a++) {
        uint32_t same = 0;
        for (uint32_t b = 0; b < n; b++)
            same += memcmp(r->peers[up[b]].info.addr, r->peers[up[a]].info.addr, 16) == 0;
        r->peers[up[a]].score.colocated = same;
    }
}

/* Grafts up to want peers chosen at random among those not in the mesh, not backing off, at
 * or above zero, and (outbound_only) dialled by us. */
static void graft_some(mn_relay *r, uint32_t t, uint32_t want, bool outbound_only,
                       uint64_t now_ms, mn_relay_actions *out)
{
    uint16_t cand[MN_RELAY_PEERS_MAX];
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        const mn_relay_peer *o = &r->peers[q];
        if (o->up && !o->info.explicit_peer && !(o->mesh & BIT(t)) &&
            o->backoff_until_ms[TOPIC_INDEX(t)] <= now_ms && o->score_cached >= 0 &&
            (!outbound_only || o->info.outbound))
            cand[n++] = (uint16_t)q;
    }
    sample(r, cand, n, want);
    for (uint32_t i = 0; i < want && i < n; i++) {
        mesh_add(&r->peers[cand[i]], t, now_ms);
        ctrl_for(out, cand[i])->graft |= BIT(t);
    }
}

/* Above d_hi: keep the d_score best, then random ones up to d, with at least d_out outbound. */
static void prune_excess(mn_relay *r, uint32_t t, uint64_t now_ms, mn_relay_actions *out)
{
    const mn_relay_mesh_params *m = &r->cfg.mesh;
    uint16_t v[MN_RELAY_PEERS_MAX];
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        if (r->peers[q].up && (r->peers[q].mesh & BIT(t)))
            v[n++] = (uint16_t)q;
    /* insertion sort by score, best first (n <= PEERS_MAX, once a heartbeat) */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && r->peers[v[j]].score_cached > r->peers[v[j - 1]].score_cached;
             j--) {
            uint16_t tmp = v[j];
            v[j] = v[j - 1], v[j - 1] = tmp;
        }
    sample(r, v + m->d_score, n - m->d_score, m->d - m->d_score);
    /* v[0..d) is kept. Swap outbound peers in for inbound random picks until d_out hold. */
    uint32_t outb = 0;
    for (uint32_t i = 0; i < m->d; i++)
        outb += r->peers[v[i]].info.outbound;
    for (uint32_t i = m->d; i < n && outb < m->d_out; i++) {
        if (!r->peers[v[i]].info.outbound)
            continue;
        for (uint32_t k = m->d; k-- > m->d_score;)
            if (!r->peers[v[k]].info.outbound) {
                uint16_t tmp = v[k];
                v[k] = v[i], v[i] = tmp;
                outb++;
                break;
            }
    }
    for (uint32_t i = m->d; i < n; i++) {
        mesh_remove(r, &r->peers[v[i]], t, now_ms);
        prune_to(r, out, v[i], t, true, now_ms);
    }
}

/* Opportunistic grafting: the mesh's median score below og_threshold brings in og_peers
 * peers that score above the median (gossipsub v1.1). */
static void graft_better(mn_relay *r, uint32_t t, uint64_t now_ms, mn_relay_actions *out)
{
    int64_t v[MN_RELAY_PEERS_MAX];
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        if (r->peers[q].up && (r->peers[q].mesh & BIT(t)))
            v[n++] = r->peers[q].score_cached;
    if (n < 2)
        return;
    for (uint32_t i = 1; i < n; i++) /* insertion sort, ascending */
        for (uint32_t j = i; j > 0 && v[j] < v[j - 1]; j--) {
            int64_t tmp = v[j];
            v[j] = v[j - 1], v[j - 1] = tmp;
        }
    int64_t median = v[n / 2];
    if (median >= r->cfg.mesh.og_threshold)
        return;
    uint16_t cand[MN_RELAY_PEERS_MAX];
    uint32_t k = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        const mn_relay_peer *o = &r->peers[q];
        if (o->up && !o->info.explicit_peer && !(o->mesh & BIT(t)) &&
            o->backoff_until_ms[TOPIC_INDEX(t)] <= now_ms && o->score_cached > median)
            cand[k++] = (uint16_t)q;
    }
    sample(r, cand, k, r->cfg.mesh.og_peers);
    for (uint32_t i = 0; i < r->cfg.mesh.og_peers && i < k; i++) {
        mesh_add(&r->peers[cand[i]], t, now_ms);
        ctrl_for(out, cand[i])->graft |= BIT(t);
        r->metrics.opportunistic_grafts++;
    }
}

/* IHAVE of the topic's recent ids (newest first) to d_lazy peers outside the mesh. */
static void gossip(mn_relay *r, uint32_t t, mn_relay_actions *out)
{
    const mn_relay_mcache *mc = &r->mcache;
    uint32_t idx[MN_RELAY_IHAVE_IDS_MAX], k = 0;
    for (uint32_t i = mc->count; i-- > 0 && k < MN_RELAY_IHAVE_IDS_MAX;) {
        uint32_t e = (mc->head + i) & (MN_RELAY_MCACHE_MAX - 1);
        if (mc->entries[e].window + MN_RELAY_GOSSIP_WINDOWS <= mc->window)
            break;
        if (mc->entries[e].topic == t)
            idx[k++] = e;
    }
    if (k == 0)
        return;
    uint16_t cand[MN_RELAY_PEERS_MAX];
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        const mn_relay_peer *o = &r->peers[q];
        if (o->up && !o->info.explicit_peer && !(o->mesh & BIT(t)) &&
            o->score_cached >= r->cfg.score.gossip_threshold)
            cand[n++] = (uint16_t)q;
    }
    sample(r, cand, n, r->cfg.mesh.d_lazy);
    for (uint32_t i = 0; i < r->cfg.mesh.d_lazy && i < n; i++) {
        mn_relay_ctrl *c = ctrl_for(out, cand[i]);
        for (uint32_t j = 0; j < k && c->ihave_count < MN_RELAY_IHAVE_IDS_MAX; j++) {
            c->ihave[c->ihave_count].topic = t;
            memcpy(c->ihave[c->ihave_count++].id, mc->entries[idx[j]].id, MN_RELAY_ID_BYTES);
            r->metrics.ihave_out++;
        }
    }
}

/* Each MN_RELAY_RATE_WINDOW_MS: the topics' measured rates (the average of the last window and
 * the previous average), and with auto_threshold the P3 threshold of each topic from its rate:
 * rate/4 + 1 deliveries, off (0) below one message a second. A mesh peer's delivery counter
 * settles near 10 x (its share of deliveries) x rate with the 0.9/s decay, so the rule asks a
 * mesh peer for about one message in forty, and a quiet topic never pushes peers below zero. */
static void rates(mn_relay *r, uint64_t now_ms)
{
    if (now_ms < r->rate_since_ms) {
        r->rate_since_ms = now_ms;
        return;
    }
    const uint64_t span = now_ms - r->rate_since_ms;
    if (span < MN_RELAY_RATE_WINDOW_MS)
        return;
    r->rate_since_ms = now_ms;
    for (uint32_t i = 0; i < MN_RELAY_TOPICS_COUNT; i++) {
        const uint64_t c = r->rate_count[i] > UINT32_MAX ? UINT32_MAX : r->rate_count[i];
        const uint64_t inst = c * 1000000u / span; /* thousandths of a message a second */
        r->rate_milli[i] = (r->rate_milli[i] + inst) / 2;
        r->rate_count[i] = 0;
        if (!r->cfg.mesh.auto_threshold)
            continue;
        uint64_t thr = r->rate_milli[i] >= 1000 ? r->rate_milli[i] / 4000 + 1 : 0;
        if (thr > MN_RELAY_SCORE_COUNT_MAX)
            thr = MN_RELAY_SCORE_COUNT_MAX;
        r->cfg.score.mesh_threshold[i] = (uint32_t)thr;
    }
}

void mn_relay_heartbeat(mn_relay *r, uint64_t now_ms, mn_relay_actions *out)
{
    out_clear(out);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    r->heartbeats++;
    const mn_relay_mesh_params *m = &r->cfg.mesh;
    colocation(r);
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *p = &r->peers[q];
        if (!p->up)
            continue;
        for (uint32_t i = 0; i < p->promises_count;) {
            if (p->promises[i].due_ms <= now_ms) {
                mn_relay_score_penalty(&p->score);
                r->metrics.promises_broken++;
                p->promises[i] = p->promises[--p->promises_count];
            } else {
                i++;
            }
        }
        p->score_cached = score_now(r, p, now_ms);
        p->ihave_recv = 0;
        p->iwant_asked = 0;
        p->iwant_bytes = 0;
    }
    rates(r, now_ms);
    for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++) {
        const uint32_t ti = TOPIC_INDEX(t);
        if (r->fanout_pub_ms[ti] != 0) { /* fanout: kept while we publish, then forgotten */
            if (now_ms - r->fanout_pub_ms[ti] > m->fanout_ttl_ms) {
                r->fanout_pub_ms[ti] = 0;
                for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
                    r->peers[q].fanout &= ~BIT(t);
            } else {
                fanout_fill(r, t, now_ms);
            }
        }
        if (!(r->cfg.subscribed & BIT(t))) {
            /* not our mesh: leave it (no PX), keep advertising what we have */
            for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
                if (r->peers[q].up && (r->peers[q].mesh & BIT(t))) {
                    mesh_remove(r, &r->peers[q], t, now_ms);
                    prune_to(r, out, q, t, false, now_ms);
                }
            gossip(r, t, out);
            continue;
        }
        for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
            mn_relay_peer *p = &r->peers[q];
            if (p->up && (p->mesh & BIT(t)) && p->score_cached < 0) {
                mesh_remove(r, p, t, now_ms);
                prune_to(r, out, q, t, false, now_ms);
                r->metrics.peers_pruned_score++;
            }
        }
        uint32_t outb, n = mesh_count(r, t, &outb);
        if (n < m->d_lo) {
            /* outbound peers first, so the mesh reaches d with d_out of them when it can */
            if (outb < m->d_out)
                graft_some(r, t, m->d_out - outb, true, now_ms, out);
            n = mesh_count(r, t, &outb);
            if (n < m->d)
                graft_some(r, t, m->d - n, false, now_ms, out);
        } else if (n > m->d_hi) {
            prune_excess(r, t, now_ms, out);
        }
        n = mesh_count(r, t, &outb);
        if (outb < m->d_out)
            graft_some(r, t, m->d_out - outb, true, now_ms, out);
        if (m->og_ticks != 0 && r->heartbeats % m->og_ticks == 0)
            graft_better(r, t, now_ms, out);
        gossip(r, t, out);
    }
    mn__relay_health(r, now_ms, out);
    r->mcache.window++;
    uint64_t ref;
    while (mn_relay_mcache_expire_one(&r->mcache, &ref))
        release(r, out, ref);
    flush(r, out);
}
