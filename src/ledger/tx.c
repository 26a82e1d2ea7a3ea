/* SPDX-License-Identifier: Apache-2.0
 *
 * tx.c: the transaction codec: canonical CBOR {1: type, 2: chain id, 3: sender, 4: nonce,
 * 5: body, 6: signature}, its sign-bytes (the same map without key 6), signing, verification
 * and the transaction id. The decoder is strict (one transaction, one encoding). It does not
 * look inside the body (the type's handler does) and knows nothing of state or nonces.
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/ledger.h"
#include "metanode/tags.h"

/* The sign-bytes end where key 6 starts: 0x06, 0x58 0x40, then 64 signature bytes. */
#define TX_SIG_TAIL_BYTES 67u

static void put_fields(mn_cbor_enc *e, const mn_tx *tx, uint64_t count)
{
    mn_cbor_put_map(e, count);
    mn_cbor_put_key(e, 1);
    mn_cbor_put_uint(e, tx->type);
    mn_cbor_put_key(e, 2);
    mn_cbor_put_text(e, tx->chain_id, strlen(tx->chain_id));
    mn_cbor_put_key(e, 3);
    mn_cbor_put_bytes(e, tx->sender, 32);
    mn_cbor_put_key(e, 4);
    mn_cbor_put_uint(e, tx->nonce);
    mn_cbor_put_key(e, 5);
    mn_cbor_put_bytes(e, tx->body, tx->body_len);
}

int mn_tx_sign_encode(mn_tx *tx, const mn_keypair *key, mn_buf *out, mn_err *err)
{
    MN_ASSERT(strlen(tx->chain_id) <= MN_CHAIN_ID_BYTES_MAX);
    memcpy(tx->sender, key->pk, 32);
    uint8_t sb[MN_TX_BYTES_MAX];
    mn_buf tmp;
    mn_buf_init(&tmp, MN_TX_BYTES_MAX);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &tmp);
    put_fields(&e, tx, 5);
    int rc = mn_cbor_enc_finish(&e, err);
    if (rc != 0) {
        mn_buf_deinit(&tmp);
        return mn_err_set(err, MN_ELIMIT, 0, "transaction larger than %u bytes",
                          MN_TX_BYTES_MAX);
    }
    memcpy(sb, tmp.data, tmp.len);
    const size_t sb_len = tmp.len;
    mn_buf_deinit(&tmp);
    mn_sign(tx->signature, MN_TAG_TRANSACTION, sb, sb_len, key);
    const size_t start = out->len;
    mn_cbor_enc_init(&e, out);
    put_fields(&e, tx, 6);
    mn_cbor_put_key(&e, 6);
    mn_cbor_put_bytes(&e, tx->signature, 64);
    MN_TRY(mn_cbor_enc_finish(&e, err));
    if (out->len - start > MN_TX_BYTES_MAX) {
        out->len = start;
        return mn_err_set(err, MN_ELIMIT, 0, "transaction larger than %u bytes",
                          MN_TX_BYTES_MAX);
    }
    return 0;
}

int mn_tx_decode(mn_tx *tx, const uint8_t *data, size_t len, mn_err *err)
{
    if (len > MN_TX_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "transaction of %zu bytes (max %u)", len,
                          MN_TX_BYTES_MAX);
    mn_tx t;
    memset(&t, 0, sizeof t);
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    const char *what = "transaction";
    MN_TRY(mn_cbor_want_map(&d, 6, what, err));
    MN_TRY(mn_cbor_want_key(&d, 1, what, err));
    MN_TRY(mn_cbor_get_u32(&d, &t.type, "transaction type", err));
    if (t.type == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "transaction type 0");
    MN_TRY(mn_cbor_want_key(&d, 2, what, err));
    const char *cid;
    size_t cid_len;
    MN_TRY(mn_cbor_get_text(&d, &cid, &cid_len, err));
    if (cid_len == 0 || cid_len > MN_CHAIN_ID_BYTES_MAX || memchr(cid, 0, cid_len) != NULL)
        return mn_err_set(err, MN_ECORRUPT, 0, "transaction chain id of %zu bytes", cid_len);
    memcpy(t.chain_id, cid, cid_len);
    MN_TRY(mn_cbor_want_key(&d, 3, what, err));
    MN_TRY(mn_cbor_get_bytes_n(&d, t.sender, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 4, what, err));
    MN_TRY(mn_cbor_get_uint(&d, &t.nonce, err));
    if (t.nonce == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "transaction nonce 0 (nonces start at 1)");
    MN_TRY(mn_cbor_want_key(&d, 5, what, err));
    MN_TRY(mn_cbor_get_bytes(&d, &t.body, &t.body_len, err));
    MN_TRY(mn_cbor_want_key(&d, 6, what, err));
    MN_TRY(mn_cbor_get_bytes_n(&d, t.signature, 64, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    *tx = t;
    return 0;
}

int mn_tx_verify(const mn_tx *tx, const uint8_t *data, size_t len, mn_err *err)
{
    /* data is the canonical encoding tx was decoded from: the sign-bytes are the same map
     * with 5 entries (head 0xa5) and without the trailing signature entry. */
    if (len <= TX_SIG_TAIL_BYTES || len > MN_TX_BYTES_MAX || data[0] != 0xa6)
        return mn_err_set(err, MN_EINVAL, 0, "not a decoded transaction encoding");
    uint8_t sb[MN_TX_BYTES_MAX];
    const size_t sb_len = len - TX_SIG_TAIL_BYTES;
    sb[0] = 0xa5;
    memcpy(sb + 1, data + 1, sb_len - 1);
    if (mn_verify(tx->signature, MN_TAG_TRANSACTION, sb, sb_len, tx->sender) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "transaction signature does not verify");
    return 0;
}

void mn_tx_hash(uint8_t hash[32], const uint8_t *data, size_t len)
{
    mn_sha256_tagged(hash, MN_TAG_TX_ID, data, len);
}
