/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_addrmsg.c: address gossip. The codec of the address message (a canonical CBOR array of
 * [ip, port, node id], strict because it comes from peers) and the sample of our book we offer
 * in one: random entries of both tables, at most 23 % of the book as Bitcoin's GETADDR answer,
 * without addresses that keep failing. Rate limits and the choice of source group are the
 * driver's (docs/relay.md).
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/relay_addrbook.h"

int mn_addrbook_addrs_encode(const mn_addr *addrs, uint32_t count, mn_buf *out, mn_err *err)
{
    if (count == 0 || count > MN_ADDRBOOK_ADDRS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "address message of %u", count);
    for (uint32_t i = 0; i < count; i++)
        if (addrs[i].port == 0)
            return mn_err_set(err, MN_EINVAL, 0, "address with port 0");
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, count);
    for (uint32_t i = 0; i < count; i++) {
        mn_cbor_put_array(&e, 3);
        mn_cbor_put_bytes(&e, addrs[i].ip, 16);
        mn_cbor_put_uint(&e, addrs[i].port);
        mn_cbor_put_bytes(&e, addrs[i].node, MN_ED25519_PUBLICKEY_BYTES);
    }
    return mn_cbor_enc_finish(&e, err);
}

int mn_addrbook_addrs_decode(const uint8_t *data, size_t len, mn_addr *addrs, uint32_t *count,
                             mn_err *err)
{
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    uint64_t n;
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "empty address message");
    if (n > MN_ADDRBOOK_ADDRS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "address message of %llu", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t port;
        mn_addr *a = &addrs[i];
        memset(a, 0, sizeof *a);
        MN_TRY(mn_cbor_want_array(&d, 3, "address", err));
        MN_TRY(mn_cbor_get_bytes_n(&d, a->ip, 16, err));
        MN_TRY(mn_cbor_get_u32(&d, &port, "address port", err));
        if (port == 0 || port > UINT16_MAX)
            return mn_err_set(err, MN_ECORRUPT, 0, "address port %u", port);
        a->port = (uint16_t)port;
        MN_TRY(mn_cbor_get_bytes_n(&d, a->node, MN_ED25519_PUBLICKEY_BYTES, err));
    }
    MN_TRY(mn_cbor_dec_finish(&d, err));
    *count = (uint32_t)n;
    return 0;
}

static uint64_t rnd(mn_addrbook *ab)
{
    uint64_t z = (ab->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t mn_addrbook_sample(mn_addrbook *ab, mn_addr *out, uint32_t max)
{
    uint32_t total = ab->count_new + ab->count_tried;
    uint32_t want = total * 23 / 100;
    if (want > max)
        want = max;
    if (want == 0 && total > 0 && max > 0)
        want = 1;
    /* one pass over the entries from a random start, taking each usable one with a chance of
     * a quarter, so the answer is spread over the book rather than a run of neighbours */
    uint32_t n = 0, start = (uint32_t)(rnd(ab) % MN_ADDRBOOK_ENTRIES);
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES && n < want; i++) {
        const mn_addrbook_entry *x = &ab->entries[(start + i) % MN_ADDRBOOK_ENTRIES];
        if (x->used && x->attempts < 3 && x->addr.port != 0 && rnd(ab) % 4 == 0)
            out[n++] = x->addr;
    }
    return n;
}
