/* SPDX-License-Identifier: Apache-2.0
 *
 * block.c: blocks on the ledger: a body executed on a scratch version of the state (built for
 * a proposer from the mempool, checked for a validator), the result cached by payload so the
 * commit does not execute again, and the commit of a block in one SQLite transaction, after
 * which the in-memory state switches over. Not here: single txs (exec.c), stake snapshots
 * (valset.c), the SQL (store.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/merkle.h"
#include "metanode/tags.h"

static uint32_t max_txs(const mn_ledger *l)
{
    return l->g.block_max_txs != 0 ? l->g.block_max_txs : MN_BLOCK_TXS_DEFAULT;
}

static uint32_t max_bytes(const mn_ledger *l)
{
    return l->g.block_max_bytes != 0 ? l->g.block_max_bytes : MN_BLOCK_BYTES_DEFAULT;
}

/* ---- scratch cache ---------------------------------------------------------------------- */

void mn__scratch_release(mn__scratch *s)
{
    if (!s->used)
        return;
    mn__exec_deinit(&s->x);
    free(s->txs);
    free(s->evs);
    memset(s, 0, sizeof *s);
}

static mn__scratch *scratch_take(mn_ledger *l)
{
    mn__scratch *s = &l->cache[l->cache_next];
    l->cache_next = (l->cache_next + 1) % MN_LEDGER_SCRATCH_CACHE;
    mn__scratch_release(s);
    return s;
}

static mn__scratch *scratch_find(mn_ledger *l, uint64_t height, const uint8_t payload[32])
{
    for (uint32_t i = 0; i < MN_LEDGER_SCRATCH_CACHE; i++) {
        mn__scratch *s = &l->cache[i];
        if (s->used && s->height == height && memcmp(s->payload, payload, 32) == 0)
            return s;
    }
    return NULL;
}

/* ---- body ------------------------------------------------------------------------------ */

typedef struct body_view {
    uint64_t time_ms;
    uint8_t state_root[32];
    uint8_t tx_root[32];
    uint32_t ntx, nev;
    mn__span *txs, *evs; /* malloc'd, hashes filled */
} body_view;

static int body_decode(mn_ledger *l, const uint8_t *data, size_t len, body_view *b,
                       mn_err *err)
{
    memset(b, 0, sizeof *b);
    if (len > max_bytes(l))
        return mn_err_set(err, MN_ELIMIT, 0, "block body of %zu bytes (max %u)", len,
                          max_bytes(l));
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    const char *what = "block body";
    uint64_t n;
    MN_TRY(mn_cbor_want_map(&d, 5, what, err));
    MN_TRY(mn_cbor_want_key(&d, 1, what, err));
    MN_TRY(mn_cbor_get_uint(&d, &b->time_ms, err));
    MN_TRY(mn_cbor_want_key(&d, 2, what, err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->state_root, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 3, what, err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->tx_root, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 4, what, err));
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n > max_txs(l))
        return mn_err_set(err, MN_ELIMIT, 0, "block of %llu txs (max %u)",
                          (unsigned long long)n, max_txs(l));
    b->ntx = (uint32_t)n;
    b->txs = calloc(n + 1, sizeof *b->txs);
    if (b->txs == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "body: out of memory");
    for (uint32_t i = 0; i < b->ntx; i++) {
        const uint8_t *p;
        size_t pl;
        MN_TRY(mn_cbor_get_bytes(&d, &p, &pl, err));
        if (pl > MN_TX_BYTES_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "tx %u of %zu bytes", i, pl);
        b->txs[i].off = (uint32_t)(p - data);
        b->txs[i].len = (uint32_t)pl;
        mn_tx_hash(b->txs[i].hash, p, pl);
    }
    MN_TRY(mn_cbor_want_key(&d, 5, what, err));
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n > MN_BLOCK_EVIDENCE_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "block of %llu evidence (max %u)",
                          (unsigned long long)n, MN_BLOCK_EVIDENCE_MAX);
    b->nev = (uint32_t)n;
    b->evs = calloc(n + 1, sizeof *b->evs);
    if (b->evs == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "body: out of memory");
    for (uint32_t i = 0; i < b->nev; i++) {
        const uint8_t *p;
        size_t pl;
        MN_TRY(mn_cbor_get_bytes(&d, &p, &pl, err));
        b->evs[i].off = (uint32_t)(p - data);
        b->evs[i].len = (uint32_t)pl;
        mn_sha256(b->evs[i].hash, p, pl);
    }
    return mn_cbor_dec_finish(&d, err);
}

static void body_view_free(body_view *b)
{
    free(b->txs);
    free(b->evs);
    b->txs = b->evs = NULL;
}

static void tx_root_of(const mn__span *txs, uint32_t n, uint8_t root[32])
{
    mn_merkle_builder mb;
    mn_merkle_builder_init(&mb);
    for (uint32_t i = 0; i < n; i++)
        mn_merkle_builder_append(&mb, txs[i].hash, 32);
    mn_merkle_builder_root(&mb, root);
}

/* Executes a decoded body on a fresh scratch version; fills s on success. */
static int execute(mn_ledger *l, const uint8_t *data, body_view *b, mn__scratch *s, mn_err *err)
{
    if (b->time_ms <= l->last_time)
        return mn_err_set(err, MN_EINVAL, 0, "block time %llu not after its parent's %llu",
                          (unsigned long long)b->time_ms, (unsigned long long)l->last_time);
    uint8_t root[32];
    tx_root_of(b->txs, b->ntx, root);
    if (memcmp(root, b->tx_root, 32) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "block tx root does not match its txs");
    mn__exec_init(&s->x, l);
    s->used = true; /* from here scratch_release cleans up */
    int rc = 0;
    for (uint32_t i = 0; i < b->ntx && rc == 0; i++) {
        rc = mn__exec_tx(&s->x, data + b->txs[i].off, b->txs[i].len, b->txs[i].hash, err);
        if (rc != 0)
            mn_err_wrap(err, "tx %u", i);
    }
    for (uint32_t i = 0; i < b->nev && rc == 0; i++) {
        mn_evidence e;
        rc = mn_evidence_decode(data + b->evs[i].off, b->evs[i].len, &e, err);
        if (rc == 0)
            rc = mn__evidence_apply(&s->x, &e, err);
        if (rc != 0)
            mn_err_wrap(err, "evidence %u", i);
    }
    if (rc == 0) {
        mn__tree_root(&s->x.tree, s->state_root);
        if (memcmp(s->state_root, b->state_root, 32) != 0)
            rc = mn_err_set(err, MN_EINVAL, 0, "block state root does not match execution");
    }
    if (rc != 0) {
        mn__scratch_release(s);
        return rc;
    }
    s->height = l->height + 1;
    s->time_ms = b->time_ms;
    s->ntx = b->ntx;
    s->nev = b->nev;
    s->txs = b->txs;
    s->evs = b->evs;
    b->txs = b->evs = NULL;
    return 0;
}

int mn_ledger_check_block(mn_ledger *l, const mn_block_header *h, const uint8_t *body,
                          size_t len, mn_err *err)
{
    if (h->height != l->height + 1)
        return mn_err_set(err, MN_EINVAL, 0, "block height %llu, expected %llu",
                          (unsigned long long)h->height, (unsigned long long)l->height + 1);
    uint8_t payload[32];
    mn_ledger_body_hash(body, len, payload);
    if (memcmp(payload, h->payload, 32) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "block body does not hash to the payload");
    if (scratch_find(l, h->height, payload) != NULL)
        return 0;
    body_view b;
    int rc = body_decode(l, body, len, &b, err);
    if (rc == 0) {
        mn__scratch *s = scratch_take(l);
        rc = execute(l, body, &b, s, err);
        if (rc == 0)
            memcpy(s->payload, payload, 32);
    }
    body_view_free(&b);
    /* The contract names three codes for an invalid block: a limit, a replayed offence or a
     * refused bond inside it make the block invalid too (MN_ENOMEM / MN_ESYS stay). */
    if (rc == -MN_ELIMIT || rc == -MN_EEXIST || rc == -MN_EPERM) {
        if (err != NULL)
            err->code = MN_EINVAL;
        rc = -MN_EINVAL;
    }
    return rc;
}

/* ---- building --------------------------------------------------------------------------- */


typedef struct build_ctx {
    mn_ledger_exec *x;
    uint32_t count, max_count;
    size_t bytes, max_bytes;
    const uint8_t **ptr;
    mn__span *txs;
} build_ctx;

static int build_one(void *ctx, const uint8_t *tx, size_t len, const uint8_t hash[32])
{
    build_ctx *b = ctx;
    if (b->count >= b->max_count)
        return 2; /* full */
    if (b->bytes + len + 5 > b->max_bytes)
        return 1; /* this one does not fit: the sender's later ones must wait too */
    mn_err err;
    if (mn__exec_tx(b->x, tx, len, hash, &err) != 0)
        return 1; /* invalid now: skip the sender's later ones */
    b->ptr[b->count] = tx;
    memcpy(b->txs[b->count].hash, hash, 32);
    b->txs[b->count].len = (uint32_t)len;
    b->count++;
    b->bytes += len + 5;
    return 0;
}

static uint64_t evidence_height(const mn_evidence *e)
{
    return e->kind == MN_EVIDENCE_DUPLICATE_VOTE ? e->u.votes[0].height
                                                 : e->u.proposals[0].height;
}

int mn_ledger_build_block(mn_ledger *l, mn_mempool *mp, uint64_t time_ms, mn_buf *body,
                          uint8_t payload[32], mn_err *err)
{
    if (time_ms <= l->last_time)
        time_ms = l->last_time + 1;
    const size_t base = body->len;
    mn__scratch *s = scratch_take(l);
    mn__exec_init(&s->x, l);
    s->used = true;
    build_ctx b = {.x = &s->x, .max_count = max_txs(l), .max_bytes = max_bytes(l)};
    b.bytes = 128; /* body head, roots, array heads */
    b.ptr = malloc((size_t)(b.max_count + 1) * sizeof *b.ptr);
    s->txs = calloc((size_t)b.max_count + 1, sizeof *s->txs);
    s->evs = calloc((size_t)MN_BLOCK_EVIDENCE_MAX + 1, sizeof *s->evs);
    mn_buf evbuf;
    mn_buf_init(&evbuf, 0);
    uint32_t ev_off[MN_BLOCK_EVIDENCE_MAX];
    uint32_t drop[MN_EVIDENCE_PENDING_MAX], ndrop = 0;
    int rc = 0;
    if (b.ptr == NULL || s->txs == NULL || s->evs == NULL) {
        rc = mn_err_set(err, MN_ENOMEM, 0, "build: out of memory");
        goto out;
    }
    b.txs = s->txs;
    if (mp != NULL)
        mn__mempool_iterate(mp, build_one, &b);
    /* Pending evidence that still applies. */
    for (uint32_t i = 0; i < l->npending && s->nev < MN_BLOCK_EVIDENCE_MAX; i++) {
        mn_err e2;
        const size_t start = evbuf.len;
        if (mn_evidence_encode(&l->pending[i], &evbuf, &e2) != 0) {
            evbuf.len = start;
            continue;
        }
        const size_t elen = evbuf.len - start;
        if (b.bytes + elen + 5 > b.max_bytes) {
            evbuf.len = start;
            continue;
        }
        if (mn__evidence_apply(&s->x, &l->pending[i], &e2) != 0) {
            /* Only evidence of a later height can become valid; the rest never will. */
            evbuf.len = start;
            if (evidence_height(&l->pending[i]) <= s->x.height)
                drop[ndrop++] = i;
            continue;
        }
        b.bytes += elen + 5;
        ev_off[s->nev] = (uint32_t)start;
        s->evs[s->nev].len = (uint32_t)elen;
        s->nev++;
    }
    /* Drop what can never apply (in reverse so indices stay valid). */
    while (ndrop > 0) {
        const uint32_t i = drop[--ndrop];
        l->pending[i] = l->pending[--l->npending];
    }
    s->ntx = b.count;
    uint8_t tx_root[32];
    tx_root_of(s->txs, s->ntx, tx_root);
    mn__tree_root(&s->x.tree, s->state_root);
    /* Encode, and record where each span landed. */
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, body);
    mn_cbor_put_map(&e, 5);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, time_ms);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_bytes(&e, s->state_root, 32);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, tx_root, 32);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_array(&e, s->ntx);
    for (uint32_t i = 0; i < s->ntx; i++) {
        mn_cbor_put_bytes(&e, b.ptr[i], s->txs[i].len);
        s->txs[i].off = (uint32_t)(body->len - base - s->txs[i].len);
    }
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_array(&e, s->nev);
    for (uint32_t i = 0; i < s->nev; i++) {
        mn_cbor_put_bytes(&e, evbuf.data + ev_off[i], s->evs[i].len);
        s->evs[i].off = (uint32_t)(body->len - base - s->evs[i].len);
        mn_sha256(s->evs[i].hash, evbuf.data + ev_off[i], s->evs[i].len);
    }
    rc = mn_cbor_enc_finish(&e, err);
    if (rc != 0)
        goto out;
    mn_ledger_body_hash(body->data + base, body->len - base, payload);
    memcpy(s->payload, payload, 32);
    s->height = l->height + 1;
    s->time_ms = time_ms;
out:
    free(b.ptr);
    mn_buf_deinit(&evbuf);
    if (rc != 0) {
        body->len = base;
        mn__scratch_release(s);
    }
    return rc;
}


static int write_back(mn_ledger *l, const mn_ledger_exec *x, mn_err *err)
{
    const uint8_t *p = x->touched.data, *end = p + x->touched.len;
    while (p < end) {
        const size_t klen = (size_t)p[0] << 8 | p[1];
        const uint8_t *key = p + 2;
        p += 2 + klen;
        size_t vlen;
        const uint8_t *v = mn__tree_get(&x->tree, key, klen, &vlen);
        if (v != NULL)
            MN_TRY(mn__store_put_state(l->st, key, klen, v, vlen, err));
        else
            MN_TRY(mn__store_del_state(l->st, key, klen, err));
    }
    return 0;
}

static int commit_rows(mn_ledger *l, const mn_block_header *h, const uint8_t id[32],
                       const mn_commit_cert *c, const uint8_t *body, size_t len, mn__scratch *s,
                       const uint8_t next_seed[32], const mn_buf *snapshot, mn_err *err)
{
    mn_buf hb, cb;
    mn_buf_init(&hb, 0);
    mn_buf_init(&cb, 0);
    int rc = mn_block_header_encode(h, &hb, err);
    if (rc == 0 && c != NULL)
        rc = mn_commit_cert_encode(c, &cb, err);
    if (rc == 0)
        rc = mn__store_put_block(l->st, h->height, id, hb.data, hb.len, cb.data, cb.len, body,
                                 len, s->time_ms, s->state_root, err);
    if (rc == 0)
        rc = mn__store_put_seed(l->st, h->height + 1, next_seed, err);
    for (uint32_t i = 0; i < s->ntx && rc == 0; i++)
        rc = mn__store_put_tx(l->st, s->txs[i].hash, s->txs[i].off, s->txs[i].len, h->height,
                              i, err);
    for (uint32_t i = 0; i < s->nev && rc == 0; i++)
        rc = mn__store_put_evidence(l->st, s->evs[i].hash, h->height, body + s->evs[i].off,
                                    s->evs[i].len, err);
    if (rc == 0)
        rc = write_back(l, &s->x, err);
    if (rc == 0 && snapshot != NULL)
        rc = mn__store_put_valset(l->st, h->height, snapshot->data, snapshot->len, err);
    mn_buf_deinit(&hb);
    mn_buf_deinit(&cb);
    return rc;
}

void mn__prune_pending(mn_ledger *l)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < l->npending; i++) {
        const mn_evidence *e = &l->pending[i];
        const mn_vote *v = &e->u.votes[0];
        const mn_proposal *p = &e->u.proposals[0];
        uint8_t key[42] = {MN_LEDGER_KEY_EVIDENCE, '/'};
        memcpy(key + 2, e->kind == MN_EVIDENCE_DUPLICATE_VOTE ? v->signer : p->signer, 32);
        mn_store_u64_be(key + 34, e->kind == MN_EVIDENCE_DUPLICATE_VOTE ? v->height : p->height);
        size_t vlen;
        if (mn__tree_get(&l->state, key, sizeof key, &vlen) == NULL)
            l->pending[kept++] = *e;
    }
    l->npending = kept;
}

int mn_ledger_commit_block(mn_ledger *l, const mn_block_header *h, const mn_commit_cert *c,
                           const uint8_t *body, size_t len, mn_err *err)
{
    if (h->height != l->height + 1)
        return mn_err_set(err, MN_EINVAL, 0, "commit of height %llu, expected %llu",
                          (unsigned long long)h->height, (unsigned long long)l->height + 1);
    if (memcmp(h->parent, l->last_id, 32) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "block parent is not the last committed block");
    MN_TRY(mn_block_header_check(h, err));
    uint8_t id[32];
    mn_block_id(id, h);
    if (c != NULL && (c->height != h->height || memcmp(c->value, id, 32) != 0))
        return mn_err_set(err, MN_EINVAL, 0, "certificate is not for this block");
    uint8_t payload[32];
    mn_ledger_body_hash(body, len, payload);
    if (memcmp(payload, h->payload, 32) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "block body does not hash to the payload");
    mn__scratch *s = scratch_find(l, h->height, payload);
    if (s == NULL) {
        MN_TRY(mn_ledger_check_block(l, h, body, len, err));
        s = scratch_find(l, h->height, payload);
        MN_ASSERT(s != NULL);
    }
    uint8_t beta[MN_VRF_OUTPUT_BYTES], next_seed[32];
    if (mn_vrf_proof_to_hash(beta, h->vrf_proof, MN_VRF_SUITE_TAI) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "block VRF proof does not decode");
    mn_leader_next_seed(next_seed, beta);
    /* A new stake snapshot when the validator records changed the set. */
    mn_buf snapshot;
    mn_buf_init(&snapshot, 0);
    bool new_snap = false;
    int rc = 0;
    if (s->x.stake_changed) {
        rc = mn__snapshot_encode(&s->x.tree, &snapshot, err);
        const mn__snap *last = &l->snaps[l->nsnaps - 1];
        new_snap = rc == 0 && (snapshot.len != last->len ||
                               memcmp(snapshot.data, last->enc, last->len) != 0);
    }
    /* Room for the snapshot before the database commits: after it nothing may fail. */
    uint8_t *snap_copy = NULL;
    if (rc == 0 && new_snap) {
        rc = mn__snap_reserve(l, err);
        snap_copy = rc == 0 ? malloc(snapshot.len + 1) : NULL;
        if (rc == 0 && snap_copy == NULL)
            rc = mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory");
        if (rc == 0)
            memcpy(snap_copy, snapshot.data, snapshot.len);
    }
    if (rc == 0)
        rc = mn__store_begin(l->st, err);
    if (rc == 0) {
        rc = commit_rows(l, h, id, c, body, len, s, next_seed, new_snap ? &snapshot : NULL,
                         err);
        if (rc == 0)
            rc = mn__store_commit(l->st, err);
        if (rc != 0)
            mn__store_rollback(l->st);
    }
    if (rc == 0 && new_snap) {
        l->snaps[l->nsnaps++] =
            (mn__snap){.height = h->height, .enc = snap_copy, .len = snapshot.len, .vs = NULL};
        snap_copy = NULL;
    }
    free(snap_copy);
    mn_buf_deinit(&snapshot);
    if (rc != 0)
        return rc;
    /* Durable: switch the in-memory state over. */
    mn__tree_deinit(&l->state);
    l->state = s->x.tree;
    s->x.tree.root = NULL;
    l->height = h->height;
    memcpy(l->last_id, id, 32);
    l->last_time = s->time_ms;
    memcpy(l->seed, next_seed, 32);
    for (uint32_t i = 0; i < MN_LEDGER_SCRATCH_CACHE; i++)
        mn__scratch_release(&l->cache[i]);
    mn__prune_pending(l);
    return 0;
}

/* ---- open / close ----------------------------------------------------------------------- */
