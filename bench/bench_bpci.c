/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_bpci.c: BPCI speed in one run, each figure next to a baseline measured in the same run.
 *
 *  1. bulk throughput of one session with 64 KiB messages over loopback (sender node in this
 *     thread, receiver node in another), as a ratio to the raw
 *     crypto_aead_chacha20poly1305_ietf throughput of one core at 64 KiB, and to raw TCP over
 *     loopback with the same 64 KiB writes; and, independent of the machine's load, bytes per
 *     CPU-second of both ends against raw AEAD bytes per CPU-second (at most 50 %: every byte
 *     is encrypted once and decrypted once);
 *  2. in-memory session throughput (encrypt, frame, decrypt; both ends on one core), the cost
 *     of the protocol without the kernel;
 *  3. completed handshakes per second over loopback (XX and IK, 8 dials in flight), and one
 *     in-memory XX handshake (both sides on one core) as the CPU baseline;
 *  4. round-trip latency of 1 KiB messages (echoed by the other node): p50 and p99.
 *
 * Run: build/release/bench/bench_bpci (set MN_BENCH_QUICK=1 for a short smoke run). Integer
 * arithmetic only; rates are medians of 5 windows.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <uv.h>

#include "bench_util.h"
#include "metanode/bpci_node.h"
#include "metanode/log.h"

#define MSG_BYTES (64u * 1024u)
#define WINDOWS 5
#define SERVICE 7

static uint64_t window_ns = 300000000ull;
static mn_bpci_registry reg;

/* ---- the receiving node, in its own thread ---------------------------------------------- */

typedef struct server {
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    uv_sem_t ready;
    mn_bpci_identity ident;
    mn_bpci_node *node;
    uint16_t port;
    bool echo;
    _Atomic uint64_t bytes, handshakes;
} server;

static void server_recv(void *ctx, const uint8_t *peer, uint16_t service, const uint8_t *d,
                        size_t len)
{
    server *s = ctx;
    atomic_fetch_add(&s->bytes, len);
    if (s->echo) {
        mn_err err;
        (void)mn_bpci_node_send(s->node, peer, service, d, len, &err);
    }
}

static void server_peer(void *ctx, const uint8_t *peer, bool up)
{
    server *s = ctx;
    (void)peer;
    if (up)
        atomic_fetch_add(&s->handshakes, 1);
}

static void server_stop(uv_async_t *a)
{
    server *s = a->data;
    mn_bpci_node_close(s->node);
    uv_close((uv_handle_t *)&s->stop, NULL);
}

static void *server_main(void *arg)
{
    server *s = arg;
    mn_err err;
    const mn_bpci_node_config cfg = {.self = &s->ident, .registry = &reg, .ctx = s,
                                     .on_peer = server_peer, .pending_max = 4096,
                                     .pending_per_ip_max = 4096, .sessions_per_ip_max = 4096,
                                     .sessions_max = 4096, .accept_rate_per_ip = 1000000,
                                     .accept_burst_per_ip = 1000000,
                                     .write_queue_bytes_max = 64u << 20};
    uv_loop_init(&s->loop);
    uv_async_init(&s->loop, &s->stop, server_stop);
    s->stop.data = s;
    if (mn_bpci_node_new(&s->loop, &cfg, &s->node, &err) != 0 ||
        mn_bpci_node_on_service(s->node, SERVICE, server_recv, s, &err) != 0 ||
        mn_bpci_node_listen(s->node, "127.0.0.1", 0, &s->port, &err) != 0) {
        fprintf(stderr, "server: %s\n", err.msg);
        exit(1);
    }
    uv_sem_post(&s->ready);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    mn_bpci_node_free(s->node);
    uv_loop_close(&s->loop);
    return NULL;
}

static void server_start(server *s, uint8_t seed_byte, bool echo)
{
    uint8_t seed[32];
    memset(seed, seed_byte, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    memset(s, 0, sizeof *s);
    mn_bpci_identity_init(&s->ident, &kp, NULL);
    s->echo = echo;
    uv_sem_init(&s->ready, 0);
    pthread_create(&s->thread, NULL, server_main, s);
    uv_sem_wait(&s->ready);
}

static void server_join(server *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->thread, NULL);
    uv_sem_destroy(&s->ready);
}

/* ---- the sending node, in this thread --------------------------------------------------- */

typedef struct client {
    uv_loop_t loop;
    mn_bpci_identity ident;
    mn_bpci_node *node;
    uint64_t ups;
    uint8_t last_up[32];
    size_t echoes;
    server *srv;
    bool redial;
} client;

static void client_recv(void *ctx, const uint8_t *peer, uint16_t service, const uint8_t *d,
                        size_t len)
{
    client *c = ctx;
    (void)peer, (void)service, (void)d, (void)len;
    c->echoes++;
}

static void client_peer(void *ctx, const uint8_t *peer, bool up)
{
    client *c = ctx;
    if (!up)
        return;
    c->ups++;
    memcpy(c->last_up, peer, 32);
    if (c->redial) { /* handshake benchmark: drop it and dial again at once */
        mn_err err;
        (void)mn_bpci_node_disconnect(c->node, peer, 0, &err);
        (void)mn_bpci_node_dial(c->node, "127.0.0.1", c->srv->port, NULL, NULL, false, NULL,
                                &err);
    }
}

static void client_start(client *c, server *srv)
{
    uint8_t seed[32];
    memset(seed, 0x55, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    memset(c, 0, sizeof *c);
    c->srv = srv;
    mn_bpci_identity_init(&c->ident, &kp, NULL);
    uv_loop_init(&c->loop);
    const mn_bpci_node_config cfg = {.self = &c->ident, .registry = &reg, .ctx = c,
                                     .on_peer = client_peer, .write_queue_bytes_max = 4u << 20};
    mn_err err;
    if (mn_bpci_node_new(&c->loop, &cfg, &c->node, &err) != 0 ||
        mn_bpci_node_on_service(c->node, SERVICE, client_recv, c, &err) != 0) {
        fprintf(stderr, "client: %s\n", err.msg);
        exit(1);
    }
}

static void client_connect(client *c, bool ik)
{
    mn_err err;
    if (mn_bpci_node_dial(c->node, "127.0.0.1", c->srv->port, c->srv->ident.id,
                          ik ? c->srv->ident.x_pub : NULL, false, NULL, &err) != 0)
        exit(1);
    while (!mn_bpci_node_connected(c->node, c->srv->ident.id))
        uv_run(&c->loop, UV_RUN_ONCE);
}

static void client_stop(client *c)
{
    mn_bpci_node_close(c->node);
    while (!mn_bpci_node_closed(c->node))
        uv_run(&c->loop, UV_RUN_ONCE);
    mn_bpci_node_free(c->node);
    uv_run(&c->loop, UV_RUN_NOWAIT);
    uv_loop_close(&c->loop);
}

static uint64_t median(uint64_t *v)
{
    bench_sort(v, WINDOWS);
    return v[WINDOWS / 2];
}

/* CPU time of the whole process (both threads), user + system, in ns. */
static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

/* Bytes per CPU-second of the loopback run (both ends, kernel included): independent of how
 * much of the machine the run got. */
static uint64_t bpci_bytes_per_cpu_s;

/* Bytes per second delivered to the server while the client keeps its queue full. */
static uint64_t bpci_throughput(void)
{
    server srv;
    client c;
    server_start(&srv, 1, false);
    client_start(&c, &srv);
    client_connect(&c, false);
    static uint8_t msg[MSG_BYTES];
    randombytes_buf(msg, sizeof msg);
    uint64_t rates[WINDOWS];
    mn_err err;
    const uint64_t all_b0 = atomic_load(&srv.bytes), cpu0 = cpu_ns();
    for (int w = 0; w < WINDOWS; w++) {
        const uint64_t b0 = atomic_load(&srv.bytes), t0 = bench_now_ns();
        while (bench_now_ns() - t0 < window_ns) {
            while (mn_bpci_node_send(c.node, srv.ident.id, SERVICE, msg, sizeof msg, &err) == 0)
                ;
            uv_run(&c.loop, UV_RUN_ONCE);
        }
        const uint64_t dt = bench_now_ns() - t0;
        rates[w] = (atomic_load(&srv.bytes) - b0) * 1000000000ull / dt;
    }
    bpci_bytes_per_cpu_s = (atomic_load(&srv.bytes) - all_b0) * 1000ull / ((cpu_ns() - cpu0) /
                                                                           1000000ull + 1);
    client_stop(&c);
    server_join(&srv);
    return median(rates);
}

/* ---- raw baselines ---------------------------------------------------------------------- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Raw AEAD bytes per CPU-second of this thread: the baseline of the load-independent figure
 * (a loaded machine slows the wall clock of both, not their CPU cost). */
static uint64_t aead_bytes_per_cpu_s(void)
{
    static uint8_t key[32], nonce[12], buf[MSG_BYTES + 16];
    uint64_t rates[WINDOWS];
    for (int w = 0; w < WINDOWS; w++) {
        const uint64_t c0 = thread_cpu_ns(), t0 = bench_now_ns();
        uint64_t bytes = 0;
        while (bench_now_ns() - t0 < window_ns / 3) {
            crypto_aead_chacha20poly1305_ietf_encrypt(buf, NULL, buf, MSG_BYTES, NULL, 0, NULL,
                                                      nonce, key);
            bytes += MSG_BYTES;
        }
        rates[w] = bytes * 1000ull / ((thread_cpu_ns() - c0) / 1000000ull + 1);
    }
    return median(rates);
}

static void aead_op(void *ctx)
{
    static uint8_t key[32], nonce[12];
    uint8_t *buf = ctx;
    crypto_aead_chacha20poly1305_ietf_encrypt(buf, NULL, buf, MSG_BYTES, NULL, 0, NULL, nonce,
                                              key);
}

typedef struct raw_sink {
    int fd;
    _Atomic uint64_t bytes;
} raw_sink;

static void *raw_sink_main(void *arg)
{
    raw_sink *s = arg;
    static uint8_t buf[MSG_BYTES];
    ssize_t n;
    while ((n = recv(s->fd, buf, sizeof buf, 0)) > 0)
        atomic_fetch_add(&s->bytes, (uint64_t)n);
    return NULL;
}

static uint64_t raw_tcp_throughput(void)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) || listen(lfd, 1) ||
        getsockname(lfd, (struct sockaddr *)&sa, &len))
        exit(1);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(cfd, (struct sockaddr *)&sa, sizeof sa))
        exit(1);
    raw_sink sink = {.fd = accept(lfd, NULL, NULL)};
    pthread_t t;
    pthread_create(&t, NULL, raw_sink_main, &sink);
    static uint8_t msg[MSG_BYTES];
    uint64_t rates[WINDOWS];
    for (int w = 0; w < WINDOWS; w++) {
        const uint64_t b0 = atomic_load(&sink.bytes), t0 = bench_now_ns();
        while (bench_now_ns() - t0 < window_ns)
            if (send(cfd, msg, sizeof msg, 0) < 0)
                exit(1);
        rates[w] = (atomic_load(&sink.bytes) - b0) * 1000000000ull / (bench_now_ns() - t0);
    }
    close(cfd);
    pthread_join(t, NULL);
    close(sink.fd);
    close(lfd);
    return median(rates);
}

/* ---- in-memory session and handshake ------------------------------------------------------ */

typedef struct mem_pair {
    mn_bpci_identity ia, ib;
    mn_bpci_session a, b;
    uint8_t *msg;
} mem_pair;

static void mem_handshake(mem_pair *p)
{
    const mn_bpci_config ca = {.self = &p->ia, .registry = &reg, .initiator = true,
                               .pattern = MN_NOISE_XX};
    const mn_bpci_config cb = {.self = &p->ib, .registry = &reg};
    mn_err err;
    if (mn_bpci_session_init(&p->a, &ca, NULL, &err) || mn_bpci_session_init(&p->b, &cb, NULL,
                                                                              &err))
        exit(1);
    for (int i = 0; i < 2; i++) {
        if (mn_bpci_session_recv(&p->b, p->a.out.data, p->a.out.len, &err))
            exit(1);
        p->a.out.len = 0;
        if (p->b.out.len && mn_bpci_session_recv(&p->a, p->b.out.data, p->b.out.len, &err))
            exit(1);
        p->b.out.len = 0;
    }
    if (p->a.state != MN_BPCI_ESTABLISHED || p->b.state != MN_BPCI_ESTABLISHED)
        exit(1);
}

static void handshake_op(void *ctx)
{
    mem_pair *p = ctx;
    mem_handshake(p);
    mn_bpci_session_deinit(&p->a);
    mn_bpci_session_deinit(&p->b);
}

static void session_op(void *ctx)
{
    mem_pair *p = ctx;
    mn_err err;
    if (mn_bpci_session_send(&p->a, SERVICE, p->msg, MSG_BYTES, &err) ||
        mn_bpci_session_recv(&p->b, p->a.out.data, p->a.out.len, &err))
        exit(1);
    p->a.out.len = 0;
}

/* ---- handshakes and latency over loopback ------------------------------------------------ */

static uint64_t handshake_rate(bool ik)
{
    server srv;
    client c;
    server_start(&srv, 2, false);
    client_start(&c, &srv);
    c.redial = true;
    mn_err err;
    for (int i = 0; i < 8; i++)
        if (mn_bpci_node_dial(c.node, "127.0.0.1", srv.port, srv.ident.id,
                              ik ? srv.ident.x_pub : NULL, false, NULL, &err))
            exit(1);
    uint64_t rates[WINDOWS];
    for (int w = 0; w < WINDOWS; w++) {
        const uint64_t u0 = c.ups, t0 = bench_now_ns();
        while (bench_now_ns() - t0 < window_ns)
            uv_run(&c.loop, UV_RUN_ONCE);
        rates[w] = (c.ups - u0) * 1000000000ull / (bench_now_ns() - t0);
    }
    client_stop(&c);
    server_join(&srv);
    return median(rates);
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void latency(uint64_t *p50, uint64_t *p99)
{
    enum { SAMPLES = 4000, WARMUP = 200 };
    server srv;
    client c;
    server_start(&srv, 3, true);
    client_start(&c, &srv);
    client_connect(&c, true);
    static uint64_t rtt[SAMPLES];
    uint8_t msg[1024];
    randombytes_buf(msg, sizeof msg);
    mn_err err;
    const int n = getenv("MN_BENCH_QUICK") ? 500 : SAMPLES;
    for (int i = -WARMUP; i < n; i++) {
        const size_t want = c.echoes + 1;
        const uint64_t t0 = bench_now_ns();
        if (mn_bpci_node_send(c.node, srv.ident.id, SERVICE, msg, sizeof msg, &err))
            exit(1);
        while (c.echoes < want)
            uv_run(&c.loop, UV_RUN_ONCE);
        if (i >= 0)
            rtt[i] = bench_now_ns() - t0;
    }
    qsort(rtt, (size_t)n, sizeof rtt[0], cmp_u64);
    *p50 = rtt[n / 2];
    *p99 = rtt[n * 99 / 100];
    client_stop(&c);
    server_join(&srv);
}

static void pct(const char *what, uint64_t num, uint64_t den)
{
    printf("  %-46s %3llu.%llu %%\n", what, (unsigned long long)(num * 100 / den),
           (unsigned long long)(num * 1000 / den % 10));
}

int main(void)
{
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        return 1;
    mn_log_set_level(MN_LOG_ERROR);
    if (getenv("MN_BENCH_QUICK"))
        window_ns = 50000000ull;
    mn_bpci_registry_init(&reg);
    if (mn_bpci_registry_add(&reg, SERVICE, true, &err))
        return 1;
    if (getenv("MN_BENCH_THROUGHPUT_ONLY")) { /* for profiling the loopback path alone */
        printf("BPCI over loopback: %llu MB/s\n",
               (unsigned long long)(bpci_throughput() / 1000000));
        return 0;
    }
    static uint8_t aead_buf[MSG_BYTES + 16];
    mem_pair mp;
    uint8_t seed[32] = {7};
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    mn_bpci_identity_init(&mp.ia, &kp, NULL);
    seed[0] = 8;
    mn_keypair_from_seed(&kp, seed);
    mn_bpci_identity_init(&mp.ib, &kp, NULL);
    mem_pair hp = mp;
    mem_handshake(&mp);
    mp.msg = calloc(1, MSG_BYTES);
    bench_case cases[] = {
        {"aead", "chacha20poly1305-ietf encrypt 64 KiB", aead_op, aead_buf, 0, 0},
        {"bpci", "in-memory send+recv 64 KiB", session_op, &mp, 0, 0},
        {"bpci", "in-memory XX handshake (both sides)", handshake_op, &hp, 0, 0},
    };
    bench_measure_all(cases, MN_ARRAY_LEN(cases));
    const uint64_t aead_bps = (uint64_t)MSG_BYTES * 1000000000000ull / cases[0].ps_per_op;
    const uint64_t mem_bps = (uint64_t)MSG_BYTES * 1000000000000ull / cases[1].ps_per_op;
    const uint64_t aead_cpu_bps = aead_bytes_per_cpu_s();
    const uint64_t tcp_bps = raw_tcp_throughput();
    const uint64_t bpci_bps = bpci_throughput();
    const uint64_t hs_xx = handshake_rate(false), hs_ik = handshake_rate(true);
    uint64_t p50, p99;
    latency(&p50, &p99);
    printf("bench_bpci (medians of %d windows of %llu ms; one session, 64 KiB messages)\n",
           WINDOWS, (unsigned long long)(window_ns / 1000000));
    printf("  %-46s %6llu MB/s\n", "raw AEAD, one core (baseline)",
           (unsigned long long)(aead_bps / 1000000));
    printf("  %-46s %6llu MB/s\n", "raw AEAD per CPU-second (baseline)",
           (unsigned long long)(aead_cpu_bps / 1000000));
    printf("  %-46s %6llu MB/s\n", "raw TCP loopback (baseline)",
           (unsigned long long)(tcp_bps / 1000000));
    printf("  %-46s %6llu MB/s\n", "BPCI in memory (encrypt+decrypt, one core)",
           (unsigned long long)(mem_bps / 1000000));
    printf("  %-46s %6llu MB/s\n", "BPCI over loopback (2 threads)",
           (unsigned long long)(bpci_bps / 1000000));
    printf("  %-46s %6llu MB/s\n", "BPCI over loopback per CPU-second (both ends)",
           (unsigned long long)(bpci_bytes_per_cpu_s / 1000000));
    pct("BPCI loopback / raw AEAD one core", bpci_bps, aead_bps);
    pct("BPCI per CPU-s / raw AEAD per CPU-s (max 50)", bpci_bytes_per_cpu_s, aead_cpu_bps);
    pct("BPCI loopback / raw TCP loopback", bpci_bps, tcp_bps);
    printf("  %-46s %6llu /s\n", "XX handshakes over loopback", (unsigned long long)hs_xx);
    printf("  %-46s %6llu /s\n", "IK handshakes over loopback", (unsigned long long)hs_ik);
    printf("  %-46s %6llu /s\n", "XX handshakes in memory, one core (baseline)",
           (unsigned long long)(1000000000000ull / cases[2].ps_per_op));
    printf("  %-46s %6llu us / %llu us\n", "RTT 1 KiB p50 / p99",
           (unsigned long long)(p50 / 1000), (unsigned long long)(p99 / 1000));
    mn_bpci_session_deinit(&mp.a);
    mn_bpci_session_deinit(&mp.b);
    free(mp.msg);
    return 0;
}
