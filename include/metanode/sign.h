/* SPDX-License-Identifier: Apache-2.0
 *
 * sign.h: Ed25519 identities on libsodium. A node or party is an Ed25519 public key; its id is
 * SHA-256(MN_TAG_NODE_ID || public key). Every signature in Metanode is domain-separated: the
 * signed message is one tag byte (tags.h) followed by the canonical encoding of the object, so
 * a signature over one kind of object can never be replayed as another.
 *
 * Verification rule (consensus-critical): exactly libsodium 1.0.18's crypto_sign_verify_detached
 * (canonical S, no small-order A or R, R re-encoded), pinned by the CCTV edge-case test.
 * mn_crypto_init runs a self-test and refuses to run on a libsodium that accepts the
 * CVE-2025-69277 point, because nodes with mixed library versions could split consensus.
 *
 * Not here: key files (keyfile.h), VRF keys (vrf.h).
 */
#ifndef METANODE_SIGN_H
#define METANODE_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "metanode/assert.h"
#include "metanode/error.h"

#define MN_ED25519_PUBLICKEY_BYTES 32u
#define MN_ED25519_SECRETKEY_BYTES 64u /* seed || public key (libsodium layout) */
#define MN_ED25519_SEED_BYTES 32u
#define MN_ED25519_SIG_BYTES 64u
#define MN_ID_BYTES 32u

typedef struct mn_keypair {
    uint8_t pk[MN_ED25519_PUBLICKEY_BYTES];
    uint8_t sk[MN_ED25519_SECRETKEY_BYTES];
} mn_keypair;

/* Initialises libsodium and runs the start-up self-test (once per process; later calls return
 * the first result). MN_ECRYPTO if the library is unsafe for consensus. */
int mn_crypto_init(mn_err *err);

void mn_keypair_from_seed(mn_keypair *kp, const uint8_t seed[static MN_ED25519_SEED_BYTES]);
/* A new key from the kernel's random pool. */
void mn_keypair_generate(mn_keypair *kp);
/* Wipes the secret half (sodium_memzero). */
void mn_keypair_wipe(mn_keypair *kp);

/* Signs tag || msg. */
void mn_sign(uint8_t sig[static MN_ED25519_SIG_BYTES], uint8_t tag, const void *msg, size_t len,
             const mn_keypair *kp);
/* Verifies a signature over tag || msg: 0 valid, -1 invalid. */
MN_MUST_CHECK int mn_verify(const uint8_t sig[static MN_ED25519_SIG_BYTES], uint8_t tag,
                            const void *msg, size_t len,
                            const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES]);

/* Plain RFC 8032 Ed25519 over raw bytes, for vectors and external formats only. */
void mn_ed25519_sign_raw(uint8_t sig[static MN_ED25519_SIG_BYTES], const void *msg, size_t len,
                         const mn_keypair *kp);
MN_MUST_CHECK int mn_ed25519_verify_raw(const uint8_t sig[static MN_ED25519_SIG_BYTES],
                                        const void *msg, size_t len,
                                        const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES]);

/* id = SHA-256(MN_TAG_NODE_ID || pk). */
void mn_node_id(uint8_t id[static MN_ID_BYTES], const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES]);

#endif
