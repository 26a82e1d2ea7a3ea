/* SPDX-License-Identifier: Apache-2.0
 *
 * internal.h: what the files of src/ledger share and nobody else sees: the persistent state
 * tree, the 32-byte-key hash map, the execution context of handlers and the store.
 */
#ifndef METANODE_LEDGER_INTERNAL_H
#define METANODE_LEDGER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/ledger.h"

/* ---- the state tree (state_tree.c) --------------------------------------------------------
 * A treap keyed by the entry key whose priority is derived from SHA-256 of the key, so its
 * shape depends only on the set of keys (never on history), persistent by path copying with
 * reference-counted nodes: a version is a root pointer; changing a version that shares nodes
 * copies the path, changing nodes owned by one version alone edits them in place. Each node
 * caches the hash of its subtree; a change marks its path dirty and mn__tree_root rehashes
 * only dirty nodes: O(changes x log n) hashes per block. */
typedef struct mn__tnode mn__tnode;

typedef struct mn__tree {
    mn__tnode *root; /* owned reference (NULL: empty) */
} mn__tree;

/* Node and entry hashes computed by this thread, for tests and benches. */
extern _Thread_local uint64_t mn__tree_hash_count;

void mn__tree_init(mn__tree *t);
void mn__tree_deinit(mn__tree *t);
/* dst becomes another version sharing src's nodes (dst must be empty). */
void mn__tree_clone(mn__tree *dst, const mn__tree *src);
/* NULL when absent; else the value (valid until the next change of this version). */
const uint8_t *mn__tree_get(const mn__tree *t, const uint8_t *key, size_t klen, size_t *vlen);
/* MN_ENOMEM only. */
int mn__tree_put(mn__tree *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                 mn_err *err);
/* Absent keys are fine. */
void mn__tree_del(mn__tree *t, const uint8_t *key, size_t klen);
void mn__tree_root(mn__tree *t, uint8_t root[32]);
uint64_t mn__tree_count(const mn__tree *t);
/* Visits the entries whose key starts with prefix, in key order; stops when fn returns != 0
 * and returns that. */
typedef int (*mn__tree_visit_fn)(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val,
                                 size_t vlen);
int mn__tree_visit(const mn__tree *t, const uint8_t *prefix, size_t plen, mn__tree_visit_fn fn,
                   void *ctx);
/* The root of the sorted entries computed from scratch (tests: must equal mn__tree_root). */
void mn__tree_root_scratch(const mn__tree *t, uint8_t root[32]);

/* ---- a hash map from 32-byte keys (already uniformly distributed) to pointers (map32.c) -- */
typedef struct mn__map32 {
    struct mn__map32_slot *slots;
    size_t cap, count;
} mn__map32;

void mn__map32_init(mn__map32 *m);
void mn__map32_deinit(mn__map32 *m);
void *mn__map32_get(const mn__map32 *m, const uint8_t key[32]);
/* The key bytes are copied. Replaces an existing value. MN_ENOMEM. */
int mn__map32_put(mn__map32 *m, const uint8_t key[32], void *val, mn_err *err);
void *mn__map32_del(mn__map32 *m, const uint8_t key[32]);
void mn__map32_clear(mn__map32 *m);

/* ---- the SQLite store (store.c) ----------------------------------------------------------
 * All functions return 0 or -MN_ESYS (SQLite failed, message says why) / -MN_ENOTFOUND. */
typedef struct mn__store mn__store;

int mn__store_open(const char *path, mn__store **out, mn_err *err);
void mn__store_close(mn__store *s);
int mn__store_begin(mn__store *s, mn_err *err);
int mn__store_commit(mn__store *s, mn_err *err);
void mn__store_rollback(mn__store *s);
int mn__store_meta_put(mn__store *s, const char *key, const uint8_t *val, size_t len,
                       mn_err *err);
int mn__store_meta_get(mn__store *s, const char *key, mn_buf *val, mn_err *err);
int mn__store_put_block(mn__store *s, uint64_t height, const uint8_t id[32],
                        const uint8_t *header, size_t hlen, const uint8_t *cert, size_t clen,
                        const uint8_t *body, size_t blen, uint64_t time_ms,
                        const uint8_t state_root[32], mn_err *err);
int mn__store_get_block(mn__store *s, uint64_t height, mn_buf *header, mn_buf *cert,
                        mn_buf *body, mn_err *err);
/* The last block: height (0 and MN_ENOTFOUND when none), id, time, state root. */
int mn__store_last_block(mn__store *s, uint64_t *height, uint8_t id[32], uint64_t *time_ms,
                         uint8_t root[32], mn_err *err);
int mn__store_block_time(mn__store *s, uint64_t height, uint64_t *time_ms, mn_err *err);
/* A tx is stored as its span (offset, length) in its block's body. */
int mn__store_put_tx(mn__store *s, const uint8_t hash[32], uint32_t off, uint32_t len,
                     uint64_t height, uint32_t index, mn_err *err);
int mn__store_get_tx(mn__store *s, const uint8_t hash[32], mn_buf *tx, uint64_t *height,
                     uint32_t *index, mn_err *err);
int mn__store_put_state(mn__store *s, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, mn_err *err);
int mn__store_del_state(mn__store *s, const uint8_t *key, size_t klen, mn_err *err);
/* Calls fn for every state row (any order); fn's non-zero return aborts with MN_ECORRUPT. */
int mn__store_load_state(mn__store *s, mn__tree_visit_fn fn, void *ctx, mn_err *err);
int mn__store_put_evidence(mn__store *s, const uint8_t hash[32], uint64_t height,
                           const uint8_t *enc, size_t len, mn_err *err);
int mn__store_put_seed(mn__store *s, uint64_t height, const uint8_t seed[32], mn_err *err);
int mn__store_get_seed(mn__store *s, uint64_t height, uint8_t seed[32], mn_err *err);
int mn__store_put_valset(mn__store *s, uint64_t height, const uint8_t *snap, size_t len,
                         mn_err *err);
/* Calls fn(ctx, height, snapshot, len) in height order. */
typedef int (*mn__store_valset_fn)(void *ctx, uint64_t height, const uint8_t *snap, size_t len,
                                   mn_err *err);
int mn__store_load_valsets(mn__store *s, mn__store_valset_fn fn, void *ctx, mn_err *err);
int mn__store_put_receipt(mn__store *s, const uint8_t hash[32], const uint8_t *r, size_t len,
                          mn_err *err);
int mn__store_get_receipt(mn__store *s, const uint8_t hash[32], mn_buf *r, mn_err *err);

/* ---- execution ------------------------------------------------------------------------- */

/* State keys: one-letter prefix and '/', then binary. */
#define MN_LEDGER_KEY_ACCOUNT 'a'  /* a/ || sender pk     -> {1: last nonce} */
#define MN_LEDGER_KEY_VALIDATOR 'v' /* v/ || validator pk -> {1: vrf pk, 2: stake, 3: noise pk} */
#define MN_LEDGER_KEY_NODE 'n'      /* n/ || sender pk     -> the registration body */
#define MN_LEDGER_KEY_EVIDENCE 'e'  /* e/ || offender id || u64be height -> {1: evidence hash} */
#define MN_LEDGER_KEY_TOMBSTONE 't' /* t/ || validator pk -> {1: slashed at height} */

/* The value of a validator record {1: vrf pk, 2: stake, 3: noise pk} into out (appended);
 * the one encoder for genesis and the bond/unbond/slash handlers. */
int mn__ledger_vrec_encode(const uint8_t vrf_pk[32], uint64_t stake, const uint8_t noise_pk[32],
                           mn_buf *out, mn_err *err);

/* Verified-signature cache (two generations, bounded). */
bool mn__ledger_verified(mn_ledger *l, const uint8_t hash[32]);
void mn__ledger_mark_verified(mn_ledger *l, const uint8_t hash[32]);
const mn_genesis *mn__ledger_genesis(const mn_ledger *l);
/* The handler of a type, or NULL. */
const mn_tx_handler *mn__ledger_handler(const mn_ledger *l, uint32_t type);
/* Iteration over the mempool in block order: per sender by nonce, senders by the arrival of
 * their first pending tx. fn returns 0 (next), 1 (skip the rest of this sender), 2 (stop). */
typedef int (*mn__mempool_fn)(void *ctx, const uint8_t *tx, size_t len, const uint8_t hash[32]);
void mn__mempool_iterate(mn_mempool *mp, mn__mempool_fn fn, void *ctx);
/* The committed tree (read-only for the mempool). */
const mn__tree *mn__ledger_tree(const mn_ledger *l);
uint64_t mn__next_nonce_in(const mn__tree *t, const uint8_t sender[32]);

/* Stake snapshot of a tree: the validators with stake > 0 in pk order, encoded as CBOR
 * [[pk, vrf pk, stake], ...] (appended to out). */
int mn__snapshot_encode(const mn__tree *t, mn_buf *out, mn_err *err);
int mn__snapshot_to_valset(const uint8_t *data, size_t len, mn_bft_valset *vs, mn_err *err);

struct mn_ledger_exec {
    mn_ledger *l;
    mn__tree tree;       /* the scratch version (owned) */
    uint64_t height;     /* of the block being executed */
    mn_buf touched;      /* keys written: (u16 length, key)... for the store's write-back */
    bool stake_changed;  /* a validator record was written */
};

/* Checks and applies one piece of evidence (from a tx or a block body): both messages signed
 * by one member of the set of their height, conflicting, not punished before; slashes the
 * offender's whole stake and tombstones its key. Writes nothing on failure. */
int mn__evidence_apply(mn_ledger_exec *x, const mn_evidence *e, mn_err *err);
void mn__evidence_hash(const mn_evidence *e, uint8_t hash[32]);

/* Built-in handlers (handlers.c). */
void mn__ledger_register_builtin(mn_ledger *l);

/* ---- the ledger object (ledger.c, exec.c, block.c, valset.c) ------------------------------ */

/* A span of the body: a tx or an evidence encoding, with its hash. */
typedef struct mn__span {
    uint8_t hash[32];
    uint32_t off, len;
} mn__span;

/* The cached result of executing one block body. */
typedef struct mn__scratch {
    bool used;
    uint64_t height;
    uint8_t payload[32];
    uint64_t time_ms;
    uint8_t state_root[32];
    mn_ledger_exec x;  /* the resulting state version and the keys it wrote */
    uint32_t ntx, nev;
    mn__span *txs, *evs; /* malloc'd */
} mn__scratch;

typedef struct mn__snap {
    uint64_t height; /* the snapshot after this block (0: genesis) */
    uint8_t *enc;
    size_t len;
    mn_bft_valset *vs; /* built on first use */
} mn__snap;

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
    mn__snap *snaps;
    size_t nsnaps, capsnaps;
    mn__scratch cache[MN_LEDGER_SCRATCH_CACHE];
    uint32_t cache_next;
    mn__map32 verified[2]; /* [0] current generation, [1] previous */
    mn_evidence *pending;  /* MN_EVIDENCE_PENDING_MAX */
    uint32_t npending;
};

/* exec.c */
void mn__exec_init(mn_ledger_exec *x, mn_ledger *l);
void mn__exec_deinit(mn_ledger_exec *x);
/* Decodes, checks and applies one tx encoding on x. */
int mn__exec_tx(mn_ledger_exec *x, const uint8_t *data, size_t len, const uint8_t hash[32],
                mn_err *err);
/* block.c */
void mn__scratch_release(mn__scratch *s);
/* Drops pending evidence that the committed state has punished. */
void mn__prune_pending(mn_ledger *l);
/* valset.c: room for one more snapshot; appending one (heights strictly increasing). */
int mn__snap_reserve(mn_ledger *l, mn_err *err);
int mn__snap_add(void *ctx, uint64_t height, const uint8_t *enc, size_t len, mn_err *err);

#endif
