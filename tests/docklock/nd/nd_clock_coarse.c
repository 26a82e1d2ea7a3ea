/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_clock_coarse.c: the coarse clocks (vDSO, never a syscall natively).
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_REALTIME_COARSE, &a);
    clock_gettime(CLOCK_MONOTONIC_COARSE, &b);
    printf("realtime_coarse %lld.%09ld monotonic_coarse %lld.%09ld\n", (long long)a.tv_sec,
           a.tv_nsec, (long long)b.tv_sec, b.tv_nsec);
    return 0;
}
