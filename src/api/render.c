/* SPDX-License-Identifier: Apache-2.0
 *
 * render.c: JSON views of what the ledger stores, for the API routes: status, blocks (header in
 * hex, commit certificate summary, body summary), transactions, accounts, validators, peers.
 * It reads the ledger and mempool through ledger.h and asks the node (callbacks) for the rest;
 * it never writes anything. Byte strings are lowercase hex; heights, nonces, stakes and times
 * are JSON integers (all below 2^63 in practice; jansson's integers are int64).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/consensus.h"
#include "metanode/ledger.h"

static json_t *hex_json(const uint8_t *data, size_t len)
{
    char *text = malloc(2 * len + 1);
    if (text == NULL)
        return NULL;
    mn_hex_encode(text, data, len);
    json_t *s = json_stringn(text, 2 * len);
    free(text);
    return s;
}

static json_t *u64_json(uint64_t v)
{
    return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* json_object_set_new that tolerates a NULL value (allocation failure) by storing null. */
static void put(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value ? value : json_null());
}

static json_t *fail(unsigned *status, const char **code, unsigned s, const char *c)
{
    *status = s;
    *code = c;
    return NULL;
}

static void add_tx_hash(void *ctx, uint32_t index, const uint8_t *tx, size_t n)
{
    (void)index;
    uint8_t hash[32];
    mn_tx_hash(hash, tx, n);
    json_t *s = hex_json(hash, 32);
    if (s != NULL)
        json_array_append_new((json_t *)ctx, s);
}

/* ---- routes ------------------------------------------------------------------------------ */

json_t *mn__api_render_block(const mn__api_ctx *c, uint64_t height, unsigned *status,
                             const char **code, mn_err *err)
{
    mn_block_header h;
    mn_commit_cert *cert = malloc(sizeof *cert);
    mn_buf body;
    mn_buf_init(&body, 0);
    if (cert == NULL)
        return fail(status, code, 500, "internal");
    const int rc = mn_ledger_get_block(c->ledger, height, &h, cert, &body, err);
    if (rc != 0) {
        free(cert);
        mn_buf_deinit(&body);
        return rc == -MN_ENOTFOUND ? fail(status, code, 404, "not_found")
                                   : fail(status, code, 500, "internal");
    }
    uint8_t id[32];
    mn_block_id(id, &h);
    json_t *out = json_object();
    put(out, "height", u64_json(h.height));
    put(out, "id", hex_json(id, 32));

    json_t *hdr = json_object();
    put(hdr, "height", u64_json(h.height));
    put(hdr, "parent", hex_json(h.parent, 32));
    put(hdr, "proposer", hex_json(h.proposer, 32));
    put(hdr, "vrf_proof", hex_json(h.vrf_proof, sizeof h.vrf_proof));
    put(hdr, "payload", hex_json(h.payload, 32));
    put(out, "header", hdr);

    json_t *cc = json_object();
    put(cc, "round", json_integer(cert->round));
    put(cc, "value", hex_json(cert->value, 32));
    put(cc, "signatures", json_integer(cert->sig_count));
    put(cc, "signers_bitset", hex_json(cert->signers, cert->signer_bytes <= sizeof cert->signers
                                                          ? cert->signer_bytes : 0));
    /* Signer ids and their share of the power, from the set that ran this height. */
    const mn_bft_valset *vs = mn_ledger_valset_at(c->ledger, height);
    if (vs != NULL) {
        json_t *ids = json_array();
        uint64_t power = 0;
        for (uint32_t i = 0; i < vs->set.count && i / 8 < cert->signer_bytes; i++)
            if (cert->signers[i / 8] & (1u << (i % 8))) {
                json_array_append_new(ids, hex_json(vs->set.members[i].id, 32));
                power += vs->set.members[i].stake;
            }
        put(cc, "signers", ids);
        put(cc, "power", u64_json(power));
        put(cc, "total_power", u64_json(vs->set.total_stake));
    }
    put(out, "commit", cc);

    mn__api_body b;
    json_t *txs = json_array();
    mn_err berr;
    json_t *bj = json_object();
    if (mn__api_body_decode(body.data, body.len, &b, add_tx_hash, txs, &berr) == 0) {
        put(bj, "time_ms", u64_json(b.time_ms));
        put(bj, "state_root", hex_json(b.state_root, 32));
        put(bj, "tx_root", hex_json(b.tx_root, 32));
        put(bj, "tx_count", json_integer(b.tx_count));
        put(bj, "txs", txs);
        put(bj, "evidence_count", json_integer(b.evidence_count));
    } else {
        /* The ledger checked this body when it committed it; show what it holds anyway. */
        json_decref(txs);
        put(bj, "error", json_string("body not understood by this API version"));
    }
    put(bj, "bytes", u64_json(body.len));
    put(out, "body", bj);
    free(cert);
    mn_buf_deinit(&body);
    return out;
}

json_t *mn__api_render_status(const mn__api_ctx *c, unsigned *status, const char **code,
                              mn_err *err)
{
    (void)status;
    (void)code;
    (void)err;
    mn_api_status st;
    memset(&st, 0, sizeof st);
    if (c->cb->status != NULL)
        c->cb->status(c->cb->ctx, &st);
    const uint64_t height = mn_ledger_height(c->ledger);
    uint8_t root[32];
    mn_ledger_state_root(c->ledger, root);

    json_t *out = json_object();
    put(out, "chain_id", json_string(c->chain_id));
    put(out, "node_id", hex_json(st.node_id, 32));
    put(out, "height", u64_json(height));
    json_t *latest = json_null();
    if (height > 0) {
        mn_block_header h;
        mn_commit_cert *cert = malloc(sizeof *cert);
        mn_buf body;
        mn_buf_init(&body, 0);
        mn_err e;
        if (cert != NULL && mn_ledger_get_block(c->ledger, height, &h, cert, &body, &e) == 0) {
            uint8_t id[32];
            mn_block_id(id, &h);
            latest = json_object();
            put(latest, "height", u64_json(height));
            put(latest, "id", hex_json(id, 32));
            put(latest, "time_ms", u64_json(mn_ledger_block_time(c->ledger, height)));
        }
        free(cert);
        mn_buf_deinit(&body);
    }
    put(out, "latest_block", latest);
    put(out, "state_root", hex_json(root, 32));
    put(out, "round", json_integer(st.round));
    put(out, "peers", json_integer(st.peers));
    put(out, "role", json_string(st.validator ? "validator" : "follower"));
    put(out, "catching_up", json_boolean(st.catching_up));
    if (c->mempool != NULL) {
        const mn_mempool_stats ms = mn_mempool_get_stats(c->mempool);
        json_t *mp = json_object();
        put(mp, "count", json_integer(ms.count));
        put(mp, "bytes", u64_json(ms.bytes));
        put(out, "mempool", mp);
    }
    return out;
}

static const char *type_name(uint32_t type)
{
    switch (type) {
    case MN_TX_REGISTER: return "register";
    case MN_TX_BOND: return "bond";
    case MN_TX_UNBOND: return "unbond";
    case MN_TX_EVIDENCE: return "evidence";
    case MN_TX_NOTE: return "note";
    default: return "unknown";
    }
}

/* Printable UTF-8 without control characters (except \t \n \r): then a note is shown as text. */
static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
            return false;
    json_t *s = json_stringn((const char *)p, n); /* NULL for invalid UTF-8 */
    const bool ok = s != NULL;
    json_decref(s);
    return ok;
}

json_t *mn__api_render_tx(const mn__api_ctx *c, const uint8_t hash[32], unsigned *status,
                          const char **code, mn_err *err)
{
    mn_buf enc;
    mn_buf_init(&enc, 0);
    uint64_t height = 0;
    uint32_t index = 0;
    const int rc = mn_ledger_get_tx(c->ledger, hash, &enc, &height, &index, err);
    if (rc != 0) {
        mn_buf_deinit(&enc);
        return rc == -MN_ENOTFOUND ? fail(status, code, 404, "not_found")
                                   : fail(status, code, 500, "internal");
    }
    mn_tx tx;
    if (mn_tx_decode(&tx, enc.data, enc.len, err) != 0) {
        mn_buf_deinit(&enc);
        return fail(status, code, 500, "internal");
    }
    json_t *out = json_object();
    put(out, "hash", hex_json(hash, 32));
    put(out, "height", u64_json(height));
    put(out, "index", json_integer(index));
    put(out, "type", json_integer(tx.type));
    put(out, "type_name", json_string(type_name(tx.type)));
    put(out, "chain_id", json_string(tx.chain_id));
    put(out, "sender", hex_json(tx.sender, 32));
    put(out, "nonce", u64_json(tx.nonce));
    put(out, "body_hex", hex_json(tx.body, tx.body_len));
    if (tx.type == MN_TX_NOTE) {
        /* The note body is a CBOR byte string; show its content as text when it is text. */
        mn_cbor_dec d;
        const uint8_t *note = NULL;
        size_t n = 0;
        mn_err e;
        mn_cbor_dec_init(&d, tx.body, tx.body_len);
        if (mn_cbor_get_bytes(&d, &note, &n, &e) == 0 && mn_cbor_dec_finish(&d, &e) == 0) {
            if (printable(note, n))
                put(out, "note", json_stringn((const char *)note, n));
            else
                put(out, "note_hex", hex_json(note, n));
        }
    }
    put(out, "signature", hex_json(tx.signature, 64));
    put(out, "bytes", u64_json(enc.len));
    mn_buf_deinit(&enc);
    return out;
}

json_t *mn__api_render_account(const mn__api_ctx *c, const uint8_t pk[32])
{
    json_t *out = json_object();
    put(out, "pk", hex_json(pk, 32));
    put(out, "next_nonce", u64_json(mn_ledger_next_nonce(c->ledger, pk)));
    return out;
}

json_t *mn__api_render_validators(const mn__api_ctx *c, unsigned *status, const char **code,
                                  mn_err *err)
{
    (void)err;
    const uint64_t height = mn_ledger_height(c->ledger) + 1;
    const mn_bft_valset *vs = mn_ledger_valset_at(c->ledger, height);
    if (vs == NULL)
        return fail(status, code, 503, "unavailable");
    json_t *out = json_object();
    put(out, "height", u64_json(height));
    put(out, "total_stake", u64_json(vs->set.total_stake));
    json_t *list = json_array();
    for (uint32_t i = 0; i < vs->set.count; i++) {
        const mn_validator *m = &vs->set.members[i];
        json_t *v = json_object();
        put(v, "id", hex_json(m->id, 32));
        put(v, "pk", hex_json(vs->pk[i], 32));
        put(v, "vrf_pk", hex_json(vs->vrf_pk[i], 32));
        put(v, "stake", u64_json(m->stake));
        /* Basis points, rounded down; total_stake < 2^63 so the product fits 128 bits. */
        const unsigned __int128 bp =
            vs->set.total_stake ? (unsigned __int128)m->stake * 10000u / vs->set.total_stake : 0;
        put(v, "power_bp", json_integer((json_int_t)bp));
        json_array_append_new(list, v);
    }
    put(out, "validators", list);
    return out;
}

json_t *mn__api_render_peers(const mn__api_ctx *c)
{
    json_t *out = json_object();
    json_t *list = json_array();
    mn_api_peer *peers = NULL;
    uint32_t n = 0;
    if (c->cb->peers != NULL && (peers = calloc(MN_API_PEERS_MAX, sizeof *peers)) != NULL) {
        n = c->cb->peers(c->cb->ctx, peers, MN_API_PEERS_MAX);
        if (n > MN_API_PEERS_MAX)
            n = MN_API_PEERS_MAX;
    }
    for (uint32_t i = 0; i < n; i++) {
        json_t *p = json_object();
        peers[i].addr[sizeof peers[i].addr - 1] = '\0';
        put(p, "id", hex_json(peers[i].id, 32));
        put(p, "addr", json_string(peers[i].addr)); /* null if not UTF-8 */
        put(p, "connected", json_boolean(peers[i].connected));
        put(p, "validator", json_boolean(peers[i].validator));
        put(p, "rtt_ns", u64_json(peers[i].rtt_ns));
        json_array_append_new(list, p);
    }
    free(peers);
    put(out, "count", json_integer(n));
    put(out, "peers", list);
    return out;
}
