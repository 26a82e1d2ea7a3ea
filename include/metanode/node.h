/* SPDX-License-Identifier: Apache-2.0
 *
 * node.h: a running Metanode node on one libuv loop: the ledger (ledger.h) on SQLite, a BPCI
 * node (bpci_node.h) listening and dialing every validator, and the consensus core
 * (consensus.h) driven exactly as the simulator drives it: actions executed in order, every
 * PERSIST made durable (ledger meta) before the next action, timeouts as uv timers,
 * validation by the ledger, decisions committed to SQLite. Proposals travel with their block
 * body; late validators get the decided block (MN_CMSG_COMMIT with its body); nodes further
 * behind, restarted or new, sync ranges of blocks and verify every commit certificate
 * against the validator set of its height. A node whose key is not in the set is an observer
 * that follows by sync. Message formats: node_msg.h and docs/node.md.
 *
 * Threads: everything runs on the loop thread; no function is thread-safe.
 * Not here: the HTTP API (api.h, which uses the accessors below), key files and homes
 * (node_home.h), processes and signals (cmd/metanode/cmd_agent.c).
 */
#ifndef METANODE_NODE_H
#define METANODE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bpci_node.h"
#include "metanode/consensus.h"
#include "metanode/error.h"
#include "metanode/ledger.h"
#include "metanode/relay_addrbook.h"

struct uv_loop_s;
typedef struct mn_node mn_node;

typedef struct mn_node_config {
    const mn_genesis *genesis;      /* borrowed during mn_node_new */
    const char *db_path;            /* SQLite file of the ledger */
    const char *anchors_path;       /* the relay's anchors file (node_home.h); NULL: none */
    const mn_asmap *asmap;          /* borrowed for the node's life; NULL: group by prefix */
    const mn_keypair *key;          /* node identity (copied); a validator if in the set */
    const uint8_t *vrf_sk;          /* MN_VRF_SECRETKEY_BYTES, copied; NULL: observer */
    const uint8_t *noise_priv;      /* 32-byte X25519 static key, copied; NULL: fresh */
    const char *listen;             /* "host:port" of the BPCI listener; NULL: none. A specific
                                     * address (not 0.0.0.0 or ::) is also where dials leave
                                     * from, so peers see the address the node announces. */
    const char *const *peers;       /* seeds: "host:port" dialled persistently (any identity,
                                     * XX); more peers come from the relay's address book */
    uint32_t peer_count;
    mn_bft_timeouts timeouts;       /* all zero: MN_NODE_TIMEOUT_* defaults */
    /* Called after every committed block (decided or synced; latency_ns: height start ->
     * decision, 0 for synced blocks). May be NULL. */
    void (*on_commit)(void *ctx, uint64_t height, uint64_t latency_ns, uint64_t txs);
    void *ctx;
} mn_node_config;

typedef struct mn_node_status {
    uint64_t height;                /* last committed */
    uint8_t block_id[32];           /* id of the last committed header (zero at genesis) */
    uint8_t state_root[32];
    uint64_t consensus_height;
    uint32_t round;
    uint32_t step;
    bool validator;
    uint32_t peers_connected;
    uint64_t blocks_decided;        /* committed by consensus */
    uint64_t blocks_synced;         /* committed by block sync */
    uint64_t txs_committed;
    uint64_t last_block_txs;
    uint64_t commit_latency_ms_last; /* height start -> decision, last block */
    uint64_t bytes_in, bytes_out;   /* node messages received / queued for sending */
    mn_mempool_stats mempool;
} mn_node_status;

/* Opens the ledger, builds the BPCI node, listens; call mn_node_start next. */
int mn_node_new(struct uv_loop_s *loop, const mn_node_config *cfg, mn_node **out, mn_err *err);
/* Dials the peers, starts consensus (or following) and the periodic work. */
int mn_node_start(mn_node *n, mn_err *err);
/* Submits a client transaction: mempool admission (mn_mempool_add's errors), then gossip to
 * the validators. hash (may be NULL) receives the tx hash. */
int mn_node_submit_tx(mn_node *n, const uint8_t *tx, size_t len, uint8_t hash[32], mn_err *err);
/* Gossips a transaction already admitted to the mempool (the API's POST /txs). */
void mn_node_gossip_tx(mn_node *n, const uint8_t *tx, size_t len);
void mn_node_get_status(mn_node *n, mn_node_status *st);
/* True while the node is more than one block behind the best height its peers report. */
bool mn_node_catching_up(const mn_node *n);
/* The peers the node tracks (validators and others); returns how many were filled. */
typedef struct mn_node_peer {
    uint8_t id[MN_ID_BYTES];
    bool connected, validator;
    uint64_t height;
} mn_node_peer;
uint32_t mn_node_peers(const mn_node *n, mn_node_peer *out, uint32_t max);
/* Borrowed handles for the API (valid until mn_node_free). */
mn_ledger *mn_node_ledger(mn_node *n);
mn_mempool *mn_node_mempool(mn_node *n);
mn_bpci_node *mn_node_bpci(mn_node *n);
const mn_genesis *mn_node_genesis(const mn_node *n);
/* The gossip relay's metrics (Prometheus text: relay.h's mn_relay_metrics_write and the
 * node's relay driver counters), appended to out. */
int mn_node_relay_metrics(mn_node *n, mn_buf *out, mn_err *err);
/* Commit latencies (height start -> decision, ms) of the last blocks, for metrics. */
uint32_t mn_node_latencies(const mn_node *n, uint32_t *out, uint32_t max);
/* Stops consensus, closes timers and the BPCI node. Run the loop until mn_node_closed, then
 * mn_node_free (which closes the ledger). A node that hit a fatal error (a PERSIST that could
 * not be made durable) closes itself: mn_node_failed then says so. */
void mn_node_close(mn_node *n);
bool mn_node_closed(const mn_node *n);
bool mn_node_failed(const mn_node *n);
void mn_node_free(mn_node *n);

#endif
