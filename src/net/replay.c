/* SPDX-License-Identifier: Apache-2.0
 *
 * replay.c: the listener's memory of recent IK first messages. An IK first message is
 * self-contained (e, es, s, ss and the dialer's hello), so a copy captured on the wire makes a
 * listener redo a full handshake's work (four DH and a signature check) each time it is sent
 * again. The initiator's ephemeral key (the message's first 32 bytes, in clear) is fresh for
 * every honest handshake, so a listener that remembers the ephemerals of recent authenticated
 * first messages refuses a replay before any DH. Entries are 8-byte SipHash values under a
 * node-local random key (a collision refuses one honest handshake with odds of about 2^-49),
 * kept in two generations of open-addressing tables: the newer fills up to
 * MN_BPCI_REPLAY_ENTRIES, then replaces the older, so the last 16,384 to 32,768 IK handshakes
 * are remembered in a fixed 512 KiB.
 *
 * Not here: XX needs no cache (the listener's own fresh ephemeral makes every XX handshake
 * new), and a replay older than the cache still creates no session: the listener waits for
 * the dialer's first transport record (CONFIRM), which only the holder of the ephemeral
 * private key can produce (session.c).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "metanode/bpci.h"

#define SLOTS (2u * MN_BPCI_REPLAY_ENTRIES) /* load factor at most one half */

int mn_bpci_replay_init(mn_bpci_replay_cache *rc, mn_err *err)
{
    memset(rc, 0, sizeof *rc);
    rc->gen[0] = calloc(SLOTS, sizeof(uint64_t));
    rc->gen[1] = calloc(SLOTS, sizeof(uint64_t));
    if (!rc->gen[0] || !rc->gen[1]) {
        mn_bpci_replay_deinit(rc);
        return mn_err_set(err, MN_ENOMEM, 0, "bpci: out of memory for the replay cache");
    }
    crypto_shorthash_keygen(rc->key);
    return 0;
}

void mn_bpci_replay_deinit(mn_bpci_replay_cache *rc)
{
    free(rc->gen[0]);
    free(rc->gen[1]);
    memset(rc, 0, sizeof *rc);
}

static uint64_t fingerprint(const mn_bpci_replay_cache *rc, const uint8_t e[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, e, 32, rc->key);
    uint64_t v = mn_load_u64_le(h);
    return v != 0 ? v : 1; /* 0 marks an empty slot */
}

static bool in_table(const uint64_t *t, uint64_t v)
{
    for (uint32_t i = (uint32_t)v & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
        if (t[i] == v)
            return true;
        if (t[i] == 0)
            return false;
    }
}

bool mn_bpci_replay_seen(const mn_bpci_replay_cache *rc, const uint8_t e[static 32])
{
    const uint64_t v = fingerprint(rc, e);
    return in_table(rc->gen[0], v) || in_table(rc->gen[1], v);
}

void mn_bpci_replay_add(mn_bpci_replay_cache *rc, const uint8_t e[static 32])
{
    const uint64_t v = fingerprint(rc, e);
    if (in_table(rc->gen[0], v))
        return;
    if (rc->count == MN_BPCI_REPLAY_ENTRIES) { /* the older generation is forgotten */
        uint64_t *old = rc->gen[1];
        rc->gen[1] = rc->gen[0];
        memset(old, 0, SLOTS * sizeof(uint64_t));
        rc->gen[0] = old;
        rc->count = 0;
    }
    uint32_t i = (uint32_t)v & (SLOTS - 1);
    while (rc->gen[0][i] != 0)
        i = (i + 1) & (SLOTS - 1);
    rc->gen[0][i] = v;
    rc->count++;
}
