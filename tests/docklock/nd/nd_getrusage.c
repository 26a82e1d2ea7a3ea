/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_getrusage.c: getrusage(): CPU times, page faults and context switches of the process.
 */
#include <stdio.h>
#include <sys/resource.h>

int main(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    printf("utime %ld.%06ld stime %ld.%06ld minflt %ld nvcsw %ld nivcsw %ld\n",
           (long)u.ru_utime.tv_sec, (long)u.ru_utime.tv_usec, (long)u.ru_stime.tv_sec,
           (long)u.ru_stime.tv_usec, u.ru_minflt, u.ru_nvcsw, u.ru_nivcsw);
    return 0;
}
