/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_getcpu.c: the CPUs a busy loop of sched_getcpu() observes, and the affinity mask size.
 */
#include <sched.h>
#include <stdio.h>

int main(void)
{
    unsigned seen = 0;
    for (int i = 0; i < 2000; i++) {
        int c = sched_getcpu();
        if (c >= 0 && c < 32)
            seen |= 1u << c;
    }
    cpu_set_t set;
    sched_getaffinity(0, sizeof(set), &set);
    printf("cpus seen %#x affinity count %d\n", seen, CPU_COUNT(&set));
    return 0;
}
