/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_bpci_noise.c: arbitrary bytes as any message of any supported Noise handshake. The first
 * byte picks the protocol (NN, XX, IK, XK with BLAKE2b or SHA256) and the message index; the
 * messages before it are exchanged validly between an initiator and a responder with fixed
 * keys, then the side whose turn it is reads the rest of the input as the next message. Seeds
 * are the valid messages (so mutations reach every token parser, the DH checks and the payload
 * decryption). Properties: a failed read poisons the state (further reads are refused); a
 * successful read leaves a state that can continue or split.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned MESSAGES[4] = {2, 3, 2, 3};

static void init_pair(mn_noise_handshake *i, mn_noise_handshake *r, mn_noise_pattern p,
                      mn_noise_hash h)
{
    static const uint8_t si[32] = {1}, sr[32] = {2}, ei[32] = {3}, er[32] = {4};
    uint8_t sr_pub[32];
    mn_noise_dh_public(sr_pub, sr);
    const bool i_static = p != MN_NOISE_NN, r_static = p != MN_NOISE_NN;
    const bool knows = p == MN_NOISE_IK || p == MN_NOISE_XK;
    mn_err err;
    if (mn_noise_handshake_init(i, p, h, true, (const uint8_t *)"fz", 2, i_static ? si : NULL,
                                knows ? sr_pub : NULL, &err) != 0 ||
        mn_noise_handshake_init(r, p, h, false, (const uint8_t *)"fz", 2, r_static ? sr : NULL,
                                NULL, &err) != 0)
        abort();
    mn_noise_handshake_set_ephemeral(i, ei);
    mn_noise_handshake_set_ephemeral(r, er);
}

/* Exchanges messages 0 .. index-1 validly. */
static void advance(mn_noise_handshake *i, mn_noise_handshake *r, unsigned index)
{
    static uint8_t msg[MN_NOISE_MSG_BYTES_MAX], pl[MN_NOISE_MSG_BYTES_MAX];
    mn_err err;
    for (unsigned m = 0; m < index; m++) {
        mn_noise_handshake *w = m % 2 ? r : i, *rd = m % 2 ? i : r;
        size_t n, pn;
        if (mn_noise_handshake_write(w, (const uint8_t *)"p", 1, msg, sizeof msg, &n, &err) ||
            mn_noise_handshake_read(rd, msg, n, pl, sizeof pl, &pn, &err))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const mn_noise_pattern p = (mn_noise_pattern)(data[0] & 3);
    const mn_noise_hash h = (mn_noise_hash)(data[0] >> 2 & 1);
    const unsigned index = (data[0] >> 3) % MESSAGES[p];
    static mn_noise_handshake i, r;
    static uint8_t pl[MN_NOISE_MSG_BYTES_MAX];
    init_pair(&i, &r, p, h);
    advance(&i, &r, index);
    mn_noise_handshake *reader = index % 2 ? &i : &r;
    size_t pn;
    mn_err err;
    if (mn_noise_handshake_read(reader, data + 1, size - 1, pl, sizeof pl, &pn, &err) != 0) {
        if (!reader->failed ||
            mn_noise_handshake_read(reader, data + 1, size - 1, pl, sizeof pl, &pn, &err) !=
                -MN_ESTATE)
            abort();
        return 0;
    }
    if (pn > size - 1)
        abort();
    if (mn_noise_handshake_done(reader)) {
        mn_noise_cipher tx, rx;
        mn_noise_handshake_split(reader, &tx, &rx);
    } else if (!mn_noise_handshake_my_turn(reader)) {
        abort();
    }
    return 0;
}
