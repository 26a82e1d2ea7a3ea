/* SPDX-License-Identifier: Apache-2.0
 * relay_sim_eclipse.c: placeholder until the address book lands. */
#include <stdio.h>
#include "relay_sim_internal.h"

void rsim_eclipse_run(const relay_sim_config *cfg, relay_sim_result *res)
{
    (void)cfg;
    res->pass = false;
    snprintf(res->check, sizeof res->check, "not implemented");
}
