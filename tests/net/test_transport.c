/* SPDX-License-Identifier: Apache-2.0
 *
 * Integration tests of the BPCI runtime over loopback: two nodes (XX and IK) exchanging many
 * messages both ways and large split messages; keepalive over idle periods; redial with
 * back-off; and adversarial raw clients on plain sockets in the same thread (garbage, a bit
 * flip after the handshake, a service the peer may not use, a silent peer, a peer that stops
 * reading, 1,000 half-open connections), each refused and counted while an honest peer from
 * another loopback address keeps being served. Loopback only, bounded in count and time.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "metanode/bpci_node.h"
#include "metanode/log.h"
#include "mn_test.h"

typedef struct node {
    mn_bpci_identity ident;
    mn_bpci_node *n;
    uint16_t port;
    int ups, downs;
    size_t msgs, bytes;
    uint8_t last_peer[32];
    uint8_t *big; /* the last message longer than 1 MiB */
    size_t big_len;
} node;

static uv_loop_t loop;
static uv_timer_t pulse;
static mn_bpci_registry reg;

static void pulse_cb(uv_timer_t *t)
{
    (void)t;
}

static void on_peer(void *ctx, const uint8_t id[32], bool up)
{
    node *nd = ctx;
    memcpy(nd->last_peer, id, 32);
    if (up)
        nd->ups++;
    else
        nd->downs++;
}

static void on_recv(void *ctx, const uint8_t id[32], uint16_t service, const uint8_t *d,
                    size_t len)
{
    node *nd = ctx;
    (void)id;
    ASSERT_EQ(service, 7);
    nd->msgs++;
    nd->bytes += len;
    if (len > (1u << 20)) {
        free(nd->big);
        nd->big = malloc(len);
        memcpy(nd->big, d, len);
        nd->big_len = len;
    }
}

static void node_start(node *nd, uint8_t seed_byte, const mn_bpci_node_config *over,
                       bool listen)
{
    uint8_t seed[32];
    memset(seed, seed_byte, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    memset(nd, 0, sizeof *nd);
    mn_bpci_identity_init(&nd->ident, &kp, NULL);
    mn_bpci_node_config cfg = over ? *over : (mn_bpci_node_config){0};
    cfg.self = &nd->ident;
    cfg.registry = &reg;
    cfg.on_peer = on_peer;
    cfg.ctx = nd;
    mn_err err;
    ASSERT_OK(mn_bpci_node_new(&loop, &cfg, &nd->n, &err), &err);
    ASSERT_OK(mn_bpci_node_on_service(nd->n, 7, on_recv, nd, &err), &err);
    if (listen)
        ASSERT_OK(mn_bpci_node_listen(nd->n, "127.0.0.1", 0, &nd->port, &err), &err);
}

static void node_stop(node *nd)
{
    mn_bpci_node_close(nd->n);
    for (int i = 0; i < 2000 && !mn_bpci_node_closed(nd->n); i++)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_TRUE(mn_bpci_node_closed(nd->n));
    mn_bpci_node_free(nd->n);
    free(nd->big);
    mn_bpci_identity_wipe(&nd->ident);
}

/* Runs the loop until *flag reaches want or ms pass; returns whether it did. */
static bool run_until(const int *flag, int want, unsigned ms)
{
    const uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    while (*flag < want) {
        if (uv_hrtime() > end)
            return false;
        uv_run(&loop, UV_RUN_ONCE);
    }
    return true;
}

static void run_for(unsigned ms)
{
    const uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    while (uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
}

static void connect_pair(node *a, node *b, bool ik)
{
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(b->n, "127.0.0.1", a->port, a->ident.id,
                                ik ? a->ident.x_pub : NULL, true, NULL, &err), &err);
    ASSERT_TRUE(run_until(&a->ups, 1, 5000));
    ASSERT_TRUE(run_until(&b->ups, 1, 5000));
    ASSERT_MEM_EQ(a->last_peer, b->ident.id, 32);
    ASSERT_MEM_EQ(b->last_peer, a->ident.id, 32);
}

static void two_nodes_exchange_messages(void)
{
    /* Both directions rekey every 97 records: 1,000 messages each way cross it 10 times. */
    const mn_bpci_node_config cfg = {.rekey_after = 97};
    for (int ik = 0; ik < 2; ik++) {
        node a, b;
        node_start(&a, 1, &cfg, true);
        node_start(&b, 2, &cfg, false);
        connect_pair(&a, &b, ik);
        mn_err err;
        uint8_t msg[1024];
        randombytes_buf(msg, sizeof msg);
        for (int i = 0; i < 1000; i++) {
            ASSERT_OK(mn_bpci_node_send(b.n, a.ident.id, 7, msg, 1 + i % 1024, &err), &err);
            ASSERT_OK(mn_bpci_node_send(a.n, b.ident.id, 7, msg, 1 + i % 1024, &err), &err);
        }
        uint8_t *big = malloc(3u << 20);
        randombytes_buf(big, 3u << 20);
        ASSERT_OK(mn_bpci_node_send(b.n, a.ident.id, 7, big, 3u << 20, &err), &err);
        int want = 1001;
        int got = 0;
        const uint64_t end = uv_hrtime() + 10000000000ull;
        while ((a.msgs < (size_t)want || b.msgs < 1000) && uv_hrtime() < end)
            uv_run(&loop, UV_RUN_ONCE);
        got = (int)a.msgs;
        ASSERT_EQ(got, want);
        ASSERT_EQ(b.msgs, 1000);
        ASSERT_EQ(a.big_len, 3u << 20);
        ASSERT_MEM_EQ(a.big, big, 3u << 20);
        free(big);
        ASSERT_EQ(mn_bpci_node_send(a.n, a.ident.id, 7, msg, 1, &err), -MN_ENOTFOUND);
        /* Ping: the round trip is measured. */
        ASSERT_OK(mn_bpci_node_ping(b.n, a.ident.id, &err), &err);
        const uint64_t until = uv_hrtime() + 2000000000ull;
        while (mn_bpci_node_rtt_ns(b.n, a.ident.id) == 0 && uv_hrtime() < until)
            uv_run(&loop, UV_RUN_ONCE);
        ASSERT_TRUE(mn_bpci_node_rtt_ns(b.n, a.ident.id) > 0);
        mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
        ASSERT_EQ(m.sessions_active, 1);
        ASSERT_EQ(m.messages_in, 1001);
        /* Graceful close of b right after queueing 50 messages: all of them arrive before
         * a sees the peer go down. */
        for (int i = 0; i < 50; i++)
            ASSERT_OK(mn_bpci_node_send(b.n, a.ident.id, 7, msg, sizeof msg, &err), &err);
        node_stop(&b);
        ASSERT_TRUE(run_until(&a.downs, 1, 2000));
        ASSERT_EQ(a.msgs, 1001 + 50);
        node_stop(&a);
    }
}

static void duplicate_sessions_give_one_up_and_one_down(void)
{
    node a, b;
    node_start(&a, 1, NULL, true);
    node_start(&b, 2, NULL, true);
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(a.n, "127.0.0.1", b.port, b.ident.id, NULL, false, NULL, &err),
              &err);
    ASSERT_OK(mn_bpci_node_dial(b.n, "127.0.0.1", a.port, a.ident.id, NULL, false, NULL, &err),
              &err);
    const uint64_t end = uv_hrtime() + 5000000000ull;
    while ((mn_bpci_node_metrics(a.n).sessions_active < 2 ||
            mn_bpci_node_metrics(b.n).sessions_active < 2) && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).sessions_active, 2);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).duplicate_sessions, 1);
    ASSERT_EQ(a.ups, 1);
    ASSERT_EQ(b.ups, 1);
    /* Closing one of the two keeps the peer up; closing the other brings it down. */
    ASSERT_OK(mn_bpci_node_disconnect(a.n, b.ident.id, 1, &err), &err);
    run_for(100);
    ASSERT_EQ(a.downs, 0);
    ASSERT_EQ(b.downs, 0);
    ASSERT_TRUE(mn_bpci_node_connected(a.n, b.ident.id));
    ASSERT_OK(mn_bpci_node_send(a.n, b.ident.id, 7, (const uint8_t *)"x", 1, &err), &err);
    ASSERT_OK(mn_bpci_node_disconnect(a.n, b.ident.id, 1, &err), &err);
    ASSERT_TRUE(run_until(&a.downs, 1, 2000));
    ASSERT_TRUE(run_until(&b.downs, 1, 2000));
    ASSERT_EQ(b.msgs, 1);
    ASSERT_EQ(mn_bpci_node_disconnect(a.n, b.ident.id, 1, &err), -MN_ENOTFOUND);
    node_stop(&b);
    node_stop(&a);
}

static void ipv6_loopback(void)
{
    node a, b;
    node_start(&a, 1, NULL, false);
    node_start(&b, 2, NULL, false);
    mn_err err;
    ASSERT_OK(mn_bpci_node_listen(a.n, "::1", 0, &a.port, &err), &err);
    ASSERT_OK(mn_bpci_node_dial(b.n, "::1", a.port, a.ident.id, a.ident.x_pub, false, NULL,
                                &err), &err);
    ASSERT_TRUE(run_until(&b.ups, 1, 5000));
    ASSERT_OK(mn_bpci_node_send(b.n, a.ident.id, 7, (const uint8_t *)"v6", 2, &err), &err);
    const uint64_t end = uv_hrtime() + 2000000000ull;
    while (a.msgs < 1 && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(a.msgs, 1);
    ASSERT_EQ(mn_bpci_node_dial(b.n, "not-an-ip", 1, NULL, NULL, false, NULL, &err),
              -MN_EINVAL);
    node_stop(&b);
    node_stop(&a);
}

/* Per-IP limits group IPv6 by /64 and IPv4 by address (IPv4-mapped IPv6 counts as IPv4). */
static void per_ip_limits_group_ipv6_by_64(void)
{
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6}, b6 = a6, c6 = a6, m6 = a6;
    struct sockaddr_in a4 = {.sin_family = AF_INET}, b4 = a4;
    inet_pton(AF_INET6, "2001:db8:1:2::1", &a6.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:2:ffff:eeee:dddd:cccc", &b6.sin6_addr);
    inet_pton(AF_INET6, "2001:db8:1:3::1", &c6.sin6_addr);
    inet_pton(AF_INET6, "::ffff:192.0.2.7", &m6.sin6_addr);
    inet_pton(AF_INET, "192.0.2.7", &a4.sin_addr);
    inet_pton(AF_INET, "192.0.2.8", &b4.sin_addr);
    mn_bpci_prefix pa6, pb6, pc6, pm6, pa4, pb4;
    ASSERT_TRUE(mn_bpci_addr_prefix((struct sockaddr *)&a6, &pa6));
    ASSERT_TRUE(mn_bpci_addr_prefix((struct sockaddr *)&b6, &pb6));
    ASSERT_TRUE(mn_bpci_addr_prefix((struct sockaddr *)&c6, &pc6));
    ASSERT_TRUE(mn_bpci_addr_prefix((struct sockaddr *)&m6, &pm6));
    ASSERT_TRUE(mn_bpci_addr_prefix((struct sockaddr *)&a4, &pa4));
    ASSERT_TRUE(mn_bpci_addr_prefix((struct sockaddr *)&b4, &pb4));
    ASSERT_MEM_EQ(&pa6, &pb6, sizeof pa6);            /* one /64 */
    ASSERT_TRUE(memcmp(&pa6, &pc6, sizeof pa6) != 0); /* the next /64 */
    ASSERT_MEM_EQ(&pm6, &pa4, sizeof pa4);            /* IPv4-mapped = IPv4 */
    ASSERT_TRUE(memcmp(&pa4, &pb4, sizeof pa4) != 0); /* IPv4: per address */
    char text[MN_BPCI_PREFIX_TEXT_BYTES];
    mn_bpci_prefix_text(&pb6, text);
    ASSERT_STR_EQ(text, "2001:db8:1:2::/64");
    mn_bpci_prefix_text(&pm6, text);
    ASSERT_STR_EQ(text, "192.0.2.7");
    struct sockaddr other = {.sa_family = AF_UNIX};
    ASSERT_FALSE(mn_bpci_addr_prefix(&other, &pa4));
    /* On the node: two sessions from ::1 with a cap of one per group; the second is refused. */
    const mn_bpci_node_config cfg = {.sessions_per_ip_max = 1, .tick_ms = 10};
    node a, b;
    node_start(&a, 1, &cfg, false);
    node_start(&b, 2, NULL, false);
    mn_err err;
    ASSERT_OK(mn_bpci_node_listen(a.n, "::1", 0, &a.port, &err), &err);
    for (int i = 0; i < 2; i++)
        ASSERT_OK(mn_bpci_node_dial(b.n, "::1", a.port, a.ident.id, NULL, false, NULL, &err),
                  &err);
    const uint64_t end = uv_hrtime() + 3000000000ull;
    while (mn_bpci_node_metrics(a.n).refused_per_ip < 1 && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    const mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
    ASSERT_EQ(m.refused_per_ip, 1);
    ASSERT_EQ(m.sessions_active, 1);
    node_stop(&b);
    node_stop(&a);
}

static void keepalive_holds_an_idle_session_and_redial_backs_off(void)
{
    const mn_bpci_node_config cfg = {.keepalive_ms = 40, .idle_timeout_ms = 400, .tick_ms = 10,
                                     .redial_base_ms = 20, .redial_max_ms = 200};
    node a, b, probe;
    /* Find a free port, then free it again: b dials it before anyone listens. */
    node_start(&probe, 9, NULL, true);
    const uint16_t port = probe.port;
    node_stop(&probe);
    node_start(&b, 2, &cfg, false);
    mn_err err;
    uint8_t seed[32];
    memset(seed, 1, 32);
    ASSERT_OK(mn_bpci_node_dial(b.n, "127.0.0.1", port, NULL, NULL, true, NULL, &err), &err);
    run_for(300);
    mn_bpci_metrics mb = mn_bpci_node_metrics(b.n);
    ASSERT_TRUE(mb.dial_failures >= 2);
    ASSERT_TRUE(mb.redials >= 2);
    ASSERT_TRUE(mb.redials <= 12); /* back-off: 20, 40, 80, 160, 200 ms (halved by jitter) */
    node_start(&a, 1, &cfg, false);
    ASSERT_OK(mn_bpci_node_listen(a.n, "127.0.0.1", port, NULL, &err), &err);
    ASSERT_TRUE(run_until(&b.ups, 1, 3000));
    /* Idle for 2.5 idle timeouts: pings keep it up on both sides. */
    run_for(1000);
    ASSERT_EQ(b.downs, 0);
    ASSERT_EQ(a.downs, 0);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).idle_timeouts, 0);
    /* a goes away: b notices and redials, a second a' takes the port, b is back up. */
    node_stop(&a);
    ASSERT_TRUE(run_until(&b.downs, 1, 2000));
    node_start(&a, 1, &cfg, false);
    ASSERT_OK(mn_bpci_node_listen(a.n, "127.0.0.1", port, NULL, &err), &err);
    ASSERT_TRUE(run_until(&b.ups, 2, 3000));
    node_stop(&a);
    node_stop(&b);
}

/* ---- raw clients ---------------------------------------------------------------------------- */

static int raw_connect(uint16_t port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (src) {
        inet_pton(AF_INET, src, &sa.sin_addr);
        ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    }
    sa.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* True when the node closed the socket (EOF or reset), after running the loop up to ms. */
static bool raw_closed(int fd, unsigned ms)
{
    const uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    uint8_t buf[4096];
    while (uv_hrtime() < end) {
        uv_run(&loop, UV_RUN_ONCE);
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
    return false;
}

typedef struct raw_peer {
    int fd;
    mn_bpci_identity ident;
    mn_bpci_session s;
    int up;
} raw_peer;

static void raw_up(void *ctx, const uint8_t id[32])
{
    (void)id;
    ((raw_peer *)ctx)->up = 1;
}

static void raw_flush(raw_peer *r)
{
    ASSERT_EQ(send(r->fd, r->s.out.data, r->s.out.len, MSG_NOSIGNAL), (ssize_t)r->s.out.len);
    r->s.out.len = 0;
}

/* Reads the IK answer into the raw peer's session and sends its CONFIRM. */
static void raw_finish_ik(raw_peer *r)
{
    const uint64_t end = uv_hrtime() + 3000000000ull;
    uint8_t buf[4096];
    mn_err err;
    while (r->s.state != MN_BPCI_ESTABLISHED && uv_hrtime() < end) {
        uv_run(&loop, UV_RUN_ONCE);
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            ASSERT_OK(mn_bpci_session_recv(&r->s, buf, (size_t)n, &err), &err);
    }
    ASSERT_EQ(r->s.state, MN_BPCI_ESTABLISHED);
    raw_flush(r);
}

/* A client speaking BPCI itself over a blocking socket, handshake completed. */
static void raw_peer_open(raw_peer *r, node *a, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    mn_bpci_identity_init(&r->ident, &kp, NULL);
    r->fd = raw_connect(a->port, NULL);
    r->up = 0;
    const mn_bpci_config cfg = {.self = &r->ident, .registry = &reg, .initiator = true,
                                .pattern = MN_NOISE_XX, .expected_peer_id = a->ident.id};
    const mn_bpci_callbacks cb = {.ctx = r, .on_established = raw_up};
    mn_err err;
    ASSERT_OK(mn_bpci_session_init(&r->s, &cfg, &cb, &err), &err);
    raw_flush(r);
    const uint64_t end = uv_hrtime() + 3000000000ull;
    uint8_t buf[4096];
    while (!r->up && uv_hrtime() < end) {
        uv_run(&loop, UV_RUN_ONCE);
        ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            ASSERT_OK(mn_bpci_session_recv(&r->s, buf, (size_t)n, &err), &err);
        if (r->s.out.len)
            raw_flush(r);
    }
    ASSERT_TRUE(r->up);
    ASSERT_TRUE(run_until(&a->ups, a->ups + 1, 3000)); /* the node has read message 3 */
}

static void raw_peer_close(raw_peer *r)
{
    close(r->fd);
    mn_bpci_session_deinit(&r->s);
    mn_bpci_identity_wipe(&r->ident);
}

static void adversarial_clients_are_refused_and_counted(void)
{
    const mn_bpci_node_config cfg = {.handshake_timeout_ms = 500, .tick_ms = 10,
                                     .keepalive_ms = 50, .idle_timeout_ms = 1000,
                                     .write_queue_bytes_max = 1u << 20};
    node a;
    node_start(&a, 1, &cfg, true);
    /* Garbage instead of a preamble. */
    int fd = raw_connect(a.port, NULL);
    ASSERT_EQ(send(fd, "GET / HTTP/1.1\r\n\r\n", 18, MSG_NOSIGNAL), 18);
    ASSERT_TRUE(raw_closed(fd, 2000));
    close(fd);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).handshake_failures, 1);
    /* Silence: the handshake timeout closes it. */
    fd = raw_connect(a.port, NULL);
    ASSERT_TRUE(raw_closed(fd, 2000));
    close(fd);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).handshake_timeouts, 1);
    /* A bit flip in an established session's record. */
    raw_peer r;
    raw_peer_open(&r, &a, 5);
    mn_err err;
    ASSERT_OK(mn_bpci_session_send(&r.s, 7, (const uint8_t *)"hello", 5, &err), &err);
    r.s.out.data[10] ^= 0x20;
    raw_flush(&r);
    ASSERT_TRUE(raw_closed(r.fd, 2000));
    ASSERT_EQ(mn_bpci_node_metrics(a.n).protocol_errors, 1);
    ASSERT_EQ(a.msgs, 0);
    raw_peer_close(&r);
    /* A service the peer may not speak for. */
    raw_peer_open(&r, &a, 5);
    ASSERT_OK(mn_bpci_session_send(&r.s, 8, (const uint8_t *)"vote", 4, &err), &err);
    raw_flush(&r);
    ASSERT_TRUE(raw_closed(r.fd, 2000));
    ASSERT_EQ(mn_bpci_node_metrics(a.n).refused_services, 1);
    raw_peer_close(&r);
    /* A peer that stops reading: the node's queue fills (back-pressure), then the peer, silent,
     * is dropped by the idle timeout. */
    raw_peer_open(&r, &a, 5);
    static uint8_t chunk[64 * 1024];
    int rc = 0;
    for (int i = 0; i < 2000 && rc == 0; i++) {
        rc = mn_bpci_node_send(a.n, r.ident.id, 7, chunk, sizeof chunk, &err);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    ASSERT_EQ(rc, -MN_ELIMIT);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).send_refused_backpressure, 1);
    run_for(1300);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).idle_timeouts, 1);
    ASSERT_EQ(mn_bpci_node_metrics(a.n).sessions_active, 0);
    raw_peer_close(&r);
    node_stop(&a);
}

/* Resident memory of this process in KiB, and its open descriptors. */
static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    ASSERT_TRUE(d != NULL);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void half_open_flood_leaves_honest_peers_served(void)
{
    enum { FLOOD = 1000 };
    /* The per-IP rate limit is lifted here (tested below): this is about the pending caps. */
    const mn_bpci_node_config cfg = {.handshake_timeout_ms = 300, .tick_ms = 20,
                                     .pending_max = 64, .pending_per_ip_max = 16,
                                     .accept_rate_per_ip = 1000000,
                                     .accept_burst_per_ip = 1000000};
    node a, b;
    node_start(&a, 1, &cfg, true);
    node_start(&b, 2, NULL, false);
    static int fds[FLOOD];
    uint32_t pending_peak = 0;
    const long rss_before = rss_kib();
    const int fds_before = open_fds();
    for (int i = 0; i < FLOOD; i++) {
        fds[i] = raw_connect(a.port, "127.0.0.1");
        if (i % 25 == 0) {
            uv_run(&loop, UV_RUN_NOWAIT);
            mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
            if (m.pending_active > pending_peak)
                pending_peak = m.pending_active;
        }
    }
    /* An honest peer from another loopback address is served during the flood. */
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(b.n, "127.0.0.1", a.port, a.ident.id, NULL, false,
                                "127.0.0.2", &err), &err);
    ASSERT_TRUE(run_until(&b.ups, 1, 5000));
    ASSERT_OK(mn_bpci_node_send(b.n, a.ident.id, 7, (const uint8_t *)"still here", 10, &err),
              &err);
    const int one = 1;
    (void)one;
    const uint64_t end = uv_hrtime() + 3000000000ull;
    while (a.msgs < 1 && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_EQ(a.msgs, 1);
    run_for(500); /* the surviving half-open connections time out */
    mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
    ASSERT_TRUE(pending_peak <= cfg.pending_per_ip_max + 1);
    ASSERT_EQ(m.accepted, FLOOD + 1);
    ASSERT_EQ(m.refused_per_ip + m.handshake_timeouts, FLOOD);
    /* At most pending_per_ip_max are admitted per handshake timeout (more on a slow machine,
     * where admitted ones time out during the flood and free their slots). */
    ASSERT_TRUE(m.refused_per_ip >= FLOOD / 2);
    ASSERT_EQ(m.pending_active, 0);
    ASSERT_EQ(m.sessions_active, 1);
    mn_buf text;
    mn_buf_init(&text, 0);
    ASSERT_OK(mn_bpci_metrics_prometheus(&m, &text, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&text, 0, &err), &err);
    char want[64];
    snprintf(want, sizeof want, "\nmn_bpci_accepted_total %d\n", FLOOD + 1);
    ASSERT_TRUE(strstr((const char *)text.data, want) != NULL);
    ASSERT_TRUE(strstr((const char *)text.data, "# TYPE mn_bpci_sessions gauge\n") != NULL);
    mn_buf_deinit(&text);
    /* Every flood socket has been closed by the node. */
    size_t closed = 0;
    for (int i = 0; i < FLOOD; i++) {
        uint8_t c;
        ssize_t n = recv(fds[i], &c, 1, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN))
            closed++;
        close(fds[i]);
    }
    ASSERT_EQ(closed, FLOOD);
    /* The node holds no descriptor of the flood and its memory stayed bounded: at most the
     * pending cap's sessions (~66 KiB each) plus allocator slack, not 1,000 sessions. */
    ASSERT_TRUE(open_fds() <= fds_before + 4);
    ASSERT_TRUE(rss_kib() - rss_before < 16 * 1024);
    node_stop(&b);
    node_stop(&a);
}

static void sessions_per_ip_are_capped(void)
{
    const mn_bpci_node_config cfg = {.sessions_per_ip_max = 2, .tick_ms = 10};
    node a;
    node_start(&a, 1, &cfg, true);
    raw_peer r[3];
    raw_peer_open(&r[0], &a, 5);
    raw_peer_open(&r[1], &a, 6);
    /* The third completes its side of the handshake, but the node refuses the session. */
    uint8_t seed[32];
    memset(seed, 7, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    mn_bpci_identity_init(&r[2].ident, &kp, NULL);
    r[2].fd = raw_connect(a.port, NULL);
    const mn_bpci_config rc = {.self = &r[2].ident, .registry = &reg, .initiator = true,
                               .pattern = MN_NOISE_IK, .remote_static = a.ident.x_pub};
    mn_err err;
    ASSERT_OK(mn_bpci_session_init(&r[2].s, &rc, NULL, &err), &err);
    raw_flush(&r[2]);
    raw_finish_ik(&r[2]);
    ASSERT_TRUE(raw_closed(r[2].fd, 2000));
    mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
    ASSERT_EQ(m.refused_per_ip, 1);
    ASSERT_EQ(m.sessions_active, 2);
    ASSERT_EQ(a.ups, 2);
    for (int i = 0; i < 3; i++)
        raw_peer_close(&r[i]);
    node_stop(&a);
}

/* A captured IK first message sent again on a new connection: the node refuses it from its
 * replay cache, counts it, logs it, and no second session or peer event comes of it. */
static void replayed_ik_handshake_is_refused(void)
{
    const mn_bpci_node_config cfg = {.tick_ms = 10, .handshake_timeout_ms = 500};
    node a;
    node_start(&a, 1, &cfg, true);
    raw_peer r, replay;
    uint8_t seed[32];
    memset(seed, 5, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    mn_bpci_identity_init(&r.ident, &kp, NULL);
    r.fd = raw_connect(a.port, NULL);
    const mn_bpci_config rc = {.self = &r.ident, .registry = &reg, .initiator = true,
                               .pattern = MN_NOISE_IK, .remote_static = a.ident.x_pub};
    mn_err err;
    ASSERT_OK(mn_bpci_session_init(&r.s, &rc, NULL, &err), &err);
    const size_t n = r.s.out.len;
    uint8_t *first = malloc(n);
    memcpy(first, r.s.out.data, n);
    raw_flush(&r);
    raw_finish_ik(&r);
    ASSERT_TRUE(run_until(&a.ups, 1, 3000));
    replay.fd = raw_connect(a.port, NULL);
    ASSERT_EQ(send(replay.fd, first, n, MSG_NOSIGNAL), (ssize_t)n);
    ASSERT_TRUE(raw_closed(replay.fd, 2000));
    const mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
    ASSERT_EQ(m.replayed_handshakes, 1);
    ASSERT_EQ(m.handshake_failures, 0);
    ASSERT_EQ(m.sessions_active, 1);
    ASSERT_EQ(m.established, 1);
    ASSERT_EQ(a.ups, 1);
    close(replay.fd);
    free(first);
    raw_peer_close(&r);
    node_stop(&a);
}

static void connection_rate_per_ip_is_limited(void)
{
    enum { N = 10 };
    const mn_bpci_node_config cfg = {.accept_rate_per_ip = 1, .accept_burst_per_ip = 3,
                                     .handshake_timeout_ms = 5000};
    node a, b;
    node_start(&a, 1, &cfg, true);
    node_start(&b, 2, NULL, false);
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = raw_connect(a.port, NULL);
    run_for(100);
    mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
    ASSERT_EQ(m.accepted, N);
    ASSERT_EQ(m.refused_rate, N - 3);
    ASSERT_EQ(m.pending_active, 3);
    for (int i = 3; i < N; i++)
        ASSERT_TRUE(raw_closed(fds[i], 500));
    /* Another address has its own bucket. */
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(b.n, "127.0.0.1", a.port, a.ident.id, NULL, false, "127.0.0.3",
                                &err), &err);
    ASSERT_TRUE(run_until(&b.ups, 1, 3000));
    for (int i = 0; i < N; i++)
        close(fds[i]);
    node_stop(&b);
    node_stop(&a);
}

/* The admission hook sees the remote address before any crypto: connections from 127.0.0.66
 * are refused at once and counted; others reach the handshake and report their address. */
static uint32_t admit_calls;
static bool admit_not_66(void *ctx, const uint8_t ip[16], uint16_t port)
{
    static const uint8_t v4[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    (void)ctx;
    admit_calls++;
    ASSERT_MEM_EQ(ip, v4, 12);
    ASSERT_TRUE(port != 0);
    return !(ip[12] == 127 && ip[15] == 66);
}

static void admission_hook_refuses_before_the_handshake(void)
{
    enum { N = 6 };
    const mn_bpci_node_config cfg = {.admit = admit_not_66};
    node a, b;
    node_start(&a, 1, &cfg, true);
    node_start(&b, 2, NULL, false);
    admit_calls = 0;
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = raw_connect(a.port, "127.0.0.66");
    run_for(100);
    mn_bpci_metrics m = mn_bpci_node_metrics(a.n);
    ASSERT_EQ(m.refused_admit, N);
    ASSERT_EQ(m.pending_active, 0);
    for (int i = 0; i < N; i++)
        ASSERT_TRUE(raw_closed(fds[i], 500));
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(b.n, "127.0.0.1", a.port, a.ident.id, NULL, false, "127.0.0.7",
                                &err), &err);
    ASSERT_TRUE(run_until(&a.ups, 1, 3000));
    ASSERT_TRUE(run_until(&b.ups, 1, 3000));
    ASSERT_EQ(admit_calls, N + 1);
    /* both ends report where the session goes */
    mn_bpci_peer_addr pa;
    ASSERT_TRUE(mn_bpci_node_peer_addr(a.n, b.ident.id, &pa));
    ASSERT_TRUE(pa.inbound);
    ASSERT_EQ(pa.ip[15], 7);
    ASSERT_TRUE(mn_bpci_node_peer_addr(b.n, a.ident.id, &pa));
    ASSERT_TRUE(!pa.inbound);
    ASSERT_EQ(pa.ip[15], 1);
    ASSERT_EQ(pa.port, a.port);
    ASSERT_TRUE(!mn_bpci_node_peer_addr(b.n, b.ident.id, &pa));
    ASSERT_EQ(mn_bpci_node_metrics(a.n).refused_admit, N);
    for (int i = 0; i < N; i++)
        close(fds[i]);
    node_stop(&b);
    node_stop(&a);
}

/* A dial whose source port is the port it dials, with no listener there, connects to itself
 * (TCP simultaneous open): it is closed as a failed dial, never reported as a peer. */
static void a_dial_to_itself_is_closed(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    ASSERT_EQ(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    const uint16_t port = ntohs(sa.sin_port);
    close(fd); /* a free port with no listener */
    node b;
    node_start(&b, 2, NULL, false);
    char src[32];
    snprintf(src, sizeof src, "127.0.0.1:%u", port);
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(b.n, "127.0.0.1", port, NULL, NULL, false, src, &err), &err);
    run_for(300);
    const mn_bpci_metrics m = mn_bpci_node_metrics(b.n);
    ASSERT_EQ(m.self_connects, 1);
    ASSERT_EQ(m.dial_failures, 1);
    ASSERT_EQ(m.established, 0);
    ASSERT_EQ(b.ups, 0);
    node_stop(&b);
}

static void setup(void)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    mn_log_set_level(MN_LOG_ERROR);
    if (getenv("MN_TEST_VERBOSE"))
        mn_log_set_level(MN_LOG_INFO);
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ASSERT_EQ(uv_timer_init(&loop, &pulse), 0);
    ASSERT_EQ(uv_timer_start(&pulse, pulse_cb, 5, 5), 0);
    mn_bpci_registry_init(&reg);
    ASSERT_OK(mn_bpci_registry_add(&reg, 7, true, &err), &err);
    ASSERT_OK(mn_bpci_registry_add(&reg, 8, false, &err), &err);
}

MN_TEST_MAIN("net.transport", MN_TEST(setup), MN_TEST(two_nodes_exchange_messages),
             MN_TEST(duplicate_sessions_give_one_up_and_one_down), MN_TEST(ipv6_loopback),
             MN_TEST(keepalive_holds_an_idle_session_and_redial_backs_off),
             MN_TEST(adversarial_clients_are_refused_and_counted),
             MN_TEST(half_open_flood_leaves_honest_peers_served),
             MN_TEST(sessions_per_ip_are_capped), MN_TEST(connection_rate_per_ip_is_limited),
             MN_TEST(per_ip_limits_group_ipv6_by_64), MN_TEST(replayed_ik_handshake_is_refused),
             MN_TEST(admission_hook_refuses_before_the_handshake),
             MN_TEST(a_dial_to_itself_is_closed))
