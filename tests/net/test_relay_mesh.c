/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the relay's mesh, adversarial cases included: the heartbeat grafts D peers with
 * D_out outbound ones and trims an oversized mesh keeping outbound peers; accepted messages go
 * to the mesh and explicit peers but never back to the sender; a GRAFT during back-off is
 * penalised and refused; an inbound GRAFT into a full mesh gets PRUNE with peer exchange;
 * IHAVE asks only for unseen ids and an unanswered IWANT costs the peer; IWANT is served from
 * the history until it is released; a penalised peer that reconnects keeps its score; one /24
 * cannot take more than its connection budget or its inbound slots; the metrics text is well
 * formed. All times are given; no clock is read.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"
#include "mn_test.h"

static mn_relay relay;
static mn_relay_actions acts;
static mn_keypair origin;

#define T_BLOCKS MN_RELAY_TOPIC_BLOCKS
#define BIT(t) (1u << (t))

static void info_for(mn_relay_peer_info *info, uint32_t i, bool outbound)
{
    memset(info, 0, sizeof *info);
    info->node[0] = (uint8_t)(i + 1);
    info->node[1] = 0xab;
    info->addr[10] = 0xff, info->addr[11] = 0xff;
    info->addr[12] = 10, info->addr[13] = (uint8_t)i, info->addr[14] = 0, info->addr[15] = 1;
    info->port = (uint16_t)(7000 + i);
    info->outbound = outbound;
}

static uint32_t subscribed_override; /* 0: the default (every topic) */
static bool flood_off, auto_threshold;

/* n peers in slots 0..n-1; the first `outbound` of them dialled by us. */
static void setup(uint32_t n, uint32_t outbound)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    uint8_t seed[MN_ED25519_SEED_BYTES] = {3};
    mn_keypair_from_seed(&origin, seed);
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    memset(cfg.seen_key, 0x33, sizeof cfg.seen_key);
    memset(cfg.rng_seed, 0x44, sizeof cfg.rng_seed);
    cfg.seen_capacity = 1024;
    if (subscribed_override != 0)
        cfg.subscribed = subscribed_override;
    cfg.mesh.flood_publish = !flood_off;
    cfg.mesh.auto_threshold = auto_threshold;
    ASSERT_OK(mn_relay_config_check(&cfg, &err), &err);
    mn_relay_init(&relay, &cfg, 0);
    for (uint32_t i = 0; i < n; i++) {
        mn_relay_peer_info info;
        info_for(&info, i, i < outbound);
        mn_relay_on_peer_up(&relay, i, &info, 0);
    }
}

static uint32_t mesh_size(uint32_t t, uint32_t *outb)
{
    uint32_t n = 0, o = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        if (relay.peers[q].up && (relay.peers[q].mesh & BIT(t))) {
            n++;
            o += relay.peers[q].info.outbound;
        }
    if (outb)
        *outb = o;
    return n;
}

static uint32_t count(mn_relay_action_kind kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < acts.count; i++)
        n += acts.items[i].kind == kind;
    return n;
}

static const mn_relay_ctrl *ctrl_to(uint32_t peer)
{
    for (uint32_t i = 0; i < acts.count; i++)
        if (acts.items[i].kind == MN_RELAY_ACT_SEND_CTRL && acts.items[i].peer == peer)
            return &acts.ctrls[acts.items[i].ctrl];
    return NULL;
}

static bool sent_msg_to(uint32_t peer)
{
    for (uint32_t i = 0; i < acts.count; i++)
        if (acts.items[i].kind == MN_RELAY_ACT_SEND_MSG && acts.items[i].peer == peer)
            return true;
    return false;
}

static mn_buf make(uint64_t seq)
{
    mn_err err;
    uint8_t payload[8] = {1, 2, 3};
    mn_relay_env env = {.topic = T_BLOCKS, .seq = seq, .payload = payload,
                        .payload_len = sizeof payload};
    ASSERT_OK(mn_relay_env_sign(&env, &origin, &err), &err);
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_relay_env_encode(&env, &b, &err), &err);
    return b;
}

static void test_heartbeat_grafts(void)
{
    setup(20, 3);
    mn_relay_heartbeat(&relay, 1000, &acts);
    uint32_t outb, n = mesh_size(T_BLOCKS, &outb);
    ASSERT_EQ(n, relay.cfg.mesh.d);
    ASSERT_TRUE(outb >= relay.cfg.mesh.d_out);
    uint32_t grafts = 0;
    for (uint32_t q = 0; q < 20; q++) {
        const mn_relay_ctrl *c = ctrl_to(q);
        bool in = relay.peers[q].mesh & BIT(T_BLOCKS);
        ASSERT_EQ(c != NULL && (c->graft & BIT(T_BLOCKS)) != 0, in);
        grafts += in;
    }
    ASSERT_EQ(grafts, relay.cfg.mesh.d);
    /* a second heartbeat changes nothing about the mesh */
    mn_relay_heartbeat(&relay, 2000, &acts);
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), relay.cfg.mesh.d);
}

static void graft_from(uint32_t peer, uint32_t topic, uint64_t now)
{
    mn_relay_ctrl c;
    memset(&c, 0, sizeof c);
    c.graft = BIT(topic);
    mn_relay_on_ctrl_decoded(&relay, peer, &c, now, &acts);
}

static void test_trim_keeps_outbound(void)
{
    setup(20, 3);
    /* everyone grafts: inbound ones are refused beyond d_hi, outbound ones always accepted */
    for (uint32_t q = 19; q < 20; q--)
        graft_from(q, T_BLOCKS, 10);
    ASSERT_TRUE(mesh_size(T_BLOCKS, NULL) > relay.cfg.mesh.d_hi);
    bool was_in[20];
    for (uint32_t q = 0; q < 20; q++)
        was_in[q] = relay.peers[q].mesh & BIT(T_BLOCKS);
    mn_relay_heartbeat(&relay, 1000, &acts);
    uint32_t outb;
    ASSERT_EQ(mesh_size(T_BLOCKS, &outb), relay.cfg.mesh.d);
    ASSERT_TRUE(outb >= relay.cfg.mesh.d_out);
    /* every pruned peer got a PRUNE with back-off and PX of peers it can dial */
    for (uint32_t q = 0; q < 20; q++) {
        const mn_relay_ctrl *c = ctrl_to(q);
        if ((relay.peers[q].mesh & BIT(T_BLOCKS)) || !was_in[q])
            continue;
        ASSERT_TRUE(c != NULL && (c->prune & BIT(T_BLOCKS)));
        ASSERT_EQ(c->backoff_s, relay.cfg.mesh.prune_backoff_s);
        ASSERT_TRUE(c->px_count > 0);
    }
}

static void test_full_mesh_prunes_inbound_graft(void)
{
    setup(20, 0);
    for (uint32_t q = 0; q < relay.cfg.mesh.d_hi; q++)
        graft_from(q, T_BLOCKS, 10);
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), relay.cfg.mesh.d_hi);
    graft_from(15, T_BLOCKS, 20);
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), relay.cfg.mesh.d_hi);
    const mn_relay_ctrl *c = ctrl_to(15);
    ASSERT_TRUE(c != NULL && (c->prune & BIT(T_BLOCKS)));
    ASSERT_EQ(c->px_count, relay.cfg.mesh.d_hi); /* PX: the mesh peers */
}

static void test_graft_in_backoff(void)
{
    setup(8, 2);
    graft_from(5, T_BLOCKS, 0);
    ASSERT_TRUE(relay.peers[5].mesh & BIT(T_BLOCKS));
    mn_relay_ctrl c;
    memset(&c, 0, sizeof c);
    c.prune = BIT(T_BLOCKS);
    c.backoff_s = 30;
    mn_relay_on_ctrl_decoded(&relay, 5, &c, 100, &acts);
    ASSERT_FALSE(relay.peers[5].mesh & BIT(T_BLOCKS));
    int64_t before = mn_relay_peer_score(&relay, 5, 200);
    graft_from(5, T_BLOCKS, 200); /* too soon */
    ASSERT_FALSE(relay.peers[5].mesh & BIT(T_BLOCKS));
    ASSERT_TRUE(ctrl_to(5) != NULL && (ctrl_to(5)->prune & BIT(T_BLOCKS)));
    ASSERT_TRUE(mn_relay_peer_score(&relay, 5, 200) < before);
    /* the heartbeat does not graft a peer that is backing off either */
    for (uint32_t q = 0; q < 8; q++)
        if (q != 5)
            relay.peers[q].backoff_until_ms[T_BLOCKS - 1] = UINT64_MAX;
    mn_relay_heartbeat(&relay, 1000, &acts);
    ASSERT_FALSE(relay.peers[5].mesh & BIT(T_BLOCKS));
}

static void test_forwarding(void)
{
    setup(10, 2);
    mn_relay_peer_info ex;
    info_for(&ex, 50, true);
    ex.explicit_peer = true;
    mn_relay_on_peer_up(&relay, 50, &ex, 0);
    mn_relay_heartbeat(&relay, 1000, &acts);
    ASSERT_FALSE(relay.peers[50].mesh); /* explicit peers stay out of the mesh */
    uint32_t from = 0;
    while (!(relay.peers[from].mesh & BIT(T_BLOCKS)))
        from++;
    mn_buf m = make(1);
    mn_relay_admission adm;
    mn_relay_on_gossip(&relay, from, m.data, m.len, 77, 1100, &adm, &acts);
    ASSERT_EQ(adm.verdict, MN_RELAY_ACCEPT);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), relay.cfg.mesh.d - 1 + 1);
    ASSERT_FALSE(sent_msg_to(from));
    ASSERT_TRUE(sent_msg_to(50));
    for (uint32_t q = 0; q < 10; q++)
        if (q != from)
            ASSERT_EQ(sent_msg_to(q), (relay.peers[q].mesh & BIT(T_BLOCKS)) != 0);
    for (uint32_t i = 0; i < acts.count; i++)
        if (acts.items[i].kind == MN_RELAY_ACT_SEND_MSG)
            ASSERT_U64_EQ(acts.items[i].ref, 77);
    mn_relay_on_gossip(&relay, 50, m.data, m.len, 78, 1150, &adm, &acts);
    ASSERT_EQ(adm.verdict, MN_RELAY_DUPLICATE);
    ASSERT_EQ(acts.count, 0);
    mn_relay_health h;
    mn_relay_peer_health(&relay, from, 1200, &h);
    ASSERT_EQ(h.delivery_permille, 1000);
    ASSERT_U64_EQ(h.idle_ms, 100);
    mn_relay_peer_health(&relay, 50, 1200, &h);
    ASSERT_EQ(h.delivery_permille, 0); /* one message, a duplicate */
    ASSERT_U64_EQ(h.messages, 1);
    mn_buf_deinit(&m);
}

static void test_publish_floods(void)
{
    setup(10, 2);
    mn_relay_heartbeat(&relay, 1000, &acts);
    for (int i = 0; i < 4; i++)
        mn_relay_score_invalid(&relay.peers[9].score, T_BLOCKS); /* far below publish */
    mn_buf m = make(2);
    mn_err err;
    ASSERT_OK(mn_relay_publish(&relay, m.data, m.len, 5, 1200, &acts, &err), &err);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), 9);
    ASSERT_FALSE(sent_msg_to(9));
    ASSERT_EQ(mn_relay_publish(&relay, m.data, m.len, 5, 1200, &acts, &err), -MN_EINVAL);
    mn_buf_deinit(&m);
}

static void test_ihave_iwant_promises(void)
{
    setup(10, 2);
    mn_buf known = make(3);
    mn_relay_admission adm;
    mn_relay_on_gossip(&relay, 1, known.data, known.len, 1, 10, &adm, &acts);
    ASSERT_EQ(adm.verdict, MN_RELAY_ACCEPT);
    mn_relay_ctrl c;
    memset(&c, 0, sizeof c);
    c.ihave_count = 2;
    c.ihave[0].topic = T_BLOCKS;
    memcpy(c.ihave[0].id, adm.id, MN_RELAY_ID_BYTES);
    c.ihave[1].topic = T_BLOCKS;
    memset(c.ihave[1].id, 0x77, MN_RELAY_ID_BYTES);
    mn_relay_on_ctrl_decoded(&relay, 4, &c, 20, &acts);
    const mn_relay_ctrl *w = ctrl_to(4);
    ASSERT_TRUE(w != NULL);
    ASSERT_EQ(w->iwant_count, 1); /* only the unseen id */
    ASSERT_MEM_EQ(w->iwant[0], c.ihave[1].id, MN_RELAY_ID_BYTES);
    int64_t before = mn_relay_peer_score(&relay, 4, 20);
    mn_relay_heartbeat(&relay, 1000, &acts); /* not yet due */
    ASSERT_U64_EQ(relay.metrics.promises_broken, 0);
    mn_relay_heartbeat(&relay, 3100, &acts);
    ASSERT_U64_EQ(relay.metrics.promises_broken, 1);
    ASSERT_TRUE(mn_relay_peer_score(&relay, 4, 3100) < before);
    /* IHAVE beyond the per-heartbeat allowance is ignored */
    c.ihave_count = 1;
    for (uint32_t i = 0; i < relay.cfg.mesh.ihave_per_heartbeat + 3; i++) {
        c.ihave[0].id[0] = (uint8_t)i;
        mn_relay_on_ctrl_decoded(&relay, 5, &c, 3200, &acts);
        if (i >= relay.cfg.mesh.ihave_per_heartbeat)
            ASSERT_TRUE(ctrl_to(5) == NULL);
    }
    mn_buf_deinit(&known);
}

static void test_iwant_served_until_released(void)
{
    setup(4, 1);
    mn_buf m = make(4);
    mn_relay_admission adm;
    mn_relay_on_gossip(&relay, 0, m.data, m.len, 42, 10, &adm, &acts);
    mn_relay_ctrl c;
    memset(&c, 0, sizeof c);
    c.iwant_count = 2;
    memcpy(c.iwant[0], adm.id, MN_RELAY_ID_BYTES);
    memset(c.iwant[1], 0x55, MN_RELAY_ID_BYTES);
    mn_relay_on_ctrl_decoded(&relay, 2, &c, 20, &acts);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), 1);
    ASSERT_TRUE(sent_msg_to(2));
    /* the same id again: answered up to the retransmission cap, then refused */
    for (uint32_t k = 1; k < MN_RELAY_IWANT_RETRANSMIT_MAX + 2; k++) {
        mn_relay_on_ctrl_decoded(&relay, 2, &c, 20 + k, &acts);
        ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), k < MN_RELAY_IWANT_RETRANSMIT_MAX ? 1u : 0u);
    }
    ASSERT_U64_EQ(relay.metrics.iwant_refused, 2);
    /* another peer still gets it */
    mn_relay_on_ctrl_decoded(&relay, 3, &c, 30, &acts);
    ASSERT_TRUE(sent_msg_to(3));
    uint32_t released = 0;
    for (uint64_t h = 1; h <= MN_RELAY_MCACHE_WINDOWS; h++) {
        mn_relay_heartbeat(&relay, h * 1000, &acts);
        for (uint32_t i = 0; i < acts.count; i++)
            if (acts.items[i].kind == MN_RELAY_ACT_RELEASE) {
                ASSERT_U64_EQ(acts.items[i].ref, 42);
                released++;
            }
    }
    ASSERT_EQ(released, 1);
    mn_relay_on_ctrl_decoded(&relay, 2, &c, 6000, &acts);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), 0);
    mn_buf_deinit(&m);
}

static void test_score_kept_across_reconnect(void)
{
    setup(3, 1);
    for (int i = 0; i < 2; i++)
        mn_relay_score_invalid(&relay.peers[2].score, T_BLOCKS);
    int64_t bad = mn_relay_peer_score(&relay, 2, 100);
    ASSERT_TRUE(bad < relay.cfg.score.publish_threshold);
    mn_relay_on_peer_down(&relay, 2, 100);
    mn_relay_peer_info info;
    info_for(&info, 2, false);
    mn_relay_on_peer_up(&relay, 7, &info, 200); /* same node id, another slot */
    int64_t again = mn_relay_peer_score(&relay, 7, 200);
    ASSERT_TRUE(again < relay.cfg.score.publish_threshold);
    ASSERT_TRUE(again >= bad); /* decayed a little, never reset */
    /* an anonymous peer is not kept */
    for (int i = 0; i < 2; i++)
        mn_relay_score_invalid(&relay.peers[1].score, T_BLOCKS);
    relay.peers[1].info = (mn_relay_peer_info){.outbound = false};
    mn_relay_on_peer_down(&relay, 1, 300);
    mn_relay_on_peer_up(&relay, 1, NULL, 300);
    ASSERT_EQ(mn_relay_peer_score(&relay, 1, 300), 0);
}

static void test_conn_limits(void)
{
    setup(0, 0);
    uint8_t addr[16] = {0};
    addr[10] = 0xff, addr[11] = 0xff, addr[12] = 192, addr[13] = 0, addr[14] = 2;
    uint32_t admitted = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        addr[15] = (uint8_t)i;
        if (mn_relay_conn_admit(&relay, addr, 0)) {
            mn_relay_peer_info info = {0};
            memcpy(info.addr, addr, 16);
            info.node[0] = (uint8_t)i, info.node[1] = 1;
            mn_relay_on_peer_up(&relay, admitted, &info, 0);
            admitted++;
        }
    }
    ASSERT_EQ(admitted, relay.cfg.inbound_per_group_max); /* burst 4, cap 4 */
    /* a minute later the bucket is full again but the group's slots are taken */
    ASSERT_FALSE(mn_relay_conn_admit(&relay, addr, 60000));
    ASSERT_TRUE(relay.metrics.conn_refused_group > 0);
    /* another /24 is unaffected */
    addr[14] = 3;
    ASSERT_TRUE(mn_relay_conn_admit(&relay, addr, 60000));
    /* a peer leaving frees its group's slot */
    mn_relay_on_peer_down(&relay, 0, 61000);
    addr[14] = 2;
    ASSERT_TRUE(mn_relay_conn_admit(&relay, addr, 61000));
}

static void test_metrics_text(void)
{
    setup(10, 2);
    mn_relay_heartbeat(&relay, 1000, &acts);
    mn_buf m = make(9);
    mn_relay_admission adm;
    mn_relay_on_gossip(&relay, 0, m.data, m.len, 1, 1100, &adm, &acts);
    mn_buf out;
    mn_buf_init(&out, 0);
    mn_err err;
    ASSERT_OK(mn_relay_metrics_write(&relay, &out, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&out, 0, &err), &err);
    const char *s = (const char *)out.data;
    ASSERT_TRUE(strstr(s, "mn_relay_messages_in_total{topic=\"blocks\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(s, "mn_relay_mesh_peers{topic=\"blocks\"} 6\n") != NULL);
    ASSERT_TRUE(strstr(s, "# TYPE mn_relay_graft_out_total counter\n") != NULL);
    ASSERT_TRUE(strstr(s, "mn_relay_peers{kind=\"all\"} 10\n") != NULL);
    ASSERT_TRUE(strstr(s, "mn_relay_peers_standing{standing=\"ok\"} 10\n") != NULL);
    mn_buf_deinit(&out);
    mn_buf_deinit(&m);
}


static bool has_action(mn_relay_action_kind kind, uint32_t peer)
{
    for (uint32_t i = 0; i < acts.count; i++)
        if (acts.items[i].kind == kind && acts.items[i].peer == peer)
            return true;
    return false;
}

static void test_health(void)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    cfg.seen_capacity = 1024;
    cfg.explicit_count = 2;
    memset(cfg.explicit_nodes[0], 0, 32);
    cfg.explicit_nodes[0][0] = 4, cfg.explicit_nodes[0][1] = 0xab; /* info_for(.., 3, ..) */
    memset(cfg.explicit_nodes[1], 0x99, 32);                       /* never connects */
    mn_relay_init(&relay, &cfg, 0);
    for (uint32_t i = 0; i < 4; i++) {
        mn_relay_peer_info info;
        info_for(&info, i, i == 0);
        mn_relay_on_peer_up(&relay, i, &info, 0);
    }
    ASSERT_TRUE(relay.peers[3].info.explicit_peer); /* recognised by its node id */
    mn_relay_heartbeat(&relay, cfg.ping_interval_ms, &acts);
    for (uint32_t q = 0; q < 4; q++)
        ASSERT_TRUE(has_action(MN_RELAY_ACT_PING, q));
    uint32_t dials = 0;
    for (uint32_t i = 0; i < acts.count; i++)
        if (acts.items[i].kind == MN_RELAY_ACT_DIAL) {
            ASSERT_EQ(acts.items[i].px.node[0], 0x99);
            dials++;
        }
    ASSERT_EQ(dials, 1); /* only the explicit peer that is not connected */
    mn_relay_on_pong(&relay, 0, 40, cfg.ping_interval_ms + 40);
    mn_relay_on_pong(&relay, 1, cfg.rtt_max_ms + 1, cfg.ping_interval_ms + 40);
    /* peer 2 and explicit peer 3 never answer */
    mn_relay_heartbeat(&relay, cfg.ping_interval_ms + cfg.rtt_max_ms + 1000, &acts);
    ASSERT_FALSE(has_action(MN_RELAY_ACT_DISCONNECT, 0));
    ASSERT_TRUE(has_action(MN_RELAY_ACT_DISCONNECT, 1));
    ASSERT_TRUE(has_action(MN_RELAY_ACT_DISCONNECT, 2));
    ASSERT_FALSE(has_action(MN_RELAY_ACT_DISCONNECT, 3)); /* explicit peers stay */
    ASSERT_FALSE(has_action(MN_RELAY_ACT_DIAL, 0));       /* redial waits */
    ASSERT_U64_EQ(relay.metrics.dropped_rtt, 2);
}

static void test_idle_peer_dropped(void)
{
    setup(3, 1);
    uint64_t now = relay.cfg.idle_max_ms + 60000;
    /* peer 0 keeps delivering; peers 1 and 2 answer pings but bring nothing */
    for (uint64_t t = 1000; t <= now; t += 29000) {
        mn_buf m = make(1000 + t);
        mn_relay_admission adm;
        mn_relay_on_gossip(&relay, 0, m.data, m.len, t, t, &adm, &acts);
        ASSERT_EQ(adm.verdict, MN_RELAY_ACCEPT);
        mn_buf_deinit(&m);
        mn_relay_heartbeat(&relay, t + 1, &acts);
        for (uint32_t q = 0; q < 3; q++)
            if (relay.peers[q].ping_outstanding)
                mn_relay_on_pong(&relay, q, 30, t + 2);
        ASSERT_FALSE(has_action(MN_RELAY_ACT_DISCONNECT, 0));
    }
    mn_relay_heartbeat(&relay, now + 30000, &acts);
    ASSERT_TRUE(has_action(MN_RELAY_ACT_DISCONNECT, 1));
    ASSERT_TRUE(relay.metrics.dropped_idle >= 1);
}

static void test_opportunistic_graft(void)
{
    setup(12, 2);
    mn_relay_heartbeat(&relay, 1000, &acts);
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), relay.cfg.mesh.d);
    /* the mesh peers score nothing; two outsiders have delivered plenty */
    uint32_t good[2], k = 0;
    for (uint32_t q = 0; q < 12 && k < 2; q++)
        if (!(relay.peers[q].mesh & BIT(T_BLOCKS)))
            good[k++] = q;
    for (uint32_t i = 0; i < 2; i++)
        for (int j = 0; j < 20; j++)
            mn_relay_score_first(&relay.peers[good[i]].score, MN_RELAY_TOPIC_TRANSACTIONS);
    uint64_t hb = relay.heartbeats;
    while ((hb + 1) % relay.cfg.mesh.og_ticks != 0)
        hb++;
    relay.heartbeats = hb; /* the next heartbeat is an opportunistic one */
    mn_relay_heartbeat(&relay, 2000, &acts);
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), relay.cfg.mesh.d + 2);
    ASSERT_TRUE(relay.peers[good[0]].mesh & BIT(T_BLOCKS));
    ASSERT_TRUE(relay.peers[good[1]].mesh & BIT(T_BLOCKS));
    ASSERT_TRUE(relay.metrics.opportunistic_grafts >= 2);
}

static void test_prune_px_and_garbage_ctrl(void)
{
    setup(4, 1);
    mn_relay_ctrl c;
    memset(&c, 0, sizeof c);
    c.prune = BIT(T_BLOCKS);
    c.backoff_s = 10;
    c.px_count = 2;
    memset(c.px[0].node, 0x61, 32), c.px[0].port = 1;
    memset(c.px[1].node, 0x62, 32), c.px[1].port = 2;
    /* a peer with no standing: its PX is not taken */
    mn_relay_on_ctrl_decoded(&relay, 1, &c, 10, &acts);
    ASSERT_EQ(count(MN_RELAY_ACT_PX), 0);
    ASSERT_TRUE(relay.peers[1].backoff_until_ms[T_BLOCKS - 1] == 10 + 10000);
    /* a peer that delivered: PX becomes dial candidates */
    for (int i = 0; i < 5; i++)
        mn_relay_score_first(&relay.peers[2].score, T_BLOCKS);
    mn_relay_on_ctrl_decoded(&relay, 2, &c, 20, &acts);
    ASSERT_EQ(count(MN_RELAY_ACT_PX), 2);
    ASSERT_EQ(acts.items[0].px.node[0], 0x61);
    ASSERT_EQ(acts.items[1].px.port, 2);
    /* encoded: the same through mn_relay_on_ctrl */
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_relay_ctrl_encode(&c, &b, &err), &err);
    mn_relay_on_ctrl(&relay, 2, b.data, b.len, 30, &acts);
    ASSERT_EQ(count(MN_RELAY_ACT_PX), 2);
    /* garbage costs a behaviour penalty and does nothing else */
    int64_t before = mn_relay_peer_score(&relay, 3, 40);
    b.data[0] ^= 0xff;
    mn_relay_on_ctrl(&relay, 3, b.data, b.len, 40, &acts);
    ASSERT_EQ(acts.count, 0);
    ASSERT_U64_EQ(relay.metrics.ctrl_undecodable, 1);
    ASSERT_TRUE(mn_relay_peer_score(&relay, 3, 40) < before);
    mn_buf_deinit(&b);
}

static void test_retained_table_full(void)
{
    setup(1, 0);
    /* more departures than the table holds: the oldest entries go, the newest stay */
    for (uint32_t i = 0; i < MN_RELAY_RETAIN_MAX + 10; i++) {
        mn_relay_peer_info info;
        memset(&info, 0, sizeof info);
        mn_store_u32_le(info.node, i + 1);
        mn_relay_on_peer_up(&relay, 5, &info, i);
        mn_relay_score_invalid(&relay.peers[5].score, T_BLOCKS);
        mn_relay_on_peer_down(&relay, 5, i);
    }
    ASSERT_U64_EQ(relay.metrics.retained_evictions, 10);
    mn_relay_peer_info last;
    memset(&last, 0, sizeof last);
    mn_store_u32_le(last.node, MN_RELAY_RETAIN_MAX + 10);
    mn_relay_on_peer_up(&relay, 6, &last, MN_RELAY_RETAIN_MAX + 20);
    ASSERT_TRUE(mn_relay_peer_score(&relay, 6, MN_RELAY_RETAIN_MAX + 20) < 0); /* kept */
    mn_relay_peer_info first;
    memset(&first, 0, sizeof first);
    mn_store_u32_le(first.node, 1);
    mn_relay_on_peer_up(&relay, 7, &first, MN_RELAY_RETAIN_MAX + 20);
    ASSERT_EQ(mn_relay_peer_score(&relay, 7, MN_RELAY_RETAIN_MAX + 20), 0); /* evicted */
}

static uint32_t fanout_size(uint32_t t)
{
    uint32_t n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        n += relay.peers[q].up && (relay.peers[q].fanout & BIT(t));
    return n;
}

/* A topic we do not subscribe to: no mesh (a GRAFT is answered with PRUNE, no penalty), and
 * our own messages go to d fanout peers, the same ones while we keep publishing, forgotten
 * fanout_ttl_ms after the last publish. Flood publishing does not apply to it. */
static void test_fanout_unsubscribed(void)
{
    mn_err err;
    subscribed_override = BIT(MN_RELAY_TOPIC_TRANSACTIONS) | BIT(MN_RELAY_TOPIC_RECEIPTS) |
                          BIT(MN_RELAY_TOPIC_CONSENSUS);
    setup(20, 3);
    subscribed_override = 0;
    mn_relay_heartbeat(&relay, 1000, &acts);
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), 0);
    ASSERT_EQ(mesh_size(MN_RELAY_TOPIC_TRANSACTIONS, NULL), 6);
    graft_from(5, T_BLOCKS, 1100);
    ASSERT_TRUE(ctrl_to(5) != NULL && (ctrl_to(5)->prune & BIT(T_BLOCKS)));
    ASSERT_EQ(mesh_size(T_BLOCKS, NULL), 0);
    ASSERT_EQ(relay.peers[5].score.behaviour, 0);
    mn_buf m1 = make(1), m2 = make(2);
    ASSERT_OK(mn_relay_publish(&relay, m1.data, m1.len, 1, 1200, &acts, &err), &err);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), 6);
    ASSERT_EQ(fanout_size(T_BLOCKS), 6);
    uint32_t first[MN_RELAY_PEERS_MAX] = {0};
    for (uint32_t q = 0; q < 20; q++)
        first[q] = relay.peers[q].fanout & BIT(T_BLOCKS);
    ASSERT_OK(mn_relay_publish(&relay, m2.data, m2.len, 2, 1300, &acts, &err), &err);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), 6);
    for (uint32_t q = 0; q < 20; q++) {
        ASSERT_EQ(relay.peers[q].fanout & BIT(T_BLOCKS), first[q]);
        ASSERT_EQ(sent_msg_to(q), first[q] != 0);
    }
    ASSERT_EQ(relay.metrics.fanout_out[T_BLOCKS - 1], 12);
    /* a fanout peer that goes away is replaced at the next heartbeat */
    uint32_t gone = 0;
    while (!first[gone])
        gone++;
    mn_relay_on_peer_down(&relay, gone, 1400);
    mn_relay_heartbeat(&relay, 2000, &acts);
    ASSERT_EQ(fanout_size(T_BLOCKS), 6);
    mn_relay_heartbeat(&relay, 1300 + 60001, &acts);
    ASSERT_EQ(fanout_size(T_BLOCKS), 0);
    mn_buf_deinit(&m1);
    mn_buf_deinit(&m2);
}

/* Without flood publishing, a subscribed topic whose mesh is still empty publishes through
 * fanout; once the mesh exists, to the mesh only. */
static void test_fanout_empty_mesh(void)
{
    mn_err err;
    flood_off = true;
    setup(20, 3);
    flood_off = false;
    mn_buf m1 = make(1), m2 = make(2);
    ASSERT_OK(mn_relay_publish(&relay, m1.data, m1.len, 1, 100, &acts, &err), &err);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), 6);
    ASSERT_EQ(relay.metrics.fanout_out[T_BLOCKS - 1], 6);
    mn_relay_heartbeat(&relay, 1000, &acts);
    const uint32_t n = mesh_size(T_BLOCKS, NULL);
    ASSERT_EQ(n, 6);
    ASSERT_OK(mn_relay_publish(&relay, m2.data, m2.len, 2, 1100, &acts, &err), &err);
    ASSERT_EQ(count(MN_RELAY_ACT_SEND_MSG), n);
    for (uint32_t q = 0; q < 20; q++)
        ASSERT_EQ(sent_msg_to(q), (relay.peers[q].mesh & BIT(T_BLOCKS)) != 0);
    ASSERT_EQ(relay.metrics.fanout_out[T_BLOCKS - 1], 6);
    mn_buf_deinit(&m1);
    mn_buf_deinit(&m2);
}

/* auto_threshold: each 10 s window the measured rate (averaged with the previous windows) sets
 * the topic's P3 threshold to rate/4 + 1, and a topic that falls quiet turns P3 off. */
static void test_auto_threshold(void)
{
    mn_err err;
    auto_threshold = true;
    setup(4, 2);
    auto_threshold = false;
    uint64_t seq = 1, t = 0;
    for (uint32_t w = 0; w < 2; w++) {
        for (uint32_t i = 0; i < 400; i++, seq++) {
            mn_buf m = make(seq);
            t += 25; /* 40 a second */
            ASSERT_OK(mn_relay_publish(&relay, m.data, m.len, seq, t, &acts, &err), &err);
            mn_buf_deinit(&m);
            if (t % 1000 == 0)
                mn_relay_heartbeat(&relay, t, &acts);
        }
    }
    /* windows of 40/s: the average goes 20,000 then 30,000 thousandths */
    ASSERT_EQ(relay.rate_milli[T_BLOCKS - 1], 30000);
    ASSERT_EQ(relay.cfg.score.mesh_threshold[T_BLOCKS - 1], 30000 / 4000 + 1);
    ASSERT_EQ(relay.cfg.score.mesh_threshold[MN_RELAY_TOPIC_TRANSACTIONS - 1], 0);
    uint32_t thr = relay.cfg.score.mesh_threshold[T_BLOCKS - 1];
    for (uint32_t w = 0; w < 6; w++) { /* quiet: the threshold falls, then P3 is off */
        t += 10000;
        mn_relay_heartbeat(&relay, t, &acts);
        ASSERT_TRUE(relay.cfg.score.mesh_threshold[T_BLOCKS - 1] <= thr);
        thr = relay.cfg.score.mesh_threshold[T_BLOCKS - 1];
    }
    ASSERT_EQ(relay.cfg.score.mesh_threshold[T_BLOCKS - 1], 0);
}

/* The explicit set changes at run time (a validator bonds): a connected peer that joins it
 * leaves the mesh and its inbound slot, gets every message; one that leaves it is ordinary. */
static void test_set_explicit(void)
{
    mn_err err;
    setup(8, 2);
    mn_relay_heartbeat(&relay, 1000, &acts);
    const uint32_t inbound = relay.inbound_count;
    ASSERT_EQ(inbound, 6);
    uint32_t q = 2; /* an inbound peer in the mesh */
    while (!(relay.peers[q].mesh & BIT(T_BLOCKS)))
        q++;
    ASSERT_TRUE(!relay.peers[q].info.outbound);
    uint8_t nodes[1][MN_ED25519_PUBLICKEY_BYTES];
    memcpy(nodes[0], relay.peers[q].info.node, sizeof nodes[0]);
    mn_relay_set_explicit(&relay, (const uint8_t(*)[MN_ED25519_PUBLICKEY_BYTES])nodes, 1, 1100);
    ASSERT_TRUE(relay.peers[q].info.explicit_peer);
    ASSERT_EQ(relay.peers[q].mesh, 0);
    ASSERT_EQ(relay.inbound_count, inbound - 1);
    mn_buf m = make(1);
    ASSERT_OK(mn_relay_publish(&relay, m.data, m.len, 1, 1200, &acts, &err), &err);
    ASSERT_TRUE(sent_msg_to(q));
    mn_relay_heartbeat(&relay, 2000, &acts);
    ASSERT_EQ(relay.peers[q].mesh, 0); /* never grafted */
    mn_relay_set_explicit(&relay, NULL, 0, 2100);
    ASSERT_TRUE(!relay.peers[q].info.explicit_peer);
    ASSERT_EQ(relay.inbound_count, inbound);
    mn_buf_deinit(&m);
}

MN_TEST_MAIN("net.relay_mesh", MN_TEST(test_heartbeat_grafts), MN_TEST(test_trim_keeps_outbound),
             MN_TEST(test_full_mesh_prunes_inbound_graft), MN_TEST(test_graft_in_backoff),
             MN_TEST(test_forwarding), MN_TEST(test_publish_floods),
             MN_TEST(test_ihave_iwant_promises), MN_TEST(test_iwant_served_until_released),
             MN_TEST(test_score_kept_across_reconnect), MN_TEST(test_conn_limits),
             MN_TEST(test_metrics_text), MN_TEST(test_health), MN_TEST(test_idle_peer_dropped),
             MN_TEST(test_opportunistic_graft), MN_TEST(test_prune_px_and_garbage_ctrl),
             MN_TEST(test_retained_table_full), MN_TEST(test_fanout_unsubscribed),
             MN_TEST(test_fanout_empty_mesh), MN_TEST(test_auto_threshold),
             MN_TEST(test_set_explicit))
