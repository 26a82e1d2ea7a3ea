/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_driver_int.h (internal to src/node): the state of a relay driver (relay_driver.h),
 * shared by relay_driver.c (services, actions, held bytes, publishing, metrics) and
 * relay_book.c (who we talk to: admission before the handshake, the address book, address
 * gossip, outbound dials, feelers, test-before-evict and anchors). Loop thread only.
 */
#ifndef METANODE_NODE_RELAY_DRIVER_INT_H
#define METANODE_NODE_RELAY_DRIVER_INT_H

#include <uv.h>

#include "metanode/relay.h"
#include "metanode/relay_addrbook.h"
#include "relay_driver.h"

/* P5 (the application's score) per invalid block, transaction or address message, thousandths
 * of a point: with the default thresholds two invalid payloads put a peer below publish, three
 * below graylist. */
#define APP_PENALTY (-30000)

typedef struct held {
    uint64_t ref; /* 0: free */
    mn_buf bytes;
} held;

/* How a session came to be: dialled by the node (config peers, validators), or by the driver
 * from the address book, and why. */
typedef enum dial_kind {
    DIAL_NONE = 0, /* inbound, or dialled by the node */
    DIAL_BOOK,     /* an outbound slot filled from the book */
    DIAL_FEELER,   /* probe a new address, then close */
    DIAL_TEST,     /* test-before-evict: the occupant of a tried slot */
    DIAL_ANCHOR,   /* an anchor from the last run */
    DIAL_EXPLICIT, /* a bonded validator (explicit peer) that is not connected */
    DIAL_KINDS
} dial_kind;

typedef struct pending_dial {
    bool used;
    dial_kind kind;
    mn_addr addr;
    uint64_t deadline_ms;
} pending_dial;

typedef struct slot {
    bool up;
    uint8_t id[MN_ID_BYTES];
    bool ping_pending;
    uint64_t rtt_before_ns; /* the BPCI node's last round trip when we pinged */
    uint32_t app_invalid;
    /* where the session goes: for an outbound one the address dialled (its entry in the book),
     * for an inbound one the remote address (port 0 until it announces its listening port) */
    mn_addr addr;
    bool outbound, in_book, validator;
    dial_kind kind;
    mn_relay_bucket addr_budget; /* addresses we take from it */
} slot;

struct mn_relay_driver {
    uv_loop_t *loop;
    mn_bpci_node *net;
    mn_keypair key;
    uint8_t self_id[MN_ID_BYTES];
    uint8_t (*validators)[MN_ID_BYTES];
    uint32_t validator_count;
    mn_addr *validator_addrs;
    uint32_t validator_addr_count;
    mn_relay_driver_app app;
    mn_relay *r;
    mn_relay_actions *out;
    slot slots[MN_RELAY_PEERS_MAX];
    held *held;               /* MN_NODE_RELAY_HELD_MAX */
    uint64_t next_ref, oldest_ref, held_bytes;
    uint64_t seq;
    uv_timer_t hb;
    bool closing, closed;
    mn_buf scratch, payload;
    /* the address book and dialling (relay_book.c) */
    mn_addrbook *ab;
    mn_addr self_addr;
    bool have_self, self_loopback;
    char source_host[64];     /* "" : dials are not bound */
    char *anchors_path;       /* NULL: anchors are not kept */
    uint32_t outbound_target, feeler_ms, announce_ms;
    pending_dial dials[MN_NODE_RELAY_DIALS_MAX];
    uint64_t last_feeler_ms, last_announce_ms, last_anchor_save_ms;
    mn_addr saved[MN_ADDRBOOK_ANCHORS_MAX];
    uint32_t saved_count;
    mn_relay_rate addr_rate;
    /* counters */
    uint64_t app_invalid[MN_RELAY_TOPICS_COUNT], app_accepted[MN_RELAY_TOPICS_COUNT];
    uint64_t app_applied[MN_RELAY_TOPICS_COUNT];
    uint64_t publish_failed, held_dropped, send_failed, px_seen, dials_left, disconnects;
    uint64_t peers_refused;
    uint64_t admit_ok, admit_exempt, admit_refused;
    uint64_t addr_msgs_in, addr_msgs_out, addr_undecodable, addrs_in, addrs_added;
    uint64_t addrs_rate_limited, addrs_refused, px_added;
    uint64_t dials_started[DIAL_KINDS], dial_ok[DIAL_KINDS], dial_failed[DIAL_KINDS];
    uint64_t anchors_loaded, anchors_saved;
};

uint64_t mn__rd_now_ms(void);
/* Sends to the peer in slot `peer` (counted when it fails). */
void mn__rd_send(mn_relay_driver *d, uint32_t peer, uint16_t svc, const uint8_t *b, size_t len);
void mn__rd_penalise(mn_relay_driver *d, uint32_t peer, const char *what);
bool mn__rd_is_validator(const mn_relay_driver *d, const uint8_t id[MN_ID_BYTES]);
int mn__rd_slot_find(const mn_relay_driver *d, const uint8_t id[MN_ID_BYTES]);

/* relay_book.c */
int mn__rd_book_start(mn_relay_driver *d, const mn_relay_driver_config *cfg, mn_err *err);
/* Fills info's address fields and the slot's from the BPCI session (peer up). */
void mn__rd_book_peer_up(mn_relay_driver *d, uint32_t s, mn_relay_peer_info *info);
/* After the relay knows the peer: announcements, feelers closed. */
void mn__rd_book_peer_ready(mn_relay_driver *d, uint32_t s);
void mn__rd_book_peer_down(mn_relay_driver *d, uint32_t s);
void mn__rd_book_px(mn_relay_driver *d, uint32_t peer, const mn_relay_px *px);
/* A missing explicit peer (a validator that bonded after genesis): dialled at an address the
 * book holds for its node id. false when it is a genesis validator (the node's persistent
 * dials cover those) or the book knows no address for it. */
bool mn__rd_book_dial_node(mn_relay_driver *d, const uint8_t node[MN_ID_BYTES]);
void mn__rd_book_dropped(mn_relay_driver *d, uint32_t peer);
/* Every heartbeat: dial timeouts, collisions, outbound top-up, feelers, announcements,
 * anchors. */
void mn__rd_book_tick(mn_relay_driver *d, uint64_t now);
void mn__rd_book_save_anchors(mn_relay_driver *d, bool force);
void mn__rd_book_free(mn_relay_driver *d);
int mn__rd_book_metrics(const mn_relay_driver *d, mn_buf *out, mn_err *err);

#endif
