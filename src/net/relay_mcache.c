/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_mcache.c: the message history behind IHAVE/IWANT (gossipsub's mcache). Entries sit in
 * a ring in the order they were added, tagged with the heartbeat window they arrived in; the
 * mesh advances the window at each heartbeat and expires entries older than
 * MN_RELAY_MCACHE_WINDOWS from the head. Lookups by id use chains keyed by SipHash under the
 * node's secret, like the seen-cache. It holds handles (refs), never message bytes, and does
 * not decide what to advertise: the mesh does.
 */
#include <string.h>

#include <sodium/crypto_shorthash.h>

#include "metanode/relay.h"

#define NONE UINT32_MAX
#define MASK (MN_RELAY_MCACHE_MAX - 1u)

static uint32_t bucket_of(const mn_relay_mcache *m, const uint8_t id[MN_RELAY_ID_BYTES])
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, id, MN_RELAY_ID_BYTES, m->key);
    return mn_load_u32_le(h) & MASK;
}

void mn_relay_mcache_init(mn_relay_mcache *m, const uint8_t key[static MN_RELAY_SEEN_KEY_BYTES])
{
    m->head = 0;
    m->count = 0;
    m->window = 0;
    memcpy(m->key, key, MN_RELAY_SEEN_KEY_BYTES);
    for (uint32_t i = 0; i < MN_RELAY_MCACHE_MAX; i++)
        m->buckets[i] = NONE;
}

const mn_relay_mcache_entry *mn_relay_mcache_get(const mn_relay_mcache *m,
                                                 const uint8_t id[static MN_RELAY_ID_BYTES])
{
    uint32_t steps = 0;
    for (uint32_t i = m->buckets[bucket_of(m, id)]; i != NONE; i = m->entries[i].next) {
        MN_ASSERT(++steps <= m->count);
        if (memcmp(m->entries[i].id, id, MN_RELAY_ID_BYTES) == 0)
            return &m->entries[i];
    }
    return NULL;
}

static uint64_t pop_oldest(mn_relay_mcache *m)
{
    MN_ASSERT(m->count > 0);
    uint32_t idx = m->head;
    uint32_t *link = &m->buckets[bucket_of(m, m->entries[idx].id)];
    while (*link != idx) {
        MN_ASSERT(*link != NONE);
        link = &m->entries[*link].next;
    }
    *link = m->entries[idx].next;
    m->head = (m->head + 1) & MASK;
    m->count--;
    return m->entries[idx].ref;
}

bool mn_relay_mcache_put(mn_relay_mcache *m, const uint8_t id[static MN_RELAY_ID_BYTES],
                         uint32_t topic, uint64_t ref, uint32_t len, uint64_t now_ms,
                         uint64_t *evicted_ref)
{
    MN_DASSERT(mn_relay_mcache_get(m, id) == NULL);
    bool evicted = false;
    if (m->count == MN_RELAY_MCACHE_MAX) {
        *evicted_ref = pop_oldest(m);
        evicted = true;
    }
    uint32_t idx = (m->head + m->count) & MASK;
    uint32_t b = bucket_of(m, id);
    mn_relay_mcache_entry *e = &m->entries[idx];
    memcpy(e->id, id, MN_RELAY_ID_BYTES);
    e->ref = ref;
    e->added_ms = now_ms;
    e->window = m->window;
    e->topic = topic;
    e->len = len;
    e->next = m->buckets[b];
    m->buckets[b] = idx;
    m->count++;
    return evicted;
}

bool mn_relay_mcache_expire_one(mn_relay_mcache *m, uint64_t *ref)
{
    if (m->count == 0 || m->entries[m->head].window + MN_RELAY_MCACHE_WINDOWS > m->window)
        return false;
    *ref = pop_oldest(m);
    return true;
}
