/* SPDX-License-Identifier: Apache-2.0
 *
 * test_ledger.c: the ledger end to end on real SQLite files: open/reopen and genesis identity,
 * build -> check -> commit on one ledger and check -> commit on another with identical roots,
 * refused bodies (wrong payload, wrong root, bad time, replayed nonce, garbage), the handlers
 * (register, bond/unbond changing the set exactly after the look-back, evidence slashing by tx
 * and from consensus), reads, meta and receipts, recovery after a crash (a child that commits
 * and dies without closing) and refusal of a damaged state table.
 */
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>

#include "fixture.h"
#include "metanode/merkle.h"

static fx F;

static mn_ledger *open_ledger(const char *name)
{
    mn_ledger *l;
    mn_err err;
    ASSERT_OK(mn_ledger_open(fx_path(&F, name), &F.g, &l, &err), &err);
    return l;
}

static void add_tx(mn_mempool *mp, mn_ledger *l, const mn_buf *tx)
{
    mn_err err;
    ASSERT_OK(mn_mempool_add(mp, l, tx->data, tx->len, NULL, &err), &err);
}

/* A body with the given txs, a correct tx root and an arbitrary state root. */
static void make_body(uint64_t time_ms, const mn_buf *txs, uint32_t n, const uint8_t root[32],
                      mn_buf *out)
{
    mn_err err;
    mn_merkle_builder mb;
    mn_merkle_builder_init(&mb);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t h[32];
        mn_tx_hash(h, txs[i].data, txs[i].len);
        mn_merkle_builder_append(&mb, h, 32);
    }
    uint8_t tx_root[32];
    mn_merkle_builder_root(&mb, tx_root);
    out->len = 0;
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, 5);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, time_ms);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_bytes(&e, root, 32);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, tx_root, 32);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_array(&e, n);
    for (uint32_t i = 0; i < n; i++)
        mn_cbor_put_bytes(&e, txs[i].data, txs[i].len);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_array(&e, 0);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
}

static void test_open_genesis(void)
{
    mn_err err;
    mn_ledger *l = open_ledger("open.db");
    ASSERT_U64_EQ(mn_ledger_height(l), 0);
    mn_bft_chain chain;
    mn_ledger_chain(l, &chain);
    ASSERT_U64_EQ(chain.height, 1);
    uint8_t seed[32], zero[32] = {0};
    mn_leader_genesis_seed(seed, F.g.chain_id);
    ASSERT_MEM_EQ(chain.seed, seed, 32);
    ASSERT_MEM_EQ(chain.parent, zero, 32);
    ASSERT_TRUE(mn_ledger_valset_at(l, 0) == NULL);
    const mn_bft_valset *vs = mn_ledger_valset_at(l, 1);
    ASSERT_TRUE(vs != NULL);
    ASSERT_EQ(vs->set.count, FX_VALIDATORS);
    ASSERT_U64_EQ(vs->set.total_stake, 100 * FX_VALIDATORS);
    ASSERT_TRUE(mn_ledger_valset_at(l, 2) == vs);
    ASSERT_TRUE(mn_ledger_valset_hook(l, 2) == vs);
    ASSERT_TRUE(mn_ledger_valset_at(l, 3) == NULL);
    ASSERT_U64_EQ(mn_ledger_block_time(l, 0), F.g.genesis_time_ms);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[0].pk), 1);
    uint8_t root[32], root2[32];
    mn_ledger_state_root(l, root);
    mn_ledger_close(l);
    l = open_ledger("open.db");
    mn_ledger_state_root(l, root2);
    ASSERT_MEM_EQ(root, root2, 32);
    mn_ledger_close(l);
    /* another genesis is refused */
    mn_genesis g2 = F.g;
    g2.validators[0].stake = 7;
    ASSERT_EQ(mn_ledger_open(fx_path(&F, "open.db"), &g2, &l, &err), -MN_EINVAL);
}

static void test_build_check_commit_two_ledgers(void)
{
    mn_err err;
    mn_ledger *a = open_ledger("a.db");
    mn_ledger *b = open_ledger("b.db");
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_buf tx, body;
    mn_buf_init(&tx, 0);
    mn_buf_init(&body, 0);
    uint8_t first_hash[32];
    for (uint64_t nonce = 1; nonce <= 3; nonce++)
        for (uint32_t v = 0; v < FX_VALIDATORS; v++) {
            fx_note(&F, &F.val[v], nonce, 100, &tx);
            if (nonce == 1 && v == 0)
                mn_tx_hash(first_hash, tx.data, tx.len);
            add_tx(mp, a, &tx);
        }
    ASSERT_EQ(mn_mempool_get_stats(mp).count, 12);
    for (uint64_t h = 1; h <= 3; h++) {
        fx_build_commit(&F, a, mp, 2000 + h, &body);
        mn_block_header hdr;
        ASSERT_OK(mn_ledger_get_block(a, h, &hdr, NULL, NULL, &err), &err);
        /* the other ledger checks the same body, then commits */
        ASSERT_OK(mn_ledger_check_block(b, &hdr, body.data, body.len, &err), &err);
        ASSERT_OK(mn_ledger_commit_block(b, &hdr, NULL, body.data, body.len, &err), &err);
        uint8_t ra[32], rb[32];
        mn_ledger_state_root(a, ra);
        mn_ledger_state_root(b, rb);
        ASSERT_MEM_EQ(ra, rb, 32);
        mn_bft_chain ca, cb;
        mn_ledger_chain(a, &ca);
        mn_ledger_chain(b, &cb);
        ASSERT_MEM_EQ(&ca, &cb, sizeof ca);
        ASSERT_U64_EQ(ca.height, h + 1);
    }
    ASSERT_EQ(mn_mempool_get_stats(mp).count, 0);
    ASSERT_U64_EQ(mn_mempool_get_stats(mp).evicted_committed, 12);
    ASSERT_U64_EQ(mn_ledger_height(b), 3);
    ASSERT_U64_EQ(mn_ledger_next_nonce(b, F.val[2].pk), 4);
    /* reads */
    uint64_t height;
    uint32_t index;
    ASSERT_OK(mn_ledger_get_tx(b, first_hash, &tx, &height, &index, &err), &err);
    ASSERT_U64_EQ(height, 1);
    mn_tx dec;
    ASSERT_OK(mn_tx_decode(&dec, tx.data, tx.len, &err), &err);
    ASSERT_MEM_EQ(dec.sender, F.val[0].pk, 32);
    uint8_t missing[32] = {9};
    ASSERT_EQ(mn_ledger_get_tx(b, missing, &tx, &height, &index, &err), -MN_ENOTFOUND);
    ASSERT_EQ(mn_ledger_get_block(b, 9, NULL, NULL, &body, &err), -MN_ENOTFOUND);
    ASSERT_U64_EQ(mn_ledger_block_time(b, 2), 2002);
    /* an empty block, time raised above the parent's */
    fx_build_commit(&F, a, mp, 5, &body);
    ASSERT_U64_EQ(mn_ledger_block_time(a, 4), 2004);
    mn_buf_deinit(&tx);
    mn_buf_deinit(&body);
    mn_mempool_free(mp);
    mn_ledger_close(a);
    mn_ledger_close(b);
}

static void test_bad_bodies(void)
{
    mn_err err;
    mn_ledger *a = open_ledger("bad_a.db");
    mn_ledger *b = open_ledger("bad_b.db");
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_buf tx, body, bad;
    mn_buf_init(&tx, 0);
    mn_buf_init(&body, 0);
    mn_buf_init(&bad, 0);
    fx_note(&F, &F.val[0], 1, 10, &tx);
    add_tx(mp, a, &tx);
    uint8_t payload[32];
    ASSERT_OK(mn_ledger_build_block(a, mp, 5000, &body, payload, &err), &err);
    mn_block_header h;
    fx_header(&F, a, 1, body.data, body.len, &h);
    /* body that does not hash to the payload */
    ASSERT_OK(mn_buf_append(&bad, body.data, body.len, &err), &err);
    bad.data[bad.len - 3] ^= 1;
    ASSERT_EQ(mn_ledger_check_block(b, &h, bad.data, bad.len, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_ledger_commit_block(b, &h, NULL, bad.data, bad.len, &err), -MN_ECORRUPT);
    /* wrong state root (payload recomputed so only the execution catches it) */
    uint8_t wrong[32];
    memset(wrong, 0xab, 32);
    make_body(5000, &tx, 1, wrong, &bad);
    mn_block_header hb;
    fx_header(&F, b, 1, bad.data, bad.len, &hb);
    ASSERT_EQ(mn_ledger_check_block(b, &hb, bad.data, bad.len, &err), -MN_EINVAL);
    ASSERT_EQ(mn_ledger_commit_block(b, &hb, NULL, bad.data, bad.len, &err), -MN_EINVAL);
    /* time not after the genesis time */
    make_body(F.g.genesis_time_ms, &tx, 1, wrong, &bad);
    fx_header(&F, b, 1, bad.data, bad.len, &hb);
    ASSERT_EQ(mn_ledger_check_block(b, &hb, bad.data, bad.len, &err), -MN_EINVAL);
    /* garbage */
    const uint8_t junk[] = {0xa5, 0x01, 0x00};
    fx_header(&F, b, 1, junk, sizeof junk, &hb);
    ASSERT_TRUE(mn_ledger_check_block(b, &hb, junk, sizeof junk, &err) < 0);
    /* a tx of another chain */
    mn_genesis other = F.g;
    snprintf(other.chain_id, sizeof other.chain_id, "other");
    fx f2 = F;
    f2.g = other;
    mn_buf otx;
    mn_buf_init(&otx, 0);
    fx_note(&f2, &F.val[0], 1, 10, &otx);
    make_body(5000, &otx, 1, wrong, &bad);
    fx_header(&F, b, 1, bad.data, bad.len, &hb);
    ASSERT_EQ(mn_ledger_check_block(b, &hb, bad.data, bad.len, &err), -MN_EINVAL);
    ASSERT_EQ(mn_mempool_add(mp, b, otx.data, otx.len, NULL, &err), -MN_EINVAL);
    /* the good one still commits on both; state unchanged by the refusals */
    ASSERT_OK(mn_ledger_check_block(b, &h, body.data, body.len, &err), &err);
    ASSERT_OK(mn_ledger_commit_block(b, &h, NULL, body.data, body.len, &err), &err);
    ASSERT_OK(mn_ledger_commit_block(a, &h, NULL, body.data, body.len, &err), &err);
    /* nonce replay: the same tx again in block 2 */
    make_body(6000, &tx, 1, wrong, &bad);
    fx_header(&F, b, 1, bad.data, bad.len, &hb);
    ASSERT_EQ(mn_ledger_check_block(b, &hb, bad.data, bad.len, &err), -MN_EINVAL);
    ASSERT_TRUE(strstr(err.msg, "nonce") != NULL);
    ASSERT_EQ(mn_mempool_add(mp, b, tx.data, tx.len, NULL, &err), -MN_EEXIST);
    /* a nonce gap (3 after 1) */
    fx_note(&F, &F.val[0], 3, 10, &otx);
    make_body(6000, &otx, 1, wrong, &bad);
    fx_header(&F, b, 1, bad.data, bad.len, &hb);
    ASSERT_EQ(mn_ledger_check_block(b, &hb, bad.data, bad.len, &err), -MN_EINVAL);
    /* a commit of the wrong height or parent */
    hb.height = 5;
    ASSERT_EQ(mn_ledger_commit_block(b, &hb, NULL, bad.data, bad.len, &err), -MN_EINVAL);
    mn_buf_deinit(&otx);
    mn_buf_deinit(&tx);
    mn_buf_deinit(&body);
    mn_buf_deinit(&bad);
    mn_mempool_free(mp);
    mn_ledger_close(a);
    mn_ledger_close(b);
}

static bool in_set(const mn_bft_valset *vs, const uint8_t pk[32])
{
    uint8_t id[32];
    mn_node_id(id, pk);
    return mn_bft_valset_find(vs, id) >= 0;
}

static void test_bond_unbond_lookback(void)
{
    mn_err err;
    mn_ledger *l = open_ledger("bond.db");
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_keypair nv;
    fx_key(&nv, 1);
    uint8_t vrf_pk[32], vrf_sk[64], seed[32] = {42};
    ASSERT_EQ(mn_vrf_keypair_from_seed(vrf_pk, vrf_sk, seed), 0);
    mn_buf tx;
    mn_buf_init(&tx, 0);
    fx_bond(&F, &nv, 1, 50, vrf_pk, &tx);
    add_tx(mp, l, &tx);
    /* bonding someone else's key is refused on entry */
    mn_buf body;
    mn_buf_init(&body, 0);
    {
        mn_cbor_enc e;
        mn_cbor_enc_init(&e, &body);
        mn_cbor_put_map(&e, 4);
        mn_cbor_put_key(&e, 1);
        mn_cbor_put_bytes(&e, F.val[1].pk, 32);
        mn_cbor_put_key(&e, 2);
        mn_cbor_put_bytes(&e, vrf_pk, 32);
        mn_cbor_put_key(&e, 3);
        mn_cbor_put_uint(&e, 5);
        mn_cbor_put_key(&e, 4);
        mn_cbor_put_bytes(&e, vrf_pk, 32);
        ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
        mn_buf t2;
        mn_buf_init(&t2, 0);
        fx_tx(&F, &nv, MN_TX_BOND, 2, body.data, body.len, &t2);
        ASSERT_EQ(mn_mempool_add(mp, l, t2.data, t2.len, NULL, &err), -MN_EINVAL);
        mn_buf_deinit(&t2);
    }
    fx_build_commit(&F, l, mp, 2001, NULL); /* block 1: bond */
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, nv.pk), 2);
    const mn_bft_valset *v2 = mn_ledger_valset_at(l, 2);
    const mn_bft_valset *v3 = mn_ledger_valset_at(l, 3);
    ASSERT_TRUE(v2 != NULL && v3 != NULL);
    ASSERT_FALSE(in_set(v2, nv.pk));
    ASSERT_TRUE(in_set(v3, nv.pk));
    ASSERT_EQ(v3->set.count, FX_VALIDATORS + 1);
    ASSERT_U64_EQ(v3->set.total_stake, 450);
    ASSERT_TRUE(mn_ledger_valset_at(l, 4) == NULL);
    uint8_t got_vrf[32], got_noise[32], want_noise[32];
    uint64_t stake;
    ASSERT_OK(mn_ledger_validator(l, nv.pk, got_vrf, got_noise, &stake, &err), &err);
    memset(want_noise, 0x55, 32);
    ASSERT_MEM_EQ(got_vrf, vrf_pk, 32);
    ASSERT_MEM_EQ(got_noise, want_noise, 32);
    ASSERT_U64_EQ(stake, 50);
    ASSERT_OK(mn_ledger_validator(l, F.val[2].pk, NULL, got_noise, NULL, &err), &err);
    ASSERT_MEM_EQ(got_noise, F.g.validators[2].noise_pk, 32);
    /* block 2: validator 0 unbonds everything; an over-unbond by validator 1 is skipped */
    fx_unbond(&F, &F.val[0], 1, 100, &tx);
    add_tx(mp, l, &tx);
    fx_unbond(&F, &F.val[1], 1, 101, &tx);
    add_tx(mp, l, &tx);
    fx_build_commit(&F, l, mp, 2002, NULL);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[0].pk), 2);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[1].pk), 1);
    const mn_bft_valset *v4 = mn_ledger_valset_at(l, 4);
    ASSERT_TRUE(v4 != NULL);
    ASSERT_TRUE(in_set(mn_ledger_valset_at(l, 3), F.val[0].pk));
    ASSERT_FALSE(in_set(v4, F.val[0].pk));
    ASSERT_EQ(mn_ledger_validator(l, F.val[0].pk, NULL, NULL, &stake, &err), -MN_ENOTFOUND);
    ASSERT_EQ(v4->set.count, FX_VALIDATORS);
    /* block 3: nothing changes the set: height 5 runs the same stake as height 4 */
    fx_build_commit(&F, l, mp, 2003, NULL);
    ASSERT_TRUE(mn_ledger_valset_at(l, 5) == v4);
    /* after a reopen the sets up to committed + look-back are still answered */
    uint8_t root[32], root2[32];
    mn_ledger_state_root(l, root);
    mn_ledger_close(l);
    l = open_ledger("bond.db");
    mn_ledger_state_root(l, root2);
    ASSERT_MEM_EQ(root, root2, 32);
    ASSERT_TRUE(mn_ledger_valset_at(l, 5) != NULL);
    ASSERT_TRUE(in_set(mn_ledger_valset_at(l, 3), F.val[0].pk));
    ASSERT_FALSE(in_set(mn_ledger_valset_at(l, 4), F.val[0].pk));
    ASSERT_TRUE(in_set(mn_ledger_valset_at(l, 5), nv.pk));
    ASSERT_EQ(mn_ledger_valset_at(l, 2)->set.count, FX_VALIDATORS);
    ASSERT_TRUE(mn_ledger_valset_at(l, 6) == NULL);
    mn_buf_deinit(&tx);
    mn_buf_deinit(&body);
    mn_mempool_free(mp);
    mn_ledger_close(l);
}

static void double_vote(uint32_t who, uint64_t height, mn_evidence *e)
{
    mn_vote a, b;
    memset(&a, 0, sizeof a);
    a.type = MN_VOTE_PREVOTE;
    a.height = height;
    a.round = 0;
    a.has_value = true;
    memset(a.value, 1, 32);
    b = a;
    memset(b.value, 2, 32);
    mn_vote_sign(&a, F.g.chain_id, &F.val[who]);
    mn_vote_sign(&b, F.g.chain_id, &F.val[who]);
    mn_evidence_from_votes(e, &a, &b);
}

static void test_evidence_slashing(void)
{
    mn_err err;
    mn_ledger *l = open_ledger("ev.db");
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    fx_build_commit(&F, l, mp, 2001, NULL); /* block 1 */
    /* validator 1 double-votes at height 1; consensus hands the evidence in */
    mn_evidence e;
    double_vote(1, 1, &e);
    ASSERT_OK(mn_ledger_add_evidence(l, &e, &err), &err);
    ASSERT_EQ(mn_ledger_add_evidence(l, &e, &err), -MN_EEXIST);
    ASSERT_EQ(mn_ledger_evidence_pending(l), 1);
    /* evidence whose votes do not conflict is not included */
    mn_evidence fake;
    double_vote(3, 1, &fake);
    fake.u.votes[1] = fake.u.votes[0];
    ASSERT_OK(mn_ledger_add_evidence(l, &fake, &err), &err);
    /* validator 2's double vote goes in as a tx sent by validator 0 */
    mn_evidence e2;
    double_vote(2, 1, &e2);
    mn_buf enc, tx;
    mn_buf_init(&enc, 0);
    mn_buf_init(&tx, 0);
    ASSERT_OK(mn_evidence_encode(&e2, &enc, &err), &err);
    fx_tx(&F, &F.val[0], MN_TX_EVIDENCE, 1, enc.data, enc.len, &tx);
    add_tx(mp, l, &tx);
    fx_build_commit(&F, l, mp, 2002, NULL); /* block 2 */
    ASSERT_EQ(mn_ledger_evidence_pending(l), 0); /* included, or (the fake) dropped */
    uint8_t key[34] = {'v', '/'};
    mn_buf val;
    mn_buf_init(&val, 0);
    memcpy(key + 2, F.val[1].pk, 32);
    ASSERT_EQ(mn_ledger_state_get(l, key, sizeof key, &val, &err), -MN_ENOTFOUND);
    memcpy(key + 2, F.val[2].pk, 32);
    ASSERT_EQ(mn_ledger_state_get(l, key, sizeof key, &val, &err), -MN_ENOTFOUND);
    key[0] = 't';
    ASSERT_OK(mn_ledger_state_get(l, key, sizeof key, &val, &err), &err);
    memcpy(key + 2, F.val[3].pk, 32);
    key[0] = 'v';
    ASSERT_OK(mn_ledger_state_get(l, key, sizeof key, &val, &err), &err);
    /* the set: unchanged at height 3, without both offenders from height 4 on */
    ASSERT_EQ(mn_ledger_valset_at(l, 3)->set.count, FX_VALIDATORS);
    const mn_bft_valset *v4 = mn_ledger_valset_at(l, 4);
    ASSERT_EQ(v4->set.count, FX_VALIDATORS - 2);
    ASSERT_FALSE(in_set(v4, F.val[1].pk));
    ASSERT_FALSE(in_set(v4, F.val[2].pk));
    /* the same offence again is refused, and a slashed key cannot bond again */
    fx_tx(&F, &F.val[0], MN_TX_EVIDENCE, 2, enc.data, enc.len, &tx);
    add_tx(mp, l, &tx); /* well-formed: admitted; the build skips it */
    uint8_t vrf[32] = {3};
    fx_bond(&F, &F.val[1], 1, 10, vrf, &tx);
    add_tx(mp, l, &tx);
    fx_build_commit(&F, l, mp, 2003, NULL);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[0].pk), 2);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[1].pk), 1);
    /* evidence against a validator whose set is unknown (future height) is refused */
    mn_evidence e3;
    double_vote(3, 99, &e3);
    ASSERT_OK(mn_ledger_add_evidence(l, &e3, &err), &err);
    fx_build_commit(&F, l, mp, 2004, NULL);
    ASSERT_EQ(mn_ledger_evidence_pending(l), 1); /* a later height: kept for now */
    memcpy(key + 2, F.val[3].pk, 32);
    ASSERT_OK(mn_ledger_state_get(l, key, sizeof key, &val, &err), &err);
    mn_buf_deinit(&val);
    mn_buf_deinit(&enc);
    mn_buf_deinit(&tx);
    mn_mempool_free(mp);
    mn_ledger_close(l);
}

static void test_register(void)
{
    mn_err err;
    mn_ledger *l = open_ledger("reg.db");
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_keypair k;
    fx_key(&k, 7);
    uint8_t id[32];
    mn_node_id(id, k.pk);
    mn_buf body, tx;
    mn_buf_init(&body, 0);
    mn_buf_init(&tx, 0);
    for (int variant = 0; variant < 3; variant++) {
        body.len = 0;
        mn_cbor_enc e;
        mn_cbor_enc_init(&e, &body);
        mn_cbor_put_map(&e, 4);
        mn_cbor_put_key(&e, 1);
        mn_cbor_put_bytes(&e, variant == 1 ? F.val[0].pk : id, 32);
        mn_cbor_put_key(&e, 2);
        mn_cbor_put_array(&e, 1);
        mn_cbor_put_text(&e, "10.0.0.1:7000", 13);
        mn_cbor_put_key(&e, 3);
        mn_cbor_put_array(&e, 2);
        mn_cbor_put_array(&e, 2);
        mn_cbor_put_text(&e, variant == 2 ? "mem" : "cpu", 3);
        mn_cbor_put_uint(&e, 4);
        mn_cbor_put_array(&e, 2);
        mn_cbor_put_text(&e, variant == 2 ? "cpu" : "mem", 3);
        mn_cbor_put_uint(&e, 8192);
        mn_cbor_put_key(&e, 4);
        mn_cbor_put_array(&e, 0);
        ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
        fx_tx(&F, &k, MN_TX_REGISTER, 1, body.data, body.len, &tx);
        const int rc = mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err);
        if (variant == 0)
            ASSERT_OK(rc, &err);
        else
            ASSERT_TRUE(rc == -MN_EINVAL || rc == -MN_ECORRUPT); /* wrong id, unsorted */
    }
    fx_build_commit(&F, l, mp, 2001, NULL);
    uint8_t key[34] = {'n', '/'};
    memcpy(key + 2, k.pk, 32);
    mn_buf val;
    mn_buf_init(&val, 0);
    ASSERT_OK(mn_ledger_state_get(l, key, sizeof key, &val, &err), &err);
    ASSERT_TRUE(val.len > 40);
    mn_buf_deinit(&val);
    mn_buf_deinit(&body);
    mn_buf_deinit(&tx);
    mn_mempool_free(mp);
    mn_ledger_close(l);
}

/* A later issue's type: body = a key suffix; apply stores "x/" || suffix = height, and fails
 * (writing nothing) for the suffix "bad". */
static int custom_check(const mn_tx *tx, mn_err *err)
{
    if (tx->body_len == 0 || tx->body_len > 16)
        return mn_err_set(err, MN_ECORRUPT, 0, "custom: bad body");
    return 0;
}

static int custom_apply(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32], mn_err *err)
{
    (void)hash;
    if (tx->body_len == 3 && memcmp(tx->body, "bad", 3) == 0)
        return mn_err_set(err, MN_EINVAL, 0, "custom: refused");
    uint8_t key[18] = {'x', '/'};
    memcpy(key + 2, tx->body, tx->body_len);
    uint8_t val[8];
    mn_store_u64_be(val, mn_ledger_exec_height(x));
    return mn_ledger_exec_put(x, key, 2 + tx->body_len, val, 8, err);
}

static void test_custom_handler(void)
{
    mn_err err;
    mn_ledger *l = open_ledger("custom.db");
    const mn_tx_handler h = {custom_check, custom_apply};
    ASSERT_EQ(mn_ledger_register_handler(l, 0, &h, &err), -MN_EINVAL);
    ASSERT_EQ(mn_ledger_register_handler(l, MN_TX_TYPES_MAX, &h, &err), -MN_EINVAL);
    ASSERT_OK(mn_ledger_register_handler(l, 10, &h, &err), &err);
    mn_mempool *mp;
    ASSERT_OK(mn_mempool_new(&mp, &err), &err);
    mn_buf tx;
    mn_buf_init(&tx, 0);
    fx_tx(&F, &F.val[0], 10, 1, (const uint8_t *)"k1", 2, &tx);
    add_tx(mp, l, &tx);
    fx_tx(&F, &F.val[1], 10, 1, (const uint8_t *)"bad", 3, &tx);
    add_tx(mp, l, &tx);
    fx_tx(&F, &F.val[2], 10, 1, (const uint8_t *)"", 0, &tx);
    ASSERT_EQ(mn_mempool_add(mp, l, tx.data, tx.len, NULL, &err), -MN_ECORRUPT);
    fx_build_commit(&F, l, mp, 2001, NULL);
    mn_buf v;
    mn_buf_init(&v, 0);
    ASSERT_OK(mn_ledger_state_get(l, (const uint8_t *)"x/k1", 4, &v, &err), &err);
    ASSERT_EQ(v.len, 8);
    ASSERT_U64_EQ(mn_load_u64_be(v.data), 1);
    ASSERT_EQ(mn_ledger_state_get(l, (const uint8_t *)"x/bad", 5, &v, &err), -MN_ENOTFOUND);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[1].pk), 1); /* skipped, nonce unused */
    mn_buf_deinit(&v);
    mn_buf_deinit(&tx);
    mn_mempool_free(mp);
    mn_ledger_close(l);
}

static void test_meta_receipts(void)
{
    mn_err err;
    mn_ledger *l = open_ledger("meta.db");
    mn_buf v;
    mn_buf_init(&v, 0);
    ASSERT_EQ(mn_ledger_meta_get(l, "sign", &v, &err), -MN_ENOTFOUND);
    ASSERT_OK(mn_ledger_meta_put(l, "sign", (const uint8_t *)"abc", 3, &err), &err);
    ASSERT_OK(mn_ledger_meta_put(l, "sign", (const uint8_t *)"abcd", 4, &err), &err);
    uint8_t h[32] = {5};
    ASSERT_OK(mn_ledger_receipt_put(l, h, (const uint8_t *)"r", 1, &err), &err);
    mn_ledger_close(l);
    l = open_ledger("meta.db");
    ASSERT_OK(mn_ledger_meta_get(l, "sign", &v, &err), &err);
    ASSERT_EQ(v.len, 4);
    ASSERT_MEM_EQ(v.data, "abcd", 4);
    ASSERT_OK(mn_ledger_receipt_get(l, h, &v, &err), &err);
    ASSERT_EQ(v.len, 1);
    h[0] = 6;
    ASSERT_EQ(mn_ledger_receipt_get(l, h, &v, &err), -MN_ENOTFOUND);
    mn_buf_deinit(&v);
    mn_ledger_close(l);
}

/* A child commits blocks and dies without closing: every block it returned from is there. */
static void test_crash_and_damage(void)
{
    mn_err err;
    uint8_t roots[6][32];
    for (int i = 0; i < 6; i++)
        memset(roots[i], 0, 32);
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    const pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        close(pipefd[0]);
        mn_ledger *l = open_ledger("crash.db");
        mn_mempool *mp;
        if (mn_mempool_new(&mp, &err) != 0)
            _exit(2);
        mn_buf tx;
        mn_buf_init(&tx, 0);
        for (uint64_t h = 1; h <= 5; h++) {
            for (uint32_t v = 0; v < FX_VALIDATORS; v++) {
                fx_note(&F, &F.val[v], h, 50, &tx);
                add_tx(mp, l, &tx);
            }
            fx_build_commit(&F, l, mp, 3000 + h, NULL);
            uint8_t r[32];
            mn_ledger_state_root(l, r);
            if (write(pipefd[1], r, 32) != 32)
                _exit(3);
        }
        _exit(0); /* no close, no checkpoint */
    }
    close(pipefd[1]);
    int n = 0;
    while (n < 5 && read(pipefd[0], roots[n + 1], 32) == 32)
        n++;
    close(pipefd[0]);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(n, 5);
    mn_ledger *l = open_ledger("crash.db");
    ASSERT_U64_EQ(mn_ledger_height(l), 5);
    uint8_t r[32];
    mn_ledger_state_root(l, r);
    ASSERT_MEM_EQ(r, roots[5], 32);
    ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[3].pk), 6);
    mn_ledger_close(l);
    /* damage one state value behind the ledger's back: open refuses */
    sqlite3 *db;
    ASSERT_EQ(sqlite3_open(fx_path(&F, "crash.db"), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE state SET value = x'a10102' WHERE key IN "
                               "(SELECT key FROM state LIMIT 1)", NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(db);
    ASSERT_EQ(mn_ledger_open(fx_path(&F, "crash.db"), &F.g, &l, &err), -MN_ECORRUPT);
    ASSERT_TRUE(strstr(err.msg, "refusing") != NULL);
}

/* A child commits blocks as fast as it can and is killed (SIGKILL) at several points: every
 * reopen succeeds (state matches the last block's root) and keeps every reported commit. */
static void test_kill_during_commits(void)
{
    static const unsigned delays_ms[] = {30, 120, 75, 200, 10, 160};
    uint64_t last_height = 0;
    for (size_t round = 0; round < MN_ARRAY_LEN(delays_ms); round++) {
        int pipefd[2];
        ASSERT_EQ(pipe(pipefd), 0);
        const pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
            close(pipefd[0]);
            mn_err err;
            mn_ledger *l = open_ledger("kill.db");
            mn_mempool *mp;
            if (mn_mempool_new(&mp, &err) != 0)
                _exit(2);
            mn_buf tx;
            mn_buf_init(&tx, 0);
            for (;;) {
                for (uint32_t v = 0; v < FX_VALIDATORS; v++) {
                    fx_note(&F, &F.val[v], mn_ledger_next_nonce(l, F.val[v].pk), 64, &tx);
                    add_tx(mp, l, &tx);
                }
                fx_build_commit(&F, l, mp, 10000 + mn_ledger_height(l), NULL);
                const uint64_t h = mn_ledger_height(l);
                if (write(pipefd[1], &h, sizeof h) != sizeof h)
                    _exit(3);
            }
        }
        close(pipefd[1]);
        usleep(delays_ms[round] * 1000u);
        ASSERT_EQ(kill(pid, SIGKILL), 0);
        int status;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        uint64_t h;
        while (read(pipefd[0], &h, sizeof h) == sizeof h)
            last_height = h;
        close(pipefd[0]);
        mn_ledger *l = open_ledger("kill.db");
        ASSERT_TRUE(mn_ledger_height(l) >= last_height);
        ASSERT_TRUE(mn_ledger_height(l) <= last_height + 1);
        last_height = mn_ledger_height(l);
        ASSERT_U64_EQ(mn_ledger_next_nonce(l, F.val[0].pk), last_height + 1);
        mn_ledger_close(l);
    }
    printf("  %llu blocks committed across the kills\n", (unsigned long long)last_height);
    ASSERT_TRUE(last_height >= 2); /* the kills did land between commits */
}

static void setup(void)
{
    fx_init(&F);
}

static void teardown(void)
{
    fx_cleanup(&F);
}

MN_TEST_MAIN("ledger.ledger", MN_TEST(setup), MN_TEST(test_open_genesis),
             MN_TEST(test_build_check_commit_two_ledgers), MN_TEST(test_bad_bodies),
             MN_TEST(test_bond_unbond_lookback), MN_TEST(test_evidence_slashing),
             MN_TEST(test_register), MN_TEST(test_custom_handler), MN_TEST(test_meta_receipts), MN_TEST(test_crash_and_damage), MN_TEST(test_kill_during_commits),
             MN_TEST(teardown))
