/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_ledger_tx.c: arbitrary bytes through the strict transaction decoder. Whatever decodes
 * must re-encode to exactly the input (one transaction, one encoding); verification and
 * hashing must not crash; an evidence body goes through the evidence decoder too. Aborts on a
 * violated property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_tx tx;
    mn_err err;
    if (mn_tx_decode(&tx, data, size, &err) != 0)
        return 0;
    mn_buf b;
    mn_buf_init(&b, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_map(&e, 6);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, tx.type);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_text(&e, tx.chain_id, strlen(tx.chain_id));
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, tx.sender, 32);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_uint(&e, tx.nonce);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_bytes(&e, tx.body, tx.body_len);
    mn_cbor_put_key(&e, 6);
    mn_cbor_put_bytes(&e, tx.signature, 64);
    if (mn_cbor_enc_finish(&e, &err) != 0 || b.len != size || memcmp(b.data, data, size) != 0)
        abort();
    mn_buf_deinit(&b);
    (void)mn_tx_verify(&tx, data, size, &err);
    uint8_t hash[32];
    mn_tx_hash(hash, data, size);
    if (tx.type == MN_TX_EVIDENCE) {
        mn_evidence ev;
        (void)mn_evidence_decode(tx.body, tx.body_len, &ev, &err);
    }
    return 0;
}
