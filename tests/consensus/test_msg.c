/* SPDX-License-Identifier: Apache-2.0
 *
 * test_msg.c: the canonical consensus messages. Round trips (decode(encode(m)) == m and the
 * bytes are reproduced), every prefix of a valid encoding refused, hand-made non-canonical
 * encodings refused, range checks (vote type, valid round), evidence validity and order, and
 * signatures bound to chain id, height, round, type and signer.
 */
#include <stdlib.h>

#include "metanode/cbor.h"
#include "metanode/consensus_msg.h"
#include "mn_test.h"

static const char *chain = "metanode-test";

static void keypair(mn_keypair *kp, uint8_t i)
{
    uint8_t seed[32];
    memset(seed, i, sizeof(seed));
    mn_keypair_from_seed(kp, seed);
}

static mn_vote sample_vote(const mn_keypair *kp, bool has_value)
{
    mn_vote v;
    memset(&v, 0, sizeof(v));
    v.type = MN_VOTE_PRECOMMIT;
    v.height = 7;
    v.round = 3;
    v.has_value = has_value;
    if (has_value)
        memset(v.value, 0xab, 32);
    mn_vote_sign(&v, chain, kp);
    return v;
}

static mn_proposal sample_proposal(const mn_keypair *kp, uint8_t payload)
{
    mn_proposal p;
    memset(&p, 0, sizeof(p));
    p.height = 7;
    p.round = 3;
    p.pol_round = 1;
    p.header.height = 7;
    memset(p.header.parent, 0x11, 32);
    mn_node_id(p.header.proposer, kp->pk);
    memset(p.header.vrf_proof, 0x22, sizeof(p.header.vrf_proof));
    memset(p.header.payload, payload, 32);
    mn_proposal_sign(&p, chain, kp);
    return p;
}

/* Encodes m, decodes it back, checks equality of the re-encoding, and that every strict prefix
 * of the encoding is refused. Returns the encoding (caller frees). */
static mn_buf roundtrip(const mn_cmsg *m)
{
    mn_err err;
    mn_buf a, b;
    mn_buf_init(&a, 0);
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_cmsg_encode(m, &a, &err), &err);
    mn_cmsg *back = calloc(1, sizeof(*back));
    ASSERT_OK(mn_cmsg_decode(a.data, a.len, back, &err), &err);
    ASSERT_OK(mn_cmsg_encode(back, &b, &err), &err);
    ASSERT_EQ(a.len, b.len);
    ASSERT_MEM_EQ(a.data, b.data, a.len);
    for (size_t n = 0; n < a.len; n++)
        ASSERT_NE(mn_cmsg_decode(a.data, n, back, &err), 0);
    free(back);
    mn_buf_deinit(&b);
    return a;
}

static void test_vote_roundtrip(void)
{
    mn_keypair kp;
    keypair(&kp, 1);
    for (int nil = 0; nil < 2; nil++) {
        mn_cmsg m = {.kind = MN_CMSG_VOTE};
        m.u.vote = sample_vote(&kp, nil == 0);
        mn_buf enc = roundtrip(&m);
        mn_buf_deinit(&enc);
        mn_vote v;
        mn_err err;
        mn_buf one;
        mn_buf_init(&one, 0);
        ASSERT_OK(mn_vote_encode(&m.u.vote, &one, &err), &err);
        ASSERT_OK(mn_vote_decode(one.data, one.len, &v, &err), &err);
        ASSERT_EQ(v.has_value, nil == 0);
        ASSERT_MEM_EQ(&v, &m.u.vote, sizeof(v));
        mn_buf_deinit(&one);
    }
}

static void test_proposal_and_commit_roundtrip(void)
{
    mn_keypair kp;
    keypair(&kp, 2);
    mn_cmsg m = {.kind = MN_CMSG_PROPOSAL};
    m.u.proposal = sample_proposal(&kp, 5);
    mn_buf enc = roundtrip(&m);
    mn_buf_deinit(&enc);

    mn_cmsg *c = calloc(1, sizeof(*c));
    c->kind = MN_CMSG_COMMIT;
    c->u.commit.header = m.u.proposal.header;
    c->u.commit.cert.height = 7;
    c->u.commit.cert.round = 2;
    mn_block_id(c->u.commit.cert.value, &c->u.commit.header);
    c->u.commit.cert.signer_bytes = 2;
    c->u.commit.cert.signers[0] = 0x0b; /* members 0, 1, 3 */
    c->u.commit.cert.sig_count = 3;
    memset(c->u.commit.cert.signatures, 0x5a, 3 * 64);
    enc = roundtrip(c);
    mn_buf_deinit(&enc);
    c->u.commit.cert.sig_count = 2; /* popcount mismatch: encodes, must not decode */
    mn_buf bad;
    mn_buf_init(&bad, 0);
    mn_err err;
    ASSERT_OK(mn_cmsg_encode(c, &bad, &err), &err);
    ASSERT_EQ(mn_cmsg_decode(bad.data, bad.len, c, &err), -MN_ECORRUPT);
    mn_buf_deinit(&bad);
    free(c);
}

static void test_evidence(void)
{
    mn_keypair kp;
    keypair(&kp, 3);
    mn_vote a = sample_vote(&kp, true), b = sample_vote(&kp, false);
    ASSERT_TRUE(mn_vote_conflicts(&a, &b));
    ASSERT_FALSE(mn_vote_conflicts(&a, &a));
    mn_cmsg m = {.kind = MN_CMSG_EVIDENCE}, m2 = {.kind = MN_CMSG_EVIDENCE};
    mn_evidence_from_votes(&m.u.evidence, &a, &b);
    mn_evidence_from_votes(&m2.u.evidence, &b, &a);
    ASSERT_MEM_EQ(&m.u.evidence, &m2.u.evidence, sizeof(m.u.evidence)); /* canonical order */
    mn_buf enc = roundtrip(&m);
    mn_buf_deinit(&enc);

    /* Swapped order, and two identical votes, are refused. */
    mn_evidence swapped = m.u.evidence;
    swapped.u.votes[0] = m.u.evidence.u.votes[1];
    swapped.u.votes[1] = m.u.evidence.u.votes[0];
    mn_buf buf;
    mn_buf_init(&buf, 0);
    mn_err err;
    mn_evidence out;
    ASSERT_OK(mn_evidence_encode(&swapped, &buf, &err), &err);
    ASSERT_EQ(mn_evidence_decode(buf.data, buf.len, &out, &err), -MN_ECORRUPT);
    buf.len = 0;
    swapped.u.votes[1] = swapped.u.votes[0];
    ASSERT_OK(mn_evidence_encode(&swapped, &buf, &err), &err);
    ASSERT_EQ(mn_evidence_decode(buf.data, buf.len, &out, &err), -MN_ECORRUPT);
    mn_buf_deinit(&buf);

    mn_proposal p1 = sample_proposal(&kp, 1), p2 = sample_proposal(&kp, 2);
    ASSERT_TRUE(mn_proposal_conflicts(&p1, &p2));
    m.kind = MN_CMSG_EVIDENCE;
    mn_evidence_from_proposals(&m.u.evidence, &p2, &p1);
    enc = roundtrip(&m);
    mn_buf_deinit(&enc);
}

static void test_signatures_bind_fields(void)
{
    mn_keypair kp, other;
    keypair(&kp, 4);
    keypair(&other, 5);
    mn_err err;
    mn_vote v = sample_vote(&kp, true);
    ASSERT_OK(mn_vote_verify(&v, chain, kp.pk, &err), &err);
    ASSERT_EQ(mn_vote_verify(&v, "metanode-other", kp.pk, &err), -MN_ECRYPTO);
    ASSERT_EQ(mn_vote_verify(&v, chain, other.pk, &err), -MN_ECRYPTO);
    mn_vote w = v;
    w.round++;
    ASSERT_EQ(mn_vote_verify(&w, chain, kp.pk, &err), -MN_ECRYPTO);
    w = v;
    w.height++;
    ASSERT_EQ(mn_vote_verify(&w, chain, kp.pk, &err), -MN_ECRYPTO);
    w = v;
    w.type = MN_VOTE_PREVOTE;
    ASSERT_EQ(mn_vote_verify(&w, chain, kp.pk, &err), -MN_ECRYPTO);
    w = v;
    w.value[31] ^= 1;
    ASSERT_EQ(mn_vote_verify(&w, chain, kp.pk, &err), -MN_ECRYPTO);

    mn_proposal p = sample_proposal(&kp, 9);
    ASSERT_OK(mn_proposal_verify(&p, chain, kp.pk, &err), &err);
    mn_proposal q = p;
    q.pol_round = 0;
    ASSERT_EQ(mn_proposal_verify(&q, chain, kp.pk, &err), -MN_ECRYPTO);
    q = p;
    q.header.payload[0] ^= 1;
    ASSERT_EQ(mn_proposal_verify(&q, chain, kp.pk, &err), -MN_ECRYPTO);

    /* Sign-bytes are a CBOR map whose first entry is the chain id. */
    mn_buf sb;
    mn_buf_init(&sb, 0);
    ASSERT_OK(mn_vote_sign_bytes(&v, chain, &sb, &err), &err);
    ASSERT_EQ(sb.data[0], 0xa6); /* map of 6 */
    ASSERT_EQ(sb.data[1], 0x01); /* key 1 */
    ASSERT_EQ(sb.data[2], 0x60 + strlen(chain));
    ASSERT_MEM_EQ(sb.data + 3, chain, strlen(chain));
    mn_buf_deinit(&sb);
}

/* Writes a vote map by hand so that single fields can be made wrong. */
static void hand_vote(mn_buf *out, uint64_t type, uint64_t round, bool swap_keys, bool nil_bytes)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    uint8_t z[64] = {0};
    mn_cbor_put_map(&e, 6);
    mn_cbor_put_key(&e, 1), mn_cbor_put_uint(&e, type);
    mn_cbor_put_key(&e, 2), mn_cbor_put_uint(&e, 5);
    mn_cbor_put_key(&e, 3), mn_cbor_put_uint(&e, round);
    mn_cbor_put_key(&e, 4);
    if (nil_bytes)
        mn_cbor_put_bytes(&e, z, 31);
    else
        mn_cbor_put_null(&e);
    mn_cbor_put_key(&e, swap_keys ? 6 : 5), mn_cbor_put_bytes(&e, z, swap_keys ? 64 : 32);
    if (!swap_keys) {
        mn_cbor_put_key(&e, 6), mn_cbor_put_bytes(&e, z, 64);
    } else {
        mn_cbor_put_key(&e, 7), mn_cbor_put_bytes(&e, z, 32);
    }
    mn_err err;
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
}

static void test_decoder_refuses(void)
{
    mn_err err;
    mn_vote v;
    mn_buf b;
    mn_buf_init(&b, 0);
    hand_vote(&b, 1, 0, false, false);
    ASSERT_OK(mn_vote_decode(b.data, b.len, &v, &err), &err);
    ASSERT_EQ(v.type, MN_VOTE_PREVOTE);
    b.len = 0;
    hand_vote(&b, 3, 0, false, false);
    ASSERT_EQ(mn_vote_decode(b.data, b.len, &v, &err), -MN_ECORRUPT);
    b.len = 0;
    hand_vote(&b, 0, 0, false, false);
    ASSERT_EQ(mn_vote_decode(b.data, b.len, &v, &err), -MN_ECORRUPT);
    b.len = 0;
    hand_vote(&b, 1, (uint64_t)UINT32_MAX + 1, false, false);
    ASSERT_EQ(mn_vote_decode(b.data, b.len, &v, &err), -MN_ECORRUPT);
    b.len = 0;
    hand_vote(&b, 1, 0, true, false);
    ASSERT_EQ(mn_vote_decode(b.data, b.len, &v, &err), -MN_ECORRUPT);
    b.len = 0;
    hand_vote(&b, 1, 0, false, true);
    ASSERT_EQ(mn_vote_decode(b.data, b.len, &v, &err), -MN_ECORRUPT);
    b.len = 0;
    hand_vote(&b, 1, 0, false, false);
    ASSERT_OK(mn_buf_append_byte(&b, 0, &err), &err); /* trailing byte */
    ASSERT_EQ(mn_vote_decode(b.data, b.len, &v, &err), -MN_ECORRUPT);
    mn_buf_deinit(&b);

    /* A proposal whose valid round is not below its round. */
    mn_keypair kp;
    keypair(&kp, 6);
    mn_proposal p = sample_proposal(&kp, 1);
    mn_buf_init(&b, 0);
    ASSERT_OK(mn_proposal_encode(&p, &b, &err), &err);
    mn_proposal q;
    ASSERT_OK(mn_proposal_decode(b.data, b.len, &q, &err), &err);
    /* Patch the round (key 2, value 3) to 1 == pol_round: map a6, 01 07, 02 03 -> 02 01. */
    ASSERT_EQ(b.data[3], 0x02);
    ASSERT_EQ(b.data[4], 0x03);
    b.data[4] = 0x01;
    ASSERT_EQ(mn_proposal_decode(b.data, b.len, &q, &err), -MN_ECORRUPT);
    mn_buf_deinit(&b);
}

MN_TEST_MAIN("consensus.msg", MN_TEST(test_vote_roundtrip),
             MN_TEST(test_proposal_and_commit_roundtrip), MN_TEST(test_evidence),
             MN_TEST(test_signatures_bind_fields), MN_TEST(test_decoder_refuses))
