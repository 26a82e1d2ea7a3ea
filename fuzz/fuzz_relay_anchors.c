/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_relay_anchors.c: arbitrary bytes through the anchors file decoder. Whatever decodes
 * must re-encode to exactly the input and stay within MN_ADDRBOOK_ANCHORS_MAX. Aborts on a
 * violated property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay_addrbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_addr a[MN_ADDRBOOK_ANCHORS_MAX];
    uint32_t n = 0;
    mn_err err;
    if (mn_addrbook_anchors_decode(data, size, a, &n, &err) != 0)
        return 0;
    if (n > MN_ADDRBOOK_ANCHORS_MAX)
        abort();
    mn_buf b;
    mn_buf_init(&b, 0);
    if (mn_addrbook_anchors_encode(a, n, &b, &err) != 0 || b.len != size ||
        memcmp(b.data, data, size) != 0)
        abort();
    mn_buf_deinit(&b);
    return 0;
}
