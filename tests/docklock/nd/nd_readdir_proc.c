/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_readdir_proc.c: the numeric entries of /proc (the processes one can see, our own among
 * them) in readdir order, as a count, the first entries and a hash of the whole list.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>

int main(void)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 1;
    struct dirent *e;
    unsigned long h = 1469598103934665603ul; /* FNV-1a over the names in order */
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        if (n++ < 4)
            printf("%s ", e->d_name);
        for (const char *p = e->d_name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ul;
        h = (h ^ ' ') * 1099511628211ul;
    }
    closedir(d);
    printf("... (%d entries, hash %016lx)\n", n, h);
    return 0;
}
