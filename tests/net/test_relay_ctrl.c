/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the gossip control message codec: a full message round-trips to the same bytes;
 * every non-canonical or out-of-limit form is refused (empty map, empty list, unsorted or
 * unknown topics, back-off or PX without PRUNE, zero back-off, too many ids, trailing bytes);
 * the encoder refuses what the decoder would.
 */
#include <string.h>

#include "metanode/relay.h"
#include "mn_test.h"

static mn_relay_ctrl c, d;

static void roundtrip(const mn_relay_ctrl *in)
{
    mn_err err;
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_relay_ctrl_encode(in, &b, &err), &err);
    memset(&d, 0xee, sizeof d);
    ASSERT_OK(mn_relay_ctrl_decode(b.data, b.len, &d, &err), &err);
    ASSERT_EQ(d.graft, in->graft);
    ASSERT_EQ(d.prune, in->prune);
    ASSERT_EQ(d.backoff_s, in->backoff_s);
    ASSERT_EQ(d.px_count, in->px_count);
    ASSERT_EQ(d.ihave_count, in->ihave_count);
    ASSERT_EQ(d.iwant_count, in->iwant_count);
    ASSERT_MEM_EQ(d.px, in->px, in->px_count * sizeof in->px[0]);
    ASSERT_MEM_EQ(d.ihave, in->ihave, in->ihave_count * sizeof in->ihave[0]);
    ASSERT_MEM_EQ(d.iwant, in->iwant, in->iwant_count * sizeof in->iwant[0]);
    mn_buf b2;
    mn_buf_init(&b2, 0);
    ASSERT_OK(mn_relay_ctrl_encode(&d, &b2, &err), &err);
    ASSERT_EQ(b2.len, b.len);
    ASSERT_MEM_EQ(b2.data, b.data, b.len);
    mn_buf_deinit(&b);
    mn_buf_deinit(&b2);
}

static void test_roundtrip(void)
{
    memset(&c, 0, sizeof c);
    c.graft = 1u << MN_RELAY_TOPIC_BLOCKS | 1u << MN_RELAY_TOPIC_CONSENSUS;
    roundtrip(&c);
    c.prune = 1u << MN_RELAY_TOPIC_TRANSACTIONS;
    c.backoff_s = 60;
    c.px_count = MN_RELAY_PX_MAX;
    for (uint32_t i = 0; i < c.px_count; i++) {
        memset(c.px[i].node, (int)i + 1, sizeof c.px[i].node);
        c.px[i].addr[15] = (uint8_t)i;
        c.px[i].port = (uint16_t)(7000 + i);
    }
    c.ihave_count = MN_RELAY_IHAVE_IDS_MAX;
    for (uint32_t i = 0; i < c.ihave_count; i++) {
        c.ihave[i].topic = 1 + i % MN_RELAY_TOPICS_COUNT;
        memset(c.ihave[i].id, (int)i, MN_RELAY_ID_BYTES);
    }
    c.iwant_count = MN_RELAY_IWANT_IDS_MAX;
    for (uint32_t i = 0; i < c.iwant_count; i++)
        memset(c.iwant[i], (int)(255 - i), MN_RELAY_ID_BYTES);
    roundtrip(&c);
}

static void test_encoder_refuses(void)
{
    mn_err err;
    mn_buf b;
    mn_buf_init(&b, 0);
    memset(&c, 0, sizeof c);
    ASSERT_EQ(mn_relay_ctrl_encode(&c, &b, &err), -MN_EINVAL); /* empty */
    c.graft = 1u << 7;
    ASSERT_EQ(mn_relay_ctrl_encode(&c, &b, &err), -MN_EINVAL); /* unknown topic */
    c.graft = 1u << 1;
    c.backoff_s = 5;
    ASSERT_EQ(mn_relay_ctrl_encode(&c, &b, &err), -MN_EINVAL); /* back-off without prune */
    c.prune = 1u << 1;
    c.backoff_s = MN_RELAY_BACKOFF_S_MAX + 1;
    ASSERT_EQ(mn_relay_ctrl_encode(&c, &b, &err), -MN_EINVAL);
    c.backoff_s = 1;
    c.ihave_count = 1;
    c.ihave[0].topic = 99;
    ASSERT_EQ(mn_relay_ctrl_encode(&c, &b, &err), -MN_EINVAL);
    ASSERT_EQ(b.len, 0);
    mn_buf_deinit(&b);
}

static void refuse(const uint8_t *bytes, size_t len)
{
    mn_err err;
    memset(&d, 0x11, sizeof d);
    int rc = mn_relay_ctrl_decode(bytes, len, &d, &err);
    ASSERT_TRUE(rc == -MN_ECORRUPT || rc == -MN_ELIMIT);
    ASSERT_EQ(d.graft, 0x11111111u); /* untouched on failure */
}

static void test_decoder_refuses(void)
{
    static const uint8_t empty_map[] = {0xa0};
    static const uint8_t empty_list[] = {0xa1, 0x01, 0x80};
    static const uint8_t unsorted[] = {0xa1, 0x01, 0x82, 0x02, 0x01};
    static const uint8_t repeated[] = {0xa1, 0x01, 0x82, 0x01, 0x01};
    static const uint8_t unknown[] = {0xa1, 0x01, 0x81, 0x09};
    static const uint8_t backoff_alone[] = {0xa1, 0x03, 0x05};
    static const uint8_t zero_backoff[] = {0xa2, 0x02, 0x81, 0x01, 0x03, 0x00};
    static const uint8_t keys_unordered[] = {0xa2, 0x02, 0x81, 0x01, 0x01, 0x81, 0x01};
    static const uint8_t key7[] = {0xa1, 0x07, 0x81, 0x01};
    static const uint8_t trailing[] = {0xa1, 0x01, 0x81, 0x01, 0x00};
    static const uint8_t noncanon_len[] = {0xa1, 0x01, 0x98, 0x01, 0x01};
    refuse(empty_map, sizeof empty_map);
    refuse(empty_list, sizeof empty_list);
    refuse(unsorted, sizeof unsorted);
    refuse(repeated, sizeof repeated);
    refuse(unknown, sizeof unknown);
    refuse(backoff_alone, sizeof backoff_alone);
    refuse(zero_backoff, sizeof zero_backoff);
    refuse(keys_unordered, sizeof keys_unordered);
    refuse(key7, sizeof key7);
    refuse(trailing, sizeof trailing);
    refuse(noncanon_len, sizeof noncanon_len);
    refuse(NULL, 0);
    /* an IWANT list one over the limit */
    static uint8_t big[8 + (MN_RELAY_IWANT_IDS_MAX + 1) * 34];
    size_t n = 0;
    big[n++] = 0xa1, big[n++] = 0x06, big[n++] = 0x98, big[n++] = MN_RELAY_IWANT_IDS_MAX + 1;
    for (uint32_t i = 0; i <= MN_RELAY_IWANT_IDS_MAX; i++) {
        big[n++] = 0x58, big[n++] = 32;
        n += 32;
    }
    refuse(big, n);
    static const uint8_t ok[] = {0xa1, 0x01, 0x81, 0x01};
    mn_err err;
    ASSERT_OK(mn_relay_ctrl_decode(ok, sizeof ok, &d, &err), &err);
    ASSERT_EQ(d.graft, 1u << 1);
}

MN_TEST_MAIN("net.relay_ctrl", MN_TEST(test_roundtrip), MN_TEST(test_encoder_refuses),
             MN_TEST(test_decoder_refuses))
