/* SPDX-License-Identifier: Apache-2.0
 *
 * cbor_schema.c: the small helpers every strict format decoder needs (a map or array of an
 * exact size, the expected next key, a 32-bit unsigned value), so receipts, witness logs,
 * consensus messages and handshake payloads report malformed input the same way. They know
 * nothing of any one format.
 */
#include "metanode/cbor.h"

static int want_count(uint64_t got, uint64_t n, const char *what, const char *unit, mn_err *err)
{
    if (got != n)
        return mn_err_set(err, MN_ECORRUPT, 0, "%s has %llu %s, expected %llu", what,
                          (unsigned long long)got, unit, (unsigned long long)n);
    return 0;
}

int mn_cbor_want_map(mn_cbor_dec *dec, uint64_t n, const char *what, mn_err *err)
{
    uint64_t count;
    MN_TRY(mn_cbor_get_map(dec, &count, err));
    return want_count(count, n, what, "fields", err);
}

int mn_cbor_want_array(mn_cbor_dec *dec, uint64_t n, const char *what, mn_err *err)
{
    uint64_t count;
    MN_TRY(mn_cbor_get_array(dec, &count, err));
    return want_count(count, n, what, "items", err);
}

int mn_cbor_want_key(mn_cbor_dec *dec, int64_t key, const char *what, mn_err *err)
{
    int64_t got;
    MN_TRY(mn_cbor_get_key(dec, &got, err));
    if (got != key)
        return mn_err_set(err, MN_ECORRUPT, 0, "%s: expected field %lld, found %lld", what,
                          (long long)key, (long long)got);
    return 0;
}

int mn_cbor_get_u32(mn_cbor_dec *dec, uint32_t *v, const char *what, mn_err *err)
{
    uint64_t wide;
    MN_TRY(mn_cbor_get_uint(dec, &wide, err));
    if (wide > UINT32_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "%s %llu does not fit 32 bits", what,
                          (unsigned long long)wide);
    *v = (uint32_t)wide;
    return 0;
}
