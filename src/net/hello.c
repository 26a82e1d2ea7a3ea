/* SPDX-License-Identifier: Apache-2.0
 *
 * hello.c: the BPCI identity binding. A node's Noise static key is X25519 and separate from its
 * Ed25519 identity; the handshake payload proves that the identity owns the static key with a
 * signature over MN_TAG_IDENTITY_BINDING || "bpci-noise-static-key:" || X25519 public key (the
 * libp2p-noise scheme with our domain tag). The payload is the canonical CBOR map
 * {1: 1 (version), 2: Ed25519 public key (32 bytes), 3: signature (64 bytes)}; the decoder
 * refuses every other encoding. Possession of the static private key is proved by the Noise
 * handshake itself, so a replayed binding is useless without that key.
 */
#include <string.h>

#include <sodium.h>

#include "metanode/bpci.h"
#include "metanode/cbor.h"
#include "metanode/tags.h"

#define CONTEXT "bpci-noise-static-key:"
#define CONTEXT_BYTES (sizeof CONTEXT - 1)

static void binding_message(uint8_t msg[CONTEXT_BYTES + 32], const uint8_t x_pub[32])
{
    memcpy(msg, CONTEXT, CONTEXT_BYTES);
    memcpy(msg + CONTEXT_BYTES, x_pub, 32);
}

void mn_bpci_identity_init(mn_bpci_identity *ident, const mn_keypair *kp, const uint8_t *x_priv)
{
    uint8_t msg[CONTEXT_BYTES + 32];
    memset(ident, 0, sizeof *ident);
    ident->ed = *kp;
    if (x_priv)
        memcpy(ident->x_priv, x_priv, MN_NOISE_DH_BYTES);
    else
        randombytes_buf(ident->x_priv, MN_NOISE_DH_BYTES);
    mn_noise_dh_public(ident->x_pub, ident->x_priv);
    binding_message(msg, ident->x_pub);
    mn_sign(ident->binding_sig, MN_TAG_IDENTITY_BINDING, msg, sizeof msg, &ident->ed);
    mn_node_id(ident->id, ident->ed.pk);
}

void mn_bpci_identity_wipe(mn_bpci_identity *ident)
{
    sodium_memzero(ident, sizeof *ident);
}

int mn_bpci_hello_encode(const mn_bpci_identity *ident, mn_buf *out, mn_err *err)
{
    mn_cbor_enc enc;
    out->len = 0;
    mn_cbor_enc_init(&enc, out);
    mn_cbor_put_map(&enc, 3);
    mn_cbor_put_key(&enc, 1);
    mn_cbor_put_uint(&enc, MN_BPCI_VERSION);
    mn_cbor_put_key(&enc, 2);
    mn_cbor_put_bytes(&enc, ident->ed.pk, MN_ED25519_PUBLICKEY_BYTES);
    mn_cbor_put_key(&enc, 3);
    mn_cbor_put_bytes(&enc, ident->binding_sig, MN_ED25519_SIG_BYTES);
    return mn_cbor_enc_finish(&enc, err);
}

int mn_bpci_hello_decode(const uint8_t *data, size_t len, mn_bpci_hello *hello, mn_err *err)
{
    mn_cbor_dec d;
    mn_bpci_hello h;
    uint64_t count, version;
    mn_cbor_dec_init(&d, data, len);
    MN_TRY(mn_cbor_get_map(&d, &count, err));
    if (count != 3)
        return mn_err_set(err, MN_ECORRUPT, 0, "bpci hello: %llu fields, expected 3",
                          (unsigned long long)count);
    MN_TRY(mn_cbor_want_key(&d, 1, "bpci hello", err));
    MN_TRY(mn_cbor_get_uint(&d, &version, err));
    if (version != MN_BPCI_VERSION)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "bpci hello: version %llu",
                          (unsigned long long)version);
    MN_TRY(mn_cbor_want_key(&d, 2, "bpci hello", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, h.ed_pk, sizeof h.ed_pk, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "bpci hello", err));
    MN_TRY(mn_cbor_get_bytes_n(&d, h.sig, sizeof h.sig, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    *hello = h;
    return 0;
}

int mn_bpci_hello_verify(const mn_bpci_hello *hello, const uint8_t x_pub[static 32], mn_err *err)
{
    uint8_t msg[CONTEXT_BYTES + 32];
    binding_message(msg, x_pub);
    if (mn_verify(hello->sig, MN_TAG_IDENTITY_BINDING, msg, sizeof msg, hello->ed_pk) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0,
                          "bpci: identity signature does not bind the Noise static key");
    return 0;
}
