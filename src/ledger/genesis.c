/* SPDX-License-Identifier: Apache-2.0
 *
 * genesis.c: genesis.json <-> mn_genesis, and the genesis hash (SHA-256 under MN_TAG_GENESIS of
 * the canonical CBOR form). Loading is strict: unknown or duplicate keys, missing fields, bad
 * hex, zero or overflowing stakes, duplicate validators and over-long strings are refused.
 * It does not build the initial state (ledger.c does) and checks no signatures.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/ledger.h"
#include "metanode/tags.h"

static int want_keys(json_t *obj, const char *const *keys, size_t n, const char *what,
                     mn_err *err)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known = known || strcmp(k, keys[i]) == 0;
        if (!known)
            return mn_err_set(err, MN_EINVAL, 0, "%s: unknown key \"%s\"", what, k);
    }
    for (size_t i = 0; i < n; i++)
        if (json_object_get(obj, keys[i]) == NULL)
            return mn_err_set(err, MN_EINVAL, 0, "%s: missing \"%s\"", what, keys[i]);
    return 0;
}

static int get_u64(json_t *obj, const char *key, uint64_t max, uint64_t *out, mn_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return mn_err_set(err, MN_EINVAL, 0, "genesis: \"%s\" must be an integer in 0..%" PRIu64,
                          key, max);
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_text(json_t *obj, const char *key, char *out, size_t cap, bool empty_ok,
                    mn_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return mn_err_set(err, MN_EINVAL, 0, "genesis: \"%s\" must be a string", key);
    const char *s = json_string_value(v);
    const size_t n = json_string_length(v);
    if (n >= cap || strlen(s) != n || (!empty_ok && n == 0))
        return mn_err_set(err, MN_EINVAL, 0, "genesis: \"%s\" must have 1..%zu bytes", key,
                          cap - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return mn_err_set(err, MN_EINVAL, 0, "genesis: \"%s\" must be printable ASCII",
                              key);
    memcpy(out, s, n + 1);
    return 0;
}

static int get_hex32(json_t *obj, const char *key, uint8_t out[32], mn_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return mn_err_set(err, MN_EINVAL, 0, "genesis: \"%s\" must be a hex string", key);
    if (mn_hex_decode(out, 32, json_string_value(v), err) != 0)
        return mn_err_wrap(err, "genesis: \"%s\"", key);
    return 0;
}

/* Semantic checks shared by load and save. */
static int genesis_check(const mn_genesis *g, mn_err *err)
{
    const size_t cid = strnlen(g->chain_id, sizeof g->chain_id);
    if (cid == 0 || cid > MN_CHAIN_ID_BYTES_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "genesis: bad chain id");
    if (g->validator_count == 0 || g->validator_count > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "genesis: %" PRIu32 " validators (1..%u)",
                          g->validator_count, MN_VALIDATORS_MAX);
    if (g->block_max_txs > MN_BLOCK_TXS_MAX || g->block_max_bytes > MN_BLOCK_BYTES_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "genesis: block limits above %u txs / %u bytes",
                          MN_BLOCK_TXS_MAX, MN_BLOCK_BYTES_MAX);
    uint64_t total = 0;
    for (uint32_t i = 0; i < g->validator_count; i++) {
        const mn_genesis_validator *v = &g->validators[i];
        if (v->stake == 0 || v->stake > (UINT64_MAX >> 1) - total)
            return mn_err_set(err, MN_EINVAL, 0, "genesis: validator %" PRIu32
                              " has a zero or overflowing stake", i);
        total += v->stake;
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(g->validators[j].pk, v->pk, 32) == 0)
                return mn_err_set(err, MN_EINVAL, 0, "genesis: validator %" PRIu32
                                  " repeats validator %" PRIu32, i, j);
        if (strnlen(v->addr, sizeof v->addr) >= sizeof v->addr ||
            strnlen(v->api, sizeof v->api) >= sizeof v->api)
            return mn_err_set(err, MN_EINVAL, 0, "genesis: validator %" PRIu32
                              " address too long", i);
    }
    return 0;
}

static int genesis_from_json(mn_genesis *g, json_t *root, mn_err *err)
{
    static const char *const top[] = {"chain_id", "genesis_time_ms", "block_max_txs",
                                      "block_max_bytes", "validators"};
    static const char *const vkeys[] = {"pk", "vrf_pk", "noise_pk", "stake", "addr", "api"};
    if (!json_is_object(root))
        return mn_err_set(err, MN_EINVAL, 0, "genesis: not a JSON object");
    MN_TRY(want_keys(root, top, 5, "genesis", err));
    MN_TRY(get_text(root, "chain_id", g->chain_id, sizeof g->chain_id, false, err));
    MN_TRY(get_u64(root, "genesis_time_ms", INT64_MAX, &g->genesis_time_ms, err));
    uint64_t v64;
    MN_TRY(get_u64(root, "block_max_txs", MN_BLOCK_TXS_MAX, &v64, err));
    g->block_max_txs = (uint32_t)v64;
    MN_TRY(get_u64(root, "block_max_bytes", MN_BLOCK_BYTES_MAX, &v64, err));
    g->block_max_bytes = (uint32_t)v64;
    json_t *vals = json_object_get(root, "validators");
    if (!json_is_array(vals) || json_array_size(vals) == 0 ||
        json_array_size(vals) > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "genesis: \"validators\" must hold 1..%u entries",
                          MN_VALIDATORS_MAX);
    g->validator_count = (uint32_t)json_array_size(vals);
    for (uint32_t i = 0; i < g->validator_count; i++) {
        json_t *v = json_array_get(vals, i);
        mn_genesis_validator *gv = &g->validators[i];
        if (!json_is_object(v))
            return mn_err_set(err, MN_EINVAL, 0, "genesis: validator %" PRIu32
                              " is not an object", i);
        MN_TRY(want_keys(v, vkeys, 6, "genesis validator", err));
        MN_TRY(get_hex32(v, "pk", gv->pk, err));
        MN_TRY(get_hex32(v, "vrf_pk", gv->vrf_pk, err));
        MN_TRY(get_hex32(v, "noise_pk", gv->noise_pk, err));
        MN_TRY(get_u64(v, "stake", INT64_MAX, &gv->stake, err));
        MN_TRY(get_text(v, "addr", gv->addr, sizeof gv->addr, true, err));
        MN_TRY(get_text(v, "api", gv->api, sizeof gv->api, true, err));
    }
    return genesis_check(g, err);
}

int mn_genesis_load(mn_genesis *g, const char *path, mn_err *err)
{
    uint8_t *data;
    size_t len;
    MN_TRY(mn_file_read(path, 1024u * 1024u, &data, &len, err));
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
    free(data);
    if (root == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "genesis %s: line %d: %s", path, jerr.line,
                          jerr.text);
    mn_genesis tmp;
    memset(&tmp, 0, sizeof tmp);
    const int rc = genesis_from_json(&tmp, root, err);
    json_decref(root);
    if (rc != 0)
        return rc;
    *g = tmp;
    return 0;
}

int mn_genesis_save(const mn_genesis *g, const char *path, mn_err *err)
{
    MN_TRY(genesis_check(g, err));
    json_t *root = json_object();
    json_t *vals = json_array();
    char hex[65];
    MN_ASSERT(root != NULL && vals != NULL);
    json_object_set_new(root, "chain_id", json_string(g->chain_id));
    json_object_set_new(root, "genesis_time_ms", json_integer((json_int_t)g->genesis_time_ms));
    json_object_set_new(root, "block_max_txs", json_integer(g->block_max_txs));
    json_object_set_new(root, "block_max_bytes", json_integer(g->block_max_bytes));
    for (uint32_t i = 0; i < g->validator_count; i++) {
        const mn_genesis_validator *v = &g->validators[i];
        json_t *o = json_object();
        MN_ASSERT(o != NULL);
        mn_hex_encode(hex, v->pk, 32);
        json_object_set_new(o, "pk", json_string(hex));
        mn_hex_encode(hex, v->vrf_pk, 32);
        json_object_set_new(o, "vrf_pk", json_string(hex));
        mn_hex_encode(hex, v->noise_pk, 32);
        json_object_set_new(o, "noise_pk", json_string(hex));
        json_object_set_new(o, "stake", json_integer((json_int_t)v->stake));
        json_object_set_new(o, "addr", json_string(v->addr));
        json_object_set_new(o, "api", json_string(v->api));
        json_array_append_new(vals, o);
    }
    json_object_set_new(root, "validators", vals);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "genesis: out of memory");
    const size_t n = strlen(text);

    mn_buf b;
    mn_buf_init(&b, 0);
    int rc = mn_buf_append(&b, text, n, err);
    free(text);
    if (rc == 0)
        rc = mn_buf_append_byte(&b, '\n', err);
    if (rc == 0)
        rc = mn_file_write(path, b.data, b.len, 0644, true, err);
    mn_buf_deinit(&b);
    return rc;
}

/* Canonical CBOR {1: chain id, 2: time, 3: [{1: pk, 2: vrf pk, 3: noise pk, 4: stake,
 * 5: addr, 6: api}...], 4: block max txs, 5: block max bytes}. */
void mn_genesis_hash(const mn_genesis *g, uint8_t hash[32])
{
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_map(&e, 5);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_text(&e, g->chain_id, strnlen(g->chain_id, MN_CHAIN_ID_BYTES_MAX));
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_uint(&e, g->genesis_time_ms);
    mn_cbor_put_key(&e, 3);
    const uint32_t n = g->validator_count <= MN_VALIDATORS_MAX ? g->validator_count : 0;
    mn_cbor_put_array(&e, n);
    for (uint32_t i = 0; i < n; i++) {
        const mn_genesis_validator *v = &g->validators[i];
        mn_cbor_put_map(&e, 6);
        mn_cbor_put_key(&e, 1);
        mn_cbor_put_bytes(&e, v->pk, 32);
        mn_cbor_put_key(&e, 2);
        mn_cbor_put_bytes(&e, v->vrf_pk, 32);
        mn_cbor_put_key(&e, 3);
        mn_cbor_put_bytes(&e, v->noise_pk, 32);
        mn_cbor_put_key(&e, 4);
        mn_cbor_put_uint(&e, v->stake);
        mn_cbor_put_key(&e, 5);
        mn_cbor_put_text(&e, v->addr, strnlen(v->addr, sizeof v->addr - 1));
        mn_cbor_put_key(&e, 6);
        mn_cbor_put_text(&e, v->api, strnlen(v->api, sizeof v->api - 1));
    }
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_uint(&e, g->block_max_txs);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_uint(&e, g->block_max_bytes);
    MN_ASSERT(mn_cbor_enc_finish(&e, &err) == 0);
    mn_sha256_tagged(hash, MN_TAG_GENESIS, b.data, b.len);
    mn_buf_deinit(&b);
}
