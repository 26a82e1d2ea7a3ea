/* SPDX-License-Identifier: Apache-2.0
 *
 * relay.c: admission of incoming gossip, the first stage of the relay's state machine. A
 * message passes the sending peer's budget, decoding, the peer-and-topic budget, the seen-cache
 * and the signature check, in that order (cheapest first); only then is its id marked seen, so
 * a message refused for rate or validity can still be accepted from another peer. Every
 * verdict is counted per peer and per topic for scoring and metrics. Time comes with each
 * event; nothing here does I/O. Peers coming and going are here too: a departing peer's score
 * is kept by node id (relay_retain.c) and given back when it returns. Forwarding, control
 * messages and the heartbeat are in relay_mesh.c; connection limits in relay_conn.c.
 */
#include <string.h>

#include "metanode/relay.h"
#include "relay_internal.h"

#define MIB (1024u * 1024u)

/* Per connection 5,120,000 B/s as CometBFT's send/receive rate, with a burst of two largest
 * messages; 1,000 messages a second covers transactions at full rate plus everything else. */
static const mn_relay_rate peer_msgs = {1000, 2000}, peer_bytes = {5120000, 2 * 4 * MIB};

/* Per topic: blocks are few and large (one a second, some slack for catch-up); transactions
 * many and small; receipts one per transaction at most; consensus votes and proposals about
 * 3 x validators per round. Bytes bursts all hold one largest envelope. */
static const mn_relay_rate topic_msgs[MN_RELAY_TOPICS_COUNT] = {
    {10, 20}, {500, 1000}, {500, 1000}, {400, 800}};
static const mn_relay_rate topic_bytes[MN_RELAY_TOPICS_COUNT] = {
    {5120000, 8 * MIB}, {MIB, 4 * MIB}, {MIB, 4 * MIB}, {MIB, 4 * MIB}};

void mn_relay_config_default(mn_relay_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->peer_msgs = peer_msgs;
    cfg->peer_bytes = peer_bytes;
    memcpy(cfg->topic_msgs, topic_msgs, sizeof topic_msgs);
    memcpy(cfg->topic_bytes, topic_bytes, sizeof topic_bytes);
    cfg->seen_capacity = MN_RELAY_SEEN_MAX;
    mn_relay_score_params_default(&cfg->score);
    mn_relay_mesh_params_default(&cfg->mesh);
    /* Per /24: a new connection a second with a burst of 4 (a NAT'd office reconnecting after
     * an outage gets in; a sybil farm does not); 4 inbound slots per /24 and 40 inbound slots
     * in all (CometBFT's max_num_inbound_peers). */
    cfg->conn_per_group = (mn_relay_rate){1, 4};
    cfg->inbound_per_group_max = 4;
    cfg->inbound_max = 40;
    /* Health: a ping every 30 s; 5 s of round trip (or an unanswered ping) is a dead link for
     * gossip; 10 minutes without one useful message while others delivered is a free rider. */
    cfg->ping_interval_ms = 30000;
    cfg->rtt_max_ms = 5000;
    cfg->idle_max_ms = 600000;
    cfg->explicit_redial_ms = 10000;
    cfg->subscribed = ((1u << (MN_RELAY_TOPIC_LAST + 1)) - 1) & ~((1u << MN_RELAY_TOPIC_FIRST) - 1);
    MN_ASSERT(mn_relay_config_check(cfg, NULL) == 0);
}

static int check_rate(const mn_relay_rate *r, uint32_t min_burst, const char *what, mn_err *err)
{
    if (r->per_s == 0 || r->burst < min_burst || r->burst == 0)
        return mn_err_set(err, MN_EINVAL, 0, "relay %s rate %u/s burst %u (burst >= %u)", what,
                          r->per_s, r->burst, min_burst);
    return 0;
}

int mn_relay_config_check(const mn_relay_config *cfg, mn_err *err)
{
    MN_TRY(check_rate(&cfg->peer_msgs, 1, "peer messages", err));
    MN_TRY(check_rate(&cfg->peer_bytes, MN_BPCI_MSG_BYTES_MAX, "peer bytes", err));
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++) {
        MN_TRY(check_rate(&cfg->topic_msgs[t], 1, "topic messages", err));
        MN_TRY(check_rate(&cfg->topic_bytes[t], MN_BPCI_MSG_BYTES_MAX, "topic bytes", err));
    }
    uint32_t c = cfg->seen_capacity;
    if (c == 0 || c > MN_RELAY_SEEN_MAX || (c & (c - 1)) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "relay seen capacity %u", c);
    MN_TRY(check_rate(&cfg->conn_per_group, 1, "connections per group", err));
    if (cfg->inbound_per_group_max == 0 || cfg->inbound_max == 0 ||
        cfg->inbound_max > MN_RELAY_PEERS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "relay inbound slots %u (per group %u)",
                          cfg->inbound_max, cfg->inbound_per_group_max);
    if (cfg->ping_interval_ms == 0 || cfg->rtt_max_ms == 0 || cfg->idle_max_ms == 0 ||
        cfg->explicit_redial_ms == 0 || cfg->explicit_count > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "relay health or explicit peering parameters");
    if (cfg->subscribed & ~(((1u << (MN_RELAY_TOPIC_LAST + 1)) - 1) &
                            ~((1u << MN_RELAY_TOPIC_FIRST) - 1)))
        return mn_err_set(err, MN_EINVAL, 0, "relay subscribed topics 0x%x", cfg->subscribed);
    MN_TRY(mn_relay_mesh_params_check(&cfg->mesh, err));
    return mn_relay_score_params_check(&cfg->score, err);
}

void mn_relay_init(mn_relay *r, const mn_relay_config *cfg, uint64_t now_ms)
{
    MN_ASSERT(mn_relay_config_check(cfg, NULL) == 0);
    memset(r->verdicts, 0, sizeof r->verdicts);
    memset(r->peers, 0, sizeof r->peers);
    memset(&r->metrics, 0, sizeof r->metrics);
    memset(r->retained, 0, sizeof r->retained);
    memset(r->groups, 0, sizeof r->groups);
    r->cfg = *cfg;
    r->now_ms = now_ms;
    r->heartbeats = 0;
    r->inbound_count = 0;
    r->last_accept_ms = now_ms;
    memset(r->explicit_dialled_ms, 0, sizeof r->explicit_dialled_ms);
    memset(r->fanout_pub_ms, 0, sizeof r->fanout_pub_ms);
    memset(r->rate_count, 0, sizeof r->rate_count);
    memset(r->rate_milli, 0, sizeof r->rate_milli);
    r->rate_since_ms = now_ms;
    for (uint32_t i = 0; i < 4; i++) {
        r->rng[i] = mn_load_u64_le(cfg->rng_seed + 8 * i);
        if (r->rng[i] == 0)
            r->rng[i] = 0x9e3779b97f4a7c15ull * (i + 1); /* xoshiro needs a non-zero state */
    }
    mn_relay_seen_init(&r->seen, cfg->seen_capacity, cfg->seen_key, now_ms);
    mn_relay_mcache_init(&r->mcache, cfg->seen_key);
}

static void tick(mn_relay *r, uint64_t now_ms)
{
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
}

void mn_relay_on_peer_up(mn_relay *r, uint32_t peer, const mn_relay_peer_info *info,
                         uint64_t now_ms)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX);
    MN_ASSERT(!r->peers[peer].up);
    tick(r, now_ms);
    mn_relay_peer *p = &r->peers[peer];
    memset(p, 0, sizeof *p);
    p->up = true;
    if (info)
        p->info = *info;
    if (mn__relay_is_explicit(r, p->info.node))
        p->info.explicit_peer = true;
    p->up_ms = p->last_useful_ms = p->last_ping_ms = now_ms;
    mn_relay_score_init(&p->score, now_ms);
    mn__relay_retain_take(r, p, now_ms);
    mn__relay_conn_up(r, p);
    mn_relay_bucket_init(&p->msgs, &r->cfg.peer_msgs, now_ms);
    mn_relay_bucket_init(&p->bytes, &r->cfg.peer_bytes, now_ms);
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++) {
        mn_relay_bucket_init(&p->topic_msgs[t], &r->cfg.topic_msgs[t], now_ms);
        mn_relay_bucket_init(&p->topic_bytes[t], &r->cfg.topic_bytes[t], now_ms);
    }
}

void mn_relay_on_peer_down(mn_relay *r, uint32_t peer, uint64_t now_ms)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX);
    MN_ASSERT(r->peers[peer].up);
    tick(r, now_ms);
    mn_relay_peer *p = &r->peers[peer];
    mn_relay_score_decay(&p->score, &r->cfg.score, now_ms);
    for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++)
        if (p->mesh & (1u << t))
            mn_relay_score_mesh_leave(&p->score, &r->cfg.score, t);
    p->mesh = 0;
    mn__relay_conn_down(r, p);
    mn__relay_retain_put(r, p, now_ms);
    p->up = false;
}

/* Runs the checks; returns the verdict without counting it. */
static mn_relay_verdict admit(mn_relay *r, mn_relay_peer *p, const uint8_t *data, size_t len,
                              uint64_t now_ms, mn_relay_admission *out)
{
    const mn_relay_config *c = &r->cfg;
    mn_relay_score_decay(&p->score, &c->score, now_ms);
    if (mn_relay_score_standing(&p->score, &c->score) == MN_RELAY_STANDING_GRAYLISTED)
        return MN_RELAY_GRAYLISTED;
    if (!mn_relay_bucket_take2(&p->msgs, &c->peer_msgs, 1, &p->bytes, &c->peer_bytes, len,
                               now_ms))
        return MN_RELAY_RATE_LIMITED;
    mn_err err;
    if (mn_relay_env_decode(data, len, &out->env, &err) != 0)
        return MN_RELAY_UNDECODABLE;
    out->topic = out->env.topic;
    uint32_t t = out->topic - MN_RELAY_TOPIC_FIRST;
    MN_ASSERT(t < MN_RELAY_TOPICS_COUNT);
    mn_relay_msg_id(out->id, data, len);
    if (!mn_relay_bucket_take2(&p->topic_msgs[t], &c->topic_msgs[t], 1, &p->topic_bytes[t],
                               &c->topic_bytes[t], len, now_ms))
        return MN_RELAY_RATE_LIMITED;
    if (mn_relay_seen_has(&r->seen, out->id, now_ms))
        return MN_RELAY_DUPLICATE;
    if (mn_relay_env_verify(&out->env, &err) != 0)
        return MN_RELAY_BAD_SIGNATURE;
    mn_relay_seen_add(&r->seen, out->id, now_ms);
    return MN_RELAY_ACCEPT;
}

void mn_relay_on_message(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                         uint64_t now_ms, mn_relay_admission *out)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX);
    MN_ASSERT(r->peers[peer].up);
    tick(r, now_ms);
    memset(out, 0, sizeof *out);
    mn_relay_peer *p = &r->peers[peer];
    out->verdict = admit(r, p, data, len, now_ms, out);
    MN_ASSERT(out->verdict < MN_RELAY_VERDICT_COUNT);
    if (out->verdict == MN_RELAY_ACCEPT)
        MN_ASSERT(mn_relay_seen_has(&r->seen, out->id, now_ms));
    p->verdicts[out->verdict]++;
    if (out->verdict == MN_RELAY_ACCEPT)
        mn_relay_score_first(&p->score, out->topic);
    else if (out->verdict == MN_RELAY_BAD_SIGNATURE)
        mn_relay_score_invalid(&p->score, out->topic);
    else if (out->verdict == MN_RELAY_UNDECODABLE)
        mn_relay_score_penalty(&p->score);
    r->verdicts[out->topic == 0 ? 0 : out->topic - MN_RELAY_TOPIC_FIRST + 1][out->verdict]++;
    mn_relay_metrics *m = &r->metrics;
    uint32_t t = out->topic - MN_RELAY_TOPIC_FIRST;
    switch (out->verdict) {
    case MN_RELAY_ACCEPT:
        m->msgs_in[t]++;
        r->rate_count[t]++;
        p->last_useful_ms = r->last_accept_ms = now_ms;
        break;
    case MN_RELAY_DUPLICATE: m->msgs_dup[t]++; break;
    case MN_RELAY_RATE_LIMITED: m->rate_limited++; break;
    case MN_RELAY_UNDECODABLE: m->undecodable++; break;
    case MN_RELAY_BAD_SIGNATURE: m->bad_signature++; break;
    case MN_RELAY_GRAYLISTED: m->graylisted++; break;
    default: MN_ASSERT(false);
    }
    m->seen_evictions = r->seen.evictions;
}
