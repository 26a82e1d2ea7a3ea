/* SPDX-License-Identifier: Apache-2.0
 *
 * sign.c: Ed25519 keys, domain-separated signatures and node ids on libsodium, and the
 * start-up self-test. Signing a tagged message streams tag || msg through libsodium's
 * Ed25519ph-free API by building the message in one buffer: Ed25519 needs the whole message
 * twice, so no streaming is possible without changing the scheme.
 */
#include "metanode/sign.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "metanode/hash.h"
#include "metanode/limits.h"
#include "metanode/tags.h"

MN_STATIC_ASSERT(MN_ED25519_PUBLICKEY_BYTES == crypto_sign_PUBLICKEYBYTES);
MN_STATIC_ASSERT(MN_ED25519_SECRETKEY_BYTES == crypto_sign_SECRETKEYBYTES);
MN_STATIC_ASSERT(MN_ED25519_SEED_BYTES == crypto_sign_SEEDBYTES);
MN_STATIC_ASSERT(MN_ED25519_SIG_BYTES == crypto_sign_BYTES);

/* B + (0, -1): a point outside the prime-order subgroup that libsodium before the
 * CVE-2025-69277 fix accepted as valid. (0, -1) has y = p - 1 and x = 0. */
static int library_accepts_cve_2025_69277_point(void)
{
    uint8_t base[32], torsion[32], sum[32];
    uint8_t one[32] = {1};
    if (crypto_scalarmult_ed25519_base_noclamp(base, one) != 0)
        return 1;
    memset(torsion, 0xff, sizeof(torsion));
    torsion[0] = 0xec;
    torsion[31] = 0x7f;
    if (crypto_core_ed25519_add(sum, base, torsion) != 0)
        return 1;
    return crypto_core_ed25519_is_valid_point(sum) != 0;
}

/* RFC 8032 TEST 1 (empty message): a known answer for keygen, sign and verify. */
static int known_answer_fails(void)
{
    static const char *seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    static const char *sig_hex = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                 "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    uint8_t seed[32], want[64], sig[64];
    if (sodium_hex2bin(seed, 32, seed_hex, 64, NULL, NULL, NULL) != 0 ||
        sodium_hex2bin(want, 64, sig_hex, 128, NULL, NULL, NULL) != 0)
        return 1;
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    crypto_sign_detached(sig, NULL, (const uint8_t *)"", 0, kp.sk);
    int bad = memcmp(sig, want, 64) != 0 ||
              crypto_sign_verify_detached(sig, (const uint8_t *)"", 0, kp.pk) != 0;
    sig[0] ^= 1;
    bad |= crypto_sign_verify_detached(sig, (const uint8_t *)"", 0, kp.pk) == 0;
    mn_keypair_wipe(&kp);
    return bad;
}

int mn_crypto_init(mn_err *err)
{
    static int state; /* 0 = not run, 1 = passed, -1 = failed */
    static mn_err first;
    if (state == 0) {
        state = -1;
        if (sodium_init() < 0)
            mn_err_set(&first, MN_ECRYPTO, 0, "libsodium failed to initialise");
        else if (library_accepts_cve_2025_69277_point())
            mn_err_set(&first, MN_ECRYPTO, 0,
                       "libsodium %s accepts points outside the prime-order subgroup "
                       "(CVE-2025-69277); install libsodium >= 1.0.18-1+deb12u1",
                       sodium_version_string());
        else if (known_answer_fails())
            mn_err_set(&first, MN_ECRYPTO, 0, "Ed25519 known-answer self-test failed");
        else
            state = 1;
    }
    if (state == 1)
        return 0;
    if (err != NULL)
        *err = first;
    return -(int)first.code;
}

void mn_keypair_from_seed(mn_keypair *kp, const uint8_t seed[static MN_ED25519_SEED_BYTES])
{
    MN_ASSERT(crypto_sign_seed_keypair(kp->pk, kp->sk, seed) == 0);
}

void mn_keypair_generate(mn_keypair *kp)
{
    uint8_t seed[MN_ED25519_SEED_BYTES];
    randombytes_buf(seed, sizeof(seed));
    mn_keypair_from_seed(kp, seed);
    sodium_memzero(seed, sizeof(seed));
}

void mn_keypair_wipe(mn_keypair *kp)
{
    sodium_memzero(kp->sk, sizeof(kp->sk));
}

/* tag || msg in one heap buffer (messages are bounded by MN_SIGNED_MSG_BYTES_MAX). */
static uint8_t *tagged_copy(uint8_t tag, const void *msg, size_t len)
{
    MN_ASSERT(len <= MN_SIGNED_MSG_BYTES_MAX);
    uint8_t *buf = malloc(len + 1);
    MN_ASSERT(buf != NULL);
    buf[0] = tag;
    if (len != 0)
        memcpy(buf + 1, msg, len);
    return buf;
}

void mn_sign(uint8_t sig[static MN_ED25519_SIG_BYTES], uint8_t tag, const void *msg, size_t len,
             const mn_keypair *kp)
{
    uint8_t *buf = tagged_copy(tag, msg, len);
    crypto_sign_detached(sig, NULL, buf, len + 1, kp->sk);
    free(buf);
}

int mn_verify(const uint8_t sig[static MN_ED25519_SIG_BYTES], uint8_t tag, const void *msg,
              size_t len, const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES])
{
    if (len > MN_SIGNED_MSG_BYTES_MAX)
        return -1;
    uint8_t *buf = tagged_copy(tag, msg, len);
    int rc = crypto_sign_verify_detached(sig, buf, len + 1, pk);
    free(buf);
    return rc == 0 ? 0 : -1;
}

void mn_ed25519_sign_raw(uint8_t sig[static MN_ED25519_SIG_BYTES], const void *msg, size_t len,
                         const mn_keypair *kp)
{
    crypto_sign_detached(sig, NULL, msg, len, kp->sk);
}

int mn_ed25519_verify_raw(const uint8_t sig[static MN_ED25519_SIG_BYTES], const void *msg,
                          size_t len, const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
}

void mn_node_id(uint8_t id[static MN_ID_BYTES], const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES])
{
    mn_sha256_tagged(id, MN_TAG_NODE_ID, pk, MN_ED25519_PUBLICKEY_BYTES);
}
