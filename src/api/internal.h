/* SPDX-License-Identifier: Apache-2.0
 *
 * internal.h: what the files of src/api share: the request router and the parsers of untrusted
 * request parts (route.c, pure and fuzzed), the JSON renderers of ledger objects (render.c) and
 * the JSON error shape. Not a public interface.
 */
#ifndef METANODE_API_INTERNAL_H
#define METANODE_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "metanode/api.h"
#include "metanode/error.h"

typedef enum mn__api_route_kind {
    MN__API_NONE = 0,
    MN__API_STATUS,
    MN__API_BLOCK,        /* height in .height */
    MN__API_BLOCK_LATEST,
    MN__API_TX,           /* hash in .hash */
    MN__API_TXS,          /* POST */
    MN__API_ACCOUNT,      /* pk in .hash */
    MN__API_VALIDATORS,
    MN__API_PEERS,
    MN__API_METRICS,
    MN__API_HEALTHZ,
} mn__api_route_kind;

typedef struct mn__api_route {
    mn__api_route_kind kind;
    uint64_t height;
    uint8_t hash[32];
    /* When the route is refused: the HTTP status (400, 404, 405), the error code and a
     * message; for 405 also the Allow header value. */
    unsigned status;
    const char *code;
    const char *allow;
    char message[128];
} mn__api_route;

/* Routes a request. Returns 0 with r->kind set, or -1 with r->status/code/message set. The
 * method and path are untrusted text (NUL-terminated, any bytes). */
int mn__api_route_parse(const char *method, const char *path, mn__api_route *r);

/* A block height: decimal digits only, no sign, no leading zero (except "0"), fits uint64. */
int mn__api_parse_height(const char *text, uint64_t *out);
/* Exactly 64 hex digits (either case). */
int mn__api_parse_hash(const char *text, uint8_t out[32]);

/* Extracts the transaction bytes of a POST /txs body: JSON {"tx": "hex"} when content_type
 * is application/json (parameters allowed), else the raw bytes. *tx is malloc'd (caller frees)
 * or borrowed: *owned tells. MN_EINVAL (code "bad_json" / "bad_hex") for a malformed JSON body,
 * MN_ELIMIT (code "too_large") for a transaction above MN_TX_BYTES_MAX, MN_EINVAL ("empty") for
 * an empty one. *code receives the error code string. */
int mn__api_tx_from_body(const char *content_type, const uint8_t *body, size_t len,
                         uint8_t **tx, size_t *tx_len, bool *owned, const char **code,
                         mn_err *err);

/* {"error": {"code": code, "message": message}} */
json_t *mn__api_error_json(const char *code, const char *message);

/* Renderers (render.c). Each returns a new JSON value, or NULL with *status / *code / err set
 * (404 not_found, 500 internal). */
typedef struct mn__api_ctx {
    struct mn_ledger *ledger;
    struct mn_mempool *mempool;
    const mn_api_callbacks *cb;
    const char *chain_id;
} mn__api_ctx;

json_t *mn__api_render_status(const mn__api_ctx *c, unsigned *status, const char **code,
                              mn_err *err);
json_t *mn__api_render_block(const mn__api_ctx *c, uint64_t height, unsigned *status,
                             const char **code, mn_err *err);
json_t *mn__api_render_tx(const mn__api_ctx *c, const uint8_t hash[32], unsigned *status,
                          const char **code, mn_err *err);
json_t *mn__api_render_account(const mn__api_ctx *c, const uint8_t pk[32]);
json_t *mn__api_render_validators(const mn__api_ctx *c, unsigned *status, const char **code,
                                  mn_err *err);
json_t *mn__api_render_peers(const mn__api_ctx *c);

/* Summary of an encoded block body (the ledger's canonical CBOR {1: time_ms, 2: state_root,
 * 3: tx_root, 4: [txs], 5: [evidence]}): tx hashes are computed from each tx encoding. Strict
 * but only as far as the summary needs; fuzzed. */
typedef struct mn__api_body {
    uint64_t time_ms;
    uint8_t state_root[32];
    uint8_t tx_root[32];
    uint32_t tx_count;
    uint32_t evidence_count;
} mn__api_body;
/* Calls on_tx(ctx, index, encoding, len) for each transaction. */
int mn__api_body_decode(const uint8_t *data, size_t len, mn__api_body *b,
                        void (*on_tx)(void *ctx, uint32_t index, const uint8_t *tx, size_t n),
                        void *ctx, mn_err *err);

#endif
