/* SPDX-License-Identifier: Apache-2.0
 *
 * node_client.h: a BPCI client of running nodes, for `metanode dev`, the node benchmark and
 * the integration tests: it dials nodes (expected identities), submits transaction batches on
 * the transaction service, hears their status messages (committed height, last block id,
 * state root) and fetches committed blocks with the sync service. It verifies nothing itself:
 * the caller checks what it needs (block ids, certificates). Runs on the caller's libuv loop.
 * Not here: the HTTP API client (api_client.h).
 */
#ifndef METANODE_NODE_CLIENT_H
#define METANODE_NODE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/consensus_msg.h"
#include "metanode/error.h"

struct uv_loop_s;
typedef struct mn_nclient mn_nclient;

#define MN_NCLIENT_PEERS_MAX 64u

typedef struct mn_nclient_callbacks {
    void *ctx;
    /* A status message of peer `peer` (may be NULL). */
    void (*on_status)(void *ctx, uint32_t peer, uint64_t height, const uint8_t block_id[32],
                      const uint8_t state_root[32]);
    /* A block sent in answer to mn_nclient_request_blocks (may be NULL). */
    void (*on_block)(void *ctx, uint32_t peer, const mn_block_header *h,
                     const mn_commit_cert *c, const uint8_t *body, size_t len);
} mn_nclient_callbacks;

int mn_nclient_new(struct uv_loop_s *loop, const mn_nclient_callbacks *cb, mn_nclient **out,
                   mn_err *err);
/* Dials "host:port" (redialing after losses) expecting the node id `peer_id` (32 bytes). The
 * peer's index (0, 1, ... in call order) names it in callbacks. */
int mn_nclient_add_peer(mn_nclient *c, const char *addr, const uint8_t peer_id[32],
                        uint32_t *index, mn_err *err);
bool mn_nclient_connected(mn_nclient *c, uint32_t peer);
/* Last status heard from a peer (0 before any). */
uint64_t mn_nclient_height(const mn_nclient *c, uint32_t peer);
int mn_nclient_send_txs(mn_nclient *c, uint32_t peer, const uint8_t *const *txs,
                        const size_t *lens, uint32_t count, mn_err *err);
int mn_nclient_request_blocks(mn_nclient *c, uint32_t peer, uint64_t first, uint32_t count,
                              mn_err *err);
void mn_nclient_close(mn_nclient *c);
bool mn_nclient_closed(const mn_nclient *c);
void mn_nclient_free(mn_nclient *c);

#endif
