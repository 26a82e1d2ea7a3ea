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
/* Message ids in one IHAVE or IWANT list: gossipsub caps IHAVE at 5,000, but our history holds
 * at most a few heartbeats of one topic's messages and a peer gets one list a heartbeat. */
#define MN_RELAY_IHAVE_IDS_MAX 64u
#define MN_RELAY_IWANT_IDS_MAX 64u
/* Peers offered in one PRUNE (peer exchange): gossipsub's prunePeers is 16. */
#define MN_RELAY_PX_MAX 16u
/* Longest back-off a PRUNE may ask for: gossipsub's default is one minute; an hour bounds a
 * peer that asks for more (it only keeps itself out of our mesh). */
#define MN_RELAY_BACKOFF_S_MAX 3600u
/* Message history (mcache): ids with the caller's handle for the last history windows. 4,096
 * entries hold five one-second heartbeats of 800 messages a second across all topics; beyond
 * that the oldest entry goes early (it is then only missing from IHAVE/IWANT repair). */
#ifdef MN_LIMITS_SMALL
#define MN_RELAY_MCACHE_MAX 64u
#else
#define MN_RELAY_MCACHE_MAX 4096u
#endif
MN_STATIC_ASSERT((MN_RELAY_MCACHE_MAX & (MN_RELAY_MCACHE_MAX - 1)) == 0);
/* History windows kept (gossipsub's history_length) and advertised (history_gossip). */
#define MN_RELAY_MCACHE_WINDOWS 5u
#define MN_RELAY_GOSSIP_WINDOWS 3u
/* IWANT answers: each id is sent to one peer at most 3 times (gossipsub's
 * gossip_retransmission), tracked over the last 16 ids served to that peer; beyond that an
 * IWANT flood could turn one large block into unbounded upload. */
#define MN_RELAY_IWANT_RETRANSMIT_MAX 3u
#define MN_RELAY_SERVED_MAX 16u
/* IWANT requests a peer may still owe us (broken promises are penalised): one per IHAVE. */
#define MN_RELAY_PROMISES_MAX 8u
/* Scores kept by node id after a disconnect, so a peer cannot reconnect to shed penalties:
 * four times the peer slots, the oldest dropped first. */
#define MN_RELAY_RETAIN_MAX (4u * MN_RELAY_PEERS_MAX)
/* How long a departed peer's score is kept: an hour, past any penalty's decay to zero. */
#define MN_RELAY_RETAIN_MS (60u * 60u * 1000u)
/* Actions of one event: a message forwarded to every peer, the history emptied (one release
 * per entry) and an IWANT answered, with slack. */
#define MN_RELAY_ACTIONS_MAX (2u * MN_RELAY_PEERS_MAX + MN_RELAY_MCACHE_MAX + \
                              MN_RELAY_IWANT_IDS_MAX + 64u)
/* Address groups (/24 IPv4, /48 IPv6) whose connection attempts are rate limited at once:
 * a table entry per recently seen group, the least recently used reused. */
#define MN_RELAY_CONN_GROUPS_MAX 1024u
/* Window over which a topic's message rate is measured for P3 thresholds (auto_threshold):
 * long enough to smooth a block interval, short enough to follow a change within a minute. */
#define MN_RELAY_RATE_WINDOW_MS 10000u
/* Address book (Bitcoin's addrman at a quarter of its size: a node meets far fewer peers than a
 * Bitcoin node): 256 new and 64 tried buckets of 16 slots. A source group reaches at most 16
 * new buckets and an address group 4 tried buckets, so a flood from a few networks fills a
 * bounded share of either table. */
#ifdef MN_LIMITS_SMALL
#define MN_ADDRBOOK_NEW_BUCKETS 16u
#define MN_ADDRBOOK_TRIED_BUCKETS 8u
#else
#define MN_ADDRBOOK_NEW_BUCKETS 256u
#define MN_ADDRBOOK_TRIED_BUCKETS 64u
#endif
#define MN_ADDRBOOK_BUCKET_SIZE 16u
#define MN_ADDRBOOK_NEW_PER_SOURCE 16u
#define MN_ADDRBOOK_TRIED_PER_GROUP 4u
/* At most 2 addresses of one /24 in a bucket and 10 in a table (the diversity caps). */
#define MN_ADDRBOOK_PER24_BUCKET 2u
#define MN_ADDRBOOK_PER24_TABLE 10u
/* Tried-table collisions waiting for their test-before-evict: Bitcoin keeps 10. */
#define MN_ADDRBOOK_COLLISIONS_MAX 10u
/* Outbound peers chosen by the book (CometBFT and Bitcoin both use 8 full-relay outbound). */
#define MN_ADDRBOOK_OUTBOUND_MAX 16u
/* Addresses in one address message: Bitcoin's MAX_ADDR_TO_SEND. */
#define MN_ADDRBOOK_ADDRS_MAX 1000u
/* Anchors kept across restarts (Bitcoin keeps 2 block-relay-only anchors; we keep up to 4). */
#define MN_ADDRBOOK_ANCHORS_MAX 4u
/* ASN map entries (prefix, length, AS number, region) and region labels of a shipped map. */
#define MN_ASMAP_ENTRIES_MAX 4096u
#define MN_ASMAP_REGIONS_MAX 32u
#define MN_ASMAP_REGION_BYTES_MAX 16u
#define MN_ASMAP_FILE_BYTES_MAX (1024u * 1024u)

/* ---- consensus ----------------------------------------------------------------------- */

/* Longest chain id (text, inside every sign-bytes): a name such as "metanode-devnet-7". */
#define MN_CHAIN_ID_BYTES_MAX 64u
/* Largest encoded consensus message: a commit certificate of MN_VALIDATORS_MAX signatures
 * (128 x 66 bytes) plus a header (~200 bytes) fits in 9 KiB; 16 KiB leaves room. */
#define MN_CMSG_BYTES_MAX (16u * 1024u)
/* Look-back of the stake snapshot: height h is run by the validator set (members, stakes) of
 * the application's state after committing block h - 2 (heights <= 2: the genesis set), so a
 * node that committed c knows the sets up to c + 2 and can check certificates a little ahead;
 * 2 leaves the application one whole height to compute the next set off the critical path. */
#define MN_STAKE_LOOKBACK 2u
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
 * retransmission relays two rounds of votes, that proof and the justification of its round
 * (one vote per validator): at most 7 per validator. */
#define MN_BFT_ACTIONS_MAX (7u * MN_VALIDATORS_MAX + 64u)
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
/* --cpu-limit range in thousandths of a CPU: the kernel's smallest CFS quota is 1 ms per
 * 100 ms period (10); the guest runs on one CPU, so more than 1000 only means "no throttle". */
#define MN_DOCKLOCK_CPU_MILLIS_MIN 10u
#define MN_DOCKLOCK_CPU_MILLIS_MAX 1000u
/* An exec'd process's arguments and environment (a request is also one witness record's
 * inline data, so it stays under MN_WITNESS_INLINE_BYTES_MAX as a whole). */
#define MN_DOCKLOCK_JOIN_ARGS_MAX 64u
#define MN_DOCKLOCK_JOIN_ENV_MAX 128u
/* exec'd processes alive at once in one container (each holds a connection and two memfds). */
#define MN_DOCKLOCK_JOINS_LIVE_MAX 16u
/* How long the supervisor waits for an exec client's request (it holds the turn meanwhile). */
#define MN_DOCKLOCK_JOIN_REQUEST_MS 1000
/* What a terminal run may print (the pty's output is its stdout; as RLIMIT_FSIZE for memfds). */
#define MN_DOCKLOCK_TTY_OUTPUT_BYTES_MAX (64u << 20)

/* Largest bind-mount source the cage identifies by content (files and small trees such as
 * /etc/hosts, secrets, config maps): hashing it is part of `create`, so it must stay cheap. */
#define MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX (64u << 20)
#define MN_DOCKLOCK_MOUNT_HASH_FILES_MAX 4096u
/* Bytes of the CONFIG record's text (settings and mount list; within one inline record). */
#define MN_DOCKLOCK_CONFIG_TEXT_BYTES_MAX MN_WITNESS_INLINE_BYTES_MAX

/* ---- oci: Docklock as an OCI runtime ------------------------------------------------- */
/* Largest config.json read: real ones are a few KiB; 1 MiB bounds the parser's work. */
#define MN_OCI_CONFIG_BYTES_MAX (1024u * 1024u)
/* Mounts: containerd and podman give about 10, Kubernetes adds volumes and secrets. */
#define MN_OCI_MOUNTS_MAX 128u
/* rlimits: Linux has 16 resources. */
#define MN_OCI_RLIMITS_MAX 16u
/* uid/gid mapping entries (the kernel accepts at most 340 per map; runtimes give 1-5). */
#define MN_OCI_IDMAPS_MAX 16u
/* maskedPaths and readonlyPaths entries each (runc's default lists have about 15). */
#define MN_OCI_PATHS_MAX 64u
/* Hooks per kind, and arguments or environment entries per hook. */
#define MN_OCI_HOOKS_MAX 16u
#define MN_OCI_HOOK_ARGS_MAX 64u
/* Annotations kept (Kubernetes sets about 10 on a pod container), and the longest key or
 * value kept in the state record. */
#define MN_OCI_ANNOTATIONS_MAX 64u
#define MN_OCI_ANN_BYTES_MAX 1024u
/* Notes (ignored settings, taints) reported for one config: one per kind of setting. */
#define MN_OCI_NOTES_MAX 32u
/* Option strings of one mount (tmpfs/devpts data), and options per mount. */
#define MN_OCI_MOUNT_DATA_BYTES_MAX 256u
#define MN_OCI_MOUNT_OPTIONS_MAX 64u
/* Seccomp profile rules after expanding names (Docker's default profile has about 400), and
 * additional gids (the kernel's NGROUPS_MAX is 65536; runtimes pass a handful). */
#define MN_OCI_SECCOMP_RULES_MAX 1024u
#define MN_OCI_GROUPS_MAX 64u
/* Container ids: runc allows any length; containerd uses 64 hex digits, podman 64 too. */
#define MN_OCI_ID_BYTES_MAX 256u
/* Paths kept in a state record (bundle, witness, receipt, key). */
#define MN_OCI_PATH_BYTES_MAX 4096u
/* Largest state.json read back. */
#define MN_OCI_STATE_BYTES_MAX (1024u * 1024u)

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

/* ---- ledger ---------------------------------------------------------------------------- */

/* Largest encoded transaction: a bond or registration is a few hundred bytes and evidence
 * (two signed votes or proposals) under 1 KiB; 4 KiB leaves room for later types. */
#define MN_TX_BYTES_MAX 4096u
/* Longest note body: a note is a short message (a hash, a pointer, a sentence), not storage. */
#define MN_TX_NOTE_BYTES_MAX 1024u
/* Pending transactions in the mempool: 4 blocks of the default size, so a proposer always has
 * a full block while at most 16 MiB (MN_MEMPOOL_BYTES_MAX) stays in memory. */
#define MN_MEMPOOL_TXS_MAX 20000u
#define MN_MEMPOOL_BYTES_MAX (16u * 1024u * 1024u)
/* Pending transactions of one sender: enough for a burst, too few to crowd others out. */
#define MN_MEMPOOL_PER_SENDER_MAX 1000u
/* Default block limits when the genesis sets none: 5,000 transactions (the 5,000 tx/s goal at
 * one block per second) and 4 MiB of body. */
#define MN_BLOCK_TXS_DEFAULT 5000u
#define MN_BLOCK_BYTES_DEFAULT (4u * 1024u * 1024u)
/* Hard bounds a genesis may not exceed (the decoder of a body refuses more). */
#define MN_BLOCK_TXS_MAX 50000u
#define MN_BLOCK_BYTES_MAX (32u * 1024u * 1024u)
/* Evidence items in one block: each costs two signature checks; a block needs few. */
#define MN_BLOCK_EVIDENCE_MAX 64u
/* Pending evidence kept by a ledger until a block includes it. */
#define MN_EVIDENCE_PENDING_MAX 256u
/* Addresses, resources and labels of one registration (MN_TX_REGISTER). */
#define MN_REGISTER_ITEMS_MAX 16u
/* Longest key or value of a state entry (keys are short; values are small records). */
#define MN_STATE_KEY_BYTES_MAX 128u
#define MN_STATE_VALUE_BYTES_MAX 4096u
/* Transaction types a ledger can have handlers for (type values 1 .. 63). */
#define MN_TX_TYPES_MAX 64u
/* Blocks whose execution result a ledger caches between check and commit (a few rounds of
 * proposals at the next height). */
#define MN_LEDGER_SCRATCH_CACHE 4u
/* Blocks after which a stake snapshot takes effect: the set running height h is the one after
 * block h - 2 (consensus also defines it; the guard keeps one definition after a merge). */
#ifndef MN_STAKE_LOOKBACK
#define MN_STAKE_LOOKBACK 2u
#endif
MN_STATIC_ASSERT(MN_BLOCK_TXS_DEFAULT <= MN_BLOCK_TXS_MAX);
MN_STATIC_ASSERT(MN_BLOCK_BYTES_DEFAULT <= MN_BLOCK_BYTES_MAX);
MN_STATIC_ASSERT(MN_TX_NOTE_BYTES_MAX < MN_TX_BYTES_MAX);

/* ---- node ------------------------------------------------------------------------------ */

/* Transactions in one gossip batch (node_msg.h TXS): batching is what makes 5,000 tx/s cheap
 * on the wire; 1,024 x ~250 bytes stays far below a BPCI message. */
#define MN_NODE_TX_BATCH_MAX 1024u
/* Bytes of transactions a node collects before flushing a batch early. */
#define MN_NODE_TX_BATCH_BYTES (1u << 20)
/* Blocks one sync request may ask for: 64 bodies of a few hundred KiB fit a session's write
 * queue; more come with the next request. */
#define MN_NODE_SYNC_BATCH_MAX 64u
/* Block bodies (and validations waiting for one) kept for the heights in progress: a few
 * rounds of proposals. */
#define MN_NODE_BODY_CACHE 16u
/* Peers a node tracks (the validators plus followers and clients). */
#define MN_NODE_PEERS_MAX (MN_VALIDATORS_MAX + 64u)
/* Commit latencies kept for metrics. */
#define MN_NODE_LATENCY_WINDOW 1024u
/* Default consensus timeouts on loopback/LAN (ms): timeout(r) = base + r * delta. Commit is
 * the pause after a decision that lets late votes and the next proposal's txs arrive. */
#define MN_NODE_TIMEOUT_PROPOSE_MS 1000u
#define MN_NODE_TIMEOUT_VOTE_MS 500u
#define MN_NODE_TIMEOUT_DELTA_MS 250u
#define MN_NODE_TIMEOUT_COMMIT_MS 50u
/* No progress for this long: rebroadcast what the core holds and report our height. */
#define MN_NODE_REBROADCAST_MS 1000u
/* Bytes of received transactions waiting for mempool admission; beyond it a node sheds new
 * ones (the mempool itself holds at most MN_MEMPOOL_BYTES_MAX). */
#define MN_NODE_TX_QUEUE_BYTES (8u * 1024u * 1024u)
/* Longest stretch of admission work between two turns of the loop (us): consensus messages
 * wait at most this long behind transactions. */
#define MN_NODE_ADMIT_SLICE_US 2000u
/* Period of the status message (committed height) to every peer. */
#define MN_NODE_STATUS_MS 500u
/* Relay driver (src/node/relay_driver.c): envelopes held for the relay under their handle. The
 * relay's history holds at most MN_RELAY_MCACHE_MAX ids, so this many slots never evict a live
 * one; the bytes cap bounds memory when blocks are large (oldest handles are dropped first). */
#define MN_NODE_RELAY_HELD_MAX 4096u
#define MN_NODE_RELAY_HELD_BYTES (64u * 1024u * 1024u)
MN_STATIC_ASSERT(MN_NODE_RELAY_HELD_MAX >= MN_RELAY_MCACHE_MAX);
MN_STATIC_ASSERT((MN_NODE_RELAY_HELD_MAX & (MN_NODE_RELAY_HELD_MAX - 1)) == 0);
/* Outbound relay peers a node keeps, dialled from its address book (Bitcoin's 8 full-relay
 * outbound connections); seeds and validator links count towards it. */
#define MN_NODE_RELAY_OUTBOUND 8u
/* Outbound peers from one region of the ASN map: half of them, so one region's outage or one
 * provider's routing cannot take more than half of a node's view (unknown region: no cap). */
#define MN_NODE_RELAY_REGION_MAX 4u
/* Dials from the address book in flight at once, and how long one may take before it counts
 * as failed (a BPCI handshake times out after 5 s; twice that covers a slow connect). */
#define MN_NODE_RELAY_DIALS_MAX 8u
#define MN_NODE_RELAY_DIAL_TIMEOUT_MS 10000u
/* A feeler connection (probe a new-table address, then close) every 2 minutes, as Bitcoin. */
#define MN_NODE_RELAY_FEELER_MS 120000u
/* Address announcements: our own address and a sample of the book to every peer this often,
 * at most this many addresses a message (small: the receiver's budget is 0.1/s). */
#define MN_NODE_RELAY_ANNOUNCE_MS 10000u
#define MN_NODE_RELAY_ANNOUNCE_MAX 32u
/* Addresses taken from one peer: 0.1 a second with a burst of 1,000 (Bitcoin's addr rate
 * limit), counted in tenths of an address so the rate is an integer. */
#define MN_NODE_RELAY_ADDR_COST 10u
#define MN_NODE_RELAY_ADDR_RATE_PER_S 1u
#define MN_NODE_RELAY_ADDR_BURST 10000u
/* Anchors (the outbound peers) are written to the node's home at most this often when they
 * change, and at shutdown. */
#define MN_NODE_RELAY_ANCHORS_SAVE_MS 10000u
/* A validator that did not propose a decided block publishes it on the relay only if no copy
 * arrived after this many ms times (its genesis index + 1): the proposer's copy normally
 * reaches every validator (explicit peers) well within 0.5 s on a LAN, so followers get one
 * copy instead of one per validator, and a silent proposer costs at most a few seconds. */
#define MN_NODE_RELAY_BACKUP_MS 500u

/* ---- api: the HTTP API and metrics --------------------------------------------------- */

/* Largest request body (POST /txs): a transaction is at most MN_TX_BYTES_MAX, sent raw or as
 * hex inside JSON (x2 plus a few bytes); 64 KiB leaves room and bounds what one connection can
 * make the server buffer. Enforced while receiving (and from Content-Length up front). */
#define MN_API_BODY_BYTES_MAX (64u * 1024u)
/* Concurrent HTTP connections: clients and load generators on loopback; beyond this the
 * daemon refuses at accept, so descriptors and memory stay bounded. */
#define MN_API_CONNECTIONS_MAX 256u
/* A connection idle this long (seconds) is closed: slow-loris clients cannot pin slots. */
#define MN_API_CONNECTION_TIMEOUT_S 10u
/* Memory per connection for the request line, headers and the read buffer (libmicrohttpd's
 * connection memory limit): a request with larger headers is refused (431/413). */
#define MN_API_CONNECTION_MEMORY_BYTES (32u * 1024u)
/* Largest response the HTTP client (CLI verbs) reads: a block of MN_BLOCK_TXS_MAX hashes as
 * JSON is about 3.5 MiB; 16 MiB leaves room. Time bounds: connect and whole request. */
#define MN_API_RESPONSE_BYTES_MAX (16u * 1024u * 1024u)
#define MN_API_CLIENT_CONNECT_TIMEOUT_MS 5000u
#define MN_API_CLIENT_TIMEOUT_MS 30000u
/* Peers listed by GET /peers. */
#define MN_API_PEERS_MAX (2u * MN_VALIDATORS_MAX)
/* Metrics of one registry, label values of one metric, buckets of one histogram, and the
 * longest name / help / label value: a node exports a few dozen fixed series. */
#define MN_METRICS_MAX 64u
#define MN_METRIC_LABEL_VALUES_MAX 8u
#define MN_METRIC_BUCKETS_MAX 24u
#define MN_METRIC_NAME_BYTES_MAX 64u
#define MN_METRIC_HELP_BYTES_MAX 160u
#define MN_METRIC_LABEL_BYTES_MAX 32u
MN_STATIC_ASSERT(MN_API_BODY_BYTES_MAX >= 2u * MN_TX_BYTES_MAX + 64u);

#endif
