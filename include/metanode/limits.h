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
/* IK first messages a listener remembers to refuse replays, per generation (two generations:
 * the last 16,384-32,768 IK handshakes, in 512 KiB per node; a power of two). */
#define MN_BPCI_REPLAY_ENTRIES (16u * 1024u)
MN_STATIC_ASSERT((MN_BPCI_REPLAY_ENTRIES & (MN_BPCI_REPLAY_ENTRIES - 1)) == 0);
MN_STATIC_ASSERT(MN_BPCI_MSG_BYTES_MAX <= MN_BUF_BYTES_MAX);
/* ---- net: gossip relay ----------------------------------------------------------------- */

/* Envelope overhead: map header, keys, topic, sequence number, signer and signature framing. */
#define MN_RELAY_ENV_OVERHEAD_BYTES 160u
/* Largest gossip payload: an envelope must fit one BPCI message. */
#define MN_RELAY_PAYLOAD_BYTES_MAX (MN_BPCI_MSG_BYTES_MAX - MN_RELAY_ENV_OVERHEAD_BYTES)
MN_STATIC_ASSERT(MN_RELAY_PAYLOAD_BYTES_MAX + MN_RELAY_ENV_OVERHEAD_BYTES <= MN_BPCI_MSG_BYTES_MAX);
/* How long a message id stays in the seen-cache: gossipsub's seen_ttl of 2 minutes, well above
 * the time a message takes to cross the mesh plus the IHAVE history window, so a message that
 * comes round again is still recognised. */
#define MN_RELAY_SEEN_TTL_MS (2u * 60u * 1000u)
/* Seen-cache capacity: 65,536 ids (48 bytes each, 3 MiB) absorb 546 messages a second for a
 * full TTL; above that the oldest ids are evicted first (they are the nearest to expiry). */
#ifdef MN_LIMITS_SMALL
#define MN_RELAY_SEEN_MAX 256u
#else
#define MN_RELAY_SEEN_MAX 65536u
#endif
MN_STATIC_ASSERT((MN_RELAY_SEEN_MAX & (MN_RELAY_SEEN_MAX - 1)) == 0);
/* Peer slots of one relay: 40 inbound and 10 outbound gossip peers (CometBFT's defaults) plus
 * explicit links to every validator, with room to spare. Indexes the per-peer rate buckets. */
#define MN_RELAY_PEERS_MAX (2u * MN_VALIDATORS_MAX)
/* Score counters saturate at this many events (first deliveries, invalid messages, penalties):
 * a squared counter times a weight then stays far inside int64, and a peer that far gone is
 * graylisted long before. */
#define MN_RELAY_SCORE_COUNT_MAX 10000u
/* Decay steps applied in one call: after 1,000 steps of at most 99.9 % every counter is zero,
 * so a long gap costs bounded work. */
#define MN_RELAY_SCORE_DECAY_STEPS_MAX 1000u

/* ---- consensus ----------------------------------------------------------------------- */

/* Longest chain id (text, inside every sign-bytes): a name such as "metanode-devnet-7". */
#define MN_CHAIN_ID_BYTES_MAX 64u
/* Largest encoded consensus message: a commit certificate of MN_VALIDATORS_MAX signatures
 * (128 x 66 bytes) plus a header (~200 bytes) fits in 9 KiB; 16 KiB leaves room. */
#define MN_CMSG_BYTES_MAX (16u * 1024u)
/* Rounds of one height whose votes the core keeps at a time. Safety never depends on keeping
 * a message (every rule of Algorithm 1 only fires on messages it has), so a bounded window
 * costs at most liveness in runs with more than this many live rounds at once. */
#define MN_BFT_ROUND_SLOTS 16u
/* Proposals kept per round: the first from the round's proposer, plus one conflicting one so
 * that an equivocating proposer is both detected and unable to fill memory. */
#define MN_BFT_PROPOSALS_PER_ROUND 2u
/* Actions one event may produce: a cascade (quorum -> precommit -> decide -> next height ->
 * propose -> prevote) emits about a dozen and a proposal of a valid value carries its proof of
 * lock (up to two prevotes per validator: double votes count once per value); a
 * retransmission relays two rounds of votes and that proof: at most 6 per validator. */
#define MN_BFT_ACTIONS_MAX (6u * MN_VALIDATORS_MAX + 64u)
MN_STATIC_ASSERT(MN_CMSG_BYTES_MAX > MN_VALIDATORS_MAX * 66u + 1024u);
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

/* Largest module accepted. Policies are small programs; 64 MiB also fits the biggest spec test
 * modules and load-speed benchmarks while bounding decoder work and memory. */
#define MN_WASM_MODULE_BYTES_MAX (64u * 1024u * 1024u)
/* Entries of any one index space or section vector (types, functions, imports, exports,
 * globals, segments, elements of a segment). A module of MN_WASM_MODULE_BYTES_MAX bytes cannot
 * define more than one entry per byte, and one million bounds every allocation to a few MiB. */
#define MN_WASM_VECTOR_MAX 1000000u
/* Parameters or results of one function type (NEAR and V8 use 1,000). */
#define MN_WASM_FUNC_PARAMS_MAX 1000u
/* Locals of one function including parameters. The spec's binary.wast expects "too many
 * locals" for 2^32 and more; 50,000 matches NEAR and keeps a frame well inside the stack. */
#define MN_WASM_FUNC_LOCALS_MAX 50000u
/* Frame slots of one function (parameters, locals and its deepest operand stack): the
 * translated code addresses slots with 16 bits, which keeps an operation's operands in one
 * 8-byte cell. */
#define MN_WASM_FRAME_SLOTS_MAX 65535u
/* Nesting of blocks in one function: bounds the validator's explicit control stack. */
#define MN_WASM_BLOCK_DEPTH_MAX 10000u
/* Validation work units per module: values pushed or popped by block, call and branch types,
 * which one short instruction can make up to MN_WASM_FUNC_PARAMS_MAX each. Ordinary code needs
 * about one unit per instruction (so at most MN_WASM_MODULE_BYTES_MAX); 2^28 bounds loading to
 * well under a second whatever the module does. */
#define MN_WASM_VALIDATE_WORK_MAX (1ull << 28)
/* Targets of one br_table (the spec tests use a few tens of thousands). */
#define MN_WASM_BR_TABLE_MAX 100000u
/* Hard ceiling on 64 KiB pages of one memory: 65,536 pages is the whole 32-bit space. */
#define MN_WASM_PAGES_HARD_MAX 65536u
/* Default per-memory page limit of a store: 1,024 pages (64 MiB) is what the spec suite's
 * memory_grow.wast needs (it grows to 804 pages) and far above what a policy needs. */
#define MN_WASM_PAGES_DEFAULT 1024u
/* Default and hard limits on table elements: 10 million entries (NEAR's bound) is 80 MiB of
 * references; the default of 1 million keeps table.grow cheap. */
#define MN_WASM_TABLE_ELEMS_DEFAULT 1000000u
#define MN_WASM_TABLE_ELEMS_HARD_MAX 10000000u
/* Nested WASM calls. Frames live on an explicit stack, so this bounds memory, not the C
 * stack; the spec suite's recursion tests must hit it ("call stack exhausted"). */
#define MN_WASM_CALL_DEPTH_DEFAULT 10000u
#define MN_WASM_CALL_DEPTH_HARD_MAX 1000000u
/* 64-bit value-stack slots (locals and operands of all active frames): 1 Mi slots = 8 MiB. It
 * counts slots, not frames, so frames with thousands of locals exhaust it deterministically
 * (skip-stack-guard-page.wast). */
#define MN_WASM_STACK_SLOTS_DEFAULT (1u << 20)
#define MN_WASM_STACK_SLOTS_HARD_MAX (1u << 26)
/* Fuel of a new store when the embedder sets none: about ten seconds of interpretation. */
#define MN_WASM_FUEL_DEFAULT 10000000000ull
/* Version of the fuel cost table (docs/wasm.md). Part of the policy ABI: changing any cost
 * changes verdicts, so it must be bumped with every change. */
#define MN_WASM_FUEL_TABLE_VERSION 1u
/* Bytes (memory.copy/fill/init) or elements (table.*) covered by one unit of fuel. */
#define MN_WASM_FUEL_BULK_UNIT 64u
MN_STATIC_ASSERT(MN_WASM_PAGES_DEFAULT <= MN_WASM_PAGES_HARD_MAX);
MN_STATIC_ASSERT(MN_WASM_TABLE_ELEMS_DEFAULT <= MN_WASM_TABLE_ELEMS_HARD_MAX);
MN_STATIC_ASSERT(MN_WASM_FUNC_LOCALS_MAX < MN_WASM_STACK_SLOTS_DEFAULT);
MN_STATIC_ASSERT(MN_WASM_FUNC_PARAMS_MAX <= MN_WASM_FUNC_LOCALS_MAX);
MN_STATIC_ASSERT(MN_WASM_FUNC_LOCALS_MAX < MN_WASM_FRAME_SLOTS_MAX);

#endif
