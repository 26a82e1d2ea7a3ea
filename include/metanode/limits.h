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

/* ---- docklock: the deterministic cage ------------------------------------------------ */
/* Arguments and environment entries of one run; a witness header holds them in fixed arrays,
 * so decoding never allocates. 256 covers shells and build tools invoked by hand. */
#define MN_WITNESS_ARGV_MAX 256u
#define MN_WITNESS_ENV_MAX 256u
/* Longest argument or environment entry (Linux's MAX_ARG_STRLEN is 128 KiB; ours is smaller
 * so one header frame stays far below a frame's bound). */
#define MN_WITNESS_STRING_BYTES_MAX 4096u
/* Longest host-class string (kernel release, machine, CPU vendor). */
#define MN_WITNESS_HOST_BYTES_MAX 128u
/* Most bytes stored inline in one record: injected results (getrandom asks for at most 256
 * per call in practice, uname 390) and stdin chunks. Bigger inputs span several records. */
#define MN_WITNESS_INLINE_BYTES_MAX (64u * 1024u)
/* Largest frame: a full header (2 x 256 x 4 KiB) plus CBOR overhead. */
#define MN_WITNESS_FRAME_BYTES_MAX (3u * 1024u * 1024u)
MN_STATIC_ASSERT(MN_WITNESS_FRAME_BYTES_MAX >
                 (MN_WITNESS_ARGV_MAX + MN_WITNESS_ENV_MAX) * (MN_WITNESS_STRING_BYTES_MAX + 8u));
MN_STATIC_ASSERT(MN_WITNESS_INLINE_BYTES_MAX <= MN_CBOR_STRING_BYTES_MAX);
/* Largest witness file read back whole (verify, replay, inspect); also the cap on writing. */
#define MN_WITNESS_FILE_BYTES_MAX MN_FILE_BYTES_MAX

/* ---- wasm ---------------------------------------------------------------------------- */
/* (the WASM engine's bounds go here) */

#endif
