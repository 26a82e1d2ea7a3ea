/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_times.c: times(): clock ticks since boot and the CPU times of the process.
 */
#include <stdio.h>
#include <sys/times.h>

int main(void)
{
    struct tms t;
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 20000000ul; i++)
        x += i;
    (void)x;
    clock_t now = times(&t);
    printf("ticks %ld user %ld sys %ld\n", (long)now, (long)t.tms_utime, (long)t.tms_stime);
    return 0;
}
