/* SPDX-License-Identifier: Apache-2.0
 *
 * exec.c: execution of one transaction on a version of the state: the handler registry, the
 * context handlers read and write through (every written key is remembered for the commit's
 * write-back), and the per-sender nonce record. Not here: whole blocks (block.c), what each
 * type does (handlers.c).
 */
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"

/* Canonical CBOR {1: v}: at most 11 bytes. */
static size_t enc_map1_uint(uint8_t out[11], uint64_t v)
{
    out[0] = 0xa1;
    out[1] = 0x01;
    if (v < 24) {
        out[2] = (uint8_t)v;
        return 3;
    }
    int n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    out[2] = (uint8_t)(n == 1 ? 0x18 : n == 2 ? 0x19 : n == 4 ? 0x1a : 0x1b);
    for (int i = 0; i < n; i++)
        out[3 + i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return 3 + (size_t)n;
}

static int dec_map1_uint(const uint8_t *p, size_t len, uint64_t *v)
{
    mn_cbor_dec d;
    mn_err err;
    mn_cbor_dec_init(&d, p, len);
    if (mn_cbor_want_map(&d, 1, "record", &err) != 0 ||
        mn_cbor_want_key(&d, 1, "record", &err) != 0 || mn_cbor_get_uint(&d, v, &err) != 0 ||
        mn_cbor_dec_finish(&d, &err) != 0)
        return -1;
    return 0;
}

uint64_t mn__next_nonce_in(const mn__tree *t, const uint8_t sender[32])
{
    uint8_t key[34] = {MN_LEDGER_KEY_ACCOUNT, '/'};
    memcpy(key + 2, sender, 32);
    size_t vlen;
    const uint8_t *v = mn__tree_get(t, key, sizeof key, &vlen);
    uint64_t last;
    if (v == NULL || dec_map1_uint(v, vlen, &last) != 0)
        return 1; /* a corrupt record cannot exist: the tree holds what execution wrote */
    return last + 1;
}

/* ---- handlers and execution ------------------------------------------------------------ */

int mn_ledger_register_handler(mn_ledger *l, uint32_t type, const mn_tx_handler *h,
                               mn_err *err)
{
    if (type == 0 || type >= MN_TX_TYPES_MAX || h == NULL || h->check == NULL ||
        h->apply == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "handler for type %u", type);
    l->handlers[type] = *h;
    return 0;
}

const uint8_t *mn_ledger_exec_get(mn_ledger_exec *x, const uint8_t *key, size_t klen,
                                  size_t *vlen)
{
    return mn__tree_get(&x->tree, key, klen, vlen);
}

static int touch(mn_ledger_exec *x, const uint8_t *key, size_t klen, mn_err *err)
{
    uint8_t len[2] = {(uint8_t)(klen >> 8), (uint8_t)klen};
    MN_TRY(mn_buf_append(&x->touched, len, 2, err));
    MN_TRY(mn_buf_append(&x->touched, key, klen, err));
    if (klen > 0 && key[0] == MN_LEDGER_KEY_VALIDATOR)
        x->stake_changed = true;
    return 0;
}

int mn_ledger_exec_put(mn_ledger_exec *x, const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen, mn_err *err)
{
    if (klen == 0 || klen > MN_STATE_KEY_BYTES_MAX || vlen > MN_STATE_VALUE_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "state entry of %zu + %zu bytes", klen, vlen);
    MN_TRY(touch(x, key, klen, err));
    return mn__tree_put(&x->tree, key, klen, val, vlen, err);
}

void mn_ledger_exec_del(mn_ledger_exec *x, const uint8_t *key, size_t klen)
{
    mn_err err;
    if (klen == 0 || klen > MN_STATE_KEY_BYTES_MAX)
        return;
    if (touch(x, key, klen, &err) != 0)
        mn_panic(__FILE__, __LINE__, "ledger: out of memory");
    mn__tree_del(&x->tree, key, klen);
}

uint64_t mn_ledger_exec_height(const mn_ledger_exec *x)
{
    return x->height;
}

mn_ledger *mn_ledger_exec_ledger(mn_ledger_exec *x)
{
    return x->l;
}

void mn__exec_init(mn_ledger_exec *x, mn_ledger *l)
{
    memset(x, 0, sizeof *x);
    x->l = l;
    mn__tree_init(&x->tree);
    mn__tree_clone(&x->tree, &l->state);
    x->height = l->height + 1;
    mn_buf_init(&x->touched, 0);
}

void mn__exec_deinit(mn_ledger_exec *x)
{
    mn__tree_deinit(&x->tree);
    mn_buf_deinit(&x->touched);
}

/* Decodes, checks and applies one tx encoding. */
int mn__exec_tx(mn_ledger_exec *x, const uint8_t *data, size_t len, const uint8_t hash[32],
                   mn_err *err)
{
    mn_ledger *l = x->l;
    mn_tx tx;
    MN_TRY(mn_tx_decode(&tx, data, len, err));
    if (strcmp(tx.chain_id, l->g.chain_id) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "tx for chain \"%s\"", tx.chain_id);
    if (tx.type >= MN_TX_TYPES_MAX || l->handlers[tx.type].apply == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "tx of unknown type %u", tx.type);
    const mn_tx_handler *h = &l->handlers[tx.type];
    MN_TRY(h->check(&tx, err));
    if (!mn__ledger_verified(l, hash)) {
        MN_TRY(mn_tx_verify(&tx, data, len, err));
        mn__ledger_mark_verified(l, hash);
    }
    const uint64_t next = mn__next_nonce_in(&x->tree, tx.sender);
    if (tx.nonce != next)
        return mn_err_set(err, MN_EINVAL, 0, "tx nonce %llu, expected %llu",
                          (unsigned long long)tx.nonce, (unsigned long long)next);
    MN_TRY(h->apply(x, &tx, hash, err));
    uint8_t key[34] = {MN_LEDGER_KEY_ACCOUNT, '/'};
    memcpy(key + 2, tx.sender, 32);
    uint8_t val[11];
    return mn_ledger_exec_put(x, key, sizeof key, val, enc_map1_uint(val, tx.nonce), err);
}

