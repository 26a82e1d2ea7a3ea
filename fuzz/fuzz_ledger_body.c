/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_ledger_body.c: arbitrary bytes as the body of block 1, checked by a ledger (in-memory
 * SQLite, a fixed one-validator genesis): the strict body decoder, the decoding and execution
 * of every tx and evidence item in it, and the root checks. Nothing is committed, so every
 * input meets the same state. Must never crash; a body that passes is checked again (cached).
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The genesis of the seeds in tests/regress/ledger_body/ (keys from fixed seeds). */
void mn_fuzz_ledger_body_genesis(mn_genesis *g, mn_keypair *sender);

void mn_fuzz_ledger_body_genesis(mn_genesis *g, mn_keypair *sender)
{
    memset(g, 0, sizeof *g);
    memcpy(g->chain_id, "fuzz", 5);
    g->genesis_time_ms = 1000;
    g->validator_count = 1;
    uint8_t seed[32] = {1};
    mn_keypair v;
    mn_keypair_from_seed(&v, seed);
    memcpy(g->validators[0].pk, v.pk, 32);
    memset(g->validators[0].vrf_pk, 2, 32);
    g->validators[0].stake = 10;
    seed[0] = 2;
    mn_keypair_from_seed(sender, seed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_ledger *l;
    mn_err err;
    if (l == NULL) {
        mn_genesis g;
        mn_keypair sender;
        mn_fuzz_ledger_body_genesis(&g, &sender);
        if (mn_ledger_open(":memory:", &g, &l, &err) != 0)
            abort();
    }
    mn_block_header h;
    memset(&h, 0, sizeof h);
    h.height = 1;
    mn_ledger_body_hash(data, size, h.payload);
    if (mn_ledger_check_block(l, &h, data, size, &err) == 0 &&
        mn_ledger_check_block(l, &h, data, size, &err) != 0)
        abort();
    return 0;
}
