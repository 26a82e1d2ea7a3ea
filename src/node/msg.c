/* SPDX-License-Identifier: Apache-2.0
 *
 * msg.c: encoders and strict decoders of the node messages of node_msg.h. Nested consensus
 * structures travel as byte strings holding their own canonical encodings and are decoded with
 * the strict decoders of consensus_msg.h. Not here: acting on messages (node.c).
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/node_msg.h"
#include "nested.h"

static int finish(mn_cbor_enc *e, mn_err *err)
{
    return mn_cbor_enc_finish(e, err);
}


int mn_nmsg_encode_consensus(const mn_cmsg *c, const uint8_t *body, size_t body_len,
                             bool has_body, mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 3);
    mn_cbor_put_uint(&e, MN_NMSG_CONSENSUS);
    MN_NODE_PUT_NESTED(&e, mn_cmsg_encode, c);
    if (has_body)
        mn_cbor_put_bytes(&e, body, body_len);
    else
        mn_cbor_put_null(&e);
    return finish(&e, err);
}

int mn_nmsg_encode_body_request(uint64_t height, const uint8_t payload[32], mn_buf *out,
                                mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 3);
    mn_cbor_put_uint(&e, MN_NMSG_BODY_REQUEST);
    mn_cbor_put_uint(&e, height);
    mn_cbor_put_bytes(&e, payload, 32);
    return finish(&e, err);
}

int mn_nmsg_encode_body(uint64_t height, const uint8_t *body, size_t len, mn_buf *out,
                        mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 3);
    mn_cbor_put_uint(&e, MN_NMSG_BODY);
    mn_cbor_put_uint(&e, height);
    mn_cbor_put_bytes(&e, body, len);
    return finish(&e, err);
}

int mn_nmsg_encode_status(uint64_t height, const uint8_t block_id[32], const uint8_t root[32],
                          mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 4);
    mn_cbor_put_uint(&e, MN_NMSG_STATUS);
    mn_cbor_put_uint(&e, height);
    mn_cbor_put_bytes(&e, block_id, 32);
    mn_cbor_put_bytes(&e, root, 32);
    return finish(&e, err);
}

int mn_nmsg_encode_sync_request(uint64_t first, uint64_t count, mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 3);
    mn_cbor_put_uint(&e, MN_NMSG_SYNC_REQUEST);
    mn_cbor_put_uint(&e, first);
    mn_cbor_put_uint(&e, count);
    return finish(&e, err);
}

int mn_nmsg_encode_sync_block(const mn_block_header *h, const mn_commit_cert *c,
                              const uint8_t *body, size_t len, mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 4);
    mn_cbor_put_uint(&e, MN_NMSG_SYNC_BLOCK);
    MN_NODE_PUT_NESTED(&e, mn_block_header_encode, h);
    MN_NODE_PUT_NESTED(&e, mn_commit_cert_encode, c);
    mn_cbor_put_bytes(&e, body, len);
    return finish(&e, err);
}

int mn_nmsg_encode_txs(const uint8_t *const *txs, const size_t *lens, uint32_t count,
                       mn_buf *out, mn_err *err)
{
    if (count == 0 || count > MN_NODE_TX_BATCH_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "tx batch of %u", count);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, 2);
    mn_cbor_put_uint(&e, MN_NMSG_TXS);
    mn_cbor_put_array(&e, count);
    for (uint32_t i = 0; i < count; i++)
        mn_cbor_put_bytes(&e, txs[i], lens[i]);
    return finish(&e, err);
}

int mn_nmsg_encode(const mn_nmsg *m, mn_buf *out, mn_err *err)
{
    switch (m->kind) {
    case MN_NMSG_CONSENSUS:
        return mn_nmsg_encode_consensus(&m->cmsg, m->body, m->body_len, m->has_body, out, err);
    case MN_NMSG_BODY_REQUEST:
        return mn_nmsg_encode_body_request(m->height, m->hash, out, err);
    case MN_NMSG_BODY:
        return mn_nmsg_encode_body(m->height, m->body, m->body_len, out, err);
    case MN_NMSG_STATUS:
        return mn_nmsg_encode_status(m->height, m->hash, m->root, out, err);
    case MN_NMSG_SYNC_REQUEST:
        return mn_nmsg_encode_sync_request(m->height, m->count, out, err);
    case MN_NMSG_SYNC_BLOCK:
        return mn_nmsg_encode_sync_block(&m->header, &m->cert, m->body, m->body_len, out, err);
    case MN_NMSG_TXS:
        return mn_nmsg_encode_txs(m->txs, m->tx_lens, m->tx_count, out, err);
    }
    return mn_err_set(err, MN_EINVAL, 0, "node message kind %d", (int)m->kind);
}

/* ---- decoding ---------------------------------------------------------------------------- */

static int want_len(uint64_t n, uint64_t want, mn_err *err)
{
    if (n != want)
        return mn_err_set(err, MN_ECORRUPT, 0, "node message of %llu items, want %llu",
                          (unsigned long long)n, (unsigned long long)want);
    return 0;
}

static int decode_body(mn_cbor_dec *d, mn_nmsg *m, mn_err *err)
{
    MN_TRY(mn_cbor_get_bytes(d, &m->body, &m->body_len, err));
    m->has_body = true;
    return 0;
}

static int decode_fields(mn_cbor_dec *d, uint64_t kind, uint64_t n, mn_nmsg *m, mn_err *err)
{
    const uint8_t *p;
    size_t len;
    mn_cbor_type t;
    switch (kind) {
    case MN_NMSG_CONSENSUS:
        MN_TRY(want_len(n, 3, err));
        MN_TRY(mn_cbor_get_bytes(d, &p, &len, err));
        MN_TRY(mn_cmsg_decode(p, len, &m->cmsg, err));
        MN_TRY(mn_cbor_peek(d, &t, err));
        if (t == MN_CBOR_NULL)
            return mn_cbor_get_null(d, err);
        return decode_body(d, m, err);
    case MN_NMSG_BODY_REQUEST:
        MN_TRY(want_len(n, 3, err));
        MN_TRY(mn_cbor_get_uint(d, &m->height, err));
        return mn_cbor_get_bytes_n(d, m->hash, 32, err);
    case MN_NMSG_BODY:
        MN_TRY(want_len(n, 3, err));
        MN_TRY(mn_cbor_get_uint(d, &m->height, err));
        return decode_body(d, m, err);
    case MN_NMSG_STATUS:
        MN_TRY(want_len(n, 4, err));
        MN_TRY(mn_cbor_get_uint(d, &m->height, err));
        MN_TRY(mn_cbor_get_bytes_n(d, m->hash, 32, err));
        return mn_cbor_get_bytes_n(d, m->root, 32, err);
    case MN_NMSG_SYNC_REQUEST:
        MN_TRY(want_len(n, 3, err));
        MN_TRY(mn_cbor_get_uint(d, &m->height, err));
        MN_TRY(mn_cbor_get_uint(d, &m->count, err));
        if (m->height == 0 || m->count == 0 || m->count > MN_NODE_SYNC_BATCH_MAX)
            return mn_err_set(err, MN_ECORRUPT, 0, "sync request of %llu from %llu",
                              (unsigned long long)m->count, (unsigned long long)m->height);
        return 0;
    case MN_NMSG_SYNC_BLOCK:
        MN_TRY(want_len(n, 4, err));
        MN_TRY(mn_cbor_get_bytes(d, &p, &len, err));
        MN_TRY(mn_block_header_decode(p, len, &m->header, err));
        MN_TRY(mn_cbor_get_bytes(d, &p, &len, err));
        MN_TRY(mn_commit_cert_decode(p, len, &m->cert, err));
        return decode_body(d, m, err);
    case MN_NMSG_TXS: {
        uint64_t count;
        MN_TRY(want_len(n, 2, err));
        MN_TRY(mn_cbor_get_array(d, &count, err));
        if (count == 0 || count > MN_NODE_TX_BATCH_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "tx batch of %llu", (unsigned long long)count);
        for (uint64_t i = 0; i < count; i++)
            MN_TRY(mn_cbor_get_bytes(d, &m->txs[i], &m->tx_lens[i], err));
        m->tx_count = (uint32_t)count;
        return 0;
    }
    default:
        return mn_err_set(err, MN_ECORRUPT, 0, "unknown node message kind %llu",
                          (unsigned long long)kind);
    }
}

int mn_nmsg_decode(const uint8_t *data, size_t len, mn_nmsg *m, mn_err *err)
{
    mn_cbor_dec d;
    uint64_t n, kind;
    /* Only the scalar fields are reset: the message is large (tx pointers, a certificate) and
     * decoded once per received message, so each kind writes just the fields it has. */
    m->has_body = false;
    m->body = NULL;
    m->body_len = 0;
    m->tx_count = 0;
    m->height = m->count = 0;
    mn_cbor_dec_init(&d, data, len);
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "empty node message");
    MN_TRY(mn_cbor_get_uint(&d, &kind, err));
    MN_TRY(decode_fields(&d, kind, n, m, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    m->kind = (mn_nmsg_kind)kind;
    return 0;
}

/* ---- block body --------------------------------------------------------------------------- */

int mn_body_state_root(const uint8_t *body, size_t len, uint8_t root[32], mn_err *err)
{
    mn_cbor_dec d;
    uint64_t n, t;
    mn_cbor_dec_init(&d, body, len);
    MN_TRY(mn_cbor_get_map(&d, &n, err));
    if (n < 2)
        return mn_err_set(err, MN_ECORRUPT, 0, "block body map of %llu", (unsigned long long)n);
    MN_TRY(mn_cbor_want_key(&d, 1, "block body", err));
    MN_TRY(mn_cbor_get_uint(&d, &t, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "block body", err));
    return mn_cbor_get_bytes_n(&d, root, 32, err);
}

int mn_body_txs(const uint8_t *body, size_t len, mn_body_tx_fn fn, void *ctx, uint64_t *count,
                mn_err *err)
{
    mn_cbor_dec d;
    uint64_t n, t, k;
    uint8_t skip[32];
    mn_cbor_dec_init(&d, body, len);
    MN_TRY(mn_cbor_get_map(&d, &n, err));
    if (n < 4)
        return mn_err_set(err, MN_ECORRUPT, 0, "block body map of %llu", (unsigned long long)n);
    MN_TRY(mn_cbor_want_key(&d, 1, "block body", err));
    MN_TRY(mn_cbor_get_uint(&d, &t, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "block body", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, skip, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "block body", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, skip, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 4, "block body", err));
    MN_TRY(mn_cbor_get_array(&d, &k, err));
    for (uint64_t i = 0; i < k; i++) {
        const uint8_t *tx;
        size_t tl;
        MN_TRY(mn_cbor_get_bytes(&d, &tx, &tl, err));
        if (fn)
            fn(ctx, tx, tl);
    }
    *count = k;
    return 0;
}
