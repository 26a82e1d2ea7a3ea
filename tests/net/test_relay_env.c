/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the gossip envelope: sign, encode, decode and verify round trip; the id is stable
 * and differs for any change; every field the signature covers is covered; the strict decoder
 * refuses unknown topics, missing, extra and reordered fields, wrong sizes, trailing bytes and
 * non-canonical integers; truncations of a valid envelope never decode.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/relay.h"
#include "mn_test.h"

static mn_keypair key(uint8_t b)
{
    uint8_t seed[MN_ED25519_SEED_BYTES];
    memset(seed, b, sizeof seed);
    mn_keypair kp;
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    mn_keypair_from_seed(&kp, seed);
    return kp;
}

static const uint8_t payload[] = "block 42";

static mn_relay_env signed_env(void)
{
    mn_relay_env env = {.topic = MN_RELAY_TOPIC_BLOCKS, .seq = 7, .payload = payload,
                        .payload_len = sizeof payload - 1};
    mn_keypair kp = key(1);
    mn_err err;
    ASSERT_OK(mn_relay_env_sign(&env, &kp, &err), &err);
    return env;
}

static void encode(const mn_relay_env *env, mn_buf *b)
{
    mn_err err;
    mn_buf_init(b, 0);
    ASSERT_OK(mn_relay_env_encode(env, b, &err), &err);
}

static void test_round_trip(void)
{
    mn_err err;
    mn_relay_env env = signed_env(), got;
    mn_buf b;
    encode(&env, &b);
    ASSERT_OK(mn_relay_env_decode(b.data, b.len, &got, &err), &err);
    ASSERT_EQ(got.topic, MN_RELAY_TOPIC_BLOCKS);
    ASSERT_U64_EQ(got.seq, 7);
    ASSERT_EQ(got.payload_len, sizeof payload - 1);
    ASSERT_MEM_EQ(got.payload, payload, got.payload_len);
    ASSERT_TRUE(got.payload >= b.data && got.payload < b.data + b.len); /* borrowed, not copied */
    ASSERT_MEM_EQ(got.signer, env.signer, sizeof env.signer);
    ASSERT_MEM_EQ(got.sig, env.sig, sizeof env.sig);
    ASSERT_OK(mn_relay_env_verify(&got, &err), &err);
    mn_buf again;
    encode(&got, &again);
    ASSERT_EQ(again.len, b.len);
    ASSERT_MEM_EQ(again.data, b.data, b.len);
    mn_buf_deinit(&again);
    mn_buf_deinit(&b);
}

static void test_empty_payload(void)
{
    mn_err err;
    mn_relay_env env = {.topic = MN_RELAY_TOPIC_RECEIPTS}, got;
    mn_keypair kp = key(2);
    ASSERT_OK(mn_relay_env_sign(&env, &kp, &err), &err);
    mn_buf b;
    encode(&env, &b);
    ASSERT_OK(mn_relay_env_decode(b.data, b.len, &got, &err), &err);
    ASSERT_EQ(got.payload_len, 0);
    ASSERT_OK(mn_relay_env_verify(&got, &err), &err);
    mn_buf_deinit(&b);
}

/* Every signed field is covered: changing any of them breaks the signature. */
static void test_signature_covers_fields(void)
{
    mn_err err;
    mn_relay_env env = signed_env(), t;
    static const uint8_t other[] = "block 43";
    t = env, t.topic = MN_RELAY_TOPIC_TRANSACTIONS;
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    t = env, t.seq = 8;
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    t = env, t.payload = other;
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    t = env, t.payload_len--;
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    t = env, t.signer[0] ^= 1;
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    t = env, t.sig[63] ^= 0x80;
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    mn_keypair kp2 = key(3);
    t = env, memcpy(t.signer, kp2.pk, sizeof t.signer); /* claims another signer */
    ASSERT_EQ(mn_relay_env_verify(&t, &err), -MN_ECRYPTO);
    ASSERT_OK(mn_relay_env_verify(&env, &err), &err);
}

/* The id covers the whole signed envelope and is a tagged hash (not a plain SHA-256). */
static void test_msg_id(void)
{
    mn_relay_env env = signed_env();
    mn_buf a, b;
    encode(&env, &a);
    uint8_t id1[MN_RELAY_ID_BYTES], id2[MN_RELAY_ID_BYTES], plain[MN_SHA256_BYTES];
    mn_relay_msg_id(id1, a.data, a.len);
    mn_relay_msg_id(id2, a.data, a.len);
    ASSERT_MEM_EQ(id1, id2, sizeof id1);
    mn_sha256(plain, a.data, a.len);
    ASSERT_TRUE(memcmp(id1, plain, sizeof id1) != 0);
    env.seq++;
    encode(&env, &b);
    mn_relay_msg_id(id2, b.data, b.len);
    ASSERT_TRUE(memcmp(id1, id2, sizeof id1) != 0);
    mn_buf_deinit(&a);
    mn_buf_deinit(&b);
}

static int decode_hex_like(const uint8_t *data, size_t len)
{
    mn_relay_env env;
    mn_err err;
    return mn_relay_env_decode(data, len, &env, &err);
}

/* Builds an envelope map with custom fields to probe the decoder. */
static int probe(uint64_t nfields, const int64_t *keys, uint64_t topic, size_t signer_bytes,
                 size_t sig_bytes)
{
    uint8_t zero[80] = {0};
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_map(&e, nfields);
    for (uint64_t i = 0; i < nfields; i++) {
        mn_cbor_put_key(&e, keys[i]);
        switch (keys[i]) {
        case 1: mn_cbor_put_uint(&e, topic); break;
        case 2: mn_cbor_put_uint(&e, 1); break;
        case 3: mn_cbor_put_bytes(&e, zero, signer_bytes); break;
        case 4: mn_cbor_put_bytes(&e, zero, 3); break;
        case 5: mn_cbor_put_bytes(&e, zero, sig_bytes); break;
        default: mn_cbor_put_uint(&e, 0); break;
        }
    }
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    int rc = decode_hex_like(b.data, b.len);
    mn_buf_deinit(&b);
    return rc;
}

static void test_decoder_strict(void)
{
    static const int64_t all[] = {1, 2, 3, 4, 5}, six[] = {1, 2, 3, 4, 5, 6};
    static const int64_t missing[] = {1, 2, 3, 5}, other[] = {1, 2, 3, 4, 6};
    ASSERT_EQ(probe(5, all, 1, 32, 64), 0);
    ASSERT_EQ(probe(5, all, 0, 32, 64), -MN_ECORRUPT); /* unknown topics */
    ASSERT_EQ(probe(5, all, MN_RELAY_TOPIC_LAST + 1, 32, 64), -MN_ECORRUPT);
    ASSERT_EQ(probe(5, all, 1ull << 32, 32, 64), -MN_ECORRUPT);
    ASSERT_EQ(probe(5, all, 1, 31, 64), -MN_ECORRUPT);
    ASSERT_EQ(probe(5, all, 1, 33, 64), -MN_ECORRUPT);
    ASSERT_EQ(probe(5, all, 1, 32, 63), -MN_ECORRUPT);
    ASSERT_EQ(probe(5, all, 1, 32, 65), -MN_ECORRUPT);
    ASSERT_EQ(probe(4, missing, 1, 32, 64), -MN_ECORRUPT);
    ASSERT_EQ(probe(6, six, 1, 32, 64), -MN_ECORRUPT);
    ASSERT_EQ(probe(5, other, 1, 32, 64), -MN_ECORRUPT);
}

static void test_decoder_bytes(void)
{
    mn_relay_env env = signed_env();
    mn_buf b;
    encode(&env, &b);
    for (size_t n = 0; n < b.len; n++) /* every truncation */
        ASSERT_TRUE(decode_hex_like(b.data, n) < 0);
    uint8_t *longer = malloc(b.len + 1);
    ASSERT_TRUE(longer != NULL);
    memcpy(longer, b.data, b.len);
    longer[b.len] = 0x00; /* trailing byte */
    ASSERT_EQ(decode_hex_like(longer, b.len + 1), -MN_ECORRUPT);
    free(longer);
    /* Non-canonical seq: 7 written as a one-byte-argument integer (0x18 0x07). */
    uint8_t *nc = malloc(b.len + 1);
    ASSERT_TRUE(nc != NULL);
    ASSERT_EQ(b.data[3], 0x02); /* a5 01 01 02 07 ...: key 2 then value 7 */
    ASSERT_EQ(b.data[4], 0x07);
    memcpy(nc, b.data, 4);
    nc[4] = 0x18, nc[5] = 0x07;
    memcpy(nc + 6, b.data + 5, b.len - 5);
    ASSERT_EQ(decode_hex_like(nc, b.len + 1), -MN_ECORRUPT);
    free(nc);
    mn_buf_deinit(&b);
}

static void test_encode_refuses(void)
{
    mn_err err;
    mn_relay_env env = {.topic = 99};
    mn_keypair kp = key(4);
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_EQ(mn_relay_env_sign(&env, &kp, &err), -MN_EINVAL);
    ASSERT_EQ(mn_relay_env_encode(&env, &b, &err), -MN_EINVAL);
    env.topic = MN_RELAY_TOPIC_BLOCKS;
    env.payload = payload, env.payload_len = MN_RELAY_PAYLOAD_BYTES_MAX + 1;
    ASSERT_EQ(mn_relay_env_encode(&env, &b, &err), -MN_EINVAL);
    ASSERT_EQ(b.len, 0);
    mn_buf_deinit(&b);
}

MN_TEST_MAIN("net.relay_env", MN_TEST(test_round_trip), MN_TEST(test_empty_payload),
             MN_TEST(test_signature_covers_fields), MN_TEST(test_msg_id),
             MN_TEST(test_decoder_strict), MN_TEST(test_decoder_bytes),
             MN_TEST(test_encode_refuses))
