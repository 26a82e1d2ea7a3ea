/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_sleep.c: sleeps 50 ms and reports the elapsed monotonic time.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec a, b, d = {0, 50000000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&d, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long ns = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
    printf("slept %lld ns\n", ns);
    return 0;
}
