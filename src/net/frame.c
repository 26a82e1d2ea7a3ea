/* SPDX-License-Identifier: Apache-2.0
 *
 * frame.c: the BPCI frame (the plaintext of one transport record: version, flags, service id,
 * payload) and the reassembly of fragmented messages. The decoder accepts exactly version 1,
 * only the MORE flag, and never a fragmented control message; reassembly accepts fragments of
 * one service at a time, in order, up to MN_BPCI_MSG_BYTES_MAX. Both work on decrypted bytes
 * only: authentication and ordering are the session's (session.c) job.
 */
#include <string.h>

#include "metanode/bpci.h"

void mn_bpci_frame_header(uint8_t out[static MN_BPCI_FRAME_HEADER_BYTES], uint8_t flags,
                          uint16_t service)
{
    MN_ASSERT((flags & ~MN_BPCI_FLAG_MORE) == 0);
    out[0] = MN_BPCI_VERSION;
    out[1] = flags;
    out[2] = (uint8_t)(service >> 8);
    out[3] = (uint8_t)service;
}

int mn_bpci_frame_decode(const uint8_t *data, size_t len, mn_bpci_frame *frame, mn_err *err)
{
    if (len < MN_BPCI_FRAME_HEADER_BYTES)
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: frame of %zu bytes has no header", len);
    if (len > MN_BPCI_FRAME_HEADER_BYTES + MN_BPCI_FRAME_PAYLOAD_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: frame of %zu bytes too long", len);
    if (data[0] != MN_BPCI_VERSION)
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: frame version %u", data[0]);
    if (data[1] & ~MN_BPCI_FLAG_MORE)
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: unknown frame flags 0x%02x", data[1]);
    const uint16_t service = (uint16_t)(data[2] << 8 | data[3]);
    if (service == MN_BPCI_SERVICE_CONTROL && (data[1] & MN_BPCI_FLAG_MORE))
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: fragmented control message");
    frame->flags = data[1];
    frame->service = service;
    frame->payload = data + MN_BPCI_FRAME_HEADER_BYTES;
    frame->payload_len = len - MN_BPCI_FRAME_HEADER_BYTES;
    return 0;
}

void mn_bpci_reasm_init(mn_bpci_reasm *r)
{
    memset(r, 0, sizeof *r);
    mn_buf_init(&r->buf, MN_BPCI_MSG_BYTES_MAX);
}

void mn_bpci_reasm_deinit(mn_bpci_reasm *r)
{
    mn_buf_deinit(&r->buf);
    r->active = false;
}

int mn_bpci_reasm_push(mn_bpci_reasm *r, const mn_bpci_frame *f, bool *done,
                       const uint8_t **data, size_t *len, mn_err *err)
{
    const bool more = f->flags & MN_BPCI_FLAG_MORE;
    *done = false;
    if (r->active && f->service != r->service)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "bpci: frame for service %u inside a message for service %u",
                          f->service, r->service);
    if (!r->active && !more) { /* the common case: a whole message in one frame, no copy */
        *done = true;
        *data = f->payload;
        *len = f->payload_len;
        return 0;
    }
    if (!r->active) {
        r->buf.len = 0;
        r->service = f->service;
        r->active = true;
    }
    if (f->payload_len > MN_BPCI_MSG_BYTES_MAX - r->buf.len)
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: message exceeds %u bytes",
                          MN_BPCI_MSG_BYTES_MAX);
    int rc = mn_buf_append(&r->buf, f->payload, f->payload_len, err);
    if (rc != 0)
        return rc;
    if (!more) {
        r->active = false;
        *done = true;
        *data = r->buf.data;
        *len = r->buf.len;
    }
    return 0;
}
