/* SPDX-License-Identifier: Apache-2.0
 *
 * frame.c: the BPCI frame (the plaintext of one transport record: version, flags, service id,
 * payload) and the reassembly of fragmented messages. The decoder accepts exactly version 1,
 * only the MORE flag, and never a fragmented control message; reassembly accepts fragments of
 * one service at a time, in order, up to MN_BPCI_MSG_BYTES_MAX. Both work on decrypted bytes
 * only: authentication and ordering are the session's (session.c) job.
 */
#include <string.h>

#include <sodium.h>

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

#define HDR MN_BPCI_FRAME_HEADER_BYTES

void mn_bpci_reasm_init(mn_bpci_reasm *r)
{
    memset(r, 0, sizeof *r);
    /* The header slot, the largest message, and one more frame decrypted behind it before the
     * limit check refuses it. */
    mn_buf_init(&r->buf, HDR + MN_BPCI_MSG_BYTES_MAX + HDR + MN_BPCI_FRAME_PAYLOAD_MAX);
}

void mn_bpci_reasm_deinit(mn_bpci_reasm *r)
{
    if (r->buf.data)
        sodium_memzero(r->buf.data, r->buf.cap); /* it held plaintext */
    mn_buf_deinit(&r->buf);
    r->active = false;
    r->slot = NULL;
}

/* The header slot exists (buf.len >= HDR) and buf.len - HDR bytes of message follow it. */
static int ensure_slot(mn_bpci_reasm *r, size_t more, mn_err *err)
{
    if (r->buf.len < HDR) {
        MN_ASSERT(!r->active);
        int rc = mn_buf_reserve(&r->buf, HDR, err);
        if (rc != 0)
            return rc;
        memset(r->buf.data, 0, HDR);
        r->buf.len = HDR;
    }
    return mn_buf_reserve(&r->buf, more, err);
}

/* Checks and records the frame f whose payload already sits at the end of the message. */
static int accept_frame(mn_bpci_reasm *r, const mn_bpci_frame *f, bool *done,
                        const uint8_t **data, size_t *len, mn_err *err)
{
    const bool more = f->flags & MN_BPCI_FLAG_MORE;
    *done = false;
    if (r->active && f->service != r->service)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "bpci: frame for service %u inside a message for service %u",
                          f->service, r->service);
    if (!r->active && !more) { /* the common case: a whole message in one frame */
        *done = true;
        *data = f->payload;
        *len = f->payload_len;
        return 0;
    }
    if (f->payload_len > MN_BPCI_MSG_BYTES_MAX - (r->buf.len - HDR))
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: message exceeds %u bytes",
                          MN_BPCI_MSG_BYTES_MAX);
    r->buf.len += f->payload_len;
    r->service = f->service;
    r->active = more;
    if (!more) {
        *done = true;
        *data = r->buf.data + HDR;
        *len = r->buf.len - HDR;
        r->buf.len = HDR; /* the bytes stay valid until the next frame */
    }
    return 0;
}

int mn_bpci_reasm_push(mn_bpci_reasm *r, const mn_bpci_frame *f, bool *done,
                       const uint8_t **data, size_t *len, mn_err *err)
{
    MN_ASSERT(r->slot == NULL);
    const bool more = f->flags & MN_BPCI_FLAG_MORE;
    if (r->active || more) { /* append, then account for it as if decrypted in place */
        if (f->payload_len > MN_BPCI_MSG_BYTES_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "bpci: message exceeds %u bytes",
                              MN_BPCI_MSG_BYTES_MAX);
        int rc = ensure_slot(r, f->payload_len, err);
        if (rc != 0)
            return rc;
        if (f->payload_len)
            memcpy(r->buf.data + r->buf.len, f->payload, f->payload_len);
        mn_bpci_frame g = *f;
        g.payload = r->buf.data + r->buf.len;
        return accept_frame(r, &g, done, data, len, err);
    }
    return accept_frame(r, f, done, data, len, err);
}

int mn_bpci_reasm_slot(mn_bpci_reasm *r, size_t frame_len, uint8_t **dst, mn_err *err)
{
    MN_ASSERT(r->slot == NULL);
    MN_ASSERT(frame_len >= HDR);
    int rc = ensure_slot(r, frame_len - HDR, err);
    if (rc != 0)
        return rc;
    r->slot = r->buf.data + r->buf.len - HDR;
    memcpy(r->saved, r->slot, HDR);
    *dst = r->slot;
    return 0;
}

void mn_bpci_reasm_release(mn_bpci_reasm *r)
{
    MN_ASSERT(r->slot != NULL);
    memcpy(r->slot, r->saved, HDR); /* the tail of the message (or the unused slot) */
    r->slot = NULL;
}

int mn_bpci_reasm_commit(mn_bpci_reasm *r, const mn_bpci_frame *f, bool *done,
                         const uint8_t **data, size_t *len, mn_err *err)
{
    MN_ASSERT(r->slot != NULL && f->payload == r->slot + HDR);
    mn_bpci_reasm_release(r);
    return accept_frame(r, f, done, data, len, err);
}
