/* SPDX-License-Identifier: Apache-2.0
 *
 * merkle.c: RFC 9162 §2.1 Merkle trees. Everything is iterative: the tree hash and the builder
 * keep a stack of perfect-subtree roots (one per set bit of the leaf count), proof generation
 * walks from the root down with a loop, and verification is the RFC's bit-walking algorithm.
 *
 * Verification first computes the exact proof length the sizes imply and rejects any other
 * length before hashing anything, so an attacker cannot make us hash more than 64 + 1 nodes;
 * the RFC's own checks (sn reaching 0 exactly at the end) are kept as well. Sizes near 2^64 are
 * handled with shifts and bit counts only: nothing adds to a size, so nothing can overflow. A
 * consistency proof for size2 > 2^63 may legitimately hold 65 hashes; the verifier reads proofs
 * in place, so MN_MERKLE_PROOF_HASHES_MAX only bounds generation, which works on in-memory arrays
 * (far below 2^59 leaves).
 */
#include "metanode/merkle.h"

#include <inttypes.h>
#include <string.h>

#include <sodium/crypto_verify_32.h>

#include "metanode/bytes.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

MN_STATIC_ASSERT(MN_MERKLE_HASH_BYTES == MN_SHA256_BYTES);
MN_STATIC_ASSERT(MN_MERKLE_BUILDER_DEPTH == 64);
MN_STATIC_ASSERT(MN_MERKLE_PROOF_HASHES_MAX >= 60); /* in-memory trees have < 2^59 leaves */

typedef uint8_t hash_t[MN_MERKLE_HASH_BYTES];

void mn_merkle_leaf_hash(uint8_t out[static MN_MERKLE_HASH_BYTES], const void *data, size_t len)
{
    mn_sha256_tagged(out, MN_TAG_MERKLE_LEAF, data, len);
}

void mn_merkle_node_hash(uint8_t out[static MN_MERKLE_HASH_BYTES],
                         const uint8_t left[static MN_MERKLE_HASH_BYTES],
                         const uint8_t right[static MN_MERKLE_HASH_BYTES])
{
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, MN_TAG_MERKLE_NODE);
    mn_sha256_update(&ctx, left, MN_MERKLE_HASH_BYTES);
    mn_sha256_update(&ctx, right, MN_MERKLE_HASH_BYTES);
    mn_sha256_final(&ctx, out); /* both inputs are consumed before out is written */
}

void mn_merkle_tree_head_hash(uint64_t size, const uint8_t root[static MN_MERKLE_HASH_BYTES],
                              uint8_t out[static MN_MERKLE_HASH_BYTES])
{
    uint8_t size_be[8];
    mn_store_u64_be(size_be, size);
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, MN_TAG_MERKLE_TREE_HEAD);
    mn_sha256_update(&ctx, size_be, sizeof(size_be));
    mn_sha256_update(&ctx, root, MN_MERKLE_HASH_BYTES);
    mn_sha256_final(&ctx, out);
}

/* ---- builder ----------------------------------------------------------------------------- */

void mn_merkle_builder_init(mn_merkle_builder *builder)
{
    MN_ASSERT(builder != NULL);
    memset(builder, 0, sizeof(*builder));
}

void mn_merkle_builder_append_hash(mn_merkle_builder *builder,
                                   const uint8_t leaf_hash[static MN_MERKLE_HASH_BYTES])
{
    MN_ASSERT(builder->count < UINT64_MAX);
    unsigned height = (unsigned)__builtin_popcountll(builder->count);
    hash_t h;
    memcpy(h, leaf_hash, sizeof(h));
    /* Each trailing 1 bit of count is a perfect subtree as large as the one being completed:
     * merge it (the older subtree is on the left). */
    for (uint64_t c = builder->count; c & 1; c >>= 1) {
        MN_DASSERT(height > 0);
        height--;
        mn_merkle_node_hash(h, builder->stack[height], h);
    }
    MN_ASSERT(height < MN_MERKLE_BUILDER_DEPTH);
    memcpy(builder->stack[height], h, sizeof(h));
    builder->count++;
    MN_DASSERT(height + 1 == (unsigned)__builtin_popcountll(builder->count));
}

void mn_merkle_builder_append(mn_merkle_builder *builder, const void *data, size_t len)
{
    hash_t leaf;
    mn_merkle_leaf_hash(leaf, data, len);
    mn_merkle_builder_append_hash(builder, leaf);
}

uint64_t mn_merkle_builder_count(const mn_merkle_builder *builder)
{
    return builder->count;
}

void mn_merkle_builder_root(const mn_merkle_builder *builder,
                            uint8_t out[static MN_MERKLE_HASH_BYTES])
{
    unsigned height = (unsigned)__builtin_popcountll(builder->count);
    if (height == 0) {
        mn_sha256(out, "", 0);
        return;
    }
    /* MTH splits at the largest power of two, so the root folds the subtree roots from the
     * smallest (rightmost) to the largest. */
    hash_t acc;
    memcpy(acc, builder->stack[height - 1], sizeof(acc));
    for (unsigned i = height - 1; i > 0; i--)
        mn_merkle_node_hash(acc, builder->stack[i - 1], acc);
    memcpy(out, acc, sizeof(acc));
}

/* ---- tree hash and proof generation ------------------------------------------------------ */

static void range_root(const hash_t *leaf_hashes, uint64_t begin, uint64_t end, hash_t out)
{
    MN_DASSERT(begin <= end);
    mn_merkle_builder b;
    mn_merkle_builder_init(&b);
    for (uint64_t i = begin; i < end; i++)
        mn_merkle_builder_append_hash(&b, leaf_hashes[i]);
    mn_merkle_builder_root(&b, out);
}

void mn_merkle_root(const uint8_t (*leaf_hashes)[MN_MERKLE_HASH_BYTES], uint64_t n,
                    uint8_t out[static MN_MERKLE_HASH_BYTES])
{
    MN_ASSERT(leaf_hashes != NULL || n == 0);
    range_root(leaf_hashes, 0, n, out);
}

/* Number of significant bits of x (0 for 0). */
static unsigned bit_length(uint64_t x)
{
    return x == 0 ? 0 : 64u - (unsigned)__builtin_clzll(x);
}

/* The split point k of RFC 9162: the largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    MN_DASSERT(n >= 2);
    return UINT64_C(1) << (bit_length(n - 1) - 1);
}

static void reverse_hashes(hash_t *hashes, size_t count)
{
    for (size_t i = 0, j = count; i + 1 < j; i++, j--) {
        hash_t t;
        memcpy(t, hashes[i], sizeof(t));
        memcpy(hashes[i], hashes[j - 1], sizeof(t));
        memcpy(hashes[j - 1], t, sizeof(t));
    }
}

int mn_merkle_inclusion_proof(const uint8_t (*leaf_hashes)[MN_MERKLE_HASH_BYTES], uint64_t index,
                              uint64_t size,
                              uint8_t proof[static MN_MERKLE_PROOF_HASHES_MAX]
                                           [MN_MERKLE_HASH_BYTES],
                              size_t *count, mn_err *err)
{
    if (index >= size)
        return mn_err_set(err, MN_EINVAL, 0,
                          "merkle: leaf index %" PRIu64 " is not below tree size %" PRIu64,
                          index, size);
    MN_ASSERT(leaf_hashes != NULL && count != NULL);
    MN_ASSERT(size <= SIZE_MAX / MN_MERKLE_HASH_BYTES);
    /* Walk from the root towards the leaf; each step records the sibling subtree. */
    size_t k = 0;
    uint64_t lo = 0, hi = size;
    while (hi - lo > 1) {
        uint64_t split = lo + split_point(hi - lo);
        MN_ASSERT(k < MN_MERKLE_PROOF_HASHES_MAX);
        if (index < split) {
            range_root(leaf_hashes, split, hi, proof[k++]);
            hi = split;
        } else {
            range_root(leaf_hashes, lo, split, proof[k++]);
            lo = split;
        }
    }
    MN_ASSERT(lo == index);
    reverse_hashes(proof, k);
    *count = k;
    return 0;
}

int mn_merkle_consistency_proof(const uint8_t (*leaf_hashes)[MN_MERKLE_HASH_BYTES],
                                uint64_t size1, uint64_t size2,
                                uint8_t proof[static MN_MERKLE_PROOF_HASHES_MAX]
                                             [MN_MERKLE_HASH_BYTES],
                                size_t *count, mn_err *err)
{
    if (size1 == 0 || size1 > size2)
        return mn_err_set(err, MN_EINVAL, 0,
                          "merkle: no consistency proof from size %" PRIu64 " to %" PRIu64,
                          size1, size2);
    MN_ASSERT(leaf_hashes != NULL && count != NULL);
    MN_ASSERT(size2 <= SIZE_MAX / MN_MERKLE_HASH_BYTES);
    /* SUBPROOF(m, D[lo:hi], whole) of RFC 9162 §2.1.4.1 as a loop: `whole` is true while
     * D[lo:hi] is still a prefix-aligned subtree whose root the verifier already knows. */
    size_t k = 0;
    uint64_t lo = 0, hi = size2, m = size1;
    int whole = 1;
    while (m != hi - lo) {
        uint64_t split = split_point(hi - lo);
        MN_ASSERT(k < MN_MERKLE_PROOF_HASHES_MAX);
        if (m <= split) {
            range_root(leaf_hashes, lo + split, hi, proof[k++]);
            hi = lo + split;
        } else {
            range_root(leaf_hashes, lo, lo + split, proof[k++]);
            lo += split;
            m -= split;
            whole = 0;
        }
    }
    if (!whole) {
        MN_ASSERT(k < MN_MERKLE_PROOF_HASHES_MAX);
        range_root(leaf_hashes, lo, hi, proof[k++]);
    }
    reverse_hashes(proof, k);
    *count = k;
    return 0;
}

/* ---- verification ------------------------------------------------------------------------ */

/* Length of the path from node fn to the root in a tree whose last leaf index is sn (fn <= sn),
 * as the RFC's walk below consumes it: one hash per level below the level where fn and sn
 * diverge, then one per right-border level where fn is a right child. */
static unsigned path_length(uint64_t fn, uint64_t sn)
{
    MN_DASSERT(fn <= sn);
    unsigned inner = bit_length(fn ^ sn);
    uint64_t above = inner >= 64 ? 0 : fn >> inner;
    return inner + (unsigned)__builtin_popcountll(above);
}

/* The loop shared by RFC 9162 §2.1.3.2 step 4 and §2.1.4.2 step 6: folds proof into sr (and
 * into fr, the old root, when fr is not NULL). Returns 0 iff the proof ended exactly at the
 * root (sn == 0). Never reads beyond proof[count - 1]. */
static int walk(uint64_t fn, uint64_t sn, const hash_t *proof, size_t count, uint8_t *fr,
                uint8_t *sr)
{
    for (size_t i = 0; i < count; i++) {
        if (sn == 0)
            return -1;
        if ((fn & 1) || fn == sn) {
            if (fr != NULL)
                mn_merkle_node_hash(fr, proof[i], fr);
            mn_merkle_node_hash(sr, proof[i], sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            mn_merkle_node_hash(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 ? 0 : -1;
}

int mn_merkle_verify_inclusion(const uint8_t leaf_hash[static MN_MERKLE_HASH_BYTES],
                               uint64_t index, uint64_t size,
                               const uint8_t (*proof)[MN_MERKLE_HASH_BYTES], size_t count,
                               const uint8_t root[static MN_MERKLE_HASH_BYTES], mn_err *err)
{
    if (index >= size)
        return mn_err_set(err, MN_EINVAL, 0,
                          "merkle: leaf index %" PRIu64 " is not below tree size %" PRIu64,
                          index, size);
    if (proof == NULL && count > 0)
        return mn_err_set(err, MN_EINVAL, 0, "merkle: inclusion proof is NULL");
    unsigned want = path_length(index, size - 1);
    if (count != want)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "merkle: inclusion proof for index %" PRIu64 " of %" PRIu64
                          " has %zu hashes, expected %u",
                          index, size, count, want);
    hash_t r;
    memcpy(r, leaf_hash, sizeof(r));
    if (walk(index, size - 1, proof, count, NULL, r) != 0 || crypto_verify_32(r, root) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "merkle: inclusion proof for index %" PRIu64 " of %" PRIu64
                          " does not lead to the root",
                          index, size);
    return 0;
}

static int verify_equal_sizes(uint64_t size, const uint8_t *root1, const uint8_t *root2,
                              size_t count, mn_err *err)
{
    if (count != 0)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "merkle: consistency proof between equal sizes %" PRIu64
                          " must be empty, has %zu hashes",
                          size, count);
    if (crypto_verify_32(root1, root2) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "merkle: trees of equal size %" PRIu64 " have different roots", size);
    return 0;
}

int mn_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                 const uint8_t root1[static MN_MERKLE_HASH_BYTES],
                                 const uint8_t root2[static MN_MERKLE_HASH_BYTES],
                                 const uint8_t (*proof)[MN_MERKLE_HASH_BYTES], size_t count,
                                 mn_err *err)
{
    if (size1 == 0 || size1 > size2)
        return mn_err_set(err, MN_EINVAL, 0,
                          "merkle: no consistency proof from size %" PRIu64 " to %" PRIu64,
                          size1, size2);
    if (proof == NULL && count > 0)
        return mn_err_set(err, MN_EINVAL, 0, "merkle: consistency proof is NULL");
    if (size1 == size2)
        return verify_equal_sizes(size1, root1, root2, count, err);
    /* Skip the levels where the old tree's last leaf is a right child: the subtree there is
     * complete in both trees. size1 is a power of two iff that skips to the old root itself,
     * which the proof then omits (the verifier knows root1). */
    unsigned shift = (unsigned)__builtin_ctzll(size1);
    uint64_t fn = (size1 - 1) >> shift, sn = (size2 - 1) >> shift;
    size_t seeded = (size1 & (size1 - 1)) == 0 ? 0 : 1;
    size_t want = seeded + path_length(fn, sn);
    if (count != want)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "merkle: consistency proof from %" PRIu64 " to %" PRIu64
                          " has %zu hashes, expected %zu",
                          size1, size2, count, want);
    hash_t fr, sr;
    memcpy(fr, seeded ? proof[0] : root1, sizeof(fr));
    memcpy(sr, fr, sizeof(sr));
    if (walk(fn, sn, proof + seeded, count - seeded, fr, sr) != 0 ||
        crypto_verify_32(fr, root1) != 0 || crypto_verify_32(sr, root2) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "merkle: consistency proof from %" PRIu64 " to %" PRIu64
                          " does not lead to both roots",
                          size1, size2);
    return 0;
}
