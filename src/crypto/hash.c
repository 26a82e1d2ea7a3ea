/* SPDX-License-Identifier: Apache-2.0
 *
 * hash.c: thin wrappers over libsodium's SHA-256 that prepend a one-byte domain tag. The tag is
 * hashed as the first byte of the message, so SHA-256(tag || data) is interoperable with any
 * other SHA-256 implementation (RFC 9162 Merkle hashes are exactly this with tags 0 and 1).
 * libsodium's SHA-256 functions return 0 unconditionally; we assert that rather than ignore it.
 */
#include "metanode/hash.h"

#include "metanode/assert.h"

void mn_sha256(uint8_t out[static MN_SHA256_BYTES], const void *data, size_t len)
{
    MN_ASSERT(data != NULL || len == 0);
    int rc = crypto_hash_sha256(out, data, len);
    MN_ASSERT(rc == 0);
}

void mn_sha256_tagged_init(mn_sha256_ctx *ctx, uint8_t tag)
{
    MN_ASSERT(ctx != NULL);
    int rc = crypto_hash_sha256_init(&ctx->state);
    rc |= crypto_hash_sha256_update(&ctx->state, &tag, 1);
    MN_ASSERT(rc == 0);
}

void mn_sha256_update(mn_sha256_ctx *ctx, const void *data, size_t len)
{
    MN_ASSERT(data != NULL || len == 0);
    if (len == 0)
        return;
    int rc = crypto_hash_sha256_update(&ctx->state, data, len);
    MN_ASSERT(rc == 0);
}

void mn_sha256_final(mn_sha256_ctx *ctx, uint8_t out[static MN_SHA256_BYTES])
{
    int rc = crypto_hash_sha256_final(&ctx->state, out);
    MN_ASSERT(rc == 0);
}

void mn_sha256_tagged(uint8_t out[static MN_SHA256_BYTES], uint8_t tag, const void *data,
                      size_t len)
{
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, tag);
    mn_sha256_update(&ctx, data, len);
    mn_sha256_final(&ctx, out);
}
