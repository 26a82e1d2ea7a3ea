/* SPDX-License-Identifier: Apache-2.0
 *
 * identity.c: a node's stable BPCI identity. The X25519 Noise static key is derived from the
 * node's Ed25519 seed, so the one key file (keyfile.h) the node already keeps determines both
 * keys, the static public key is the same after every restart and can be published (genesis,
 * chain) for IK dials, and there is no second secret file to lose, back up or keep in step:
 *
 *   x_priv = HMAC-SHA256(key = Ed25519 seed,
 *                        MN_TAG_NOISE_STATIC_KEY (0x25) || "metanode-bpci-noise-static-key/1")
 *
 * HMAC keyed by the uniformly random 32-byte seed is a PRF, so x_priv is independent of every
 * other use of the seed (the Ed25519 scalar is SHA-512(seed)); the tag and the versioned
 * context keep this derivation apart from any other. Unlike converting the Ed25519 key
 * (crypto_sign_ed25519_sk_to_curve25519), no scalar is shared between signing and DH. The cost
 * is that the static key cannot be rotated alone: rotating it means a new identity key.
 *
 * Not here: the binding signature and hello (hello.c), key storage (keyfile.c).
 */
#include <string.h>

#include <sodium.h>

#include "metanode/bpci.h"
#include "metanode/keyfile.h"
#include "metanode/tags.h"

#define CONTEXT "metanode-bpci-noise-static-key/1"
#define CONTEXT_BYTES (sizeof CONTEXT - 1)

void mn_bpci_noise_static_derive(uint8_t x_priv[static MN_NOISE_DH_BYTES],
                                 const uint8_t seed[static MN_ED25519_SEED_BYTES])
{
    uint8_t msg[1 + CONTEXT_BYTES];
    crypto_auth_hmacsha256_state st;
    msg[0] = MN_TAG_NOISE_STATIC_KEY;
    memcpy(msg + 1, CONTEXT, CONTEXT_BYTES);
    crypto_auth_hmacsha256_init(&st, seed, MN_ED25519_SEED_BYTES);
    crypto_auth_hmacsha256_update(&st, msg, sizeof msg);
    crypto_auth_hmacsha256_final(&st, x_priv);
    sodium_memzero(&st, sizeof st);
}

void mn_bpci_noise_static_public(uint8_t x_pub[static MN_NOISE_DH_BYTES],
                                 const uint8_t seed[static MN_ED25519_SEED_BYTES])
{
    uint8_t x_priv[MN_NOISE_DH_BYTES];
    mn_bpci_noise_static_derive(x_priv, seed);
    mn_noise_dh_public(x_pub, x_priv);
    sodium_memzero(x_priv, sizeof x_priv);
}

void mn_bpci_identity_from_keypair(mn_bpci_identity *ident, const mn_keypair *kp)
{
    uint8_t x_priv[MN_NOISE_DH_BYTES];
    mn_bpci_noise_static_derive(x_priv, kp->sk); /* libsodium's sk = seed || public key */
    mn_bpci_identity_init(ident, kp, x_priv);
    sodium_memzero(x_priv, sizeof x_priv);
}

int mn_bpci_identity_load(mn_bpci_identity *ident, const char *key_path, mn_err *err)
{
    mn_keyfile kf;
    int rc = mn_keyfile_read(key_path, MN_KEY_ED25519, &kf, err);
    if (rc != 0)
        return rc;
    mn_keypair kp;
    mn_keypair_from_seed(&kp, kf.seed);
    mn_bpci_identity_from_keypair(ident, &kp);
    mn_keypair_wipe(&kp);
    mn_keyfile_wipe(&kf);
    return 0;
}
