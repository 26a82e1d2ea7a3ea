/* SPDX-License-Identifier: Apache-2.0
 *
 * bytes.h: byte helpers used everywhere: a growable byte buffer with a hard cap, hex encoding
 * and strict decoding, fixed-width little/big-endian loads and stores, and whole-file reads and
 * atomic writes. Nothing here interprets the bytes.
 */
#ifndef METANODE_BYTES_H
#define METANODE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/error.h"

/* A growable buffer. Zero-initialise or mn_buf_init it; mn_buf_deinit frees. len <= cap <=
 * max; growing past max fails with MN_ELIMIT (max 0 means MN_BUF_BYTES_MAX). */
typedef struct mn_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
} mn_buf;

void mn_buf_init(mn_buf *buf, size_t max);
void mn_buf_deinit(mn_buf *buf);
/* Makes room for `more` bytes beyond len. */
int mn_buf_reserve(mn_buf *buf, size_t more, mn_err *err);
int mn_buf_append(mn_buf *buf, const void *data, size_t len, mn_err *err);
int mn_buf_append_byte(mn_buf *buf, uint8_t byte, mn_err *err);
/* Appends printf-formatted text (no NUL), of any length; formatting needs room for one byte
 * more than the text. MN_ENOMEM / MN_ELIMIT as append. */
int mn_buf_appendf(mn_buf *buf, mn_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Hands the bytes to the caller (who frees them with free()) and resets buf. */
uint8_t *mn_buf_take(mn_buf *buf, size_t *len_out);

/* Writes 2*len lowercase hex digits and a NUL into out (size 2*len+1). */
void mn_hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly out_len bytes from a hex string of exactly 2*out_len digits (either case).
 * Anything else (odd length, wrong length, non-hex) is MN_EINVAL. */
int mn_hex_decode(uint8_t *out, size_t out_len, const char *hex, mn_err *err);
/* Decodes a hex string of any even length into a new malloc'd buffer (NULL for ""). */
int mn_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len, mn_err *err);

static inline void mn_store_u64_be(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}
static inline uint64_t mn_load_u64_be(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}
static inline void mn_store_u32_be(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)(v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
}
static inline uint32_t mn_load_u32_le(const uint8_t in[4])
{
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
           (uint32_t)in[3] << 24;
}
static inline void mn_store_u32_le(uint8_t out[4], uint32_t v)
{
    out[0] = (uint8_t)v;
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)(v >> 16);
    out[3] = (uint8_t)(v >> 24);
}
static inline uint64_t mn_load_u64_le(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | in[i];
    return v;
}
static inline void mn_store_u64_le(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* Reads a whole file (at most max bytes, 0 = MN_FILE_BYTES_MAX) into a new malloc'd buffer
 * with a NUL after the last byte (not counted in len). path "-" reads stdin. */
int mn_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len, mn_err *err);
/* Writes a file atomically (temporary file in the same directory, fsync, rename) with the
 * given mode. Refuses to replace an existing file unless overwrite is true. */
int mn_file_write(const char *path, const void *data, size_t len, unsigned mode, bool overwrite,
                  mn_err *err);

#endif
