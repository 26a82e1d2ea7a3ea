/* SPDX-License-Identifier: Apache-2.0
 *
 * ledger.h: the Metanode ledger: signed transactions, a deterministic state machine over
 * committed blocks, its SQLite store and the mempool. (CONTRACT agreed between the ledger,
 * node and API engineers: the ledger engineer owns and implements it; names and semantics
 * below are fixed, details (exact encodings, extra functions, extra fields) are the ledger
 * engineer's to add. Breaking changes only by agreement.)
 *
 * Transactions. A transaction is canonical CBOR
 *     {1: type (uint), 2: chain id (text), 3: sender (Ed25519 public key, 32 bytes),
 *      4: nonce (uint), 5: body (bytes, canonical CBOR of the type), 6: signature (64 bytes)}
 * signed with mn_sign(MN_TAG_TRANSACTION, map{1..5}) (tag exists). Its hash is
 * SHA-256(MN_TAG_TX_ID || encoding) (new tag; ledger takes values 0x21-0x24 for new tags).
 * Nonces: a sender's first transaction has nonce 1, each next one exactly +1 (replay
 * protection). Handlers are registered per type (mn_ledger_register_handler) so later issues add
 * types; the first types are below.
 *
 * Blocks. Consensus decides an mn_block_header whose `payload` is
 *     SHA-256(MN_TAG_BLOCK_BODY || encode(body)) (new tag),
 * where the body is canonical CBOR {1: time_ms (BFT time: the proposer's clock, strictly greater
 * than the parent's), 2: state_root (after applying this block), 3: tx_root (RFC 9162 root of the
 * tx hashes, in block order), 4: [tx encodings...], 5: [evidence encodings...]}.
 * The state root is a Merkle root over the sorted (key, value) state after the block (entries
 * tagged MN_TAG_STATE_ENTRY, which exists); it is kept
 * up to date incrementally (never recomputed from scratch per block).
 *
 * Validator sets. The set that runs height h (consensus.h's valset_at hook) is the stake
 * snapshot after block h - MN_STAKE_LOOKBACK (the genesis set for h <= MN_STAKE_LOOKBACK):
 * bonds, unbonds and slashing change the state at once but the set only after the look-back.
 *
 * Threads: none; one caller at a time. Determinism: no clock, no floating point; the time comes
 * in the block body.
 */
#ifndef METANODE_LEDGER_H
#define METANODE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/consensus.h"
#include "metanode/error.h"
#include "metanode/sign.h"

/* ---- transactions ------------------------------------------------------------------------ */

typedef enum mn_tx_type {
    MN_TX_REGISTER = 1, /* body {1: node id?, 2: [addresses], 3: resources map, 4: labels map} */
    MN_TX_BOND = 2,     /* body {1: validator Ed25519 pk, 2: vrf pk, 3: amount, 4: noise static pk} */
    MN_TX_UNBOND = 3,   /* body {1: validator pk, 2: amount} */
    MN_TX_EVIDENCE = 4, /* body: an mn_evidence encoding (consensus_msg.h) */
    MN_TX_NOTE = 5,     /* body: bytes, at most MN_TX_NOTE_BYTES_MAX */
} mn_tx_type;

/* A decoded transaction; body points into the buffer it was decoded from (borrowed). */
typedef struct mn_tx {
    uint32_t type;
    char chain_id[MN_CHAIN_ID_BYTES_MAX + 1];
    uint8_t sender[32];
    uint64_t nonce;
    const uint8_t *body;
    size_t body_len;
    uint8_t signature[64];
} mn_tx;

/* Encodes and signs a transaction (tx->signature is set). */
int mn_tx_sign_encode(mn_tx *tx, const mn_keypair *key, mn_buf *out, mn_err *err);
/* Strict decode (MN_EINVAL / MN_ECORRUPT for anything non-canonical, MN_ELIMIT oversize);
 * does not check the signature. */
int mn_tx_decode(mn_tx *tx, const uint8_t *data, size_t len, mn_err *err);
/* MN_ECRYPTO for a bad signature. */
int mn_tx_verify(const mn_tx *tx, const uint8_t *data, size_t len, mn_err *err);
void mn_tx_hash(uint8_t hash[32], const uint8_t *data, size_t len);

/* ---- genesis ----------------------------------------------------------------------------- */

typedef struct mn_genesis_validator {
    uint8_t pk[32];             /* Ed25519 */
    uint8_t vrf_pk[32];
    uint8_t noise_pk[32];       /* X25519 static key for BPCI IK dials */
    uint64_t stake;
    char addr[64];              /* "host:port" of its BPCI listener */
    char api[64];               /* "host:port" of its HTTP API (informational) */
} mn_genesis_validator;

typedef struct mn_genesis {
    char chain_id[MN_CHAIN_ID_BYTES_MAX + 1];
    uint64_t genesis_time_ms;
    uint32_t validator_count;
    mn_genesis_validator validators[MN_VALIDATORS_MAX];
    /* parameters */
    uint32_t block_max_txs;     /* 0: default */
    uint32_t block_max_bytes;   /* 0: default */
} mn_genesis;

/* genesis.json <-> struct; strict (unknown keys, bad hex, duplicates refused). */
int mn_genesis_load(mn_genesis *g, const char *path, mn_err *err);
int mn_genesis_save(const mn_genesis *g, const char *path, mn_err *err);
/* The same as load, from JSON text in memory (len bytes, no NUL needed). */
int mn_genesis_parse(mn_genesis *g, const char *json, size_t len, mn_err *err);
/* The genesis' own hash (part of the chain identity). */
void mn_genesis_hash(const mn_genesis *g, uint8_t hash[32]);

/* ---- the ledger --------------------------------------------------------------------------- */

typedef struct mn_ledger mn_ledger;

/* Opens (creating if absent) the SQLite database at path (WAL, synchronous=FULL) for this
 * genesis; an existing database of another genesis is refused (MN_EINVAL). Recovers the
 * committed state. */
int mn_ledger_open(const char *path, const mn_genesis *g, mn_ledger **out, mn_err *err);
void mn_ledger_close(mn_ledger *l);

uint64_t mn_ledger_height(const mn_ledger *l);       /* last committed height, 0 at genesis */
void mn_ledger_state_root(const mn_ledger *l, uint8_t root[32]); /* after the last commit */
/* Where consensus starts (next height, its seed, the parent id). */
void mn_ledger_chain(const mn_ledger *l, mn_bft_chain *chain);
/* The set running `height`, or NULL when it is not yet determined (height > committed +
 * MN_STAKE_LOOKBACK). The pointer stays valid until mn_ledger_close (sets are cached). */
const mn_bft_valset *mn_ledger_valset_at(mn_ledger *l, uint64_t height);
/* The same with the signature of consensus.h's valset_at hook (ctx is the mn_ledger). */
const mn_bft_valset *mn_ledger_valset_hook(void *ctx, uint64_t height);

/* Proposing: builds the body of a new block at height (= committed + 1) from the mempool
 * (up to the genesis limits) plus the pending evidence, executes it on a scratch copy of the
 * state to fill state_root, and returns the encoded body and its payload hash. time_ms is the
 * proposer's clock, raised to parent time + 1 if not greater. */
typedef struct mn_mempool mn_mempool;
int mn_ledger_build_block(mn_ledger *l, mn_mempool *mp, uint64_t time_ms, mn_buf *body,
                          uint8_t payload[32], mn_err *err);
/* Validating (MN_ACT_VALIDATE): decodes a proposed body for the header, checks that its hash
 * is header->payload, that every tx decodes, verifies (signatures already verified by the
 * mempool are not verified again: cached by tx hash) and applies in order, that time and
 * state_root are right. 0 valid; MN_EINVAL/MN_ECORRUPT/MN_ECRYPTO invalid, with a reason. The
 * execution result is cached so that commit does not execute again. */
int mn_ledger_check_block(mn_ledger *l, const mn_block_header *h, const uint8_t *body,
                          size_t len, mn_err *err);
/* Committing (MN_ACT_DECIDE, or block sync after mn_bft_verify_commit): stores header, cert,
 * body, txs, the new state and the new seed in ONE SQLite transaction, durable on return.
 * Checks the body as mn_ledger_check_block if it was not checked before. */
int mn_ledger_commit_block(mn_ledger *l, const mn_block_header *h, const mn_commit_cert *c,
                           const uint8_t *body, size_t len, mn_err *err);

/* Reads. MN_ENOTFOUND when absent. */
int mn_ledger_get_block(mn_ledger *l, uint64_t height, mn_block_header *h, mn_commit_cert *c,
                        mn_buf *body, mn_err *err);
/* A committed tx by hash: its encoding, the height and index of its block. */
int mn_ledger_get_tx(mn_ledger *l, const uint8_t hash[32], mn_buf *tx, uint64_t *height,
                     uint32_t *index, mn_err *err);
/* The next nonce a sender must use (committed state). */
uint64_t mn_ledger_next_nonce(mn_ledger *l, const uint8_t sender[32]);
/* The body's time (ms) of a committed block; 0 for height 0 (genesis time). */
uint64_t mn_ledger_block_time(mn_ledger *l, uint64_t height);

/* Evidence seen by consensus (MN_ACT_EVIDENCE): kept until a block includes it. */
int mn_ledger_add_evidence(mn_ledger *l, const mn_evidence *e, mn_err *err);

/* Small key-value of the node itself, in the same database and durable on return (used for
 * the consensus signing state: persist before sign). */
int mn_ledger_meta_put(mn_ledger *l, const char *key, const uint8_t *val, size_t len,
                       mn_err *err);
int mn_ledger_meta_get(mn_ledger *l, const char *key, mn_buf *val, mn_err *err);

/* ---- handlers (the extension point for later transaction types) -------------------------- */

/* The state a block executes on: a scratch version over the committed state (committed
 * state is never touched before commit). Handlers read and write it through the functions
 * below. Keys are at most MN_STATE_KEY_BYTES_MAX bytes, values MN_STATE_VALUE_BYTES_MAX. */
typedef struct mn_ledger_exec mn_ledger_exec;

typedef struct mn_tx_handler {
    /* Stateless: is the body well formed (canonical) for the type? Run on mempool entry and
     * on every tx of a block. MN_ECORRUPT / MN_EINVAL / MN_ELIMIT. */
    int (*check)(const mn_tx *tx, mn_err *err);
    /* Stateful: applies a tx whose encoding, chain id, signature and nonce are already
     * checked (the ledger bumps the nonce after a successful apply). A failing apply must
     * have written NOTHING (check everything first, then write): a proposer skips the tx, a
     * validator refuses the block. */
    int (*apply)(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32], mn_err *err);
} mn_tx_handler;

/* Registers (or replaces) the handler of a type (1 .. MN_TX_TYPES_MAX - 1). Call right after
 * mn_ledger_open, before any block is built or checked; the built-in types are registered by
 * open. MN_EINVAL for a bad type. */
int mn_ledger_register_handler(mn_ledger *l, uint32_t type, const mn_tx_handler *h,
                               mn_err *err);

/* NULL when absent; the value stays valid until the next write through x. */
const uint8_t *mn_ledger_exec_get(mn_ledger_exec *x, const uint8_t *key, size_t klen,
                                  size_t *vlen);
int mn_ledger_exec_put(mn_ledger_exec *x, const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen, mn_err *err);
void mn_ledger_exec_del(mn_ledger_exec *x, const uint8_t *key, size_t klen);
/* The height of the block being executed, and its ledger (for mn_ledger_valset_at). */
uint64_t mn_ledger_exec_height(const mn_ledger_exec *x);
mn_ledger *mn_ledger_exec_ledger(mn_ledger_exec *x);

/* ---- more reads ---------------------------------------------------------------------------- */

/* A committed state entry (MN_ENOTFOUND when absent). */
int mn_ledger_state_get(mn_ledger *l, const uint8_t *key, size_t klen, mn_buf *val,
                        mn_err *err);
/* A validator's committed record (stake > 0): its VRF and Noise static keys and stake (any
 * output may be NULL). MN_ENOTFOUND when the key has no stake. */
int mn_ledger_validator(mn_ledger *l, const uint8_t pk[32], uint8_t vrf_pk[32],
                        uint8_t noise_pk[32], uint64_t *stake, mn_err *err);
/* The seed of a height (1 .. committed + 1). MN_ENOTFOUND otherwise. */
int mn_ledger_seed(mn_ledger *l, uint64_t height, uint8_t seed[32], mn_err *err);
/* The chain id and genesis the ledger was opened with (borrowed). */
const mn_genesis *mn_ledger_genesis(const mn_ledger *l);
/* Pending evidence count (evidence handed in by mn_ledger_add_evidence not yet in a block). */
uint32_t mn_ledger_evidence_pending(const mn_ledger *l);

/* Receipts by hash (a table for later issues): put is durable on return; get gives
 * MN_ENOTFOUND when absent. */
int mn_ledger_receipt_put(mn_ledger *l, const uint8_t hash[32], const uint8_t *receipt,
                          size_t len, mn_err *err);
int mn_ledger_receipt_get(mn_ledger *l, const uint8_t hash[32], mn_buf *receipt, mn_err *err);

/* The payload root of a body: SHA-256(MN_TAG_BLOCK_BODY || body). */
void mn_ledger_body_hash(const uint8_t *body, size_t len, uint8_t payload[32]);

/* ---- mempool ------------------------------------------------------------------------------- */

typedef struct mn_mempool_stats {
    uint32_t count;
    uint64_t bytes;
    uint64_t added, rejected, evicted_committed;
} mn_mempool_stats;

int mn_mempool_new(mn_mempool **out, mn_err *err);
void mn_mempool_free(mn_mempool *mp);
/* Admits a transaction: strict decode, chain id, signature, nonce >= the sender's next nonce
 * (committed) and not already pending, body valid for its type, size and count limits,
 * per-sender limit. Errors: MN_EINVAL/MN_ECORRUPT bad encoding, MN_ECRYPTO bad signature,
 * MN_EEXIST already pending or nonce reused, MN_ELIMIT full / oversize / sender over its limit.
 * hash (may be NULL) receives the tx hash. */
int mn_mempool_add(mn_mempool *mp, mn_ledger *l, const uint8_t *tx, size_t len,
                   uint8_t hash[32], mn_err *err);
/* Drops what a committed block contained and what became stale (nonce now too low). Called
 * by the node after mn_ledger_commit_block. */
void mn_mempool_update(mn_mempool *mp, mn_ledger *l);
mn_mempool_stats mn_mempool_get_stats(const mn_mempool *mp);

#endif
