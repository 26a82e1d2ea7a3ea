/* SPDX-License-Identifier: Apache-2.0 — tests of the RFC 9381 ECVRF (TAI and ELL2): every
 * intermediate value of the RFC examples, the negative and draft-03 vectors, tampered proofs and
 * keys that the consensus rule rejects (and the mixed-order key it accepts), and cross-checks of
 * the field and group code against libsodium on seeded random inputs. */
#include <pthread.h>
#include <stdlib.h>

#include <sodium.h>

#include "../../src/crypto/fe25519.h"
#include "../../src/crypto/ge25519.h"
#include "../../src/crypto/vrf_internal.h"
#include "metanode/bytes.h"
#include "metanode/clock.h"
#include "metanode/vrf.h"
#include "mn_test.h"

static const char *suite_keys[2] = {"ECVRF-EDWARDS25519-SHA512-TAI",
                                    "ECVRF-EDWARDS25519-SHA512-ELL2"};
static const enum mn_vrf_suite suites[2] = {MN_VRF_SUITE_TAI, MN_VRF_SUITE_ELL2};

static json_t *vectors(void)
{
    return mn_test_load_json(mn_test_shared_path("vectors/ecvrf_rfc9381.json"));
}

static json_t *examples(json_t *root, int which)
{
    json_t *ex = json_object_get(json_object_get(root, suite_keys[which]), "examples");
    ASSERT_TRUE(json_is_array(ex));
    ASSERT_EQ(json_array_size(ex), 3);
    return ex;
}

typedef struct example {
    uint8_t sk[64], pk[32], pi[80], beta[64];
    uint8_t *alpha;
    size_t alpha_len;
} example;

static void example_load(example *e, json_t *v)
{
    uint8_t seed[32];
    mn_test_json_hex_n(v, "SK", seed, 32);
    mn_test_json_hex_n(v, "PK", e->pk, 32);
    memcpy(e->sk, seed, 32);
    memcpy(e->sk + 32, e->pk, 32);
    mn_test_json_hex_n(v, "pi", e->pi, 80);
    mn_test_json_hex_n(v, "beta", e->beta, 64);
    e->alpha = mn_test_json_hex(v, "alpha", &e->alpha_len);
}

static void check_h2c_trace(json_t *v, enum mn_vrf_suite suite, const mn__vrf_h2c_trace *t)
{
    if (suite == MN_VRF_SUITE_TAI) {
        ASSERT_EQ(t->tai_ctr, json_integer_value(json_object_get(v, "tai_ctr")));
        return;
    }
    uint8_t ub[48], u[32], gx1[32];
    mn_test_json_hex_n(v, "ell2_uniform_bytes", ub, 48);
    mn_test_json_hex_n(v, "ell2_u", u, 32);
    mn_test_json_hex_n(v, "ell2_gx1", gx1, 32);
    ASSERT_MEM_EQ(t->uniform_bytes, ub, 48);
    ASSERT_MEM_EQ(t->u, u, 32);
    ASSERT_MEM_EQ(t->gx1, gx1, 32);
    ASSERT_EQ(t->gx1_is_square, json_is_true(json_object_get(v, "ell2_gx1_is_square")));
}

static void check_example(json_t *v, enum mn_vrf_suite suite)
{
    example e;
    example_load(&e, v);
    uint8_t want[80], got[80], pk[32], sk[64], k_string[64], uv[2][32], beta[64];
    ASSERT_EQ(mn_vrf_keypair_from_seed(pk, sk, e.sk), 0);
    ASSERT_MEM_EQ(pk, e.pk, 32);
    ASSERT_MEM_EQ(sk, e.sk, 64);
    mn__vrf_secret_scalar(got, e.sk);
    mn_test_json_hex_n(v, "x", want, 32);
    ASSERT_MEM_EQ(got, want, 32);

    mn__vrf_h2c_trace trace;
    uint8_t h[32];
    ASSERT_EQ(mn__vrf_encode_to_curve(h, e.pk, e.alpha, e.alpha_len, suite, &trace), 0);
    check_h2c_trace(v, suite, &trace);
    mn_test_json_hex_n(v, "H", want, 32);
    ASSERT_MEM_EQ(h, want, 32);

    mn__vrf_nonce(got, k_string, e.sk, h);
    mn_test_json_hex_n(v, "k", want, 32);
    ASSERT_MEM_EQ(got, want, 32);
    mn_test_json_hex_n(v, "k_string", want, 64);
    ASSERT_MEM_EQ(k_string, want, 64);

    ASSERT_EQ(mn_vrf_prove(got, e.sk, e.alpha, e.alpha_len, suite), 0);
    ASSERT_MEM_EQ(got, e.pi, 80);
    ASSERT_EQ(mn__vrf_verify_ex(beta, uv, e.pk, e.pi, e.alpha, e.alpha_len, suite), 0);
    ASSERT_MEM_EQ(beta, e.beta, 64);
    mn_test_json_hex_n(v, "U", want, 32);
    ASSERT_MEM_EQ(uv[0], want, 32);
    mn_test_json_hex_n(v, "V", want, 32);
    ASSERT_MEM_EQ(uv[1], want, 32);
    memset(beta, 0, 64);
    ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, e.alpha, e.alpha_len, suite), 0);
    ASSERT_MEM_EQ(beta, e.beta, 64);
    memset(beta, 0, 64);
    ASSERT_EQ(mn_vrf_proof_to_hash(beta, e.pi, suite), 0);
    ASSERT_MEM_EQ(beta, e.beta, 64);
    /* The challenge from the printed pieces matches the printed c. */
    mn__vrf_challenge(got, suite, e.pk, h, e.pi, uv[0], uv[1]);
    ASSERT_MEM_EQ(got, e.pi + 32, 16);
    free(e.alpha);
}

static void rfc_examples_tai(void)
{
    json_t *root = vectors();
    json_t *ex = examples(root, 0);
    for (size_t i = 0; i < 3; i++)
        check_example(json_array_get(ex, i), MN_VRF_SUITE_TAI);
    json_decref(root);
}

static void rfc_examples_ell2(void)
{
    json_t *root = vectors();
    json_t *ex = examples(root, 1);
    for (size_t i = 0; i < 3; i++)
        check_example(json_array_get(ex, i), MN_VRF_SUITE_ELL2);
    json_decref(root);
}

static void negative_and_legacy_rejected(void)
{
    json_t *root = vectors();
    json_t *neg = json_array_get(json_object_get(root, "negative"), 0);
    ASSERT_STR_EQ(json_string_value(json_object_get(neg, "expected")), "INVALID");
    uint8_t pk[32], pi[80], beta[64];
    mn_test_json_hex_n(neg, "PK", pk, 32);
    mn_test_json_hex_n(neg, "pi", pi, 80);
    size_t alpha_len;
    uint8_t *alpha = mn_test_json_hex(neg, "alpha", &alpha_len);
    ASSERT_EQ(mn_vrf_verify(beta, pk, pi, alpha, alpha_len, MN_VRF_SUITE_TAI), -1);
    free(alpha);
    json_t *legacy = json_object_get(json_object_get(root, "legacy_draft03"), "examples");
    ASSERT_EQ(json_array_size(legacy), 3);
    for (size_t i = 0; i < 3; i++) {
        example e;
        example_load(&e, json_array_get(legacy, i));
        for (int s = 0; s < 2; s++)
            ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, e.alpha, e.alpha_len, suites[s]), -1);
        free(e.alpha);
    }
    json_decref(root);
}

/* Every single-bit flip of pi is rejected, for one example of each suite. */
static void bit_flips_rejected(void)
{
    json_t *root = vectors();
    for (int s = 0; s < 2; s++) {
        example e;
        example_load(&e, json_array_get(examples(root, s), 1));
        uint8_t beta[64];
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, e.alpha, e.alpha_len, suites[s]), 0);
        for (int bit = 0; bit < 80 * 8; bit++) {
            uint8_t pi[80];
            memcpy(pi, e.pi, 80);
            pi[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (mn_vrf_verify(beta, e.pk, pi, e.alpha, e.alpha_len, suites[s]) != -1)
                mn_test_fail(__FILE__, __LINE__, "suite %d: flip of bit %d accepted", s, bit);
        }
        free(e.alpha);
    }
    json_decref(root);
}

/* 256-bit little-endian a += b. */
static void add256(uint8_t a[32], const uint8_t b[32])
{
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        carry += (unsigned)a[i] + b[i];
        a[i] = (uint8_t)carry;
        carry >>= 8;
    }
}

static const uint8_t order_l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                    0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                    [31] = 0x10};

static const char *small_order_hex[8] = {
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
};

static void hex32(uint8_t out[32], const char *hex)
{
    mn_err err;
    ASSERT_OK(mn_hex_decode(out, 32, hex, &err), &err);
}

static void tampered_proofs_rejected(void)
{
    json_t *root = vectors();
    for (int s = 0; s < 2; s++) {
        example e, other;
        example_load(&e, json_array_get(examples(root, s), 0));
        example_load(&other, json_array_get(examples(root, s), 1));
        uint8_t pi[80], beta[64], alpha[MN_VRF_ALPHA_BYTES_MAX + 1] = {0};
        const enum mn_vrf_suite suite = suites[s];
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, e.alpha, e.alpha_len, suite), 0);
        memcpy(pi, e.pi, 80); /* s + L: same value mod L, non-canonical encoding */
        add256(pi + 48, order_l);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, pi, e.alpha, e.alpha_len, suite), -1);
        ASSERT_EQ(mn_vrf_proof_to_hash(beta, pi, suite), -1);
        memcpy(pi, e.pi, 80); /* s = L */
        memcpy(pi + 48, order_l, 32);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, pi, e.alpha, e.alpha_len, suite), -1);
        memcpy(pi, e.pi, 80);
        pi[32] ^= 0x01;
        pi[47] ^= 0x80;
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, pi, e.alpha, e.alpha_len, suite), -1);
        memcpy(pi, e.pi, 80); /* Gamma = non-canonical identity (y = p + 1) */
        hex32(pi, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, pi, e.alpha, e.alpha_len, suite), -1);
        ASSERT_EQ(mn_vrf_proof_to_hash(beta, pi, suite), -1);
        ASSERT_EQ(mn_vrf_verify(beta, other.pk, e.pi, e.alpha, e.alpha_len, suite), -1);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, other.alpha, other.alpha_len, suite), -1);
        if (e.alpha_len != 0)
            memcpy(alpha, e.alpha, e.alpha_len);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, alpha, e.alpha_len + 1, suite), -1);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, e.alpha, e.alpha_len, suites[1 - s]), -1);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, e.alpha, e.alpha_len, (enum mn_vrf_suite)5),
                  -1);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, e.pi, alpha, sizeof(alpha), suite), -1);
        ASSERT_EQ(mn_vrf_prove(pi, e.sk, alpha, sizeof(alpha), suite), -1);
        ASSERT_EQ(mn_vrf_prove(pi, e.sk, alpha, MN_VRF_ALPHA_BYTES_MAX, suite), 0);
        ASSERT_EQ(mn_vrf_verify(beta, e.pk, pi, alpha, MN_VRF_ALPHA_BYTES_MAX, suite), 0);
        free(e.alpha);
        free(other.alpha);
    }
    json_decref(root);
}

static void bad_keys_rejected(void)
{
    json_t *root = vectors();
    example e;
    example_load(&e, json_array_get(examples(root, 0), 0));
    uint8_t pk[32], beta[64];
    ge_p3 p;
    for (int i = 0; i < 8; i++) {
        hex32(pk, small_order_hex[i]);
        ASSERT_TRUE(mn__ge_frombytes(&p, pk));
        ASSERT_TRUE(mn__ge_has_small_order(&p));
        for (int s = 0; s < 2; s++)
            ASSERT_EQ(mn_vrf_verify(beta, pk, e.pi, e.alpha, e.alpha_len, suites[s]), -1);
    }
    /* Non-canonical y = p + k (k = 0..18) with either sign bit, and x = 0 with the sign set. */
    for (int k = 0; k < 19; k++)
        for (int sign = 0; sign < 2; sign++) {
            memset(pk, 0xff, 32);
            pk[0] = (uint8_t)(0xed + k);
            pk[31] = sign ? 0xff : 0x7f;
            ASSERT_FALSE(mn__ge_frombytes(&p, pk));
            ASSERT_EQ(mn_vrf_verify(beta, pk, e.pi, e.alpha, e.alpha_len, suites[0]), -1);
        }
    hex32(pk, "0100000000000000000000000000000000000000000000000000000000000080");
    ASSERT_FALSE(mn__ge_frombytes(&p, pk));
    hex32(pk, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    ASSERT_FALSE(mn__ge_frombytes(&p, pk));
    pk[31] = 0x7f;
    ASSERT_TRUE(mn__ge_frombytes(&p, pk));
    /* y = 2 is not on the curve. */
    hex32(pk, "0200000000000000000000000000000000000000000000000000000000000000");
    ASSERT_FALSE(mn__ge_frombytes(&p, pk));
    free(e.alpha);
    json_decref(root);
}

/* Consensus rule, pinned: a mixed-order key Y + T (T of order 2) is NOT rejected by key
 * validation. A proof made with that key string verifies exactly when c is even, because then
 * c T vanishes from U = s B - c (Y + T). */
static void mixed_order_key_follows_rule(void)
{
    uint8_t seed[32] = {7}, pk[32], sk[64], t_bytes[32], pi[80], beta[64], alpha[1];
    ASSERT_EQ(mn_vrf_keypair_from_seed(pk, sk, seed), 0);
    ge_p3 y, t;
    ASSERT_TRUE(mn__ge_frombytes(&y, pk));
    hex32(t_bytes, small_order_hex[1]);
    ASSERT_TRUE(mn__ge_frombytes(&t, t_bytes));
    mn__ge_add(&y, &y, &t);
    mn__ge_tobytes(sk + 32, &y);
    int even = 0, odd = 0;
    for (int i = 0; i < 40; i++) {
        alpha[0] = (uint8_t)i;
        ASSERT_EQ(mn_vrf_prove(pi, sk, alpha, 1, MN_VRF_SUITE_ELL2), 0);
        int rc = mn_vrf_verify(beta, sk + 32, pi, alpha, 1, MN_VRF_SUITE_ELL2);
        if (pi[32] & 1) {
            ASSERT_EQ(rc, -1);
            odd++;
        } else {
            ASSERT_EQ(rc, 0);
            even++;
        }
    }
    ASSERT_TRUE(even > 0 && odd > 0);
}

/* Consensus rule, pinned: Gamma may have a torsion component. A prover who adds T of order 2
 * to Gamma (and hashes that Gamma) gets a proof that verifies exactly when c is even, with the
 * SAME beta as the honest proof, since beta hashes 8 Gamma. So pi is malleable by such a prover
 * but beta is not (RFC 9381 promises unique beta, not unique pi). */
static void mixed_order_gamma_follows_rule(void)
{
    uint8_t seed[32] = {9}, pk[32], sk[64], h[32], x_wide[64] = {0}, x[32], k[32], ks[64];
    uint8_t t_bytes[32], enc[3][32], c[32] = {0}, cx[32], pi[80], beta[64], honest[80];
    uint8_t honest_beta[64], alpha[1];
    ge_p3 H, pts[3], t;
    ASSERT_EQ(mn_vrf_keypair_from_seed(pk, sk, seed), 0);
    mn__vrf_secret_scalar(x_wide, seed);
    crypto_core_ed25519_scalar_reduce(x, x_wide);
    hex32(t_bytes, small_order_hex[1]);
    ASSERT_TRUE(mn__ge_frombytes(&t, t_bytes));
    int even = 0, odd = 0;
    for (int i = 0; i < 40; i++) {
        alpha[0] = (uint8_t)i;
        ASSERT_EQ(mn__vrf_encode_to_curve(h, pk, alpha, 1, MN_VRF_SUITE_TAI, NULL), 0);
        ASSERT_TRUE(mn__ge_frombytes(&H, h));
        mn__vrf_nonce(k, ks, seed, h);
        mn__ge_scalarmult_ct(&pts[0], x, &H);
        mn__ge_add(&pts[0], &pts[0], &t); /* Gamma + T */
        mn__ge_scalarmult_base_ct(&pts[1], k);
        mn__ge_scalarmult_ct(&pts[2], k, &H);
        mn__ge_tobytes_batch(enc, pts, 3);
        mn__vrf_challenge(c, MN_VRF_SUITE_TAI, pk, h, enc[0], enc[1], enc[2]);
        crypto_core_ed25519_scalar_mul(cx, c, x);
        memcpy(pi, enc[0], 32);
        memcpy(pi + 32, c, 16);
        crypto_core_ed25519_scalar_add(pi + 48, k, cx);
        ASSERT_EQ(mn_vrf_prove(honest, sk, alpha, 1, MN_VRF_SUITE_TAI), 0);
        ASSERT_EQ(mn_vrf_verify(honest_beta, pk, honest, alpha, 1, MN_VRF_SUITE_TAI), 0);
        const int rc = mn_vrf_verify(beta, pk, pi, alpha, 1, MN_VRF_SUITE_TAI);
        if (c[0] & 1) {
            ASSERT_EQ(rc, -1);
            odd++;
        } else {
            ASSERT_EQ(rc, 0);
            ASSERT_MEM_EQ(beta, honest_beta, 64);
            even++;
        }
    }
    ASSERT_TRUE(even > 0 && odd > 0);
}

static mn_rng test_rng(uint8_t tag)
{
    uint8_t seed[32] = {0x56, 0x52, 0x46, tag};
    mn_rng rng;
    mn_rng_seeded_init(&rng, seed);
    return rng;
}

static void random_scalar(mn_rng *rng, uint8_t s[32])
{
    uint8_t wide[64];
    rng->fill(rng, wide, sizeof(wide));
    crypto_core_ed25519_scalar_reduce(s, wide);
}

/* A random point of the prime-order subgroup, as bytes and decoded. */
static void random_point(mn_rng *rng, uint8_t enc[32], ge_p3 *p)
{
    uint8_t s[32];
    random_scalar(rng, s);
    ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(enc, s), 0);
    ASSERT_TRUE(mn__ge_frombytes(p, enc));
}

static void group_matches_libsodium(void)
{
    mn_rng rng = test_rng(1);
    for (int i = 0; i < 200; i++) {
        uint8_t a[32], b[32], pe[32], qe[32], want[32], got[32], t1[32], t2[32];
        ge_p3 p, q, r;
        random_scalar(&rng, a);
        random_scalar(&rng, b);
        random_point(&rng, pe, &p);
        random_point(&rng, qe, &q);
        mn__ge_tobytes(got, &p); /* decode / encode round trip */
        ASSERT_MEM_EQ(got, pe, 32);
        mn__ge_add(&r, &p, &q);
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_core_ed25519_add(want, pe, qe), 0);
        ASSERT_MEM_EQ(got, want, 32);
        mn__ge_scalarmult_ct(&r, a, &p); /* constant time a P */
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_scalarmult_ed25519_noclamp(t1, a, pe), 0);
        ASSERT_MEM_EQ(got, t1, 32);
        mn__ge_double_scalarmult_vartime(&r, a, &p, b, &q); /* a P + b Q */
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_scalarmult_ed25519_noclamp(t2, b, qe), 0);
        ASSERT_EQ(crypto_core_ed25519_add(want, t1, t2), 0);
        ASSERT_MEM_EQ(got, want, 32);
        /* a P + b B with an unreduced 256-bit b (exercises the top wNAF digits). */
        uint8_t wide[64] = {0}, b_red[32];
        rng.fill(&rng, wide, 32);
        crypto_core_ed25519_scalar_reduce(b_red, wide);
        mn__ge_double_scalarmult_base_vartime(&r, a, &p, wide);
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(t2, b_red), 0);
        ASSERT_EQ(crypto_core_ed25519_add(want, t1, t2), 0);
        ASSERT_MEM_EQ(got, want, 32);
        ASSERT_FALSE(mn__ge_has_small_order(&p));
        /* Unreduced 256-bit scalars on both points, the all-ones scalar every 16th round. */
        uint8_t wa[64] = {0}, wb[64] = {0}, wa_red[32], wb_red[32];
        rng.fill(&rng, wa, 32);
        rng.fill(&rng, wb, 32);
        if (i % 16 == 0)
            memset(wa, 0xff, 32), memset(wb, 0xff, 32);
        crypto_core_ed25519_scalar_reduce(wa_red, wa);
        crypto_core_ed25519_scalar_reduce(wb_red, wb);
        mn__ge_double_scalarmult_vartime(&r, wa, &p, wb, &q);
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_scalarmult_ed25519_noclamp(t1, wa_red, pe), 0);
        ASSERT_EQ(crypto_scalarmult_ed25519_noclamp(t2, wb_red, qe), 0);
        ASSERT_EQ(crypto_core_ed25519_add(want, t1, t2), 0);
        ASSERT_MEM_EQ(got, want, 32);
        mn__ge_double_scalarmult_base_vartime(&r, wa, &p, wb);
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(t2, wb_red), 0);
        ASSERT_EQ(crypto_core_ed25519_add(want, t1, t2), 0);
        ASSERT_MEM_EQ(got, want, 32);
        mn__ge_scalarmult_base_ct(&r, a); /* constant-time comb a B */
        mn__ge_tobytes(got, &r);
        ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(want, a), 0);
        ASSERT_MEM_EQ(got, want, 32);
    }
}

static void group_edge_cases(void)
{
    uint8_t zero[32] = {0}, one[32] = {1}, enc[32], base_enc[32];
    ge_p3 r, base;
    mn__ge_scalarmult_base_ct(&r, zero);
    ASSERT_TRUE(mn__ge_is_identity(&r));
    mn__ge_scalarmult_ct(&r, zero, &r);
    ASSERT_TRUE(mn__ge_is_identity(&r));
    mn__ge_scalarmult_base_ct(&r, one);
    mn__ge_tobytes(enc, &r);
    mn__ge_base(&base);
    mn__ge_tobytes(base_enc, &base);
    ASSERT_MEM_EQ(enc, base_enc, 32);
    mn__ge_double_scalarmult_vartime(&r, zero, &base, zero, &base);
    ASSERT_TRUE(mn__ge_is_identity(&r));
}

/* Random 32-byte strings: our strict decoder agrees with libsodium's lenient on-curve test on
 * canonical inputs, and every accepted string re-encodes to itself. */
static void decode_matches_libsodium(void)
{
    mn_rng rng = test_rng(2);
    int accepted = 0;
    for (int i = 0; i < 2000; i++) {
        uint8_t s[32], got[32], sum[32];
        ge_p3 p;
        rng.fill(&rng, s, 32);
        const bool ok = mn__ge_frombytes(&p, s);
        if (!mn__fe_bytes_are_canonical(s)) {
            ASSERT_FALSE(ok);
            continue;
        }
        ASSERT_EQ(ok, crypto_core_ed25519_add(sum, s, s) == 0);
        if (ok) {
            accepted++;
            mn__ge_tobytes(got, &p);
            ASSERT_MEM_EQ(got, s, 32);
        }
    }
    ASSERT_TRUE(accepted > 800 && accepted < 1200);
}

static void field_identities(void)
{
    mn_rng rng = test_rng(3);
    fe25519 a, b, t, one;
    fe_1(&one);
    for (int i = 0; i < 500; i++) {
        uint8_t s[32], enc[32];
        rng.fill(&rng, s, 32);
        s[31] &= 0x7f;
        mn__fe_frombytes(&a, s);
        if (mn__fe_iszero(&a))
            continue;
        mn__fe_invert(&b, &a);
        fe_mul(&t, &a, &b);
        ASSERT_TRUE(mn__fe_eq(&t, &one));
        fe_sq(&t, &a); /* sqrt(a^2) = +-a with sgn0 = 0 */
        ASSERT_TRUE(mn__fe_sqrt_ratio(&b, &t, &one));
        ASSERT_EQ(mn__fe_sgn0(&b), 0);
        fe_sq(&b, &b);
        ASSERT_TRUE(mn__fe_eq(&b, &t));
        fe_add(&t, &t, &t); /* 2 a^2 is not a square: 2 is not one since p = 5 mod 8 */
        ASSERT_FALSE(mn__fe_sqrt_ratio(&b, &t, &one));
        if (mn__fe_bytes_are_canonical(s)) {
            mn__fe_tobytes(enc, &a);
            ASSERT_MEM_EQ(enc, s, 32);
        }
    }
    /* p + 5 reduces to 5; p itself to 0. */
    uint8_t s[32], enc[32], five[32] = {5};
    memset(s, 0xff, 32);
    s[0] = 0xf2;
    s[31] = 0x7f;
    ASSERT_FALSE(mn__fe_bytes_are_canonical(s));
    mn__fe_frombytes(&a, s);
    mn__fe_tobytes(enc, &a);
    ASSERT_MEM_EQ(enc, five, 32);
    s[0] = 0xec;
    ASSERT_TRUE(mn__fe_bytes_are_canonical(s));
    fe_sq(&b, &mn__fe_sqrtm1);
    fe_add(&b, &b, &one);
    ASSERT_TRUE(mn__fe_iszero(&b));
}

static void random_round_trips(void)
{
    mn_rng rng = test_rng(4);
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < 200; i++) {
            uint8_t seed[32], pk[32], sk[64], pi[80], beta[64], beta2[64], alpha[64];
            rng.fill(&rng, seed, 32);
            const size_t alpha_len = (size_t)mn_rng_uniform(&rng, sizeof(alpha) + 1);
            rng.fill(&rng, alpha, sizeof(alpha));
            ASSERT_EQ(mn_vrf_keypair_from_seed(pk, sk, seed), 0);
            ASSERT_EQ(mn_vrf_prove(pi, sk, alpha, alpha_len, suites[s]), 0);
            ASSERT_EQ(mn_vrf_verify(beta, pk, pi, alpha, alpha_len, suites[s]), 0);
            ASSERT_EQ(mn_vrf_proof_to_hash(beta2, pi, suites[s]), 0);
            ASSERT_MEM_EQ(beta, beta2, 64);
            pi[mn_rng_uniform(&rng, 80)] ^= (uint8_t)(1u << mn_rng_uniform(&rng, 8));
            ASSERT_EQ(mn_vrf_verify(beta, pk, pi, alpha, alpha_len, suites[s]), -1);
        }
    uint8_t pk[32], sk[64], pi[80], beta[64];
    ASSERT_EQ(mn_vrf_keypair(pk, sk), 0);
    ASSERT_EQ(mn_vrf_prove(pi, sk, NULL, 0, MN_VRF_SUITE_TAI), 0);
    ASSERT_EQ(mn_vrf_verify(beta, pk, pi, NULL, 0, MN_VRF_SUITE_TAI), 0);
}

static void *verify_worker(void *arg)
{
    const uint8_t *e = arg; /* pk (32) || proof (80) */
    uint8_t beta[64];
    for (int i = 0; i < 20; i++)
        if (mn_vrf_verify(beta, e, e + 32, NULL, 0, MN_VRF_SUITE_ELL2) != 0)
            return (void *)1;
    return NULL;
}

/* Runs first, so four threads race to build the lazily computed base-point tables. */
static void threads_share_tables(void)
{
    json_t *root = vectors();
    example e;
    example_load(&e, json_array_get(examples(root, 1), 0));
    ASSERT_EQ(e.alpha_len, 0);
    uint8_t in[112];
    memcpy(in, e.pk, 32);
    memcpy(in + 32, e.pi, 80);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, verify_worker, in), 0);
    for (int i = 0; i < 4; i++) {
        void *rc;
        ASSERT_EQ(pthread_join(th[i], &rc), 0);
        ASSERT_TRUE(rc == NULL);
    }
    free(e.alpha);
    json_decref(root);
}

static void suite_names(void)
{
    enum mn_vrf_suite s;
    ASSERT_EQ(mn_vrf_suite_parse(&s, "tai"), 0);
    ASSERT_EQ(s, MN_VRF_SUITE_TAI);
    ASSERT_EQ(mn_vrf_suite_parse(&s, "ell2"), 0);
    ASSERT_EQ(s, MN_VRF_SUITE_ELL2);
    ASSERT_EQ(mn_vrf_suite_parse(&s, "ECVRF-EDWARDS25519-SHA512-ELL2"), 0);
    ASSERT_EQ(s, MN_VRF_SUITE_ELL2);
    ASSERT_EQ(mn_vrf_suite_parse(&s, "ell"), -1);
    ASSERT_EQ(mn_vrf_suite_parse(&s, ""), -1);
    ASSERT_STR_EQ(mn_vrf_suite_name(MN_VRF_SUITE_TAI), "tai");
    ASSERT_STR_EQ(mn_vrf_suite_name(MN_VRF_SUITE_ELL2), "ell2");
    ASSERT_TRUE(mn_vrf_suite_name((enum mn_vrf_suite)0) == NULL);
}

MN_TEST_MAIN("crypto.vrf", MN_TEST(threads_share_tables), MN_TEST(rfc_examples_tai), MN_TEST(rfc_examples_ell2),
             MN_TEST(negative_and_legacy_rejected), MN_TEST(bit_flips_rejected),
             MN_TEST(tampered_proofs_rejected), MN_TEST(bad_keys_rejected),
             MN_TEST(mixed_order_key_follows_rule),
             MN_TEST(mixed_order_gamma_follows_rule), MN_TEST(group_matches_libsodium),
             MN_TEST(group_edge_cases),
             MN_TEST(decode_matches_libsodium), MN_TEST(field_identities),
             MN_TEST(random_round_trips), MN_TEST(suite_names))
