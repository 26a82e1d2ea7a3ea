/* SPDX-License-Identifier: Apache-2.0
 *
 * test_node_msg.c: the node messages and the signing-state encoding (node_msg.h). Every kind
 * round-trips byte for byte; every strict prefix, a trailing byte, a wrong arity or an unknown
 * kind is refused; a body with a hash claim is checked by the caller (not here). With
 * "--write-corpus DIR" it also writes the fuzz seeds of fuzz_node_msg.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/node_msg.h"
#include "mn_test.h"

static const char *chain = "node-test";
static const char *corpus_dir;
static int corpus_n;

static void keypair(mn_keypair *kp, uint8_t i)
{
    uint8_t seed[32];
    memset(seed, i, sizeof(seed));
    mn_keypair_from_seed(kp, seed);
}

static mn_block_header header(uint64_t h)
{
    mn_block_header x;
    memset(&x, 0, sizeof(x));
    x.height = h;
    memset(x.parent, h > 1 ? 0x11 : 0, 32);
    memset(x.proposer, 0x22, 32);
    memset(x.vrf_proof, 0x33, sizeof(x.vrf_proof));
    memset(x.payload, 0x44, 32);
    return x;
}

static mn_vote vote_by(uint8_t key, mn_vote_type t, uint64_t h, uint32_t r, bool has)
{
    mn_keypair kp;
    keypair(&kp, key);
    mn_vote v;
    memset(&v, 0, sizeof(v));
    v.type = t;
    v.height = h;
    v.round = r;
    v.has_value = has;
    if (has)
        memset(v.value, 0xab, 32);
    mn_vote_sign(&v, chain, &kp);
    return v;
}

static mn_proposal proposal(uint64_t h, uint32_t r)
{
    mn_keypair kp;
    keypair(&kp, 2);
    mn_proposal p;
    memset(&p, 0, sizeof(p));
    p.height = h;
    p.round = r;
    p.pol_round = -1;
    p.header = header(h);
    mn_proposal_sign(&p, chain, &kp);
    return p;
}

static mn_commit_cert cert(uint64_t h)
{
    mn_commit_cert c;
    memset(&c, 0, sizeof(c));
    c.height = h;
    c.round = 1;
    memset(c.value, 0x55, 32);
    c.signer_bytes = 1;
    c.signers[0] = 0x07;
    c.sig_count = 3;
    memset(c.signatures, 0x66, 3 * 64);
    return c;
}

static mn_vote vote(mn_vote_type t, uint64_t h, uint32_t r, bool has)
{
    return vote_by(1, t, h, r, has);
}

static int by_signer(const void *a, const void *b)
{
    return memcmp(((const mn_vote *)a)->signer, ((const mn_vote *)b)->signer, 32);
}

static void save_seed(const mn_buf *b)
{
    if (corpus_dir == NULL)
        return;
    char path[512];
    snprintf(path, sizeof(path), "%s/seed-%02d", corpus_dir, corpus_n++);
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fwrite(b->data, 1, b->len, f), b->len);
    fclose(f);
}

/* decode(b) succeeds, re-encodes to b; every prefix and b + one byte fail. */
static void check_strict(const mn_buf *b)
{
    static mn_nmsg m;
    mn_err err;
    mn_buf again;
    mn_buf_init(&again, 0);
    ASSERT_OK(mn_nmsg_decode(b->data, b->len, &m, &err), &err);
    ASSERT_OK(mn_nmsg_encode(&m, &again, &err), &err);
    ASSERT_EQ(again.len, b->len);
    ASSERT_MEM_EQ(again.data, b->data, b->len);
    for (size_t k = 0; k < b->len; k++)
        ASSERT_TRUE(mn_nmsg_decode(b->data, k, &m, &err) != 0);
    uint8_t *longer = malloc(b->len + 1);
    memcpy(longer, b->data, b->len);
    longer[b->len] = 0;
    ASSERT_TRUE(mn_nmsg_decode(longer, b->len + 1, &m, &err) != 0);
    free(longer);
    mn_buf_deinit(&again);
    save_seed(b);
}

static void test_round_trips(void)
{
    static mn_cmsg c;
    mn_err err;
    mn_buf b;
    const uint8_t body[] = {0xa0};
    const uint8_t h32[32] = {1, 2, 3};
    mn_buf_init(&b, 0);

    memset(&c, 0, sizeof(c));
    c.kind = MN_CMSG_PROPOSAL;
    c.u.proposal = proposal(5, 0);
    ASSERT_OK(mn_nmsg_encode_consensus(&c, body, sizeof(body), true, &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    c.kind = MN_CMSG_VOTE;
    c.u.vote = vote(MN_VOTE_PREVOTE, 5, 0, true);
    ASSERT_OK(mn_nmsg_encode_consensus(&c, NULL, 0, false, &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    c.kind = MN_CMSG_COMMIT;
    c.u.commit.header = header(4);
    c.u.commit.cert = cert(4);
    ASSERT_OK(mn_nmsg_encode_consensus(&c, body, sizeof(body), true, &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    ASSERT_OK(mn_nmsg_encode_body_request(9, h32, &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    ASSERT_OK(mn_nmsg_encode_body(9, body, sizeof(body), &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    ASSERT_OK(mn_nmsg_encode_status(12, h32, h32, &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    ASSERT_OK(mn_nmsg_encode_sync_request(3, 64, &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    mn_block_header hh = header(3);
    mn_commit_cert cc = cert(3);
    ASSERT_OK(mn_nmsg_encode_sync_block(&hh, &cc, body, sizeof(body), &b, &err), &err);
    check_strict(&b);
    b.len = 0;
    const uint8_t *txs[2] = {body, h32};
    const size_t lens[2] = {sizeof(body), sizeof(h32)};
    ASSERT_OK(mn_nmsg_encode_txs(txs, lens, 2, &b, &err), &err);
    check_strict(&b);
    mn_buf_deinit(&b);
}

static void test_refusals(void)
{
    static mn_nmsg m;
    mn_err err;
    mn_buf b;
    mn_cbor_enc e;
    mn_buf_init(&b, 0);
    /* unknown kind */
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_array(&e, 2);
    mn_cbor_put_uint(&e, 99);
    mn_cbor_put_uint(&e, 1);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_TRUE(mn_nmsg_decode(b.data, b.len, &m, &err) != 0);
    /* status with a short root */
    b.len = 0;
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_array(&e, 4);
    mn_cbor_put_uint(&e, MN_NMSG_STATUS);
    mn_cbor_put_uint(&e, 1);
    mn_cbor_put_bytes(&e, "0123456789abcdef0123456789abcdef", 32);
    mn_cbor_put_bytes(&e, "short", 5);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_TRUE(mn_nmsg_decode(b.data, b.len, &m, &err) != 0);
    /* sync request beyond the batch limit, and of zero blocks */
    b.len = 0;
    ASSERT_OK(mn_nmsg_encode_sync_request(1, MN_NODE_SYNC_BATCH_MAX + 1, &b, &err), &err);
    ASSERT_TRUE(mn_nmsg_decode(b.data, b.len, &m, &err) != 0);
    b.len = 0;
    ASSERT_OK(mn_nmsg_encode_sync_request(1, 0, &b, &err), &err);
    ASSERT_TRUE(mn_nmsg_decode(b.data, b.len, &m, &err) != 0);
    /* an empty tx batch cannot even be encoded */
    ASSERT_TRUE(mn_nmsg_encode_txs(NULL, NULL, 0, &b, &err) != 0);
    /* a consensus message whose inner message is garbage */
    b.len = 0;
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_array(&e, 3);
    mn_cbor_put_uint(&e, MN_NMSG_CONSENSUS);
    mn_cbor_put_bytes(&e, "\x82\x01\x00", 3);
    mn_cbor_put_null(&e);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_TRUE(mn_nmsg_decode(b.data, b.len, &m, &err) != 0);
    mn_buf_deinit(&b);
}

static void test_sign_state(void)
{
    static mn_bft_sign_state s, d;
    mn_err err;
    mn_buf b, again;
    mn_buf_init(&b, 0);
    mn_buf_init(&again, 0);
    memset(&s, 0, sizeof(s));
    s.height = 7;
    s.round = 2;
    s.step = MN_STEP_PREVOTE;
    s.locked_round = 1;
    s.locked_value = header(7);
    s.valid_round = 1;
    s.valid_value = header(7);
    s.valid_pol = cert(7);
    s.own[0].round = 2;
    s.own[0].has_proposal = true;
    s.own[0].proposal = proposal(7, 2);
    s.own[0].has_prevote = true;
    s.own[0].prevote = vote(MN_VOTE_PREVOTE, 7, 2, true);
    s.own[1].round = 1;
    s.own[1].has_precommit = true;
    s.own[1].precommit = vote(MN_VOTE_PRECOMMIT, 7, 1, false);
    ASSERT_OK(mn_sign_state_encode(&s, &b, &err), &err);
    ASSERT_OK(mn_sign_state_decode(b.data, b.len, &d, &err), &err);
    save_seed(&b);
    ASSERT_OK(mn_sign_state_encode(&d, &again, &err), &err);
    ASSERT_EQ(again.len, b.len);
    ASSERT_MEM_EQ(again.data, b.data, b.len);
    ASSERT_U64_EQ(d.height, 7);
    ASSERT_EQ(d.locked_round, 1);
    ASSERT_TRUE(d.own[0].has_prevote && !d.own[0].has_precommit);
    ASSERT_MEM_EQ(d.own[0].prevote.signature, s.own[0].prevote.signature, 64);
    for (size_t k = 0; k < b.len; k++)
        ASSERT_TRUE(mn_sign_state_decode(b.data, k, &d, &err) != 0);
    /* an own round holding another round's vote is refused */
    s.own[1].precommit.round = 0;
    b.len = 0;
    ASSERT_OK(mn_sign_state_encode(&s, &b, &err), &err);
    ASSERT_TRUE(mn_sign_state_decode(b.data, b.len, &d, &err) != 0);
    /* the fresh state of a validator that never locked */
    memset(&s, 0, sizeof(s));
    s.height = 1;
    s.locked_round = -1;
    s.valid_round = -1;
    b.len = 0;
    ASSERT_OK(mn_sign_state_encode(&s, &b, &err), &err);
    ASSERT_OK(mn_sign_state_decode(b.data, b.len, &d, &err), &err);
    ASSERT_EQ(d.valid_round, -1);
    ASSERT_EQ(d.entry.vote_count, 0);
    /* an empty round entry is written as absent (key 10 missing), never as an empty map */
    ASSERT_EQ(b.data[0], 0xa9);
    ASSERT_OK(mn_buf_append(&b, "\x0a\xa3\x01\x00\x02\xf6\x03\x80", 8, &err), &err);
    b.data[0] = 0xaa;
    ASSERT_TRUE(mn_sign_state_decode(b.data, b.len, &d, &err) != 0);
    mn_buf_deinit(&b);
    mn_buf_deinit(&again);
}

/* Key 10: the justification of the round (line 65: the precommits of the round before). */
static void test_sign_state_entry(void)
{
    static mn_bft_sign_state s, d;
    mn_err err;
    mn_buf b, again;
    mn_buf_init(&b, 0);
    mn_buf_init(&again, 0);
    memset(&s, 0, sizeof(s));
    s.height = 9;
    s.round = 3;
    s.locked_round = -1;
    s.valid_round = -1;
    s.own[0].round = 3;
    s.own[1].round = 2;
    s.entry.round = 2;
    s.entry.vote_count = 3;
    for (uint8_t k = 0; k < 3; k++)
        s.entry.votes[k] = vote_by((uint8_t)(k + 1), MN_VOTE_PRECOMMIT, 9, 2, k == 1);
    qsort(s.entry.votes, 3, sizeof(mn_vote), by_signer);
    ASSERT_OK(mn_sign_state_encode(&s, &b, &err), &err);
    ASSERT_EQ(b.data[0], 0xaa); /* ten keys */
    ASSERT_OK(mn_sign_state_decode(b.data, b.len, &d, &err), &err);
    save_seed(&b);
    ASSERT_OK(mn_sign_state_encode(&d, &again, &err), &err);
    ASSERT_EQ(again.len, b.len);
    ASSERT_MEM_EQ(again.data, b.data, b.len);
    ASSERT_EQ(d.entry.round, 2);
    ASSERT_EQ(d.entry.vote_count, 3);
    ASSERT_FALSE(d.entry.has_proposal);
    for (uint32_t k = 0; k < 3; k++)
        ASSERT_MEM_EQ(d.entry.votes[k].signature, s.entry.votes[k].signature, 64);
    for (size_t k = 0; k < b.len; k++)
        ASSERT_TRUE(mn_sign_state_decode(b.data, k, &d, &err) != 0);
    /* line 55: votes and the proposal of the state's own round */
    s.entry.round = 3;
    s.entry.vote_count = 1;
    s.entry.votes[0] = vote_by(2, MN_VOTE_PREVOTE, 9, 3, false);
    s.entry.has_proposal = true;
    s.entry.proposal = proposal(9, 3);
    b.len = 0;
    ASSERT_OK(mn_sign_state_encode(&s, &b, &err), &err);
    ASSERT_OK(mn_sign_state_decode(b.data, b.len, &d, &err), &err);
    ASSERT_TRUE(d.entry.has_proposal && d.entry.proposal.round == 3);
    /* refused: a round other than the state's or the one before, votes of another round or
     * height, signers out of order or repeated, more votes than validators */
    static const struct {
        uint32_t entry_round, vote_round;
        uint64_t vote_height;
        bool swap;
    } bad[] = {{1, 1, 9, false}, {4, 4, 9, false}, {2, 1, 9, false}, {2, 2, 8, false},
               {2, 2, 9, true}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&s.entry, 0, sizeof(s.entry));
        s.entry.round = bad[i].entry_round;
        s.entry.vote_count = 2;
        for (uint8_t k = 0; k < 2; k++)
            s.entry.votes[k] = vote_by((uint8_t)(k + 1), MN_VOTE_PRECOMMIT, bad[i].vote_height,
                                       bad[i].vote_round, false);
        qsort(s.entry.votes, 2, sizeof(mn_vote), by_signer);
        if (bad[i].swap)
            s.entry.votes[1] = s.entry.votes[0]; /* the same signer twice */
        b.len = 0;
        ASSERT_OK(mn_sign_state_encode(&s, &b, &err), &err);
        ASSERT_TRUE(mn_sign_state_decode(b.data, b.len, &d, &err) != 0);
    }
    s.entry.vote_count = MN_VALIDATORS_MAX + 1;
    b.len = 0;
    ASSERT_EQ(mn_sign_state_encode(&s, &b, &err), -MN_ELIMIT);
    mn_buf_deinit(&b);
    mn_buf_deinit(&again);
}

static void test_body_root(void)
{
    mn_buf b;
    mn_cbor_enc e;
    mn_err err;
    uint8_t root[32], want[32];
    memset(want, 0x77, 32);
    mn_buf_init(&b, 0);
    mn_cbor_enc_init(&e, &b);
    mn_cbor_put_map(&e, 5);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, 1000);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_bytes(&e, want, 32);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, want, 32);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_array(&e, 0);
    mn_cbor_put_key(&e, 5);
    mn_cbor_put_array(&e, 0);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_OK(mn_body_state_root(b.data, b.len, root, &err), &err);
    ASSERT_MEM_EQ(root, want, 32);
    ASSERT_TRUE(mn_body_state_root(b.data, 3, root, &err) != 0);
    mn_buf_deinit(&b);
}

int main(int argc, char **argv)
{
    static const mn_test_case cases[] = {MN_TEST(test_round_trips), MN_TEST(test_refusals),
                                         MN_TEST(test_sign_state), MN_TEST(test_sign_state_entry),
                                         MN_TEST(test_body_root)};
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
        corpus_dir = argv[2];
        argc = 1;
    }
    return mn_test_run("node.msg", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
