/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_uname.c: the kernel's name, release and host name (fixed per host, fixed in the cage).
 */
#include <stdio.h>
#include <sys/utsname.h>

int main(void)
{
    struct utsname u;
    uname(&u);
    printf("%s %s %s %s %s\n", u.sysname, u.nodename, u.release, u.version, u.machine);
    return 0;
}
