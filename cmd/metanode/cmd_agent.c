/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_agent.c: `metanode agent --home DIR` runs a node (node.h) and its HTTP API (api.h) on one
 * libuv loop until SIGINT or SIGTERM, then shuts down cleanly (API, consensus timers, BPCI
 * sessions, the ledger). A home whose key is not in the validator set runs as an observer that
 * follows by block sync. Prints one line "ready ..." on stdout once serving. Not here: homes
 * (node_home.h), the cluster (cmd_dev.c).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "metanode/api.h"
#include "metanode/log.h"
#include "metanode/metrics.h"
#include "metanode/node.h"
#include "metanode/node_home.h"

typedef struct agent {
    uv_loop_t loop;
    mn_node *node;
    mn_api *api;
    uv_signal_t sigint, sigterm;
    uv_timer_t watch;
    mn_metrics *metrics;
    mn_metric *m_height, *m_round, *m_peers, *m_mempool, *m_latency, *m_txs, *m_blocks;
    mn_metric *m_bytes_in, *m_bytes_out;
    uint8_t id[32];
    bool stopping;
    int signal;
} agent;

static void on_commit(void *ctx, uint64_t height, uint64_t latency_ns, uint64_t txs)
{
    agent *a = ctx;
    (void)height;
    if (a->m_latency && latency_ns)
        mn_metric_observe(a->m_latency, 0, latency_ns);
    if (a->m_txs)
        mn_metric_inc(a->m_txs, 0, txs);
    if (a->m_blocks)
        mn_metric_inc(a->m_blocks, 0, 1);
}

static void api_status(void *ctx, mn_api_status *st)
{
    agent *a = ctx;
    mn_node_status s;
    mn_node_get_status(a->node, &s);
    memcpy(st->node_id, a->id, 32);
    st->validator = s.validator;
    st->catching_up = mn_node_catching_up(a->node);
    st->round = s.round;
    st->peers = s.peers_connected;
}

static uint32_t api_peers(void *ctx, mn_api_peer *out, uint32_t max)
{
    agent *a = ctx;
    static mn_node_peer ps[MN_NODE_PEERS_MAX];
    const uint32_t n = mn_node_peers(a->node, ps, max < MN_NODE_PEERS_MAX ? max : MN_NODE_PEERS_MAX);
    const mn_genesis *g = mn_node_genesis(a->node);
    for (uint32_t i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        memcpy(out[i].id, ps[i].id, 32);
        out[i].connected = ps[i].connected;
        out[i].validator = ps[i].validator;
        out[i].rtt_ns = mn_bpci_node_rtt_ns(mn_node_bpci(a->node), ps[i].id);
        for (uint32_t k = 0; k < g->validator_count; k++) {
            uint8_t id[32];
            mn_node_id(id, g->validators[k].pk);
            if (memcmp(id, ps[i].id, 32) == 0)
                snprintf(out[i].addr, sizeof(out[i].addr), "%s", g->validators[k].addr);
        }
    }
    return n;
}

static int api_metrics(void *ctx, mn_buf *out, mn_err *err)
{
    agent *a = ctx;
    mn_node_status s;
    mn_node_get_status(a->node, &s);
    mn_metric_set(a->m_height, 0, (int64_t)s.height);
    mn_metric_set(a->m_round, 0, (int64_t)s.round);
    mn_metric_set(a->m_peers, 0, (int64_t)s.peers_connected);
    mn_metric_set(a->m_mempool, 0, (int64_t)s.mempool.count);
    mn_metric_set_counter(a->m_bytes_in, 0, s.bytes_in);
    mn_metric_set_counter(a->m_bytes_out, 0, s.bytes_out);
    MN_TRY(mn_metrics_render(a->metrics, out, err));
    const mn_bpci_metrics bm = mn_bpci_node_metrics(mn_node_bpci(a->node));
    MN_TRY(mn_bpci_metrics_prometheus(&bm, out, err));
    return mn_node_relay_metrics(a->node, out, err);
}

static void api_tx_admitted(void *ctx, const uint8_t hash[32], const uint8_t *tx, size_t len)
{
    agent *a = ctx;
    (void)hash;
    mn_node_gossip_tx(a->node, tx, len);
}

static int add_metric(agent *a, mn_metric **out, const char *name, const char *help,
                      mn_metric_kind kind, mn_err *err)
{
    static const uint64_t buckets[] = {50000000,   100000000,  250000000,  500000000,
                                       1000000000, 2000000000, 5000000000, 10000000000};
    mn_metric_desc d = {.name = name, .help = help, .kind = kind};
    if (kind == MN_METRIC_HISTOGRAM) {
        d.buckets = buckets;
        d.bucket_count = sizeof(buckets) / sizeof(buckets[0]);
        d.ns_as_seconds = true;
    }
    return mn_metrics_add(a->metrics, &d, out, err);
}

static int setup_metrics(agent *a, mn_err *err)
{
    MN_TRY(mn_metrics_new(&a->metrics, err));
    MN_TRY(add_metric(a, &a->m_height, "mn_node_height", "last committed height",
                      MN_METRIC_GAUGE, err));
    MN_TRY(add_metric(a, &a->m_round, "mn_node_round", "consensus round of the current height",
                      MN_METRIC_GAUGE, err));
    MN_TRY(add_metric(a, &a->m_peers, "mn_node_peers", "peers with a session",
                      MN_METRIC_GAUGE, err));
    MN_TRY(add_metric(a, &a->m_mempool, "mn_node_mempool_txs", "transactions in the mempool",
                      MN_METRIC_GAUGE, err));
    MN_TRY(add_metric(a, &a->m_latency, "mn_node_commit_latency_seconds",
                      "height start to decision", MN_METRIC_HISTOGRAM, err));
    MN_TRY(add_metric(a, &a->m_txs, "mn_node_txs_committed_total", "transactions committed",
                      MN_METRIC_COUNTER, err));
    MN_TRY(add_metric(a, &a->m_bytes_in, "mn_node_bytes_in_total",
                      "bytes of node messages received", MN_METRIC_COUNTER, err));
    MN_TRY(add_metric(a, &a->m_bytes_out, "mn_node_bytes_out_total",
                      "bytes of node messages sent", MN_METRIC_COUNTER, err));
    return add_metric(a, &a->m_blocks, "mn_node_blocks_committed_total", "blocks committed",
                      MN_METRIC_COUNTER, err);
}

static void on_signal(uv_signal_t *s, int signum)
{
    agent *a = s->data;
    if (a->stopping)
        return;
    a->stopping = true;
    a->signal = signum;
    MN_LOG(INFO, "agent", "signal %d: shutting down", signum);
    if (a->api) {
        mn_api_close(a->api);
        a->api = NULL;
    }
    mn_node_close(a->node);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
    uv_close((uv_handle_t *)&a->watch, NULL);
}

/* A node that failed (a signing state it could not make durable) has closed itself. */
static void on_watch(uv_timer_t *t)
{
    agent *a = t->data;
    if (a->node && mn_node_failed(a->node))
        on_signal(&a->sigint, 0);
}

static const char agent_help[] =
    "usage: metanode agent --home DIR [--log-level LEVEL] [--log-json]\n"
    "Runs the node of a home (see `metanode init`, `metanode testnet`): BPCI on the config's\n"
    "listen address, consensus with the validators of DIR/genesis.json, block sync, and the\n"
    "HTTP API on the config's api address. A key outside the validator set follows the chain\n"
    "as an observer. Stops cleanly on SIGINT or SIGTERM. Prints \"ready ...\" when serving.\n"
    "The relay groups peers by the ASN map named by the config's \"asmap\" (a file of\n"
    "\"PREFIX/LEN ASN REGION\" lines, e.g. data/asmap-sample.txt), else by /16 and /32.\n";

typedef struct agent_setup {
    mn_home_config cfg;
    mn_home_keys keys;
    mn_genesis genesis;
    char db[MN_HOME_PATH_MAX];
    char anchors[MN_HOME_PATH_MAX];
    mn_asmap asmap; /* when the config names one */
    bool have_asmap;
} agent_setup;

/* The config's ASN map, relative to the home unless absolute. */
static int load_asmap(const char *home, agent_setup *s, mn_err *err)
{
    char path[MN_HOME_PATH_MAX];
    if (s->cfg.asmap[0] == '/') {
        if (strlen(s->cfg.asmap) >= sizeof path)
            return mn_err_set(err, MN_ELIMIT, 0, "asmap path too long");
        strcpy(path, s->cfg.asmap);
    } else {
        MN_TRY(mn_home_path(path, home, s->cfg.asmap, err));
    }
    uint8_t *text;
    size_t len;
    MN_TRY(mn_file_read(path, MN_ASMAP_FILE_BYTES_MAX, &text, &len, err));
    const int rc = mn_asmap_parse(&s->asmap, (const char *)text, len, err);
    free(text);
    if (rc != 0)
        return mn_err_wrap(err, "%s", path);
    s->have_asmap = true;
    return 0;
}

static int load_home(const char *home, agent_setup *s, mn_err *err)
{
    char path[MN_HOME_PATH_MAX];
    MN_TRY(mn_home_load_config(home, &s->cfg, err));
    MN_TRY(mn_home_load_keys(home, &s->keys, err));
    MN_TRY(mn_home_path(path, home, "genesis.json", err));
    MN_TRY(mn_genesis_load(&s->genesis, path, err));
    MN_TRY(mn_home_path(s->anchors, home, "data/anchors.cbor", err));
    if (s->cfg.asmap[0] != '\0')
        MN_TRY(load_asmap(home, s, err));
    return mn_home_path(s->db, home, "data/ledger.db", err);
}

static int start(agent *a, agent_setup *s, mn_err *err)
{
    const char *peers[MN_HOME_PEERS_MAX];
    for (uint32_t i = 0; i < s->cfg.peer_count; i++)
        peers[i] = s->cfg.peers[i];
    const mn_node_config nc = {
        .genesis = &s->genesis,
        .db_path = s->db,
        .anchors_path = s->anchors,
        .asmap = s->have_asmap ? &s->asmap : NULL,
        .key = &s->keys.key,
        .vrf_sk = s->keys.vrf_sk,
        .noise_priv = s->keys.noise_priv,
        .listen = s->cfg.listen,
        .peers = peers,
        .peer_count = s->cfg.peer_count,
        .on_commit = on_commit,
        .ctx = a,
    };
    mn_node_id(a->id, s->keys.key.pk);
    MN_TRY(setup_metrics(a, err));
    MN_TRY(mn_node_new(&a->loop, &nc, &a->node, err));
    MN_TRY(mn_node_start(a->node, err));
    char host[64];
    uint16_t port, bound = 0;
    MN_TRY(mn_api_parse_listen(s->cfg.api, host, &port, err));
    const mn_api_config ac = {
        .host = host,
        .port = port,
        .chain_id = s->genesis.chain_id,
        .ledger = mn_node_ledger(a->node),
        .mempool = mn_node_mempool(a->node),
        .cb = {.ctx = a, .status = api_status, .peers = api_peers, .metrics = api_metrics,
               .tx_admitted = api_tx_admitted},
    };
    MN_TRY(mn_api_start(&a->loop, &ac, &a->api, &bound, err));
    char id[65];
    mn_hex_encode(id, a->id, 32);
    mn_node_status st;
    mn_node_get_status(a->node, &st);
    printf("ready node=%s bpci=%s api=%s:%u height=%llu\n", id, s->cfg.listen, host, bound,
           (unsigned long long)st.height);
    fflush(stdout);
    return 0;
}

int cmd_agent(int argc, char **argv)
{
    static const struct option opts[] = {{"home", required_argument, 0, 'H'},
                                         {"log-level", required_argument, 0, 'L'},
                                         {"log-json", no_argument, 0, 'J'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *home = NULL, *level = NULL;
    bool log_json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'H')
            home = optarg;
        else if (c == 'L')
            level = optarg;
        else if (c == 'J')
            log_json = true;
        else if (c == 'h')
            return fputs(agent_help, stdout), CLI_OK;
        else
            return cli_usage_error("agent", "bad option (see --help)");
    }
    if (home == NULL || optind != argc)
        return cli_usage_error("agent", "--home DIR is required and no other argument");
    static agent_setup s;
    static agent a;
    mn_err err;
    if (load_home(home, &s, &err) != 0)
        return cli_fail("agent", &err);
    mn_log_level lvl;
    if (mn_log_level_parse(level ? level : s.cfg.log_level, &lvl) != 0)
        return cli_usage_error("agent", "unknown log level");
    mn_log_set_level(lvl);
    if (log_json)
        mn_log_set_sink(mn_log_sink_json, NULL);
    uv_loop_init(&a.loop);
    uv_signal_init(&a.loop, &a.sigint);
    uv_signal_init(&a.loop, &a.sigterm);
    a.sigint.data = a.sigterm.data = &a;
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    uv_timer_init(&a.loop, &a.watch);
    a.watch.data = &a;
    uv_timer_start(&a.watch, on_watch, 200, 200);
    int rc = CLI_OK;
    if (start(&a, &s, &err) != 0) {
        rc = cli_fail("agent", &err);
        if (a.node == NULL) {
            a.stopping = true;
            uv_close((uv_handle_t *)&a.sigint, NULL);
            uv_close((uv_handle_t *)&a.sigterm, NULL);
            uv_close((uv_handle_t *)&a.watch, NULL);
        } else {
            on_signal(&a.sigint, 0);
        }
    }
    mn_home_keys_wipe(&s.keys);
    uv_run(&a.loop, UV_RUN_DEFAULT);
    if (a.node && mn_node_failed(a.node)) {
        fprintf(stderr, "metanode agent: stopped after a fatal error (see the log)\n");
        rc = CLI_INTERNAL;
    }
    mn_node_free(a.node);
    mn_metrics_free(a.metrics);
    uv_loop_close(&a.loop);
    if (rc == CLI_OK)
        MN_LOG(INFO, "agent", "stopped cleanly");
    return rc;
}
