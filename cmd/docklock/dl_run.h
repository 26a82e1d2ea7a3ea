/* SPDX-License-Identifier: Apache-2.0
 *
 * dl_run.h: the arguments of a run, and writing a run's results (streams, witness, receipt,
 * exit status), shared by `run` and `replay`.
 */
#ifndef DOCKLOCK_DL_RUN_H
#define DOCKLOCK_DL_RUN_H

#include "metanode/docklock.h"

typedef struct dl_run_args {
    mn_docklock_config cfg;
    const char *env[MN_WITNESS_ENV_MAX];
    uint32_t envc;
    const char *key, *witness, *receipt, *stdin_path;
    bool streamed; /* stdout/stderr were copied out during the run (cfg.io) */
} dl_run_args;

/* Copies the guest's stdout/stderr to ours, writes the witness and receipt files if asked,
 * and returns the exit code of the run. */
int dl_write_outputs(const char *verb, const dl_run_args *a, const mn_docklock_result *res);

#endif
