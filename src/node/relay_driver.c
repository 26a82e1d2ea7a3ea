/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_driver.c: the relay (relay.h) on a running node: BPCI services in, actions out, a uv
 * heartbeat, and the envelope bytes held under the relay's handles (refs). Refs count up from
 * 1; the bytes of ref r live in slot r % MN_NODE_RELAY_HELD_MAX until the relay releases r, a
 * newer ref needs the slot, or the bytes cap drops the oldest. A SEND_MSG of a ref no longer
 * held is skipped (the peer can still get it by IWANT elsewhere, or by block sync).
 *
 * Peers' addresses and directions come from the BPCI node; who we talk to (admission, the
 * address book, dials, anchors) is relay_book.c. DIAL of explicit peers is left to the BPCI
 * node's persistent dials of the validators.
 *
 * Not here: what a block or transaction means (the application callbacks of node.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "metanode/clock.h"
#include "metanode/log.h"
#include "metanode/node_msg.h"
#include "metanode/relay.h"
#include "relay_driver_int.h"

uint64_t mn__rd_now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

/* ---- held bytes ---------------------------------------------------------------------------- */

static held *held_of(mn_relay_driver *d, uint64_t ref)
{
    held *h = &d->held[ref & (MN_NODE_RELAY_HELD_MAX - 1)];
    return h->ref == ref && ref != 0 ? h : NULL;
}

static void held_free(mn_relay_driver *d, held *h)
{
    d->held_bytes -= h->bytes.len;
    h->bytes.len = 0;
    h->ref = 0;
}

/* Keeps a copy of bytes under a new ref: returns it, or 0 (out of memory). */
static uint64_t held_put(mn_relay_driver *d, const uint8_t *bytes, size_t len)
{
    const uint64_t ref = d->next_ref++;
    held *h = &d->held[ref & (MN_NODE_RELAY_HELD_MAX - 1)];
    if (h->ref != 0) {
        held_free(d, h);
        d->held_dropped++;
    }
    while (d->held_bytes + len > MN_NODE_RELAY_HELD_BYTES && d->oldest_ref < ref) {
        held *o = held_of(d, d->oldest_ref++);
        if (o != NULL) {
            held_free(d, o);
            d->held_dropped++;
        }
    }
    if (d->oldest_ref + MN_NODE_RELAY_HELD_MAX <= ref)
        d->oldest_ref = ref - MN_NODE_RELAY_HELD_MAX + 1;
    mn_err err;
    h->bytes.len = 0;
    if (mn_buf_append(&h->bytes, bytes, len, &err) != 0)
        return 0;
    h->ref = ref;
    d->held_bytes += len;
    return ref;
}

/* ---- peers ------------------------------------------------------------------------------- */

int mn__rd_slot_find(const mn_relay_driver *d, const uint8_t id[MN_ID_BYTES])
{
    for (uint32_t i = 0; i < MN_RELAY_PEERS_MAX; i++)
        if (d->slots[i].up && memcmp(d->slots[i].id, id, MN_ID_BYTES) == 0)
            return (int)i;
    return -1;
}

bool mn__rd_is_validator(const mn_relay_driver *d, const uint8_t id[MN_ID_BYTES])
{
    for (uint32_t i = 0; i < d->validator_count; i++)
        if (memcmp(d->validators[i], id, MN_ID_BYTES) == 0)
            return true;
    return false;
}

/* ---- actions ------------------------------------------------------------------------------- */

void mn__rd_send(mn_relay_driver *d, uint32_t peer, uint16_t svc, const uint8_t *b, size_t len)
{
    mn_err err;
    if (peer >= MN_RELAY_PEERS_MAX || !d->slots[peer].up)
        return;
    if (mn_bpci_node_send(d->net, d->slots[peer].id, svc, b, len, &err) != 0)
        d->send_failed++;
}

static void run(mn_relay_driver *d)
{
    mn_err err;
    for (uint32_t i = 0; i < d->out->count; i++) {
        const mn_relay_action *a = &d->out->items[i];
        switch (a->kind) {
        case MN_RELAY_ACT_SEND_MSG: {
            const held *h = held_of(d, a->ref);
            if (h != NULL)
                mn__rd_send(d, a->peer, MN_NODE_SVC_GOSSIP, h->bytes.data, h->bytes.len);
            break;
        }
        case MN_RELAY_ACT_SEND_CTRL:
            d->scratch.len = 0;
            if (mn_relay_ctrl_encode(&d->out->ctrls[a->ctrl], &d->scratch, &err) == 0)
                mn__rd_send(d, a->peer, MN_NODE_SVC_RELAY_CTRL, d->scratch.data, d->scratch.len);
            break;
        case MN_RELAY_ACT_RELEASE: {
            held *h = held_of(d, a->ref);
            if (h != NULL)
                held_free(d, h);
            break;
        }
        case MN_RELAY_ACT_PX:
            d->px_seen++;
            mn__rd_book_px(d, a->peer, &a->px);
            break;
        case MN_RELAY_ACT_PING:
            if (a->peer < MN_RELAY_PEERS_MAX && d->slots[a->peer].up &&
                mn_bpci_node_ping(d->net, d->slots[a->peer].id, &err) == 0) {
                d->slots[a->peer].ping_pending = true;
                d->slots[a->peer].rtt_before_ns = mn_bpci_node_rtt_ns(d->net,
                                                                      d->slots[a->peer].id);
            }
            break;
        case MN_RELAY_ACT_DISCONNECT:
            /* never a validator link: the BPCI node would stop redialling it */
            if (a->peer < MN_RELAY_PEERS_MAX && d->slots[a->peer].up &&
                !mn__rd_is_validator(d, d->slots[a->peer].id)) {
                d->disconnects++;
                mn__rd_book_dropped(d, a->peer);
                (void)mn_bpci_node_disconnect(d->net, d->slots[a->peer].id, 0, &err);
            }
            break;
        case MN_RELAY_ACT_DIAL:
            if (!mn__rd_book_dial_node(d, a->px.node))
                d->dials_left++; /* a genesis validator (the BPCI node redials it), or unknown */
            break;
        }
    }
    d->out->count = 0;
}

/* ---- events -------------------------------------------------------------------------------- */

void mn_relay_driver_set_validators(mn_relay_driver *d, const uint8_t (*ids)[MN_ID_BYTES],
                                    uint32_t count, bool self_validator)
{
    if (d == NULL || d->closing || count > MN_VALIDATORS_MAX)
        return;
    uint8_t(*v)[MN_ID_BYTES] = calloc(count + 1u, MN_ID_BYTES);
    if (v == NULL)
        return;
    if (count > 0)
        memcpy(v, ids, (size_t)count * MN_ID_BYTES);
    free(d->validators);
    d->validators = v;
    d->validator_count = count;
    static _Thread_local uint8_t expl[MN_VALIDATORS_MAX][MN_ID_BYTES];
    uint32_t k = 0;
    for (uint32_t i = 0; self_validator && i < count; i++)
        if (memcmp(ids[i], d->self_id, MN_ID_BYTES) != 0)
            memcpy(expl[k++], ids[i], MN_ID_BYTES);
    mn_relay_set_explicit(d->r, (const uint8_t(*)[MN_ID_BYTES])expl, k, mn__rd_now_ms());
}

void mn_relay_driver_peer(mn_relay_driver *d, const uint8_t id[MN_ID_BYTES], bool up)
{
    if (d == NULL || d->closing)
        return;
    const int s = mn__rd_slot_find(d, id);
    const uint64_t t = mn__rd_now_ms();
    if (!up) {
        if (s >= 0) {
            mn_relay_on_peer_down(d->r, (uint32_t)s, t);
            mn__rd_book_peer_down(d, (uint32_t)s);
            d->slots[s].up = false;
        }
        return;
    }
    if (s >= 0)
        return;
    for (uint32_t i = 0; i < MN_RELAY_PEERS_MAX; i++) {
        if (d->slots[i].up)
            continue;
        memset(&d->slots[i], 0, sizeof(d->slots[i]));
        d->slots[i].up = true;
        memcpy(d->slots[i].id, id, MN_ID_BYTES);
        mn_relay_peer_info info;
        memset(&info, 0, sizeof(info));
        memcpy(info.node, id, MN_ID_BYTES);
        mn__rd_book_peer_up(d, i, &info); /* address, port, direction */
        mn_relay_on_peer_up(d->r, i, &info, t);
        mn__rd_book_peer_ready(d, i);
        return;
    }
    d->peers_refused++;
}

void mn__rd_penalise(mn_relay_driver *d, uint32_t peer, const char *what)
{
    if (peer < MN_RELAY_PEERS_MAX && d->slots[peer].up) {
        d->slots[peer].app_invalid++;
        mn_relay_set_app_score(d->r, peer, (int64_t)d->slots[peer].app_invalid * APP_PENALTY);
        char hx[17];
        mn_hex_encode(hx, d->slots[peer].id, 8);
        MN_LOG(WARN, "relay", "invalid %s from %s... (penalised)", what, hx);
    }
}

static void on_gossip(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                      const uint8_t *data, size_t len)
{
    mn_relay_driver *d = ctx;
    (void)svc;
    const int s = mn__rd_slot_find(d, from);
    if (d->closing || s < 0)
        return;
    const uint64_t ref = d->next_ref;
    mn_relay_admission adm;
    mn_relay_on_gossip(d->r, (uint32_t)s, data, len, ref, mn__rd_now_ms(), &adm, d->out);
    if (adm.verdict == MN_RELAY_ACCEPT && held_put(d, data, len) != ref)
        d->held_dropped++; /* out of memory: the forwards below are skipped */
    run(d);
    if (adm.verdict != MN_RELAY_ACCEPT)
        return;
    int rc = 0;
    switch (adm.topic) {
    case MN_RELAY_TOPIC_BLOCKS:
        rc = d->app.on_block ? d->app.on_block(d->app.ctx, adm.env.payload, adm.env.payload_len)
                             : 0;
        break;
    case MN_RELAY_TOPIC_TRANSACTIONS:
        rc = d->app.on_tx ? d->app.on_tx(d->app.ctx, adm.env.payload, adm.env.payload_len) : 0;
        break;
    default:
        return; /* receipts and consensus are not used by the node yet */
    }
    if (rc == -MN_ECORRUPT || rc == -MN_ECRYPTO) {
        d->app_invalid[adm.topic - MN_RELAY_TOPIC_FIRST]++;
        mn__rd_penalise(d, (uint32_t)s,
                        adm.topic == MN_RELAY_TOPIC_BLOCKS ? "block" : "transaction");
        return;
    }
    d->app_accepted[adm.topic - MN_RELAY_TOPIC_FIRST]++;
    if (rc > 0)
        d->app_applied[adm.topic - MN_RELAY_TOPIC_FIRST]++;
}

static void on_ctrl(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                    const uint8_t *data, size_t len)
{
    mn_relay_driver *d = ctx;
    (void)svc;
    const int s = mn__rd_slot_find(d, from);
    if (d->closing || s < 0)
        return;
    mn_relay_on_ctrl(d->r, (uint32_t)s, data, len, mn__rd_now_ms(), d->out);
    run(d);
}

static void on_heartbeat(uv_timer_t *t)
{
    mn_relay_driver *d = t->data;
    if (d->closing)
        return;
    const uint64_t now = mn__rd_now_ms();
    for (uint32_t i = 0; i < MN_RELAY_PEERS_MAX; i++) {
        slot *s = &d->slots[i];
        if (!s->up || !s->ping_pending)
            continue;
        /* the BPCI node keeps the last round trip: a new value is the answer to our ping; an
         * unanswered ping is left to the relay's rtt_max_ms rule */
        const uint64_t rtt = mn_bpci_node_rtt_ns(d->net, s->id);
        if (rtt > 0 && rtt != s->rtt_before_ns) {
            const uint64_t ms = rtt / 1000000u;
            mn_relay_on_pong(d->r, i, ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms, now);
            s->ping_pending = false;
        }
    }
    mn_relay_heartbeat(d->r, now, d->out);
    run(d);
    mn__rd_book_tick(d, now);
}

static void publish(mn_relay_driver *d, uint32_t topic, const uint8_t *payload, size_t len)
{
    if (d == NULL || d->closing)
        return;
    mn_err err;
    mn_relay_env env;
    memset(&env, 0, sizeof(env));
    env.topic = topic;
    env.seq = d->seq++;
    env.payload = payload;
    env.payload_len = len;
    d->scratch.len = 0;
    if (mn_relay_env_sign(&env, &d->key, &err) != 0 ||
        mn_relay_env_encode(&env, &d->scratch, &err) != 0) {
        d->publish_failed++;
        MN_LOG(DEBUG, "relay", "cannot publish on topic %u: %s", topic, err.msg);
        return;
    }
    const uint64_t ref = held_put(d, d->scratch.data, d->scratch.len);
    const held *h = held_of(d, ref);
    if (h == NULL ||
        mn_relay_publish(d->r, h->bytes.data, h->bytes.len, ref, mn__rd_now_ms(), d->out, &err) != 0) {
        d->publish_failed++;
        d->out->count = 0;
        held *hh = held_of(d, ref);
        if (hh != NULL)
            held_free(d, hh);
        return;
    }
    run(d);
}

void mn_relay_driver_publish_block(mn_relay_driver *d, const mn_block_header *h,
                                   const mn_commit_cert *c, const uint8_t *body, size_t len)
{
    if (d == NULL)
        return;
    mn_err err;
    d->payload.len = 0;
    if (mn_nmsg_encode_sync_block(h, c, body, len, &d->payload, &err) != 0 ||
        d->payload.len > MN_RELAY_PAYLOAD_BYTES_MAX) {
        d->publish_failed++; /* too large for one envelope: block sync carries it */
        return;
    }
    publish(d, MN_RELAY_TOPIC_BLOCKS, d->payload.data, d->payload.len);
}

void mn_relay_driver_publish_tx(mn_relay_driver *d, const uint8_t *tx, size_t len)
{
    publish(d, MN_RELAY_TOPIC_TRANSACTIONS, tx, len);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

int mn_relay_driver_register(mn_bpci_registry *reg, mn_err *err)
{
    MN_TRY(mn_bpci_registry_add(reg, MN_NODE_SVC_GOSSIP, true, err));
    MN_TRY(mn_bpci_registry_add(reg, MN_NODE_SVC_ADDRS, true, err));
    return mn_bpci_registry_add(reg, MN_NODE_SVC_RELAY_CTRL, true, err);
}

int mn_relay_driver_new(uv_loop_t *loop, mn_bpci_node *net, const mn_relay_driver_config *cfg,
                        mn_relay_driver **out, mn_err *err)
{
    mn_relay_driver *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "relay driver");
    d->loop = loop;
    d->net = net;
    d->key = *cfg->key;
    mn_node_id(d->self_id, d->key.pk);
    d->app = cfg->app;
    d->r = calloc(1, sizeof(*d->r));
    d->out = calloc(1, sizeof(*d->out));
    d->held = calloc(MN_NODE_RELAY_HELD_MAX, sizeof(*d->held));
    d->validators = calloc(cfg->validator_count + 1, MN_ID_BYTES);
    mn_buf_init(&d->scratch, 0);
    mn_buf_init(&d->payload, 0);
    if (d->r == NULL || d->out == NULL || d->held == NULL || d->validators == NULL) {
        d->closed = true;
        mn_relay_driver_free(d);
        return mn_err_set(err, MN_ENOMEM, 0, "relay driver");
    }
    for (uint32_t i = 0; i < MN_NODE_RELAY_HELD_MAX; i++)
        mn_buf_init(&d->held[i].bytes, 0);
    if (cfg->validator_count > 0)
        memcpy(d->validators, cfg->validators, (size_t)cfg->validator_count * MN_ID_BYTES);
    d->validator_count = cfg->validator_count;
    d->next_ref = d->oldest_ref = 1;
    /* seq: unique per signer across restarts, so a restarted node's messages are never taken
     * for the ones it sent before (same signer, same seq, same payload would be one id) */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    d->seq = ((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u) << 20;

    static _Thread_local mn_relay_config rc;
    mn_relay_config_default(&rc);
    mn_rng *rng = mn_rng_system();
    rng->fill(rng, rc.seen_key, sizeof(rc.seen_key));
    rng->fill(rng, rc.rng_seed, sizeof(rc.rng_seed));
    /* P3 thresholds follow the measured rates (docs/relay.md); validators do not join the
     * blocks mesh (they decide blocks by consensus and ignore relayed ones): they publish
     * decided blocks through fanout, and followers' meshes carry them on */
    rc.mesh.auto_threshold = true;
    rc.score.mesh_window_ms = 2000; /* as in the simulation that checked the rule */
    if (cfg->self_validator)
        rc.subscribed &= ~(1u << MN_RELAY_TOPIC_BLOCKS);
    if (cfg->self_validator) {
        uint8_t self[MN_ID_BYTES];
        mn_node_id(self, d->key.pk);
        for (uint32_t i = 0; i < cfg->validator_count && rc.explicit_count < MN_VALIDATORS_MAX;
             i++)
            if (memcmp(cfg->validators[i], self, MN_ID_BYTES) != 0)
                memcpy(rc.explicit_nodes[rc.explicit_count++], cfg->validators[i], MN_ID_BYTES);
    }
    int rc_ = mn_relay_config_check(&rc, err);
    if (rc_ == 0) {
        mn_relay_init(d->r, &rc, mn__rd_now_ms());
        rc_ = mn_bpci_node_on_service(net, MN_NODE_SVC_GOSSIP, on_gossip, d, err);
    }
    if (rc_ == 0)
        rc_ = mn_bpci_node_on_service(net, MN_NODE_SVC_RELAY_CTRL, on_ctrl, d, err);
    if (rc_ == 0)
        rc_ = mn__rd_book_start(d, cfg, err);
    if (rc_ != 0) {
        d->closed = true;
        mn_relay_driver_free(d);
        return rc_;
    }
    uv_timer_init(loop, &d->hb);
    d->hb.data = d;
    uv_timer_start(&d->hb, on_heartbeat, rc.mesh.heartbeat_ms, rc.mesh.heartbeat_ms);
    *out = d;
    return 0;
}

static const char *const topic_names[MN_RELAY_TOPICS_COUNT] = {"blocks", "transactions",
                                                               "receipts", "consensus"};

int mn_relay_driver_metrics(const mn_relay_driver *d, mn_buf *out, mn_err *err)
{
    if (d == NULL)
        return 0;
    MN_TRY(mn_relay_metrics_write(d->r, out, err));
    MN_TRY(mn__rd_book_metrics(d, out, err));
#define APPEND(...) MN_TRY(mn_buf_appendf(out, err, __VA_ARGS__))
    APPEND("# HELP mn_relay_app_accepted_total Accepted payloads the node found valid.\n"
           "# TYPE mn_relay_app_accepted_total counter\n");
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++)
        APPEND("mn_relay_app_accepted_total{topic=\"%s\"} %" PRIu64 "\n", topic_names[t],
               d->app_accepted[t]);
    APPEND("# HELP mn_relay_app_applied_total Payloads that changed the node (a block "
           "committed, a transaction admitted).\n# TYPE mn_relay_app_applied_total counter\n");
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++)
        APPEND("mn_relay_app_applied_total{topic=\"%s\"} %" PRIu64 "\n", topic_names[t],
               d->app_applied[t]);
    APPEND("# HELP mn_relay_app_invalid_total Accepted payloads the node found invalid "
           "(sender penalised).\n# TYPE mn_relay_app_invalid_total counter\n");
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++)
        APPEND("mn_relay_app_invalid_total{topic=\"%s\"} %" PRIu64 "\n", topic_names[t],
               d->app_invalid[t]);
    APPEND("# HELP mn_relay_held_bytes Envelope bytes held for the relay.\n"
           "# TYPE mn_relay_held_bytes gauge\nmn_relay_held_bytes %" PRIu64 "\n",
           d->held_bytes);
    APPEND("# HELP mn_relay_driver_events_total Driver events, by kind.\n"
           "# TYPE mn_relay_driver_events_total counter\n");
    APPEND("mn_relay_driver_events_total{kind=\"publish_failed\"} %" PRIu64 "\n",
           d->publish_failed);
    APPEND("mn_relay_driver_events_total{kind=\"held_dropped\"} %" PRIu64 "\n", d->held_dropped);
    APPEND("mn_relay_driver_events_total{kind=\"send_failed\"} %" PRIu64 "\n", d->send_failed);
    APPEND("mn_relay_driver_events_total{kind=\"px_seen\"} %" PRIu64 "\n", d->px_seen);
    APPEND("mn_relay_driver_events_total{kind=\"dial_left_to_bpci\"} %" PRIu64 "\n",
           d->dials_left);
    APPEND("mn_relay_driver_events_total{kind=\"disconnect\"} %" PRIu64 "\n", d->disconnects);
    APPEND("mn_relay_driver_events_total{kind=\"peer_refused\"} %" PRIu64 "\n",
           d->peers_refused);
#undef APPEND
    return 0;
}

static void hb_closed(uv_handle_t *h)
{
    mn_relay_driver *d = h->data;
    d->closed = true;
}

void mn_relay_driver_close(mn_relay_driver *d)
{
    if (d == NULL || d->closing)
        return;
    mn__rd_book_save_anchors(d, true); /* before the sessions go down */
    d->closing = true;
    uv_timer_stop(&d->hb);
    uv_close((uv_handle_t *)&d->hb, hb_closed);
}

bool mn_relay_driver_closed(const mn_relay_driver *d)
{
    return d == NULL || d->closed;
}

void mn_relay_driver_free(mn_relay_driver *d)
{
    if (d == NULL)
        return;
    MN_ASSERT(d->closed);
    if (d->held != NULL)
        for (uint32_t i = 0; i < MN_NODE_RELAY_HELD_MAX; i++)
            mn_buf_deinit(&d->held[i].bytes);
    mn_buf_deinit(&d->scratch);
    mn_buf_deinit(&d->payload);
    mn__rd_book_free(d);
    free(d->held);
    free(d->validators);
    free(d->out);
    free(d->r);
    mn_keypair_wipe(&d->key);
    free(d);
}
