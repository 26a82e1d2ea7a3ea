/* SPDX-License-Identifier: Apache-2.0
 *
 * msg.c: canonical encoding, sign-bytes, signing and verification of the consensus messages
 * (formats in consensus_msg.h). Encoders mirror the decoders of msg_decode.c field by field;
 * the round-trip tests and the fuzz target check encode(decode(b)) == b. Encoders assert the
 * range checks (a caller encoding a malformed message is a programmer error); decoders return
 * them as MN_ECORRUPT. Nothing here knows validator sets or stake.
 */
#include "metanode/consensus_msg.h"

#include "internal.h"

#include <string.h>

#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

static const uint8_t zero_id[MN_BLOCK_ID_BYTES];

int mn_block_header_check(const mn_block_header *h, mn_err *err)
{
    if (h->height == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "block height 0");
    if (h->height == 1 && memcmp(h->parent, zero_id, MN_BLOCK_ID_BYTES) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "block 1 has a parent");
    return 0;
}

int mn_proposal_check(const mn_proposal *p, mn_err *err)
{
    if (p->height == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "proposal height 0");
    if (p->header.height != p->height)
        return mn_err_set(err, MN_ECORRUPT, 0, "proposal height differs from its block's");
    if (p->pol_round < -1 || p->pol_round >= (int64_t)p->round)
        return mn_err_set(err, MN_ECORRUPT, 0, "valid round %lld not in [-1, %u)",
                          (long long)p->pol_round, p->round);
    return mn_block_header_check(&p->header, err);
}

int mn_vote_check(const mn_vote *v, mn_err *err)
{
    if (v->type != MN_VOTE_PREVOTE && v->type != MN_VOTE_PRECOMMIT)
        return mn_err_set(err, MN_ECORRUPT, 0, "vote type %d", (int)v->type);
    if (v->height == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "vote height 0");
    if (!v->has_value && memcmp(v->value, zero_id, MN_BLOCK_ID_BYTES) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "nil vote with a value");
    return 0;
}

/* ---- encoders (nested: write one item into an open encoder) -------------------------- */

static void put_header(mn_cbor_enc *e, const mn_block_header *h)
{
    mn_cbor_put_map(e, 5);
    mn_cbor_put_key(e, 1), mn_cbor_put_uint(e, h->height);
    mn_cbor_put_key(e, 2), mn_cbor_put_bytes(e, h->parent, MN_BLOCK_ID_BYTES);
    mn_cbor_put_key(e, 3), mn_cbor_put_bytes(e, h->proposer, MN_ID_BYTES);
    mn_cbor_put_key(e, 4), mn_cbor_put_bytes(e, h->vrf_proof, MN_VRF_PROOF_BYTES);
    mn_cbor_put_key(e, 5), mn_cbor_put_bytes(e, h->payload, 32);
}

static void put_value(mn_cbor_enc *e, bool has_value, const uint8_t value[MN_BLOCK_ID_BYTES])
{
    if (has_value)
        mn_cbor_put_bytes(e, value, MN_BLOCK_ID_BYTES);
    else
        mn_cbor_put_null(e);
}

static void put_proposal(mn_cbor_enc *e, const mn_proposal *p)
{
    MN_ASSERT(mn_proposal_check(p, NULL) == 0);
    mn_cbor_put_map(e, 6);
    mn_cbor_put_key(e, 1), mn_cbor_put_uint(e, p->height);
    mn_cbor_put_key(e, 2), mn_cbor_put_uint(e, p->round);
    mn_cbor_put_key(e, 3), mn_cbor_put_int(e, p->pol_round);
    mn_cbor_put_key(e, 4), put_header(e, &p->header);
    mn_cbor_put_key(e, 5), mn_cbor_put_bytes(e, p->signer, MN_ID_BYTES);
    mn_cbor_put_key(e, 6), mn_cbor_put_bytes(e, p->signature, MN_ED25519_SIG_BYTES);
}

static void put_vote(mn_cbor_enc *e, const mn_vote *v)
{
    MN_ASSERT(mn_vote_check(v, NULL) == 0);
    mn_cbor_put_map(e, 6);
    mn_cbor_put_key(e, 1), mn_cbor_put_uint(e, (uint64_t)v->type);
    mn_cbor_put_key(e, 2), mn_cbor_put_uint(e, v->height);
    mn_cbor_put_key(e, 3), mn_cbor_put_uint(e, v->round);
    mn_cbor_put_key(e, 4), put_value(e, v->has_value, v->value);
    mn_cbor_put_key(e, 5), mn_cbor_put_bytes(e, v->signer, MN_ID_BYTES);
    mn_cbor_put_key(e, 6), mn_cbor_put_bytes(e, v->signature, MN_ED25519_SIG_BYTES);
}

static void put_cert(mn_cbor_enc *e, const mn_commit_cert *c)
{
    MN_ASSERT(c->signer_bytes >= 1 && c->signer_bytes <= MN_VALIDATORS_MAX / 8);
    MN_ASSERT(c->sig_count <= MN_VALIDATORS_MAX);
    mn_cbor_put_map(e, 5);
    mn_cbor_put_key(e, 1), mn_cbor_put_uint(e, c->height);
    mn_cbor_put_key(e, 2), mn_cbor_put_uint(e, c->round);
    mn_cbor_put_key(e, 3), mn_cbor_put_bytes(e, c->value, MN_BLOCK_ID_BYTES);
    mn_cbor_put_key(e, 4), mn_cbor_put_bytes(e, c->signers, c->signer_bytes);
    mn_cbor_put_key(e, 5), mn_cbor_put_array(e, c->sig_count);
    for (uint32_t i = 0; i < c->sig_count; i++)
        mn_cbor_put_bytes(e, c->signatures[i], MN_ED25519_SIG_BYTES);
}

static void put_evidence(mn_cbor_enc *e, const mn_evidence *ev)
{
    MN_ASSERT(ev->kind == MN_EVIDENCE_DUPLICATE_VOTE || ev->kind == MN_EVIDENCE_DUPLICATE_PROPOSAL);
    mn_cbor_put_map(e, 3);
    mn_cbor_put_key(e, 1), mn_cbor_put_uint(e, (uint64_t)ev->kind);
    for (int i = 0; i < 2; i++) {
        mn_cbor_put_key(e, 2 + i);
        if (ev->kind == MN_EVIDENCE_DUPLICATE_VOTE)
            put_vote(e, &ev->u.votes[i]);
        else
            put_proposal(e, &ev->u.proposals[i]);
    }
}

static void put_cmsg(mn_cbor_enc *e, const mn_cmsg *m)
{
    mn_cbor_put_array(e, 2);
    mn_cbor_put_uint(e, (uint64_t)m->kind);
    switch (m->kind) {
    case MN_CMSG_PROPOSAL:
        put_proposal(e, &m->u.proposal);
        break;
    case MN_CMSG_VOTE:
        put_vote(e, &m->u.vote);
        break;
    case MN_CMSG_COMMIT:
        mn_cbor_put_map(e, 2);
        mn_cbor_put_key(e, 1), put_header(e, &m->u.commit.header);
        mn_cbor_put_key(e, 2), put_cert(e, &m->u.commit.cert);
        break;
    case MN_CMSG_EVIDENCE:
        put_evidence(e, &m->u.evidence);
        break;
    default:
        MN_UNREACHABLE();
    }
}

/* ---- top-level encoders --------------------------------------------------------------- */

#define ENCODE_WITH(put, obj)                                                                  \
    do {                                                                                       \
        mn_cbor_enc e_;                                                                        \
        mn_cbor_enc_init(&e_, out);                                                            \
        put(&e_, obj);                                                                         \
        return mn_cbor_enc_finish(&e_, err);                                                   \
    } while (0)

int mn_vote_encode(const mn_vote *v, mn_buf *out, mn_err *err)
{
    ENCODE_WITH(put_vote, v);
}

int mn_proposal_encode(const mn_proposal *p, mn_buf *out, mn_err *err)
{
    ENCODE_WITH(put_proposal, p);
}

int mn_block_header_encode(const mn_block_header *h, mn_buf *out, mn_err *err)
{
    MN_ASSERT(mn_block_header_check(h, NULL) == 0);
    ENCODE_WITH(put_header, h);
}

int mn_commit_cert_encode(const mn_commit_cert *c, mn_buf *out, mn_err *err)
{
    ENCODE_WITH(put_cert, c);
}

int mn_evidence_encode(const mn_evidence *ev, mn_buf *out, mn_err *err)
{
    ENCODE_WITH(put_evidence, ev);
}

int mn_cmsg_encode(const mn_cmsg *m, mn_buf *out, mn_err *err)
{
    ENCODE_WITH(put_cmsg, m);
}

void mn_block_id(uint8_t id[static MN_BLOCK_ID_BYTES], const mn_block_header *h)
{
    uint8_t raw[256];
    mn_buf buf = {.data = raw, .len = 0, .cap = sizeof(raw), .max = sizeof(raw)};
    mn_err err;
    /* A header encodes to 5 fixed-size fields (< 200 bytes): the stack buffer never grows. */
    MN_ASSERT(mn_block_header_encode(h, &buf, &err) == 0);
    MN_ASSERT(buf.data == raw);
    mn_sha256_tagged(id, MN_TAG_BLOCK_HEADER, buf.data, buf.len);
}

/* ---- sign-bytes, signing, verification ------------------------------------------------- */

static void put_chain_id(mn_cbor_enc *e, const char *chain_id)
{
    size_t len = strlen(chain_id);
    MN_ASSERT(len <= MN_CHAIN_ID_BYTES_MAX);
    mn_cbor_put_key(e, 1), mn_cbor_put_text(e, chain_id, len);
}

int mn_proposal_sign_bytes(const mn_proposal *p, const char *chain_id, mn_buf *out, mn_err *err)
{
    MN_ASSERT(mn_proposal_check(p, NULL) == 0);
    uint8_t id[MN_BLOCK_ID_BYTES];
    mn_block_id(id, &p->header);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, 6);
    put_chain_id(&e, chain_id);
    mn_cbor_put_key(&e, 2), mn_cbor_put_uint(&e, p->height);
    mn_cbor_put_key(&e, 3), mn_cbor_put_uint(&e, p->round);
    mn_cbor_put_key(&e, 4), mn_cbor_put_int(&e, p->pol_round);
    mn_cbor_put_key(&e, 5), mn_cbor_put_bytes(&e, id, MN_BLOCK_ID_BYTES);
    mn_cbor_put_key(&e, 6), mn_cbor_put_bytes(&e, p->signer, MN_ID_BYTES);
    return mn_cbor_enc_finish(&e, err);
}

int mn_vote_sign_bytes(const mn_vote *v, const char *chain_id, mn_buf *out, mn_err *err)
{
    MN_ASSERT(mn_vote_check(v, NULL) == 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, 6);
    put_chain_id(&e, chain_id);
    mn_cbor_put_key(&e, 2), mn_cbor_put_uint(&e, (uint64_t)v->type);
    mn_cbor_put_key(&e, 3), mn_cbor_put_uint(&e, v->height);
    mn_cbor_put_key(&e, 4), mn_cbor_put_uint(&e, v->round);
    mn_cbor_put_key(&e, 5), put_value(&e, v->has_value, v->value);
    mn_cbor_put_key(&e, 6), mn_cbor_put_bytes(&e, v->signer, MN_ID_BYTES);
    return mn_cbor_enc_finish(&e, err);
}

/* Sign-bytes are small (chain id <= 64 bytes plus fixed fields): a stack buffer suffices. */
typedef struct small_buf {
    uint8_t raw[256];
    mn_buf buf;
} small_buf;

static void small_init(small_buf *s)
{
    s->buf = (mn_buf){.data = s->raw, .len = 0, .cap = sizeof(s->raw), .max = sizeof(s->raw)};
}

void mn_proposal_sign(mn_proposal *p, const char *chain_id, const mn_keypair *kp)
{
    mn_node_id(p->signer, kp->pk);
    small_buf s;
    small_init(&s);
    mn_err err;
    MN_ASSERT(mn_proposal_sign_bytes(p, chain_id, &s.buf, &err) == 0);
    mn_sign(p->signature, MN_TAG_PROPOSAL, s.buf.data, s.buf.len, kp);
}

void mn_vote_sign(mn_vote *v, const char *chain_id, const mn_keypair *kp)
{
    mn_node_id(v->signer, kp->pk);
    small_buf s;
    small_init(&s);
    mn_err err;
    MN_ASSERT(mn_vote_sign_bytes(v, chain_id, &s.buf, &err) == 0);
    mn_sign(v->signature, MN_TAG_VOTE, s.buf.data, s.buf.len, kp);
}

static int check_signer(const uint8_t signer[MN_ID_BYTES], const uint8_t pk[32], mn_err *err)
{
    uint8_t id[MN_ID_BYTES];
    mn_node_id(id, pk);
    if (memcmp(id, signer, MN_ID_BYTES) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "key does not belong to the signer");
    return 0;
}

int mn_proposal_verify(const mn_proposal *p, const char *chain_id,
                       const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES], mn_err *err)
{
    int rc = check_signer(p->signer, pk, err);
    if (rc != 0)
        return rc;
    small_buf s;
    small_init(&s);
    MN_ASSERT(mn_proposal_sign_bytes(p, chain_id, &s.buf, err) == 0);
    if (mn_verify(p->signature, MN_TAG_PROPOSAL, s.buf.data, s.buf.len, pk) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "proposal signature does not verify");
    return 0;
}

int mn_vote_verify(const mn_vote *v, const char *chain_id,
                   const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES], mn_err *err)
{
    int rc = check_signer(v->signer, pk, err);
    if (rc != 0)
        return rc;
    small_buf s;
    small_init(&s);
    MN_ASSERT(mn_vote_sign_bytes(v, chain_id, &s.buf, err) == 0);
    if (mn_verify(v->signature, MN_TAG_VOTE, s.buf.data, s.buf.len, pk) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "vote signature does not verify");
    return 0;
}

/* ---- conflicts and evidence ------------------------------------------------------------ */

bool mn_vote_conflicts(const mn_vote *a, const mn_vote *b)
{
    if (a->type != b->type || a->height != b->height || a->round != b->round ||
        memcmp(a->signer, b->signer, MN_ID_BYTES) != 0)
        return false;
    if (a->has_value != b->has_value)
        return true;
    return a->has_value && memcmp(a->value, b->value, MN_BLOCK_ID_BYTES) != 0;
}

bool mn_proposal_conflicts(const mn_proposal *a, const mn_proposal *b)
{
    if (a->height != b->height || a->round != b->round ||
        memcmp(a->signer, b->signer, MN_ID_BYTES) != 0)
        return false;
    if (a->pol_round != b->pol_round)
        return true;
    uint8_t ia[MN_BLOCK_ID_BYTES], ib[MN_BLOCK_ID_BYTES];
    mn_block_id(ia, &a->header);
    mn_block_id(ib, &b->header);
    return memcmp(ia, ib, MN_BLOCK_ID_BYTES) != 0;
}

/* Order of two encodings: bytes first, then length (a prefix sorts first). */
static int encoding_cmp(const mn_buf *a, const mn_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* True when the encoding of x sorts before that of y (both must encode). */
static bool sorts_before(const mn_evidence *ev, int x, int y)
{
    mn_buf a, b;
    mn_buf_init(&a, MN_CMSG_BYTES_MAX);
    mn_buf_init(&b, MN_CMSG_BYTES_MAX);
    mn_err err;
    if (ev->kind == MN_EVIDENCE_DUPLICATE_VOTE) {
        MN_ASSERT(mn_vote_encode(&ev->u.votes[x], &a, &err) == 0);
        MN_ASSERT(mn_vote_encode(&ev->u.votes[y], &b, &err) == 0);
    } else {
        MN_ASSERT(mn_proposal_encode(&ev->u.proposals[x], &a, &err) == 0);
        MN_ASSERT(mn_proposal_encode(&ev->u.proposals[y], &b, &err) == 0);
    }
    bool before = encoding_cmp(&a, &b) < 0;
    mn_buf_deinit(&a);
    mn_buf_deinit(&b);
    return before;
}

bool mn__evidence_ordered(const mn_evidence *ev)
{
    return sorts_before(ev, 0, 1);
}

void mn_evidence_from_votes(mn_evidence *e, const mn_vote *a, const mn_vote *b)
{
    MN_ASSERT(mn_vote_conflicts(a, b));
    memset(e, 0, sizeof(*e));
    e->kind = MN_EVIDENCE_DUPLICATE_VOTE;
    e->u.votes[0] = *a;
    e->u.votes[1] = *b;
    if (!sorts_before(e, 0, 1)) {
        e->u.votes[0] = *b;
        e->u.votes[1] = *a;
    }
}

void mn_evidence_from_proposals(mn_evidence *e, const mn_proposal *a, const mn_proposal *b)
{
    MN_ASSERT(mn_proposal_conflicts(a, b));
    memset(e, 0, sizeof(*e));
    e->kind = MN_EVIDENCE_DUPLICATE_PROPOSAL;
    e->u.proposals[0] = *a;
    e->u.proposals[1] = *b;
    if (!sorts_before(e, 0, 1)) {
        e->u.proposals[0] = *b;
        e->u.proposals[1] = *a;
    }
}
