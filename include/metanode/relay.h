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

#endif
