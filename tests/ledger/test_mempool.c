/* SPDX-License-Identifier: Apache-2.0
 *
 * test_mempool.c: the mempool's entry checks (bad encoding, bad signature, duplicates, reused
 * and far-ahead nonces, oversize bodies, per-sender and pool limits), block order (per sender
 * by nonce whatever the arrival order, senders by arrival) and eviction of committed and stale
 * transactions.
 */
#include "fixture.h"

static fx F;

static void test_entry_checks(void)
{
    mn_err err;
    mn_ledger *l;
    ASSERT_OK(mn_ledger_open(fx_path(&F, "mp1.db"), &F.g, &l, &err), &err);
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_buf tx;
    mn_buf_init(&tx, 0);
    fx_note(&F, &F.val[0], 1, 20, &tx);
    uint8_t hash[32], want[32];
    ASSERT_OK(mn_mempool_add(mp, l, tx.data, tx.len, hash, &err), &err);
    mn_tx_hash(want, tx.data, tx.len);
    ASSERT_MEM_EQ(hash, want, 32);
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_EEXIST);
    /* same nonce, other content */
    fx_note(&F, &F.val[0], 1, 21, &tx);
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_EEXIST);
    /* bad signature */
    fx_note(&F, &F.val[0], 2, 20, &tx);
    tx.data[tx.len - 1] ^= 1;
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ECRYPTO);
    /* bad encoding */
    tx.data[0] = 0xa5;
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ECORRUPT);
    /* nonce far ahead */
    fx_note(&F, &F.val[0], 1 + MN_MEMPOOL_PER_SENDER_MAX, 20, &tx);
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ELIMIT);
    /* note over its limit (the tx itself is within MN_TX_BYTES_MAX) */
    fx_note(&F, &F.val[0], 2, MN_TX_NOTE_BYTES_MAX, &tx);
    ASSERT_OK(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), &err);
    {
        uint8_t note[MN_TX_NOTE_BYTES_MAX + 1];
        memset(note, 1, sizeof note);
        mn_buf body;
        mn_buf_init(&body, 0);
        mn_cbor_enc e;
        mn_cbor_enc_init(&e, &body);
        mn_cbor_put_bytes(&e, note, sizeof note);
        ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
        fx_tx(&F, &F.val[0], MN_TX_NOTE, 3, body.data, body.len, &tx);
        ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ELIMIT);
        /* unknown type */
        fx_tx(&F, &F.val[0], 60, 3, body.data, body.len, &tx);
        ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_EINVAL);
        mn_buf_deinit(&body);
    }
    mn_mempool_stats st = mn_mempool_get_stats(mp);
    ASSERT_EQ(st.count, 2);
    ASSERT_U64_EQ(st.added, 2);
    ASSERT_U64_EQ(st.rejected, 7);
    mn_buf_deinit(&tx);
    mn_mempool_free(mp);
    mn_ledger_close(l);
}

static void test_limits(void)
{
    mn_err err;
    mn_ledger *l;
    ASSERT_OK(mn_ledger_open(fx_path(&F, "mp2.db"), &F.g, &l, &err), &err);
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_buf tx;
    mn_buf_init(&tx, 0);
    const uint32_t senders = MN_MEMPOOL_TXS_MAX / MN_MEMPOOL_PER_SENDER_MAX;
    for (uint32_t s = 0; s < senders; s++) {
        mn_keypair k;
        fx_key(&k, 100 + s);
        for (uint64_t n = 1; n <= MN_MEMPOOL_PER_SENDER_MAX; n++) {
            fx_note(&F, &k, n, 8, &tx);
            ASSERT_OK(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), &err);
        }
        if (s == 0) { /* the per-sender limit: a nonce in range but one too many */
            fx_note(&F, &k, MN_MEMPOOL_PER_SENDER_MAX + 1, 8, &tx);
            ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ELIMIT);
        }
    }
    ASSERT_EQ(mn_mempool_get_stats(mp).count, MN_MEMPOOL_TXS_MAX);
    fx_note(&F, &F.val[0], 1, 8, &tx);
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ELIMIT);
    /* a full block takes the default number of txs and leaves the rest */
    fx_build_commit(&F, l, mp, 5000, NULL);
    ASSERT_EQ(mn_mempool_get_stats(mp).count, MN_MEMPOOL_TXS_MAX - MN_BLOCK_TXS_DEFAULT);
    ASSERT_OK(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), &err);
    mn_buf_deinit(&tx);
    mn_mempool_free(mp);
    mn_ledger_close(l);
}

static void test_order_and_eviction(void)
{
    mn_err err;
    mn_ledger *a, *b;
    ASSERT_OK(mn_ledger_open(fx_path(&F, "mp3a.db"), &F.g, &a, &err), &err);
    ASSERT_OK(mn_ledger_open(fx_path(&F, "mp3b.db"), &F.g, &b, &err), &err);
    mn_mempool *mp, *other;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    ASSERT_OK(mn_mempool_new(&other, &err), &err);
    mn_buf tx, body;
    mn_buf_init(&tx, 0);
    mn_buf_init(&body, 0);
    /* arrival: v1 n2, v0 n1, v1 n1, v0 n3 (gap: n2 missing) */
    fx_note(&F, &F.val[1], 2, 8, &tx);
    ASSERT_OK(mn_mempool_add(mp, a, tx.data, tx.len, NULL, &err), &err);
    fx_note(&F, &F.val[0], 1, 8, &tx);
    ASSERT_OK(mn_mempool_add(mp, a, tx.data, tx.len, NULL, &err), &err);
    fx_note(&F, &F.val[1], 1, 8, &tx);
    ASSERT_OK(mn_mempool_add(mp, a, tx.data, tx.len, NULL, &err), &err);
    fx_note(&F, &F.val[0], 3, 8, &tx);
    ASSERT_OK(mn_mempool_add(mp, a, tx.data, tx.len, NULL, &err), &err);
    uint8_t payload[32];
    ASSERT_OK(mn_ledger_build_block(a, mp, 5000, &body, payload, &err), &err);
    /* expect [v1 n1, v1 n2, v0 n1]: v1 arrived first; v0's n3 waits for n2 */
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, body.data, body.len);
    uint64_t n, u;
    uint8_t r[32];
    ASSERT_OK(mn_cbor_want_map(&d, 5, "b", &err), &err);
    ASSERT_OK(mn_cbor_want_key(&d, 1, "b", &err), &err);
    ASSERT_OK(mn_cbor_get_uint(&d, &u, &err), &err);
    ASSERT_OK(mn_cbor_want_key(&d, 2, "b", &err), &err);
    ASSERT_OK(mn_cbor_get_bytes_n(&d, r, 32, &err), &err);
    ASSERT_OK(mn_cbor_want_key(&d, 3, "b", &err), &err);
    ASSERT_OK(mn_cbor_get_bytes_n(&d, r, 32, &err), &err);
    ASSERT_OK(mn_cbor_want_key(&d, 4, "b", &err), &err);
    ASSERT_OK(mn_cbor_get_array(&d, &n, &err), &err);
    ASSERT_U64_EQ(n, 3);
    const uint32_t who[3] = {1, 1, 0};
    const uint64_t nonce[3] = {1, 2, 1};
    for (int i = 0; i < 3; i++) {
        const uint8_t *p;
        size_t pl;
        mn_tx t;
        ASSERT_OK(mn_cbor_get_bytes(&d, &p, &pl, &err), &err);
        ASSERT_OK(mn_tx_decode(&t, p, pl, &err), &err);
        ASSERT_MEM_EQ(t.sender, F.val[who[i]].pk, 32);
        ASSERT_U64_EQ(t.nonce, nonce[i]);
    }
    /* another node's block commits v0 n1 and n2 (n2 never reached this mempool) */
    fx_note(&F, &F.val[0], 1, 8, &tx);
    ASSERT_OK(mn_mempool_add(other, b, tx.data, tx.len, NULL, &err), &err);
    fx_note(&F, &F.val[0], 2, 9, &tx);
    ASSERT_OK(mn_mempool_add(other, b, tx.data, tx.len, NULL, &err), &err);
    fx_note(&F, &F.val[0], 3, 9, &tx);
    ASSERT_OK(mn_mempool_add(other, b, tx.data, tx.len, NULL, &err), &err);
    fx_build_commit(&F, b, other, 5000, &body);
    mn_block_header h;
    ASSERT_OK(mn_ledger_get_block(b, 1, &h, NULL, NULL, &err), &err);
    ASSERT_OK(mn_ledger_commit_block(a, &h, NULL, body.data, body.len, &err), &err);
    mn_mempool_update(mp, a);
    /* v0 n1 committed, v0 n3 stale (another n3 was committed), v1's two stay */
    mn_mempool_stats st = mn_mempool_get_stats(mp);
    ASSERT_EQ(st.count, 2);
    ASSERT_U64_EQ(st.evicted_committed, 2);
    fx_build_commit(&F, a, mp, 6000, NULL);
    ASSERT_EQ(mn_mempool_get_stats(mp).count, 0);
    ASSERT_U64_EQ(mn_ledger_next_nonce(a, F.val[1].pk), 3);
    mn_buf_deinit(&tx);
    mn_buf_deinit(&body);
    mn_mempool_free(mp);
    mn_mempool_free(other);
    mn_ledger_close(a);
    mn_ledger_close(b);
}

static void setup(void)
{
    fx_init(&F);
}

static void teardown(void)
{
    fx_cleanup(&F);
}

MN_TEST_MAIN("ledger.mempool", MN_TEST(setup), MN_TEST(test_entry_checks), MN_TEST(test_limits),
             MN_TEST(test_order_and_eviction), MN_TEST(teardown))
