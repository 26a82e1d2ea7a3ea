/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of gossip admission, the adversarial cases first: a duplicate from any peer is dropped;
 * a message with a bad signature, or refused for rate, is not marked seen (the same id is
 * accepted later from an honest peer); a flood of distinct messages or of one duplicate gets
 * exactly its budget while another peer is unaffected; the bytes budget holds large messages
 * to their burst; garbage is counted against the peer; the seen-cache boundary holds through
 * the relay. All times are given, no clock is read.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"
#include "mn_test.h"

static mn_relay relay; /* about 3.5 MiB */
static mn_keypair origin;

typedef struct msg {
    uint8_t *data;
    size_t len;
} msg;

static void setup(mn_relay_config *cfg, uint64_t now)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    uint8_t seed[MN_ED25519_SEED_BYTES] = {7};
    mn_keypair_from_seed(&origin, seed);
    memset(cfg->seen_key, 0x5a, sizeof cfg->seen_key);
    ASSERT_OK(mn_relay_config_check(cfg, &err), &err);
    mn_relay_init(&relay, cfg, now);
    mn_relay_on_peer_up(&relay, 0, NULL, now);
    mn_relay_on_peer_up(&relay, 1, NULL, now);
}

static msg make(uint32_t topic, uint64_t seq, size_t payload_len, bool bad_sig)
{
    mn_err err;
    uint8_t *payload = calloc(1, payload_len + 1);
    ASSERT_TRUE(payload != NULL);
    mn_relay_env env = {.topic = topic, .seq = seq, .payload = payload,
                        .payload_len = payload_len};
    ASSERT_OK(mn_relay_env_sign(&env, &origin, &err), &err);
    if (bad_sig)
        env.sig[5] ^= 0x10;
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_relay_env_encode(&env, &b, &err), &err);
    free(payload);
    msg m = {.len = b.len};
    m.data = mn_buf_take(&b, &m.len);
    return m;
}

static mn_relay_verdict send(uint32_t peer, const msg *m, uint64_t now)
{
    mn_relay_admission a;
    mn_relay_on_message(&relay, peer, m->data, m->len, now, &a);
    if (a.verdict != MN_RELAY_UNDECODABLE && a.verdict != MN_RELAY_RATE_LIMITED) {
        uint8_t id[MN_RELAY_ID_BYTES];
        mn_relay_msg_id(id, m->data, m->len);
        ASSERT_MEM_EQ(a.id, id, sizeof id);
    }
    return a.verdict;
}

static void test_duplicates(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    setup(&cfg, 0);
    msg m = make(MN_RELAY_TOPIC_BLOCKS, 1, 10, false);
    ASSERT_EQ(send(0, &m, 0), MN_RELAY_ACCEPT);
    ASSERT_EQ(send(1, &m, 1), MN_RELAY_DUPLICATE);
    ASSERT_EQ(send(0, &m, 2), MN_RELAY_DUPLICATE);
    ASSERT_U64_EQ(relay.peers[0].verdicts[MN_RELAY_ACCEPT], 1);
    ASSERT_U64_EQ(relay.peers[1].verdicts[MN_RELAY_DUPLICATE], 1);
    ASSERT_U64_EQ(relay.verdicts[MN_RELAY_TOPIC_BLOCKS][MN_RELAY_DUPLICATE], 2);
    free(m.data);
}

static void test_bad_signature_not_seen(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    setup(&cfg, 0);
    msg bad = make(MN_RELAY_TOPIC_TRANSACTIONS, 1, 10, true);
    msg good = make(MN_RELAY_TOPIC_TRANSACTIONS, 1, 10, false);
    ASSERT_EQ(send(0, &bad, 0), MN_RELAY_BAD_SIGNATURE);
    ASSERT_EQ(send(0, &bad, 0), MN_RELAY_BAD_SIGNATURE); /* checked again, never a duplicate */
    ASSERT_EQ(send(1, &bad, 0), MN_RELAY_BAD_SIGNATURE);
    ASSERT_EQ(relay.seen.count, 0);
    ASSERT_EQ(send(1, &good, 0), MN_RELAY_ACCEPT);
    ASSERT_U64_EQ(relay.peers[0].verdicts[MN_RELAY_BAD_SIGNATURE], 2);
    free(bad.data), free(good.data);
}

/* A message refused for rate from one peer is accepted from another, then is a duplicate. */
static void test_rate_limited_not_seen(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    cfg.topic_msgs[MN_RELAY_TOPIC_BLOCKS - 1] = (mn_relay_rate){.per_s = 1, .burst = 1};
    setup(&cfg, 0);
    msg m1 = make(MN_RELAY_TOPIC_BLOCKS, 1, 10, false);
    msg m2 = make(MN_RELAY_TOPIC_BLOCKS, 2, 10, false);
    ASSERT_EQ(send(0, &m1, 0), MN_RELAY_ACCEPT);
    ASSERT_EQ(send(0, &m2, 999), MN_RELAY_RATE_LIMITED);
    ASSERT_EQ(send(1, &m2, 999), MN_RELAY_ACCEPT);
    ASSERT_EQ(send(0, &m2, 1000), MN_RELAY_DUPLICATE);
    /* Another topic has its own budget. */
    msg tx = make(MN_RELAY_TOPIC_TRANSACTIONS, 1, 10, false);
    ASSERT_EQ(send(0, &tx, 1000), MN_RELAY_ACCEPT);
    free(m1.data), free(m2.data), free(tx.data);
}

/* Peer 0 floods distinct valid transactions; it gets exactly burst + rate * time of them and
 * peer 1, sending at the same time, is not slowed at all. */
static void test_flood_distinct(void)
{
    enum { N = 600 };
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    cfg.topic_msgs[MN_RELAY_TOPIC_TRANSACTIONS - 1] = (mn_relay_rate){.per_s = 100, .burst = 50};
    setup(&cfg, 0);
    static msg ms[N];
    static bool refused[N];
    for (int i = 0; i < N; i++)
        ms[i] = make(MN_RELAY_TOPIC_TRANSACTIONS, (uint64_t)i, 20, false);
    int accepted = 0, limited = 0;
    for (int i = 0; i < N; i++) { /* one every millisecond: 0 .. 599 ms */
        mn_relay_verdict v = send(0, &ms[i], (uint64_t)i);
        accepted += v == MN_RELAY_ACCEPT;
        limited += v == MN_RELAY_RATE_LIMITED;
        refused[i] = v == MN_RELAY_RATE_LIMITED;
    }
    ASSERT_EQ(accepted, 50 + 59); /* 50,000 + 599 * 100 thousandths */
    ASSERT_EQ(limited, N - accepted);
    int honest = 0;
    for (int i = 0; i < N; i++)
        if (refused[i])
            honest += send(1, &ms[i], 600) == MN_RELAY_ACCEPT;
    ASSERT_EQ(honest, 50); /* peer 1's own burst: the refused ones were never marked seen */
    for (int i = 0; i < N; i++)
        free(ms[i].data);
}

/* Re-sending one message forever costs the sender budget like any other message. */
static void test_flood_duplicate(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    cfg.peer_msgs = (mn_relay_rate){.per_s = 10, .burst = 100};
    setup(&cfg, 0);
    msg m = make(MN_RELAY_TOPIC_RECEIPTS, 1, 10, false);
    int counts[MN_RELAY_VERDICT_COUNT] = {0};
    for (int i = 0; i < 1000; i++)
        counts[send(0, &m, 0)]++;
    ASSERT_EQ(counts[MN_RELAY_ACCEPT], 1);
    ASSERT_EQ(counts[MN_RELAY_DUPLICATE], 99);
    ASSERT_EQ(counts[MN_RELAY_RATE_LIMITED], 900);
    ASSERT_U64_EQ(relay.verdicts[0][MN_RELAY_RATE_LIMITED], 900); /* refused before decoding */
    free(m.data);
}

/* 1 MiB payloads against the default 4 MiB bytes burst for receipts. */
static void test_bytes_budget(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    setup(&cfg, 0);
    int accepted = 0;
    for (uint64_t i = 0; i < 6; i++) {
        msg m = make(MN_RELAY_TOPIC_RECEIPTS, i, 1024 * 1024, false);
        accepted += send(0, &m, 0) == MN_RELAY_ACCEPT;
        free(m.data);
    }
    ASSERT_EQ(accepted, 3); /* 4 MiB holds three 1 MiB envelopes and a bit, not four */
}

static void test_garbage(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    setup(&cfg, 0);
    static const uint8_t junk[] = {0xa5, 0x01, 0x09, 0xff, 0x00};
    mn_relay_admission a;
    mn_relay_on_message(&relay, 0, junk, sizeof junk, 0, &a);
    ASSERT_EQ(a.verdict, MN_RELAY_UNDECODABLE);
    ASSERT_EQ(a.topic, 0);
    mn_relay_on_message(&relay, 0, junk, 0, 0, &a);
    ASSERT_EQ(a.verdict, MN_RELAY_UNDECODABLE);
    ASSERT_U64_EQ(relay.verdicts[0][MN_RELAY_UNDECODABLE], 2);
    ASSERT_U64_EQ(relay.peers[0].verdicts[MN_RELAY_UNDECODABLE], 2);
    ASSERT_EQ(relay.seen.count, 0);
}

/* Through the relay: a duplicate one millisecond before the TTL, a fresh message at it. */
static void test_seen_ttl_boundary(void)
{
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    setup(&cfg, 50);
    msg m = make(MN_RELAY_TOPIC_CONSENSUS, 1, 10, false);
    ASSERT_EQ(send(0, &m, 50), MN_RELAY_ACCEPT);
    ASSERT_EQ(send(1, &m, 50 + MN_RELAY_SEEN_TTL_MS - 1), MN_RELAY_DUPLICATE);
    ASSERT_EQ(send(1, &m, 50 + MN_RELAY_SEEN_TTL_MS), MN_RELAY_ACCEPT);
    free(m.data);
}

static void test_config_check(void)
{
    mn_relay_config cfg;
    mn_err err;
    mn_relay_config_default(&cfg);
    ASSERT_OK(mn_relay_config_check(&cfg, &err), &err);
    cfg.topic_bytes[0].burst = MN_BPCI_MSG_BYTES_MAX - 1;
    ASSERT_EQ(mn_relay_config_check(&cfg, &err), -MN_EINVAL);
    mn_relay_config_default(&cfg);
    cfg.peer_msgs.per_s = 0;
    ASSERT_EQ(mn_relay_config_check(&cfg, &err), -MN_EINVAL);
    mn_relay_config_default(&cfg);
    cfg.seen_capacity = 3;
    ASSERT_EQ(mn_relay_config_check(&cfg, &err), -MN_EINVAL);
}

MN_TEST_MAIN("net.relay", MN_TEST(test_duplicates), MN_TEST(test_bad_signature_not_seen),
             MN_TEST(test_rate_limited_not_seen), MN_TEST(test_flood_distinct),
             MN_TEST(test_flood_duplicate), MN_TEST(test_bytes_budget), MN_TEST(test_garbage),
             MN_TEST(test_seen_ttl_boundary), MN_TEST(test_config_check))
