/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_addrbook.h: the relay's address book after Bitcoin's address manager, against eclipse
 * attacks. Addresses heard of go to a "new" table, addresses we connected to a "tried" table;
 * both are bucketed by network group (the AS number from an ASN map when it knows the address,
 * else the /16 of an IPv4 or the /32 of an IPv6 address), and bucket and slot positions are
 * keyed by a node-local secret (SipHash), so an attacker cannot aim at them. A source group
 * reaches at most MN_ADDRBOOK_NEW_PER_SOURCE new buckets, an address group at most
 * MN_ADDRBOOK_TRIED_PER_GROUP tried buckets; at most 2 addresses of a /24 share a bucket and
 * 10 a table. A tried slot is only taken from a live entry after that entry failed a test
 * (test-before-evict). Outbound peers are chosen from distinct groups with a cap per region;
 * feelers probe new addresses; anchors (the last outbound peers) survive restarts.
 * Pure state machine: the caller passes time and randomness, does the dialling and the file
 * I/O (mn_addrbook_anchors_save/_load are the thin wrappers). No allocation after init.
 */
#ifndef METANODE_RELAY_ADDRBOOK_H
#define METANODE_RELAY_ADDRBOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"
#include "metanode/sign.h"

/* ---- ASN map ---------------------------------------------------------------------------- */

/* A text file, one entry a line: "PREFIX/LEN ASN REGION" (IPv4 dotted or IPv6 with ::, a
 * decimal AS number, a region label of [a-z0-9-]), '#' comments and blank lines allowed.
 * Sample: data/asmap-sample.txt (documented in docs/relay.md). */
typedef struct mn_asmap_entry {
    uint8_t prefix[16]; /* IPv4 as ::ffff:a.b.c.d, its length counted in the 128 bits */
    uint32_t bits;
    uint32_t asn;
    uint32_t region; /* index into regions */
} mn_asmap_entry;

typedef struct mn_asmap {
    uint32_t count, regions_count;
    char regions[MN_ASMAP_REGIONS_MAX][MN_ASMAP_REGION_BYTES_MAX + 1];
    mn_asmap_entry entries[MN_ASMAP_ENTRIES_MAX];
} mn_asmap;

/* Parses text (untrusted: MN_ECORRUPT with the line number, MN_ELIMIT past the limits). */
int mn_asmap_parse(mn_asmap *map, const char *text, size_t len, mn_err *err);
/* The longest matching entry, or NULL. */
const mn_asmap_entry *mn_asmap_lookup(const mn_asmap *map, const uint8_t addr[static 16]);

/* ---- the book --------------------------------------------------------------------------- */

typedef struct mn_addr {
    uint8_t ip[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
    uint16_t port;
    uint8_t node[MN_ED25519_PUBLICKEY_BYTES]; /* its BPCI identity, when known */
} mn_addr;

typedef struct mn_addrbook_entry {
    mn_addr addr;
    uint8_t group[16];  /* network group of addr */
    uint32_t region;    /* 0: unknown, else map region + 1 */
    uint64_t last_seen_ms, last_try_ms, last_good_ms;
    uint32_t attempts;  /* failed attempts since the last success */
    uint64_t retry_after_ms; /* back-off for dialling (health drops, failures) */
    uint32_t slot;      /* its slot in its table */
    uint16_t next;      /* address index chain, or the free list */
    bool used, tried;
    bool connected, outbound;
} mn_addrbook_entry;

#define MN_ADDRBOOK_SLOTS_NEW (MN_ADDRBOOK_NEW_BUCKETS * MN_ADDRBOOK_BUCKET_SIZE)
#define MN_ADDRBOOK_SLOTS_TRIED (MN_ADDRBOOK_TRIED_BUCKETS * MN_ADDRBOOK_BUCKET_SIZE)
#define MN_ADDRBOOK_ENTRIES (MN_ADDRBOOK_SLOTS_NEW + MN_ADDRBOOK_SLOTS_TRIED)
#define MN_ADDRBOOK_NONE UINT16_MAX
#define MN_ADDRBOOK_INDEX_BUCKETS 4096u
MN_STATIC_ASSERT(MN_ADDRBOOK_ENTRIES < UINT16_MAX);

typedef struct mn_addrbook_metrics {
    uint64_t added, refused_group24, refused_full, evicted_new, moved_tried;
    uint64_t collisions, evicted_tried, kept_tried, selected, feelers, failures;
} mn_addrbook_metrics;

typedef struct mn_addrbook {
    uint8_t key[16];           /* node-local secret for bucket positions */
    uint64_t rng;              /* selection randomness (splitmix64 state from the caller) */
    const mn_asmap *asmap;     /* borrowed, may be NULL */
    uint32_t outbound_max;     /* outbound peers wanted (<= MN_ADDRBOOK_OUTBOUND_MAX) */
    uint32_t region_max;       /* outbound peers per known region */
    uint32_t count_new, count_tried;
    uint16_t free_head;
    uint16_t index[MN_ADDRBOOK_INDEX_BUCKETS]; /* by keyed hash of (ip, port) */
    uint16_t new_slots[MN_ADDRBOOK_SLOTS_NEW];     /* entry index or NONE */
    uint16_t tried_slots[MN_ADDRBOOK_SLOTS_TRIED];
    /* addresses per /24 in each table, by keyed 32-bit hash of the /24 (0: empty slot);
     * rebuilt from the entries when three quarters full */
    uint32_t per24_used;
    uint32_t per24_key[2 * MN_ADDRBOOK_ENTRIES];
    uint16_t per24_count[2 * MN_ADDRBOOK_ENTRIES][2]; /* [new, tried] */
    uint32_t collisions_count;
    uint16_t collisions[MN_ADDRBOOK_COLLISIONS_MAX]; /* new entries waiting for a tried slot */
    mn_addrbook_metrics metrics;
    mn_addrbook_entry entries[MN_ADDRBOOK_ENTRIES];
} mn_addrbook;

/* outbound_max in [1, MN_ADDRBOOK_OUTBOUND_MAX]; region_max >= 1; asmap may be NULL. */
void mn_addrbook_init(mn_addrbook *ab, const uint8_t key[static 16], uint64_t rng_seed,
                      const mn_asmap *asmap, uint32_t outbound_max, uint32_t region_max);
/* The network group of ip: the AS number if the map knows it, else /16 (IPv4) or /32 (IPv6). */
void mn_addrbook_group(const mn_addrbook *ab, uint8_t group[static 16],
                       const uint8_t ip[static 16]);
/* Heard of addr from source (the peer's address that told us). Returns true if it was added
 * (false: already known, refused by a /24 cap, or its slot holds a better entry). */
bool mn_addrbook_add(mn_addrbook *ab, const mn_addr *addr, const uint8_t source[static 16],
                     uint64_t now_ms);
/* We connected to addr (a good address): it moves to the tried table. If its tried slot is
 * taken, the move waits for a test of the occupant (mn_addrbook_collision). */
void mn_addrbook_good(mn_addrbook *ab, const mn_addr *addr, uint64_t now_ms);
/* A dial to addr failed, or the peer was dropped as unhealthy (back-off doubles each time,
 * from 10 s up to an hour). */
void mn_addrbook_failed(mn_addrbook *ab, const mn_addr *addr, uint64_t now_ms);
/* Test-before-evict: the occupant of a pending collision's tried slot, which the caller should
 * dial; then mn_addrbook_good (it stays, the newcomer waits in new) or mn_addrbook_failed (it
 * is evicted to new and the newcomer takes its slot). false if none pending. */
bool mn_addrbook_collision(mn_addrbook *ab, mn_addr *test, uint64_t now_ms);
/* Connection bookkeeping, for distinct groups and regions of outbound peers. */
void mn_addrbook_connected(mn_addrbook *ab, const mn_addr *addr, bool outbound);
void mn_addrbook_disconnected(mn_addrbook *ab, const mn_addr *addr);
/* Picks an address to dial for an outbound slot: from new or tried (half each, as Bitcoin),
 * not connected, not backing off, in a group no outbound peer is in, in a region below
 * region_max. false if none qualifies. */
bool mn_addrbook_select(mn_addrbook *ab, uint64_t now_ms, mn_addr *out);
/* A feeler: a new-table address to probe briefly (then good or failed). */
bool mn_addrbook_feeler(mn_addrbook *ab, uint64_t now_ms, mn_addr *out);
/* Outbound peers connected now. */
uint32_t mn_addrbook_outbound_count(const mn_addrbook *ab);

/* Prometheus text of the book's sizes and counters, appended to out (relay_metrics.c). */
int mn_addrbook_metrics_write(const mn_addrbook *ab, mn_buf *out, mn_err *err);

/* ---- address messages ------------------------------------------------------------------ */

/* Address gossip between peers (the answer to a request, or an unsolicited announcement): a
 * canonical CBOR array (1..MN_ADDRBOOK_ADDRS_MAX) of [ip (16 bytes), port (1..65535), node id
 * (32 bytes)]. The driver rate-limits how many addresses it takes from a peer (Bitcoin: 0.1 a
 * second, burst 1,000; mn_relay_bucket serves) and adds them with the peer's address as source. */
int mn_addrbook_addrs_encode(const mn_addr *addrs, uint32_t count, mn_buf *out, mn_err *err);
/* Strict decoder; addrs holds MN_ADDRBOOK_ADDRS_MAX. MN_ECORRUPT/MN_ELIMIT. */
int mn_addrbook_addrs_decode(const uint8_t *data, size_t len, mn_addr *addrs, uint32_t *count,
                             mn_err *err);
/* Up to max addresses picked at random from both tables (at most 23 % of the book, as Bitcoin
 * answers GETADDR), skipping ones that failed their last attempts: what we tell a peer. */
uint32_t mn_addrbook_sample(mn_addrbook *ab, mn_addr *out, uint32_t max);

/* ---- anchors ---------------------------------------------------------------------------- */

/* A canonical CBOR array of [ip (16 bytes), port, node (32 bytes)], at most
 * MN_ADDRBOOK_ANCHORS_MAX. The decoder is strict (untrusted file). */
int mn_addrbook_anchors_encode(const mn_addr *anchors, uint32_t count, mn_buf *out, mn_err *err);
int mn_addrbook_anchors_decode(const uint8_t *data, size_t len, mn_addr *anchors,
                               uint32_t *count, mn_err *err);
/* The current outbound peers (up to MN_ADDRBOOK_ANCHORS_MAX, tried ones first). */
uint32_t mn_addrbook_anchors(const mn_addrbook *ab, mn_addr *anchors);
int mn_addrbook_anchors_save(const char *path, const mn_addr *anchors, uint32_t count,
                             mn_err *err);
/* A missing file is no anchors (count 0), not an error. */
int mn_addrbook_anchors_load(const char *path, mn_addr *anchors, uint32_t *count, mn_err *err);

#endif
