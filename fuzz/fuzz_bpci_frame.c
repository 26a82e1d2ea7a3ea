/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_bpci_frame.c: arbitrary plaintext frames through an established BPCI session. A session
 * pair is set up once with fixed keys; each input is cut into chunks (a length byte, then that
 * many bytes) and every chunk is encrypted with the sender's transport key as one record, so
 * the receiver authenticates it and the frame decoder, control handling, registry check and
 * reassembly see arbitrary content. Also calls the frame decoder directly on the whole input.
 * Aborts on a violated property: a decoded frame must describe its own bytes, and a session
 * that failed must be closed.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/bpci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mn_bpci_identity ida, idb;
static mn_bpci_registry reg;

static void nop_msg(void *ctx, uint16_t service, const uint8_t *d, size_t len)
{
    (void)ctx, (void)service;
    if (len && (d[0] == 0xff && d[len - 1] == 0x00)) /* touch the bytes for ASan */
        return;
}

static void pair(mn_bpci_session *a, mn_bpci_session *b)
{
    static const uint8_t ea[32] = {1}, eb[32] = {2};
    mn_bpci_config ca = {.self = &ida, .registry = &reg, .initiator = true,
                         .pattern = MN_NOISE_XX, .rekey_after = 3, .test_ephemeral = ea};
    mn_bpci_config cb = {.self = &idb, .registry = &reg, .rekey_after = 3, .test_ephemeral = eb};
    mn_bpci_callbacks cbs = {.on_message = nop_msg};
    mn_err err;
    if (mn_bpci_session_init(a, &ca, &cbs, &err) || mn_bpci_session_init(b, &cb, &cbs, &err))
        abort();
    for (int i = 0; i < 3; i++) {
        if (mn_bpci_session_recv(b, a->out.data, a->out.len, &err) != 0 && a->out.len)
            abort();
        a->out.len = 0;
        if (b->out.len && mn_bpci_session_recv(a, b->out.data, b->out.len, &err) != 0)
            abort();
        b->out.len = 0;
    }
    if (a->state != MN_BPCI_ESTABLISHED || b->state != MN_BPCI_ESTABLISHED)
        abort();
}

static void check_decoder(const uint8_t *data, size_t size)
{
    mn_bpci_frame f;
    mn_err err;
    if (mn_bpci_frame_decode(data, size, &f, &err) != 0)
        return;
    uint8_t h[4];
    mn_bpci_frame_header(h, f.flags, f.service);
    if (memcmp(h, data, 4) != 0 || f.payload != data + 4 || f.payload_len != size - 4)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool init;
    static mn_bpci_session a, b;
    mn_err err;
    if (!init) {
        uint8_t seed[32] = {9};
        mn_keypair kp;
        mn_keypair_from_seed(&kp, seed);
        mn_bpci_identity_init(&ida, &kp, seed);
        seed[0] = 10;
        mn_keypair_from_seed(&kp, seed);
        mn_bpci_identity_init(&idb, &kp, seed);
        mn_bpci_registry_init(&reg);
        if (mn_bpci_registry_add(&reg, 7, true, &err) || mn_bpci_registry_add(&reg, 8, false, &err))
            abort();
        init = true;
    }
    check_decoder(data, size);
    pair(&a, &b);
    static uint8_t rec[2 + 256 + 16];
    size_t off = 0;
    while (off < size && b.state == MN_BPCI_ESTABLISHED) {
        size_t n = data[off++];
        if (n > size - off)
            n = size - off;
        rec[0] = (uint8_t)((n + 16) >> 8), rec[1] = (uint8_t)(n + 16);
        memcpy(rec + 2, data + off, n);
        off += n;
        if (mn_noise_cipher_encrypt(&a.tx, NULL, 0, rec + 2, n, rec + 2, &err) != 0)
            abort();
        if (a.tx.n % 3 == 0)
            mn_noise_cipher_rekey(&a.tx);
        if (mn_bpci_session_recv(&b, rec, n + 18, &err) != 0 && b.state != MN_BPCI_CLOSED)
            abort();
    }
    mn_bpci_session_deinit(&a);
    mn_bpci_session_deinit(&b);
    return 0;
}
