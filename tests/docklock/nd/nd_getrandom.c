/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_getrandom.c: two getrandom() calls of 16 bytes.
 */
#include <stdio.h>
#include <sys/random.h>

int main(void)
{
    unsigned char r[32];
    if (getrandom(r, 16, 0) != 16 || getrandom(r + 16, 16, 0) != 16)
        return 1;
    for (int i = 0; i < 32; i++)
        printf("%02x", r[i]);
    printf("\n");
    return 0;
}
