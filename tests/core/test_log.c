/* SPDX-License-Identifier: Apache-2.0 — tests of the logger: threshold, scope, custom sinks. */
#include "metanode/log.h"
#include "mn_test.h"

static int calls;
static char last[256];

static void capture(void *ctx, mn_log_level level, const char *scope, const char *msg)
{
    (void)ctx;
    calls++;
    snprintf(last, sizeof(last), "%s|%s|%s", mn_log_level_name(level), scope, msg);
}

static int formatted;
static const char *count_format(void)
{
    formatted++;
    return "x";
}

static void threshold_filters_before_formatting(void)
{
    mn_log_set_sink(capture, NULL);
    mn_log_set_level(MN_LOG_WARN);
    MN_LOG(INFO, "test", "%s", count_format());
    ASSERT_EQ(calls, 0);
    ASSERT_EQ(formatted, 0); /* arguments are not even evaluated below the threshold */
    MN_LOG(ERROR, "bft", "height=%d round=%d", 7, 1);
    ASSERT_EQ(calls, 1);
    ASSERT_STR_EQ(last, "error|bft|height=7 round=1");
    mn_log_set_level(MN_LOG_OFF);
    MN_LOG(ERROR, "bft", "dropped");
    ASSERT_EQ(calls, 1);
    mn_log_set_sink(NULL, NULL);
}

static void level_names_parse(void)
{
    mn_log_level l;
    ASSERT_EQ(mn_log_level_parse("debug", &l), 0);
    ASSERT_EQ(l, MN_LOG_DEBUG);
    ASSERT_EQ(mn_log_level_parse("loud", &l), -1);
    ASSERT_STR_EQ(mn_log_level_name(MN_LOG_TRACE), "trace");
}

MN_TEST_MAIN("core.log", MN_TEST(threshold_filters_before_formatting), MN_TEST(level_names_parse))
