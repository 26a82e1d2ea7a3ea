/* SPDX-License-Identifier: Apache-2.0
 *
 * ledger.c: the ledger state machine: open and recovery, execution of a block on a scratch
 * version of the state (build for a proposer, check for a validator, the result cached by
 * payload so commit does not execute again), commit in one SQLite transaction, validator sets
 * per height from stake snapshots, seeds, reads. Not here: the tx codec (tx.c), the types
 * (handlers.c), the tree (state_tree.c), SQL (store.c), the mempool (mempool.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/merkle.h"
#include "metanode/tags.h"

/* A span of the body: a tx or an evidence encoding, with its hash. */
typedef struct span {
    uint8_t hash[32];
    uint32_t off, len;
} span;

/* The cached result of executing one block body. */
typedef struct scratch {
    bool used;
    uint64_t height;
    uint8_t payload[32];
    uint64_t time_ms;
    uint8_t state_root[32];
    mn_ledger_exec x;  /* the resulting state version and the keys it wrote */
    uint32_t ntx, nev;
    span *txs, *evs;   /* malloc'd */
} scratch;

typedef struct snap {
    uint64_t height; /* the snapshot after this block (0: genesis) */
    uint8_t *enc;
    size_t len;
    mn_bft_valset *vs; /* built on first use */
} snap;

struct mn_ledger {
    mn_genesis g;
    uint8_t genesis_hash[32];
    mn__store *st;
    mn__tree state;       /* committed */
    uint64_t height;
    uint8_t last_id[32];
    uint64_t last_time;
    uint8_t seed[32];     /* seed of height + 1 */
    mn_tx_handler handlers[MN_TX_TYPES_MAX];
    snap *snaps;
    size_t nsnaps, capsnaps;
    scratch cache[MN_LEDGER_SCRATCH_CACHE];
    uint32_t cache_next;
    mn__map32 verified[2]; /* [0] current generation, [1] previous */
    mn_evidence *pending;  /* MN_EVIDENCE_PENDING_MAX */
    uint32_t npending;
};

/* The verified cache keeps two generations of this many hashes. */
#define VERIFIED_GENERATION (2u * MN_MEMPOOL_TXS_MAX)

/* ---- small helpers ---------------------------------------------------------------------- */

static uint32_t max_txs(const mn_ledger *l)
{
    return l->g.block_max_txs != 0 ? l->g.block_max_txs : MN_BLOCK_TXS_DEFAULT;
}

static uint32_t max_bytes(const mn_ledger *l)
{
    return l->g.block_max_bytes != 0 ? l->g.block_max_bytes : MN_BLOCK_BYTES_DEFAULT;
}

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

static void exec_init(mn_ledger_exec *x, mn_ledger *l)
{
    memset(x, 0, sizeof *x);
    x->l = l;
    mn__tree_init(&x->tree);
    mn__tree_clone(&x->tree, &l->state);
    x->height = l->height + 1;
    mn_buf_init(&x->touched, 0);
}

static void exec_deinit(mn_ledger_exec *x)
{
    mn__tree_deinit(&x->tree);
    mn_buf_deinit(&x->touched);
}

/* Decodes, checks and applies one tx encoding. */
static int exec_tx(mn_ledger_exec *x, const uint8_t *data, size_t len, const uint8_t hash[32],
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

/* ---- scratch cache ---------------------------------------------------------------------- */

static void scratch_release(scratch *s)
{
    if (!s->used)
        return;
    exec_deinit(&s->x);
    free(s->txs);
    free(s->evs);
    memset(s, 0, sizeof *s);
}

static scratch *scratch_take(mn_ledger *l)
{
    scratch *s = &l->cache[l->cache_next];
    l->cache_next = (l->cache_next + 1) % MN_LEDGER_SCRATCH_CACHE;
    scratch_release(s);
    return s;
}

static scratch *scratch_find(mn_ledger *l, uint64_t height, const uint8_t payload[32])
{
    for (uint32_t i = 0; i < MN_LEDGER_SCRATCH_CACHE; i++) {
        scratch *s = &l->cache[i];
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
    span *txs, *evs; /* malloc'd, hashes filled */
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

static void tx_root_of(const span *txs, uint32_t n, uint8_t root[32])
{
    mn_merkle_builder mb;
    mn_merkle_builder_init(&mb);
    for (uint32_t i = 0; i < n; i++)
        mn_merkle_builder_append(&mb, txs[i].hash, 32);
    mn_merkle_builder_root(&mb, root);
}

/* Executes a decoded body on a fresh scratch version; fills s on success. */
static int execute(mn_ledger *l, const uint8_t *data, body_view *b, scratch *s, mn_err *err)
{
    if (b->time_ms <= l->last_time)
        return mn_err_set(err, MN_EINVAL, 0, "block time %llu not after its parent's %llu",
                          (unsigned long long)b->time_ms, (unsigned long long)l->last_time);
    uint8_t root[32];
    tx_root_of(b->txs, b->ntx, root);
    if (memcmp(root, b->tx_root, 32) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "block tx root does not match its txs");
    exec_init(&s->x, l);
    s->used = true; /* from here scratch_release cleans up */
    int rc = 0;
    for (uint32_t i = 0; i < b->ntx && rc == 0; i++) {
        rc = exec_tx(&s->x, data + b->txs[i].off, b->txs[i].len, b->txs[i].hash, err);
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
        scratch_release(s);
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
        scratch *s = scratch_take(l);
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
    span *txs;
} build_ctx;

static int build_one(void *ctx, const uint8_t *tx, size_t len, const uint8_t hash[32])
{
    build_ctx *b = ctx;
    if (b->count >= b->max_count)
        return 2; /* full */
    if (b->bytes + len + 5 > b->max_bytes)
        return 1; /* this one does not fit: the sender's later ones must wait too */
    mn_err err;
    if (exec_tx(b->x, tx, len, hash, &err) != 0)
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
    scratch *s = scratch_take(l);
    exec_init(&s->x, l);
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
        scratch_release(s);
    }
    return rc;
}

/* ---- validator sets --------------------------------------------------------------------- */

/* Room for one more snapshot. */
static int snap_reserve(mn_ledger *l, mn_err *err)
{
    if (l->nsnaps < l->capsnaps)
        return 0;
    const size_t cap = l->capsnaps == 0 ? 8 : 2 * l->capsnaps;
    snap *n = realloc(l->snaps, cap * sizeof *n);
    if (n == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory");
    l->snaps = n;
    l->capsnaps = cap;
    return 0;
}

static int snap_add(void *ctx, uint64_t height, const uint8_t *enc, size_t len, mn_err *err)
{
    mn_ledger *l = ctx;
    MN_TRY(snap_reserve(l, err));
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "ledger: out of memory");
    memcpy(copy, enc, len);
    if (l->nsnaps > 0 && l->snaps[l->nsnaps - 1].height >= height) {
        free(copy);
        return mn_err_set(err, MN_ECORRUPT, 0, "store: validator snapshots out of order");
    }
    l->snaps[l->nsnaps++] = (snap){.height = height, .enc = copy, .len = len, .vs = NULL};
    return 0;
}

const mn_bft_valset *mn_ledger_valset_at(mn_ledger *l, uint64_t height)
{
    if (height == 0 || height > l->height + MN_STAKE_LOOKBACK || l->nsnaps == 0)
        return NULL;
    const uint64_t after = height > MN_STAKE_LOOKBACK ? height - MN_STAKE_LOOKBACK : 0;
    size_t lo = 0, hi = l->nsnaps; /* the last snapshot with snap.height <= after */
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if (l->snaps[mid].height <= after)
            lo = mid;
        else
            hi = mid;
    }
    snap *s = &l->snaps[lo];
    if (s->height > after)
        return NULL;
    if (s->vs == NULL) {
        mn_bft_valset *vs = malloc(sizeof *vs);
        mn_err err;
        if (vs == NULL || mn__snapshot_to_valset(s->enc, s->len, vs, &err) != 0) {
            free(vs);
            return NULL;
        }
        s->vs = vs;
    }
    return s->vs;
}

const mn_bft_valset *mn_ledger_valset_hook(void *ctx, uint64_t height)
{
    return mn_ledger_valset_at(ctx, height);
}

/* ---- commit ----------------------------------------------------------------------------- */

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
                       const mn_commit_cert *c, const uint8_t *body, size_t len, scratch *s,
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

static void prune_pending(mn_ledger *l)
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
    scratch *s = scratch_find(l, h->height, payload);
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
        const snap *last = &l->snaps[l->nsnaps - 1];
        new_snap = rc == 0 && (snapshot.len != last->len ||
                               memcmp(snapshot.data, last->enc, last->len) != 0);
    }
    /* Room for the snapshot before the database commits: after it nothing may fail. */
    uint8_t *snap_copy = NULL;
    if (rc == 0 && new_snap) {
        rc = snap_reserve(l, err);
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
            (snap){.height = h->height, .enc = snap_copy, .len = snapshot.len, .vs = NULL};
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
        scratch_release(&l->cache[i]);
    prune_pending(l);
    return 0;
}

/* ---- open / close ----------------------------------------------------------------------- */

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
    MN_TRY(mn__store_load_valsets(l->st, snap_add, l, err));
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
        scratch_release(&l->cache[i]);
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
    prune_pending(l);
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
