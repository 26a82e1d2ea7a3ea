/* SPDX-License-Identifier: Apache-2.0
 *
 * state_tree.c: the ledger state as a persistent Merkle treap (see internal.h and
 * docs/ledger.md). Keys are ordered bytewise (a shorter key before its extensions); a node's
 * priority is the first 8 bytes (big-endian) of SHA-256(key), ties broken by key, so the tree
 * shape is a function of the key set. Hashes:
 *     entry = SHA-256(MN_TAG_STATE_ENTRY || u32be(key length) || key || value)
 *     node  = SHA-256(MN_TAG_STATE_NODE || left || entry || right), an empty subtree = 32 zeros
 * and the state root is the root node's hash (32 zeros for an empty state).
 * Allocation failure panics (a node cannot run without its state); nothing here does I/O.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

struct mn__tnode {
    uint32_t refs;
    bool dirty;       /* hash is stale */
    bool entry_dirty; /* entry is stale */
    uint16_t klen;
    uint32_t vlen;
    uint64_t prio;
    mn__tnode *l, *r;
    uint8_t hash[32];
    uint8_t entry[32];
    uint8_t data[]; /* key, then value */
};

uint64_t mn__tree_hash_count;

static mn__tnode *node_alloc(size_t klen, size_t vlen)
{
    mn__tnode *n = malloc(sizeof *n + klen + vlen);
    if (n == NULL)
        mn_panic(__FILE__, __LINE__, "state tree: out of memory");
    return n;
}

static int keycmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    const size_t m = alen < blen ? alen : blen;
    const int c = m == 0 ? 0 : memcmp(a, b, m);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static int ncmp(const uint8_t *key, size_t klen, const mn__tnode *n)
{
    return keycmp(key, klen, n->data, n->klen);
}

/* a belongs above b. */
static bool above(const mn__tnode *a, const mn__tnode *b)
{
    if (a->prio != b->prio)
        return a->prio > b->prio;
    return keycmp(a->data, a->klen, b->data, b->klen) < 0;
}

static void unref(mn__tnode *n)
{
    while (n != NULL) {
        MN_ASSERT(n->refs > 0);
        if (--n->refs > 0)
            return;
        mn__tnode *r = n->r;
        unref(n->l);
        free(n);
        n = r; /* the right spine iteratively */
    }
}

/* Takes an owned reference, returns a node owned by the caller alone with the same content. */
static mn__tnode *own(mn__tnode *n)
{
    if (n->refs == 1)
        return n;
    mn__tnode *c = node_alloc(n->klen, n->vlen);
    memcpy(c, n, sizeof *n + n->klen + n->vlen);
    c->refs = 1;
    if (c->l != NULL)
        c->l->refs++;
    if (c->r != NULL)
        c->r->refs++;
    n->refs--;
    return c;
}

static void split(mn__tnode *t, const uint8_t *key, size_t klen, mn__tnode **l, mn__tnode **r)
{
    if (t == NULL) {
        *l = *r = NULL;
        return;
    }
    t = own(t);
    t->dirty = true;
    if (ncmp(key, klen, t) > 0) {
        split(t->r, key, klen, &t->r, r);
        *l = t;
    } else {
        split(t->l, key, klen, l, &t->l);
        *r = t;
    }
}

static mn__tnode *merge(mn__tnode *a, mn__tnode *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    if (above(a, b)) {
        a = own(a);
        a->dirty = true;
        a->r = merge(a->r, b);
        return a;
    }
    b = own(b);
    b->dirty = true;
    b->l = merge(a, b->l);
    return b;
}

static mn__tnode *insert(mn__tnode *t, mn__tnode *n)
{
    if (t == NULL)
        return n;
    if (above(n, t)) {
        split(t, n->data, n->klen, &n->l, &n->r);
        return n;
    }
    t = own(t);
    t->dirty = true;
    if (ncmp(n->data, n->klen, t) < 0)
        t->l = insert(t->l, n);
    else
        t->r = insert(t->r, n);
    return t;
}

/* key is present in t. */
static mn__tnode *update(mn__tnode *t, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen)
{
    const int c = ncmp(key, klen, t);
    if (c != 0) {
        t = own(t);
        t->dirty = true;
        if (c < 0)
            t->l = update(t->l, key, klen, val, vlen);
        else
            t->r = update(t->r, key, klen, val, vlen);
        return t;
    }
    if (t->refs == 1 && t->vlen == vlen) {
        memcpy(t->data + klen, val, vlen);
    } else {
        mn__tnode *n = node_alloc(klen, vlen);
        memcpy(n, t, sizeof *t + klen);
        n->refs = 1;
        n->vlen = (uint32_t)vlen;
        memcpy(n->data + klen, val, vlen);
        if (t->refs == 1) {
            free(t); /* children move to n */
        } else {
            t->refs--;
            if (n->l != NULL)
                n->l->refs++;
            if (n->r != NULL)
                n->r->refs++;
        }
        t = n;
    }
    t->dirty = t->entry_dirty = true;
    return t;
}

/* key is present in t. */
static mn__tnode *delete(mn__tnode *t, const uint8_t *key, size_t klen)
{
    t = own(t);
    const int c = ncmp(key, klen, t);
    if (c == 0) {
        mn__tnode *m = merge(t->l, t->r);
        free(t);
        return m;
    }
    t->dirty = true;
    if (c < 0)
        t->l = delete(t->l, key, klen);
    else
        t->r = delete(t->r, key, klen);
    return t;
}

void mn__tree_init(mn__tree *t)
{
    t->root = NULL;
}

void mn__tree_deinit(mn__tree *t)
{
    unref(t->root);
    t->root = NULL;
}

void mn__tree_clone(mn__tree *dst, const mn__tree *src)
{
    MN_ASSERT(dst->root == NULL);
    dst->root = src->root;
    if (dst->root != NULL)
        dst->root->refs++;
}

static const mn__tnode *find(const mn__tnode *n, const uint8_t *key, size_t klen)
{
    while (n != NULL) {
        const int c = ncmp(key, klen, n);
        if (c == 0)
            return n;
        n = c < 0 ? n->l : n->r;
    }
    return NULL;
}

const uint8_t *mn__tree_get(const mn__tree *t, const uint8_t *key, size_t klen, size_t *vlen)
{
    const mn__tnode *n = find(t->root, key, klen);
    if (n == NULL)
        return NULL;
    *vlen = n->vlen;
    return n->data + n->klen;
}

int mn__tree_put(mn__tree *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 mn_err *err)
{
    (void)err;
    MN_ASSERT(klen <= MN_STATE_KEY_BYTES_MAX && vlen <= MN_STATE_VALUE_BYTES_MAX);
    if (find(t->root, key, klen) != NULL) {
        t->root = update(t->root, key, klen, val, vlen);
        return 0;
    }
    mn__tnode *n = node_alloc(klen, vlen);
    memset(n, 0, sizeof *n);
    n->refs = 1;
    n->dirty = n->entry_dirty = true;
    n->klen = (uint16_t)klen;
    n->vlen = (uint32_t)vlen;
    memcpy(n->data, key, klen);
    memcpy(n->data + klen, val, vlen);
    uint8_t h[32];
    mn_sha256(h, key, klen);
    n->prio = mn_load_u64_be(h);
    t->root = insert(t->root, n);
    return 0;
}

void mn__tree_del(mn__tree *t, const uint8_t *key, size_t klen)
{
    if (find(t->root, key, klen) != NULL)
        t->root = delete(t->root, key, klen);
}

static void rehash(mn__tnode *n)
{
    if (n == NULL || !n->dirty)
        return;
    rehash(n->l);
    rehash(n->r);
    if (n->entry_dirty) {
        uint8_t len[4];
        mn_store_u32_be(len, n->klen);
        mn_sha256_ctx c;
        mn_sha256_tagged_init(&c, MN_TAG_STATE_ENTRY);
        mn_sha256_update(&c, len, 4);
        mn_sha256_update(&c, n->data, (size_t)n->klen + n->vlen);
        mn_sha256_final(&c, n->entry);
        n->entry_dirty = false;
        mn__tree_hash_count++;
    }
    static const uint8_t zero[32];
    uint8_t buf[96];
    memcpy(buf, n->l != NULL ? n->l->hash : zero, 32);
    memcpy(buf + 32, n->entry, 32);
    memcpy(buf + 64, n->r != NULL ? n->r->hash : zero, 32);
    mn_sha256_tagged(n->hash, MN_TAG_STATE_NODE, buf, sizeof buf);
    n->dirty = false;
    mn__tree_hash_count++;
}

void mn__tree_root(mn__tree *t, uint8_t root[32])
{
    if (t->root == NULL) {
        memset(root, 0, 32);
        return;
    }
    rehash(t->root);
    memcpy(root, t->root->hash, 32);
}

static uint64_t count_nodes(const mn__tnode *n)
{
    return n == NULL ? 0 : 1 + count_nodes(n->l) + count_nodes(n->r);
}

uint64_t mn__tree_count(const mn__tree *t)
{
    return count_nodes(t->root);
}

static int visit(const mn__tnode *n, const uint8_t *prefix, size_t plen, mn__tree_visit_fn fn,
                 void *ctx)
{
    while (n != NULL) {
        const size_t m = n->klen < plen ? n->klen : plen;
        const int c = m == 0 ? 0 : memcmp(n->data, prefix, m);
        if (c < 0 || (c == 0 && n->klen < plen)) { /* key before the prefix range */
            n = n->r;
            continue;
        }
        if (c > 0) { /* key after the range */
            n = n->l;
            continue;
        }
        int rc = visit(n->l, prefix, plen, fn, ctx);
        if (rc != 0)
            return rc;
        rc = fn(ctx, n->data, n->klen, n->data + n->klen, n->vlen);
        if (rc != 0)
            return rc;
        n = n->r;
    }
    return 0;
}

int mn__tree_visit(const mn__tree *t, const uint8_t *prefix, size_t plen, mn__tree_visit_fn fn,
                   void *ctx)
{
    return visit(t->root, prefix, plen, fn, ctx);
}

static int copy_entry(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                      size_t vlen)
{
    return mn__tree_put(ctx, key, klen, val, vlen, NULL);
}

void mn__tree_root_scratch(const mn__tree *t, uint8_t root[32])
{
    mn__tree fresh;
    mn__tree_init(&fresh);
    MN_ASSERT(mn__tree_visit(t, NULL, 0, copy_entry, &fresh) == 0);
    mn__tree_root(&fresh, root);
    mn__tree_deinit(&fresh);
}
