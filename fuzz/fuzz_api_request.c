/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_api_request.c: fuzz target for the HTTP API's own parsing of untrusted input
 * (src/api/route.c, src/api/body.c). The first byte picks the parser, the rest is its input:
 *   0: method "\n" path -> mn__api_route_parse (a refusal must carry a 4xx status, a code and a
 *      message; a 405 an Allow value; an accepted route a kind)
 *   1: a POST /txs body as application/json, 2: as raw bytes -> mn__api_tx_from_body (an
 *      accepted tx is 1..MN_TX_BYTES_MAX bytes, a refusal has a code)
 *   3: a listen address -> mn_api_parse_listen
 *   4: a block body -> mn__api_body_decode (every tx span lies inside the input)
 *   5: a height, 6: a hash -> mn__api_parse_height / mn__api_parse_hash (round trip)
 * Any broken invariant aborts. Error texts are not checked, only codes and shapes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(e)                                                                               \
    do {                                                                                       \
        if (!(e)) {                                                                            \
            fprintf(stderr, "fuzz_api_request: check failed at line %d: %s\n", __LINE__, #e);   \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

typedef struct span_check {
    const uint8_t *start, *end;
    uint32_t next;
} span_check;

static void on_tx(void *ctx, uint32_t index, const uint8_t *tx, size_t n)
{
    span_check *s = ctx;
    CHECK(index == s->next);
    CHECK(tx >= s->start && tx + n <= s->end);
    s->next++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t mode = data[0];
    data++;
    size--;
    char *text = malloc(size + 1); /* NUL-terminated copy for the text parsers */
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    mn_err err;
    switch (mode % 7) {
    case 0: {
        char *nl = strchr(text, '\n');
        const char *method = text, *path = "";
        if (nl != NULL) {
            *nl = '\0';
            path = nl + 1;
        }
        mn__api_route r;
        if (mn__api_route_parse(method, path, &r) == 0) {
            CHECK(r.kind != MN__API_NONE);
        } else {
            CHECK(r.kind == MN__API_NONE && r.status >= 400 && r.status < 500);
            CHECK(r.code != NULL && r.message[0] != '\0');
            CHECK((r.status == 405) == (r.allow != NULL));
        }
        break;
    }
    case 1:
    case 2: {
        uint8_t *tx = NULL;
        size_t n = 0;
        bool owned = false;
        const char *code = NULL;
        const char *ctype = mode % 7 == 1 ? "application/json" : "application/octet-stream";
        if (mn__api_tx_from_body(ctype, data, size, &tx, &n, &owned, &code, &err) == 0) {
            CHECK(n >= 1 && n <= MN_TX_BYTES_MAX && tx != NULL);
            CHECK(owned == (mode % 7 == 1));
            volatile uint8_t sum = 0;
            for (size_t i = 0; i < n; i++)
                sum ^= tx[i];
            (void)sum;
            if (owned)
                free(tx);
        } else {
            CHECK(code != NULL && !owned && tx == NULL);
        }
        break;
    }
    case 3: {
        char host[64];
        uint16_t port;
        if (mn_api_parse_listen(text, host, &port, &err) == 0)
            CHECK(strlen(host) > 0 && strlen(host) < 64);
        break;
    }
    case 4: {
        mn__api_body b;
        span_check s = {.start = data, .end = data + size};
        if (mn__api_body_decode(data, size, &b, on_tx, &s, &err) == 0)
            CHECK(s.next == b.tx_count && b.evidence_count <= MN_BLOCK_EVIDENCE_MAX);
        break;
    }
    case 5: {
        uint64_t h;
        if (mn__api_parse_height(text, &h) == 0) {
            char back[32];
            snprintf(back, sizeof back, "%" PRIu64, h);
            CHECK(strcmp(back, text) == 0);
        }
        break;
    }
    case 6: {
        uint8_t hash[32];
        if (mn__api_parse_hash(text, hash) == 0) {
            char back[65];
            mn_hex_encode(back, hash, 32);
            CHECK(strcasecmp(back, text) == 0);
        }
        break;
    }
    }
    free(text);
    return 0;
}
