/* SPDX-License-Identifier: Apache-2.0
 *
 * cgroup.c: the memory limit of a run, through a cgroup of its own: the v1 memory controller
 * where the host has it (our machines: memory, cpu and pids are bound to v1), else cgroup v2's
 * memory.max. The cage's first process is moved in while it is stopped at its first ptrace
 * stop, before it runs any guest code, so every descendant is counted. After the run the OOM
 * kill counter tells whether the limit ended it, and the group is removed. The pids limit is
 * enforced by the supervisor's task table instead (it sees every clone), and the CPU limit is
 * not applied: the guest runs SCHED_FIFO, which CFS quotas do not throttle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define V1_ROOT "/sys/fs/cgroup/memory"
#define V2_ROOT "/sys/fs/cgroup/unified"

static int write_file(const char *dir, const char *name, const char *value)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, value, strlen(value));
    close(fd);
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

static bool has_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

int mn__dl_cgroup_enter(mn__dl_cgroup *cg, pid_t pid, uint64_t mem_bytes, mn_err *err)
{
    memset(cg, 0, sizeof(*cg));
    if (mem_bytes == 0)
        return 0;
    bool v1 = has_file(V1_ROOT, "memory.limit_in_bytes");
    const char *root = v1 ? V1_ROOT : V2_ROOT;
    if (!v1 && !has_file(V2_ROOT, "cgroup.subtree_control"))
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "no memory cgroup controller on this host");
    snprintf(cg->dir, sizeof(cg->dir), "%s/docklock-%d", root, (int)pid);
    if (mkdir(cg->dir, 0755) != 0)
        return mn_err_set(err, MN_ESYS, errno, "mkdir %s", cg->dir);
    cg->active = true;
    cg->v1 = v1;
    char value[32], pidtext[16];
    snprintf(value, sizeof(value), "%llu", (unsigned long long)mem_bytes);
    snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
    int rc = v1 ? write_file(cg->dir, "memory.limit_in_bytes", value)
                : write_file(cg->dir, "memory.max", value);
    if (rc == 0 && v1)
        (void)write_file(cg->dir, "memory.memsw.limit_in_bytes", value); /* swap accounting
                                                                            may be off */
    if (rc == 0)
        rc = write_file(cg->dir, "cgroup.procs", pidtext);
    if (rc != 0) {
        int saved = errno;
        mn__dl_cgroup_leave(cg);
        return mn_err_set(err, MN_ESYS, saved, "memory cgroup for the cage");
    }
    return 0;
}

/* The number of OOM kills in the group (v1 memory.oom_control, v2 memory.events). */
static uint64_t oom_kills(const mn__dl_cgroup *cg)
{
    char path[512], line[128];
    snprintf(path, sizeof(path), "%s/%s", cg->dir, cg->v1 ? "memory.oom_control" : "memory.events");
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    uint64_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "oom_kill ", 9) == 0)
            n = strtoull(line + 9, NULL, 10);
    fclose(f);
    return n;
}

bool mn__dl_cgroup_oom(const mn__dl_cgroup *cg)
{
    return cg->active && oom_kills(cg) > 0;
}

void mn__dl_cgroup_leave(mn__dl_cgroup *cg)
{
    if (!cg->active)
        return;
    /* The tree is gone (every task was reaped), so the group is empty and can go. */
    for (int tries = 0; tries < 100 && rmdir(cg->dir) != 0 && errno == EBUSY; tries++)
        usleep(1000);
    cg->active = false;
}
