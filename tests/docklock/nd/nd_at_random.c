/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_at_random.c: the 16 AT_RANDOM bytes the kernel puts on the initial stack.
 */
#include <stdio.h>
#include <sys/auxv.h>

int main(void)
{
    const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
    for (int i = 0; i < 16; i++)
        printf("%02x", r[i]);
    printf("\n");
    return 0;
}
