/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_hostname.c: the host name (fixed per host, fixed to docklock in the cage).
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    char name[256] = "";
    gethostname(name, sizeof(name) - 1);
    printf("%s\n", name);
    return 0;
}
