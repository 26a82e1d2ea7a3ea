/* SPDX-License-Identifier: Apache-2.0
 *
 * node_msg.h: the messages nodes exchange over BPCI (docs/node.md) and the durable encoding of
 * the consensus signing state. Every message is one canonical CBOR array [kind, fields...];
 * decoders accept exactly one encoding (wrong kind, arity, sizes, trailing bytes, a consensus
 * message or header that does not decode strictly: MN_ECORRUPT / MN_ELIMIT). Byte fields of a decoded message point into the input (borrowed).
 *
 * Services (BPCI service ids): consensus (MN_NODE_SVC_CONSENSUS, validators only), block sync
 * and status (MN_NODE_SVC_SYNC, any peer), transactions (MN_NODE_SVC_TX, any peer), the relay's
 * gossip envelopes and control messages (MN_NODE_SVC_GOSSIP, MN_NODE_SVC_RELAY_CTRL, any peer).
 *
 * Not here: what a node does with them (node.c), signature checks (the core and the ledger).
 */
#ifndef METANODE_NODE_MSG_H
#define METANODE_NODE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/consensus.h"
#include "metanode/error.h"

enum {
    MN_NODE_SVC_CONSENSUS = 10,
    MN_NODE_SVC_SYNC = 11,
    MN_NODE_SVC_TX = 12,
    MN_NODE_SVC_GOSSIP = 13,     /* relay: one signed envelope per message (relay.h) */
    MN_NODE_SVC_RELAY_CTRL = 14, /* relay: one control message per message (relay.h) */
    MN_NODE_SVC_ADDRS = 15,      /* relay: address gossip, one relay_addrbook.h address list */
};

typedef enum mn_nmsg_kind {
    MN_NMSG_CONSENSUS = 1,    /* [1, cmsg bytes, body bytes | null] */
    MN_NMSG_BODY_REQUEST = 2, /* [2, height, payload (32)] */
    MN_NMSG_BODY = 3,         /* [3, height, body bytes] */
    MN_NMSG_STATUS = 4,       /* [4, committed height, last block id (32), state root (32)] */
    MN_NMSG_SYNC_REQUEST = 5, /* [5, first height, count] */
    MN_NMSG_SYNC_BLOCK = 6,   /* [6, header bytes, cert bytes, body bytes] */
    MN_NMSG_TXS = 7,          /* [7, [tx bytes, ...]] (at least one) */
} mn_nmsg_kind;

typedef struct mn_nmsg {
    mn_nmsg_kind kind;
    uint64_t height;             /* BODY_REQUEST, BODY, STATUS, SYNC_REQUEST (first) */
    uint64_t count;              /* SYNC_REQUEST */
    uint8_t hash[32];            /* BODY_REQUEST payload, STATUS last block id */
    uint8_t root[32];            /* STATUS state root */
    mn_cmsg cmsg;                /* CONSENSUS (decoded) */
    mn_block_header header;      /* SYNC_BLOCK (decoded) */
    mn_commit_cert cert;         /* SYNC_BLOCK (decoded) */
    bool has_body;
    const uint8_t *body;         /* CONSENSUS (optional), BODY, SYNC_BLOCK: borrowed */
    size_t body_len;
    uint32_t tx_count;           /* TXS */
    const uint8_t *txs[MN_NODE_TX_BATCH_MAX];
    size_t tx_lens[MN_NODE_TX_BATCH_MAX];
} mn_nmsg;

/* Encoders append to out. */
int mn_nmsg_encode_consensus(const mn_cmsg *c, const uint8_t *body, size_t body_len,
                             bool has_body, mn_buf *out, mn_err *err);
int mn_nmsg_encode_body_request(uint64_t height, const uint8_t payload[32], mn_buf *out,
                                mn_err *err);
int mn_nmsg_encode_body(uint64_t height, const uint8_t *body, size_t len, mn_buf *out,
                        mn_err *err);
int mn_nmsg_encode_status(uint64_t height, const uint8_t block_id[32], const uint8_t root[32],
                          mn_buf *out, mn_err *err);
int mn_nmsg_encode_sync_request(uint64_t first, uint64_t count, mn_buf *out, mn_err *err);
int mn_nmsg_encode_sync_block(const mn_block_header *h, const mn_commit_cert *c,
                              const uint8_t *body, size_t len, mn_buf *out, mn_err *err);
int mn_nmsg_encode_txs(const uint8_t *const *txs, const size_t *lens, uint32_t count,
                       mn_buf *out, mn_err *err);
/* Strict decoder (m is large: keep it off small stacks). On failure *m is unspecified. */
int mn_nmsg_decode(const uint8_t *data, size_t len, mn_nmsg *m, mn_err *err);
/* Re-encodes a decoded message (for the fuzz target's round-trip property). */
int mn_nmsg_encode(const mn_nmsg *m, mn_buf *out, mn_err *err);

/* The signing state, durable between restarts (the PERSIST action):
 * {1: height, 2: round, 3: step, 4: locked round, 5: locked header | null, 6: valid round,
 *  7: valid header | null, 8: valid polka cert | null, 9: [own round, own round],
 *  10: round entry (present only when not empty)} with an own round {1: round, 2: proposal |
 * null, 3: prevote | null, 4: precommit | null} and a round entry (mn_bft_entry) {1: round
 * (the state's round or the one before), 2: proposal | null, 3: [vote, ...] (at most
 * MN_VALIDATORS_MAX, of that height and round, signers strictly increasing)}; headers,
 * certificates, proposals and votes as their consensus_msg.h encodings (byte strings). */
int mn_sign_state_encode(const mn_bft_sign_state *s, mn_buf *out, mn_err *err);
int mn_sign_state_decode(const uint8_t *data, size_t len, mn_bft_sign_state *s, mn_err *err);

/* The state root (key 2) of a block body {1: time, 2: state root, ...} (ledger.h). */
int mn_body_state_root(const uint8_t *body, size_t len, uint8_t root[32], mn_err *err);
/* Calls fn for each transaction encoding (key 4) of a block body, in order, and sets *count.
 * Reads only up to the transactions (it does not validate the rest of the body). */
typedef void (*mn_body_tx_fn)(void *ctx, const uint8_t *tx, size_t len);
int mn_body_txs(const uint8_t *body, size_t len, mn_body_tx_fn fn, void *ctx, uint64_t *count,
                mn_err *err);

#endif
