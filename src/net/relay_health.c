/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_health.c: peer health and explicit peering, run from the heartbeat. Every peer is
 * pinged each ping_interval_ms (the driver measures the round trip and reports it with
 * mn_relay_on_pong); a peer whose round trip exceeds rtt_max_ms, or that leaves a ping
 * unanswered that long, or that delivered nothing first for idle_max_ms while other peers did,
 * gets a DISCONNECT action (the driver backs it off in the address book; its score is kept by
 * node id). Explicit peers (the validator set) are never dropped here, and any that is not
 * connected gets a DIAL action every explicit_redial_ms. mn_relay_peer_health reports the
 * figures, with the delivery ratio. Not here: the transport's own keepalive, and scoring (a
 * slow peer is not a malicious one).
 */
#include <string.h>

#include "relay_internal.h"

bool mn__relay_is_explicit(const mn_relay *r, const uint8_t node[MN_ED25519_PUBLICKEY_BYTES])
{
    for (uint32_t i = 0; i < r->cfg.explicit_count; i++)
        if (memcmp(r->cfg.explicit_nodes[i], node, MN_ED25519_PUBLICKEY_BYTES) == 0)
            return true;
    return false;
}

void mn_relay_set_explicit(mn_relay *r, const uint8_t (*nodes)[MN_ED25519_PUBLICKEY_BYTES],
                           uint32_t count, uint64_t now_ms)
{
    MN_ASSERT(count <= MN_VALIDATORS_MAX);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    if (count > 0)
        memcpy(r->cfg.explicit_nodes, nodes, (size_t)count * MN_ED25519_PUBLICKEY_BYTES);
    r->cfg.explicit_count = count;
    memset(r->explicit_dialled_ms, 0, sizeof r->explicit_dialled_ms);
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *p = &r->peers[q];
        const bool want = p->up && mn__relay_is_explicit(r, p->info.node);
        if (!p->up || want == p->info.explicit_peer)
            continue;
        mn__relay_conn_down(r, p);
        p->info.explicit_peer = want;
        if (want) {
            mn_relay_score_decay(&p->score, &r->cfg.score, now_ms);
            for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++)
                if (p->mesh & (1u << t))
                    mn_relay_score_mesh_leave(&p->score, &r->cfg.score, t);
            p->mesh = 0;
            p->fanout = 0;
        }
        mn__relay_conn_up(r, p);
    }
}

void mn_relay_on_pong(mn_relay *r, uint32_t peer, uint32_t rtt_ms, uint64_t now_ms)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX && r->peers[peer].up);
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    r->peers[peer].rtt_ms = rtt_ms == 0 ? 1 : rtt_ms;
    r->peers[peer].ping_outstanding = false;
}

void mn_relay_peer_health(const mn_relay *r, uint32_t peer, uint64_t now_ms,
                          mn_relay_health *out)
{
    MN_ASSERT(peer < MN_RELAY_PEERS_MAX && r->peers[peer].up);
    const mn_relay_peer *p = &r->peers[peer];
    uint64_t first = p->verdicts[MN_RELAY_ACCEPT], dup = p->verdicts[MN_RELAY_DUPLICATE];
    out->rtt_ms = p->rtt_ms;
    out->idle_ms = now_ms > p->last_useful_ms ? now_ms - p->last_useful_ms : 0;
    out->messages = first + dup;
    out->delivery_permille = first + dup == 0 ? 1000 : (uint32_t)(first * 1000 / (first + dup));
}

static void drop(mn_relay *r, uint32_t q, mn_relay_drop_reason why, mn_relay_actions *out)
{
    mn__relay_push(out, MN_RELAY_ACT_DISCONNECT, q)->reason = why;
    if (why == MN_RELAY_DROP_RTT)
        r->metrics.dropped_rtt++;
    else
        r->metrics.dropped_idle++;
}

void mn__relay_health(mn_relay *r, uint64_t now_ms, mn_relay_actions *out)
{
    const mn_relay_config *c = &r->cfg;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        mn_relay_peer *p = &r->peers[q];
        if (!p->up)
            continue;
        if (!p->info.explicit_peer) {
            bool slow = p->rtt_ms > c->rtt_max_ms ||
                        (p->ping_outstanding && now_ms - p->last_ping_ms > c->rtt_max_ms);
            /* idle: nothing first from it for idle_max_ms, though others delivered since */
            bool idle = now_ms - p->last_useful_ms > c->idle_max_ms &&
                        r->last_accept_ms > p->last_useful_ms + c->idle_max_ms / 2;
            if (slow) {
                drop(r, q, MN_RELAY_DROP_RTT, out);
                continue;
            }
            if (idle) {
                drop(r, q, MN_RELAY_DROP_IDLE, out);
                continue;
            }
        }
        if (!p->ping_outstanding && now_ms - p->last_ping_ms >= c->ping_interval_ms) {
            mn__relay_push(out, MN_RELAY_ACT_PING, q);
            p->last_ping_ms = now_ms;
            p->ping_outstanding = true;
        }
    }
    for (uint32_t i = 0; i < c->explicit_count; i++) {
        bool up = false;
        for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX && !up; q++)
            up = r->peers[q].up &&
                 memcmp(r->peers[q].info.node, c->explicit_nodes[i], MN_ED25519_PUBLICKEY_BYTES) == 0;
        if (up || (r->explicit_dialled_ms[i] != 0 &&
                   now_ms - r->explicit_dialled_ms[i] < c->explicit_redial_ms))
            continue;
        r->explicit_dialled_ms[i] = now_ms;
        mn_relay_action *a = mn__relay_push(out, MN_RELAY_ACT_DIAL, 0);
        memcpy(a->px.node, c->explicit_nodes[i], MN_ED25519_PUBLICKEY_BYTES);
        r->metrics.explicit_dials++;
    }
}
