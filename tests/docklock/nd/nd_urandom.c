/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_urandom.c: 16 bytes each from /dev/urandom and /dev/random.
 */
#include <stdio.h>

static int dump(const char *path)
{
    unsigned char r[16];
    FILE *f = fopen(path, "rb");
    if (f == NULL || fread(r, 1, 16, f) != 16)
        return 1;
    fclose(f);
    for (int i = 0; i < 16; i++)
        printf("%02x", r[i]);
    printf("\n");
    return 0;
}

int main(void)
{
    return dump("/dev/urandom") | dump("/dev/random");
}
