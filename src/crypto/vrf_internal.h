/* SPDX-License-Identifier: Apache-2.0
 *
 * vrf_internal.h: the intermediate steps of RFC 9381 ECVRF exposed to the tests (and only the
 * tests), so that a mismatch against the RFC examples can be pinned to one step:
 * encode_to_curve with a trace of the TAI counter or the ELL2 field values, the secret scalar,
 * the nonce and the challenge. Not part of the public API.
 */
#ifndef MN_CRYPTO_VRF_INTERNAL_H
#define MN_CRYPTO_VRF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/vrf.h"

typedef struct mn__vrf_h2c_trace {
    int tai_ctr;                 /* TAI: the counter that succeeded */
    uint8_t uniform_bytes[48];   /* ELL2: expand_message_xmd output */
    uint8_t u[32];               /* ELL2: field element u, little-endian */
    uint8_t gx1[32];             /* ELL2: g(x1) = x1^3 + J x1^2 + x1, little-endian */
    bool gx1_is_square;
} mn__vrf_h2c_trace;

/* H = encode_to_curve(salt = pk, alpha) as point_to_string; 0, or -1 if TAI found no point or
 * the suite is unknown. trace may be NULL. */
int mn__vrf_encode_to_curve(uint8_t h[32], const uint8_t pk[32], const uint8_t *alpha,
                            size_t alpha_len, enum mn_vrf_suite suite, mn__vrf_h2c_trace *trace);
/* x = clamp(SHA-512(seed)[0..31]) exactly as RFC 9381 prints it (not reduced mod L). */
void mn__vrf_secret_scalar(uint8_t x[32], const uint8_t seed[32]);
/* k_string = SHA-512(SHA-512(seed)[32..63] || h); k = k_string mod L. */
void mn__vrf_nonce(uint8_t k[32], uint8_t k_string[64], const uint8_t seed[32],
                   const uint8_t h[32]);
/* c = SHA-512(suite || 0x02 || y || h || gamma || u || v || 0x00)[0..15]. */
void mn__vrf_challenge(uint8_t c[16], enum mn_vrf_suite suite, const uint8_t y[32],
                       const uint8_t h[32], const uint8_t gamma[32], const uint8_t u[32],
                       const uint8_t v[32]);
/* mn_vrf_verify that also reports the recomputed U and V (uv may be NULL). */
int mn__vrf_verify_ex(uint8_t beta[64], uint8_t uv[2][32], const uint8_t pk[32],
                      const uint8_t proof[80], const uint8_t *alpha, size_t alpha_len,
                      enum mn_vrf_suite suite);

#endif
