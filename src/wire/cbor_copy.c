/* SPDX-License-Identifier: Apache-2.0
 *
 * cbor_copy.c: mn_cbor_copy_document, a generic walk over one document that reads every item
 * with the matching getter and writes it again through the encoder (depth first, with an
 * explicit stack, no recursion). Because the decoder only accepts canonical bytes and the
 * encoder only writes them, an accepted document comes out byte for byte as it went in; the
 * tests and the fuzz target rely on that. The assertions check the decoder's own contract
 * (a failed getter consumes nothing, at_top agrees with the walk), never the input.
 * It does not interpret the document: schemas belong to the formats built on the codec.
 */
#include <stdbool.h>

#include "metanode/assert.h"
#include "metanode/cbor.h"

typedef struct frame {
    bool is_map;
    uint64_t remaining; /* items left, keys and values counted separately */
} frame;

static int copy_container(mn_cbor_dec *dec, mn_cbor_enc *enc, bool is_map, frame *opened,
                          mn_err *err)
{
    uint64_t count;
    int rc = is_map ? mn_cbor_get_map(dec, &count, err) : mn_cbor_get_array(dec, &count, err);
    if (rc != 0)
        return rc;
    if (is_map)
        mn_cbor_put_map(enc, count);
    else
        mn_cbor_put_array(enc, count);
    opened->is_map = is_map;
    opened->remaining = is_map ? 2 * count : count;
    return 0;
}

/* Copies one item from dec to enc; for a container only its head, reported in *opened. */
static int copy_item(mn_cbor_dec *dec, mn_cbor_enc *enc, bool key, frame *opened, mn_err *err)
{
    mn_cbor_type type;
    uint64_t u;
    int64_t k;
    const uint8_t *bytes;
    const char *text;
    size_t len;
    bool b;
    int rc;
    opened->remaining = 0;
    if (key) {
        if ((rc = mn_cbor_get_key(dec, &k, err)) == 0)
            mn_cbor_put_key(enc, k);
        return rc;
    }
    if ((rc = mn_cbor_peek(dec, &type, err)) != 0)
        return rc;
    switch (type) {
    case MN_CBOR_UINT:
        if ((rc = mn_cbor_get_uint(dec, &u, err)) == 0)
            mn_cbor_put_uint(enc, u);
        return rc;
    case MN_CBOR_NEGINT:
        if ((rc = mn_cbor_get_negint_arg(dec, &u, err)) == 0)
            mn_cbor_put_negint_arg(enc, u);
        return rc;
    case MN_CBOR_BYTES:
        if ((rc = mn_cbor_get_bytes(dec, &bytes, &len, err)) == 0)
            mn_cbor_put_bytes(enc, bytes, len);
        return rc;
    case MN_CBOR_TEXT:
        if ((rc = mn_cbor_get_text(dec, &text, &len, err)) == 0)
            mn_cbor_put_text(enc, text, len);
        return rc;
    case MN_CBOR_ARRAY:
    case MN_CBOR_MAP:
        return copy_container(dec, enc, type == MN_CBOR_MAP, opened, err);
    case MN_CBOR_BOOL:
        if ((rc = mn_cbor_get_bool(dec, &b, err)) == 0)
            mn_cbor_put_bool(enc, b);
        return rc;
    case MN_CBOR_NULL:
        if ((rc = mn_cbor_get_null(dec, err)) == 0)
            mn_cbor_put_null(enc);
        return rc;
    }
    MN_UNREACHABLE(); /* peek returned a type outside the enum */
}

int mn_cbor_copy_document(const uint8_t *data, size_t size, mn_buf *out, mn_err *err)
{
    mn_cbor_dec dec;
    mn_cbor_enc enc;
    mn_cbor_dec_init(&dec, data, size);
    mn_cbor_enc_init(&enc, out);
    frame stack[MN_CBOR_DEPTH_MAX + 1] = {{false, 1}}; /* [0] stands for the document */
    size_t depth = 1;
    while (depth > 0) {
        frame *f = &stack[depth - 1];
        bool key = f->is_map && f->remaining % 2 == 0;
        f->remaining--;
        frame opened;
        const uint8_t *before = dec.p;
        int rc = copy_item(&dec, &enc, key, &opened, err);
        if (rc != 0) {
            MN_ASSERT(dec.p == before); /* a failed getter consumes nothing */
            MN_ASSERT(rc == -(int)err->code);
            return rc;
        }
        MN_ASSERT(dec.p > before);
        if (opened.remaining > 0) {
            MN_ASSERT(depth <= MN_CBOR_DEPTH_MAX); /* the decoder enforced the depth limit */
            stack[depth++] = opened;
        }
        while (depth > 0 && stack[depth - 1].remaining == 0)
            depth--;
        MN_ASSERT(mn_cbor_dec_at_top(&dec) == (depth == 0));
    }
    int rc = mn_cbor_dec_finish(&dec, err);
    if (rc != 0)
        return rc;
    /* Whatever the decoder accepted the encoder can write; only out's own cap can fail here. */
    rc = mn_cbor_enc_finish(&enc, err);
    MN_ASSERT(rc == 0 || err->code == MN_ELIMIT || err->code == MN_ENOMEM);
    return rc;
}

