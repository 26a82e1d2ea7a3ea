/* SPDX-License-Identifier: Apache-2.0
 *
 * cbor_enc.c: the canonical CBOR encoder. It appends one top-level item to a borrowed mn_buf
 * and can only produce canonical output: every head is the shortest form, containers have the
 * length declared when they were opened, map keys are integers written in strictly increasing
 * order of their encodings. Breaking one of those rules is a programmer error and asserts;
 * running out of buffer or exceeding a limits.h bound is an operating error kept sticky in the
 * encoder and reported once by mn_cbor_enc_finish. It deliberately offers no floats, tags,
 * indefinite lengths or text-keyed maps, and never sorts for the caller: formats write their
 * fields in key order.
 */
#include "metanode/cbor.h"

#include <inttypes.h>
#include <string.h>

#include "metanode/assert.h"

#include "cbor_internal.h"

void mn_cbor_enc_init(mn_cbor_enc *enc, mn_buf *out)
{
    MN_ASSERT(enc != NULL);
    MN_ASSERT(out != NULL);
    enc->out = out;
    enc->rc = 0;
    mn_err_clear(&enc->err);
    enc->depth = 0;
    enc->done = false;
}

static void emit(mn_cbor_enc *enc, const void *data, size_t len)
{
    if (enc->rc != 0)
        return;
    enc->rc = mn_buf_append(enc->out, data, len, &enc->err);
}

static void emit_head(mn_cbor_enc *enc, unsigned major, uint64_t arg)
{
    uint8_t head[CBOR_HEAD_BYTES_MAX];
    size_t n = cbor_head_encode(head, major, arg);
    emit(enc, head, n);
}

/* Counts one item (or key) against the open container and returns that container's frame
 * (NULL at top level). Asserts that the item is allowed here: one top-level item only, a key
 * exactly where a map expects one, never more items than declared. */
static mn_cbor_enc_frame *claim(mn_cbor_enc *enc, bool is_key)
{
    if (enc->depth == 0) {
        MN_ASSERT(!is_key);
        MN_ASSERT(!enc->done); /* a second top-level item: more items than declared */
        enc->done = true;
        return NULL;
    }
    mn_cbor_enc_frame *f = &enc->stack[enc->depth - 1];
    MN_ASSERT(f->remaining > 0);
    bool key_due = f->is_map && f->remaining % 2 == 0;
    if (is_key)
        MN_ASSERT(key_due);
    else
        MN_ASSERT(!key_due); /* a map key must be written with mn_cbor_put_key */
    f->remaining--;
    return f;
}

/* Closes every container whose last item has just been written. */
static void settle(mn_cbor_enc *enc)
{
    while (enc->depth > 0 && enc->stack[enc->depth - 1].remaining == 0)
        enc->depth--;
}

static void put_scalar_head(mn_cbor_enc *enc, unsigned major, uint64_t arg)
{
    if (enc->rc != 0)
        return;
    claim(enc, false);
    emit_head(enc, major, arg);
    settle(enc);
}

void mn_cbor_put_uint(mn_cbor_enc *enc, uint64_t v)
{
    put_scalar_head(enc, CBOR_MAJOR_UINT, v);
}

void mn_cbor_put_negint_arg(mn_cbor_enc *enc, uint64_t n)
{
    put_scalar_head(enc, CBOR_MAJOR_NEGINT, n);
}

void mn_cbor_put_int(mn_cbor_enc *enc, int64_t v)
{
    /* For v < 0 the CBOR argument is -1 - v, which is ~v in two's complement and cannot
     * overflow, even for INT64_MIN. */
    if (v >= 0)
        put_scalar_head(enc, CBOR_MAJOR_UINT, (uint64_t)v);
    else
        put_scalar_head(enc, CBOR_MAJOR_NEGINT, ~(uint64_t)v);
}

void mn_cbor_put_bool(mn_cbor_enc *enc, bool v)
{
    put_scalar_head(enc, CBOR_MAJOR_SIMPLE, v ? CBOR_SIMPLE_TRUE : CBOR_SIMPLE_FALSE);
}

void mn_cbor_put_null(mn_cbor_enc *enc)
{
    put_scalar_head(enc, CBOR_MAJOR_SIMPLE, CBOR_SIMPLE_NULL);
}

static void put_string(mn_cbor_enc *enc, unsigned major, const void *data, size_t len)
{
    if (enc->rc != 0)
        return;
    MN_ASSERT(data != NULL || len == 0);
    if (len > MN_CBOR_STRING_BYTES_MAX) {
        enc->rc = mn_err_set(&enc->err, MN_ELIMIT, 0, "CBOR string of %zu bytes exceeds %u",
                             len, MN_CBOR_STRING_BYTES_MAX);
        return;
    }
    if (major == CBOR_MAJOR_TEXT)
        MN_ASSERT(mn__cbor_utf8_check(data, len) == len);
    claim(enc, false);
    uint8_t head[CBOR_HEAD_BYTES_MAX];
    size_t n = cbor_head_encode(head, major, len);
    /* Reserve head and body together so a failure leaves no half-written string. */
    enc->rc = mn_buf_reserve(enc->out, n + len, &enc->err);
    emit(enc, head, n);
    emit(enc, data, len);
    settle(enc);
}

void mn_cbor_put_bytes(mn_cbor_enc *enc, const void *data, size_t len)
{
    put_string(enc, CBOR_MAJOR_BYTES, data, len);
}

void mn_cbor_put_text(mn_cbor_enc *enc, const char *text, size_t len)
{
    put_string(enc, CBOR_MAJOR_TEXT, text, len);
}

static void put_container(mn_cbor_enc *enc, bool is_map, uint64_t count)
{
    if (enc->rc != 0)
        return;
    if (count > MN_CBOR_ITEMS_MAX) {
        enc->rc = mn_err_set(&enc->err, MN_ELIMIT, 0, "CBOR %s of %" PRIu64 " items exceeds %u",
                             is_map ? "map" : "array", count, MN_CBOR_ITEMS_MAX);
        return;
    }
    if (enc->depth >= MN_CBOR_DEPTH_MAX) {
        enc->rc = mn_err_set(&enc->err, MN_ELIMIT, 0, "CBOR nesting deeper than %u",
                             MN_CBOR_DEPTH_MAX);
        return;
    }
    claim(enc, false);
    emit_head(enc, is_map ? CBOR_MAJOR_MAP : CBOR_MAJOR_ARRAY, count);
    if (count > 0) {
        mn_cbor_enc_frame *f = &enc->stack[enc->depth++];
        f->remaining = is_map ? 2 * count : count;
        f->is_map = is_map;
        f->have_key = false;
        f->last_key_len = 0;
    }
    settle(enc);
}

void mn_cbor_put_array(mn_cbor_enc *enc, uint64_t count)
{
    put_container(enc, false, count);
}

void mn_cbor_put_map(mn_cbor_enc *enc, uint64_t count)
{
    put_container(enc, true, count);
}

void mn_cbor_put_key(mn_cbor_enc *enc, int64_t key)
{
    if (enc->rc != 0)
        return;
    uint8_t head[CBOR_HEAD_BYTES_MAX];
    size_t n = key >= 0 ? cbor_head_encode(head, CBOR_MAJOR_UINT, (uint64_t)key)
                        : cbor_head_encode(head, CBOR_MAJOR_NEGINT, ~(uint64_t)key);
    mn_cbor_enc_frame *f = claim(enc, true);
    MN_ASSERT(f != NULL);
    if (f->have_key)
        MN_ASSERT(cbor_key_after(f->last_key, f->last_key_len, head, n)); /* key order */
    MN_STATIC_ASSERT(sizeof(f->last_key) == CBOR_HEAD_BYTES_MAX);
    memcpy(f->last_key, head, n);
    f->last_key_len = (uint8_t)n;
    f->have_key = true;
    emit(enc, head, n);
    settle(enc);
}

int mn_cbor_enc_finish(mn_cbor_enc *enc, mn_err *err)
{
    if (enc->rc != 0) {
        MN_ASSERT(enc->rc == -(int)enc->err.code);
        if (err != NULL)
            *err = enc->err;
        return enc->rc;
    }
    MN_ASSERT(enc->depth == 0); /* every container received all its declared items */
    MN_ASSERT(enc->done);       /* a document is one item; an empty one is a caller bug */
    return 0;
}
