/* SPDX-License-Identifier: Apache-2.0
 *
 * vrf.c: RFC 9381 ECVRF-EDWARDS25519-SHA512-TAI and -ELL2 (see include/metanode/vrf.h for the
 * API and the consensus rule). The RFC's steps map onto this file one to one: encode_to_curve
 * (try-and-increment, or RFC 9380 expand_message_xmd + Elligator 2 + the rational map to
 * edwards25519), nonce generation (RFC 8032 style, §5.4.2.2), challenge generation (with the
 * public key, RFC 9381 final), prove, verify and proof_to_hash. Proving multiplies by the secret
 * scalar and the nonce only through the constant-time mn__ge_scalarmult_ct; verification uses
 * the variable-time double-scalar multiplications. SHA-512 and the scalar arithmetic mod L come
 * from libsodium. The file deliberately implements no other VRF draft and no batch
 * verification.
 */
#include "metanode/vrf.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "ge25519.h"
#include "vrf_internal.h"

MN_STATIC_ASSERT(MN_VRF_SECRETKEY_BYTES == crypto_sign_SECRETKEYBYTES);
MN_STATIC_ASSERT(MN_VRF_PUBLICKEY_BYTES == crypto_sign_PUBLICKEYBYTES);
MN_STATIC_ASSERT(MN_VRF_SEED_BYTES == crypto_sign_SEEDBYTES);

/* Domain separators of RFC 9381 §5.4. */
enum { DS_ENCODE = 0x01, DS_CHALLENGE = 0x02, DS_HASH = 0x03, DS_BACK = 0x00 };

/* RFC 9380 constants for curve25519 / edwards25519 Elligator 2 (see Appendix G.2). */
#define ELL2_J 486662u
static const fe25519 ell2_c2 = {{0x61b274a0ea0b1, 0xd5a5fc8f189d, 0x7ef5e9cbd0c60,
                                 0x78595a6804c9e, 0x2b8324804fc1d}}; /* 2^((p + 3) / 8) */
static const fe25519 ell2_edw_c1 = {{0x604aaff457e06, 0x2296fa350598d, 0x7f13dfb16874f,
                                     0x35de93d846e01, 0xf26edf460a00}}; /* sqrt(-486664) */
static const char ell2_dst[] = "ECVRF_edwards25519_XMD:SHA-512_ELL2_NU_\x04";
#define ELL2_DST_BYTES (sizeof(ell2_dst) - 1)

static bool suite_valid(enum mn_vrf_suite suite)
{
    return suite == MN_VRF_SUITE_TAI || suite == MN_VRF_SUITE_ELL2;
}

/* ---- encode_to_curve ---------------------------------------------------------------------- */

static int encode_tai(ge_p3 *H, uint8_t h[32], const uint8_t pk[32], const uint8_t *alpha,
                      size_t alpha_len, mn__vrf_h2c_trace *trace)
{
    crypto_hash_sha512_state prefix, st;
    const uint8_t head[2] = {MN_VRF_SUITE_TAI, DS_ENCODE};
    crypto_hash_sha512_init(&prefix);
    crypto_hash_sha512_update(&prefix, head, 2);
    crypto_hash_sha512_update(&prefix, pk, 32);
    crypto_hash_sha512_update(&prefix, alpha, alpha_len);
    for (unsigned ctr = 0; ctr < 256; ctr++) {
        const uint8_t tail[2] = {(uint8_t)ctr, DS_BACK};
        uint8_t digest[64];
        ge_p3 candidate;
        st = prefix;
        crypto_hash_sha512_update(&st, tail, 2);
        crypto_hash_sha512_final(&st, digest);
        if (!mn__ge_frombytes(&candidate, digest))
            continue;
        mn__ge_mul_cofactor(H, &candidate);
        if (mn__ge_is_identity(H))
            continue;
        if (h != NULL)
            mn__ge_tobytes(h, H);
        if (trace != NULL)
            trace->tai_ctr = (int)ctr;
        return 0;
    }
    return -1;
}

/* RFC 9380 §5.3.1 with SHA-512 for 48 output bytes (one block), msg = pk || alpha. */
static void expand_message_xmd(uint8_t out[48], const uint8_t pk[32], const uint8_t *alpha,
                               size_t alpha_len)
{
    static const uint8_t z_pad[128];
    const uint8_t len_and_zero[3] = {0, 48, 0}, dst_len = (uint8_t)ELL2_DST_BYTES, one = 1;
    uint8_t b0[64], b1[64];
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, z_pad, sizeof(z_pad));
    crypto_hash_sha512_update(&st, pk, 32);
    crypto_hash_sha512_update(&st, alpha, alpha_len);
    crypto_hash_sha512_update(&st, len_and_zero, 3);
    crypto_hash_sha512_update(&st, (const uint8_t *)ell2_dst, ELL2_DST_BYTES);
    crypto_hash_sha512_update(&st, &dst_len, 1);
    crypto_hash_sha512_final(&st, b0);
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, b0, 64);
    crypto_hash_sha512_update(&st, &one, 1);
    crypto_hash_sha512_update(&st, (const uint8_t *)ell2_dst, ELL2_DST_BYTES);
    crypto_hash_sha512_update(&st, &dst_len, 1);
    crypto_hash_sha512_final(&st, b1);
    memcpy(out, b1, 48);
}

/* u = OS2IP(48 big-endian bytes) mod p = lo + 2^255 bit255 + 2^256 hi, 2^255 = 19, 2^256 = 38. */
static void field_from_48_be(fe25519 *u, const uint8_t be[48])
{
    uint8_t lo[32], hi[32] = {0};
    for (int i = 0; i < 32; i++)
        lo[i] = be[47 - i];
    for (int i = 0; i < 16; i++)
        hi[i] = be[15 - i];
    fe25519 h;
    mn__fe_frombytes(u, lo);
    mn__fe_frombytes(&h, hi);
    fe_mul_small(&h, &h, 38);
    u->v[0] += 19u * (lo[31] >> 7);
    fe_add(u, u, &h);
    fe_carry(u);
}

/* Elligator 2 onto curve25519 (RFC 9380 G.2.1): x = xn / xd, y on the Montgomery curve. */
static void ell2_montgomery(fe25519 *xn, fe25519 *xd, fe25519 *y, const fe25519 *u,
                            mn__vrf_h2c_trace *trace)
{
    fe25519 tv1, tv2, tv3, x1n, x2n, gxd, gx1, gx2, y11, y12, y21, y22, y1, y2;
    fe_sq(&tv1, u);
    fe_add(&tv1, &tv1, &tv1);
    fe_1(&tv2);
    fe_add(xd, &tv1, &tv2); /* 1 + 2u^2, never 0 */
    fe_0(&tv2);
    tv2.v[0] = ELL2_J;
    fe_neg(&x1n, &tv2); /* x1 = -J / (1 + 2u^2) */
    fe_sq(&tv2, xd);
    fe_mul(&gxd, &tv2, xd);
    fe_mul_small(&gx1, &tv1, ELL2_J);
    fe_mul(&gx1, &gx1, &x1n);
    fe_add(&gx1, &gx1, &tv2);
    fe_mul(&gx1, &gx1, &x1n); /* g(x1) = gx1 / gxd */
    fe_sq(&tv3, &gxd);
    fe_sq(&tv2, &tv3);
    fe_mul(&tv3, &tv3, &gxd);
    fe_mul(&tv3, &tv3, &gx1);
    fe_mul(&tv2, &tv2, &tv3);
    mn__fe_pow22523(&y11, &tv2);
    fe_mul(&y11, &y11, &tv3);
    fe_mul(&y12, &y11, &mn__fe_sqrtm1);
    fe_sq(&tv2, &y11);
    fe_mul(&tv2, &tv2, &gxd);
    y1 = y12;
    fe_cmov(&y1, &y11, mn__fe_eq(&tv2, &gx1));
    fe_mul(&x2n, &x1n, &tv1);
    fe_mul(&y21, &y11, u);
    fe_mul(&y21, &y21, &ell2_c2);
    fe_mul(&y22, &y21, &mn__fe_sqrtm1);
    fe_mul(&gx2, &gx1, &tv1);
    fe_sq(&tv2, &y21);
    fe_mul(&tv2, &tv2, &gxd);
    y2 = y22;
    fe_cmov(&y2, &y21, mn__fe_eq(&tv2, &gx2));
    fe_sq(&tv2, &y1);
    fe_mul(&tv2, &tv2, &gxd);
    const unsigned e3 = mn__fe_eq(&tv2, &gx1);
    *xn = x2n;
    fe_cmov(xn, &x1n, e3);
    *y = y2;
    fe_cmov(y, &y1, e3);
    fe_neg(&tv2, y);
    fe_cmov(y, &tv2, e3 ^ mn__fe_sgn0(y)); /* sgn0(y) = 0 iff g(x1) was square */
    if (trace != NULL) {
        mn__fe_invert(&tv3, &gxd);
        fe_mul(&tv3, &tv3, &gx1);
        mn__fe_tobytes(trace->gx1, &tv3);
        trace->gx1_is_square = e3;
    }
}

/* RFC 9380 G.2.2 rational map to edwards25519, then the cofactor is cleared (H = 8 Q). */
static void encode_ell2(ge_p3 *H, uint8_t h[32], const uint8_t pk[32], const uint8_t *alpha,
                        size_t alpha_len, mn__vrf_h2c_trace *trace)
{
    uint8_t uniform[48];
    fe25519 u, mxn, mxd, my, xn, xd, yn, yd, t;
    expand_message_xmd(uniform, pk, alpha, alpha_len);
    field_from_48_be(&u, uniform);
    if (trace != NULL) {
        memcpy(trace->uniform_bytes, uniform, 48);
        mn__fe_tobytes(trace->u, &u);
    }
    ell2_montgomery(&mxn, &mxd, &my, &u, trace);
    fe_mul(&xn, &mxn, &ell2_edw_c1); /* x = c1 xM / yM */
    fe_mul(&xd, &mxd, &my);
    fe_sub(&yn, &mxn, &mxd); /* y = (xM - 1) / (xM + 1) */
    fe_add(&yd, &mxn, &mxd);
    fe_carry(&yd);
    fe_mul(&t, &xd, &yd);
    const unsigned exceptional = mn__fe_iszero(&t); /* maps to the identity */
    fe25519 zero, one;
    fe_0(&zero);
    fe_1(&one);
    fe_cmov(&xn, &zero, exceptional);
    fe_cmov(&xd, &one, exceptional);
    fe_cmov(&yn, &one, exceptional);
    fe_cmov(&yd, &one, exceptional);
    ge_p3 q;
    fe_mul(&q.X, &xn, &yd);
    fe_mul(&q.Y, &yn, &xd);
    fe_mul(&q.Z, &xd, &yd);
    fe_mul(&q.T, &xn, &yn);
    mn__ge_mul_cofactor(H, &q);
    if (h != NULL)
        mn__ge_tobytes(h, H);
}

/* H as a point and, unless h is NULL, encoded (verification batches that inversion). */
static int encode_to_curve(ge_p3 *H, uint8_t h[32], const uint8_t pk[32], const uint8_t *alpha,
                           size_t alpha_len, enum mn_vrf_suite suite, mn__vrf_h2c_trace *trace)
{
    if (suite == MN_VRF_SUITE_TAI)
        return encode_tai(H, h, pk, alpha, alpha_len, trace);
    MN_ASSERT(suite == MN_VRF_SUITE_ELL2);
    encode_ell2(H, h, pk, alpha, alpha_len, trace);
    return 0;
}

int mn__vrf_encode_to_curve(uint8_t h[32], const uint8_t pk[32], const uint8_t *alpha,
                            size_t alpha_len, enum mn_vrf_suite suite, mn__vrf_h2c_trace *trace)
{
    ge_p3 H;
    if (!suite_valid(suite))
        return -1;
    return encode_to_curve(&H, h, pk, alpha, alpha_len, suite, trace);
}

/* ---- nonce, challenge, scalars ------------------------------------------------------------ */

/* RFC 8032 §5.1.5: x = clamp(SHA-512(seed)[0..31]); az keeps the whole hash for the nonce. */
static void expand_seed(uint8_t x[32], uint8_t az[64], const uint8_t seed[32])
{
    crypto_hash_sha512(az, seed, 32);
    memcpy(x, az, 32);
    x[0] &= 248;
    x[31] &= 127;
    x[31] |= 64;
}

void mn__vrf_secret_scalar(uint8_t x[32], const uint8_t seed[32])
{
    uint8_t az[64];
    expand_seed(x, az, seed);
    sodium_memzero(az, sizeof(az));
}

static void nonce_from_prefix(uint8_t k[32], uint8_t k_string[64], const uint8_t prefix[32],
                              const uint8_t h[32])
{
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, prefix, 32);
    crypto_hash_sha512_update(&st, h, 32);
    crypto_hash_sha512_final(&st, k_string);
    crypto_core_ed25519_scalar_reduce(k, k_string);
    sodium_memzero(&st, sizeof(st));
}

void mn__vrf_nonce(uint8_t k[32], uint8_t k_string[64], const uint8_t seed[32],
                   const uint8_t h[32])
{
    uint8_t az[64];
    crypto_hash_sha512(az, seed, 32);
    nonce_from_prefix(k, k_string, az + 32, h);
    sodium_memzero(az, sizeof(az));
}

void mn__vrf_challenge(uint8_t c[16], enum mn_vrf_suite suite, const uint8_t y[32],
                       const uint8_t h[32], const uint8_t gamma[32], const uint8_t u[32],
                       const uint8_t v[32])
{
    const uint8_t head[2] = {(uint8_t)suite, DS_CHALLENGE}, back = DS_BACK;
    uint8_t digest[64];
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, head, 2);
    crypto_hash_sha512_update(&st, y, 32);
    crypto_hash_sha512_update(&st, h, 32);
    crypto_hash_sha512_update(&st, gamma, 32);
    crypto_hash_sha512_update(&st, u, 32);
    crypto_hash_sha512_update(&st, v, 32);
    crypto_hash_sha512_update(&st, &back, 1);
    crypto_hash_sha512_final(&st, digest);
    memcpy(c, digest, 16);
}

static void beta_from_point(uint8_t beta[64], enum mn_vrf_suite suite, const uint8_t g8[32])
{
    const uint8_t head[2] = {(uint8_t)suite, DS_HASH}, back = DS_BACK;
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, head, 2);
    crypto_hash_sha512_update(&st, g8, 32);
    crypto_hash_sha512_update(&st, &back, 1);
    crypto_hash_sha512_final(&st, beta);
}

/* s < L, compared as 256-bit little-endian integers (public data: variable time is fine). */
static bool scalar_is_canonical(const uint8_t s[32])
{
    static const uint8_t L[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                  0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
    for (int i = 31; i >= 0; i--) {
        if (s[i] != L[i])
            return s[i] < L[i];
    }
    return false; /* s == L */
}

/* ---- prove, verify, proof_to_hash ------------------------------------------------------- */

int mn_vrf_prove(uint8_t proof[static MN_VRF_PROOF_BYTES],
                 const uint8_t sk[static MN_VRF_SECRETKEY_BYTES], const uint8_t *alpha,
                 size_t alpha_len, enum mn_vrf_suite suite)
{
    if (!suite_valid(suite) || alpha_len > MN_VRF_ALPHA_BYTES_MAX)
        return -1;
    if (alpha_len != 0)
        MN_ASSERT(alpha != NULL);
    const uint8_t *pk = sk + 32;
    ge_p3 H, pts[3]; /* Gamma, U, V */
    uint8_t h[32], enc[3][32], az[64], x_wide[64] = {0}, x[32], k[32], k_string[64];
    uint8_t c[32] = {0}, cx[32];
    if (encode_to_curve(&H, h, pk, alpha, alpha_len, suite, NULL) != 0)
        return -1;
    expand_seed(x_wide, az, sk);
    crypto_core_ed25519_scalar_reduce(x, x_wide); /* same multiples of H; needed for s */
    nonce_from_prefix(k, k_string, az + 32, h);
    mn__ge_scalarmult_ct(&pts[0], x, &H);
    mn__ge_scalarmult_base_ct(&pts[1], k);
    mn__ge_scalarmult_ct(&pts[2], k, &H);
    mn__ge_tobytes_batch(enc, pts, 3);
    mn__vrf_challenge(c, suite, pk, h, enc[0], enc[1], enc[2]);
    crypto_core_ed25519_scalar_mul(cx, c, x);
    memcpy(proof, enc[0], 32);
    memcpy(proof + 32, c, 16);
    crypto_core_ed25519_scalar_add(proof + 48, k, cx);
    sodium_memzero(az, sizeof(az));
    sodium_memzero(x_wide, sizeof(x_wide));
    sodium_memzero(x, sizeof(x));
    sodium_memzero(k, sizeof(k));
    sodium_memzero(k_string, sizeof(k_string));
    sodium_memzero(cx, sizeof(cx));
    sodium_memzero(pts, sizeof(pts));
    sodium_memzero(enc[1], 32); /* U and V reveal k to anyone who also knows c */
    sodium_memzero(enc[2], 32);
    return 0;
}

int mn__vrf_verify_ex(uint8_t beta[64], uint8_t uv[2][32], const uint8_t pk[32],
                      const uint8_t proof[80], const uint8_t *alpha, size_t alpha_len,
                      enum mn_vrf_suite suite)
{
    if (!suite_valid(suite) || alpha_len > MN_VRF_ALPHA_BYTES_MAX)
        return -1;
    if (alpha == NULL && alpha_len != 0)
        return -1;
    ge_p3 Y, gamma, pts[4]; /* U, V, 8 Gamma, H */
    uint8_t enc[4][32], c[32] = {0}, c_check[16];
    const uint8_t *s = proof + 48;
    if (!mn__ge_frombytes(&Y, pk) || mn__ge_has_small_order(&Y))
        return -1;
    if (!mn__ge_frombytes(&gamma, proof) || !scalar_is_canonical(s))
        return -1;
    if (encode_to_curve(&pts[3], NULL, pk, alpha, alpha_len, suite, NULL) != 0)
        return -1;
    memcpy(c, proof + 32, 16);
    mn__ge_neg(&Y, &Y);
    mn__ge_double_scalarmult_base_vartime(&pts[0], c, &Y, s); /* U = s B - c Y */
    mn__ge_mul_cofactor(&pts[2], &gamma);
    mn__ge_neg(&gamma, &gamma);
    mn__ge_double_scalarmult_vartime(&pts[1], s, &pts[3], c, &gamma); /* V = s H - c Gamma */
    mn__ge_tobytes_batch(enc, pts, 4);
    if (uv != NULL) {
        memcpy(uv[0], enc[0], 32);
        memcpy(uv[1], enc[1], 32);
    }
    mn__vrf_challenge(c_check, suite, pk, enc[3], proof, enc[0], enc[1]);
    if (crypto_verify_16(c_check, proof + 32) != 0)
        return -1;
    beta_from_point(beta, suite, enc[2]);
    return 0;
}

int mn_vrf_verify(uint8_t beta[static MN_VRF_OUTPUT_BYTES],
                  const uint8_t pk[static MN_VRF_PUBLICKEY_BYTES],
                  const uint8_t proof[static MN_VRF_PROOF_BYTES], const uint8_t *alpha,
                  size_t alpha_len, enum mn_vrf_suite suite)
{
    return mn__vrf_verify_ex(beta, NULL, pk, proof, alpha, alpha_len, suite);
}

int mn_vrf_proof_to_hash(uint8_t beta[static MN_VRF_OUTPUT_BYTES],
                         const uint8_t proof[static MN_VRF_PROOF_BYTES], enum mn_vrf_suite suite)
{
    ge_p3 gamma, g8;
    uint8_t enc[32];
    if (!suite_valid(suite))
        return -1;
    if (!mn__ge_frombytes(&gamma, proof) || !scalar_is_canonical(proof + 48))
        return -1;
    mn__ge_mul_cofactor(&g8, &gamma);
    mn__ge_tobytes(enc, &g8);
    beta_from_point(beta, suite, enc);
    return 0;
}

/* ---- keys and suite names --------------------------------------------------------------- */

int mn_vrf_keypair_from_seed(uint8_t pk[static MN_VRF_PUBLICKEY_BYTES],
                             uint8_t sk[static MN_VRF_SECRETKEY_BYTES],
                             const uint8_t seed[static MN_VRF_SEED_BYTES])
{
    return crypto_sign_seed_keypair(pk, sk, seed) == 0 ? 0 : -1;
}

int mn_vrf_keypair(uint8_t pk[static MN_VRF_PUBLICKEY_BYTES],
                   uint8_t sk[static MN_VRF_SECRETKEY_BYTES])
{
    uint8_t seed[MN_VRF_SEED_BYTES];
    randombytes_buf(seed, sizeof(seed));
    int rc = mn_vrf_keypair_from_seed(pk, sk, seed);
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

int mn_vrf_suite_parse(enum mn_vrf_suite *suite, const char *name)
{
    MN_ASSERT(suite != NULL);
    MN_ASSERT(name != NULL);
    if (strcasecmp(name, "tai") == 0 || strcasecmp(name, "ECVRF-EDWARDS25519-SHA512-TAI") == 0) {
        *suite = MN_VRF_SUITE_TAI;
        return 0;
    }
    if (strcasecmp(name, "ell2") == 0 ||
        strcasecmp(name, "ECVRF-EDWARDS25519-SHA512-ELL2") == 0) {
        *suite = MN_VRF_SUITE_ELL2;
        return 0;
    }
    return -1;
}

const char *mn_vrf_suite_name(enum mn_vrf_suite suite)
{
    switch (suite) {
    case MN_VRF_SUITE_TAI:
        return "tai";
    case MN_VRF_SUITE_ELL2:
        return "ell2";
    }
    return NULL;
}
