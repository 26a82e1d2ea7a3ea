/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_metrics.c: the relay's counters in the Prometheus text exposition format (version
 * 0.0.4), ready for the node's /metrics. Also the peers per address group, per topic mesh
 * and per score standing, counted from the peer table when written, and the address book's
 * counters. It only formats; counting happens where the events
 * are (relay.c, relay_mesh.c, relay_conn.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"
#include "metanode/relay_addrbook.h"

static const char *const topic_names[MN_RELAY_TOPICS_COUNT] = {"blocks", "transactions",
                                                               "receipts", "consensus"};


static int counter(mn_buf *out, mn_err *err, const char *name, const char *help, uint64_t v)
{
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_relay_%s %s\n# TYPE mn_relay_%s counter\n", name, help,
                name));
    return mn_buf_appendf(out, err, "mn_relay_%s %" PRIu64 "\n", name, v);
}

static int per_topic(mn_buf *out, mn_err *err, const char *name, const char *help,
                     const uint64_t v[MN_RELAY_TOPICS_COUNT], const char *type)
{
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_relay_%s %s\n# TYPE mn_relay_%s %s\n", name, help, name,
                type));
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++)
        MN_TRY(mn_buf_appendf(out, err, "mn_relay_%s{topic=\"%s\"} %" PRIu64 "\n", name, topic_names[t],
                    v[t]));
    return 0;
}

int mn_relay_metrics_write(const mn_relay *r, mn_buf *out, mn_err *err)
{
    const mn_relay_metrics *m = &r->metrics;
    MN_TRY(per_topic(out, err, "messages_in_total", "First deliveries accepted.", m->msgs_in,
                     "counter"));
    MN_TRY(per_topic(out, err, "messages_duplicate_total", "Duplicates dropped.", m->msgs_dup,
                     "counter"));
    MN_TRY(per_topic(out, err, "messages_out_total", "Messages sent to peers.", m->msgs_out,
                     "counter"));
    MN_TRY(per_topic(out, err, "messages_published_total", "Own messages published.",
                     m->msgs_published, "counter"));
    uint64_t mesh[MN_RELAY_TOPICS_COUNT] = {0}, fanout[MN_RELAY_TOPICS_COUNT] = {0};
    uint64_t peers = 0, outbound = 0, explicit_peers = 0, standing[4] = {0};
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++) {
        const mn_relay_peer *p = &r->peers[q];
        if (!p->up)
            continue;
        peers++;
        outbound += p->info.outbound;
        explicit_peers += p->info.explicit_peer;
        const mn_relay_score_params *sp = &r->cfg.score;
        int64_t v = p->score_cached;
        standing[v < sp->graylist_threshold ? 3 : v < sp->publish_threshold ? 2
                 : v < sp->gossip_threshold ? 1 : 0]++;
        for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++) {
            mesh[t] += (p->mesh >> (t + MN_RELAY_TOPIC_FIRST)) & 1u;
            fanout[t] += (p->fanout >> (t + MN_RELAY_TOPIC_FIRST)) & 1u;
        }
    }
    MN_TRY(per_topic(out, err, "mesh_peers", "Peers in the topic's mesh.", mesh, "gauge"));
    MN_TRY(per_topic(out, err, "fanout_peers", "Peers in the topic's fanout.", fanout, "gauge"));
    MN_TRY(per_topic(out, err, "fanout_out_total", "Own messages sent to fanout peers.",
                     m->fanout_out, "counter"));
    uint64_t thr[MN_RELAY_TOPICS_COUNT], sub[MN_RELAY_TOPICS_COUNT];
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++) {
        thr[t] = r->cfg.score.mesh_threshold[t];
        sub[t] = (r->cfg.subscribed >> (t + MN_RELAY_TOPIC_FIRST)) & 1u;
    }
    MN_TRY(per_topic(out, err, "topic_rate_millis",
                     "Measured messages a second on the topic, in thousandths.", r->rate_milli,
                     "gauge"));
    MN_TRY(per_topic(out, err, "mesh_delivery_threshold",
                     "P3 mesh delivery threshold of the topic (0: off).", thr, "gauge"));
    MN_TRY(per_topic(out, err, "subscribed", "1 if this node joins the topic's mesh.", sub,
                     "gauge"));
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_relay_peers Peers connected, by kind.\n"
                          "# TYPE mn_relay_peers gauge\n"));
    MN_TRY(mn_buf_appendf(out, err, "mn_relay_peers{kind=\"all\"} %" PRIu64 "\n", peers));
    MN_TRY(mn_buf_appendf(out, err, "mn_relay_peers{kind=\"outbound\"} %" PRIu64 "\n", outbound));
    MN_TRY(mn_buf_appendf(out, err, "mn_relay_peers{kind=\"explicit\"} %" PRIu64 "\n", explicit_peers));
    static const char *const standings[4] = {"ok", "no_gossip", "no_publish", "graylisted"};
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_relay_peers_standing Peers by score standing (last "
                          "heartbeat).\n# TYPE mn_relay_peers_standing gauge\n"));
    for (uint32_t i = 0; i < 4; i++)
        MN_TRY(mn_buf_appendf(out, err, "mn_relay_peers_standing{standing=\"%s\"} %" PRIu64 "\n",
                    standings[i], standing[i]));
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_relay_group_inbound Inbound peers per address group.\n"
                          "# TYPE mn_relay_group_inbound gauge\n"));
    for (uint32_t i = 0; i < MN_RELAY_CONN_GROUPS_MAX; i++) {
        const mn_relay_conn_group *g = &r->groups[i];
        if (!g->used || g->inbound == 0)
            continue;
        char hex[33];
        mn_hex_encode(hex, g->prefix, 16);
        MN_TRY(mn_buf_appendf(out, err, "mn_relay_group_inbound{group=\"%s\"} %u\n", hex, g->inbound));
    }
    struct {
        const char *name, *help;
        uint64_t v;
    } const c[] = {
        {"rate_limited_total", "Messages dropped over a rate limit.", m->rate_limited},
        {"undecodable_total", "Messages that were not envelopes.", m->undecodable},
        {"bad_signature_total", "Envelopes with a bad signature.", m->bad_signature},
        {"graylisted_total", "Messages ignored from graylisted peers.", m->graylisted},
        {"ctrl_in_total", "Control messages received.", m->ctrl_in},
        {"ctrl_out_total", "Control messages sent.", m->ctrl_out},
        {"ctrl_undecodable_total", "Control messages that did not decode.", m->ctrl_undecodable},
        {"graft_in_total", "GRAFTs received.", m->graft_in},
        {"graft_out_total", "GRAFTs sent.", m->graft_out},
        {"prune_in_total", "PRUNEs received.", m->prune_in},
        {"prune_out_total", "PRUNEs sent.", m->prune_out},
        {"ihave_in_total", "IHAVE ids received.", m->ihave_in},
        {"ihave_out_total", "IHAVE ids sent.", m->ihave_out},
        {"iwant_in_total", "IWANT ids received.", m->iwant_in},
        {"iwant_out_total", "IWANT ids sent.", m->iwant_out},
        {"iwant_served_total", "IWANT ids answered from the history.", m->iwant_served},
        {"iwant_refused_total", "IWANT ids refused (retransmission or byte cap).",
         m->iwant_refused},
        {"promises_broken_total", "IWANTs not answered in time.", m->promises_broken},
        {"conn_refused_rate_total", "Connections refused over the group rate.",
         m->conn_refused_rate},
        {"conn_refused_group_total", "Connections refused: group inbound cap.",
         m->conn_refused_group},
        {"conn_refused_full_total", "Connections refused: no inbound slot.", m->conn_refused_full},
        {"seen_evictions_total", "Seen-cache ids evicted before their TTL.", r->seen.evictions},
        {"mcache_evictions_total", "History entries evicted early.", m->mcache_evictions},
        {"retained_evictions_total", "Kept scores dropped for room.", m->retained_evictions},
        {"pruned_score_total", "Mesh peers pruned for a negative score.", m->peers_pruned_score},
        {"opportunistic_grafts_total", "Peers grafted because the mesh scored poorly.",
         m->opportunistic_grafts},
        {"dropped_rtt_total", "Peers dropped for round trip or unanswered pings.", m->dropped_rtt},
        {"dropped_idle_total", "Peers dropped for bringing nothing useful.", m->dropped_idle},
        {"explicit_dials_total", "Dials asked for missing explicit peers.", m->explicit_dials},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        MN_TRY(counter(out, err, c[i].name, c[i].help, c[i].v));
    return 0;
}

static int group_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Distinct network groups of a table and the addresses of its largest group (how concentrated
 * the table is: an attacker's few groups show as a large one). */
static void group_stats(const mn_addrbook *ab, bool tried, uint8_t (*g)[16], uint32_t *groups,
                        uint32_t *largest)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES; i++)
        if (ab->entries[i].used && ab->entries[i].tried == tried)
            memcpy(g[n++], ab->entries[i].group, 16);
    qsort(g, n, 16, group_cmp);
    *groups = *largest = 0;
    for (uint32_t i = 0, run = 0; i < n; i++) {
        run = i > 0 && memcmp(g[i], g[i - 1], 16) == 0 ? run + 1 : 1;
        *groups += run == 1;
        if (run > *largest)
            *largest = run;
    }
}

int mn_addrbook_metrics_write(const mn_addrbook *ab, mn_buf *out, mn_err *err)
{
    const mn_addrbook_metrics *m = &ab->metrics;
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_addrbook_addresses Addresses in the book, by table.\n"
                          "# TYPE mn_addrbook_addresses gauge\n"));
    MN_TRY(mn_buf_appendf(out, err, "mn_addrbook_addresses{table=\"new\"} %u\n", ab->count_new));
    MN_TRY(mn_buf_appendf(out, err, "mn_addrbook_addresses{table=\"tried\"} %u\n", ab->count_tried));
    uint8_t(*g)[16] = malloc(MN_ADDRBOOK_ENTRIES * 16u);
    if (g == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "address book metrics");
    uint32_t groups[2], largest[2];
    group_stats(ab, false, g, &groups[0], &largest[0]);
    group_stats(ab, true, g, &groups[1], &largest[1]);
    free(g);
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_addrbook_groups Network groups in the book, by table.\n"
                          "# TYPE mn_addrbook_groups gauge\n"
                          "mn_addrbook_groups{table=\"new\"} %u\n"
                          "mn_addrbook_groups{table=\"tried\"} %u\n",
                groups[0], groups[1]));
    MN_TRY(mn_buf_appendf(out, err, "# HELP mn_addrbook_largest_group Addresses of the largest network "
                          "group, by table.\n# TYPE mn_addrbook_largest_group gauge\n"
                          "mn_addrbook_largest_group{table=\"new\"} %u\n"
                          "mn_addrbook_largest_group{table=\"tried\"} %u\n",
                largest[0], largest[1]));
    struct {
        const char *name, *help;
        uint64_t v;
    } const c[] = {
        {"added_total", "Addresses added to the new table.", m->added},
        {"refused_group24_total", "Addresses refused by a /24 cap.", m->refused_group24},
        {"refused_full_total", "Addresses refused: slot held by a live entry.", m->refused_full},
        {"evicted_new_total", "Terrible new entries replaced.", m->evicted_new},
        {"moved_tried_total", "Addresses moved to the tried table.", m->moved_tried},
        {"collisions_total", "Tried slot collisions queued for a test.", m->collisions},
        {"evicted_tried_total", "Tried entries evicted after failing a test.", m->evicted_tried},
        {"kept_tried_total", "Tried entries kept after passing a test.", m->kept_tried},
        {"selected_total", "Outbound addresses chosen.", m->selected},
        {"feelers_total", "Feeler addresses chosen.", m->feelers},
        {"failures_total", "Failed dials and health drops.", m->failures},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        MN_TRY(mn_buf_appendf(out, err, "# HELP mn_addrbook_%s %s\n# TYPE mn_addrbook_%s counter\n",
                    c[i].name, c[i].help, c[i].name));
        MN_TRY(mn_buf_appendf(out, err, "mn_addrbook_%s %" PRIu64 "\n", c[i].name, c[i].v));
    }
    return 0;
}
