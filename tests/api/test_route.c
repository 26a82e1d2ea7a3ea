/* SPDX-License-Identifier: Apache-2.0
 *
 * test_route.c: the API's own request parsing (src/api/route.c): routes and methods, heights,
 * hashes, listen addresses, and the POST /txs body (raw or JSON {"tx": "hex"}) with its
 * refusals. The server test drives the same paths over HTTP.
 */
#include <stdlib.h>

#include "internal.h"
#include "metanode/ledger.h"
#include "mn_test.h"

static void test_routes(void)
{
    mn__api_route r;
    ASSERT_EQ(mn__api_route_parse("GET", "/status", &r), 0);
    ASSERT_EQ(r.kind, MN__API_STATUS);
    ASSERT_EQ(mn__api_route_parse("GET", "/blocks/latest", &r), 0);
    ASSERT_EQ(r.kind, MN__API_BLOCK_LATEST);
    ASSERT_EQ(mn__api_route_parse("GET", "/blocks/0", &r), 0);
    ASSERT_EQ(r.kind, MN__API_BLOCK);
    ASSERT_U64_EQ(r.height, 0);
    ASSERT_EQ(mn__api_route_parse("GET", "/blocks/18446744073709551615", &r), 0);
    ASSERT_U64_EQ(r.height, UINT64_MAX);
    ASSERT_EQ(mn__api_route_parse("POST", "/txs", &r), 0);
    ASSERT_EQ(r.kind, MN__API_TXS);
    ASSERT_EQ(mn__api_route_parse("GET", "/validators", &r), 0);
    ASSERT_EQ(mn__api_route_parse("GET", "/peers", &r), 0);
    ASSERT_EQ(mn__api_route_parse("GET", "/metrics", &r), 0);
    ASSERT_EQ(mn__api_route_parse("GET", "/healthz", &r), 0);
    ASSERT_EQ(r.kind, MN__API_HEALTHZ);
    const char *h64 = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
    char path[128];
    snprintf(path, sizeof path, "/txs/%s", h64);
    ASSERT_EQ(mn__api_route_parse("GET", path, &r), 0);
    ASSERT_EQ(r.kind, MN__API_TX);
    ASSERT_EQ(r.hash[31], 0xff);
    snprintf(path, sizeof path, "/accounts/%s", h64);
    ASSERT_EQ(mn__api_route_parse("GET", path, &r), 0);
    ASSERT_EQ(r.kind, MN__API_ACCOUNT);
}

static void test_refused_routes(void)
{
    static const struct {
        const char *method, *path;
        unsigned status;
        const char *code;
    } cases[] = {
        {"GET", "/", 404, "not_found"},
        {"GET", "/status/", 404, "not_found"},
        {"GET", "/STATUS", 404, "not_found"},
        {"GET", "", 404, "not_found"},
        {"POST", "/status", 405, "method_not_allowed"},
        {"DELETE", "/blocks/1", 405, "method_not_allowed"},
        {"GET", "/txs", 405, "method_not_allowed"},
        {"PUT", "/txs", 405, "method_not_allowed"},
        {"GET", "/blocks/", 400, "bad_height"},
        {"GET", "/blocks/01", 400, "bad_height"},
        {"GET", "/blocks/-1", 400, "bad_height"},
        {"GET", "/blocks/+1", 400, "bad_height"},
        {"GET", "/blocks/1x", 400, "bad_height"},
        {"GET", "/blocks/18446744073709551616", 400, "bad_height"},
        {"GET", "/blocks/99999999999999999999", 400, "bad_height"},
        {"GET", "/blocks/1/", 400, "bad_height"},
        {"GET", "/txs/00", 400, "bad_hex"},
        {"GET", "/txs/zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 400,
         "bad_hex"},
        {"GET", "/accounts/", 400, "bad_hex"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn__api_route r;
        ASSERT_EQ(mn__api_route_parse(cases[i].method, cases[i].path, &r), -1);
        ASSERT_EQ(r.status, cases[i].status);
        ASSERT_STR_EQ(r.code, cases[i].code);
        ASSERT_TRUE(r.message[0] != '\0');
        ASSERT_EQ(r.allow != NULL, cases[i].status == 405);
    }
}

static void test_tx_body(void)
{
    uint8_t *tx;
    size_t n;
    bool owned;
    const char *code = NULL;
    mn_err err;
    const uint8_t raw[] = {0xa6, 0x01, 0x05};
    ASSERT_OK(mn__api_tx_from_body(NULL, raw, sizeof raw, &tx, &n, &owned, &code, &err), &err);
    ASSERT_TRUE(tx == raw && n == 3 && !owned);
    ASSERT_OK(mn__api_tx_from_body("application/octet-stream", raw, sizeof raw, &tx, &n, &owned,
                                   &code, &err), &err);
    const char *json = "{\"tx\": \"a60105\"}";
    ASSERT_OK(mn__api_tx_from_body("application/json; charset=utf-8", (const uint8_t *)json,
                                   strlen(json), &tx, &n, &owned, &code, &err), &err);
    ASSERT_TRUE(owned && n == 3);
    ASSERT_MEM_EQ(tx, raw, 3);
    free(tx);

    static const struct {
        const char *ctype, *body;
        int rc;
        const char *code;
    } bad[] = {
        {"application/json", "", -MN_EINVAL, "bad_json"},
        {"application/json", "[1]", -MN_EINVAL, "bad_json"},
        {"application/json", "{\"tx\": 5}", -MN_EINVAL, "bad_json"},
        {"application/json", "{\"tx\": \"00\", \"x\": 1}", -MN_EINVAL, "bad_json"},
        {"application/json", "{\"tx\": \"00\", \"tx\": \"00\"}", -MN_EINVAL, "bad_json"},
        {"application/json", "{\"tx\": \"abc\"}", -MN_EINVAL, "bad_hex"},
        {"application/json", "{\"tx\": \"zz\"}", -MN_EINVAL, "bad_hex"},
        {"application/json", "{\"tx\": \"00\\u0000\"}", -MN_EINVAL, "bad_json"},
        {"application/json", "{\"tx\": \"\"}", -MN_EINVAL, "empty"},
        {"application/json", "{\"tx\": \"00\"", -MN_EINVAL, "bad_json"},
        {NULL, "", -MN_EINVAL, "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        code = NULL;
        ASSERT_EQ(mn__api_tx_from_body(bad[i].ctype, (const uint8_t *)bad[i].body,
                                       strlen(bad[i].body), &tx, &n, &owned, &code, &err),
                  bad[i].rc);
        ASSERT_STR_EQ(code, bad[i].code);
    }
    /* Above MN_TX_BYTES_MAX, raw and as hex. */
    size_t big = MN_TX_BYTES_MAX + 1;
    uint8_t *blob = calloc(1, 2 * big + 16);
    ASSERT_EQ(mn__api_tx_from_body(NULL, blob, big, &tx, &n, &owned, &code, &err), -MN_ELIMIT);
    ASSERT_STR_EQ(code, "too_large");
    memcpy(blob, "{\"tx\":\"", 7);
    memset(blob + 7, '0', 2 * big);
    memcpy(blob + 7 + 2 * big, "\"}", 2);
    ASSERT_EQ(mn__api_tx_from_body("application/json", blob, 2 * big + 9, &tx, &n, &owned,
                                   &code, &err), -MN_ELIMIT);
    ASSERT_STR_EQ(code, "too_large");
    free(blob);
}

static void test_listen(void)
{
    char host[64];
    uint16_t port;
    mn_err err;
    ASSERT_OK(mn_api_parse_listen("127.0.0.1:26657", host, &port, &err), &err);
    ASSERT_STR_EQ(host, "127.0.0.1");
    ASSERT_EQ(port, 26657);
    ASSERT_OK(mn_api_parse_listen("[::1]:0", host, &port, &err), &err);
    ASSERT_STR_EQ(host, "::1");
    ASSERT_EQ(port, 0);
    const char *bad[] = {"", ":1", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                         "localhost:80", "::1:80", "[::1]80", "1.2.3.4:08", "[]:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_EQ(mn_api_parse_listen(bad[i], host, &port, &err), -MN_EINVAL);
}

static void test_error_json(void)
{
    json_t *doc = mn__api_error_json("bad_hex", "nope");
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    ASSERT_STR_EQ(text, "{\"error\":{\"code\":\"bad_hex\",\"message\":\"nope\"}}");
    free(text);
    json_decref(doc);
}

static void count_tx(void *ctx, uint32_t index, const uint8_t *tx, size_t n)
{
    size_t *lens = ctx;
    lens[index] = n;
    (void)tx;
}

static void test_body(void)
{
    /* {1: 5, 2: h'00'*32, 3: h'11'*32, 4: [h'a0', {1: 2}], 5: []} */
    uint8_t body[128];
    size_t n = 0;
    const uint8_t head[] = {0xa5, 0x01, 0x05, 0x02, 0x58, 0x20};
    memcpy(body, head, sizeof head);
    n = sizeof head;
    memset(body + n, 0, 32);
    n += 32;
    body[n++] = 0x03, body[n++] = 0x58, body[n++] = 0x20;
    memset(body + n, 0x11, 32);
    n += 32;
    const uint8_t tail[] = {0x04, 0x82, 0x41, 0xa0, 0xa1, 0x01, 0x02, 0x05, 0x80};
    memcpy(body + n, tail, sizeof tail);
    n += sizeof tail;
    mn__api_body b;
    size_t lens[2] = {0, 0};
    mn_err err;
    ASSERT_OK(mn__api_body_decode(body, n, &b, count_tx, lens, &err), &err);
    ASSERT_U64_EQ(b.time_ms, 5);
    ASSERT_EQ(b.tx_count, 2);
    ASSERT_EQ(b.evidence_count, 0);
    ASSERT_EQ(b.tx_root[0], 0x11);
    ASSERT_EQ(lens[0], 1); /* the byte string's content */
    ASSERT_EQ(lens[1], 3); /* the inline map's encoding */
    body[n] = 0;
    ASSERT_EQ(mn__api_body_decode(body, n + 1, &b, NULL, NULL, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn__api_body_decode(body, n - 1, &b, NULL, NULL, &err), -MN_ECORRUPT);
}

MN_TEST_MAIN("api.route", MN_TEST(test_body), MN_TEST(test_routes), MN_TEST(test_refused_routes),
             MN_TEST(test_tx_body), MN_TEST(test_listen), MN_TEST(test_error_json))
