/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_api.c: what the HTTP API costs a transaction. In the same run, interleaved over 3
 * rounds: (a) the baseline, mn_mempool_add called directly on pre-signed ~280-byte notes
 * (decode, signature check, nonce and limits); (b) as many such transactions (other nonces,
 * so no verification is skipped by the ledger's cache) submitted one at a time by POST /txs over one keep-alive loopback connection (libcurl) to the server running on
 * a libuv loop in another thread, into a fresh mempool; (c) GET /healthz round trips, the HTTP
 * floor. Reports the median rate of each and (b)/(a): the fraction of the mempool's admission
 * rate that one sequential HTTP client keeps. Integer arithmetic only.
 * usage: bench_api [TXS_PER_ROUND]   (default 3000)
 */
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "api_fixture.h"
#include "bench_util.h"
#include "metanode/api.h"
#include "metanode/ledger.h"

#define ROUNDS 3
#define SENDERS 60

static uv_loop_t loop;
static uv_async_t stop_async;
static mn_api *api;

static void on_stop(uv_async_t *a)
{
    (void)a;
    mn_api_close(api);
    uv_close((uv_handle_t *)&stop_async, NULL);
}

static void *loop_main(void *arg)
{
    (void)arg;
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

static size_t discard(char *p, size_t s, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return s * n;
}

typedef struct signed_txs {
    mn_buf *txs;
    size_t count;
} signed_txs;

/* Set r: senders x nonces r*per/SENDERS+1 .., each a note of 159 bytes (a ~280-byte tx). */
static void sign_round(api_fixture *f, const mn_keypair *senders, int r, size_t count,
                       signed_txs *out)
{
    out->txs = calloc(count, sizeof *out->txs);
    out->count = count;
    const size_t per = count / SENDERS;
    char note[160];
    memset(note, 'n', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    for (size_t i = 0; i < count; i++) {
        const size_t s = i % SENDERS;
        const uint64_t nonce = (uint64_t)r * per + i / SENDERS + 1;
        mn_buf body;
        mn_buf_init(&body, 0);
        mn_buf_append_byte(&body, 0x58, NULL); /* CBOR bytes, 1-byte length */
        mn_buf_append_byte(&body, (uint8_t)(sizeof note - 1), NULL);
        mn_buf_append(&body, note, sizeof note - 1, NULL);
        mn_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.type = MN_TX_NOTE;
        snprintf(tx.chain_id, sizeof tx.chain_id, "%s", f->genesis.chain_id);
        memcpy(tx.sender, senders[s].pk, 32);
        tx.nonce = nonce;
        tx.body = body.data;
        tx.body_len = body.len;
        mn_buf_init(&out->txs[i], 0);
        mn_err err;
        if (mn_tx_sign_encode(&tx, &senders[s], &out->txs[i], &err) != 0) {
            fprintf(stderr, "sign: %s\n", err.msg);
            exit(1);
        }
        mn_buf_deinit(&body);
    }
}

static uint64_t rate(size_t ops, uint64_t ns)
{
    return ns ? (uint64_t)ops * 1000000000ull / ns : 0;
}

static void sort3(uint64_t *v)
{
    bench_sort(v, ROUNDS);
}

int main(int argc, char **argv)
{
    size_t per_round = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 3000;
    per_round -= per_round % SENDERS;
    if (per_round == 0 || per_round / SENDERS * 2 * ROUNDS >= MN_MEMPOOL_PER_SENDER_MAX ||
        per_round * ROUNDS > MN_MEMPOOL_TXS_MAX) {
        fprintf(stderr, "bench_api: TXS_PER_ROUND out of range\n");
        return 2;
    }
    api_fixture f;
    mn_err err;
    if (fixture_open(&f, "/tmp/mn-bench-api-XXXXXX", &err) != 0) {
        fprintf(stderr, "bench_api: %s\n", err.msg);
        return 1;
    }
    mn_keypair senders[SENDERS];
    for (int s = 0; s < SENDERS; s++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)s;
        seed[1] = 0x5e;
        mn_keypair_from_seed(&senders[s], seed);
    }
    /* Distinct transactions for the two paths: the ledger caches verified signatures by tx
     * hash, so submitting the same bytes twice would skip the second verification. */
    signed_txs rounds[ROUNDS], http_rounds[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        sign_round(&f, senders, 2 * r, per_round, &rounds[r]);
        sign_round(&f, senders, 2 * r + 1, per_round, &http_rounds[r]);
    }

    /* The server's mempool; the baseline gets its own. */
    mn_mempool *direct;
    if (mn_mempool_new(&direct, &err) != 0)
        return 1;
    uv_loop_init(&loop);
    uv_async_init(&loop, &stop_async, on_stop);
    const mn_api_config cfg = {.chain_id = f.genesis.chain_id, .ledger = f.ledger,
                               .mempool = f.mempool};
    uint16_t port;
    if (mn_api_start(&loop, &cfg, &api, &port, &err) != 0) {
        fprintf(stderr, "bench_api: %s\n", err.msg);
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, loop_main, NULL);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    char url_txs[64], url_health[64];
    snprintf(url_txs, sizeof url_txs, "http://127.0.0.1:%u/txs", port);
    snprintf(url_health, sizeof url_health, "http://127.0.0.1:%u/healthz", port);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);

    uint64_t direct_rate[ROUNDS], http_rate[ROUNDS], health_rate[ROUNDS];
    size_t refused = 0;
    for (int r = 0; r < ROUNDS; r++) {
        /* (a) direct: the loop thread is idle in epoll, so this thread may use the ledger. */
        uint64_t t0 = bench_now_ns();
        for (size_t i = 0; i < per_round; i++)
            if (mn_mempool_add(direct, f.ledger, rounds[r].txs[i].data, rounds[r].txs[i].len,
                               NULL, &err) != 0)
                refused++;
        direct_rate[r] = rate(per_round, bench_now_ns() - t0);

        /* (b) the same transactions over HTTP, one connection, one at a time. */
        curl_easy_setopt(c, CURLOPT_URL, url_txs);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        t0 = bench_now_ns();
        for (size_t i = 0; i < per_round; i++) {
            long status = 0;
            const mn_buf *tx = &http_rounds[r].txs[i];
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)tx->data);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)tx->len);
            if (curl_easy_perform(c) != CURLE_OK ||
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
                status != 202)
                refused++;
        }
        http_rate[r] = rate(per_round, bench_now_ns() - t0);

        /* (c) the HTTP floor. */
        curl_easy_setopt(c, CURLOPT_URL, url_health);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        t0 = bench_now_ns();
        for (size_t i = 0; i < per_round; i++)
            if (curl_easy_perform(c) != CURLE_OK)
                refused++;
        health_rate[r] = rate(per_round, bench_now_ns() - t0);
    }
    const size_t tx_bytes = rounds[0].txs[0].len;
    sort3(direct_rate);
    sort3(http_rate);
    sort3(health_rate);
    const uint64_t d = direct_rate[ROUNDS / 2], h = http_rate[ROUNDS / 2];
    printf("bench_api: %d rounds x %zu txs of %zu bytes (%d senders), medians\n", ROUNDS,
           per_round, tx_bytes, SENDERS);
    printf("  mempool_add direct      %8" PRIu64 " tx/s   (baseline)\n", d);
    printf("  POST /txs keep-alive    %8" PRIu64 " tx/s   %" PRIu64 ".%01" PRIu64
           " %% of direct\n", h, d ? h * 100 / d : 0, d ? h * 1000 / d % 10 : 0);
    printf("  GET /healthz keep-alive %8" PRIu64 " req/s\n", health_rate[ROUNDS / 2]);
    printf("  refused or failed: %zu (must be 0)\n", refused);

    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    uv_async_send(&stop_async);
    pthread_join(t, NULL);
    uv_loop_close(&loop);
    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < rounds[r].count; i++) {
            mn_buf_deinit(&rounds[r].txs[i]);
            mn_buf_deinit(&http_rounds[r].txs[i]);
        }
        free(rounds[r].txs);
        free(http_rounds[r].txs);
    }
    mn_mempool_free(direct);
    fixture_close(&f, true);
    return refused == 0 ? 0 : 1;
}
