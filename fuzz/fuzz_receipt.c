/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_receipt.c: arbitrary bytes through the receipt decoder. Whatever parses must re-encode
 * to exactly the input (one value, one encoding), and verification, hashing and the JSON view
 * of it must not crash. Aborts on a violated property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/receipt.h"
#include "metanode/receipt_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_receipt r;
    mn_err err;
    if (mn_receipt_parse(data, size, &r, &err) != 0)
        return 0;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (mn_receipt_encode(&r, &buf, &err) != 0 || buf.len != size ||
        memcmp(buf.data, data, size) != 0)
        abort();
    mn_buf_deinit(&buf);
    (void)mn_receipt_verify(&r, &err);
    uint8_t h[32];
    if (mn_receipt_core_hash(&r, h, &err) != 0)
        abort();
    json_decref(mn_receipt_to_json(&r));
    return 0;
}
