/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_relay_addrs.c: arbitrary bytes through the address message decoder. Whatever decodes
 * must re-encode to exactly the input and stay within MN_ADDRBOOK_ADDRS_MAX; the addresses then
 * go into an address book, which must not fail. Aborts on a violated property.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay_addrbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_addr a[MN_ADDRBOOK_ADDRS_MAX];
    static mn_addrbook ab;
    uint32_t n = 0;
    mn_err err;
    if (mn_addrbook_addrs_decode(data, size, a, &n, &err) != 0)
        return 0;
    if (n == 0 || n > MN_ADDRBOOK_ADDRS_MAX)
        abort();
    mn_buf b;
    mn_buf_init(&b, 0);
    if (mn_addrbook_addrs_encode(a, n, &b, &err) != 0 || b.len != size ||
        memcmp(b.data, data, size) != 0)
        abort();
    mn_buf_deinit(&b);
    static const uint8_t key[16] = {1};
    mn_addrbook_init(&ab, key, 1, NULL, 8, 8);
    for (uint32_t i = 0; i < n; i++) {
        mn_addrbook_add(&ab, &a[i], a[0].ip, 1);
        mn_addrbook_good(&ab, &a[i], 2);
    }
    if (ab.count_new + ab.count_tried > n)
        abort();
    return 0;
}
