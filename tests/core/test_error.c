/* SPDX-License-Identifier: Apache-2.0 — tests of mn_err: codes, errno text, wrapping. */
#include <errno.h>

#include "metanode/error.h"
#include "mn_test.h"

static void set_returns_negative_code(void)
{
    mn_err err;
    ASSERT_EQ(mn_err_set(&err, MN_ECORRUPT, 0, "bad byte %d", 7), -MN_ECORRUPT);
    ASSERT_EQ(err.code, MN_ECORRUPT);
    ASSERT_STR_EQ(err.msg, "bad byte 7");
    ASSERT_EQ(mn_err_set(NULL, MN_ELIMIT, 0, "no err"), -MN_ELIMIT);
}

static void sys_error_appends_strerror(void)
{
    mn_err err;
    mn_err_set(&err, MN_ESYS, ENOENT, "open x");
    ASSERT_EQ(err.sys_errno, ENOENT);
    ASSERT_TRUE(strstr(err.msg, "open x: ") == err.msg);
    ASSERT_TRUE(strlen(err.msg) > strlen("open x: "));
}

static void wrap_prepends_context(void)
{
    mn_err err;
    mn_err_set(&err, MN_ECRYPTO, 0, "signature invalid");
    ASSERT_EQ(mn_err_wrap(&err, "receipt %s", "r.cbor"), -MN_ECRYPTO);
    ASSERT_STR_EQ(err.msg, "receipt r.cbor: signature invalid");
}

static void long_messages_truncate(void)
{
    mn_err err;
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mn_err_set(&err, MN_EINVAL, 0, "%s", big);
    ASSERT_EQ(strlen(err.msg), MN_ERR_MSG_MAX - 1);
    mn_err_wrap(&err, "ctx");
    ASSERT_EQ(strlen(err.msg), MN_ERR_MSG_MAX - 1);
    ASSERT_STR_EQ(mn_code_name(MN_ECRYPTO), "crypto");
    ASSERT_STR_EQ(mn_code_name((mn_code)999), "unknown");
}

MN_TEST_MAIN("core.error", MN_TEST(set_returns_negative_code), MN_TEST(sys_error_appends_strerror),
             MN_TEST(wrap_prepends_context), MN_TEST(long_messages_truncate))
