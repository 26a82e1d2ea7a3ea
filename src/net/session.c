/* SPDX-License-Identifier: Apache-2.0
 *
 * session.c: one BPCI session as a pure state machine (bpci.h, docs/bpci.md): received bytes
 * in, callbacks and bytes to send out. It parses the preamble, runs the Noise handshake with
 * the identity binding (refusing IK first messages its replay cache has seen), then decrypts
 * records straight into the reassembly buffer, decodes frames, enforces the service registry,
 * reassembles fragments and answers pings. An IK listener reports the session only at the
 * dialer's first record (CONFIRM), so a replayed first message never becomes a session.
 * Partial records are buffered in a fixed array of one maximal record, so memory per session
 * is bounded by construction (plus the reassembly buffer, bounded by MN_BPCI_MSG_BYTES_MAX).
 * Every error closes the session: there is no way to resynchronise an authenticated stream
 * after a failure, and trying would be an oracle.
 *
 * It does no I/O and keeps no clock: timeouts, keepalive timing and back-pressure are the
 * runtime's.
 */
#include <stddef.h>
#include <string.h>

#include <sodium.h>

#include "metanode/bpci.h"

#define PROLOGUE_PREFIX "metanode-bpci/1"
#define PROLOGUE_PREFIX_BYTES (sizeof PROLOGUE_PREFIX - 1)
/* The handshake payloads are hellos (about 110 bytes); anything longer is refused. */
#define HELLO_BYTES_MAX 256u

#define TRY(call)                                                                              \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        if (rc_ != 0)                                                                          \
            return rc_;                                                                        \
    } while (0)

static uint8_t pattern_byte(mn_noise_pattern p)
{
    return p == MN_NOISE_XX ? 1 : 2;
}

static void preamble(uint8_t out[MN_BPCI_PREAMBLE_BYTES], mn_noise_pattern p)
{
    out[0] = 'M', out[1] = 'N', out[2] = 'B', out[3] = pattern_byte(p);
}

static int start_noise(mn_bpci_session *s, mn_noise_pattern p, mn_err *err)
{
    uint8_t prologue[PROLOGUE_PREFIX_BYTES + MN_BPCI_PREAMBLE_BYTES];
    memcpy(prologue, PROLOGUE_PREFIX, PROLOGUE_PREFIX_BYTES);
    preamble(prologue + PROLOGUE_PREFIX_BYTES, p);
    const bool ik_init = s->cfg.initiator && p == MN_NOISE_IK;
    TRY(mn_noise_handshake_init(&s->hs, p, MN_NOISE_BLAKE2B, s->cfg.initiator, prologue,
                                sizeof prologue, s->cfg.self->x_priv,
                                ik_init ? s->cfg.remote_static : NULL, err));
    if (s->cfg.test_ephemeral)
        mn_noise_handshake_set_ephemeral(&s->hs, s->cfg.test_ephemeral);
    s->state = MN_BPCI_HANDSHAKE;
    return 0;
}

/* Every handshake message carries a hello except the first of XX (still unencrypted). */
static bool carries_hello(const mn_bpci_session *s)
{
    return !(s->hs.pattern == MN_NOISE_XX && s->hs.msg_index == 0);
}

static int write_handshake(mn_bpci_session *s, mn_err *err)
{
    uint8_t hello_bytes[HELLO_BYTES_MAX];
    mn_buf hello = {.data = hello_bytes, .cap = sizeof hello_bytes, .max = sizeof hello_bytes};
    if (carries_hello(s))
        TRY(mn_bpci_hello_encode(s->cfg.self, &hello, err));
    TRY(mn_buf_reserve(&s->out, MN_BPCI_LEN_BYTES + MN_NOISE_MSG_BYTES_MAX, err));
    uint8_t *rec = s->out.data + s->out.len;
    size_t n;
    TRY(mn_noise_handshake_write(&s->hs, hello.data, hello.len, rec + MN_BPCI_LEN_BYTES,
                                 MN_NOISE_MSG_BYTES_MAX, &n, err));
    rec[0] = (uint8_t)(n >> 8);
    rec[1] = (uint8_t)n;
    s->out.len += MN_BPCI_LEN_BYTES + n;
    return 0;
}

static int check_hello(mn_bpci_session *s, const uint8_t *payload, size_t len, mn_err *err)
{
    mn_bpci_hello hello;
    const uint8_t *rs = mn_noise_handshake_remote_static(&s->hs);
    MN_ASSERT(rs != NULL);
    TRY(mn_bpci_hello_decode(payload, len, &hello, err));
    TRY(mn_bpci_hello_verify(&hello, rs, err));
    mn_node_id(s->peer_id, hello.ed_pk);
    const uint8_t *want = s->cfg.expected_peer_id;
    if (want && sodium_memcmp(want, s->peer_id, MN_ID_BYTES) != 0) {
        char got_hex[17], want_hex[17];
        mn_hex_encode(got_hex, s->peer_id, 8);
        mn_hex_encode(want_hex, want, 8);
        return mn_err_set(err, MN_EPERM, 0, "bpci: reached peer %s..., expected %s...", got_hex,
                          want_hex);
    }
    return 0;
}

static int send_control(mn_bpci_session *s, uint8_t type, const uint8_t *data, size_t len,
                        mn_err *err);

static void confirm(mn_bpci_session *s)
{
    s->confirmed = true;
    if (s->cb.on_established)
        s->cb.on_established(s->cb.ctx, s->peer_id);
}

/* After the last handshake message. An IK dialer proves at once that it holds the ephemeral
 * key (CONFIRM, its first record); an IK listener waits for that proof before it reports the
 * session, so a replayed first message never becomes a session. In XX the dialer's message 3
 * is that proof already. */
static int establish(mn_bpci_session *s, mn_err *err)
{
    const bool ik = s->hs.pattern == MN_NOISE_IK;
    mn_noise_handshake_split(&s->hs, &s->tx, &s->rx);
    mn_noise_handshake_wipe(&s->hs);
    s->state = MN_BPCI_ESTABLISHED;
    if (ik && s->cfg.initiator)
        TRY(send_control(s, MN_BPCI_CTL_CONFIRM, NULL, 0, err));
    if (ik && !s->cfg.initiator)
        return 0;
    confirm(s);
    return 0;
}

static int read_handshake(mn_bpci_session *s, const uint8_t *msg, size_t len, mn_err *err)
{
    uint8_t payload[HELLO_BYTES_MAX];
    size_t n;
    const bool hello = carries_hello(s);
    /* An IK listener's first message: a replay of a recent one is refused before any DH. */
    const bool ik_first = !s->cfg.initiator && s->hs.pattern == MN_NOISE_IK &&
                          s->hs.msg_index == 0 && s->cfg.replay != NULL &&
                          len >= MN_NOISE_DH_BYTES;
    if (ik_first && mn_bpci_replay_seen(s->cfg.replay, msg))
        return mn_err_set(err, MN_EEXIST, 0,
                          "bpci: replayed IK handshake (initiator ephemeral seen before)");
    TRY(mn_noise_handshake_read(&s->hs, msg, len, payload, sizeof payload, &n, err));
    if (hello)
        TRY(check_hello(s, payload, n, err));
    else if (n != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: payload in the first XX message");
    if (ik_first) /* authenticated: remember it */
        mn_bpci_replay_add(s->cfg.replay, msg);
    if (mn_noise_handshake_my_turn(&s->hs))
        TRY(write_handshake(s, err));
    return mn_noise_handshake_done(&s->hs) ? establish(s, err) : 0;
}

int mn_bpci_session_init(mn_bpci_session *s, const mn_bpci_config *cfg,
                         const mn_bpci_callbacks *cb, mn_err *err)
{
    MN_ASSERT(cfg->self != NULL);
    if (cfg->initiator && cfg->pattern != MN_NOISE_XX && cfg->pattern != MN_NOISE_IK)
        return mn_err_set(err, MN_EINVAL, 0, "bpci: pattern must be XX or IK");
    if (cfg->initiator && (cfg->pattern == MN_NOISE_IK) != (cfg->remote_static != NULL))
        return mn_err_set(err, MN_EINVAL, 0, "bpci: IK needs the peer's static key, XX not");
    memset(s, 0, offsetof(mn_bpci_session, in));
    s->cfg = *cfg;
    if (s->cfg.rekey_after == 0)
        s->cfg.rekey_after = MN_BPCI_REKEY_MESSAGES;
    if (cb)
        s->cb = *cb;
    mn_buf_init(&s->out, 0);
    mn_bpci_reasm_init(&s->reasm);
    s->state = MN_BPCI_PREAMBLE;
    if (!cfg->initiator)
        return 0;
    int rc = start_noise(s, cfg->pattern, err);
    if (rc == 0)
        rc = mn_buf_reserve(&s->out, MN_BPCI_PREAMBLE_BYTES, err);
    if (rc == 0) {
        preamble(s->out.data, cfg->pattern);
        s->out.len = MN_BPCI_PREAMBLE_BYTES;
        rc = write_handshake(s, err);
    }
    if (rc != 0)
        mn_bpci_session_deinit(s);
    return rc;
}

void mn_bpci_session_deinit(mn_bpci_session *s)
{
    mn_noise_handshake_wipe(&s->hs);
    mn_noise_cipher_wipe(&s->tx);
    mn_noise_cipher_wipe(&s->rx);
    mn_bpci_reasm_deinit(&s->reasm);
    mn_buf_deinit(&s->out);
    sodium_memzero(s->in, sizeof s->in); /* decrypted in place: it held plaintext */
    s->in_len = 0;
    s->state = MN_BPCI_CLOSED;
}

/* Appends one encrypted record carrying one frame, encrypted straight from the caller's
 * bytes into the output buffer (the header is gathered, the payload never copied). */
static int send_frame(mn_bpci_session *s, uint8_t flags, uint16_t service, const uint8_t *data,
                      size_t len, mn_err *err)
{
    MN_ASSERT(len <= MN_BPCI_FRAME_PAYLOAD_MAX);
    if (s->state != MN_BPCI_ESTABLISHED) /* e.g. closed by a callback: keys are gone */
        return mn_err_set(err, MN_ESTATE, 0, "bpci: session not established");
    const size_t ct_len = MN_BPCI_FRAME_HEADER_BYTES + len + MN_NOISE_TAG_BYTES;
    TRY(mn_buf_reserve(&s->out, MN_BPCI_LEN_BYTES + ct_len, err));
    uint8_t *rec = s->out.data + s->out.len;
    rec[0] = (uint8_t)(ct_len >> 8);
    rec[1] = (uint8_t)ct_len;
    uint8_t hdr[MN_BPCI_FRAME_HEADER_BYTES];
    mn_bpci_frame_header(hdr, flags, service);
    TRY(mn_noise_cipher_encrypt_parts(&s->tx, hdr, sizeof hdr, data, len,
                                      rec + MN_BPCI_LEN_BYTES, err));
    s->out.len += MN_BPCI_LEN_BYTES + ct_len;
    s->frames_sent++;
    if (s->tx.n % s->cfg.rekey_after == 0) {
        mn_noise_cipher_rekey(&s->tx);
        s->rekeys++;
    }
    return 0;
}

int mn_bpci_session_send(mn_bpci_session *s, uint16_t service, const uint8_t *data, size_t len,
                         mn_err *err)
{
    MN_ASSERT(data != NULL || len == 0);
    if (s->state != MN_BPCI_ESTABLISHED)
        return mn_err_set(err, MN_ESTATE, 0, "bpci: session not established");
    if (service == MN_BPCI_SERVICE_CONTROL)
        return mn_err_set(err, MN_EINVAL, 0, "bpci: service 0 is reserved for control");
    if (len > MN_BPCI_MSG_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: message of %zu bytes, at most %u", len,
                          MN_BPCI_MSG_BYTES_MAX);
    size_t off = 0;
    do {
        const size_t chunk = len - off < MN_BPCI_FRAME_PAYLOAD_MAX ? len - off
                                                                   : MN_BPCI_FRAME_PAYLOAD_MAX;
        const uint8_t flags = off + chunk < len ? MN_BPCI_FLAG_MORE : 0;
        int rc = send_frame(s, flags, service, len ? data + off : NULL, chunk, err);
        if (rc != 0) {
            mn_bpci_session_close(s, 0);
            return rc;
        }
        off += chunk;
    } while (off < len);
    return 0;
}

static int send_control(mn_bpci_session *s, uint8_t type, const uint8_t *data, size_t len,
                        mn_err *err)
{
    uint8_t msg[16];
    MN_ASSERT(len < sizeof msg);
    msg[0] = type;
    if (len)
        memcpy(msg + 1, data, len);
    return send_frame(s, 0, MN_BPCI_SERVICE_CONTROL, msg, 1 + len, err);
}

int mn_bpci_session_ping(mn_bpci_session *s, const uint8_t token[static 8], mn_err *err)
{
    if (s->state != MN_BPCI_ESTABLISHED)
        return mn_err_set(err, MN_ESTATE, 0, "bpci: session not established");
    return send_control(s, MN_BPCI_CTL_PING, token, 8, err);
}

void mn_bpci_session_close(mn_bpci_session *s, uint8_t reason)
{
    if (s->state == MN_BPCI_ESTABLISHED) {
        mn_err ignored;
        (void)send_control(s, MN_BPCI_CTL_CLOSE, &reason, 1, &ignored);
    }
    s->state = MN_BPCI_CLOSED;
    mn_noise_handshake_wipe(&s->hs);
    mn_noise_cipher_wipe(&s->tx);
    mn_noise_cipher_wipe(&s->rx);
}

static int on_control(mn_bpci_session *s, const mn_bpci_frame *f, mn_err *err)
{
    const uint8_t *p = f->payload;
    const size_t n = f->payload_len;
    if (n == 9 && p[0] == MN_BPCI_CTL_PING)
        return send_control(s, MN_BPCI_CTL_PONG, p + 1, 8, err);
    if (n == 9 && p[0] == MN_BPCI_CTL_PONG) {
        if (s->cb.on_pong)
            s->cb.on_pong(s->cb.ctx, p + 1);
        return 0;
    }
    if (n == 1 && p[0] == MN_BPCI_CTL_CONFIRM)
        return 0; /* its work (proving the dialer live) is done by being decrypted */
    if (n == 2 && p[0] == MN_BPCI_CTL_CLOSE) {
        s->state = MN_BPCI_CLOSED;
        if (s->cb.on_close)
            s->cb.on_close(s->cb.ctx, p[1]);
        return 0;
    }
    return mn_err_set(err, MN_ECORRUPT, 0, "bpci: bad control message (%zu bytes)", n);
}

/* Decrypts the record ct (len bytes) and handles its frame. The plaintext goes straight to
 * its place in the reassembly buffer, so neither a whole message nor a fragmented one is
 * copied after decryption. */
static int read_transport(mn_bpci_session *s, const uint8_t *ct, size_t len, mn_err *err)
{
    uint8_t *pt;
    const size_t pt_len = len - MN_NOISE_TAG_BYTES;
    TRY(mn_bpci_reasm_slot(&s->reasm, pt_len, &pt, err));
    int rc = mn_noise_cipher_decrypt(&s->rx, NULL, 0, ct, len, pt, err);
    if (rc == 0) {
        s->frames_received++;
        if (s->rx.n % s->cfg.rekey_after == 0)
            mn_noise_cipher_rekey(&s->rx);
        if (!s->confirmed) {
            confirm(s); /* the IK dialer's first record authenticated */
            if (s->state != MN_BPCI_ESTABLISHED) { /* the callback closed the session */
                mn_bpci_reasm_release(&s->reasm);
                return 0;
            }
        }
    }
    mn_bpci_frame f;
    if (rc == 0)
        rc = mn_bpci_frame_decode(pt, pt_len, &f, err);
    if (rc == 0 && f.service == MN_BPCI_SERVICE_CONTROL) {
        rc = on_control(s, &f, err);
        mn_bpci_reasm_release(&s->reasm);
        return rc;
    }
    if (rc == 0)
        rc = mn_bpci_registry_check(s->cfg.registry, f.service, s->peer_id, err);
    if (rc != 0) {
        mn_bpci_reasm_release(&s->reasm);
        return rc;
    }
    bool done;
    const uint8_t *msg;
    size_t msg_len;
    TRY(mn_bpci_reasm_commit(&s->reasm, &f, &done, &msg, &msg_len, err));
    if (done && s->cb.on_message)
        s->cb.on_message(s->cb.ctx, f.service, msg, msg_len);
    return 0;
}

static int read_preamble(mn_bpci_session *s, mn_err *err)
{
    const uint8_t *p = s->in;
    if (p[0] != 'M' || p[1] != 'N' || p[2] != 'B' || (p[3] != 1 && p[3] != 2))
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: bad preamble %02x%02x%02x%02x", p[0],
                          p[1], p[2], p[3]);
    return start_noise(s, p[3] == 1 ? MN_NOISE_XX : MN_NOISE_IK, err);
}

/* The smallest valid record: a handshake message is at least an ephemeral key; a transport
 * record at least a frame header and a tag. */
static size_t record_min(const mn_bpci_session *s)
{
    return s->state == MN_BPCI_HANDSHAKE ? MN_NOISE_DH_BYTES
                                         : MN_BPCI_FRAME_HEADER_BYTES + MN_NOISE_TAG_BYTES;
}

/* Moves bytes into in[] until `want` are buffered; returns how many were taken. */
static size_t fill(mn_bpci_session *s, const uint8_t *data, size_t len, size_t want)
{
    size_t take = want - s->in_len;
    if (take > len)
        take = len;
    memcpy(s->in + s->in_len, data, take);
    s->in_len += take;
    return take;
}

/* Handles the complete record buffered in in[]. */
static int read_buffered(mn_bpci_session *s, mn_err *err)
{
    const size_t rec_len = (size_t)s->in[0] << 8 | s->in[1];
    MN_ASSERT(s->in_len == MN_BPCI_LEN_BYTES + rec_len);
    s->in_len = 0;
    uint8_t *rec = s->in + MN_BPCI_LEN_BYTES;
    if (s->state == MN_BPCI_HANDSHAKE)
        return read_handshake(s, rec, rec_len, err);
    return read_transport(s, rec, rec_len, err);
}

/* Consumes bytes; processes at most one complete unit (preamble or record) per call. */
static int recv_step(mn_bpci_session *s, const uint8_t *data, size_t len, size_t *used,
                     mn_err *err)
{
    if (s->state == MN_BPCI_PREAMBLE) {
        *used = fill(s, data, len, MN_BPCI_PREAMBLE_BYTES);
        if (s->in_len < MN_BPCI_PREAMBLE_BYTES)
            return 0;
        s->in_len = 0;
        return read_preamble(s, err);
    }
    *used = 0;
    if (s->state == MN_BPCI_ESTABLISHED && s->in_len == 0 && len >= MN_BPCI_LEN_BYTES) {
        /* A whole record in the caller's bytes: decrypt it from there (no copy). */
        const size_t n = (size_t)data[0] << 8 | data[1];
        if (n >= record_min(s) && len - MN_BPCI_LEN_BYTES >= n) {
            *used = MN_BPCI_LEN_BYTES + n;
            return read_transport(s, data + MN_BPCI_LEN_BYTES, n, err);
        }
    }
    if (s->in_len < MN_BPCI_LEN_BYTES) {
        *used = fill(s, data, len, MN_BPCI_LEN_BYTES);
        if (s->in_len < MN_BPCI_LEN_BYTES)
            return 0;
    }
    const size_t rec_len = (size_t)s->in[0] << 8 | s->in[1];
    if (rec_len < record_min(s))
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci: record of %zu bytes", rec_len);
    *used += fill(s, data + *used, len - *used, MN_BPCI_LEN_BYTES + rec_len);
    if (s->in_len < MN_BPCI_LEN_BYTES + rec_len)
        return 0;
    return read_buffered(s, err);
}

static void fail(mn_bpci_session *s)
{
    s->state = MN_BPCI_CLOSED; /* no CLOSE frame: the peer is not trusted to read it */
    mn_noise_cipher_wipe(&s->tx);
    mn_noise_cipher_wipe(&s->rx);
}

uint8_t *mn_bpci_session_recv_space(mn_bpci_session *s, size_t *cap)
{
    if (s->state == MN_BPCI_PREAMBLE || s->state == MN_BPCI_CLOSED ||
        s->in_len < MN_BPCI_LEN_BYTES)
        return NULL;
    const size_t rec_len = (size_t)s->in[0] << 8 | s->in[1];
    MN_ASSERT(rec_len >= record_min(s) && s->in_len < MN_BPCI_LEN_BYTES + rec_len);
    *cap = MN_BPCI_LEN_BYTES + rec_len - s->in_len;
    return s->in + s->in_len;
}

int mn_bpci_session_recv_commit(mn_bpci_session *s, size_t n, mn_err *err)
{
    size_t cap = 0;
    MN_ASSERT(mn_bpci_session_recv_space(s, &cap) != NULL && n <= cap);
    s->in_len += n;
    if (n < cap)
        return 0;
    int rc = read_buffered(s, err);
    if (rc != 0)
        fail(s);
    return rc;
}

int mn_bpci_session_recv(mn_bpci_session *s, const uint8_t *data, size_t len, mn_err *err)
{
    if (s->state == MN_BPCI_CLOSED)
        return mn_err_set(err, MN_ESTATE, 0, "bpci: session closed");
    while (len > 0 && s->state != MN_BPCI_CLOSED) {
        size_t used = 0;
        int rc = recv_step(s, data, len, &used, err);
        if (rc != 0) {
            fail(s);
            return rc;
        }
        data += used;
        len -= used;
    }
    return 0;
}
