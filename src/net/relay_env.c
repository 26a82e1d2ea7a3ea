/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_env.c: the gossip envelope: canonical encoding, strict decoding, signing, verification
 * and the message id. The signed bytes are the envelope map without its signature field (keys
 * 1-4), under MN_TAG_GOSSIP_SIGNED; the id hashes the whole encoded envelope under
 * MN_TAG_GOSSIP_ID. Decoding never checks the signature (admission does, after the cheaper
 * checks) and never copies the payload: it points into the input.
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/relay.h"
#include "metanode/tags.h"

#define FIELD(key, call)                                                                       \
    do {                                                                                       \
        MN_TRY(mn_cbor_want_key(d, key, "gossip envelope", err));                              \
        MN_TRY(call);                                                                          \
    } while (0)

bool mn_relay_topic_valid(uint32_t topic)
{
    return topic >= MN_RELAY_TOPIC_FIRST && topic <= MN_RELAY_TOPIC_LAST;
}

static int check(const mn_relay_env *env, mn_err *err)
{
    if (!mn_relay_topic_valid(env->topic))
        return mn_err_set(err, MN_EINVAL, 0, "gossip topic %u unknown", env->topic);
    if (env->payload_len > MN_RELAY_PAYLOAD_BYTES_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "gossip payload of %zu bytes", env->payload_len);
    if (env->payload_len > 0)
        MN_ASSERT(env->payload != NULL);
    return 0;
}

/* Writes the map with (with_sig) or without the signature field. */
static int put_env(const mn_relay_env *env, bool with_sig, mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, with_sig ? 5 : 4);
    mn_cbor_put_key(&e, 1), mn_cbor_put_uint(&e, env->topic);
    mn_cbor_put_key(&e, 2), mn_cbor_put_uint(&e, env->seq);
    mn_cbor_put_key(&e, 3), mn_cbor_put_bytes(&e, env->signer, MN_ED25519_PUBLICKEY_BYTES);
    mn_cbor_put_key(&e, 4), mn_cbor_put_bytes(&e, env->payload, env->payload_len);
    if (with_sig)
        mn_cbor_put_key(&e, 5), mn_cbor_put_bytes(&e, env->sig, MN_ED25519_SIG_BYTES);
    return mn_cbor_enc_finish(&e, err);
}

int mn_relay_env_sign(mn_relay_env *env, const mn_keypair *kp, mn_err *err)
{
    MN_TRY(check(env, err));
    memcpy(env->signer, kp->pk, MN_ED25519_PUBLICKEY_BYTES);
    mn_buf b;
    mn_buf_init(&b, 0);
    int rc = put_env(env, false, &b, err);
    if (rc == 0)
        mn_sign(env->sig, MN_TAG_GOSSIP_SIGNED, b.data, b.len, kp);
    mn_buf_deinit(&b);
    return rc;
}

int mn_relay_env_verify(const mn_relay_env *env, mn_err *err)
{
    MN_ASSERT(check(env, NULL) == 0);
    mn_buf b;
    mn_buf_init(&b, 0);
    int rc = put_env(env, false, &b, err);
    if (rc == 0 && mn_verify(env->sig, MN_TAG_GOSSIP_SIGNED, b.data, b.len, env->signer) != 0)
        rc = mn_err_set(err, MN_ECRYPTO, 0, "gossip envelope signature");
    mn_buf_deinit(&b);
    return rc;
}

int mn_relay_env_encode(const mn_relay_env *env, mn_buf *out, mn_err *err)
{
    MN_TRY(check(env, err));
    return put_env(env, true, out, err);
}

static int get_env(mn_cbor_dec *d, mn_relay_env *env, mn_err *err)
{
    MN_TRY(mn_cbor_want_map(d, 5, "gossip envelope", err));
    FIELD(1, mn_cbor_get_u32(d, &env->topic, "gossip topic", err));
    if (!mn_relay_topic_valid(env->topic))
        return mn_err_set(err, MN_ECORRUPT, 0, "gossip topic %u unknown", env->topic);
    FIELD(2, mn_cbor_get_uint(d, &env->seq, err));
    FIELD(3, mn_cbor_get_bytes_n(d, env->signer, MN_ED25519_PUBLICKEY_BYTES, err));
    FIELD(4, mn_cbor_get_bytes(d, &env->payload, &env->payload_len, err));
    if (env->payload_len > MN_RELAY_PAYLOAD_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "gossip payload of %zu bytes", env->payload_len);
    FIELD(5, mn_cbor_get_bytes_n(d, env->sig, MN_ED25519_SIG_BYTES, err));
    return mn_cbor_dec_finish(d, err);
}

int mn_relay_env_decode(const uint8_t *data, size_t len, mn_relay_env *env, mn_err *err)
{
    if (len > MN_BPCI_MSG_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "gossip envelope of %zu bytes", len);
    mn_relay_env tmp;
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    MN_TRY(get_env(&d, &tmp, err));
    MN_ASSERT(check(&tmp, NULL) == 0);
    *env = tmp;
    return 0;
}

void mn_relay_msg_id(uint8_t id[static MN_RELAY_ID_BYTES], const uint8_t *data, size_t len)
{
    mn_sha256_tagged(id, MN_TAG_GOSSIP_ID, data, len);
}
