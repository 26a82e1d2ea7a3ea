/* SPDX-License-Identifier: Apache-2.0
 *
 * bytes.c: mn_buf growth, hex, and whole-file I/O. Every size computation is checked against
 * the buffer's cap before it can overflow.
 */
#include "metanode/bytes.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metanode/assert.h"
#include "metanode/limits.h"

void mn_buf_init(mn_buf *buf, size_t max)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->max = max;
}

void mn_buf_deinit(mn_buf *buf)
{
    if (buf == NULL)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

int mn_buf_reserve(mn_buf *buf, size_t more, mn_err *err)
{
    size_t max = buf->max != 0 ? buf->max : MN_BUF_BYTES_MAX;
    MN_ASSERT(buf->len <= buf->cap);
    if (more > max || buf->len > max - more)
        return mn_err_set(err, MN_ELIMIT, 0, "buffer would exceed %zu bytes", max);
    size_t need = buf->len + more;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap != 0 ? buf->cap : 64;
    while (cap < need)
        cap = cap > max / 2 ? max : cap * 2;
    uint8_t *data = realloc(buf->data, cap);
    if (data == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "buffer of %zu bytes", cap);
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int mn_buf_append(mn_buf *buf, const void *data, size_t len, mn_err *err)
{
    int rc = mn_buf_reserve(buf, len, err);
    if (rc != 0)
        return rc;
    if (len != 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return 0;
}

int mn_buf_append_byte(mn_buf *buf, uint8_t byte, mn_err *err)
{
    return mn_buf_append(buf, &byte, 1, err);
}

int mn_buf_appendf(mn_buf *buf, mn_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    MN_ASSERT(n >= 0); /* only an invalid format fails, a bug of the caller */
    /* one more for the NUL vsnprintf writes; it is not counted in len */
    int rc = mn_buf_reserve(buf, (size_t)n + 1, err);
    if (rc != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
    return 0;
}

uint8_t *mn_buf_take(mn_buf *buf, size_t *len_out)
{
    uint8_t *data = buf->data;
    if (len_out != NULL)
        *len_out = buf->len;
    buf->data = NULL;
    buf->len = buf->cap = 0;
    return data;
}

void mn_hex_encode(char *out, const uint8_t *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_decode_n(uint8_t *out, const char *hex, size_t n, mn_err *err)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hex_nibble(hex[2 * i]);
        int lo = hex_nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return mn_err_set(err, MN_EINVAL, 0, "not a hex digit at offset %zu",
                              hi < 0 ? 2 * i : 2 * i + 1);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int mn_hex_decode(uint8_t *out, size_t out_len, const char *hex, mn_err *err)
{
    size_t len = strlen(hex);
    if (len != 2 * out_len)
        return mn_err_set(err, MN_EINVAL, 0, "expected %zu hex digits, got %zu", 2 * out_len,
                          len);
    return hex_decode_n(out, hex, out_len, err);
}

int mn_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len, mn_err *err)
{
    size_t len = strlen(hex);
    if (len % 2 != 0)
        return mn_err_set(err, MN_EINVAL, 0, "odd number of hex digits (%zu)", len);
    uint8_t *bytes = NULL;
    if (len != 0) {
        bytes = malloc(len / 2);
        if (bytes == NULL)
            return mn_err_set(err, MN_ENOMEM, 0, "hex buffer");
        int rc = hex_decode_n(bytes, hex, len / 2, err);
        if (rc != 0) {
            free(bytes);
            return rc;
        }
    }
    *out = bytes;
    *out_len = len / 2;
    return 0;
}

int mn_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len, mn_err *err)
{
    if (max == 0)
        max = MN_FILE_BYTES_MAX;
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mn_err_set(err, errno == ENOENT ? MN_ENOTFOUND : MN_ESYS, errno, "open %s", path);
    mn_buf buf;
    mn_buf_init(&buf, max + 1);
    int rc = 0;
    for (;;) {
        rc = mn_buf_reserve(&buf, 4096, NULL);
        if (rc != 0 && buf.len < max + 1)
            rc = mn_buf_reserve(&buf, max + 1 - buf.len, err);
        if (rc != 0)
            break;
        ssize_t n = read(fd, buf.data + buf.len, buf.cap - buf.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = mn_err_set(err, MN_ESYS, errno, "read %s", path);
            break;
        }
        if (n == 0)
            break;
        buf.len += (size_t)n;
        if (buf.len > max) {
            rc = mn_err_set(err, MN_ELIMIT, 0, "%s is larger than %zu bytes", path, max);
            break;
        }
    }
    close(fd);
    if (rc == 0)
        rc = mn_buf_append_byte(&buf, 0, err);
    if (rc != 0) {
        mn_buf_deinit(&buf);
        return rc;
    }
    *out_len = buf.len - 1;
    *out = mn_buf_take(&buf, NULL);
    return 0;
}

int mn_file_write(const char *path, const void *data, size_t len, unsigned mode, bool overwrite,
                  mn_err *err)
{
    if (!overwrite && access(path, F_OK) == 0)
        return mn_err_set(err, MN_EEXIST, 0, "%s already exists", path);
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
        return mn_err_set(err, MN_EINVAL, 0, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return mn_err_set(err, MN_ESYS, errno, "create %s", tmp);
    int rc = 0;
    /* open() applies the umask; force the exact mode (keys must be 0600, not looser). */
    if (fchmod(fd, mode) != 0)
        rc = mn_err_set(err, MN_ESYS, errno, "chmod %s", tmp);
    const uint8_t *p = data;
    size_t left = len;
    while (rc == 0 && left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = mn_err_set(err, MN_ESYS, errno, "write %s", tmp);
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = mn_err_set(err, MN_ESYS, errno, "fsync %s", tmp);
    if (close(fd) != 0 && rc == 0)
        rc = mn_err_set(err, MN_ESYS, errno, "close %s", tmp);
    /* link() refuses to replace an existing file atomically; rename() replaces it. */
    if (rc == 0 && !overwrite && link(tmp, path) != 0)
        rc = mn_err_set(err, errno == EEXIST ? MN_EEXIST : MN_ESYS, errno, "create %s", path);
    else if (rc == 0 && overwrite && rename(tmp, path) != 0)
        rc = mn_err_set(err, MN_ESYS, errno, "rename to %s", path);
    unlink(tmp);
    return rc;
}
