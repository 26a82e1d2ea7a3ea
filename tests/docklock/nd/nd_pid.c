/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_pid.c: the process, parent and thread ids.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("pid %d ppid %d tid %d\n", (int)getpid(), (int)getppid(), (int)gettid());
    return 0;
}
