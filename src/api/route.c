/* SPDX-License-Identifier: Apache-2.0
 *
 * route.c: the API's own parsing of untrusted request parts: method + path -> route (with the
 * height, hash or key in the path), and the POST /txs body (raw bytes or JSON {"tx": "hex"}).
 * Pure functions (no I/O, no ledger), fuzzed by fuzz/fuzz_api_request.c. HTTP framing itself
 * is libmicrohttpd's; rendering is render.c's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/bytes.h"
#include "metanode/limits.h"

int mn__api_parse_height(const char *text, uint64_t *out)
{
    const size_t n = strlen(text);
    if (n == 0 || n > 20 || (n > 1 && text[0] == '0'))
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        const uint64_t d = (uint64_t)(text[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int mn__api_parse_hash(const char *text, uint8_t out[32])
{
    if (strlen(text) != 64)
        return -1;
    return mn_hex_decode(out, 32, text, NULL) == 0 ? 0 : -1;
}

static int refuse(mn__api_route *r, unsigned status, const char *code, const char *allow,
                  const char *message)
{
    r->kind = MN__API_NONE;
    r->status = status;
    r->code = code;
    r->allow = allow;
    snprintf(r->message, sizeof r->message, "%s", message);
    return -1;
}

/* Checks the method against what the route allows (HEAD is not offered). */
static int want(mn__api_route *r, const char *method, const char *allowed,
                mn__api_route_kind kind)
{
    if (strcmp(method, allowed) != 0)
        return refuse(r, 405, "method_not_allowed", allowed, "method not allowed on this path");
    r->kind = kind;
    return 0;
}

int mn__api_route_parse(const char *method, const char *path, mn__api_route *r)
{
    memset(r, 0, sizeof *r);
    static const struct {
        const char *path;
        const char *method;
        mn__api_route_kind kind;
    } fixed[] = {
        {"/status", "GET", MN__API_STATUS},       {"/blocks/latest", "GET", MN__API_BLOCK_LATEST},
        {"/txs", "POST", MN__API_TXS},            {"/validators", "GET", MN__API_VALIDATORS},
        {"/peers", "GET", MN__API_PEERS},         {"/metrics", "GET", MN__API_METRICS},
        {"/healthz", "GET", MN__API_HEALTHZ},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(path, fixed[i].path) == 0)
            return want(r, method, fixed[i].method, fixed[i].kind);

    static const char blocks[] = "/blocks/", txs[] = "/txs/", accounts[] = "/accounts/";
    if (strncmp(path, blocks, sizeof blocks - 1) == 0) {
        if (mn__api_parse_height(path + sizeof blocks - 1, &r->height) != 0)
            return refuse(r, 400, "bad_height",
                          NULL, "height must be a decimal number without leading zeros, or "
                                "\"latest\"");
        return want(r, method, "GET", MN__API_BLOCK);
    }
    if (strncmp(path, txs, sizeof txs - 1) == 0) {
        if (mn__api_parse_hash(path + sizeof txs - 1, r->hash) != 0)
            return refuse(r, 400, "bad_hex", NULL, "a transaction hash is 64 hex digits");
        return want(r, method, "GET", MN__API_TX);
    }
    if (strncmp(path, accounts, sizeof accounts - 1) == 0) {
        if (mn__api_parse_hash(path + sizeof accounts - 1, r->hash) != 0)
            return refuse(r, 400, "bad_hex", NULL, "an account is a public key of 64 hex digits");
        return want(r, method, "GET", MN__API_ACCOUNT);
    }
    return refuse(r, 404, "not_found", NULL, "no such route");
}

/* application/json, with or without parameters (";charset=utf-8"), case-insensitive. */
static bool is_json(const char *content_type)
{
    static const char json[] = "application/json";
    if (content_type == NULL || strncasecmp(content_type, json, sizeof json - 1) != 0)
        return false;
    const char next = content_type[sizeof json - 1];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

int mn__api_tx_from_body(const char *content_type, const uint8_t *body, size_t len,
                         uint8_t **tx, size_t *tx_len, bool *owned, const char **code,
                         mn_err *err)
{
    *tx = NULL;
    *tx_len = 0;
    *owned = false;
    if (!is_json(content_type)) {
        if (len == 0) {
            *code = "empty";
            return mn_err_set(err, MN_EINVAL, 0, "empty body: send the transaction bytes");
        }
        if (len > MN_TX_BYTES_MAX) {
            *code = "too_large";
            return mn_err_set(err, MN_ELIMIT, 0, "transaction of %zu bytes (at most %u)", len,
                              MN_TX_BYTES_MAX);
        }
        *tx = (uint8_t *)body;
        *tx_len = len;
        return 0;
    }
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc)) {
        json_decref(doc);
        *code = "bad_json";
        return mn_err_set(err, MN_EINVAL, 0, "body is not a JSON object");
    }
    json_t *hex = json_object_get(doc, "tx");
    if (json_object_size(doc) != 1 || !json_is_string(hex)) {
        json_decref(doc);
        *code = "bad_json";
        return mn_err_set(err, MN_EINVAL, 0, "body must be exactly {\"tx\": \"<hex>\"}");
    }
    const size_t hex_len = json_string_length(hex);
    if (hex_len == 0) {
        json_decref(doc);
        *code = "empty";
        return mn_err_set(err, MN_EINVAL, 0, "empty transaction");
    }
    if (hex_len > 2u * MN_TX_BYTES_MAX) {
        json_decref(doc);
        *code = "too_large";
        return mn_err_set(err, MN_ELIMIT, 0, "transaction above %u bytes", MN_TX_BYTES_MAX);
    }
    /* An embedded NUL would make the text shorter than its length: refuse it as bad hex. */
    const char *text = json_string_value(hex);
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (strlen(text) != hex_len || mn_hex_decode_alloc(text, &bytes, &n, NULL) != 0) {
        json_decref(doc);
        *code = "bad_hex";
        return mn_err_set(err, MN_EINVAL, 0, "\"tx\" is not an even number of hex digits");
    }
    json_decref(doc);
    *tx = bytes;
    *tx_len = n;
    *owned = true;
    return 0;
}

json_t *mn__api_error_json(const char *code, const char *message)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
}

int mn_api_parse_listen(const char *text, char host[64], uint16_t *port, mn_err *err)
{
    const char *colon = NULL;
    const char *h = text;
    size_t hlen = 0;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':')
            return mn_err_set(err, MN_EINVAL, 0, "listen address: want [v6]:port");
        h = text + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL || memchr(text, ':', (size_t)(colon - text)) != NULL)
            return mn_err_set(err, MN_EINVAL, 0, "listen address: want host:port");
        hlen = (size_t)(colon - text);
    }
    if (hlen == 0 || hlen >= 64)
        return mn_err_set(err, MN_EINVAL, 0, "listen address: bad host");
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    uint64_t p = 0;
    if (mn__api_parse_height(colon + 1, &p) != 0 || p > 65535)
        return mn_err_set(err, MN_EINVAL, 0, "listen address: bad port");
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
        return mn_err_set(err, MN_EINVAL, 0, "listen address: host must be an IP literal");
    *port = (uint16_t)p;
    return 0;
}
