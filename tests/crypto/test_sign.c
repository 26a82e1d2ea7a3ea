/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of Ed25519 identities: RFC 8032 vectors, the CCTV edge cases that pin which signatures
 * every node accepts, domain separation, node ids and the start-up self-test.
 */
#include <stdlib.h>

#include <sodium.h>

#include "metanode/hash.h"
#include "metanode/sign.h"
#include "metanode/tags.h"
#include "mn_test.h"

static void self_test_passes_on_this_library(void)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    ASSERT_OK(mn_crypto_init(&err), &err); /* idempotent */
}

static void rfc8032_vectors(void)
{
    json_t *doc = mn_test_load_json(mn_test_shared_path("vectors/ed25519_rfc8032.json"));
    json_t *vectors = json_object_get(doc, "vectors");
    ASSERT_EQ(json_array_size(vectors), 5);
    size_t i;
    json_t *v;
    json_array_foreach(vectors, i, v) {
        uint8_t seed[32], pk[32], sig[64], got[64];
        size_t msg_len;
        mn_test_json_hex_n(v, "secret_key", seed, 32);
        mn_test_json_hex_n(v, "public_key", pk, 32);
        mn_test_json_hex_n(v, "signature", sig, 64);
        uint8_t *msg = mn_test_json_hex(v, "message", &msg_len);
        mn_keypair kp;
        mn_keypair_from_seed(&kp, seed);
        ASSERT_MEM_EQ(kp.pk, pk, 32);
        mn_ed25519_sign_raw(got, msg, msg_len, &kp);
        ASSERT_MEM_EQ(got, sig, 64);
        ASSERT_EQ(mn_ed25519_verify_raw(sig, msg, msg_len, pk), 0);
        if (msg_len > 0) {
            msg[0] ^= 1;
            ASSERT_EQ(mn_ed25519_verify_raw(sig, msg, msg_len, pk), -1);
        }
        sig[63] ^= 0x10;
        ASSERT_EQ(mn_ed25519_verify_raw(sig, msg, msg_len ? msg_len : 0, pk), -1);
        free(msg);
    }
    json_decref(doc);
}

/* Consensus rule: we accept exactly the 43 of 914 CCTV edge cases that libsodium 1.0.18
 * accepts. A library change that moves any of them fails here before it can split a chain. */
static void cctv_edge_cases_pinned(void)
{
    json_t *doc = mn_test_load_json(mn_test_shared_path("vectors/ed25519_cctv_libsodium.json"));
    json_t *vectors = json_object_get(doc, "vectors");
    ASSERT_EQ(json_array_size(vectors), 914);
    size_t i, accepted = 0;
    json_t *v;
    json_array_foreach(vectors, i, v) {
        uint8_t pk[32], sig[64];
        mn_test_json_hex_n(v, "key", pk, 32);
        mn_test_json_hex_n(v, "sig", sig, 64);
        const char *msg = json_string_value(json_object_get(v, "msg"));
        ASSERT_TRUE(msg != NULL);
        int want = json_is_true(json_object_get(v, "libsodium_1_0_18_accepts"));
        int got = mn_ed25519_verify_raw(sig, msg, strlen(msg), pk) == 0;
        if (got != want)
            mn_test_fail(__FILE__, __LINE__, "CCTV vector %zu: accepted=%d, pinned %d", i, got,
                         want);
        accepted += (size_t)got;
    }
    ASSERT_EQ(accepted, 43);
    json_decref(doc);
}

static void tagged_signatures_are_domain_separated(void)
{
    uint8_t seed[32] = {42}, sig[64];
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    const char msg[] = "height 7";
    mn_sign(sig, MN_TAG_VOTE, msg, sizeof(msg), &kp);
    ASSERT_EQ(mn_verify(sig, MN_TAG_VOTE, msg, sizeof(msg), kp.pk), 0);
    ASSERT_EQ(mn_verify(sig, MN_TAG_PROPOSAL, msg, sizeof(msg), kp.pk), -1);
    ASSERT_EQ(mn_ed25519_verify_raw(sig, msg, sizeof(msg), kp.pk), -1);
    /* The tagged signature is a plain signature over tag || msg. */
    uint8_t tagged[sizeof(msg) + 1];
    tagged[0] = MN_TAG_VOTE;
    memcpy(tagged + 1, msg, sizeof(msg));
    ASSERT_EQ(mn_ed25519_verify_raw(sig, tagged, sizeof(tagged), kp.pk), 0);
    mn_keypair other;
    mn_keypair_generate(&other);
    ASSERT_EQ(mn_verify(sig, MN_TAG_VOTE, msg, sizeof(msg), other.pk), -1);
    mn_keypair_wipe(&kp);
    for (int i = 0; i < 64; i++)
        ASSERT_EQ(kp.sk[i], 0);
}

static void node_id_is_tagged_hash_of_key(void)
{
    uint8_t seed[32] = {1}, id[32], want[32], buf[33];
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    mn_node_id(id, kp.pk);
    buf[0] = MN_TAG_NODE_ID;
    memcpy(buf + 1, kp.pk, 32);
    crypto_hash_sha256(want, buf, sizeof(buf));
    ASSERT_MEM_EQ(id, want, 32);
}

MN_TEST_MAIN("crypto.sign", MN_TEST(self_test_passes_on_this_library), MN_TEST(rfc8032_vectors),
             MN_TEST(cctv_edge_cases_pinned), MN_TEST(tagged_signatures_are_domain_separated),
             MN_TEST(node_id_is_tagged_hash_of_key))
