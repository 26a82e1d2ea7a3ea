/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_sim.h: the deterministic network simulator of the gossip relay. One 64-bit seed drives
 * everything: node keys, addresses and regions, who dials whom, per-link latency, message loss,
 * which nodes publish and which attack. Every node runs the real relay state machine
 * (mn_relay_on_gossip, _on_ctrl, _heartbeat, _publish) on simulated time in one thread; its
 * actions are executed as sends over links with latency (by region pair), per-node upload
 * bandwidth (a send waits for the sender's uplink) and loss. Control messages cross the wire
 * encoded, so the codec is exercised too. The same seed gives the same run, bit for bit.
 *
 * Scenarios (relay_sim_scenario): a fault-free run, 20 % message loss, censorship (attackers
 * in the mesh drop one topic's messages and never answer IWANT), spam (attackers also send
 * messages with bad signatures), a sybil connection flood from one /24, and an eclipse attempt
 * on the address books (attackers with half of all addresses in 4 /16 groups). Each reports
 * measured figures and a pass/fail check. Not here: real sockets, the BPCI handshake, CPU cost.
 */
#ifndef MN_RELAY_SIM_H
#define MN_RELAY_SIM_H

#include <stdbool.h>
#include <stdint.h>

typedef enum relay_sim_scenario {
    RELAY_SIM_BASELINE = 0,
    RELAY_SIM_LOSS,
    RELAY_SIM_CENSOR,
    RELAY_SIM_SPAM,
    RELAY_SIM_SYBIL,
    RELAY_SIM_ECLIPSE,
    RELAY_SIM_SCENARIOS
} relay_sim_scenario;

typedef struct relay_sim_config {
    relay_sim_scenario scenario;
    uint32_t nodes;       /* 20 .. 4096 */
    uint32_t messages;    /* published by random honest nodes */
    uint32_t rate_per_s;  /* publications a second across the network */
    uint32_t payload_bytes;
    uint32_t loss_permille; /* every transmission (message or control) lost with this chance */
    uint32_t attackers_percent; /* censors or spammers */
    uint32_t runs;        /* eclipse: independent runs (seeds seed, seed+1, ...) */
    uint64_t seed;
} relay_sim_config;

typedef struct relay_sim_result {
    bool pass;
    char check[200];          /* what was checked, with the figure */
    uint64_t expected, delivered; /* (honest receiver, honest message) pairs */
    uint32_t hops_p50, hops_p99;
    uint32_t latency_p50_ms, latency_p99_ms;
    uint64_t dup_milli;       /* duplicates per node per message, thousandths */
    uint64_t sent_msgs, sent_ctrl, lost;
    uint64_t iwant_served, pruned_score;
    uint64_t health_drops;    /* DISCONNECT actions (should be none in these networks) */
    uint32_t spam_max_invalid; /* spam: most invalid messages one honest node took from one spammer */
    uint32_t spam_unlisted;    /* spam: (honest, spammer) links never graylisted */
    uint64_t sybil_admitted, sybil_attempts; /* sybil */
    uint32_t honest_kept, honest_before;     /* sybil: honest inbound peers kept */
    uint32_t eclipse_runs, eclipse_ok_runs;  /* eclipse */
    uint32_t eclipse_min_honest_out;         /* fewest honest outbound peers of any node */
    uint32_t eclipse_control; /* (node, round) pairs eclipsed when picks ignore groups */
    uint64_t sim_ms;
} relay_sim_result;

const char *relay_sim_name(relay_sim_scenario s);
/* The default figures of a scenario for nodes and messages (full: 1,000 nodes). */
void relay_sim_config_default(relay_sim_config *cfg, relay_sim_scenario s, uint32_t nodes,
                              uint32_t messages, uint64_t seed);
/* Runs one scenario. Never aborts on a failed check: reports it in the result. */
void relay_sim_run(const relay_sim_config *cfg, relay_sim_result *res);

#endif
