/* SPDX-License-Identifier: Apache-2.0
 *
 * test_cluster.c: integration tests with real `metanode agent` processes on loopback. Usage:
 *   test_cluster METANODE_BIN SCENARIO [N]
 * Scenarios:
 *   crash     4 validators under a steady load of notes: kill -9 one, the chain goes on;
 *             restart it, it catches up with the same block and state root at every height;
 *             kill two of four, the chain halts without forking; restore one, it resumes; also
 *             hostile API input is refused and the node keeps serving.
 *   restarts  a validator killed with SIGKILL at random points N times (default 10) under load:
 *             its committed height and signing state never go backwards, no evidence of a
 *             double sign appears in any block or log, and all nodes agree on every block.
 *   sync      after N blocks (default 300) a follower started from scratch syncs, verifying
 *             every certificate, and holds exactly the validators' blocks.
 *   join      a follower bonds its key, becomes a validator after the look-back and its votes
 *             keep the chain going when an original validator is killed.
 *   portclash validator 1's port is taken when its agent starts: the exit is seen and the
 *             cluster rebuilt on other ports (the cause of a silent 300 s stall, issue 7).
 *   relay     4 validators and 6 followers (peering with 1-2 validators and each other):
 *             every follower reaches the validators' height and blocks through the gossip
 *             relay, a note posted to a follower's API is committed (issue 8); with N, it
 *             runs N seconds longer (past the relay's pings) and no peer is dropped.
 * Waiting reports every node's height, round and peers every MN_CLUSTER_PROGRESS_S seconds
 * (default 5) on stderr and fails after MN_CLUSTER_STALL_S (default 60) seconds without a new
 * block, or at once when an agent dies.
 * Observation goes through the nodes' own protocol (node_client.h: status and block sync) and,
 * for the crashed node's durable state, by opening its ledger between kill and restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "metanode/api_client.h"
#include "metanode/cbor.h"
#include "metanode/keyfile.h"
#include "metanode/ledger.h"
#include "metanode/node_client.h"
#include "metanode/node_home.h"
#include "metanode/node_msg.h"
#include "mn_test.h"

#define MS 1000000ull
#define NODES_MAX 10u
#define HEIGHTS_MAX 4096u
#define SENDERS 8u

typedef struct cluster {
    char bin[1024], dir[256], root[256];
    uint32_t n;            /* processes: validators, then the follower if any */
    uint32_t validators;
    uint32_t extra;        /* followers a scenario will add (ports are reserved for them) */
    void (*extra_homes)(void); /* makes followers' homes at setup (started with the cluster) */
    uint8_t fid[NODES_MAX][32]; /* node ids of those followers */
    char fhost[NODES_MAX][32];  /* their BPCI listen address ("" : 127.0.0.1) */
    pid_t pid[NODES_MAX];
    mn_genesis g;
    uv_loop_t loop;
    uv_timer_t load;
    mn_nclient *cl;
    uint64_t height[NODES_MAX];
    /* blocks fetched for comparison: id and state root per (node, height) */
    uint8_t (*ids)[HEIGHTS_MAX][32];
    uint8_t (*roots)[HEIGHTS_MAX][32];
    bool (*have)[HEIGHTS_MAX];
    uint64_t evidence_seen;
    /* load */
    uint64_t rate;
    mn_keypair keys[SENDERS];
    uint64_t nonce[SENDERS];
    uint64_t seq, sent;
} cluster;

static cluster C;
static const char *base_port_env;

static uint64_t now(void)
{
    return uv_hrtime();
}

/* ---- callbacks --------------------------------------------------------------------------- */

static void on_status(void *ctx, uint32_t peer, uint64_t h, const uint8_t id[32],
                      const uint8_t root[32])
{
    cluster *c = ctx;
    (void)id;
    (void)root;
    if (peer < NODES_MAX)
        c->height[peer] = h;
}

/* Counts the evidence items of a body (key 5), reading past keys 1-4. */
static uint64_t body_evidence(const uint8_t *body, size_t len)
{
    mn_cbor_dec d;
    mn_err err;
    uint64_t n, k;
    int64_t key;
    mn_cbor_dec_init(&d, body, len);
    if (mn_cbor_get_map(&d, &n, &err) != 0)
        return 1000; /* unreadable: counted as a failure */
    for (uint64_t i = 0; i < n; i++) {
        if (mn_cbor_get_key(&d, &key, &err) != 0)
            return 1000;
        if (key == 5)
            return mn_cbor_get_array(&d, &k, &err) == 0 ? k : 1000;
        if (mn_cbor_skip(&d, &err) != 0)
            return 1000;
    }
    return 1000;
}

static void on_block(void *ctx, uint32_t peer, const mn_block_header *h, const mn_commit_cert *cert,
                     const uint8_t *body, size_t len)
{
    cluster *c = ctx;
    mn_err err;
    (void)cert;
    if (peer >= NODES_MAX || h->height == 0 || h->height >= HEIGHTS_MAX)
        return;
    if (mn_body_state_root(body, len, c->roots[peer][h->height], &err) != 0)
        memset(c->roots[peer][h->height], 0xee, 32);
    mn_block_id(c->ids[peer][h->height], h);
    c->have[peer][h->height] = true;
    c->evidence_seen += body_evidence(body, len);
}

/* ---- loop helpers ---------------------------------------------------------------------------- */

static void wake(uv_timer_t *t)
{
    (void)t;
}

static void run_for(uint64_t ms)
{
    const uint64_t end = now() + ms * MS;
    uv_timer_t t;
    uv_timer_init(&C.loop, &t);
    while (now() < end) {
        uv_timer_start(&t, wake, 20, 0);
        uv_run(&C.loop, UV_RUN_ONCE);
    }
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&C.loop, UV_RUN_NOWAIT);
}

static uint64_t max_height(void)
{
    uint64_t m = 0;
    for (uint32_t i = 0; i < C.n; i++)
        if (C.pid[i] > 0 && C.height[i] > m)
            m = C.height[i];
    return m;
}

static uint64_t min_height(void)
{
    uint64_t m = UINT64_MAX;
    for (uint32_t i = 0; i < C.n; i++)
        if (C.pid[i] > 0 && C.height[i] < m)
            m = C.height[i];
    return m == UINT64_MAX ? 0 : m;
}

static bool node_exited(uint32_t i);

/* Milliseconds from an environment variable (given in seconds), or def. */
static uint64_t env_seconds_ms(const char *name, uint64_t def_s)
{
    const char *v = getenv(name);
    const uint64_t s = v != NULL && atoll(v) > 0 ? (uint64_t)atoll(v) : def_s;
    return s * 1000u;
}

static size_t status_sink(char *p, size_t size, size_t n, void *ctx)
{
    mn_err err;
    return mn_buf_append(ctx, p, size * n, &err) == 0 ? size * n : 0;
}

/* GET base/status with a 1 s bound (the API client's 30 s would stall the report on a hung
 * node, whose API shares the loop with consensus): the parsed document, or NULL. */
static json_t *get_status(const char *base)
{
    char url[160];
    snprintf(url, sizeof(url), "%s/status", base);
    mn_buf body;
    mn_buf_init(&body, 0);
    CURL *c = curl_easy_init();
    long code = 0;
    json_t *doc = NULL;
    if (c != NULL) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1000L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, status_sink);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        if (curl_easy_perform(c) == CURLE_OK &&
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200)
            doc = json_loadb((const char *)body.data, body.len, 0, NULL);
        curl_easy_cleanup(c);
    }
    mn_buf_deinit(&body);
    return doc;
}

/* One line on stderr: every node's height as its STATUS told us, and its consensus round and
 * peer count from GET /status (the node's view, "-" when its API does not answer). */
static void report_progress(const char *what, int node, uint64_t h, uint64_t t0)
{
    char line[1024], who[16];
    if (node < 0)
        snprintf(who, sizeof(who), "all");
    else
        snprintf(who, sizeof(who), "%d", node);
    int len = snprintf(line, sizeof(line), "  [%3llus] %s node %s >= %llu:",
                       (unsigned long long)((now() - t0) / (1000 * MS)), what, who,
                       (unsigned long long)h);
    for (uint32_t i = 0; i < C.n && len > 0 && (size_t)len < sizeof(line); i++) {
        if (C.pid[i] <= 0) {
            len += snprintf(line + len, sizeof(line) - (size_t)len, " n%u=down", i);
            continue;
        }
        const char *api = i < C.validators ? C.g.validators[i].api : NULL;
        char url[128], fapi[64];
        if (api == NULL) { /* a follower i: BPCI on base + 2i, API on base + 2i + 1 */
            snprintf(fapi, sizeof(fapi), "127.0.0.1:%u",
                     (unsigned)atoi(strrchr(C.g.validators[0].addr, ':') + 1) + 2 * i + 1);
            api = fapi;
        }
        snprintf(url, sizeof(url), "http://%s", api);
        long long round = -1, peers = -1;
        json_t *doc = get_status(url);
        if (doc != NULL) {
            round = json_integer_value(json_object_get(doc, "round"));
            peers = json_integer_value(json_object_get(doc, "peers"));
        }
        json_decref(doc);
        if (round < 0)
            len += snprintf(line + len, sizeof(line) - (size_t)len, " n%u=%llu(api -)", i,
                            (unsigned long long)C.height[i]);
        else
            len += snprintf(line + len, sizeof(line) - (size_t)len, " n%u=%llu(r%lld,p%lld)",
                            i, (unsigned long long)C.height[i], round, peers);
    }
    fprintf(stderr, "%s\n", line);
}

/* Runs the loop until node i (all running nodes if i < 0) reports at least h: true on
 * success. Reports the heights every MN_CLUSTER_PROGRESS_S seconds (default 5) on stderr;
 * gives up after timeout_ms in total or, sooner, when the watched height has not moved for
 * MN_CLUSTER_STALL_S seconds (default 60: a healthy cluster commits several blocks a second,
 * a loaded CI machine at least one in that time). */
static bool wait_height(int node, uint64_t h, uint64_t timeout_ms)
{
    const uint64_t t0 = now(), end = t0 + timeout_ms * MS;
    const uint64_t every = env_seconds_ms("MN_CLUSTER_PROGRESS_S", 5) * MS;
    const uint64_t stall = env_seconds_ms("MN_CLUSTER_STALL_S", 60) * MS;
    uint64_t best = 0, moved = t0, said = t0;
    while (now() < end) {
        const uint64_t cur = node < 0 ? min_height() : C.height[node];
        if (cur >= h)
            return true;
        for (uint32_t i = 0; i < C.n; i++)
            if (node_exited(i)) /* a dead agent never reports again: say so now */
                mn_test_fail(__FILE__, __LINE__, "node %u died while waiting for height %llu",
                             i, (unsigned long long)h);
        const uint64_t t = now();
        if (cur > best) {
            best = cur;
            moved = t;
        }
        if (t - moved >= stall) {
            report_progress("STALLED waiting for", node, h, t0);
            fprintf(stderr, "  no progress for %llu s\n", (unsigned long long)(stall / MS / 1000));
            return false;
        }
        if (t - said >= every) {
            said = t;
            report_progress("waiting for", node, h, t0);
        }
        run_for(50);
    }
    report_progress("TIMED OUT waiting for", node, h, t0);
    return false;
}

/* ---- processes --------------------------------------------------------------------------- */

static void start_node(uint32_t i)
{
    char home[512], log[600];
    snprintf(home, sizeof(home), "%s/node%u", C.dir, i);
    snprintf(log, sizeof(log), "%s/agent.log", home);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(C.bin, "metanode", "agent", "--home", home, "--log-level", "info", (char *)NULL);
        _exit(127);
    }
    C.pid[i] = pid;
}

static void stop_node(uint32_t i, int sig)
{
    if (C.pid[i] <= 0)
        return;
    kill(C.pid[i], sig);
    int st;
    while (waitpid(C.pid[i], &st, 0) < 0 && errno == EINTR)
        ;
    if (sig == SIGTERM)
        ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* clean shutdown */
    C.pid[i] = 0;
    C.height[i] = 0;
}

static void stop_all(void)
{
    for (uint32_t i = 0; i < C.n; i++)
        stop_node(i, SIGTERM);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        mn_test_fail(__FILE__, __LINE__, "command failed (%d): %s", rc, cmd);
}

static void load_tick(uv_timer_t *t);

/* Prints the last lines of node i's log on stderr. */
static void show_log(uint32_t i)
{
    char cmd[700];
    fprintf(stderr, "  --- last lines of %s/node%u/agent.log ---\n", C.dir, i);
    fflush(stderr);
    snprintf(cmd, sizeof(cmd), "tail -n 20 %s/node%u/agent.log >&2", C.dir, i);
    (void)!system(cmd);
}

/* Node i's process has exited (reaped; its pid slot cleared): true, with a report. */
static bool node_exited(uint32_t i)
{
    int st;
    if (C.pid[i] <= 0 || waitpid(C.pid[i], &st, WNOHANG) != C.pid[i])
        return false;
    fprintf(stderr, "  node %u (pid %d) exited unexpectedly (%s %d)\n", i, (int)C.pid[i],
            WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    C.pid[i] = 0;
    C.height[i] = 0;
    show_log(i);
    return true;
}

/* Waits until every started node printed its "ready" line; false as soon as one exits. */
static bool nodes_ready(uint64_t timeout_ms)
{
    const uint64_t end = now() + timeout_ms * MS;
    bool ready[NODES_MAX] = {false};
    for (;;) {
        uint32_t count = 0;
        for (uint32_t i = 0; i < C.n; i++) {
            if (node_exited(i))
                return false;
            if (!ready[i]) {
                char path[600], text[4096];
                snprintf(path, sizeof(path), "%s/node%u/agent.log", C.dir, i);
                FILE *f = fopen(path, "r");
                size_t k = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
                if (f)
                    fclose(f);
                text[k] = '\0';
                ready[i] = strstr(text, "ready node=") != NULL;
            }
            count += ready[i];
        }
        if (count == C.n)
            return true;
        if (now() > end) {
            fprintf(stderr, "  %u of %u nodes ready after %llu s\n", count, C.n,
                    (unsigned long long)(timeout_ms / 1000));
            return false;
        }
        usleep(20000);
    }
}

/* Tests only (scenario portclash): the first setup attempt finds validator 1's BPCI port taken
 * by another process, as a port of a loaded machine can be between the search and the bind. */
static bool inject_port_clash;
static uint32_t setup_attempts;

static int hold_port(const char *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(strrchr(addr, ':') + 1));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_TRUE(fd >= 0);
    ASSERT_TRUE(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 16) == 0);
    return fd; /* listens and never accepts: a dialer's handshake times out */
}

/* A testnet of `validators` in a fresh directory, its agents started and serving. The ports
 * are found free (mn_home_free_ports) but are only bound later by the agents: if one cannot
 * listen (another process took its port meanwhile), it exits, which is reported, and the
 * cluster is rebuilt on other ports (up to 3 attempts; none with MN_CLUSTER_BASE_PORT). */
static void setup(uint32_t validators)
{
    memset(&C.height, 0, sizeof(C.height));
    C.validators = C.n = validators;
    mn_err err;
    for (uint32_t attempt = 0;; attempt++) {
        snprintf(C.dir, sizeof(C.dir), "%s/mn-cluster-XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        ASSERT_TRUE(mkdtemp(C.dir) != NULL);
        memcpy(C.root, C.dir, sizeof(C.root));
        uint32_t port = 0;
        if (base_port_env)
            port = (uint32_t)atoi(base_port_env);
        else
            ASSERT_OK(mn_home_free_ports(2 * (validators + (C.extra ? C.extra : 1)),
                                         (uint32_t)getpid() + attempt * 7919u, &port, &err),
                      &err);
        sh("%s testnet --validators %u --out %s/net --base-port %u --chain-id cluster-test "
           ">/dev/null",
           C.bin, validators, C.dir, port);
        /* homes at DIR/nodeI: the testnet wrote them under DIR/net */
        char tmp[300];
        snprintf(tmp, sizeof(tmp), "%s/net", C.dir);
        memcpy(C.dir, tmp, sizeof(C.dir) < sizeof(tmp) ? sizeof(C.dir) : sizeof(tmp));
        C.dir[sizeof(C.dir) - 1] = '\0';
        char path[600];
        snprintf(path, sizeof(path), "%s/genesis.json", C.dir);
        ASSERT_OK(mn_genesis_load(&C.g, path, &err), &err);
        const int held = inject_port_clash && attempt == 0 ? hold_port(C.g.validators[1].addr)
                                                             : -1;
        if (C.extra_homes != NULL)
            C.extra_homes(); /* sets C.n: the followers share the attempt and its ports */
        for (uint32_t i = 0; i < C.n; i++)
            start_node(i);
        const bool ok = nodes_ready(120000);
        if (held >= 0)
            close(held);
        setup_attempts = attempt + 1;
        if (ok)
            break;
        fprintf(stderr, "  cluster setup attempt %u failed (ports %u..%u)%s\n", attempt + 1,
                port, port + 2 * validators - 1,
                base_port_env || attempt >= 2 ? "" : ": again on other ports");
        if (base_port_env || attempt >= 2)
            mn_test_fail(__FILE__, __LINE__, "the cluster did not start (logs in %s)", C.dir);
        for (uint32_t i = 0; i < C.n; i++)
            if (C.pid[i] > 0) {
                kill(C.pid[i], SIGKILL);
                waitpid(C.pid[i], NULL, 0);
                C.pid[i] = 0;
            }
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", C.root);
        (void)!system(cmd);
    }
    C.ids = calloc(NODES_MAX, sizeof(*C.ids));
    C.roots = calloc(NODES_MAX, sizeof(*C.roots));
    C.have = calloc(NODES_MAX, sizeof(*C.have));
    ASSERT_TRUE(C.ids && C.roots && C.have);
    uv_loop_init(&C.loop);
    const mn_nclient_callbacks cb = {.ctx = &C, .on_status = on_status, .on_block = on_block};
    ASSERT_OK(mn_nclient_new(&C.loop, &cb, &C.cl, &err), &err);
    for (uint32_t i = 0; i < validators; i++) {
        uint8_t id[32];
        mn_node_id(id, C.g.validators[i].pk);
        ASSERT_OK(mn_nclient_add_peer(C.cl, C.g.validators[i].addr, id, NULL, &err), &err);
    }
    for (uint32_t i = validators; i < C.n; i++) { /* followers made by extra_homes */
        char addr[64];
        snprintf(addr, sizeof(addr), "%s:%u", C.fhost[i][0] ? C.fhost[i] : "127.0.0.1",
                 (unsigned)atoi(strrchr(C.g.validators[0].addr, ':') + 1) + 2 * i);
        ASSERT_OK(mn_nclient_add_peer(C.cl, addr, C.fid[i], NULL, &err), &err);
    }
    for (uint32_t i = 0; i < SENDERS; i++)
        mn_keypair_generate(&C.keys[i]);
    uv_timer_init(&C.loop, &C.load);
    uv_timer_start(&C.load, load_tick, 20, 20);
}

static void teardown(void)
{
    stop_all();
    uv_timer_stop(&C.load);
    uv_close((uv_handle_t *)&C.load, NULL);
    mn_nclient_close(C.cl);
    while (!mn_nclient_closed(C.cl))
        uv_run(&C.loop, UV_RUN_ONCE);
    mn_nclient_free(C.cl);
    uv_run(&C.loop, UV_RUN_NOWAIT);
    uv_loop_close(&C.loop);
    if (getenv("MN_KEEP_CLUSTER") == NULL) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", C.root);
        (void)!system(cmd);
    } else {
        printf("kept %s\n", C.dir);
    }
    free(C.ids);
    free(C.roots);
    free(C.have);
    C.dir[0] = '\0';
}

/* ---- load -------------------------------------------------------------------------------- */

static void load_tick(uv_timer_t *t)
{
    (void)t;
    if (C.rate == 0)
        return;
    const uint32_t per_tick = (uint32_t)(C.rate / 50 ? C.rate / 50 : 1);
    uint32_t peer = (uint32_t)(C.seq % C.validators);
    for (uint32_t k = 0; k < C.validators && !mn_nclient_connected(C.cl, peer); k++)
        peer = (peer + 1) % C.validators;
    if (!mn_nclient_connected(C.cl, peer))
        return;
    static uint8_t bufs[64][512];
    const uint8_t *ptrs[64];
    size_t lens[64];
    uint64_t saved[SENDERS];
    memcpy(saved, C.nonce, sizeof(saved));
    mn_err err;
    uint32_t count = per_tick < 64 ? per_tick : 64;
    for (uint32_t i = 0; i < count; i++) {
        const uint32_t s = (uint32_t)(C.seq++ % SENDERS);
        uint8_t body[80];
        mn_buf bb = {.data = body, .cap = sizeof(body), .max = sizeof(body)};
        mn_cbor_enc e;
        char note[64];
        snprintf(note, sizeof(note), "cluster test note %llu", (unsigned long long)C.seq);
        mn_cbor_enc_init(&e, &bb);
        mn_cbor_put_bytes(&e, note, strlen(note));
        ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
        mn_tx tx;
        memset(&tx, 0, sizeof(tx));
        tx.type = MN_TX_NOTE;
        strcpy(tx.chain_id, C.g.chain_id);
        memcpy(tx.sender, C.keys[s].pk, 32);
        tx.nonce = ++C.nonce[s];
        tx.body = bb.data;
        tx.body_len = bb.len;
        mn_buf out = {.data = bufs[i], .cap = sizeof(bufs[i]), .max = sizeof(bufs[i])};
        ASSERT_OK(mn_tx_sign_encode(&tx, &C.keys[s], &out, &err), &err);
        ptrs[i] = out.data;
        lens[i] = out.len;
    }
    if (mn_nclient_send_txs(C.cl, peer, ptrs, lens, count, &err) != 0) {
        memcpy(C.nonce, saved, sizeof(saved));
        return;
    }
    C.sent += count;
}

/* ---- checks -------------------------------------------------------------------------------- */

/* Fetches blocks 1..top from node i into the comparison tables. */
static void fetch_blocks(uint32_t i, uint64_t top)
{
    mn_err err;
    for (uint64_t first = 1; first <= top; first += MN_NODE_SYNC_BATCH_MAX) {
        uint64_t count = top - first + 1;
        if (count > MN_NODE_SYNC_BATCH_MAX)
            count = MN_NODE_SYNC_BATCH_MAX;
        for (int attempt = 0; attempt < 50; attempt++) {
            bool all = true;
            for (uint64_t h = first; h < first + count; h++)
                all &= C.have[i][h];
            if (all)
                break;
            if (attempt % 10 == 0)
                (void)mn_nclient_request_blocks(C.cl, i, first, (uint32_t)count, &err);
            run_for(100);
        }
        for (uint64_t h = first; h < first + count; h++)
            if (!C.have[i][h])
                mn_test_fail(__FILE__, __LINE__, "node %u did not serve block %llu", i,
                             (unsigned long long)h);
    }
}

/* Every running node holds the same block (id) and state root at every height 1..top. */
static void check_agreement(uint64_t top)
{
    ASSERT_TRUE(top > 0 && top < HEIGHTS_MAX);
    memset(C.have, 0, NODES_MAX * sizeof(*C.have));
    int ref = -1;
    uint32_t running = 0;
    for (uint32_t i = 0; i < C.n; i++) {
        if (C.pid[i] <= 0)
            continue;
        fetch_blocks(i, top);
        running++;
        if (ref < 0) {
            ref = (int)i;
            continue;
        }
        for (uint64_t h = 1; h <= top; h++) {
            if (memcmp(C.ids[i][h], C.ids[ref][h], 32) != 0 ||
                memcmp(C.roots[i][h], C.roots[ref][h], 32) != 0)
                mn_test_fail(__FILE__, __LINE__, "fork: nodes %d and %u differ at height %llu",
                             ref, i, (unsigned long long)h);
        }
    }
    ASSERT_U64_EQ(C.evidence_seen, 0);
    printf("  %u running nodes agree on blocks and state roots 1..%llu\n", running,
           (unsigned long long)top);
}

static void check_logs_clean(void)
{
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "! grep -l 'equivocation\\|fatal' %s/node*/agent.log", C.dir);
    sh("%s", cmd);
}

static void check_hostile_api(uint32_t i)
{
    char url[128];
    snprintf(url, sizeof(url), "http://%s", C.g.validators[i].api);
    long status = 0;
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    static const uint8_t junk[] = {0xa5, 0x01, 0xff, 0x00, 0x13};
    ASSERT_OK(mn_api_client_post(url, "/txs", "application/octet-stream", junk, sizeof(junk),
                                 &status, &body, &err),
              &err);
    ASSERT_TRUE(status >= 400 && status < 500);
    mn_buf_deinit(&body);
    mn_buf_init(&body, 0);
    const char *bad_json = "{\"tx\": \"zz-not-hex\"";
    ASSERT_OK(mn_api_client_post(url, "/txs", "application/json", (const uint8_t *)bad_json,
                                 strlen(bad_json),
                                 &status, &body, &err),
              &err);
    ASSERT_TRUE(status >= 400 && status < 500);
    mn_buf_deinit(&body);
    mn_buf_init(&body, 0);
    ASSERT_OK(mn_api_client_get(url, "/blocks/99999999999999999999999", &status, &body, &err),
              &err);
    ASSERT_TRUE(status >= 400 && status < 500);
    mn_buf_deinit(&body);
    mn_buf_init(&body, 0);
    ASSERT_OK(mn_api_client_get(url, "/status", &status, &body, &err), &err);
    ASSERT_EQ(status, 200);
    mn_buf_deinit(&body);
    printf("  hostile API input refused with 4xx, node %u still serving\n", i);
}

/* ---- scenarios ------------------------------------------------------------------------------- */

static void scenario_crash(void)
{
    setup(4);
    C.rate = 100;
    ASSERT_TRUE(wait_height(-1, 3, 60000));
    check_hostile_api(0);
    /* one of four down: the chain goes on */
    stop_node(3, SIGKILL);
    uint64_t h0 = max_height();
    ASSERT_TRUE(wait_height(0, h0 + 5, 30000));
    printf("  validator 3 killed at %llu; chain went on to %llu\n", (unsigned long long)h0,
           (unsigned long long)C.height[0]);
    /* it comes back and catches up */
    start_node(3);
    ASSERT_TRUE(wait_height(3, C.height[0], 60000));
    printf("  validator 3 restarted and caught up at %llu\n", (unsigned long long)C.height[3]);
    check_agreement(min_height());
    /* two of four down: halt without forking */
    stop_node(2, SIGKILL);
    stop_node(3, SIGKILL);
    run_for(1500);
    const uint64_t h1 = max_height();
    run_for(4000);
    ASSERT_TRUE(max_height() <= h1 + 1);
    printf("  two of four killed: halted at %llu\n", (unsigned long long)max_height());
    check_agreement(min_height());
    /* one back: it resumes */
    start_node(2);
    ASSERT_TRUE(wait_height(0, h1 + 5, 60000));
    ASSERT_TRUE(wait_height(2, h1 + 5, 60000));
    printf("  validator 2 restored: resumed to %llu\n", (unsigned long long)C.height[0]);
    start_node(3);
    ASSERT_TRUE(wait_height(3, C.height[0], 60000));
    check_agreement(min_height());
    check_logs_clean();
    teardown();
}

static uint64_t opt_n = 0;

static void read_durable(uint32_t i, uint64_t *height, mn_bft_sign_state *s, bool *have_s)
{
    char path[600];
    mn_err err;
    mn_ledger *l;
    snprintf(path, sizeof(path), "%s/node%u/data/ledger.db", C.dir, i);
    ASSERT_OK(mn_ledger_open(path, &C.g, &l, &err), &err);
    *height = mn_ledger_height(l);
    mn_buf v;
    mn_buf_init(&v, 0);
    *have_s = mn_ledger_meta_get(l, "bft.sign_state", &v, &err) == 0;
    if (*have_s)
        ASSERT_OK(mn_sign_state_decode(v.data, v.len, s, &err), &err);
    mn_buf_deinit(&v);
    mn_ledger_close(l);
}

static bool sign_state_before(const mn_bft_sign_state *a, const mn_bft_sign_state *b)
{
    if (a->height != b->height)
        return a->height < b->height;
    if (a->round != b->round)
        return a->round < b->round;
    return a->step <= b->step;
}

static void scenario_restarts(void)
{
    const uint64_t iterations = opt_n ? opt_n : 10;
    setup(4);
    C.rate = 100;
    ASSERT_TRUE(wait_height(-1, 2, 60000));
    const uint32_t victim = 1;
    uint64_t last_height = 0;
    static mn_bft_sign_state last, cur;
    bool have_last = false, have_cur;
    uint64_t seed = (uint64_t)getpid();
    for (uint64_t it = 0; it < iterations; it++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        run_for(100 + (seed >> 33) % 1500);
        stop_node(victim, SIGKILL);
        uint64_t h;
        read_durable(victim, &h, &cur, &have_cur);
        ASSERT_TRUE(h >= last_height); /* a committed block is never lost */
        if (have_last) {
            ASSERT_TRUE(have_cur);
            ASSERT_TRUE(sign_state_before(&last, &cur)); /* never goes back: no re-signing */
        }
        last_height = h;
        last = cur;
        have_last = have_cur;
        start_node(victim);
        if ((it + 1) % 10 == 0)
            printf("  %llu kills; victim's durable height %llu, signing state at %llu/%u\n",
                   (unsigned long long)(it + 1), (unsigned long long)h,
                   (unsigned long long)cur.height, cur.round);
    }
    ASSERT_TRUE(wait_height(victim, max_height(), 60000));
    run_for(500);
    check_agreement(min_height());
    check_logs_clean();
    printf("  %llu kills of validator %u: no lost block, no double sign, no fork\n",
           (unsigned long long)iterations, victim);
    teardown();
}

static void scenario_sync(void)
{
    const uint64_t blocks = opt_n ? opt_n : 300;
    ASSERT_TRUE(blocks < HEIGHTS_MAX);
    setup(4);
    C.rate = 50;
    ASSERT_TRUE(wait_height(-1, blocks, 480000));
    /* a follower from scratch: its own home, the chain's genesis, the validators as peers */
    const uint32_t f = 4;
    char home[600];
    snprintf(home, sizeof(home), "%s/node%u", C.dir, f);
    unsigned fport = (unsigned)atoi(strrchr(C.g.validators[0].addr, ':') + 1) + 8;
    sh("%s init --home %s --listen 127.0.0.1:%u --api 127.0.0.1:%u --peer %s --peer %s >/dev/null",
       C.bin, home, fport, fport + 1, C.g.validators[0].addr, C.g.validators[1].addr);
    sh("cp %s/genesis.json %s/genesis.json", C.dir, home);
    char path[700];
    mn_keyfile kf;
    mn_err err;
    snprintf(path, sizeof(path), "%s/node_key.json", home);
    ASSERT_OK(mn_keyfile_read(path, MN_KEY_ED25519, &kf, &err), &err);
    uint8_t id[32];
    mn_node_id(id, kf.public_key);
    mn_keyfile_wipe(&kf);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", fport);
    ASSERT_OK(mn_nclient_add_peer(C.cl, addr, id, NULL, &err), &err);
    C.n = 5;
    const uint64_t t0 = now();
    start_node(f);
    const uint64_t target = C.height[0];
    ASSERT_TRUE(wait_height((int)f, target, 240000));
    printf("  follower synced %llu blocks in %.1f s\n", (unsigned long long)target,
           (double)(now() - t0) / 1e9);
    check_agreement(target);
    teardown();
}

/* Regression for the silent stall of node.cluster.sync under a loaded full run: a validator's
 * port was taken between the port search and the agent's bind, the agent exited, and the test
 * waited for its height until CTest killed it. Now the exit is seen at once, and the cluster is
 * rebuilt on other ports. */
static void scenario_portclash(void)
{
    inject_port_clash = true;
    const uint64_t t0 = now();
    setup(4);
    inject_port_clash = false;
    ASSERT_EQ(setup_attempts, 2);
    printf("  validator 1's port taken: its agent exited, seen and rebuilt in %.1f s\n",
           (double)(now() - t0) / 1e9);
    C.rate = 50;
    ASSERT_TRUE(wait_height(-1, 5, 60000));
    check_agreement(min_height());
    check_logs_clean();
    teardown();
}

/* ---- relay (issue 8): followers that follow through the gossip relay ---------------------- */

/* A follower's home at DIR/nodeI (BPCI on host:base + 2i, host 127.(10+i).0.1 so that every
 * follower is its own network group for the address book; API on 127.0.0.1:base + 2i + 1) whose
 * config peers (seeds) are the given validators and followers; its node id goes to C.fid[i]
 * (setup makes the test's client follow its height). */
static void add_follower(uint32_t i, const uint32_t *peers, uint32_t peer_count)
{
    snprintf(C.fhost[i], sizeof(C.fhost[i]), "127.%u.0.1", 10 + i);
    const unsigned base = (unsigned)atoi(strrchr(C.g.validators[0].addr, ':') + 1);
    char home[600], args[1024] = "";
    snprintf(home, sizeof(home), "%s/node%u", C.dir, i);
    for (uint32_t k = 0; k < peer_count; k++) {
        const size_t used = strlen(args);
        if (peers[k] < C.validators)
            snprintf(args + used, sizeof(args) - used, " --peer %s",
                     C.g.validators[peers[k]].addr);
        else
            snprintf(args + used, sizeof(args) - used, " --peer 127.%u.0.1:%u", 10 + peers[k],
                     base + 2 * peers[k]);
    }
    if (i == 7) { /* one follower groups its peers by an ASN map: all of 127/8 is one AS */
        const size_t used = strlen(args);
        snprintf(args + used, sizeof(args) - used, " --asmap asmap.txt");
        sh("mkdir -p %s && printf '127.0.0.0/8 64512 lo\\n' > %s/asmap.txt", home, home);
    }
    sh("%s init --home %s --listen %s:%u --api 127.0.0.1:%u%s >/dev/null", C.bin, home,
       C.fhost[i], base + 2 * i, base + 2 * i + 1, args);
    sh("cp %s/genesis.json %s/genesis.json", C.dir, home);
    char path[700];
    mn_keyfile kf;
    mn_err err;
    snprintf(path, sizeof(path), "%s/node_key.json", home);
    ASSERT_OK(mn_keyfile_read(path, MN_KEY_ED25519, &kf, &err), &err);
    mn_node_id(C.fid[i], kf.public_key);
    mn_keyfile_wipe(&kf);
}

static void api_url(uint32_t i, char *url, size_t max)
{
    const unsigned base = (unsigned)atoi(strrchr(C.g.validators[0].addr, ':') + 1);
    if (i < C.validators)
        snprintf(url, max, "http://%s", C.g.validators[i].api);
    else
        snprintf(url, max, "http://127.0.0.1:%u", base + 2 * i + 1);
}

/* The value of metric line `name` (with its labels, exactly) in a NUL-terminated /metrics
 * text; false when absent. */
static bool metric_in(const mn_buf *text, const char *name, uint64_t *v)
{
    char key[200];
    snprintf(key, sizeof(key), "\n%s ", name);
    const char *at = strstr((const char *)text->data, key);
    if (at != NULL)
        *v = strtoull(at + strlen(key), NULL, 10);
    return at != NULL;
}

/* The value of one metric line (name with its labels, exactly) on node i's /metrics. */
static uint64_t metric(uint32_t i, const char *name)
{
    char url[128];
    api_url(i, url, sizeof(url));
    long status = 0;
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    ASSERT_OK(mn_api_client_get(url, "/metrics", &status, &body, &err), &err);
    ASSERT_EQ(status, 200);
    ASSERT_OK(mn_buf_append_byte(&body, 0, &err), &err);
    uint64_t v = 0;
    if (!metric_in(&body, name, &v))
        mn_test_fail(__FILE__, __LINE__, "node %u has no metric %s", i, name);
    mn_buf_deinit(&body);
    return v;
}

/* A signed note from a fresh key (nonce 1), posted to node i's API: returns its hash (hex). */
static void post_note(uint32_t i, char hash[65])
{
    mn_keypair k;
    mn_keypair_generate(&k);
    uint8_t body[80], txb[512];
    mn_buf bb = {.data = body, .cap = sizeof(body), .max = sizeof(body)};
    mn_cbor_enc e;
    mn_err err;
    mn_cbor_enc_init(&e, &bb);
    mn_cbor_put_bytes(&e, "submitted to a follower", 23);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    mn_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = MN_TX_NOTE;
    strcpy(tx.chain_id, C.g.chain_id);
    memcpy(tx.sender, k.pk, 32);
    tx.nonce = 1;
    tx.body = bb.data;
    tx.body_len = bb.len;
    mn_buf out = {.data = txb, .cap = sizeof(txb), .max = sizeof(txb)};
    ASSERT_OK(mn_tx_sign_encode(&tx, &k, &out, &err), &err);
    mn_keypair_wipe(&k);
    char url[128];
    api_url(i, url, sizeof(url));
    long status = 0;
    mn_buf resp;
    mn_buf_init(&resp, 0);
    ASSERT_OK(mn_api_client_post(url, "/txs", "application/octet-stream", out.data, out.len,
                                 &status, &resp, &err),
              &err);
    ASSERT_EQ(status, 202);
    json_t *doc = NULL;
    ASSERT_OK(mn_api_client_parse(&resp, &doc, &err), &err);
    const char *h = json_string_value(json_object_get(doc, "hash"));
    ASSERT_TRUE(h != NULL && strlen(h) == 64);
    memcpy(hash, h, 65);
    json_decref(doc);
    mn_buf_deinit(&resp);
}

/* 4 validators and 6 followers. Each follower starts with one seed address, a validator; it
 * learns the others (followers included) by address gossip and dials them from its address
 * book. Followers get blocks through the relay mesh (blocks topic: header, certificate, body,
 * verified against the validator set), and a note posted to a follower's API reaches the
 * validators through the relay (transactions topic) and is committed. */
static void relay_homes(void)
{
    for (uint32_t f = 0; f < 6; f++) {
        const uint32_t seed = f % 4;
        add_follower(4 + f, &seed, 1);
    }
    C.n = 10;
}

/* Like metric, but false (instead of failing) while node i's API does not answer. */
static bool metric_opt(uint32_t i, const char *name, uint64_t *v)
{
    char url[128];
    api_url(i, url, sizeof(url));
    long status = 0;
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    const bool found = mn_api_client_get(url, "/metrics", &status, &body, &err) == 0 &&
                       status == 200 && mn_buf_append_byte(&body, 0, &err) == 0 &&
                       metric_in(&body, name, v);
    mn_buf_deinit(&body);
    return found;
}

/* Node i's connected peers (GET /peers): how many are validators and how many followers of
 * this cluster. */
static void peer_kinds(uint32_t i, uint32_t *validators, uint32_t *followers)
{
    char url[128];
    api_url(i, url, sizeof(url));
    long status = 0;
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    *validators = *followers = 0;
    ASSERT_OK(mn_api_client_get(url, "/peers", &status, &body, &err), &err);
    ASSERT_EQ(status, 200);
    json_t *doc = NULL;
    ASSERT_OK(mn_api_client_parse(&body, &doc, &err), &err);
    const json_t *list = json_object_get(doc, "peers");
    for (size_t k = 0; k < json_array_size(list); k++) {
        const json_t *p = json_array_get(list, k);
        const char *id = json_string_value(json_object_get(p, "id"));
        if (!json_is_true(json_object_get(p, "connected")) || id == NULL)
            continue;
        if (json_is_true(json_object_get(p, "validator")))
            (*validators)++;
        for (uint32_t f = C.validators; f < C.n; f++) {
            char hx[65];
            mn_hex_encode(hx, C.fid[f], 32);
            *followers += strcmp(hx, id) == 0;
        }
    }
    json_decref(doc);
    mn_buf_deinit(&body);
}

/* A raw TCP connection to host:port from src that never speaks. */
static int silent_connect(const char *host, uint16_t port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    ASSERT_EQ(inet_pton(AF_INET, src, &sa.sin_addr), 1);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sa.sin_port = htons(port);
    ASSERT_EQ(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void scenario_relay(void)
{
    C.extra = 6;
    C.extra_homes = relay_homes;
    const uint64_t t0 = now();
    setup(4);
    C.extra_homes = NULL;
    C.rate = 20;
    /* every follower reaches the validators' height */
    ASSERT_TRUE(wait_height(-1, 2, 60000));
    const uint64_t target = max_height() + 10;
    ASSERT_TRUE(wait_height(-1, target, 60000));
    printf("  6 followers at the validators' height %llu, %.1f s after the start\n",
           (unsigned long long)target, (double)(now() - t0) / 1e9);
    /* a note posted to follower 8 (peers: validator 1, follower 9) is committed */
    char hash[65], path[80];
    post_note(8, hash);
    snprintf(path, sizeof(path), "/txs/%s", hash);
    const uint64_t t1 = now();
    long status = 0;
    for (uint32_t attempt = 0; attempt < 300 && status != 200; attempt++) {
        run_for(100);
        char url[128];
        api_url(0, url, sizeof(url));
        mn_buf body;
        mn_err err;
        mn_buf_init(&body, 0);
        ASSERT_OK(mn_api_client_get(url, path, &status, &body, &err), &err);
        mn_buf_deinit(&body);
    }
    ASSERT_EQ(status, 200);
    printf("  note posted to follower 8 committed (seen by validator 0) after %.2f s\n",
           (double)(now() - t1) / 1e9);
    /* the relay carried both: blocks applied by every follower, the note to the validators */
    uint64_t tx_in = 0;
    for (uint32_t i = 0; i < 4; i++)
        tx_in += metric(i, "mn_relay_messages_in_total{topic=\"transactions\"}");
    ASSERT_TRUE(tx_in >= 1);
    for (uint32_t i = 4; i < 10; i++) {
        const uint64_t in = metric(i, "mn_relay_messages_in_total{topic=\"blocks\"}");
        const uint64_t applied = metric(i, "mn_relay_app_applied_total{topic=\"blocks\"}");
        const uint64_t invalid = metric(i, "mn_relay_app_invalid_total{topic=\"blocks\"}");
        printf("  follower %u: %llu blocks from the relay, %llu committed from it, %llu "
               "invalid\n",
               i, (unsigned long long)in, (unsigned long long)applied,
               (unsigned long long)invalid);
        ASSERT_TRUE(applied >= 1);
        ASSERT_U64_EQ(invalid, 0);
    }
    /* one copy of each decided block on the relay: the proposer publishes it, the other
     * validators only when no copy reached them (backup) */
    uint64_t pub[3] = {0, 0, 0};
    for (uint32_t i = 0; i < 4; i++) {
        pub[0] += metric(i, "mn_relay_block_publish_total{role=\"proposer\"}");
        pub[1] += metric(i, "mn_relay_block_publish_total{role=\"backup\"}");
        pub[2] += metric(i, "mn_relay_block_publish_total{role=\"skipped\"}");
    }
    printf("  decided blocks published by the proposer %llu, by a backup %llu, backups skipped "
           "%llu\n",
           (unsigned long long)pub[0], (unsigned long long)pub[1], (unsigned long long)pub[2]);
    ASSERT_TRUE(pub[0] >= 10);
    ASSERT_TRUE(pub[1] * 10 <= pub[0]); /* a backup is the exception */
    /* address gossip: every follower, seeded with one validator, finds other followers */
    const uint64_t t2 = now();
    bool found = false;
    while (!found && now() - t2 < 60000 * MS) {
        found = true;
        for (uint32_t i = 4; i < 10 && found; i++) {
            uint32_t v, f;
            peer_kinds(i, &v, &f);
            found = f >= 1;
        }
        if (!found)
            run_for(500);
    }
    for (uint32_t i = 4; i < 10; i++) {
        uint32_t v, f;
        peer_kinds(i, &v, &f);
        const uint64_t added = metric(i, "mn_relay_addrs_total{fate=\"added\"}");
        printf("  follower %u: %u validator and %u follower peers, %llu addresses learned, %llu "
               "outbound\n",
               i, v, f, (unsigned long long)added,
               (unsigned long long)metric(i, "mn_relay_outbound_peers"));
        ASSERT_TRUE(f >= 1);
        ASSERT_TRUE(added >= 1);
    }
    printf("  every follower found another through address gossip after %.1f s\n",
           (double)(now() - t2) / 1e9);
    ASSERT_TRUE(found);
    /* follower 7's ASN map puts every address in one group (AS 64512, region "lo"), so its
     * book has one group and its outbound peers from the book stop at the region cap;
     * follower 8 groups by /16 and sees several */
    const uint64_t g7 = metric(7, "mn_addrbook_groups{table=\"new\"}") +
                        metric(7, "mn_addrbook_groups{table=\"tried\"}");
    const uint64_t g8 = metric(8, "mn_addrbook_groups{table=\"new\"}") +
                        metric(8, "mn_addrbook_groups{table=\"tried\"}");
    printf("  address groups: %llu with the ASN map (follower 7), %llu by /16 (follower 8)\n",
           (unsigned long long)g7, (unsigned long long)g8);
    ASSERT_TRUE(g7 >= 1 && g7 <= 2); /* one group per table at most */
    ASSERT_TRUE(g8 > g7);
    ASSERT_TRUE(metric(7, "mn_relay_outbound_peers") <= MN_NODE_RELAY_REGION_MAX + 1); /* + seed */
    /* a flood of silent connections from one address is refused before the handshake, and
     * the validators keep their links */
    {
        enum { FLOOD = 40 };
        uint32_t v0, f0;
        peer_kinds(0, &v0, &f0);
        ASSERT_EQ(v0, 3);
        const uint16_t port0 = (uint16_t)atoi(strrchr(C.g.validators[0].addr, ':') + 1);
        const uint64_t before = metric(0, "mn_bpci_refused_admit_total");
        int fds[FLOOD];
        for (int k = 0; k < FLOOD; k++)
            fds[k] = silent_connect("127.0.0.1", port0, "127.0.0.66");
        run_for(1000);
        const uint64_t refused = metric(0, "mn_bpci_refused_admit_total") - before;
        const uint64_t h = max_height();
        ASSERT_TRUE(wait_height(-1, h + 2, 60000));
        peer_kinds(0, &v0, &f0);
        printf("  flood of %d connections from 127.0.0.66: %llu refused before the handshake "
               "(relay: %llu), validator 0 keeps %u validator links\n",
               FLOOD, (unsigned long long)refused,
               (unsigned long long)metric(0, "mn_relay_admission_total{result=\"refused\"}"),
               v0);
        ASSERT_TRUE(refused >= FLOOD - 4 - 1); /* the /24's burst of 4 (1 a second) passes */
        ASSERT_EQ(v0, 3);
        for (int k = 0; k < FLOOD; k++)
            close(fds[k]);
    }
    /* anchors: follower 9 restarts and dials the outbound peers it had */
    {
        uint64_t saved = 0;
        ASSERT_TRUE(metric(9, "mn_relay_anchors") >= 1);
        stop_node(9, SIGTERM);
        start_node(9);
        uint64_t loaded = 0, connected = 0;
        const uint64_t t3 = now();
        while (now() - t3 < 30000 * MS && (loaded == 0 || connected == 0)) {
            run_for(250);
            (void)metric_opt(9, "mn_relay_anchors_total{event=\"loaded\"}", &loaded);
            (void)metric_opt(9, "mn_relay_dials_total{kind=\"anchor\",result=\"connected\"}",
                             &connected);
        }
        (void)metric_opt(9, "mn_relay_anchors_total{event=\"saved\"}", &saved);
        printf("  follower 9 restarted: %llu anchors loaded, %llu reconnected by anchor dials "
               "after %.1f s\n",
               (unsigned long long)loaded, (unsigned long long)connected,
               (double)(now() - t3) / 1e9);
        ASSERT_TRUE(loaded >= 1);
        ASSERT_TRUE(connected >= 1);
        ASSERT_TRUE(wait_height(9, max_height(), 60000));
    }
    /* optionally (N seconds) longer, past the relay's 30 s pings: no peer is dropped */
    if (opt_n > 0) {
        const uint64_t h = max_height();
        run_for(opt_n * 1000u);
        ASSERT_TRUE(wait_height(-1, h + 1, 60000));
    }
    for (uint32_t i = 0; i < 10; i++)
        ASSERT_U64_EQ(metric(i, "mn_relay_dropped_rtt_total"), 0);
    /* same blocks and state roots everywhere */
    C.rate = 0;
    run_for(500);
    ASSERT_TRUE(wait_height(-1, max_height(), 60000));
    check_agreement(min_height());
    check_logs_clean();
    teardown();
}

/* A failed assertion exits: never leave agents running behind. */
static void kill_children(void)
{
    for (uint32_t i = 0; i < NODES_MAX; i++)
        if (C.pid[i] > 0) {
            kill(C.pid[i], SIGKILL);
            waitpid(C.pid[i], NULL, 0);
            C.pid[i] = 0;
        }
    if (C.dir[0] != '\0')
        fprintf(stderr, "cluster directory (logs): %s\n", C.dir);
}

/* A follower bonds its own key and becomes a validator: after the look-back it votes, which the
 * test proves by killing an original validator (three of four originals hold 300 of 500
 * stake, below two thirds: the chain can only go on with the new validator's votes). */
static void scenario_join(void)
{
    setup(4);
    C.rate = 20;
    ASSERT_TRUE(wait_height(-1, 3, 60000));
    const uint32_t f = 4;
    char home[600];
    snprintf(home, sizeof(home), "%s/node%u", C.dir, f);
    unsigned fport = (unsigned)atoi(strrchr(C.g.validators[0].addr, ':') + 1) + 8;
    sh("%s init --home %s --listen 127.0.0.1:%u --api 127.0.0.1:%u --peer %s --peer %s --peer %s "
       "--peer %s >/dev/null",
       C.bin, home, fport, fport + 1, C.g.validators[0].addr, C.g.validators[1].addr,
       C.g.validators[2].addr, C.g.validators[3].addr);
    sh("cp %s/genesis.json %s/genesis.json", C.dir, home);
    mn_home_keys k;
    mn_err err;
    ASSERT_OK(mn_home_load_keys(home, &k, &err), &err);
    uint8_t id[32];
    mn_node_id(id, k.key.pk);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", fport);
    ASSERT_OK(mn_nclient_add_peer(C.cl, addr, id, NULL, &err), &err);
    C.n = 5;
    start_node(f);
    ASSERT_TRUE(wait_height((int)f, C.height[0], 60000));
    /* the bond: {1: validator pk, 2: vrf pk, 3: amount, 4: noise pk}, signed by the key */
    uint8_t body[200], txb[600];
    mn_buf bb = {.data = body, .cap = sizeof(body), .max = sizeof(body)};
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &bb);
    mn_cbor_put_map(&e, 4);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_bytes(&e, k.key.pk, 32);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_bytes(&e, k.vrf_pk, 32);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_uint(&e, 100);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_bytes(&e, k.noise_pub, 32);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    mn_tx tx;
    memset(&tx, 0, sizeof(tx));
    tx.type = MN_TX_BOND;
    strcpy(tx.chain_id, C.g.chain_id);
    memcpy(tx.sender, k.key.pk, 32);
    tx.nonce = 1;
    tx.body = bb.data;
    tx.body_len = bb.len;
    mn_buf out = {.data = txb, .cap = sizeof(txb), .max = sizeof(txb)};
    ASSERT_OK(mn_tx_sign_encode(&tx, &k.key, &out, &err), &err);
    const uint8_t *ptrs[1] = {out.data};
    const size_t lens[1] = {out.len};
    mn_home_keys_wipe(&k);
    ASSERT_OK(mn_nclient_send_txs(C.cl, 0, ptrs, lens, 1, &err), &err);
    const uint64_t h0 = C.height[0];
    ASSERT_TRUE(wait_height(0, h0 + 8, 60000)); /* committed, then the look-back passed */
    /* the set of the next height has five members (GET /validators of validator 1) */
    char url[128];
    snprintf(url, sizeof(url), "http://%s", C.g.validators[1].api);
    long status = 0;
    json_t *doc = NULL;
    ASSERT_OK(mn_api_client_get_json(url, "/validators", &status, &doc, &err), &err);
    ASSERT_EQ(status, 200);
    ASSERT_EQ(json_array_size(json_object_get(doc, "validators")), 5);
    json_decref(doc);
    printf("  follower bonded around height %llu: the set has 5 validators\n",
           (unsigned long long)h0);
    stop_node(0, SIGKILL);
    run_for(1000);
    const uint64_t h1 = max_height();
    ASSERT_TRUE(wait_height(1, h1 + 5, 60000));
    printf("  original validator 0 killed at %llu: the chain went on to %llu with the new "
           "validator's votes\n",
           (unsigned long long)h1, (unsigned long long)C.height[1]);
    check_agreement(min_height());
    check_logs_clean();
    teardown();
}

int main(int argc, char **argv)
{
    atexit(kill_children);
    if (argc < 3) {
        fprintf(stderr, "usage: test_cluster METANODE_BIN crash|restarts|sync|join|portclash|relay [N]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        return 1;
    snprintf(C.bin, sizeof(C.bin), "%s", argv[1]);
    base_port_env = getenv("MN_CLUSTER_BASE_PORT");
    if (argc > 3)
        opt_n = strtoull(argv[3], NULL, 10);
    mn_test_case cases[1];
    if (strcmp(argv[2], "crash") == 0)
        cases[0] = (mn_test_case){"crash", scenario_crash};
    else if (strcmp(argv[2], "restarts") == 0)
        cases[0] = (mn_test_case){"restarts", scenario_restarts};
    else if (strcmp(argv[2], "sync") == 0)
        cases[0] = (mn_test_case){"sync", scenario_sync};
    else if (strcmp(argv[2], "join") == 0)
        cases[0] = (mn_test_case){"join", scenario_join};
    else if (strcmp(argv[2], "portclash") == 0)
        cases[0] = (mn_test_case){"portclash", scenario_portclash};
    else if (strcmp(argv[2], "relay") == 0)
        cases[0] = (mn_test_case){"relay", scenario_relay};
    else
        return 2;
    char *rargv[] = {argv[0], NULL};
    return mn_test_run("node.cluster", cases, 1, 1, rargv);
}
