/* SPDX-License-Identifier: Apache-2.0
 *
 * cgroup.c: the memory and CPU limits of a run, through cgroups of its own: the v1 memory and
 * cpu controllers where the host has them (our machines: memory, cpu and pids are bound to
 * v1), else cgroup v2's memory.max and cpu.max. The cage's first process is moved in while it
 * is stopped at its first ptrace stop, before it runs any guest code, so every descendant is
 * counted. After the run the OOM kill counter tells whether the memory limit ended it, and
 * the groups are removed. The CPU limit is a CFS quota (MILLICPUS/1000 of a CPU per 100 ms
 * period), which throttles the guest (SCHED_OTHER, spawn.c; only the supervisor is
 * real-time and stays outside the group): the turn scheduler (supervisor.c), not the
 * kernel's policy, makes its order deterministic. The pids limit is enforced by the
 * supervisor's task table instead (it sees every clone).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MEM_V1_ROOT "/sys/fs/cgroup/memory"
#define CPU_V1_ROOT "/sys/fs/cgroup/cpu"
#define V2_ROOT "/sys/fs/cgroup/unified"
/* The CFS period of a CPU limit, and the kernel's smallest quota. */
#define CPU_PERIOD_US 100000u
#define CPU_QUOTA_MIN_US 1000u

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

/* Whether v2 offers a controller to its children (cgroup.subtree_control lists it or can). */
static bool v2_has(const char *controller)
{
    char path[512], line[256];
    snprintf(path, sizeof(path), "%s/cgroup.controllers", V2_ROOT);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return false;
    bool found = false;
    if (fgets(line, sizeof(line), f) != NULL)
        for (char *save = NULL, *tok = strtok_r(line, " \n", &save); tok != NULL;
             tok = strtok_r(NULL, " \n", &save))
            found |= strcmp(tok, controller) == 0;
    fclose(f);
    return found;
}

static void group_remove(mn__dl_group *g)
{
    if (!g->active)
        return;
    /* The tree is gone (every task was reaped), so the group is empty and can go. */
    for (int tries = 0; tries < 100 && rmdir(g->dir) != 0 && errno == EBUSY; tries++)
        usleep(1000);
    g->active = false;
}

/* Makes the group root/docklock-PID, writes (name, value) pairs and moves pid in. */
static int group_make(mn__dl_group *g, const char *root, bool v1, pid_t pid,
                      const char *const *settings, size_t n, const char *what, mn_err *err)
{
    snprintf(g->dir, sizeof(g->dir), "%s/docklock-%d", root, (int)pid);
    if (mkdir(g->dir, 0755) != 0)
        return mn_err_set(err, MN_ESYS, errno, "mkdir %s", g->dir);
    g->active = true;
    g->v1 = v1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i + 1 < n; i += 2)
        rc = write_file(g->dir, settings[i], settings[i + 1]);
    char pidtext[16];
    snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
    if (rc == 0)
        rc = write_file(g->dir, "cgroup.procs", pidtext);
    if (rc != 0) {
        int saved = errno;
        group_remove(g);
        return mn_err_set(err, MN_ESYS, saved, "%s cgroup for the cage", what);
    }
    return 0;
}

static int enter_memory(mn__dl_cgroup *cg, pid_t pid, uint64_t mem_bytes, mn_err *err)
{
    bool v1 = has_file(MEM_V1_ROOT, "memory.limit_in_bytes");
    if (!v1 && !v2_has("memory"))
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "no memory cgroup controller on this host");
    char value[32];
    snprintf(value, sizeof(value), "%llu", (unsigned long long)mem_bytes);
    const char *set[] = {v1 ? "memory.limit_in_bytes" : "memory.max", value};
    int rc = group_make(&cg->mem, v1 ? MEM_V1_ROOT : V2_ROOT, v1, pid, set, 2, "memory", err);
    if (rc == 0 && v1) /* swap accounting may be off: then the file is missing */
        (void)write_file(cg->mem.dir, "memory.memsw.limit_in_bytes", value);
    return rc;
}

static int enter_cpu(mn__dl_cgroup *cg, pid_t pid, uint64_t cpu_millis, mn_err *err)
{
    bool v1 = has_file(CPU_V1_ROOT, "cpu.cfs_quota_us");
    if (!v1 && !v2_has("cpu"))
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "no cpu cgroup controller on this host");
    uint64_t quota = cpu_millis * (CPU_PERIOD_US / 1000u);
    if (quota < CPU_QUOTA_MIN_US)
        quota = CPU_QUOTA_MIN_US;
    char period[32], value[64];
    snprintf(period, sizeof(period), "%u", CPU_PERIOD_US);
    if (v1) {
        snprintf(value, sizeof(value), "%llu", (unsigned long long)quota);
        const char *set[] = {"cpu.cfs_period_us", period, "cpu.cfs_quota_us", value};
        return group_make(&cg->cpu, CPU_V1_ROOT, true, pid, set, 4, "cpu", err);
    }
    snprintf(value, sizeof(value), "%llu %u", (unsigned long long)quota, CPU_PERIOD_US);
    const char *set[] = {"cpu.max", value};
    return group_make(&cg->cpu, V2_ROOT, false, pid, set, 2, "cpu", err);
}

int mn__dl_cgroup_enter(mn__dl_cgroup *cg, pid_t pid, uint64_t mem_bytes, uint64_t cpu_millis,
                        mn_err *err)
{
    memset(cg, 0, sizeof(*cg));
    int rc = mem_bytes != 0 ? enter_memory(cg, pid, mem_bytes, err) : 0;
    if (rc == 0 && cpu_millis != 0)
        rc = enter_cpu(cg, pid, cpu_millis, err);
    if (rc != 0)
        mn__dl_cgroup_leave(cg); /* the pid is moved out when its groups go: it is killed */
    return rc;
}

/* The number of OOM kills in the group (v1 memory.oom_control, v2 memory.events). */
static uint64_t oom_kills(const mn__dl_group *g)
{
    char path[512], line[128];
    snprintf(path, sizeof(path), "%s/%s", g->dir, g->v1 ? "memory.oom_control" : "memory.events");
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
    return cg->mem.active && oom_kills(&cg->mem) > 0;
}

void mn__dl_cgroup_leave(mn__dl_cgroup *cg)
{
    group_remove(&cg->mem);
    group_remove(&cg->cpu);
}
