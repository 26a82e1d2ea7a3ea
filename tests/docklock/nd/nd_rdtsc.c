/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_rdtsc.c: the time-stamp counter read with rdtsc and rdtscp.
 */
#include <stdio.h>
#include <x86intrin.h>

int main(void)
{
    unsigned aux = 7;
    unsigned long long a = __rdtsc();
    unsigned long long b = __rdtscp(&aux);
    printf("rdtsc %llu rdtscp %llu aux %u\n", a, b, aux);
    return 0;
}
