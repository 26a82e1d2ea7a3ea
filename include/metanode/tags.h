/* SPDX-License-Identifier: Apache-2.0
 *
 * tags.h: the one registry of one-byte domain tags for SHA-256 in Metanode. Every hash of a
 * structured object is SHA-256(tag || encoding), so two kinds of object never share a preimage
 * space and a signature over one kind can never be replayed as another. 0x00 and 0x01 are fixed
 * by RFC 9162 (Merkle leaves and interior nodes); project tags start at 0x10. A new tag is one
 * new line in MN_TAG_LIST below: the compiler then refuses duplicate values and values above
 * 0x3f. Tags are never reused or renumbered once shipped. This header defines numbers only; the
 * hashing is in hash.h, and what exactly is encoded after each tag is owned by the module that
 * hashes it.
 */
#ifndef METANODE_TAGS_H
#define METANODE_TAGS_H

#include "metanode/assert.h"

/* X(name, value): MN_TAG_<name> = value. */
#define MN_TAG_LIST(X)                                                                             \
    /* RFC 9162 Merkle leaf: 0x00 || leaf data. */                                                 \
    X(MERKLE_LEAF, 0x00)                                                                           \
    /* RFC 9162 Merkle interior node: 0x01 || left hash || right hash. */                          \
    X(MERKLE_NODE, 0x01)                                                                           \
    /* A block header (height, parent, roots), the value votes and certificates name. */           \
    X(BLOCK_HEADER, 0x10)                                                                          \
    /* A consensus vote (height, round, kind, block hash) signed by a validator. */                \
    X(VOTE, 0x11)                                                                                  \
    /* A leader's block proposal (height, round, block hash, valid round). */                      \
    X(PROPOSAL, 0x12)                                                                              \
    /* A transaction as submitted by a client; its hash is the transaction id. */                  \
    X(TRANSACTION, 0x13)                                                                           \
    /* A receipt: signed as tag || encoding without the signature; id = hash of it all. */         \
    X(RECEIPT, 0x14)                                                                               \
    /* The deterministic core of a receipt (what ran and what it produced), for its hash. */       \
    X(RECEIPT_CORE, 0x15)                                                                          \
    /* One record of a witness log (a Merkle leaf's payload is hashed under this first). */        \
    X(WITNESS_RECORD, 0x16)                                                                        \
    /* An agreement between parties (terms, policies, signers). */                                 \
    X(AGREEMENT, 0x17)                                                                             \
    /* A policy document in its canonical encoding. */                                             \
    X(POLICY, 0x18)                                                                                \
    /* One key/value entry of the replicated state (state root leaves). */                         \
    X(STATE_ENTRY, 0x19)                                                                           \
    /* Leader seeds: 0x00 || chain id (genesis), 0x01 || VRF output (chained). */                  \
    X(VRF_SEED, 0x1a)                                                                              \
    /* A binding of an identity key to a transport (X25519) or other key. */                       \
    X(IDENTITY_BINDING, 0x1b)                                                                      \
    /* A node id derived from the node's Ed25519 identity public key. */                           \
    X(NODE_ID, 0x1c)                                                                               \
    /* The stake-weighted leader draw (seed, height, round, candidate). */                         \
    X(LEADER_DRAW, 0x1d)                                                                           \
    /* A Merkle tree head (size as 8 bytes big-endian || root), signed as a pair. */               \
    X(MERKLE_TREE_HEAD, 0x1e)                                                                      \
    /* A gossip envelope as signed by its origin: the CBOR map without the signature. */           \
    X(GOSSIP_SIGNED, 0x1f)                                                                         \
    /* A gossip message id: SHA-256(tag || the whole signed envelope as sent). */                  \
    X(GOSSIP_ID, 0x20)                                                                             \
    /* A transaction id: SHA-256(tag || the whole signed transaction encoding). */                 \
    X(TX_ID, 0x21)                                                                                 \
    /* A block body (time, state root, tx root, txs, evidence): the header's payload. */           \
    X(BLOCK_BODY, 0x22)                                                                            \
    /* An interior node of the ledger state tree: tag || key hash || left || entry || right. */    \
    X(STATE_NODE, 0x23)                                                                            \
    /* The genesis document in its canonical CBOR form (the chain identity). */                    \
    X(GENESIS, 0x24)                                                                               \
    /* KDF input deriving a node's BPCI Noise static X25519 key from its Ed25519 seed. */          \
    X(NOISE_STATIC_KEY, 0x25)                                                                      \
    /* Docklock run configuration (argv, env, epoch, limits), the receipt's config digest. */      \
    X(DOCKLOCK_CONFIG, 0x30)                                                                       \
    /* Docklock seed commitment: SHA-256(tag || 32-byte seed). */                                  \
    X(DOCKLOCK_SEED, 0x31)                                                                         \
    /* Docklock random stream key: SHA-256(tag || seed || label || vtid as u32 LE). */             \
    X(DOCKLOCK_STREAM, 0x32)                                                                       \
    /* An OCI bundle's seccomp profile: SHA-256(tag || its JSON, compact, keys sorted). */         \
    X(DOCKLOCK_SECCOMP, 0x35)

#define MN_TAG_ENUM_(name, value) MN_TAG_##name = value,
enum mn_tag { MN_TAG_LIST(MN_TAG_ENUM_) };
#undef MN_TAG_ENUM_

/* Distinct values: the sum of 1 << tag equals the OR of 1 << tag only if no bit repeats. */
#define MN_TAG_BIT_(name, value) (1ull << (value))
#define MN_TAG_SUM_(name, value) +MN_TAG_BIT_(name, value)
#define MN_TAG_OR_(name, value) | MN_TAG_BIT_(name, value)
#define MN_TAG_SMALL_(name, value) &&((value) >= 0 && (value) < 64)
MN_STATIC_ASSERT(1 MN_TAG_LIST(MN_TAG_SMALL_));
MN_STATIC_ASSERT((0 MN_TAG_LIST(MN_TAG_SUM_)) == (0 MN_TAG_LIST(MN_TAG_OR_)));
#undef MN_TAG_BIT_
#undef MN_TAG_SUM_
#undef MN_TAG_OR_
#undef MN_TAG_SMALL_

#endif
