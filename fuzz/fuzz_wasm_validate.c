/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_wasm_validate.c: arbitrary bytes through the WASM decoder, validator and translator
 * only, in both translation modes (metered policy code and plain code), so the fuzzer spends
 * all its time on the loader, where every hostile module first lands. Any result is fine;
 * crashes, sanitizer reports, assertion failures and hangs are bugs. fuzz_wasm_module.c also
 * runs what loads.
 */
#include <stdint.h>
#include <stdlib.h>

#include "metanode/wasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mn_wasm_config modes[2] = {{.metered = true, .canonical_nans = true},
                                            {.metered = false, .canonical_nans = false}};
    for (int i = 0; i < 2; i++) {
        mn_err err;
        mn_wasm_module *mod;
        if (mn_wasm_module_load(data, size, &modes[i], &mod, &err) == 0)
            mn_wasm_module_free(mod);
    }
    return 0;
}
