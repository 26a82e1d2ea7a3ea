/* SPDX-License-Identifier: Apache-2.0
 *
 * cbor.h: Metanode's canonical encoding, deterministic CBOR (RFC 8949 §4.2.1 core
 * deterministic encoding) restricted to the subset we use: unsigned and negative integers,
 * byte strings, text strings (UTF-8), arrays, maps with integer keys, false/true/null.
 * No floats, no tags, no indefinite lengths, no simple values other than false/true/null.
 *
 * The encoder appends to an mn_buf and can only produce canonical output: it always uses the
 * shortest head, and it asserts (programmer error) that declared container sizes are honoured
 * and map keys come in canonical order. The decoder is a bounded pull parser over a borrowed
 * byte span: it never allocates, never recurses, and rejects every non-canonical input with
 * MN_ECORRUPT (non-shortest integer or length, unsorted or duplicate map keys, invalid UTF-8,
 * indefinite lengths, floats, tags, other simple values, trailing bytes) or MN_ELIMIT (depth,
 * container size or string length beyond limits.h). Strings returned by the decoder point into
 * the input, which must outlive their use.
 *
 * Map key order: keys are compared by their encoded bytes (RFC 8949 §4.2.1), which puts all
 * unsigned keys first in ascending order, then negative keys -1, -2, ... Our formats use small
 * unsigned keys only. Keys are limited to the int64_t range on both sides.
 *
 * A document is exactly one top-level item (usually a map or an array): writing or reading a
 * second top-level item is a programmer error (encoder) or MN_ECORRUPT (decoder). Inside a map,
 * keys and values alternate: a key must be written with mn_cbor_put_key and read with
 * mn_cbor_get_key (or mn_cbor_skip), a value with any other put/get. Reading a value where a key
 * is due, or a key where a value is due, is MN_ECORRUPT (the caller may be driven by data).
 */
#ifndef METANODE_CBOR_H
#define METANODE_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"

/* ---- encoder ------------------------------------------------------------------------- */

typedef struct mn_cbor_enc_frame {
    uint64_t remaining;  /* items (arrays) or keys+values (maps, counted x2) still to write */
    bool is_map;
    bool have_key;       /* a map key has been written at this level */
    uint8_t last_key[9]; /* encoded bytes of the previous key, for the order check */
    uint8_t last_key_len;
} mn_cbor_enc_frame;

typedef struct mn_cbor_enc {
    mn_buf *out;         /* borrowed */
    int rc;              /* sticky: the first failure (MN_ELIMIT / MN_ENOMEM from the buffer) */
    mn_err err;
    uint32_t depth;
    bool done;           /* the top-level item has been started: no other may follow */
    mn_cbor_enc_frame stack[MN_CBOR_DEPTH_MAX];
} mn_cbor_enc;

/* Prepares enc to append one document to out, after whatever out already holds (so several
 * documents can share a buffer, one encoder each). */
void mn_cbor_enc_init(mn_cbor_enc *enc, mn_buf *out);
void mn_cbor_put_uint(mn_cbor_enc *enc, uint64_t v);
void mn_cbor_put_int(mn_cbor_enc *enc, int64_t v);
/* A negative integer given as its CBOR argument n (the value is -1 - n), for the full 64-bit
 * range; the counterpart of mn_cbor_get_negint_arg. */
void mn_cbor_put_negint_arg(mn_cbor_enc *enc, uint64_t n);
void mn_cbor_put_bytes(mn_cbor_enc *enc, const void *data, size_t len);
/* The text must be valid UTF-8 (asserted: callers encode text they produced or validated). */
void mn_cbor_put_text(mn_cbor_enc *enc, const char *text, size_t len);
void mn_cbor_put_bool(mn_cbor_enc *enc, bool v);
void mn_cbor_put_null(mn_cbor_enc *enc);
/* Opens a container of exactly `count` items (maps: `count` key/value pairs). The container
 * closes itself after its last item; mn_cbor_enc_finish asserts every container is closed.
 * Limits are not asserted but made sticky MN_ELIMIT failures, so the encoder never produces
 * what the decoder would refuse: a count above MN_CBOR_ITEMS_MAX, a container nested deeper
 * than MN_CBOR_DEPTH_MAX (empty ones included), a string longer than MN_CBOR_STRING_BYTES_MAX.
 * After a failure every put is a no-op and mn_cbor_enc_finish reports the first failure. */
void mn_cbor_put_array(mn_cbor_enc *enc, uint64_t count);
void mn_cbor_put_map(mn_cbor_enc *enc, uint64_t count);
/* A map key: an integer (must sort after the previous key of the same map). */
void mn_cbor_put_key(mn_cbor_enc *enc, int64_t key);
/* Returns 0, or the sticky failure with *err filled. Asserts that exactly one complete
 * top-level item was written (unless a failure is being reported). */
int mn_cbor_enc_finish(mn_cbor_enc *enc, mn_err *err);

/* ---- decoder ------------------------------------------------------------------------- */

typedef enum mn_cbor_type {
    MN_CBOR_UINT,
    MN_CBOR_NEGINT,
    MN_CBOR_BYTES,
    MN_CBOR_TEXT,
    MN_CBOR_ARRAY,
    MN_CBOR_MAP,
    MN_CBOR_BOOL,
    MN_CBOR_NULL,
} mn_cbor_type;

typedef struct mn_cbor_dec_frame {
    uint64_t remaining;  /* items still to read (maps: keys + values) */
    bool is_map;
    bool have_key;
    uint8_t last_key[9];
    uint8_t last_key_len;
} mn_cbor_dec_frame;

typedef struct mn_cbor_dec {
    const uint8_t *start; /* first byte of the input: error offsets are counted from here */
    const uint8_t *p;    /* next unread byte (borrowed input) */
    const uint8_t *end;
    uint32_t depth;
    mn_cbor_dec_frame stack[MN_CBOR_DEPTH_MAX];
} mn_cbor_dec;

/* Every getter either consumes exactly one item and returns 0, or fails without consuming
 * anything (mn_cbor_skip excepted: it may stop inside the item it was skipping). Errors say
 * what is wrong and at which byte offset of the input. */
void mn_cbor_dec_init(mn_cbor_dec *dec, const uint8_t *data, size_t len);
/* The type of the next item, without consuming it. MN_ECORRUPT for anything outside the
 * subset (floats, tags, undefined, indefinite lengths, reserved values), at end of input, for
 * a non-integer where a map key is due, and after the top-level item. */
int mn_cbor_peek(mn_cbor_dec *dec, mn_cbor_type *type, mn_err *err);
/* Each getter consumes one item of the named type; a different type is MN_ECORRUPT. */
int mn_cbor_get_uint(mn_cbor_dec *dec, uint64_t *v, mn_err *err);
/* Any integer that fits int64_t (a negative integer below INT64_MIN is MN_ECORRUPT). */
int mn_cbor_get_int(mn_cbor_dec *dec, int64_t *v, mn_err *err);
/* A negative integer as its CBOR argument n (the value is -1 - n), for full 64-bit range. */
int mn_cbor_get_negint_arg(mn_cbor_dec *dec, uint64_t *n, mn_err *err);
int mn_cbor_get_bytes(mn_cbor_dec *dec, const uint8_t **data, size_t *len, mn_err *err);
/* A byte string of exactly n bytes, copied into out; another length is MN_ECORRUPT. */
int mn_cbor_get_bytes_n(mn_cbor_dec *dec, uint8_t *out, size_t n, mn_err *err);
/* A text string; UTF-8 is validated (overlongs, surrogates, > U+10FFFF rejected). The text
 * points into the input and is NOT NUL-terminated; it may contain U+0000. */
int mn_cbor_get_text(mn_cbor_dec *dec, const char **text, size_t *len, mn_err *err);
int mn_cbor_get_bool(mn_cbor_dec *dec, bool *v, mn_err *err);
int mn_cbor_get_null(mn_cbor_dec *dec, mn_err *err);
/* Opens a container; its items are then read in order. Count is bounded by MN_CBOR_ITEMS_MAX
 * and by the bytes left (each item takes at least one byte); both are MN_ELIMIT, as is nesting
 * deeper than MN_CBOR_DEPTH_MAX (empty containers count). */
int mn_cbor_get_array(mn_cbor_dec *dec, uint64_t *count, mn_err *err);
int mn_cbor_get_map(mn_cbor_dec *dec, uint64_t *count, mn_err *err);
/* Reads a map key (an integer in int64_t range) and checks that it sorts strictly after the
 * previous key of the same map (MN_ECORRUPT for duplicates and out-of-order keys). */
int mn_cbor_get_key(mn_cbor_dec *dec, int64_t *key, mn_err *err);
/* Consumes one whole item of any type (containers included), validating it exactly as the
 * getters would. Where a map key is due it consumes just that key. Uses no recursion. */
int mn_cbor_skip(mn_cbor_dec *dec, mn_err *err);
/* True when every opened container has been read to its end. */
bool mn_cbor_dec_at_top(const mn_cbor_dec *dec);
/* Succeeds only if the top-level item was read, all containers are closed and no byte is left
 * (trailing bytes are MN_ECORRUPT). */
int mn_cbor_dec_finish(mn_cbor_dec *dec, mn_err *err);

/* ---- schema helpers ------------------------------------------------------------------ */
/* For formats built on the codec, which read fixed fields in their one canonical order. `what`
 * names the structure in the error message. All return 0 or MN_ECORRUPT (or the getter's
 * error). */

/* A map of exactly n entries / an array of exactly n items. */
int mn_cbor_want_map(mn_cbor_dec *dec, uint64_t n, const char *what, mn_err *err);
int mn_cbor_want_array(mn_cbor_dec *dec, uint64_t n, const char *what, mn_err *err);
/* The next map key, which must be `key`: catches missing, unknown and reordered fields. */
int mn_cbor_want_key(mn_cbor_dec *dec, int64_t key, const char *what, mn_err *err);
/* An unsigned integer that fits 32 bits. */
int mn_cbor_get_u32(mn_cbor_dec *dec, uint32_t *v, const char *what, mn_err *err);

/* ---- generic copy ---------------------------------------------------------------------- */

/* Decodes one whole document (checking it exactly as the getters do, then mn_cbor_dec_finish)
 * and appends its re-encoding to out. For accepted input the output equals the input byte for
 * byte. Returns 0, or the decoder's error (MN_ECORRUPT, MN_ELIMIT) or the buffer's. */
int mn_cbor_copy_document(const uint8_t *data, size_t len, mn_buf *out, mn_err *err);

#endif
