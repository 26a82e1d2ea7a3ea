/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_dev.c: `metanode dev`: a whole local cluster in one command. Creates a testnet of N
 * validators in a temporary directory, starts N `metanode agent` child processes, prints where
 * their APIs are, sends signed notes at a steady rate over BPCI (node_client.h), shows the
 * blocks being committed (height, transactions, latency submit -> committed), and on Ctrl-C or
 * after --duration stops the load, waits for the last transactions, checks that every node
 * reports the same block and state root at a common height, stops the agents with SIGTERM and
 * prints a summary (heights, txs committed, tx/s, latency p50/p99, agreement). With --json the
 * summary is one JSON document (the node benchmark reads it).
 * Not here: the node itself (agent), the HTTP API (the agents serve it).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include "cli.h"
#include "metanode/cbor.h"
#include "metanode/ledger.h"
#include "metanode/node_client.h"
#include "metanode/node_home.h"
#include "metanode/node_msg.h"

int mn_cli_testnet(const char *out, uint32_t n, uint32_t base_port, const char *chain_id,
                   json_t *report, mn_err *err);

#define SENDERS 64u
#define NOTE_BYTES 120u
#define TABLE_BITS 21u
#define MS 1000000ull

enum { PHASE_WAIT, PHASE_LOAD, PHASE_DRAIN, PHASE_COMPARE, PHASE_DONE };

typedef struct dev {
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigint;
    mn_nclient *cl;
    uint32_t n;
    pid_t pids[MN_NCLIENT_PEERS_MAX];
    char dir[256];
    mn_genesis g;
    bool json, quiet;
    uint64_t rate, duration_s;
    int phase;
    uint64_t t0, load_start, load_end, phase_start;
    mn_keypair keys[SENDERS];
    uint64_t nonce[SENDERS];
    uint64_t seq, sent, refused_sends, committed, blocks, last_commit;
    uint64_t fetched, requested_at, first_height;
    /* submit times by tx hash prefix (open addressing; 0 = empty) */
    uint64_t *tkey, *tval;
    uint32_t *lat;
    size_t lat_len, lat_cap;
    /* comparison */
    uint64_t cmp_height;
    bool cmp_have[MN_NCLIENT_PEERS_MAX];
    uint8_t cmp_id[MN_NCLIENT_PEERS_MAX][32], cmp_root[MN_NCLIENT_PEERS_MAX][32];
    bool agree;
    uint64_t heights[MN_NCLIENT_PEERS_MAX];
    mn_buf txbuf;
} dev;

static uint64_t now(void)
{
    return uv_hrtime();
}

/* ---- submit-time table ------------------------------------------------------------------- */

static uint64_t key_of(const uint8_t hash[32])
{
    uint64_t k;
    memcpy(&k, hash, 8);
    return k | 1u;
}

static void table_put(dev *d, const uint8_t hash[32], uint64_t t)
{
    const uint64_t mask = (1ull << TABLE_BITS) - 1, k = key_of(hash);
    for (uint64_t i = k & mask, probes = 0; probes < 64; i = (i + 1) & mask, probes++)
        if (d->tkey[i] == 0 || d->tkey[i] == k) {
            d->tkey[i] = k;
            d->tval[i] = t;
            return;
        }
}

static uint64_t table_take(dev *d, const uint8_t hash[32])
{
    const uint64_t mask = (1ull << TABLE_BITS) - 1, k = key_of(hash);
    for (uint64_t i = k & mask, probes = 0; probes < 64 && d->tkey[i]; i = (i + 1) & mask, probes++)
        if (d->tkey[i] == k) {
            const uint64_t t = d->tval[i];
            d->tval[i] = 0; /* stays as a tombstone for the probe sequence */
            return t;
        }
    return 0;
}

/* ---- load ---------------------------------------------------------------------------------- */

static int make_tx(dev *d, uint32_t s, mn_buf *out, mn_err *err)
{
    char note[NOTE_BYTES + 1];
    int k = snprintf(note, sizeof(note), "metanode dev note %llu from sender %u ",
                     (unsigned long long)d->seq, s);
    memset(note + k, '.', NOTE_BYTES - (size_t)k);
    uint8_t body[NOTE_BYTES + 8];
    mn_buf bb = {.data = body, .cap = sizeof(body), .max = sizeof(body)};
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &bb);
    mn_cbor_put_bytes(&e, note, NOTE_BYTES);
    MN_TRY(mn_cbor_enc_finish(&e, err));
    mn_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = MN_TX_NOTE;
    strcpy(tx.chain_id, d->g.chain_id);
    memcpy(tx.sender, d->keys[s].pk, 32);
    tx.nonce = d->nonce[s] + 1;
    tx.body = bb.data;
    tx.body_len = bb.len;
    MN_TRY(mn_tx_sign_encode(&tx, &d->keys[s], out, err));
    d->nonce[s]++;
    d->seq++;
    return 0;
}

static void send_load(dev *d)
{
    const uint64_t t = now();
    uint64_t want = (t - d->load_start) / 1000 * d->rate / 1000000;
    if (want <= d->sent)
        return;
    uint64_t todo = want - d->sent;
    if (todo > MN_NODE_TX_BATCH_MAX)
        todo = MN_NODE_TX_BATCH_MAX;
    const uint32_t peer = (uint32_t)(d->seq / MN_NODE_TX_BATCH_MAX % d->n);
    if (!mn_nclient_connected(d->cl, peer))
        return;
    uint64_t saved[SENDERS];
    memcpy(saved, d->nonce, sizeof(saved));
    const uint64_t seq0 = d->seq;
    static const uint8_t *ptrs[MN_NODE_TX_BATCH_MAX];
    static size_t lens[MN_NODE_TX_BATCH_MAX], offs[MN_NODE_TX_BATCH_MAX];
    static uint8_t hashes[MN_NODE_TX_BATCH_MAX][32];
    mn_err err;
    d->txbuf.len = 0;
    for (uint64_t i = 0; i < todo; i++) {
        offs[i] = d->txbuf.len;
        if (make_tx(d, (uint32_t)(d->seq % SENDERS), &d->txbuf, &err) != 0) {
            fprintf(stderr, "metanode dev: %s\n", err.msg);
            return;
        }
        lens[i] = d->txbuf.len - offs[i];
    }
    for (uint64_t i = 0; i < todo; i++) {
        ptrs[i] = d->txbuf.data + offs[i];
        mn_tx_hash(hashes[i], ptrs[i], lens[i]);
    }
    if (mn_nclient_send_txs(d->cl, peer, ptrs, lens, (uint32_t)todo, &err) != 0) {
        memcpy(d->nonce, saved, sizeof(saved)); /* not sent: the nonces are free again */
        d->seq = seq0;
        d->refused_sends++;
        return;
    }
    for (uint64_t i = 0; i < todo; i++)
        table_put(d, hashes[i], t);
    d->sent += todo;
}

/* ---- observing ----------------------------------------------------------------------------- */

typedef struct block_scan {
    dev *d;
    uint64_t t, txs;
} block_scan;

static void scan_tx(void *ctx, const uint8_t *tx, size_t len)
{
    block_scan *b = ctx;
    uint8_t h[32];
    mn_tx_hash(h, tx, len);
    b->txs++;
    const uint64_t t0 = table_take(b->d, h);
    if (t0 == 0)
        return;
    dev *d = b->d;
    if (d->lat_len == d->lat_cap) {
        d->lat_cap = d->lat_cap ? 2 * d->lat_cap : 65536;
        d->lat = realloc(d->lat, d->lat_cap * sizeof(*d->lat));
        MN_ASSERT(d->lat != NULL);
    }
    d->lat[d->lat_len++] = (uint32_t)((b->t - t0) / MS);
    d->committed++;
    d->last_commit = b->t;
}

static int cmp_u32(const void *a, const void *b)
{
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t pct(uint32_t *v, size_t n, uint32_t p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_u32);
    size_t i = (n * p + 99) / 100;
    return v[i == 0 ? 0 : i - 1];
}

static void on_block(void *ctx, uint32_t peer, const mn_block_header *h, const mn_commit_cert *c,
                     const uint8_t *body, size_t len)
{
    dev *d = ctx;
    (void)c;
    mn_err err;
    if (d->phase == PHASE_COMPARE) {
        if (h->height == d->cmp_height && !d->cmp_have[peer] &&
            mn_body_state_root(body, len, d->cmp_root[peer], &err) == 0) {
            mn_block_id(d->cmp_id[peer], h);
            d->cmp_have[peer] = true;
        }
        return;
    }
    if (peer != 0 || h->height != d->fetched + 1)
        return;
    d->fetched = h->height;
    d->blocks++;
    block_scan b = {.d = d, .t = now()};
    const size_t before = d->lat_len;
    (void)mn_body_txs(body, len, scan_tx, &b, &b.txs, &err);
    if (!d->quiet && !d->json && d->phase != PHASE_WAIT && b.txs > 0) {
        static uint32_t tmp[MN_BLOCK_TXS_MAX];
        size_t k = d->lat_len - before;
        if (k > MN_BLOCK_TXS_MAX)
            k = MN_BLOCK_TXS_MAX;
        memcpy(tmp, d->lat + before, k * sizeof(*tmp));
        printf("block %6llu  %5llu txs  latency p50 %4u ms\n", (unsigned long long)h->height,
               (unsigned long long)b.txs, pct(tmp, k, 50));
        fflush(stdout);
    }
}

static void on_status(void *ctx, uint32_t peer, uint64_t height, const uint8_t id[32],
                      const uint8_t root[32])
{
    dev *d = ctx;
    (void)id;
    (void)root;
    d->heights[peer] = height;
    if (d->first_height == 0 && peer == 0)
        d->first_height = height;
}

/* ---- phases -------------------------------------------------------------------------------- */

static void stop(dev *d);

static void fetch(dev *d)
{
    const uint64_t top = mn_nclient_height(d->cl, 0);
    const uint64_t t = now();
    if (top > d->fetched && (d->requested_at == 0 || t - d->requested_at > 500 * MS)) {
        mn_err err;
        uint64_t count = top - d->fetched;
        if (count > MN_NODE_SYNC_BATCH_MAX)
            count = MN_NODE_SYNC_BATCH_MAX;
        if (mn_nclient_request_blocks(d->cl, 0, d->fetched + 1, (uint32_t)count, &err) == 0)
            d->requested_at = t;
    }
    if (d->fetched == top)
        d->requested_at = 0;
}

static void on_tick(uv_timer_t *tm)
{
    dev *d = tm->data;
    const uint64_t t = now();
    switch (d->phase) {
    case PHASE_WAIT: {
        uint32_t up = 0;
        for (uint32_t i = 0; i < d->n; i++)
            up += mn_nclient_connected(d->cl, i) && d->heights[i] >= 1;
        if (up == d->n) {
            d->fetched = mn_nclient_height(d->cl, 0);
            d->phase = PHASE_LOAD;
            d->load_start = t;
            if (!d->json)
                printf("all %u validators are committing blocks; sending %llu notes/s\n", d->n,
                       (unsigned long long)d->rate);
        } else if (t - d->t0 > 60000 * MS) {
            fprintf(stderr, "metanode dev: the cluster did not start within 60 s (logs in %s)\n",
                    d->dir);
            d->agree = false;
            stop(d);
        }
        break;
    }
    case PHASE_LOAD:
        send_load(d);
        fetch(d);
        if (d->duration_s && t - d->load_start >= d->duration_s * 1000 * MS) {
            d->phase = PHASE_DRAIN;
            d->load_end = t;
            d->phase_start = t;
        }
        break;
    case PHASE_DRAIN:
        fetch(d);
        if (d->committed >= d->sent || t - d->phase_start > 10000 * MS) {
            d->phase = PHASE_COMPARE;
            d->phase_start = t;
            uint64_t low = UINT64_MAX;
            for (uint32_t i = 0; i < d->n; i++)
                if (d->heights[i] < low)
                    low = d->heights[i];
            d->cmp_height = low;
            mn_err err;
            for (uint32_t i = 0; i < d->n; i++)
                (void)mn_nclient_request_blocks(d->cl, i, low, 1, &err);
        }
        break;
    case PHASE_COMPARE: {
        uint32_t have = 0;
        for (uint32_t i = 0; i < d->n; i++)
            have += d->cmp_have[i];
        if (have == d->n || t - d->phase_start > 5000 * MS) {
            d->agree = have == d->n && d->cmp_height > 0;
            for (uint32_t i = 1; i < have; i++)
                d->agree &= memcmp(d->cmp_id[i], d->cmp_id[0], 32) == 0 &&
                            memcmp(d->cmp_root[i], d->cmp_root[0], 32) == 0;
            stop(d);
        }
        break;
    }
    default:
        break;
    }
}

static void on_sigint(uv_signal_t *s, int signum)
{
    dev *d = s->data;
    (void)signum;
    if (d->phase == PHASE_LOAD) {
        d->phase = PHASE_DRAIN;
        d->load_end = d->phase_start = now();
        if (!d->json)
            printf("\nstopping the load; waiting for the last notes\n");
    } else if (d->phase != PHASE_DONE) {
        stop(d); /* a second Ctrl-C: stop at once */
    }
}

static void stop(dev *d)
{
    d->phase = PHASE_DONE;
    uv_timer_stop(&d->tick);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    mn_nclient_close(d->cl);
}

/* ---- processes ----------------------------------------------------------------------------- */

static int spawn_agent(dev *d, uint32_t i, const char *self_exe)
{
    char home[512], log[600];
    snprintf(home, sizeof(home), "%s/node%u", d->dir, i);
    snprintf(log, sizeof(log), "%s/agent.log", home);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0); /* Ctrl-C goes to dev only, which stops the agents in order */
        const char *level = getenv("METANODE_DEV_LOG_LEVEL"); /* e.g. debug, for diagnosis */
        if (level != NULL)
            execl(self_exe, "metanode", "agent", "--home", home, "--log-level", level,
                  (char *)NULL);
        else
            execl(self_exe, "metanode", "agent", "--home", home, (char *)NULL);
        _exit(127);
    }
    d->pids[i] = pid;
    return 0;
}

static void stop_agents(dev *d)
{
    for (uint32_t i = 0; i < d->n; i++)
        if (d->pids[i] > 0)
            kill(d->pids[i], SIGTERM);
    const uint64_t end = now() + 10000 * MS;
    for (uint32_t i = 0; i < d->n; i++) {
        while (d->pids[i] > 0) {
            int st;
            pid_t r = waitpid(d->pids[i], &st, WNOHANG);
            if (r == d->pids[i] || (r < 0 && errno != EINTR)) {
                d->pids[i] = 0;
            } else if (now() > end) {
                kill(d->pids[i], SIGKILL);
                waitpid(d->pids[i], &st, 0);
                d->pids[i] = 0;
            } else {
                usleep(10000);
            }
        }
    }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- summary ------------------------------------------------------------------------------- */

static void summary(dev *d)
{
    /* Committed tx/s over the span from the first submission to the last commit seen (the
     * drain after the load counts, and so does its time). */
    const uint64_t end = d->last_commit > d->load_end ? d->last_commit : d->load_end;
    const double secs = end > d->load_start ? (double)(end - d->load_start) / 1e9 : 0.0;
    const uint32_t p50 = pct(d->lat, d->lat_len, 50), p99 = pct(d->lat, d->lat_len, 99);
    const double tps = secs > 0 ? (double)d->committed / secs : 0.0;
    if (d->json) {
        json_t *doc = json_object();
        json_t *hs = json_array();
        for (uint32_t i = 0; i < d->n; i++)
            json_array_append_new(hs, json_integer((json_int_t)d->heights[i]));
        json_object_set_new(doc, "validators", json_integer(d->n));
        json_object_set_new(doc, "heights", hs);
        json_object_set_new(doc, "blocks_observed", json_integer((json_int_t)d->blocks));
        json_object_set_new(doc, "load_seconds",
                            json_real((double)(d->load_end - d->load_start) / 1e9));
        json_object_set_new(doc, "span_seconds", json_real(secs));
        json_object_set_new(doc, "tx_rate_target", json_integer((json_int_t)d->rate));
        json_object_set_new(doc, "txs_sent", json_integer((json_int_t)d->sent));
        json_object_set_new(doc, "txs_committed", json_integer((json_int_t)d->committed));
        json_object_set_new(doc, "tx_per_s", json_real(tps));
        json_object_set_new(doc, "latency_p50_ms", json_integer(p50));
        json_object_set_new(doc, "latency_p99_ms", json_integer(p99));
        json_object_set_new(doc, "compare_height", json_integer((json_int_t)d->cmp_height));
        json_object_set_new(doc, "same_state_root", json_boolean(d->agree));
        json_object_set_new(doc, "dir", json_string(d->dir));
        cli_print_json(doc);
        return;
    }
    printf("\nsummary\n  heights:        ");
    for (uint32_t i = 0; i < d->n; i++)
        printf("%llu ", (unsigned long long)d->heights[i]);
    printf("\n  txs committed:  %llu of %llu sent, %.1f s from first send to last commit "
           "(%.0f tx/s)\n",
           (unsigned long long)d->committed, (unsigned long long)d->sent, secs, tps);
    printf("  latency:        p50 %u ms, p99 %u ms (submit -> committed)\n", p50, p99);
    char root[65] = "";
    mn_hex_encode(root, d->cmp_root[0], 32);
    printf("  agreement:      %s at height %llu (state root %.16s...)\n",
           d->agree ? "all nodes have the same block and state root" : "NOT ALL NODES AGREE",
           (unsigned long long)d->cmp_height, root);
}

static const char dev_help[] =
    "usage: metanode dev [--validators N] [--duration S] [--tx-rate R] [--base-port P]\n"
    "                    [--keep] [--quiet] [--json]\n"
    "Starts a local cluster of N validators (default 4) in a temporary directory, prints their\n"
    "API addresses, sends R signed notes per second (default 200) and shows each block as it\n"
    "is committed. Stops after S seconds (default: on Ctrl-C), waits for the last notes, checks\n"
    "that all nodes agree on the block and state root at a common height, stops the agents and\n"
    "prints a summary. --keep leaves the directory (homes, logs, databases) in place.\n"
    "Exit code 1 if the nodes disagree or nothing was committed.\n";

int cmd_dev(int argc, char **argv)
{
    static const struct option opts[] = {
        {"validators", required_argument, 0, 'n'}, {"duration", required_argument, 0, 'd'},
        {"tx-rate", required_argument, 0, 'r'},    {"base-port", required_argument, 0, 'p'},
        {"keep", no_argument, 0, 'k'},             {"quiet", no_argument, 0, 'q'},
        {"json", no_argument, 0, 'j'},             {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    static dev d;
    uint64_t n = 4, port = 0;
    bool keep = false;
    d.rate = 200;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if ((c == 'n' && cli_parse_u64(optarg, &n) == 0) ||
            (c == 'd' && cli_parse_u64(optarg, &d.duration_s) == 0) ||
            (c == 'r' && cli_parse_u64(optarg, &d.rate) == 0) ||
            (c == 'p' && cli_parse_u64(optarg, &port) == 0))
            continue;
        if (c == 'k')
            keep = true;
        else if (c == 'q')
            d.quiet = true;
        else if (c == 'j')
            d.json = true;
        else if (c == 'h')
            return fputs(dev_help, stdout), CLI_OK;
        else
            return cli_usage_error("dev", "bad option (see --help)");
    }
    if (optind != argc || n < 1 || n > MN_NCLIENT_PEERS_MAX)
        return cli_usage_error("dev", "--validators wants 1..%u", MN_NCLIENT_PEERS_MAX);
    mn_err err;
    if (port == 0) {
        uint32_t p;
        if (mn_home_free_ports(2 * (uint32_t)n, (uint32_t)getpid(), &p, &err) != 0)
            return cli_fail("dev", &err);
        port = p;
    }
    if (port + 2 * n > 65535)
        return cli_usage_error("dev", "--base-port too high");
    d.n = (uint32_t)n;
    snprintf(d.dir, sizeof(d.dir), "%s/metanode-dev-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(d.dir) == NULL) {
        perror("metanode dev: mkdtemp");
        return CLI_INTERNAL;
    }
    json_t *report = json_object();
    char path[512];
    if (mn_cli_testnet(d.dir, d.n, (uint32_t)port, "metanode-dev", report, &err) != 0 ||
        snprintf(path, sizeof(path), "%s/genesis.json", d.dir) < 0 ||
        mn_genesis_load(&d.g, path, &err) != 0) {
        json_decref(report);
        return cli_fail("dev", &err);
    }
    json_decref(report);
    char self_exe[4096];
    ssize_t k = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
    if (k <= 0)
        return perror("metanode dev: readlink"), CLI_INTERNAL;
    self_exe[k] = '\0';
    for (uint32_t i = 0; i < d.n; i++)
        if (spawn_agent(&d, i, self_exe) != 0)
            return perror("metanode dev: fork"), stop_agents(&d), CLI_INTERNAL;
    if (!d.json) {
        printf("cluster of %u validators in %s\n", d.n, d.dir);
        for (uint32_t i = 0; i < d.n; i++)
            printf("  node%u  api http://%s  (log %s/node%u/agent.log)\n", i, d.g.validators[i].api,
                   d.dir, i);
        fflush(stdout);
    }
    for (uint32_t i = 0; i < SENDERS; i++)
        mn_keypair_generate(&d.keys[i]);
    d.tkey = calloc(1ull << TABLE_BITS, sizeof(uint64_t));
    d.tval = calloc(1ull << TABLE_BITS, sizeof(uint64_t));
    MN_ASSERT(d.tkey && d.tval);
    mn_buf_init(&d.txbuf, 0);
    uv_loop_init(&d.loop);
    const mn_nclient_callbacks cb = {.ctx = &d, .on_status = on_status, .on_block = on_block};
    int rc = mn_nclient_new(&d.loop, &cb, &d.cl, &err);
    for (uint32_t i = 0; rc == 0 && i < d.n; i++) {
        uint8_t id[32];
        mn_node_id(id, d.g.validators[i].pk);
        rc = mn_nclient_add_peer(d.cl, d.g.validators[i].addr, id, NULL, &err);
    }
    if (rc != 0) {
        stop_agents(&d);
        return cli_fail("dev", &err);
    }
    d.t0 = now();
    uv_timer_init(&d.loop, &d.tick);
    d.tick.data = &d;
    uv_timer_start(&d.tick, on_tick, 10, 10);
    uv_signal_init(&d.loop, &d.sigint);
    d.sigint.data = &d;
    uv_signal_start(&d.sigint, on_sigint, SIGINT);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    while (!mn_nclient_closed(d.cl))
        uv_run(&d.loop, UV_RUN_ONCE);
    mn_nclient_free(d.cl);
    uv_loop_close(&d.loop);
    stop_agents(&d);
    summary(&d);
    if (!keep)
        nftw(d.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (!d.json)
        printf("  kept:           %s\n", d.dir);
    free(d.tkey);
    free(d.tval);
    free(d.lat);
    mn_buf_deinit(&d.txbuf);
    return d.agree && d.committed > 0 ? CLI_OK : CLI_INVALID;
}
