/* SPDX-License-Identifier: Apache-2.0
 *
 * witness.c: canonical encoding of witness frames (format in witness.h), the config digest and
 * seed commitment derived from a header, and the leaf data of a frame. Encoding checks every
 * value against the same ranges the decoder enforces, so the cage can never write a witness
 * that its own verifier would refuse. Not here: decoding (witness_decode.c), writing files.
 */
#include "metanode/witness.h"

#include <string.h>

#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/receipt.h"
#include "metanode/tags.h"

const char *mn_witness_kind_name(mn_witness_kind kind)
{
    static const char *const names[] = {"?",     "syscall", "exec",   "spawn",  "exit",
                                        "rdtsc", "input",   "output", "signal", "taint",
                                        "config", "join"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == MN_WK_COUNT, "a name per kind");
    return (unsigned)kind < MN_WK_COUNT ? names[kind] : "unknown";
}

static int check_str(mn_witness_str s, size_t max, const char *what, mn_err *err)
{
    if (s.len > max)
        return mn_err_set(err, MN_EINVAL, 0, "%s of %zu bytes, at most %zu", what, s.len, max);
    if (s.len > 0 && s.data == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "%s has no data", what);
    return 0;
}

static int check_header(const mn_witness_header *h, mn_err *err)
{
    if (h->version != MN_WITNESS_VERSION)
        return mn_err_set(err, MN_EINVAL, 0, "witness version %u", h->version);
    if (h->argc == 0 || h->argc > MN_WITNESS_ARGV_MAX || h->envc > MN_WITNESS_ENV_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "argc %u / envc %u out of range", h->argc, h->envc);
    for (uint32_t i = 0; i < h->argc; i++)
        if (check_str(h->argv[i], MN_WITNESS_STRING_BYTES_MAX, "argument", err) != 0)
            return -MN_EINVAL;
    for (uint32_t i = 0; i < h->envc; i++)
        if (check_str(h->env[i], MN_WITNESS_STRING_BYTES_MAX, "environment entry", err) != 0)
            return -MN_EINVAL;
    for (int i = 0; i < 3; i++)
        if (check_str(h->host[i], MN_WITNESS_HOST_BYTES_MAX, "host string", err) != 0)
            return -MN_EINVAL;
    return 0;
}

/* Ends a document: finishes the encoder and writes the 4-byte length in front of it. */
static int frame_end(mn_cbor_enc *e, mn_buf *out, size_t start, mn_err *err)
{
    int rc = mn_cbor_enc_finish(e, err);
    if (rc != 0)
        return rc;
    size_t n = out->len - start - 4;
    if (n > MN_WITNESS_FRAME_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "witness frame of %zu bytes", n);
    mn_store_u32_be(out->data + start, (uint32_t)n);
    return 0;
}

static int frame_begin(mn_cbor_enc *e, mn_buf *out, size_t *start, mn_err *err)
{
    static const uint8_t zero[4];
    *start = out->len;
    int rc = mn_buf_append(out, zero, 4, err);
    if (rc != 0)
        return rc;
    mn_cbor_enc_init(e, out);
    return 0;
}

static void put_strs(mn_cbor_enc *e, const mn_witness_str *s, uint32_t n)
{
    mn_cbor_put_array(e, n);
    for (uint32_t i = 0; i < n; i++)
        mn_cbor_put_bytes(e, s[i].data, s[i].len);
}

static void put_limits(mn_cbor_enc *e, const mn_witness_header *h)
{
    mn_cbor_put_array(e, 4);
    mn_cbor_put_uint(e, h->mem_bytes);
    mn_cbor_put_uint(e, h->pids);
    mn_cbor_put_uint(e, h->cpu_millis);
    mn_cbor_put_uint(e, h->time_ms);
}

int mn_witness_header_encode(const mn_witness_header *h, mn_buf *out, mn_err *err)
{
    int rc = check_header(h, err);
    if (rc != 0)
        return rc;
    mn_cbor_enc e;
    size_t start;
    if ((rc = frame_begin(&e, out, &start, err)) != 0)
        return rc;
    mn_cbor_put_map(&e, 8);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, h->version);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_bytes(&e, h->program_digest, 32);
    mn_cbor_put_key(&e, 3);
    put_strs(&e, h->argv, h->argc);
    mn_cbor_put_key(&e, 4);
    put_strs(&e, h->env, h->envc);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_bytes(&e, h->seed, 32);
    mn_cbor_put_key(&e, 6);
    mn_cbor_put_uint(&e, h->epoch_ns);
    mn_cbor_put_key(&e, 7);
    put_limits(&e, h);
    mn_cbor_put_key(&e, 8);
    put_strs(&e, h->host, 3);
    return frame_end(&e, out, start, err);
}

int mn_witness_record_encode(const mn_witness_record *r, mn_buf *out, mn_err *err)
{
    if (r->kind < MN_WK_SYSCALL || r->kind >= MN_WK_COUNT)
        return mn_err_set(err, MN_EINVAL, 0, "record kind %u", (unsigned)r->kind);
    int rc = check_str(r->inline_data, MN_WITNESS_INLINE_BYTES_MAX, "inline data", err);
    if (rc != 0)
        return rc;
    mn_cbor_enc e;
    size_t start;
    if ((rc = frame_begin(&e, out, &start, err)) != 0)
        return rc;
    mn_cbor_put_map(&e, 9);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, r->seq);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_uint(&e, r->vtid);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_uint(&e, r->ltime_ns);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_uint(&e, (uint64_t)r->kind);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_uint(&e, r->nr);
    mn_cbor_put_key(&e, 6);
    mn_cbor_put_array(&e, MN_WITNESS_ARGS);
    for (unsigned i = 0; i < MN_WITNESS_ARGS; i++)
        mn_cbor_put_uint(&e, r->args[i]);
    mn_cbor_put_key(&e, 7);
    mn_cbor_put_int(&e, r->result);
    mn_cbor_put_key(&e, 8);
    mn_cbor_put_bytes(&e, r->digest, r->has_digest ? 32 : 0);
    mn_cbor_put_key(&e, 9);
    mn_cbor_put_bytes(&e, r->inline_data.data, r->inline_data.len);
    return frame_end(&e, out, start, err);
}

int mn_witness_trailer_encode(const mn_witness_trailer *t, mn_buf *out, mn_err *err)
{
    if (t->exit_kind >= MN_EXIT_KIND_COUNT || (t->taints & ~(uint64_t)MN_TAINT_ALL) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "exit kind %u / taints 0x%llx out of range",
                          t->exit_kind, (unsigned long long)t->taints);
    mn_cbor_enc e;
    size_t start;
    int rc = frame_begin(&e, out, &start, err);
    if (rc != 0)
        return rc;
    mn_cbor_put_map(&e, 8);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, t->records);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_array(&e, 2);
    mn_cbor_put_uint(&e, t->exit_kind);
    mn_cbor_put_int(&e, t->exit_code);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, t->stdout_digest, 32);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_bytes(&e, t->stderr_digest, 32);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_uint(&e, t->logical_end_ns);
    mn_cbor_put_key(&e, 6);
    mn_cbor_put_uint(&e, t->syscalls);
    mn_cbor_put_key(&e, 7);
    mn_cbor_put_uint(&e, t->taints);
    mn_cbor_put_key(&e, 8);
    mn_cbor_put_bytes(&e, t->fsdiff_root, 32);
    return frame_end(&e, out, start, err);
}

int mn_witness_config_digest(const mn_witness_header *h, uint8_t out[static 32], mn_err *err)
{
    int rc = check_header(h, err);
    if (rc != 0)
        return rc;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &buf);
    mn_cbor_put_map(&e, 4);
    mn_cbor_put_key(&e, 1);
    put_strs(&e, h->argv, h->argc);
    mn_cbor_put_key(&e, 2);
    put_strs(&e, h->env, h->envc);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_uint(&e, h->epoch_ns);
    mn_cbor_put_key(&e, 4);
    put_limits(&e, h);
    rc = mn_cbor_enc_finish(&e, err);
    if (rc == 0)
        mn_sha256_tagged(out, MN_TAG_DOCKLOCK_CONFIG, buf.data, buf.len);
    mn_buf_deinit(&buf);
    return rc;
}

void mn_witness_seed_commitment(const uint8_t seed[static 32], uint8_t out[static 32])
{
    mn_sha256_tagged(out, MN_TAG_DOCKLOCK_SEED, seed, 32);
}

void mn_witness_leaf_data(const uint8_t *doc, size_t len, uint8_t out[static 32])
{
    mn_sha256_tagged(out, MN_TAG_WITNESS_RECORD, doc, len);
}
