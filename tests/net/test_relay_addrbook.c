/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the address book, the ASN map and anchors, adversarial cases first: a flood from
 * one source group lands in at most MN_ADDRBOOK_NEW_PER_SOURCE new buckets; one /24 never has
 * more than 2 addresses in a bucket or 10 in a table; a tried slot's occupant is evicted only
 * after failing its test (test-before-evict); outbound choices come from distinct groups and
 * respect the region cap; a failed address backs off; the shipped sample map parses and bad
 * map lines and anchor files are refused; anchors survive a save and load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metanode/relay_addrbook.h"
#include "mn_test.h"

static mn_addrbook book;
static mn_asmap map;
static const uint8_t KEY[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

static mn_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    mn_addr x;
    memset(&x, 0, sizeof x);
    x.ip[10] = x.ip[11] = 0xff;
    x.ip[12] = a, x.ip[13] = b, x.ip[14] = c, x.ip[15] = d;
    x.port = 7000;
    x.node[0] = a, x.node[1] = b, x.node[2] = c, x.node[3] = d, x.node[31] = 1;
    return x;
}

static void test_groups(void)
{
    mn_addrbook_init(&book, KEY, 1, NULL, 8, 8);
    uint8_t g1[16], g2[16], g3[16];
    mn_addr a = v4(1, 2, 3, 4), b = v4(1, 2, 200, 9), c = v4(1, 3, 3, 4);
    mn_addrbook_group(&book, g1, a.ip);
    mn_addrbook_group(&book, g2, b.ip);
    mn_addrbook_group(&book, g3, c.ip);
    ASSERT_MEM_EQ(g1, g2, 16); /* same /16 */
    ASSERT_TRUE(memcmp(g1, g3, 16) != 0);
    uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1}, v6b[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff};
    mn_addrbook_group(&book, g1, v6a);
    mn_addrbook_group(&book, g2, v6b);
    ASSERT_MEM_EQ(g1, g2, 16); /* same /32 */
}

static void test_asmap_sample(void)
{
    mn_err err;
    uint8_t *text;
    size_t len;
    ASSERT_OK(mn_file_read(mn_test_source_path("data/asmap-sample.txt"), MN_ASMAP_FILE_BYTES_MAX,
                           &text, &len, &err),
              &err);
    ASSERT_OK(mn_asmap_parse(&map, (const char *)text, len, &err), &err);
    free(text);
    ASSERT_EQ(map.count, 8);
    mn_addr a = v4(192, 0, 2, 77);
    const mn_asmap_entry *e = mn_asmap_lookup(&map, a.ip);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(e->asn, 64496);
    ASSERT_STR_EQ(map.regions[e->region], "eu-west");
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
    e = mn_asmap_lookup(&map, v6);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(e->asn, 64500); /* the longer prefix wins */
    mn_addr none = v4(8, 8, 8, 8);
    ASSERT_TRUE(mn_asmap_lookup(&map, none.ip) == NULL);
    /* with the map, a group is the AS: two /16s of 10/8 are one group */
    mn_addrbook_init(&book, KEY, 1, &map, 8, 8);
    uint8_t g1[16], g2[16];
    mn_addr x = v4(10, 1, 0, 1), y = v4(10, 200, 0, 1);
    mn_addrbook_group(&book, g1, x.ip);
    mn_addrbook_group(&book, g2, y.ip);
    ASSERT_MEM_EQ(g1, g2, 16);
}

static void test_asmap_refuses(void)
{
    static const char *const bad[] = {
        "1.2.3.0/33 5 x\n", "1.2.3.0/24 0 x\n", "1.2.3.0/24 5 X\n", "garbage\n",
        "1.2.3.0/24 5 x extra\n", "1.2.3.0 5 x\n", "1.2.3.0/024 5 x\n", "1.2.3.0/24 5 x\t\n",
        "1.2.3.0/24 99999999999 x\n", "1.2.3.0/24 5 abcdefghijklmnopq\n",
    };
    mn_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = mn_asmap_parse(&map, bad[i], strlen(bad[i]), &err);
        ASSERT_TRUE(rc == -MN_ECORRUPT || rc == -MN_ELIMIT);
        ASSERT_EQ(map.count, 0);
    }
    static const char nul[] = "1.2.3.0/24 5 x\0\n";
    ASSERT_EQ(mn_asmap_parse(&map, nul, sizeof nul - 1, &err), -MN_ECORRUPT);
    static const char ok[] = "# c\n\n  1.2.3.0/24 5 x\n";
    ASSERT_OK(mn_asmap_parse(&map, ok, sizeof ok - 1, &err), &err);
    ASSERT_EQ(map.count, 1);
}

static uint32_t buckets_used_new(void)
{
    uint32_t n = 0;
    for (uint32_t b = 0; b < MN_ADDRBOOK_NEW_BUCKETS; b++) {
        bool any = false;
        for (uint32_t i = 0; i < MN_ADDRBOOK_BUCKET_SIZE; i++)
            any |= book.new_slots[b * MN_ADDRBOOK_BUCKET_SIZE + i] != MN_ADDRBOOK_NONE;
        n += any;
    }
    return n;
}

static void test_flood_one_source(void)
{
    mn_addrbook_init(&book, KEY, 1, NULL, 8, 8);
    mn_addr src = v4(66, 1, 1, 1);
    for (uint32_t i = 0; i < 20000; i++) {
        mn_addr a = v4((uint8_t)(20 + i % 50), (uint8_t)(i / 50), (uint8_t)(i >> 3), 1);
        mn_addrbook_add(&book, &a, src.ip, 0);
    }
    ASSERT_TRUE(buckets_used_new() <= MN_ADDRBOOK_NEW_PER_SOURCE);
    ASSERT_TRUE(book.count_new <= MN_ADDRBOOK_NEW_PER_SOURCE * MN_ADDRBOOK_BUCKET_SIZE);
    /* honest addresses from other sources still get in (unless their slot happens to be in
     * one of the flooded buckets: 16 of 256) */
    uint32_t in = 0;
    for (uint32_t i = 0; i < 20; i++) {
        mn_addr h = v4(5, (uint8_t)i, 7, 8), hs = v4((uint8_t)(120 + i), 7, 7, 7);
        in += mn_addrbook_add(&book, &h, hs.ip, 0);
    }
    ASSERT_TRUE(in >= 15);
}

static void test_per24_caps(void)
{
    mn_addrbook_init(&book, KEY, 1, NULL, 8, 8);
    for (uint32_t i = 0; i < 250; i++) {
        mn_addr a = v4(44, 4, 4, (uint8_t)(i + 1));
        mn_addr src = v4((uint8_t)(100 + i % 100), (uint8_t)i, 1, 1);
        mn_addrbook_add(&book, &a, src.ip, 0);
    }
    ASSERT_EQ(book.count_new, MN_ADDRBOOK_PER24_TABLE);
    for (uint32_t b = 0; b < MN_ADDRBOOK_NEW_BUCKETS; b++) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < MN_ADDRBOOK_BUCKET_SIZE; i++)
            n += book.new_slots[b * MN_ADDRBOOK_BUCKET_SIZE + i] != MN_ADDRBOOK_NONE;
        ASSERT_TRUE(n <= MN_ADDRBOOK_PER24_BUCKET);
    }
    ASSERT_TRUE(book.metrics.refused_group24 > 0);
}

static void test_test_before_evict(void)
{
    mn_addrbook_init(&book, KEY, 1, NULL, 8, 8);
    /* one /16 maps to at most TRIED_PER_GROUP tried buckets: good addresses collide soon */
    uint32_t i = 0;
    mn_addr src = v4(9, 9, 9, 9);
    while (book.metrics.collisions == 0 && i < 5000) {
        mn_addr a = v4(33, 3, (uint8_t)(i / 2), (uint8_t)(1 + i % 2 * 100));
        mn_addrbook_add(&book, &a, src.ip, 0);
        mn_addrbook_good(&book, &a, 10);
        i++;
    }
    ASSERT_TRUE(book.metrics.collisions > 0);
    uint32_t tried = book.count_tried;
    mn_addr occupant;
    ASSERT_TRUE(mn_addrbook_collision(&book, &occupant, 20));
    mn_addrbook_good(&book, &occupant, 20); /* it answers: it stays */
    ASSERT_EQ(book.count_tried, tried);
    ASSERT_EQ(book.metrics.evicted_tried, 0);
    ASSERT_TRUE(book.metrics.kept_tried > 0);
    /* the next collision's occupant fails its test: it is evicted, the newcomer moves in */
    uint64_t before = book.metrics.collisions;
    while (book.metrics.collisions == before && i < 10000) {
        mn_addr a = v4(33, 3, (uint8_t)(i / 2), (uint8_t)(1 + i % 2 * 100));
        mn_addrbook_add(&book, &a, src.ip, 0);
        mn_addrbook_good(&book, &a, 30);
        i++;
    }
    ASSERT_TRUE(mn_addrbook_collision(&book, &occupant, 40));
    mn_addrbook_failed(&book, &occupant, 40);
    ASSERT_EQ(book.metrics.evicted_tried, 1);
}

static void test_select_distinct_groups_and_backoff(void)
{
    mn_addrbook_init(&book, KEY, 1, NULL, 8, 8);
    mn_addr src = v4(9, 9, 9, 9);
    for (uint32_t g = 0; g < 3; g++)
        for (uint32_t h = 0; h < 20; h++) {
            mn_addr a = v4((uint8_t)(30 + g), 1, (uint8_t)h, 1);
            mn_addrbook_add(&book, &a, src.ip, 0);
        }
    mn_addr picked[3];
    for (uint32_t k = 0; k < 3; k++) {
        ASSERT_TRUE(mn_addrbook_select(&book, 100, &picked[k]));
        for (uint32_t j = 0; j < k; j++)
            ASSERT_TRUE(picked[j].ip[12] != picked[k].ip[12]);
        mn_addrbook_good(&book, &picked[k], 100);
        mn_addrbook_connected(&book, &picked[k], true);
    }
    mn_addr x;
    ASSERT_FALSE(mn_addrbook_select(&book, 100, &x)); /* every group has an outbound peer */
    ASSERT_EQ(mn_addrbook_outbound_count(&book), 3);
    /* drop one; its group's other addresses qualify again, but not a failed one */
    mn_addrbook_disconnected(&book, &picked[0]);
    mn_addrbook_failed(&book, &picked[0], 100);
    for (int k = 0; k < 50; k++) {
        ASSERT_TRUE(mn_addrbook_select(&book, 100, &x));
        ASSERT_EQ(x.ip[12], picked[0].ip[12]);
        ASSERT_TRUE(memcmp(x.ip, picked[0].ip, 16) != 0);
    }
    mn_addr anchors[MN_ADDRBOOK_ANCHORS_MAX];
    ASSERT_EQ(mn_addrbook_anchors(&book, anchors), 2);
    mn_buf m;
    mn_err err;
    mn_buf_init(&m, 0);
    ASSERT_OK(mn_addrbook_metrics_write(&book, &m, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&m, 0, &err), &err);
    ASSERT_TRUE(strstr((const char *)m.data, "mn_addrbook_selected_total ") != NULL);
    ASSERT_TRUE(strstr((const char *)m.data, "mn_addrbook_addresses{table=\"tried\"} ") != NULL);
    mn_buf_deinit(&m);
}

static void test_region_cap(void)
{
    mn_err err;
    static const char text[] = "10.0.0.0/8 64512 lab\n172.16.0.0/12 64513 lab\n"
                               "192.0.2.0/24 64496 eu-west\n";
    ASSERT_OK(mn_asmap_parse(&map, text, sizeof text - 1, &err), &err);
    mn_addrbook_init(&book, KEY, 1, &map, 8, 1);
    mn_addr src = v4(9, 9, 9, 9);
    mn_addr a = v4(10, 1, 1, 1), b = v4(172, 16, 1, 1), c = v4(192, 0, 2, 1);
    mn_addrbook_add(&book, &a, src.ip, 0);
    mn_addrbook_add(&book, &b, src.ip, 0);
    mn_addrbook_add(&book, &c, src.ip, 0);
    mn_addr x;
    int lab = 0, eu = 0;
    for (int k = 0; k < 3; k++) {
        if (!mn_addrbook_select(&book, 0, &x))
            break;
        lab += x.ip[12] == 10 || x.ip[12] == 172;
        eu += x.ip[12] == 192;
        mn_addrbook_connected(&book, &x, true);
    }
    ASSERT_EQ(lab, 1); /* two ASes but one region, capped at 1 */
    ASSERT_EQ(eu, 1);
}

static void test_anchors(void)
{
    mn_err err;
    mn_addr in[2] = {v4(1, 2, 3, 4), v4(5, 6, 7, 8)}, out[MN_ADDRBOOK_ANCHORS_MAX];
    uint32_t n = 99;
    char path[] = "/tmp/mn_anchors_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    unlink(path);
    ASSERT_OK(mn_addrbook_anchors_load(path, out, &n, &err), &err);
    ASSERT_EQ(n, 0); /* no file: no anchors */
    ASSERT_OK(mn_addrbook_anchors_save(path, in, 2, &err), &err);
    ASSERT_OK(mn_addrbook_anchors_load(path, out, &n, &err), &err);
    ASSERT_EQ(n, 2);
    ASSERT_MEM_EQ(&out[1], &in[1], sizeof in[1]);
    unlink(path);
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_addrbook_anchors_encode(in, 2, &b, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&b, 0, &err), &err);
    ASSERT_EQ(mn_addrbook_anchors_decode(b.data, b.len, out, &n, &err), -MN_ECORRUPT);
    mn_buf_deinit(&b);
    mn_addr zero_port = v4(1, 1, 1, 1);
    zero_port.port = 0;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_addrbook_anchors_encode(&zero_port, 1, &b, &err), &err);
    ASSERT_EQ(mn_addrbook_anchors_decode(b.data, b.len, out, &n, &err), -MN_ECORRUPT);
    mn_buf_deinit(&b);
    static const uint8_t five[] = {0x85};
    ASSERT_EQ(mn_addrbook_anchors_decode(five, sizeof five, out, &n, &err), -MN_ELIMIT);
}

static void test_addr_messages(void)
{
    mn_err err;
    static mn_addr in[MN_ADDRBOOK_ADDRS_MAX + 1], out[MN_ADDRBOOK_ADDRS_MAX];
    for (uint32_t i = 0; i <= MN_ADDRBOOK_ADDRS_MAX; i++)
        in[i] = v4((uint8_t)(11 + i % 200), (uint8_t)(i / 200), 1, 1);
    mn_buf b;
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_addrbook_addrs_encode(in, MN_ADDRBOOK_ADDRS_MAX, &b, &err), &err);
    uint32_t n = 0;
    ASSERT_OK(mn_addrbook_addrs_decode(b.data, b.len, out, &n, &err), &err);
    ASSERT_EQ(n, MN_ADDRBOOK_ADDRS_MAX);
    ASSERT_MEM_EQ(&out[999], &in[999], sizeof in[0]);
    mn_buf_deinit(&b);
    mn_buf_init(&b, 0);
    ASSERT_EQ(mn_addrbook_addrs_encode(in, MN_ADDRBOOK_ADDRS_MAX + 1, &b, &err), -MN_EINVAL);
    ASSERT_EQ(mn_addrbook_addrs_encode(in, 0, &b, &err), -MN_EINVAL);
    static const uint8_t too_many[] = {0x99, 0x03, 0xe9}; /* array of 1,001 */
    ASSERT_EQ(mn_addrbook_addrs_decode(too_many, sizeof too_many, out, &n, &err), -MN_ELIMIT);
    static const uint8_t empty[] = {0x80};
    ASSERT_EQ(mn_addrbook_addrs_decode(empty, sizeof empty, out, &n, &err), -MN_ECORRUPT);
    mn_buf_deinit(&b);
    /* the sample we offer: at most 23 % of the book, no failing addresses */
    mn_addrbook_init(&book, KEY, 5, NULL, 8, 8);
    mn_addr src = v4(9, 9, 9, 9);
    for (uint32_t i = 0; i < 400; i++)
        mn_addrbook_add(&book, &in[i], src.ip, 0);
    uint32_t total = book.count_new;
    ASSERT_TRUE(total > 50);
    for (uint32_t i = 0; i < 400; i++)
        for (int k = 0; k < 3; k++)
            if (i % 2 == 0)
                mn_addrbook_failed(&book, &in[i], 10);
    uint32_t got = mn_addrbook_sample(&book, out, MN_ADDRBOOK_ADDRS_MAX);
    ASSERT_TRUE(got > 0 && got <= total * 23 / 100);
    for (uint32_t i = 0; i < got; i++) {
        uint32_t idx = (uint32_t)(out[i].ip[12] - 11) + 200u * out[i].ip[13];
        ASSERT_TRUE(idx % 2 == 1); /* never one that failed three times */
    }
    ASSERT_EQ(mn_addrbook_sample(&book, out, 3), 3);
}

MN_TEST_MAIN("net.relay_addrbook", MN_TEST(test_groups), MN_TEST(test_asmap_sample),
             MN_TEST(test_asmap_refuses), MN_TEST(test_flood_one_source),
             MN_TEST(test_per24_caps), MN_TEST(test_test_before_evict),
             MN_TEST(test_select_distinct_groups_and_backoff), MN_TEST(test_region_cap),
             MN_TEST(test_anchors), MN_TEST(test_addr_messages))
