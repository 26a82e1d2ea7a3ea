/* SPDX-License-Identifier: Apache-2.0
 *
 * clock.c: the system and manual clocks, the system and seeded random generators. The seeded
 * generator produces whole 64-byte ChaCha20 blocks (nonce = block counter), so the stream
 * depends only on the seed and how many bytes were taken, never on the call pattern's timing.
 */
#include "metanode/clock.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

#include "metanode/assert.h"
#include "metanode/bytes.h"

static uint64_t read_clock(clockid_t id)
{
    struct timespec ts;
    MN_ASSERT(clock_gettime(id, &ts) == 0);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t system_mono(mn_clock *self)
{
    (void)self;
    return read_clock(CLOCK_MONOTONIC);
}

static uint64_t system_wall(mn_clock *self)
{
    (void)self;
    return read_clock(CLOCK_REALTIME);
}

static uint64_t manual_now(mn_clock *self)
{
    return self->now_ns;
}

mn_clock *mn_clock_system(void)
{
    static mn_clock clock = {system_mono, system_wall, 0};
    return &clock;
}

void mn_clock_manual_init(mn_clock *clock, uint64_t start_ns)
{
    clock->mono_ns = manual_now;
    clock->wall_ns = manual_now;
    clock->now_ns = start_ns;
}

void mn_clock_manual_advance(mn_clock *clock, uint64_t delta_ns)
{
    MN_ASSERT(clock->mono_ns == manual_now);
    MN_ASSERT(clock->now_ns + delta_ns >= clock->now_ns);
    clock->now_ns += delta_ns;
}

static void system_fill(mn_rng *self, void *out, size_t len)
{
    (void)self;
    randombytes_buf(out, len);
}

mn_rng *mn_rng_system(void)
{
    static mn_rng rng = {.fill = system_fill};
    MN_ASSERT(sodium_init() >= 0);
    return &rng;
}

/* Each call consumes whole blocks: simple, and the stream stays a pure function of the
 * sequence of requested lengths. */
static void seeded_fill(mn_rng *self, void *out, size_t len)
{
    uint8_t *p = out;
    while (len > 0) {
        uint8_t block[64];
        uint8_t nonce[8];
        mn_store_u64_le(nonce, self->counter++);
        crypto_stream_chacha20(block, sizeof(block), nonce, self->key);
        size_t n = len < sizeof(block) ? len : sizeof(block);
        memcpy(p, block, n);
        p += n;
        len -= n;
    }
}

void mn_rng_seeded_init(mn_rng *rng, const uint8_t seed[32])
{
    memset(rng, 0, sizeof(*rng));
    rng->fill = seeded_fill;
    memcpy(rng->key, seed, 32);
}

uint64_t mn_rng_u64(mn_rng *rng)
{
    uint8_t b[8];
    rng->fill(rng, b, sizeof(b));
    return mn_load_u64_le(b);
}

uint64_t mn_rng_uniform(mn_rng *rng, uint64_t bound)
{
    MN_ASSERT(bound > 0);
    /* Rejection sampling: draw until the value falls below the largest multiple of bound. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound + 1) % bound;
    for (;;) {
        uint64_t v = mn_rng_u64(rng);
        if (v <= limit)
            return v % bound;
    }
}
