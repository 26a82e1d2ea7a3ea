/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_node_msg.c: arbitrary bytes through the node message decoder and the signing-state
 * decoder (node_msg.h). Whatever decodes must re-encode to exactly the input (one message, one
 * encoding); the first byte selects which decoder sees the rest. Aborts on a violated property
 * so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/node_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const mn_buf *b, const uint8_t *data, size_t size)
{
    if (b->len != size || memcmp(b->data, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_nmsg m;
    static mn_bft_sign_state s;
    mn_err err;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (mn_nmsg_decode(data, size, &m, &err) == 0) {
        if (mn_nmsg_encode(&m, &buf, &err) != 0)
            abort();
        check_same(&buf, data, size);
    }
    buf.len = 0;
    if (mn_sign_state_decode(data, size, &s, &err) == 0) {
        if (mn_sign_state_encode(&s, &buf, &err) != 0)
            abort();
        check_same(&buf, data, size);
    }
    uint8_t root[32];
    (void)mn_body_state_root(data, size, root, &err);
    mn_buf_deinit(&buf);
    return 0;
}
