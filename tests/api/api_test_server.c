/* SPDX-License-Identifier: Apache-2.0
 *
 * api_test_server.c: a node-less API server for the CLI test (test_client_cli.sh): a fixture
 * chain (api_fixture.c) with one committed block holding one note, served on 127.0.0.1 at a
 * kernel-chosen port written to PORTFILE; it runs until SIGTERM or SIGINT, committing the
 * mempool into a new block every 200 ms so submitted notes get committed.
 * usage: api_test_server DIR_TEMPLATE PORTFILE
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "api_fixture.h"
#include "metanode/api.h"
#include "metanode/ledger.h"

static api_fixture fx;
static mn_api *api;
static uv_signal_t sig_term, sig_int;
static uv_timer_t tick;

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    mn_api_close(api);
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    static uint64_t time_ms = 1700000100000ull;
    mn_err err;
    if (mn_mempool_get_stats(fx.mempool).count > 0 && fixture_commit(&fx, time_ms += 1000, &err))
        fprintf(stderr, "api_test_server: commit: %s\n", err.msg);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: api_test_server DIR_TEMPLATE PORTFILE\n");
        return 2;
    }
    mn_err err;
    mn_buf tx;
    mn_buf_init(&tx, 0);
    uint8_t hash[32];
    if (fixture_open(&fx, argv[1], &err) != 0 || fixture_note(&fx, "first note", 1, &tx, &err) ||
        mn_mempool_add(fx.mempool, fx.ledger, tx.data, tx.len, hash, &err) ||
        fixture_commit(&fx, 1700000001000ull, &err)) {
        fprintf(stderr, "api_test_server: %s\n", err.msg);
        return 1;
    }
    mn_buf_deinit(&tx);
    uv_loop_t *loop = uv_default_loop();
    const mn_api_config cfg = {.chain_id = fx.genesis.chain_id, .ledger = fx.ledger,
                               .mempool = fx.mempool};
    uint16_t port;
    if (mn_api_start(loop, &cfg, &api, &port, &err) != 0) {
        fprintf(stderr, "api_test_server: %s\n", err.msg);
        return 1;
    }
    uv_signal_init(loop, &sig_term);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 200, 200);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, argv[2]) != 0) {
        fprintf(stderr, "api_test_server: cannot write %s\n", argv[2]);
        return 1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    fixture_close(&fx, true);
    return 0;
}
