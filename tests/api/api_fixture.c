/* SPDX-License-Identifier: Apache-2.0
 *
 * api_fixture.c: see api_fixture.h.
 */
#include "api_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metanode/cbor.h"
#include "metanode/leader.h"
#include "metanode/vrf.h"

int fixture_open(api_fixture *f, const char *dir_template, mn_err *err)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", dir_template);
    if (mkdtemp(f->dir) == NULL)
        return mn_err_set(err, MN_ESYS, 0, "mkdtemp");
    MN_TRY(mn_crypto_init(err));
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    mn_keypair_from_seed(&f->validator, seed);
    memset(seed, 9, sizeof seed);
    mn_keypair_from_seed(&f->user, seed);
    memset(seed, 8, sizeof seed);
    if (mn_vrf_keypair_from_seed(f->vrf_pk, f->vrf_sk, seed) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "vrf key");

    mn_genesis *g = &f->genesis;
    snprintf(g->chain_id, sizeof g->chain_id, "api-test");
    g->genesis_time_ms = 1700000000000ull;
    g->validator_count = 1;
    memcpy(g->validators[0].pk, f->validator.pk, 32);
    memcpy(g->validators[0].vrf_pk, f->vrf_pk, 32);
    g->validators[0].stake = 100;
    snprintf(g->validators[0].addr, sizeof g->validators[0].addr, "127.0.0.1:1");
    snprintf(g->validators[0].api, sizeof g->validators[0].api, "127.0.0.1:2");
    char path[300];
    snprintf(path, sizeof path, "%s/ledger.db", f->dir);
    MN_TRY(mn_ledger_open(path, g, &f->ledger, err));
    return mn_mempool_new(&f->mempool, err);
}

void fixture_close(api_fixture *f, bool remove_dir)
{
    mn_mempool_free(f->mempool);
    mn_ledger_close(f->ledger);
    if (remove_dir) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", f->dir);
    }
}

int fixture_note(api_fixture *f, const char *text, uint64_t nonce, mn_buf *out, mn_err *err)
{
    mn_buf body;
    mn_buf_init(&body, 0);
    mn_cbor_enc enc;
    mn_cbor_enc_init(&enc, &body);
    mn_cbor_put_bytes(&enc, text, strlen(text));
    int rc = mn_cbor_enc_finish(&enc, err);
    if (rc == 0) {
        mn_tx tx;
        memset(&tx, 0, sizeof tx);
        tx.type = MN_TX_NOTE;
        snprintf(tx.chain_id, sizeof tx.chain_id, "%s", f->genesis.chain_id);
        memcpy(tx.sender, f->user.pk, 32);
        tx.nonce = nonce;
        tx.body = body.data;
        tx.body_len = body.len;
        rc = mn_tx_sign_encode(&tx, &f->user, out, err);
    }
    mn_buf_deinit(&body);
    return rc;
}

int fixture_commit(api_fixture *f, uint64_t time_ms, mn_err *err)
{
    mn_bft_chain chain;
    mn_ledger_chain(f->ledger, &chain);
    mn_buf body;
    mn_buf_init(&body, 0);
    mn_block_header h;
    memset(&h, 0, sizeof h);
    h.height = chain.height;
    memcpy(h.parent, chain.parent, sizeof h.parent);
    mn_node_id(h.proposer, f->validator.pk);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES];
    mn_leader_alpha(alpha, chain.seed, h.height);
    if (mn_vrf_prove(h.vrf_proof, f->vrf_sk, alpha, sizeof alpha, MN_VRF_SUITE_TAI) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "vrf prove");
    int rc = mn_ledger_build_block(f->ledger, f->mempool, time_ms, &body, h.payload, err);
    if (rc == 0) {
        mn_vote v;
        memset(&v, 0, sizeof v);
        v.type = MN_VOTE_PRECOMMIT;
        v.height = h.height;
        v.round = 0;
        v.has_value = true;
        mn_block_id(v.value, &h);
        mn_vote_sign(&v, f->genesis.chain_id, &f->validator);
        static mn_commit_cert c;
        memset(&c, 0, sizeof c);
        c.height = h.height;
        c.round = 0;
        memcpy(c.value, v.value, 32);
        c.signer_bytes = 1;
        c.signers[0] = 1;
        c.sig_count = 1;
        memcpy(c.signatures[0], v.signature, 64);
        rc = mn_ledger_commit_block(f->ledger, &h, &c, body.data, body.len, err);
    }
    if (rc == 0)
        mn_mempool_update(f->mempool, f->ledger);
    mn_buf_deinit(&body);
    return rc;
}
