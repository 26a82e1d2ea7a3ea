/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_book.c: who the relay driver talks to. Inbound connections pass the relay's limits per
 * address group before the BPCI handshake (validators' addresses always pass). Every session's
 * address is known (mn_bpci_node_peer_addr): an outbound session's address is the one dialled
 * and goes to the book's tried table; peers announce their listening address with their node id
 * and a sample of their book on MN_NODE_SVC_ADDRS (at once and every announce_ms), PRUNE's PX
 * adds candidates, and the book (relay_addrbook.c) decides what it keeps. Outbound slots up to
 * outbound_target are filled from the book in distinct network groups (mn_addrbook_select),
 * with non-persistent dials that expect the address's node id, so a false address costs only a
 * failed dial and a back-off; feelers probe new addresses; a tried-slot collision dials the
 * occupant before evicting it; anchors (the outbound peers) are written to the node's home and
 * dialled first after a restart, as Bitcoin's anchors.dat.
 *
 * Addresses taken from a peer are budgeted (0.1 a second, burst 1,000) and validated: a port,
 * a node id that is not ours, not unspecified or multicast, loopback only when we listen on
 * loopback. Not here: the relay's own logic (src/net/relay*.c), sending and metrics of
 * messages (relay_driver.c).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/clock.h"
#include "metanode/log.h"
#include "metanode/node_msg.h"
#include "relay_driver_int.h"

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t zero_id[MN_ID_BYTES];
static const char *const kind_names[DIAL_KINDS] = {"node",   "book",   "feeler",
                                                   "test",   "anchor", "explicit"};

static bool is_loopback(const uint8_t ip[16])
{
    static const uint8_t v6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return (memcmp(ip, v4_mapped, 12) == 0 && ip[12] == 127) || memcmp(ip, v6, 16) == 0;
}

/* What an address from a peer must be before the book sees it. */
static bool addr_valid(const mn_relay_driver *d, const mn_addr *a)
{
    static const uint8_t any6[16];
    if (a->port == 0 || memcmp(a->node, zero_id, MN_ID_BYTES) == 0 ||
        memcmp(a->node, d->self_id, MN_ID_BYTES) == 0)
        return false;
    if (memcmp(a->ip, any6, 16) == 0 || a->ip[0] == 0xff) /* unspecified, IPv6 multicast */
        return false;
    if (memcmp(a->ip, v4_mapped, 12) == 0 &&
        (a->ip[12] == 0 || (a->ip[12] >= 224 && a->ip[12] <= 239) ||
         memcmp(a->ip + 12, "\xff\xff\xff\xff", 4) == 0))
        return false;
    if (is_loopback(a->ip) && !d->self_loopback)
        return false;
    if (d->have_self && memcmp(a->ip, d->self_addr.ip, 16) == 0 && a->port == d->self_addr.port)
        return false;
    return true;
}

static bool validator_ip(const mn_relay_driver *d, const uint8_t ip[16])
{
    for (uint32_t i = 0; i < d->validator_addr_count; i++)
        if (memcmp(d->validator_addrs[i].ip, ip, 16) == 0)
            return true;
    return false;
}

static void ip_text(const uint8_t ip[16], char out[64])
{
    if (memcmp(ip, v4_mapped, 12) == 0)
        inet_ntop(AF_INET, ip + 12, out, 64);
    else
        inet_ntop(AF_INET6, ip, out, 64);
}

bool mn_relay_driver_admit(mn_relay_driver *d, const uint8_t ip[16], uint16_t port)
{
    (void)port;
    if (d == NULL || d->closing)
        return true;
    if (validator_ip(d, ip)) {
        d->admit_exempt++;
        return true;
    }
    if (mn_relay_conn_admit(d->r, ip, mn__rd_now_ms())) {
        d->admit_ok++;
        return true;
    }
    d->admit_refused++;
    return false;
}

/* ---- dials ------------------------------------------------------------------------------- */

static bool pending_has(const mn_relay_driver *d, const mn_addr *a)
{
    for (uint32_t i = 0; i < MN_NODE_RELAY_DIALS_MAX; i++)
        if (d->dials[i].used && (memcmp(d->dials[i].addr.node, a->node, MN_ID_BYTES) == 0 ||
                                 (memcmp(d->dials[i].addr.ip, a->ip, 16) == 0 &&
                                  d->dials[i].addr.port == a->port)))
            return true;
    return false;
}

static uint32_t pending_count(const mn_relay_driver *d, dial_kind kind)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < MN_NODE_RELAY_DIALS_MAX; i++)
        n += d->dials[i].used && (kind == DIAL_NONE || d->dials[i].kind == kind);
    return n;
}

/* Dials a (non-persistent, expecting its node id): false if it was not started. */
static bool dial(mn_relay_driver *d, const mn_addr *a, dial_kind kind, uint64_t now)
{
    if (mn__rd_slot_find(d, a->node) >= 0 || pending_has(d, a) ||
        memcmp(a->node, d->self_id, MN_ID_BYTES) == 0)
        return false;
    pending_dial *p = NULL;
    for (uint32_t i = 0; i < MN_NODE_RELAY_DIALS_MAX && p == NULL; i++)
        if (!d->dials[i].used)
            p = &d->dials[i];
    if (p == NULL)
        return false;
    char host[64];
    mn_err err;
    ip_text(a->ip, host);
    const bool known = memcmp(a->node, zero_id, MN_ID_BYTES) != 0;
    d->dials_started[kind]++;
    if (mn_bpci_node_dial(d->net, host, a->port, known ? a->node : NULL, NULL, false,
                          d->source_host[0] ? d->source_host : NULL, &err) != 0) {
        MN_LOG(DEBUG, "relay", "dial %s:%u: %s", host, a->port, err.msg);
        d->dial_failed[kind]++;
        mn_addrbook_failed(d->ab, a, now);
        return false;
    }
    p->used = true;
    p->kind = kind;
    p->addr = *a;
    p->deadline_ms = now + MN_NODE_RELAY_DIAL_TIMEOUT_MS;
    MN_LOG(DEBUG, "relay", "%s dial to %s:%u", kind_names[kind], host, a->port);
    return true;
}

/* The pending dial an outbound session answers (same address), taken off the list. */
static dial_kind pending_take(mn_relay_driver *d, const mn_addr *a)
{
    for (uint32_t i = 0; i < MN_NODE_RELAY_DIALS_MAX; i++)
        if (d->dials[i].used && memcmp(d->dials[i].addr.ip, a->ip, 16) == 0 &&
            d->dials[i].addr.port == a->port) {
            d->dials[i].used = false;
            return d->dials[i].kind;
        }
    return DIAL_NONE;
}

/* ---- peers --------------------------------------------------------------------------------- */

void mn__rd_book_peer_up(mn_relay_driver *d, uint32_t s, mn_relay_peer_info *info)
{
    slot *sl = &d->slots[s];
    mn_bpci_peer_addr pa;
    memset(&pa, 0, sizeof pa);
    pa.inbound = true;
    (void)mn_bpci_node_peer_addr(d->net, sl->id, &pa);
    memcpy(sl->addr.ip, pa.ip, 16);
    memcpy(sl->addr.node, sl->id, MN_ID_BYTES);
    sl->outbound = !pa.inbound;
    sl->addr.port = sl->outbound ? pa.port : 0;
    sl->validator = mn__rd_is_validator(d, sl->id);
    mn_relay_bucket_init(&sl->addr_budget, &d->addr_rate, mn__rd_now_ms());
    memcpy(info->addr, pa.ip, 16);
    info->port = sl->addr.port;
    info->outbound = sl->outbound;
    info->colocation_exempt = validator_ip(d, pa.ip);
    if (!sl->outbound)
        return;
    const uint64_t now = mn__rd_now_ms();
    sl->kind = pending_take(d, &sl->addr);
    d->dial_ok[sl->kind]++;
    /* a reachable address with the node id it claimed: tried (test-before-evict may hold it
     * in new for a while) */
    (void)mn_addrbook_add(d->ab, &sl->addr, sl->addr.ip, now);
    mn_addrbook_good(d->ab, &sl->addr, now);
    if (sl->kind != DIAL_FEELER && sl->kind != DIAL_TEST) {
        mn_addrbook_connected(d->ab, &sl->addr, true);
        sl->in_book = true;
    }
}

static void send_addrs(mn_relay_driver *d, uint32_t s, const mn_addr *list, uint32_t n)
{
    mn_err err;
    d->scratch.len = 0;
    if (mn_addrbook_addrs_encode(list, n, &d->scratch, &err) != 0)
        return;
    mn__rd_send(d, s, MN_NODE_SVC_ADDRS, d->scratch.data, d->scratch.len);
    d->addr_msgs_out++;
}

/* Our address, the listening addresses of the peers we are connected to (reachable now), and a
 * sample of the book, to one peer. */
static void announce(mn_relay_driver *d, uint32_t s)
{
    static _Thread_local mn_addr list[MN_NODE_RELAY_ANNOUNCE_MAX];
    uint32_t n = 0;
    if (d->have_self)
        list[n++] = d->self_addr;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX && n < MN_NODE_RELAY_ANNOUNCE_MAX / 2; q++)
        if (q != s && d->slots[q].up && d->slots[q].addr.port != 0 &&
            d->slots[q].kind != DIAL_FEELER && d->slots[q].kind != DIAL_TEST)
            list[n++] = d->slots[q].addr;
    n += mn_addrbook_sample(d->ab, list + n, MN_NODE_RELAY_ANNOUNCE_MAX - n);
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) /* never tell a peer about itself */
        if (memcmp(list[i].node, d->slots[s].id, MN_ID_BYTES) != 0 && list[i].port != 0)
            list[k++] = list[i];
    if (k > 0)
        send_addrs(d, s, list, k);
}

/* A peer's announcement of its own address goes on to two other peers (Bitcoin relays fresh
 * self-announcements the same way), so a new node becomes known beyond its first peer. */
static void relay_self_announcement(mn_relay_driver *d, uint32_t from, const mn_addr *a)
{
    uint32_t cand[MN_RELAY_PEERS_MAX], n = 0;
    for (uint32_t q = 0; q < MN_RELAY_PEERS_MAX; q++)
        if (q != from && d->slots[q].up && d->slots[q].kind != DIAL_FEELER &&
            d->slots[q].kind != DIAL_TEST)
            cand[n++] = q;
    mn_rng *rng = mn_rng_system();
    for (uint32_t i = 0; i < 2 && n > 0; i++) {
        uint8_t b[4];
        rng->fill(rng, b, sizeof b);
        const uint32_t k = mn_load_u32_le(b) % n;
        send_addrs(d, cand[k], a, 1);
        cand[k] = cand[--n];
    }
}

void mn__rd_book_peer_ready(mn_relay_driver *d, uint32_t s)
{
    slot *sl = &d->slots[s];
    if (sl->kind == DIAL_FEELER || sl->kind == DIAL_TEST) {
        /* the probe succeeded (counted as good); the slot is not kept */
        if (!sl->validator) {
            mn_err err;
            (void)mn_bpci_node_disconnect(d->net, sl->id, 0, &err);
        }
        return;
    }
    announce(d, s);
}

void mn__rd_book_peer_down(mn_relay_driver *d, uint32_t s)
{
    slot *sl = &d->slots[s];
    if (sl->in_book)
        mn_addrbook_disconnected(d->ab, &sl->addr);
    sl->in_book = false;
}

void mn__rd_book_dropped(mn_relay_driver *d, uint32_t peer)
{
    if (peer < MN_RELAY_PEERS_MAX && d->slots[peer].up && d->slots[peer].addr.port != 0)
        mn_addrbook_failed(d->ab, &d->slots[peer].addr, mn__rd_now_ms());
}

bool mn__rd_book_dial_node(mn_relay_driver *d, const uint8_t node[MN_ID_BYTES])
{
    for (uint32_t i = 0; i < d->validator_addr_count; i++)
        if (memcmp(d->validator_addrs[i].node, node, MN_ID_BYTES) == 0)
            return false;
    const uint64_t now = mn__rd_now_ms();
    for (uint32_t i = 0; i < MN_ADDRBOOK_ENTRIES; i++) { /* every 10 s per missing peer */
        const mn_addrbook_entry *x = &d->ab->entries[i];
        if (x->used && x->addr.port != 0 && x->retry_after_ms <= now &&
            memcmp(x->addr.node, node, MN_ID_BYTES) == 0) {
            const mn_addr a = x->addr;
            return dial(d, &a, DIAL_EXPLICIT, now);
        }
    }
    return false;
}

void mn__rd_book_px(mn_relay_driver *d, uint32_t peer, const mn_relay_px *px)
{
    mn_addr a;
    memcpy(a.ip, px->addr, 16);
    a.port = px->port;
    memcpy(a.node, px->node, MN_ID_BYTES);
    if (peer >= MN_RELAY_PEERS_MAX || !d->slots[peer].up || !addr_valid(d, &a))
        return;
    if (mn_addrbook_add(d->ab, &a, d->slots[peer].addr.ip, mn__rd_now_ms()))
        d->px_added++;
}

/* An address message from a peer: strict decoding (a bad one costs the sender score), a budget
 * per peer, validation, then the book decides. */
static void on_addrs(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                     const uint8_t *data, size_t len)
{
    mn_relay_driver *d = ctx;
    static _Thread_local mn_addr list[MN_ADDRBOOK_ADDRS_MAX];
    (void)svc;
    const int s = mn__rd_slot_find(d, from);
    if (d->closing || s < 0)
        return;
    slot *sl = &d->slots[s];
    d->addr_msgs_in++;
    uint32_t n = 0;
    mn_err err;
    if (mn_addrbook_addrs_decode(data, len, list, &n, &err) != 0) {
        d->addr_undecodable++;
        mn__rd_penalise(d, (uint32_t)s, "address message");
        return;
    }
    const uint64_t now = mn__rd_now_ms();
    for (uint32_t i = 0; i < n; i++) {
        const mn_addr *a = &list[i];
        d->addrs_in++;
        if (!mn_relay_bucket_take(&sl->addr_budget, &d->addr_rate, MN_NODE_RELAY_ADDR_COST,
                                  now)) {
            d->addrs_rate_limited += n - i;
            break;
        }
        if (!addr_valid(d, a)) {
            d->addrs_refused++;
            continue;
        }
        /* its own listening address: now we can offer it to others */
        const bool self_announced = memcmp(a->node, sl->id, MN_ID_BYTES) == 0;
        if (self_announced && !sl->outbound && memcmp(a->ip, sl->addr.ip, 16) == 0)
            sl->addr.port = a->port;
        if (mn_addrbook_add(d->ab, a, sl->addr.ip, now)) {
            d->addrs_added++;
            if (self_announced) /* new to us: pass it on */
                relay_self_announcement(d, (uint32_t)s, a);
        }
    }
}

/* ---- the heartbeat's work ------------------------------------------------------------------ */

void mn__rd_book_tick(mn_relay_driver *d, uint64_t now)
{
    for (uint32_t i = 0; i < MN_NODE_RELAY_DIALS_MAX; i++) {
        pending_dial *p = &d->dials[i];
        if (p->used && now >= p->deadline_ms) {
            p->used = false;
            if (mn__rd_slot_find(d, p->addr.node) >= 0) { /* reached by another session */
                d->dial_ok[p->kind]++;
                continue;
            }
            d->dial_failed[p->kind]++;
            mn_addrbook_failed(d->ab, &p->addr, now);
        }
    }
    mn_addr a;
    /* test-before-evict: dial the occupant of a contested tried slot */
    if (pending_count(d, DIAL_TEST) == 0 && mn_addrbook_collision(d->ab, &a, now)) {
        if (mn__rd_slot_find(d, a.node) >= 0)
            mn_addrbook_good(d->ab, &a, now); /* connected: it passed already */
        else
            (void)dial(d, &a, DIAL_TEST, now);
    }
    /* outbound slots from the book, distinct groups (the book's select) */
    for (uint32_t tries = 0; tries < 4; tries++) {
        const uint32_t have = mn_addrbook_outbound_count(d->ab) + pending_count(d, DIAL_BOOK) +
                              pending_count(d, DIAL_ANCHOR);
        if (have >= d->outbound_target || pending_count(d, DIAL_NONE) >= MN_NODE_RELAY_DIALS_MAX ||
            !mn_addrbook_select(d->ab, now, &a))
            break;
        const int s = mn__rd_slot_find(d, a.node);
        if (s >= 0 && !d->slots[s].in_book) { /* connected another way: that session is it */
            slot *sl = &d->slots[s];
            sl->addr = a;
            sl->in_book = true;
            mn_addrbook_connected(d->ab, &a, sl->outbound);
        } else if (s < 0 && !dial(d, &a, DIAL_BOOK, now)) {
            break;
        }
    }
    if (now - d->last_feeler_ms >= d->feeler_ms) {
        d->last_feeler_ms = now;
        if (mn_addrbook_feeler(d->ab, now, &a))
            (void)dial(d, &a, DIAL_FEELER, now);
    }
    if (now - d->last_announce_ms >= d->announce_ms) {
        d->last_announce_ms = now;
        for (uint32_t s = 0; s < MN_RELAY_PEERS_MAX; s++)
            if (d->slots[s].up && d->slots[s].kind != DIAL_FEELER &&
                d->slots[s].kind != DIAL_TEST)
                announce(d, s);
    }
    if (now - d->last_anchor_save_ms >= MN_NODE_RELAY_ANCHORS_SAVE_MS) {
        d->last_anchor_save_ms = now;
        mn__rd_book_save_anchors(d, false);
    }
}

void mn__rd_book_save_anchors(mn_relay_driver *d, bool force)
{
    if (d->anchors_path == NULL || d->ab == NULL)
        return;
    mn_addr now[MN_ADDRBOOK_ANCHORS_MAX];
    const uint32_t n = mn_addrbook_anchors(d->ab, now);
    if (n == 0 || (!force && n == d->saved_count &&
                   memcmp(now, d->saved, n * sizeof(mn_addr)) == 0))
        return; /* nothing to keep (a shutdown after every peer left keeps the last list) */
    mn_err err;
    if (mn_addrbook_anchors_save(d->anchors_path, now, n, &err) != 0) {
        MN_LOG(WARN, "relay", "cannot save anchors: %s", err.msg);
        return;
    }
    memcpy(d->saved, now, n * sizeof(mn_addr));
    d->saved_count = n;
    d->anchors_saved++;
}

/* ---- start, metrics ------------------------------------------------------------------------ */

int mn__rd_book_start(mn_relay_driver *d, const mn_relay_driver_config *cfg, mn_err *err)
{
    d->ab = calloc(1, sizeof(*d->ab));
    if (d->ab == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "address book");
    uint8_t key[16], seed[8];
    mn_rng *rng = mn_rng_system();
    rng->fill(rng, key, sizeof key);
    rng->fill(rng, seed, sizeof seed);
    d->outbound_target = cfg->outbound_target ? cfg->outbound_target : MN_NODE_RELAY_OUTBOUND;
    if (d->outbound_target > MN_ADDRBOOK_OUTBOUND_MAX)
        d->outbound_target = MN_ADDRBOOK_OUTBOUND_MAX;
    d->feeler_ms = cfg->feeler_ms ? cfg->feeler_ms : MN_NODE_RELAY_FEELER_MS;
    d->announce_ms = cfg->announce_ms ? cfg->announce_ms : MN_NODE_RELAY_ANNOUNCE_MS;
    mn_addrbook_init(d->ab, key, mn_load_u64_le(seed), cfg->asmap, MN_ADDRBOOK_OUTBOUND_MAX,
                     MN_NODE_RELAY_REGION_MAX);
    d->addr_rate = (mn_relay_rate){MN_NODE_RELAY_ADDR_RATE_PER_S, MN_NODE_RELAY_ADDR_BURST};
    if (cfg->self_addr != NULL && cfg->self_addr->port != 0) {
        d->self_addr = *cfg->self_addr;
        memcpy(d->self_addr.node, d->self_id, MN_ID_BYTES);
        static const uint8_t any6[16], any4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        /* a wildcard listener has no address to announce */
        d->have_self = memcmp(d->self_addr.ip, any6, 16) != 0 &&
                       memcmp(d->self_addr.ip, any4, 16) != 0;
        d->self_loopback = is_loopback(d->self_addr.ip);
    }
    if (cfg->source_host != NULL && strlen(cfg->source_host) < sizeof d->source_host)
        strcpy(d->source_host, cfg->source_host);
    d->validator_addrs = calloc(cfg->validator_addr_count + 1u, sizeof(mn_addr));
    if (d->validator_addrs == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "address book");
    if (cfg->validator_addr_count > 0)
        memcpy(d->validator_addrs, cfg->validator_addrs,
               cfg->validator_addr_count * sizeof(mn_addr));
    d->validator_addr_count = cfg->validator_addr_count;
    const uint64_t now = mn__rd_now_ms();
    for (uint32_t i = 0; i < d->validator_addr_count; i++)
        if (memcmp(d->validator_addrs[i].node, d->self_id, MN_ID_BYTES) != 0)
            (void)mn_addrbook_add(d->ab, &d->validator_addrs[i], d->validator_addrs[i].ip, now);
    MN_TRY(mn_bpci_node_on_service(d->net, MN_NODE_SVC_ADDRS, on_addrs, d, err));
    if (cfg->anchors_path != NULL) {
        d->anchors_path = strdup(cfg->anchors_path);
        if (d->anchors_path == NULL)
            return mn_err_set(err, MN_ENOMEM, 0, "address book");
        mn_addr anchors[MN_ADDRBOOK_ANCHORS_MAX];
        uint32_t n = 0;
        mn_err aerr;
        if (mn_addrbook_anchors_load(d->anchors_path, anchors, &n, &aerr) != 0) {
            MN_LOG(WARN, "relay", "anchors file ignored: %s", aerr.msg);
            n = 0;
        }
        for (uint32_t i = 0; i < n; i++) { /* dialled first, as Bitcoin's anchors.dat */
            if (!addr_valid(d, &anchors[i]))
                continue;
            (void)mn_addrbook_add(d->ab, &anchors[i], anchors[i].ip, now);
            d->anchors_loaded++;
            (void)dial(d, &anchors[i], DIAL_ANCHOR, now);
        }
        memcpy(d->saved, anchors, n * sizeof(mn_addr));
        d->saved_count = n;
        if (n > 0)
            MN_LOG(INFO, "relay", "%u anchors from the last run dialled", n);
    }
    d->last_feeler_ms = d->last_announce_ms = d->last_anchor_save_ms = now;
    return 0;
}

void mn__rd_book_free(mn_relay_driver *d)
{
    free(d->ab);
    free(d->validator_addrs);
    free(d->anchors_path);
}

int mn__rd_book_metrics(const mn_relay_driver *d, mn_buf *out, mn_err *err)
{
    MN_TRY(mn_addrbook_metrics_write(d->ab, out, err));
#define APPEND(...) MN_TRY(mn_buf_appendf(out, err, __VA_ARGS__))
    APPEND("# HELP mn_relay_admission_total Inbound connections before the handshake, by "
           "result.\n# TYPE mn_relay_admission_total counter\n"
           "mn_relay_admission_total{result=\"admitted\"} %" PRIu64 "\n"
           "mn_relay_admission_total{result=\"validator\"} %" PRIu64 "\n"
           "mn_relay_admission_total{result=\"refused\"} %" PRIu64 "\n",
           d->admit_ok, d->admit_exempt, d->admit_refused);
    APPEND("# HELP mn_relay_addr_messages_total Address messages, by direction.\n"
           "# TYPE mn_relay_addr_messages_total counter\n"
           "mn_relay_addr_messages_total{dir=\"in\"} %" PRIu64 "\n"
           "mn_relay_addr_messages_total{dir=\"out\"} %" PRIu64 "\n"
           "mn_relay_addr_messages_total{dir=\"undecodable\"} %" PRIu64 "\n",
           d->addr_msgs_in, d->addr_msgs_out, d->addr_undecodable);
    APPEND("# HELP mn_relay_addrs_total Addresses received from peers, by fate.\n"
           "# TYPE mn_relay_addrs_total counter\n"
           "mn_relay_addrs_total{fate=\"received\"} %" PRIu64 "\n"
           "mn_relay_addrs_total{fate=\"added\"} %" PRIu64 "\n"
           "mn_relay_addrs_total{fate=\"rate_limited\"} %" PRIu64 "\n"
           "mn_relay_addrs_total{fate=\"invalid\"} %" PRIu64 "\n"
           "mn_relay_addrs_total{fate=\"px_added\"} %" PRIu64 "\n",
           d->addrs_in, d->addrs_added, d->addrs_rate_limited, d->addrs_refused, d->px_added);
    APPEND("# HELP mn_relay_dials_total Dials made by the relay driver, by kind and result.\n"
           "# TYPE mn_relay_dials_total counter\n");
    for (uint32_t i = DIAL_BOOK; i < DIAL_KINDS; i++)
        APPEND("mn_relay_dials_total{kind=\"%s\",result=\"started\"} %" PRIu64 "\n"
               "mn_relay_dials_total{kind=\"%s\",result=\"connected\"} %" PRIu64 "\n"
               "mn_relay_dials_total{kind=\"%s\",result=\"failed\"} %" PRIu64 "\n",
               kind_names[i], d->dials_started[i], kind_names[i], d->dial_ok[i], kind_names[i],
               d->dial_failed[i]);
    mn_addr anchors[MN_ADDRBOOK_ANCHORS_MAX];
    APPEND("# HELP mn_relay_outbound_peers Outbound peers the address book counts.\n"
           "# TYPE mn_relay_outbound_peers gauge\nmn_relay_outbound_peers %u\n"
           "# HELP mn_relay_anchors Anchors now (outbound peers kept across restarts).\n"
           "# TYPE mn_relay_anchors gauge\nmn_relay_anchors %u\n"
           "# HELP mn_relay_anchors_total Anchors loaded at start, and saves of the file.\n"
           "# TYPE mn_relay_anchors_total counter\n"
           "mn_relay_anchors_total{event=\"loaded\"} %" PRIu64 "\n"
           "mn_relay_anchors_total{event=\"saved\"} %" PRIu64 "\n",
           mn_addrbook_outbound_count(d->ab), mn_addrbook_anchors(d->ab, anchors),
           d->anchors_loaded, d->anchors_saved);
#undef APPEND
    return 0;
}
