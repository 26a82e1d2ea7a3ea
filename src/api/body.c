/* SPDX-License-Identifier: Apache-2.0
 *
 * body.c: the API's reading of a committed block body (the ledger's canonical CBOR
 * {1: time_ms, 2: state_root, 3: tx_root, 4: [txs], 5: [evidence]}) for GET /blocks: time, roots,
 * and each transaction's bytes (a byte string holding the encoding, or the encoding inline).
 * It validates only what the summary needs and executes nothing; fuzzed (fuzz_api_request.c).
 */
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/ledger.h"

int mn__api_body_decode(const uint8_t *data, size_t len, mn__api_body *b,
                        void (*on_tx)(void *ctx, uint32_t index, const uint8_t *tx, size_t n),
                        void *ctx, mn_err *err)
{
    mn_cbor_dec d;
    uint64_t count = 0;
    memset(b, 0, sizeof *b);
    mn_cbor_dec_init(&d, data, len);
    MN_TRY(mn_cbor_want_map(&d, 5, "block body", err));
    MN_TRY(mn_cbor_want_key(&d, 1, "block body", err));
    MN_TRY(mn_cbor_get_uint(&d, &b->time_ms, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "block body", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->state_root, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "block body", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->tx_root, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 4, "block body", err));
    MN_TRY(mn_cbor_get_array(&d, &count, err));
    if (count > MN_BLOCK_TXS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "block body: %llu transactions",
                          (unsigned long long)count);
    for (uint32_t i = 0; i < (uint32_t)count; i++) {
        /* A tx is carried as a byte string holding its encoding, or inline as its map. */
        mn_cbor_type type;
        MN_TRY(mn_cbor_peek(&d, &type, err));
        const uint8_t *tx = d.p;
        size_t n = 0;
        if (type == MN_CBOR_BYTES) {
            MN_TRY(mn_cbor_get_bytes(&d, &tx, &n, err));
        } else {
            MN_TRY(mn_cbor_skip(&d, err));
            n = (size_t)(d.p - tx);
        }
        if (on_tx != NULL)
            on_tx(ctx, i, tx, n);
    }
    b->tx_count = (uint32_t)count;
    MN_TRY(mn_cbor_want_key(&d, 5, "block body", err));
    MN_TRY(mn_cbor_get_array(&d, &count, err));
    if (count > MN_BLOCK_EVIDENCE_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "block body: too much evidence");
    for (uint64_t i = 0; i < count; i++)
        MN_TRY(mn_cbor_skip(&d, err));
    b->evidence_count = (uint32_t)count;
    return mn_cbor_dec_finish(&d, err);
}
