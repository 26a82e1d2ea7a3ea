/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_merkle_proof.c: feeds untrusted (sizes, roots, proof) tuples to both Merkle verifiers,
 * then runs a round-trip oracle on a small tree derived from the same input. Input format (a
 * short input is zero-padded to the 80-byte header):
 *   [0, 8)   a, big-endian: the leaf index for inclusion, size1 for consistency
 *   [8, 16)  b, big-endian: the tree size for inclusion, size2 for consistency
 *   [16, 48) h1: the leaf hash for inclusion, root1 for consistency
 *   [48, 80) h2: the root for inclusion, root2 for consistency
 *   [80, ..) the proof: floor(rest / 32) hashes; a trailing partial hash is ignored
 * The verifiers must never crash and must return 0, -MN_EINVAL or -MN_ECRYPTO. The oracle
 * builds a tree of 1 + b % 64 leaves, generates an inclusion and a consistency proof, checks
 * that both verify, then XORs the input's proof bytes into them: the result must verify iff
 * the XOR changed nothing. It does not try to find valid proofs for the fuzzed roots (that would
 * need a SHA-256 preimage); the seeds in tests/regress/merkle_proof/ carry valid ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/bytes.h"
#include "metanode/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_BYTES 80u
#define ORACLE_LEAVES_MAX 64u

static void check_rc(int rc, const mn_err *err)
{
    if (rc != 0 && rc != -MN_EINVAL && rc != -MN_ECRYPTO)
        abort();
    if (rc != 0 && err->code != (mn_code)-rc)
        abort();
}

/* XORs `mask` into proof; returns whether any byte changed. */
static int apply_mask(uint8_t (*proof)[MN_MERKLE_HASH_BYTES], size_t count,
                      const uint8_t (*mask)[MN_MERKLE_HASH_BYTES], size_t mask_count)
{
    int changed = 0;
    for (size_t i = 0; i < count && i < mask_count; i++)
        for (size_t j = 0; j < MN_MERKLE_HASH_BYTES; j++) {
            proof[i][j] ^= mask[i][j];
            changed |= mask[i][j] != 0;
        }
    return changed;
}

static void oracle(uint64_t a, uint64_t b, const uint8_t *seed,
                   const uint8_t (*mask)[MN_MERKLE_HASH_BYTES], size_t mask_count)
{
    uint8_t leaves[ORACLE_LEAVES_MAX][MN_MERKLE_HASH_BYTES], root[MN_MERKLE_HASH_BYTES];
    uint8_t old_root[MN_MERKLE_HASH_BYTES];
    uint8_t proof[MN_MERKLE_PROOF_HASHES_MAX][MN_MERKLE_HASH_BYTES];
    uint64_t n = 1 + b % ORACLE_LEAVES_MAX, m = a % n;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t leaf[MN_MERKLE_HASH_BYTES + 8];
        memcpy(leaf, seed, MN_MERKLE_HASH_BYTES);
        mn_store_u64_be(leaf + MN_MERKLE_HASH_BYTES, i);
        mn_merkle_leaf_hash(leaves[i], leaf, sizeof(leaf));
    }
    mn_merkle_root(leaves, n, root);
    mn_merkle_root(leaves, m + 1, old_root);
    size_t count;
    mn_err err;
    if (mn_merkle_inclusion_proof(leaves, m, n, proof, &count, &err) != 0 ||
        mn_merkle_verify_inclusion(leaves[m], m, n, proof, count, root, &err) != 0)
        abort();
    int changed = apply_mask(proof, count, mask, mask_count);
    if ((mn_merkle_verify_inclusion(leaves[m], m, n, proof, count, root, &err) == 0) == changed)
        abort();
    if (mn_merkle_consistency_proof(leaves, m + 1, n, proof, &count, &err) != 0 ||
        mn_merkle_verify_consistency(m + 1, n, old_root, root, proof, count, &err) != 0)
        abort();
    changed = apply_mask(proof, count, mask, mask_count);
    if ((mn_merkle_verify_consistency(m + 1, n, old_root, root, proof, count, &err) == 0) ==
        changed)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t header[HEADER_BYTES] = {0};
    memcpy(header, data, size < HEADER_BYTES ? size : HEADER_BYTES);
    uint64_t a = mn_load_u64_be(header), b = mn_load_u64_be(header + 8);
    const uint8_t *h1 = header + 16, *h2 = header + 48;
    size_t count = size > HEADER_BYTES ? (size - HEADER_BYTES) / MN_MERKLE_HASH_BYTES : 0;
    /* Copy the proof so the verifiers see an exactly sized, aligned-as-declared array; an
     * out-of-bounds read would then hit the end of this allocation under ASan. */
    uint8_t (*proof)[MN_MERKLE_HASH_BYTES] = NULL;
    if (count > 0) {
        proof = malloc(count * MN_MERKLE_HASH_BYTES);
        if (proof == NULL)
            return 0;
        memcpy(proof, data + HEADER_BYTES, count * MN_MERKLE_HASH_BYTES);
    }
    mn_err err;
    check_rc(mn_merkle_verify_inclusion(h1, a, b, (const uint8_t(*)[MN_MERKLE_HASH_BYTES])proof,
                                        count, h2, &err),
             &err);
    check_rc(mn_merkle_verify_consistency(a, b, h1, h2,
                                          (const uint8_t(*)[MN_MERKLE_HASH_BYTES])proof, count,
                                          &err),
             &err);
    oracle(a, b, h1, (const uint8_t(*)[MN_MERKLE_HASH_BYTES])proof, count);
    free(proof);
    return 0;
}
