/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_docklock_join.c: arbitrary bytes through the exec request decoder (what a client sends
 * over a container's exec socket, and a JOIN record's inline data in a witness). Whatever is
 * accepted must re-encode to exactly the input (canonical CBOR, one encoding). Aborts on a
 * violated property.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/docklock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char store[MN_WITNESS_INLINE_BYTES_MAX + MN_DOCKLOCK_JOIN_ARGS_MAX +
                      MN_DOCKLOCK_JOIN_ENV_MAX + 1];
    mn_docklock_join j;
    mn_err err;
    if (mn_docklock_join_decode(data, size, &j, store, sizeof(store), &err) != 0)
        return 0;
    if (j.argc == 0 || j.argv[j.argc] != NULL || j.env[j.envc] != NULL || j.cwd[0] != '/')
        abort();
    mn_buf out;
    mn_buf_init(&out, 0);
    if (mn_docklock_join_encode(&j, &out, &err) != 0 || out.len != size ||
        memcmp(out.data, data, size) != 0)
        abort();
    mn_buf_deinit(&out);
    return 0;
}
