/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_cputime.c: CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID after some work.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 1000000ul; i++)
        x += i;
    (void)x;
    struct timespec p, t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    printf("process %ld.%09ld thread %ld.%09ld\n", (long)p.tv_sec, p.tv_nsec, (long)t.tv_sec,
           t.tv_nsec);
    return 0;
}
