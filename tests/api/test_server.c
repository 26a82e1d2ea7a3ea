/* SPDX-License-Identifier: Apache-2.0
 *
 * test_server.c: the HTTP API end to end. The server runs on a libuv loop in the main thread
 * with a real ledger and mempool (api_fixture.c); a client thread talks to it over loopback
 * with the libcurl client (api_client.h) and raw sockets, and asks the loop thread to commit
 * blocks (uv_async) so the ledger is only ever touched from the loop. Covered: every route,
 * every 4xx (bad height, bad hex, bad encoding, bad signature, reused nonce, oversize body by
 * Content-Length and chunked, bad JSON, unknown route, wrong method, huge headers), the
 * callbacks (status, peers, metrics, tx admitted), the metrics text format, a hostile-input
 * loop over raw sockets and a connection flood, after which the server still answers.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <uv.h>

#include "api_fixture.h"
#include "metanode/api.h"
#include "metanode/api_client.h"
#include "metanode/clock.h"
#include "mn_test.h"
#include "prom_check.h"

static api_fixture fx;
static uv_loop_t loop;
static uv_async_t commit_async, done_async;
static sem_t committed;
static int commit_rc;
static mn_api *api;
static uint16_t port;
static char base[64];
static int admitted_calls;
static uint8_t admitted_hash[32];

/* ---- node callbacks (loop thread) --------------------------------------------------------- */

static void cb_status(void *ctx, mn_api_status *st)
{
    (void)ctx;
    memset(st->node_id, 0xab, 32);
    st->validator = true;
    st->round = 3;
    st->peers = 1;
}

static uint32_t cb_peers(void *ctx, mn_api_peer *out, uint32_t max)
{
    (void)ctx;
    ASSERT_TRUE(max >= 1);
    memset(out[0].id, 0xcd, 32);
    snprintf(out[0].addr, sizeof out[0].addr, "127.0.0.1:26656");
    out[0].connected = true;
    out[0].validator = true;
    out[0].rtt_ns = 1234;
    return 1;
}

static int cb_metrics(void *ctx, mn_buf *out, mn_err *err)
{
    (void)ctx;
    static const char text[] = "# HELP mn_height Height.\n# TYPE mn_height gauge\nmn_height 0\n";
    return mn_buf_append(out, text, sizeof text - 1, err);
}

static void cb_admitted(void *ctx, const uint8_t hash[32], const uint8_t *tx, size_t len)
{
    (void)ctx;
    ASSERT_TRUE(tx != NULL && len > 0);
    memcpy(admitted_hash, hash, 32);
    admitted_calls++;
}

static void on_commit(uv_async_t *a)
{
    (void)a;
    mn_err err;
    static uint64_t t = 1700000001000ull;
    commit_rc = fixture_commit(&fx, t += 1000, &err);
    if (commit_rc != 0)
        fprintf(stderr, "commit: %s\n", err.msg);
    sem_post(&committed);
}

static mn_api_stats final_stats;

static void on_done(uv_async_t *a)
{
    (void)a;
    final_stats = mn_api_get_stats(api);
    mn_api_close(api);
    uv_close((uv_handle_t *)&commit_async, NULL);
    uv_close((uv_handle_t *)&done_async, NULL);
}

/* ---- client side (client thread) ------------------------------------------------------------ */

static void commit_block(void)
{
    uv_async_send(&commit_async);
    sem_wait(&committed);
    ASSERT_EQ(commit_rc, 0);
}

static json_t *get(const char *path, long want_status)
{
    long status = 0;
    json_t *doc = NULL;
    mn_err err;
    ASSERT_OK(mn_api_client_get_json(base, path, &status, &doc, &err), &err);
    if (status != want_status) {
        char *t = json_dumps(doc, 0);
        fprintf(stderr, "GET %s: %ld %s\n", path, status, t ? t : "");
        free(t);
    }
    ASSERT_EQ(status, want_status);
    return doc;
}

static json_t *post(const char *ctype, const uint8_t *data, size_t len, long want_status)
{
    long status = 0;
    mn_buf body;
    mn_err err;
    json_t *doc = NULL;
    ASSERT_OK(mn_api_client_post(base, "/txs", ctype, data, len, &status, &body, &err), &err);
    ASSERT_OK(mn_api_client_parse(&body, &doc, &err), &err);
    mn_buf_deinit(&body);
    if (status != want_status) {
        char *t = json_dumps(doc, 0);
        fprintf(stderr, "POST /txs: %ld %s\n", status, t ? t : "");
        free(t);
    }
    ASSERT_EQ(status, want_status);
    return doc;
}

static const char *error_code(json_t *doc)
{
    const char *c = json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
    ASSERT_TRUE(c != NULL);
    ASSERT_TRUE(json_is_string(json_object_get(json_object_get(doc, "error"), "message")));
    return c;
}

static void expect_error(const char *path, long status, const char *code)
{
    json_t *doc = get(path, status);
    ASSERT_STR_EQ(error_code(doc), code);
    json_decref(doc);
}

static void expect_post_error(const char *ctype, const uint8_t *data, size_t len, long status,
                              const char *code)
{
    json_t *doc = post(ctype, data, len, status);
    ASSERT_STR_EQ(error_code(doc), code);
    json_decref(doc);
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (e.g. after refusing): fine */
        p += n;
        len -= (size_t)n;
    }
}

/* Sends a raw request and returns the response (status line, headers, body) read until the
 * server closes or 5 s pass; *status is the HTTP status (0 if none). Caller frees. */
static char *raw(const void *req, size_t len, int *status)
{
    int fd = dial();
    send_all(fd, req, len);
    shutdown(fd, SHUT_WR);
    size_t cap = 1 << 16, used = 0;
    char *buf = malloc(cap + 1);
    ASSERT_TRUE(buf != NULL);
    ssize_t n;
    while (used < cap && (n = recv(fd, buf + used, cap - used, 0)) > 0)
        used += (size_t)n;
    buf[used] = '\0';
    close(fd);
    *status = 0;
    if (strncmp(buf, "HTTP/1.", 7) == 0 && used >= 12)
        *status = atoi(buf + 9);
    return buf;
}

static void raw_expect(const char *req, int want_status, const char *want_text)
{
    int status;
    char *resp = raw(req, strlen(req), &status);
    if (status != want_status)
        fprintf(stderr, "raw request got:\n%s\n", resp);
    ASSERT_EQ(status, want_status);
    if (want_text != NULL)
        ASSERT_TRUE(strstr(resp, want_text) != NULL);
    free(resp);
}

static void check_healthy(void)
{
    json_t *doc = get("/healthz", 200);
    ASSERT_TRUE(json_is_true(json_object_get(doc, "ok")));
    json_decref(doc);
}

static void client_empty_chain(void)
{
    check_healthy();
    json_t *doc = get("/status", 200);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "chain_id")), "api-test");
    ASSERT_EQ(json_integer_value(json_object_get(doc, "height")), 0);
    ASSERT_TRUE(json_is_null(json_object_get(doc, "latest_block")));
    ASSERT_EQ(json_integer_value(json_object_get(doc, "round")), 3);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "peers")), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "role")), "validator");
    ASSERT_TRUE(json_is_false(json_object_get(doc, "catching_up")));
    ASSERT_EQ(strlen(json_string_value(json_object_get(doc, "state_root"))), 64);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "node_id")),
                  "abababababababababababababababababababababababababababababababab");
    json_decref(doc);

    expect_error("/blocks/latest", 404, "not_found");
    expect_error("/blocks/1", 404, "not_found");
    expect_error("/blocks/01", 400, "bad_height");
    expect_error("/blocks/-1", 400, "bad_height");
    expect_error("/txs/zz", 400, "bad_hex");
    expect_error("/txs/0000000000000000000000000000000000000000000000000000000000000000", 404,
                 "not_found");
    expect_error("/nope", 404, "not_found");
    expect_error("/accounts/12", 400, "bad_hex");

    char path[128], pk[65];
    mn_hex_encode(pk, fx.user.pk, 32);
    snprintf(path, sizeof path, "/accounts/%s", pk);
    doc = get(path, 200);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "next_nonce")), 1);
    json_decref(doc);

    doc = get("/validators", 200);
    json_t *vs = json_object_get(doc, "validators");
    ASSERT_EQ(json_array_size(vs), 1);
    json_t *v = json_array_get(vs, 0);
    ASSERT_EQ(json_integer_value(json_object_get(v, "power_bp")), 10000);
    ASSERT_EQ(json_integer_value(json_object_get(v, "stake")), 100);
    char vpk[65];
    mn_hex_encode(vpk, fx.validator.pk, 32);
    ASSERT_STR_EQ(json_string_value(json_object_get(v, "pk")), vpk);
    json_decref(doc);

    doc = get("/peers", 200);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "count")), 1);
    json_t *p = json_array_get(json_object_get(doc, "peers"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(p, "addr")), "127.0.0.1:26656");
    ASSERT_EQ(json_integer_value(json_object_get(p, "rtt_ns")), 1234);
    json_decref(doc);
}

static void client_methods_and_headers(void)
{
    raw_expect("DELETE /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405,
               "Allow: GET");
    raw_expect("POST /blocks/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
               "Connection: close\r\n\r\n", 405, "method_not_allowed");
    raw_expect("GET /txs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, "Allow: POST");
    raw_expect("PUT /txs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
               405, "\"method_not_allowed\"");
    raw_expect("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404,
               "application/json");
    /* Headers beyond the connection's memory: refused by libmicrohttpd with a 4xx. */
    size_t big = 2 * MN_API_CONNECTION_MEMORY_BYTES;
    char *req = malloc(big + 256);
    int n = snprintf(req, 256, "GET /status HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(req + n, 'a', big);
    memcpy(req + n + big, "\r\nConnection: close\r\n\r\n", 24);
    int status;
    char *resp = raw(req, strlen(req), &status);
    ASSERT_TRUE(status >= 400 && status < 500);
    free(resp);
    free(req);
    check_healthy();
}

static void client_submit(void)
{
    mn_buf tx;
    mn_err err;
    mn_buf_init(&tx, 0);
    ASSERT_OK(fixture_note(&fx, "hello api", 1, &tx, &err), &err);

    /* Bad encoding, bad signature, bad hex, bad JSON, empty. */
    const uint8_t junk[] = {0xff, 0x00, 0x01};
    expect_post_error("application/octet-stream", junk, sizeof junk, 400, "bad_encoding");
    uint8_t *forged = malloc(tx.len);
    memcpy(forged, tx.data, tx.len);
    forged[tx.len - 1] ^= 1; /* the signature is the last field */
    expect_post_error("application/octet-stream", forged, tx.len, 400, "bad_signature");
    free(forged);
    const char *badhex = "{\"tx\": \"a6x1\"}";
    expect_post_error("application/json", (const uint8_t *)badhex, strlen(badhex), 400,
                      "bad_hex");
    const char *badjson = "{\"tx\": ";
    expect_post_error("application/json", (const uint8_t *)badjson, strlen(badjson), 400,
                      "bad_json");
    expect_post_error("application/octet-stream", junk, 0, 400, "empty");

    /* Oversize: by Content-Length (refused before the body), and as a chunked stream. */
    size_t big = MN_API_BODY_BYTES_MAX + 1;
    uint8_t *blob = calloc(1, big);
    expect_post_error("application/octet-stream", blob, big, 413, "too_large");
    free(blob);
    size_t chunks = MN_API_BODY_BYTES_MAX / 4096 + 2;
    size_t cap = chunks * (4096 + 16) + 512;
    char *req = malloc(cap);
    size_t n = (size_t)snprintf(req, cap,
                                "POST /txs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                "Content-Type: application/octet-stream\r\n"
                                "Connection: close\r\n\r\n");
    for (size_t i = 0; i < chunks; i++) {
        n += (size_t)snprintf(req + n, cap - n, "1000\r\n");
        memset(req + n, 'x', 4096);
        n += 4096;
        n += (size_t)snprintf(req + n, cap - n, "\r\n");
    }
    n += (size_t)snprintf(req + n, cap - n, "0\r\n\r\n");
    int status;
    char *resp = raw(req, n, &status);
    ASSERT_EQ(status, 413);
    ASSERT_TRUE(strstr(resp, "too_large") != NULL);
    free(resp);
    free(req);

    /* The good one: 202 with its hash, the node is told; again: nonce reused. */
    json_t *doc = post("application/octet-stream", tx.data, tx.len, 202);
    uint8_t hash[32];
    mn_tx_hash(hash, tx.data, tx.len);
    char hex[65];
    mn_hex_encode(hex, hash, 32);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "hash")), hex);
    json_decref(doc);
    ASSERT_EQ(admitted_calls, 1);
    ASSERT_MEM_EQ(admitted_hash, hash, 32);
    expect_post_error("application/octet-stream", tx.data, tx.len, 409, "nonce_reused");

    /* The second as JSON hex. */
    mn_buf tx2;
    mn_buf_init(&tx2, 0);
    ASSERT_OK(fixture_note(&fx, "second \xe2\x9c\x93", 2, &tx2, &err), &err);
    char *json = malloc(2 * tx2.len + 16);
    memcpy(json, "{\"tx\":\"", 7);
    mn_hex_encode(json + 7, tx2.data, tx2.len);
    memcpy(json + 7 + 2 * tx2.len, "\"}", 3);
    doc = post("application/json", (const uint8_t *)json, strlen(json), 202);
    json_decref(doc);
    free(json);
    ASSERT_EQ(admitted_calls, 2);

    /* A nonce too far ahead of the committed one: over the sender's window. */
    mn_buf far;
    mn_buf_init(&far, 0);
    ASSERT_OK(fixture_note(&fx, "far", 1 + MN_MEMPOOL_PER_SENDER_MAX, &far, &err), &err);
    expect_post_error("application/octet-stream", far.data, far.len, 429, "over_limit");
    mn_buf_deinit(&far);

    /* Commit them: blocks, txs and the account's nonce become visible. */
    commit_block();
    doc = get("/status", 200);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "height")), 1);
    ASSERT_TRUE(json_is_object(json_object_get(doc, "latest_block")));
    json_decref(doc);
    doc = get("/blocks/latest", 200);
    json_t *body = json_object_get(doc, "body");
    ASSERT_EQ(json_integer_value(json_object_get(body, "tx_count")), 2);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(body, "txs"), 0)), hex);
    json_t *commit = json_object_get(doc, "commit");
    ASSERT_EQ(json_integer_value(json_object_get(commit, "signatures")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(commit, "power")), 100);
    ASSERT_EQ(strlen(json_string_value(json_object_get(json_object_get(doc, "header"),
                                                       "vrf_proof"))), 160);
    json_decref(doc);
    doc = get("/blocks/1", 200);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "height")), 1);
    json_decref(doc);
    expect_error("/blocks/2", 404, "not_found");

    char path[128];
    snprintf(path, sizeof path, "/txs/%s", hex);
    doc = get(path, 200);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "height")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "index")), 0);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "nonce")), 1);
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "type_name")), "note");
    ASSERT_STR_EQ(json_string_value(json_object_get(doc, "note")), "hello api");
    json_decref(doc);

    char pk[65];
    mn_hex_encode(pk, fx.user.pk, 32);
    snprintf(path, sizeof path, "/accounts/%s", pk);
    doc = get(path, 200);
    ASSERT_EQ(json_integer_value(json_object_get(doc, "next_nonce")), 3);
    json_decref(doc);
    /* A committed nonce is refused too. */
    expect_post_error("application/octet-stream", tx.data, tx.len, 409, "nonce_reused");
    mn_buf_deinit(&tx);
    mn_buf_deinit(&tx2);
}

static void client_metrics(void)
{
    long status = 0;
    mn_buf body;
    mn_err err;
    ASSERT_OK(mn_api_client_get(base, "/metrics", &status, &body, &err), &err);
    ASSERT_EQ(status, 200);
    ASSERT_OK(mn_buf_append_byte(&body, 0, &err), &err);
    const char *text = (const char *)body.data;
    char bad[256];
    const int samples = prom_check(text, bad, sizeof bad);
    if (samples < 0)
        fprintf(stderr, "bad metrics line: %s\n", bad);
    ASSERT_TRUE(samples >= 6);
    ASSERT_TRUE(strstr(text, "mn_height 0\n") != NULL);                 /* the node's part */
    ASSERT_TRUE(strstr(text, "mn_api_txs_total{outcome=\"admitted\"} 2\n") != NULL);
    ASSERT_TRUE(strstr(text, "mn_api_requests_total{class=\"4xx\"}") != NULL);
    mn_buf_deinit(&body);
}

static void client_hostile(void)
{
    mn_rng rng;
    uint8_t seed[32] = {42};
    mn_rng_seeded_init(&rng, seed);
    static const char *const lines[] = {
        "GET / HTTP/1.1\r\n", "GET /blocks/99999999999999999999999 HTTP/1.1\r\n",
        "POST /txs HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n",
        "POST /txs HTTP/1.1\r\nContent-Length: -5\r\n", "GET /%00%ff%2e%2e HTTP/1.1\r\n",
        "\r\n\r\n\r\n", "GET /status HTTP/9.9\r\n", "GET /status\r\n",
        "POST /txs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
        "POST /txs HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"tx\":[]}"};
    for (int i = 0; i < 200; i++) {
        uint8_t buf[2048];
        size_t len = 0;
        const uint64_t kind = mn_rng_uniform(&rng, 4);
        if (kind == 0) { /* random bytes */
            len = 1 + mn_rng_uniform(&rng, sizeof buf - 1);
            rng.fill(&rng, buf, len);
        } else { /* a hostile line, then random header bytes or nothing */
            const char *l = lines[mn_rng_uniform(&rng, sizeof lines / sizeof lines[0])];
            len = strlen(l);
            memcpy(buf, l, len);
            if (kind == 2) {
                size_t extra = mn_rng_uniform(&rng, 512);
                rng.fill(&rng, buf + len, extra);
                len += extra;
            } else if (kind == 3) {
                memcpy(buf + len, "Host: x\r\n\r\n", 11);
                len += 11;
            }
        }
        int fd = dial();
        send_all(fd, buf, len);
        if (mn_rng_uniform(&rng, 2) == 0) { /* read what comes, or just hang up */
            shutdown(fd, SHUT_WR);
            char sink[4096];
            struct timeval tv = {.tv_sec = 0, .tv_usec = 50000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            while (recv(fd, sink, sizeof sink, 0) > 0) {
            }
        }
        close(fd);
        if (i % 50 == 0)
            check_healthy();
    }
    check_healthy();

    /* A flood of idle connections beyond the limit: refused or timed out, then served. */
    int fds[64];
    for (int i = 0; i < 64; i++)
        fds[i] = dial();
    for (int i = 0; i < 64; i++)
        close(fds[i]);
    check_healthy();
}

static void *client_main(void *arg)
{
    (void)arg;
    client_empty_chain();
    client_methods_and_headers();
    client_submit();
    client_metrics();
    client_hostile();
    uv_async_send(&done_async);
    return NULL;
}

static void test_server(void)
{
    mn_err err;
    ASSERT_OK(fixture_open(&fx, "/tmp/mn-api-test-XXXXXX", &err), &err);
    ASSERT_EQ(uv_loop_init(&loop), 0);
    sem_init(&committed, 0, 0);
    uv_async_init(&loop, &commit_async, on_commit);
    uv_async_init(&loop, &done_async, on_done);
    const mn_api_config cfg = {
        .host = "127.0.0.1",
        .port = 0,
        .chain_id = fx.genesis.chain_id,
        .ledger = fx.ledger,
        .mempool = fx.mempool,
        .cb = {.status = cb_status, .peers = cb_peers, .metrics = cb_metrics,
               .tx_admitted = cb_admitted},
        .connections_max = 32,
        .connection_timeout_s = 2,
    };
    ASSERT_OK(mn_api_start(&loop, &cfg, &api, &port, &err), &err);
    ASSERT_TRUE(port != 0);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", port);
    /* A second server on the same port fails cleanly. */
    mn_api *dup;
    mn_api_config cfg2 = cfg;
    cfg2.port = port;
    ASSERT_EQ(mn_api_start(&loop, &cfg2, &dup, NULL, &err), -MN_ESYS);
    cfg2.host = "not-an-ip";
    ASSERT_EQ(mn_api_start(&loop, &cfg2, &dup, NULL, &err), -MN_EINVAL);

    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, client_main, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    pthread_join(t, NULL);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    ASSERT_TRUE(final_stats.errors_4xx > 20);
    ASSERT_U64_EQ(final_stats.txs_admitted, 2);
    ASSERT_TRUE(final_stats.requests > 40);
    sem_destroy(&committed);
    fixture_close(&fx, true);
}

MN_TEST_MAIN("api.server", MN_TEST(test_server))
