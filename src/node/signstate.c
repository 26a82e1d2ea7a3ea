/* SPDX-License-Identifier: Apache-2.0
 *
 * signstate.c: the durable encoding of mn_bft_sign_state (node_msg.h), written by the node
 * before every signature leaves the core and read back at start-up. Strict: a corrupt record
 * is refused (the node then refuses to start rather than sign blindly). A state without a
 * round-entry justification keeps the 9-key encoding of earlier releases (key 10 is written
 * only when there is one), so states stored before it still load. Not here: where it is
 * stored (ledger meta, node.c).
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/node_msg.h"
#include "nested.h"


static int put_own(mn_cbor_enc *e, const mn_bft_own_round *o, mn_err *err)
{
    mn_cbor_put_map(e, 4);
    mn_cbor_put_key(e, 1);
    mn_cbor_put_uint(e, o->round);
    mn_cbor_put_key(e, 2);
    if (o->has_proposal)
        MN_NODE_PUT_NESTED(e, mn_proposal_encode, &o->proposal);
    else
        mn_cbor_put_null(e);
    mn_cbor_put_key(e, 3);
    if (o->has_prevote)
        MN_NODE_PUT_NESTED(e, mn_vote_encode, &o->prevote);
    else
        mn_cbor_put_null(e);
    mn_cbor_put_key(e, 4);
    if (o->has_precommit)
        MN_NODE_PUT_NESTED(e, mn_vote_encode, &o->precommit);
    else
        mn_cbor_put_null(e);
    return 0;
}

static bool entry_empty(const mn_bft_entry *en)
{
    return en->vote_count == 0 && !en->has_proposal;
}

static int put_entry(mn_cbor_enc *e, const mn_bft_entry *en, mn_err *err)
{
    if (en->vote_count > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "round entry of %u votes", en->vote_count);
    mn_cbor_put_map(e, 3);
    mn_cbor_put_key(e, 1);
    mn_cbor_put_uint(e, en->round);
    mn_cbor_put_key(e, 2);
    if (en->has_proposal)
        MN_NODE_PUT_NESTED(e, mn_proposal_encode, &en->proposal);
    else
        mn_cbor_put_null(e);
    mn_cbor_put_key(e, 3);
    mn_cbor_put_array(e, en->vote_count);
    for (uint32_t k = 0; k < en->vote_count; k++)
        MN_NODE_PUT_NESTED(e, mn_vote_encode, &en->votes[k]);
    return 0;
}

int mn_sign_state_encode(const mn_bft_sign_state *s, mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    const bool has_entry = !entry_empty(&s->entry);
    mn_cbor_put_map(&e, has_entry ? 10 : 9);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_uint(&e, s->height);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_uint(&e, s->round);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_uint(&e, s->step);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_int(&e, s->locked_round);
    mn_cbor_put_key(&e, 5);
    if (s->locked_round >= 0)
        MN_NODE_PUT_NESTED(&e, mn_block_header_encode, &s->locked_value);
    else
        mn_cbor_put_null(&e);
    mn_cbor_put_key(&e, 6);
    mn_cbor_put_int(&e, s->valid_round);
    mn_cbor_put_key(&e, 7);
    if (s->valid_round >= 0)
        MN_NODE_PUT_NESTED(&e, mn_block_header_encode, &s->valid_value);
    else
        mn_cbor_put_null(&e);
    mn_cbor_put_key(&e, 8);
    if (s->valid_round >= 0)
        MN_NODE_PUT_NESTED(&e, mn_commit_cert_encode, &s->valid_pol);
    else
        mn_cbor_put_null(&e);
    mn_cbor_put_key(&e, 9);
    mn_cbor_put_array(&e, 2);
    for (int i = 0; i < 2; i++)
        MN_TRY(put_own(&e, &s->own[i], err));
    if (has_entry) {
        mn_cbor_put_key(&e, 10);
        MN_TRY(put_entry(&e, &s->entry, err));
    }
    return mn_cbor_enc_finish(&e, err);
}

/* A byte string decoded by fn, or null (*present = false). */
#define OPTIONAL(d, present, fn, obj)                                                          \
    do {                                                                                       \
        mn_cbor_type t_;                                                                       \
        MN_TRY(mn_cbor_peek(d, &t_, err));                                                     \
        *(present) = t_ != MN_CBOR_NULL;                                                       \
        if (!*(present)) {                                                                     \
            MN_TRY(mn_cbor_get_null(d, err));                                                  \
        } else {                                                                               \
            const uint8_t *p_;                                                                 \
            size_t n_;                                                                         \
            MN_TRY(mn_cbor_get_bytes(d, &p_, &n_, err));                                       \
            MN_TRY(fn(p_, n_, obj, err));                                                      \
        }                                                                                      \
    } while (0)

static int get_own(mn_cbor_dec *d, mn_bft_own_round *o, mn_err *err)
{
    MN_TRY(mn_cbor_want_map(d, 4, "own round", err));
    MN_TRY(mn_cbor_want_key(d, 1, "own round", err));
    MN_TRY(mn_cbor_get_u32(d, &o->round, "round", err));
    MN_TRY(mn_cbor_want_key(d, 2, "own round", err));
    OPTIONAL(d, &o->has_proposal, mn_proposal_decode, &o->proposal);
    MN_TRY(mn_cbor_want_key(d, 3, "own round", err));
    OPTIONAL(d, &o->has_prevote, mn_vote_decode, &o->prevote);
    MN_TRY(mn_cbor_want_key(d, 4, "own round", err));
    OPTIONAL(d, &o->has_precommit, mn_vote_decode, &o->precommit);
    if ((o->has_prevote && (o->prevote.type != MN_VOTE_PREVOTE || o->prevote.round != o->round)) ||
        (o->has_precommit &&
         (o->precommit.type != MN_VOTE_PRECOMMIT || o->precommit.round != o->round)) ||
        (o->has_proposal && o->proposal.round != o->round))
        return mn_err_set(err, MN_ECORRUPT, 0, "own round %u holds another round's message",
                          o->round);
    return 0;
}

/* Key 10: the justification of s->round, of its height, of round s->round (line 55) or
 * s->round - 1 (line 65), at most one vote per validator in signer order, not empty. */
static int get_entry(mn_cbor_dec *d, const mn_bft_sign_state *s, mn_bft_entry *en, mn_err *err)
{
    uint64_t count;
    MN_TRY(mn_cbor_want_map(d, 3, "round entry", err));
    MN_TRY(mn_cbor_want_key(d, 1, "round entry", err));
    MN_TRY(mn_cbor_get_u32(d, &en->round, "round", err));
    if (en->round != s->round && (uint64_t)en->round + 1 != s->round)
        return mn_err_set(err, MN_ECORRUPT, 0, "round entry of round %u for round %u",
                          en->round, s->round);
    MN_TRY(mn_cbor_want_key(d, 2, "round entry", err));
    OPTIONAL(d, &en->has_proposal, mn_proposal_decode, &en->proposal);
    if (en->has_proposal &&
        (en->proposal.height != s->height || en->proposal.round != en->round))
        return mn_err_set(err, MN_ECORRUPT, 0, "round entry proposal of another round");
    MN_TRY(mn_cbor_want_key(d, 3, "round entry", err));
    MN_TRY(mn_cbor_get_array(d, &count, err));
    if (count > MN_VALIDATORS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "round entry of %llu votes",
                          (unsigned long long)count);
    if (count == 0 && !en->has_proposal)
        return mn_err_set(err, MN_ECORRUPT, 0, "empty round entry (written as absent)");
    for (uint32_t k = 0; k < (uint32_t)count; k++) {
        const uint8_t *p;
        size_t n;
        mn_vote *v = &en->votes[k];
        MN_TRY(mn_cbor_get_bytes(d, &p, &n, err));
        MN_TRY(mn_vote_decode(p, n, v, err));
        if (v->height != s->height || v->round != en->round)
            return mn_err_set(err, MN_ECORRUPT, 0, "round entry vote of another round");
        if (k > 0 && memcmp(en->votes[k - 1].signer, v->signer, MN_ID_BYTES) >= 0)
            return mn_err_set(err, MN_ECORRUPT, 0, "round entry votes not in signer order");
    }
    en->vote_count = (uint32_t)count;
    return 0;
}

static int check_round(int64_t r, mn_err *err)
{
    if (r < -1 || r > (int64_t)UINT32_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "signing state round %lld", (long long)r);
    return 0;
}

int mn_sign_state_decode(const uint8_t *data, size_t len, mn_bft_sign_state *out, mn_err *err)
{
    static _Thread_local mn_bft_sign_state s;
    mn_cbor_dec dd, *d = &dd;
    uint64_t v;
    bool present;
    memset(&s, 0, sizeof(s));
    mn_cbor_dec_init(d, data, len);
    uint64_t keys;
    MN_TRY(mn_cbor_get_map(d, &keys, err));
    if (keys != 9 && keys != 10)
        return mn_err_set(err, MN_ECORRUPT, 0, "signing state of %llu keys",
                          (unsigned long long)keys);
    MN_TRY(mn_cbor_want_key(d, 1, "signing state", err));
    MN_TRY(mn_cbor_get_uint(d, &s.height, err));
    MN_TRY(mn_cbor_want_key(d, 2, "signing state", err));
    MN_TRY(mn_cbor_get_u32(d, &s.round, "round", err));
    MN_TRY(mn_cbor_want_key(d, 3, "signing state", err));
    MN_TRY(mn_cbor_get_uint(d, &v, err));
    if (v > MN_STEP_COMMIT)
        return mn_err_set(err, MN_ECORRUPT, 0, "signing state step %llu", (unsigned long long)v);
    s.step = (uint32_t)v;
    MN_TRY(mn_cbor_want_key(d, 4, "signing state", err));
    MN_TRY(mn_cbor_get_int(d, &s.locked_round, err));
    MN_TRY(check_round(s.locked_round, err));
    MN_TRY(mn_cbor_want_key(d, 5, "signing state", err));
    OPTIONAL(d, &present, mn_block_header_decode, &s.locked_value);
    if (present != (s.locked_round >= 0))
        return mn_err_set(err, MN_ECORRUPT, 0, "locked value and round disagree");
    MN_TRY(mn_cbor_want_key(d, 6, "signing state", err));
    MN_TRY(mn_cbor_get_int(d, &s.valid_round, err));
    MN_TRY(check_round(s.valid_round, err));
    MN_TRY(mn_cbor_want_key(d, 7, "signing state", err));
    OPTIONAL(d, &present, mn_block_header_decode, &s.valid_value);
    if (present != (s.valid_round >= 0))
        return mn_err_set(err, MN_ECORRUPT, 0, "valid value and round disagree");
    MN_TRY(mn_cbor_want_key(d, 8, "signing state", err));
    OPTIONAL(d, &present, mn_commit_cert_decode, &s.valid_pol);
    if (present != (s.valid_round >= 0))
        return mn_err_set(err, MN_ECORRUPT, 0, "valid polka and round disagree");
    MN_TRY(mn_cbor_want_key(d, 9, "signing state", err));
    MN_TRY(mn_cbor_want_array(d, 2, "own rounds", err));
    for (int i = 0; i < 2; i++)
        MN_TRY(get_own(d, &s.own[i], err));
    if (keys == 10) {
        MN_TRY(mn_cbor_want_key(d, 10, "signing state", err));
        MN_TRY(get_entry(d, &s, &s.entry, err));
    }
    MN_TRY(mn_cbor_dec_finish(d, err));
    *out = s;
    return 0;
}
