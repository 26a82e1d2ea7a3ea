/* SPDX-License-Identifier: Apache-2.0
 *
 * test_relay_driver.c: the node's relay driver (src/node/relay_driver.c) on two real BPCI
 * nodes over loopback in one loop: a published transaction reaches the other side's
 * application once (a re-publication of the same bytes is a new message, the same envelope is
 * not); payloads the application finds invalid cost the sender score until it is graylisted
 * and its valid messages are ignored; the metrics text carries the relay's and the driver's
 * counters; who the driver talks to (relay_book.c): admission before the handshake (a flood
 * from one /24 is refused after its burst, a validator's address always passes), address
 * gossip (a node learns a third one's address from its first peer and dials it from its book),
 * a bad address message costs its sender, anchors saved at close and dialled first after a
 * restart. Not here: blocks (node.cluster.relay commits real ones end to end).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "metanode/bpci_node.h"
#include "metanode/log.h"
#include "metanode/node_msg.h"
#include "mn_test.h"
#include "relay_driver.h"

typedef struct side {
    mn_bpci_identity ident;
    mn_bpci_node *net;
    mn_relay_driver *d;
    uint16_t port;
    int ups;
    int txs_good, txs_bad;
    char last[64];
} side;

static uv_loop_t loop;
static uv_timer_t pulse;
static mn_bpci_registry reg;
static side A, B;

static void pulse_cb(uv_timer_t *t)
{
    (void)t;
}

static void on_peer(void *ctx, const uint8_t id[32], bool up)
{
    side *s = ctx;
    s->ups += up ? 1 : 0;
    mn_relay_driver_peer(s->d, id, up);
}

/* Payloads starting with 'X' are invalid (as a transaction with a bad signature would be). */
static int on_tx(void *ctx, const uint8_t *tx, size_t len)
{
    side *s = ctx;
    if (len > 0 && tx[0] == 'X') {
        s->txs_bad++;
        return -MN_ECRYPTO;
    }
    s->txs_good++;
    const size_t k = len < sizeof(s->last) - 1 ? len : sizeof(s->last) - 1;
    memcpy(s->last, tx, k);
    s->last[k] = '\0';
    return 1;
}

static bool side_admit(void *ctx, const uint8_t ip[16], uint16_t port)
{
    side *s = ctx;
    return mn_relay_driver_admit(s->d, ip, port);
}

typedef struct side_opts {
    const char *host;          /* listen address (default 127.0.0.1) */
    const char *anchors_path;
    const mn_addr *validators; /* validator addresses (admitted before the handshake) */
    uint32_t validator_count;
    uint32_t outbound_target, feeler_ms;
} side_opts;

static void start_ex(side *s, uint8_t seed_byte, const side_opts *o)
{
    uint8_t seed[32];
    memset(seed, seed_byte, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    memset(s, 0, sizeof(*s));
    mn_bpci_identity_init(&s->ident, &kp, NULL);
    const mn_bpci_node_config cfg = {.self = &s->ident, .registry = &reg, .on_peer = on_peer,
                                     .admit = side_admit, .ctx = s};
    mn_err err;
    const char *host = o->host ? o->host : "127.0.0.1";
    ASSERT_OK(mn_bpci_node_new(&loop, &cfg, &s->net, &err), &err);
    ASSERT_OK(mn_bpci_node_listen(s->net, host, 0, &s->port, &err), &err);
    mn_addr self;
    memset(&self, 0, sizeof(self));
    self.ip[10] = self.ip[11] = 0xff;
    ASSERT_EQ(inet_pton(AF_INET, host, self.ip + 12), 1);
    self.port = s->port;
    const mn_relay_driver_config rc = {
        .key = &kp,
        .app = {.ctx = s, .on_tx = on_tx},
        .validator_addrs = o->validators,
        .validator_addr_count = o->validator_count,
        .self_addr = &self,
        .source_host = host,
        .anchors_path = o->anchors_path,
        .announce_ms = 200,
        .outbound_target = o->outbound_target,
        .feeler_ms = o->feeler_ms,
    };
    ASSERT_OK(mn_relay_driver_new(&loop, s->net, &rc, &s->d, &err), &err);
    mn_keypair_wipe(&kp);
}

static void start(side *s, uint8_t seed_byte)
{
    uint8_t seed[32];
    memset(seed, seed_byte, 32);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, seed);
    memset(s, 0, sizeof(*s));
    mn_bpci_identity_init(&s->ident, &kp, NULL);
    const mn_bpci_node_config cfg = {.self = &s->ident, .registry = &reg, .on_peer = on_peer,
                                     .ctx = s};
    mn_err err;
    ASSERT_OK(mn_bpci_node_new(&loop, &cfg, &s->net, &err), &err);
    ASSERT_OK(mn_bpci_node_listen(s->net, "127.0.0.1", 0, &s->port, &err), &err);
    const mn_relay_driver_config rc = {
        .key = &kp, .app = {.ctx = s, .on_tx = on_tx},
    };
    ASSERT_OK(mn_relay_driver_new(&loop, s->net, &rc, &s->d, &err), &err);
    mn_keypair_wipe(&kp);
}

static void stop(side *s)
{
    mn_relay_driver_close(s->d);
    mn_bpci_node_close(s->net);
    for (int i = 0; i < 2000 && !(mn_bpci_node_closed(s->net) && mn_relay_driver_closed(s->d));
         i++)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_TRUE(mn_bpci_node_closed(s->net) && mn_relay_driver_closed(s->d));
    mn_relay_driver_free(s->d);
    mn_bpci_node_free(s->net);
    mn_bpci_identity_wipe(&s->ident);
}

static void run_until(const int *v, int want, unsigned ms)
{
    const uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    while (*v < want && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
}

static void run_for(unsigned ms)
{
    const uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000u;
    while (uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
}

static void connect_pair(void)
{
    start(&A, 1);
    start(&B, 2);
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(B.net, "127.0.0.1", A.port, A.ident.id, NULL, false, NULL, &err),
              &err);
    run_until(&A.ups, 1, 5000);
    run_until(&B.ups, 1, 5000);
    ASSERT_EQ(A.ups, 1);
    ASSERT_EQ(B.ups, 1);
}

static bool metrics_have(const side *s, const char *line)
{
    mn_buf out;
    mn_err err;
    mn_buf_init(&out, 0);
    ASSERT_OK(mn_relay_driver_metrics(s->d, &out, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&out, 0, &err), &err);
    const bool found = strstr((const char *)out.data, line) != NULL;
    mn_buf_deinit(&out);
    return found;
}

static void setup(void)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    mn_log_set_level(MN_LOG_ERROR);
    ASSERT_EQ(uv_loop_init(&loop), 0);
    ASSERT_EQ(uv_timer_init(&loop, &pulse), 0);
    ASSERT_EQ(uv_timer_start(&pulse, pulse_cb, 5, 5), 0);
    mn_bpci_registry_init(&reg);
    ASSERT_OK(mn_relay_driver_register(&reg, &err), &err);
}

static void published_tx_reaches_the_peer_once(void)
{
    connect_pair();
    mn_relay_driver_publish_tx(A.d, (const uint8_t *)"hello", 5);
    run_until(&B.txs_good, 1, 3000);
    ASSERT_EQ(B.txs_good, 1);
    ASSERT_STR_EQ(B.last, "hello");
    /* B does not send it back to A (never back to its sender; A marked it seen) */
    run_for(200);
    ASSERT_EQ(A.txs_good, 0);
    /* B's own publication reaches A */
    mn_relay_driver_publish_tx(B.d, (const uint8_t *)"from b", 6);
    run_until(&A.txs_good, 1, 3000);
    ASSERT_STR_EQ(A.last, "from b");
    ASSERT_TRUE(metrics_have(&B, "mn_relay_messages_in_total{topic=\"transactions\"} 1\n"));
    ASSERT_TRUE(metrics_have(&B, "mn_relay_app_applied_total{topic=\"transactions\"} 1\n"));
    ASSERT_TRUE(metrics_have(&A, "mn_relay_messages_published_total{topic=\"transactions\"} 1\n"));
    ASSERT_TRUE(metrics_have(&A, "mn_relay_app_invalid_total{topic=\"transactions\"} 0\n"));
    stop(&A);
    stop(&B);
}

/* Three invalid payloads (-30 points each, +1 per first delivery) take A below the graylist
 * threshold (-80) in B's view: A's next valid message is ignored by B. */
static void invalid_payloads_graylist_the_sender(void)
{
    connect_pair();
    const char *bad[3] = {"X1", "X2", "X3"};
    for (int i = 0; i < 3; i++) {
        mn_relay_driver_publish_tx(A.d, (const uint8_t *)bad[i], 2);
        run_until(&B.txs_bad, i + 1, 3000);
        ASSERT_EQ(B.txs_bad, i + 1);
    }
    ASSERT_TRUE(metrics_have(&B, "mn_relay_app_invalid_total{topic=\"transactions\"} 3\n"));
    mn_relay_driver_publish_tx(A.d, (const uint8_t *)"valid", 5);
    run_for(500);
    ASSERT_EQ(B.txs_good, 0);
    ASSERT_TRUE(metrics_have(&B, "mn_relay_graylisted_total 1\n"));
    stop(&A);
    stop(&B);
}

static int silent_connect(uint16_t port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_TRUE(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    ASSERT_EQ(inet_pton(AF_INET, src, &sa.sin_addr), 1);
    ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sa.sin_port = htons(port);
    ASSERT_EQ(inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr), 1);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Before the handshake: ten connections from one /24 get its burst of 4 and no more; ten from
 * a validator's address all pass. */
static void admission_before_the_handshake(void)
{
    mn_addr v;
    memset(&v, 0, sizeof(v));
    v.ip[10] = v.ip[11] = 0xff;
    v.ip[12] = 127, v.ip[15] = 77;
    v.port = 1;
    v.node[0] = 9;
    const side_opts o = {.validators = &v, .validator_count = 1};
    start_ex(&A, 1, &o);
    int fds[20];
    for (int i = 0; i < 10; i++)
        fds[i] = silent_connect(A.port, "127.0.5.66");
    for (int i = 10; i < 20; i++)
        fds[i] = silent_connect(A.port, "127.0.0.77");
    run_for(200);
    const mn_bpci_metrics m = mn_bpci_node_metrics(A.net);
    ASSERT_EQ(m.refused_admit, 6);
    ASSERT_TRUE(metrics_have(&A, "mn_relay_admission_total{result=\"refused\"} 6\n"));
    ASSERT_TRUE(metrics_have(&A, "mn_relay_admission_total{result=\"admitted\"} 4\n"));
    ASSERT_TRUE(metrics_have(&A, "mn_relay_admission_total{result=\"validator\"} 10\n"));
    ASSERT_TRUE(metrics_have(&A, "mn_relay_conn_refused_rate_total 6\n"));
    for (int i = 0; i < 20; i++)
        close(fds[i]);
    stop(&A);
}

/* B and C know only A. A tells B where C listens (C's own announcement, relayed), B dials C
 * from its book. A garbage address message costs its sender. B's anchors survive a restart:
 * with no seed at all, the new B dials them and is connected again. */
static void address_gossip_and_anchors(void)
{
    char anchors[256];
    snprintf(anchors, sizeof(anchors), "%s/relay-anchors-%d.cbor",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    unlink(anchors);
    side C;
    start_ex(&A, 1, &(side_opts){.host = "127.0.0.1"});
    start_ex(&B, 2, &(side_opts){.host = "127.22.0.1", .anchors_path = anchors});
    start_ex(&C, 3, &(side_opts){.host = "127.23.0.1"});
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(C.net, "127.0.0.1", A.port, A.ident.id, NULL, true, "127.23.0.1",
                                &err),
              &err);
    run_until(&C.ups, 1, 5000);
    ASSERT_OK(mn_bpci_node_dial(B.net, "127.0.0.1", A.port, A.ident.id, NULL, true, "127.22.0.1",
                                &err),
              &err);
    const uint64_t end = uv_hrtime() + 8000ull * 1000000u;
    while (!mn_bpci_node_connected(B.net, C.ident.id) && uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_TRUE(mn_bpci_node_connected(B.net, C.ident.id));
    ASSERT_TRUE(metrics_have(&B, "mn_relay_dials_total{kind=\"book\",result=\"connected\"} 1\n"));
    ASSERT_TRUE(metrics_have(&B, "mn_relay_outbound_peers 2\n"));
    ASSERT_TRUE(metrics_have(&B, "mn_addrbook_groups{table=\"tried\"} 2\n"));
    /* garbage on the address service */
    ASSERT_OK(mn_bpci_node_send(C.net, B.ident.id, MN_NODE_SVC_ADDRS, (const uint8_t *)"\x01", 1,
                                &err),
              &err);
    run_for(200);
    ASSERT_TRUE(metrics_have(&B, "mn_relay_addr_messages_total{dir=\"undecodable\"} 1\n"));
    /* anchors: written at close, dialled first by the next run */
    stop(&B);
    mn_addr saved[MN_ADDRBOOK_ANCHORS_MAX];
    uint32_t n = 0;
    ASSERT_OK(mn_addrbook_anchors_load(anchors, saved, &n, &err), &err);
    ASSERT_EQ(n, 2);
    start_ex(&B, 2, &(side_opts){.host = "127.22.0.1", .anchors_path = anchors});
    run_until(&B.ups, 2, 5000);
    ASSERT_EQ(B.ups, 2);
    ASSERT_TRUE(mn_bpci_node_connected(B.net, A.ident.id));
    ASSERT_TRUE(mn_bpci_node_connected(B.net, C.ident.id));
    ASSERT_TRUE(metrics_have(&B, "mn_relay_anchors_total{event=\"loaded\"} 2\n"));
    ASSERT_TRUE(metrics_have(&B, "mn_relay_dials_total{kind=\"anchor\",result=\"connected\"} 2\n"));
    stop(&B);
    stop(&C);
    stop(&A);
    unlink(anchors);
}

/* A feeler: B wants one outbound peer (A, which it dialled) and so never dials C's address
 * (learned from A) for a slot; its feeler probes it, moves it to the tried table and closes. */
static void feeler_probes_a_new_address(void)
{
    side C;
    start_ex(&A, 1, &(side_opts){.host = "127.0.0.1"});
    start_ex(&B, 2, &(side_opts){.host = "127.32.0.1", .outbound_target = 1, .feeler_ms = 300});
    start_ex(&C, 3, &(side_opts){.host = "127.33.0.1", .outbound_target = 1});
    mn_err err;
    ASSERT_OK(mn_bpci_node_dial(C.net, "127.0.0.1", A.port, A.ident.id, NULL, true, "127.33.0.1",
                                &err),
              &err);
    run_until(&C.ups, 1, 5000);
    ASSERT_OK(mn_bpci_node_dial(B.net, "127.0.0.1", A.port, A.ident.id, NULL, true, "127.32.0.1",
                                &err),
              &err);
    const uint64_t end = uv_hrtime() + 8000ull * 1000000u;
    while (!metrics_have(&B, "mn_relay_dials_total{kind=\"feeler\",result=\"connected\"} 1\n") &&
           uv_hrtime() < end)
        uv_run(&loop, UV_RUN_ONCE);
    ASSERT_TRUE(metrics_have(&B, "mn_relay_dials_total{kind=\"feeler\",result=\"connected\"} 1\n"));
    run_for(300);
    ASSERT_TRUE(!mn_bpci_node_connected(B.net, C.ident.id)); /* closed after the probe */
    ASSERT_TRUE(metrics_have(&B, "mn_addrbook_addresses{table=\"tried\"} 2\n"));
    ASSERT_TRUE(metrics_have(&B, "mn_relay_dials_total{kind=\"book\",result=\"started\"} 0\n"));
    stop(&B);
    stop(&C);
    stop(&A);
}

MN_TEST_MAIN("node.relay_driver", MN_TEST(setup), MN_TEST(published_tx_reaches_the_peer_once),
             MN_TEST(invalid_payloads_graylist_the_sender),
             MN_TEST(admission_before_the_handshake), MN_TEST(address_gossip_and_anchors),
             MN_TEST(feeler_probes_a_new_address))
