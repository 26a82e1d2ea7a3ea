/* SPDX-License-Identifier: Apache-2.0
 *
 * msg_decode.c: strict decoders of the consensus messages, the mirror image of msg.c. Every
 * map is read in its one canonical key order with exact sizes; a message out of range (a vote
 * type other than prevote/precommit, a valid round not below the round, evidence that does not
 * conflict or is not in canonical order) is MN_ECORRUPT. Nothing is written to the caller's
 * output unless the whole input passes. Signatures are not checked here.
 */
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/consensus_msg.h"

#define FIELD(key, call)                                                                       \
    do {                                                                                       \
        MN_TRY(mn_cbor_want_key(d, key, "consensus message", err));                                                            \
        MN_TRY(call);                                                                             \
    } while (0)

static int get_header(mn_cbor_dec *d, mn_block_header *h, mn_err *err)
{
    MN_TRY(mn_cbor_want_map(d, 5, "block header", err));
    FIELD(1, mn_cbor_get_uint(d, &h->height, err));
    FIELD(2, mn_cbor_get_bytes_n(d, h->parent, MN_BLOCK_ID_BYTES, err));
    FIELD(3, mn_cbor_get_bytes_n(d, h->proposer, MN_ID_BYTES, err));
    FIELD(4, mn_cbor_get_bytes_n(d, h->vrf_proof, MN_VRF_PROOF_BYTES, err));
    FIELD(5, mn_cbor_get_bytes_n(d, h->payload, 32, err));
    return mn_block_header_check(h, err);
}

static int get_value(mn_cbor_dec *d, bool *has_value, uint8_t value[MN_BLOCK_ID_BYTES],
                     mn_err *err)
{
    mn_cbor_type t;
    MN_TRY(mn_cbor_peek(d, &t, err));
    *has_value = t != MN_CBOR_NULL;
    return *has_value ? mn_cbor_get_bytes_n(d, value, MN_BLOCK_ID_BYTES, err)
                      : mn_cbor_get_null(d, err);
}

static int get_proposal(mn_cbor_dec *d, mn_proposal *p, mn_err *err)
{
    MN_TRY(mn_cbor_want_map(d, 6, "proposal", err));
    FIELD(1, mn_cbor_get_uint(d, &p->height, err));
    FIELD(2, mn_cbor_get_u32(d, &p->round, "round", err));
    FIELD(3, mn_cbor_get_int(d, &p->pol_round, err));
    FIELD(4, get_header(d, &p->header, err));
    FIELD(5, mn_cbor_get_bytes_n(d, p->signer, MN_ID_BYTES, err));
    FIELD(6, mn_cbor_get_bytes_n(d, p->signature, MN_ED25519_SIG_BYTES, err));
    return mn_proposal_check(p, err);
}

static int get_vote(mn_cbor_dec *d, mn_vote *v, mn_err *err)
{
    uint64_t type;
    MN_TRY(mn_cbor_want_map(d, 6, "vote", err));
    FIELD(1, mn_cbor_get_uint(d, &type, err));
    if (type != MN_VOTE_PREVOTE && type != MN_VOTE_PRECOMMIT)
        return mn_err_set(err, MN_ECORRUPT, 0, "vote type %llu", (unsigned long long)type);
    v->type = (mn_vote_type)type;
    FIELD(2, mn_cbor_get_uint(d, &v->height, err));
    FIELD(3, mn_cbor_get_u32(d, &v->round, "round", err));
    FIELD(4, get_value(d, &v->has_value, v->value, err));
    FIELD(5, mn_cbor_get_bytes_n(d, v->signer, MN_ID_BYTES, err));
    FIELD(6, mn_cbor_get_bytes_n(d, v->signature, MN_ED25519_SIG_BYTES, err));
    return mn_vote_check(v, err);
}

static int get_signers(mn_cbor_dec *d, mn_commit_cert *c, mn_err *err)
{
    const uint8_t *bits;
    size_t len;
    MN_TRY(mn_cbor_get_bytes(d, &bits, &len, err));
    if (len == 0 || len > MN_VALIDATORS_MAX / 8)
        return mn_err_set(err, MN_ECORRUPT, 0, "signer bitset of %zu bytes", len);
    memcpy(c->signers, bits, len);
    c->signer_bytes = (uint32_t)len;
    return 0;
}

static uint32_t popcount_bytes(const uint8_t *b, uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++)
        count += (uint32_t)__builtin_popcount(b[i]);
    return count;
}

static int get_cert(mn_cbor_dec *d, mn_commit_cert *c, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_want_map(d, 5, "commit certificate", err));
    FIELD(1, mn_cbor_get_uint(d, &c->height, err));
    FIELD(2, mn_cbor_get_u32(d, &c->round, "round", err));
    FIELD(3, mn_cbor_get_bytes_n(d, c->value, MN_BLOCK_ID_BYTES, err));
    FIELD(4, get_signers(d, c, err));
    FIELD(5, mn_cbor_get_array(d, &n, err));
    if (n > MN_VALIDATORS_MAX || n != popcount_bytes(c->signers, c->signer_bytes))
        return mn_err_set(err, MN_ECORRUPT, 0, "%llu signatures for %u signers",
                          (unsigned long long)n, popcount_bytes(c->signers, c->signer_bytes));
    c->sig_count = (uint32_t)n;
    for (uint32_t i = 0; i < c->sig_count; i++)
        MN_TRY(mn_cbor_get_bytes_n(d, c->signatures[i], MN_ED25519_SIG_BYTES, err));
    if (c->height == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "commit height 0");
    return 0;
}

static int get_evidence(mn_cbor_dec *d, mn_evidence *ev, mn_err *err)
{
    uint64_t kind;
    MN_TRY(mn_cbor_want_map(d, 3, "evidence", err));
    FIELD(1, mn_cbor_get_uint(d, &kind, err));
    if (kind != MN_EVIDENCE_DUPLICATE_VOTE && kind != MN_EVIDENCE_DUPLICATE_PROPOSAL)
        return mn_err_set(err, MN_ECORRUPT, 0, "evidence kind %llu", (unsigned long long)kind);
    ev->kind = (mn_evidence_kind)kind;
    for (int i = 0; i < 2; i++) {
        if (ev->kind == MN_EVIDENCE_DUPLICATE_VOTE)
            FIELD(2 + i, get_vote(d, &ev->u.votes[i], err));
        else
            FIELD(2 + i, get_proposal(d, &ev->u.proposals[i], err));
    }
    bool conflict = ev->kind == MN_EVIDENCE_DUPLICATE_VOTE
                        ? mn_vote_conflicts(&ev->u.votes[0], &ev->u.votes[1])
                        : mn_proposal_conflicts(&ev->u.proposals[0], &ev->u.proposals[1]);
    if (!conflict)
        return mn_err_set(err, MN_ECORRUPT, 0, "evidence messages do not conflict");
    if (!mn__evidence_ordered(ev))
        return mn_err_set(err, MN_ECORRUPT, 0, "evidence messages out of canonical order");
    return 0;
}

static int get_cmsg(mn_cbor_dec *d, mn_cmsg *m, mn_err *err)
{
    uint64_t n, kind;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n != 2)
        return mn_err_set(err, MN_ECORRUPT, 0, "envelope of %llu items", (unsigned long long)n);
    MN_TRY(mn_cbor_get_uint(d, &kind, err));
    m->kind = (mn_cmsg_kind)kind;
    switch (kind) {
    case MN_CMSG_PROPOSAL:
        return get_proposal(d, &m->u.proposal, err);
    case MN_CMSG_VOTE:
        return get_vote(d, &m->u.vote, err);
    case MN_CMSG_COMMIT:
        MN_TRY(mn_cbor_want_map(d, 2, "commit", err));
        FIELD(1, get_header(d, &m->u.commit.header, err));
        FIELD(2, get_cert(d, &m->u.commit.cert, err));
        if (m->u.commit.cert.height != m->u.commit.header.height)
            return mn_err_set(err, MN_ECORRUPT, 0, "certificate for another height");
        return 0;
    case MN_CMSG_EVIDENCE:
        return get_evidence(d, &m->u.evidence, err);
    default:
        return mn_err_set(err, MN_ECORRUPT, 0, "message kind %llu", (unsigned long long)kind);
    }
}

/* Runs one nested getter over a whole document into a zeroed temporary (on the stack: at most
 * one certificate, about 9 KiB), then copies it out only on success. */
#define DECODE_WITH(get, type, out)                                                            \
    do {                                                                                       \
        if (len > MN_CMSG_BYTES_MAX)                                                           \
            return mn_err_set(err, MN_ELIMIT, 0, "message of %zu bytes", len);                 \
        type tmp_;                                                                             \
        memset(&tmp_, 0, sizeof(tmp_));                                                        \
        mn_cbor_dec d_;                                                                        \
        mn_cbor_dec_init(&d_, data, len);                                                      \
        int rc_ = get(&d_, &tmp_, err);                                                            \
        if (rc_ == 0)                                                                          \
            rc_ = mn_cbor_dec_finish(&d_, err);                                                \
        if (rc_ == 0)                                                                          \
            *(out) = tmp_;                                                                      \
        return rc_;                                                                            \
    } while (0)

int mn_vote_decode(const uint8_t *data, size_t len, mn_vote *v, mn_err *err)
{
    DECODE_WITH(get_vote, mn_vote, v);
}

int mn_proposal_decode(const uint8_t *data, size_t len, mn_proposal *p, mn_err *err)
{
    DECODE_WITH(get_proposal, mn_proposal, p);
}

int mn_block_header_decode(const uint8_t *data, size_t len, mn_block_header *h, mn_err *err)
{
    DECODE_WITH(get_header, mn_block_header, h);
}

int mn_commit_cert_decode(const uint8_t *data, size_t len, mn_commit_cert *c, mn_err *err)
{
    DECODE_WITH(get_cert, mn_commit_cert, c);
}

int mn_evidence_decode(const uint8_t *data, size_t len, mn_evidence *e, mn_err *err)
{
    DECODE_WITH(get_evidence, mn_evidence, e);
}

int mn_cmsg_decode(const uint8_t *data, size_t len, mn_cmsg *m, mn_err *err)
{
    DECODE_WITH(get_cmsg, mn_cmsg, m);
}
