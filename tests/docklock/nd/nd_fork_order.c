/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_fork_order.c: four children spin a random while, then print; whose line comes first?
 */
#include <stdio.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < 4; i++) {
        if (fork() == 0) {
            unsigned spin = 0;
            getrandom(&spin, sizeof(spin), 0);
            for (volatile unsigned k = 0; k < spin % 20000000u; k++) {
            }
            printf("child %d\n", i);
            _exit(0);
        }
    }
    while (wait(NULL) > 0) {
    }
    printf("parent done\n");
    return 0;
}
