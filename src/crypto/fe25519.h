/* SPDX-License-Identifier: Apache-2.0
 *
 * fe25519.h: arithmetic in GF(2^255 - 19), internal to src/crypto. An element is five 51-bit
 * limbs (radix 2^51, little-endian) multiplied with unsigned __int128. The hot operations
 * (add, sub, mul, sq) are static inline so the point code in ge25519.c compiles to straight-line
 * arithmetic; the exponentiations and encodings live in fe25519.c.
 *
 * Limb bounds (the invariant every caller relies on): mul, sq, sub, mul_small and the decoders
 * return "tight" elements, limbs < 2^51 + 2^21. add does not carry: the sum of two tight
 * elements is "loose" (limbs < 2^53), and mul/sq/sub accept inputs with limbs < 2^54, so one
 * level of add (or add of a loose and a tight element) may feed any operation. Everything here
 * is constant time except where a name says "vartime". This header deliberately has no
 * general-purpose API: no comparisons besides equality, no big-integer helpers.
 */
#ifndef MN_CRYPTO_FE25519_H
#define MN_CRYPTO_FE25519_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fe25519 {
    uint64_t v[5];
} fe25519;

#define FE_MASK51 ((uint64_t)0x7ffffffffffff)

typedef unsigned __int128 fe_u128;

/* The multiplications must be inlined into the point formulas: at -O2 gcc otherwise keeps
 * out-of-line copies, which costs about 7% of a VRF verification. */
#define FE_INLINE __attribute__((always_inline)) static inline

static inline void fe_0(fe25519 *r)
{
    r->v[0] = r->v[1] = r->v[2] = r->v[3] = r->v[4] = 0;
}

static inline void fe_1(fe25519 *r)
{
    fe_0(r);
    r->v[0] = 1;
}

static inline void fe_add(fe25519 *r, const fe25519 *a, const fe25519 *b)
{
    for (int i = 0; i < 5; i++)
        r->v[i] = a->v[i] + b->v[i];
}

/* One carry pass: limbs < 2^51 except limb 1 which may exceed it by a small amount. */
static inline void fe_carry(fe25519 *r)
{
    uint64_t c;
    c = r->v[0] >> 51, r->v[0] &= FE_MASK51, r->v[1] += c;
    c = r->v[1] >> 51, r->v[1] &= FE_MASK51, r->v[2] += c;
    c = r->v[2] >> 51, r->v[2] &= FE_MASK51, r->v[3] += c;
    c = r->v[3] >> 51, r->v[3] &= FE_MASK51, r->v[4] += c;
    c = r->v[4] >> 51, r->v[4] &= FE_MASK51, r->v[0] += c * 19;
    c = r->v[0] >> 51, r->v[0] &= FE_MASK51, r->v[1] += c;
}

/* r = a - b, computed as a + 8p - b so that no limb underflows for b limbs < 2^54 - 152. */
static inline void fe_sub(fe25519 *r, const fe25519 *a, const fe25519 *b)
{
    r->v[0] = (a->v[0] + 0x3fffffffffff68) - b->v[0];
    r->v[1] = (a->v[1] + 0x3ffffffffffff8) - b->v[1];
    r->v[2] = (a->v[2] + 0x3ffffffffffff8) - b->v[2];
    r->v[3] = (a->v[3] + 0x3ffffffffffff8) - b->v[3];
    r->v[4] = (a->v[4] + 0x3ffffffffffff8) - b->v[4];
    fe_carry(r);
}

static inline void fe_neg(fe25519 *r, const fe25519 *a)
{
    fe25519 z;
    fe_0(&z);
    fe_sub(r, &z, a);
}

/* Carries five 128-bit column sums into a tight element. */
FE_INLINE void fe_reduce128(fe25519 *r, fe_u128 t0, fe_u128 t1, fe_u128 t2, fe_u128 t3,
                             fe_u128 t4)
{
    t1 += (uint64_t)(t0 >> 51);
    t2 += (uint64_t)(t1 >> 51);
    t3 += (uint64_t)(t2 >> 51);
    t4 += (uint64_t)(t3 >> 51);
    fe_u128 c = (t4 >> 51) * 19 + ((uint64_t)t0 & FE_MASK51);
    r->v[0] = (uint64_t)c & FE_MASK51;
    r->v[1] = ((uint64_t)t1 & FE_MASK51) + (uint64_t)(c >> 51);
    r->v[2] = (uint64_t)t2 & FE_MASK51;
    r->v[3] = (uint64_t)t3 & FE_MASK51;
    r->v[4] = (uint64_t)t4 & FE_MASK51;
}

FE_INLINE void fe_mul(fe25519 *r, const fe25519 *a, const fe25519 *b)
{
    const uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3], a4 = a->v[4];
    const uint64_t b0 = b->v[0], b1 = b->v[1], b2 = b->v[2], b3 = b->v[3], b4 = b->v[4];
    const uint64_t b1_19 = b1 * 19, b2_19 = b2 * 19, b3_19 = b3 * 19, b4_19 = b4 * 19;
    fe_u128 t0 = (fe_u128)a0 * b0 + (fe_u128)a1 * b4_19 + (fe_u128)a2 * b3_19 +
                 (fe_u128)a3 * b2_19 + (fe_u128)a4 * b1_19;
    fe_u128 t1 = (fe_u128)a0 * b1 + (fe_u128)a1 * b0 + (fe_u128)a2 * b4_19 +
                 (fe_u128)a3 * b3_19 + (fe_u128)a4 * b2_19;
    fe_u128 t2 = (fe_u128)a0 * b2 + (fe_u128)a1 * b1 + (fe_u128)a2 * b0 +
                 (fe_u128)a3 * b4_19 + (fe_u128)a4 * b3_19;
    fe_u128 t3 = (fe_u128)a0 * b3 + (fe_u128)a1 * b2 + (fe_u128)a2 * b1 + (fe_u128)a3 * b0 +
                 (fe_u128)a4 * b4_19;
    fe_u128 t4 = (fe_u128)a0 * b4 + (fe_u128)a1 * b3 + (fe_u128)a2 * b2 + (fe_u128)a3 * b1 +
                 (fe_u128)a4 * b0;
    fe_reduce128(r, t0, t1, t2, t3, t4);
}

FE_INLINE void fe_sq(fe25519 *r, const fe25519 *a)
{
    const uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3], a4 = a->v[4];
    const uint64_t d0 = a0 * 2, d1 = a1 * 2, d2 = a2 * 2;
    const uint64_t a3_19 = a3 * 19, a4_19 = a4 * 19;
    fe_u128 t0 = (fe_u128)a0 * a0 + (fe_u128)d1 * a4_19 + (fe_u128)d2 * a3_19;
    fe_u128 t1 = (fe_u128)d0 * a1 + (fe_u128)d2 * a4_19 + (fe_u128)a3 * a3_19;
    fe_u128 t2 = (fe_u128)d0 * a2 + (fe_u128)a1 * a1 + (fe_u128)(a3 * 2) * a4_19;
    fe_u128 t3 = (fe_u128)d0 * a3 + (fe_u128)d1 * a2 + (fe_u128)a4 * a4_19;
    fe_u128 t4 = (fe_u128)d0 * a4 + (fe_u128)d1 * a3 + (fe_u128)a2 * a2;
    fe_reduce128(r, t0, t1, t2, t3, t4);
}

/* r = a^(2^n): n successive squarings. */
static inline void fe_sq_n(fe25519 *r, const fe25519 *a, int n)
{
    fe_sq(r, a);
    for (int i = 1; i < n; i++)
        fe_sq(r, r);
}

/* r = a * k for a small constant k < 2^20. */
static inline void fe_mul_small(fe25519 *r, const fe25519 *a, uint32_t k)
{
    fe_reduce128(r, (fe_u128)a->v[0] * k, (fe_u128)a->v[1] * k, (fe_u128)a->v[2] * k,
                 (fe_u128)a->v[3] * k, (fe_u128)a->v[4] * k);
}

/* Constant time: r = b ? a : r, for b in {0, 1}. */
static inline void fe_cmov(fe25519 *r, const fe25519 *a, unsigned b)
{
    const uint64_t m = (uint64_t)0 - (uint64_t)b;
    for (int i = 0; i < 5; i++)
        r->v[i] ^= m & (r->v[i] ^ a->v[i]);
}

/* Encodes the canonical (fully reduced) 32-byte little-endian form; bit 255 is 0. */
void mn__fe_tobytes(uint8_t s[32], const fe25519 *a);
/* Decodes 32 bytes ignoring bit 255; values >= p are accepted and reduced (see is_canonical). */
void mn__fe_frombytes(fe25519 *r, const uint8_t s[32]);
/* True iff the low 255 bits of s encode an integer < p. */
bool mn__fe_bytes_are_canonical(const uint8_t s[32]);
bool mn__fe_iszero(const fe25519 *a);
bool mn__fe_eq(const fe25519 *a, const fe25519 *b);
/* RFC 9380 sgn0: the low bit of the canonical encoding. */
unsigned mn__fe_sgn0(const fe25519 *a);
void mn__fe_invert(fe25519 *r, const fe25519 *a);
/* r = a^((p - 5) / 8) = a^(2^252 - 3). */
void mn__fe_pow22523(fe25519 *r, const fe25519 *a);
/* Square root of a ratio: if u/v is a square, sets r to a root with sgn0(r) = 0 and returns
 * true; otherwise returns false (r is then unspecified). v must not be zero unless u is. */
bool mn__fe_sqrt_ratio(fe25519 *r, const fe25519 *u, const fe25519 *v);

/* Constants: sqrt(-1) (the root with sgn0 = 0), d and 2d of edwards25519. */
extern const fe25519 mn__fe_sqrtm1;
extern const fe25519 mn__fe_d;
extern const fe25519 mn__fe_d2;

#endif
