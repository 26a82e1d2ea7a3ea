/* SPDX-License-Identifier: Apache-2.0
 *
 * bpci_node.h: the BPCI runtime on libuv: a node listens and dials, runs many BPCI sessions
 * (bpci.h) at once, and offers the small API that consensus, relay and the cluster use:
 * send(peer, service, bytes), a receive callback per service, and peer up/down events.
 *
 * Resource rules: a handshake must finish within handshake_timeout_ms; a session that receives
 * nothing for idle_timeout_ms is closed (each side pings after keepalive_ms of silence, so a
 * healthy idle session stays up); each session's write queue is capped (send returns
 * MN_ELIMIT: back-pressure, the caller retries or drops); pending handshakes are capped in
 * total and per remote IP, and sessions per remote IP, so a flood of half-open connections
 * costs at most (pending cap) x (one session, ~66 KiB) and never exhausts descriptors: excess
 * connections are accepted and closed at once. Each remote IP also has a token bucket of
 * inbound connections (a handshake costs ~0.3 ms of CPU), so one address cannot keep the node
 * busy with handshakes. An optional admission hook (the relay's per-group limits) sees every
 * accepted TCP connection's remote address before any crypto and may refuse it. Every refusal
 * is counted in the metrics. A dial that connects to itself (a same-host port with no
 * listener: TCP simultaneous open) is closed as a failed dial.
 * Persistent dials redial after a loss with exponential back-off and jitter.
 *
 * Everything runs on the one loop thread given at creation; no function is thread-safe. This
 * header does not include uv.h, so pure layers can include it without depending on libuv.
 */
#ifndef METANODE_BPCI_NODE_H
#define METANODE_BPCI_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bpci.h"

struct uv_loop_s;
struct sockaddr;
typedef struct mn_bpci_node mn_bpci_node;

/* The address group counted by the per-IP limits (prefix.c): an IPv4 address, or the /64 of
 * an IPv6 address (an IPv4-mapped IPv6 address counts as its IPv4 address). Byte 0 is 4 or 6,
 * then the 4 address or 8 prefix bytes, then zeros: compare with memcmp. */
typedef struct mn_bpci_prefix {
    uint8_t bytes[17];
} mn_bpci_prefix;
#define MN_BPCI_PREFIX_TEXT_BYTES 64u

/* False for a family other than AF_INET and AF_INET6. */
bool mn_bpci_addr_prefix(const struct sockaddr *sa, mn_bpci_prefix *out);
/* "192.0.2.7" or "2001:db8:1:2::/64". */
void mn_bpci_prefix_text(const mn_bpci_prefix *p, char out[static MN_BPCI_PREFIX_TEXT_BYTES]);

typedef struct mn_bpci_metrics {
    uint64_t accepted;              /* inbound connections accepted by the kernel */
    uint64_t refused_pending;       /* refused: too many pending handshakes in total */
    uint64_t refused_per_ip;        /* refused: too many pending or sessions from that IP */
    uint64_t refused_sessions;      /* refused: too many sessions in total */
    uint64_t refused_rate;          /* refused: connection rate from that IP above its bucket */
    uint64_t refused_admit;         /* refused by the admission hook, before the handshake */
    uint64_t self_connects;         /* dials that connected to themselves (closed as failed) */
    uint64_t handshake_timeouts;
    uint64_t handshake_failures;    /* bad preamble, failed authentication, wrong identity */
    uint64_t replayed_handshakes;   /* IK first messages refused as replays (replay cache) */
    uint64_t protocol_errors;       /* established sessions closed for a bad record or frame */
    uint64_t refused_services;      /* closed for speaking on a service not allowed to it */
    uint64_t idle_timeouts;
    uint64_t established;           /* handshakes completed, both directions */
    uint64_t duplicate_sessions;    /* established while another session to that peer existed */
    uint64_t dial_failures;
    uint64_t redials;
    uint64_t messages_in, messages_out;
    uint64_t send_refused_backpressure;
    uint32_t sessions_active, pending_active;
} mn_bpci_metrics;

/* A whole message on a service from an authenticated peer; data is valid during the call. */
typedef void (*mn_bpci_recv_fn)(void *ctx, const uint8_t peer_id[MN_ID_BYTES],
                                uint16_t service, const uint8_t *data, size_t len);
/* The first session with peer_id came up (up = true), or its last session went away. */
typedef void (*mn_bpci_peer_fn)(void *ctx, const uint8_t peer_id[MN_ID_BYTES], bool up);
/* Admission of an accepted inbound TCP connection before any crypto: ip is the remote address
 * (IPv6, or IPv4 as ::ffff:a.b.c.d), port its source port. false closes it at once (counted in
 * refused_admit). Runs before the node's own per-IP limits. */
typedef bool (*mn_bpci_admit_fn)(void *ctx, const uint8_t ip[16], uint16_t port);

/* Where a peer's announced session goes: the remote address (IPv6, or IPv4 as ::ffff:a.b.c.d)
 * and port, and whether the peer dialled us (inbound) or we dialled it. For a dial, ip:port is
 * the address dialled. */
typedef struct mn_bpci_peer_addr {
    uint8_t ip[16];
    uint16_t port;
    bool inbound;
} mn_bpci_peer_addr;

typedef struct mn_bpci_node_config {
    const mn_bpci_identity *self;      /* borrowed for the node's lifetime */
    const mn_bpci_registry *registry;  /* borrowed; the services peers may speak on */
    uint32_t handshake_timeout_ms;     /* 0: 5,000 */
    uint32_t idle_timeout_ms;          /* 0: 30,000 */
    uint32_t keepalive_ms;             /* 0: 10,000 */
    uint32_t tick_ms;                  /* timer sweep period; 0: 100 */
    size_t write_queue_bytes_max;      /* per session; 0: 16 MiB */
    uint32_t pending_max;              /* pending handshakes in total; 0: 128 */
    uint32_t pending_per_ip_max;       /* 0: 8; "per IP" = per IPv4 address or IPv6 /64 */
    uint32_t sessions_per_ip_max;      /* 0: 16 */
    uint32_t sessions_max;             /* 0: 1,024 */
    uint32_t accept_rate_per_ip;       /* inbound connections per second per IP; 0: 20 */
    uint32_t accept_burst_per_ip;      /* bucket size; 0: 40 */
    uint32_t redial_base_ms;           /* first redial delay; 0: 250 */
    uint32_t redial_max_ms;            /* 0: 30,000 */
    uint64_t rekey_after;              /* tests only: 0 is the protocol's MN_BPCI_REKEY_MESSAGES */
    mn_bpci_peer_fn on_peer;
    mn_bpci_admit_fn admit;            /* may be NULL: every connection passes to the limits */
    void *ctx;                         /* for on_peer and admit */
} mn_bpci_node_config;

/* Creates a node on loop. The node keeps a copy of cfg (the pointers in it are borrowed).
 * Sets SIGPIPE to ignored for the process: a peer resetting a connection must not kill it. */
int mn_bpci_node_new(struct uv_loop_s *loop, const mn_bpci_node_config *cfg,
                     mn_bpci_node **out, mn_err *err);
/* Listens on host:port (IPv4 or IPv6 literal; port 0 picks one, returned in *bound_port). */
int mn_bpci_node_listen(mn_bpci_node *node, const char *host, uint16_t port,
                        uint16_t *bound_port, mn_err *err);
/* Dials host:port. peer_id (may be NULL) is the expected identity; peer_static (may be NULL)
 * selects IK with that X25519 key, else XX. persistent: redial after failures and losses until
 * the node closes; a dial that is not persistent is forgotten when its connection closes.
 * source_host (may be NULL) binds the local address (tests use 127.0.0.x; "a.b.c.d:port" binds
 * the source port too). */
int mn_bpci_node_dial(mn_bpci_node *node, const char *host, uint16_t port,
                      const uint8_t *peer_id, const uint8_t *peer_static, bool persistent,
                      const char *source_host, mn_err *err);
/* Sets the receive callback of a service (replacing any). MN_ELIMIT beyond
 * MN_BPCI_SERVICES_MAX services. */
int mn_bpci_node_on_service(mn_bpci_node *node, uint16_t service, mn_bpci_recv_fn fn,
                            void *ctx, mn_err *err);
/* Queues a message to an established peer. MN_ENOTFOUND without a session to it, MN_ELIMIT
 * when its write queue is full (back-pressure) or the message is too large. */
int mn_bpci_node_send(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                      uint16_t service, const uint8_t *data, size_t len, mn_err *err);
/* Closes the session with the peer (CLOSE with reason, then shutdown); a persistent dial to
 * it stops redialing. MN_ENOTFOUND without a session. */
int mn_bpci_node_disconnect(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                            uint8_t reason, mn_err *err);
/* Sends a ping to the peer; on_pong-style round trips are reported by mn_bpci_node_rtt_ns. */
int mn_bpci_node_ping(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                      mn_err *err);
/* Last measured round trip to the peer in ns (0 if none yet or no session). */
uint64_t mn_bpci_node_rtt_ns(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES]);
bool mn_bpci_node_connected(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES]);
/* The address of the session reported up for peer_id (valid from its on_peer up call). false
 * without one. */
bool mn_bpci_node_peer_addr(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                            mn_bpci_peer_addr *out);
mn_bpci_metrics mn_bpci_node_metrics(const mn_bpci_node *node);
/* Appends the metrics in the Prometheus text format (mn_bpci_<name> lines) to out. */
int mn_bpci_metrics_prometheus(const mn_bpci_metrics *m, mn_buf *out, mn_err *err);

/* Graceful close: sends CLOSE on every session, waits for queued writes (at most
 * handshake_timeout_ms) and closes every handle. Run the loop until mn_bpci_node_closed, then
 * call mn_bpci_node_free. */
void mn_bpci_node_close(mn_bpci_node *node);
bool mn_bpci_node_closed(const mn_bpci_node *node);
/* Frees a closed node whose handles have all closed (asserted). NULL is accepted. */
void mn_bpci_node_free(mn_bpci_node *node);

#endif
