/* SPDX-License-Identifier: Apache-2.0
 *
 * dl.h: what the verbs of the docklock command share. Each verb is one file (cmd_run.c,
 * cmd_replay.c, cmd_verify.c, cmd_inspect.c), listed in main.c.
 *
 * Exit codes: `run` and `replay` pass the guest's exit status through (128 + n for a guest
 * killed by signal n); DL_LIMIT (124) when the cage stopped the run at a limit (the receipt
 * says which); 125 for Docklock's own failures, 126 when the program cannot be executed, 127
 * when it is not found. `verify`, `inspect` and a replay that diverges: 0 success, 1 a check
 * failed, 2 usage error, 125 bad input or internal error.
 */
#ifndef DOCKLOCK_DL_H
#define DOCKLOCK_DL_H

#include "metanode/error.h"

enum {
    DL_OK = 0,
    DL_INVALID = 1,
    DL_USAGE = 2,
    DL_LIMIT = 124,
    DL_FAILED = 125,
    DL_NOEXEC = 126,
    DL_NOTFOUND = 127,
};

/* Prints "docklock <verb>: <msg>" to stderr and returns the exit code for err->code. */
int dl_fail(const char *verb, const mn_err *err);
int dl_usage(const char *verb, const char *help);

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

#endif
