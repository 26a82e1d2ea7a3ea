/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_anchors.c: anchor peers, the outbound peers a node reconnects to first after a restart
 * (Bitcoin's anchors.dat), so that an attacker who filled the address book while the node was
 * down still does not get all its first connections. The file is a canonical CBOR array of
 * [ip (16 bytes), port, node id (32 bytes)]; the decoder is strict because the file is read
 * back from disk. The file functions are thin wrappers over mn_file_read/_write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "metanode/cbor.h"
#include "metanode/relay_addrbook.h"

int mn_addrbook_anchors_encode(const mn_addr *anchors, uint32_t count, mn_buf *out, mn_err *err)
{
    if (count > MN_ADDRBOOK_ANCHORS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "%u anchors", count);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_array(&e, count);
    for (uint32_t i = 0; i < count; i++) {
        mn_cbor_put_array(&e, 3);
        mn_cbor_put_bytes(&e, anchors[i].ip, 16);
        mn_cbor_put_uint(&e, anchors[i].port);
        mn_cbor_put_bytes(&e, anchors[i].node, MN_ED25519_PUBLICKEY_BYTES);
    }
    return mn_cbor_enc_finish(&e, err);
}

int mn_addrbook_anchors_decode(const uint8_t *data, size_t len, mn_addr *anchors,
                               uint32_t *count, mn_err *err)
{
    mn_addr tmp[MN_ADDRBOOK_ANCHORS_MAX];
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    uint64_t n;
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n > MN_ADDRBOOK_ANCHORS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "anchors: %llu entries", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        uint32_t port;
        memset(&tmp[i], 0, sizeof tmp[i]);
        MN_TRY(mn_cbor_want_array(&d, 3, "anchor", err));
        MN_TRY(mn_cbor_get_bytes_n(&d, tmp[i].ip, 16, err));
        MN_TRY(mn_cbor_get_u32(&d, &port, "anchor port", err));
        if (port == 0 || port > UINT16_MAX)
            return mn_err_set(err, MN_ECORRUPT, 0, "anchor port %u", port);
        tmp[i].port = (uint16_t)port;
        MN_TRY(mn_cbor_get_bytes_n(&d, tmp[i].node, MN_ED25519_PUBLICKEY_BYTES, err));
    }
    MN_TRY(mn_cbor_dec_finish(&d, err));
    memcpy(anchors, tmp, (size_t)n * sizeof tmp[0]);
    *count = (uint32_t)n;
    return 0;
}

uint32_t mn_addrbook_anchors(const mn_addrbook *ab, mn_addr *anchors)
{
    uint32_t n = 0;
    for (int pass = 1; pass >= 0; pass--)
        for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES && n < MN_ADDRBOOK_ANCHORS_MAX; i++) {
            const mn_addrbook_entry *x = &ab->entries[i];
            if (x->used && x->outbound && x->tried == (pass == 1) && x->addr.port != 0)
                anchors[n++] = x->addr;
        }
    return n;
}

int mn_addrbook_anchors_save(const char *path, const mn_addr *anchors, uint32_t count,
                             mn_err *err)
{
    mn_buf b;
    mn_buf_init(&b, 0);
    int rc = mn_addrbook_anchors_encode(anchors, count, &b, err);
    if (rc == 0)
        rc = mn_file_write(path, b.data, b.len, 0600, true, err);
    mn_buf_deinit(&b);
    return rc;
}

int mn_addrbook_anchors_load(const char *path, mn_addr *anchors, uint32_t *count, mn_err *err)
{
    struct stat st;
    *count = 0;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return 0;
    uint8_t *data;
    size_t len;
    MN_TRY(mn_file_read(path, 4096, &data, &len, err));
    int rc = mn_addrbook_anchors_decode(data, len, anchors, count, err);
    free(data);
    return rc;
}
