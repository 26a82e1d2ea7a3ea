/* SPDX-License-Identifier: Apache-2.0
 *
 * mempool.c: pending transactions. Entry checks (cheap first, the signature last): size,
 * strict decode, chain id, known type with a well-formed body, not already pending, nonce not
 * below the sender's committed next nonce nor too far ahead of it, per-sender and pool limits,
 * then the signature (its tx hash goes to the ledger's verified cache, so block checks do not
 * verify it again). Block order: per sender by nonce, senders by the arrival of their oldest
 * pending tx. Not here: state execution (the ledger does it while building).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct mp_sender mp_sender;

typedef struct mp_tx {
    struct mp_tx *prev, *next; /* arrival order */
    mp_sender *sender;
    uint8_t hash[32];
    uint64_t nonce;
    size_t len;
    uint8_t data[];
} mp_tx;

struct mp_sender {
    uint8_t pk[32];
    mp_sender *prev, *next;
    uint32_t count, cap;
    mp_tx **txs; /* sorted by nonce */
    uint64_t visit;
};

struct mn_mempool {
    mn__map32 by_hash, by_sender;
    mp_tx *head, *tail;
    mp_sender *senders;
    mn_mempool_stats stats;
    uint64_t visit;
};

int mn_mempool_new(mn_mempool **out, mn_err *err)
{
    mn_mempool *mp = calloc(1, sizeof *mp);
    if (mp == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "mempool: out of memory");
    mn__map32_init(&mp->by_hash);
    mn__map32_init(&mp->by_sender);
    *out = mp;
    return 0;
}

void mn_mempool_free(mn_mempool *mp)
{
    if (mp == NULL)
        return;
    for (mp_tx *t = mp->head, *n; t != NULL; t = n) {
        n = t->next;
        free(t);
    }
    for (mp_sender *s = mp->senders, *n; s != NULL; s = n) {
        n = s->next;
        free(s->txs);
        free(s);
    }
    mn__map32_deinit(&mp->by_hash);
    mn__map32_deinit(&mp->by_sender);
    free(mp);
}

mn_mempool_stats mn_mempool_get_stats(const mn_mempool *mp)
{
    return mp->stats;
}

static uint32_t find_nonce(const mp_sender *s, uint64_t nonce, bool *found)
{
    uint32_t lo = 0, hi = s->count;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        if (s->txs[mid]->nonce < nonce)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < s->count && s->txs[lo]->nonce == nonce;
    return lo;
}

static int admit(mn_mempool *mp, mn_ledger *l, const uint8_t *data, size_t len,
                 uint8_t hash[32], mn_err *err)
{
    if (len > MN_TX_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "transaction of %zu bytes (max %u)", len,
                          MN_TX_BYTES_MAX);
    mn_tx tx;
    MN_TRY(mn_tx_decode(&tx, data, len, err));
    if (strcmp(tx.chain_id, mn__ledger_genesis(l)->chain_id) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "transaction for chain \"%s\"", tx.chain_id);
    const mn_tx_handler *h = mn__ledger_handler(l, tx.type);
    if (h == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "unknown transaction type %u", tx.type);
    MN_TRY(h->check(&tx, err));
    mn_tx_hash(hash, data, len);
    if (mn__map32_get(&mp->by_hash, hash) != NULL)
        return mn_err_set(err, MN_EEXIST, 0, "transaction already pending");
    const uint64_t next = mn_ledger_next_nonce(l, tx.sender);
    if (tx.nonce < next)
        return mn_err_set(err, MN_EEXIST, 0, "nonce %llu already used (next is %llu)",
                          (unsigned long long)tx.nonce, (unsigned long long)next);
    if (tx.nonce - next >= MN_MEMPOOL_PER_SENDER_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "nonce %llu too far ahead of %llu",
                          (unsigned long long)tx.nonce, (unsigned long long)next);
    mp_sender *s = mn__map32_get(&mp->by_sender, tx.sender);
    bool found = false;
    const uint32_t pos = s != NULL ? find_nonce(s, tx.nonce, &found) : 0;
    if (found)
        return mn_err_set(err, MN_EEXIST, 0, "nonce %llu already pending",
                          (unsigned long long)tx.nonce);
    if (s != NULL && s->count >= MN_MEMPOOL_PER_SENDER_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "sender has %u pending transactions",
                          MN_MEMPOOL_PER_SENDER_MAX);
    if (mp->stats.count >= MN_MEMPOOL_TXS_MAX || mp->stats.bytes + len > MN_MEMPOOL_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "mempool full");
    if (!mn__ledger_verified(l, hash)) {
        MN_TRY(mn_tx_verify(&tx, data, len, err));
        mn__ledger_mark_verified(l, hash);
    }
    /* Insert. */
    mp_tx *t = malloc(sizeof *t + len);
    if (t == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "mempool: out of memory");
    memcpy(t->data, data, len);
    t->len = len;
    t->nonce = tx.nonce;
    memcpy(t->hash, hash, 32);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL || mn__map32_put(&mp->by_sender, tx.sender, s, err) != 0) {
            free(s);
            free(t);
            return mn_err_set(err, MN_ENOMEM, 0, "mempool: out of memory");
        }
        memcpy(s->pk, tx.sender, 32);
        s->next = mp->senders;
        if (mp->senders != NULL)
            mp->senders->prev = s;
        mp->senders = s;
    }
    if (s->count == s->cap) {
        const uint32_t cap = s->cap == 0 ? 4 : 2 * s->cap;
        mp_tx **n = realloc(s->txs, cap * sizeof *n);
        if (n == NULL) {
            free(t);
            return mn_err_set(err, MN_ENOMEM, 0, "mempool: out of memory");
        }
        s->txs = n;
        s->cap = cap;
    }
    if (mn__map32_put(&mp->by_hash, hash, t, err) != 0) {
        free(t);
        return -MN_ENOMEM;
    }
    memmove(s->txs + pos + 1, s->txs + pos, (s->count - pos) * sizeof *s->txs);
    s->txs[pos] = t;
    s->count++;
    t->sender = s;
    t->next = NULL;
    t->prev = mp->tail;
    if (mp->tail != NULL)
        mp->tail->next = t;
    else
        mp->head = t;
    mp->tail = t;
    mp->stats.count++;
    mp->stats.bytes += len;
    return 0;
}

int mn_mempool_add(mn_mempool *mp, mn_ledger *l, const uint8_t *tx, size_t len,
                   uint8_t hash[32], mn_err *err)
{
    uint8_t h[32];
    const int rc = admit(mp, l, tx, len, hash != NULL ? hash : h, err);
    if (rc == 0)
        mp->stats.added++;
    else
        mp->stats.rejected++;
    return rc;
}

void mn__mempool_iterate(mn_mempool *mp, mn__mempool_fn fn, void *ctx)
{
    const uint64_t visit = ++mp->visit;
    for (mp_tx *t = mp->head; t != NULL; t = t->next) {
        mp_sender *s = t->sender;
        if (s->visit == visit)
            continue;
        s->visit = visit;
        for (uint32_t i = 0; i < s->count; i++) {
            const mp_tx *x = s->txs[i];
            const int r = fn(ctx, x->data, x->len, x->hash);
            if (r == 1)
                break;
            if (r == 2)
                return;
        }
    }
}

static void remove_tx(mn_mempool *mp, mp_tx *t)
{
    mp_sender *s = t->sender;
    bool found;
    const uint32_t pos = find_nonce(s, t->nonce, &found);
    MN_ASSERT(found && s->txs[pos] == t);
    memmove(s->txs + pos, s->txs + pos + 1, (s->count - pos - 1) * sizeof *s->txs);
    s->count--;
    if (s->count == 0) {
        mn__map32_del(&mp->by_sender, s->pk);
        if (s->prev != NULL)
            s->prev->next = s->next;
        else
            mp->senders = s->next;
        if (s->next != NULL)
            s->next->prev = s->prev;
        free(s->txs);
        free(s);
    }
    mn__map32_del(&mp->by_hash, t->hash);
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        mp->head = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        mp->tail = t->prev;
    mp->stats.count--;
    mp->stats.bytes -= t->len;
    free(t);
}

void mn_mempool_update(mn_mempool *mp, mn_ledger *l)
{
    for (mp_tx *t = mp->head, *n; t != NULL; t = n) {
        n = t->next;
        if (t->nonce < mn_ledger_next_nonce(l, t->sender->pk)) {
            remove_tx(mp, t);
            mp->stats.evicted_committed++;
        }
    }
}
