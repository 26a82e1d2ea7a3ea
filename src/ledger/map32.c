/* SPDX-License-Identifier: Apache-2.0
 *
 * map32.c: an open-addressing hash map from 32-byte keys to pointers (linear probing,
 * backward-shift deletion, doubled at half load). The keys it serves are hashes or public
 * keys, so their first 8 bytes are the slot hash. It owns neither the values nor anything but
 * its slot array; it is local bookkeeping (mempool, caches), never part of consensus, so its
 * iteration order is never exposed.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct mn__map32_slot {
    uint8_t key[32];
    void *val; /* NULL: empty slot */
};

void mn__map32_init(mn__map32 *m)
{
    memset(m, 0, sizeof *m);
}

void mn__map32_deinit(mn__map32 *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

void mn__map32_clear(mn__map32 *m)
{
    if (m->slots != NULL)
        memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->count = 0;
}

static size_t slot_of(const mn__map32 *m, const uint8_t key[32])
{
    uint64_t h;
    memcpy(&h, key, 8);
    h ^= h >> 29;
    h *= 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 7) & (m->cap - 1);
}

void *mn__map32_get(const mn__map32 *m, const uint8_t key[32])
{
    if (m->cap == 0)
        return NULL;
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        const struct mn__map32_slot *s = &m->slots[i];
        if (s->val == NULL)
            return NULL;
        if (memcmp(s->key, key, 32) == 0)
            return s->val;
    }
}

static int grow(mn__map32 *m, mn_err *err)
{
    const size_t cap = m->cap == 0 ? 64 : m->cap * 2;
    struct mn__map32_slot *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "map: out of memory");
    struct mn__map32_slot *old = m->slots;
    const size_t old_cap = m->cap;
    m->slots = slots;
    m->cap = cap;
    for (size_t j = 0; j < old_cap; j++) {
        if (old[j].val == NULL)
            continue;
        size_t i = slot_of(m, old[j].key);
        while (slots[i].val != NULL)
            i = (i + 1) & (cap - 1);
        slots[i] = old[j];
    }
    free(old);
    return 0;
}

int mn__map32_put(mn__map32 *m, const uint8_t key[32], void *val, mn_err *err)
{
    MN_ASSERT(val != NULL);
    if ((m->count + 1) * 2 > m->cap)
        MN_TRY(grow(m, err));
    size_t i = slot_of(m, key);
    for (;; i = (i + 1) & (m->cap - 1)) {
        struct mn__map32_slot *s = &m->slots[i];
        if (s->val == NULL)
            break;
        if (memcmp(s->key, key, 32) == 0) {
            s->val = val;
            return 0;
        }
    }
    memcpy(m->slots[i].key, key, 32);
    m->slots[i].val = val;
    m->count++;
    return 0;
}

void *mn__map32_del(mn__map32 *m, const uint8_t key[32])
{
    if (m->cap == 0)
        return NULL;
    const size_t mask = m->cap - 1;
    size_t i = slot_of(m, key);
    for (;; i = (i + 1) & mask) {
        if (m->slots[i].val == NULL)
            return NULL;
        if (memcmp(m->slots[i].key, key, 32) == 0)
            break;
    }
    void *val = m->slots[i].val;
    /* Backward shift: move later entries of the probe run into the hole when their home slot
     * does not lie cyclically in (hole, their position]. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].val != NULL; j = (j + 1) & mask) {
        const size_t home = slot_of(m, m->slots[j].key);
        const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].val = NULL;
    m->count--;
    return val;
}
