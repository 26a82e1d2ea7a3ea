/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_cbor.c: fuzz target for the canonical CBOR decoder. Arbitrary bytes are decoded
 * generically (peek, then the matching getter, depth first with an explicit stack) and every
 * item is re-emitted through the encoder. If decoding and mn_cbor_dec_finish succeed, the
 * re-encoded bytes must equal the input byte for byte: the decoder accepts only canonical
 * documents, so one value has one encoding. The same input is then consumed with mn_cbor_skip
 * alone, which must reach the same verdict with the same error code. Any disagreement aborts.
 * It deliberately checks no error message text, only codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(e)                                                                               \
    do {                                                                                       \
        if (!(e)) {                                                                            \
            fprintf(stderr, "fuzz_cbor: check failed at line %d: %s\n", __LINE__, #e);          \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

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
    abort(); /* peek returned a type outside the enum */
}

/* Decodes one document and re-encodes it into out. Returns 0 or -code. */
static int transcode(const uint8_t *data, size_t size, mn_buf *out, mn_err *err)
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
            CHECK(dec.p == before); /* a failed getter consumes nothing */
            CHECK(rc == -(int)err->code);
            return rc;
        }
        CHECK(dec.p > before);
        if (opened.remaining > 0) {
            CHECK(depth <= MN_CBOR_DEPTH_MAX); /* the decoder enforced the depth limit */
            stack[depth++] = opened;
        }
        while (depth > 0 && stack[depth - 1].remaining == 0)
            depth--;
        CHECK(mn_cbor_dec_at_top(&dec) == (depth == 0));
    }
    int rc = mn_cbor_dec_finish(&dec, err);
    if (rc != 0)
        return rc;
    rc = mn_cbor_enc_finish(&enc, err);
    CHECK(rc == 0); /* whatever the decoder accepted, the encoder can write */
    return 0;
}

static int skip_document(const uint8_t *data, size_t size, mn_err *err)
{
    mn_cbor_dec dec;
    mn_cbor_dec_init(&dec, data, size);
    int rc = mn_cbor_skip(&dec, err);
    if (rc != 0)
        return rc;
    CHECK(mn_cbor_dec_at_top(&dec));
    return mn_cbor_dec_finish(&dec, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_buf out;
    mn_err err, skip_err;
    mn_buf_init(&out, 0);
    int rc = transcode(data, size, &out, &err);
    if (rc == 0) {
        CHECK(out.len == size);
        CHECK(size == 0 || memcmp(out.data, data, size) == 0);
    } else {
        CHECK(err.code == MN_ECORRUPT || err.code == MN_ELIMIT);
    }
    mn_buf_deinit(&out);
    int skip_rc = skip_document(data, size, &skip_err);
    CHECK(skip_rc == rc);
    return 0;
}
