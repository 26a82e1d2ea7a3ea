/* SPDX-License-Identifier: Apache-2.0
 *
 * receipt.c: canonical encoding, strict decoding, signing and hashing of receipts (format in
 * receipt.h). Encoding and decoding are written as mirror images field by field, so a field
 * added to one must be added to the other; the round-trip test and the fuzz target check that
 * decode(encode(r)) == r and encode(decode(b)) == b.
 */
#include "metanode/receipt.h"

#include <string.h>

#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

enum { K_VERSION = 1, K_CORE, K_MEASURED, K_VERDICTS, K_SIGNER, K_SIGNATURE };
enum {
    C_JOB = 1, C_REPLICA, C_NODE, C_PROGRAM, C_CONFIG, C_SEED, C_AGREEMENT, C_POLICIES,
    C_START, C_WITNESS_ROOT, C_WITNESS_COUNT, C_STDOUT, C_STDERR, C_FSDIFF, C_EXIT,
    C_LOGICAL_TIME, C_SYSCALLS, C_FUEL, C_TAINTS, C_FIELDS = C_TAINTS
};
enum { M_WALL = 1, M_CPU, M_PEAK, M_FIELDS = M_PEAK };
enum { V_POLICY = 1, V_VERDICT, V_FUEL, V_FIELDS = V_FUEL };

void mn_receipt_init(mn_receipt *r)
{
    memset(r, 0, sizeof(*r)); /* no uninitialised bytes anywhere near hashed data */
    r->version = MN_RECEIPT_VERSION;
}

const char *mn_exit_kind_name(mn_exit_kind kind)
{
    static const char *const names[] = {"exited", "signaled", "limit"};
    return (unsigned)kind < MN_EXIT_KIND_COUNT ? names[kind] : "unknown";
}

const char *mn_verdict_name(mn_verdict_value v)
{
    static const char *const names[] = {"comply", "violation", "error"};
    return (unsigned)v <= MN_VERDICT_ERROR ? names[v] : "unknown";
}

/* Range checks shared by encode (programmer-supplied values) and decode (untrusted bytes). */
static int check_ranges(const mn_receipt *r, mn_err *err)
{
    if (r->version != MN_RECEIPT_VERSION)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "receipt version %u", r->version);
    if (r->core.policy_count > MN_RECEIPT_POLICIES_MAX ||
        r->verdict_count > MN_RECEIPT_POLICIES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "more than %u policies or verdicts",
                          MN_RECEIPT_POLICIES_MAX);
    if ((unsigned)r->core.exit_kind >= MN_EXIT_KIND_COUNT)
        return mn_err_set(err, MN_EINVAL, 0, "exit kind %u", (unsigned)r->core.exit_kind);
    if ((r->core.taints & ~(uint64_t)MN_TAINT_ALL) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "unknown taint bits 0x%llx",
                          (unsigned long long)r->core.taints);
    for (uint32_t i = 0; i < r->verdict_count; i++)
        if ((unsigned)r->verdicts[i].verdict > MN_VERDICT_ERROR)
            return mn_err_set(err, MN_EINVAL, 0, "verdict %u", (unsigned)r->verdicts[i].verdict);
    return 0;
}

static void encode_core(mn_cbor_enc *e, const mn_receipt_core *c)
{
    mn_cbor_put_map(e, C_FIELDS);
    mn_cbor_put_key(e, C_JOB), mn_cbor_put_bytes(e, c->job_id, 32);
    mn_cbor_put_key(e, C_REPLICA), mn_cbor_put_uint(e, c->replica);
    mn_cbor_put_key(e, C_NODE), mn_cbor_put_bytes(e, c->node_id, 32);
    mn_cbor_put_key(e, C_PROGRAM), mn_cbor_put_bytes(e, c->program_digest, 32);
    mn_cbor_put_key(e, C_CONFIG), mn_cbor_put_bytes(e, c->config_digest, 32);
    mn_cbor_put_key(e, C_SEED), mn_cbor_put_bytes(e, c->seed_commitment, 32);
    mn_cbor_put_key(e, C_AGREEMENT);
    if (c->has_agreement)
        mn_cbor_put_bytes(e, c->agreement_id, 32);
    else
        mn_cbor_put_null(e);
    mn_cbor_put_key(e, C_POLICIES), mn_cbor_put_array(e, c->policy_count);
    for (uint32_t i = 0; i < c->policy_count; i++)
        mn_cbor_put_bytes(e, c->policy_ids[i], 32);
    mn_cbor_put_key(e, C_START), mn_cbor_put_uint(e, c->start_height);
    mn_cbor_put_key(e, C_WITNESS_ROOT), mn_cbor_put_bytes(e, c->witness_root, 32);
    mn_cbor_put_key(e, C_WITNESS_COUNT), mn_cbor_put_uint(e, c->witness_count);
    mn_cbor_put_key(e, C_STDOUT), mn_cbor_put_bytes(e, c->stdout_root, 32);
    mn_cbor_put_key(e, C_STDERR), mn_cbor_put_bytes(e, c->stderr_root, 32);
    mn_cbor_put_key(e, C_FSDIFF), mn_cbor_put_bytes(e, c->fsdiff_root, 32);
    mn_cbor_put_key(e, C_EXIT), mn_cbor_put_array(e, 2);
    mn_cbor_put_uint(e, (uint64_t)c->exit_kind), mn_cbor_put_int(e, c->exit_code);
    mn_cbor_put_key(e, C_LOGICAL_TIME), mn_cbor_put_uint(e, c->logical_time_ns);
    mn_cbor_put_key(e, C_SYSCALLS), mn_cbor_put_uint(e, c->syscalls);
    mn_cbor_put_key(e, C_FUEL), mn_cbor_put_uint(e, c->policy_fuel);
    mn_cbor_put_key(e, C_TAINTS), mn_cbor_put_uint(e, c->taints);
}

static void encode_unsigned_fields(mn_cbor_enc *e, const mn_receipt *r)
{
    mn_cbor_put_key(e, K_VERSION), mn_cbor_put_uint(e, r->version);
    mn_cbor_put_key(e, K_CORE), encode_core(e, &r->core);
    mn_cbor_put_key(e, K_MEASURED), mn_cbor_put_map(e, M_FIELDS);
    mn_cbor_put_key(e, M_WALL), mn_cbor_put_uint(e, r->measured.wall_ns);
    mn_cbor_put_key(e, M_CPU), mn_cbor_put_uint(e, r->measured.cpu_ns);
    mn_cbor_put_key(e, M_PEAK), mn_cbor_put_uint(e, r->measured.peak_memory_bytes);
    mn_cbor_put_key(e, K_VERDICTS), mn_cbor_put_array(e, r->verdict_count);
    for (uint32_t i = 0; i < r->verdict_count; i++) {
        const mn_receipt_verdict *v = &r->verdicts[i];
        mn_cbor_put_map(e, V_FIELDS);
        mn_cbor_put_key(e, V_POLICY), mn_cbor_put_bytes(e, v->policy_id, 32);
        mn_cbor_put_key(e, V_VERDICT), mn_cbor_put_uint(e, (uint64_t)v->verdict);
        mn_cbor_put_key(e, V_FUEL), mn_cbor_put_uint(e, v->fuel);
    }
    mn_cbor_put_key(e, K_SIGNER), mn_cbor_put_bytes(e, r->signer, 32);
}

/* The bytes the signature covers: the receipt map without the signature entry. */
static int encode_signed_part(const mn_receipt *r, mn_buf *out, mn_err *err)
{
    int rc = check_ranges(r, err);
    if (rc != 0)
        return rc;
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, K_SIGNER);
    encode_unsigned_fields(&e, r);
    return mn_cbor_enc_finish(&e, err);
}

int mn_receipt_encode(const mn_receipt *r, mn_buf *out, mn_err *err)
{
    int rc = check_ranges(r, err);
    if (rc != 0)
        return rc;
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, K_SIGNATURE);
    encode_unsigned_fields(&e, r);
    mn_cbor_put_key(&e, K_SIGNATURE), mn_cbor_put_bytes(&e, r->signature, 64);
    return mn_cbor_enc_finish(&e, err);
}

int mn_receipt_sign(mn_receipt *r, const mn_keypair *kp, mn_err *err)
{
    memcpy(r->signer, kp->pk, 32);
    mn_buf buf;
    mn_buf_init(&buf, MN_RECEIPT_BYTES_MAX);
    int rc = encode_signed_part(r, &buf, err);
    if (rc == 0)
        mn_sign(r->signature, MN_TAG_RECEIPT, buf.data, buf.len, kp);
    mn_buf_deinit(&buf);
    return rc;
}

int mn_receipt_verify(const mn_receipt *r, mn_err *err)
{
    mn_buf buf;
    mn_buf_init(&buf, MN_RECEIPT_BYTES_MAX);
    int rc = encode_signed_part(r, &buf, err);
    if (rc == 0 && mn_verify(r->signature, MN_TAG_RECEIPT, buf.data, buf.len, r->signer) != 0)
        rc = mn_err_set(err, MN_ECRYPTO, 0, "receipt signature does not verify");
    mn_buf_deinit(&buf);
    return rc;
}

static int hash_encoding(uint8_t tag, const mn_buf *buf, uint8_t out[32])
{
    mn_sha256_tagged(out, tag, buf->data, buf->len);
    return 0;
}

int mn_receipt_core_hash(const mn_receipt *r, uint8_t out[static 32], mn_err *err)
{
    int rc = check_ranges(r, err);
    if (rc != 0)
        return rc;
    mn_buf buf;
    mn_buf_init(&buf, MN_RECEIPT_BYTES_MAX);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &buf);
    encode_core(&e, &r->core);
    rc = mn_cbor_enc_finish(&e, err);
    if (rc == 0)
        hash_encoding(MN_TAG_RECEIPT_CORE, &buf, out);
    mn_buf_deinit(&buf);
    return rc;
}

int mn_receipt_id(const mn_receipt *r, uint8_t out[static 32], mn_err *err)
{
    mn_buf buf;
    mn_buf_init(&buf, MN_RECEIPT_BYTES_MAX);
    int rc = mn_receipt_encode(r, &buf, err);
    if (rc == 0)
        hash_encoding(MN_TAG_RECEIPT, &buf, out);
    mn_buf_deinit(&buf);
    return rc;
}
