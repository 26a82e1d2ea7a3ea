/* SPDX-License-Identifier: Apache-2.0
 *
 * merkle.h: RFC 9162 (= RFC 6962) Merkle tree hashes over SHA-256: leaf and node hashes, the
 * tree hash MTH of an array of leaf hashes, inclusion proofs PATH(m, D[n]) and consistency
 * proofs PROOF(m, D[n]) (generation and verification), an incremental append-only builder, and
 * the hash of a tree head (size, root) for signing.
 *
 * Hashes: leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right), MTH of the empty
 * tree = SHA-256(""). The tree is left-full (split at the largest power of two below n), never
 * padded, and no node is duplicated. Proofs are arrays of 32-byte hashes ordered bottom-up (leaf
 * side first), exactly as in the RFC. Tree sizes are uint64_t; verification is defined for
 * every size and index, allocates nothing, never recurses, and never reads outside the proof it
 * is given. Generation works on arrays in memory and is O(n) per proof: it is for tests, tools
 * and small trees, not for serving proofs from a large log (that needs stored subtree hashes).
 * Not here: storage of trees, compact ranges, and signing of tree heads (see the signer).
 */
#ifndef METANODE_MERKLE_H
#define METANODE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "metanode/assert.h"
#include "metanode/error.h"
#include "metanode/limits.h"

#define MN_MERKLE_HASH_BYTES 32u
/* One subtree root per set bit of a 64-bit leaf count. */
#define MN_MERKLE_BUILDER_DEPTH 64u

/* leaf = SHA-256(0x00 || data). */
void mn_merkle_leaf_hash(uint8_t out[static MN_MERKLE_HASH_BYTES], const void *data, size_t len);
/* node = SHA-256(0x01 || left || right). out may alias left or right. */
void mn_merkle_node_hash(uint8_t out[static MN_MERKLE_HASH_BYTES],
                         const uint8_t left[static MN_MERKLE_HASH_BYTES],
                         const uint8_t right[static MN_MERKLE_HASH_BYTES]);
/* MTH of n leaf hashes (leaf_hashes may be NULL when n is 0). Iterative, O(n) time, O(log n)
 * stack space. */
void mn_merkle_root(const uint8_t (*leaf_hashes)[MN_MERKLE_HASH_BYTES], uint64_t n,
                    uint8_t out[static MN_MERKLE_HASH_BYTES]);
/* SHA-256(0x1e || size as 8 bytes big-endian || root): what a signer signs for a tree head, so
 * a signature binds the size with the root and can never be read as another object's. */
void mn_merkle_tree_head_hash(uint64_t size, const uint8_t root[static MN_MERKLE_HASH_BYTES],
                              uint8_t out[static MN_MERKLE_HASH_BYTES]);

/* PATH(index, D[size]) over the first `size` entries of leaf_hashes, written bottom-up into
 * proof with *count set to its length (at most MN_MERKLE_PROOF_HASHES_MAX). Errors:
 * MN_EINVAL if index >= size. proof and *count are written only on success. */
int mn_merkle_inclusion_proof(const uint8_t (*leaf_hashes)[MN_MERKLE_HASH_BYTES], uint64_t index,
                              uint64_t size,
                              uint8_t proof[static MN_MERKLE_PROOF_HASHES_MAX]
                                           [MN_MERKLE_HASH_BYTES],
                              size_t *count, mn_err *err);
/* PROOF(size1, D[size2]): proves that the tree of the first size1 leaves is a prefix of the
 * tree of size2 leaves. size1 == size2 gives an empty proof. Errors: MN_EINVAL if size1 is 0
 * or size1 > size2. proof and *count are written only on success. */
int mn_merkle_consistency_proof(const uint8_t (*leaf_hashes)[MN_MERKLE_HASH_BYTES],
                                uint64_t size1, uint64_t size2,
                                uint8_t proof[static MN_MERKLE_PROOF_HASHES_MAX]
                                             [MN_MERKLE_HASH_BYTES],
                                size_t *count, mn_err *err);

/* Verifies that leaf_hash is entry `index` of the tree of `size` leaves with the given root
 * (RFC 9162 §2.1.3.2). All arguments may be untrusted; proof holds count hashes (proof may be
 * NULL when count is 0). Returns 0 if the proof is valid; -MN_EINVAL if index >= size (no
 * proof can exist); -MN_ECRYPTO if the proof has the wrong length or does not lead to root. */
MN_MUST_CHECK int mn_merkle_verify_inclusion(const uint8_t leaf_hash[static MN_MERKLE_HASH_BYTES],
                                             uint64_t index, uint64_t size,
                                             const uint8_t (*proof)[MN_MERKLE_HASH_BYTES],
                                             size_t count,
                                             const uint8_t root[static MN_MERKLE_HASH_BYTES],
                                             mn_err *err);
/* Verifies that the tree (size1, root1) is a prefix of the tree (size2, root2) (RFC 9162
 * §2.1.4.2). All arguments may be untrusted. Returns 0 if valid; -MN_EINVAL if size1 is 0
 * (meaningless) or size1 > size2; -MN_ECRYPTO if the proof is wrong: not empty when size1 ==
 * size2, empty when size1 < size2, of the wrong length, or not leading to both roots (for
 * size1 == size2 the roots must simply be equal). */
MN_MUST_CHECK int mn_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                               const uint8_t root1[static MN_MERKLE_HASH_BYTES],
                                               const uint8_t root2[static MN_MERKLE_HASH_BYTES],
                                               const uint8_t (*proof)[MN_MERKLE_HASH_BYTES],
                                               size_t count, mn_err *err);

/* Incremental (append-only) tree. Caller-owned, fixed size (about 2 KiB), no allocation and no
 * _deinit. stack[i] is the root of a perfect subtree, one per set bit of count, largest (oldest)
 * first. An append costs one leaf hash (for data) plus on average one node hash; reading the
 * root costs popcount(count) - 1 node hashes and leaves the state unchanged. */
typedef struct mn_merkle_builder {
    uint64_t count;
    uint8_t stack[MN_MERKLE_BUILDER_DEPTH][MN_MERKLE_HASH_BYTES];
} mn_merkle_builder;

void mn_merkle_builder_init(mn_merkle_builder *builder);
/* Appends a leaf given its data (hashed as a leaf) or its leaf hash. A builder holds at most
 * 2^64 - 1 leaves; appending beyond that is a programmer error (asserted). */
void mn_merkle_builder_append(mn_merkle_builder *builder, const void *data, size_t len);
void mn_merkle_builder_append_hash(mn_merkle_builder *builder,
                                   const uint8_t leaf_hash[static MN_MERKLE_HASH_BYTES]);
uint64_t mn_merkle_builder_count(const mn_merkle_builder *builder);
/* MTH of the leaves appended so far (SHA-256("") when none). */
void mn_merkle_builder_root(const mn_merkle_builder *builder,
                            uint8_t out[static MN_MERKLE_HASH_BYTES]);

#endif
