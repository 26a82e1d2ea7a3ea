/* SPDX-License-Identifier: Apache-2.0
 *
 * mn_test.h: the test harness. Typed checks that print both sides and stop the test on the
 * first failure, a tiny runner (MN_TEST_MAIN lists the cases), and helpers to find the shared
 * test data (../shared or $MN_SHARED_DIR) and load JSON vectors. Missing data is a failure,
 * never a skip.
 */
#ifndef MN_TEST_H
#define MN_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

_Noreturn void mn_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mn_test_dump_hex(const char *label, const void *data, size_t len);

#define ASSERT_TRUE(e)                                                                         \
    do {                                                                                       \
        if (!(e))                                                                              \
            mn_test_fail(__FILE__, __LINE__, "expected true: %s", #e);                          \
    } while (0)
#define ASSERT_FALSE(e) ASSERT_TRUE(!(e))

#define ASSERT_EQ(a, b)                                                                        \
    do {                                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                  \
        if (va_ != vb_)                                                                        \
            mn_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, va_, vb_);        \
    } while (0)
#define ASSERT_NE(a, b)                                                                        \
    do {                                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                  \
        if (va_ == vb_)                                                                        \
            mn_test_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, va_);               \
    } while (0)
#define ASSERT_U64_EQ(a, b)                                                                    \
    do {                                                                                       \
        uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);                                     \
        if (va_ != vb_)                                                                        \
            mn_test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b, va_,  \
                         vb_);                                                                 \
    } while (0)
#define ASSERT_STR_EQ(a, b)                                                                    \
    do {                                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                                     \
        if (strcmp(sa_, sb_) != 0)                                                             \
            mn_test_fail(__FILE__, __LINE__, "%s == %s:\n  \"%s\"\n  \"%s\"", #a, #b, sa_, sb_); \
    } while (0)
#define ASSERT_MEM_EQ(a, b, n)                                                                 \
    do {                                                                                       \
        const void *ma_ = (a), *mb_ = (b);                                                     \
        size_t n_ = (n);                                                                       \
        if (memcmp(ma_, mb_, n_) != 0) {                                                       \
            mn_test_dump_hex(#a, ma_, n_);                                                     \
            mn_test_dump_hex(#b, mb_, n_);                                                     \
            mn_test_fail(__FILE__, __LINE__, "memory differs: %s vs %s", #a, #b);               \
        }                                                                                      \
    } while (0)
/* For functions returning 0 / -code with an mn_err: prints the error on failure. */
#define ASSERT_OK(call, errp)                                                                  \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        if (rc_ != 0)                                                                          \
            mn_test_fail(__FILE__, __LINE__, "%s failed (%d): %s", #call, rc_, (errp)->msg);    \
    } while (0)

typedef struct mn_test_case {
    const char *name;
    void (*fn)(void);
} mn_test_case;

int mn_test_run(const char *suite, const mn_test_case *cases, size_t count, int argc,
                char **argv);

#define MN_TEST(fn) {#fn, fn}
#define MN_TEST_MAIN(suite, ...)                                                               \
    int main(int argc, char **argv)                                                            \
    {                                                                                          \
        static const mn_test_case cases_[] = {__VA_ARGS__};                                    \
        return mn_test_run(suite, cases_, sizeof(cases_) / sizeof(cases_[0]), argc, argv);     \
    }

/* Absolute path of a file under the shared data directory; fails the test if it is missing. */
const char *mn_test_shared_path(const char *relative);
/* Absolute path of a file under the source tree (for golden files, regress corpora). */
const char *mn_test_source_path(const char *relative);
/* Loads a JSON file; fails the test (with jansson's message) on any error. */
json_t *mn_test_load_json(const char *path);
/* Decodes a hex string from a JSON object field into a malloc'd buffer; fails if absent. */
uint8_t *mn_test_json_hex(json_t *obj, const char *key, size_t *len);
/* Decodes a hex JSON string field of exactly n bytes into out. */
void mn_test_json_hex_n(json_t *obj, const char *key, uint8_t *out, size_t n);

#endif
