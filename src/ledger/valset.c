/* SPDX-License-Identifier: Apache-2.0
 *
 * valset.c: stake snapshots. A snapshot is the list of validators with stake in the state
 * after a block, in public-key order, encoded as canonical CBOR [[pk, vrf pk, stake], ...];
 * the ledger stores one per height at which it changed and turns it into the consensus
 * validator set (mn_bft_valset). Which snapshot runs which height is ledger.c's business.
 */
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"

typedef struct snap_ctx {
    uint32_t count;
    uint8_t pk[MN_VALIDATORS_MAX][32];
    uint8_t vrf_pk[MN_VALIDATORS_MAX][32];
    uint64_t stake[MN_VALIDATORS_MAX];
} snap_ctx;

static int collect(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    snap_ctx *s = ctx;
    if (klen != 34 || s->count >= MN_VALIDATORS_MAX)
        return -1;
    mn_cbor_dec d;
    mn_err err;
    mn_cbor_dec_init(&d, val, vlen);
    if (mn_cbor_want_map(&d, 3, "validator record", &err) != 0 ||
        mn_cbor_want_key(&d, 1, "validator record", &err) != 0 ||
        mn_cbor_get_bytes_n(&d, s->vrf_pk[s->count], 32, &err) != 0 ||
        mn_cbor_want_key(&d, 2, "validator record", &err) != 0 ||
        mn_cbor_get_uint(&d, &s->stake[s->count], &err) != 0)
        return -1;
    memcpy(s->pk[s->count], key + 2, 32);
    if (s->stake[s->count] > 0)
        s->count++;
    return 0;
}

int mn__snapshot_encode(const mn__tree *t, mn_buf *out, mn_err *err)
{
    static snap_ctx s; /* 9 KiB: single-threaded ledger (ledger.h) */
    s.count = 0;
    const uint8_t prefix[2] = {MN_LEDGER_KEY_VALIDATOR, '/'};
    if (mn__tree_visit(t, prefix, 2, collect, &s) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "state: corrupt validator records");
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, s.count);
    for (uint32_t i = 0; i < s.count; i++) {
        mn_cbor_put_array(&e, 3);
        mn_cbor_put_bytes(&e, s.pk[i], 32);
        mn_cbor_put_bytes(&e, s.vrf_pk[i], 32);
        mn_cbor_put_uint(&e, s.stake[i]);
    }
    return mn_cbor_enc_finish(&e, err);
}

int mn__snapshot_to_valset(const uint8_t *data, size_t len, mn_bft_valset *vs, mn_err *err)
{
    static mn_bft_member members[MN_VALIDATORS_MAX];
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    uint64_t n;
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n == 0 || n > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "snapshot of %llu validators",
                          (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        MN_TRY(mn_cbor_want_array(&d, 3, "snapshot entry", err));
        MN_TRY(mn_cbor_get_bytes_n(&d, members[i].pk, 32, err));
        MN_TRY(mn_cbor_get_bytes_n(&d, members[i].vrf_pk, 32, err));
        MN_TRY(mn_cbor_get_uint(&d, &members[i].stake, err));
    }
    MN_TRY(mn_cbor_dec_finish(&d, err));
    return mn_bft_valset_init(vs, members, (uint32_t)n, err);
}
