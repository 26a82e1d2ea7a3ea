/* SPDX-License-Identifier: Apache-2.0
 *
 * cbor_dec.c: the strict canonical CBOR decoder, a pull parser over a borrowed byte span. The
 * caller drives it item by item; the decoder keeps an explicit frame per open container
 * (items left, map key/value alternation, previous key) so it needs no recursion and no
 * allocation, and it accepts exactly the encodings cbor_enc.c can produce: one top-level item,
 * shortest heads, definite lengths, integer map keys in strictly increasing encoded order,
 * valid UTF-8, false/true/null as the only simple values. Every read is checked against `end`
 * by comparing a length with the bytes left, never by forming a pointer past the input, so a
 * declared length near 2^64 cannot overflow. Each getter either consumes one item or fails
 * without consuming anything. It deliberately does not convert types (an unsigned integer is
 * not a negative one, a byte string is not text) and never guesses at a caller's intent.
 */
#include "metanode/cbor.h"

#include <inttypes.h>
#include <string.h>

#include "metanode/assert.h"

#include "cbor_internal.h"

/* One parsed head; `len` is its size in bytes, known to be available in the input. */
typedef struct head {
    unsigned major;
    unsigned info;
    uint64_t arg;
    size_t len;
    mn_cbor_type type;
} head;

/* What the caller asks for at the current position. */
typedef enum want { WANT_VALUE, WANT_KEY, WANT_ANY } want;

static const char *const type_names[] = {
    [MN_CBOR_UINT] = "unsigned integer", [MN_CBOR_NEGINT] = "negative integer",
    [MN_CBOR_BYTES] = "byte string",     [MN_CBOR_TEXT] = "text string",
    [MN_CBOR_ARRAY] = "array",           [MN_CBOR_MAP] = "map",
    [MN_CBOR_BOOL] = "boolean",          [MN_CBOR_NULL] = "null",
};
MN_STATIC_ASSERT(sizeof(type_names) / sizeof(type_names[0]) == MN_CBOR_NULL + 1);
/* read_head maps major types 0..5 straight onto the public enum. */
MN_STATIC_ASSERT((int)MN_CBOR_UINT == CBOR_MAJOR_UINT && (int)MN_CBOR_NEGINT == CBOR_MAJOR_NEGINT);
MN_STATIC_ASSERT((int)MN_CBOR_BYTES == CBOR_MAJOR_BYTES && (int)MN_CBOR_TEXT == CBOR_MAJOR_TEXT);
MN_STATIC_ASSERT((int)MN_CBOR_ARRAY == CBOR_MAJOR_ARRAY && (int)MN_CBOR_MAP == CBOR_MAJOR_MAP);

size_t mn__cbor_utf8_check(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t b = s[i];
        size_t more;
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the first continuation byte */
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            more = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            more = 2;
            if (b == 0xe0)
                lo = 0xa0; /* below is overlong */
            else if (b == 0xed)
                hi = 0x9f; /* above is a surrogate */
        } else if (b >= 0xf0 && b <= 0xf4) {
            more = 3;
            if (b == 0xf0)
                lo = 0x90; /* below is overlong */
            else if (b == 0xf4)
                hi = 0x8f; /* above is beyond U+10FFFF */
        } else {
            return i; /* a continuation byte, an overlong lead (C0, C1) or F5..FF */
        }
        if (len - i - 1 < more)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return i;
        i += 1 + more;
    }
    return len;
}

static size_t offset(const mn_cbor_dec *dec)
{
    return (size_t)(dec->p - dec->start);
}

static size_t bytes_left(const mn_cbor_dec *dec)
{
    return (size_t)(dec->end - dec->p);
}

void mn_cbor_dec_init(mn_cbor_dec *dec, const uint8_t *data, size_t len)
{
    static const uint8_t empty[1];
    MN_ASSERT(dec != NULL);
    MN_ASSERT(data != NULL || len == 0);
    if (data == NULL)
        data = empty; /* NULL + 0 is undefined behaviour in C */
    dec->start = data;
    dec->p = data;
    dec->end = data + len;
    dec->depth = 0;
}

static int reject_simple(const mn_cbor_dec *dec, unsigned info, mn_err *err)
{
    const char *what = info == 23   ? "undefined"
                       : info < 24  ? "simple value"
                       : info == 24 ? "one-byte simple value"
                                    : "float";
    return mn_err_set(err, MN_ECORRUPT, 0, "CBOR %s (0x%02x) at offset %zu is not allowed", what,
                      dec->p[0], offset(dec));
}

/* Parses the head at p without consuming it: well-formed, shortest form, inside the subset. */
static int read_head(const mn_cbor_dec *dec, head *h, mn_err *err)
{
    if (dec->p == dec->end)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR input ends at offset %zu where an item is due",
                          offset(dec));
    uint8_t ib = dec->p[0];
    h->major = ib >> 5;
    h->info = ib & 31u;
    if (h->info == 31)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR indefinite length or break (0x%02x) at offset %zu", ib,
                          offset(dec));
    if (h->info >= 28)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR reserved additional info %u at offset %zu",
                          h->info, offset(dec));
    if (h->major == CBOR_MAJOR_TAG)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR tag at offset %zu is not allowed",
                          offset(dec));
    if (h->major == CBOR_MAJOR_SIMPLE) {
        if (h->info < CBOR_SIMPLE_FALSE || h->info > CBOR_SIMPLE_NULL)
            return reject_simple(dec, h->info, err);
        h->arg = h->info;
        h->len = 1;
        h->type = h->info == CBOR_SIMPLE_NULL ? MN_CBOR_NULL : MN_CBOR_BOOL;
        return 0;
    }
    h->type = (mn_cbor_type)h->major; /* majors 0..5 map onto MN_CBOR_UINT..MN_CBOR_MAP */
    if (h->info < 24) {
        h->arg = h->info;
        h->len = 1;
        return 0;
    }
    size_t width = (size_t)1 << (h->info - 24);
    if (bytes_left(dec) - 1 < width)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR head at offset %zu is truncated",
                          offset(dec));
    uint64_t arg = 0;
    for (size_t i = 1; i <= width; i++)
        arg = arg << 8 | dec->p[i];
    /* The shortest form: the argument must need the width used (24 for the one-byte form). */
    uint64_t min = width == 1 ? 24 : (uint64_t)1 << (4 * width);
    if (arg < min)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR non-shortest head (0x%02x, argument %" PRIu64 ") at offset %zu",
                          ib, arg, offset(dec));
    h->arg = arg;
    h->len = 1 + width;
    return 0;
}

static bool key_due(const mn_cbor_dec *dec)
{
    if (dec->depth == 0)
        return false;
    const mn_cbor_dec_frame *f = &dec->stack[dec->depth - 1];
    return f->is_map && f->remaining % 2 == 0;
}

/* Checks that an item of the kind asked for may be read here, then parses its head. */
static int start_item(const mn_cbor_dec *dec, want w, head *h, mn_err *err)
{
    if (dec->depth == 0 && dec->p != dec->start)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR document is complete: no item may follow at offset %zu",
                          offset(dec));
    bool key = key_due(dec);
    if (key && w == WANT_VALUE)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR map key due at offset %zu, not a value",
                          offset(dec));
    if (!key && w == WANT_KEY)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR %s due at offset %zu, not a map key",
                          dec->depth > 0 && dec->stack[dec->depth - 1].is_map ? "map value"
                                                                              : "non-key item",
                          offset(dec));
    int rc = read_head(dec, h, err);
    if (rc != 0)
        return rc;
    if (key && h->type != MN_CBOR_UINT && h->type != MN_CBOR_NEGINT)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR map key at offset %zu is %s, not an integer",
                          offset(dec), type_names[h->type]);
    return 0;
}

/* A value of exactly one type. */
static int take(const mn_cbor_dec *dec, mn_cbor_type type, head *h, mn_err *err)
{
    int rc = start_item(dec, WANT_VALUE, h, err);
    if (rc != 0)
        return rc;
    if (h->type != type)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR %s expected at offset %zu, found %s",
                          type_names[type], offset(dec), type_names[h->type]);
    return 0;
}

/* Consumes `len` bytes as one item of the innermost container, then closes every container
 * whose last item that was. */
static void consume(mn_cbor_dec *dec, size_t len)
{
    MN_ASSERT(len <= bytes_left(dec));
    dec->p += len;
    if (dec->depth > 0)
        dec->stack[dec->depth - 1].remaining--;
}

static void settle(mn_cbor_dec *dec)
{
    while (dec->depth > 0 && dec->stack[dec->depth - 1].remaining == 0)
        dec->depth--;
}

int mn_cbor_peek(mn_cbor_dec *dec, mn_cbor_type *type, mn_err *err)
{
    head h;
    int rc = start_item(dec, WANT_ANY, &h, err);
    if (rc != 0)
        return rc;
    *type = h.type;
    return 0;
}

int mn_cbor_get_uint(mn_cbor_dec *dec, uint64_t *v, mn_err *err)
{
    head h;
    int rc = take(dec, MN_CBOR_UINT, &h, err);
    if (rc != 0)
        return rc;
    *v = h.arg;
    consume(dec, h.len);
    settle(dec);
    return 0;
}

int mn_cbor_get_negint_arg(mn_cbor_dec *dec, uint64_t *n, mn_err *err)
{
    head h;
    int rc = take(dec, MN_CBOR_NEGINT, &h, err);
    if (rc != 0)
        return rc;
    *n = h.arg;
    consume(dec, h.len);
    settle(dec);
    return 0;
}

/* The int64_t value of an integer head, or an error when it does not fit. */
static int int_value(const mn_cbor_dec *dec, const head *h, int64_t *v, mn_err *err)
{
    MN_ASSERT(h->type == MN_CBOR_UINT || h->type == MN_CBOR_NEGINT);
    if (h->arg > (uint64_t)INT64_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR integer at offset %zu is outside int64",
                          offset(dec));
    *v = h->type == MN_CBOR_UINT ? (int64_t)h->arg : -1 - (int64_t)h->arg;
    return 0;
}

int mn_cbor_get_int(mn_cbor_dec *dec, int64_t *v, mn_err *err)
{
    head h;
    int rc = start_item(dec, WANT_VALUE, &h, err);
    if (rc != 0)
        return rc;
    if (h.type != MN_CBOR_UINT && h.type != MN_CBOR_NEGINT)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR integer expected at offset %zu, found %s",
                          offset(dec), type_names[h.type]);
    int64_t value = 0; /* set by int_value on success; gcc -O2 cannot prove it */
    rc = int_value(dec, &h, &value, err);
    if (rc != 0)
        return rc;
    *v = value;
    consume(dec, h.len);
    settle(dec);
    return 0;
}

/* Validates a byte or text string at p (limits, bounds, UTF-8) without consuming it. */
static int string_at(const mn_cbor_dec *dec, mn_cbor_type type, head *h, const uint8_t **data,
                     mn_err *err)
{
    int rc = take(dec, type, h, err);
    if (rc != 0)
        return rc;
    if (h->arg > MN_CBOR_STRING_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0,
                          "CBOR %s at offset %zu declares %" PRIu64 " bytes, more than %u",
                          type_names[type], offset(dec), h->arg, MN_CBOR_STRING_BYTES_MAX);
    if (h->arg > bytes_left(dec) - h->len)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR %s at offset %zu declares %" PRIu64 " bytes, only %zu remain",
                          type_names[type], offset(dec), h->arg, bytes_left(dec) - h->len);
    const uint8_t *body = dec->p + h->len;
    if (type == MN_CBOR_TEXT) {
        size_t bad = mn__cbor_utf8_check(body, (size_t)h->arg);
        if (bad != h->arg)
            return mn_err_set(err, MN_ECORRUPT, 0, "CBOR text has invalid UTF-8 at offset %zu",
                              offset(dec) + h->len + bad);
    }
    *data = body;
    return 0;
}

int mn_cbor_get_bytes(mn_cbor_dec *dec, const uint8_t **data, size_t *len, mn_err *err)
{
    head h;
    const uint8_t *body;
    int rc = string_at(dec, MN_CBOR_BYTES, &h, &body, err);
    if (rc != 0)
        return rc;
    *data = body;
    *len = (size_t)h.arg;
    consume(dec, h.len + (size_t)h.arg);
    settle(dec);
    return 0;
}

int mn_cbor_get_bytes_n(mn_cbor_dec *dec, uint8_t *out, size_t n, mn_err *err)
{
    head h;
    const uint8_t *body;
    int rc = string_at(dec, MN_CBOR_BYTES, &h, &body, err);
    if (rc != 0)
        return rc;
    if (h.arg != n)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR byte string at offset %zu has %" PRIu64 " bytes, expected %zu",
                          offset(dec), h.arg, n);
    if (n != 0)
        memcpy(out, body, n);
    consume(dec, h.len + n);
    settle(dec);
    return 0;
}

int mn_cbor_get_text(mn_cbor_dec *dec, const char **text, size_t *len, mn_err *err)
{
    head h;
    const uint8_t *body;
    int rc = string_at(dec, MN_CBOR_TEXT, &h, &body, err);
    if (rc != 0)
        return rc;
    *text = (const char *)body;
    *len = (size_t)h.arg;
    consume(dec, h.len + (size_t)h.arg);
    settle(dec);
    return 0;
}

int mn_cbor_get_bool(mn_cbor_dec *dec, bool *v, mn_err *err)
{
    head h;
    int rc = take(dec, MN_CBOR_BOOL, &h, err);
    if (rc != 0)
        return rc;
    *v = h.info == CBOR_SIMPLE_TRUE;
    consume(dec, h.len);
    settle(dec);
    return 0;
}

int mn_cbor_get_null(mn_cbor_dec *dec, mn_err *err)
{
    head h;
    int rc = take(dec, MN_CBOR_NULL, &h, err);
    if (rc != 0)
        return rc;
    consume(dec, h.len);
    settle(dec);
    return 0;
}

static int get_container(mn_cbor_dec *dec, mn_cbor_type type, uint64_t *count, mn_err *err)
{
    head h;
    int rc = take(dec, type, &h, err);
    if (rc != 0)
        return rc;
    bool is_map = type == MN_CBOR_MAP;
    if (dec->depth >= MN_CBOR_DEPTH_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "CBOR %s at offset %zu nests deeper than %u",
                          type_names[type], offset(dec), MN_CBOR_DEPTH_MAX);
    const char *unit = is_map ? "pairs" : "items";
    if (h.arg > MN_CBOR_ITEMS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0,
                          "CBOR %s at offset %zu declares %" PRIu64 " %s, more than %u",
                          type_names[type], offset(dec), h.arg, unit, MN_CBOR_ITEMS_MAX);
    uint64_t items = is_map ? 2 * h.arg : h.arg; /* no overflow: arg <= MN_CBOR_ITEMS_MAX */
    if (items > bytes_left(dec) - h.len)
        return mn_err_set(err, MN_ELIMIT, 0,
                          "CBOR %s at offset %zu declares %" PRIu64
                          " %s but only %zu bytes remain",
                          type_names[type], offset(dec), h.arg, unit, bytes_left(dec) - h.len);
    consume(dec, h.len);
    if (items > 0) {
        mn_cbor_dec_frame *f = &dec->stack[dec->depth++];
        f->remaining = items;
        f->is_map = is_map;
        f->have_key = false;
        f->last_key_len = 0;
    }
    settle(dec);
    *count = h.arg;
    return 0;
}

int mn_cbor_get_array(mn_cbor_dec *dec, uint64_t *count, mn_err *err)
{
    return get_container(dec, MN_CBOR_ARRAY, count, err);
}

int mn_cbor_get_map(mn_cbor_dec *dec, uint64_t *count, mn_err *err)
{
    return get_container(dec, MN_CBOR_MAP, count, err);
}

int mn_cbor_get_key(mn_cbor_dec *dec, int64_t *key, mn_err *err)
{
    head h;
    int rc = start_item(dec, WANT_KEY, &h, err);
    if (rc != 0)
        return rc;
    int64_t value = 0; /* set by int_value on success; gcc -O2 cannot prove it */
    rc = int_value(dec, &h, &value, err);
    if (rc != 0)
        return rc;
    mn_cbor_dec_frame *f = &dec->stack[dec->depth - 1];
    MN_ASSERT(f->is_map);
    if (f->have_key && !cbor_key_after(f->last_key, f->last_key_len, dec->p, h.len)) {
        bool dup = f->last_key_len == h.len && memcmp(f->last_key, dec->p, h.len) == 0;
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR map key %" PRId64 " at offset %zu %s",
                          value, offset(dec),
                          dup ? "is a duplicate" : "is out of canonical order");
    }
    MN_STATIC_ASSERT(sizeof(f->last_key) == CBOR_HEAD_BYTES_MAX);
    memcpy(f->last_key, dec->p, h.len);
    f->last_key_len = (uint8_t)h.len;
    f->have_key = true;
    *key = value;
    consume(dec, h.len);
    settle(dec);
    return 0;
}

/* Consumes one item; a container counts as its head only (its items follow). */
static int skip_one(mn_cbor_dec *dec, mn_err *err)
{
    const uint8_t *data;
    const char *text;
    size_t len;
    uint64_t u;
    int64_t k;
    bool b;
    mn_cbor_type type;
    if (key_due(dec))
        return mn_cbor_get_key(dec, &k, err);
    int rc = mn_cbor_peek(dec, &type, err);
    if (rc != 0)
        return rc;
    switch (type) {
    case MN_CBOR_UINT:
        return mn_cbor_get_uint(dec, &u, err);
    case MN_CBOR_NEGINT:
        return mn_cbor_get_negint_arg(dec, &u, err);
    case MN_CBOR_BYTES:
        return mn_cbor_get_bytes(dec, &data, &len, err);
    case MN_CBOR_TEXT:
        return mn_cbor_get_text(dec, &text, &len, err);
    case MN_CBOR_ARRAY:
        return mn_cbor_get_array(dec, &u, err);
    case MN_CBOR_MAP:
        return mn_cbor_get_map(dec, &u, err);
    case MN_CBOR_BOOL:
        return mn_cbor_get_bool(dec, &b, err);
    case MN_CBOR_NULL:
        return mn_cbor_get_null(dec, err);
    }
    MN_UNREACHABLE();
}

int mn_cbor_skip(mn_cbor_dec *dec, mn_err *err)
{
    /* The skipped item is done when the decoder is back at (or, if that item was the last of
     * its container, below) the depth it started at. The loop is bounded: each step consumes
     * at least one byte. */
    uint32_t base = dec->depth;
    do {
        int rc = skip_one(dec, err);
        if (rc != 0)
            return rc;
    } while (dec->depth > base);
    return 0;
}

bool mn_cbor_dec_at_top(const mn_cbor_dec *dec)
{
    return dec->depth == 0;
}

int mn_cbor_dec_finish(mn_cbor_dec *dec, mn_err *err)
{
    if (dec->depth > 0)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR document unfinished at offset %zu: %u container(s) still open",
                          offset(dec), (unsigned)dec->depth);
    if (dec->p == dec->start)
        return mn_err_set(err, MN_ECORRUPT, 0, "CBOR document is empty: no item was read");
    if (dec->p != dec->end)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "CBOR document has %zu trailing byte(s) at offset %zu", bytes_left(dec),
                          offset(dec));
    return 0;
}
