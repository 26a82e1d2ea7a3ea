/* SPDX-License-Identifier: Apache-2.0
 *
 * clock.h: time and randomness behind interfaces, so deterministic code never reads the wall
 * clock or the kernel's random pool directly and tests can substitute fakes. The system
 * implementations wrap clock_gettime and getrandom; the fakes are a manual clock and a seeded
 * ChaCha20 stream (libsodium's crypto_stream_chacha20), both fully deterministic.
 */
#ifndef METANODE_CLOCK_H
#define METANODE_CLOCK_H

#include <stddef.h>
#include <stdint.h>

typedef struct mn_clock mn_clock;
struct mn_clock {
    /* Monotonic nanoseconds (never goes backwards) and wall-clock nanoseconds since 1970. */
    uint64_t (*mono_ns)(mn_clock *self);
    uint64_t (*wall_ns)(mn_clock *self);
    uint64_t now_ns; /* state of the manual clock; unused by the system clock */
};

/* The process-wide system clock (CLOCK_MONOTONIC, CLOCK_REALTIME). */
mn_clock *mn_clock_system(void);
/* A manual clock that returns now_ns for both readings; tests advance it by hand. */
void mn_clock_manual_init(mn_clock *clock, uint64_t start_ns);
void mn_clock_manual_advance(mn_clock *clock, uint64_t delta_ns);

typedef struct mn_rng mn_rng;
struct mn_rng {
    void (*fill)(mn_rng *self, void *out, size_t len);
    uint8_t key[32];  /* state of the seeded generator */
    uint64_t counter; /* 64-byte blocks consumed */
};

/* The kernel's random pool (libsodium randombytes_buf). */
mn_rng *mn_rng_system(void);
/* A deterministic generator: ChaCha20 keyed by seed, as a stream of 64-byte blocks. */
void mn_rng_seeded_init(mn_rng *rng, const uint8_t seed[32]);
/* Convenience: a uniform 64-bit value, and a uniform value in [0, bound) without bias. */
uint64_t mn_rng_u64(mn_rng *rng);
uint64_t mn_rng_uniform(mn_rng *rng, uint64_t bound);

#endif
