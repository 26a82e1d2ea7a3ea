/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the witness log format: round trip of header, records and trailer; the Merkle root
 * over the frames; strict decoding (magic, truncation, sequence gaps, wrong trailer count,
 * trailing bytes, oversize frames, wrong field counts); every single-byte change is either
 * refused or changes the root; encoder range checks; config digest and seed commitment.
 * MN_WITNESS_WRITE_SEEDS=DIR writes the fuzz seed corpus.
 */
#include <stdlib.h>

#include "metanode/hash.h"
#include "metanode/receipt.h"
#include "metanode/witness.h"
#include "mn_test.h"

static const char *const argv_[] = {"/bin/prog", "--flag", "x"};
static const char *const env_[] = {"PATH=/bin", "TZ=UTC"};

static void fill_header(mn_witness_header *h)
{
    memset(h, 0, sizeof(*h));
    h->version = MN_WITNESS_VERSION;
    mn_sha256(h->program_digest, "prog", 4);
    h->argc = 3;
    for (int i = 0; i < 3; i++)
        h->argv[i] = (mn_witness_str){(const uint8_t *)argv_[i], strlen(argv_[i])};
    h->envc = 2;
    for (int i = 0; i < 2; i++)
        h->env[i] = (mn_witness_str){(const uint8_t *)env_[i], strlen(env_[i])};
    mn_sha256(h->seed, "seed", 4);
    h->epoch_ns = 946684800ull * 1000000000ull;
    h->mem_bytes = 1 << 26;
    h->pids = 64;
    h->time_ms = 10000;
    h->host[0] = (mn_witness_str){(const uint8_t *)"6.18.0", 6};
    h->host[1] = (mn_witness_str){(const uint8_t *)"x86_64", 6};
    h->host[2] = (mn_witness_str){(const uint8_t *)"AuthenticAMD", 12};
}

static void fill_record(mn_witness_record *r, uint64_t seq)
{
    memset(r, 0, sizeof(*r));
    r->seq = seq;
    r->vtid = 1 + (uint32_t)(seq % 3);
    r->ltime_ns = 1000 * seq;
    r->kind = (mn_witness_kind)(1 + seq % (MN_WK_COUNT - 1));
    r->nr = 228;
    for (unsigned i = 0; i < MN_WITNESS_ARGS; i++)
        r->args[i] = seq * 7 + i;
    r->args[5] = UINT64_MAX;
    r->result = seq % 2 ? -14 : (int64_t)seq;
    r->has_digest = seq % 2 == 0;
    if (r->has_digest)
        mn_sha256(r->digest, &seq, sizeof(seq));
    r->inline_data = (mn_witness_str){(const uint8_t *)"0123456789abcdef", seq % 17};
}

static void fill_trailer(mn_witness_trailer *t, uint64_t records)
{
    memset(t, 0, sizeof(*t));
    t->records = records;
    t->exit_kind = MN_EXIT_CODE;
    t->exit_code = 3;
    mn_sha256(t->stdout_digest, "out", 3);
    mn_sha256(t->stderr_digest, "err", 3);
    t->logical_end_ns = 123456;
    t->syscalls = 42;
    t->taints = MN_TAINT_RDRAND;
    mn_sha256(t->fsdiff_root, "tree", 4);
}

/* A witness with n records; also returns the root computed independently of the reader. */
static mn_buf build(uint64_t n, uint8_t root[32])
{
    mn_buf buf;
    mn_buf_init(&buf, 0);
    mn_err err;
    mn_witness_header h;
    fill_header(&h);
    ASSERT_OK(mn_buf_append(&buf, MN_WITNESS_MAGIC, MN_WITNESS_MAGIC_BYTES, &err), &err);
    mn_merkle_builder mb;
    mn_merkle_builder_init(&mb);
    size_t at = buf.len;
    ASSERT_OK(mn_witness_header_encode(&h, &buf, &err), &err);
    for (uint64_t i = 0; i <= n; i++) {
        uint8_t leaf[32];
        mn_witness_leaf_data(buf.data + at + 4, buf.len - at - 4, leaf);
        mn_merkle_builder_append(&mb, leaf, 32);
        at = buf.len;
        if (i == n) {
            mn_witness_trailer t;
            fill_trailer(&t, n);
            ASSERT_OK(mn_witness_trailer_encode(&t, &buf, &err), &err);
        } else {
            mn_witness_record r;
            fill_record(&r, i);
            ASSERT_OK(mn_witness_record_encode(&r, &buf, &err), &err);
        }
    }
    uint8_t leaf[32];
    mn_witness_leaf_data(buf.data + at + 4, buf.len - at - 4, leaf);
    mn_merkle_builder_append(&mb, leaf, 32);
    mn_merkle_builder_root(&mb, root);
    return buf;
}

static void round_trip(void)
{
    uint8_t want_root[32], root[32];
    mn_buf buf = build(20, want_root);
    mn_err err;
    mn_witness_reader rd;
    mn_witness_header h, hw;
    fill_header(&hw);
    ASSERT_OK(mn_witness_reader_init(&rd, buf.data, buf.len, &h, &err), &err);
    ASSERT_EQ(h.argc, 3);
    ASSERT_EQ(h.envc, 2);
    ASSERT_MEM_EQ(h.argv[1].data, "--flag", 6);
    ASSERT_MEM_EQ(h.seed, hw.seed, 32);
    ASSERT_U64_EQ(h.mem_bytes, 1 << 26);
    ASSERT_U64_EQ(h.time_ms, 10000);
    ASSERT_MEM_EQ(h.host[2].data, "AuthenticAMD", 12);
    mn_witness_record rec, want;
    mn_witness_trailer t;
    for (uint64_t i = 0; i < 20; i++) {
        ASSERT_EQ(mn_witness_reader_next(&rd, &rec, &t, &err), 1);
        fill_record(&want, i);
        ASSERT_U64_EQ(rec.seq, i);
        ASSERT_EQ(rec.kind, want.kind);
        ASSERT_EQ(rec.result, want.result);
        ASSERT_U64_EQ(rec.args[5], UINT64_MAX);
        ASSERT_EQ(rec.has_digest, want.has_digest);
        ASSERT_EQ(rec.inline_data.len, want.inline_data.len);
    }
    ASSERT_EQ(mn_witness_reader_next(&rd, &rec, &t, &err), 0);
    ASSERT_U64_EQ(t.records, 20);
    ASSERT_EQ(t.exit_code, 3);
    uint64_t count;
    mn_witness_reader_root(&rd, root, &count);
    ASSERT_U64_EQ(count, 22);
    ASSERT_MEM_EQ(root, want_root, 32);
    ASSERT_EQ(mn_witness_reader_next(&rd, &rec, &t, &err), -MN_ESTATE);
    mn_buf_deinit(&buf);
}

static int check(const mn_buf *b, uint8_t root[32], mn_err *err)
{
    mn_witness_header h;
    mn_witness_trailer t;
    uint64_t count;
    return mn_witness_check(b->data, b->len, &h, &t, root, &count, err);
}

static void strict_framing(void)
{
    uint8_t root[32], r2[32];
    mn_buf buf = build(3, root);
    mn_err err;
    ASSERT_OK(check(&buf, r2, &err), &err);
    /* trailing byte */
    mn_buf_append_byte(&buf, 0, &err);
    ASSERT_EQ(check(&buf, r2, &err), -MN_ECORRUPT);
    buf.len--;
    /* every truncation is refused */
    size_t full = buf.len;
    for (size_t n = 0; n < full; n++) {
        buf.len = n;
        ASSERT_TRUE(check(&buf, r2, &err) < 0);
    }
    buf.len = full;
    /* bad magic */
    buf.data[0] ^= 1;
    ASSERT_EQ(check(&buf, r2, &err), -MN_ECORRUPT);
    buf.data[0] ^= 1;
    /* oversize frame length */
    buf.data[MN_WITNESS_MAGIC_BYTES] = 0x7f;
    ASSERT_EQ(check(&buf, r2, &err), -MN_ELIMIT);
    mn_buf_deinit(&buf);
}

/* A record out of sequence and a trailer with a wrong count are refused. */
static void strict_sequence(void)
{
    mn_err err;
    mn_witness_header h;
    fill_header(&h);
    for (int variant = 0; variant < 2; variant++) {
        mn_buf buf;
        mn_buf_init(&buf, 0);
        mn_buf_append(&buf, MN_WITNESS_MAGIC, MN_WITNESS_MAGIC_BYTES, &err);
        ASSERT_OK(mn_witness_header_encode(&h, &buf, &err), &err);
        mn_witness_record r;
        fill_record(&r, 0);
        ASSERT_OK(mn_witness_record_encode(&r, &buf, &err), &err);
        fill_record(&r, variant == 0 ? 2 : 1);
        ASSERT_OK(mn_witness_record_encode(&r, &buf, &err), &err);
        mn_witness_trailer t;
        fill_trailer(&t, variant == 0 ? 2 : 3);
        ASSERT_OK(mn_witness_trailer_encode(&t, &buf, &err), &err);
        uint8_t root[32];
        ASSERT_EQ(check(&buf, root, &err), -MN_ECORRUPT);
        mn_buf_deinit(&buf);
    }
}

/* Flipping any one bit anywhere either makes the file unreadable or changes its root. */
static void every_byte_is_bound(void)
{
    uint8_t root[32], r2[32];
    mn_buf buf = build(4, root);
    mn_err err;
    size_t accepted = 0;
    for (size_t i = 0; i < buf.len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            buf.data[i] ^= (uint8_t)(1u << bit);
            if (check(&buf, r2, &err) == 0) {
                accepted++;
                ASSERT_TRUE(memcmp(root, r2, 32) != 0);
            }
            buf.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    ASSERT_TRUE(accepted > 0); /* payload bytes (digests, seed) parse but move the root */
    mn_buf_deinit(&buf);
}

static void encoder_checks_ranges(void)
{
    mn_buf buf;
    mn_buf_init(&buf, 0);
    mn_err err;
    mn_witness_header h;
    fill_header(&h);
    h.argc = 0;
    ASSERT_EQ(mn_witness_header_encode(&h, &buf, &err), -MN_EINVAL);
    fill_header(&h);
    h.argv[0].len = MN_WITNESS_STRING_BYTES_MAX + 1;
    ASSERT_EQ(mn_witness_header_encode(&h, &buf, &err), -MN_EINVAL);
    mn_witness_record r;
    fill_record(&r, 0);
    r.kind = MN_WK_COUNT;
    ASSERT_EQ(mn_witness_record_encode(&r, &buf, &err), -MN_EINVAL);
    mn_witness_trailer t;
    fill_trailer(&t, 0);
    t.taints = 1u << 20;
    ASSERT_EQ(mn_witness_trailer_encode(&t, &buf, &err), -MN_EINVAL);
    ASSERT_EQ(buf.len, 0);
    mn_buf_deinit(&buf);
}

static void digests(void)
{
    mn_err err;
    mn_witness_header h;
    fill_header(&h);
    uint8_t a[32], b[32];
    ASSERT_OK(mn_witness_config_digest(&h, a, &err), &err);
    h.pids = 65;
    ASSERT_OK(mn_witness_config_digest(&h, b, &err), &err);
    ASSERT_TRUE(memcmp(a, b, 32) != 0);
    h.pids = 64;
    mn_sha256(h.seed, "other", 5); /* the seed is not part of the config */
    ASSERT_OK(mn_witness_config_digest(&h, b, &err), &err);
    ASSERT_MEM_EQ(a, b, 32);
    mn_witness_seed_commitment(h.seed, a);
    uint8_t seed2[32];
    memcpy(seed2, h.seed, 32);
    seed2[31] ^= 1;
    mn_witness_seed_commitment(seed2, b);
    ASSERT_TRUE(memcmp(a, b, 32) != 0);
}

/* Writes the fuzz seed corpus when asked (tests/regress/witness). */
static void seed_corpus(void)
{
    const char *dir = getenv("MN_WITNESS_WRITE_SEEDS");
    if (dir == NULL)
        return;
    static const uint64_t sizes[] = {0, 1, 5};
    for (size_t i = 0; i < 3; i++) {
        uint8_t root[32];
        mn_buf buf = build(sizes[i], root);
        char path[512];
        snprintf(path, sizeof(path), "%s/valid_%llu", dir, (unsigned long long)sizes[i]);
        mn_err err;
        ASSERT_OK(mn_file_write(path, buf.data, buf.len, 0644, true, &err), &err);
        mn_buf_deinit(&buf);
    }
}

MN_TEST_MAIN("witness", MN_TEST(round_trip), MN_TEST(strict_framing), MN_TEST(strict_sequence),
             MN_TEST(every_byte_is_bound), MN_TEST(encoder_checks_ranges), MN_TEST(digests),
             MN_TEST(seed_corpus))
