/* SPDX-License-Identifier: Apache-2.0
 *
 * test_sim.c: the seed bank of the consensus simulator. Runs the regression seeds (seeds that
 * once failed, from regress_seeds.txt), then --seeds N seeds (MN_SIM_SEEDS overrides N) from
 * --first S, spread over the configurations 4, 7, 10 and 31 validators with equal and unequal
 * stakes, fixed or changing over heights (dynamic: one block of 12 seeds in three), and prints
 * one summary line with the counts of seeds, heights decided, faults injected, stake changes
 * and violations. Exit status 1 if any seed violated an invariant; each failing seed is
 * printed with a trace and the command that reproduces it. One seed alone:
 *   test_sim_consensus --seed S --validators N [--unequal] [--dynamic]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/sign.h"
#include "sim.h"

typedef struct totals {
    uint64_t seeds, heights, rounds, deliveries, faults, equivocations, evidence, byz_runs;
    uint64_t dynamic_runs, stake_changes, unknown_sets;
    uint64_t violations;
} totals;

static void run_one(const sim_config *cfg, totals *t)
{
    sim_result r;
    sim_run(cfg, &r);
    t->seeds++;
    t->heights += r.heights;
    t->rounds += r.rounds;
    t->deliveries += r.deliveries;
    t->faults += r.faults;
    t->equivocations += r.equivocations;
    t->evidence += r.evidence;
    t->byz_runs += r.byzantine > 0;
    t->dynamic_runs += cfg->dynamic_stakes;
    t->stake_changes += r.stake_changes;
    t->unknown_sets += r.unknown_sets;
    if (!r.ok)
        t->violations++;
    if (cfg->verbose)
        printf("seed %" PRIu64 " n=%u unequal=%d dynamic=%d: %s heights=%" PRIu64
               " rounds=%" PRIu64 " faults=%" PRIu64 " stake_changes=%" PRIu64
               " unknown_sets=%" PRIu64 " byz=%u sim=%" PRIu64 "ms\n",
               cfg->seed, cfg->validators, (int)cfg->unequal_stakes, (int)cfg->dynamic_stakes,
               r.ok ? "ok" : r.failure, r.heights, r.rounds, r.faults, r.stake_changes,
               r.unknown_sets, r.byzantine, r.sim_ms);
}

/* The configuration of the i-th seed of the bank: mostly small clusters, one in twelve with
 * 31 validators (the expensive case), equal and unequal stakes alternating, and every third
 * block of twelve seeds with stakes changing over heights (so each size and stake kind). */
static void config_of(uint64_t i, sim_config *cfg)
{
    static const uint32_t sizes[12] = {4, 4, 7, 7, 10, 10, 4, 4, 7, 7, 10, 31};
    cfg->validators = sizes[i % 12];
    cfg->unequal_stakes = (i % 2) == 1 || (i % 12 == 11 && (i / 12) % 2 == 1);
    cfg->dynamic_stakes = (i / 12) % 3 == 2;
}

static int run_regressions(const char *path, totals *t, bool verbose)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "test_sim: regression list %s is missing\n", path);
        return -1;
    }
    char line[256];
    int count = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        unsigned long long seed;
        unsigned validators;
        int unequal, dynamic = 0;
        if (sscanf(line, "%llu %u %d %d", &seed, &validators, &unequal, &dynamic) < 3) {
            fprintf(stderr, "test_sim: bad line in %s: %s", path, line);
            fclose(f);
            return -1;
        }
        sim_config cfg = {.validators = validators, .unequal_stakes = unequal != 0,
                          .dynamic_stakes = dynamic == 1, .seed = seed, .verbose = verbose};
        run_one(&cfg, t);
        count++;
    }
    fclose(f);
    return count;
}

int main(int argc, char **argv)
{
    mn_err err;
    if (mn_crypto_init(&err) != 0) {
        fprintf(stderr, "test_sim: %s\n", err.msg);
        return 1;
    }
    uint64_t seeds = 500, first = 1;
    const char *regress = NULL;
    sim_config one = {0};
    bool single = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (strcmp(a, "--seeds") == 0)
            seeds = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--first") == 0)
            first = strtoull(v, NULL, 10), i++;
        else if (strcmp(a, "--regress") == 0)
            regress = v, i++;
        else if (strcmp(a, "--seed") == 0)
            one.seed = strtoull(v, NULL, 10), single = true, i++;
        else if (strcmp(a, "--validators") == 0)
            one.validators = (uint32_t)strtoul(v, NULL, 10), i++;
        else if (strcmp(a, "--unequal") == 0)
            one.unequal_stakes = true;
        else if (strcmp(a, "--dynamic") == 0)
            one.dynamic_stakes = true;
        else if (strcmp(a, "--verbose") == 0)
            verbose = true;
        else {
            fprintf(stderr, "test_sim: unknown argument %s\n", a);
            return 2;
        }
    }
    const char *env = getenv("MN_SIM_SEEDS");
    if (env != NULL && env[0] != '\0')
        seeds = strtoull(env, NULL, 10);
    totals t = {0};
    if (single) {
        one.validators = one.validators ? one.validators : 4;
        one.verbose = true;
        run_one(&one, &t);
        return t.violations == 0 ? 0 : 1;
    }
    int reg = regress != NULL ? run_regressions(regress, &t, verbose) : 0;
    if (reg < 0)
        return 1;
    for (uint64_t i = 0; i < seeds; i++) {
        sim_config cfg = {.seed = first + i, .verbose = verbose};
        config_of(first + i, &cfg);
        run_one(&cfg, &t);
    }
    printf("sim: seeds=%" PRIu64 " (regressions %d) heights=%" PRIu64 " rounds=%" PRIu64
           " deliveries=%" PRIu64 " faults=%" PRIu64 " equivocations=%" PRIu64
           " evidence=%" PRIu64 " byzantine_runs=%" PRIu64 " dynamic_runs=%" PRIu64
           " stake_changes=%" PRIu64 " unknown_sets=%" PRIu64 " violations=%" PRIu64 "\n",
           t.seeds, reg, t.heights, t.rounds, t.deliveries, t.faults, t.equivocations,
           t.evidence, t.byz_runs, t.dynamic_runs, t.stake_changes, t.unknown_sets,
           t.violations);
    return t.violations == 0 ? 0 : 1;
}
