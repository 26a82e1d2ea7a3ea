/* SPDX-License-Identifier: Apache-2.0
 *
 * cbor_internal.h: what the canonical CBOR encoder and decoder must agree on, kept in one place
 * so the two cannot drift: the shortest-form head encoding, the order of map keys (bytewise
 * lexicographic order of their encodings, RFC 8949 §4.2.1) and the UTF-8 rules. Private to
 * src/wire; it deliberately holds no state and no error reporting.
 */
#ifndef METANODE_WIRE_CBOR_INTERNAL_H
#define METANODE_WIRE_CBOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Major types (the top three bits of the initial byte). */
enum {
    CBOR_MAJOR_UINT = 0,
    CBOR_MAJOR_NEGINT = 1,
    CBOR_MAJOR_BYTES = 2,
    CBOR_MAJOR_TEXT = 3,
    CBOR_MAJOR_ARRAY = 4,
    CBOR_MAJOR_MAP = 5,
    CBOR_MAJOR_TAG = 6,
    CBOR_MAJOR_SIMPLE = 7,
};

/* Additional-information values of major type 7 that the subset keeps. */
enum { CBOR_SIMPLE_FALSE = 20, CBOR_SIMPLE_TRUE = 21, CBOR_SIMPLE_NULL = 22 };

/* Longest head: the initial byte plus an 8-byte argument. */
#define CBOR_HEAD_BYTES_MAX 9u

/* Writes the shortest head for (major, arg) into out and returns its length (1, 2, 3, 5, 9). */
static inline size_t cbor_head_encode(uint8_t out[CBOR_HEAD_BYTES_MAX], unsigned major,
                                      uint64_t arg)
{
    uint8_t mt = (uint8_t)(major << 5);
    size_t width;
    if (arg < 24) {
        out[0] = (uint8_t)(mt | arg);
        return 1;
    }
    if (arg <= UINT8_MAX) {
        out[0] = mt | 24;
        width = 1;
    } else if (arg <= UINT16_MAX) {
        out[0] = mt | 25;
        width = 2;
    } else if (arg <= UINT32_MAX) {
        out[0] = mt | 26;
        width = 4;
    } else {
        out[0] = mt | 27;
        width = 8;
    }
    for (size_t i = 0; i < width; i++)
        out[width - i] = (uint8_t)(arg >> (8 * i));
    return 1 + width;
}

/* True when the encoded key b sorts strictly after the encoded key a: bytewise lexicographic,
 * a proper prefix first. Equal keys (duplicates) are not "after". */
static inline bool cbor_key_after(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c < 0;
    return a_len < b_len;
}

/* Validates UTF-8 strictly (RFC 3629: no overlong forms, no surrogates D800-DFFF, nothing above
 * U+10FFFF, no truncated sequence). Returns len when valid, else the offset of the first byte
 * of the first bad sequence. */
size_t mn__cbor_utf8_check(const uint8_t *s, size_t len);

#endif
