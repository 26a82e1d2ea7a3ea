/* SPDX-License-Identifier: Apache-2.0
 *
 * store.c: the ledger's SQLite database: schema, pragmas (WAL, synchronous=FULL) and one
 * prepared statement per query. It stores and reads rows; it does not know what a valid block
 * or state is (ledger.c decides) and never begins a transaction on its own.
 *
 * Schema (docs/ledger.md): meta(key, value), blocks(height, id, header, cert, body, time_ms,
 * state_root), txs(hash, height, idx, off, len: the tx is that span of its block's body),
 * state(key, value), evidence(hash, height, enc),
 * seeds(height, seed), valsets(height, snapshot), receipts(hash, receipt).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "internal.h"

enum {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_META_PUT, ST_META_GET, ST_BLOCK_PUT, ST_BLOCK_GET,
    ST_BLOCK_LAST, ST_BLOCK_TIME, ST_TX_PUT, ST_TX_GET, ST_STATE_PUT, ST_STATE_DEL,
    ST_STATE_ALL, ST_EVIDENCE_PUT, ST_SEED_PUT, ST_SEED_GET, ST_VALSET_PUT, ST_VALSET_ALL,
    ST_RECEIPT_PUT, ST_RECEIPT_GET, ST_COUNT
};

static const char *const sql_text[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_BLOCK_PUT] = "INSERT INTO blocks(height, id, header, cert, body, time_ms, state_root) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_BLOCK_GET] = "SELECT header, cert, body FROM blocks WHERE height = ?1",
    [ST_BLOCK_LAST] = "SELECT height, id, time_ms, state_root FROM blocks ORDER BY height DESC "
                      "LIMIT 1",
    [ST_BLOCK_TIME] = "SELECT time_ms FROM blocks WHERE height = ?1",
    [ST_TX_PUT] = "INSERT OR REPLACE INTO txs(hash, height, idx, off, len) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TX_GET] = "SELECT substr(b.body, t.off + 1, t.len), t.height, t.idx FROM txs t "
                  "JOIN blocks b ON b.height = t.height WHERE t.hash = ?1",
    [ST_STATE_PUT] = "INSERT OR REPLACE INTO state(key, value) VALUES (?1, ?2)",
    [ST_STATE_DEL] = "DELETE FROM state WHERE key = ?1",
    [ST_STATE_ALL] = "SELECT key, value FROM state",
    [ST_EVIDENCE_PUT] = "INSERT OR REPLACE INTO evidence(hash, height, enc) VALUES (?1, ?2, ?3)",
    [ST_SEED_PUT] = "INSERT OR REPLACE INTO seeds(height, seed) VALUES (?1, ?2)",
    [ST_SEED_GET] = "SELECT seed FROM seeds WHERE height = ?1",
    [ST_VALSET_PUT] = "INSERT OR REPLACE INTO valsets(height, snapshot) VALUES (?1, ?2)",
    [ST_VALSET_ALL] = "SELECT height, snapshot FROM valsets ORDER BY height",
    [ST_RECEIPT_PUT] = "INSERT OR REPLACE INTO receipts(hash, receipt) VALUES (?1, ?2)",
    [ST_RECEIPT_GET] = "SELECT receipt FROM receipts WHERE hash = ?1",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blocks(height INTEGER PRIMARY KEY, id BLOB NOT NULL,"
    " header BLOB NOT NULL, cert BLOB NOT NULL, body BLOB NOT NULL, time_ms INTEGER NOT NULL,"
    " state_root BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS txs(hash BLOB PRIMARY KEY, height INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS state(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS evidence(hash BLOB PRIMARY KEY, height INTEGER NOT NULL,"
    " enc BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS seeds(height INTEGER PRIMARY KEY, seed BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS valsets(height INTEGER PRIMARY KEY, snapshot BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS receipts(hash BLOB PRIMARY KEY, receipt BLOB NOT NULL)"
    " WITHOUT ROWID;";

struct mn__store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

static int db_err(mn__store *s, mn_err *err, const char *what)
{
    return mn_err_set(err, MN_ESYS, 0, "sqlite: %s: %s", what, sqlite3_errmsg(s->db));
}

void mn__store_close(mn__store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    free(s);
}

int mn__store_open(const char *path, mn__store **out, mn_err *err)
{
    mn__store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "store: out of memory");
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        int rc = mn_err_set(err, MN_ESYS, 0, "sqlite: open %s: %s", path,
                            s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
        mn__store_close(s);
        return rc;
    }
    char *msg = NULL;
    if (sqlite3_exec(s->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;",
                     NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = mn_err_set(err, MN_ESYS, 0, "sqlite: %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        mn__store_close(s);
        return rc;
    }
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(s->db, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK) {
            int rc = db_err(s, err, sql_text[i]);
            mn__store_close(s);
            return rc;
        }
    *out = s;
    return 0;
}

/* Runs a statement that returns no rows. */
static int run(mn__store *s, int id, mn_err *err)
{
    sqlite3_stmt *st = s->st[id];
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return db_err(s, err, sql_text[id]);
    return 0;
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    /* SQLITE_STATIC: the caller's bytes outlive the step. Empty blobs are not NULL. */
    sqlite3_bind_blob64(st, i, n == 0 ? (const void *)"" : p, n, SQLITE_STATIC);
}

static int col_blob(sqlite3_stmt *st, int i, mn_buf *out, mn_err *err)
{
    if (out == NULL)
        return 0;
    out->len = 0;
    const void *p = sqlite3_column_blob(st, i);
    const int n = sqlite3_column_bytes(st, i);
    return n > 0 ? mn_buf_append(out, p, (size_t)n, err) : 0;
}

/* Copies exactly n bytes of a column: a stored value of another size is MN_ECORRUPT. */
static int col_fixed(sqlite3_stmt *st, int i, uint8_t *out, size_t n, mn_err *err)
{
    if (sqlite3_column_bytes(st, i) != (int)n)
        return mn_err_set(err, MN_ECORRUPT, 0, "store: a %zu-byte column has %d bytes", n,
                          sqlite3_column_bytes(st, i));
    memcpy(out, sqlite3_column_blob(st, i), n);
    return 0;
}

/* Steps a one-row query: 1 row (leave it for reading; call done() after), 0 none. */
static int step_row(mn__store *s, int id, mn_err *err)
{
    const int rc = sqlite3_step(s->st[id]);
    if (rc == SQLITE_ROW)
        return 1;
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
    if (rc == SQLITE_DONE)
        return 0;
    return db_err(s, err, sql_text[id]);
}

static void done(mn__store *s, int id)
{
    sqlite3_reset(s->st[id]);
    sqlite3_clear_bindings(s->st[id]);
}

int mn__store_begin(mn__store *s, mn_err *err)
{
    return run(s, ST_BEGIN, err);
}

int mn__store_commit(mn__store *s, mn_err *err)
{
    return run(s, ST_COMMIT, err);
}

void mn__store_rollback(mn__store *s)
{
    mn_err err;
    (void)run(s, ST_ROLLBACK, &err);
}

int mn__store_meta_put(mn__store *s, const char *key, const uint8_t *val, size_t len,
                       mn_err *err)
{
    sqlite3_bind_text(s->st[ST_META_PUT], 1, key, -1, SQLITE_STATIC);
    bind_blob(s->st[ST_META_PUT], 2, val, len);
    return run(s, ST_META_PUT, err);
}

int mn__store_meta_get(mn__store *s, const char *key, mn_buf *val, mn_err *err)
{
    sqlite3_bind_text(s->st[ST_META_GET], 1, key, -1, SQLITE_STATIC);
    const int r = step_row(s, ST_META_GET, err);
    if (r <= 0)
        return r < 0 ? r : mn_err_set(err, MN_ENOTFOUND, 0, "meta: no \"%s\"", key);
    const int rc = col_blob(s->st[ST_META_GET], 0, val, err);
    done(s, ST_META_GET);
    return rc;
}

int mn__store_put_block(mn__store *s, uint64_t height, const uint8_t id[32],
                        const uint8_t *header, size_t hlen, const uint8_t *cert, size_t clen,
                        const uint8_t *body, size_t blen, uint64_t time_ms,
                        const uint8_t state_root[32], mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_BLOCK_PUT];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    bind_blob(st, 2, id, 32);
    bind_blob(st, 3, header, hlen);
    bind_blob(st, 4, cert, clen);
    bind_blob(st, 5, body, blen);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)time_ms);
    bind_blob(st, 7, state_root, 32);
    return run(s, ST_BLOCK_PUT, err);
}

int mn__store_get_block(mn__store *s, uint64_t height, mn_buf *header, mn_buf *cert,
                        mn_buf *body, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_BLOCK_GET];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    const int r = step_row(s, ST_BLOCK_GET, err);
    if (r <= 0)
        return r < 0 ? r : mn_err_set(err, MN_ENOTFOUND, 0, "no block at height %llu",
                                      (unsigned long long)height);
    int rc = col_blob(st, 0, header, err);
    if (rc == 0)
        rc = col_blob(st, 1, cert, err);
    if (rc == 0)
        rc = col_blob(st, 2, body, err);
    done(s, ST_BLOCK_GET);
    return rc;
}

int mn__store_last_block(mn__store *s, uint64_t *height, uint8_t id[32], uint64_t *time_ms,
                         uint8_t root[32], mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_BLOCK_LAST];
    *height = 0;
    const int r = step_row(s, ST_BLOCK_LAST, err);
    if (r <= 0)
        return r < 0 ? r : mn_err_set(err, MN_ENOTFOUND, 0, "no block");
    *height = (uint64_t)sqlite3_column_int64(st, 0);
    *time_ms = (uint64_t)sqlite3_column_int64(st, 2);
    int rc = col_fixed(st, 1, id, 32, err);
    if (rc == 0)
        rc = col_fixed(st, 3, root, 32, err);
    done(s, ST_BLOCK_LAST);
    return rc;
}

int mn__store_block_time(mn__store *s, uint64_t height, uint64_t *time_ms, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_BLOCK_TIME];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    const int r = step_row(s, ST_BLOCK_TIME, err);
    if (r <= 0)
        return r < 0 ? r : mn_err_set(err, MN_ENOTFOUND, 0, "no block");
    *time_ms = (uint64_t)sqlite3_column_int64(st, 0);
    done(s, ST_BLOCK_TIME);
    return 0;
}

int mn__store_put_tx(mn__store *s, const uint8_t hash[32], uint32_t off, uint32_t len,
                     uint64_t height, uint32_t index, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_TX_PUT];
    bind_blob(st, 1, hash, 32);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)height);
    sqlite3_bind_int64(st, 3, index);
    sqlite3_bind_int64(st, 4, off);
    sqlite3_bind_int64(st, 5, len);
    return run(s, ST_TX_PUT, err);
}

int mn__store_get_tx(mn__store *s, const uint8_t hash[32], mn_buf *tx, uint64_t *height,
                     uint32_t *index, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_TX_GET];
    bind_blob(st, 1, hash, 32);
    const int r = step_row(s, ST_TX_GET, err);
    if (r <= 0)
        return r < 0 ? r : mn_err_set(err, MN_ENOTFOUND, 0, "no such transaction");
    const int rc = col_blob(st, 0, tx, err);
    if (height != NULL)
        *height = (uint64_t)sqlite3_column_int64(st, 1);
    if (index != NULL)
        *index = (uint32_t)sqlite3_column_int64(st, 2);
    done(s, ST_TX_GET);
    return rc;
}

int mn__store_put_state(mn__store *s, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, mn_err *err)
{
    bind_blob(s->st[ST_STATE_PUT], 1, key, klen);
    bind_blob(s->st[ST_STATE_PUT], 2, val, vlen);
    return run(s, ST_STATE_PUT, err);
}

int mn__store_del_state(mn__store *s, const uint8_t *key, size_t klen, mn_err *err)
{
    bind_blob(s->st[ST_STATE_DEL], 1, key, klen);
    return run(s, ST_STATE_DEL, err);
}

int mn__store_load_state(mn__store *s, mn__tree_visit_fn fn, void *ctx, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_STATE_ALL];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const int klen = sqlite3_column_bytes(st, 0);
        const int vlen = sqlite3_column_bytes(st, 1);
        const uint8_t *key = sqlite3_column_blob(st, 0);
        const uint8_t *val = sqlite3_column_blob(st, 1);
        if (klen <= 0 || (size_t)klen > MN_STATE_KEY_BYTES_MAX ||
            (size_t)vlen > MN_STATE_VALUE_BYTES_MAX ||
            fn(ctx, key, (size_t)klen, val != NULL ? val : (const uint8_t *)"",
               (size_t)vlen) != 0) {
            done(s, ST_STATE_ALL);
            return mn_err_set(err, MN_ECORRUPT, 0, "store: a bad state row");
        }
    }
    done(s, ST_STATE_ALL);
    return rc == SQLITE_DONE ? 0 : db_err(s, err, "load state");
}

int mn__store_put_evidence(mn__store *s, const uint8_t hash[32], uint64_t height,
                           const uint8_t *enc, size_t len, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_EVIDENCE_PUT];
    bind_blob(st, 1, hash, 32);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)height);
    bind_blob(st, 3, enc, len);
    return run(s, ST_EVIDENCE_PUT, err);
}

int mn__store_put_seed(mn__store *s, uint64_t height, const uint8_t seed[32], mn_err *err)
{
    sqlite3_bind_int64(s->st[ST_SEED_PUT], 1, (sqlite3_int64)height);
    bind_blob(s->st[ST_SEED_PUT], 2, seed, 32);
    return run(s, ST_SEED_PUT, err);
}

int mn__store_get_seed(mn__store *s, uint64_t height, uint8_t seed[32], mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_SEED_GET];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)height);
    const int r = step_row(s, ST_SEED_GET, err);
    if (r <= 0)
        return r < 0 ? r : mn_err_set(err, MN_ENOTFOUND, 0, "no seed for height %llu",
                                      (unsigned long long)height);
    const int rc = col_fixed(st, 0, seed, 32, err);
    done(s, ST_SEED_GET);
    return rc;
}

int mn__store_put_valset(mn__store *s, uint64_t height, const uint8_t *snap, size_t len,
                         mn_err *err)
{
    sqlite3_bind_int64(s->st[ST_VALSET_PUT], 1, (sqlite3_int64)height);
    bind_blob(s->st[ST_VALSET_PUT], 2, snap, len);
    return run(s, ST_VALSET_PUT, err);
}

int mn__store_load_valsets(mn__store *s, mn__store_valset_fn fn, void *ctx, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_VALSET_ALL];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const int n = sqlite3_column_bytes(st, 1);
        const uint8_t *p = sqlite3_column_blob(st, 1);
        const int frc = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
                           p != NULL ? p : (const uint8_t *)"", (size_t)(n > 0 ? n : 0), err);
        if (frc != 0) {
            done(s, ST_VALSET_ALL);
            return frc;
        }
    }
    done(s, ST_VALSET_ALL);
    return rc == SQLITE_DONE ? 0 : db_err(s, err, "load validator sets");
}

int mn__store_put_receipt(mn__store *s, const uint8_t hash[32], const uint8_t *r, size_t len,
                          mn_err *err)
{
    bind_blob(s->st[ST_RECEIPT_PUT], 1, hash, 32);
    bind_blob(s->st[ST_RECEIPT_PUT], 2, r, len);
    return run(s, ST_RECEIPT_PUT, err);
}

int mn__store_get_receipt(mn__store *s, const uint8_t hash[32], mn_buf *r, mn_err *err)
{
    sqlite3_stmt *st = s->st[ST_RECEIPT_GET];
    bind_blob(st, 1, hash, 32);
    const int rr = step_row(s, ST_RECEIPT_GET, err);
    if (rr <= 0)
        return rr < 0 ? rr : mn_err_set(err, MN_ENOTFOUND, 0, "no such receipt");
    const int rc = col_blob(st, 0, r, err);
    done(s, ST_RECEIPT_GET);
    return rc;
}
