/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_ledger.c: the ledger's costs against one Ed25519 verification measured in the same
 * run: tx decode, tx decode + verify, mempool admission, and a whole 5,000-tx block of notes
 * (about 250 bytes each, 5,000 distinct senders): build on the proposer (from its mempool),
 * check and commit on a second ledger (its mempool admitted the same txs, so no signature is
 * verified again, as on a real node), commit on the proposer. Also the state tree's hashes and
 * time per block of 5,000 changes on states of 10^4..10^6 entries: O(changes x log n).
 * Databases live in $TMPDIR (default /tmp). Run: build/release/bench/bench_ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/ledger.h"
#include "metanode/tags.h"
#include "metanode/vrf.h"

#define TXS 5000u
#define BLOCKS 4u
#define NOTE_BYTES 120u

static mn_genesis G;
static mn_keypair VAL;
static uint8_t VRF_SK[64];

static void die(const char *what, const mn_err *err)
{
    fprintf(stderr, "bench_ledger: %s: %s\n", what, err->msg);
    exit(1);
}

static void sign_note(const mn_keypair *k, uint64_t nonce, mn_buf *out)
{
    uint8_t note[NOTE_BYTES];
    memset(note, 'x', sizeof note);
    mn_store_u64_be(note, nonce);
    uint8_t body[NOTE_BYTES + 3];
    body[0] = 0x58;
    body[1] = NOTE_BYTES;
    memcpy(body + 2, note, NOTE_BYTES);
    mn_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = MN_TX_NOTE;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", G.chain_id);
    tx.nonce = nonce;
    tx.body = body;
    tx.body_len = NOTE_BYTES + 2;
    mn_err err;
    out->len = 0;
    if (mn_tx_sign_encode(&tx, k, out, &err) != 0)
        die("sign", &err);
}

/* ---- per-op cases ---- */

typedef struct one_tx {
    mn_buf enc;
    uint8_t sb[512];
    size_t sb_len;
    mn_tx tx;
} one_tx;

static void case_verify(void *ctx)
{
    one_tx *t = ctx;
    if (mn_verify(t->tx.signature, MN_TAG_TRANSACTION, t->sb, t->sb_len, t->tx.sender) != 0)
        abort();
}

static void case_decode(void *ctx)
{
    one_tx *t = ctx;
    mn_tx tx;
    mn_err err;
    if (mn_tx_decode(&tx, t->enc.data, t->enc.len, &err) != 0)
        abort();
}

static void case_decode_verify(void *ctx)
{
    one_tx *t = ctx;
    mn_tx tx;
    mn_err err;
    if (mn_tx_decode(&tx, t->enc.data, t->enc.len, &err) != 0 ||
        mn_tx_verify(&tx, t->enc.data, t->enc.len, &err) != 0)
        abort();
}

static void header_for(mn_ledger *l, const uint8_t *body, size_t len, mn_block_header *h)
{
    mn_bft_chain chain;
    mn_ledger_chain(l, &chain);
    memset(h, 0, sizeof *h);
    h->height = chain.height;
    memcpy(h->parent, chain.parent, 32);
    mn_node_id(h->proposer, VAL.pk);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, chain.seed, chain.height);
    if (mn_vrf_prove(h->vrf_proof, VRF_SK, alpha, sizeof alpha, MN_VRF_SUITE_TAI) != 0)
        abort();
    mn_ledger_body_hash(body, len, h->payload);
}

static uint64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ms10(uint64_t ns) /* tenths of a millisecond */
{
    return ns / 100000u;
}

int main(void)
{
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        die("crypto", &err);
    memset(&G, 0, sizeof G);
    snprintf(G.chain_id, sizeof G.chain_id, "bench");
    G.genesis_time_ms = 1;
    G.validator_count = 1;
    uint8_t seed[32] = {1};
    mn_keypair_from_seed(&VAL, seed);
    memcpy(G.validators[0].pk, VAL.pk, 32);
    if (mn_vrf_keypair_from_seed(G.validators[0].vrf_pk, VRF_SK, seed) != 0)
        abort();
    G.validators[0].stake = 1;

    /* ---- per-op ---- */
    one_tx t;
    mn_buf_init(&t.enc, 0);
    sign_note(&VAL, 1, &t.enc);
    if (mn_tx_decode(&t.tx, t.enc.data, t.enc.len, &err) != 0)
        die("decode", &err);
    t.sb[0] = 0xa5;
    t.sb_len = t.enc.len - 67;
    memcpy(t.sb + 1, t.enc.data + 1, t.sb_len - 1);
    bench_case cases[] = {
        {"ed25519", "verify (baseline)", case_verify, &t, 0, 0},
        {"tx", "decode", case_decode, &t, 0, 0},
        {"tx", "decode+verify", case_decode_verify, &t, 0, 0},
    };
    bench_measure_all(cases, MN_ARRAY_LEN(cases));
    const uint64_t base = cases[0].ps_per_op;
    char b1[32], b2[32];
    printf("tx of %zu bytes\n", t.enc.len);
    for (size_t i = 0; i < MN_ARRAY_LEN(cases); i++)
        printf("%-8s %-20s %10s ns/op  %8llu op/s  x%s of a verify\n", cases[i].section,
               cases[i].name, bench_fmt_ns(b1, cases[i].ps_per_op),
               (unsigned long long)bench_ops_per_s(cases[i].ps_per_op),
               bench_fmt_ratio(b2, cases[i].ps_per_op, base));

    /* ---- blocks ---- */
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char dir[256], pa[300], pb[300];
    snprintf(dir, sizeof dir, "%s/bench_ledger_XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(pa, sizeof pa, "%s/a.db", dir);
    snprintf(pb, sizeof pb, "%s/b.db", dir);
    mn_ledger *a, *b;
    if (mn_ledger_open(pa, &G, &a, &err) != 0 || mn_ledger_open(pb, &G, &b, &err) != 0)
        die("open", &err);
    mn_keypair *senders = malloc(TXS * sizeof *senders);
    mn_buf *txs = calloc(TXS, sizeof *txs);
    if (senders == NULL || txs == NULL)
        return 1;
    for (uint32_t i = 0; i < TXS; i++) {
        uint8_t s[32] = {0};
        mn_store_u32_be(s, i + 7);
        mn_keypair_from_seed(&senders[i], s);
        mn_buf_init(&txs[i], 0);
    }
    uint64_t add_ns = 0, build_ns = 0, check_ns = 0, commit_b_ns = 0, commit_a_ns = 0;
    uint64_t cpu_add = 0, cpu_build = 0, cpu_check = 0, cpu_cb = 0, cpu_ca = 0, c0;
    uint64_t best_build = UINT64_MAX, best_check = UINT64_MAX, best_cb = UINT64_MAX,
             best_ca = UINT64_MAX;
    size_t body_len = 0;
    for (uint32_t blk = 1; blk <= BLOCKS; blk++) {
        for (uint32_t i = 0; i < TXS; i++)
            sign_note(&senders[i], blk, &txs[i]);
        mn_mempool *ma, *mb;
        if (mn_mempool_new(&ma, &err) != 0 || mn_mempool_new(&mb, &err) != 0)
            die("mempool", &err);
        c0 = cpu_now_ns();
        uint64_t t0 = bench_now_ns();
        for (uint32_t i = 0; i < TXS; i++)
            if (mn_mempool_add(ma, a, txs[i].data, txs[i].len, NULL, &err) != 0)
                die("mempool add", &err);
        add_ns += bench_now_ns() - t0;
        cpu_add += cpu_now_ns() - c0;
        for (uint32_t i = 0; i < TXS; i++)
            if (mn_mempool_add(mb, b, txs[i].data, txs[i].len, NULL, &err) != 0)
                die("mempool add", &err);
        mn_buf body;
        mn_buf_init(&body, 0);
        uint8_t payload[32];
        c0 = cpu_now_ns();
        t0 = bench_now_ns();
        if (mn_ledger_build_block(a, ma, 1000 + blk, &body, payload, &err) != 0)
            die("build", &err);
        uint64_t d = bench_now_ns() - t0;
        cpu_build += cpu_now_ns() - c0;
        build_ns += d;
        best_build = d < best_build ? d : best_build;
        body_len = body.len;
        mn_block_header h;
        header_for(a, body.data, body.len, &h);
        c0 = cpu_now_ns();
        t0 = bench_now_ns();
        if (mn_ledger_check_block(b, &h, body.data, body.len, &err) != 0)
            die("check", &err);
        d = bench_now_ns() - t0;
        cpu_check += cpu_now_ns() - c0;
        check_ns += d;
        best_check = d < best_check ? d : best_check;
        c0 = cpu_now_ns();
        t0 = bench_now_ns();
        if (mn_ledger_commit_block(b, &h, NULL, body.data, body.len, &err) != 0)
            die("commit b", &err);
        d = bench_now_ns() - t0;
        cpu_cb += cpu_now_ns() - c0;
        commit_b_ns += d;
        best_cb = d < best_cb ? d : best_cb;
        c0 = cpu_now_ns();
        t0 = bench_now_ns();
        if (mn_ledger_commit_block(a, &h, NULL, body.data, body.len, &err) != 0)
            die("commit a", &err);
        d = bench_now_ns() - t0;
        cpu_ca += cpu_now_ns() - c0;
        commit_a_ns += d;
        best_ca = d < best_ca ? d : best_ca;
        mn_mempool_update(ma, a);
        mn_mempool_update(mb, b);
        if (mn_mempool_get_stats(ma).count != 0)
            die("mempool not emptied", &err);
        mn_buf_deinit(&body);
        mn_mempool_free(ma);
        mn_mempool_free(mb);
    }
    uint8_t ra[32], rb[32];
    mn_ledger_state_root(a, ra);
    mn_ledger_state_root(b, rb);
    if (memcmp(ra, rb, 32) != 0 || mn_ledger_height(a) != BLOCKS)
        die("roots differ", &err);
    const uint64_t verify_ns = base / 1000u;
    const uint64_t block_verify_ns = verify_ns * TXS;
    printf("\nblock of %u note txs (%zu-byte body), %u blocks, in ms: wall mean (best), "
           "thread CPU mean\n", TXS, body_len, BLOCKS);
    const struct {
        const char *name;
        uint64_t mean, best, cpu;
    } rows[] = {
        {"mempool add x5000 (verifies)", add_ns / BLOCKS, add_ns / BLOCKS, cpu_add / BLOCKS},
        {"build (proposer)", build_ns / BLOCKS, best_build, cpu_build / BLOCKS},
        {"check (other node)", check_ns / BLOCKS, best_check, cpu_check / BLOCKS},
        {"commit after check", commit_b_ns / BLOCKS, best_cb, cpu_cb / BLOCKS},
        {"commit after build", commit_a_ns / BLOCKS, best_ca, cpu_ca / BLOCKS},
    };
    for (size_t i = 0; i < MN_ARRAY_LEN(rows); i++) {
        printf("  %-30s %6llu.%llu (%llu.%llu)  cpu %llu.%llu   x%s of 5,000 verifies\n",
               rows[i].name, (unsigned long long)(ms10(rows[i].mean) / 10),
               (unsigned long long)(ms10(rows[i].mean) % 10),
               (unsigned long long)(ms10(rows[i].best) / 10),
               (unsigned long long)(ms10(rows[i].best) % 10),
               (unsigned long long)(ms10(rows[i].cpu) / 10),
               (unsigned long long)(ms10(rows[i].cpu) % 10),
               bench_fmt_ratio(b1, rows[i].mean, block_verify_ns));
    }
    printf("  (5,000 Ed25519 verifies: %llu.%llu ms)\n",
           (unsigned long long)(ms10(block_verify_ns) / 10),
           (unsigned long long)(ms10(block_verify_ns) % 10));
    mn_ledger_close(a);
    mn_ledger_close(b);

    /* ---- state tree: hashes per block of 5,000 changes on a state of n entries ---- */
    printf("\nstate tree: one block of %u value changes on n entries\n", TXS);
    const uint32_t sizes[] = {10000, 100000, 1000000};
    for (size_t s = 0; s < MN_ARRAY_LEN(sizes); s++) {
        mn__tree tr, v;
        mn__tree_init(&tr);
        mn__tree_init(&v);
        uint8_t key[34] = {'a', '/'};
        uint8_t val[11] = {0xa1, 0x01, 0x01};
        for (uint32_t i = 0; i < sizes[s]; i++) {
            mn_sha256(key + 2, &i, sizeof i);
            (void)mn__tree_put(&tr, key, sizeof key, val, 3, &err);
        }
        uint8_t root[32];
        mn__tree_root(&tr, root);
        mn__tree_clone(&v, &tr);
        const uint64_t h0 = mn__tree_hash_count;
        const uint64_t t0 = bench_now_ns();
        for (uint32_t i = 0; i < TXS; i++) {
            uint32_t k = (uint32_t)((uint64_t)i * 2654435761u % sizes[s]);
            mn_sha256(key + 2, &k, sizeof k);
            val[2] = 0x02;
            (void)mn__tree_put(&v, key, sizeof key, val, 3, &err);
        }
        mn__tree_root(&v, root);
        const uint64_t d = bench_now_ns() - t0;
        const uint64_t hashes = mn__tree_hash_count - h0;
        printf("  n = %7u: %7llu hashes (%llu.%02llu per change), %llu.%llu ms\n", sizes[s],
               (unsigned long long)hashes, (unsigned long long)(hashes / TXS),
               (unsigned long long)(hashes * 100 / TXS % 100),
               (unsigned long long)(ms10(d) / 10), (unsigned long long)(ms10(d) % 10));
        mn__tree_deinit(&v);
        mn__tree_deinit(&tr);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    for (uint32_t i = 0; i < TXS; i++)
        mn_buf_deinit(&txs[i]);
    free(txs);
    free(senders);
    mn_buf_deinit(&t.enc);
    return 0;
}
