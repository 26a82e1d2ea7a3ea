/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_gettimeofday.c: gettimeofday() and time(), both vDSO entry points.
 */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    printf("gettimeofday %lld.%06ld time %lld\n", (long long)tv.tv_sec, (long)tv.tv_usec,
           (long long)time(NULL));
    return 0;
}
