/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_sysinfo.c: sysinfo(): uptime, free memory and process count of the machine.
 */
#include <stdio.h>
#include <sys/sysinfo.h>

int main(void)
{
    struct sysinfo s;
    sysinfo(&s);
    printf("uptime %ld freeram %lu procs %u\n", s.uptime, s.freeram, (unsigned)s.procs);
    return 0;
}
