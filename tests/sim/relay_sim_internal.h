/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_sim_internal.h: what the relay simulator's files share: the seeded random stream
 * (splitmix64) and the eclipse scenario's entry point.
 */
#ifndef MN_RELAY_SIM_INTERNAL_H
#define MN_RELAY_SIM_INTERNAL_H

#include <stdint.h>

#include "relay_sim.h"

uint64_t rsim_rand(uint64_t *state);
uint32_t rsim_below(uint64_t *state, uint32_t n); /* n >= 1 */
void rsim_eclipse_run(const relay_sim_config *cfg, relay_sim_result *res);

#endif
