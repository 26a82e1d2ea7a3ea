/* SPDX-License-Identifier: Apache-2.0
 *
 * limits.h: every bound in Metanode, each with the reason for its value, and static asserts
 * for the relations between them. Every loop over untrusted data and every queue is bounded by
 * one of these. A test build may define MN_LIMITS_SMALL to shrink the bounds that tests want to
 * reach the edge of. Each subsystem keeps its bounds in its own section below.
 */
#ifndef METANODE_LIMITS_H
#define METANODE_LIMITS_H

#include "metanode/assert.h"

/* ---- core ---------------------------------------------------------------------------- */

/* Largest file a CLI verb or test reads whole into memory (receipts, keys, leaves). */
#define MN_FILE_BYTES_MAX (64u * 1024u * 1024u)
/* Largest mn_buf; a buffer is a staging area for one encoded object, never a stream. */
#define MN_BUF_BYTES_MAX (256u * 1024u * 1024u)

/* ---- wire: canonical CBOR ------------------------------------------------------------ */

/* Deepest nesting of arrays/maps. Our formats nest at most 4 deep; 16 leaves room and keeps
 * the decoder's explicit stack small. */
#define MN_CBOR_DEPTH_MAX 16u
/* Most items in one array or map. Bounds work per container; witness logs are streams of
 * records, never one giant array. */
#define MN_CBOR_ITEMS_MAX (1u << 20)
/* Longest byte or text string. Inline witness data and notes stay far below this. */
#define MN_CBOR_STRING_BYTES_MAX (16u * 1024u * 1024u)

/* ---- crypto -------------------------------------------------------------------------- */

/* Largest message signed or hashed by a domain-tagged helper in one call. */
#define MN_SIGNED_MSG_BYTES_MAX (64u * 1024u * 1024u)
/* VRF alpha strings are seeds plus heights; 1 KiB is generous and bounds hashing work. */
#define MN_VRF_ALPHA_BYTES_MAX 1024u
/* Merkle proofs we generate (from in-memory trees, far below 2^63 leaves) have at most 64
 * hashes. Verification reads proofs in place and accepts the 65-hash consistency proofs that
 * trees above 2^63 leaves need, so a wire format carrying proofs must allow 65. */
#define MN_MERKLE_PROOF_HASHES_MAX 64u
/* Validators in one set. Quorum certificates carry a bitset of this width. */
#define MN_VALIDATORS_MAX 128u
MN_STATIC_ASSERT(MN_VALIDATORS_MAX % 64 == 0);

/* ---- receipts ------------------------------------------------------------------------ */

/* Policies named by one receipt and verdicts it carries: agreements bind a handful. */
#define MN_RECEIPT_POLICIES_MAX 16u
/* Output roots per receipt (stdout, stderr, file-system diff, and a few named outputs). */
#define MN_RECEIPT_OUTPUTS_MAX 8u
/* Longest text field of a receipt (ids printed as text, verdict reasons). */
#define MN_RECEIPT_TEXT_BYTES_MAX 256u
/* Largest encoded receipt: bounds what `receipt show` and the network accept. */
#define MN_RECEIPT_BYTES_MAX (16u * 1024u)

/* ---- net: BPCI transport --------------------------------------------------------------- */

/* Largest BPCI message after reassembly. Blocks and receipt batches stay below 4 MiB; a larger
 * object is sent as several messages. Bounds the per-session reassembly buffer. */
#define MN_BPCI_MSG_BYTES_MAX (4u * 1024u * 1024u)
/* Frames per direction after which both sides apply Noise Rekey (2^20, as recommended by the
 * transport notes: far below nonce exhaustion, often enough to bound a leaked key's reach). */
#define MN_BPCI_REKEY_MESSAGES (1ull << 20)
/* Services in one registry (consensus, relay topics, mesh): a few dozen at most. */
#define MN_BPCI_SERVICES_MAX 64u
/* (service, peer) entries of restricted services: validators times restricted services. */
#define MN_BPCI_SERVICE_KEYS_MAX (4u * MN_VALIDATORS_MAX)
MN_STATIC_ASSERT(MN_BPCI_MSG_BYTES_MAX <= MN_BUF_BYTES_MAX);

/* ---- wasm ---------------------------------------------------------------------------- */
/* (the WASM engine's bounds go here) */

#endif
