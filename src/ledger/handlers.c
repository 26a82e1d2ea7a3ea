/* SPDX-License-Identifier: Apache-2.0
 *
 * handlers.c: the built-in transaction types: register (a node's addresses, resources and
 * labels), bond and unbond (a validator's self-bonded stake), evidence (equivocation: the
 * offender loses its whole stake and is tombstoned) and note (opaque bytes). Each has a
 * stateless check of its canonical body and an apply that validates everything before its
 * first write. Not here: nonces and signatures (ledger.c), the validator set (valset.c).
 */
#include <string.h>

#include "internal.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/tags.h"

/* Longest text of a registration (an address "host:port", a resource or label name/value). */
#define REGISTER_TEXT_MAX 128u

static size_t make_key(uint8_t *key, char prefix, const uint8_t *a, size_t alen)
{
    key[0] = (uint8_t)prefix;
    key[1] = '/';
    memcpy(key + 2, a, alen);
    return 2 + alen;
}

/* ---- validator records {1: vrf pk, 2: stake, 3: noise pk} ---- */

typedef struct vrec {
    uint8_t vrf_pk[32];
    uint64_t stake;
    uint8_t noise_pk[32];
} vrec;

static int vrec_decode(vrec *r, const uint8_t *v, size_t len, mn_err *err)
{
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, v, len);
    MN_TRY(mn_cbor_want_map(&d, 3, "validator record", err));
    MN_TRY(mn_cbor_want_key(&d, 1, "validator record", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, r->vrf_pk, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "validator record", err));
    MN_TRY(mn_cbor_get_uint(&d, &r->stake, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "validator record", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, r->noise_pk, 32, err));
    return mn_cbor_dec_finish(&d, err);
}

int mn__ledger_vrec_encode(const uint8_t vrf_pk[32], uint64_t stake, const uint8_t noise_pk[32],
                           mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, 3);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_bytes(&e, vrf_pk, 32);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_uint(&e, stake);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, noise_pk, 32);
    return mn_cbor_enc_finish(&e, err);
}

static int vrec_put(mn_ledger_exec *x, const uint8_t pk[32], const vrec *r, mn_err *err)
{
    uint8_t key[34];
    make_key(key, MN_LEDGER_KEY_VALIDATOR, pk, 32);
    if (r->stake == 0) {
        mn_ledger_exec_del(x, key, sizeof key);
        return 0;
    }
    mn_buf b;
    mn_buf_init(&b, 0);
    int rc = mn__ledger_vrec_encode(r->vrf_pk, r->stake, r->noise_pk, &b, err);
    if (rc == 0)
        rc = mn_ledger_exec_put(x, key, sizeof key, b.data, b.len, err);
    mn_buf_deinit(&b);
    return rc;
}

/* 1: found, 0: absent, <0: a corrupt record. */
static int vrec_get(mn_ledger_exec *x, const uint8_t pk[32], vrec *r, mn_err *err)
{
    uint8_t key[34];
    make_key(key, MN_LEDGER_KEY_VALIDATOR, pk, 32);
    size_t vlen;
    const uint8_t *v = mn_ledger_exec_get(x, key, sizeof key, &vlen);
    if (v == NULL)
        return 0;
    MN_TRY(vrec_decode(r, v, vlen, err));
    return 1;
}

typedef struct totals {
    uint64_t stake;
    uint32_t count;
} totals;

static int add_total(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key;
    (void)klen;
    totals *t = ctx;
    vrec r;
    mn_err err;
    if (vrec_decode(&r, val, vlen, &err) != 0)
        return -1;
    t->stake += r.stake; /* bounded: every write keeps the total below 2^63 */
    t->count++;
    return 0;
}

static int stake_totals(mn_ledger_exec *x, totals *t, mn_err *err)
{
    memset(t, 0, sizeof *t);
    const uint8_t prefix[2] = {MN_LEDGER_KEY_VALIDATOR, '/'};
    if (mn__tree_visit(&x->tree, prefix, 2, add_total, t) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "state: corrupt validator record");
    return 0;
}

static bool tombstoned(mn_ledger_exec *x, const uint8_t pk[32])
{
    uint8_t key[34];
    size_t vlen;
    make_key(key, MN_LEDGER_KEY_TOMBSTONE, pk, 32);
    return mn_ledger_exec_get(x, key, sizeof key, &vlen) != NULL;
}

/* ---- register {1: node id, 2: [address...], 3: [[name, amount]...], 4: [[key, value]...]} */

static int get_short_text(mn_cbor_dec *d, const char **t, size_t *n, mn_err *err)
{
    MN_TRY(mn_cbor_get_text(d, t, n, err));
    if (*n == 0 || *n > REGISTER_TEXT_MAX)
        return mn_err_set(err, MN_ECORRUPT, 0, "register: text of %zu bytes (1..%u)", *n,
                          REGISTER_TEXT_MAX);
    return 0;
}

static int sorted_after(const char *prev, size_t plen, const char *t, size_t n, mn_err *err)
{
    if (prev == NULL)
        return 0;
    const size_t m = plen < n ? plen : n;
    const int c = memcmp(prev, t, m);
    if (c < 0 || (c == 0 && plen < n))
        return 0;
    return mn_err_set(err, MN_ECORRUPT, 0, "register: names not strictly sorted");
}

static int register_pairs(mn_cbor_dec *d, bool values_are_text, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n > MN_REGISTER_ITEMS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "register: %llu items (max %u)",
                          (unsigned long long)n, MN_REGISTER_ITEMS_MAX);
    const char *prev = NULL;
    size_t plen = 0;
    for (uint64_t i = 0; i < n; i++) {
        const char *t;
        size_t tl;
        MN_TRY(mn_cbor_want_array(d, 2, "register pair", err));
        MN_TRY(get_short_text(d, &t, &tl, err));
        MN_TRY(sorted_after(prev, plen, t, tl, err));
        prev = t;
        plen = tl;
        if (values_are_text) {
            const char *v;
            size_t vl;
            MN_TRY(get_short_text(d, &v, &vl, err));
        } else {
            uint64_t amount;
            MN_TRY(mn_cbor_get_uint(d, &amount, err));
        }
    }
    return 0;
}

static int register_check(const mn_tx *tx, mn_err *err)
{
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, tx->body, tx->body_len);
    uint8_t id[32], want[32];
    MN_TRY(mn_cbor_want_map(&d, 4, "register", err));
    MN_TRY(mn_cbor_want_key(&d, 1, "register", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, id, 32, err));
    mn_node_id(want, tx->sender);
    if (memcmp(id, want, 32) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "register: node id is not the sender's");
    MN_TRY(mn_cbor_want_key(&d, 2, "register", err));
    uint64_t n;
    MN_TRY(mn_cbor_get_array(&d, &n, err));
    if (n > MN_REGISTER_ITEMS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "register: %llu addresses (max %u)",
                          (unsigned long long)n, MN_REGISTER_ITEMS_MAX);
    for (uint64_t i = 0; i < n; i++) {
        const char *t;
        size_t tl;
        MN_TRY(get_short_text(&d, &t, &tl, err));
    }
    MN_TRY(mn_cbor_want_key(&d, 3, "register", err));
    MN_TRY(register_pairs(&d, false, err));
    MN_TRY(mn_cbor_want_key(&d, 4, "register", err));
    MN_TRY(register_pairs(&d, true, err));
    return mn_cbor_dec_finish(&d, err);
}

static int register_apply(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32],
                          mn_err *err)
{
    (void)hash;
    uint8_t key[34];
    make_key(key, MN_LEDGER_KEY_NODE, tx->sender, 32);
    return mn_ledger_exec_put(x, key, sizeof key, tx->body, tx->body_len, err);
}

/* ---- bond {1: validator pk, 2: vrf pk, 3: amount, 4: noise pk} ---- */

typedef struct bond_body {
    uint8_t pk[32], vrf_pk[32], noise_pk[32];
    uint64_t amount;
} bond_body;

static int bond_decode(const mn_tx *tx, bond_body *b, mn_err *err)
{
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, tx->body, tx->body_len);
    MN_TRY(mn_cbor_want_map(&d, 4, "bond", err));
    MN_TRY(mn_cbor_want_key(&d, 1, "bond", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->pk, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "bond", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->vrf_pk, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "bond", err));
    MN_TRY(mn_cbor_get_uint(&d, &b->amount, err));
    MN_TRY(mn_cbor_want_key(&d, 4, "bond", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, b->noise_pk, 32, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    if (b->amount == 0 || b->amount > (UINT64_MAX >> 1))
        return mn_err_set(err, MN_EINVAL, 0, "bond: amount must be in 1..2^63-1");
    if (memcmp(b->pk, tx->sender, 32) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "bond: only the validator key bonds itself");
    return 0;
}

static int bond_check(const mn_tx *tx, mn_err *err)
{
    bond_body b;
    return bond_decode(tx, &b, err);
}

static int bond_apply(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32], mn_err *err)
{
    (void)hash;
    bond_body b;
    MN_TRY(bond_decode(tx, &b, err));
    if (tombstoned(x, b.pk))
        return mn_err_set(err, MN_EPERM, 0, "bond: the validator key was slashed");
    vrec r;
    const int found = vrec_get(x, b.pk, &r, err);
    if (found < 0)
        return found;
    totals t;
    MN_TRY(stake_totals(x, &t, err));
    if (b.amount > (UINT64_MAX >> 1) - t.stake)
        return mn_err_set(err, MN_ELIMIT, 0, "bond: total stake would exceed 2^63 - 1");
    if (!found) {
        if (t.count >= MN_VALIDATORS_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "bond: the set is full (%u validators)",
                              MN_VALIDATORS_MAX);
        r.stake = 0;
    }
    memcpy(r.vrf_pk, b.vrf_pk, 32);
    memcpy(r.noise_pk, b.noise_pk, 32);
    r.stake += b.amount;
    return vrec_put(x, b.pk, &r, err);
}

/* ---- unbond {1: validator pk, 2: amount} ---- */

static int unbond_decode(const mn_tx *tx, uint8_t pk[32], uint64_t *amount, mn_err *err)
{
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, tx->body, tx->body_len);
    MN_TRY(mn_cbor_want_map(&d, 2, "unbond", err));
    MN_TRY(mn_cbor_want_key(&d, 1, "unbond", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, pk, 32, err));
    MN_TRY(mn_cbor_want_key(&d, 2, "unbond", err));
    MN_TRY(mn_cbor_get_uint(&d, amount, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    if (*amount == 0)
        return mn_err_set(err, MN_EINVAL, 0, "unbond: zero amount");
    if (memcmp(pk, tx->sender, 32) != 0)
        return mn_err_set(err, MN_EINVAL, 0, "unbond: only the validator key unbonds itself");
    return 0;
}

static int unbond_check(const mn_tx *tx, mn_err *err)
{
    uint8_t pk[32];
    uint64_t amount;
    return unbond_decode(tx, pk, &amount, err);
}

static int unbond_apply(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32],
                        mn_err *err)
{
    (void)hash;
    uint8_t pk[32];
    uint64_t amount;
    MN_TRY(unbond_decode(tx, pk, &amount, err));
    vrec r;
    const int found = vrec_get(x, pk, &r, err);
    if (found < 0)
        return found;
    if (!found || amount > r.stake)
        return mn_err_set(err, MN_EINVAL, 0, "unbond: more than the bonded stake");
    totals t;
    MN_TRY(stake_totals(x, &t, err));
    if (t.stake == amount)
        return mn_err_set(err, MN_EINVAL, 0, "unbond: would leave no stake at all");
    r.stake -= amount;
    return vrec_put(x, pk, &r, err);
}

/* ---- evidence ---- */

void mn__evidence_hash(const mn_evidence *e, uint8_t hash[32])
{
    mn_buf b;
    mn_err err;
    mn_buf_init(&b, 0);
    MN_ASSERT(mn_evidence_encode(e, &b, &err) == 0);
    mn_sha256(hash, b.data, b.len);
    mn_buf_deinit(&b);
}

int mn__evidence_apply(mn_ledger_exec *x, const mn_evidence *e, mn_err *err)
{
    const char *chain_id = mn__ledger_genesis(x->l)->chain_id;
    uint64_t height;
    const uint8_t *signer;
    if (e->kind == MN_EVIDENCE_DUPLICATE_VOTE) {
        if (!mn_vote_conflicts(&e->u.votes[0], &e->u.votes[1]))
            return mn_err_set(err, MN_EINVAL, 0, "evidence: the votes do not conflict");
        height = e->u.votes[0].height;
        signer = e->u.votes[0].signer;
    } else if (e->kind == MN_EVIDENCE_DUPLICATE_PROPOSAL) {
        if (!mn_proposal_conflicts(&e->u.proposals[0], &e->u.proposals[1]))
            return mn_err_set(err, MN_EINVAL, 0, "evidence: the proposals do not conflict");
        height = e->u.proposals[0].height;
        signer = e->u.proposals[0].signer;
    } else {
        return mn_err_set(err, MN_EINVAL, 0, "evidence: unknown kind");
    }
    if (height == 0 || height > x->height)
        return mn_err_set(err, MN_EINVAL, 0, "evidence: height %llu not before %llu",
                          (unsigned long long)height, (unsigned long long)x->height);
    const mn_bft_valset *vs = mn_ledger_valset_at(x->l, height);
    if (vs == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "evidence: no validator set for its height");
    const int idx = mn_bft_valset_find(vs, signer);
    if (idx < 0)
        return mn_err_set(err, MN_EINVAL, 0, "evidence: the signer was not a validator");
    const uint8_t *pk = vs->pk[idx];
    for (int i = 0; i < 2; i++) {
        const int rc = e->kind == MN_EVIDENCE_DUPLICATE_VOTE
                           ? mn_vote_verify(&e->u.votes[i], chain_id, pk, err)
                           : mn_proposal_verify(&e->u.proposals[i], chain_id, pk, err);
        if (rc != 0)
            return mn_err_wrap(err, "evidence");
    }
    uint8_t ekey[2 + 32 + 8];
    make_key(ekey, MN_LEDGER_KEY_EVIDENCE, signer, 32);
    mn_store_u64_be(ekey + 34, height);
    size_t vlen;
    if (mn_ledger_exec_get(x, ekey, sizeof ekey, &vlen) != NULL)
        return mn_err_set(err, MN_EEXIST, 0, "evidence: already punished at that height");
    vrec r;
    const int found = vrec_get(x, pk, &r, err);
    if (found < 0)
        return found;
    if (found) {
        totals t;
        MN_TRY(stake_totals(x, &t, err));
        if (t.stake == r.stake)
            return mn_err_set(err, MN_EINVAL, 0, "evidence: would slash the last validator");
    }
    /* All checked: write. The evidence record {1: evidence hash}, the tombstone {1: height}. */
    uint8_t val[2 + 2 + 32];
    val[0] = 0xa1;
    val[1] = 0x01;
    val[2] = 0x58;
    val[3] = 32;
    mn__evidence_hash(e, val + 4);
    MN_TRY(mn_ledger_exec_put(x, ekey, sizeof ekey, val, sizeof val, err));
    uint8_t tkey[34];
    make_key(tkey, MN_LEDGER_KEY_TOMBSTONE, pk, 32);
    mn_buf tb;
    mn_buf_init(&tb, 0);
    mn_cbor_enc enc;
    mn_cbor_enc_init(&enc, &tb);
    mn_cbor_put_map(&enc, 1);
    mn_cbor_put_key(&enc, 1);
    mn_cbor_put_uint(&enc, height);
    int rc = mn_cbor_enc_finish(&enc, err);
    if (rc == 0)
        rc = mn_ledger_exec_put(x, tkey, sizeof tkey, tb.data, tb.len, err);
    mn_buf_deinit(&tb);
    MN_TRY(rc);
    if (found) {
        r.stake = 0; /* slashed: the whole stake; the record goes, so the key leaves the set */
        MN_TRY(vrec_put(x, pk, &r, err));
    }
    return 0;
}

static int evidence_check(const mn_tx *tx, mn_err *err)
{
    mn_evidence e;
    return mn_evidence_decode(tx->body, tx->body_len, &e, err);
}

static int evidence_apply(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32],
                          mn_err *err)
{
    (void)hash;
    mn_evidence e;
    MN_TRY(mn_evidence_decode(tx->body, tx->body_len, &e, err));
    return mn__evidence_apply(x, &e, err);
}

/* ---- note: a CBOR byte string of at most MN_TX_NOTE_BYTES_MAX ---- */

static int note_check(const mn_tx *tx, mn_err *err)
{
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, tx->body, tx->body_len);
    const uint8_t *p;
    size_t n;
    MN_TRY(mn_cbor_get_bytes(&d, &p, &n, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    if (n > MN_TX_NOTE_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "note of %zu bytes (max %u)", n,
                          MN_TX_NOTE_BYTES_MAX);
    return 0;
}

static int note_apply(mn_ledger_exec *x, const mn_tx *tx, const uint8_t hash[32], mn_err *err)
{
    (void)x;
    (void)tx;
    (void)hash;
    (void)err;
    return 0; /* a note changes nothing but its sender's nonce */
}

void mn__ledger_register_builtin(mn_ledger *l)
{
    static const mn_tx_handler reg = {register_check, register_apply};
    static const mn_tx_handler bond = {bond_check, bond_apply};
    static const mn_tx_handler unbond = {unbond_check, unbond_apply};
    static const mn_tx_handler evidence = {evidence_check, evidence_apply};
    static const mn_tx_handler note = {note_check, note_apply};
    mn_err err;
    MN_ASSERT(mn_ledger_register_handler(l, MN_TX_REGISTER, &reg, &err) == 0);
    MN_ASSERT(mn_ledger_register_handler(l, MN_TX_BOND, &bond, &err) == 0);
    MN_ASSERT(mn_ledger_register_handler(l, MN_TX_UNBOND, &unbond, &err) == 0);
    MN_ASSERT(mn_ledger_register_handler(l, MN_TX_EVIDENCE, &evidence, &err) == 0);
    MN_ASSERT(mn_ledger_register_handler(l, MN_TX_NOTE, &note, &err) == 0);
}
