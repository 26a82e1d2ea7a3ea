/* SPDX-License-Identifier: Apache-2.0
 *
 * test_cbor.c: tests of the canonical CBOR codec. RFC 8949 Appendix A examples inside the
 * subset must encode to exactly the RFC bytes and decode back; those outside it must be
 * rejected. Every rejection rule has its own case checking the error code. A seeded property
 * test builds random documents with the encoder, re-encodes them through a generic walker
 * (peek + getters, explicit stack) and compares bytes, then mutates them and checks that any
 * mutant the decoder accepts is still its own canonical encoding. Encoder programmer errors
 * are checked to abort in a forked child.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metanode/cbor.h"
#include "metanode/clock.h"
#include "mn_test.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* Decodes a hex literal into a static buffer (tests are single-threaded). */
static const uint8_t *unhex(const char *hex, size_t *len)
{
    static uint8_t bytes[4096];
    size_t n = strlen(hex) / 2;
    ASSERT_TRUE(n <= sizeof(bytes));
    mn_err err;
    ASSERT_OK(mn_hex_decode(bytes, n, hex, &err), &err);
    *len = n;
    return bytes;
}

static void expect_buf_hex(const mn_buf *buf, const char *hex)
{
    size_t len;
    const uint8_t *want = unhex(hex, &len);
    if (buf->len != len) {
        mn_test_dump_hex("got", buf->data, buf->len);
        mn_test_fail(__FILE__, __LINE__, "encoded %zu bytes, expected %s", buf->len, hex);
    }
    ASSERT_MEM_EQ(buf->data, want, len);
}

/* Skips one document with mn_cbor_skip and finishes; 0 or -code. */
static int skip_doc(const uint8_t *in, size_t len, mn_err *err)
{
    mn_cbor_dec dec;
    mn_cbor_dec_init(&dec, in, len);
    int rc = mn_cbor_skip(&dec, err);
    if (rc == 0)
        ASSERT_TRUE(mn_cbor_dec_at_top(&dec));
    return rc != 0 ? rc : mn_cbor_dec_finish(&dec, err);
}

/* Decodes bytes both ways; returns the code (0 when accepted, then re-encoding must match). */
static int check_bytes(const uint8_t *in, size_t len)
{
    mn_buf out;
    mn_err err, err2;
    mn_buf_init(&out, 0);
    int rc = mn_cbor_copy_document(in, len, &out, &err);
    if (rc == 0) {
        ASSERT_EQ(out.len, len);
        ASSERT_MEM_EQ(out.data, in, len);
    }
    mn_buf_deinit(&out);
    if (rc != 0 && getenv("MN_CBOR_VERBOSE") != NULL) {
        char hex[2 * 32 + 1];
        mn_hex_encode(hex, in, len < 32 ? len : 32);
        fprintf(stderr, "  %s%s -> %s\n", hex, len > 32 ? "..." : "", err.msg);
    }
    int rc2 = skip_doc(in, len, &err2);
    if (rc != rc2)
        mn_test_fail(__FILE__, __LINE__, "walk %d (%s) vs skip %d (%s)", rc,
                     rc ? err.msg : "", rc2, rc2 ? err2.msg : "");
    return rc == 0 ? 0 : (int)err.code;
}

static int check_hex(const char *hex)
{
    size_t len;
    const uint8_t *in = unhex(hex, &len);
    return check_bytes(in, len);
}

#define ACCEPT(hex) ASSERT_EQ(check_hex(hex), 0)
#define REJECT(hex, code) ASSERT_EQ(check_hex(hex), code)

/* Runs fn in a child and checks that it aborts (an MN_ASSERT fired), or that it returns
 * normally when aborts is false. */
static void expect_child(void (*fn)(void), bool aborts)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, STDERR_FILENO);
        fn();
        _exit(0);
    }
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    if (aborts) {
        ASSERT_TRUE(WIFSIGNALED(status));
        ASSERT_EQ(WTERMSIG(status), SIGABRT);
    } else {
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
    }
}

static void enc_start(mn_cbor_enc *enc, mn_buf *buf)
{
    mn_buf_init(buf, 0);
    mn_cbor_enc_init(enc, buf);
}

/* Finishes the encoder, compares with hex, frees, and checks that the decoder accepts it. */
static void enc_expect(mn_cbor_enc *enc, mn_buf *buf, const char *hex)
{
    mn_err err;
    ASSERT_OK(mn_cbor_enc_finish(enc, &err), &err);
    expect_buf_hex(buf, hex);
    mn_buf_deinit(buf);
    ACCEPT(hex);
}

static void dec_start(mn_cbor_dec *dec, const char *hex)
{
    size_t len;
    const uint8_t *in = unhex(hex, &len);
    mn_cbor_dec_init(dec, in, len);
}

static void dec_done(mn_cbor_dec *dec)
{
    mn_err err;
    ASSERT_TRUE(mn_cbor_dec_at_top(dec));
    ASSERT_OK(mn_cbor_dec_finish(dec, &err), &err);
}

/* ---- RFC 8949 Appendix A ------------------------------------------------------------- */

static void rfc_unsigned_integers(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},
        {1, "01"},
        {10, "0a"},
        {23, "17"},
        {24, "1818"},
        {25, "1819"},
        {100, "1864"},
        {1000, "1903e8"},
        {1000000, "1a000f4240"},
        {1000000000000, "1b000000e8d4a51000"},
        {UINT64_MAX, "1bffffffffffffffff"},
        {(uint64_t)INT64_MAX, "1b7fffffffffffffff"}, /* not in the RFC: the int64 edge */
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++) {
        mn_cbor_enc enc;
        mn_buf buf;
        enc_start(&enc, &buf);
        mn_cbor_put_uint(&enc, cases[i].v);
        enc_expect(&enc, &buf, cases[i].hex);
        if (cases[i].v <= INT64_MAX) {
            enc_start(&enc, &buf);
            mn_cbor_put_int(&enc, (int64_t)cases[i].v);
            enc_expect(&enc, &buf, cases[i].hex);
        }
        mn_cbor_dec dec;
        mn_err err;
        uint64_t u;
        int64_t s;
        dec_start(&dec, cases[i].hex);
        ASSERT_OK(mn_cbor_get_uint(&dec, &u, &err), &err);
        ASSERT_U64_EQ(u, cases[i].v);
        dec_done(&dec);
        dec_start(&dec, cases[i].hex);
        if (cases[i].v <= INT64_MAX) {
            ASSERT_OK(mn_cbor_get_int(&dec, &s, &err), &err);
            ASSERT_EQ(s, (int64_t)cases[i].v);
            dec_done(&dec);
        } else {
            ASSERT_EQ(mn_cbor_get_int(&dec, &s, &err), -MN_ECORRUPT);
        }
        dec_start(&dec, cases[i].hex);
        ASSERT_EQ(mn_cbor_get_negint_arg(&dec, &u, &err), -MN_ECORRUPT);
    }
}

static void rfc_negative_integers(void)
{
    static const struct {
        int64_t v;
        const char *hex;
    } cases[] = {
        {-1, "20"},
        {-10, "29"},
        {-100, "3863"},
        {-1000, "3903e7"},
        {INT64_MIN, "3b7fffffffffffffff"}, /* not in the RFC: the int64 edge */
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++) {
        mn_cbor_enc enc;
        mn_buf buf;
        enc_start(&enc, &buf);
        mn_cbor_put_int(&enc, cases[i].v);
        enc_expect(&enc, &buf, cases[i].hex);
        enc_start(&enc, &buf);
        mn_cbor_put_negint_arg(&enc, (uint64_t)(-(cases[i].v + 1)));
        enc_expect(&enc, &buf, cases[i].hex);
        mn_cbor_dec dec;
        mn_err err;
        int64_t s;
        uint64_t n;
        dec_start(&dec, cases[i].hex);
        ASSERT_OK(mn_cbor_get_int(&dec, &s, &err), &err);
        ASSERT_EQ(s, cases[i].v);
        dec_done(&dec);
        dec_start(&dec, cases[i].hex);
        ASSERT_OK(mn_cbor_get_negint_arg(&dec, &n, &err), &err);
        ASSERT_U64_EQ(n, (uint64_t)(-(cases[i].v + 1)));
        dec_start(&dec, cases[i].hex);
        ASSERT_EQ(mn_cbor_get_uint(&dec, &n, &err), -MN_ECORRUPT);
    }
    /* -18446744073709551616 = -1 - (2^64 - 1): only the argument form reaches it. */
    mn_cbor_enc enc;
    mn_buf buf;
    enc_start(&enc, &buf);
    mn_cbor_put_negint_arg(&enc, UINT64_MAX);
    enc_expect(&enc, &buf, "3bffffffffffffffff");
    mn_cbor_dec dec;
    mn_err err;
    uint64_t n;
    int64_t s;
    dec_start(&dec, "3bffffffffffffffff");
    ASSERT_EQ(mn_cbor_get_int(&dec, &s, &err), -MN_ECORRUPT);
    ASSERT_OK(mn_cbor_get_negint_arg(&dec, &n, &err), &err);
    ASSERT_U64_EQ(n, UINT64_MAX);
    dec_done(&dec);
}

static void rfc_simple_values(void)
{
    mn_cbor_enc enc;
    mn_buf buf;
    enc_start(&enc, &buf);
    mn_cbor_put_bool(&enc, false);
    enc_expect(&enc, &buf, "f4");
    enc_start(&enc, &buf);
    mn_cbor_put_bool(&enc, true);
    enc_expect(&enc, &buf, "f5");
    enc_start(&enc, &buf);
    mn_cbor_put_null(&enc);
    enc_expect(&enc, &buf, "f6");
    mn_cbor_dec dec;
    mn_err err;
    bool b = true;
    mn_cbor_type type;
    dec_start(&dec, "f4");
    ASSERT_OK(mn_cbor_peek(&dec, &type, &err), &err);
    ASSERT_EQ(type, MN_CBOR_BOOL);
    ASSERT_EQ(mn_cbor_get_null(&dec, &err), -MN_ECORRUPT);
    ASSERT_OK(mn_cbor_get_bool(&dec, &b, &err), &err);
    ASSERT_FALSE(b);
    dec_done(&dec);
    dec_start(&dec, "f5");
    ASSERT_OK(mn_cbor_get_bool(&dec, &b, &err), &err);
    ASSERT_TRUE(b);
    dec_done(&dec);
    dec_start(&dec, "f6");
    ASSERT_OK(mn_cbor_peek(&dec, &type, &err), &err);
    ASSERT_EQ(type, MN_CBOR_NULL);
    ASSERT_EQ(mn_cbor_get_bool(&dec, &b, &err), -MN_ECORRUPT);
    ASSERT_OK(mn_cbor_get_null(&dec, &err), &err);
    dec_done(&dec);
}

static void rfc_strings(void)
{
    static const struct {
        bool text;
        const char *data;
        size_t len;
        const char *hex;
    } cases[] = {
        {false, "", 0, "40"},
        {false, "\x01\x02\x03\x04", 4, "4401020304"},
        {true, "", 0, "60"},
        {true, "a", 1, "6161"},
        {true, "IETF", 4, "6449455446"},
        {true, "\"\\", 2, "62225c"},
        {true, "\xc3\xbc", 2, "62c3bc"},                 /* "\u00fc" */
        {true, "\xe6\xb0\xb4", 3, "63e6b0b4"},           /* "\u6c34" */
        {true, "\xf0\x90\x85\x91", 4, "64f0908591"},     /* "\ud800\udd51" */
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++) {
        mn_cbor_enc enc;
        mn_buf buf;
        enc_start(&enc, &buf);
        if (cases[i].text)
            mn_cbor_put_text(&enc, cases[i].data, cases[i].len);
        else
            mn_cbor_put_bytes(&enc, cases[i].data, cases[i].len);
        enc_expect(&enc, &buf, cases[i].hex);
        mn_cbor_dec dec;
        mn_err err;
        const uint8_t *data;
        const char *text;
        size_t len;
        dec_start(&dec, cases[i].hex);
        if (cases[i].text) {
            ASSERT_EQ(mn_cbor_get_bytes(&dec, &data, &len, &err), -MN_ECORRUPT);
            ASSERT_OK(mn_cbor_get_text(&dec, &text, &len, &err), &err);
            ASSERT_EQ(len, cases[i].len);
            ASSERT_MEM_EQ(text, cases[i].data, len);
        } else {
            ASSERT_EQ(mn_cbor_get_text(&dec, &text, &len, &err), -MN_ECORRUPT);
            ASSERT_OK(mn_cbor_get_bytes(&dec, &data, &len, &err), &err);
            ASSERT_EQ(len, cases[i].len);
            ASSERT_MEM_EQ(data, cases[i].data, len);
        }
        dec_done(&dec);
    }
    /* The NULL/0 case: an empty byte string needs no data pointer. */
    mn_cbor_enc enc;
    mn_buf buf;
    enc_start(&enc, &buf);
    mn_cbor_put_bytes(&enc, NULL, 0);
    enc_expect(&enc, &buf, "40");
}

static void rfc_arrays_and_maps(void)
{
    mn_cbor_enc enc;
    mn_buf buf;
    enc_start(&enc, &buf);
    mn_cbor_put_array(&enc, 0);
    enc_expect(&enc, &buf, "80");
    enc_start(&enc, &buf);
    mn_cbor_put_array(&enc, 3);
    for (uint64_t i = 1; i <= 3; i++)
        mn_cbor_put_uint(&enc, i);
    enc_expect(&enc, &buf, "83010203");
    enc_start(&enc, &buf);
    mn_cbor_put_array(&enc, 3);
    mn_cbor_put_uint(&enc, 1);
    mn_cbor_put_array(&enc, 2);
    mn_cbor_put_uint(&enc, 2);
    mn_cbor_put_uint(&enc, 3);
    mn_cbor_put_array(&enc, 2);
    mn_cbor_put_uint(&enc, 4);
    mn_cbor_put_uint(&enc, 5);
    enc_expect(&enc, &buf, "8301820203820405");
    enc_start(&enc, &buf);
    mn_cbor_put_array(&enc, 25);
    for (uint64_t i = 1; i <= 25; i++)
        mn_cbor_put_uint(&enc, i);
    enc_expect(&enc, &buf, "98190102030405060708090a0b0c0d0e0f101112131415161718181819");
    enc_start(&enc, &buf);
    mn_cbor_put_map(&enc, 0);
    enc_expect(&enc, &buf, "a0");
    enc_start(&enc, &buf);
    mn_cbor_put_map(&enc, 2);
    mn_cbor_put_key(&enc, 1);
    mn_cbor_put_uint(&enc, 2);
    mn_cbor_put_key(&enc, 3);
    mn_cbor_put_uint(&enc, 4);
    enc_expect(&enc, &buf, "a201020304");
}

static void rfc_nested_decode_values(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t n, v;
    int64_t k;
    dec_start(&dec, "8301820203820405");
    ASSERT_OK(mn_cbor_get_array(&dec, &n, &err), &err);
    ASSERT_U64_EQ(n, 3);
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_U64_EQ(v, 1);
    for (uint64_t i = 0; i < 2; i++) {
        ASSERT_OK(mn_cbor_get_array(&dec, &n, &err), &err);
        ASSERT_U64_EQ(n, 2);
        ASSERT_FALSE(mn_cbor_dec_at_top(&dec));
        ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
        ASSERT_U64_EQ(v, 2 + 2 * i);
        ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
        ASSERT_U64_EQ(v, 3 + 2 * i);
    }
    dec_done(&dec);
    dec_start(&dec, "a201020304");
    ASSERT_OK(mn_cbor_get_map(&dec, &n, &err), &err);
    ASSERT_U64_EQ(n, 2);
    for (int64_t i = 0; i < 2; i++) {
        ASSERT_OK(mn_cbor_get_key(&dec, &k, &err), &err);
        ASSERT_EQ(k, 1 + 2 * i);
        ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
        ASSERT_U64_EQ(v, 2 + 2 * i);
    }
    dec_done(&dec);
}

/* Appendix A examples outside the subset: floats, simple values, tags, indefinite lengths,
 * maps with text keys. Each must be refused by the decoder. */
static void rfc_outside_subset_rejected(void)
{
    static const char *const cases[] = {
        "f90000", "f98000", "f93c00", "fb3ff199999999999a", "f93e00", "f97bff", "fa47c35000",
        "fa7f7fffff", "fb7e37e43c8800759c", "f90001", "f90400", "f9c400", "fbc010666666666666",
        "f97c00", "f97e00", "f9fc00", "fa7f800000", "fa7fc00000", "faff800000",
        "fb7ff0000000000000", "fb7ff8000000000000", "fbfff0000000000000",
        "f7", "f0", "f818", "f8ff",
        "c074323031332d30332d32315432303a30343a30305a", "c11a514b67b0", "c1fb41d452d9ec200000",
        "d74401020304", "d818456449455446",
        "d82076687474703a2f2f7777772e6578616d706c652e636f6d", "c249010000000000000000",
        "c349010000000000000000",
        "a26161016162820203", "826161a161626163", "a56161614161626142616361436164614461656145",
        "5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff",
        "9f01820203820405ff", "83018202039f0405ff", "83019f0203ff820405",
        "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", "bf61610161629f0203ffff",
        "826161bf61626163ff", "bf6346756ef563416d7421ff",
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++)
        if (check_hex(cases[i]) != MN_ECORRUPT)
            mn_test_fail(__FILE__, __LINE__, "accepted or wrong code: %s", cases[i]);
}

/* ---- one test per rejection rule ----------------------------------------------------- */

/* Every initial byte, followed by enough 0xff bytes for any head: accepted exactly when it is
 * a major type 0-5 with additional info 0-27, or false/true/null. */
static void every_initial_byte(void)
{
    for (unsigned ib = 0; ib < 256; ib++) {
        uint8_t in[9] = {(uint8_t)ib, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        unsigned major = ib >> 5, info = ib & 31;
        bool ok = (major <= 5 && info <= 27) || ib == 0xf4 || ib == 0xf5 || ib == 0xf6;
        mn_cbor_dec dec;
        mn_cbor_type type;
        mn_err err;
        mn_cbor_dec_init(&dec, in, sizeof(in));
        int rc = mn_cbor_peek(&dec, &type, &err);
        if (ok != (rc == 0))
            mn_test_fail(__FILE__, __LINE__, "initial byte 0x%02x: rc %d (%s)", ib, rc,
                         rc ? err.msg : "");
        if (!ok)
            ASSERT_EQ(err.code, MN_ECORRUPT);
        ASSERT_TRUE(dec.p == in); /* peek consumes nothing */
    }
}

static void non_shortest_heads(void)
{
    /* Each width, for unsigned, negative, and every length-bearing major type. */
    static const char *const cases[] = {
        "1800", "1817", "1900ff", "190000", "1a0000ffff", "1a00000000", "1b00000000ffffffff",
        "1b0000000000000000", "3817", "3900ff", "3a0000ffff", "3b00000000ffffffff", "5800",
        "590000", "5a00000000", "5b0000000000000000", "7800", "790000", "9800", "990000",
        "9a00000000", "b800", "b90000", "bb0000000000000000",
        "a11801f6", /* a non-shortest map key */
        "8201990001", /* a non-shortest item inside an array */
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++)
        if (check_hex(cases[i]) != MN_ECORRUPT)
            mn_test_fail(__FILE__, __LINE__, "not rejected as corrupt: %s", cases[i]);
    /* The smallest argument of each width is shortest, hence accepted. */
    ACCEPT("1818");
    ACCEPT("190100");
    ACCEPT("1a00010000");
    ACCEPT("1b0000000100000000");
    ACCEPT("3818");
    ACCEPT("3b0000000100000000");
}

static void reserved_additional_info(void)
{
    for (unsigned major = 0; major < 8; major++)
        for (unsigned info = 28; info <= 30; info++) {
            uint8_t in[9] = {(uint8_t)(major << 5 | info), 1, 1, 1, 1, 1, 1, 1, 1};
            ASSERT_EQ(check_bytes(in, sizeof(in)), MN_ECORRUPT);
        }
}

static void indefinite_lengths_and_break(void)
{
    REJECT("5f4101ff", MN_ECORRUPT);
    REJECT("7f6161ff", MN_ECORRUPT);
    REJECT("9f01ff", MN_ECORRUPT);
    REJECT("bf0101ff", MN_ECORRUPT);
    REJECT("ff", MN_ECORRUPT);
    REJECT("8101ff", MN_ECORRUPT); /* a stray break after a complete document */
    REJECT("1f", MN_ECORRUPT);
    REJECT("3f", MN_ECORRUPT);
    REJECT("df", MN_ECORRUPT);
}

static void tags_rejected(void)
{
    REJECT("c000", MN_ECORRUPT);
    REJECT("d74401020304", MN_ECORRUPT);
    REJECT("d81800", MN_ECORRUPT);
    REJECT("db000000000000000000", MN_ECORRUPT);
    REJECT("81c000", MN_ECORRUPT); /* inside a container */
}

static void simple_and_float_rejected(void)
{
    static const char *const cases[] = {
        "e0", "f3", "f7", "f820", "f8ff", "f90000", "fa00000000", "fb0000000000000000",
        "81f7", "a101f93c00", "f81f",
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++)
        REJECT(cases[i], MN_ECORRUPT);
}

static void map_keys_must_be_integers(void)
{
    REJECT("a1616101", MN_ECORRUPT);   /* text */
    REJECT("a1400101", MN_ECORRUPT);   /* bytes (and then a stray item) */
    REJECT("a14001", MN_ECORRUPT);     /* bytes */
    REJECT("a18001", MN_ECORRUPT);     /* array */
    REJECT("a1a001", MN_ECORRUPT);     /* map */
    REJECT("a1f501", MN_ECORRUPT);     /* bool */
    REJECT("a1f601", MN_ECORRUPT);     /* null */
    REJECT("a1fa0000000001", MN_ECORRUPT); /* float */
    /* In int64_t range only. */
    REJECT("a11b8000000000000000f6", MN_ECORRUPT);
    REJECT("a13b8000000000000000f6", MN_ECORRUPT);
    ACCEPT("a11b7ffffffffffffffff6");
    ACCEPT("a13b7ffffffffffffffff6");
}

static void map_keys_sorted_and_unique(void)
{
    ACCEPT("a200000100");         /* {0:0, 1:0} */
    REJECT("a201000000", MN_ECORRUPT);   /* {1:0, 0:0} */
    REJECT("a201000100", MN_ECORRUPT);   /* duplicate {1:0, 1:0} */
    REJECT("a3000001000100", MN_ECORRUPT); /* duplicate after a valid pair */
    ACCEPT("a21700181800");     /* {23:0, 24:0} */
    REJECT("a21818001700", MN_ECORRUPT); /* {24:0, 23:0} */
}

static void map_negative_key_order(void)
{
    ACCEPT("a200002000");       /* {0:0, -1:0}: unsigned keys sort first */
    REJECT("a220000000", MN_ECORRUPT);   /* {-1:0, 0:0} */
    ACCEPT("a220002100");       /* {-1:0, -2:0} */
    REJECT("a221002000", MN_ECORRUPT);   /* {-2:0, -1:0} */
    ACCEPT("a23700381800");     /* {-24:0, -25:0}: a longer head sorts after */
    REJECT("a23818003700", MN_ECORRUPT);
    ACCEPT("a21864002000");     /* {100:0, -1:0}: 0x18 < 0x20 */
    REJECT("a22000186400", MN_ECORRUPT);
    ACCEPT("a21b7fffffffffffffff002000"); /* {INT64_MAX:0, -1:0} */
    ACCEPT("a220003b7fffffffffffffff00"); /* {-1:0, INT64_MIN:0} */
}

static void utf8_rejected(void)
{
    static const char *const bad[] = {
        "62c080",     /* overlong NUL */
        "62c1bf",     /* overlong 0x7f */
        "63e08080",   /* overlong 3-byte */
        "63e09fbf",   /* overlong 3-byte, highest */
        "64f0808080", /* overlong 4-byte */
        "64f08fbfbf", /* overlong 4-byte, highest */
        "63eda080",   /* U+D800 */
        "63edbfbf",   /* U+DFFF */
        "66eda080edb080", /* a CESU-8 surrogate pair */
        "64f4908080", /* U+110000 */
        "64f5808080", /* lead byte beyond U+10FFFF */
        "61ff",       /* never valid */
        "6180",       /* lone continuation */
        "61c3",       /* truncated 2-byte */
        "62e6b0",     /* truncated 3-byte */
        "63f09085",   /* truncated 4-byte */
        "62c341",     /* bad continuation */
        "63e6b041",   /* bad third byte */
        "6461c3bc80", /* stray continuation after a valid char */
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(bad); i++)
        if (check_hex(bad[i]) != MN_ECORRUPT)
            mn_test_fail(__FILE__, __LINE__, "invalid UTF-8 accepted: %s", bad[i]);
    static const char *const good[] = {
        "6100",       /* U+0000 */
        "617f",       /* U+007F */
        "62c280",     /* U+0080 */
        "62dfbf",     /* U+07FF */
        "63e0a080",   /* U+0800 */
        "63ed9fbf",   /* U+D7FF */
        "63ee8080",   /* U+E000 */
        "63efbfbf",   /* U+FFFF */
        "64f0908080", /* U+10000 */
        "64f48fbfbf", /* U+10FFFF */
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(good); i++)
        ACCEPT(good[i]);
    /* Bytes strings are not text: any byte goes. */
    ACCEPT("42c080");
}

static void utf8_error_names_the_offset(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t n;
    const char *text;
    size_t len;
    /* [1, "abcd\xc3"]: the truncated character starts at byte 7. */
    dec_start(&dec, "82016561626364c3");
    ASSERT_OK(mn_cbor_get_array(&dec, &n, &err), &err);
    ASSERT_OK(mn_cbor_get_uint(&dec, &n, &err), &err);
    ASSERT_EQ(mn_cbor_get_text(&dec, &text, &len, &err), -MN_ECORRUPT);
    ASSERT_TRUE(strstr(err.msg, "offset 7") != NULL);
}

static void read_past_end(void)
{
    REJECT("", MN_ECORRUPT);
    REJECT("18", MN_ECORRUPT);
    REJECT("1900", MN_ECORRUPT);
    REJECT("1a000000", MN_ECORRUPT);
    REJECT("1b00000000000000", MN_ECORRUPT);
    REJECT("3b00000000000000", MN_ECORRUPT);
    REJECT("430102", MN_ECORRUPT);
    REJECT("64616263", MN_ECORRUPT);
    REJECT("82420001", MN_ECORRUPT); /* [h'0001', <missing>] */
    /* A container that cannot fit in the bytes left is refused when opened (MN_ELIMIT). */
    REJECT("830102", MN_ELIMIT);
    REJECT("a10a", MN_ELIMIT);
}

static void trailing_bytes(void)
{
    REJECT("0000", MN_ECORRUPT);
    REJECT("8001", MN_ECORRUPT);
    REJECT("a0a0", MN_ECORRUPT);
    mn_cbor_dec dec;
    mn_err err;
    uint64_t v;
    dec_start(&dec, "0102");
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_TRUE(mn_cbor_dec_at_top(&dec));
    ASSERT_EQ(mn_cbor_dec_finish(&dec, &err), -MN_ECORRUPT);
    ASSERT_TRUE(strstr(err.msg, "offset 1") != NULL);
}

/* Once the top-level item is complete nothing more may be read, even if bytes remain. */
static void read_after_document_complete(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t v;
    mn_cbor_type type;
    dec_start(&dec, "810102");
    ASSERT_OK(mn_cbor_get_array(&dec, &v, &err), &err);
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_EQ(mn_cbor_peek(&dec, &type, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_uint(&dec, &v, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_skip(&dec, &err), -MN_ECORRUPT);
    dec_start(&dec, "01");
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_EQ(mn_cbor_get_uint(&dec, &v, &err), -MN_ECORRUPT); /* exhausted, at end too */
    ASSERT_OK(mn_cbor_dec_finish(&dec, &err), &err);
}

static void finish_checks_state(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t v;
    dec_start(&dec, "");
    ASSERT_EQ(mn_cbor_dec_finish(&dec, &err), -MN_ECORRUPT); /* no item read */
    mn_cbor_dec_init(&dec, NULL, 0);
    ASSERT_EQ(mn_cbor_dec_finish(&dec, &err), -MN_ECORRUPT);
    dec_start(&dec, "820102");
    ASSERT_OK(mn_cbor_get_array(&dec, &v, &err), &err);
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_FALSE(mn_cbor_dec_at_top(&dec));
    ASSERT_EQ(mn_cbor_dec_finish(&dec, &err), -MN_ECORRUPT); /* a container still open */
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    dec_done(&dec);
}

static void map_key_value_alternation(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t v;
    int64_t k;
    mn_cbor_type type;
    dec_start(&dec, "a2010203f6");
    ASSERT_EQ(mn_cbor_get_key(&dec, &k, &err), -MN_ECORRUPT); /* no map open */
    ASSERT_OK(mn_cbor_get_map(&dec, &v, &err), &err);
    ASSERT_OK(mn_cbor_peek(&dec, &type, &err), &err);
    ASSERT_EQ(type, MN_CBOR_UINT);
    ASSERT_EQ(mn_cbor_get_uint(&dec, &v, &err), -MN_ECORRUPT);  /* a key is due */
    ASSERT_EQ(mn_cbor_get_int(&dec, &k, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_array(&dec, &v, &err), -MN_ECORRUPT);
    ASSERT_OK(mn_cbor_get_key(&dec, &k, &err), &err);
    ASSERT_EQ(k, 1);
    ASSERT_EQ(mn_cbor_get_key(&dec, &k, &err), -MN_ECORRUPT);   /* a value is due */
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_OK(mn_cbor_get_key(&dec, &k, &err), &err);
    ASSERT_EQ(k, 3);
    ASSERT_OK(mn_cbor_get_null(&dec, &err), &err);
    dec_done(&dec);
    dec_start(&dec, "8101");
    ASSERT_OK(mn_cbor_get_array(&dec, &v, &err), &err);
    ASSERT_EQ(mn_cbor_get_key(&dec, &k, &err), -MN_ECORRUPT);   /* arrays have no keys */
}

/* Builds n nested arrays around an empty one: depth n + 1. */
static size_t nested_arrays(uint8_t *out, size_t n, uint8_t innermost)
{
    for (size_t i = 0; i < n; i++)
        out[i] = 0x81;
    out[n] = innermost;
    return n + 1;
}

static void depth_limit(void)
{
    uint8_t in[MN_CBOR_DEPTH_MAX + 2];
    size_t len = nested_arrays(in, MN_CBOR_DEPTH_MAX - 1, 0x80);
    ASSERT_EQ(check_bytes(in, len), 0);
    len = nested_arrays(in, MN_CBOR_DEPTH_MAX, 0x80);
    ASSERT_EQ(check_bytes(in, len), MN_ELIMIT); /* even an empty container counts */
    len = nested_arrays(in, MN_CBOR_DEPTH_MAX, 0x00);
    ASSERT_EQ(check_bytes(in, len), 0); /* 16 arrays around a scalar */
    len = nested_arrays(in, MN_CBOR_DEPTH_MAX, 0xa0);
    ASSERT_EQ(check_bytes(in, len), MN_ELIMIT);
    /* Maps count too: {0: {0: ... }}. */
    uint8_t maps[2 * MN_CBOR_DEPTH_MAX + 1];
    for (size_t i = 0; i < MN_CBOR_DEPTH_MAX; i++) {
        maps[2 * i] = 0xa1;
        maps[2 * i + 1] = 0x00;
    }
    maps[2 * MN_CBOR_DEPTH_MAX] = 0xf6;
    ASSERT_EQ(check_bytes(maps, sizeof(maps)), 0);
    maps[2 * MN_CBOR_DEPTH_MAX] = 0x80;
    ASSERT_EQ(check_bytes(maps, sizeof(maps)), MN_ELIMIT);
    /* The encoder refuses to build what the decoder would refuse. */
    mn_cbor_enc enc;
    mn_buf buf;
    mn_err err;
    enc_start(&enc, &buf);
    for (size_t i = 0; i < MN_CBOR_DEPTH_MAX; i++)
        mn_cbor_put_array(&enc, 1);
    mn_cbor_put_array(&enc, 0);
    mn_cbor_put_null(&enc); /* a no-op after the failure */
    ASSERT_EQ(mn_cbor_enc_finish(&enc, &err), -MN_ELIMIT);
    ASSERT_EQ(err.code, MN_ELIMIT);
    mn_buf_deinit(&buf);
}

static void huge_declared_sizes(void)
{
    /* Counts: beyond MN_CBOR_ITEMS_MAX, or beyond what the bytes left could hold. */
    REJECT("9bffffffffffffffff", MN_ELIMIT);
    REJECT("bbffffffffffffffff", MN_ELIMIT);
    REJECT("9b8000000000000000", MN_ELIMIT);
    REJECT("bb4000000000000000", MN_ELIMIT); /* 2 * count would wrap 64 bits */
    REJECT("9a0010000000", MN_ELIMIT);       /* MN_CBOR_ITEMS_MAX items, one byte */
    REJECT("9a0010000100", MN_ELIMIT);       /* MN_CBOR_ITEMS_MAX + 1 */
    ACCEPT("a3000001000200");                /* 3 pairs in exactly 6 bytes */
    REJECT("a30000010002", MN_ELIMIT);       /* 3 pairs, 5 bytes */
    /* Lengths: beyond MN_CBOR_STRING_BYTES_MAX is a limit, beyond the input is corrupt. */
    REJECT("5bffffffffffffffff", MN_ELIMIT);
    REJECT("7bffffffffffffffff", MN_ELIMIT);
    REJECT("5b7fffffffffffffff00", MN_ELIMIT);
    REJECT("5a01000001", MN_ELIMIT);        /* MN_CBOR_STRING_BYTES_MAX + 1 */
    REJECT("5a0100000000", MN_ECORRUPT);    /* exactly the limit, but only one byte there */
    REJECT("59010000", MN_ECORRUPT);        /* 256 bytes declared, one there */
    REJECT("82015bffffffffffffffff", MN_ELIMIT); /* inside a container */
}

/* Builds an array head for count items followed by count zero bytes. */
static uint8_t *zeros_array(uint64_t count, size_t *len)
{
    size_t n = 5 + (size_t)count;
    uint8_t *in = calloc(1, n);
    ASSERT_TRUE(in != NULL);
    in[0] = 0x9a;
    in[1] = (uint8_t)(count >> 24);
    in[2] = (uint8_t)(count >> 16);
    in[3] = (uint8_t)(count >> 8);
    in[4] = (uint8_t)count;
    *len = n;
    return in;
}

static void item_and_string_limits_at_the_edge(void)
{
    size_t len;
    uint8_t *in = zeros_array(MN_CBOR_ITEMS_MAX, &len);
    ASSERT_EQ(check_bytes(in, len), 0);
    free(in);
    in = zeros_array(MN_CBOR_ITEMS_MAX + 1, &len);
    ASSERT_EQ(check_bytes(in, len), MN_ELIMIT);
    free(in);
    /* A byte string of exactly MN_CBOR_STRING_BYTES_MAX bytes, and one more. */
    len = 5 + MN_CBOR_STRING_BYTES_MAX;
    in = calloc(1, len + 1);
    ASSERT_TRUE(in != NULL);
    in[0] = 0x5a;
    in[1] = (uint8_t)(MN_CBOR_STRING_BYTES_MAX >> 24);
    in[2] = (uint8_t)(MN_CBOR_STRING_BYTES_MAX >> 16);
    ASSERT_EQ(in[3] | in[4], 0);
    ASSERT_EQ(check_bytes(in, len), 0);
    in[4] = 1;
    ASSERT_EQ(check_bytes(in, len + 1), MN_ELIMIT);
    /* The encoder: a string or a container over the limit is a sticky MN_ELIMIT. */
    mn_cbor_enc enc;
    mn_buf buf;
    mn_err err;
    enc_start(&enc, &buf);
    mn_cbor_put_bytes(&enc, in, MN_CBOR_STRING_BYTES_MAX + 1);
    ASSERT_EQ(mn_cbor_enc_finish(&enc, &err), -MN_ELIMIT);
    ASSERT_EQ(buf.len, 0);
    mn_buf_deinit(&buf);
    free(in);
    enc_start(&enc, &buf);
    mn_cbor_put_map(&enc, MN_CBOR_ITEMS_MAX + 1);
    ASSERT_EQ(mn_cbor_enc_finish(&enc, &err), -MN_ELIMIT);
    mn_buf_deinit(&buf);
}

/* A nested document exercising every type; every proper prefix must be refused. */
static void truncated_prefixes(void)
{
    static const char doc[] =
        "a4"                                    /* a map of 4 pairs */
        "0083" "20f5f6"                         /* 0: [-1, true, null] */
        "01a2" "0a4401020304" "186463e6b0b4"    /* 1: {10: h'01020304', 100: "\u6c34"} */
        "18ff" "8180"                           /* 255: [[]] */
        "20" "1b0000000100000000";              /* -1: 2^32 */
    size_t len;
    const uint8_t *in = unhex(doc, &len);
    uint8_t copy[64];
    ASSERT_TRUE(len <= sizeof(copy));
    memcpy(copy, in, len);
    ASSERT_EQ(check_bytes(copy, len), 0);
    for (size_t n = 0; n < len; n++) {
        int code = check_bytes(copy, n);
        if (code != MN_ECORRUPT && code != MN_ELIMIT)
            mn_test_fail(__FILE__, __LINE__, "prefix of %zu bytes: code %d", n, code);
    }
    /* And a trailing byte of any value after it. */
    copy[len] = 0x00;
    ASSERT_EQ(check_bytes(copy, len + 1), MN_ECORRUPT);
}

static void failed_getters_consume_nothing(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t v;
    int64_t s;
    bool b;
    const char *text;
    size_t len;
    uint8_t four[4];
    dec_start(&dec, "4401020304");
    const uint8_t *before = dec.p;
    ASSERT_EQ(mn_cbor_get_uint(&dec, &v, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_int(&dec, &s, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_bool(&dec, &b, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_text(&dec, &text, &len, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_array(&dec, &v, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_map(&dec, &v, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_cbor_get_bytes_n(&dec, four, 3, &err), -MN_ECORRUPT); /* wrong length */
    ASSERT_EQ(mn_cbor_get_bytes_n(&dec, four, 5, &err), -MN_ECORRUPT);
    ASSERT_TRUE(strstr(err.msg, "offset 0") != NULL);
    ASSERT_TRUE(dec.p == before);
    ASSERT_OK(mn_cbor_get_bytes_n(&dec, four, 4, &err), &err);
    ASSERT_EQ(four[0], 1);
    ASSERT_EQ(four[3], 4);
    dec_done(&dec);
    dec_start(&dec, "40");
    ASSERT_OK(mn_cbor_get_bytes_n(&dec, NULL, 0, &err), &err);
    dec_done(&dec);
    dec_start(&dec, "6401020304");
    ASSERT_EQ(mn_cbor_get_bytes_n(&dec, four, 4, &err), -MN_ECORRUPT); /* text, not bytes */
}

static void skip_whole_items(void)
{
    mn_cbor_dec dec;
    mn_err err;
    uint64_t v;
    int64_t k;
    /* {1: [1, {2: "x"}, h'00'], 2: 7}: skip the value of key 1, read key 2. */
    dec_start(&dec, "a20183" "01a1026178" "4100" "0207");
    ASSERT_OK(mn_cbor_get_map(&dec, &v, &err), &err);
    ASSERT_OK(mn_cbor_get_key(&dec, &k, &err), &err);
    ASSERT_OK(mn_cbor_skip(&dec, &err), &err);
    ASSERT_OK(mn_cbor_get_key(&dec, &k, &err), &err);
    ASSERT_EQ(k, 2);
    ASSERT_OK(mn_cbor_skip(&dec, &err), &err); /* the last value closes the map */
    dec_done(&dec);
    /* Where a key is due, skip consumes just the key (order still checked). */
    dec_start(&dec, "a2010203f6");
    ASSERT_OK(mn_cbor_get_map(&dec, &v, &err), &err);
    ASSERT_OK(mn_cbor_skip(&dec, &err), &err);
    ASSERT_OK(mn_cbor_get_uint(&dec, &v, &err), &err);
    ASSERT_U64_EQ(v, 2);
    ASSERT_OK(mn_cbor_skip(&dec, &err), &err);
    ASSERT_OK(mn_cbor_skip(&dec, &err), &err);
    dec_done(&dec);
    /* skip validates deeply: unsorted keys, bad UTF-8, tags inside what is skipped. */
    REJECT("8181a202000100", MN_ECORRUPT);
    REJECT("818181" "62c080", MN_ECORRUPT);
    REJECT("81818181c000", MN_ECORRUPT);
}

static void encoder_buffer_failure_is_sticky(void)
{
    mn_buf buf;
    mn_cbor_enc enc;
    mn_err err;
    mn_buf_init(&buf, 4);
    mn_cbor_enc_init(&enc, &buf);
    mn_cbor_put_array(&enc, 5);
    for (uint64_t i = 0; i < 5; i++)
        mn_cbor_put_uint(&enc, i);
    /* Every put after the failure is a no-op, whatever the state it would assert on. */
    mn_cbor_put_text(&enc, "x", 1);
    mn_cbor_put_bytes(&enc, "x", 1);
    mn_cbor_put_map(&enc, 1);
    mn_cbor_put_key(&enc, 1);
    mn_cbor_put_array(&enc, 1);
    ASSERT_EQ(mn_cbor_enc_finish(&enc, &err), -MN_ELIMIT);
    ASSERT_EQ(err.code, MN_ELIMIT);
    ASSERT_EQ(buf.len, 4);
    mn_buf_deinit(&buf);
    /* A string that exactly fills the buffer still fits (head reserved at its real size). */
    mn_buf_init(&buf, 5);
    mn_cbor_enc_init(&enc, &buf);
    mn_cbor_put_text(&enc, "IETF", 4);
    ASSERT_OK(mn_cbor_enc_finish(&enc, &err), &err);
    expect_buf_hex(&buf, "6449455446");
    mn_buf_deinit(&buf);
    mn_buf_init(&buf, 4);
    mn_cbor_enc_init(&enc, &buf);
    mn_cbor_put_text(&enc, "IETF", 4);
    ASSERT_EQ(mn_cbor_enc_finish(&enc, &err), -MN_ELIMIT);
    ASSERT_EQ(buf.len, 0); /* nothing half-written */
    mn_buf_deinit(&buf);
}

/* ---- encoder programmer errors abort --------------------------------------------------- */

static mn_buf abort_buf;
static mn_cbor_enc abort_enc;

static void abort_setup(void)
{
    mn_buf_init(&abort_buf, 0);
    mn_cbor_enc_init(&abort_enc, &abort_buf);
}

static void abort_second_top_item(void)
{
    abort_setup();
    mn_cbor_put_uint(&abort_enc, 1);
    mn_cbor_put_uint(&abort_enc, 2);
}

static void abort_more_items_than_declared(void)
{
    abort_setup();
    mn_cbor_put_array(&abort_enc, 1);
    mn_cbor_put_uint(&abort_enc, 1);
    mn_cbor_put_uint(&abort_enc, 2);
}

static void abort_key_out_of_order(void)
{
    abort_setup();
    mn_cbor_put_map(&abort_enc, 2);
    mn_cbor_put_key(&abort_enc, -1);
    mn_cbor_put_null(&abort_enc);
    mn_cbor_put_key(&abort_enc, 0);
}

static void abort_duplicate_key(void)
{
    abort_setup();
    mn_cbor_put_map(&abort_enc, 2);
    mn_cbor_put_key(&abort_enc, 24);
    mn_cbor_put_null(&abort_enc);
    mn_cbor_put_key(&abort_enc, 24);
}

static void abort_key_where_value_due(void)
{
    abort_setup();
    mn_cbor_put_map(&abort_enc, 1);
    mn_cbor_put_key(&abort_enc, 1);
    mn_cbor_put_key(&abort_enc, 2);
}

static void abort_value_where_key_due(void)
{
    abort_setup();
    mn_cbor_put_map(&abort_enc, 1);
    mn_cbor_put_uint(&abort_enc, 1);
}

static void abort_key_outside_map(void)
{
    abort_setup();
    mn_cbor_put_array(&abort_enc, 1);
    mn_cbor_put_key(&abort_enc, 1);
}

static void abort_invalid_utf8(void)
{
    abort_setup();
    mn_cbor_put_text(&abort_enc, "\xed\xa0\x80", 3);
}

static void abort_finish_open_container(void)
{
    mn_err err;
    abort_setup();
    mn_cbor_put_array(&abort_enc, 2);
    mn_cbor_put_uint(&abort_enc, 1);
    (void)mn_cbor_enc_finish(&abort_enc, &err);
}

static void abort_finish_empty(void)
{
    mn_err err;
    abort_setup();
    (void)mn_cbor_enc_finish(&abort_enc, &err);
}

/* The same calls done right must not abort: the cases above fail for the reason named. */
static void abort_control_completes(void)
{
    mn_err err;
    abort_setup();
    mn_cbor_put_map(&abort_enc, 2);
    mn_cbor_put_key(&abort_enc, 24);
    mn_cbor_put_null(&abort_enc);
    mn_cbor_put_key(&abort_enc, -1);
    mn_cbor_put_text(&abort_enc, "\xed\x9f\xbf", 3);
    if (mn_cbor_enc_finish(&abort_enc, &err) != 0)
        _exit(1);
    mn_buf_deinit(&abort_buf);
}

static void encoder_programmer_errors_abort(void)
{
    expect_child(abort_second_top_item, true);
    expect_child(abort_more_items_than_declared, true);
    expect_child(abort_key_out_of_order, true);
    expect_child(abort_duplicate_key, true);
    expect_child(abort_key_where_value_due, true);
    expect_child(abort_value_where_key_due, true);
    expect_child(abort_key_outside_map, true);
    expect_child(abort_invalid_utf8, true);
    expect_child(abort_finish_open_container, true);
    expect_child(abort_finish_empty, true);
    expect_child(abort_control_completes, false);
}

/* ---- property test: random documents ------------------------------------------------- */

typedef struct gen {
    mn_rng rng;
    mn_cbor_enc *enc;
    uint32_t depth_max; /* containers allowed around an item */
    uint32_t budget;    /* items still allowed in the document */
    uint32_t deepest;   /* deepest nesting produced so far */
} gen;

static uint64_t rnd(gen *g, uint64_t bound)
{
    return mn_rng_uniform(&g->rng, bound);
}

/* Unsigned values biased to the edges of each head width. */
static uint64_t gen_u64(gen *g)
{
    static const uint64_t edges[] = {
        0, 1, 23, 24, 255, 256, 65535, 65536, 0xffffffffu, 0x100000000u, INT64_MAX,
        (uint64_t)INT64_MAX + 1, UINT64_MAX,
    };
    switch (rnd(g, 4)) {
    case 0:
        return edges[rnd(g, MN_ARRAY_LEN(edges))];
    case 1:
        return rnd(g, 30);
    case 2: {
        /* Two statements: the order of two rng calls in one expression is unspecified, and a
         * seed must give the same documents on every compiler and build. */
        uint64_t shift = rnd(g, 64);
        return mn_rng_u64(&g->rng) >> shift;
    }
    default:
        return mn_rng_u64(&g->rng);
    }
}

static int64_t gen_key(gen *g)
{
    uint64_t magnitude = rnd(g, 2) ? rnd(g, 40) : gen_u64(g) & INT64_MAX;
    return rnd(g, 4) == 0 ? -1 - (int64_t)magnitude : (int64_t)magnitude;
}

/* Canonical key order stated independently of the codec: unsigned keys ascending, then
 * negative keys by ascending argument (-1, -2, ...). */
static int key_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if ((x < 0) != (y < 0))
        return x < 0 ? 1 : -1;
    if (x == y)
        return 0;
    return (x < 0 ? x > y : x < y) ? -1 : 1;
}

static size_t utf8_put(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

static void gen_text(gen *g)
{
    uint8_t text[4 * 40];
    size_t len = 0, chars = rnd(g, 40);
    for (size_t i = 0; i < chars; i++) {
        uint32_t cp;
        switch (rnd(g, 4)) {
        case 0:
            cp = (uint32_t)rnd(g, 0x80);
            break;
        case 1:
            cp = 0x80 + (uint32_t)rnd(g, 0x800 - 0x80);
            break;
        case 2:
            cp = 0x800 + (uint32_t)rnd(g, 0x10000 - 0x800 - 0x800);
            if (cp >= 0xd800)
                cp += 0x800; /* skip the surrogates */
            break;
        default:
            cp = 0x10000 + (uint32_t)rnd(g, 0x110000 - 0x10000);
            break;
        }
        len += utf8_put(text + len, cp);
    }
    mn_cbor_put_text(g->enc, (const char *)text, len);
}

static void gen_bytes(gen *g)
{
    uint8_t data[300];
    size_t len = rnd(g, 8) == 0 ? rnd(g, sizeof(data) + 1) : rnd(g, 30);
    g->rng.fill(&g->rng, data, len);
    mn_cbor_put_bytes(g->enc, data, len);
}

static void gen_item(gen *g, uint32_t depth);

static void gen_container(gen *g, uint32_t depth, bool is_map)
{
    uint64_t n = rnd(g, 6);
    if (depth + 1 > g->deepest)
        g->deepest = depth + 1;
    if (n > g->budget)
        n = g->budget;
    g->budget -= (uint32_t)n;
    if (!is_map) {
        mn_cbor_put_array(g->enc, n);
        for (uint64_t i = 0; i < n; i++)
            gen_item(g, depth + 1);
        return;
    }
    int64_t keys[6];
    for (uint64_t i = 0; i < n; i++)
        keys[i] = gen_key(g);
    qsort(keys, (size_t)n, sizeof(keys[0]), key_cmp);
    uint64_t unique = 0;
    for (uint64_t i = 0; i < n; i++)
        if (unique == 0 || keys[i] != keys[unique - 1])
            keys[unique++] = keys[i];
    mn_cbor_put_map(g->enc, unique);
    for (uint64_t i = 0; i < unique; i++) {
        mn_cbor_put_key(g->enc, keys[i]);
        gen_item(g, depth + 1);
    }
}

static void gen_item(gen *g, uint32_t depth)
{
    bool nest = depth < g->depth_max && g->budget > 0;
    switch (rnd(g, nest ? 10 : 6)) {
    case 0:
        mn_cbor_put_uint(g->enc, gen_u64(g));
        break;
    case 1:
        if (rnd(g, 2))
            mn_cbor_put_negint_arg(g->enc, gen_u64(g));
        else
            mn_cbor_put_int(g->enc, (int64_t)gen_u64(g));
        break;
    case 2:
        gen_bytes(g);
        break;
    case 3:
        gen_text(g);
        break;
    case 4:
        mn_cbor_put_bool(g->enc, rnd(g, 2));
        break;
    case 5:
        mn_cbor_put_null(g->enc);
        break;
    default:
        gen_container(g, depth, rnd(g, 2));
        break;
    }
}

/* Mutates doc in place (length may change within cap); returns the new length. */
static size_t mutate(gen *g, uint8_t *doc, size_t len, size_t cap)
{
    size_t at = len > 0 ? rnd(g, len) : 0;
    switch (rnd(g, 5)) {
    case 0:
        if (len > 0)
            doc[at] ^= (uint8_t)(1u << rnd(g, 8));
        return len;
    case 1:
        if (len > 0)
            doc[at] = (uint8_t)rnd(g, 256);
        return len;
    case 2:
        return at; /* truncate */
    case 3:
        if (len < cap) {
            memmove(doc + at + 1, doc + at, len - at);
            doc[at] = (uint8_t)rnd(g, 256);
            return len + 1;
        }
        return len;
    default:
        if (len > 0)
            memmove(doc + at, doc + at + 1, len - at - 1);
        return len > 0 ? len - 1 : 0;
    }
}

static void random_documents_round_trip(void)
{
    uint8_t seed[32] = {0xcb, 0x01};
    gen g;
    mn_rng_seeded_init(&g.rng, seed);
    unsigned accepted_mutants = 0;
    g.deepest = 0;
    for (unsigned iter = 0; iter < 3000; iter++) {
        mn_buf buf;
        mn_cbor_enc enc;
        mn_err err;
        enc_start(&enc, &buf);
        g.enc = &enc;
        g.depth_max = rnd(&g, 10) == 0 ? MN_CBOR_DEPTH_MAX : 1 + (uint32_t)rnd(&g, 5);
        g.budget = 1 + (uint32_t)rnd(&g, 120);
        gen_item(&g, 0);
        ASSERT_OK(mn_cbor_enc_finish(&enc, &err), &err);
        if (check_bytes(buf.data, buf.len) != 0)
            mn_test_fail(__FILE__, __LINE__, "iteration %u: generated document refused", iter);
        uint8_t mutant[4096];
        if (buf.len + 8 <= sizeof(mutant)) {
            for (unsigned m = 0; m < 8; m++) {
                memcpy(mutant, buf.data, buf.len);
                size_t len = mutate(&g, mutant, buf.len, sizeof(mutant));
                if (rnd(&g, 2))
                    len = mutate(&g, mutant, len, sizeof(mutant));
                /* check_bytes asserts that an accepted mutant re-encodes to itself and that
                 * the walk and mn_cbor_skip agree on the verdict. */
                accepted_mutants += check_bytes(mutant, len) == 0;
            }
        }
        mn_buf_deinit(&buf);
    }
    printf("random documents: 3000 round trips, deepest nesting %u, %u of 24000 mutants "
           "accepted\n", (unsigned)g.deepest, accepted_mutants);
    ASSERT_EQ(g.deepest, MN_CBOR_DEPTH_MAX);
}

/* The fuzz corpus names its seeds valid-* and invalid-*; hold it to that. Other files
 * (minimised fuzzer finds, crashers) only have to go through the decoder without harm. */
static void regress_corpus_verdicts(void)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", mn_test_source_path("tests/regress/cbor"));
    DIR *d = opendir(dir);
    ASSERT_TRUE(d != NULL);
    unsigned valid = 0, invalid = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096 + 256 + 2];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        uint8_t *data;
        size_t len;
        mn_err err;
        ASSERT_OK(mn_file_read(path, 0, &data, &len, &err), &err);
        int code = check_bytes(data, len);
        free(data);
        if (strncmp(e->d_name, "valid-", 6) == 0) {
            if (code != 0)
                mn_test_fail(__FILE__, __LINE__, "%s refused (code %d)", e->d_name, code);
            valid++;
        } else if (strncmp(e->d_name, "invalid-", 8) == 0) {
            if (code == 0)
                mn_test_fail(__FILE__, __LINE__, "%s accepted", e->d_name);
            invalid++;
        }
    }
    closedir(d);
    ASSERT_TRUE(valid >= 5);
    ASSERT_TRUE(invalid >= 5);
}

MN_TEST_MAIN("wire.cbor", MN_TEST(rfc_unsigned_integers), MN_TEST(rfc_negative_integers),
             MN_TEST(rfc_simple_values), MN_TEST(rfc_strings), MN_TEST(rfc_arrays_and_maps),
             MN_TEST(rfc_nested_decode_values), MN_TEST(rfc_outside_subset_rejected),
             MN_TEST(every_initial_byte), MN_TEST(non_shortest_heads),
             MN_TEST(reserved_additional_info), MN_TEST(indefinite_lengths_and_break),
             MN_TEST(tags_rejected), MN_TEST(simple_and_float_rejected),
             MN_TEST(map_keys_must_be_integers), MN_TEST(map_keys_sorted_and_unique),
             MN_TEST(map_negative_key_order), MN_TEST(utf8_rejected),
             MN_TEST(utf8_error_names_the_offset), MN_TEST(read_past_end),
             MN_TEST(trailing_bytes), MN_TEST(read_after_document_complete),
             MN_TEST(finish_checks_state), MN_TEST(map_key_value_alternation),
             MN_TEST(depth_limit), MN_TEST(huge_declared_sizes),
             MN_TEST(item_and_string_limits_at_the_edge), MN_TEST(truncated_prefixes),
             MN_TEST(failed_getters_consume_nothing), MN_TEST(skip_whole_items),
             MN_TEST(encoder_buffer_failure_is_sticky),
             MN_TEST(encoder_programmer_errors_abort), MN_TEST(random_documents_round_trip),
             MN_TEST(regress_corpus_verdicts))
