/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_pipes.c: three children write 1000 numbered lines each into one shared pipe (small
 * writes, so the pipe fills and writers block), the parent reads everything and prints how many
 * reads that took, a hash of the order in which the lines arrived and the first ones. Whose
 * lines come first, how they interleave and how much each read finds are up to the scheduler.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 3
#define LINES 1000

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 1;
    for (int c = 0; c < CHILDREN; c++) {
        if (fork() == 0) {
            close(p[0]);
            char line[128];
            for (int i = 0; i < LINES; i++) {
                int n = snprintf(line, sizeof(line), "%d:%03d %0100d\n", c, i, i);
                if (write(p[1], line, (size_t)n) != n)
                    _exit(1);
            }
            _exit(0);
        }
    }
    close(p[1]);
    static char buf[CHILDREN * LINES * 128];
    size_t len = 0;
    ssize_t n;
    int reads = 0;
    while (len < sizeof(buf) && (n = read(p[0], buf + len, sizeof(buf) - len)) > 0) {
        len += (size_t)n;
        reads++;
    }
    while (wait(NULL) > 0) {
    }
    unsigned long h = 1469598103934665603ul;
    char first[64];
    int nfirst = 0;
    for (char *line = buf; line < buf + len; line = strchr(line, '\n') + 1) {
        h = (h ^ (unsigned char)line[0]) * 1099511628211ul;
        if (nfirst < 60)
            first[nfirst++] = line[0];
        if (strchr(line, '\n') == NULL)
            break;
    }
    first[nfirst] = 0;
    printf("%zu bytes in %d reads, order %016lx %s\n", len, reads, h, first);
    return 0;
}
