/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_verify.c: `docklock verify` (placeholder until its commit).
 */
#include <stdio.h>

#include "dl.h"

int cmd_verify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "docklock verify: not built yet\n");
    return DL_FAILED;
}
