/* SPDX-License-Identifier: Apache-2.0
 *
 * ledger.c: the ledger object: open (a new database from the genesis, or recovery checked
 * against the last state root), close, reads, the verified-signature cache, pending evidence,
 * meta and receipt rows. Not here: execution of txs (exec.c), blocks (block.c), stake
 * snapshots (valset.c), the tx codec (tx.c), the types (handlers.c), the tree (state_tree.c),
 * SQL (store.c), the mempool (mempool.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

/* The verified cache keeps two generations of this many hashes. */
#define VERIFIED_GENERATION (2u * MN_MEMPOOL_TXS_MAX)

void mn_ledger_body_hash(const uint8_t *body, size_t len, uint8_t payload[32])
{
    mn_sha256_tagged(payload, MN_TAG_BLOCK_BODY, body, len);
}

/* ---- verified-signature cache ------------------------------------------------------------ */

bool mn__ledger_verified(mn_ledger *l, const uint8_t hash[32])
{
    return mn__map32_get(&l->verified[0], hash) != NULL ||
           mn__map32_get(&l->verified[1], hash) != NULL;
}

void mn__ledger_mark_verified(mn_ledger *l, const uint8_t hash[32])
{
    if (l->verified[0].count >= VERIFIED_GENERATION) {
        mn__map32 old = l->verified[1];
        l->verified[1] = l->verified[0];
        l->verified[0] = old;
        mn__map32_clear(&l->verified[0]);
    }
    mn_err err;
    (void)mn__map32_put(&l->verified[0], hash, (void *)1, &err); /* a cache: may fail */
}

const mn_genesis *mn__ledger_genesis(const mn_ledger *l)
{
    return &l->g;
}

const mn_genesis *mn_ledger_genesis(const mn_ledger *l)
{
    return &l->g;
}

const mn_tx_handler *mn__ledger_handler(const mn_ledger *l, uint32_t type)
{
    if (type >= MN_TX_TYPES_MAX || l->handlers[type].apply == NULL)
        return NULL;
    return &l->handlers[type];
}

const mn__tree *mn__ledger_tree(const mn_ledger *l)
{
    return &l->state;
}


static int genesis_state(const mn_genesis *g, mn__tree *t, mn_err *err)
{
    for (uint32_t i = 0; i < g->validator_count; i++) {
        const mn_genesis_validator *v = &g->validators[i];
        uint8_t key[34] = {MN_LEDGER_KEY_VALIDATOR, '/'};
        memcpy(key + 2, v->pk, 32);
        mn_buf b;
        mn_buf_init(&b, 0);
        int rc = mn__ledger_vrec_encode(v->vrf_pk, v->stake, v->noise_pk, &b, err);
        if (rc == 0)
            rc = mn__tree_put(t, key, sizeof key, b.data, b.len, err);
        mn_buf_deinit(&b);
        MN_TRY(rc);
    }
    return 0;
}

static int store_entry(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                       size_t vlen)
{
    mn_err err;
    return mn__store_put_state(ctx, key, klen, val, vlen, &err);
}

static int load_entry(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                      size_t vlen)
{
    return mn__tree_put(ctx, key, klen, val, vlen, NULL);
}

/* A new database: genesis state, seed of height 1, snapshot 0, identity, in one transaction. */
static int create(mn_ledger *l, mn_err *err)
{
    mn__tree t;
    mn__tree_init(&t);
    mn_buf snapshot;
    mn_buf_init(&snapshot, 0);
    uint8_t seed[32];
    mn_leader_genesis_seed(seed, l->g.chain_id);
    int rc = genesis_state(&l->g, &t, err);
    if (rc == 0)
        rc = mn__snapshot_encode(&t, &snapshot, err);
    if (rc == 0)
        rc = mn__store_begin(l->st, err);
    if (rc == 0) {
        if (mn__tree_visit(&t, NULL, 0, store_entry, l->st) != 0)
            rc = mn_err_set(err, MN_ESYS, 0, "store: writing the genesis state failed");
        if (rc == 0)
            rc = mn__store_put_seed(l->st, 1, seed, err);
        if (rc == 0)
            rc = mn__store_put_valset(l->st, 0, snapshot.data, snapshot.len, err);
        if (rc == 0)
            rc = mn__store_meta_put(l->st, "ledger.genesis_hash", l->genesis_hash, 32, err);
        if (rc == 0)
            rc = mn__store_commit(l->st, err);
        if (rc != 0)
            mn__store_rollback(l->st);
    }
    mn_buf_deinit(&snapshot);
    mn__tree_deinit(&t);
    return rc;
}

static int recover(mn_ledger *l, mn_err *err)
{
    MN_TRY(mn__store_load_state(l->st, load_entry, &l->state, err));
    uint8_t want[32], have[32];
    const int rc = mn__store_last_block(l->st, &l->height, l->last_id, &l->last_time, want, err);
    if (rc == -MN_ENOTFOUND) {
        l->height = 0;
        memset(l->last_id, 0, 32);
        l->last_time = l->g.genesis_time_ms;
        mn__tree t;
        mn__tree_init(&t);
        MN_TRY(genesis_state(&l->g, &t, err));
        mn__tree_root(&t, want);
        mn__tree_deinit(&t);
    } else if (rc != 0) {
        return rc;
    }
    mn__tree_root(&l->state, have);
    if (memcmp(want, have, 32) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "stored state does not match the state root of block %llu: "
                          "refusing to start (the database is damaged)",
                          (unsigned long long)l->height);
    MN_TRY(mn__store_get_seed(l->st, l->height + 1, l->seed, err));
    MN_TRY(mn__store_load_valsets(l->st, mn__snap_add, l, err));
    if (l->nsnaps == 0 || l->snaps[0].height != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "store: no genesis validator snapshot");
    return 0;
}

int mn_ledger_open(const char *path, const mn_genesis *g, mn_ledger **out, mn_err *err)
{
    MN_TRY(mn_crypto_init(err));
    mn_ledger *l = calloc(1, sizeof *l);
    if (l == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory");
    l->g = *g;
    l->pending = calloc(MN_EVIDENCE_PENDING_MAX, sizeof *l->pending);
    mn__tree_init(&l->state);
    mn__map32_init(&l->verified[0]);
    mn__map32_init(&l->verified[1]);
    mn_genesis_hash(g, l->genesis_hash);
    mn__ledger_register_builtin(l);
    int rc = l->pending == NULL ? mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory") : 0;
    if (rc == 0)
        rc = mn__store_open(path, &l->st, err);
    mn_buf gh;
    mn_buf_init(&gh, 0);
    if (rc == 0) {
        rc = mn__store_meta_get(l->st, "ledger.genesis_hash", &gh, err);
        if (rc == -MN_ENOTFOUND)
            rc = create(l, err);
        else if (rc == 0 && (gh.len != 32 || memcmp(gh.data, l->genesis_hash, 32) != 0))
            rc = mn_err_set(err, MN_EINVAL, 0, "%s belongs to another genesis", path);
    }
    mn_buf_deinit(&gh);
    if (rc == 0)
        rc = recover(l, err);
    if (rc != 0) {
        mn_ledger_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

void mn_ledger_close(mn_ledger *l)
{
    if (l == NULL)
        return;
    for (uint32_t i = 0; i < MN_LEDGER_SCRATCH_CACHE; i++)
        mn__scratch_release(&l->cache[i]);
    mn__tree_deinit(&l->state);
    for (size_t i = 0; i < l->nsnaps; i++) {
        free(l->snaps[i].enc);
        free(l->snaps[i].vs);
    }
    free(l->snaps);
    mn__map32_deinit(&l->verified[0]);
    mn__map32_deinit(&l->verified[1]);
    free(l->pending);
    mn__store_close(l->st);
    free(l);
}

/* ---- reads ------------------------------------------------------------------------------ */

uint64_t mn_ledger_height(const mn_ledger *l)
{
    return l->height;
}

void mn_ledger_state_root(const mn_ledger *l, uint8_t root[32])
{
    mn__tree_root((mn__tree *)&l->state, root); /* only refreshes cached hashes */
}

void mn_ledger_chain(const mn_ledger *l, mn_bft_chain *chain)
{
    chain->height = l->height + 1;
    memcpy(chain->seed, l->seed, 32);
    memcpy(chain->parent, l->last_id, 32);
}

int mn_ledger_get_block(mn_ledger *l, uint64_t height, mn_block_header *h, mn_commit_cert *c,
                        mn_buf *body, mn_err *err)
{
    mn_buf hb, cb;
    mn_buf_init(&hb, 0);
    mn_buf_init(&cb, 0);
    int rc = mn__store_get_block(l->st, height, &hb, &cb, body, err);
    if (rc == 0 && h != NULL)
        rc = mn_block_header_decode(hb.data, hb.len, h, err);
    if (rc == 0 && c != NULL) {
        if (cb.len == 0)
            memset(c, 0, sizeof *c); /* committed without a certificate (tests) */
        else
            rc = mn_commit_cert_decode(cb.data, cb.len, c, err);
    }
    mn_buf_deinit(&hb);
    mn_buf_deinit(&cb);
    return rc;
}

int mn_ledger_get_tx(mn_ledger *l, const uint8_t hash[32], mn_buf *tx, uint64_t *height,
                     uint32_t *index, mn_err *err)
{
    return mn__store_get_tx(l->st, hash, tx, height, index, err);
}

uint64_t mn_ledger_next_nonce(mn_ledger *l, const uint8_t sender[32])
{
    return mn__next_nonce_in(&l->state, sender);
}

uint64_t mn_ledger_block_time(mn_ledger *l, uint64_t height)
{
    if (height == 0)
        return l->g.genesis_time_ms;
    uint64_t t;
    mn_err err;
    return mn__store_block_time(l->st, height, &t, &err) == 0 ? t : 0;
}

int mn_ledger_state_get(mn_ledger *l, const uint8_t *key, size_t klen, mn_buf *val,
                        mn_err *err)
{
    size_t vlen;
    const uint8_t *v = mn__tree_get(&l->state, key, klen, &vlen);
    if (v == NULL)
        return mn_err_set(err, MN_ENOTFOUND, 0, "no such state entry");
    val->len = 0;
    return mn_buf_append(val, v, vlen, err);
}

int mn_ledger_validator(mn_ledger *l, const uint8_t pk[32], uint8_t vrf_pk[32],
                        uint8_t noise_pk[32], uint64_t *stake, mn_err *err)
{
    uint8_t key[34] = {MN_LEDGER_KEY_VALIDATOR, '/'};
    memcpy(key + 2, pk, 32);
    size_t vlen;
    const uint8_t *v = mn__tree_get(&l->state, key, sizeof key, &vlen);
    if (v == NULL)
        return mn_err_set(err, MN_ENOTFOUND, 0, "not a validator");
    uint8_t vrf[32], noise[32];
    uint64_t st;
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, v, vlen);
    MN_TRY(mn_cbor_want_map(&d, 3, "validator record", err));
    MN_TRY(mn_cbor_want_key(&d, 1, "validator record", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, vrf, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "validator record", err));
    MN_TRY(mn_cbor_get_uint(&d, &st, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "validator record", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, noise, 32, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    if (vrf_pk != NULL)
        memcpy(vrf_pk, vrf, 32);
    if (noise_pk != NULL)
        memcpy(noise_pk, noise, 32);
    if (stake != NULL)
        *stake = st;
    return 0;
}

int mn_ledger_seed(mn_ledger *l, uint64_t height, uint8_t seed[32], mn_err *err)
{
    if (height == 0 || height > l->height + 1)
        return mn_err_set(err, MN_ENOTFOUND, 0, "no seed for height %llu",
                          (unsigned long long)height);
    return mn__store_get_seed(l->st, height, seed, err);
}

uint32_t mn_ledger_evidence_pending(const mn_ledger *l)
{
    return l->npending;
}

int mn_ledger_add_evidence(mn_ledger *l, const mn_evidence *e, mn_err *err)
{
    mn_buf a, b;
    mn_buf_init(&a, 0);
    mn_buf_init(&b, 0);
    int rc = mn_evidence_encode(e, &a, err);
    for (uint32_t i = 0; i < l->npending && rc == 0; i++) {
        b.len = 0;
        rc = mn_evidence_encode(&l->pending[i], &b, err);
        if (rc == 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0)
            rc = mn_err_set(err, MN_EEXIST, 0, "evidence already pending");
    }
    mn_buf_deinit(&a);
    mn_buf_deinit(&b);
    MN_TRY(rc);
    if (l->npending >= MN_EVIDENCE_PENDING_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "too much pending evidence");
    l->pending[l->npending++] = *e;
    mn__prune_pending(l);
    return 0;
}

int mn_ledger_meta_put(mn_ledger *l, const char *key, const uint8_t *val, size_t len,
                       mn_err *err)
{
    return mn__store_meta_put(l->st, key, val, len, err);
}

int mn_ledger_meta_get(mn_ledger *l, const char *key, mn_buf *val, mn_err *err)
{
    return mn__store_meta_get(l->st, key, val, err);
}

int mn_ledger_receipt_put(mn_ledger *l, const uint8_t hash[32], const uint8_t *receipt,
                          size_t len, mn_err *err)
{
    return mn__store_put_receipt(l->st, hash, receipt, len, err);
}

int mn_ledger_receipt_get(mn_ledger *l, const uint8_t hash[32], mn_buf *receipt, mn_err *err)
{
    return mn__store_get_receipt(l->st, hash, receipt, err);
}
