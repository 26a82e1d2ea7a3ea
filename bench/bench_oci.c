/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_oci.c: container start latency of docklock as an OCI runtime, as a ratio to runc
 * measured in the same run on the same bundle (a busybox-static rootfs running /bin/true).
 * One operation is `RUNTIME --root DIR run --bundle B ID`: create, start, the program runs
 * and exits, the container is deleted (the two runtimes' `run` do the same steps). The
 * bundle's config.json is runc's default spec with the terminal off. It deliberately does not
 * measure podman or containerd (they add their own, identical, cost).
 * With an IMAGE (a local podman image with /bin/true) also `podman run --rm --network none
 * --runtime RUNTIME IMAGE /bin/true` for both runtimes (podman's own cost is in both).
 * Usage (as root): bench_oci DOCKLOCK RUNC BUSYBOX [IMAGE]
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

extern char **environ;

typedef struct run_ctx {
    const char *bin, *root, *bundle;
    int failures;
} run_ctx;

static void run_once(void *p)
{
    run_ctx *c = p;
    const char *argv[] = {c->bin, "--root", c->root, "run", "--bundle", c->bundle, "bench",
                          NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", 0, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    pid_t pid;
    int status = 0;
    if (posix_spawn(&pid, c->bin, &fa, NULL, (char *const *)argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        c->failures++;
    posix_spawn_file_actions_destroy(&fa);
}

typedef struct podman_ctx {
    const char *runtime, *image;
    int failures;
} podman_ctx;

static void podman_once(void *p)
{
    podman_ctx *c = p;
    const char *argv[] = {"/usr/bin/podman", "run", "--rm", "--network", "none", "--runtime",
                          c->runtime, c->image, "/bin/true", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", 0, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    pid_t pid;
    int status = 0;
    if (posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        c->failures++;
    posix_spawn_file_actions_destroy(&fa);
}

static const char config[] =
    "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
    "\"args\":[\"/bin/true\"],\"env\":[\"PATH=/bin\",\"TERM=xterm\"],\"cwd\":\"/\","
    "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
    "\"permitted\":[\"CAP_KILL\"]},\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,"
    "\"soft\":1024}],\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    "\"hostname\":\"bench\",\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\","
    "\"source\":\"proc\"},{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":"
    "[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
    "\"noexec\",\"nodev\",\"ro\"]}],\"linux\":{\"namespaces\":[{\"type\":\"pid\"},"
    "{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],"
    "\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"]}}\n";

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || geteuid() != 0) {
        fprintf(stderr, "usage (as root): %s DOCKLOCK RUNC BUSYBOX [IMAGE]\n", argv[0]);
        return 2;
    }
    char dir[] = "/var/tmp/bench-oci.XXXXXX", cmd[1024], path[256];
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/b/rootfs/bin %s/b/rootfs/proc %s/b/rootfs/dev "
             "%s/b/rootfs/sys %s/b/rootfs/tmp && cp %s %s/b/rootfs/bin/busybox && "
             "ln -s busybox %s/b/rootfs/bin/true", dir, dir, dir, dir, dir, argv[3], dir, dir);
    if (sh(cmd) != 0)
        return 1;
    snprintf(path, sizeof(path), "%s/b/config.json", dir);
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(config, f) < 0 || fclose(f) != 0)
        return 1;
    char bundle[256], root_runc[256], root_dl[256];
    snprintf(bundle, sizeof(bundle), "%s/b", dir);
    snprintf(root_runc, sizeof(root_runc), "%s/runc", dir);
    snprintf(root_dl, sizeof(root_dl), "%s/docklock", dir);
    run_ctx runc = {argv[2], root_runc, bundle, 0}, dl = {argv[1], root_dl, bundle, 0};
    podman_ctx prunc = {argv[2], argc == 5 ? argv[4] : NULL, 0};
    podman_ctx pdl = {argv[1], prunc.image, 0};
    bench_case cases[] = {{"start", "runc run /bin/true", run_once, &runc, 0, 0},
                          {"start", "docklock run /bin/true", run_once, &dl, 0, 0},
                          {"podman", "podman run, runc", podman_once, &prunc, 0, 0},
                          {"podman", "podman run, docklock", podman_once, &pdl, 0, 0}};
    size_t ncases = argc == 5 ? 4 : 2;
    bench_measure_all(cases, ncases);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    sh(cmd);
    if (runc.failures != 0 || dl.failures != 0 || prunc.failures != 0 || pdl.failures != 0) {
        fprintf(stderr, "failed runs: runc %d, docklock %d, podman+runc %d, podman+docklock %d\n",
                runc.failures, dl.failures, prunc.failures, pdl.failures);
        return 1;
    }
    char b[32], r[32];
    printf("%-28s %14s\n", "operation", "ns/op");
    for (size_t i = 0; i < ncases; i++)
        printf("%-28s %14s\n", cases[i].name, bench_fmt_ns(b, cases[i].ps_per_op));
    printf("start: docklock / runc: %s (goal <= 1.50)\n",
           bench_fmt_ratio(r, cases[1].ps_per_op, cases[0].ps_per_op));
    if (ncases == 4)
        printf("podman run: docklock / runc: %s\n",
               bench_fmt_ratio(r, cases[3].ps_per_op, cases[2].ps_per_op));
    return 0;
}
