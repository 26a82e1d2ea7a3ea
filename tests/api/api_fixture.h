/* SPDX-License-Identifier: Apache-2.0
 *
 * api_fixture.h: a one-validator chain for the API tests: a genesis in a temp dir, a real
 * ledger and mempool, signed note transactions, and committing a block of the mempool's
 * transactions with a real header (VRF proof) and a one-signature commit certificate. Used by
 * test_server.c and by api_test_server.c (the server the CLI test talks to).
 */
#ifndef MN_TEST_API_FIXTURE_H
#define MN_TEST_API_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/consensus.h"
#include "metanode/ledger.h"
#include "metanode/sign.h"

typedef struct api_fixture {
    char dir[256];
    mn_genesis genesis;
    mn_keypair validator;
    uint8_t vrf_pk[32], vrf_sk[64];
    mn_keypair user;
    mn_ledger *ledger;
    mn_mempool *mempool;
    uint64_t user_nonce;       /* last nonce used by fixture_note */
} api_fixture;

/* Creates the temp dir, genesis (chain "api-test"), ledger and mempool. Returns 0 or -1. */
int fixture_open(api_fixture *f, const char *dir_template, mn_err *err);
void fixture_close(api_fixture *f, bool remove_dir);
/* Encodes and signs a note from f->user with the given nonce into out. */
int fixture_note(api_fixture *f, const char *text, uint64_t nonce, mn_buf *out, mn_err *err);
/* Builds a block from the mempool and commits it (with a commit certificate signed by the one
 * validator); updates the mempool. */
int fixture_commit(api_fixture *f, uint64_t time_ms, mn_err *err);

#endif
