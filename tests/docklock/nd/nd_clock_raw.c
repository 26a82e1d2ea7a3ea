/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_clock_raw.c: reads the clocks with raw clock_gettime syscalls (no vDSO).
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    struct timespec a, b;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &a);
    syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &b);
    printf("realtime %lld.%09ld boottime %lld.%09ld\n", (long long)a.tv_sec, a.tv_nsec,
           (long long)b.tv_sec, b.tv_nsec);
    return 0;
}
