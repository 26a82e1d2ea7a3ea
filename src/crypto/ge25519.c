/* SPDX-License-Identifier: Apache-2.0
 *
 * ge25519.c: edwards25519 point arithmetic (-x^2 + y^2 = 1 + d x^2 y^2) with the unified
 * extended-coordinate formulas of Hisil, Wong, Carter and Dawson (2008), strict RFC 8032
 * decoding, a constant-time signed-radix-16 scalar multiplication for secret scalars, and
 * variable-time Straus/wNAF double-scalar multiplications for verification. The base point gets
 * two tables of odd multiples (of B and of 2^128 B, width-8 wNAF), so a 256-bit scalar on B
 * costs only 128 doublings in verification, and a 32 x 8 comb table for the constant-time k B of
 * proving; all are computed once (about 0.3 ms), on first use, under pthread_once. Besides
 * the extended form (ge_p3) the file uses the usual intermediate forms: projective (ge_p2),
 * "completed" ((X:Z), (Y:T)) results of an addition (ge_p1p1), and cached / affine-precomputed
 * addends. Nothing here checks subgroup membership; that is a caller's decision.
 */
#include "ge25519.h"

#include <pthread.h>
#include <string.h>

#include "metanode/assert.h"

typedef struct ge_p2 {
    fe25519 X, Y, Z;
} ge_p2;

typedef struct ge_p1p1 {
    fe25519 X, Y, Z, T;
} ge_p1p1;

typedef struct ge_cached {
    fe25519 YplusX, YminusX, Z, T2d;
} ge_cached;

typedef struct ge_precomp {
    fe25519 yplusx, yminusx, xy2d;
} ge_precomp;

/* Width of the wNAF for variable bases (8 odd multiples) and for the base point (64). */
#define WNAF_VAR 5
#define WNAF_BASE 8
#define TABLE_VAR (1 << (WNAF_VAR - 2))
#define TABLE_BASE (1 << (WNAF_BASE - 2))
#define NAF_LEN 257

static void p1p1_to_p2(ge_p2 *r, const ge_p1p1 *p)
{
    fe_mul(&r->X, &p->X, &p->T);
    fe_mul(&r->Y, &p->Y, &p->Z);
    fe_mul(&r->Z, &p->Z, &p->T);
}

static void p1p1_to_p3(ge_p3 *r, const ge_p1p1 *p)
{
    fe_mul(&r->X, &p->X, &p->T);
    fe_mul(&r->Y, &p->Y, &p->Z);
    fe_mul(&r->Z, &p->Z, &p->T);
    fe_mul(&r->T, &p->X, &p->Y);
}

static void p3_to_p2(ge_p2 *r, const ge_p3 *p)
{
    r->X = p->X;
    r->Y = p->Y;
    r->Z = p->Z;
}

static void p3_to_cached(ge_cached *r, const ge_p3 *p)
{
    fe_add(&r->YplusX, &p->Y, &p->X);
    fe_sub(&r->YminusX, &p->Y, &p->X);
    r->Z = p->Z;
    fe_mul(&r->T2d, &p->T, &mn__fe_d2);
}

/* Doubling: x' = 2XY / (Y^2 - X^2), y' = (Y^2 + X^2) / (2Z^2 - Y^2 + X^2). */
static void p2_dbl(ge_p1p1 *r, const ge_p2 *p)
{
    fe25519 xx, yy, zz2, s;
    fe_sq(&xx, &p->X);
    fe_sq(&yy, &p->Y);
    fe_sq(&zz2, &p->Z);
    fe_add(&zz2, &zz2, &zz2);
    fe_add(&s, &p->X, &p->Y);
    fe_sq(&s, &s);
    fe_add(&r->Y, &yy, &xx);
    fe_sub(&r->Z, &yy, &xx);
    fe_sub(&r->X, &s, &r->Y);
    fe_sub(&r->T, &zz2, &r->Z);
}

/* p + q (neg = 0) or p - q (neg = 1); the branch is on a public flag only. */
static void add_cached(ge_p1p1 *r, const ge_p3 *p, const ge_cached *q, int neg)
{
    fe25519 a, b, c, d, t;
    fe_sub(&t, &p->Y, &p->X);
    fe_mul(&a, &t, neg ? &q->YplusX : &q->YminusX);
    fe_add(&t, &p->Y, &p->X);
    fe_mul(&b, &t, neg ? &q->YminusX : &q->YplusX);
    fe_mul(&c, &p->T, &q->T2d);
    fe_mul(&d, &p->Z, &q->Z);
    fe_add(&d, &d, &d);
    fe_sub(&r->X, &b, &a); /* E */
    fe_add(&r->Y, &b, &a); /* H */
    if (neg) {
        fe_sub(&r->Z, &d, &c); /* G */
        fe_add(&r->T, &d, &c); /* F */
    } else {
        fe_add(&r->Z, &d, &c);
        fe_sub(&r->T, &d, &c);
    }
}

/* Mixed addition with an affine addend (Z = 1). */
static void add_precomp(ge_p1p1 *r, const ge_p3 *p, const ge_precomp *q, int neg)
{
    fe25519 a, b, c, d, t;
    fe_sub(&t, &p->Y, &p->X);
    fe_mul(&a, &t, neg ? &q->yplusx : &q->yminusx);
    fe_add(&t, &p->Y, &p->X);
    fe_mul(&b, &t, neg ? &q->yminusx : &q->yplusx);
    fe_mul(&c, &p->T, &q->xy2d);
    fe_add(&d, &p->Z, &p->Z);
    fe_sub(&r->X, &b, &a);
    fe_add(&r->Y, &b, &a);
    if (neg) {
        fe_sub(&r->Z, &d, &c);
        fe_add(&r->T, &d, &c);
    } else {
        fe_add(&r->Z, &d, &c);
        fe_sub(&r->T, &d, &c);
    }
}

void mn__ge_identity(ge_p3 *r)
{
    fe_0(&r->X);
    fe_1(&r->Y);
    fe_1(&r->Z);
    fe_0(&r->T);
}

bool mn__ge_frombytes(ge_p3 *r, const uint8_t s[32])
{
    if (!mn__fe_bytes_are_canonical(s))
        return false;
    fe25519 y, yy, u, v, x;
    mn__fe_frombytes(&y, s);
    fe_sq(&yy, &y);
    fe25519 one;
    fe_1(&one);
    fe_sub(&u, &yy, &one);
    fe_mul(&v, &yy, &mn__fe_d);
    fe_add(&v, &v, &one);
    if (!mn__fe_sqrt_ratio(&x, &u, &v)) /* v = d y^2 + 1 is never 0: -1/d is not a square */
        return false;
    unsigned sign = s[31] >> 7;
    if (sign && mn__fe_iszero(&x))
        return false;
    if (sign)
        fe_neg(&x, &x);
    r->X = x;
    r->Y = y;
    fe_1(&r->Z);
    fe_mul(&r->T, &x, &y);
    return true;
}

static void encode_affine(uint8_t s[32], const ge_p3 *p, const fe25519 *zinv)
{
    fe25519 x, y;
    fe_mul(&x, &p->X, zinv);
    fe_mul(&y, &p->Y, zinv);
    mn__fe_tobytes(s, &y);
    s[31] |= (uint8_t)(mn__fe_sgn0(&x) << 7);
}

void mn__ge_tobytes(uint8_t s[32], const ge_p3 *p)
{
    fe25519 zinv;
    mn__fe_invert(&zinv, &p->Z);
    encode_affine(s, p, &zinv);
}

void mn__ge_tobytes_batch(uint8_t (*s)[32], const ge_p3 *p, int n)
{
    MN_ASSERT(n >= 1);
    MN_ASSERT(n <= 4);
    /* Montgomery's trick: prefix products, one inversion, then peel off each inverse. */
    fe25519 prefix[4], inv, zinv;
    prefix[0] = p[0].Z;
    for (int i = 1; i < n; i++)
        fe_mul(&prefix[i], &prefix[i - 1], &p[i].Z);
    mn__fe_invert(&inv, &prefix[n - 1]);
    for (int i = n - 1; i > 0; i--) {
        fe_mul(&zinv, &inv, &prefix[i - 1]);
        fe_mul(&inv, &inv, &p[i].Z);
        encode_affine(s[i], &p[i], &zinv);
    }
    encode_affine(s[0], &p[0], &inv);
}

void mn__ge_base(ge_p3 *r)
{
    static const uint8_t b[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                                  0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
    bool ok = mn__ge_frombytes(r, b);
    MN_ASSERT(ok);
}

bool mn__ge_is_identity(const ge_p3 *p)
{
    return mn__fe_iszero(&p->X) && mn__fe_eq(&p->Y, &p->Z);
}

void mn__ge_add(ge_p3 *r, const ge_p3 *p, const ge_p3 *q)
{
    ge_cached c;
    ge_p1p1 t;
    p3_to_cached(&c, q);
    add_cached(&t, p, &c, 0);
    p1p1_to_p3(r, &t);
}

void mn__ge_neg(ge_p3 *r, const ge_p3 *p)
{
    fe_neg(&r->X, &p->X);
    r->Y = p->Y;
    r->Z = p->Z;
    fe_neg(&r->T, &p->T);
}

void mn__ge_dbl(ge_p3 *r, const ge_p3 *p)
{
    ge_p2 q;
    ge_p1p1 t;
    p3_to_p2(&q, p);
    p2_dbl(&t, &q);
    p1p1_to_p3(r, &t);
}

void mn__ge_mul_cofactor(ge_p3 *r, const ge_p3 *p)
{
    ge_p2 q;
    ge_p1p1 t;
    p3_to_p2(&q, p);
    p2_dbl(&t, &q);
    p1p1_to_p2(&q, &t);
    p2_dbl(&t, &q);
    p1p1_to_p2(&q, &t);
    p2_dbl(&t, &q);
    p1p1_to_p3(r, &t);
}

bool mn__ge_has_small_order(const ge_p3 *p)
{
    ge_p3 q;
    mn__ge_mul_cofactor(&q, p);
    return mn__ge_is_identity(&q);
}

/* ---- constant-time scalar multiplication ------------------------------------------------- */

static void cached_cmov(ge_cached *r, const ge_cached *a, unsigned b)
{
    fe_cmov(&r->YplusX, &a->YplusX, b);
    fe_cmov(&r->YminusX, &a->YminusX, b);
    fe_cmov(&r->Z, &a->Z, b);
    fe_cmov(&r->T2d, &a->T2d, b);
}

static unsigned ct_eq(uint32_t a, uint32_t b)
{
    return (unsigned)(((uint32_t)(a ^ b) - 1u) >> 31);
}

/* r = digit * P from table[j] = (j + 1) P, digit in [-8, 8], without secret-dependent
 * branches or memory addresses. */
static void cached_select(ge_cached *r, const ge_cached table[8], int8_t digit)
{
    const uint32_t neg = (uint32_t)(uint8_t)digit >> 7;
    const uint32_t abs = (uint32_t)(int32_t)digit ^ (0u - neg);
    const uint32_t mag = (abs + neg) & 0xff;
    fe_1(&r->YplusX);
    fe_1(&r->YminusX);
    fe_1(&r->Z);
    fe_0(&r->T2d);
    for (uint32_t j = 0; j < 8; j++)
        cached_cmov(r, &table[j], ct_eq(mag, j + 1));
    ge_cached m;
    m.YplusX = r->YminusX;
    m.YminusX = r->YplusX;
    m.Z = r->Z;
    fe_neg(&m.T2d, &r->T2d);
    cached_cmov(r, &m, neg);
}

/* Signed radix 16: a = sum e[i] 16^i with e[i] in [-8, 7] and e[63] in [0, 8]. */
static void recode_radix16(int8_t e[64], const uint8_t a[32])
{
    for (int i = 0; i < 32; i++) {
        e[2 * i] = (int8_t)(a[i] & 15);
        e[2 * i + 1] = (int8_t)(a[i] >> 4);
    }
    int8_t carry = 0;
    for (int i = 0; i < 63; i++) { /* recode to digits in [-8, 7], the top one in [0, 8] */
        e[i] = (int8_t)(e[i] + carry);
        carry = (int8_t)((e[i] + 8) >> 4);
        e[i] = (int8_t)(e[i] - carry * 16);
    }
    e[63] = (int8_t)(e[63] + carry);
}

void mn__ge_scalarmult_ct(ge_p3 *r, const uint8_t a[32], const ge_p3 *p)
{
    MN_ASSERT(a[31] <= 127);
    int8_t e[64];
    recode_radix16(e, a);
    ge_cached table[8];
    ge_p3 q = *p;
    p3_to_cached(&table[0], p);
    for (int j = 1; j < 8; j++) {
        mn__ge_add(&q, &q, p);
        p3_to_cached(&table[j], &q);
    }
    ge_p1p1 t;
    ge_p2 s;
    ge_cached sel;
    mn__ge_identity(r);
    for (int i = 63; i >= 0; i--) {
        p3_to_p2(&s, r);
        for (int k = 0; k < 3; k++) {
            p2_dbl(&t, &s);
            p1p1_to_p2(&s, &t);
        }
        p2_dbl(&t, &s);
        p1p1_to_p3(r, &t);
        cached_select(&sel, table, e[i]);
        add_cached(&t, r, &sel, 0);
        p1p1_to_p3(r, &t);
    }
    memset(e, 0, sizeof(e));
}

/* ---- variable-time multi-scalar multiplication (verification only) ------------------------ */

/* Width-w non-adjacent form: naf[i] is 0 or odd with |naf[i]| < 2^(w-1), and any two nonzero
 * digits are at least w positions apart, so sum naf[i] 2^i = s. */
static void wnaf(int8_t naf[NAF_LEN], const uint8_t s[32], int w)
{
    uint64_t x[5] = {0};
    for (int i = 0; i < 32; i++)
        x[i / 8] |= (uint64_t)s[i] << (8 * (i % 8));
    memset(naf, 0, NAF_LEN);
    const uint64_t width = (uint64_t)1 << w, mask = width - 1;
    uint64_t carry = 0;
    int pos = 0;
    while (pos < NAF_LEN) {
        const int idx = pos / 64, bit = pos % 64;
        uint64_t buf = x[idx] >> bit;
        if (bit + w > 64 && idx < 4)
            buf |= x[idx + 1] << (64 - bit);
        const uint64_t window = carry + (buf & mask);
        if ((window & 1) == 0) { /* an even window keeps its carry: see the bit above */
            pos++;
            continue;
        }
        if (window < width / 2) {
            carry = 0;
            naf[pos] = (int8_t)window;
        } else {
            carry = 1;
            naf[pos] = (int8_t)((int64_t)window - (int64_t)width);
        }
        pos += w;
    }
}

typedef struct msm_term {
    int8_t naf[NAF_LEN];
    const ge_cached *cached;   /* odd multiples P, 3P, 5P, ... of a variable base, or */
    const ge_precomp *precomp; /* odd multiples of a fixed base, affine */
} msm_term;

static void odd_multiples(ge_cached table[TABLE_VAR], const ge_p3 *p)
{
    ge_p3 twice, q = *p;
    ge_cached twice_cached;
    ge_p1p1 t;
    mn__ge_dbl(&twice, p);
    p3_to_cached(&twice_cached, &twice);
    p3_to_cached(&table[0], p);
    for (int j = 1; j < TABLE_VAR; j++) {
        add_cached(&t, &q, &twice_cached, 0);
        p1p1_to_p3(&q, &t);
        p3_to_cached(&table[j], &q);
    }
}

/* Straus' interleaving: one shared chain of doublings, one addition per nonzero digit. */
static void straus_vartime(ge_p3 *r, const msm_term *terms, int n)
{
    int top = -1;
    for (int k = 0; k < n; k++)
        for (int i = NAF_LEN - 1; i > top; i--)
            if (terms[k].naf[i] != 0) {
                top = i;
                break;
            }
    mn__ge_identity(r);
    ge_p2 acc;
    ge_p1p1 t;
    p3_to_p2(&acc, r);
    for (int i = top; i >= 0; i--) {
        p2_dbl(&t, &acc);
        for (int k = 0; k < n; k++) {
            const int d = terms[k].naf[i];
            if (d == 0)
                continue;
            p1p1_to_p3(r, &t);
            const int neg = d < 0, idx = (neg ? -d : d) / 2;
            if (terms[k].cached != NULL)
                add_cached(&t, r, &terms[k].cached[idx], neg);
            else
                add_precomp(&t, r, &terms[k].precomp[idx], neg);
        }
        if (i > 0)
            p1p1_to_p2(&acc, &t);
        else
            p1p1_to_p3(r, &t);
    }
}

/* ---- base-point tables: wNAF tables for verification, comb for constant-time k B ---------- */

static ge_precomp base_table[2][TABLE_BASE]; /* odd multiples of B and of 2^128 B */
static ge_precomp comb_table[32][8];         /* comb_table[i][j] = (j + 1) 256^i B */
static pthread_once_t base_table_once = PTHREAD_ONCE_INIT;

/* Converts n <= TABLE_BASE points to affine precomputed form with one inversion (Montgomery's
 * trick), so building all tables costs 34 inversions instead of 384. */
static void to_precomp_batch(ge_precomp *r, const ge_p3 *p, int n)
{
    MN_ASSERT(n >= 1);
    MN_ASSERT(n <= TABLE_BASE);
    fe25519 prefix[TABLE_BASE], inv, zinv, x, y, xy;
    prefix[0] = p[0].Z;
    for (int i = 1; i < n; i++)
        fe_mul(&prefix[i], &prefix[i - 1], &p[i].Z);
    mn__fe_invert(&inv, &prefix[n - 1]);
    for (int i = n - 1; i >= 0; i--) {
        if (i > 0) {
            fe_mul(&zinv, &inv, &prefix[i - 1]);
            fe_mul(&inv, &inv, &p[i].Z);
        } else {
            zinv = inv;
        }
        fe_mul(&x, &p[i].X, &zinv);
        fe_mul(&y, &p[i].Y, &zinv);
        fe_add(&r[i].yplusx, &y, &x);
        fe_carry(&r[i].yplusx);
        fe_sub(&r[i].yminusx, &y, &x);
        fe_mul(&xy, &x, &y);
        fe_mul(&r[i].xy2d, &xy, &mn__fe_d2);
    }
}

static void base_table_build(void)
{
    ge_p3 base, pts[TABLE_BASE];
    mn__ge_base(&base);
    for (int t = 0; t < 2; t++) {
        ge_p3 twice;
        mn__ge_dbl(&twice, &base);
        pts[0] = base;
        for (int j = 1; j < TABLE_BASE; j++)
            mn__ge_add(&pts[j], &pts[j - 1], &twice);
        to_precomp_batch(base_table[t], pts, TABLE_BASE);
        for (int k = 0; k < 128; k++)
            mn__ge_dbl(&base, &base);
    }
    mn__ge_base(&base);
    for (int i = 0; i < 32; i++) {
        pts[0] = base;
        for (int j = 1; j < 8; j++)
            mn__ge_add(&pts[j], &pts[j - 1], &base);
        to_precomp_batch(comb_table[i], pts, 8);
        for (int k = 0; k < 8; k++)
            mn__ge_dbl(&base, &base);
    }
}

static void precomp_cmov(ge_precomp *r, const ge_precomp *a, unsigned b)
{
    fe_cmov(&r->yplusx, &a->yplusx, b);
    fe_cmov(&r->yminusx, &a->yminusx, b);
    fe_cmov(&r->xy2d, &a->xy2d, b);
}

/* Constant-time counterpart of cached_select for the affine comb table. */
static void precomp_select(ge_precomp *r, const ge_precomp table[8], int8_t digit)
{
    const uint32_t neg = (uint32_t)(uint8_t)digit >> 7;
    const uint32_t abs = (uint32_t)(int32_t)digit ^ (0u - neg);
    const uint32_t mag = (abs + neg) & 0xff;
    fe_1(&r->yplusx);
    fe_1(&r->yminusx);
    fe_0(&r->xy2d);
    for (uint32_t j = 0; j < 8; j++)
        precomp_cmov(r, &table[j], ct_eq(mag, j + 1));
    ge_precomp m;
    m.yplusx = r->yminusx;
    m.yminusx = r->yplusx;
    fe_neg(&m.xy2d, &r->xy2d);
    precomp_cmov(r, &m, neg);
}

void mn__ge_scalarmult_base_ct(ge_p3 *r, const uint8_t a[32])
{
    MN_ASSERT(a[31] <= 127);
    pthread_once(&base_table_once, base_table_build);
    int8_t e[64];
    recode_radix16(e, a);
    /* a B = 16 (sum of odd-position digits) + (sum of even-position digits), each digit
     * e[i] 16^i B looked up as e[i] (256^(i/2) B). */
    ge_p1p1 t;
    ge_p2 s;
    ge_precomp sel;
    mn__ge_identity(r);
    for (int i = 1; i < 64; i += 2) {
        precomp_select(&sel, comb_table[i / 2], e[i]);
        add_precomp(&t, r, &sel, 0);
        p1p1_to_p3(r, &t);
    }
    p3_to_p2(&s, r);
    for (int k = 0; k < 3; k++) {
        p2_dbl(&t, &s);
        p1p1_to_p2(&s, &t);
    }
    p2_dbl(&t, &s);
    p1p1_to_p3(r, &t);
    for (int i = 0; i < 64; i += 2) {
        precomp_select(&sel, comb_table[i / 2], e[i]);
        add_precomp(&t, r, &sel, 0);
        p1p1_to_p3(r, &t);
    }
    memset(e, 0, sizeof(e));
}

void mn__ge_double_scalarmult_base_vartime(ge_p3 *r, const uint8_t a[32], const ge_p3 *A,
                                           const uint8_t b[32])
{
    pthread_once(&base_table_once, base_table_build);
    msm_term terms[3];
    ge_cached table[TABLE_VAR];
    uint8_t half[32] = {0};
    odd_multiples(table, A);
    wnaf(terms[0].naf, a, WNAF_VAR);
    terms[0].cached = table;
    terms[0].precomp = NULL;
    memcpy(half, b, 16);
    wnaf(terms[1].naf, half, WNAF_BASE);
    terms[1].cached = NULL;
    terms[1].precomp = base_table[0];
    memcpy(half, b + 16, 16);
    wnaf(terms[2].naf, half, WNAF_BASE);
    terms[2].cached = NULL;
    terms[2].precomp = base_table[1];
    straus_vartime(r, terms, 3);
}

void mn__ge_double_scalarmult_vartime(ge_p3 *r, const uint8_t a[32], const ge_p3 *A,
                                      const uint8_t b[32], const ge_p3 *B)
{
    msm_term terms[2];
    ge_cached table_a[TABLE_VAR], table_b[TABLE_VAR];
    odd_multiples(table_a, A);
    odd_multiples(table_b, B);
    wnaf(terms[0].naf, a, WNAF_VAR);
    terms[0].cached = table_a;
    terms[0].precomp = NULL;
    wnaf(terms[1].naf, b, WNAF_VAR);
    terms[1].cached = table_b;
    terms[1].precomp = NULL;
    straus_vartime(r, terms, 2);
}
