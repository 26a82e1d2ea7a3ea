/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_seen.c: the gossip seen-cache, a fixed-capacity set of message ids with a time-to-live.
 * Entries sit in a ring in insertion order; since every entry lives exactly MN_RELAY_SEEN_TTL_MS
 * and time only moves forward, the ring's head is always the next to expire, and when the ring
 * is full the head is also the one evicted. Buckets are singly linked chains through the ring
 * indices, keyed by SipHash-2-4 (libsodium's crypto_shorthash) of the id under a node-local
 * secret. It does not decide what to add: admission does, after its rate and validity checks.
 */
#include <string.h>

#include <sodium/crypto_shorthash.h>

#include "metanode/relay.h"

#define NONE UINT32_MAX

MN_STATIC_ASSERT(MN_RELAY_SEEN_KEY_BYTES == crypto_shorthash_KEYBYTES);

static uint32_t bucket_of(const mn_relay_seen *s, const uint8_t id[MN_RELAY_ID_BYTES])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, MN_RELAY_ID_BYTES, s->key);
    uint32_t v = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                 (uint32_t)h[3] << 24;
    return v & (s->capacity - 1);
}

void mn_relay_seen_init(mn_relay_seen *s, uint32_t capacity,
                        const uint8_t key[static MN_RELAY_SEEN_KEY_BYTES], uint64_t now_ms)
{
    MN_ASSERT(capacity >= 1 && capacity <= MN_RELAY_SEEN_MAX);
    MN_ASSERT((capacity & (capacity - 1)) == 0);
    s->capacity = capacity;
    s->head = 0;
    s->count = 0;
    s->now_ms = now_ms;
    s->evictions = 0;
    memcpy(s->key, key, MN_RELAY_SEEN_KEY_BYTES);
    for (uint32_t i = 0; i < capacity; i++)
        s->buckets[i] = NONE;
}

/* Removes the oldest entry from its chain and from the ring. */
static void pop_oldest(mn_relay_seen *s)
{
    MN_ASSERT(s->count > 0);
    uint32_t idx = s->head;
    uint32_t *link = &s->buckets[bucket_of(s, s->entries[idx].id)];
    while (*link != idx) {
        MN_ASSERT(*link != NONE); /* the entry must be on its own chain */
        link = &s->entries[*link].next;
    }
    *link = s->entries[idx].next;
    s->head = (s->head + 1) & (s->capacity - 1);
    s->count--;
}

static void advance(mn_relay_seen *s, uint64_t now_ms)
{
    MN_ASSERT(now_ms >= s->now_ms);
    s->now_ms = now_ms;
    while (s->count > 0 && s->entries[s->head].expires_ms <= now_ms)
        pop_oldest(s);
}

bool mn_relay_seen_has(mn_relay_seen *s, const uint8_t id[static MN_RELAY_ID_BYTES],
                       uint64_t now_ms)
{
    advance(s, now_ms);
    uint32_t steps = 0;
    for (uint32_t i = s->buckets[bucket_of(s, id)]; i != NONE; i = s->entries[i].next) {
        MN_ASSERT(++steps <= s->count); /* a chain never loops */
        if (memcmp(s->entries[i].id, id, MN_RELAY_ID_BYTES) == 0)
            return true;
    }
    return false;
}

bool mn_relay_seen_add(mn_relay_seen *s, const uint8_t id[static MN_RELAY_ID_BYTES],
                       uint64_t now_ms)
{
    MN_DASSERT(!mn_relay_seen_has(s, id, now_ms));
    MN_ASSERT(now_ms <= UINT64_MAX - MN_RELAY_SEEN_TTL_MS);
    advance(s, now_ms);
    bool evicted = false;
    if (s->count == s->capacity) {
        pop_oldest(s);
        s->evictions++;
        evicted = true;
    }
    uint32_t idx = (s->head + s->count) & (s->capacity - 1);
    uint32_t b = bucket_of(s, id);
    memcpy(s->entries[idx].id, id, MN_RELAY_ID_BYTES);
    s->entries[idx].expires_ms = now_ms + MN_RELAY_SEEN_TTL_MS;
    s->entries[idx].next = s->buckets[b];
    s->buckets[b] = idx;
    s->count++;
    MN_ASSERT(s->count <= s->capacity);
    return evicted;
}
