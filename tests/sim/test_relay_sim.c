/* SPDX-License-Identifier: Apache-2.0
 *
 * test_relay_sim.c: runs the relay simulator's scenarios and prints one summary line each:
 *   test_relay_sim [--nodes N] [--messages M] [--seed S] [--scenario NAME|all] [--runs R]
 *                  [--attackers PERCENT] [--loss PERMILLE]
 * (--attackers and --loss override the scenario's figures, for exploring beyond the goals.)
 * Exit 0 when every scenario run passes its check, 1 otherwise, 2 on bad usage. CTest runs a
 * reduced configuration (label sim); tools/relay_sim.sh the full one (1,000 nodes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/sign.h"
#include "relay_sim.h"

static int usage(void)
{
    fprintf(stderr, "usage: test_relay_sim [--nodes N] [--messages M] [--seed S] "
                    "[--scenario NAME|all] [--runs R] [--attackers PERCENT] [--loss PERMILLE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    uint32_t nodes = 200, messages = 50, runs = 0;
    long attackers = -1, loss = -1;
    uint64_t seed = 1;
    const char *only = "all";
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        const char *v = argv[++i];
        if (strcmp(argv[i - 1], "--nodes") == 0)
            nodes = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(argv[i - 1], "--messages") == 0)
            messages = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(argv[i - 1], "--seed") == 0)
            seed = strtoull(v, NULL, 10);
        else if (strcmp(argv[i - 1], "--scenario") == 0)
            only = v;
        else if (strcmp(argv[i - 1], "--runs") == 0)
            runs = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(argv[i - 1], "--attackers") == 0)
            attackers = strtol(v, NULL, 10);
        else if (strcmp(argv[i - 1], "--loss") == 0)
            loss = strtol(v, NULL, 10);
        else
            return usage();
    }
    if (nodes < 20 || nodes > 4096 || messages == 0 || messages > 100000 || attackers > 90 ||
        loss > 900)
        return usage();
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        return 1;
    bool all_ok = true, any = false;
    for (int sc = 0; sc < RELAY_SIM_SCENARIOS; sc++) {
        if (strcmp(only, "all") != 0 && strcmp(only, relay_sim_name(sc)) != 0)
            continue;
        any = true;
        relay_sim_config cfg;
        relay_sim_config_default(&cfg, sc, nodes, messages, seed);
        if (runs)
            cfg.runs = runs;
        if (attackers >= 0)
            cfg.attackers_percent = (uint32_t)attackers;
        if (loss >= 0)
            cfg.loss_permille = (uint32_t)loss;
        relay_sim_result r;
        relay_sim_run(&cfg, &r);
        printf("relay-sim: scenario=%s nodes=%u messages=%u seed=%llu result=%s | %s | "
               "hops p50=%u p99=%u latency_ms p50=%u p99=%u dup_per_node_msg=%llu.%03llu "
               "sent_msgs=%llu sent_ctrl=%llu lost=%llu iwant_served=%llu pruned_score=%llu "
               "spam_max_invalid=%u health_drops=%llu sim_ms=%llu\n",
               relay_sim_name(sc), nodes, messages, (unsigned long long)seed,
               r.pass ? "PASS" : "FAIL", r.check, r.hops_p50, r.hops_p99, r.latency_p50_ms,
               r.latency_p99_ms, (unsigned long long)(r.dup_milli / 1000),
               (unsigned long long)(r.dup_milli % 1000), (unsigned long long)r.sent_msgs,
               (unsigned long long)r.sent_ctrl, (unsigned long long)r.lost,
               (unsigned long long)r.iwant_served, (unsigned long long)r.pruned_score,
               r.spam_max_invalid, (unsigned long long)r.health_drops, (unsigned long long)r.sim_ms);
        fflush(stdout);
        all_ok &= r.pass;
    }
    if (!any)
        return usage();
    return all_ok ? 0 : 1;
}
