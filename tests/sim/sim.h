/* SPDX-License-Identifier: Apache-2.0
 *
 * sim.h: the deterministic fault simulator of the consensus core (TigerBeetle's VOPR idea).
 * One 64-bit seed drives everything: the validator keys and stakes, which validators are
 * Byzantine and how, the network (per-message delay, drops, duplicates, reordering,
 * partitions that form and heal), crashes and restarts from persisted state (a write being
 * synced when the crash hits is lost), and the application's validation delays. The whole
 * cluster runs in one thread on simulated time; the same seed gives the same run, bit for bit.
 *
 * After every step it checks the safety invariants: honest validators never decide different
 * blocks at one height, decided blocks are valid, no honest validator signs two different
 * messages for one (height, round, step) (also across restarts), and every equivocation an
 * honest validator receives while at that height becomes evidence. When the fault phase ends
 * (drops, partitions and crashes stop, crashed validators restart; Byzantine ones keep going)
 * it checks liveness: every honest validator decides a few more heights within a bounded
 * simulated time. With dynamic stakes, validators bond, unbond, join and leave as blocks are
 * committed (a schedule drawn from the seed), each change reaching the validator set
 * MN_STAKE_LOOKBACK heights later, with the Byzantine power below a third of every height's
 * set; spare nodes follow the chain as observers until they join. Not here: block bodies, a
 * real transport.
 */
#ifndef MN_SIM_H
#define MN_SIM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sim_config {
    uint32_t validators;  /* 4 .. MN_VALIDATORS_MAX */
    bool unequal_stakes;  /* stakes drawn from 1..100 instead of all 10 */
    bool dynamic_stakes;  /* the set changes over heights (joins, leaves; with unequal stakes
                           * also bonds and unbonds); `validators` is the genesis set */
    uint64_t seed;
    bool verbose;         /* print a trace of the last events on failure (always) and more */
} sim_config;

typedef struct sim_result {
    bool ok;
    char failure[256];    /* the violated invariant, when !ok */
    uint64_t heights;     /* lowest height every honest validator decided */
    uint64_t rounds;      /* rounds started, summed over honest validators */
    uint64_t deliveries;
    uint64_t faults;      /* drops + duplicates + partitions + crashes + equivocations */
    uint64_t equivocations;
    uint64_t evidence;    /* evidence actions emitted by honest validators */
    uint32_t byzantine;   /* number of Byzantine validators */
    uint64_t stake_changes; /* joins, leaves, bonds and unbonds in the states used */
    uint64_t unknown_sets;  /* valset_at answers "not known yet" (the application lagging) */
    uint64_t sim_ms;      /* simulated time at the end */
} sim_result;

/* Runs one seed to the end of its liveness phase. Never aborts on a violated invariant:
 * reports it in the result (and prints the seed, configuration and a trace to stderr). */
void sim_run(const sim_config *cfg, sim_result *res);

#endif
