/* SPDX-License-Identifier: Apache-2.0
 *
 * valset.c: stake snapshots. A snapshot is the list of validators with stake in the state
 * after a block, in public-key order, encoded as canonical CBOR [[pk, vrf pk, stake], ...];
 * the ledger stores one per height at which it changed and turns it into the consensus
 * validator set (mn_bft_valset); the ledger keeps the list of snapshots in height order and
 * answers which one runs a height (MN_STAKE_LOOKBACK after the block that made it).
 */
#include <stdlib.h>
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
    snap_ctx s; /* 9 KiB of stack */
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
    mn_bft_member members[MN_VALIDATORS_MAX]; /* 9 KiB of stack */
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

/* ---- the snapshots of one ledger ---------------------------------------------------------- */

/* Room for one more snapshot. */
int mn__snap_reserve(mn_ledger *l, mn_err *err)
{
    if (l->nsnaps < l->capsnaps)
        return 0;
    const size_t cap = l->capsnaps == 0 ? 8 : 2 * l->capsnaps;
    mn__snap *n = realloc(l->snaps, cap * sizeof *n);
    if (n == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory");
    l->snaps = n;
    l->capsnaps = cap;
    return 0;
}

int mn__snap_add(void *ctx, uint64_t height, const uint8_t *enc, size_t len, mn_err *err)
{
    mn_ledger *l = ctx;
    MN_TRY(mn__snap_reserve(l, err));
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory");
    memcpy(copy, enc, len);
    if (l->nsnaps > 0 && l->snaps[l->nsnaps - 1].height >= height) {
        free(copy);
        return mn_err_set(err, MN_ECORRUPT, 0, "store: validator snapshots out of order");
    }
    l->snaps[l->nsnaps++] = (mn__snap){.height = height, .enc = copy, .len = len, .vs = NULL};
    return 0;
}

const mn_bft_valset *mn_ledger_valset_at(mn_ledger *l, uint64_t height)
{
    if (height == 0 || height > l->height + MN_STAKE_LOOKBACK || l->nsnaps == 0)
        return NULL;
    const uint64_t after = height > MN_STAKE_LOOKBACK ? height - MN_STAKE_LOOKBACK : 0;
    size_t lo = 0, hi = l->nsnaps; /* the last snapshot with snap.height <= after */
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if (l->snaps[mid].height <= after)
            lo = mid;
        else
            hi = mid;
    }
    mn__snap *s = &l->snaps[lo];
    if (s->height > after)
        return NULL;
    if (s->vs == NULL) {
        mn_bft_valset *vs = malloc(sizeof *vs);
        mn_err err;
        if (vs == NULL || mn__snapshot_to_valset(s->enc, s->len, vs, &err) != 0) {
            free(vs);
            return NULL;
        }
        s->vs = vs;
    }
    return s->vs;
}

const mn_bft_valset *mn_ledger_valset_hook(void *ctx, uint64_t height)
{
    return mn_ledger_valset_at(ctx, height);
}

/* ---- commit ----------------------------------------------------------------------------- */
