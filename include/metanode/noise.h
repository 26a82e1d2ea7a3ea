/* SPDX-License-Identifier: Apache-2.0
 *
 * noise.h: the Noise Protocol Framework (revision 34) on libsodium 1.0.18, for the protocols
 * Noise_{NN,XX,IK,XK}_25519_ChaChaPoly_{BLAKE2b,SHA256}: CipherState, SymmetricState and
 * HandshakeState exactly as the specification names them, checked against three independent
 * sets of test vectors (cacophony, snow, noise-c). DH is X25519 (crypto_scalarmult, which
 * refuses low-order points: the handshake then fails), the cipher is ChaCha20-Poly1305 IETF with
 * the nonce 4 zero bytes || 64-bit little-endian counter, and HMAC/HKDF are written here per
 * the specification because libsodium 1.0.18 has no HKDF (HMAC-BLAKE2b over unkeyed BLAKE2b-512
 * with a 128-byte block).
 *
 * Deliberately not here: PSK modes, fallback patterns, other DH functions or ciphers, any
 * framing or identity (bpci.h does that on top), any I/O. All state is caller-owned and every
 * secret in it is wiped by the matching _wipe call.
 */
#ifndef METANODE_NOISE_H
#define METANODE_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/assert.h"
#include "metanode/error.h"

#define MN_NOISE_DH_BYTES 32u
#define MN_NOISE_KEY_BYTES 32u
#define MN_NOISE_TAG_BYTES 16u
#define MN_NOISE_HASH_BYTES_MAX 64u
/* The specification's cap on any Noise message, handshake or transport, in bytes. */
#define MN_NOISE_MSG_BYTES_MAX 65535u
/* Most tokens in one message of the supported patterns (XX message 2: e, ee, s, es). */
#define MN_NOISE_TOKENS_MAX 4u
#define MN_NOISE_MESSAGES_MAX 3u

typedef enum mn_noise_hash {
    MN_NOISE_BLAKE2B = 0,
    MN_NOISE_SHA256 = 1,
} mn_noise_hash;

typedef enum mn_noise_pattern {
    MN_NOISE_NN = 0,
    MN_NOISE_XX = 1,
    MN_NOISE_IK = 2,
    MN_NOISE_XK = 3,
} mn_noise_pattern;

/* CipherState: a key (when has_key) and the 64-bit nonce n. n = 2^64-1 is reserved. */
typedef struct mn_noise_cipher {
    uint8_t k[MN_NOISE_KEY_BYTES];
    uint64_t n;
    bool has_key;
} mn_noise_cipher;

typedef struct mn_noise_symmetric {
    mn_noise_hash hash;
    size_t hash_len; /* HASHLEN: 64 for BLAKE2b, 32 for SHA256 */
    uint8_t ck[MN_NOISE_HASH_BYTES_MAX];
    uint8_t h[MN_NOISE_HASH_BYTES_MAX];
    mn_noise_cipher cs;
} mn_noise_symmetric;

typedef struct mn_noise_handshake {
    mn_noise_symmetric ss;
    mn_noise_pattern pattern;
    bool initiator;
    bool has_s, has_e, has_rs, has_re;
    bool fixed_e; /* tests: the ephemeral was set by mn_noise_handshake_set_ephemeral */
    bool failed;  /* any error poisons the state: no further message may be processed */
    uint8_t s_priv[MN_NOISE_DH_BYTES], s_pub[MN_NOISE_DH_BYTES];
    uint8_t e_priv[MN_NOISE_DH_BYTES], e_pub[MN_NOISE_DH_BYTES];
    uint8_t rs[MN_NOISE_DH_BYTES], re[MN_NOISE_DH_BYTES];
    unsigned msg_index; /* messages processed so far */
} mn_noise_handshake;

/* ---- CipherState -------------------------------------------------------------------------- */

/* InitializeKey(k): sets the key, n = 0. */
void mn_noise_cipher_init(mn_noise_cipher *cs, const uint8_t k[static MN_NOISE_KEY_BYTES]);
/* EncryptWithAd: out receives len + MN_NOISE_TAG_BYTES bytes (len bytes when the state has no
 * key); out may equal pt. MN_ELIMIT when the nonce is exhausted. */
int mn_noise_cipher_encrypt(mn_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *pt, size_t len, uint8_t *out, mn_err *err);
/* EncryptWithAd with empty ad over the plaintext head || body (gathered, not copied: body is
 * read once and written encrypted straight to out): out receives head_len + body_len +
 * MN_NOISE_TAG_BYTES bytes, identical to mn_noise_cipher_encrypt of the concatenation. Requires
 * a key and head_len <= 64; out must not overlap head or body. MN_ELIMIT when the nonce is
 * exhausted. */
int mn_noise_cipher_encrypt_parts(mn_noise_cipher *cs, const uint8_t *head, size_t head_len,
                                  const uint8_t *body, size_t body_len, uint8_t *out,
                                  mn_err *err);
/* DecryptWithAd: out receives len - MN_NOISE_TAG_BYTES bytes; MN_ECRYPTO when the tag does not
 * verify (n is then left unchanged, per the specification), MN_ECORRUPT when len is shorter
 * than a tag. out may equal ct. */
int mn_noise_cipher_decrypt(mn_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *ct, size_t len, uint8_t *out, mn_err *err);
/* Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, empty ad, 32 zero bytes); n unchanged. */
void mn_noise_cipher_rekey(mn_noise_cipher *cs);
void mn_noise_cipher_wipe(mn_noise_cipher *cs);

/* ---- HandshakeState ----------------------------------------------------------------------- */

/* The protocol name, e.g. "Noise_XX_25519_ChaChaPoly_BLAKE2b" (static storage). */
const char *mn_noise_protocol_name(mn_noise_pattern pattern, mn_noise_hash hash);
/* Parses a protocol name of the supported set; MN_EUNSUPPORTED otherwise. */
int mn_noise_protocol_parse(const char *name, mn_noise_pattern *pattern, mn_noise_hash *hash,
                            mn_err *err);

/* Initialize(): s_priv is the local static private key (required when the pattern sends or
 * pre-shares the local static, else NULL), rs the remote static public key (required for the
 * initiator of IK and XK, else NULL). The prologue is copied into the hash. MN_EINVAL when a
 * required key is missing or an unexpected one is given. */
int mn_noise_handshake_init(mn_noise_handshake *hs, mn_noise_pattern pattern, mn_noise_hash hash,
                            bool initiator, const uint8_t *prologue, size_t prologue_len,
                            const uint8_t *s_priv, const uint8_t *rs, mn_err *err);
/* For test vectors only: uses this ephemeral private key instead of a fresh random one. Must be
 * called before the first message that sends `e`. */
void mn_noise_handshake_set_ephemeral(mn_noise_handshake *hs,
                                      const uint8_t e_priv[static MN_NOISE_DH_BYTES]);
/* True when it is the local side's turn to write. */
bool mn_noise_handshake_my_turn(const mn_noise_handshake *hs);
/* True when every message of the pattern has been processed (then call _split). */
bool mn_noise_handshake_done(const mn_noise_handshake *hs);

/* WriteMessage: writes the next message (tokens, then the encrypted payload) into out, which
 * has out_cap bytes; *out_len is its length. MN_ESTATE out of turn or after a failure,
 * MN_ELIMIT when the message would exceed out_cap or MN_NOISE_MSG_BYTES_MAX, MN_ECRYPTO when a
 * DH gives a low-order result. */
int mn_noise_handshake_write(mn_noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                             uint8_t *out, size_t out_cap, size_t *out_len, mn_err *err);
/* ReadMessage: parses and authenticates the next message; the decrypted payload (at most
 * msg_len bytes) goes to payload, which has payload_cap bytes. MN_ECORRUPT for a message of the
 * wrong length, MN_ECRYPTO when authentication or a DH fails. Any failure poisons hs. */
int mn_noise_handshake_read(mn_noise_handshake *hs, const uint8_t *msg, size_t msg_len,
                            uint8_t *payload, size_t payload_cap, size_t *payload_len,
                            mn_err *err);
/* Split(): after the last message, the two transport CipherStates for this side (send uses
 * the first key for the initiator, the second for the responder). */
void mn_noise_handshake_split(mn_noise_handshake *hs, mn_noise_cipher *send,
                              mn_noise_cipher *recv);
/* The handshake hash h (hash_len bytes), valid after the last message. */
const uint8_t *mn_noise_handshake_hash(const mn_noise_handshake *hs, size_t *len);
/* The remote static public key, once received or pre-shared (NULL before). */
const uint8_t *mn_noise_handshake_remote_static(const mn_noise_handshake *hs);
void mn_noise_handshake_wipe(mn_noise_handshake *hs);

/* X25519 public key of a private key (crypto_scalarmult_base). */
void mn_noise_dh_public(uint8_t pub[static MN_NOISE_DH_BYTES],
                        const uint8_t priv[static MN_NOISE_DH_BYTES]);

#endif
