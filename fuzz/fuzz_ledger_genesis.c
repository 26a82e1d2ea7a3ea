/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_ledger_genesis.c: arbitrary bytes as genesis.json (mn_genesis_parse). Whatever parses
 * must hash without trouble, and what parses twice must give the same genesis hash. Aborts
 * on a violated property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_genesis a, b;
    mn_err err;
    if (mn_genesis_parse(&a, (const char *)data, size, &err) != 0)
        return 0;
    if (mn_genesis_parse(&b, (const char *)data, size, &err) != 0)
        abort();
    uint8_t ha[32], hb[32];
    mn_genesis_hash(&a, ha);
    mn_genesis_hash(&b, hb);
    if (memcmp(ha, hb, 32) != 0 || a.validator_count == 0 || strlen(a.chain_id) == 0)
        abort();
    return 0;
}
