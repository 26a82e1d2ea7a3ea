/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_relay_ctrl.c: arbitrary bytes through the gossip control message decoder. Whatever
 * decodes must re-encode to exactly the input (one message, one encoding) and stay within the
 * limits. Aborts on a violated property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_relay_ctrl c;
    mn_err err;
    if (mn_relay_ctrl_decode(data, size, &c, &err) != 0)
        return 0;
    if (mn_relay_ctrl_empty(&c) || c.px_count > MN_RELAY_PX_MAX ||
        c.ihave_count > MN_RELAY_IHAVE_IDS_MAX || c.iwant_count > MN_RELAY_IWANT_IDS_MAX ||
        c.backoff_s > MN_RELAY_BACKOFF_S_MAX)
        abort();
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (mn_relay_ctrl_encode(&c, &buf, &err) != 0 || buf.len != size ||
        memcmp(buf.data, data, size) != 0)
        abort();
    mn_buf_deinit(&buf);
    return 0;
}
