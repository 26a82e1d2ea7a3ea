/* SPDX-License-Identifier: Apache-2.0
 *
 * hash.h: SHA-256, plain and domain-tagged (SHA-256(tag || data), tags from tags.h), one-shot
 * and streaming, on top of libsodium's crypto_hash_sha256. These cannot fail. Nothing here is
 * constant-time beyond what libsodium gives, and nothing is keyed: for MACs use libsodium.
 */
#ifndef METANODE_HASH_H
#define METANODE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include <sodium/crypto_hash_sha256.h>

#define MN_SHA256_BYTES 32u

/* Streaming state. Caller-owned; no _deinit needed (it holds no secrets of ours). */
typedef struct mn_sha256_ctx {
    crypto_hash_sha256_state state;
} mn_sha256_ctx;

void mn_sha256(uint8_t out[static MN_SHA256_BYTES], const void *data, size_t len);
/* SHA-256(tag || data). */
void mn_sha256_tagged(uint8_t out[static MN_SHA256_BYTES], uint8_t tag, const void *data,
                      size_t len);

/* Streaming: init absorbs the tag byte, then any number of updates, then final once. */
void mn_sha256_tagged_init(mn_sha256_ctx *ctx, uint8_t tag);
void mn_sha256_update(mn_sha256_ctx *ctx, const void *data, size_t len);
void mn_sha256_final(mn_sha256_ctx *ctx, uint8_t out[static MN_SHA256_BYTES]);

#endif
