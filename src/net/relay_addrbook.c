/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_addrbook.c: the address book's tables (new and tried), after Bitcoin's addrman.
 * Positions come from SipHash-2-4 under the node's secret:
 *   new bucket   = H(source group, H(group, source group) mod NEW_PER_SOURCE) mod NEW_BUCKETS
 *   tried bucket = H(group, H(address) mod TRIED_PER_GROUP) mod TRIED_BUCKETS
 *   slot         = H(table, bucket, address) mod BUCKET_SIZE
 * so one source group can fill at most NEW_PER_SOURCE new buckets and one address group at
 * most TRIED_PER_GROUP tried buckets, wherever the attacker's addresses are. Each address has
 * one slot (Bitcoin allows up to 8 new references; one keeps this simple and bounded). A new
 * slot's occupant is replaced only if it is "terrible" (never reached and tried often, or not
 * seen for a month); a tried slot's occupant only after it failed a test. Selection walks
 * random slots, then sweeps from a random start, so it finds any eligible address. Not here:
 * the ASN map parser (relay_asmap.c) and anchors (relay_anchors.c).
 */
#include <string.h>

#include <sodium/crypto_shorthash.h>

#include "metanode/relay_addrbook.h"

#define NONE MN_ADDRBOOK_NONE
#define PER24_CAP (2u * MN_ADDRBOOK_ENTRIES)
#define MONTH_MS (30ull * 24 * 3600 * 1000)

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_v4(const uint8_t ip[16])
{
    return memcmp(ip, v4_mapped, sizeof v4_mapped) == 0;
}

static uint64_t hash(const mn_addrbook *ab, uint8_t tag, const void *a, size_t alen,
                     const void *b, size_t blen, uint64_t c)
{
    uint8_t buf[1 + 16 + 16 + 8 + 2];
    MN_ASSERT(alen <= 18 && blen <= 16);
    size_t n = 0;
    buf[n++] = tag;
    memcpy(buf + n, a, alen), n += alen;
    if (blen > 0)
        memcpy(buf + n, b, blen), n += blen;
    mn_store_u64_le(buf + n, c), n += 8;
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, buf, n, ab->key);
    return mn_load_u64_le(h);
}

static uint64_t rnd(mn_addrbook *ab)
{
    uint64_t z = (ab->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void mn_addrbook_group(const mn_addrbook *ab, uint8_t group[static 16],
                       const uint8_t ip[static 16])
{
    memset(group, 0, 16);
    const mn_asmap_entry *e = ab->asmap ? mn_asmap_lookup(ab->asmap, ip) : NULL;
    if (e != NULL) {
        group[0] = 0xa5; /* an AS: cannot collide with the address prefixes below */
        mn_store_u32_be(group + 1, e->asn);
    } else if (is_v4(ip)) {
        group[0] = 4;
        memcpy(group + 1, ip + 12, 2); /* /16 */
    } else {
        group[0] = 6;
        memcpy(group + 1, ip, 4); /* /32 */
    }
}

static uint32_t region_of(const mn_addrbook *ab, const uint8_t ip[16])
{
    const mn_asmap_entry *e = ab->asmap ? mn_asmap_lookup(ab->asmap, ip) : NULL;
    return e ? e->region + 1 : 0;
}

/* ---- per-/24 counts --------------------------------------------------------------------- */

static uint32_t key24(const mn_addrbook *ab, const uint8_t ip[16])
{
    uint8_t p[16] = {0};
    memcpy(p, ip, is_v4(ip) ? 15 : 6); /* /24, or /48 for IPv6 */
    uint32_t k = (uint32_t)hash(ab, '2', p, 16, NULL, 0, 0);
    return k ? k : 1;
}

static uint16_t *per24(mn_addrbook *ab, const uint8_t ip[16], bool create)
{
    uint32_t k = key24(ab, ip);
    for (uint32_t i = k % PER24_CAP, n = 0; n < PER24_CAP; i = (i + 1) % PER24_CAP, n++) {
        if (ab->per24_key[i] == k)
            return ab->per24_count[i];
        if (ab->per24_key[i] == 0) {
            if (!create)
                return NULL;
            ab->per24_key[i] = k;
            ab->per24_used++;
            return ab->per24_count[i];
        }
    }
    MN_ASSERT(false); /* never more than three quarters full */
    return NULL;
}

static void per24_rebuild(mn_addrbook *ab)
{
    memset(ab->per24_key, 0, sizeof ab->per24_key);
    memset(ab->per24_count, 0, sizeof ab->per24_count);
    ab->per24_used = 0;
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES; i++)
        if (ab->entries[i].used)
            per24(ab, ab->entries[i].addr.ip, true)[ab->entries[i].tried]++;
}

static void count24(mn_addrbook *ab, const uint8_t ip[16], bool tried, int delta)
{
    if (delta > 0 && ab->per24_used >= PER24_CAP * 3 / 4)
        per24_rebuild(ab);
    uint16_t *c = per24(ab, ip, delta > 0);
    if (c == NULL)
        return;
    MN_ASSERT(delta > 0 || c[tried] > 0);
    c[tried] = (uint16_t)(c[tried] + delta);
}

static uint32_t table24(mn_addrbook *ab, const uint8_t ip[16], bool tried)
{
    uint16_t *c = per24(ab, ip, false);
    return c ? c[tried] : 0;
}

/* ---- positions -------------------------------------------------------------------------- */

static uint32_t new_bucket(const mn_addrbook *ab, const uint8_t group[16],
                           const uint8_t source_group[16])
{
    uint64_t h1 = hash(ab, 'n', group, 16, source_group, 16, 0) % MN_ADDRBOOK_NEW_PER_SOURCE;
    return (uint32_t)(hash(ab, 'N', source_group, 16, NULL, 0, h1) % MN_ADDRBOOK_NEW_BUCKETS);
}

static uint32_t tried_bucket(const mn_addrbook *ab, const mn_addr *a, const uint8_t group[16])
{
    uint8_t ipport[18];
    memcpy(ipport, a->ip, 16);
    ipport[16] = (uint8_t)(a->port >> 8), ipport[17] = (uint8_t)a->port;
    uint64_t h1 = hash(ab, 't', ipport, 18, NULL, 0, 0) % MN_ADDRBOOK_TRIED_PER_GROUP;
    return (uint32_t)(hash(ab, 'T', group, 16, NULL, 0, h1) % MN_ADDRBOOK_TRIED_BUCKETS);
}

static uint32_t slot_in(const mn_addrbook *ab, bool tried, uint32_t bucket, const mn_addr *a)
{
    uint8_t ipport[18];
    memcpy(ipport, a->ip, 16);
    ipport[16] = (uint8_t)(a->port >> 8), ipport[17] = (uint8_t)a->port;
    uint64_t h = hash(ab, tried ? 'S' : 's', ipport, 18, NULL, 0, bucket);
    return bucket * MN_ADDRBOOK_BUCKET_SIZE + (uint32_t)(h % MN_ADDRBOOK_BUCKET_SIZE);
}

static uint32_t bucket_24(const mn_addrbook *ab, const uint16_t *slots, uint32_t bucket,
                          const uint8_t ip[16])
{
    uint32_t n = 0, k = key24(ab, ip);
    for (uint32_t i = 0; i < MN_ADDRBOOK_BUCKET_SIZE; i++) {
        uint16_t e = slots[bucket * MN_ADDRBOOK_BUCKET_SIZE + i];
        n += e != NONE && key24(ab, ab->entries[e].addr.ip) == k;
    }
    return n;
}

/* ---- entries ---------------------------------------------------------------------------- */

void mn_addrbook_init(mn_addrbook *ab, const uint8_t key[static 16], uint64_t rng_seed,
                      const mn_asmap *asmap, uint32_t outbound_max, uint32_t region_max)
{
    MN_ASSERT(outbound_max >= 1 && outbound_max <= MN_ADDRBOOK_OUTBOUND_MAX);
    MN_ASSERT(region_max >= 1);
    memset(ab, 0, sizeof *ab);
    memcpy(ab->key, key, 16);
    ab->rng = rng_seed;
    ab->asmap = asmap;
    ab->outbound_max = outbound_max;
    ab->region_max = region_max;
    memset(ab->new_slots, 0xff, sizeof ab->new_slots);
    memset(ab->tried_slots, 0xff, sizeof ab->tried_slots);
    memset(ab->index, 0xff, sizeof ab->index);
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES; i++)
        ab->entries[i].next = i + 1 < MN_ADDRBOOK_ENTRIES ? (uint16_t)(i + 1) : NONE;
    ab->free_head = 0;
}

static uint32_t index_of(const mn_addrbook *ab, const mn_addr *a)
{
    uint8_t ipport[18];
    memcpy(ipport, a->ip, 16);
    ipport[16] = (uint8_t)(a->port >> 8), ipport[17] = (uint8_t)a->port;
    return (uint32_t)hash(ab, 'i', ipport, 18, NULL, 0, 0) & (MN_ADDRBOOK_INDEX_BUCKETS - 1);
}

static uint16_t find_any(const mn_addrbook *ab, const mn_addr *a)
{
    uint32_t steps = 0;
    for (uint16_t e = ab->index[index_of(ab, a)]; e != NONE; e = ab->entries[e].next) {
        MN_ASSERT(++steps <= MN_ADDRBOOK_ENTRIES);
        if (ab->entries[e].addr.port == a->port && memcmp(ab->entries[e].addr.ip, a->ip, 16) == 0)
            return e;
    }
    return NONE;
}

static uint16_t alloc_entry(mn_addrbook *ab, const mn_addr *a)
{
    uint16_t e = ab->free_head;
    MN_ASSERT(e != NONE); /* one entry per slot, and there are as many entries as slots */
    ab->free_head = ab->entries[e].next;
    memset(&ab->entries[e], 0, sizeof ab->entries[e]);
    ab->entries[e].addr = *a;
    uint32_t b = index_of(ab, a);
    ab->entries[e].next = ab->index[b];
    ab->index[b] = e;
    return e;
}

/* Removes entry e from its table slot, the index and the counts, and frees it. */
static void free_entry(mn_addrbook *ab, uint16_t e)
{
    mn_addrbook_entry *x = &ab->entries[e];
    MN_ASSERT(x->used);
    count24(ab, x->addr.ip, x->tried, -1);
    if (x->tried) {
        MN_ASSERT(ab->tried_slots[x->slot] == e);
        ab->tried_slots[x->slot] = NONE;
        ab->count_tried--;
    } else {
        MN_ASSERT(ab->new_slots[x->slot] == e);
        ab->new_slots[x->slot] = NONE;
        ab->count_new--;
    }
    uint16_t *link = &ab->index[index_of(ab, &x->addr)];
    while (*link != e) {
        MN_ASSERT(*link != NONE);
        link = &ab->entries[*link].next;
    }
    *link = x->next;
    memset(x, 0, sizeof *x);
    x->next = ab->free_head;
    ab->free_head = e;
}

static bool terrible(const mn_addrbook_entry *x, uint64_t now_ms)
{
    if (x->connected)
        return false;
    if (x->last_good_ms == 0 && x->attempts >= 3)
        return true;
    return now_ms > x->last_seen_ms + MONTH_MS || x->attempts >= 10;
}

bool mn_addrbook_add(mn_addrbook *ab, const mn_addr *addr, const uint8_t source[static 16],
                     uint64_t now_ms)
{
    uint16_t known = find_any(ab, addr);
    if (known != NONE) {
        ab->entries[known].last_seen_ms = now_ms;
        return false;
    }
    uint8_t g[16], sg[16];
    mn_addrbook_group(ab, g, addr->ip);
    mn_addrbook_group(ab, sg, source);
    uint32_t b = new_bucket(ab, g, sg);
    if (table24(ab, addr->ip, false) >= MN_ADDRBOOK_PER24_TABLE ||
        bucket_24(ab, ab->new_slots, b, addr->ip) >= MN_ADDRBOOK_PER24_BUCKET) {
        ab->metrics.refused_group24++;
        return false;
    }
    uint32_t s = slot_in(ab, false, b, addr);
    uint16_t old = ab->new_slots[s];
    if (old != NONE) {
        if (!terrible(&ab->entries[old], now_ms)) {
            ab->metrics.refused_full++;
            return false;
        }
        free_entry(ab, old);
        ab->metrics.evicted_new++;
    }
    uint16_t e = alloc_entry(ab, addr);
    mn_addrbook_entry *x = &ab->entries[e];
    x->slot = s;
    memcpy(x->group, g, 16);
    x->region = region_of(ab, addr->ip);
    x->last_seen_ms = now_ms;
    x->used = true;
    ab->new_slots[s] = e;
    ab->count_new++;
    count24(ab, addr->ip, false, +1);
    ab->metrics.added++;
    return true;
}

/* Moves new entry e into tried slot s (which is empty). */
static void to_tried(mn_addrbook *ab, uint16_t e, uint32_t s)
{
    mn_addrbook_entry *x = &ab->entries[e];
    MN_ASSERT(!x->tried && ab->tried_slots[s] == NONE && ab->new_slots[x->slot] == e);
    ab->new_slots[x->slot] = NONE;
    count24(ab, x->addr.ip, false, -1);
    ab->count_new--;
    x->tried = true;
    x->slot = s;
    ab->tried_slots[s] = e;
    ab->count_tried++;
    count24(ab, x->addr.ip, true, +1);
    ab->metrics.moved_tried++;
}

static void settle(mn_addrbook *ab, uint16_t tested, bool good);

void mn_addrbook_good(mn_addrbook *ab, const mn_addr *addr, uint64_t now_ms)
{
    uint16_t e = find_any(ab, addr);
    if (e == NONE)
        return;
    mn_addrbook_entry *x = &ab->entries[e];
    x->last_good_ms = x->last_seen_ms = x->last_try_ms = now_ms;
    x->attempts = 0;
    x->retry_after_ms = 0;
    if (memcmp(addr->node, (uint8_t[32]){0}, 32) != 0)
        memcpy(x->addr.node, addr->node, 32);
    if (x->tried) {
        settle(ab, e, true); /* it passed a test: collisions aiming at its slot wait on */
        return;
    }
    uint32_t b = tried_bucket(ab, &x->addr, x->group);
    if (table24(ab, x->addr.ip, true) >= MN_ADDRBOOK_PER24_TABLE ||
        bucket_24(ab, ab->tried_slots, b, x->addr.ip) >= MN_ADDRBOOK_PER24_BUCKET) {
        ab->metrics.refused_group24++;
        return; /* stays in new */
    }
    uint32_t s = slot_in(ab, true, b, &x->addr);
    if (ab->tried_slots[s] == NONE) {
        to_tried(ab, e, s);
        return;
    }
    /* test-before-evict: queue the collision, unless queued already or the queue is full */
    for (uint32_t i = 0; i < ab->collisions_count; i++)
        if (ab->collisions[i] == e)
            return;
    if (ab->collisions_count < MN_ADDRBOOK_COLLISIONS_MAX) {
        ab->collisions[ab->collisions_count++] = e;
        ab->metrics.collisions++;
    }
}

/* Settles collisions whose occupant has been tested (good: newcomer dropped from the queue;
 * failed: occupant evicted to new, newcomer in). */
static void settle(mn_addrbook *ab, uint16_t tested, bool good)
{
    for (uint32_t i = 0; i < ab->collisions_count;) {
        uint16_t e = ab->collisions[i];
        mn_addrbook_entry *x = &ab->entries[e];
        bool drop = !x->used || x->tried;
        if (!drop) {
            uint32_t s = slot_in(ab, true, tried_bucket(ab, &x->addr, x->group), &x->addr);
            uint16_t occ = ab->tried_slots[s];
            if (occ == NONE) {
                to_tried(ab, e, s);
                drop = true;
            } else if (occ == tested) {
                if (good) {
                    ab->metrics.kept_tried++;
                } else {
                    /* the occupant goes back to a new slot if its slot there is free */
                    mn_addrbook_entry *o = &ab->entries[occ];
                    uint32_t ns = slot_in(ab, false, new_bucket(ab, o->group, o->group), &o->addr);
                    if (ab->new_slots[ns] == NONE) {
                        ab->tried_slots[s] = NONE;
                        count24(ab, o->addr.ip, true, -1);
                        ab->count_tried--;
                        o->tried = false;
                        o->slot = ns;
                        ab->new_slots[ns] = occ;
                        ab->count_new++;
                        count24(ab, o->addr.ip, false, +1);
                    } else {
                        free_entry(ab, occ);
                    }
                    ab->metrics.evicted_tried++;
                    to_tried(ab, e, s);
                }
                drop = true;
            }
        }
        if (drop)
            ab->collisions[i] = ab->collisions[--ab->collisions_count];
        else
            i++;
    }
}

void mn_addrbook_failed(mn_addrbook *ab, const mn_addr *addr, uint64_t now_ms)
{
    uint16_t e = find_any(ab, addr);
    if (e == NONE)
        return;
    mn_addrbook_entry *x = &ab->entries[e];
    x->last_try_ms = now_ms;
    if (x->attempts < 30)
        x->attempts++;
    uint64_t backoff = 10000ull << (x->attempts > 9 ? 9 : x->attempts - 1);
    if (backoff > 3600000)
        backoff = 3600000;
    x->retry_after_ms = now_ms + backoff;
    ab->metrics.failures++;
    if (x->tried)
        settle(ab, e, false);
}

bool mn_addrbook_collision(mn_addrbook *ab, mn_addr *test, uint64_t now_ms)
{
    (void)now_ms;
    settle(ab, NONE, false); /* drop stale ones, move those whose slot freed up */
    if (ab->collisions_count == 0)
        return false;
    mn_addrbook_entry *x = &ab->entries[ab->collisions[0]];
    uint32_t s = slot_in(ab, true, tried_bucket(ab, &x->addr, x->group), &x->addr);
    MN_ASSERT(ab->tried_slots[s] != NONE);
    *test = ab->entries[ab->tried_slots[s]].addr;
    return true;
}

static void good_settle(mn_addrbook *ab, const mn_addr *addr)
{
    uint16_t e = find_any(ab, addr);
    if (e != NONE && ab->entries[e].tried)
        settle(ab, e, true);
}

void mn_addrbook_connected(mn_addrbook *ab, const mn_addr *addr, bool outbound)
{
    uint16_t e = find_any(ab, addr);
    if (e == NONE)
        return;
    ab->entries[e].connected = true;
    ab->entries[e].outbound = outbound;
    if (ab->entries[e].tried)
        good_settle(ab, addr);
}

void mn_addrbook_disconnected(mn_addrbook *ab, const mn_addr *addr)
{
    uint16_t e = find_any(ab, addr);
    if (e == NONE)
        return;
    ab->entries[e].connected = false;
    ab->entries[e].outbound = false;
}

uint32_t mn_addrbook_outbound_count(const mn_addrbook *ab)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES; i++)
        n += ab->entries[i].used && ab->entries[i].outbound;
    return n;
}

/* ---- selection -------------------------------------------------------------------------- */

typedef struct used_set {
    uint32_t groups_count;
    uint8_t groups[MN_ADDRBOOK_OUTBOUND_MAX][16];
    uint32_t regions[MN_ASMAP_REGIONS_MAX + 1];
} used_set;

static void used_of(const mn_addrbook *ab, used_set *u)
{
    memset(u, 0, sizeof *u);
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES; i++) {
        const mn_addrbook_entry *x = &ab->entries[i];
        if (!x->used || !x->outbound)
            continue;
        if (u->groups_count < MN_ADDRBOOK_OUTBOUND_MAX)
            memcpy(u->groups[u->groups_count++], x->group, 16);
        if (x->region <= MN_ASMAP_REGIONS_MAX)
            u->regions[x->region]++;
    }
}

static bool eligible(const mn_addrbook *ab, const used_set *u, uint16_t e, uint64_t now_ms)
{
    if (e == NONE)
        return false;
    const mn_addrbook_entry *x = &ab->entries[e];
    if (!x->used || x->connected || x->retry_after_ms > now_ms)
        return false;
    for (uint32_t i = 0; i < u->groups_count; i++)
        if (memcmp(u->groups[i], x->group, 16) == 0)
            return false;
    return x->region == 0 || x->region > MN_ASMAP_REGIONS_MAX ||
           u->regions[x->region] < ab->region_max;
}

static bool pick(mn_addrbook *ab, const used_set *u, bool tried, uint64_t now_ms, mn_addr *out)
{
    const uint16_t *slots = tried ? ab->tried_slots : ab->new_slots;
    uint32_t n = tried ? MN_ADDRBOOK_SLOTS_TRIED : MN_ADDRBOOK_SLOTS_NEW;
    if ((tried ? ab->count_tried : ab->count_new) == 0)
        return false;
    for (uint32_t i = 0; i < 64; i++) {
        uint16_t e = slots[rnd(ab) % n];
        if (eligible(ab, u, e, now_ms)) {
            *out = ab->entries[e].addr;
            return true;
        }
    }
    uint32_t start = (uint32_t)(rnd(ab) % n);
    for (uint32_t i = 0; i < n; i++) {
        uint16_t e = slots[(start + i) % n];
        if (eligible(ab, u, e, now_ms)) {
            *out = ab->entries[e].addr;
            return true;
        }
    }
    return false;
}

bool mn_addrbook_select(mn_addrbook *ab, uint64_t now_ms, mn_addr *out)
{
    used_set u;
    used_of(ab, &u);
    if (u.groups_count >= ab->outbound_max)
        return false;
    bool tried_first = rnd(ab) & 1;
    bool ok = pick(ab, &u, tried_first, now_ms, out) || pick(ab, &u, !tried_first, now_ms, out);
    if (ok) {
        ab->metrics.selected++;
        uint16_t e = find_any(ab, out);
        ab->entries[e].last_try_ms = now_ms;
    }
    return ok;
}

bool mn_addrbook_feeler(mn_addrbook *ab, uint64_t now_ms, mn_addr *out)
{
    used_set u;
    memset(&u, 0, sizeof u); /* a feeler ignores the outbound diversity rules */
    if (!pick(ab, &u, false, now_ms, out))
        return false;
    ab->metrics.feelers++;
    return true;
}
