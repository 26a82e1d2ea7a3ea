/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_relay_env.c: arbitrary bytes through the gossip envelope decoder. Whatever decodes must
 * re-encode to exactly the input (one envelope, one encoding, hence one message id), and the
 * signature check a relay runs next must return cleanly either way. Aborts on a violated
 * property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mn_relay_env env;
    mn_err err;
    if (mn_relay_env_decode(data, size, &env, &err) != 0)
        return 0;
    if (!mn_relay_topic_valid(env.topic) || env.payload_len > MN_RELAY_PAYLOAD_BYTES_MAX)
        abort();
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (mn_relay_env_encode(&env, &buf, &err) != 0 || buf.len != size ||
        memcmp(buf.data, data, size) != 0)
        abort();
    mn_buf_deinit(&buf);
    uint8_t id[MN_RELAY_ID_BYTES];
    mn_relay_msg_id(id, data, size);
    int rc = mn_relay_env_verify(&env, &err);
    if (rc != 0 && rc != -MN_ECRYPTO)
        abort();
    return 0;
}
