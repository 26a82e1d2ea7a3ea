/* SPDX-License-Identifier: Apache-2.0
 *
 * bpci.h: BPCI, the node-to-node transport protocol, as pure code (no sockets): a session is
 * fed the bytes that arrived and appends the bytes to send to its output buffer, so it can be
 * driven by the libuv runtime, by a test that pipes two sessions together, or by a fuzzer. The
 * wire format is specified in docs/bpci.md; in short:
 *
 *  - the initiator opens with a 4-byte preamble "MNB" || pattern (1 = XX, 2 = IK), which is
 *    also part of the Noise prologue, so it cannot be altered without failing the handshake;
 *  - Noise_XX_25519_ChaChaPoly_BLAKE2b (unknown peer) or Noise_IK_... (the dialer knows the
 *    peer's X25519 static key), each message as u16 big-endian length || message;
 *  - each side's handshake payload binds its X25519 static key to its Ed25519 identity: a
 *    canonical CBOR map {1: version, 2: Ed25519 public key, 3: signature over
 *    MN_TAG_IDENTITY_BINDING || "bpci-noise-static-key:" || X25519 public key}; the peer id is
 *    mn_node_id(Ed25519 key), and a dialer that expects a peer id refuses any other;
 *  - then records: u16 big-endian length || ChaChaPoly ciphertext (nonce = the implicit
 *    per-direction counter) of a frame: version 1, flags (bit 0: more fragments follow),
 *    service id (u16 big-endian), payload. Messages up to MN_BPCI_MSG_BYTES_MAX are split into
 *    frames and reassembled; service 0 carries control messages (ping, pong, close, and the
 *    IK dialer's CONFIRM, before which an IK listener does not report the session). Both
 *    directions rekey (Noise Rekey) after every MN_BPCI_REKEY_MESSAGES frames.
 *
 * Any failure (bad length, failed authentication, bad frame, refused service, protocol
 * violation) closes the session for good: the caller must drop the connection. The session
 * never asserts on received bytes.
 *
 * Not here: sockets, timers, redial, per-IP caps (transport_uv.c); peer discovery and gossip
 * (relay).
 */
#ifndef METANODE_BPCI_H
#define METANODE_BPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"
#include "metanode/noise.h"
#include "metanode/sign.h"

#define MN_BPCI_VERSION 1u
#define MN_BPCI_PREAMBLE_BYTES 4u
#define MN_BPCI_LEN_BYTES 2u          /* the record length prefix */
#define MN_BPCI_FRAME_HEADER_BYTES 4u /* version, flags, service (u16 big-endian) */
/* Largest frame payload: one Noise message minus the tag and the frame header. */
#define MN_BPCI_FRAME_PAYLOAD_MAX                                                              \
    (MN_NOISE_MSG_BYTES_MAX - MN_NOISE_TAG_BYTES - MN_BPCI_FRAME_HEADER_BYTES)
#define MN_BPCI_FLAG_MORE 0x01u
#define MN_BPCI_SERVICE_CONTROL 0u

/* Control messages (service 0): first payload byte. */
enum mn_bpci_control {
    MN_BPCI_CTL_PING = 1,  /* + 8 opaque bytes, answered by a PONG with the same bytes */
    MN_BPCI_CTL_PONG = 2,  /* + 8 bytes */
    MN_BPCI_CTL_CLOSE = 3, /* + 1 reason byte; the sender closes after it */
    MN_BPCI_CTL_CONFIRM = 4, /* alone: the IK dialer's first record, proving it is live */
};

/* A node's transport identity: its Ed25519 identity key and a separate X25519 Noise static
 * key, with the binding signature computed once. */
typedef struct mn_bpci_identity {
    mn_keypair ed;
    uint8_t x_priv[MN_NOISE_DH_BYTES];
    uint8_t x_pub[MN_NOISE_DH_BYTES];
    uint8_t binding_sig[MN_ED25519_SIG_BYTES];
    uint8_t id[MN_ID_BYTES];
} mn_bpci_identity;

/* x_priv NULL generates a fresh X25519 key (tests, throw-away identities; a node uses
 * mn_bpci_identity_from_keypair so that its static key is stable). Copies kp. */
void mn_bpci_identity_init(mn_bpci_identity *ident, const mn_keypair *kp,
                           const uint8_t *x_priv);
void mn_bpci_identity_wipe(mn_bpci_identity *ident);

/* The stable Noise static key (identity.c, docs/bpci.md §3.2): x_priv = HMAC-SHA256(key =
 * Ed25519 seed, MN_TAG_NOISE_STATIC_KEY || "metanode-bpci-noise-static-key/1"). The same seed
 * always gives the same key, so the public half can be published for IK dials. */
void mn_bpci_noise_static_derive(uint8_t x_priv[static MN_NOISE_DH_BYTES],
                                 const uint8_t seed[static MN_ED25519_SEED_BYTES]);
/* Its public half (what genesis or the chain publishes, and `metanode key show` prints). */
void mn_bpci_noise_static_public(uint8_t x_pub[static MN_NOISE_DH_BYTES],
                                 const uint8_t seed[static MN_ED25519_SEED_BYTES]);
/* The node's identity: kp with the static key derived from its seed. Copies kp. */
void mn_bpci_identity_from_keypair(mn_bpci_identity *ident, const mn_keypair *kp);
/* The same from the node's Ed25519 key file (keyfile.h rules: 0600, owner, type ed25519). */
int mn_bpci_identity_load(mn_bpci_identity *ident, const char *key_path, mn_err *err);

/* The identity payload (decoded): what a peer claims and its binding signature. */
typedef struct mn_bpci_hello {
    uint8_t ed_pk[MN_ED25519_PUBLICKEY_BYTES];
    uint8_t sig[MN_ED25519_SIG_BYTES];
} mn_bpci_hello;

/* Encodes the local identity payload (canonical CBOR) into out (cleared first). */
int mn_bpci_hello_encode(const mn_bpci_identity *ident, mn_buf *out, mn_err *err);
/* Strict decoder: MN_ECORRUPT for anything but the one canonical encoding of version 1. */
int mn_bpci_hello_decode(const uint8_t *data, size_t len, mn_bpci_hello *hello, mn_err *err);
/* Checks the binding signature over x_pub: 0, or MN_ECRYPTO. */
int mn_bpci_hello_verify(const mn_bpci_hello *hello, const uint8_t x_pub[static 32],
                         mn_err *err);

/* ---- frames -------------------------------------------------------------------------------- */

typedef struct mn_bpci_frame {
    uint8_t flags;
    uint16_t service;
    const uint8_t *payload; /* points into the decoded bytes */
    size_t payload_len;
} mn_bpci_frame;

/* Decodes a decrypted frame: MN_ECORRUPT for a wrong version, unknown flag bits, a fragmented
 * control message or a short frame. */
int mn_bpci_frame_decode(const uint8_t *data, size_t len, mn_bpci_frame *frame, mn_err *err);
/* Writes the 4-byte header. */
void mn_bpci_frame_header(uint8_t out[static MN_BPCI_FRAME_HEADER_BYTES], uint8_t flags,
                          uint16_t service);

/* Reassembly of one message from consecutive fragments of one service. buf holds a 4-byte
 * header slot, then the message so far, so that the next frame can be decrypted straight into
 * place (its header lands on the slot or on the last 4 message bytes, which are saved and put
 * back): a fragmented message costs no copy beyond decryption. */
typedef struct mn_bpci_reasm {
    mn_buf buf;
    uint16_t service;
    bool active;
    uint8_t *slot; /* the open slot of mn_bpci_reasm_slot, or NULL */
    uint8_t saved[MN_BPCI_FRAME_HEADER_BYTES];
} mn_bpci_reasm;

void mn_bpci_reasm_init(mn_bpci_reasm *r);
void mn_bpci_reasm_deinit(mn_bpci_reasm *r);
/* Adds a frame. When it completes a message, *done is true and (*data, *len) is the whole
 * message (valid until the next push). A frame of another service while a message is open is
 * MN_ECORRUPT; a message beyond MN_BPCI_MSG_BYTES_MAX is MN_ELIMIT. */
int mn_bpci_reasm_push(mn_bpci_reasm *r, const mn_bpci_frame *f, bool *done,
                       const uint8_t **data, size_t *len, mn_err *err);
/* Zero-copy reassembly: the place to decrypt a frame of frame_len bytes (header included) so
 * that its payload follows the message so far. Then exactly one of _commit (a decoded frame
 * that is not control, with the same results as _push) or _release (control frames, or any
 * failure) must follow before the next call. MN_ELIMIT when no such place can exist. */
int mn_bpci_reasm_slot(mn_bpci_reasm *r, size_t frame_len, uint8_t **dst, mn_err *err);
int mn_bpci_reasm_commit(mn_bpci_reasm *r, const mn_bpci_frame *f, bool *done,
                         const uint8_t **data, size_t *len, mn_err *err);
void mn_bpci_reasm_release(mn_bpci_reasm *r);

/* ---- service key registry ------------------------------------------------------------------ */

/* Which peers may speak for which services. A service is either open (any authenticated peer)
 * or restricted to a list of peer ids; an unregistered service is refused. Fixed capacity. */
typedef struct mn_bpci_registry {
    struct {
        uint16_t service;
        bool open;
    } services[MN_BPCI_SERVICES_MAX];
    uint32_t services_count;
    struct {
        uint16_t service;
        uint8_t peer[MN_ID_BYTES];
    } keys[MN_BPCI_SERVICE_KEYS_MAX];
    uint32_t keys_count;
} mn_bpci_registry;

void mn_bpci_registry_init(mn_bpci_registry *reg);
/* Registers a service as open to every authenticated peer (or restricted, open = false).
 * MN_EEXIST if registered, MN_ELIMIT when full, MN_EINVAL for the control service. */
int mn_bpci_registry_add(mn_bpci_registry *reg, uint16_t service, bool open, mn_err *err);
/* Allows peer to speak for a registered restricted service. */
int mn_bpci_registry_allow(mn_bpci_registry *reg, uint16_t service,
                           const uint8_t peer[static MN_ID_BYTES], mn_err *err);
/* 0 if peer may send on service, else MN_EPERM (unregistered, or not allowed). */
int mn_bpci_registry_check(const mn_bpci_registry *reg, uint16_t service,
                           const uint8_t peer[static MN_ID_BYTES], mn_err *err);

/* ---- IK replay cache (replay.c) ------------------------------------------------------------ */

/* The ephemerals of recent authenticated IK first messages, so a replayed copy is refused
 * before any DH. Fixed size (MN_BPCI_REPLAY_ENTRIES per generation, two generations). */
typedef struct mn_bpci_replay_cache {
    uint8_t key[16]; /* SipHash key, random per cache */
    uint64_t *gen[2];
    uint32_t count; /* entries in gen[0] */
} mn_bpci_replay_cache;

int mn_bpci_replay_init(mn_bpci_replay_cache *rc, mn_err *err);
void mn_bpci_replay_deinit(mn_bpci_replay_cache *rc);
bool mn_bpci_replay_seen(const mn_bpci_replay_cache *rc, const uint8_t e[static 32]);
void mn_bpci_replay_add(mn_bpci_replay_cache *rc, const uint8_t e[static 32]);

/* ---- session ------------------------------------------------------------------------------- */

typedef struct mn_bpci_callbacks {
    void *ctx;
    /* The handshake completed; peer_id is the authenticated peer. An IK listener reports it
     * only at the dialer's first authenticated record (a replayed first message never gets
     * there), though it may send from the end of the handshake on. */
    void (*on_established)(void *ctx, const uint8_t peer_id[MN_ID_BYTES]);
    /* A whole message for a service the registry allows; data is valid during the call. */
    void (*on_message)(void *ctx, uint16_t service, const uint8_t *data, size_t len);
    /* A PONG answering one of our pings, with its 8 bytes. */
    void (*on_pong)(void *ctx, const uint8_t token[8]);
    /* The peer said CLOSE with a reason byte. The session is closed afterwards. */
    void (*on_close)(void *ctx, uint8_t reason);
} mn_bpci_callbacks;

typedef struct mn_bpci_config {
    const mn_bpci_identity *self;        /* borrowed for the session's lifetime */
    const mn_bpci_registry *registry;    /* borrowed; NULL refuses every non-control message */
    bool initiator;
    mn_noise_pattern pattern;            /* initiator: MN_NOISE_XX or MN_NOISE_IK */
    const uint8_t *expected_peer_id;     /* initiator: MN_ID_BYTES, or NULL for any peer */
    const uint8_t *remote_static;        /* IK initiator: the peer's X25519 static key */
    uint64_t rekey_after;                /* 0: MN_BPCI_REKEY_MESSAGES (tests shrink it) */
    const uint8_t *test_ephemeral;       /* tests and fuzzing only: fixed Noise ephemeral */
    mn_bpci_replay_cache *replay;        /* responder: borrowed, or NULL (no replay cache) */
} mn_bpci_config;

typedef enum mn_bpci_state {
    MN_BPCI_PREAMBLE = 0, /* responder: waiting for the 4-byte preamble */
    MN_BPCI_HANDSHAKE,
    MN_BPCI_ESTABLISHED,
    MN_BPCI_CLOSED,
} mn_bpci_state;

typedef struct mn_bpci_session {
    mn_bpci_config cfg;
    mn_bpci_callbacks cb;
    mn_bpci_state state;
    mn_noise_handshake hs;
    mn_noise_cipher tx, rx;
    uint8_t peer_id[MN_ID_BYTES];
    mn_bpci_reasm reasm;
    uint64_t frames_sent, frames_received, rekeys;
    bool confirmed; /* the peer proved it is live (always, except an IK listener's first wait) */
    mn_buf out;       /* bytes to send; the caller drains it (data, len) and clears len */
    size_t in_len;    /* bytes buffered in in[] */
    uint8_t in[MN_BPCI_LEN_BYTES + MN_NOISE_MSG_BYTES_MAX];
} mn_bpci_session;

/* Sets up a session; an initiator appends its preamble and first handshake message to out.
 * MN_EINVAL for an inconsistent config. */
int mn_bpci_session_init(mn_bpci_session *s, const mn_bpci_config *cfg,
                         const mn_bpci_callbacks *cb, mn_err *err);
void mn_bpci_session_deinit(mn_bpci_session *s);
/* Processes received bytes (any split), calling the callbacks and appending replies to out.
 * Any error closes the session (state MN_BPCI_CLOSED) and later calls return MN_ESTATE. */
int mn_bpci_session_recv(mn_bpci_session *s, const uint8_t *data, size_t len, mn_err *err);
/* Zero-copy receive for a runtime: when a record is partly buffered, the place where the rest
 * of it (*cap bytes, no more) may be read directly, else NULL (read anywhere and call _recv).
 * After reading n <= *cap bytes there, call _recv_commit, which behaves as _recv. */
uint8_t *mn_bpci_session_recv_space(mn_bpci_session *s, size_t *cap);
int mn_bpci_session_recv_commit(mn_bpci_session *s, size_t n, mn_err *err);
/* Encrypts a message for a service into out, split into frames as needed. MN_ESTATE before
 * the handshake completes or after close, MN_ELIMIT above MN_BPCI_MSG_BYTES_MAX. */
int mn_bpci_session_send(mn_bpci_session *s, uint16_t service, const uint8_t *data, size_t len,
                         mn_err *err);
int mn_bpci_session_ping(mn_bpci_session *s, const uint8_t token[static 8], mn_err *err);
/* Sends CLOSE (when established) and closes the session. */
void mn_bpci_session_close(mn_bpci_session *s, uint8_t reason);

#endif
