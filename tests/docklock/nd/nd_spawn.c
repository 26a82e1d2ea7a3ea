/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_spawn.c: posix_spawn (glibc: clone with CLONE_VM | CLONE_VFORK) starts four shells that
 * each print a line; the parent prints between the spawns, then waits. The vfork parent only
 * goes on after the child has exec'd, and then races it: the order of the lines is up to the
 * scheduler.
 */
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    for (int i = 0; i < 4; i++) {
        char script[64];
        snprintf(script, sizeof(script), "echo child %d", i);
        char *argv[] = {"sh", "-c", script, NULL};
        pid_t pid;
        if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
            return 1;
        printf("spawned %d\n", i);
    }
    int st, done = 0;
    while (wait(&st) > 0)
        done++;
    printf("parent reaped %d\n", done);
    return 0;
}
