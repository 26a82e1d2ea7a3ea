/* SPDX-License-Identifier: Apache-2.0
 *
 * api.h: the node's HTTP API (JSON over HTTP/1.1, libmicrohttpd), served ON THE CALLER'S libuv
 * LOOP THREAD: the daemon runs without threads of its own; its epoll descriptor is watched by a
 * uv_poll_t and its timeouts by a uv_timer_t, so every request is handled on the loop thread
 * and may read the ledger and the mempool directly (neither is thread-safe).
 *
 * Routes (docs/api.md has examples and the error codes):
 *   GET  /status                 chain, height, latest block, state root, round, peers, role
 *   GET  /blocks/{height|latest} header (hex), commit certificate summary, body summary
 *   GET  /txs/{hash}             a committed transaction: height, index, type, sender, nonce, body
 *   POST /txs                    raw canonical tx bytes (application/octet-stream) or
 *                                JSON {"tx": "hex"}: 202 {"hash": "..."} or a 4xx error
 *   GET  /accounts/{pk}          {"next_nonce": N} (committed state)
 *   GET  /validators             the set running the next height: id, pk, stake, power (bp)
 *   GET  /peers                  from the node's callback
 *   GET  /metrics                Prometheus text (node's callback plus the API's own counters)
 *   GET  /healthz                {"ok": true}
 * Unknown paths are 404, wrong methods 405; every error is JSON
 * {"error": {"code": "...", "message": "..."}}.
 *
 * What the server does NOT know is asked of the node through mn_api_callbacks (round, peers,
 * catching up, metrics text) and the node is told when a submitted tx was admitted, so it can
 * gossip it. Bounds (body size, connections, per-connection timeout) are in limits.h ("api").
 *
 * Not here: TLS, authentication, CORS (the API binds to loopback by default), websockets.
 */
#ifndef METANODE_API_H
#define METANODE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"

struct uv_loop_s;
struct mn_ledger;
struct mn_mempool;

typedef struct mn_api mn_api;

/* What only the node knows about itself, for GET /status. */
typedef struct mn_api_status {
    uint8_t node_id[32];       /* mn_node_id of the node's Ed25519 key */
    bool validator;            /* false: a follower */
    bool catching_up;          /* block sync in progress */
    uint32_t round;            /* consensus round of the height being decided */
    uint32_t peers;            /* peers with an established session */
} mn_api_status;

/* One peer, for GET /peers. */
typedef struct mn_api_peer {
    uint8_t id[32];
    char addr[64];             /* "host:port" or "" */
    bool connected;
    bool validator;
    uint64_t rtt_ns;           /* last measured round trip, 0 if none */
} mn_api_peer;

/* Callbacks into the node, made on the loop thread during request handling. Any may be NULL
 * (then: zero status fields, an empty peer list, only the API's own metrics, no gossip). */
typedef struct mn_api_callbacks {
    void *ctx;
    void (*status)(void *ctx, mn_api_status *st);              /* st is zeroed before */
    /* Fills at most max peers into out and returns how many it filled. */
    uint32_t (*peers)(void *ctx, mn_api_peer *out, uint32_t max);
    /* Appends the node's metrics (its mn_metrics registry, BPCI's) in Prometheus text. */
    int (*metrics)(void *ctx, mn_buf *out, mn_err *err);
    /* A POST /txs was admitted to the mempool (hash = its tx hash); gossip it. The bytes are
     * valid during the call only. */
    void (*tx_admitted)(void *ctx, const uint8_t hash[32], const uint8_t *tx, size_t len);
} mn_api_callbacks;

typedef struct mn_api_config {
    const char *host;          /* IPv4 or IPv6 literal; NULL: "127.0.0.1" (loopback) */
    uint16_t port;             /* 0: the kernel picks one (see bound_port) */
    const char *chain_id;      /* copied; shown by /status */
    struct mn_ledger *ledger;  /* borrowed; must outlive the server */
    struct mn_mempool *mempool;/* borrowed; NULL: POST /txs answers 503 */
    mn_api_callbacks cb;
    /* 0: the limits.h defaults (MN_API_BODY_BYTES_MAX, MN_API_CONNECTIONS_MAX,
     * MN_API_CONNECTION_TIMEOUT_S). */
    size_t body_bytes_max;
    uint32_t connections_max;
    uint32_t connection_timeout_s;
} mn_api_config;

/* Starts the server on loop: binds, listens and registers its handles. *bound_port (may be
 * NULL) receives the port actually bound. MN_EINVAL for a bad host, MN_ESYS when binding
 * fails (port in use). */
int mn_api_start(struct uv_loop_s *loop, const mn_api_config *cfg, mn_api **out,
                 uint16_t *bound_port, mn_err *err);
/* Stops the daemon (open connections are closed) and closes the loop handles; the memory is
 * released by the last close callback, so run the loop once more after calling it (as after
 * uv_close). NULL is accepted. */
void mn_api_close(mn_api *api);

/* Parses "host:port" or "[v6]:port" (a literal address, port 0-65535) into host (NUL ended)
 * and *port. MN_EINVAL otherwise. */
int mn_api_parse_listen(const char *text, char host[64], uint16_t *port, mn_err *err);

/* Counters of the server itself (also exported on /metrics as mn_api_*). */
typedef struct mn_api_stats {
    uint64_t requests;         /* requests answered */
    uint64_t errors_4xx, errors_5xx;
    uint64_t txs_admitted;
    uint64_t txs_refused;
} mn_api_stats;
mn_api_stats mn_api_get_stats(const mn_api *api);

#endif
