/* SPDX-License-Identifier: Apache-2.0
 *
 * witness_decode.c: strict reading of a witness file (format in witness.h). Every byte is
 * untrusted: the reader checks the magic, each frame's length against the bytes left and
 * MN_WITNESS_FRAME_BYTES_MAX, each document field by field in its one canonical order, the
 * record sequence (0, 1, 2, ... without gaps), and that the trailer counts the records and
 * ends the input. It never allocates, never asserts on content and returns MN_ECORRUPT or
 * MN_ELIMIT with the byte offset of the offending frame. Decoded strings borrow the input.
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/receipt.h"
#include "metanode/witness.h"

#define FIELD(key, call)                                                                       \
    do {                                                                                       \
        MN_TRY(mn_cbor_want_key(d, key, w, err));                                                         \
        MN_TRY(call);                                                                             \
    } while (0)

static int get_str(mn_cbor_dec *d, mn_witness_str *s, size_t max, const char *what, mn_err *err)
{
    const uint8_t *p;
    size_t n;
    MN_TRY(mn_cbor_get_bytes(d, &p, &n, err));
    if (n > max)
        return mn_err_set(err, MN_ELIMIT, 0, "%s of %zu bytes, at most %zu", what, n, max);
    s->data = p;
    s->len = n;
    return 0;
}

/* An array of at most max byte strings of at most MN_WITNESS_STRING_BYTES_MAX each. */
static int get_strs(mn_cbor_dec *d, mn_witness_str *s, uint32_t *count, uint32_t max,
                    const char *what, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n > max)
        return mn_err_set(err, MN_ELIMIT, 0, "%llu %s entries, at most %u",
                          (unsigned long long)n, what, max);
    for (uint64_t i = 0; i < n; i++)
        MN_TRY(get_str(d, &s[i], MN_WITNESS_STRING_BYTES_MAX, what, err));
    *count = (uint32_t)n;
    return 0;
}

static int get_limits(mn_cbor_dec *d, mn_witness_header *h, mn_err *err)
{
    MN_TRY(mn_cbor_want_array(d, 4, "limits", err));
    MN_TRY(mn_cbor_get_uint(d, &h->mem_bytes, err));
    MN_TRY(mn_cbor_get_uint(d, &h->pids, err));
    MN_TRY(mn_cbor_get_uint(d, &h->cpu_millis, err));
    return mn_cbor_get_uint(d, &h->time_ms, err);
}

static int get_host(mn_cbor_dec *d, mn_witness_header *h, mn_err *err)
{
    MN_TRY(mn_cbor_want_array(d, 3, "host class", err));
    for (int i = 0; i < 3; i++)
        MN_TRY(get_str(d, &h->host[i], MN_WITNESS_HOST_BYTES_MAX, "host string", err));
    return 0;
}

static int decode_header(mn_cbor_dec *d, mn_witness_header *h, mn_err *err)
{
    const char *w = "witness header";
    MN_TRY(mn_cbor_want_map(d, 8, w, err));
    FIELD(1, mn_cbor_get_u32(d, &h->version, "version", err));
    if (h->version != MN_WITNESS_VERSION)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "witness version %u (this build reads %u)",
                          h->version, MN_WITNESS_VERSION);
    FIELD(2, mn_cbor_get_bytes_n(d, h->program_digest, 32, err));
    FIELD(3, get_strs(d, h->argv, &h->argc, MN_WITNESS_ARGV_MAX, "argv", err));
    if (h->argc == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "witness header has an empty argv");
    FIELD(4, get_strs(d, h->env, &h->envc, MN_WITNESS_ENV_MAX, "env", err));
    FIELD(5, mn_cbor_get_bytes_n(d, h->seed, 32, err));
    FIELD(6, mn_cbor_get_uint(d, &h->epoch_ns, err));
    FIELD(7, get_limits(d, h, err));
    FIELD(8, get_host(d, h, err));
    return 0;
}

static int get_digest(mn_cbor_dec *d, mn_witness_record *r, mn_err *err)
{
    const uint8_t *p;
    size_t n;
    MN_TRY(mn_cbor_get_bytes(d, &p, &n, err));
    if (n != 0 && n != 32)
        return mn_err_set(err, MN_ECORRUPT, 0, "record digest of %zu bytes", n);
    r->has_digest = n == 32;
    if (n == 32)
        memcpy(r->digest, p, 32);
    return 0;
}

static int get_kind(mn_cbor_dec *d, mn_witness_record *r, mn_err *err)
{
    uint64_t k;
    MN_TRY(mn_cbor_get_uint(d, &k, err));
    if (k < MN_WK_SYSCALL || k >= MN_WK_COUNT)
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown record kind %llu", (unsigned long long)k);
    r->kind = (mn_witness_kind)k;
    return 0;
}

static int decode_record(mn_cbor_dec *d, mn_witness_record *r, mn_err *err)
{
    const char *w = "witness record";
    MN_TRY(mn_cbor_want_map(d, 9, w, err));
    FIELD(1, mn_cbor_get_uint(d, &r->seq, err));
    FIELD(2, mn_cbor_get_u32(d, &r->vtid, "vtid", err));
    FIELD(3, mn_cbor_get_uint(d, &r->ltime_ns, err));
    FIELD(4, get_kind(d, r, err));
    FIELD(5, mn_cbor_get_u32(d, &r->nr, "nr", err));
    FIELD(6, mn_cbor_want_array(d, MN_WITNESS_ARGS, "args", err));
    for (unsigned i = 0; i < MN_WITNESS_ARGS; i++)
        MN_TRY(mn_cbor_get_uint(d, &r->args[i], err));
    FIELD(7, mn_cbor_get_int(d, &r->result, err));
    FIELD(8, get_digest(d, r, err));
    FIELD(9, get_str(d, &r->inline_data, MN_WITNESS_INLINE_BYTES_MAX, "inline data", err));
    return 0;
}

static int get_exit(mn_cbor_dec *d, mn_witness_trailer *t, mn_err *err)
{
    uint64_t kind;
    MN_TRY(mn_cbor_want_array(d, 2, "exit status", err));
    MN_TRY(mn_cbor_get_uint(d, &kind, err));
    if (kind >= MN_EXIT_KIND_COUNT)
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown exit kind %llu",
                          (unsigned long long)kind);
    t->exit_kind = (uint32_t)kind;
    return mn_cbor_get_int(d, &t->exit_code, err);
}

static int decode_trailer(mn_cbor_dec *d, mn_witness_trailer *t, mn_err *err)
{
    const char *w = "witness trailer";
    MN_TRY(mn_cbor_want_map(d, 8, w, err));
    FIELD(1, mn_cbor_get_uint(d, &t->records, err));
    FIELD(2, get_exit(d, t, err));
    FIELD(3, mn_cbor_get_bytes_n(d, t->stdout_digest, 32, err));
    FIELD(4, mn_cbor_get_bytes_n(d, t->stderr_digest, 32, err));
    FIELD(5, mn_cbor_get_uint(d, &t->logical_end_ns, err));
    FIELD(6, mn_cbor_get_uint(d, &t->syscalls, err));
    FIELD(7, mn_cbor_get_uint(d, &t->taints, err));
    if ((t->taints & ~(uint64_t)MN_TAINT_ALL) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown taint bits");
    FIELD(8, mn_cbor_get_bytes_n(d, t->fsdiff_root, 32, err));
    return 0;
}

/* Cuts the next frame off the input and hashes it into the tree. */
static int next_frame(mn_witness_reader *rd, mn_cbor_dec *d, mn_err *err)
{
    size_t left = rd->len - rd->off;
    if (left < 4)
        return mn_err_set(err, MN_ECORRUPT, 0, "witness truncated at byte %zu", rd->off);
    const uint8_t *p = rd->data + rd->off;
    uint32_t n = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (n > MN_WITNESS_FRAME_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "witness frame of %u bytes at byte %zu", n,
                          rd->off);
    if (n > left - 4)
        return mn_err_set(err, MN_ECORRUPT, 0, "witness frame at byte %zu overruns the file",
                          rd->off);
    const uint8_t *doc = rd->data + rd->off + 4;
    uint8_t leaf_data[32];
    mn_witness_leaf_data(doc, n, leaf_data);
    mn_merkle_builder_append(&rd->tree, leaf_data, sizeof(leaf_data));
    mn_merkle_leaf_hash(rd->last_leaf, leaf_data, sizeof(leaf_data));
    rd->last_off = rd->off;
    rd->off += 4 + (size_t)n;
    mn_cbor_dec_init(d, doc, n);
    return 0;
}

int mn_witness_reader_init(mn_witness_reader *rd, const uint8_t *data, size_t len,
                           mn_witness_header *h, mn_err *err)
{
    memset(rd, 0, sizeof(*rd));
    rd->data = data;
    rd->len = len;
    mn_merkle_builder_init(&rd->tree);
    if (len < MN_WITNESS_MAGIC_BYTES || memcmp(data, MN_WITNESS_MAGIC, MN_WITNESS_MAGIC_BYTES))
        return mn_err_set(err, MN_ECORRUPT, 0, "not a witness log (bad magic)");
    rd->off = MN_WITNESS_MAGIC_BYTES;
    mn_witness_header tmp;
    memset(&tmp, 0, sizeof(tmp));
    mn_cbor_dec d;
    MN_TRY(next_frame(rd, &d, err));
    int rc = decode_header(&d, &tmp, err);
    if (rc == 0)
        rc = mn_cbor_dec_finish(&d, err);
    if (rc != 0)
        return mn_err_wrap(err, "witness header");
    *h = tmp;
    return 0;
}

/* The first key of a record is 1 (seq) with a uint value; of the trailer, 1 (records) too, so
 * the two are told apart by their field count: 9 for a record, 8 for the trailer. */
static int frame_is_trailer(const mn_cbor_dec *d, bool *trailer, mn_err *err)
{
    mn_cbor_dec probe = *d;
    uint64_t count;
    MN_TRY(mn_cbor_get_map(&probe, &count, err));
    if (count != 9 && count != 8)
        return mn_err_set(err, MN_ECORRUPT, 0, "witness frame with %llu fields",
                          (unsigned long long)count);
    *trailer = count == 8;
    return 0;
}

static int read_record(mn_witness_reader *rd, mn_cbor_dec *d, mn_witness_record *rec,
                       mn_err *err)
{
    mn_witness_record tmp;
    memset(&tmp, 0, sizeof(tmp));
    MN_TRY(decode_record(d, &tmp, err));
    MN_TRY(mn_cbor_dec_finish(d, err));
    if (tmp.seq != rd->next_seq)
        return mn_err_set(err, MN_ECORRUPT, 0, "record seq %llu where %llu was due",
                          (unsigned long long)tmp.seq, (unsigned long long)rd->next_seq);
    rd->next_seq++;
    *rec = tmp;
    return 1;
}

static int read_trailer(mn_witness_reader *rd, mn_cbor_dec *d, mn_witness_trailer *t,
                        mn_err *err)
{
    mn_witness_trailer tmp;
    memset(&tmp, 0, sizeof(tmp));
    MN_TRY(decode_trailer(d, &tmp, err));
    MN_TRY(mn_cbor_dec_finish(d, err));
    if (tmp.records != rd->next_seq)
        return mn_err_set(err, MN_ECORRUPT, 0, "trailer counts %llu records, file holds %llu",
                          (unsigned long long)tmp.records, (unsigned long long)rd->next_seq);
    if (rd->off != rd->len)
        return mn_err_set(err, MN_ECORRUPT, 0, "%zu bytes after the trailer",
                          rd->len - rd->off);
    rd->done = true;
    *t = tmp;
    return 0;
}

int mn_witness_reader_next(mn_witness_reader *rd, mn_witness_record *rec, mn_witness_trailer *t,
                           mn_err *err)
{
    if (rd->done)
        return mn_err_set(err, MN_ESTATE, 0, "witness already read to its trailer");
    mn_cbor_dec d;
    bool trailer = false;
    size_t at = rd->off;
    int rc = next_frame(rd, &d, err);
    if (rc == 0)
        rc = frame_is_trailer(&d, &trailer, err);
    if (rc == 0)
        rc = trailer ? read_trailer(rd, &d, t, err) : read_record(rd, &d, rec, err);
    if (rc < 0)
        return mn_err_wrap(err, "witness frame at byte %zu", at);
    return rc;
}

void mn_witness_reader_root(const mn_witness_reader *rd, uint8_t root[static 32],
                            uint64_t *count)
{
    mn_merkle_builder_root(&rd->tree, root);
    *count = mn_merkle_builder_count(&rd->tree);
}

int mn_witness_check(const uint8_t *data, size_t len, mn_witness_header *h,
                     mn_witness_trailer *t, uint8_t root[static 32], uint64_t *count,
                     mn_err *err)
{
    mn_witness_reader rd;
    MN_TRY(mn_witness_reader_init(&rd, data, len, h, err));
    mn_witness_record rec;
    int rc;
    while ((rc = mn_witness_reader_next(&rd, &rec, t, err)) == 1) {
    }
    if (rc < 0)
        return rc;
    mn_witness_reader_root(&rd, root, count);
    return 0;
}
