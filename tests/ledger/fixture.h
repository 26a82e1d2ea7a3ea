/* SPDX-License-Identifier: Apache-2.0
 *
 * fixture.h: shared helpers of the ledger tests: a 4-validator genesis with deterministic
 * keys, temporary database paths, signed transactions of each type, and headers with a real
 * VRF proof for committing bodies. Header-only (static functions) so each test is one file.
 */
#ifndef MN_LEDGER_FIXTURE_H
#define MN_LEDGER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/ledger.h"
#include "metanode/tags.h"
#include "metanode/vrf.h"
#include "mn_test.h"

#define FX_VALIDATORS 4

typedef struct fx {
    mn_genesis g;
    mn_keypair val[FX_VALIDATORS];
    uint8_t vrf_sk[FX_VALIDATORS][64];
    char dir[64];
} fx;

static inline void fx_key(mn_keypair *kp, uint32_t i)
{
    uint8_t seed[32] = {0};
    mn_store_u32_be(seed, i + 1000);
    mn_keypair_from_seed(kp, seed);
}

static inline void fx_init(fx *f)
{
    mn_err err;
    ASSERT_OK(mn_crypto_init(&err), &err);
    memset(f, 0, sizeof *f);
    snprintf(f->g.chain_id, sizeof f->g.chain_id, "test-chain");
    f->g.genesis_time_ms = 1000;
    f->g.validator_count = FX_VALIDATORS;
    for (uint32_t i = 0; i < FX_VALIDATORS; i++) {
        uint8_t seed[32] = {0};
        mn_store_u32_be(seed, i + 1);
        mn_keypair_from_seed(&f->val[i], seed);
        mn_genesis_validator *v = &f->g.validators[i];
        memcpy(v->pk, f->val[i].pk, 32);
        seed[31] = 0x77;
        ASSERT_EQ(mn_vrf_keypair_from_seed(v->vrf_pk, f->vrf_sk[i], seed), 0);
        memset(v->noise_pk, (int)i + 1, 32);
        v->stake = 100;
        snprintf(v->addr, sizeof v->addr, "127.0.0.1:%u", 7000 + i);
        snprintf(v->api, sizeof v->api, "127.0.0.1:%u", 8000 + i);
    }
    snprintf(f->dir, sizeof f->dir, "/tmp/mn_ledger_XXXXXX");
    ASSERT_TRUE(mkdtemp(f->dir) != NULL);
}

static inline const char *fx_path(fx *f, const char *name)
{
    static char path[2][128];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", f->dir, name);
    return path[which];
}

static inline void fx_cleanup(fx *f)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    ASSERT_EQ(system(cmd), 0);
}

/* A signed tx of any type with a ready body. */
static inline void fx_tx(const fx *f, const mn_keypair *kp, uint32_t type, uint64_t nonce,
                         const uint8_t *body, size_t body_len, mn_buf *out)
{
    mn_tx tx;
    mn_err err;
    memset(&tx, 0, sizeof tx);
    tx.type = type;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", f->g.chain_id);
    tx.nonce = nonce;
    tx.body = body;
    tx.body_len = body_len;
    out->len = 0;
    ASSERT_OK(mn_tx_sign_encode(&tx, kp, out, &err), &err);
}

static inline void fx_note(const fx *f, const mn_keypair *kp, uint64_t nonce, size_t note_len,
                           mn_buf *out)
{
    uint8_t note[MN_TX_NOTE_BYTES_MAX];
    memset(note, 'n', sizeof note);
    mn_store_u64_be(note, nonce);
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &body);
    mn_cbor_put_bytes(&e, note, note_len);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    fx_tx(f, kp, MN_TX_NOTE, nonce, body.data, body.len, out);
    mn_buf_deinit(&body);
}

static inline void fx_bond(const fx *f, const mn_keypair *kp, uint64_t nonce, uint64_t amount,
                           const uint8_t vrf_pk[32], mn_buf *out)
{
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &body);
    uint8_t noise[32];
    memset(noise, 0x55, 32);
    mn_cbor_put_map(&e, 4);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_bytes(&e, kp->pk, 32);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_bytes(&e, vrf_pk, 32);
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_uint(&e, amount);
    mn_cbor_put_key(&e, 4);
    mn_cbor_put_bytes(&e, noise, 32);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    fx_tx(f, kp, MN_TX_BOND, nonce, body.data, body.len, out);
    mn_buf_deinit(&body);
}

static inline void fx_unbond(const fx *f, const mn_keypair *kp, uint64_t nonce,
                             uint64_t amount, mn_buf *out)
{
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, &body);
    mn_cbor_put_map(&e, 2);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_bytes(&e, kp->pk, 32);
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_uint(&e, amount);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    fx_tx(f, kp, MN_TX_UNBOND, nonce, body.data, body.len, out);
    mn_buf_deinit(&body);
}

/* The header of the next block for this body, proposed by validator `who`. */
static inline void fx_header(const fx *f, mn_ledger *l, uint32_t who, const uint8_t *body,
                             size_t len, mn_block_header *h)
{
    mn_bft_chain chain;
    mn_ledger_chain(l, &chain);
    memset(h, 0, sizeof *h);
    h->height = chain.height;
    memcpy(h->parent, chain.parent, 32);
    mn_node_id(h->proposer, f->val[who].pk);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, chain.seed, chain.height);
    ASSERT_EQ(mn_vrf_prove(h->vrf_proof, f->vrf_sk[who], alpha, sizeof alpha, MN_VRF_SUITE_TAI),
              0);
    mn_ledger_body_hash(body, len, h->payload);
}

/* Builds a block from mp (may be NULL) and commits it; returns the body in *out if given. */
static inline void fx_build_commit(const fx *f, mn_ledger *l, mn_mempool *mp, uint64_t time_ms,
                                   mn_buf *out)
{
    mn_buf body;
    mn_err err;
    uint8_t payload[32];
    mn_buf_init(&body, 0);
    ASSERT_OK(mn_ledger_build_block(l, mp, time_ms, &body, payload, &err), &err);
    mn_block_header h;
    fx_header(f, l, 0, body.data, body.len, &h);
    ASSERT_MEM_EQ(h.payload, payload, 32);
    ASSERT_OK(mn_ledger_check_block(l, &h, body.data, body.len, &err), &err);
    ASSERT_OK(mn_ledger_commit_block(l, &h, NULL, body.data, body.len, &err), &err);
    if (mp != NULL)
        mn_mempool_update(mp, l);
    if (out != NULL) {
        out->len = 0;
        ASSERT_OK(mn_buf_append(out, body.data, body.len, &err), &err);
    }
    mn_buf_deinit(&body);
}

#endif
