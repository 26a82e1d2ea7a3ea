/* SPDX-License-Identifier: Apache-2.0
 *
 * transport_uv.c: the BPCI runtime on libuv (bpci_node.h). Each TCP connection owns one pure
 * session (session.c); this file moves bytes between the socket and the session, enforces the
 * resource caps when a connection arrives, sweeps deadlines (handshake, idle, keepalive) with
 * one node-wide timer, bounds each session's write queue, and redials persistent peers with
 * exponential back-off and equal jitter. Refusals are counted in the metrics and logged with
 * the remote address; under a flood the log lines are rate-limited to powers of two.
 *
 * Writes: a session encrypts into its output buffer; flush tries to write it at once
 * (uv_try_write, so the buffer is reused while still in cache) and hands only what the kernel
 * did not take to one uv_write. While that write is in flight, further messages accumulate
 * in the output buffer and leave in one write when it completes: at most one write request
 * per connection, two buffers that swap, no allocation per message or per flush. Reads: a
 * record that straddles reads is completed by reading its rest straight into the session's
 * record buffer (mn_bpci_session_recv_space); everything else lands in one node-wide buffer.
 *
 * Deliberately simple: connections are kept in one list and looked up by scanning (hundreds of
 * sessions, not millions). Structs that embed a libuv handle are freed only from its close
 * callback.
 */
#include "metanode/bpci_node.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <uv.h>

#include "metanode/clock.h"
#include "metanode/log.h"

/* One read buffer for the whole node: read_cb hands the bytes to the session at once (it keeps
 * what it needs in its own record buffer), so connections need no read buffer of their own. */
#define READ_BUF_BYTES (256u * 1024u) /* several records per read: most skip a copy */
/* A connection's spare output buffer is kept up to this size; idle connections drop buffers
 * above IDLE_BUF_BYTES_MAX at the next sweep, so only busy sessions hold large buffers. */
#define SPARE_BUF_BYTES_MAX (8u * 1024u * 1024u)
#define IDLE_BUF_BYTES_MAX (256u * 1024u)
/* Remote addresses whose connection rate is tracked; the least recently seen is forgotten
 * first, so an attacker with many addresses is bounded by the total caps instead. */
#define RATE_IPS 256u

typedef struct dialer dialer;
typedef struct conn conn;

struct conn {
    uv_tcp_t tcp; /* first: the handle's data points back to the conn anyway */
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    mn_bpci_node *node;
    conn *prev, *next;
    dialer *dialer;
    char ip[64];
    uint8_t rip[16];     /* remote address, IPv4 as ::ffff:a.b.c.d (zero: unknown) */
    uint16_t rport;
    mn_bpci_prefix prefix; /* what the per-IP limits count (an IPv4 address, an IPv6 /64) */
    bool inbound, counted_pending, established, closing;
    bool writing;        /* the write request below is in flight */
    bool want_shutdown;  /* shut the socket down once everything queued is written */
    bool shutting;
    bool direct_read;    /* alloc_cb offered the session's own record buffer */
    bool announced; /* the session reported up for its peer (one per peer at a time) */
    uint64_t started_ms, last_rx_ms, last_tx_ms;
    size_t queued;       /* bytes of the write in flight */
    uint64_t ping_sent_ns, rtt_ns;
    uv_write_t write_req;
    uint8_t *wdata;      /* the buffer of the write in flight (was the session's output) */
    size_t wcap;
    uint8_t *spare;      /* a former output buffer, to swap in at the next handoff */
    size_t spare_cap;
    mn_bpci_session *s; /* allocated once the connection is admitted (~66 KiB) */
};

struct dialer {
    uv_timer_t timer;
    mn_bpci_node *node;
    dialer *next;
    conn *conn;
    struct sockaddr_storage addr, src;
    bool has_src, has_peer_id, has_static, persistent;
    uint8_t peer_id[MN_ID_BYTES], peer_static[MN_NOISE_DH_BYTES];
    unsigned attempts;
};

struct mn_bpci_node {
    uv_loop_t *loop;
    mn_bpci_node_config cfg;
    uv_tcp_t listener;
    uv_timer_t tick;
    bool listening, closing, tick_closed;
    uint64_t close_started_ms;
    conn *conns;
    dialer *dialers;
    struct {
        uint16_t service;
        mn_bpci_recv_fn fn;
        void *ctx;
    } services[MN_BPCI_SERVICES_MAX];
    uint32_t services_count;
    mn_bpci_metrics m;
    mn_bpci_replay_cache replay; /* IK first messages seen lately */
    unsigned open_handles;
    struct {
        mn_bpci_prefix prefix;
        uint64_t last_ms;
        uint64_t milli_tokens; /* a token bucket in thousandths of a connection */
    } rate[RATE_IPS];
    uint8_t rbuf[READ_BUF_BYTES]; /* ciphertext only: plaintext stays in the sessions */
};

static void conn_close(conn *c);
static void dialer_start(dialer *d);
static void close_tick(mn_bpci_node *node);
static void shutdown_cb(uv_shutdown_t *req, int status);

/* Logs the first refusal of a kind and then every power of two, so floods stay readable. */
static void log_refusal(const conn *c, const char *why, uint64_t count)
{
    if ((count & (count - 1)) != 0)
        return;
    char group[MN_BPCI_PREFIX_TEXT_BYTES] = "";
    if (c->prefix.bytes[0] == 6) /* IPv6 limits count the whole /64 */
        mn_bpci_prefix_text(&c->prefix, group);
    MN_LOG(WARN, "bpci", "refused connection from %s%s%s: %s (refusals of this kind: %llu)",
           c->ip, group[0] ? " in " : "", group, why, (unsigned long long)count);
}

static uint64_t now_ms(const mn_bpci_node *node)
{
    return uv_now(node->loop);
}

/* ---- writing ------------------------------------------------------------------------------ */

static void flush(conn *c);

/* Starts the graceful shutdown once nothing remains to be written. */
static void maybe_shutdown(conn *c)
{
    if (!c->want_shutdown || c->shutting || c->closing || c->writing ||
        (c->s && c->s->out.len > 0))
        return;
    c->shutting = true;
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, shutdown_cb) != 0)
        conn_close(c);
}

static void write_cb(uv_write_t *req, int status)
{
    conn *c = req->data;
    MN_ASSERT(c->writing);
    c->writing = false;
    c->queued = 0;
    if (c->spare == NULL && c->wcap <= SPARE_BUF_BYTES_MAX && !c->closing) {
        c->spare = c->wdata;
        c->spare_cap = c->wcap;
    } else {
        free(c->wdata);
    }
    c->wdata = NULL;
    if (c->closing)
        return;
    if (status < 0) {
        MN_LOG(INFO, "bpci", "write to %s failed: %s", c->ip, uv_strerror(status));
        conn_close(c);
        return;
    }
    flush(c); /* what accumulated meanwhile */
    maybe_shutdown(c);
}

/* Hands whatever the session produced to the socket: written at once when the kernel takes
 * it, else one write request (at most one in flight; later output waits for it). */
static void flush(conn *c)
{
    if (c->closing || !c->s || c->s->out.len == 0)
        return;
    c->last_tx_ms = now_ms(c->node);
    if (c->writing)
        return;
    mn_buf *out = &c->s->out;
    uv_buf_t buf = uv_buf_init((char *)out->data, (unsigned)out->len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
    if (n == (int)out->len) {
        out->len = 0;
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        MN_LOG(INFO, "bpci", "write to %s failed: %s", c->ip, uv_strerror(n));
        conn_close(c);
        return;
    }
    const size_t off = n > 0 ? (size_t)n : 0;
    c->wcap = out->cap;
    size_t len;
    c->wdata = mn_buf_take(out, &len);
    out->data = c->spare; /* the session's next output goes into the spare (or a new one) */
    out->cap = c->spare ? c->spare_cap : 0;
    c->spare = NULL;
    c->spare_cap = 0;
    c->write_req.data = c;
    buf = uv_buf_init((char *)c->wdata + off, (unsigned)(len - off));
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, write_cb) != 0) {
        free(c->wdata);
        c->wdata = NULL;
        conn_close(c);
        return;
    }
    c->writing = true;
    c->queued = len - off;
}

/* Drops the large buffers of a connection that has nothing to write. */
static void trim_buffers(conn *c)
{
    if (c->spare && c->spare_cap > IDLE_BUF_BYTES_MAX) {
        free(c->spare);
        c->spare = NULL;
        c->spare_cap = 0;
    }
    if (c->s && c->s->out.len == 0 && c->s->out.cap > IDLE_BUF_BYTES_MAX)
        mn_buf_deinit(&c->s->out);
}

/* ---- session callbacks -------------------------------------------------------------------- */

static uint32_t count_from_ip(const mn_bpci_node *node, const mn_bpci_prefix *p,
                              bool established)
{
    uint32_t n = 0;
    for (const conn *c = node->conns; c; c = c->next)
        if (!c->closing && c->inbound && c->established == established &&
            memcmp(&c->prefix, p, sizeof *p) == 0)
            n++;
    return n;
}

/* The first established, not closing session with peer_id other than `except`; with
 * `announced`, only the one reported up. */
static conn *find_other(mn_bpci_node *node, const uint8_t peer_id[MN_ID_BYTES],
                        const conn *except, bool announced)
{
    for (conn *c = node->conns; c; c = c->next)
        if (c != except && c->established && !c->closing && (!announced || c->announced) &&
            sodium_memcmp(c->s->peer_id, peer_id, MN_ID_BYTES) == 0)
            return c;
    return NULL;
}

/* A session that can carry a message to peer_id now. */
static conn *find_peer(mn_bpci_node *node, const uint8_t peer_id[MN_ID_BYTES])
{
    for (conn *c = node->conns; c; c = c->next)
        if (c->established && !c->closing && c->s->state == MN_BPCI_ESTABLISHED &&
            sodium_memcmp(c->s->peer_id, peer_id, MN_ID_BYTES) == 0)
            return c;
    return NULL;
}

static void on_established(void *ctx, const uint8_t peer_id[MN_ID_BYTES])
{
    conn *c = ctx;
    mn_bpci_node *node = c->node;
    if (c->inbound && count_from_ip(node, &c->prefix, true) >= node->cfg.sessions_per_ip_max) {
        log_refusal(c, "too many sessions from this address", ++node->m.refused_per_ip);
        mn_bpci_session_close(c->s, 0); /* stops delivery of what follows in this read */
        conn_close(c);
        return;
    }
    if (node->m.sessions_active >= node->cfg.sessions_max) {
        log_refusal(c, "too many sessions", ++node->m.refused_sessions);
        mn_bpci_session_close(c->s, 0);
        conn_close(c);
        return;
    }
    c->established = true;
    c->counted_pending = false;
    node->m.pending_active--;
    node->m.sessions_active++;
    node->m.established++;
    c->last_rx_ms = now_ms(node);
    if (c->dialer)
        c->dialer->attempts = 0;
    char hex[17];
    mn_hex_encode(hex, peer_id, 8);
    MN_LOG(INFO, "bpci", "session up with %s (peer %s...)", c->ip, hex);
    /* Peer events describe reachability: up for the first session with a peer, down when
     * its last one goes (two nodes dialing each other get two sessions; both carry traffic). */
    if (find_other(node, peer_id, c, true) != NULL) {
        node->m.duplicate_sessions++;
        return;
    }
    c->announced = true;
    if (node->cfg.on_peer)
        node->cfg.on_peer(node->cfg.ctx, peer_id, true);
}

static void on_message(void *ctx, uint16_t service, const uint8_t *data, size_t len)
{
    conn *c = ctx;
    mn_bpci_node *node = c->node;
    node->m.messages_in++;
    for (uint32_t i = 0; i < node->services_count; i++)
        if (node->services[i].service == service) {
            node->services[i].fn(node->services[i].ctx, c->s->peer_id, service, data, len);
            return;
        }
}

static void on_pong(void *ctx, const uint8_t token[8])
{
    conn *c = ctx;
    const uint64_t sent = mn_load_u64_le(token);
    if (sent == c->ping_sent_ns && sent != 0)
        c->rtt_ns = uv_hrtime() - sent;
}

static void on_close(void *ctx, uint8_t reason)
{
    conn *c = ctx;
    MN_LOG(INFO, "bpci", "peer %s closed the session (reason %u)", c->ip, reason);
}

static int session_start(conn *c, const mn_bpci_config *cfg, mn_err *err)
{
    const mn_bpci_callbacks cb = {.ctx = c, .on_established = on_established,
                                  .on_message = on_message, .on_pong = on_pong,
                                  .on_close = on_close};
    c->s = malloc(sizeof *c->s);
    if (!c->s)
        return mn_err_set(err, MN_ENOMEM, 0, "bpci: out of memory");
    int rc = mn_bpci_session_init(c->s, cfg, &cb, err);
    if (rc != 0) {
        free(c->s);
        c->s = NULL;
    }
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = h->data;
    (void)suggested;
    size_t cap = 0;
    uint8_t *space = c->s ? mn_bpci_session_recv_space(c->s, &cap) : NULL;
    c->direct_read = space != NULL;
    if (space) /* the rest of a straddling record, straight into the session's buffer */
        *buf = uv_buf_init((char *)space, (unsigned)cap);
    else
        *buf = uv_buf_init((char *)c->node->rbuf, sizeof c->node->rbuf);
}

static void count_failure(conn *c, bool in_handshake, const mn_err *err)
{
    mn_bpci_metrics *m = &c->node->m;
    if (in_handshake && err->code == MN_EEXIST)
        m->replayed_handshakes++;
    else if (in_handshake)
        m->handshake_failures++;
    else if (err->code == MN_EPERM)
        m->refused_services++;
    else
        m->protocol_errors++;
    MN_LOG(WARN, "bpci", "closing %s from %s: %s (%s)",
           in_handshake ? "handshake" : "session", c->ip, err->msg, mn_code_name(err->code));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = stream->data;
    if (c->closing || nread == 0)
        return;
    if (nread < 0) {
        if (nread != UV_EOF)
            MN_LOG(INFO, "bpci", "read from %s: %s", c->ip, uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    c->last_rx_ms = now_ms(c->node);
    const bool in_handshake = !c->established;
    mn_err err;
    int rc = c->direct_read
                 ? mn_bpci_session_recv_commit(c->s, (size_t)nread, &err)
                 : mn_bpci_session_recv(c->s, (const uint8_t *)buf->base, (size_t)nread, &err);
    flush(c);
    if (rc != 0) {
        count_failure(c, in_handshake, &err);
        conn_close(c);
    } else if (c->s->state == MN_BPCI_CLOSED) {
        conn_close(c);
    }
}

/* ---- connections -------------------------------------------------------------------------- */

static conn *conn_new(mn_bpci_node *node, bool inbound)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->node = node;
    c->inbound = inbound;
    MN_ASSERT(uv_tcp_init(node->loop, &c->tcp) == 0);
    c->tcp.data = c;
    node->open_handles++;
    c->next = node->conns;
    if (node->conns)
        node->conns->prev = c;
    node->conns = c;
    c->started_ms = now_ms(node);
    c->counted_pending = true;
    node->m.pending_active++;
    return c;
}

static void redial_cb(uv_timer_t *t)
{
    dialer_start(t->data);
}

static void redial_later(dialer *d)
{
    mn_bpci_node *node = d->node;
    unsigned shift = d->attempts < 16 ? d->attempts : 16;
    uint64_t delay = (uint64_t)node->cfg.redial_base_ms << shift;
    if (delay > node->cfg.redial_max_ms)
        delay = node->cfg.redial_max_ms;
    delay = delay / 2 + randombytes_uniform((uint32_t)(delay / 2 + 1)); /* equal jitter */
    d->attempts++;
    uv_timer_start(&d->timer, redial_cb, delay, 0);
}

static void dialer_closed_cb(uv_handle_t *h);

/* A dial that is done (not persistent, its connection closed): unlinked and freed. */
static void dialer_forget(dialer *d)
{
    mn_bpci_node *node = d->node;
    for (dialer **pp = &node->dialers; *pp != NULL; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, dialer_closed_cb);
}

static void conn_closed_cb(uv_handle_t *h)
{
    conn *c = h->data;
    mn_bpci_node *node = c->node;
    if (c->prev)
        c->prev->next = c->next;
    else
        node->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->dialer) {
        c->dialer->conn = NULL;
        if (c->dialer->persistent && !node->closing)
            redial_later(c->dialer);
        else if (!node->closing)
            dialer_forget(c->dialer);
    }
    if (c->s) {
        mn_bpci_session_deinit(c->s);
        free(c->s);
    }
    free(c->spare);
    free(c->wdata); /* a write cancelled by the close (its callback ran first) */
    free(c);
    node->open_handles--;
    if (node->closing && node->conns == NULL)
        close_tick(node);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    mn_bpci_node *node = c->node;
    c->closing = true;
    if (c->counted_pending)
        node->m.pending_active--;
    c->counted_pending = false;
    if (c->established) {
        node->m.sessions_active--;
        conn *heir = c->announced ? find_other(node, c->s->peer_id, c, false) : NULL;
        if (heir) /* another session with the peer remains: it stays up, silently */
            heir->announced = true;
        else if (c->announced && node->cfg.on_peer)
            node->cfg.on_peer(node->cfg.ctx, c->s->peer_id, false);
        c->announced = false;
    }
    uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
}

static void set_ip(conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    strcpy(c->ip, "?");
    memset(&c->prefix, 0, sizeof c->prefix); /* unknown addresses share one group */
    memset(c->rip, 0, sizeof c->rip);
    c->rport = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    (void)mn_bpci_addr_prefix((struct sockaddr *)&ss, &c->prefix);
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
        uv_ip4_name(a, c->ip, sizeof c->ip);
        c->rip[10] = c->rip[11] = 0xff;
        memcpy(c->rip + 12, &a->sin_addr, 4);
        c->rport = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, c->ip, sizeof c->ip);
        memcpy(c->rip, &a->sin6_addr, 16);
        c->rport = ntohs(a->sin6_port);
    }
}

/* A dial to a same-host port with no listener can connect to itself (TCP simultaneous open
 * when the kernel picks that very port as the source): the local and remote ends are equal. */
static bool self_connected(conn *c)
{
    struct sockaddr_storage a, b;
    int la = sizeof a, lb = sizeof b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&a, &la) != 0 ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&b, &lb) != 0)
        return false;
    return la == lb && memcmp(&a, &b, (size_t)la) == 0;
}

/* Takes one token from the bucket of the connection's prefix; false when it is empty. */
static bool rate_take(mn_bpci_node *node, const mn_bpci_prefix *p)
{
    const uint64_t now = now_ms(node);
    const uint64_t burst = (uint64_t)node->cfg.accept_burst_per_ip * 1000u;
    unsigned slot = 0;
    for (unsigned i = 0; i < RATE_IPS; i++) {
        if (memcmp(&node->rate[i].prefix, p, sizeof *p) == 0) {
            slot = i;
            break;
        }
        if (node->rate[i].last_ms < node->rate[slot].last_ms)
            slot = i; /* least recently seen so far, the one to forget */
    }
    if (memcmp(&node->rate[slot].prefix, p, sizeof *p) != 0) {
        node->rate[slot].prefix = *p;
        node->rate[slot].milli_tokens = burst;
    } else {
        const uint64_t refill = (now - node->rate[slot].last_ms) * node->cfg.accept_rate_per_ip;
        node->rate[slot].milli_tokens += refill; /* thousandths per ms = connections per s */
        if (node->rate[slot].milli_tokens > burst)
            node->rate[slot].milli_tokens = burst;
    }
    node->rate[slot].last_ms = now;
    if (node->rate[slot].milli_tokens < 1000)
        return false;
    node->rate[slot].milli_tokens -= 1000;
    return true;
}

/* Why an inbound connection must be refused, or NULL. */
static const char *admission(mn_bpci_node *node, conn *c)
{
    mn_bpci_metrics *m = &node->m;
    if (node->closing)
        return "closing";
    if (node->cfg.admit != NULL && !node->cfg.admit(node->cfg.ctx, c->rip, c->rport)) {
        log_refusal(c, "refused by the admission policy", ++m->refused_admit);
        return "admission";
    }
    if (!rate_take(node, &c->prefix)) {
        log_refusal(c, "connection rate from this address", ++m->refused_rate);
        return "rate";
    }
    if (m->pending_active > node->cfg.pending_max) { /* this conn is already counted */
        log_refusal(c, "too many pending handshakes", ++m->refused_pending);
        return "pending";
    }
    if (count_from_ip(node, &c->prefix, false) > node->cfg.pending_per_ip_max) {
        log_refusal(c, "too many pending handshakes from this address", ++m->refused_per_ip);
        return "pending per ip";
    }
    if (m->sessions_active >= node->cfg.sessions_max) {
        log_refusal(c, "too many sessions", ++m->refused_sessions);
        return "sessions";
    }
    return NULL;
}

static void connection_cb(uv_stream_t *server, int status)
{
    mn_bpci_node *node = server->data;
    if (status < 0) {
        MN_LOG(WARN, "bpci", "accept: %s", uv_strerror(status));
        return;
    }
    conn *c = conn_new(node, true);
    if (!c)
        return;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    node->m.accepted++;
    set_ip(c);
    mn_err err;
    const mn_bpci_config cfg = {.self = node->cfg.self, .registry = node->cfg.registry,
                                .rekey_after = node->cfg.rekey_after, .replay = &node->replay};
    if (admission(node, c) != NULL || session_start(c, &cfg, &err) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0)
        conn_close(c);
}

/* ---- dialing ------------------------------------------------------------------------------ */

static void connect_cb(uv_connect_t *req, int status)
{
    conn *c = req->data;
    mn_bpci_node *node = c->node;
    if (c->closing)
        return;
    if (status < 0) {
        node->m.dial_failures++;
        MN_LOG(INFO, "bpci", "dial failed: %s", uv_strerror(status));
        conn_close(c);
        return;
    }
    set_ip(c);
    if (self_connected(c)) {
        node->m.dial_failures++;
        node->m.self_connects++;
        MN_LOG(INFO, "bpci", "dial to %s connected to itself: closed", c->ip);
        conn_close(c);
        return;
    }
    dialer *d = c->dialer;
    const mn_bpci_config cfg = {.self = node->cfg.self, .registry = node->cfg.registry,
                                .initiator = true,
                                .pattern = d->has_static ? MN_NOISE_IK : MN_NOISE_XX,
                                .expected_peer_id = d->has_peer_id ? d->peer_id : NULL,
                                .remote_static = d->has_static ? d->peer_static : NULL,
                                .rekey_after = node->cfg.rekey_after};
    mn_err err;
    if (session_start(c, &cfg, &err) != 0) {
        MN_LOG(WARN, "bpci", "dial %s: %s", c->ip, err.msg);
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    flush(c);
    if (!c->closing && uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0)
        conn_close(c);
}

static void dialer_start(dialer *d)
{
    mn_bpci_node *node = d->node;
    if (node->closing || d->conn)
        return;
    if (d->attempts > 0)
        node->m.redials++;
    conn *c = conn_new(node, false);
    if (!c)
        return;
    c->dialer = d;
    d->conn = c;
    c->connect_req.data = c;
    snprintf(c->ip, sizeof c->ip, "(dialing)");
    if (d->has_src)
        (void)uv_tcp_bind(&c->tcp, (const struct sockaddr *)&d->src, 0);
    int rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&d->addr,
                            connect_cb);
    if (rc != 0) {
        node->m.dial_failures++;
        conn_close(c);
    }
}

static int parse_addr(const char *host, uint16_t port, struct sockaddr_storage *ss, mn_err *err)
{
    memset(ss, 0, sizeof *ss);
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return mn_err_set(err, MN_EINVAL, 0, "bpci: \"%.64s\" is not an IP address", host);
}

int mn_bpci_node_dial(mn_bpci_node *node, const char *host, uint16_t port,
                      const uint8_t *peer_id, const uint8_t *peer_static, bool persistent,
                      const char *source_host, mn_err *err)
{
    if (node->closing)
        return mn_err_set(err, MN_ESTATE, 0, "bpci: node is closing");
    dialer *d = calloc(1, sizeof *d);
    if (!d)
        return mn_err_set(err, MN_ENOMEM, 0, "bpci: out of memory");
    int rc = parse_addr(host, port, &d->addr, err);
    if (rc == 0 && source_host && parse_addr(source_host, 0, &d->src, err) != 0) {
        /* "a.b.c.d:port" also binds the source port (tests of the self-connect check) */
        char h[64];
        const char *colon = strrchr(source_host, ':');
        const size_t hl = colon ? (size_t)(colon - source_host) : 0;
        rc = MN_EINVAL;
        if (colon && hl < sizeof h) {
            memcpy(h, source_host, hl);
            h[hl] = '\0';
            rc = parse_addr(h, (uint16_t)atoi(colon + 1), &d->src, err);
        }
        if (rc != 0)
            rc = mn_err_set(err, MN_EINVAL, 0, "bpci: bad source address");
    }
    if (rc != 0) {
        free(d);
        return rc;
    }
    d->node = node;
    d->has_src = source_host != NULL;
    d->persistent = persistent;
    d->has_peer_id = peer_id != NULL;
    if (peer_id)
        memcpy(d->peer_id, peer_id, MN_ID_BYTES);
    d->has_static = peer_static != NULL;
    if (peer_static)
        memcpy(d->peer_static, peer_static, MN_NOISE_DH_BYTES);
    MN_ASSERT(uv_timer_init(node->loop, &d->timer) == 0);
    d->timer.data = d;
    node->open_handles++;
    d->next = node->dialers;
    node->dialers = d;
    dialer_start(d);
    return 0;
}

/* ---- the sweep timer ---------------------------------------------------------------------- */

static void sweep_conn(conn *c, uint64_t now)
{
    const mn_bpci_node_config *cfg = &c->node->cfg;
    if (!c->established) {
        if (now - c->started_ms >= cfg->handshake_timeout_ms) {
            c->node->m.handshake_timeouts++;
            log_refusal(c, "handshake timeout", c->node->m.handshake_timeouts);
            conn_close(c);
        }
        return;
    }
    if (!c->writing && now - c->last_tx_ms >= 1000)
        trim_buffers(c);
    if (now - c->last_rx_ms >= cfg->idle_timeout_ms) {
        c->node->m.idle_timeouts++;
        MN_LOG(INFO, "bpci", "closing idle session with %s", c->ip);
        mn_bpci_session_close(c->s, 0);
        flush(c);
        conn_close(c);
    } else if (now - c->last_tx_ms >= cfg->keepalive_ms) {
        uint8_t token[8];
        mn_err err;
        c->ping_sent_ns = uv_hrtime();
        mn_store_u64_le(token, c->ping_sent_ns);
        if (mn_bpci_session_ping(c->s, token, &err) == 0)
            flush(c);
    }
}

static void tick_cb(uv_timer_t *t)
{
    mn_bpci_node *node = t->data;
    const uint64_t now = now_ms(node);
    /* A graceful close waits for queued writes, but not longer than a handshake may take. */
    const bool give_up =
        node->closing && now - node->close_started_ms >= node->cfg.handshake_timeout_ms;
    conn *next;
    for (conn *c = node->conns; c; c = next) {
        next = c->next;
        if (give_up)
            conn_close(c);
        else if (!c->closing && !node->closing)
            sweep_conn(c, now);
    }
}

/* ---- the node ----------------------------------------------------------------------------- */

static void defaults(mn_bpci_node_config *c)
{
#define DEFAULT(field, value)                                                                  \
    if (c->field == 0)                                                                         \
    c->field = value
    DEFAULT(handshake_timeout_ms, 5000);
    DEFAULT(idle_timeout_ms, 30000);
    DEFAULT(keepalive_ms, 10000);
    DEFAULT(tick_ms, 100);
    DEFAULT(write_queue_bytes_max, 16u * 1024u * 1024u);
    DEFAULT(pending_max, 128);
    DEFAULT(pending_per_ip_max, 8);
    DEFAULT(sessions_per_ip_max, 16);
    DEFAULT(sessions_max, 1024);
    DEFAULT(redial_base_ms, 250);
    DEFAULT(redial_max_ms, 30000);
    DEFAULT(accept_rate_per_ip, 20);
    DEFAULT(accept_burst_per_ip, 40);
#undef DEFAULT
}

int mn_bpci_node_new(uv_loop_t *loop, const mn_bpci_node_config *cfg, mn_bpci_node **out,
                     mn_err *err)
{
    MN_ASSERT(cfg->self != NULL);
    mn_bpci_node *node = calloc(1, sizeof *node);
    if (!node)
        return mn_err_set(err, MN_ENOMEM, 0, "bpci: out of memory");
    int rc = mn_bpci_replay_init(&node->replay, err);
    if (rc != 0) {
        free(node);
        return rc;
    }
    /* A peer that resets the connection must cost an error code, not the process. */
    signal(SIGPIPE, SIG_IGN);
    node->loop = loop;
    node->cfg = *cfg;
    defaults(&node->cfg);
    MN_ASSERT(uv_timer_init(loop, &node->tick) == 0);
    node->tick.data = node;
    node->open_handles++;
    uv_timer_start(&node->tick, tick_cb, node->cfg.tick_ms, node->cfg.tick_ms);
    uv_unref((uv_handle_t *)&node->tick); /* the sweep alone does not keep the loop alive */
    *out = node;
    return 0;
}

int mn_bpci_node_listen(mn_bpci_node *node, const char *host, uint16_t port,
                        uint16_t *bound_port, mn_err *err)
{
    struct sockaddr_storage ss;
    int rc = parse_addr(host, port, &ss, err);
    if (rc != 0)
        return rc;
    if (node->listening)
        return mn_err_set(err, MN_ESTATE, 0, "bpci: already listening");
    MN_ASSERT(uv_tcp_init(node->loop, &node->listener) == 0);
    node->listener.data = node;
    node->open_handles++;
    node->listening = true;
    rc = uv_tcp_bind(&node->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&node->listener, 1024, connection_cb);
    if (rc != 0)
        return mn_err_set(err, MN_ESYS, -rc, "bpci: listen on %s:%u: %s", host, port,
                          uv_strerror(rc));
    if (bound_port) {
        int len = sizeof ss;
        uv_tcp_getsockname(&node->listener, (struct sockaddr *)&ss, &len);
        *bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return 0;
}

int mn_bpci_node_on_service(mn_bpci_node *node, uint16_t service, mn_bpci_recv_fn fn,
                            void *ctx, mn_err *err)
{
    for (uint32_t i = 0; i < node->services_count; i++)
        if (node->services[i].service == service) {
            node->services[i].fn = fn;
            node->services[i].ctx = ctx;
            return 0;
        }
    if (node->services_count == MN_BPCI_SERVICES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: more than %u services",
                          MN_BPCI_SERVICES_MAX);
    node->services[node->services_count].service = service;
    node->services[node->services_count].fn = fn;
    node->services[node->services_count].ctx = ctx;
    node->services_count++;
    return 0;
}


int mn_bpci_node_send(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                      uint16_t service, const uint8_t *data, size_t len, mn_err *err)
{
    conn *c = find_peer(node, peer_id);
    if (!c)
        return mn_err_set(err, MN_ENOTFOUND, 0, "bpci: no session with that peer");
    const size_t queued = c->queued + c->s->out.len;
    if (queued + len > node->cfg.write_queue_bytes_max) {
        node->m.send_refused_backpressure++;
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: write queue to %s full (%zu bytes)", c->ip,
                          queued);
    }
    int rc = mn_bpci_session_send(c->s, service, data, len, err);
    if (rc != 0)
        return rc;
    node->m.messages_out++;
    flush(c);
    return 0;
}

int mn_bpci_node_ping(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                      mn_err *err)
{
    conn *c = find_peer(node, peer_id);
    if (!c)
        return mn_err_set(err, MN_ENOTFOUND, 0, "bpci: no session with that peer");
    uint8_t token[8];
    c->ping_sent_ns = uv_hrtime();
    mn_store_u64_le(token, c->ping_sent_ns);
    int rc = mn_bpci_session_ping(c->s, token, err);
    if (rc == 0)
        flush(c);
    return rc;
}

int mn_bpci_node_disconnect(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                            uint8_t reason, mn_err *err)
{
    conn *c = find_peer(node, peer_id);
    if (!c)
        return mn_err_set(err, MN_ENOTFOUND, 0, "bpci: no session with that peer");
    if (c->dialer)
        c->dialer->persistent = false;
    mn_bpci_session_close(c->s, reason);
    c->want_shutdown = true;
    flush(c);
    maybe_shutdown(c);
    return 0;
}

uint64_t mn_bpci_node_rtt_ns(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES])
{
    const conn *c = find_peer(node, peer_id);
    return c ? c->rtt_ns : 0;
}

bool mn_bpci_node_connected(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES])
{
    return find_peer(node, peer_id) != NULL;
}

bool mn_bpci_node_peer_addr(mn_bpci_node *node, const uint8_t peer_id[static MN_ID_BYTES],
                            mn_bpci_peer_addr *out)
{
    const conn *c = find_other(node, peer_id, NULL, true);
    if (c == NULL)
        return false;
    memcpy(out->ip, c->rip, 16);
    out->port = c->rport;
    out->inbound = c->inbound;
    return true;
}

mn_bpci_metrics mn_bpci_node_metrics(const mn_bpci_node *node)
{
    return node->m;
}

static void handle_closed_cb(uv_handle_t *h)
{
    mn_bpci_node *node = h->data;
    node->open_handles--;
}

static void dialer_closed_cb(uv_handle_t *h)
{
    dialer *d = h->data;
    mn_bpci_node *node = d->node;
    free(d);
    node->open_handles--;
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

static void close_tick(mn_bpci_node *node)
{
    if (node->tick_closed)
        return;
    node->tick_closed = true;
    uv_close((uv_handle_t *)&node->tick, handle_closed_cb);
}

void mn_bpci_node_close(mn_bpci_node *node)
{
    if (node->closing)
        return;
    node->closing = true;
    node->close_started_ms = now_ms(node);
    if (node->listening)
        uv_close((uv_handle_t *)&node->listener, handle_closed_cb);
    for (conn *c = node->conns; c; c = c->next)
        c->dialer = NULL;
    for (dialer *d = node->dialers, *next; d; d = next) {
        next = d->next;
        d->timer.data = d;
        uv_close((uv_handle_t *)&d->timer, dialer_closed_cb);
    }
    node->dialers = NULL;
    conn *next;
    for (conn *c = node->conns; c; c = next) {
        next = c->next;
        if (c->closing)
            continue;
        if (!c->established) {
            conn_close(c);
            continue;
        }
        mn_bpci_session_close(c->s, 0);
        c->want_shutdown = true;
        flush(c);
        maybe_shutdown(c);
    }
    if (node->conns == NULL)
        close_tick(node);
}

bool mn_bpci_node_closed(const mn_bpci_node *node)
{
    return node->closing && node->open_handles == 0;
}

void mn_bpci_node_free(mn_bpci_node *node)
{
    if (!node)
        return;
    MN_ASSERT(node->closing);
    MN_ASSERT(node->open_handles == 0);
    MN_ASSERT(node->conns == NULL);
    mn_bpci_replay_deinit(&node->replay);
    free(node);
}
