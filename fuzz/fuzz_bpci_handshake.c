/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_bpci_handshake.c: arbitrary bytes against every handshake parser of BPCI. The first
 * byte picks the target: 0 the hello (identity payload) decoder and its verification; 1 a
 * responder session from its first byte (preamble, record lengths, Noise message 1 of XX or
 * IK); 2 and 3 an XX or IK initiator, with a fixed ephemeral key, reading the responder's
 * message. A decoded hello must re-encode to its input (one encoding per value); a session
 * that failed must be closed and refuse further input.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/bpci.h"
#include "metanode/cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mn_bpci_identity ida, idb;

static void hello_target(const uint8_t *data, size_t size)
{
    mn_bpci_hello h;
    mn_err err;
    if (mn_bpci_hello_decode(data, size, &h, &err) != 0)
        return;
    (void)mn_bpci_hello_verify(&h, ida.x_pub, &err);
    mn_bpci_identity fake = ida;
    memcpy(fake.ed.pk, h.ed_pk, 32);
    memcpy(fake.binding_sig, h.sig, 64);
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (mn_bpci_hello_encode(&fake, &buf, &err) != 0 || buf.len != size ||
        memcmp(buf.data, data, size) != 0)
        abort();
    mn_buf_deinit(&buf);
}

static void session_target(uint8_t mode, const uint8_t *data, size_t size)
{
    static const uint8_t e[32] = {3};
    mn_bpci_config cfg = {.self = &idb, .test_ephemeral = e};
    if (mode >= 2) {
        cfg.self = &ida;
        cfg.initiator = true;
        cfg.pattern = mode == 2 ? MN_NOISE_XX : MN_NOISE_IK;
        cfg.remote_static = mode == 2 ? NULL : idb.x_pub;
    }
    mn_bpci_session s;
    mn_err err;
    if (mn_bpci_session_init(&s, &cfg, NULL, &err) != 0)
        abort();
    /* Feed in two pieces so buffering across calls is exercised too. */
    const size_t half = size / 2;
    int rc = mn_bpci_session_recv(&s, data, half, &err);
    if (rc == 0 && s.state != MN_BPCI_CLOSED)
        rc = mn_bpci_session_recv(&s, data + half, size - half, &err);
    if (rc != 0 && (s.state != MN_BPCI_CLOSED || mn_bpci_session_recv(&s, data, size, &err) !=
                                                     -MN_ESTATE))
        abort();
    mn_bpci_session_deinit(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    if (!init) {
        uint8_t seed[32] = {9};
        mn_keypair kp;
        mn_keypair_from_seed(&kp, seed);
        mn_bpci_identity_init(&ida, &kp, seed);
        seed[0] = 10;
        mn_keypair_from_seed(&kp, seed);
        mn_bpci_identity_init(&idb, &kp, seed);
        init = true;
    }
    if (size == 0)
        return 0;
    if (data[0] % 4 == 0)
        hello_target(data + 1, size - 1);
    else
        session_target(data[0] % 4, data + 1, size - 1);
    return 0;
}
