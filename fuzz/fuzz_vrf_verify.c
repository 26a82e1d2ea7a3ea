/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_vrf_verify.c: libFuzzer target for mn_vrf_verify and mn_vrf_proof_to_hash on untrusted
 * bytes. Input layout: flags (1 byte) || pk (32) || proof (80) || alpha (rest); shorter inputs
 * are zero-padded. Flag bit 0 picks the suite (0 TAI, 1 ELL2). With flag bit 1 set, the 32 "pk"
 * bytes are used as a seed instead, a genuine proof of alpha is made, and the 80 "proof" bytes
 * are XORed onto it as a tamper mask: verification must then succeed exactly when the mask is
 * zero. Always checked: nothing crashes, and a verified proof's beta equals proof_to_hash's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "metanode/vrf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEAD_BYTES (1 + 32 + 80)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int sodium_ready;
    if (!sodium_ready) {
        if (sodium_init() < 0)
            abort();
        sodium_ready = 1;
    }
    uint8_t head[HEAD_BYTES] = {0}, pk[32], sk[64], proof[80], beta[64], beta2[64];
    memcpy(head, data, size < HEAD_BYTES ? size : HEAD_BYTES);
    const uint8_t *alpha = size > HEAD_BYTES ? data + HEAD_BYTES : NULL;
    const size_t alpha_len = size > HEAD_BYTES ? size - HEAD_BYTES : 0;
    const enum mn_vrf_suite suite = (head[0] & 1) ? MN_VRF_SUITE_ELL2 : MN_VRF_SUITE_TAI;
    memcpy(pk, head + 1, 32);
    memcpy(proof, head + 33, 80);
    int tampered = -1;
    if (head[0] & 2) {
        uint8_t genuine[80];
        if (mn_vrf_keypair_from_seed(pk, sk, head + 1) != 0)
            abort();
        if (mn_vrf_prove(genuine, sk, alpha, alpha_len, suite) != 0)
            return 0; /* alpha too long */
        tampered = 0;
        for (int i = 0; i < 80; i++) {
            tampered |= proof[i] != 0;
            proof[i] ^= genuine[i];
        }
    }
    const int verified = mn_vrf_verify(beta, pk, proof, alpha, alpha_len, suite);
    const int hashed = mn_vrf_proof_to_hash(beta2, proof, suite);
    if (verified == 0 && (hashed != 0 || memcmp(beta, beta2, 64) != 0))
        abort();
    if (tampered == 0 && verified != 0)
        abort(); /* a genuine proof was rejected */
    if (tampered == 1 && verified == 0)
        abort(); /* a tampered proof was accepted */
    return 0;
}
