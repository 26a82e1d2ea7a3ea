/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the integer peer score: invalid messages cost at once and quadratically (one stops
 * gossip, three graylist with the defaults); first deliveries are capped; decay is exact to
 * the thousandth, applies whole intervals only, reaches zero, and is bounded over long gaps;
 * saturated counters do not overflow; parameters out of order are refused. Through the relay:
 * an invalid-signature spammer is graylisted after a bounded number of messages, is then
 * ignored even when it sends valid ones, recovers as its penalty decays, and an honest peer is
 * never affected.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"
#include "mn_test.h"

static mn_relay_score_params P;

static void setup(void)
{
    mn_relay_score_params_default(&P);
}

static void test_invalid_costs_at_once(void)
{
    setup();
    mn_relay_score s;
    mn_relay_score_init(&s, 0);
    ASSERT_EQ(mn_relay_score_standing(&s, &P), MN_RELAY_STANDING_OK);
    mn_relay_score_invalid(&s, MN_RELAY_TOPIC_BLOCKS);
    ASSERT_EQ(mn_relay_score_value(&s, &P), -20000);
    ASSERT_EQ(mn_relay_score_standing(&s, &P), MN_RELAY_STANDING_NO_GOSSIP);
    mn_relay_score_invalid(&s, MN_RELAY_TOPIC_BLOCKS);
    ASSERT_EQ(mn_relay_score_value(&s, &P), -80000);
    ASSERT_EQ(mn_relay_score_standing(&s, &P), MN_RELAY_STANDING_NO_PUBLISH);
    mn_relay_score_invalid(&s, MN_RELAY_TOPIC_BLOCKS);
    ASSERT_EQ(mn_relay_score_value(&s, &P), -180000);
    ASSERT_EQ(mn_relay_score_standing(&s, &P), MN_RELAY_STANDING_GRAYLISTED);
}

static void test_first_capped(void)
{
    setup();
    mn_relay_score s;
    mn_relay_score_init(&s, 0);
    for (int i = 0; i < 150; i++)
        mn_relay_score_first(&s, MN_RELAY_TOPIC_TRANSACTIONS);
    ASSERT_EQ(mn_relay_score_value(&s, &P), 100000);
    mn_relay_score_first(&s, MN_RELAY_TOPIC_BLOCKS);
    ASSERT_EQ(mn_relay_score_value(&s, &P), 101000); /* the cap is per topic */
    /* Deliveries soften but do not hide invalid messages: 3 invalid = -180 points. */
    for (int i = 0; i < 3; i++)
        mn_relay_score_invalid(&s, MN_RELAY_TOPIC_TRANSACTIONS);
    ASSERT_EQ(mn_relay_score_value(&s, &P), 101000 - 180000);
}

static void test_decay(void)
{
    setup();
    mn_relay_score s;
    mn_relay_score_init(&s, 1000);
    mn_relay_score_invalid(&s, MN_RELAY_TOPIC_RECEIPTS);
    mn_relay_score_first(&s, MN_RELAY_TOPIC_RECEIPTS);
    mn_relay_score_decay(&s, &P, 1999); /* not a whole interval yet */
    ASSERT_U64_EQ(s.invalid[MN_RELAY_TOPIC_RECEIPTS - 1], 1000);
    mn_relay_score_decay(&s, &P, 2000);
    ASSERT_U64_EQ(s.invalid[MN_RELAY_TOPIC_RECEIPTS - 1], 990);
    ASSERT_U64_EQ(s.first[MN_RELAY_TOPIC_RECEIPTS - 1], 900);
    ASSERT_EQ(mn_relay_score_value(&s, &P), 900 - 19600); /* 0.99^2 * 20 = 19.602, floored */
    mn_relay_score_decay(&s, &P, 2500);
    mn_relay_score_decay(&s, &P, 3000); /* the half interval is not lost */
    ASSERT_U64_EQ(s.invalid[MN_RELAY_TOPIC_RECEIPTS - 1], 980);
    ASSERT_U64_EQ(s.first[MN_RELAY_TOPIC_RECEIPTS - 1], 810);
    mn_relay_score_decay(&s, &P, 3000 + 1000 * 1000);
    ASSERT_EQ(mn_relay_score_value(&s, &P), 0); /* decayed to zero, not to a residue */
    mn_relay_score_invalid(&s, MN_RELAY_TOPIC_RECEIPTS);
    mn_relay_score_decay(&s, &P, UINT64_MAX / 2); /* bounded work over a huge gap */
    ASSERT_EQ(mn_relay_score_value(&s, &P), 0);
}

static void test_saturation(void)
{
    setup();
    mn_relay_score s;
    mn_relay_score_init(&s, 0);
    for (int i = 0; i < 2 * (int)MN_RELAY_SCORE_COUNT_MAX; i++) {
        mn_relay_score_invalid(&s, MN_RELAY_TOPIC_BLOCKS);
        mn_relay_score_penalty(&s);
    }
    int64_t v = mn_relay_score_value(&s, &P);
    ASSERT_TRUE(v < 0);
    ASSERT_EQ(v, -20000LL * 100000000LL - 10000LL * 100000000LL);
    ASSERT_EQ(mn_relay_score_standing(&s, &P), MN_RELAY_STANDING_GRAYLISTED);
}

static void test_params_check(void)
{
    mn_err err;
    setup();
    ASSERT_OK(mn_relay_score_params_check(&P, &err), &err);
    mn_relay_score_params q = P;
    q.invalid_weight = 1;
    ASSERT_EQ(mn_relay_score_params_check(&q, &err), -MN_EINVAL);
    q = P, q.first_decay_permille = 1000;
    ASSERT_EQ(mn_relay_score_params_check(&q, &err), -MN_EINVAL);
    q = P, q.gossip_threshold = 0;
    ASSERT_EQ(mn_relay_score_params_check(&q, &err), -MN_EINVAL);
    q = P, q.graylist_threshold = q.publish_threshold;
    ASSERT_EQ(mn_relay_score_params_check(&q, &err), -MN_EINVAL);
    q = P, q.decay_interval_ms = 0;
    ASSERT_EQ(mn_relay_score_params_check(&q, &err), -MN_EINVAL);
}

static mn_relay relay;

static uint8_t *make(const mn_keypair *kp, uint64_t seq, bool bad, size_t *len)
{
    mn_err err;
    static const uint8_t payload[] = "tx";
    mn_relay_env env = {.topic = MN_RELAY_TOPIC_TRANSACTIONS, .seq = seq, .payload = payload,
                        .payload_len = 2};
    ASSERT_OK(mn_relay_env_sign(&env, kp, &err), &err);
    if (bad)
        env.sig[0] ^= 1;
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_relay_env_encode(&env, &b, &err), &err);
    return mn_buf_take(&b, len);
}

static mn_relay_verdict send(uint32_t peer, const mn_keypair *kp, uint64_t seq, bool bad,
                             uint64_t now)
{
    size_t len;
    uint8_t *m = make(kp, seq, bad, &len);
    mn_relay_admission a;
    mn_relay_on_message(&relay, peer, m, len, now, &a);
    free(m);
    return a.verdict;
}

static void test_spammer_graylisted(void)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    mn_keypair kp;
    uint8_t seed[MN_ED25519_SEED_BYTES] = {9};
    mn_keypair_from_seed(&kp, seed);
    mn_relay_config cfg;
    mn_relay_config_default(&cfg);
    mn_relay_init(&relay, &cfg, 0);
    mn_relay_on_peer_up(&relay, 0, NULL, 0);
    mn_relay_on_peer_up(&relay, 1, NULL, 0);
    int sent = 0;
    while (send(0, &kp, (uint64_t)sent, true, 0) == MN_RELAY_BAD_SIGNATURE)
        sent++;
    ASSERT_EQ(sent, 3); /* graylisted after three invalid messages, the fourth is ignored */
    ASSERT_EQ(send(0, &kp, 100, false, 0), MN_RELAY_GRAYLISTED); /* valid ones too */
    ASSERT_EQ(relay.seen.count, 0);
    ASSERT_EQ(send(1, &kp, 100, false, 0), MN_RELAY_ACCEPT); /* honest peer unaffected */
    ASSERT_EQ(send(0, &kp, 101, false, 30000), MN_RELAY_GRAYLISTED);
    ASSERT_EQ(send(0, &kp, 101, false, 60000), MN_RELAY_ACCEPT); /* penalty decayed */
    ASSERT_U64_EQ(relay.peers[0].verdicts[MN_RELAY_GRAYLISTED], 3);
}


static void test_mesh_terms(void)
{
    mn_relay_score_params p;
    mn_relay_score_params_default(&p);
    p.mesh_threshold[MN_RELAY_TOPIC_TRANSACTIONS - 1] = 5;
    mn_err err;
    ASSERT_OK(mn_relay_score_params_check(&p, &err), &err);
    mn_relay_score s;
    mn_relay_score_init(&s, 0);
    const uint32_t t = MN_RELAY_TOPIC_TRANSACTIONS, ti = t - 1;
    s.mesh_ms[ti] = 100000; /* P1: 100 s in the mesh = +1 point */
    for (int i = 0; i < 5; i++)
        mn_relay_score_mesh_delivery(&s, t);
    for (int i = 0; i < 5; i++)
        mn_relay_score_first(&s, t);
    ASSERT_EQ(mn_relay_score_value(&s, &p), 1000 + 5000); /* P1 + P2, no deficit */
    s.mesh_deliveries[ti] = 2000; /* 2 of 5: deficit 3, squared 9, -1 point each */
    ASSERT_EQ(mn_relay_score_value(&s, &p), 1000 + 5000 - 9000);
    s.mesh_ms[ti] = p.mesh_activation_ms - 1; /* not active yet: no deficit, P1 = 4 s */
    ASSERT_EQ(mn_relay_score_value(&s, &p), 40 + 5000);
    s.mesh_ms[ti] = 100000;
    mn_relay_score_mesh_leave(&s, &p, t); /* P3b: the deficit goes with it */
    ASSERT_EQ(s.mesh_ms[ti], 0);
    ASSERT_EQ(mn_relay_score_value(&s, &p), 5000 - 9000);
    /* a quiet topic (threshold 0) never costs anything */
    s.mesh_ms[0] = 100000;
    ASSERT_EQ(mn_relay_score_value(&s, &p), 1000 + 5000 - 9000);
    /* P6: four peers on one address, threshold 2: -5 * 2^2 */
    s.colocated = 4;
    ASSERT_EQ(mn_relay_score_value(&s, &p), 1000 + 5000 - 9000 - 20000);
    s.app = -7;
    ASSERT_EQ(mn_relay_score_value(&s, &p), 1000 + 5000 - 9000 - 20000 - 7);
    /* the mesh failure decays like invalid messages */
    mn_relay_score_decay(&s, &p, 1000000);
    ASSERT_EQ(s.mesh_failure[ti], 0);
}

MN_TEST_MAIN("net.relay_score", MN_TEST(test_invalid_costs_at_once), MN_TEST(test_first_capped),
             MN_TEST(test_decay), MN_TEST(test_saturation), MN_TEST(test_params_check),
             MN_TEST(test_spammer_graylisted), MN_TEST(test_mesh_terms))
