/* SPDX-License-Identifier: Apache-2.0
 *
 * spawn.c: the child side of a run, from clone to execve. The child is cloned into new pid,
 * mount, uts, ipc and net namespaces (it becomes pid 1 of its pid namespace and the guest's
 * first process), builds its root (ns.c), takes its standard streams, for OCI create/start
 * waits on the start FIFO, asks to be traced and stops so the supervisor can set the ptrace
 * options, then fixes everything the program could otherwise observe or change: one CPU and
 * SCHED_OTHER (only the supervisor is real-time), no ASLR, rdtsc faulting, umask, a core-dump
 * and output size limit, the configured user and working directory, no capabilities and
 * no_new_privs, and finally the seccomp filter (the cage's, then a bundle's profile).
 * Errors before exec go to errfd as one line; the exit code is 125 for set-up failures, 126
 * for a program that cannot be executed, 127 for one not found.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "metanode/limits.h"

/* Largest stdout or stderr (and any file) the guest may write: RLIMIT_FSIZE. */
#define OUTPUT_BYTES_MAX (64ull << 20)

_Noreturn static void fail(int errfd, int code, const char *what)
{
    dprintf(errfd, "%s: %s\n", what, strerror(errno));
    _exit(code);
}

/* The configured user (OCI process.user), between dropping the bounding set (which needs
 * CAP_SETPCAP) and clearing the remaining capabilities; then the working directory, entered as
 * that user. Root (0:0, no groups) keeps the cage's former behaviour: nothing is changed. */
static void set_user_and_cwd(const mn_docklock_config *cfg, const char *cwd, int errfd)
{
    if (cfg->uid != 0 || cfg->gid != 0 || cfg->groupc != 0) {
        gid_t groups[MN_OCI_GROUPS_MAX];
        uint32_t n = cfg->groupc < MN_OCI_GROUPS_MAX ? cfg->groupc : MN_OCI_GROUPS_MAX;
        for (uint32_t i = 0; i < n; i++)
            groups[i] = (gid_t)cfg->groups[i];
        /* raw calls: glibc's wrappers would signal every thread (there is one) */
        if (syscall(SYS_setgroups, (size_t)n, groups) != 0)
            fail(errfd, 125, "setgroups");
        if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) != 0)
            fail(errfd, 125, "setgid");
        if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) != 0)
            fail(errfd, 125, "setuid");
    }
    if (cwd != NULL && chdir(cwd) != 0)
        fail(errfd, 125, "process.cwd");
}

static void drop_capabilities(const mn_docklock_config *cfg, const char *cwd, int errfd)
{
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            fail(errfd, 125, "drop capability bounding set");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        fail(errfd, 125, "clear ambient capabilities");
    set_user_and_cwd(cfg, cwd, errfd);
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    if (syscall(SYS_capset, &hdr, data) != 0)
        fail(errfd, 125, "capset");
}

static void fix_process(int cpu, int errfd)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0)
        fail(errfd, 125, "pin to one CPU");
    /* The guest is an ordinary (CFS) task; only the supervisor runs at a real-time priority,
     * so it answers each trapped event at once. One guest task of a cage runs at a time
     * anyway (the supervisor's turns); a guest that spins without a syscall shares its CPU
     * fairly with other cages and host tasks instead of holding it (SCHED_FIFO starved every
     * other cage on the CPU; SCHED_RR gave them one 100 ms slice per trapped event, and a
     * node's kubelet and shims 5 % of a busy CPU). An exec'd process comes here from the
     * real-time supervisor too. */
    struct sched_param sp = {.sched_priority = 0};
    if (sched_setscheduler(0, SCHED_OTHER, &sp) != 0)
        fail(errfd, 125, "scheduling policy for the guest");
    if (personality(ADDR_NO_RANDOMIZE) == -1)
        fail(errfd, 125, "personality(ADDR_NO_RANDOMIZE)");
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) != 0)
        fail(errfd, 125, "PR_SET_TSC");
    umask(022);
    struct rlimit core = {0, 0}, fsize = {OUTPUT_BYTES_MAX, OUTPUT_BYTES_MAX};
    if (setrlimit(RLIMIT_CORE, &core) != 0 || setrlimit(RLIMIT_FSIZE, &fsize) != 0)
        fail(errfd, 125, "setrlimit");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail(errfd, 125, "no_new_privs");
}

/* OCI create/start: the cage is built; wait (untraced, before any guest code) for one byte
 * on the FIFO behind fd, reached through /proc/self/fd as the host path is not visible here. */
static void wait_for_start(int fd, int errfd, bool sibling)
{
    /* A sibling's parent is not the supervisor (and exits at once): it dies with its tracer
     * instead (PTRACE_O_EXITKILL, set when it was attached). */
    if (!sibling && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        fail(errfd, 125, "PR_SET_PDEATHSIG");
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    int rfd = open(path, O_RDONLY | O_CLOEXEC); /* blocks until `start` opens it */
    if (rfd < 0)
        fail(errfd, 125, "open the start fifo");
    char byte;
    ssize_t n;
    do
        n = read(rfd, &byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1) {
        errno = ECANCELED;
        fail(errfd, 125, "wait for start");
    }
    close(rfd);
}

void mn__dl_child_fix(const mn__dl_spawn *sp, const char *cwd)
{
    fix_process(sp->cpu, sp->errfd);
    drop_capabilities(sp->cfg, cwd, sp->errfd);
    if (mn__dl_seccomp_install(sp->errfd) != 0)
        _exit(125);
    /* The bundle's profile after the cage's: the kernel applies the stricter action. */
    if (sp->cfg->seccomp != NULL && mn__dl_seccomp_install_profile(sp->cfg->seccomp, sp->errfd))
        _exit(125);
}

void mn__dl_child(const mn__dl_spawn *sp)
{
    int errfd = sp->errfd;
    bool sibling = sp->cfg->sibling_init;
    if (sibling) { /* not the supervisor's child: wait until it traces us (run.c) */
        close(sp->go[1]);
        char byte;
        ssize_t n;
        do
            n = read(sp->go[0], &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
            _exit(125);
        close(sp->go[0]);
    }
    mn__dl_ns_setup(sp->cfg, sp->stage, errfd);
    if (dup2(sp->fds[0], 0) < 0 || dup2(sp->fds[1], 1) < 0 || dup2(sp->fds[2], 2) < 0)
        fail(errfd, 125, "standard streams");
    if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
        fail(errfd, 125, "close_range");
    if (sp->cfg->ready_fd > 0 && write(sp->cfg->ready_fd, "R\n", 2) != 2)
        fail(errfd, 125, "report the cage ready");
    /* A terminal (input.c): a new session whose controlling terminal is the pty's slave. */
    if (sp->tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) != 0))
        fail(errfd, 125, "controlling terminal");
    if (sp->cfg->start_fd > 0)
        wait_for_start(sp->cfg->start_fd, errfd, sibling);
    /* The guest runs SCHED_OTHER (fix_process); it must be so before the supervisor moves it
     * into a cpu cgroup (RT tasks need an RT budget there, and CFS quotas throttle only CFS
     * tasks). It was cloned from the SCHED_FIFO supervisor. */
    struct sched_param other = {.sched_priority = 0};
    if (sched_setscheduler(0, SCHED_OTHER, &other) != 0)
        fail(errfd, 125, "SCHED_OTHER for the guest");
    if (!sibling && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
        fail(errfd, 125, "PTRACE_TRACEME");
    raise(SIGSTOP); /* the supervisor sets the ptrace options, then lets us go on */
    mn__dl_child_fix(sp, sp->cfg->cwd);
    execve(sp->path, (char *const *)sp->argv, (char *const *)sp->envp);
    fail(errfd, errno == ENOENT ? 127 : 126, sp->path);
}
