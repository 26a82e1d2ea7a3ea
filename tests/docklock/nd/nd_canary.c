/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_canary.c: the stack protector canary (from AT_RANDOM) read from %fs:0x28.
 */
#include <stdio.h>

int main(void)
{
    unsigned long canary;
    __asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
    printf("%016lx\n", canary);
    return 0;
}
