/* SPDX-License-Identifier: Apache-2.0
 *
 * relay.h: the pure logic of the gossip relay. Gossip travels in signed envelopes (topic,
 * origin sequence number, signer, payload, signature) with one canonical CBOR encoding; a
 * message id is the tagged SHA-256 of the whole signed envelope, so every node computes the same
 * id for the same message. On top of admission (seen-cache, token buckets, scores) sit a
 * gossipsub v1.1 mesh per topic with IHAVE/IWANT repair, scores kept by node id, connection
 * limits per address group, health checks and explicit peering, and Prometheus metrics. Like
 * the consensus core, nothing here does I/O, reads a clock or allocates after init: the caller
 * passes the time (milliseconds of a monotonic clock) with each event and executes the actions
 * it gets back. The address book is in relay_addrbook.h. Not here: the wiring to BPCI sessions
 * (src/node/relay_driver.c; docs/relay.md, "On the node").
 */
#ifndef METANODE_RELAY_H
#define METANODE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/hash.h"
#include "metanode/limits.h"
#include "metanode/sign.h"

/* ---- envelope ------------------------------------------------------------------------ */

/* Topics. Numbers are wire values and never reused; a later issue adds a line here. */
typedef enum mn_relay_topic {
    MN_RELAY_TOPIC_BLOCKS = 1,
    MN_RELAY_TOPIC_TRANSACTIONS = 2,
    MN_RELAY_TOPIC_RECEIPTS = 3,
    MN_RELAY_TOPIC_CONSENSUS = 4,
} mn_relay_topic;
#define MN_RELAY_TOPIC_FIRST 1u
#define MN_RELAY_TOPIC_LAST 4u
#define MN_RELAY_TOPICS_COUNT (MN_RELAY_TOPIC_LAST - MN_RELAY_TOPIC_FIRST + 1u)

#define MN_RELAY_ID_BYTES MN_SHA256_BYTES

/* A decoded envelope. payload is borrowed: from the caller when encoding, from the input bytes
 * when decoding (valid as long as they are). seq is the origin's own counter; with the signer it
 * makes two publications of equal payloads distinct messages. */
typedef struct mn_relay_env {
    uint32_t topic;
    uint64_t seq;
    uint8_t signer[MN_ED25519_PUBLICKEY_BYTES];
    const uint8_t *payload;
    size_t payload_len;
    uint8_t sig[MN_ED25519_SIG_BYTES];
} mn_relay_env;

/* True for a topic this build knows. */
bool mn_relay_topic_valid(uint32_t topic);

/* Sets env->signer to kp's public key and env->sig to its signature over MN_TAG_GOSSIP_SIGNED ||
 * the envelope's encoding without the signature. MN_EINVAL for an unknown topic or an oversized
 * payload, MN_ENOMEM from the buffer. */
int mn_relay_env_sign(mn_relay_env *env, const mn_keypair *kp, mn_err *err);

/* Verifies env->sig against env->signer: 0, or MN_ECRYPTO (never says why). */
int mn_relay_env_verify(const mn_relay_env *env, mn_err *err);

/* Appends the canonical encoding, a CBOR map {1: topic, 2: seq, 3: signer, 4: payload,
 * 5: signature}, to out. MN_EINVAL for an envelope the decoder would refuse. */
int mn_relay_env_encode(const mn_relay_env *env, mn_buf *out, mn_err *err);

/* Strict decoder: exactly one canonical map with the five fields in order, a known topic, a
 * payload of at most MN_RELAY_PAYLOAD_BYTES_MAX bytes, nothing after it. MN_ECORRUPT or
 * MN_ELIMIT otherwise; *env is written only on success. The signature is not checked. */
int mn_relay_env_decode(const uint8_t *data, size_t len, mn_relay_env *env, mn_err *err);

/* id = SHA-256(MN_TAG_GOSSIP_ID || data), data being an encoded envelope as received. Because
 * the decoder accepts one encoding per envelope, equal envelopes have equal ids. */
void mn_relay_msg_id(uint8_t id[static MN_RELAY_ID_BYTES], const uint8_t *data, size_t len);

/* ---- seen-cache ---------------------------------------------------------------------- */

/* A bounded set of message ids, each kept MN_RELAY_SEEN_TTL_MS from when it was added. Ids live
 * in a ring in the order they were added, which (the TTL being constant and time monotonic) is
 * also their order of expiry, so expiry and eviction both take the oldest id: deterministic and
 * O(1). Lookups go through chained buckets chosen by SipHash under a node-local secret, so a
 * peer cannot grind ids into one long chain. Caller-owned, no allocation; about 3.3 MiB at the
 * default capacity, so embed it in a structure allocated once at start. */
#define MN_RELAY_SEEN_KEY_BYTES 16u
typedef struct mn_relay_seen_entry {
    uint8_t id[MN_RELAY_ID_BYTES];
    uint64_t expires_ms;
    uint32_t next; /* next entry of the same bucket, or UINT32_MAX */
} mn_relay_seen_entry;

typedef struct mn_relay_seen {
    uint32_t capacity;
    uint32_t head;  /* ring index of the oldest entry */
    uint32_t count;
    uint64_t now_ms; /* latest time passed in; time never goes back */
    uint64_t evictions; /* live ids dropped for capacity (a metric: the cache is too small) */
    uint8_t key[MN_RELAY_SEEN_KEY_BYTES];
    uint32_t buckets[MN_RELAY_SEEN_MAX];
    mn_relay_seen_entry entries[MN_RELAY_SEEN_MAX];
} mn_relay_seen;

/* capacity: a power of two in [1, MN_RELAY_SEEN_MAX] (tests use small ones); key: the node's
 * secret bucketing key (from its random source at start). */
void mn_relay_seen_init(mn_relay_seen *s, uint32_t capacity,
                        const uint8_t key[static MN_RELAY_SEEN_KEY_BYTES], uint64_t now_ms);
/* Whether id was added less than MN_RELAY_SEEN_TTL_MS before now_ms. Drops expired ids first.
 * now_ms must not be earlier than any time passed before. */
bool mn_relay_seen_has(mn_relay_seen *s, const uint8_t id[static MN_RELAY_ID_BYTES],
                       uint64_t now_ms);
/* Adds id, which must not be present. When full, the oldest id is evicted: returns true then. */
bool mn_relay_seen_add(mn_relay_seen *s, const uint8_t id[static MN_RELAY_ID_BYTES],
                       uint64_t now_ms);

/* ---- token buckets ------------------------------------------------------------------- */

/* A rate: per_s tokens a second, at most burst stored. Tokens are counted in thousandths so a
 * refill of per_s thousandths a millisecond is exact: integers only, nothing lost to rounding. */
typedef struct mn_relay_rate {
    uint32_t per_s; /* >= 1 */
    uint32_t burst; /* >= 1 */
} mn_relay_rate;

typedef struct mn_relay_bucket {
    uint64_t milli;   /* thousandths of a token, <= burst * 1000 */
    uint64_t last_ms; /* time of the last refill; time never goes back */
} mn_relay_bucket;

/* Starts full at now_ms. */
void mn_relay_bucket_init(mn_relay_bucket *b, const mn_relay_rate *rate, uint64_t now_ms);
/* Refills for the time since the last call, then takes cost tokens if there are that many:
 * true if taken, false (and nothing taken) if not. A cost above burst never passes. */
bool mn_relay_bucket_take(mn_relay_bucket *b, const mn_relay_rate *rate, uint64_t cost,
                          uint64_t now_ms);
/* The same for two buckets at once (messages and bytes): both are charged or neither. */
bool mn_relay_bucket_take2(mn_relay_bucket *a, const mn_relay_rate *ra, uint64_t cost_a,
                           mn_relay_bucket *b, const mn_relay_rate *rb, uint64_t cost_b,
                           uint64_t now_ms);

/* ---- peer scores -------------------------------------------------------------------- */

/* gossipsub v1.1's score in integers: counters are kept in thousandths of an event, the score
 * in thousandths of a point. Per topic: P1 time in mesh (weight per second, capped), P2 first
 * deliveries (capped), P3 mesh delivery deficit (squared, once the peer has been in the mesh
 * for the activation time), P3b mesh failure (a deficit carried out of the mesh when pruned),
 * P4 invalid messages (squared). Per peer: P5 the application's score, P6 IP colocation
 * (peers beyond the threshold on one address, squared), P7 behaviour penalties (squared). A
 * bad signature or encoding counts at once (no heartbeat wait); counters decay geometrically
 * per interval and drop to zero below 0.01. */
typedef struct mn_relay_score_params {
    int64_t first_weight;       /* thousandths of a point per first delivery, > 0 */
    uint32_t first_cap;         /* first deliveries counted at most, per topic */
    int64_t invalid_weight;     /* thousandths of a point per invalid^2, < 0 */
    int64_t behaviour_weight;   /* thousandths of a point per penalty^2, < 0 */
    uint32_t first_decay_permille;   /* kept per interval, < 1000 */
    uint32_t invalid_decay_permille; /* for invalid and behaviour counters, < 1000 */
    uint32_t decay_interval_ms;
    /* P1: thousandths of a point per second in the mesh, >= 0, counted up to mesh_time_cap_s */
    int64_t mesh_time_weight;
    uint32_t mesh_time_cap_s;
    /* P3: below mesh_threshold[topic] deliveries (decaying like first deliveries) the deficit
     * squared costs mesh_deficit_weight (<= 0), once in the mesh for mesh_activation_ms; a
     * duplicate counts if it comes within mesh_window_ms of the first. A threshold of 0 turns
     * P3 and P3b off for the topic: it must follow the topic's expected rate, or a quiet topic
     * would push every mesh peer below zero. */
    int64_t mesh_deficit_weight;
    uint32_t mesh_threshold[MN_RELAY_TOPICS_COUNT];
    uint32_t mesh_activation_ms;
    uint32_t mesh_window_ms;
    /* P6: thousandths of a point per (peers on one address - threshold)^2, <= 0 */
    int64_t colocation_weight;
    uint32_t colocation_threshold;
    /* gossip < 0, publish <= gossip, graylist < publish (thousandths of a point) */
    int64_t gossip_threshold, publish_threshold, graylist_threshold;
    /* PX from a pruning peer is passed on only if its score is at least this (>= 0) */
    int64_t accept_px_threshold;
} mn_relay_score_params;

typedef struct mn_relay_score {
    uint64_t first[MN_RELAY_TOPICS_COUNT];   /* thousandths */
    uint64_t invalid[MN_RELAY_TOPICS_COUNT]; /* thousandths */
    uint64_t mesh_deliveries[MN_RELAY_TOPICS_COUNT]; /* thousandths, P3 */
    uint64_t mesh_failure[MN_RELAY_TOPICS_COUNT];    /* thousandths of deficit^2, P3b */
    uint64_t mesh_ms[MN_RELAY_TOPICS_COUNT]; /* time in the mesh so far (0 when not in it) */
    uint64_t behaviour;                      /* thousandths */
    uint32_t colocated;  /* peers on the same address, this one included (set by the relay) */
    int64_t app;         /* P5, thousandths of a point, from the application */
    uint64_t decayed_ms; /* time up to which decay has been applied */
} mn_relay_score;

/* What a score allows, worst last: below gossip no IHAVE to or from the peer, below publish no
 * flood-publishing to it, below graylist everything from it is ignored. */
typedef enum mn_relay_standing {
    MN_RELAY_STANDING_OK = 0,
    MN_RELAY_STANDING_NO_GOSSIP,
    MN_RELAY_STANDING_NO_PUBLISH,
    MN_RELAY_STANDING_GRAYLISTED,
} mn_relay_standing;

void mn_relay_score_params_default(mn_relay_score_params *p);
/* MN_EINVAL for weights of the wrong sign, decay >= 1000, thresholds out of order. */
int mn_relay_score_params_check(const mn_relay_score_params *p, mn_err *err);
void mn_relay_score_init(mn_relay_score *s, uint64_t now_ms);
/* Applies the decay intervals that ended by now_ms (at most MN_RELAY_SCORE_DECAY_STEPS_MAX). */
void mn_relay_score_decay(mn_relay_score *s, const mn_relay_score_params *p, uint64_t now_ms);
/* Counts one event: a first delivery (topic >= 1), an invalid message (topic >= 1) or a
 * behaviour penalty (topic 0: undecodable input, protocol violations). */
void mn_relay_score_first(mn_relay_score *s, uint32_t topic);
void mn_relay_score_invalid(mn_relay_score *s, uint32_t topic);
void mn_relay_score_penalty(mn_relay_score *s);
/* A message from a mesh peer that counts towards P3 (first, or a duplicate in the window). */
void mn_relay_score_mesh_delivery(mn_relay_score *s, uint32_t topic);
/* The peer leaves topic's mesh: a deficit it had becomes the P3b mesh failure penalty, and its
 * time in the mesh restarts at zero. */
void mn_relay_score_mesh_leave(mn_relay_score *s, const mn_relay_score_params *p,
                               uint32_t topic);
int64_t mn_relay_score_value(const mn_relay_score *s, const mn_relay_score_params *p);
mn_relay_standing mn_relay_score_standing(const mn_relay_score *s,
                                          const mn_relay_score_params *p);

/* ---- control messages ------------------------------------------------------------- */

/* A peer offered in a PRUNE (peer exchange): its node id and where to dial it. addr is an IPv6
 * address (IPv4 as ::ffff:a.b.c.d). */
typedef struct mn_relay_px {
    uint8_t node[MN_ED25519_PUBLICKEY_BYTES];
    uint8_t addr[16];
    uint16_t port;
} mn_relay_px;

typedef struct mn_relay_ihave {
    uint32_t topic;
    uint8_t id[MN_RELAY_ID_BYTES];
} mn_relay_ihave;

/* One control message (gossipsub's ControlMessage, batched per peer): topics as bit masks
 * (bit t for topic t). backoff_s and px go with prune only. Canonical CBOR map, keys present
 * only when non-empty, in order: 1 graft [topics], 2 prune [topics], 3 backoff_s, 4 px
 * [[node, addr, port]...], 5 ihave [[topic, id]...], 6 iwant [id...]. See docs/relay.md. */
typedef struct mn_relay_ctrl {
    uint32_t graft, prune;
    uint32_t backoff_s;
    uint32_t px_count;
    mn_relay_px px[MN_RELAY_PX_MAX];
    uint32_t ihave_count;
    mn_relay_ihave ihave[MN_RELAY_IHAVE_IDS_MAX];
    uint32_t iwant_count;
    uint8_t iwant[MN_RELAY_IWANT_IDS_MAX][MN_RELAY_ID_BYTES];
} mn_relay_ctrl;

/* True when c carries nothing (it is then never sent). */
bool mn_relay_ctrl_empty(const mn_relay_ctrl *c);
/* Appends the encoding. MN_EINVAL for a message the decoder would refuse (unknown topic bits,
 * backoff or px without prune, backoff above MN_RELAY_BACKOFF_S_MAX, empty). */
int mn_relay_ctrl_encode(const mn_relay_ctrl *c, mn_buf *out, mn_err *err);
/* Strict decoder: keys in order, no empty list, topics ascending and known, counts within the
 * limits, nothing trailing. MN_ECORRUPT or MN_ELIMIT; *c is written only on success. */
int mn_relay_ctrl_decode(const uint8_t *data, size_t len, mn_relay_ctrl *c, mn_err *err);

/* ---- message history (mcache) ---------------------------------------------------------- */

/* The ids of recent messages with the caller's handle (ref) for their bytes, in heartbeat
 * windows: IHAVE advertises the last MN_RELAY_GOSSIP_WINDOWS, IWANT is answered from all
 * MN_RELAY_MCACHE_WINDOWS. The relay never holds message bytes: the driver keeps them until the
 * relay releases the ref (MN_RELAY_ACT_RELEASE). Lookups by id go through SipHash buckets. */
typedef struct mn_relay_mcache_entry {
    uint8_t id[MN_RELAY_ID_BYTES];
    uint64_t ref;
    uint64_t added_ms;
    uint64_t window;
    uint32_t topic;
    uint32_t len;  /* bytes of the message (IWANT answers are budgeted in bytes) */
    uint32_t next; /* bucket chain, UINT32_MAX ends it */
} mn_relay_mcache_entry;

typedef struct mn_relay_mcache {
    uint32_t head, count;
    uint64_t window; /* current window, advanced by each heartbeat */
    uint8_t key[MN_RELAY_SEEN_KEY_BYTES];
    uint32_t buckets[MN_RELAY_MCACHE_MAX];
    mn_relay_mcache_entry entries[MN_RELAY_MCACHE_MAX];
} mn_relay_mcache;

void mn_relay_mcache_init(mn_relay_mcache *m, const uint8_t key[static MN_RELAY_SEEN_KEY_BYTES]);
/* The entry for id, or NULL. */
const mn_relay_mcache_entry *mn_relay_mcache_get(const mn_relay_mcache *m,
                                                 const uint8_t id[static MN_RELAY_ID_BYTES]);
/* Adds id (not present). When full the oldest goes: its ref is stored in *evicted_ref and true
 * returned. */
bool mn_relay_mcache_put(mn_relay_mcache *m, const uint8_t id[static MN_RELAY_ID_BYTES],
                         uint32_t topic, uint64_t ref, uint32_t len, uint64_t now_ms,
                         uint64_t *evicted_ref);
/* Drops the oldest entry if it is older than the kept windows: true and its ref, or false. */
bool mn_relay_mcache_expire_one(mn_relay_mcache *m, uint64_t *ref);

/* ---- admission ----------------------------------------------------------------------- */

/* The mesh, after gossipsub v1.1: d is the target mesh size per topic, d_lo/d_hi the bounds
 * that trigger grafting/pruning at a heartbeat, d_score the peers kept by score when pruning,
 * d_out the outbound peers each mesh must hold, d_lazy the peers that get IHAVE per topic. */
typedef struct mn_relay_mesh_params {
    uint32_t d, d_lo, d_hi, d_score, d_out, d_lazy;
    uint32_t heartbeat_ms;       /* the interval the driver calls mn_relay_heartbeat at */
    uint32_t prune_backoff_s;    /* asked in our PRUNEs, and the least we honour */
    uint32_t ihave_per_heartbeat;   /* IHAVE messages accepted from a peer per heartbeat */
    uint32_t iwant_followup_ms;  /* an IWANT not answered by then is a broken promise */
    uint32_t iwant_bytes_per_heartbeat; /* bytes sent per peer per heartbeat in IWANT answers */
    bool flood_publish;          /* own messages on a subscribed topic to every peer above the
                                  * publish threshold */
    /* Fanout (gossipsub): a topic we publish to without being in its mesh (not subscribed, or
     * its mesh empty without flood publishing) goes to up to d peers scoring at or above the
     * publish threshold, kept until fanout_ttl_ms pass without a publish. */
    uint32_t fanout_ttl_ms;
    /* P3 thresholds from measured rates: each rate window, a topic's threshold becomes
     * rate/4 + 1 deliveries (rate: first deliveries and own messages a second, averaged over
     * windows), or 0 (off) below one message a second. See docs/relay.md. */
    bool auto_threshold;
    /* Opportunistic grafting: every og_ticks heartbeats, if the median score of a topic's mesh
     * is below og_threshold (thousandths of a point), graft og_peers peers scoring above the
     * median, so a mesh held by poor (possibly sybil) peers improves. og_ticks 0: off. */
    uint32_t og_ticks, og_peers;
    int64_t og_threshold;
} mn_relay_mesh_params;

/* Rate limits: one (messages, bytes) pair per peer for everything it sends, checked before the
 * envelope is even decoded, and one pair per peer and topic. Every bytes burst must hold a
 * largest envelope (MN_BPCI_MSG_BYTES_MAX), or such a message could never pass. */
typedef struct mn_relay_config {
    mn_relay_rate peer_msgs, peer_bytes;
    mn_relay_rate topic_msgs[MN_RELAY_TOPICS_COUNT], topic_bytes[MN_RELAY_TOPICS_COUNT];
    uint32_t seen_capacity; /* power of two <= MN_RELAY_SEEN_MAX */
    uint8_t seen_key[MN_RELAY_SEEN_KEY_BYTES]; /* node-local secret */
    mn_relay_score_params score;
    mn_relay_mesh_params mesh;
    /* New connections per address group (/24 IPv4, /48 IPv6) and the inbound slots one group
     * may hold: a sybil from one network cannot crowd out the rest. */
    mn_relay_rate conn_per_group;
    uint32_t inbound_per_group_max;
    uint32_t inbound_max; /* inbound peer slots, explicit peers not counted */
    uint8_t rng_seed[32];  /* peer selection (node-local randomness, from the caller) */
    /* Health: a peer is dropped (MN_RELAY_ACT_DISCONNECT) when its ping round trip exceeds
     * rtt_max_ms, when a ping stays unanswered for rtt_max_ms, or when it brought nothing
     * useful for idle_max_ms while others did; explicit peers never are. */
    uint32_t ping_interval_ms, rtt_max_ms, idle_max_ms;
    /* Explicit peering: validator node ids always kept connected, outside the mesh limits. */
    uint32_t explicit_count;
    uint8_t explicit_nodes[MN_VALIDATORS_MAX][MN_ED25519_PUBLICKEY_BYTES];
    uint32_t explicit_redial_ms;
    /* Topics (bit t for topic t) whose mesh this node joins; the others it only publishes to,
     * through fanout. All by default. */
    uint32_t subscribed;
} mn_relay_config;

/* What happened to one incoming message. Only ACCEPT marks its id seen. */
typedef enum mn_relay_verdict {
    MN_RELAY_ACCEPT = 0,   /* first valid delivery: hand to the application and forward */
    MN_RELAY_DUPLICATE,    /* valid id already seen: drop */
    MN_RELAY_RATE_LIMITED, /* over the peer's or the peer-and-topic budget: drop */
    MN_RELAY_UNDECODABLE,  /* not an envelope (MN_ECORRUPT/MN_ELIMIT): drop, penalise the peer */
    MN_RELAY_BAD_SIGNATURE, /* well formed but not signed by its signer: drop, penalise */
    MN_RELAY_GRAYLISTED,   /* the peer's score is below the graylist threshold: ignore */
    MN_RELAY_VERDICT_COUNT
} mn_relay_verdict;

/* Per-peer counters: the inputs of scoring (first deliveries, invalid messages) and metrics. */
typedef struct mn_relay_promise {
    uint8_t id[MN_RELAY_ID_BYTES];
    uint64_t due_ms;
} mn_relay_promise;

/* Who a peer is, given by the driver when its session comes up. node is its BPCI identity
 * (all zero for an anonymous peer: its score is then not kept after it leaves); addr its IPv6
 * (or ::ffff:IPv4) address for colocation and the per-group limits. */
typedef struct mn_relay_peer_info {
    uint8_t node[MN_ED25519_PUBLICKEY_BYTES];
    uint8_t addr[16];
    uint16_t port;      /* where it listens (0: unknown); offered to others in PX */
    bool outbound;      /* we dialled it */
    bool explicit_peer; /* a validator link: always sent everything, never in the mesh */
    bool colocation_exempt; /* not counted for IP colocation (P6): gossipsub's IP whitelist,
                             * for addresses known to host several honest nodes */
} mn_relay_peer_info;

typedef struct mn_relay_peer {
    bool up;
    mn_relay_peer_info info;
    uint32_t mesh;                /* topic bits: in our mesh of that topic */
    uint32_t fanout;              /* topic bits: in our fanout of that topic */
    uint64_t backoff_until_ms[MN_RELAY_TOPICS_COUNT];
    uint64_t mesh_since_ms[MN_RELAY_TOPICS_COUNT];
    uint32_t ihave_recv;          /* IHAVE messages this heartbeat */
    uint32_t iwant_asked;         /* ids we asked of it this heartbeat */
    uint32_t promises_count;
    mn_relay_promise promises[MN_RELAY_PROMISES_MAX];
    uint64_t iwant_bytes;         /* IWANT answers sent to it this heartbeat */
    uint32_t served_next;         /* ring of the last ids served to it and how often */
    struct {
        uint8_t id[MN_RELAY_ID_BYTES];
        uint32_t count;
    } served[MN_RELAY_SERVED_MAX];
    int64_t score_cached;         /* computed at each heartbeat, thousandths of a point */
    /* health */
    uint64_t up_ms, last_useful_ms, last_ping_ms;
    uint32_t rtt_ms;              /* last ping round trip, 0: none yet */
    bool ping_outstanding;
    mn_relay_bucket msgs, bytes;
    mn_relay_bucket topic_msgs[MN_RELAY_TOPICS_COUNT], topic_bytes[MN_RELAY_TOPICS_COUNT];
    uint64_t verdicts[MN_RELAY_VERDICT_COUNT];
    mn_relay_score score;
} mn_relay_peer;

typedef struct mn_relay_retained {
    uint8_t node[MN_ED25519_PUBLICKEY_BYTES];
    uint64_t until_ms; /* 0: free */
    mn_relay_score score;
} mn_relay_retained;

typedef struct mn_relay_conn_group {
    uint8_t prefix[16]; /* the group's address with the host bits cleared */
    bool used;
    uint32_t inbound;   /* inbound peers of the group now up */
    uint64_t last_ms;
    mn_relay_bucket bucket;
} mn_relay_conn_group;

/* Counters for /metrics (mn_relay_metrics_write). Per topic index t = topic - 1. */
typedef struct mn_relay_metrics {
    uint64_t msgs_in[MN_RELAY_TOPICS_COUNT];       /* accepted (first deliveries) */
    uint64_t msgs_dup[MN_RELAY_TOPICS_COUNT];      /* duplicates */
    uint64_t msgs_out[MN_RELAY_TOPICS_COUNT];      /* messages sent (forward, publish, IWANT) */
    uint64_t msgs_published[MN_RELAY_TOPICS_COUNT];
    uint64_t rate_limited, undecodable, bad_signature, graylisted;
    uint64_t ctrl_in, ctrl_out, ctrl_undecodable;
    uint64_t graft_in, graft_out, prune_in, prune_out;
    uint64_t ihave_in, ihave_out, iwant_in, iwant_out, iwant_served, iwant_refused;
    uint64_t promises_broken;
    uint64_t conn_refused_rate, conn_refused_group, conn_refused_full;
    uint64_t seen_evictions, mcache_evictions, retained_evictions;
    uint64_t peers_pruned_score, opportunistic_grafts;
    uint64_t dropped_rtt, dropped_idle, explicit_dials;
    uint64_t fanout_out[MN_RELAY_TOPICS_COUNT];    /* own messages sent through fanout */
} mn_relay_metrics;

typedef struct mn_relay {
    mn_relay_config cfg;
    uint64_t now_ms;
    uint64_t rng[4];      /* xoshiro256** state for peer selection */
    uint64_t heartbeats;
    uint32_t inbound_count;
    uint64_t last_accept_ms; /* last first delivery from any peer (health: is the network idle?) */
    uint64_t explicit_dialled_ms[MN_VALIDATORS_MAX];
    uint64_t fanout_pub_ms[MN_RELAY_TOPICS_COUNT]; /* last publish through fanout (0: none) */
    /* measured rates: messages (first deliveries and own) in the current window, and the
     * average in thousandths of a message a second */
    uint64_t rate_count[MN_RELAY_TOPICS_COUNT], rate_milli[MN_RELAY_TOPICS_COUNT];
    uint64_t rate_since_ms;
    mn_relay_metrics metrics;
    mn_relay_retained retained[MN_RELAY_RETAIN_MAX];
    mn_relay_conn_group groups[MN_RELAY_CONN_GROUPS_MAX];
    mn_relay_mcache mcache;
    /* verdicts per topic; index 0 counts messages refused before a topic was known */
    uint64_t verdicts[MN_RELAY_TOPICS_COUNT + 1][MN_RELAY_VERDICT_COUNT];
    mn_relay_peer peers[MN_RELAY_PEERS_MAX];
    mn_relay_seen seen;
} mn_relay;

/* The result of mn_relay_on_message. env (payload borrowed from the message bytes) and id are
 * set for ACCEPT, DUPLICATE and BAD_SIGNATURE, and for RATE_LIMITED after decoding. */
typedef struct mn_relay_admission {
    mn_relay_verdict verdict;
    uint32_t topic; /* 0 when refused before decoding */
    mn_relay_env env;
    uint8_t id[MN_RELAY_ID_BYTES];
} mn_relay_admission;

/* Defaults: see relay.c for the figures and their reasons. The key is zero: set a secret. */
void mn_relay_config_default(mn_relay_config *cfg);
/* MN_EINVAL for a rate of 0, a bytes burst below a largest envelope, a bad seen capacity,
 * bad score parameters. */
int mn_relay_config_check(const mn_relay_config *cfg, mn_err *err);

/* r is large (mostly the seen-cache): allocate it once at start. cfg must pass the check. */
void mn_relay_init(mn_relay *r, const mn_relay_config *cfg, uint64_t now_ms);
/* A BPCI session to a peer came up in slot peer (< MN_RELAY_PEERS_MAX, not up). info may be
 * NULL (an anonymous inbound peer). Its buckets start full; its score is the one kept for its
 * node id if it left recently, else zero. An inbound peer takes an inbound slot of its group. */
void mn_relay_on_peer_up(mn_relay *r, uint32_t peer, const mn_relay_peer_info *info,
                         uint64_t now_ms);
/* The session ended: the peer leaves every mesh (a delivery deficit becomes a mesh failure
 * penalty) and its score is kept by node id for MN_RELAY_RETAIN_MS. */
void mn_relay_on_peer_down(mn_relay *r, uint32_t peer, uint64_t now_ms);
/* Admission only (drivers call mn_relay_on_gossip, which runs this and then forwards). A gossip
 * message from peer (which is up). Admission in order: the peer's standing (a
 * graylisted peer is ignored outright), the peer's budget, decoding,
 * the peer-and-topic budget, the seen-cache, the signature; only a message that passes all of
 * them is marked seen. A duplicate is dropped before its signature is checked: its id covers
 * the signature, and only verified envelopes enter the cache. The verdict feeds the peer's
 * score at once: a first delivery raises it, a bad signature or encoding lowers it. Pure: no
 * I/O, no clock. */
void mn_relay_on_message(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                         uint64_t now_ms, mn_relay_admission *out);

/* ---- the mesh: events in, actions out ------------------------------------------------- */

typedef enum mn_relay_action_kind {
    MN_RELAY_ACT_SEND_MSG = 1, /* send the message held under ref to peer */
    MN_RELAY_ACT_SEND_CTRL,    /* encode out->ctrls[ctrl] and send it to peer */
    MN_RELAY_ACT_RELEASE,      /* the relay no longer needs ref: the driver may free the bytes */
    MN_RELAY_ACT_PX,           /* a peer offered by PRUNE: a dial candidate for the address book */
    MN_RELAY_ACT_PING,         /* ping peer; report the round trip with mn_relay_on_pong */
    MN_RELAY_ACT_DISCONNECT,   /* drop peer as unhealthy (reason); back it off in the book */
    MN_RELAY_ACT_DIAL,         /* connect to the explicit peer px.node (not connected) */
} mn_relay_action_kind;

typedef enum mn_relay_drop_reason {
    MN_RELAY_DROP_RTT = 1,  /* round trip above rtt_max_ms, or a ping unanswered that long */
    MN_RELAY_DROP_IDLE,     /* nothing useful for idle_max_ms while others delivered */
} mn_relay_drop_reason;

typedef struct mn_relay_action {
    mn_relay_action_kind kind;
    uint32_t peer;
    uint32_t ctrl;    /* SEND_CTRL: index into the actions' ctrls */
    uint64_t ref;     /* SEND_MSG, RELEASE */
    mn_relay_px px;   /* PX; DIAL (node only) */
    mn_relay_drop_reason reason; /* DISCONNECT */
} mn_relay_action;

/* Caller-owned, reused for every event (about 1.6 MiB: allocate once). Each event function
 * clears it and fills it with the actions to execute in order; control messages for a peer are
 * batched into one SEND_CTRL at the end. */
typedef struct mn_relay_actions {
    uint32_t count;
    mn_relay_action items[MN_RELAY_ACTIONS_MAX];
    uint32_t ctrls_count;
    uint16_t ctrl_of_peer[MN_RELAY_PEERS_MAX]; /* index + 1, 0: none yet */
    uint16_t peer_of_ctrl[MN_RELAY_PEERS_MAX];
    mn_relay_ctrl ctrls[MN_RELAY_PEERS_MAX];
} mn_relay_actions;

void mn_relay_mesh_params_default(mn_relay_mesh_params *p);
int mn_relay_mesh_params_check(const mn_relay_mesh_params *p, mn_err *err);

/* Admission plus forwarding: an accepted message is put into the history under ref (the
 * driver keeps its bytes until a RELEASE of ref), and sent to the topic's mesh and to explicit
 * peers, never back to its sender. For any other verdict ref is not kept. A duplicate from a
 * mesh peer soon after the first counts towards that peer's mesh deliveries; a delivery keeps
 * an IWANT promise. */
void mn_relay_on_gossip(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                        uint64_t ref, uint64_t now_ms, mn_relay_admission *adm,
                        mn_relay_actions *out);
/* The node's own message (an encoded, signed envelope): marked seen, kept under ref, sent to
 * every peer at or above the publish threshold (flood publishing) or, with flood_publish off,
 * to the topic's mesh and explicit peers. MN_EINVAL if it does not decode or was seen. */
int mn_relay_publish(mn_relay *r, const uint8_t *data, size_t len, uint64_t ref,
                     uint64_t now_ms, mn_relay_actions *out, mn_err *err);
/* A control message from peer (undecodable bytes are a behaviour penalty). GRAFT joins our mesh
 * unless the peer is backing off (a penalty), scores below zero, or the mesh is full and it
 * dialled us; we answer a refusal with PRUNE. PRUNE removes it and starts the back-off; its PX
 * becomes PX actions if the peer's score allows. IHAVE of unseen ids becomes IWANT (bounded per
 * heartbeat, each a promise); IWANT is answered from the history. */
void mn_relay_on_ctrl(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                      uint64_t now_ms, mn_relay_actions *out);
/* The same for a decoded control message (the simulation skips the encoding). */
void mn_relay_on_ctrl_decoded(mn_relay *r, uint32_t peer, const mn_relay_ctrl *c,
                              uint64_t now_ms, mn_relay_actions *out);
/* Every mesh.heartbeat_ms: scores decay and are recomputed; peers below zero leave the mesh;
 * each topic's mesh is brought between d_lo and d_hi (keeping d_score best and d_out
 * outbound); IHAVE goes to d_lazy other peers; broken promises are penalised; the history
 * moves on a window (releasing what falls out). */
void mn_relay_heartbeat(mn_relay *r, uint64_t now_ms, mn_relay_actions *out);
/* (The heartbeat also runs health checks: pings every ping_interval_ms, DISCONNECT for peers
 * that fail them, and DIAL for explicit peers that are not connected, every
 * explicit_redial_ms.) */

/* Connection admission for an inbound session from addr, before its handshake: the group's
 * rate, the group's inbound cap and the inbound slots. true: accept (then call on_peer_up). */
bool mn_relay_conn_admit(mn_relay *r, const uint8_t addr[static 16], uint64_t now_ms);
/* The group key of an address: /24 for IPv4 (::ffff:a.b.c.d), /48 for IPv6. */
void mn_relay_addr_group(uint8_t prefix[static 16], const uint8_t addr[static 16]);

/* A peer's health figures, for the driver and operators: last ping round trip (0: none yet),
 * time since it last delivered something first, and its delivery ratio (first deliveries per
 * thousand messages it sent us, duplicates included; 1000 when it sent none). The drop rules
 * use the first two; the ratio is reported, not acted on (an honest mesh peer downstream of
 * us sends mostly duplicates). */
typedef struct mn_relay_health {
    uint32_t rtt_ms;
    uint64_t idle_ms;
    uint32_t delivery_permille;
    uint64_t messages; /* first deliveries + duplicates from it */
} mn_relay_health;
void mn_relay_peer_health(const mn_relay *r, uint32_t peer, uint64_t now_ms,
                          mn_relay_health *out);

/* The explicit peers change (the bonded validator set moved): nodes (count <= MN_VALIDATORS_MAX)
 * replaces cfg.explicit_nodes. Connected peers that become explicit leave every mesh (their
 * deficits become P3b, as on a PRUNE) and give back their inbound slot; peers that stop being
 * explicit become ordinary peers (and take one). */
void mn_relay_set_explicit(mn_relay *r, const uint8_t (*nodes)[MN_ED25519_PUBLICKEY_BYTES],
                           uint32_t count, uint64_t now_ms);

/* The answer to a MN_RELAY_ACT_PING: its round trip in milliseconds. */
void mn_relay_on_pong(mn_relay *r, uint32_t peer, uint32_t rtt_ms, uint64_t now_ms);

/* The score of peer now (thousandths of a point), and the application's part of it (P5). */
int64_t mn_relay_peer_score(mn_relay *r, uint32_t peer, uint64_t now_ms);
void mn_relay_set_app_score(mn_relay *r, uint32_t peer, int64_t app);

/* Prometheus text exposition of r's counters, appended to out. */
int mn_relay_metrics_write(const mn_relay *r, mn_buf *out, mn_err *err);

#endif
