/* SPDX-License-Identifier: Apache-2.0
 *
 * fe25519.c: the non-inline part of GF(2^255 - 19) arithmetic: canonical encoding and
 * decoding, inversion and the (p - 5) / 8 power by fixed addition chains, and the square root
 * of a ratio used by point decompression and Elligator 2. All functions are constant time in
 * the values of their arguments. Decoding does not judge whether an encoding is acceptable;
 * callers that must reject y >= p (RFC 8032 point decoding) call mn__fe_bytes_are_canonical.
 */
#include "fe25519.h"

#include <string.h>

const fe25519 mn__fe_sqrtm1 = {{0x61b274a0ea0b0, 0xd5a5fc8f189d, 0x7ef5e9cbd0c60,
                                0x78595a6804c9e, 0x2b8324804fc1d}};
const fe25519 mn__fe_d = {{0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029, 0x739c663a03cbb,
                           0x52036cee2b6ff}};
const fe25519 mn__fe_d2 = {{0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977,
                            0x2406d9dc56dff}};

static uint64_t load64_le(const uint8_t *p)
{
    uint64_t r = 0;
    for (int i = 7; i >= 0; i--)
        r = (r << 8) | p[i];
    return r;
}

void mn__fe_frombytes(fe25519 *r, const uint8_t s[32])
{
    r->v[0] = load64_le(s) & FE_MASK51;
    r->v[1] = (load64_le(s + 6) >> 3) & FE_MASK51;
    r->v[2] = (load64_le(s + 12) >> 6) & FE_MASK51;
    r->v[3] = (load64_le(s + 19) >> 1) & FE_MASK51;
    r->v[4] = (load64_le(s + 24) >> 12) & FE_MASK51;
}

bool mn__fe_bytes_are_canonical(const uint8_t s[32])
{
    /* The low 255 bits are >= p = 2^255 - 19 iff they are 0x7fff...ff followed by a low byte
     * >= 0xed; constant time because the inputs are sometimes secret-derived. */
    unsigned all_ff = (s[31] & 0x7f) ^ 0x7f;
    for (int i = 30; i > 0; i--)
        all_ff |= s[i] ^ 0xffu;
    unsigned high = ((all_ff - 1u) >> 8) & 1u;               /* 1 iff bytes 1..31 are maximal */
    unsigned low_big = ((0xecu - (unsigned)s[0]) >> 8) & 1u; /* 1 iff s[0] >= 0xed */
    return (high & low_big) == 0;
}

void mn__fe_tobytes(uint8_t s[32], const fe25519 *a)
{
    fe25519 h = *a;
    fe_carry(&h);
    fe_carry(&h);
    /* Now h < 2p; q = 1 iff h >= p, found by carrying h + 19 through all limbs. */
    uint64_t q = (h.v[0] + 19) >> 51;
    q = (h.v[1] + q) >> 51;
    q = (h.v[2] + q) >> 51;
    q = (h.v[3] + q) >> 51;
    q = (h.v[4] + q) >> 51;
    h.v[0] += 19 * q;
    uint64_t c;
    c = h.v[0] >> 51, h.v[0] &= FE_MASK51, h.v[1] += c;
    c = h.v[1] >> 51, h.v[1] &= FE_MASK51, h.v[2] += c;
    c = h.v[2] >> 51, h.v[2] &= FE_MASK51, h.v[3] += c;
    c = h.v[3] >> 51, h.v[3] &= FE_MASK51, h.v[4] += c;
    h.v[4] &= FE_MASK51;
    const uint64_t w[4] = {h.v[0] | (h.v[1] << 51), (h.v[1] >> 13) | (h.v[2] << 38),
                           (h.v[2] >> 26) | (h.v[3] << 25), (h.v[3] >> 39) | (h.v[4] << 12)};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

bool mn__fe_iszero(const fe25519 *a)
{
    uint8_t s[32];
    mn__fe_tobytes(s, a);
    unsigned acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= s[i];
    return acc == 0;
}

bool mn__fe_eq(const fe25519 *a, const fe25519 *b)
{
    fe25519 d;
    fe_sub(&d, a, b);
    return mn__fe_iszero(&d);
}

unsigned mn__fe_sgn0(const fe25519 *a)
{
    uint8_t s[32];
    mn__fe_tobytes(s, a);
    return s[0] & 1u;
}

/* Shared prefix of both chains: returns z^(2^250 - 1) in t250 and z^11 in z11. */
static void pow_2_250_1(fe25519 *t250, fe25519 *z11, const fe25519 *z)
{
    fe25519 z2, z9, t, t5, t10, t20, t50, t100;
    fe_sq(&z2, z);
    fe_sq_n(&t, &z2, 2);
    fe_mul(&z9, &t, z);
    fe_mul(z11, &z9, &z2);
    fe_sq(&t, z11);
    fe_mul(&t5, &t, &z9); /* 2^5 - 1 */
    fe_sq_n(&t, &t5, 5);
    fe_mul(&t10, &t, &t5); /* 2^10 - 1 */
    fe_sq_n(&t, &t10, 10);
    fe_mul(&t20, &t, &t10); /* 2^20 - 1 */
    fe_sq_n(&t, &t20, 20);
    fe_mul(&t, &t, &t20); /* 2^40 - 1 */
    fe_sq_n(&t, &t, 10);
    fe_mul(&t50, &t, &t10); /* 2^50 - 1 */
    fe_sq_n(&t, &t50, 50);
    fe_mul(&t100, &t, &t50); /* 2^100 - 1 */
    fe_sq_n(&t, &t100, 100);
    fe_mul(&t, &t, &t100); /* 2^200 - 1 */
    fe_sq_n(&t, &t, 50);
    fe_mul(t250, &t, &t50); /* 2^250 - 1 */
}

void mn__fe_invert(fe25519 *r, const fe25519 *a)
{
    fe25519 t, z11;
    pow_2_250_1(&t, &z11, a);
    fe_sq_n(&t, &t, 5);
    fe_mul(r, &t, &z11); /* 2^255 - 32 + 11 = p - 2 */
}

void mn__fe_pow22523(fe25519 *r, const fe25519 *a)
{
    fe25519 t, z11;
    pow_2_250_1(&t, &z11, a);
    fe_sq_n(&t, &t, 2);
    fe_mul(r, &t, a); /* 2^252 - 4 + 1 */
}

bool mn__fe_sqrt_ratio(fe25519 *r, const fe25519 *u, const fe25519 *v)
{
    /* r = u v^3 (u v^7)^((p - 5) / 8); then v r^2 is u (r is a root), -u (r sqrt(-1) is a
     * root) or neither (u / v is not a square). */
    fe25519 v3, v7, t, check, neg_u, r2;
    fe_sq(&t, v);
    fe_mul(&v3, &t, v);
    fe_sq(&t, &v3);
    fe_mul(&v7, &t, v);
    fe_mul(&t, &v7, u);
    mn__fe_pow22523(&t, &t);
    fe_mul(&t, &t, &v3);
    fe_mul(r, &t, u);
    fe_sq(&t, r);
    fe_mul(&check, &t, v);
    fe_neg(&neg_u, u);
    bool direct = mn__fe_eq(&check, u);
    bool flipped = mn__fe_eq(&check, &neg_u);
    fe_mul(&r2, r, &mn__fe_sqrtm1);
    fe_cmov(r, &r2, flipped);
    fe_neg(&t, r);
    fe_cmov(r, &t, mn__fe_sgn0(r));
    return direct | flipped;
}
