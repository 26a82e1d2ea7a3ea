/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the BPCI protocol without sockets: two sessions piped together in memory (bytes
 * delivered in random splits), XX and IK handshakes with the identity binding, expected peer
 * ids, messages both ways, split messages, rekey crossing, the service registry, ping and
 * close, and the adversarial cases the issue lists: a replayed record, a bit flip, a truncated
 * record, an oversize or undersize length, garbage before and during the handshake, a wrong
 * identity signature, a peer speaking for a service it is not allowed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "metanode/bpci.h"
#include "metanode/cbor.h"
#include "metanode/keyfile.h"
#include "mn_test.h"

typedef struct peer {
    mn_bpci_identity ident;
    mn_bpci_session s;
    int established, closed, pongs;
    uint8_t peer_id[32];
    size_t msgs;
    uint16_t last_service;
    uint8_t *last;
    size_t last_len;
} peer;

static mn_bpci_registry open_reg; /* services 7 and 9 open, 8 restricted to nobody */

static void on_established(void *ctx, const uint8_t id[32])
{
    peer *p = ctx;
    p->established++;
    memcpy(p->peer_id, id, 32);
}

static void on_message(void *ctx, uint16_t service, const uint8_t *data, size_t len)
{
    peer *p = ctx;
    p->msgs++;
    p->last_service = service;
    free(p->last);
    p->last = malloc(len ? len : 1);
    if (len)
        memcpy(p->last, data, len);
    p->last_len = len;
}

static void on_pong(void *ctx, const uint8_t token[8])
{
    peer *p = ctx;
    ASSERT_MEM_EQ(token, "12345678", 8);
    p->pongs++;
}

static void on_close(void *ctx, uint8_t reason)
{
    peer *p = ctx;
    ASSERT_EQ(reason, 42);
    p->closed++;
}

static void make_identity(peer *p, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    memset(p, 0, sizeof *p);
    mn_bpci_identity_init(&p->ident, &kp, NULL);
    mn_keypair_wipe(&kp);
}

static int start(peer *p, bool initiator, mn_noise_pattern pat, const uint8_t *want_id,
                 const uint8_t *rs, uint64_t rekey, mn_err *err)
{
    const mn_bpci_config cfg = {.self = &p->ident, .registry = &open_reg,
                                .initiator = initiator, .pattern = pat,
                                .expected_peer_id = want_id, .remote_static = rs,
                                .rekey_after = rekey};
    const mn_bpci_callbacks cb = {.ctx = p, .on_established = on_established,
                                  .on_message = on_message, .on_pong = on_pong,
                                  .on_close = on_close};
    return mn_bpci_session_init(&p->s, &cfg, &cb, err);
}

/* Moves everything a has to send into b, in random splits. Returns b's recv result. */
static int deliver(peer *a, peer *b, mn_err *err)
{
    size_t off = 0;
    int rc = 0;
    while (off < a->s.out.len && rc == 0) {
        size_t n = 1 + randombytes_uniform(3000);
        if (n > a->s.out.len - off)
            n = a->s.out.len - off;
        rc = mn_bpci_session_recv(&b->s, a->s.out.data + off, n, err);
        off += n;
    }
    a->s.out.len = 0;
    return rc;
}

static void handshake(peer *a, peer *b, mn_noise_pattern pat, uint64_t rekey)
{
    mn_err err;
    ASSERT_OK(start(a, true, pat, b->ident.id, pat == MN_NOISE_IK ? b->ident.x_pub : NULL,
                    rekey, &err), &err);
    ASSERT_OK(start(b, false, pat, NULL, NULL, rekey, &err), &err);
    for (int i = 0; i < 3 && (a->established == 0 || b->established == 0); i++) {
        ASSERT_OK(deliver(a, b, &err), &err);
        ASSERT_OK(deliver(b, a, &err), &err);
    }
    ASSERT_EQ(a->established, 1);
    ASSERT_EQ(b->established, 1);
    ASSERT_MEM_EQ(a->peer_id, b->ident.id, 32);
    ASSERT_MEM_EQ(b->peer_id, a->ident.id, 32);
}

static void finish(peer *a, peer *b)
{
    mn_bpci_session_deinit(&a->s);
    mn_bpci_session_deinit(&b->s);
    free(a->last);
    free(b->last);
    a->last = b->last = NULL;
}

static void send_ok(peer *a, peer *b, uint16_t service, size_t len)
{
    mn_err err;
    uint8_t *msg = malloc(len ? len : 1);
    randombytes_buf(msg, len);
    const size_t before = b->msgs;
    ASSERT_OK(mn_bpci_session_send(&a->s, service, msg, len, &err), &err);
    ASSERT_OK(deliver(a, b, &err), &err);
    ASSERT_EQ(b->msgs, before + 1);
    ASSERT_EQ(b->last_service, service);
    ASSERT_EQ(b->last_len, len);
    if (len)
        ASSERT_MEM_EQ(b->last, msg, len);
    free(msg);
}

static void xx_and_ik_sessions_carry_messages_both_ways(void)
{
    for (int pat = 0; pat < 2; pat++) {
        peer a, b;
        make_identity(&a, 1);
        make_identity(&b, 2);
        handshake(&a, &b, pat ? MN_NOISE_IK : MN_NOISE_XX, 0);
        for (int i = 0; i < 200; i++) {
            send_ok(&a, &b, 7, randombytes_uniform(2000));
            send_ok(&b, &a, 9, randombytes_uniform(2000));
        }
        send_ok(&a, &b, 7, 0);
        ASSERT_U64_EQ(a.s.frames_sent, pat ? 202 : 201); /* IK: and the dialer's CONFIRM */
        finish(&a, &b);
    }
}

static void large_messages_are_split_and_reassembled(void)
{
    peer a, b;
    make_identity(&a, 1);
    make_identity(&b, 2);
    handshake(&a, &b, MN_NOISE_XX, 0);
    const size_t sizes[] = {MN_BPCI_FRAME_PAYLOAD_MAX, MN_BPCI_FRAME_PAYLOAD_MAX + 1,
                            1000 * 1000 + 7, MN_BPCI_MSG_BYTES_MAX};
    for (size_t i = 0; i < MN_ARRAY_LEN(sizes); i++) {
        const uint64_t before = a.s.frames_sent;
        send_ok(&a, &b, 7, sizes[i]);
        const uint64_t frames = (sizes[i] + MN_BPCI_FRAME_PAYLOAD_MAX - 1) /
                                MN_BPCI_FRAME_PAYLOAD_MAX;
        ASSERT_U64_EQ(a.s.frames_sent - before, frames);
    }
    mn_err err;
    uint8_t *big = calloc(1, MN_BPCI_MSG_BYTES_MAX + 1);
    ASSERT_EQ(mn_bpci_session_send(&a.s, 7, big, MN_BPCI_MSG_BYTES_MAX + 1, &err), -MN_ELIMIT);
    free(big);
    finish(&a, &b);
}

/* Control frames between the fragments of a message (they are decrypted where the next
 * fragment would go, over the message's last bytes, which must come back intact), and a
 * runtime that completes straddling records through recv_space/recv_commit. */
static void pings_inside_a_split_message_and_direct_reads(void)
{
    peer a, b;
    make_identity(&a, 1);
    make_identity(&b, 2);
    handshake(&a, &b, MN_NOISE_XX, 0);
    mn_err err;
    const size_t len = 3 * MN_BPCI_FRAME_PAYLOAD_MAX + 5;
    uint8_t *msg = malloc(len);
    randombytes_buf(msg, len);
    /* Fragments written by hand (the session never interleaves), a ping record after each. */
    mn_buf wire;
    mn_buf_init(&wire, 0);
    for (size_t off = 0; off < len; off += MN_BPCI_FRAME_PAYLOAD_MAX) {
        const size_t n = len - off < MN_BPCI_FRAME_PAYLOAD_MAX ? len - off
                                                                : MN_BPCI_FRAME_PAYLOAD_MAX;
        uint8_t *rec = malloc(2 + 4 + n + 16);
        rec[0] = (uint8_t)((4 + n + 16) >> 8);
        rec[1] = (uint8_t)(4 + n + 16);
        mn_bpci_frame_header(rec + 2, off + n < len ? MN_BPCI_FLAG_MORE : 0, 7);
        memcpy(rec + 6, msg + off, n);
        ASSERT_OK(mn_noise_cipher_encrypt(&a.s.tx, NULL, 0, rec + 2, 4 + n, rec + 2, &err),
                  &err);
        ASSERT_OK(mn_buf_append(&wire, rec, 2 + 4 + n + 16, &err), &err);
        free(rec);
        ASSERT_OK(mn_bpci_session_ping(&a.s, (const uint8_t *)"12345678", &err), &err);
        ASSERT_OK(mn_buf_append(&wire, a.s.out.data, a.s.out.len, &err), &err);
        a.s.out.len = 0;
    }
    /* Feed it as a runtime would: a few bytes through recv, then whatever recv_space asks
     * for, in pieces of random size, read directly into the session. */
    size_t off = 0;
    size_t direct = 0;
    while (off < wire.len) {
        size_t cap = 0;
        uint8_t *space = mn_bpci_session_recv_space(&b.s, &cap);
        size_t n = 1 + randombytes_uniform(space ? 70000 : 40);
        if (n > wire.len - off)
            n = wire.len - off;
        if (space) {
            if (n > cap)
                n = cap;
            memcpy(space, wire.data + off, n);
            ASSERT_OK(mn_bpci_session_recv_commit(&b.s, n, &err), &err);
            direct += n;
        } else {
            ASSERT_OK(mn_bpci_session_recv(&b.s, wire.data + off, n, &err), &err);
        }
        off += n;
    }
    ASSERT_TRUE(direct > len / 2);
    ASSERT_EQ(b.msgs, 1);
    ASSERT_EQ(b.last_len, len);
    ASSERT_MEM_EQ(b.last, msg, len);
    ASSERT_OK(deliver(&b, &a, &err), &err);
    ASSERT_EQ(a.pongs, 4);
    ASSERT_TRUE(mn_bpci_session_recv_space(&b.s, &(size_t){0}) == NULL);
    /* The receive buffers stay usable for the next messages. */
    send_ok(&a, &b, 7, 10);
    send_ok(&a, &b, 9, MN_BPCI_FRAME_PAYLOAD_MAX + 1);
    mn_buf_deinit(&wire);
    free(msg);
    finish(&a, &b);
}

static void rekey_is_crossed_in_both_directions(void)
{
    peer a, b;
    make_identity(&a, 1);
    make_identity(&b, 2);
    handshake(&a, &b, MN_NOISE_XX, 3);
    for (int i = 0; i < 20; i++) {
        send_ok(&a, &b, 7, 100);
        send_ok(&b, &a, 7, 100);
    }
    send_ok(&a, &b, 7, 3 * MN_BPCI_FRAME_PAYLOAD_MAX); /* a split message across a rekey */
    ASSERT_U64_EQ(a.s.rekeys, 23 / 3);
    ASSERT_U64_EQ(b.s.rekeys, 20 / 3);
    finish(&a, &b);
    /* Peers that disagree on the interval fail at the first rekey, loudly. */
    make_identity(&a, 1);
    make_identity(&b, 2);
    mn_err err;
    ASSERT_OK(start(&a, true, MN_NOISE_XX, NULL, NULL, 2, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 3, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_OK(deliver(&b, &a, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    uint8_t m[8] = {0};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        ASSERT_OK(mn_bpci_session_send(&a.s, 7, m, sizeof m, &err), &err);
        rc = deliver(&a, &b, &err);
    }
    ASSERT_EQ(rc, -MN_ECRYPTO);
    finish(&a, &b);
}

static void dialing_the_wrong_peer_fails(void)
{
    peer a, b, c;
    make_identity(&a, 1);
    make_identity(&b, 2);
    make_identity(&c, 3);
    mn_err err;
    /* XX: a expects c but reaches b. */
    ASSERT_OK(start(&a, true, MN_NOISE_XX, c.ident.id, NULL, 0, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_EQ(deliver(&b, &a, &err), -MN_EPERM);
    ASSERT_TRUE(strstr(err.msg, "expected") != NULL);
    ASSERT_EQ(a.s.state, MN_BPCI_CLOSED);
    ASSERT_EQ(a.established, 0);
    ASSERT_EQ(a.s.out.len, 0); /* a sent nothing more: no third message with its identity */
    finish(&a, &b);
    /* IK: a uses c's static key but b answers: b cannot even read message 1. */
    make_identity(&a, 1);
    make_identity(&b, 2);
    ASSERT_OK(start(&a, true, MN_NOISE_IK, NULL, c.ident.x_pub, 0, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_IK, NULL, NULL, 0, &err), &err);
    ASSERT_EQ(deliver(&a, &b, &err), -MN_ECRYPTO);
    ASSERT_EQ(b.established, 0);
    finish(&a, &b);
    /* IK: b's static key but an expected id of c: the hello of b is refused. */
    make_identity(&a, 1);
    make_identity(&b, 2);
    ASSERT_OK(start(&a, true, MN_NOISE_IK, c.ident.id, b.ident.x_pub, 0, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_IK, NULL, NULL, 0, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_EQ(deliver(&b, &a, &err), -MN_EPERM);
    finish(&a, &b);
    finish(&c, &c);
}

static void a_wrong_identity_signature_is_refused(void)
{
    for (int who = 0; who < 2; who++) {
        peer a, b;
        make_identity(&a, 1);
        make_identity(&b, 2);
        peer *liar = who ? &a : &b;
        liar->ident.binding_sig[5] ^= 0x04;
        mn_err err;
        ASSERT_OK(start(&a, true, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
        ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
        ASSERT_OK(deliver(&a, &b, &err), &err);
        int rc = deliver(&b, &a, &err);
        if (who == 1) { /* a lies: b refuses a's third message */
            ASSERT_OK(rc, &err);
            rc = deliver(&a, &b, &err);
        }
        ASSERT_EQ(rc, -MN_ECRYPTO);
        ASSERT_TRUE(strstr(err.msg, "identity") != NULL);
        ASSERT_EQ((who ? b : a).established, 0);
        finish(&a, &b);
    }
    /* A valid signature for another static key (a replayed binding) fails just the same. */
    peer a, b, c;
    make_identity(&a, 1);
    make_identity(&b, 2);
    make_identity(&c, 2); /* same Ed25519 key as b, another X25519 key */
    memcpy(b.ident.binding_sig, c.ident.binding_sig, 64);
    mn_err err;
    ASSERT_OK(start(&a, true, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_EQ(deliver(&b, &a, &err), -MN_ECRYPTO);
    finish(&a, &b);
}

/* Returns a session pair with one captured record from a to b (not yet delivered). */
static size_t capture(peer *a, peer *b, uint8_t *rec, size_t cap)
{
    make_identity(a, 1);
    make_identity(b, 2);
    handshake(a, b, MN_NOISE_XX, 0);
    send_ok(a, b, 7, 50);
    mn_err err;
    ASSERT_OK(mn_bpci_session_send(&a->s, 7, (const uint8_t *)"hello", 5, &err), &err);
    const size_t n = a->s.out.len;
    ASSERT_TRUE(n <= cap);
    memcpy(rec, a->s.out.data, n);
    a->s.out.len = 0;
    return n;
}

static void replayed_flipped_truncated_records_close_the_session(void)
{
    uint8_t rec[128], copy[128];
    mn_err err;
    peer a, b;
    /* Replay: delivered once fine, a second time refused. */
    size_t n = capture(&a, &b, rec, sizeof rec);
    ASSERT_OK(mn_bpci_session_recv(&b.s, rec, n, &err), &err);
    ASSERT_EQ(mn_bpci_session_recv(&b.s, rec, n, &err), -MN_ECRYPTO);
    ASSERT_EQ(b.s.state, MN_BPCI_CLOSED);
    ASSERT_EQ(mn_bpci_session_recv(&b.s, rec, n, &err), -MN_ESTATE);
    finish(&a, &b);
    /* A bit flip anywhere in the record: length, header or ciphertext. */
    for (size_t bit = 0; bit < n * 8; bit += 7) {
        n = capture(&a, &b, rec, sizeof rec);
        memcpy(copy, rec, n);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        /* The rest of the stream (a good record after it) must not rescue the session. */
        ASSERT_OK(mn_bpci_session_send(&a.s, 7, (const uint8_t *)"after", 5, &err), &err);
        int rc = mn_bpci_session_recv(&b.s, copy, n, &err);
        if (rc == 0) /* a longer length waits for more bytes, which then fail */
            rc = deliver(&a, &b, &err);
        if (rc == 0) { /* a length beyond every byte sent: still waiting (the runtime's idle
                        * timeout ends it), and nothing was delivered */
            ASSERT_TRUE(bit < 16);
            ASSERT_TRUE(b.s.in_len > 0);
        } else {
            ASSERT_TRUE(rc == -MN_ECRYPTO || rc == -MN_ECORRUPT);
            ASSERT_EQ(b.s.state, MN_BPCI_CLOSED);
        }
        ASSERT_EQ(b.msgs, 1);
        finish(&a, &b);
    }
    /* Truncation: the record loses a byte (here the 11th; dropping the last one would let a
     * tag ending in 0x00 survive once in 256 runs, as the next record's first byte is 0x00)
     * and the next record's bytes follow. */
    n = capture(&a, &b, rec, sizeof rec);
    ASSERT_OK(mn_bpci_session_send(&a.s, 7, (const uint8_t *)"after", 5, &err), &err);
    memmove(rec + 10, rec + 11, n - 11);
    ASSERT_OK(mn_bpci_session_recv(&b.s, rec, n - 1, &err), &err);
    ASSERT_EQ(deliver(&a, &b, &err), -MN_ECRYPTO);
    ASSERT_EQ(b.msgs, 1);
    finish(&a, &b);
    /* Reordering: the second record first. */
    n = capture(&a, &b, rec, sizeof rec);
    ASSERT_OK(mn_bpci_session_send(&a.s, 7, (const uint8_t *)"after", 5, &err), &err);
    ASSERT_EQ(deliver(&a, &b, &err), -MN_ECRYPTO);
    finish(&a, &b);
    /* Undersize length: shorter than a header and a tag. */
    n = capture(&a, &b, rec, sizeof rec);
    const uint8_t tiny[] = {0x00, 0x13};
    ASSERT_EQ(mn_bpci_session_recv(&b.s, tiny, sizeof tiny, &err), -MN_ECORRUPT);
    finish(&a, &b);
}

static void garbage_before_and_during_the_handshake_is_refused(void)
{
    mn_err err;
    peer a, b;
    make_identity(&a, 1);
    make_identity(&b, 2);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_EQ(mn_bpci_session_recv(&b.s, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, &err),
              -MN_ECORRUPT);
    finish(&a, &b);
    /* A good preamble, then a record too short for an ephemeral key. */
    make_identity(&b, 2);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    const uint8_t short_rec[] = {'M', 'N', 'B', 1, 0, 5, 1, 2, 3, 4, 5};
    ASSERT_EQ(mn_bpci_session_recv(&b.s, short_rec, sizeof short_rec, &err), -MN_ECORRUPT);
    finish(&a, &b);
    /* Random bytes as message 3 of XX. */
    make_identity(&a, 1);
    make_identity(&b, 2);
    ASSERT_OK(start(&a, true, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    b.s.out.len = 0;
    uint8_t junk[2 + 64 + 130];
    randombytes_buf(junk, sizeof junk);
    junk[0] = 0, junk[1] = sizeof junk - 2;
    ASSERT_EQ(mn_bpci_session_recv(&b.s, junk, sizeof junk, &err), -MN_ECRYPTO);
    ASSERT_EQ(b.established, 0);
    finish(&a, &b);
    /* The preamble selects the pattern and is in the prologue: changing XX to IK on the way
     * makes the responder wait for an IK message it cannot decrypt. */
    make_identity(&a, 1);
    make_identity(&b, 2);
    ASSERT_OK(start(&a, true, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    a.s.out.data[3] = 2;
    ASSERT_NE(deliver(&a, &b, &err), 0);
    finish(&a, &b);
    /* A payload in the (unencrypted) first message of XX is refused. */
    make_identity(&b, 2);
    ASSERT_OK(start(&b, false, MN_NOISE_XX, NULL, NULL, 0, &err), &err);
    uint8_t m1[4 + 2 + 33] = {'M', 'N', 'B', 1, 0, 33};
    randombytes_buf(m1 + 6, 33);
    ASSERT_EQ(mn_bpci_session_recv(&b.s, m1, sizeof m1, &err), -MN_ECORRUPT);
    finish(&a, &b);
}

static void services_are_checked_against_the_registry(void)
{
    peer a, b;
    make_identity(&a, 1);
    make_identity(&b, 2);
    handshake(&a, &b, MN_NOISE_XX, 0);
    mn_err err;
    /* 8 is restricted to nobody: refused, the session closes, nothing is delivered. */
    ASSERT_OK(mn_bpci_session_send(&a.s, 8, (const uint8_t *)"vote", 4, &err), &err);
    ASSERT_EQ(deliver(&a, &b, &err), -MN_EPERM);
    ASSERT_EQ(b.msgs, 0);
    finish(&a, &b);
    /* 1234 is not registered at all. */
    make_identity(&a, 1);
    make_identity(&b, 2);
    handshake(&a, &b, MN_NOISE_XX, 0);
    ASSERT_OK(mn_bpci_session_send(&a.s, 1234, (const uint8_t *)"x", 1, &err), &err);
    ASSERT_EQ(deliver(&a, &b, &err), -MN_EPERM);
    finish(&a, &b);
    /* Registry rules. */
    mn_bpci_registry reg;
    mn_bpci_registry_init(&reg);
    uint8_t id1[32] = {1}, id2[32] = {2};
    ASSERT_EQ(mn_bpci_registry_add(&reg, 0, true, &err), -MN_EINVAL);
    ASSERT_OK(mn_bpci_registry_add(&reg, 5, false, &err), &err);
    ASSERT_EQ(mn_bpci_registry_add(&reg, 5, true, &err), -MN_EEXIST);
    ASSERT_EQ(mn_bpci_registry_allow(&reg, 6, id1, &err), -MN_ENOTFOUND);
    ASSERT_OK(mn_bpci_registry_allow(&reg, 5, id1, &err), &err);
    ASSERT_OK(mn_bpci_registry_check(&reg, 5, id1, &err), &err);
    ASSERT_EQ(mn_bpci_registry_check(&reg, 5, id2, &err), -MN_EPERM);
    ASSERT_EQ(mn_bpci_registry_check(&reg, 6, id1, &err), -MN_EPERM);
    ASSERT_OK(mn_bpci_registry_check(&reg, 0, id2, &err), &err);
    ASSERT_EQ(mn_bpci_registry_check(NULL, 5, id1, &err), -MN_EPERM);
    for (uint16_t s = 100; reg.services_count < MN_BPCI_SERVICES_MAX; s++)
        ASSERT_OK(mn_bpci_registry_add(&reg, s, true, &err), &err);
    ASSERT_EQ(mn_bpci_registry_add(&reg, 99, true, &err), -MN_ELIMIT);
    while (reg.keys_count < MN_BPCI_SERVICE_KEYS_MAX)
        ASSERT_OK(mn_bpci_registry_allow(&reg, 5, id2, &err), &err);
    ASSERT_EQ(mn_bpci_registry_allow(&reg, 5, id2, &err), -MN_ELIMIT);
}

static void ping_pong_and_close(void)
{
    peer a, b;
    make_identity(&a, 1);
    make_identity(&b, 2);
    handshake(&a, &b, MN_NOISE_IK, 0);
    mn_err err;
    ASSERT_OK(mn_bpci_session_ping(&a.s, (const uint8_t *)"12345678", &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_OK(deliver(&b, &a, &err), &err);
    ASSERT_EQ(a.pongs, 1);
    ASSERT_EQ(mn_bpci_session_send(&a.s, 0, (const uint8_t *)"x", 1, &err), -MN_EINVAL);
    mn_bpci_session_close(&a.s, 42);
    ASSERT_EQ(a.s.state, MN_BPCI_CLOSED);
    ASSERT_EQ(mn_bpci_session_send(&a.s, 7, (const uint8_t *)"x", 1, &err), -MN_ESTATE);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_EQ(b.closed, 1);
    ASSERT_EQ(b.s.state, MN_BPCI_CLOSED);
    finish(&a, &b);
}

static void frame_and_hello_decoders_are_strict(void)
{
    mn_bpci_frame f;
    mn_err err;
    const uint8_t ok[] = {1, 0, 0, 7, 'x'};
    ASSERT_OK(mn_bpci_frame_decode(ok, sizeof ok, &f, &err), &err);
    ASSERT_EQ(f.service, 7);
    ASSERT_EQ(f.payload_len, 1);
    const uint8_t bad[][5] = {{2, 0, 0, 7, 0}, {1, 2, 0, 7, 0}, {1, 0x80, 0, 7, 0},
                              {1, 1, 0, 0, 0}};
    for (size_t i = 0; i < MN_ARRAY_LEN(bad); i++)
        ASSERT_EQ(mn_bpci_frame_decode(bad[i], 5, &f, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_bpci_frame_decode(ok, 3, &f, &err), -MN_ECORRUPT);
    /* Reassembly refuses interleaved services. */
    mn_bpci_reasm r;
    mn_bpci_reasm_init(&r);
    bool done;
    const uint8_t *d;
    size_t n;
    mn_bpci_frame f1 = {MN_BPCI_FLAG_MORE, 7, ok, 5}, f2 = {0, 8, ok, 5};
    ASSERT_OK(mn_bpci_reasm_push(&r, &f1, &done, &d, &n, &err), &err);
    ASSERT_FALSE(done);
    ASSERT_EQ(mn_bpci_reasm_push(&r, &f2, &done, &d, &n, &err), -MN_ECORRUPT);
    mn_bpci_reasm_deinit(&r);
    /* Hello: round trip, then every re-encoding with a changed field is refused. */
    peer p;
    make_identity(&p, 4);
    mn_buf buf;
    mn_buf_init(&buf, 0);
    ASSERT_OK(mn_bpci_hello_encode(&p.ident, &buf, &err), &err);
    ASSERT_EQ(buf.len, 1 + 2 + 1 + 2 + 32 + 1 + 2 + 64);
    mn_bpci_hello h;
    ASSERT_OK(mn_bpci_hello_decode(buf.data, buf.len, &h, &err), &err);
    ASSERT_MEM_EQ(h.ed_pk, p.ident.ed.pk, 32);
    ASSERT_OK(mn_bpci_hello_verify(&h, p.ident.x_pub, &err), &err);
    ASSERT_EQ(mn_bpci_hello_verify(&h, p.ident.ed.pk, &err), -MN_ECRYPTO);
    ASSERT_EQ(mn_bpci_hello_decode(buf.data, buf.len - 1, &h, &err), -MN_ECORRUPT);
    buf.data[2] = 2; /* version 2 */
    ASSERT_EQ(mn_bpci_hello_decode(buf.data, buf.len, &h, &err), -MN_EUNSUPPORTED);
    buf.data[2] = 1;
    buf.data[1] = 2; /* key 2 first */
    ASSERT_EQ(mn_bpci_hello_decode(buf.data, buf.len, &h, &err), -MN_ECORRUPT);
    buf.data[1] = 1;
    ASSERT_OK(mn_buf_append_byte(&buf, 0, &err), &err); /* trailing byte */
    ASSERT_EQ(mn_bpci_hello_decode(buf.data, buf.len, &h, &err), -MN_ECORRUPT);
    mn_buf_deinit(&buf);
}

/* The static key derived from the seed: a pinned value (the private half checked against
 * Python's hmac/hashlib), deterministic, distinct per seed, and what a key file loads to. */
static void static_key_is_derived_from_the_seed(void)
{
    uint8_t seed[32], x[32], pub[32], want[32];
    mn_err err;
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    mn_bpci_noise_static_derive(x, seed);
    ASSERT_OK(mn_hex_decode(want, 32,
                            "74f316638f151844c68855c643a6f9b609a57c63364d1f797f180e9e2c873754",
                            &err), &err);
    ASSERT_MEM_EQ(x, want, 32);
    mn_bpci_noise_static_public(pub, seed);
    ASSERT_OK(mn_hex_decode(want, 32,
                            "133092312901ff1e81194605f212477dc3cab85386c63efe8ceefe9f9322e13f",
                            &err), &err);
    ASSERT_MEM_EQ(pub, want, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    mn_bpci_identity a, b;
    mn_bpci_identity_from_keypair(&a, &kp);
    mn_bpci_identity_from_keypair(&b, &kp);
    ASSERT_MEM_EQ(a.x_pub, pub, 32);
    ASSERT_MEM_EQ(a.x_priv, b.x_priv, 32);
    ASSERT_MEM_EQ(a.binding_sig, b.binding_sig, 64);
    seed[31] ^= 1;
    mn_bpci_noise_static_public(want, seed);
    ASSERT_TRUE(memcmp(want, pub, 32) != 0);
    /* From a key file: the same identity; a VRF key file is refused. */
    char dir[] = "/tmp/mn_test_bpci_XXXXXX", path[64], vrf_path[64];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/node.key", dir);
    snprintf(vrf_path, sizeof vrf_path, "%s/vrf.key", dir);
    mn_keyfile kf;
    mn_keyfile_generate(&kf, MN_KEY_ED25519);
    ASSERT_OK(mn_keyfile_write(path, &kf, &err), &err);
    mn_keypair_from_seed(&kp, kf.seed);
    mn_bpci_identity_from_keypair(&a, &kp);
    ASSERT_OK(mn_bpci_identity_load(&b, path, &err), &err);
    ASSERT_MEM_EQ(b.x_pub, a.x_pub, 32);
    ASSERT_MEM_EQ(b.id, a.id, 32);
    mn_keyfile_generate(&kf, MN_KEY_VRF);
    ASSERT_OK(mn_keyfile_write(vrf_path, &kf, &err), &err);
    ASSERT_EQ(mn_bpci_identity_load(&b, vrf_path, &err), -MN_EINVAL);
    ASSERT_EQ(mn_bpci_identity_load(&b, "/nonexistent/key", &err) < 0, 1);
    /* Two sessions of loaded identities: IK with the published key works. */
    peer p, q;
    memset(&p, 0, sizeof p);
    memset(&q, 0, sizeof q);
    ASSERT_OK(mn_bpci_identity_load(&p.ident, path, &err), &err);
    make_identity(&q, 9);
    mn_bpci_noise_static_public(pub, kf.seed); /* a VRF seed: not p's key */
    ASSERT_TRUE(memcmp(pub, p.ident.x_pub, 32) != 0);
    handshake(&q, &p, MN_NOISE_IK, 0);
    finish(&q, &p);
    unlink(path);
    unlink(vrf_path);
    rmdir(dir);
    mn_keyfile_wipe(&kf);
    mn_keypair_wipe(&kp);
    mn_bpci_identity_wipe(&a);
    mn_bpci_identity_wipe(&b);
}

/* A replayed IK first message: refused before any DH by a listener that saw it (replay
 * cache), and never a session at one that did not (it waits for the dialer's CONFIRM). */
static void replayed_ik_first_message_is_refused(void)
{
    static mn_bpci_replay_cache cache;
    mn_err err;
    ASSERT_OK(mn_bpci_replay_init(&cache, &err), &err);
    peer a, b, c;
    make_identity(&a, 1);
    make_identity(&b, 2);
    ASSERT_OK(start(&a, true, MN_NOISE_IK, b.ident.id, b.ident.x_pub, 0, &err), &err);
    const size_t n = a.s.out.len;
    uint8_t *first = malloc(n);
    memcpy(first, a.s.out.data, n);
    const mn_bpci_config cfg = {.self = &b.ident, .registry = &open_reg, .replay = &cache};
    const mn_bpci_callbacks cb = {.ctx = &b, .on_established = on_established,
                                  .on_message = on_message};
    ASSERT_OK(mn_bpci_session_init(&b.s, &cfg, &cb, &err), &err);
    ASSERT_OK(deliver(&a, &b, &err), &err);
    ASSERT_EQ(b.established, 0); /* answered, but not a session until the dialer is proven */
    ASSERT_EQ(b.s.state, MN_BPCI_ESTABLISHED);
    ASSERT_OK(deliver(&b, &a, &err), &err);
    ASSERT_EQ(a.established, 1);
    ASSERT_OK(deliver(&a, &b, &err), &err); /* CONFIRM */
    ASSERT_EQ(b.established, 1);
    send_ok(&a, &b, 7, 100);
    send_ok(&b, &a, 7, 100);
    /* The same bytes again, to a listener with the same cache: refused at once. */
    c = b;
    memset(&c.s, 0, sizeof c.s);
    c.established = 0;
    c.last = NULL;
    const mn_bpci_callbacks cbc = {.ctx = &c, .on_established = on_established};
    ASSERT_OK(mn_bpci_session_init(&c.s, &cfg, &cbc, &err), &err);
    ASSERT_EQ(mn_bpci_session_recv(&c.s, first, n, &err), -MN_EEXIST);
    ASSERT_EQ(c.s.state, MN_BPCI_CLOSED);
    ASSERT_EQ(c.s.out.len, 0);
    mn_bpci_session_deinit(&c.s);
    /* To a listener without the cache: it answers (the work is spent) but no session comes up,
     * and whatever the replayer sends next fails. */
    const mn_bpci_config nocache = {.self = &b.ident, .registry = &open_reg};
    c.established = 0;
    ASSERT_OK(mn_bpci_session_init(&c.s, &nocache, &cbc, &err), &err);
    ASSERT_OK(mn_bpci_session_recv(&c.s, first, n, &err), &err);
    ASSERT_TRUE(c.s.out.len > 0);
    ASSERT_EQ(c.established, 0);
    uint8_t junk[64] = {0, 40};
    randombytes_buf(junk + 2, sizeof junk - 2);
    ASSERT_EQ(mn_bpci_session_recv(&c.s, junk, 42, &err), -MN_ECRYPTO);
    ASSERT_EQ(c.established, 0);
    mn_bpci_session_deinit(&c.s);
    free(first);
    finish(&a, &b);
    /* The cache: remembers what it was given, forgets the oldest generation first. */
    uint8_t e[32] = {0};
    for (uint32_t i = 0; i < 3 * MN_BPCI_REPLAY_ENTRIES; i++) {
        mn_store_u64_le(e, i);
        mn_bpci_replay_add(&cache, e);
    }
    mn_store_u64_le(e, 0);
    ASSERT_FALSE(mn_bpci_replay_seen(&cache, e));
    for (uint32_t i = 2 * MN_BPCI_REPLAY_ENTRIES; i < 3 * MN_BPCI_REPLAY_ENTRIES; i += 97) {
        mn_store_u64_le(e, i);
        ASSERT_TRUE(mn_bpci_replay_seen(&cache, e));
    }
    mn_store_u64_le(e, 3 * MN_BPCI_REPLAY_ENTRIES);
    ASSERT_FALSE(mn_bpci_replay_seen(&cache, e));
    mn_bpci_replay_deinit(&cache);
}

static void setup(void)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    mn_bpci_registry_init(&open_reg);
    ASSERT_OK(mn_bpci_registry_add(&open_reg, 7, true, &err), &err);
    ASSERT_OK(mn_bpci_registry_add(&open_reg, 8, false, &err), &err);
    ASSERT_OK(mn_bpci_registry_add(&open_reg, 9, true, &err), &err);
}

MN_TEST_MAIN("net.bpci", MN_TEST(setup), MN_TEST(xx_and_ik_sessions_carry_messages_both_ways),
             MN_TEST(large_messages_are_split_and_reassembled),
             MN_TEST(pings_inside_a_split_message_and_direct_reads),
             MN_TEST(rekey_is_crossed_in_both_directions), MN_TEST(dialing_the_wrong_peer_fails),
             MN_TEST(a_wrong_identity_signature_is_refused),
             MN_TEST(replayed_flipped_truncated_records_close_the_session),
             MN_TEST(garbage_before_and_during_the_handshake_is_refused),
             MN_TEST(services_are_checked_against_the_registry), MN_TEST(ping_pong_and_close),
             MN_TEST(frame_and_hello_decoders_are_strict),
             MN_TEST(static_key_is_derived_from_the_seed),
             MN_TEST(replayed_ik_first_message_is_refused))
