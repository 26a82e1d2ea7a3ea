/* SPDX-License-Identifier: Apache-2.0
 *
 * ge25519.h: the edwards25519 group, internal to src/crypto. Points are kept in extended
 * coordinates (X:Y:Z:T) with x = X/Z, y = Y/Z, xy = T/Z. Decoding is strict RFC 8032 §5.1.3
 * (y < p, x = 0 only with a clear sign bit, on the curve); it does NOT check subgroup
 * membership, which the VRF consensus rule does not require. Two multiplication families exist
 * and must not be mixed up: the *_vartime double-scalar multiplications leak their scalars
 * through timing and are for verification (public inputs) only; mn__ge_scalarmult_ct is
 * constant time and is what proving uses with secret scalars.
 */
#ifndef MN_CRYPTO_GE25519_H
#define MN_CRYPTO_GE25519_H

#include <stdbool.h>
#include <stdint.h>

#include "fe25519.h"

typedef struct ge_p3 {
    fe25519 X, Y, Z, T;
} ge_p3;

/* Decodes a point; false if s is not a canonical encoding of a curve point (RFC 8032). */
bool mn__ge_frombytes(ge_p3 *r, const uint8_t s[32]);
void mn__ge_tobytes(uint8_t s[32], const ge_p3 *p);
/* Encodes n <= 4 points with a single field inversion. */
void mn__ge_tobytes_batch(uint8_t (*s)[32], const ge_p3 *p, int n);

void mn__ge_identity(ge_p3 *r);
/* The base point B of RFC 8032. */
void mn__ge_base(ge_p3 *r);
bool mn__ge_is_identity(const ge_p3 *p);
void mn__ge_add(ge_p3 *r, const ge_p3 *p, const ge_p3 *q);
void mn__ge_neg(ge_p3 *r, const ge_p3 *p);
void mn__ge_dbl(ge_p3 *r, const ge_p3 *p);
/* r = 8 p (three doublings). */
void mn__ge_mul_cofactor(ge_p3 *r, const ge_p3 *p);
/* True iff 8 p is the identity (p is one of the 8 points of small order). */
bool mn__ge_has_small_order(const ge_p3 *p);

/* Constant time in a and p: r = a p for a scalar with a[31] <= 127 (e.g. reduced mod L). */
void mn__ge_scalarmult_ct(ge_p3 *r, const uint8_t a[32], const ge_p3 *p);
/* Constant time in a: r = a B for the base point B (a comb over a table built once). */
void mn__ge_scalarmult_base_ct(ge_p3 *r, const uint8_t a[32]);
/* Variable time, public inputs only: r = a A + b B, with B the base point (precomputed tables,
 * built once on first use, thread-safe). Any 256-bit a and b. */
void mn__ge_double_scalarmult_base_vartime(ge_p3 *r, const uint8_t a[32], const ge_p3 *A,
                                           const uint8_t b[32]);
/* Variable time, public inputs only: r = a A + b B for two arbitrary points. */
void mn__ge_double_scalarmult_vartime(ge_p3 *r, const uint8_t a[32], const ge_p3 *A,
                                      const uint8_t b[32], const ge_p3 *B);

#endif
