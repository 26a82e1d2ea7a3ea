/* SPDX-License-Identifier: Apache-2.0
 *
 * relay.h: the pure logic of the gossip relay. Gossip travels in signed envelopes (topic,
 * origin sequence number, signer, payload, signature) with one canonical CBOR encoding; a
 * message id is the tagged SHA-256 of the whole signed envelope, so every node computes the same
 * id for the same message. Like the consensus core, nothing here does I/O, reads a clock or
 * allocates after init: the caller passes the time (milliseconds of a monotonic clock) with each
 * event. Not here (yet): the per-topic mesh, IHAVE/IWANT, peer scores, the address book and the
 * wiring to BPCI sessions (docs/relay.md lists what remains).
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
 * in thousandths of a point. Score = sum over topics of (first_weight * min(first, cap) +
 * invalid_weight * invalid^2) + behaviour_weight * behaviour^2. A bad signature or encoding
 * counts at once (no heartbeat wait); counters decay geometrically per interval and drop to
 * zero below 0.01. Time in mesh, mesh delivery deficit, IP colocation and the application
 * term are not here yet. */
typedef struct mn_relay_score_params {
    int64_t first_weight;       /* thousandths of a point per first delivery, > 0 */
    uint32_t first_cap;         /* first deliveries counted at most, per topic */
    int64_t invalid_weight;     /* thousandths of a point per invalid^2, < 0 */
    int64_t behaviour_weight;   /* thousandths of a point per penalty^2, < 0 */
    uint32_t first_decay_permille;   /* kept per interval, < 1000 */
    uint32_t invalid_decay_permille; /* for invalid and behaviour counters, < 1000 */
    uint32_t decay_interval_ms;
    /* gossip < 0, publish <= gossip, graylist < publish (thousandths of a point) */
    int64_t gossip_threshold, publish_threshold, graylist_threshold;
} mn_relay_score_params;

typedef struct mn_relay_score {
    uint64_t first[MN_RELAY_TOPICS_COUNT];   /* thousandths */
    uint64_t invalid[MN_RELAY_TOPICS_COUNT]; /* thousandths */
    uint64_t behaviour;                      /* thousandths */
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
int64_t mn_relay_score_value(const mn_relay_score *s, const mn_relay_score_params *p);
mn_relay_standing mn_relay_score_standing(const mn_relay_score *s,
                                          const mn_relay_score_params *p);

/* ---- admission ----------------------------------------------------------------------- */

/* Rate limits: one (messages, bytes) pair per peer for everything it sends, checked before the
 * envelope is even decoded, and one pair per peer and topic. Every bytes burst must hold a
 * largest envelope (MN_BPCI_MSG_BYTES_MAX), or such a message could never pass. */
typedef struct mn_relay_config {
    mn_relay_rate peer_msgs, peer_bytes;
    mn_relay_rate topic_msgs[MN_RELAY_TOPICS_COUNT], topic_bytes[MN_RELAY_TOPICS_COUNT];
    uint32_t seen_capacity; /* power of two <= MN_RELAY_SEEN_MAX */
    uint8_t seen_key[MN_RELAY_SEEN_KEY_BYTES]; /* node-local secret */
    mn_relay_score_params score;
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
typedef struct mn_relay_peer {
    bool up;
    mn_relay_bucket msgs, bytes;
    mn_relay_bucket topic_msgs[MN_RELAY_TOPICS_COUNT], topic_bytes[MN_RELAY_TOPICS_COUNT];
    uint64_t verdicts[MN_RELAY_VERDICT_COUNT];
    mn_relay_score score;
} mn_relay_peer;

typedef struct mn_relay {
    mn_relay_config cfg;
    uint64_t now_ms;
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
/* A BPCI session to a peer came up in slot peer (< MN_RELAY_PEERS_MAX, not up): its buckets
 * start full and its counters at zero. */
void mn_relay_on_peer_up(mn_relay *r, uint32_t peer, uint64_t now_ms);
void mn_relay_on_peer_down(mn_relay *r, uint32_t peer, uint64_t now_ms);
/* A gossip message from peer (which is up). Admission in order: the peer's standing (a
 * graylisted peer is ignored outright), the peer's budget, decoding,
 * the peer-and-topic budget, the seen-cache, the signature; only a message that passes all of
 * them is marked seen. A duplicate is dropped before its signature is checked: its id covers
 * the signature, and only verified envelopes enter the cache. The verdict feeds the peer's
 * score at once: a first delivery raises it, a bad signature or encoding lowers it. Pure: no
 * I/O, no clock. */
void mn_relay_on_message(mn_relay *r, uint32_t peer, const uint8_t *data, size_t len,
                         uint64_t now_ms, mn_relay_admission *out);

#endif
