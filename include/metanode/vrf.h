/* SPDX-License-Identifier: Apache-2.0
 *
 * vrf.h: the RFC 9381 verifiable random function on edwards25519 with SHA-512, in both
 * standard suites: ECVRF-EDWARDS25519-SHA512-TAI (suite string 0x03, try-and-increment
 * hash-to-curve) and ECVRF-EDWARDS25519-SHA512-ELL2 (0x04, RFC 9380 Elligator 2). Leader
 * election uses it: a validator proves over alpha = seed || round and every node verifies the
 * proof and derives the same 64-byte output beta. This is RFC 9381 final (challenge includes
 * the public key), NOT draft-03 as in Algorand's and Cardano's libsodium forks, and NOT drafts
 * <= 10: proofs from those never verify here. Keys are Ed25519 keys (the RFC's PK is the
 * Ed25519 public key of the same 32-byte seed). The suite byte is hashed everywhere, so a proof
 * made under one suite never verifies under the other; the protocol fixes one suite.
 *
 * CONSENSUS RULE (every node must accept exactly the same proofs). mn_vrf_verify(pk, pi, alpha)
 * accepts iff ALL of the following hold, and then returns beta:
 *   - the suite is 0x03 or 0x04 and alpha is at most MN_VRF_ALPHA_BYTES_MAX bytes;
 *   - Y = pk decodes under RFC 8032 §5.1.3 strictly: y < p (no non-canonical y), the point is on
 *     the curve, and x = 0 is only accepted with the sign bit clear;
 *   - Y does not have small order (8 Y is not the identity; RFC 9381 validate_key = TRUE).
 *     Y is NOT required to lie in the prime-order subgroup (a mixed-order Y is accepted);
 *   - Gamma = pi[0..31] decodes under the same strict rule. Gamma may have any order, including
 *     small order and the identity (RFC 9381 puts no further condition on it). Consequence,
 *     pinned by tests: a key holder can add a 2-torsion point to Gamma (or publish Y plus one)
 *     and such proofs verify whenever c is even; beta is unchanged because it hashes 8 Gamma.
 *     pi is therefore not unique per (pk, alpha), beta is (RFC 9381 §3.1 full uniqueness);
 *   - c = pi[32..47] is any 128-bit little-endian integer;
 *   - s = pi[48..79] read little-endian is < L = 2^252 + 27742317777372353535851937790883648493
 *     (s = 0 is allowed: arithmetic is generic, with no special-casing of the identity);
 *   - c equals the first 16 bytes of SHA-512(suite || 0x02 || pk || H || Gamma || U || V || 0x00)
 *     with H = encode_to_curve(pk as given, alpha), U = s B - c Y, V = s H - c Gamma computed
 *     exactly in the group (cofactorless equations, as in RFC 9381 §5.3).
 * beta = SHA-512(suite || 0x03 || encode(8 Gamma) || 0x00). TAI encode_to_curve tries counters
 * 0..255 and fails if none gives a valid non-identity point (probability about 2^-256).
 *
 * Crypto functions follow libsodium's convention: they return 0 on success and -1 on failure,
 * give no reason, and must be checked. All functions are thread-safe and allocate nothing.
 * Proving is constant time in the secret key and nonce; hash-to-curve (TAI) and verification
 * are variable time, which is fine because their inputs are public.
 */
#ifndef METANODE_VRF_H
#define METANODE_VRF_H

#include <stddef.h>
#include <stdint.h>

#include "metanode/assert.h"
#include "metanode/limits.h"

#define MN_VRF_PUBLICKEY_BYTES 32u
#define MN_VRF_SECRETKEY_BYTES 64u /* seed || public key, libsodium's Ed25519 layout */
#define MN_VRF_SEED_BYTES 32u
#define MN_VRF_PROOF_BYTES 80u  /* Gamma (32) || c (16) || s (32) */
#define MN_VRF_OUTPUT_BYTES 64u /* beta */

enum mn_vrf_suite {
    MN_VRF_SUITE_TAI = 0x03,  /* ECVRF-EDWARDS25519-SHA512-TAI */
    MN_VRF_SUITE_ELL2 = 0x04, /* ECVRF-EDWARDS25519-SHA512-ELL2 */
};

/* Derives the key pair of a 32-byte seed (RFC 8032 secret key). sk receives seed || pk and must
 * be wiped by the caller (sodium_memzero) when no longer needed. Returns 0, or -1 on failure. */
MN_MUST_CHECK int mn_vrf_keypair_from_seed(uint8_t pk[static MN_VRF_PUBLICKEY_BYTES],
                                           uint8_t sk[static MN_VRF_SECRETKEY_BYTES],
                                           const uint8_t seed[static MN_VRF_SEED_BYTES]);

/* Like mn_vrf_keypair_from_seed with a seed from the kernel's random pool. */
MN_MUST_CHECK int mn_vrf_keypair(uint8_t pk[static MN_VRF_PUBLICKEY_BYTES],
                                 uint8_t sk[static MN_VRF_SECRETKEY_BYTES]);

/* Writes the proof pi of alpha (alpha_len bytes; alpha may be NULL when alpha_len is 0) under
 * the secret key sk = seed || pk from the keypair functions (pk is taken as given: a sk whose
 * halves do not match yields proofs that never verify). Deterministic. Returns -1 on an
 * unknown suite, alpha_len > MN_VRF_ALPHA_BYTES_MAX, or a TAI hash-to-curve failure. */
MN_MUST_CHECK int mn_vrf_prove(uint8_t proof[static MN_VRF_PROOF_BYTES],
                               const uint8_t sk[static MN_VRF_SECRETKEY_BYTES],
                               const uint8_t *alpha, size_t alpha_len, enum mn_vrf_suite suite);

/* Verifies proof for (pk, alpha) under the consensus rule above. On success returns 0 and
 * writes beta; on failure returns -1 and leaves beta untouched. */
MN_MUST_CHECK int mn_vrf_verify(uint8_t beta[static MN_VRF_OUTPUT_BYTES],
                                const uint8_t pk[static MN_VRF_PUBLICKEY_BYTES],
                                const uint8_t proof[static MN_VRF_PROOF_BYTES],
                                const uint8_t *alpha, size_t alpha_len, enum mn_vrf_suite suite);

/* beta of a proof WITHOUT verifying it (RFC 9381 §5.2): only use it on proofs you produced or
 * already verified. Returns -1 if Gamma does not decode strictly or s >= L. */
MN_MUST_CHECK int mn_vrf_proof_to_hash(uint8_t beta[static MN_VRF_OUTPUT_BYTES],
                                       const uint8_t proof[static MN_VRF_PROOF_BYTES],
                                       enum mn_vrf_suite suite);

/* Parses "tai" / "ell2" (also the full RFC names, case-insensitive). Returns 0 or -1. */
MN_MUST_CHECK int mn_vrf_suite_parse(enum mn_vrf_suite *suite, const char *name);
/* "tai", "ell2", or NULL for a value that is not a suite. */
const char *mn_vrf_suite_name(enum mn_vrf_suite suite);

#endif
