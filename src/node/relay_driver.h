/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_driver.h (internal to src/node): runs one gossip relay (relay.h) on a node's BPCI node
 * and loop. It registers three services (MN_NODE_SVC_GOSSIP: one signed envelope per message;
 * MN_NODE_SVC_RELAY_CTRL: one control message; MN_NODE_SVC_ADDRS: one address list), feeds the relay peer up/down events, gossip,
 * control and a heartbeat timer, executes its actions (send, release, ping, disconnect), and
 * holds the envelope bytes under the relay's handles in a bounded table. Two topics are used:
 * blocks (payload: a SYNC_BLOCK message of node_msg.h, header + certificate + body) and
 * transactions (payload: one signed transaction). What an accepted payload means is the
 * application's business (callbacks); an invalid one costs its sender relay score.
 *
 * Who we talk to (relay_book.c): inbound connections pass the relay's per-group limits
 * before the handshake (mn_relay_driver_admit, the BPCI admission hook; validators' addresses
 * are always admitted); addresses learned from sessions, PX and address gossip
 * (MN_NODE_SVC_ADDRS) go to an address book, outbound peers are dialled from it in distinct
 * groups, feelers probe new addresses, tried-slot collisions are tested before eviction, and
 * anchors (the outbound peers) are kept in the node's home and dialled first at restart.
 *
 * Not here: block verification and commit, mempool admission (node.c through the callbacks),
 * dials of the config peers and the validators (the node's persistent BPCI dials).
 */
#ifndef METANODE_NODE_RELAY_DRIVER_H
#define METANODE_NODE_RELAY_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bpci_node.h"
#include "metanode/consensus.h"
#include "metanode/ledger.h"
#include "metanode/relay_addrbook.h"
#include "metanode/sign.h"

struct uv_loop_s;
typedef struct mn_relay_driver mn_relay_driver;

/* The application's verdict on an accepted payload: 1 applied (a block committed, a
 * transaction admitted), 0 harmless (old, duplicate, not for us now), -MN_ECORRUPT /
 * -MN_ECRYPTO invalid: the sender is penalised. */
typedef struct mn_relay_driver_app {
    void *ctx;
    int (*on_block)(void *ctx, const uint8_t *payload, size_t len);
    int (*on_tx)(void *ctx, const uint8_t *tx, size_t len);
} mn_relay_driver_app;

typedef struct mn_relay_driver_config {
    const mn_keypair *key;   /* signs our envelopes (copied) */
    /* Node ids never disconnected by the relay's health rules (the genesis validators), and
     * whether we are one of them: validators then peer explicitly with each other. */
    const uint8_t (*validators)[MN_ID_BYTES];
    uint32_t validator_count;
    bool self_validator;
    mn_relay_driver_app app;
    /* Where the genesis validators listen (ip, port, node id): always admitted before the
     * handshake, not counted for IP colocation, and the first entries of the address book. */
    const mn_addr *validator_addrs;
    uint32_t validator_addr_count;
    /* Where we listen (announced to peers with our node id); NULL: not announced. */
    const mn_addr *self_addr;
    const char *source_host;  /* dials from the book bind this address; NULL: any */
    const char *anchors_path; /* file of anchors in the node's home; NULL: none kept */
    const mn_asmap *asmap;    /* borrowed for the driver's life; NULL: groups by prefix */
    uint32_t outbound_target; /* 0: MN_NODE_RELAY_OUTBOUND */
    uint32_t feeler_ms;       /* 0: MN_NODE_RELAY_FEELER_MS */
    uint32_t announce_ms;     /* 0: MN_NODE_RELAY_ANNOUNCE_MS */
} mn_relay_driver_config;

/* Adds the three relay services (open to any authenticated peer) to a registry. */
int mn_relay_driver_register(mn_bpci_registry *reg, mn_err *err);
/* Allocates the relay (~6 MiB), sets the service callbacks on net, starts the heartbeat. */
int mn_relay_driver_new(struct uv_loop_s *loop, mn_bpci_node *net,
                        const mn_relay_driver_config *cfg, mn_relay_driver **out, mn_err *err);
/* The BPCI admission hook (bpci_node.h): an inbound TCP connection from ip, before any crypto.
 * Validators' addresses pass; others go through mn_relay_conn_admit (per-/24 rate and inbound
 * slots, total inbound slots). NULL d admits everything. */
bool mn_relay_driver_admit(mn_relay_driver *d, const uint8_t ip[16], uint16_t port);
/* The bonded validator set changed: its members become the relay's explicit peers of each
 * other (if we are one of them) and are never disconnected by health rules. */
void mn_relay_driver_set_validators(mn_relay_driver *d, const uint8_t (*ids)[MN_ID_BYTES],
                                    uint32_t count, bool self_validator);
/* A BPCI peer came up or went away. */
void mn_relay_driver_peer(mn_relay_driver *d, const uint8_t id[MN_ID_BYTES], bool up);
/* Publishes a committed block (validators, after a decision) or an admitted transaction.
 * Failures (too large, encoding) are logged and counted; nothing else depends on them. */
void mn_relay_driver_publish_block(mn_relay_driver *d, const mn_block_header *h,
                                   const mn_commit_cert *c, const uint8_t *body, size_t len);
void mn_relay_driver_publish_tx(mn_relay_driver *d, const uint8_t *tx, size_t len);
/* Prometheus text: the relay's counters (mn_relay_metrics_write) and the driver's. */
int mn_relay_driver_metrics(const mn_relay_driver *d, mn_buf *out, mn_err *err);
/* Stops the timer; run the loop until closed, then free. */
void mn_relay_driver_close(mn_relay_driver *d);
bool mn_relay_driver_closed(const mn_relay_driver *d);
void mn_relay_driver_free(mn_relay_driver *d);

#endif
