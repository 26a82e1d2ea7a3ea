/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the Noise Protocol Framework: every vector of the three independent vector files
 * (cacophony, snow, noise-c) for NN, XX, IK and XK with BLAKE2b and SHA256 is replayed through
 * an initiator and a responder (every handshake and transport ciphertext, every payload, and
 * the handshake hash where the file has one), then the failure paths: tampered messages,
 * low-order keys, out-of-turn use, nonce exhaustion, rekey.
 */
#include <stdlib.h>

#include <sodium.h>

#include "metanode/noise.h"
#include "mn_test.h"

typedef struct side {
    mn_noise_handshake hs;
    mn_noise_cipher send, recv;
} side;

static uint8_t *opt_hex(json_t *v, const char *key, uint8_t out[32])
{
    if (!json_object_get(v, key))
        return NULL;
    mn_test_json_hex_n(v, key, out, 32);
    return out;
}

static void init_side(side *s, json_t *v, bool initiator, mn_noise_pattern p, mn_noise_hash h)
{
    const char *pre = initiator ? "init_" : "resp_";
    char key[64];
    uint8_t sbuf[32], rsbuf[32], ebuf[32];
    size_t prologue_len;
    snprintf(key, sizeof key, "%sprologue", pre);
    uint8_t *prologue = mn_test_json_hex(v, key, &prologue_len);
    snprintf(key, sizeof key, "%sstatic", pre);
    const uint8_t *sk = opt_hex(v, key, sbuf);
    snprintf(key, sizeof key, "%sremote_static", pre);
    const uint8_t *rs = opt_hex(v, key, rsbuf);
    mn_err err;
    ASSERT_OK(mn_noise_handshake_init(&s->hs, p, h, initiator, prologue, prologue_len, sk, rs,
                                      &err),
              &err);
    snprintf(key, sizeof key, "%sephemeral", pre);
    mn_test_json_hex_n(v, key, ebuf, 32);
    mn_noise_handshake_set_ephemeral(&s->hs, ebuf);
    free(prologue);
}

/* One message from w to r: checks the ciphertext and the payload that r recovers. */
static void step(side *w, side *r, json_t *m)
{
    size_t pt_len, ct_len, got_len, back_len;
    uint8_t *pt = mn_test_json_hex(m, "payload", &pt_len);
    uint8_t *ct = mn_test_json_hex(m, "ciphertext", &ct_len);
    uint8_t out[MN_NOISE_MSG_BYTES_MAX], back[MN_NOISE_MSG_BYTES_MAX];
    mn_err err;
    if (!mn_noise_handshake_done(&w->hs)) {
        ASSERT_TRUE(mn_noise_handshake_my_turn(&w->hs));
        ASSERT_OK(mn_noise_handshake_write(&w->hs, pt, pt_len, out, sizeof out, &got_len, &err),
                  &err);
        ASSERT_EQ(got_len, ct_len);
        ASSERT_MEM_EQ(out, ct, ct_len);
        ASSERT_OK(mn_noise_handshake_read(&r->hs, ct, ct_len, back, sizeof back, &back_len, &err),
                  &err);
        if (mn_noise_handshake_done(&w->hs)) {
            ASSERT_TRUE(mn_noise_handshake_done(&r->hs));
            mn_noise_handshake_split(&w->hs, &w->send, &w->recv);
            mn_noise_handshake_split(&r->hs, &r->send, &r->recv);
        }
    } else {
        ASSERT_OK(mn_noise_cipher_encrypt(&w->send, NULL, 0, pt, pt_len, out, &err), &err);
        ASSERT_EQ(pt_len + MN_NOISE_TAG_BYTES, ct_len);
        ASSERT_MEM_EQ(out, ct, ct_len);
        ASSERT_OK(mn_noise_cipher_decrypt(&r->recv, NULL, 0, ct, ct_len, back, &err), &err);
        back_len = ct_len - MN_NOISE_TAG_BYTES;
    }
    ASSERT_EQ(back_len, pt_len);
    if (pt_len)
        ASSERT_MEM_EQ(back, pt, pt_len);
    free(pt);
    free(ct);
}

static void replay_vector(json_t *v, unsigned *seen)
{
    json_t *name = json_object_get(v, "protocol_name");
    if (!name)
        name = json_object_get(v, "name");
    ASSERT_TRUE(json_is_string(name));
    mn_noise_pattern p;
    mn_noise_hash h;
    mn_err err;
    ASSERT_OK(mn_noise_protocol_parse(json_string_value(name), &p, &h, &err), &err);
    seen[p * 2 + h]++;
    side init, resp;
    init_side(&init, v, true, p, h);
    init_side(&resp, v, false, p, h);
    json_t *msgs = json_object_get(v, "messages");
    ASSERT_TRUE(json_array_size(msgs) >= 4);
    for (size_t i = 0; i < json_array_size(msgs); i++) {
        json_t *m = json_array_get(msgs, i);
        if (i % 2 == 0)
            step(&init, &resp, m);
        else
            step(&resp, &init, m);
    }
    ASSERT_TRUE(mn_noise_handshake_done(&init.hs));
    size_t hl, hl2;
    const uint8_t *hi = mn_noise_handshake_hash(&init.hs, &hl);
    const uint8_t *hr = mn_noise_handshake_hash(&resp.hs, &hl2);
    ASSERT_EQ(hl, h == MN_NOISE_BLAKE2B ? 64 : 32);
    ASSERT_EQ(hl, hl2);
    ASSERT_MEM_EQ(hi, hr, hl);
    if (json_object_get(v, "handshake_hash")) {
        uint8_t want[64];
        mn_test_json_hex_n(v, "handshake_hash", want, hl);
        ASSERT_MEM_EQ(hi, want, hl);
    }
    mn_noise_handshake_wipe(&init.hs);
    mn_noise_handshake_wipe(&resp.hs);
}

/* Every file must cover all 8 protocols, so a truncated file cannot pass silently. */
static void replay_file(const char *rel)
{
    json_t *doc = mn_test_load_json(mn_test_shared_path(rel));
    json_t *vectors = json_object_get(doc, "vectors");
    ASSERT_EQ(json_array_size(vectors), 8);
    unsigned seen[8] = {0};
    for (size_t i = 0; i < json_array_size(vectors); i++)
        replay_vector(json_array_get(vectors, i), seen);
    for (unsigned i = 0; i < 8; i++)
        ASSERT_EQ(seen[i], 1);
    json_decref(doc);
}

static void vectors_cacophony(void)
{
    replay_file("vectors/noise_cacophony.json");
}

static void vectors_snow(void)
{
    replay_file("vectors/noise_snow.json");
}

static void vectors_noisec(void)
{
    replay_file("vectors/noise_noisec.json");
}

/* A fresh XX pair with random keys, run to completion. */
static void xx_pair(side *a, side *b, mn_noise_hash h)
{
    uint8_t sa[32], sb[32], msg[256], pl[256];
    size_t n, pn;
    mn_err err;
    randombytes_buf(sa, 32);
    randombytes_buf(sb, 32);
    ASSERT_OK(mn_noise_handshake_init(&a->hs, MN_NOISE_XX, h, true, NULL, 0, sa, NULL, &err),
              &err);
    ASSERT_OK(mn_noise_handshake_init(&b->hs, MN_NOISE_XX, h, false, NULL, 0, sb, NULL, &err),
              &err);
    side *w = a, *r = b;
    while (!mn_noise_handshake_done(&a->hs)) {
        ASSERT_OK(mn_noise_handshake_write(&w->hs, NULL, 0, msg, sizeof msg, &n, &err), &err);
        ASSERT_OK(mn_noise_handshake_read(&r->hs, msg, n, pl, sizeof pl, &pn, &err), &err);
        ASSERT_EQ(pn, 0);
        side *t = w;
        w = r, r = t;
    }
    ASSERT_TRUE(mn_noise_handshake_done(&b->hs));
    uint8_t pub[32];
    mn_noise_dh_public(pub, sb);
    ASSERT_MEM_EQ(mn_noise_handshake_remote_static(&a->hs), pub, 32);
    mn_noise_handshake_split(&a->hs, &a->send, &a->recv);
    mn_noise_handshake_split(&b->hs, &b->send, &b->recv);
}

static void every_handshake_bit_flip_is_refused(void)
{
    /* Flip each bit position class of message 2 of XX: the responder's e (changes the DH),
     * the encrypted s, and the payload tag. Each must fail at the initiator. */
    const size_t offsets[] = {0, 31, 32, 40, 63, 64, 79, 80, 95};
    for (size_t o = 0; o < MN_ARRAY_LEN(offsets); o++) {
        side a, b;
        uint8_t sa[32], sb[32], msg[256], pl[256];
        size_t n, pn;
        mn_err err;
        randombytes_buf(sa, 32);
        randombytes_buf(sb, 32);
        ASSERT_OK(mn_noise_handshake_init(&a.hs, MN_NOISE_XX, MN_NOISE_BLAKE2B, true, NULL, 0,
                                          sa, NULL, &err), &err);
        ASSERT_OK(mn_noise_handshake_init(&b.hs, MN_NOISE_XX, MN_NOISE_BLAKE2B, false, NULL, 0,
                                          sb, NULL, &err), &err);
        ASSERT_OK(mn_noise_handshake_write(&a.hs, NULL, 0, msg, sizeof msg, &n, &err), &err);
        ASSERT_OK(mn_noise_handshake_read(&b.hs, msg, n, pl, sizeof pl, &pn, &err), &err);
        ASSERT_OK(mn_noise_handshake_write(&b.hs, NULL, 0, msg, sizeof msg, &n, &err), &err);
        ASSERT_EQ(n, 32 + 48 + 16);
        msg[offsets[o]] ^= 0x01;
        int rc = mn_noise_handshake_read(&a.hs, msg, n, pl, sizeof pl, &pn, &err);
        ASSERT_TRUE(rc == -MN_ECRYPTO);
        /* The failure poisons the state: even the untampered message is now refused. */
        msg[offsets[o]] ^= 0x01;
        ASSERT_EQ(mn_noise_handshake_read(&a.hs, msg, n, pl, sizeof pl, &pn, &err), -MN_ESTATE);
        ASSERT_EQ(mn_noise_handshake_write(&a.hs, NULL, 0, msg, sizeof msg, &n, &err),
                  -MN_ESTATE);
    }
}

static void truncated_and_oversize_messages_are_refused(void)
{
    side a, b;
    uint8_t sa[32], sb[32], msg[256], pl[8];
    size_t n, pn;
    mn_err err;
    randombytes_buf(sa, 32);
    randombytes_buf(sb, 32);
    ASSERT_OK(mn_noise_handshake_init(&a.hs, MN_NOISE_XX, MN_NOISE_SHA256, true, NULL, 0, sa,
                                      NULL, &err), &err);
    ASSERT_OK(mn_noise_handshake_write(&a.hs, NULL, 0, msg, sizeof msg, &n, &err), &err);
    ASSERT_EQ(n, 32);
    for (size_t len = 0; len < 32; len++) {
        ASSERT_OK(mn_noise_handshake_init(&b.hs, MN_NOISE_XX, MN_NOISE_SHA256, false, NULL, 0,
                                          sb, NULL, &err), &err);
        ASSERT_EQ(mn_noise_handshake_read(&b.hs, msg, len, pl, sizeof pl, &pn, &err),
                  -MN_ECORRUPT);
    }
    /* A payload larger than the caller's buffer is refused, not overflowed. */
    uint8_t big[64] = {0};
    ASSERT_OK(mn_noise_handshake_init(&a.hs, MN_NOISE_XX, MN_NOISE_SHA256, true, NULL, 0, sa,
                                      NULL, &err), &err);
    ASSERT_OK(mn_noise_handshake_write(&a.hs, big, sizeof big, msg, sizeof msg, &n, &err), &err);
    ASSERT_OK(mn_noise_handshake_init(&b.hs, MN_NOISE_XX, MN_NOISE_SHA256, false, NULL, 0, sb,
                                      NULL, &err), &err);
    ASSERT_EQ(mn_noise_handshake_read(&b.hs, msg, n, pl, sizeof pl, &pn, &err), -MN_ELIMIT);
    /* Writing beyond the output buffer is refused too. */
    ASSERT_OK(mn_noise_handshake_init(&a.hs, MN_NOISE_XX, MN_NOISE_SHA256, true, NULL, 0, sa,
                                      NULL, &err), &err);
    ASSERT_EQ(mn_noise_handshake_write(&a.hs, big, sizeof big, msg, 40, &n, &err), -MN_ELIMIT);
}

static void low_order_ephemeral_is_refused(void)
{
    /* The all-zero point and the point of order 8 given as the initiator's ephemeral: the
     * responder's ee DH must fail instead of mixing a predictable secret. */
    static const uint8_t low[2][32] = {
        {0},
        {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
         0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
         0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    };
    for (int i = 0; i < 2; i++) {
        mn_noise_handshake b;
        uint8_t msg[256], pl[8];
        size_t n, pn;
        mn_err err;
        ASSERT_OK(mn_noise_handshake_init(&b, MN_NOISE_NN, MN_NOISE_BLAKE2B, false, NULL, 0,
                                          NULL, NULL, &err), &err);
        ASSERT_OK(mn_noise_handshake_read(&b, low[i], 32, pl, sizeof pl, &pn, &err), &err);
        ASSERT_EQ(mn_noise_handshake_write(&b, NULL, 0, msg, sizeof msg, &n, &err), -MN_ECRYPTO);
    }
}

static void wrong_keys_and_turns(void)
{
    mn_noise_handshake hs;
    uint8_t k[32] = {1}, msg[128], pl[8];
    size_t n, pn;
    mn_err err;
    ASSERT_EQ(mn_noise_handshake_init(&hs, MN_NOISE_IK, MN_NOISE_SHA256, true, NULL, 0, k, NULL,
                                      &err), -MN_EINVAL);
    ASSERT_EQ(mn_noise_handshake_init(&hs, MN_NOISE_XX, MN_NOISE_SHA256, true, NULL, 0, NULL,
                                      NULL, &err), -MN_EINVAL);
    ASSERT_EQ(mn_noise_handshake_init(&hs, MN_NOISE_NN, MN_NOISE_SHA256, false, NULL, 0, k,
                                      NULL, &err), -MN_EINVAL);
    ASSERT_OK(mn_noise_handshake_init(&hs, MN_NOISE_NN, MN_NOISE_SHA256, false, NULL, 0, NULL,
                                      NULL, &err), &err);
    ASSERT_EQ(mn_noise_handshake_write(&hs, NULL, 0, msg, sizeof msg, &n, &err), -MN_ESTATE);
    ASSERT_OK(mn_noise_handshake_init(&hs, MN_NOISE_NN, MN_NOISE_SHA256, true, NULL, 0, NULL,
                                      NULL, &err), &err);
    ASSERT_EQ(mn_noise_handshake_read(&hs, msg, 32, pl, sizeof pl, &pn, &err), -MN_ESTATE);
    ASSERT_EQ(mn_noise_protocol_parse("Noise_XX_25519_AESGCM_SHA256", &(mn_noise_pattern){0},
                                      &(mn_noise_hash){0}, &err), -MN_EUNSUPPORTED);
}

static void transport_replay_tamper_and_rekey(void)
{
    side a, b;
    xx_pair(&a, &b, MN_NOISE_BLAKE2B);
    uint8_t pt[100], ct[116], back[100], ct2[116];
    mn_err err;
    randombytes_buf(pt, sizeof pt);
    ASSERT_OK(mn_noise_cipher_encrypt(&a.send, NULL, 0, pt, sizeof pt, ct, &err), &err);
    ASSERT_OK(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct, sizeof ct, back, &err), &err);
    ASSERT_MEM_EQ(back, pt, sizeof pt);
    /* Replay: the receiver's nonce moved on, so the same ciphertext no longer verifies, and a
     * failed decryption leaves the nonce where it was. */
    ASSERT_EQ(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct, sizeof ct, back, &err), -MN_ECRYPTO);
    ASSERT_U64_EQ(b.recv.n, 1);
    ASSERT_OK(mn_noise_cipher_encrypt(&a.send, NULL, 0, pt, sizeof pt, ct2, &err), &err);
    ct2[50] ^= 0x80;
    ASSERT_EQ(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct2, sizeof ct2, back, &err),
              -MN_ECRYPTO);
    ct2[50] ^= 0x80;
    ASSERT_OK(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct2, sizeof ct2, back, &err), &err);
    ASSERT_EQ(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct2, 15, back, &err), -MN_ECORRUPT);
    /* Rekey on one side only breaks the channel; on both it continues, with a new key. */
    uint8_t old[32];
    memcpy(old, a.send.k, 32);
    mn_noise_cipher_rekey(&a.send);
    ASSERT_TRUE(memcmp(old, a.send.k, 32) != 0);
    ASSERT_U64_EQ(a.send.n, 2);
    ASSERT_OK(mn_noise_cipher_encrypt(&a.send, NULL, 0, pt, sizeof pt, ct, &err), &err);
    ASSERT_EQ(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct, sizeof ct, back, &err), -MN_ECRYPTO);
    mn_noise_cipher_rekey(&b.recv);
    ASSERT_OK(mn_noise_cipher_decrypt(&b.recv, NULL, 0, ct, sizeof ct, back, &err), &err);
    ASSERT_MEM_EQ(back, pt, sizeof pt);
    /* The nonce 2^64-1 is reserved. */
    a.send.n = UINT64_MAX;
    ASSERT_EQ(mn_noise_cipher_encrypt(&a.send, NULL, 0, pt, sizeof pt, ct, &err), -MN_ELIMIT);
    mn_noise_cipher_wipe(&a.send);
    ASSERT_FALSE(a.send.has_key);
}

/* The gathered encryption (header || body, used for every BPCI record) is byte for byte the
 * AEAD of the concatenation, for lengths around the 64-byte block and 16-byte MAC boundaries,
 * every head length, and a maximal record; the nonce advances the same way. */
static void encrypt_parts_equals_encrypt(void)
{
    static uint8_t pt[65536], want[65536 + 16], got[65536 + 16];
    const size_t lens[] = {0, 1, 15, 16, 17, 59, 60, 61, 63, 64, 65, 127, 128, 129, 1000,
                           65515};
    mn_noise_cipher x, y;
    uint8_t k[32];
    mn_err err;
    randombytes_buf(k, sizeof k);
    randombytes_buf(pt, sizeof pt);
    mn_noise_cipher_init(&x, k);
    mn_noise_cipher_init(&y, k);
    x.n = y.n = 41;
    for (size_t head = 0; head <= 8; head += 4)
        for (size_t i = 0; i < MN_ARRAY_LEN(lens); i++) {
            const size_t n = head + lens[i];
            ASSERT_OK(mn_noise_cipher_encrypt(&x, NULL, 0, pt, n, want, &err), &err);
            ASSERT_OK(mn_noise_cipher_encrypt_parts(&y, pt, head, lens[i] ? pt + head : NULL,
                                                    lens[i], got, &err), &err);
            ASSERT_MEM_EQ(got, want, n + 16);
            ASSERT_U64_EQ(x.n, y.n);
        }
    y.n = UINT64_MAX;
    ASSERT_EQ(mn_noise_cipher_encrypt_parts(&y, pt, 4, pt, 4, got, &err), -MN_ELIMIT);
    mn_noise_cipher_wipe(&x);
    mn_noise_cipher_wipe(&y);
}

/* The payload key of message 1 of XX is not yet set: the payload travels in clear (the reason
 * BPCI sends its identity only from message 2 on). */
static void xx_first_payload_is_cleartext(void)
{
    mn_noise_handshake hs;
    uint8_t s[32] = {7}, msg[128];
    size_t n;
    mn_err err;
    ASSERT_OK(mn_noise_handshake_init(&hs, MN_NOISE_XX, MN_NOISE_BLAKE2B, true, NULL, 0, s,
                                      NULL, &err), &err);
    ASSERT_OK(mn_noise_handshake_write(&hs, (const uint8_t *)"hello", 5, msg, sizeof msg, &n,
                                       &err), &err);
    ASSERT_EQ(n, 37);
    ASSERT_MEM_EQ(msg + 32, "hello", 5);
}

MN_TEST_MAIN("net.noise", MN_TEST(vectors_cacophony), MN_TEST(vectors_snow),
             MN_TEST(vectors_noisec), MN_TEST(every_handshake_bit_flip_is_refused),
             MN_TEST(truncated_and_oversize_messages_are_refused),
             MN_TEST(low_order_ephemeral_is_refused), MN_TEST(wrong_keys_and_turns),
             MN_TEST(transport_replay_tamper_and_rekey), MN_TEST(xx_first_payload_is_cleartext),
             MN_TEST(encrypt_parts_equals_encrypt))
