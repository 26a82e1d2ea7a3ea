/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_node.c: committed throughput and commit latency of a 4-validator cluster on this
 * machine, against the ceiling set by signature verification, both measured in the same run.
 *   bench_node [--validators N] [--duration S] [--tx-rate R] [--metanode BIN]
 * 1. The ceiling: Ed25519 verifications per second of one core (mn_verify over a 250-byte
 *    transaction-sized message, best of 5 batches), divided by the validators sharing the
 *    machine (each validator verifies every transaction once, at admission).
 * 2. The cluster: `metanode dev --json` (4 agents, signed ~250-byte notes over BPCI at R/s for
 *    S seconds); committed tx/s and latency submit -> committed (p50, p99) from its summary.
 * Prints both and the ratio. Not a test: nothing fails on slow figures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench_util.h"
#include "metanode/sign.h"

static uint64_t verify_per_s(void)
{
    mn_keypair kp;
    uint8_t msg[250], sig[64];
    memset(msg, 0x5a, sizeof(msg));
    mn_keypair_generate(&kp);
    mn_sign(sig, 0x13, msg, sizeof(msg), &kp);
    uint64_t best = 0;
    for (int b = 0; b < 5; b++) {
        const uint64_t t0 = bench_now_ns();
        uint64_t ops = 0;
        while (bench_now_ns() - t0 < 200000000ull) {
            for (int i = 0; i < 64; i++)
                if (mn_verify(sig, 0x13, msg, sizeof(msg), kp.pk) != 0)
                    abort();
            ops += 64;
        }
        const uint64_t rate = ops * 1000000000ull / (bench_now_ns() - t0);
        if (rate > best)
            best = rate;
    }
    return best;
}

int main(int argc, char **argv)
{
    const char *bin = MN_METANODE_BIN;
    unsigned long validators = 4, duration = 20, rate = 5000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--validators") == 0)
            validators = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--duration") == 0)
            duration = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--tx-rate") == 0)
            rate = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--metanode") == 0)
            bin = argv[i + 1];
    }
    mn_err err;
    if (mn_crypto_init(&err) != 0 || validators == 0)
        return 1;
    const uint64_t vps = verify_per_s();
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s dev --validators %lu --duration %lu --tx-rate %lu --json", bin,
             validators, duration, rate);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return perror("popen"), 1;
    json_error_t je;
    json_t *doc = json_loadf(p, 0, &je);
    const int st = pclose(p);
    if (doc == NULL) {
        fprintf(stderr, "bench_node: no summary from `%s` (status %d): %s\n", cmd, st, je.text);
        return 1;
    }
    const double tps = json_real_value(json_object_get(doc, "tx_per_s"));
    const json_int_t p50 = json_integer_value(json_object_get(doc, "latency_p50_ms"));
    const json_int_t p99 = json_integer_value(json_object_get(doc, "latency_p99_ms"));
    const json_int_t sent = json_integer_value(json_object_get(doc, "txs_sent"));
    const json_int_t done = json_integer_value(json_object_get(doc, "txs_committed"));
    const int agree = json_is_true(json_object_get(doc, "same_state_root"));
    const double ceiling = (double)vps / (double)validators;
    printf("node cluster: %lu validators, offered %lu tx/s for %lu s (~250-byte signed notes)\n",
           validators, rate, duration);
    printf("  ed25519 verify, one core        %10llu /s\n", (unsigned long long)vps);
    printf("  ceiling (verify / validators)   %10.0f tx/s\n", ceiling);
    printf("  committed                       %10.0f tx/s  (%lld of %lld sent)\n", tps,
           (long long)done, (long long)sent);
    printf("  fraction of the ceiling         %10.1f %%\n", 100.0 * tps / ceiling);
    printf("  latency submit -> committed     p50 %lld ms, p99 %lld ms\n", (long long)p50,
           (long long)p99);
    printf("  all nodes at the same state root: %s\n", agree ? "yes" : "NO");
    json_decref(doc);
    return agree ? 0 : 1;
}
