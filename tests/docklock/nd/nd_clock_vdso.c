/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_clock_vdso.c: reads CLOCK_REALTIME and CLOCK_MONOTONIC through libc (the vDSO path).
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("realtime %lld.%09ld monotonic %lld.%09ld\n", (long long)a.tv_sec, a.tv_nsec,
           (long long)b.tv_sec, b.tv_nsec);
    return 0;
}
