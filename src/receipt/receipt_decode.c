/* SPDX-License-Identifier: Apache-2.0
 *
 * receipt_decode.c: strict decoding of a receipt (format in receipt.h). The decoder reads the
 * fields in their one canonical order and refuses anything else: a missing, unknown or
 * reordered key, a wrong type, a wrong size, a value out of range, trailing bytes. Only then is
 * the signature checked. Nothing is written to the caller's receipt unless all of it passes.
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/receipt.h"

/* Reads field `key` (using the decoder d, the label w and err of the caller), then its value. */
#define FIELD(key, call)                                                                       \
    do {                                                                                       \
        MN_TRY(mn_cbor_want_key(d, key, w, err));                                                         \
        MN_TRY(call);                                                                             \
    } while (0)

static int get_policy_ids(mn_cbor_dec *d, mn_receipt_core *c, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n > MN_RECEIPT_POLICIES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "%llu policies, at most %u", (unsigned long long)n,
                          MN_RECEIPT_POLICIES_MAX);
    c->policy_count = (uint32_t)n;
    for (uint32_t i = 0; i < c->policy_count; i++)
        MN_TRY(mn_cbor_get_bytes_n(d, c->policy_ids[i], 32, err));
    return 0;
}

static int get_agreement(mn_cbor_dec *d, mn_receipt_core *c, mn_err *err)
{
    mn_cbor_type t;
    MN_TRY(mn_cbor_peek(d, &t, err));
    c->has_agreement = t != MN_CBOR_NULL;
    return c->has_agreement ? mn_cbor_get_bytes_n(d, c->agreement_id, 32, err)
                            : mn_cbor_get_null(d, err);
}

static int get_exit(mn_cbor_dec *d, mn_receipt_core *c, mn_err *err)
{
    uint64_t n, kind;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n != 2)
        return mn_err_set(err, MN_ECORRUPT, 0, "exit status has %llu items, expected 2",
                          (unsigned long long)n);
    MN_TRY(mn_cbor_get_uint(d, &kind, err));
    if (kind >= MN_EXIT_KIND_COUNT)
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown exit kind %llu",
                          (unsigned long long)kind);
    c->exit_kind = (mn_exit_kind)kind;
    return mn_cbor_get_int(d, &c->exit_code, err);
}

static int decode_core(mn_cbor_dec *d, mn_receipt_core *c, mn_err *err)
{
    const char *w = "receipt core";
    MN_TRY(mn_cbor_want_map(d, 19, w, err));
    FIELD(1, mn_cbor_get_bytes_n(d, c->job_id, 32, err));
    FIELD(2, mn_cbor_get_u32(d, &c->replica, "replica", err));
    FIELD(3, mn_cbor_get_bytes_n(d, c->node_id, 32, err));
    FIELD(4, mn_cbor_get_bytes_n(d, c->program_digest, 32, err));
    FIELD(5, mn_cbor_get_bytes_n(d, c->config_digest, 32, err));
    FIELD(6, mn_cbor_get_bytes_n(d, c->seed_commitment, 32, err));
    FIELD(7, get_agreement(d, c, err));
    FIELD(8, get_policy_ids(d, c, err));
    FIELD(9, mn_cbor_get_uint(d, &c->start_height, err));
    FIELD(10, mn_cbor_get_bytes_n(d, c->witness_root, 32, err));
    FIELD(11, mn_cbor_get_uint(d, &c->witness_count, err));
    FIELD(12, mn_cbor_get_bytes_n(d, c->stdout_root, 32, err));
    FIELD(13, mn_cbor_get_bytes_n(d, c->stderr_root, 32, err));
    FIELD(14, mn_cbor_get_bytes_n(d, c->fsdiff_root, 32, err));
    FIELD(15, get_exit(d, c, err));
    FIELD(16, mn_cbor_get_uint(d, &c->logical_time_ns, err));
    FIELD(17, mn_cbor_get_uint(d, &c->syscalls, err));
    FIELD(18, mn_cbor_get_uint(d, &c->policy_fuel, err));
    FIELD(19, mn_cbor_get_uint(d, &c->taints, err));
    if ((c->taints & ~(uint64_t)MN_TAINT_ALL) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown taint bits");
    return 0;
}

static int decode_measured(mn_cbor_dec *d, mn_receipt_measured *m, mn_err *err)
{
    const char *w = "measured stats";
    MN_TRY(mn_cbor_want_map(d, 3, w, err));
    FIELD(1, mn_cbor_get_uint(d, &m->wall_ns, err));
    FIELD(2, mn_cbor_get_uint(d, &m->cpu_ns, err));
    FIELD(3, mn_cbor_get_uint(d, &m->peak_memory_bytes, err));
    return 0;
}

static int decode_verdicts(mn_cbor_dec *d, mn_receipt *r, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n > MN_RECEIPT_POLICIES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "%llu verdicts, at most %u", (unsigned long long)n,
                          MN_RECEIPT_POLICIES_MAX);
    r->verdict_count = (uint32_t)n;
    for (uint32_t i = 0; i < r->verdict_count; i++) {
        mn_receipt_verdict *v = &r->verdicts[i];
        const char *w = "verdict";
        uint64_t value;
        MN_TRY(mn_cbor_want_map(d, 3, "verdict", err));
        FIELD(1, mn_cbor_get_bytes_n(d, v->policy_id, 32, err));
        FIELD(2, mn_cbor_get_uint(d, &value, err));
        if (value > MN_VERDICT_ERROR)
            return mn_err_set(err, MN_ECORRUPT, 0, "unknown verdict %llu",
                              (unsigned long long)value);
        v->verdict = (mn_verdict_value)value;
        FIELD(3, mn_cbor_get_uint(d, &v->fuel, err));
    }
    return 0;
}

static int decode_fields(mn_cbor_dec *d, mn_receipt *r, mn_err *err)
{
    const char *w = "receipt";
    MN_TRY(mn_cbor_want_map(d, 6, w, err));
    FIELD(1, mn_cbor_get_u32(d, &r->version, "version", err));
    if (r->version != MN_RECEIPT_VERSION)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "receipt version %u", r->version);
    FIELD(2, decode_core(d, &r->core, err));
    FIELD(3, decode_measured(d, &r->measured, err));
    FIELD(4, decode_verdicts(d, r, err));
    FIELD(5, mn_cbor_get_bytes_n(d, r->signer, 32, err));
    FIELD(6, mn_cbor_get_bytes_n(d, r->signature, 64, err));
    return mn_cbor_dec_finish(d, err);
}

int mn_receipt_parse(const uint8_t *data, size_t len, mn_receipt *r, mn_err *err)
{
    if (len > MN_RECEIPT_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "receipt of %zu bytes, at most %u", len,
                          MN_RECEIPT_BYTES_MAX);
    mn_receipt tmp;
    mn_receipt_init(&tmp);
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    if (decode_fields(&d, &tmp, err) != 0)
        return mn_err_wrap(err, "receipt");
    *r = tmp;
    return 0;
}

int mn_receipt_decode(const uint8_t *data, size_t len, const uint8_t *expected_signer,
                      mn_receipt *r, mn_err *err)
{
    mn_receipt tmp;
    int rc = mn_receipt_parse(data, len, &tmp, err);
    if (rc != 0)
        return rc;
    rc = mn_receipt_verify(&tmp, err);
    if (rc != 0)
        return rc;
    if (expected_signer != NULL && memcmp(expected_signer, tmp.signer, 32) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "receipt is signed by another key");
    *r = tmp;
    return 0;
}
