/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_driver.h (internal to src/node): runs one gossip relay (relay.h) on a node's BPCI node
 * and loop. It registers two services (MN_NODE_SVC_GOSSIP: one signed envelope per message;
 * MN_NODE_SVC_RELAY_CTRL: one control message), feeds the relay peer up/down events, gossip,
 * control and a heartbeat timer, executes its actions (send, release, ping, disconnect), and
 * holds the envelope bytes under the relay's handles in a bounded table. Two topics are used:
 * blocks (payload: a SYNC_BLOCK message of node_msg.h, header + certificate + body) and
 * transactions (payload: one signed transaction). What an accepted payload means is the
 * application's business (callbacks); an invalid one costs its sender relay score.
 *
 * Not here: block verification and commit, mempool admission (node.c through the callbacks),
 * the address book (PX candidates are only counted; dials come from the node's config).
 */
#ifndef METANODE_NODE_RELAY_DRIVER_H
#define METANODE_NODE_RELAY_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bpci_node.h"
#include "metanode/consensus.h"
#include "metanode/ledger.h"
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
} mn_relay_driver_config;

/* Adds the two relay services (open to any authenticated peer) to a registry. */
int mn_relay_driver_register(mn_bpci_registry *reg, mn_err *err);
/* Allocates the relay (~6 MiB), sets the service callbacks on net, starts the heartbeat. */
int mn_relay_driver_new(struct uv_loop_s *loop, mn_bpci_node *net,
                        const mn_relay_driver_config *cfg, mn_relay_driver **out, mn_err *err);
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
