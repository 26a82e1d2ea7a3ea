/* SPDX-License-Identifier: Apache-2.0
 *
 * noise.c: the Noise Protocol Framework (revision 34) for the patterns NN, XX, IK and XK with
 * 25519, ChaChaPoly and BLAKE2b or SHA256, on libsodium 1.0.18. The three objects of the
 * specification (CipherState, SymmetricState, HandshakeState) map one to one onto the structs
 * of noise.h and the functions below keep the specification's names in their comments, so the
 * code can be read side by side with §5. Patterns are token tables; one loop writes and one
 * reads. Every error poisons the handshake (hs->failed), so a caller that ignores an error
 * cannot continue on a half-updated state. Secrets (DH outputs, HKDF temporaries, keys) are
 * wiped with sodium_memzero before returning.
 *
 * It deliberately knows nothing of sockets, framing or identities; it never allocates.
 */
#include "metanode/noise.h"

#include <string.h>

#include <sodium.h>

#include "metanode/bytes.h"

enum token { T_END = 0, T_E, T_S, T_EE, T_ES, T_SE, T_SS };

typedef struct pattern_def {
    const char *name;
    unsigned messages;
    bool pre_resp_static; /* "<- s" pre-message */
    bool init_static;     /* the initiator has a static key */
    bool init_knows_rs;   /* the initiator must be given the responder's static */
    bool resp_static;     /* the responder has a static key */
    uint8_t tokens[MN_NOISE_MESSAGES_MAX][MN_NOISE_TOKENS_MAX + 1];
} pattern_def;

static const pattern_def PATTERNS[] = {
    [MN_NOISE_NN] = {"NN", 2, false, false, false, false, {{T_E}, {T_E, T_EE}}},
    [MN_NOISE_XX] = {"XX", 3, false, true, false, true,
                     {{T_E}, {T_E, T_EE, T_S, T_ES}, {T_S, T_SE}}},
    [MN_NOISE_IK] = {"IK", 2, true, true, true, true,
                     {{T_E, T_ES, T_S, T_SS}, {T_E, T_EE, T_SE}}},
    [MN_NOISE_XK] = {"XK", 3, true, true, true, true, {{T_E, T_ES}, {T_E, T_EE}, {T_S, T_SE}}},
};

static const char *const NAMES[4][2] = {
    {"Noise_NN_25519_ChaChaPoly_BLAKE2b", "Noise_NN_25519_ChaChaPoly_SHA256"},
    {"Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_XX_25519_ChaChaPoly_SHA256"},
    {"Noise_IK_25519_ChaChaPoly_BLAKE2b", "Noise_IK_25519_ChaChaPoly_SHA256"},
    {"Noise_XK_25519_ChaChaPoly_BLAKE2b", "Noise_XK_25519_ChaChaPoly_SHA256"},
};

/* ---- hash, HMAC, HKDF ------------------------------------------------------------------- */

#define BLAKE2B_BLOCK_BYTES 128u

/* HASH(a || b) with the protocol's hash function; out has hash_len bytes. */
static void hash2(mn_noise_hash hash, const uint8_t *a, size_t a_len, const uint8_t *b,
                  size_t b_len, uint8_t *out)
{
    if (hash == MN_NOISE_SHA256) {
        crypto_hash_sha256_state st;
        crypto_hash_sha256_init(&st);
        crypto_hash_sha256_update(&st, a, a_len);
        crypto_hash_sha256_update(&st, b, b_len);
        crypto_hash_sha256_final(&st, out);
        return;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 64);
    crypto_generichash_update(&st, a, a_len);
    crypto_generichash_update(&st, b, b_len);
    crypto_generichash_final(&st, out, 64);
}

/* RFC 2104 HMAC over unkeyed BLAKE2b-512 (block 128 bytes). Not BLAKE2b's own keyed mode,
 * which gives different output. Noise keys are HASHLEN (64) bytes, below the block size. */
static void hmac_blake2b(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                         const uint8_t *b, size_t b_len, uint8_t out[64])
{
    uint8_t pad[BLAKE2B_BLOCK_BYTES], inner[64];
    crypto_generichash_state st;
    MN_ASSERT(key_len <= BLAKE2B_BLOCK_BYTES);
    memset(pad, 0x36, sizeof pad);
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    crypto_generichash_init(&st, NULL, 0, 64);
    crypto_generichash_update(&st, pad, sizeof pad);
    crypto_generichash_update(&st, a, a_len);
    crypto_generichash_update(&st, b, b_len);
    crypto_generichash_final(&st, inner, 64);
    memset(pad, 0x5c, sizeof pad);
    for (size_t i = 0; i < key_len; i++)
        pad[i] ^= key[i];
    crypto_generichash_init(&st, NULL, 0, 64);
    crypto_generichash_update(&st, pad, sizeof pad);
    crypto_generichash_update(&st, inner, sizeof inner);
    crypto_generichash_final(&st, out, 64);
    sodium_memzero(pad, sizeof pad);
    sodium_memzero(inner, sizeof inner);
}

/* HMAC-HASH(key, a || b); out has hash_len bytes. */
static void hmac(mn_noise_hash hash, const uint8_t *key, size_t key_len, const uint8_t *a,
                 size_t a_len, const uint8_t *b, size_t b_len, uint8_t *out)
{
    if (hash == MN_NOISE_BLAKE2B) {
        hmac_blake2b(key, key_len, a, a_len, b, b_len, out);
        return;
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, a, a_len);
    crypto_auth_hmacsha256_update(&st, b, b_len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* HKDF(chaining_key, input_key_material, 2 or 3) of Noise §4.3 (RFC 5869 with salt = ck and
 * empty info). o3 may be NULL. */
static void hkdf(const mn_noise_symmetric *ss, const uint8_t *ikm, size_t ikm_len, uint8_t *o1,
                 uint8_t *o2, uint8_t *o3)
{
    const size_t hl = ss->hash_len;
    const uint8_t one = 1, two = 2, three = 3;
    uint8_t temp[MN_NOISE_HASH_BYTES_MAX];
    hmac(ss->hash, ss->ck, hl, ikm, ikm_len, NULL, 0, temp);
    hmac(ss->hash, temp, hl, &one, 1, NULL, 0, o1);
    hmac(ss->hash, temp, hl, o1, hl, &two, 1, o2);
    if (o3)
        hmac(ss->hash, temp, hl, o2, hl, &three, 1, o3);
    sodium_memzero(temp, sizeof temp);
}

/* ---- CipherState ------------------------------------------------------------------------- */

static void nonce_bytes(uint8_t out[12], uint64_t n)
{
    memset(out, 0, 4);
    mn_store_u64_le(out + 4, n);
}

void mn_noise_cipher_init(mn_noise_cipher *cs, const uint8_t k[static MN_NOISE_KEY_BYTES])
{
    memcpy(cs->k, k, MN_NOISE_KEY_BYTES);
    cs->n = 0;
    cs->has_key = true;
}

int mn_noise_cipher_encrypt(mn_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *pt, size_t len, uint8_t *out, mn_err *err)
{
    if (!cs->has_key) {
        if (out != pt && len > 0)
            memmove(out, pt, len);
        return 0;
    }
    if (cs->n == UINT64_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "noise: nonce exhausted");
    uint8_t nonce[12];
    nonce_bytes(nonce, cs->n);
    unsigned long long clen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, pt, len, ad, ad_len, NULL, nonce,
                                              cs->k);
    MN_ASSERT(clen == len + MN_NOISE_TAG_BYTES);
    cs->n++;
    return 0;
}

int mn_noise_cipher_encrypt_parts(mn_noise_cipher *cs, const uint8_t *head, size_t head_len,
                                  const uint8_t *body, size_t body_len, uint8_t *out,
                                  mn_err *err)
{
    /* RFC 8439 §2.8 with empty ad, as libsodium's own AEAD does it: block 0 of the stream keys
     * Poly1305, blocks 1.. encrypt; the MAC covers ct || pad16 || u64le(0) || u64le(len). Only
     * the first 64-byte block mixes head and body, so it alone is assembled in a local block. */
    MN_ASSERT(cs->has_key);
    MN_ASSERT(head_len <= 64);
    MN_ASSERT(body != NULL || body_len == 0);
    if (cs->n == UINT64_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "noise: nonce exhausted");
    static const uint8_t zeros[16];
    uint8_t nonce[12], block[64], lens[16];
    nonce_bytes(nonce, cs->n);
    crypto_onetimeauth_poly1305_state st;
    crypto_stream_chacha20_ietf(block, sizeof block, nonce, cs->k);
    crypto_onetimeauth_poly1305_init(&st, block);
    const size_t len = head_len + body_len;
    const size_t first = len < sizeof block ? len : sizeof block;
    if (head_len)
        memcpy(block, head, head_len);
    if (first > head_len)
        memcpy(block + head_len, body, first - head_len);
    crypto_stream_chacha20_ietf_xor_ic(out, block, first, nonce, 1u, cs->k);
    if (len > first)
        crypto_stream_chacha20_ietf_xor_ic(out + first, body + (first - head_len), len - first,
                                           nonce, 2u, cs->k);
    crypto_onetimeauth_poly1305_update(&st, out, len);
    crypto_onetimeauth_poly1305_update(&st, zeros, (16u - (len & 15u)) & 15u);
    mn_store_u64_le(lens, 0);
    mn_store_u64_le(lens + 8, (uint64_t)len);
    crypto_onetimeauth_poly1305_update(&st, lens, sizeof lens);
    crypto_onetimeauth_poly1305_final(&st, out + len);
    sodium_memzero(block, sizeof block);
    sodium_memzero(&st, sizeof st);
    cs->n++;
    return 0;
}

int mn_noise_cipher_decrypt(mn_noise_cipher *cs, const uint8_t *ad, size_t ad_len,
                            const uint8_t *ct, size_t len, uint8_t *out, mn_err *err)
{
    if (!cs->has_key) {
        if (out != ct && len > 0)
            memmove(out, ct, len);
        return 0;
    }
    if (len < MN_NOISE_TAG_BYTES)
        return mn_err_set(err, MN_ECORRUPT, 0, "noise: ciphertext of %zu bytes has no tag", len);
    if (cs->n == UINT64_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "noise: nonce exhausted");
    uint8_t nonce[12];
    nonce_bytes(nonce, cs->n);
    unsigned long long mlen = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &mlen, NULL, ct, len, ad, ad_len, nonce,
                                                  cs->k) != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "noise: authentication failed (n=%llu)",
                          (unsigned long long)cs->n);
    MN_ASSERT(mlen == len - MN_NOISE_TAG_BYTES);
    cs->n++;
    return 0;
}

void mn_noise_cipher_rekey(mn_noise_cipher *cs)
{
    MN_ASSERT(cs->has_key);
    uint8_t zeros[MN_NOISE_KEY_BYTES] = {0};
    uint8_t out[MN_NOISE_KEY_BYTES + MN_NOISE_TAG_BYTES];
    uint8_t nonce[12];
    nonce_bytes(nonce, UINT64_MAX);
    crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, zeros, sizeof zeros, NULL, 0, NULL,
                                              nonce, cs->k);
    memcpy(cs->k, out, MN_NOISE_KEY_BYTES);
    sodium_memzero(out, sizeof out);
}

void mn_noise_cipher_wipe(mn_noise_cipher *cs)
{
    sodium_memzero(cs, sizeof *cs);
}

/* ---- SymmetricState ---------------------------------------------------------------------- */

static void symmetric_init(mn_noise_symmetric *ss, mn_noise_hash hash, const char *name)
{
    const size_t name_len = strlen(name);
    memset(ss, 0, sizeof *ss);
    ss->hash = hash;
    ss->hash_len = hash == MN_NOISE_BLAKE2B ? 64 : 32;
    if (name_len <= ss->hash_len)
        memcpy(ss->h, name, name_len);
    else
        hash2(hash, (const uint8_t *)name, name_len, NULL, 0, ss->h);
    memcpy(ss->ck, ss->h, ss->hash_len);
}

static void mix_hash(mn_noise_symmetric *ss, const uint8_t *data, size_t len)
{
    uint8_t h[MN_NOISE_HASH_BYTES_MAX];
    hash2(ss->hash, ss->h, ss->hash_len, data, len, h);
    memcpy(ss->h, h, ss->hash_len);
}

static void mix_key(mn_noise_symmetric *ss, const uint8_t *ikm, size_t len)
{
    uint8_t ck[MN_NOISE_HASH_BYTES_MAX], k[MN_NOISE_HASH_BYTES_MAX];
    hkdf(ss, ikm, len, ck, k, NULL);
    memcpy(ss->ck, ck, ss->hash_len);
    mn_noise_cipher_init(&ss->cs, k); /* first 32 bytes when HASHLEN is 64 */
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(k, sizeof k);
}

/* EncryptAndHash: out receives len (+ tag once a key is set) bytes. */
static int encrypt_and_hash(mn_noise_symmetric *ss, const uint8_t *pt, size_t len, uint8_t *out,
                            size_t *out_len, mn_err *err)
{
    int rc = mn_noise_cipher_encrypt(&ss->cs, ss->h, ss->hash_len, pt, len, out, err);
    if (rc != 0)
        return rc;
    *out_len = len + (ss->cs.has_key ? MN_NOISE_TAG_BYTES : 0);
    mix_hash(ss, out, *out_len);
    return 0;
}

static int decrypt_and_hash(mn_noise_symmetric *ss, const uint8_t *ct, size_t len, uint8_t *out,
                            mn_err *err)
{
    uint8_t h[MN_NOISE_HASH_BYTES_MAX];
    hash2(ss->hash, ss->h, ss->hash_len, ct, len, h); /* over ct, before out may overwrite it */
    int rc = mn_noise_cipher_decrypt(&ss->cs, ss->h, ss->hash_len, ct, len, out, err);
    if (rc != 0)
        return rc;
    memcpy(ss->h, h, ss->hash_len);
    return 0;
}

/* ---- HandshakeState ---------------------------------------------------------------------- */

const char *mn_noise_protocol_name(mn_noise_pattern pattern, mn_noise_hash hash)
{
    MN_ASSERT((unsigned)pattern < MN_ARRAY_LEN(NAMES));
    MN_ASSERT((unsigned)hash < 2);
    return NAMES[pattern][hash];
}

int mn_noise_protocol_parse(const char *name, mn_noise_pattern *pattern, mn_noise_hash *hash,
                            mn_err *err)
{
    for (unsigned p = 0; p < MN_ARRAY_LEN(NAMES); p++)
        for (unsigned h = 0; h < 2; h++)
            if (strcmp(name, NAMES[p][h]) == 0) {
                *pattern = (mn_noise_pattern)p;
                *hash = (mn_noise_hash)h;
                return 0;
            }
    return mn_err_set(err, MN_EUNSUPPORTED, 0, "noise: unsupported protocol \"%.64s\"", name);
}

void mn_noise_dh_public(uint8_t pub[static MN_NOISE_DH_BYTES],
                        const uint8_t priv[static MN_NOISE_DH_BYTES])
{
    MN_ASSERT(crypto_scalarmult_base(pub, priv) == 0);
}

static int check_keys(const pattern_def *p, bool initiator, const uint8_t *s_priv,
                      const uint8_t *rs, mn_err *err)
{
    const bool need_s = initiator ? p->init_static : p->resp_static;
    const bool need_rs = initiator && p->init_knows_rs;
    if ((s_priv != NULL) != need_s)
        return mn_err_set(err, MN_EINVAL, 0, "noise %s: local static key %s", p->name,
                          need_s ? "missing" : "not used by the pattern");
    if ((rs != NULL) != need_rs)
        return mn_err_set(err, MN_EINVAL, 0, "noise %s: remote static key %s", p->name,
                          need_rs ? "missing" : "not known in advance by the pattern");
    return 0;
}

int mn_noise_handshake_init(mn_noise_handshake *hs, mn_noise_pattern pattern, mn_noise_hash hash,
                            bool initiator, const uint8_t *prologue, size_t prologue_len,
                            const uint8_t *s_priv, const uint8_t *rs, mn_err *err)
{
    MN_ASSERT((unsigned)pattern < MN_ARRAY_LEN(PATTERNS));
    const pattern_def *p = &PATTERNS[pattern];
    int rc = check_keys(p, initiator, s_priv, rs, err);
    if (rc != 0)
        return rc;
    memset(hs, 0, sizeof *hs);
    hs->pattern = pattern;
    hs->initiator = initiator;
    symmetric_init(&hs->ss, hash, mn_noise_protocol_name(pattern, hash));
    mix_hash(&hs->ss, prologue, prologue_len);
    if (s_priv) {
        memcpy(hs->s_priv, s_priv, MN_NOISE_DH_BYTES);
        mn_noise_dh_public(hs->s_pub, s_priv);
        hs->has_s = true;
    }
    if (rs) {
        memcpy(hs->rs, rs, MN_NOISE_DH_BYTES);
        hs->has_rs = true;
    }
    if (p->pre_resp_static)
        mix_hash(&hs->ss, initiator ? hs->rs : hs->s_pub, MN_NOISE_DH_BYTES);
    return 0;
}

void mn_noise_handshake_set_ephemeral(mn_noise_handshake *hs,
                                      const uint8_t e_priv[static MN_NOISE_DH_BYTES])
{
    MN_ASSERT(!hs->has_e);
    memcpy(hs->e_priv, e_priv, MN_NOISE_DH_BYTES);
    hs->fixed_e = true;
}

bool mn_noise_handshake_my_turn(const mn_noise_handshake *hs)
{
    /* Messages alternate, the initiator writes the even ones. */
    return !mn_noise_handshake_done(hs) && (hs->msg_index % 2 == 0) == hs->initiator;
}

bool mn_noise_handshake_done(const mn_noise_handshake *hs)
{
    return hs->msg_index >= PATTERNS[hs->pattern].messages;
}

/* One DH token: MixKey(DH(local, remote)). Refuses an all-zero (low-order) result. */
static int dh_token(mn_noise_handshake *hs, enum token t, mn_err *err)
{
    const bool i = hs->initiator;
    const uint8_t *priv, *pub;
    switch (t) {
    case T_EE: priv = hs->e_priv, pub = hs->re; break;
    case T_ES: priv = i ? hs->e_priv : hs->s_priv, pub = i ? hs->rs : hs->re; break;
    case T_SE: priv = i ? hs->s_priv : hs->e_priv, pub = i ? hs->re : hs->rs; break;
    case T_SS: priv = hs->s_priv, pub = hs->rs; break;
    default: MN_UNREACHABLE();
    }
    uint8_t shared[MN_NOISE_DH_BYTES];
    if (crypto_scalarmult(shared, priv, pub) != 0) {
        sodium_memzero(shared, sizeof shared);
        return mn_err_set(err, MN_ECRYPTO, 0, "noise: DH with a low-order public key");
    }
    mix_key(&hs->ss, shared, sizeof shared);
    sodium_memzero(shared, sizeof shared);
    return 0;
}

static int write_token(mn_noise_handshake *hs, enum token t, uint8_t *out, size_t cap,
                       size_t *pos, mn_err *err)
{
    const size_t need = MN_NOISE_DH_BYTES + (t == T_S && hs->ss.cs.has_key ? 16 : 0);
    if (t != T_E && t != T_S)
        return dh_token(hs, t, err);
    if (cap - *pos < need)
        return mn_err_set(err, MN_ELIMIT, 0, "noise: handshake message exceeds %zu bytes", cap);
    if (t == T_S) {
        size_t n;
        int rc = encrypt_and_hash(&hs->ss, hs->s_pub, MN_NOISE_DH_BYTES, out + *pos, &n, err);
        if (rc == 0)
            *pos += n;
        return rc;
    }
    if (!hs->fixed_e)
        randombytes_buf(hs->e_priv, MN_NOISE_DH_BYTES);
    mn_noise_dh_public(hs->e_pub, hs->e_priv);
    hs->has_e = true;
    memcpy(out + *pos, hs->e_pub, MN_NOISE_DH_BYTES);
    *pos += MN_NOISE_DH_BYTES;
    mix_hash(&hs->ss, hs->e_pub, MN_NOISE_DH_BYTES);
    return 0;
}

static int fail(mn_noise_handshake *hs, int rc)
{
    hs->failed = true;
    return rc;
}

int mn_noise_handshake_write(mn_noise_handshake *hs, const uint8_t *payload, size_t payload_len,
                             uint8_t *out, size_t out_cap, size_t *out_len, mn_err *err)
{
    if (hs->failed || !mn_noise_handshake_my_turn(hs))
        return mn_err_set(err, MN_ESTATE, 0, "noise: not this side's turn to write");
    if (out_cap > MN_NOISE_MSG_BYTES_MAX)
        out_cap = MN_NOISE_MSG_BYTES_MAX;
    const uint8_t *tokens = PATTERNS[hs->pattern].tokens[hs->msg_index];
    size_t pos = 0;
    for (unsigned i = 0; tokens[i] != T_END; i++) {
        int rc = write_token(hs, (enum token)tokens[i], out, out_cap, &pos, err);
        if (rc != 0)
            return fail(hs, rc);
    }
    const size_t tag = hs->ss.cs.has_key ? MN_NOISE_TAG_BYTES : 0;
    if (payload_len > out_cap - pos || out_cap - pos - payload_len < tag)
        return fail(hs, mn_err_set(err, MN_ELIMIT, 0, "noise: payload of %zu bytes too long",
                                   payload_len));
    size_t n;
    int rc = encrypt_and_hash(&hs->ss, payload, payload_len, out + pos, &n, err);
    if (rc != 0)
        return fail(hs, rc);
    *out_len = pos + n;
    hs->msg_index++;
    return 0;
}

static int read_token(mn_noise_handshake *hs, enum token t, const uint8_t *msg, size_t len,
                      size_t *pos, mn_err *err)
{
    const size_t need = MN_NOISE_DH_BYTES + (t == T_S && hs->ss.cs.has_key ? 16 : 0);
    if (t != T_E && t != T_S)
        return dh_token(hs, t, err);
    if (len - *pos < need)
        return mn_err_set(err, MN_ECORRUPT, 0, "noise: handshake message truncated (%zu bytes)",
                          len);
    if (t == T_E) {
        memcpy(hs->re, msg + *pos, MN_NOISE_DH_BYTES);
        hs->has_re = true;
        mix_hash(&hs->ss, hs->re, MN_NOISE_DH_BYTES);
    } else {
        int rc = decrypt_and_hash(&hs->ss, msg + *pos, need, hs->rs, err);
        if (rc != 0)
            return rc;
        hs->has_rs = true;
    }
    *pos += need;
    return 0;
}

int mn_noise_handshake_read(mn_noise_handshake *hs, const uint8_t *msg, size_t msg_len,
                            uint8_t *payload, size_t payload_cap, size_t *payload_len,
                            mn_err *err)
{
    if (hs->failed || mn_noise_handshake_done(hs) || mn_noise_handshake_my_turn(hs))
        return mn_err_set(err, MN_ESTATE, 0, "noise: not this side's turn to read");
    if (msg_len > MN_NOISE_MSG_BYTES_MAX)
        return fail(hs, mn_err_set(err, MN_ECORRUPT, 0, "noise: message of %zu bytes", msg_len));
    const uint8_t *tokens = PATTERNS[hs->pattern].tokens[hs->msg_index];
    size_t pos = 0;
    for (unsigned i = 0; tokens[i] != T_END; i++) {
        int rc = read_token(hs, (enum token)tokens[i], msg, msg_len, &pos, err);
        if (rc != 0)
            return fail(hs, rc);
    }
    const size_t rest = msg_len - pos, tag = hs->ss.cs.has_key ? MN_NOISE_TAG_BYTES : 0;
    if (rest < tag)
        return fail(hs, mn_err_set(err, MN_ECORRUPT, 0, "noise: payload has no tag"));
    if (rest - tag > payload_cap)
        return fail(hs, mn_err_set(err, MN_ELIMIT, 0, "noise: payload of %zu bytes too long",
                                   rest - tag));
    int rc = decrypt_and_hash(&hs->ss, msg + pos, rest, payload, err);
    if (rc != 0)
        return fail(hs, rc);
    *payload_len = rest - tag;
    hs->msg_index++;
    return 0;
}

void mn_noise_handshake_split(mn_noise_handshake *hs, mn_noise_cipher *send,
                              mn_noise_cipher *recv)
{
    MN_ASSERT(mn_noise_handshake_done(hs));
    MN_ASSERT(!hs->failed);
    uint8_t k1[MN_NOISE_HASH_BYTES_MAX], k2[MN_NOISE_HASH_BYTES_MAX];
    hkdf(&hs->ss, NULL, 0, k1, k2, NULL);
    mn_noise_cipher_init(send, hs->initiator ? k1 : k2);
    mn_noise_cipher_init(recv, hs->initiator ? k2 : k1);
    sodium_memzero(k1, sizeof k1);
    sodium_memzero(k2, sizeof k2);
}

const uint8_t *mn_noise_handshake_hash(const mn_noise_handshake *hs, size_t *len)
{
    *len = hs->ss.hash_len;
    return hs->ss.h;
}

const uint8_t *mn_noise_handshake_remote_static(const mn_noise_handshake *hs)
{
    return hs->has_rs ? hs->rs : NULL;
}

void mn_noise_handshake_wipe(mn_noise_handshake *hs)
{
    sodium_memzero(hs, sizeof *hs);
}
