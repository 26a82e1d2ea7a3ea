/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_replay.c: `docklock replay` (placeholder until its commit).
 */
#include <stdio.h>

#include "dl.h"

int cmd_replay(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "docklock replay: not built yet\n");
    return DL_FAILED;
}
