/* SPDX-License-Identifier: Apache-2.0 — tests of hash.h, tags.h and merkle.h: the RFC 6962
 * vectors of shared/vectors/merkle_rfc6962.json (every case), the builder against a recursive
 * reference MTH, random proofs generated and verified (and mutated), and sizes near 2^64 on a
 * tree of identical leaves whose subtree hashes depend only on their size. The reference
 * functions here are deliberately the RFC's recursive definitions, independent of merkle.c. */
#include <stdlib.h>

#include "metanode/bytes.h"
#include "metanode/clock.h"
#include "metanode/hash.h"
#include "metanode/merkle.h"
#include "metanode/tags.h"
#include "mn_test.h"

typedef uint8_t hash_t[32];
#define REF_PROOF_MAX 70

/* ---- loading the vectors ----------------------------------------------------------------- */

/* jansson's integers are signed 64-bit and the probes hold 2^64 - 1: quote every bare integer
 * literal of 19 or more digits so it loads as a string, then read it back with strtoull. */
static json_t *load_vectors(void)
{
    const char *path = mn_test_shared_path("vectors/merkle_rfc6962.json");
    uint8_t *text;
    size_t len;
    mn_err err;
    ASSERT_OK(mn_file_read(path, 0, &text, &len, &err), &err);
    char *out = malloc(len * 2 + 1);
    ASSERT_TRUE(out != NULL);
    size_t o = 0;
    int in_string = 0;
    for (size_t i = 0; i < len;) {
        char c = (char)text[i];
        if (in_string) {
            out[o++] = c;
            if (c == '\\' && i + 1 < len)
                out[o++] = (char)text[++i];
            else if (c == '"')
                in_string = 0;
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && text[j] >= '0' && text[j] <= '9')
            j++;
        if (j - i >= 19) {
            out[o++] = '"';
            memcpy(out + o, text + i, j - i);
            o += j - i;
            out[o++] = '"';
            i = j;
            continue;
        }
        in_string = c == '"';
        out[o++] = c;
        i++;
    }
    json_error_t jerr;
    json_t *root = json_loadb(out, o, 0, &jerr);
    if (root == NULL)
        mn_test_fail(__FILE__, __LINE__, "%s:%d: %s", path, jerr.line, jerr.text);
    free(out);
    free(text);
    return root;
}

static uint64_t json_u64(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v)) {
        ASSERT_TRUE(json_integer_value(v) >= 0);
        return (uint64_t)json_integer_value(v);
    }
    ASSERT_TRUE(json_is_string(v));
    char *end;
    unsigned long long x = strtoull(json_string_value(v), &end, 10);
    ASSERT_TRUE(*end == '\0');
    return x;
}

/* Decodes a hex field; returns 0 if it is exactly 32 bytes, -1 otherwise (a probe with a
 * malformed hash must be rejected before it reaches the API, which takes 32-byte arrays). */
static int hex32(json_t *v, hash_t out)
{
    ASSERT_TRUE(json_is_string(v));
    const char *s = json_string_value(v);
    mn_err err;
    if (strlen(s) != 64)
        return -1;
    ASSERT_OK(mn_hex_decode(out, 32, s, &err), &err);
    return 0;
}

/* Roots in the probes are opaque byte strings upstream, only compared for equality; a few are
 * 0 or 12 bytes long ("don't care 1"). The API takes 32-byte arrays, so such a root is
 * zero-padded to 32 bytes, which keeps equal roots equal and different roots different (no real
 * hash in the file ends in 20 zero bytes). Leaf hashes and proof elements must be exactly 32
 * bytes, as upstream requires. */
static int hex_opaque(json_t *v, hash_t out)
{
    ASSERT_TRUE(json_is_string(v));
    uint8_t *bytes;
    size_t len;
    mn_err err;
    ASSERT_OK(mn_hex_decode_alloc(json_string_value(v), &bytes, &len, &err), &err);
    if (len > 32) {
        free(bytes);
        return -1;
    }
    memset(out, 0, 32);
    if (len > 0)
        memcpy(out, bytes, len);
    free(bytes);
    return 0;
}

/* Decodes a proof array (JSON null = empty); -1 if any element is not exactly 32 bytes. */
static int proof_hex(json_t *arr, hash_t *out, size_t max, size_t *count)
{
    *count = 0;
    if (json_is_null(arr))
        return 0;
    ASSERT_TRUE(json_is_array(arr));
    ASSERT_TRUE(json_array_size(arr) <= max);
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (hex32(json_array_get(arr, i), out[i]) != 0)
            return -1;
    *count = json_array_size(arr);
    return 0;
}

/* ---- reference (recursive, straight from RFC 9162 §2.1) ---------------------------------- */

/* A tree given by its range hash: MTH(D[lo:hi]). */
typedef struct ref_tree {
    void (*mth)(const struct ref_tree *t, uint64_t lo, uint64_t hi, hash_t out);
    const hash_t *leaves; /* array trees */
    hash_t level[64];     /* uniform trees: hash of a perfect subtree of 2^i identical leaves */
} ref_tree;

static uint64_t ref_split(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k) /* k * 2 < n without overflow */
        k <<= 1;
    return k;
}

static void array_mth(const ref_tree *t, uint64_t lo, uint64_t hi, hash_t out)
{
    if (hi == lo) {
        mn_sha256(out, "", 0);
    } else if (hi - lo == 1) {
        memcpy(out, t->leaves[lo], 32);
    } else {
        hash_t l, r;
        uint64_t k = ref_split(hi - lo);
        array_mth(t, lo, lo + k, l);
        array_mth(t, lo + k, hi, r);
        mn_merkle_node_hash(out, l, r);
    }
}

static void uniform_mth(const ref_tree *t, uint64_t lo, uint64_t hi, hash_t out)
{
    uint64_t n = hi - lo;
    if (n == 0) {
        mn_sha256(out, "", 0);
        return;
    }
    int first = 1;
    for (int bit = 0; bit < 64; bit++) {
        if (!(n >> bit & 1))
            continue;
        if (first)
            memcpy(out, t->level[bit], 32);
        else
            mn_merkle_node_hash(out, t->level[bit], out);
        first = 0;
    }
}

static void uniform_init(ref_tree *t, const hash_t leaf)
{
    t->mth = uniform_mth;
    memcpy(t->level[0], leaf, 32);
    for (int i = 1; i < 64; i++)
        mn_merkle_node_hash(t->level[i], t->level[i - 1], t->level[i - 1]);
}

static void ref_path(const ref_tree *t, uint64_t m, uint64_t lo, uint64_t hi, hash_t *out,
                     size_t *count)
{
    if (hi - lo == 1)
        return;
    uint64_t k = ref_split(hi - lo);
    if (m < k) {
        ref_path(t, m, lo, lo + k, out, count);
        t->mth(t, lo + k, hi, out[(*count)++]);
    } else {
        ref_path(t, m - k, lo + k, hi, out, count);
        t->mth(t, lo, lo + k, out[(*count)++]);
    }
}

static void ref_subproof(const ref_tree *t, uint64_t m, uint64_t lo, uint64_t hi, int b,
                         hash_t *out, size_t *count)
{
    if (m == hi - lo) {
        if (!b)
            t->mth(t, lo, hi, out[(*count)++]);
        return;
    }
    uint64_t k = ref_split(hi - lo);
    if (m <= k) {
        ref_subproof(t, m, lo, lo + k, b, out, count);
        t->mth(t, lo + k, hi, out[(*count)++]);
    } else {
        ref_subproof(t, m - k, lo + k, hi, 0, out, count);
        t->mth(t, lo, lo + k, out[(*count)++]);
    }
}

/* Proof lengths only, for the same recursions. */
static size_t ref_path_len(uint64_t m, uint64_t n)
{
    if (n == 1)
        return 0;
    uint64_t k = ref_split(n);
    return 1 + (m < k ? ref_path_len(m, k) : ref_path_len(m - k, n - k));
}

static size_t ref_subproof_len(uint64_t m, uint64_t n, int b)
{
    if (m == n)
        return b ? 0 : 1;
    uint64_t k = ref_split(n);
    return 1 + (m <= k ? ref_subproof_len(m, k, b) : ref_subproof_len(m - k, n - k, 0));
}

static void random_leaves(mn_rng *rng, hash_t *leaves, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t data[16];
        rng->fill(rng, data, sizeof(data));
        mn_merkle_leaf_hash(leaves[i], data, mn_rng_uniform(rng, sizeof(data) + 1));
    }
}

static void seeded(mn_rng *rng, uint8_t seed_byte)
{
    uint8_t seed[32] = {seed_byte};
    mn_rng_seeded_init(rng, seed);
}

/* ---- hash.h and tags.h ------------------------------------------------------------------- */

static void sha256_known_answers(void)
{
    hash_t h, want, t;
    mn_err err;
    mn_sha256(h, "abc", 3);
    ASSERT_OK(mn_hex_decode(want, 32,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                            &err),
              &err);
    ASSERT_MEM_EQ(h, want, 32);
    mn_sha256(h, NULL, 0);
    ASSERT_OK(mn_hex_decode(want, 32,
                            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                            &err),
              &err);
    ASSERT_MEM_EQ(h, want, 32);
    /* Tagged = plain SHA-256 of the tag byte followed by the data, one-shot or streamed. */
    uint8_t msg[4] = {MN_TAG_VOTE, 'a', 'b', 'c'};
    mn_sha256(want, msg, sizeof(msg));
    mn_sha256_tagged(h, MN_TAG_VOTE, "abc", 3);
    ASSERT_MEM_EQ(h, want, 32);
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, MN_TAG_VOTE);
    mn_sha256_update(&ctx, "a", 1);
    mn_sha256_update(&ctx, NULL, 0);
    mn_sha256_update(&ctx, "bc", 2);
    mn_sha256_final(&ctx, t);
    ASSERT_MEM_EQ(t, want, 32);
    mn_sha256_tagged(t, MN_TAG_PROPOSAL, "abc", 3);
    ASSERT_FALSE(memcmp(t, want, 32) == 0);
}

static void tag_values(void)
{
    ASSERT_EQ(MN_TAG_MERKLE_LEAF, 0x00);
    ASSERT_EQ(MN_TAG_MERKLE_NODE, 0x01);
    ASSERT_EQ(MN_TAG_BLOCK_HEADER, 0x10);
    ASSERT_EQ(MN_TAG_RECEIPT_CORE, 0x15);
    ASSERT_EQ(MN_TAG_VRF_SEED, 0x1a);
    ASSERT_EQ(MN_TAG_MERKLE_TREE_HEAD, 0x1e);
    /* The tree head hash is SHA-256(0x1e || size BE64 || root). */
    hash_t root, h, want;
    memset(root, 0xab, 32);
    uint8_t msg[41] = {MN_TAG_MERKLE_TREE_HEAD};
    mn_store_u64_be(msg + 1, 0x0102030405060708u);
    memcpy(msg + 9, root, 32);
    mn_sha256(want, msg, sizeof(msg));
    mn_merkle_tree_head_hash(0x0102030405060708u, root, h);
    ASSERT_MEM_EQ(h, want, 32);
}

/* ---- the RFC 6962 vectors ---------------------------------------------------------------- */

static void load_leaf_hashes(json_t *v, hash_t leaves[8])
{
    json_t *data = json_object_get(v, "leaves_hex"), *want = json_object_get(v, "leaf_hashes");
    ASSERT_EQ(json_array_size(data), 8);
    for (size_t i = 0; i < 8; i++) {
        uint8_t *bytes;
        size_t len;
        mn_err err;
        ASSERT_OK(mn_hex_decode_alloc(json_string_value(json_array_get(data, i)), &bytes, &len,
                                      &err),
                  &err);
        hash_t w;
        mn_merkle_leaf_hash(leaves[i], bytes, len);
        ASSERT_EQ(hex32(json_array_get(want, i), w), 0);
        ASSERT_MEM_EQ(leaves[i], w, 32);
        free(bytes);
    }
}

static void vector_hashes_and_roots(void)
{
    json_t *v = load_vectors();
    hash_t leaves[8], level[8], want;
    load_leaf_hashes(v, leaves);
    json_t *levels = json_object_get(v, "node_hashes_by_level");
    ASSERT_EQ(json_array_size(levels), 4);
    memcpy(level, leaves, sizeof(level));
    for (size_t l = 0, width = 8; l < 4; l++, width /= 2) {
        json_t *row = json_array_get(levels, l);
        ASSERT_EQ(json_array_size(row), width);
        if (l > 0)
            for (size_t i = 0; i < width; i++)
                mn_merkle_node_hash(level[i], level[2 * i], level[2 * i + 1]);
        for (size_t i = 0; i < width; i++) {
            ASSERT_EQ(hex32(json_array_get(row, i), want), 0);
            ASSERT_MEM_EQ(level[i], want, 32);
        }
    }
    json_t *roots = json_object_get(v, "roots_by_size");
    ASSERT_EQ(json_object_size(roots), 9);
    mn_merkle_builder b;
    mn_merkle_builder_init(&b);
    for (uint64_t n = 0; n <= 8; n++) {
        char key[4];
        snprintf(key, sizeof(key), "%u", (unsigned)n);
        ASSERT_EQ(hex32(json_object_get(roots, key), want), 0);
        hash_t got;
        mn_merkle_root(leaves, n, got);
        ASSERT_MEM_EQ(got, want, 32);
        mn_merkle_builder_root(&b, got);
        ASSERT_MEM_EQ(got, want, 32);
        ASSERT_U64_EQ(mn_merkle_builder_count(&b), n);
        if (n < 8)
            mn_merkle_builder_append_hash(&b, leaves[n]);
    }
    json_decref(v);
}

static void expect_proof(json_t *arr, hash_t *got, size_t count)
{
    hash_t want[REF_PROOF_MAX];
    size_t want_count;
    ASSERT_EQ(proof_hex(arr, want, REF_PROOF_MAX, &want_count), 0);
    ASSERT_EQ(count, want_count);
    for (size_t i = 0; i < count; i++)
        ASSERT_MEM_EQ(got[i], want[i], 32);
}

/* Published and all-pairs proofs: generation reproduces them, verification accepts them. */
static void vector_inclusion_proofs(void)
{
    json_t *v = load_vectors();
    hash_t leaves[8], proof[MN_MERKLE_PROOF_HASHES_MAX], root;
    load_leaf_hashes(v, leaves);
    const char *sets[] = {"published_inclusion_proofs", "inclusion_all"};
    size_t total = 0;
    for (size_t s = 0; s < 2; s++) {
        json_t *arr = json_object_get(v, sets[s]);
        ASSERT_TRUE(json_array_size(arr) > 0);
        for (size_t i = 0; i < json_array_size(arr); i++, total++) {
            json_t *c = json_array_get(arr, i);
            uint64_t index = json_u64(c, "leaf_index"), size = json_u64(c, "tree_size");
            size_t count;
            mn_err err;
            ASSERT_OK(mn_merkle_inclusion_proof(leaves, index, size, proof, &count, &err), &err);
            expect_proof(json_object_get(c, "proof"), proof, count);
            mn_merkle_root(leaves, size, root);
            if (json_object_get(c, "root") != NULL) {
                hash_t want;
                ASSERT_EQ(hex32(json_object_get(c, "root"), want), 0);
                ASSERT_MEM_EQ(root, want, 32);
                ASSERT_EQ(hex32(json_object_get(c, "leaf_hash"), want), 0);
                ASSERT_MEM_EQ(leaves[index], want, 32);
            }
            ASSERT_OK(mn_merkle_verify_inclusion(leaves[index], index, size, proof, count, root,
                                                 &err),
                      &err);
        }
    }
    ASSERT_EQ(total, 41);
    json_decref(v);
}

static void vector_consistency_proofs(void)
{
    json_t *v = load_vectors();
    hash_t leaves[8], proof[MN_MERKLE_PROOF_HASHES_MAX], root1, root2;
    load_leaf_hashes(v, leaves);
    const char *sets[] = {"published_consistency_proofs", "consistency_all"};
    size_t total = 0;
    for (size_t s = 0; s < 2; s++) {
        json_t *arr = json_object_get(v, sets[s]);
        ASSERT_TRUE(json_array_size(arr) > 0);
        for (size_t i = 0; i < json_array_size(arr); i++, total++) {
            json_t *c = json_array_get(arr, i);
            uint64_t size1 = json_u64(c, "size1"), size2 = json_u64(c, "size2");
            size_t count;
            mn_err err;
            ASSERT_OK(mn_merkle_consistency_proof(leaves, size1, size2, proof, &count, &err),
                      &err);
            expect_proof(json_object_get(c, "proof"), proof, count);
            mn_merkle_root(leaves, size1, root1);
            mn_merkle_root(leaves, size2, root2);
            if (json_object_get(c, "root1") != NULL) {
                hash_t want;
                ASSERT_EQ(hex32(json_object_get(c, "root1"), want), 0);
                ASSERT_MEM_EQ(root1, want, 32);
                ASSERT_EQ(hex32(json_object_get(c, "root2"), want), 0);
                ASSERT_MEM_EQ(root2, want, 32);
            }
            ASSERT_OK(mn_merkle_verify_consistency(size1, size2, root1, root2, proof, count,
                                                   &err),
                      &err);
        }
    }
    ASSERT_EQ(total, 41);
    json_decref(v);
}

/* Every probe verifies iff wantErr is false. A probe whose hashes are not 32 bytes long cannot
 * be expressed through the API (which takes 32-byte arrays) and counts as rejected; see
 * hex_opaque for roots. */
static void vector_inclusion_probes(void)
{
    json_t *v = load_vectors();
    json_t *arr = json_object_get(v, "inclusion_probes");
    ASSERT_EQ(json_array_size(arr), 98);
    size_t accepted = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *c = json_array_get(arr, i);
        hash_t leaf, root, proof[REF_PROOF_MAX];
        size_t count;
        int rc = -1;
        mn_err err;
        if (hex32(json_object_get(c, "leafHash"), leaf) == 0 &&
            hex_opaque(json_object_get(c, "root"), root) == 0 &&
            proof_hex(json_object_get(c, "proof"), proof, REF_PROOF_MAX, &count) == 0)
            rc = mn_merkle_verify_inclusion(leaf, json_u64(c, "leafIdx"),
                                            json_u64(c, "treeSize"), proof, count, root, &err);
        int want_err = json_is_true(json_object_get(c, "wantErr"));
        if ((rc != 0) != want_err)
            mn_test_fail(__FILE__, __LINE__, "probe %s (%s): rc %d, wantErr %d",
                         json_string_value(json_object_get(c, "file")),
                         json_string_value(json_object_get(c, "desc")), rc, want_err);
        if (rc != 0)
            ASSERT_TRUE(rc == -MN_EINVAL || rc == -MN_ECRYPTO);
        accepted += rc == 0;
    }
    ASSERT_EQ(accepted, 6);
    json_decref(v);
}

static void vector_consistency_probes(void)
{
    json_t *v = load_vectors();
    json_t *arr = json_object_get(v, "consistency_probes");
    ASSERT_EQ(json_array_size(arr), 98);
    size_t accepted = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *c = json_array_get(arr, i);
        hash_t root1, root2, proof[REF_PROOF_MAX];
        size_t count;
        int rc = -1;
        mn_err err;
        if (hex_opaque(json_object_get(c, "root1"), root1) == 0 &&
            hex_opaque(json_object_get(c, "root2"), root2) == 0 &&
            proof_hex(json_object_get(c, "proof"), proof, REF_PROOF_MAX, &count) == 0)
            rc = mn_merkle_verify_consistency(json_u64(c, "size1"), json_u64(c, "size2"), root1,
                                              root2, proof, count, &err);
        int want_err = json_is_true(json_object_get(c, "wantErr"));
        if ((rc != 0) != want_err)
            mn_test_fail(__FILE__, __LINE__, "probe %s (%s): rc %d, wantErr %d",
                         json_string_value(json_object_get(c, "file")),
                         json_string_value(json_object_get(c, "desc")), rc, want_err);
        if (rc != 0)
            ASSERT_TRUE(rc == -MN_EINVAL || rc == -MN_ECRYPTO);
        accepted += rc == 0;
    }
    ASSERT_EQ(accepted, 6);
    json_decref(v);
}

/* ---- builder and batch root against the reference ---------------------------------------- */

static void builder_matches_reference(void)
{
    enum { N = 1000 };
    static hash_t leaves[N];
    mn_rng rng;
    seeded(&rng, 1);
    random_leaves(&rng, leaves, N);
    ref_tree t = {.mth = array_mth, .leaves = leaves};
    mn_merkle_builder b;
    mn_merkle_builder_init(&b);
    for (uint64_t n = 0; n <= N; n++) {
        hash_t want, got, again;
        t.mth(&t, 0, n, want);
        mn_merkle_root(leaves, n, got);
        ASSERT_MEM_EQ(got, want, 32);
        mn_merkle_builder_root(&b, got);
        mn_merkle_builder_root(&b, again); /* reading the root leaves the state alone */
        ASSERT_MEM_EQ(got, want, 32);
        ASSERT_MEM_EQ(again, want, 32);
        if (n < N)
            mn_merkle_builder_append_hash(&b, leaves[n]);
    }
    /* Appending data equals appending its leaf hash. */
    mn_merkle_builder d, h;
    mn_merkle_builder_init(&d);
    mn_merkle_builder_init(&h);
    for (int i = 0; i < 37; i++) {
        uint8_t data[3] = {(uint8_t)i, 7, (uint8_t)(i * 3)};
        hash_t leaf, rd, rh;
        mn_merkle_builder_append(&d, data, sizeof(data));
        mn_merkle_leaf_hash(leaf, data, sizeof(data));
        mn_merkle_builder_append_hash(&h, leaf);
        mn_merkle_builder_root(&d, rd);
        mn_merkle_builder_root(&h, rh);
        ASSERT_MEM_EQ(rd, rh, 32);
    }
}

static void builder_large_trees(void)
{
    const uint64_t sizes[] = {4096, 4097, 65535, 65536, 100003, (1u << 18) + 1};
    const size_t max = (1u << 18) + 1;
    hash_t *leaves = malloc(max * sizeof(hash_t));
    ASSERT_TRUE(leaves != NULL);
    mn_rng rng;
    seeded(&rng, 2);
    random_leaves(&rng, leaves, max);
    ref_tree t = {.mth = array_mth, .leaves = leaves};
    for (size_t s = 0; s < MN_ARRAY_LEN(sizes); s++) {
        mn_merkle_builder b;
        mn_merkle_builder_init(&b);
        for (uint64_t i = 0; i < sizes[s]; i++)
            mn_merkle_builder_append_hash(&b, leaves[i]);
        hash_t want, got;
        t.mth(&t, 0, sizes[s], want);
        mn_merkle_builder_root(&b, got);
        ASSERT_MEM_EQ(got, want, 32);
        mn_merkle_root(leaves, sizes[s], got);
        ASSERT_MEM_EQ(got, want, 32);
    }
    free(leaves);
}

/* ---- random proofs ----------------------------------------------------------------------- */

static void check_inclusion(const ref_tree *t, const hash_t *leaves, uint64_t index, uint64_t size,
                            mn_rng *rng)
{
    hash_t proof[MN_MERKLE_PROOF_HASHES_MAX], ref[REF_PROOF_MAX], root, leaf;
    size_t count, ref_count = 0;
    mn_err err;
    ASSERT_OK(mn_merkle_inclusion_proof(leaves, index, size, proof, &count, &err), &err);
    ref_path(t, index, 0, size, ref, &ref_count);
    ASSERT_EQ(count, ref_count);
    for (size_t i = 0; i < count; i++)
        ASSERT_MEM_EQ(proof[i], ref[i], 32);
    t->mth(t, 0, size, root);
    memcpy(leaf, leaves[index], 32);
    ASSERT_OK(mn_merkle_verify_inclusion(leaf, index, size, proof, count, root, &err), &err);
    if (count > 0) { /* a flipped bit anywhere in the proof */
        size_t at = mn_rng_uniform(rng, count);
        uint8_t bit = (uint8_t)(1u << mn_rng_uniform(rng, 8));
        proof[at][mn_rng_uniform(rng, 32)] ^= bit;
        ASSERT_EQ(mn_merkle_verify_inclusion(leaf, index, size, proof, count, root, &err),
                  -MN_ECRYPTO);
        mn_merkle_inclusion_proof(leaves, index, size, proof, &count, &err);
        ASSERT_EQ(mn_merkle_verify_inclusion(leaf, index, size, proof, count - 1, root, &err),
                  -MN_ECRYPTO);
    }
    leaf[mn_rng_uniform(rng, 32)] ^= 1;
    ASSERT_EQ(mn_merkle_verify_inclusion(leaf, index, size, proof, count, root, &err),
              -MN_ECRYPTO);
    memcpy(leaf, leaves[index], 32);
    if (size > 1) {
        uint64_t other = (index + 1 + mn_rng_uniform(rng, size - 1)) % size;
        ASSERT_TRUE(mn_merkle_verify_inclusion(leaf, other, size, proof, count, root, &err) != 0);
    }
    /* A proof does not bind the tree size (the signed tree head does): another size is only
     * certain to fail when its path has a different length. */
    if (ref_path_len(index, size + 1) != count)
        ASSERT_EQ(mn_merkle_verify_inclusion(leaf, index, size + 1, proof, count, root, &err),
                  -MN_ECRYPTO);
    if (size > index + 1 && ref_path_len(index, size - 1) != count)
        ASSERT_EQ(mn_merkle_verify_inclusion(leaf, index, size - 1, proof, count, root, &err),
                  -MN_ECRYPTO);
}

static void check_consistency(const ref_tree *t, const hash_t *leaves, uint64_t size1,
                              uint64_t size2, mn_rng *rng)
{
    hash_t proof[MN_MERKLE_PROOF_HASHES_MAX], ref[REF_PROOF_MAX], root1, root2;
    size_t count, ref_count = 0;
    mn_err err;
    ASSERT_OK(mn_merkle_consistency_proof(leaves, size1, size2, proof, &count, &err), &err);
    ref_subproof(t, size1, 0, size2, 1, ref, &ref_count);
    ASSERT_EQ(count, ref_count);
    for (size_t i = 0; i < count; i++)
        ASSERT_MEM_EQ(proof[i], ref[i], 32);
    t->mth(t, 0, size1, root1);
    t->mth(t, 0, size2, root2);
    ASSERT_OK(mn_merkle_verify_consistency(size1, size2, root1, root2, proof, count, &err), &err);
    if (count > 0) {
        size_t at = mn_rng_uniform(rng, count);
        proof[at][mn_rng_uniform(rng, 32)] ^= (uint8_t)(1u << mn_rng_uniform(rng, 8));
        ASSERT_EQ(mn_merkle_verify_consistency(size1, size2, root1, root2, proof, count, &err),
                  -MN_ECRYPTO);
        mn_merkle_consistency_proof(leaves, size1, size2, proof, &count, &err);
        ASSERT_EQ(mn_merkle_verify_consistency(size1, size2, root1, root2, proof, count - 1,
                                               &err),
                  -MN_ECRYPTO);
    }
    root1[mn_rng_uniform(rng, 32)] ^= 0x80;
    ASSERT_EQ(mn_merkle_verify_consistency(size1, size2, root1, root2, proof, count, &err),
              -MN_ECRYPTO);
    t->mth(t, 0, size1, root1);
    root2[mn_rng_uniform(rng, 32)] ^= 0x01;
    ASSERT_EQ(mn_merkle_verify_consistency(size1, size2, root1, root2, proof, count, &err),
              -MN_ECRYPTO);
    t->mth(t, 0, size2, root2);
    if (size1 > 1 && ref_subproof_len(size1 - 1, size2, 1) != count)
        ASSERT_EQ(mn_merkle_verify_consistency(size1 - 1, size2, root1, root2, proof, count,
                                               &err),
                  -MN_ECRYPTO);
    if (size1 < size2 && ref_subproof_len(size1 + 1, size2, 1) != count)
        ASSERT_TRUE(mn_merkle_verify_consistency(size1 + 1, size2, root1, root2, proof, count,
                                                 &err) != 0);
    if (ref_subproof_len(size1, size2 + 1, 1) != count)
        ASSERT_EQ(mn_merkle_verify_consistency(size1, size2 + 1, root1, root2, proof, count,
                                               &err),
                  -MN_ECRYPTO);
}

static void random_proofs(void)
{
    enum { N = 3000 };
    static hash_t leaves[N];
    mn_rng rng;
    seeded(&rng, 3);
    random_leaves(&rng, leaves, N);
    ref_tree t = {.mth = array_mth, .leaves = leaves};
    /* Exhaustive for small trees, random beyond. */
    for (uint64_t size = 1; size <= 40; size++)
        for (uint64_t m = 0; m < size; m++) {
            check_inclusion(&t, leaves, m, size, &rng);
            check_consistency(&t, leaves, m + 1, size, &rng);
        }
    for (int i = 0; i < 300; i++) {
        uint64_t size = 1 + mn_rng_uniform(&rng, N);
        check_inclusion(&t, leaves, mn_rng_uniform(&rng, size), size, &rng);
        check_consistency(&t, leaves, 1 + mn_rng_uniform(&rng, size), size, &rng);
    }
}

/* ---- sizes near 2^64 --------------------------------------------------------------------- */

static void check_huge(const ref_tree *t, uint64_t index, uint64_t size1, uint64_t size2)
{
    hash_t proof[REF_PROOF_MAX], root, root1;
    size_t count = 0;
    mn_err err;
    ref_path(t, index, 0, size2, proof, &count);
    ASSERT_TRUE(count <= 64);
    t->mth(t, 0, size2, root);
    ASSERT_OK(mn_merkle_verify_inclusion(t->level[0], index, size2, proof, count, root, &err),
              &err);
    if (count > 0) {
        proof[count - 1][5] ^= 4;
        ASSERT_EQ(mn_merkle_verify_inclusion(t->level[0], index, size2, proof, count, root, &err),
                  -MN_ECRYPTO);
    }
    count = 0;
    ref_subproof(t, size1, 0, size2, 1, proof, &count);
    ASSERT_TRUE(count <= 65);
    t->mth(t, 0, size1, root1);
    ASSERT_OK(mn_merkle_verify_consistency(size1, size2, root1, root, proof, count, &err), &err);
    if (count > 0) {
        proof[0][31] ^= 1;
        ASSERT_EQ(mn_merkle_verify_consistency(size1, size2, root1, root, proof, count, &err),
                  -MN_ECRYPTO);
        proof[0][31] ^= 1;
        ASSERT_EQ(mn_merkle_verify_consistency(size1, size2, root1, root, proof, count - 1, &err),
                  -MN_ECRYPTO);
    }
}

static void huge_sizes(void)
{
    ref_tree t;
    hash_t leaf;
    mn_merkle_leaf_hash(leaf, "same", 4);
    uniform_init(&t, leaf);
    const uint64_t top = UINT64_MAX, half = UINT64_C(1) << 63;
    /* (index, size1, size2) */
    const uint64_t cases[][3] = {
        {top - 1, top - 2, top},     {0, 1, top},           {half, half, half + 1},
        {half - 1, half, top},       {top - 2, top - 1, top}, {12345, half - 1, half},
        {half, half + 1, top},       {top - 3, 3, top - 2}, {0, half, half},
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++)
        check_huge(&t, cases[i][0], cases[i][1], cases[i][2]);
    mn_rng rng;
    seeded(&rng, 4);
    for (int i = 0; i < 200; i++) {
        uint64_t size2 = mn_rng_u64(&rng) >> mn_rng_uniform(&rng, 64);
        if (size2 == 0)
            size2 = 1;
        check_huge(&t, mn_rng_uniform(&rng, size2), 1 + mn_rng_uniform(&rng, size2), size2);
    }
    /* The longest possible consistency proof: 65 hashes (size2 > 2^63). */
    hash_t proof[REF_PROOF_MAX];
    size_t count = 0;
    ref_subproof(&t, top - 2, 0, top, 1, proof, &count);
    ASSERT_EQ(count, 65);
}

/* ---- argument and edge rules ------------------------------------------------------------- */

static void edge_rules(void)
{
    hash_t leaves[4], proof[MN_MERKLE_PROOF_HASHES_MAX], root, garbage[70];
    size_t count;
    mn_err err;
    mn_rng rng;
    seeded(&rng, 5);
    random_leaves(&rng, leaves, 4);
    rng.fill(&rng, garbage, sizeof(garbage));
    mn_merkle_root(leaves, 4, root);
    /* Generation refuses impossible requests and leaves outputs alone. */
    count = 99;
    ASSERT_EQ(mn_merkle_inclusion_proof(leaves, 4, 4, proof, &count, &err), -MN_EINVAL);
    ASSERT_EQ(err.code, MN_EINVAL);
    ASSERT_EQ(mn_merkle_inclusion_proof(leaves, 0, 0, proof, &count, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_consistency_proof(leaves, 0, 4, proof, &count, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_consistency_proof(leaves, 3, 2, proof, &count, &err), -MN_EINVAL);
    ASSERT_EQ(count, 99);
    ASSERT_OK(mn_merkle_consistency_proof(leaves, 4, 4, proof, &count, &err), &err);
    ASSERT_EQ(count, 0);
    ASSERT_OK(mn_merkle_inclusion_proof(leaves, 0, 1, proof, &count, &err), &err);
    ASSERT_EQ(count, 0);
    /* Inclusion: index < size, exact length, NULL proof only when empty. */
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, 0, NULL, 0, root, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], UINT64_MAX, UINT64_MAX, NULL, 0, root, &err),
              -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, 4, NULL, 2, root, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, 4, NULL, 0, root, &err), -MN_ECRYPTO);
    ASSERT_TRUE(strstr(err.msg, "expected 2") != NULL);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, 4, garbage, SIZE_MAX, root, &err),
              -MN_ECRYPTO);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, 1, NULL, 0, leaves[0], &err), 0);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, 1, garbage, 1, leaves[0], &err),
              -MN_ECRYPTO);
    /* Garbage of exactly the right length near 2^64 hashes and fails, without crashing. */
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], UINT64_MAX - 1, UINT64_MAX, garbage, 63, root,
                                         &err),
              -MN_ECRYPTO);
    ASSERT_TRUE(strstr(err.msg, "does not lead") != NULL);
    ASSERT_EQ(mn_merkle_verify_inclusion(leaves[0], 0, UINT64_MAX, garbage, 64, root, &err),
              -MN_ECRYPTO);
    ASSERT_TRUE(strstr(err.msg, "does not lead") != NULL);
    /* Consistency edge rules of crypto.md §5. */
    ASSERT_EQ(mn_merkle_verify_consistency(0, 0, root, root, NULL, 0, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_consistency(0, 4, root, root, NULL, 0, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_consistency(5, 4, root, root, NULL, 0, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_consistency(4, 4, root, root, NULL, 0, &err), 0);
    ASSERT_EQ(mn_merkle_verify_consistency(4, 4, root, root, garbage, 1, &err), -MN_ECRYPTO);
    ASSERT_EQ(mn_merkle_verify_consistency(4, 4, root, leaves[0], NULL, 0, &err), -MN_ECRYPTO);
    ASSERT_EQ(mn_merkle_verify_consistency(3, 4, root, root, NULL, 0, &err), -MN_ECRYPTO);
    ASSERT_EQ(mn_merkle_verify_consistency(3, 4, root, root, NULL, 5, &err), -MN_EINVAL);
    ASSERT_EQ(mn_merkle_verify_consistency(UINT64_MAX - 2, UINT64_MAX, root, root, garbage, 65,
                                           &err),
              -MN_ECRYPTO);
    ASSERT_TRUE(strstr(err.msg, "does not lead") != NULL);
    ASSERT_EQ(mn_merkle_verify_consistency(UINT64_MAX - 2, UINT64_MAX, root, root, garbage, 64,
                                           &err),
              -MN_ECRYPTO);
    ASSERT_TRUE(strstr(err.msg, "expected 65") != NULL);
    ASSERT_EQ(mn_merkle_verify_consistency(1, UINT64_MAX, root, root, garbage, SIZE_MAX, &err),
              -MN_ECRYPTO);
}

/* The valid seeds of the fuzz corpus really are valid, so the fuzzer starts from accepting
 * paths (format: a, b as big-endian u64, h1, h2, proof hashes; see fuzz_merkle_proof.c). */
static void fuzz_seeds_verify(void)
{
    const char *seeds[] = {"incl-0-of-8.bin", "incl-5-of-8.bin", "incl-6-of-7.bin",
                           "cons-1-to-8.bin", "cons-3-to-7.bin", "cons-6-to-8.bin"};
    for (size_t i = 0; i < MN_ARRAY_LEN(seeds); i++) {
        char rel[128];
        snprintf(rel, sizeof(rel), "tests/regress/merkle_proof/%s", seeds[i]);
        uint8_t *data;
        size_t len;
        mn_err err;
        ASSERT_OK(mn_file_read(mn_test_source_path(rel), 0, &data, &len, &err), &err);
        ASSERT_TRUE(len >= 80 && (len - 80) % 32 == 0);
        uint64_t a = mn_load_u64_be(data), b = mn_load_u64_be(data + 8);
        const hash_t *proof = (const hash_t *)(data + 80);
        if (seeds[i][0] == 'i')
            ASSERT_OK(mn_merkle_verify_inclusion(data + 16, a, b, proof, (len - 80) / 32,
                                                 data + 48, &err),
                      &err);
        else
            ASSERT_OK(mn_merkle_verify_consistency(a, b, data + 16, data + 48, proof,
                                                   (len - 80) / 32, &err),
                      &err);
        free(data);
    }
}

MN_TEST_MAIN("crypto.merkle", MN_TEST(sha256_known_answers), MN_TEST(tag_values),
             MN_TEST(vector_hashes_and_roots), MN_TEST(vector_inclusion_proofs),
             MN_TEST(vector_consistency_proofs), MN_TEST(vector_inclusion_probes),
             MN_TEST(vector_consistency_probes), MN_TEST(builder_matches_reference),
             MN_TEST(builder_large_trees), MN_TEST(random_proofs), MN_TEST(huge_sizes),
             MN_TEST(edge_rules), MN_TEST(fuzz_seeds_verify))
