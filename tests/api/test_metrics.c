/* SPDX-License-Identifier: Apache-2.0
 *
 * test_metrics.c: the Prometheus registry: exact rendering of counters, gauges and labelled
 * histograms (ns shown as seconds, cumulative buckets), the format checker over it, seconds as
 * exact decimals, and refusal of bad names, labels, buckets, duplicates and overflow.
 */
#include <stdlib.h>

#include "metanode/bpci_node.h"
#include "metanode/metrics.h"
#include "mn_test.h"
#include "prom_check.h"

static char *render(const mn_metrics *m)
{
    mn_buf out;
    mn_err err;
    mn_buf_init(&out, 0);
    ASSERT_OK(mn_metrics_render(m, &out, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&out, 0, &err), &err);
    size_t len;
    return (char *)mn_buf_take(&out, &len);
}

static void test_seconds(void)
{
    static const struct {
        uint64_t ns;
        const char *text;
    } cases[] = {{0, "0"},           {1, "0.000000001"},   {1500000, "0.0015"},
                 {250000000, "0.25"}, {1000000000, "1"}, {12000001000, "12.000001"},
                 {UINT64_MAX, "18446744073.709551615"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_buf out;
        mn_err err;
        mn_buf_init(&out, 0);
        ASSERT_OK(mn_metrics_append_seconds(&out, cases[i].ns, &err), &err);
        ASSERT_OK(mn_buf_append_byte(&out, 0, &err), &err);
        ASSERT_STR_EQ((const char *)out.data, cases[i].text);
        mn_buf_deinit(&out);
    }
}

static void test_render_exact(void)
{
    mn_metrics *m;
    mn_err err;
    ASSERT_OK(mn_metrics_new(&m, &err), &err);
    mn_metric *height, *bytes, *lat, *temp;
    const mn_metric_desc dh = {.name = "mn_height", .help = "Last committed height.",
                               .kind = MN_METRIC_GAUGE};
    static const char *const dirs[] = {"in", "out"};
    const mn_metric_desc db = {.name = "mn_bytes_total", .help = "Bytes \\ moved.",
                               .kind = MN_METRIC_COUNTER, .label = "direction",
                               .label_values = dirs, .label_count = 2};
    static const uint64_t bounds[] = {1000000, 250000000, 1000000000};
    const mn_metric_desc dl = {.name = "mn_commit_latency_seconds", .help = "Latency.",
                               .kind = MN_METRIC_HISTOGRAM, .buckets = bounds,
                               .bucket_count = 3, .ns_as_seconds = true};
    static const char *const quoted[] = {"a\"b\\c"};
    const mn_metric_desc dt = {.name = "mn_temp", .kind = MN_METRIC_GAUGE, .label = "where",
                               .label_values = quoted, .label_count = 1};
    ASSERT_OK(mn_metrics_add(m, &dh, &height, &err), &err);
    ASSERT_OK(mn_metrics_add(m, &db, &bytes, &err), &err);
    ASSERT_OK(mn_metrics_add(m, &dl, &lat, &err), &err);
    ASSERT_OK(mn_metrics_add(m, &dt, &temp, &err), &err);
    mn_metric_set(height, 0, 42);
    mn_metric_inc(bytes, 0, 10);
    mn_metric_inc(bytes, 1, 7);
    mn_metric_inc(bytes, 1, 1);
    mn_metric_observe(lat, 0, 500000);     /* <= 1 ms */
    mn_metric_observe(lat, 0, 1000000);    /* == bound: in the 1 ms bucket (le) */
    mn_metric_observe(lat, 0, 300000000);  /* <= 1 s */
    mn_metric_observe(lat, 0, 5000000000); /* +Inf */
    mn_metric_set(temp, 0, -3);
    ASSERT_EQ(mn_metric_value(lat, 0), 4);
    ASSERT_EQ(mn_metric_value(bytes, 1), 8);
    char *text = render(m);
    const char *want =
        "# HELP mn_height Last committed height.\n"
        "# TYPE mn_height gauge\n"
        "mn_height 42\n"
        "# HELP mn_bytes_total Bytes \\\\ moved.\n"
        "# TYPE mn_bytes_total counter\n"
        "mn_bytes_total{direction=\"in\"} 10\n"
        "mn_bytes_total{direction=\"out\"} 8\n"
        "# HELP mn_commit_latency_seconds Latency.\n"
        "# TYPE mn_commit_latency_seconds histogram\n"
        "mn_commit_latency_seconds_bucket{le=\"0.001\"} 2\n"
        "mn_commit_latency_seconds_bucket{le=\"0.25\"} 2\n"
        "mn_commit_latency_seconds_bucket{le=\"1\"} 3\n"
        "mn_commit_latency_seconds_bucket{le=\"+Inf\"} 4\n"
        "mn_commit_latency_seconds_sum 5.3015\n"
        "mn_commit_latency_seconds_count 4\n"
        "# TYPE mn_temp gauge\n"
        "mn_temp{where=\"a\\\"b\\\\c\"} -3\n";
    ASSERT_STR_EQ(text, want);
    char bad[256];
    ASSERT_EQ(prom_check(text, bad, sizeof bad), 10);
    free(text);
    mn_metrics_free(m);
}

static void test_labelled_histogram(void)
{
    mn_metrics *m;
    mn_err err;
    ASSERT_OK(mn_metrics_new(&m, &err), &err);
    static const char *const kinds[] = {"prevote", "precommit"};
    static const uint64_t bounds[] = {10, 100};
    const mn_metric_desc d = {.name = "votes", .kind = MN_METRIC_HISTOGRAM, .label = "kind",
                              .label_values = kinds, .label_count = 2, .buckets = bounds,
                              .bucket_count = 2};
    mn_metric *x;
    ASSERT_OK(mn_metrics_add(m, &d, &x, &err), &err);
    mn_metric_observe(x, 1, 50);
    char *text = render(m);
    ASSERT_TRUE(strstr(text, "votes_bucket{kind=\"precommit\",le=\"100\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "votes_bucket{kind=\"prevote\",le=\"+Inf\"} 0\n") != NULL);
    ASSERT_TRUE(strstr(text, "votes_sum{kind=\"precommit\"} 50\n") != NULL);
    char bad[256];
    ASSERT_EQ(prom_check(text, bad, sizeof bad), 2 * (3 + 2));
    free(text);
    mn_metrics_free(m);
}

static void test_refusals(void)
{
    mn_metrics *m;
    mn_err err;
    mn_metric *x;
    ASSERT_OK(mn_metrics_new(&m, &err), &err);
    static const char *const one[] = {"v"};
    static const char *const ctl[] = {"a\nb"};
    static const uint64_t down[] = {5, 5};
    const mn_metric_desc bad[] = {
        {.name = "", .kind = MN_METRIC_GAUGE},
        {.name = "9lives", .kind = MN_METRIC_GAUGE},
        {.name = "a-b", .kind = MN_METRIC_GAUGE},
        {.name = "ok", .kind = (mn_metric_kind)9},
        {.name = "ok", .kind = MN_METRIC_GAUGE, .help = "two\nlines"},
        {.name = "ok", .kind = MN_METRIC_GAUGE, .label = "le", .label_values = one,
         .label_count = 1},
        {.name = "ok", .kind = MN_METRIC_GAUGE, .label = "__x", .label_values = one,
         .label_count = 1},
        {.name = "ok", .kind = MN_METRIC_GAUGE, .label = "l", .label_values = one,
         .label_count = 0},
        {.name = "ok", .kind = MN_METRIC_GAUGE, .label = "l", .label_values = ctl,
         .label_count = 1},
        {.name = "ok", .kind = MN_METRIC_HISTOGRAM},
        {.name = "ok", .kind = MN_METRIC_HISTOGRAM, .buckets = down, .bucket_count = 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(mn_metrics_add(m, &bad[i], &x, &err), -MN_EINVAL);
    const mn_metric_desc good = {.name = "ok", .kind = MN_METRIC_COUNTER};
    ASSERT_OK(mn_metrics_add(m, &good, &x, &err), &err);
    ASSERT_EQ(mn_metrics_add(m, &good, &x, &err), -MN_EEXIST);
    char name[32];
    for (unsigned i = 1; i < MN_METRICS_MAX; i++) {
        snprintf(name, sizeof name, "m%u", i);
        const mn_metric_desc d = {.name = name, .kind = MN_METRIC_COUNTER};
        ASSERT_OK(mn_metrics_add(m, &d, &x, &err), &err);
    }
    const mn_metric_desc more = {.name = "more", .kind = MN_METRIC_COUNTER};
    ASSERT_EQ(mn_metrics_add(m, &more, &x, &err), -MN_ELIMIT);
    char *text = render(m);
    char badline[256];
    ASSERT_EQ(prom_check(text, badline, sizeof badline), (int)MN_METRICS_MAX);
    free(text);
    mn_metrics_free(m);
}

static void test_checker_rejects(void)
{
    char bad[256];
    ASSERT_EQ(prom_check("x 1\n", bad, sizeof bad), -1); /* no TYPE */
    ASSERT_EQ(prom_check("# TYPE x gauge\nx one\n", bad, sizeof bad), -1);
    ASSERT_EQ(prom_check("# TYPE x gauge\nx{a=b} 1\n", bad, sizeof bad), -1);
    ASSERT_EQ(prom_check("# TYPE x gauge\n# TYPE x gauge\n", bad, sizeof bad), -1);
    ASSERT_EQ(prom_check("# TYPE x gauge\nx 1", bad, sizeof bad), -1);
    ASSERT_EQ(prom_check("# TYPE x gauge\nx{a=\"1\"} 1.5\n", bad, sizeof bad), 1);
}

static void test_node_set(void)
{
    mn_node_metrics nm;
    mn_err err;
    ASSERT_OK(mn_node_metrics_init(&nm, &err), &err);
    mn_metric_set(nm.height, 0, 7);
    mn_metric_set(nm.round, 0, 1);
    mn_metric_set(nm.peers, 0, 3);
    mn_metric_set(nm.mempool_txs, 0, 12);
    mn_metric_set(nm.mempool_bytes, 0, 3000);
    mn_metric_inc(nm.txs_committed, 0, 100);
    mn_metric_observe(nm.commit_latency, 0, 400000000);
    mn_metric_set_counter(nm.bytes, 0, 1000);
    mn_metric_set_counter(nm.bytes, 1, 2000);
    mn_bpci_metrics bm;
    memset(&bm, 0, sizeof bm);
    bm.messages_in = 5;
    mn_buf out;
    mn_buf_init(&out, 0);
    ASSERT_OK(mn_node_metrics_render(&nm, &bm, &out, &err), &err);
    ASSERT_OK(mn_buf_append_byte(&out, 0, &err), &err);
    const char *text = (const char *)out.data;
    char bad[256];
    const int samples = prom_check(text, bad, sizeof bad);
    if (samples < 0)
        fprintf(stderr, "bad line: %s\n", bad);
    ASSERT_TRUE(samples > 20);
    ASSERT_TRUE(strstr(text, "\nmn_node_height 7\n") != NULL);
    ASSERT_TRUE(strstr(text, "mn_node_commit_latency_seconds_bucket{le=\"0.25\"} 0\n") != NULL);
    ASSERT_TRUE(strstr(text, "mn_node_commit_latency_seconds_bucket{le=\"0.5\"} 1\n") != NULL);
    ASSERT_TRUE(strstr(text, "mn_node_commit_latency_seconds_sum 0.4\n") != NULL);
    ASSERT_TRUE(strstr(text, "mn_node_bytes_total{direction=\"out\"} 2000\n") != NULL);
    ASSERT_TRUE(strstr(text, "mn_bpci_messages_in_total 5\n") != NULL);
    mn_buf_deinit(&out);
    mn_node_metrics_deinit(&nm);
}

MN_TEST_MAIN("api.metrics", MN_TEST(test_node_set), MN_TEST(test_seconds), MN_TEST(test_render_exact),
             MN_TEST(test_labelled_histogram), MN_TEST(test_refusals),
             MN_TEST(test_checker_rejects))
