/* SPDX-License-Identifier: Apache-2.0
 *
 * node_internal.h (internal to src/node): the state of a running node (node.h) shared by the
 * files that make it up, one job each: node.c (lifecycle, periodic work, accessors),
 * node_peers.c, node_bodies.c, node_core.c (the consensus driver), node_consensus.c (the
 * consensus service), node_sync.c, node_tx.c and node_relay.c. Everything runs on the loop
 * thread. Not here: message formats (node_msg.h), the relay driver's own state
 * (relay_driver.h).
 */
#ifndef METANODE_NODE_INTERNAL_H
#define METANODE_NODE_INTERNAL_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "metanode/hash.h"
#include "metanode/log.h"
#include "metanode/node.h"
#include "metanode/node_msg.h"
#include "metanode/tags.h"
#include "relay_driver.h"

#define MS             1000000ull
#define SIGN_STATE_KEY "bft.sign_state"
#define TICK_MS        50u

typedef struct peer {
    bool used, up, validator;
    uint8_t id[MN_ID_BYTES];
    uint64_t height;         /* last reported committed height */
    uint64_t commit_sent_ns; /* last catch-up commit sent to it */
} peer;

typedef struct body_entry {
    bool used;
    uint64_t height;
    uint8_t payload[32];
    mn_buf body;
} body_entry;

typedef struct parked {
    bool used;
    mn_block_header header;
    uint64_t requested_ns;
} parked;

typedef struct bft_timer {
    uv_timer_t t;
    mn_node *n;
    struct bft_timer *prev, *next;
    mn_bft_step step;
    uint64_t height;
    uint32_t round;
} bft_timer;

struct mn_node {
    uv_loop_t *loop;
    mn_genesis genesis;
    mn_ledger *ledger;
    mn_mempool *mp;
    mn_bpci_identity ident;
    mn_bpci_registry reg;
    mn_bpci_node *net;
    mn_relay_driver *relay; /* gossip relay (relay_driver.c) */
    /* decided blocks on the relay: the proposer publishes, the others after a delay and only
     * if no copy came (node_relay.c) */
    uv_timer_t backup;
    uint64_t backup_height;      /* the decided block a backup publish is pending for */
    uint64_t relay_block_height; /* highest block seen on the relay's blocks topic */
    uint32_t self_rank;          /* our index among the genesis validators */
    uint64_t published_proposer, published_backup, publish_skipped;
    mn_keypair key;
    uint8_t vrf_sk[MN_VRF_SECRETKEY_BYTES];
    bool have_vrf;
    mn_node_config cfg;
    char *listen;
    char source_host[64];       /* dials leave from the listen address ("" : any) */
    char *anchors_path;
    char **peers_addr;
    uint32_t peers_addr_count;
    /* consensus */
    mn_bft *core;
    bool core_ok;
    const mn_bft_valset *last_vs; /* the set refresh_validators last applied */
    mn_bft_config bcfg;
    mn_bft_actions *out;
    bool in_actions;
    mn_block_header *valq; /* validations queued during an action list */
    uint32_t valq_len;
    parked parked[MN_NODE_BODY_CACHE];
    body_entry bodies[MN_NODE_BODY_CACHE];
    bft_timer *timers;
    /* peers */
    peer peers[MN_NODE_PEERS_MAX];
    /* tx gossip batch */
    mn_buf txbuf;
    size_t tx_off[MN_NODE_TX_BATCH_MAX];
    size_t tx_len[MN_NODE_TX_BATCH_MAX];
    uint32_t tx_count;
    /* received txs waiting for admission (u32 length, u8 relay flag, bytes), admitted in
     * slices from an idle handle so consensus messages are never queued behind a batch */
    mn_buf inq;
    size_t inq_off;
    uv_idle_t admit;
    bool admit_on;
    uint64_t txs_dropped;
    /* periodic work */
    uv_timer_t tick;
    uint64_t ticks;
    uint64_t progress, progress_ns;
    uint64_t sync_sent_ns;
    uint64_t height_start_ns;
    /* stats */
    uint64_t blocks_decided, blocks_synced, txs_committed, last_block_txs, latency_last;
    uint64_t bytes_in, bytes_out;
    uint32_t lat[MN_NODE_LATENCY_WINDOW];
    uint64_t lat_count;
    /* shutdown */
    uint32_t handles_open;
    bool closing, failed, handles_init;
    mn_buf scratch;
};

static inline uint64_t now_ns(void)
{
    return uv_hrtime();
}

static inline uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void hex8(char out[17], const uint8_t *id)
{
    mn_hex_encode(out, id, 8);
}

/* ---- peers: the table, classification, sending (node_peers.c) ---- */
peer *mn__node_peer_find(mn_node *n, const uint8_t id[MN_ID_BYTES], bool create);
bool mn__node_is_validator_id(mn_node *n, const uint8_t id[MN_ID_BYTES]);
void mn__node_on_peer(void *ctx, const uint8_t id[MN_ID_BYTES], bool up);
void mn__node_send_to(mn_node *n, const uint8_t id[MN_ID_BYTES], uint16_t svc, const mn_buf *b);
void mn__node_send_validators(mn_node *n, uint16_t svc, const mn_buf *b);
int mn__node_split_hostport(const char *text, char *host, size_t host_max, uint16_t *port,
                            mn_err *err);
/* An IPv4 or IPv6 literal as 16 bytes (IPv4 as ::ffff:a.b.c.d); false if it is neither. */
bool mn__node_parse_ip(const char *host, uint8_t ip[16]);
/* The BPCI admission hook: the relay's limits before the handshake (relay_driver.h). */
bool mn__node_admit(void *ctx, const uint8_t ip[16], uint16_t port);

/* ---- block bodies kept for proposals and decisions (node_bodies.c) ---- */
body_entry *mn__node_body_find(mn_node *n, const uint8_t payload[32]);
void mn__node_body_put(mn_node *n, uint64_t height, const uint8_t payload[32], const uint8_t *body,
                       size_t len);
bool mn__node_body_offer(mn_node *n, uint64_t height, const uint8_t payload[32],
                         const uint8_t *body, size_t len);
void mn__node_bodies_prune(mn_node *n);

/* ---- driving the consensus core (node_core.c) ---- */
void mn__node_timer_closed(uv_handle_t *h);
int mn__node_commit(mn_node *n, const mn_block_header *h, const mn_commit_cert *c,
                    const uint8_t *body, size_t len, mn_err *err);
void mn__node_run_actions(mn_node *n);
void mn__node_drain(mn_node *n);
void mn__node_unpark(mn_node *n);
void mn__node_core_stop(mn_node *n);
int mn__node_core_start(mn_node *n, mn_err *err);
void mn__node_core_resync(mn_node *n);

/* ---- the consensus service (node_consensus.c) ---- */
void mn__node_on_consensus(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                           const uint8_t *data, size_t len);

/* ---- block sync and status (node_sync.c) ---- */
int mn__node_on_sync_block(mn_node *n, const mn_nmsg *m);
void mn__node_on_sync(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc, const uint8_t *data,
                      size_t len);
void mn__node_maybe_sync(mn_node *n, bool stuck);
void mn__node_send_status(mn_node *n);

/* ---- transactions: intake, admission, gossip to the validators (node_tx.c) ---- */
void mn__node_tx_flush(mn_node *n);
void mn__node_on_txs(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc, const uint8_t *data,
                     size_t len);

/* ---- the gossip relay (relay_driver.c) and its application callbacks (node_relay.c) ---- */
int mn__node_relay_start(mn_node *n, mn_err *err);
/* A block this node decided and committed: published on the relay now if we proposed it,
 * else after MN_NODE_RELAY_BACKUP_MS x (rank + 1) if no copy arrived meanwhile. */
void mn__node_relay_decided(mn_node *n, const mn_block_header *h, const mn_commit_cert *c,
                            const uint8_t *body, size_t len);

#endif
