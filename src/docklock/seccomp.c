/* SPDX-License-Identifier: Apache-2.0
 *
 * seccomp.c: the cage's seccomp filter, three tiers. ALLOW: calls whose result is a function
 * of the guest's own state once execution is serialised (memory, fd-local I/O, file system
 * operations inside the cage's root, identity getters in the pid namespace). ERRNO: escape
 * hatches and calls that would leak or change host state (rseq, io_uring, bpf, ptrace, mount,
 * clock_settime, scheduler changes, ...), refused with a fixed errno. Everything else is
 * SECCOMP_RET_TRACE: the supervisor either answers it (emulate.c) or ends the run naming it, so
 * a call nobody modelled can never run silently. The filter is built with libseccomp in the
 * child just before execve and inherited by the whole tree (with no_new_privs).
 * A bundle's own profile (OCI) is a second filter installed after this one.
 * Not here: argument inspection beyond prctl/socket (the supervisor does that at trace stops).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <seccomp.h>

#include "internal.h"

/* Deterministic given deterministic state; run natively at seccomp-allow cost. */
static const char *const allow_list[] = {
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getcwd", "chdir", "fchdir",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown",
    "lchown", "fchownat", "truncate", "ftruncate", "fallocate", "fadvise64", "readahead",
    "fsync", "fdatasync", "sync", "syncfs", "sync_file_range", "flock", "umask",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr",
    "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    "mknod", "mknodat", "utime", "utimes", "futimesat", "utimensat", "copy_file_range",
    "sendfile", "splice", "tee", "vmsplice", "memfd_create", "mmap", "munmap", "mprotect",
    "brk", "madvise", "mremap", "msync", "mincore", "mlock", "mlock2", "munlock", "mlockall",
    "munlockall", "dup", "dup2", "dup3", "fcntl", "ioctl", "pipe", "pipe2", "eventfd",
    "eventfd2", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
    "rt_sigsuspend", "sigaltstack", "pause", "kill", "tkill", "tgkill", "rt_sigqueueinfo",
    "rt_tgsigqueueinfo", "signalfd", "signalfd4", "getpid", "gettid", "getppid", "getpgrp",
    "getpgid", "setpgid", "getsid", "setsid", "getuid", "geteuid", "getgid", "getegid",
    "getgroups", "getresuid", "getresgid", "setuid", "setgid", "setreuid", "setregid",
    "setresuid", "setresgid", "setgroups", "setfsuid", "setfsgid", "capget", "capset",
    "getrlimit", "setrlimit", "prlimit64", "getpriority", "set_tid_address", "set_robust_list",
    "get_robust_list", "arch_prctl", "futex_waitv", "sched_getparam",
    "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "membarrier", "exit", "exit_group", "wait4", "waitid", "clone",
    "clone3", "fork", "vfork", "execve", "execveat", "restart_syscall", "seccomp",
    "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom",
    "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname", "getpeername",
    "setsockopt", "getsockopt", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop",
    "semctl", "semtimedop", "msgget", "msgsnd", "msgrcv", "msgctl", "epoll_create",
    "epoll_create1", "epoll_ctl", "pidfd_open", "pidfd_send_signal", "fanotify_mark",
    "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "name_to_handle_at",
};

/* Escape hatches and host-state changes: refused with the errno given. */
static const struct {
    const char *name;
    int errnum;
} errno_list[] = {
    {"rseq", ENOSYS},          {"io_uring_setup", ENOSYS}, {"io_uring_enter", ENOSYS},
    {"io_uring_register", ENOSYS}, {"io_setup", ENOSYS},   {"io_submit", ENOSYS},
    {"io_getevents", ENOSYS},  {"io_pgetevents", ENOSYS},  {"io_cancel", ENOSYS},
    {"io_destroy", ENOSYS},    {"bpf", EPERM},             {"perf_event_open", EPERM},
    {"userfaultfd", EPERM},    {"ptrace", EPERM},          {"process_vm_readv", EPERM},
    {"process_vm_writev", EPERM}, {"process_madvise", EPERM}, {"kcmp", EPERM},
    {"pidfd_getfd", EPERM},    {"keyctl", ENOSYS},         {"add_key", ENOSYS},
    {"request_key", ENOSYS},   {"kexec_load", EPERM},      {"kexec_file_load", EPERM},
    {"mount", EPERM},          {"umount2", EPERM},         {"pivot_root", EPERM},
    {"chroot", EPERM},         {"move_mount", EPERM},      {"open_tree", EPERM},
    {"fsopen", EPERM},         {"fsmount", EPERM},         {"fspick", EPERM},
    {"fsconfig", EPERM},       {"mount_setattr", EPERM},   {"unshare", EPERM},
    {"setns", EPERM},          {"clock_settime", EPERM},   {"settimeofday", EPERM},
    {"clock_adjtime", EPERM},  {"adjtimex", EPERM},        {"sched_setaffinity", EPERM},
    {"sched_setscheduler", EPERM}, {"sched_setparam", EPERM}, {"sched_setattr", EPERM},
    {"sched_getattr", ENOSYS}, {"setpriority", EPERM},     {"init_module", EPERM},
    {"finit_module", EPERM},   {"delete_module", EPERM},   {"reboot", EPERM},
    {"swapon", EPERM},         {"swapoff", EPERM},         {"acct", EPERM},
    {"quotactl", EPERM},       {"open_by_handle_at", EPERM}, {"iopl", EPERM},
    {"ioperm", EPERM},         {"personality", EPERM},     {"modify_ldt", EPERM},
    {"vhangup", EPERM},        {"syslog", EPERM},          {"lookup_dcookie", EPERM},
    {"mbind", ENOSYS},         {"set_mempolicy", ENOSYS},  {"get_mempolicy", ENOSYS},
    {"migrate_pages", ENOSYS}, {"move_pages", ENOSYS},     {"landlock_create_ruleset", ENOSYS},
    {"memfd_secret", ENOSYS},  {"uselib", ENOSYS},         {"sysfs", ENOSYS},
    {"ustat", ENOSYS},         {"nfsservctl", ENOSYS},     {"vserver", ENOSYS},
    {"getdents", ENOSYS}, /* the 32-bit-inode form: unused by x86-64 libcs; not normalised */
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, int errfd)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a syscall on this architecture or libseccomp version */
    int rc = seccomp_rule_add(ctx, action, nr, 0);
    if (rc != 0)
        dprintf(errfd, "seccomp rule for %s: %s\n", name, strerror(-rc));
    return rc;
}

/* prctl is allowed except PR_SET_TSC, which would let rdtsc read the real counter again. */
static int add_prctl(scmp_filter_ctx ctx, int errfd)
{
    const struct scmp_arg_cmp is_tsc = {0, SCMP_CMP_EQ, PR_SET_TSC, 0};
    const struct scmp_arg_cmp not_tsc = {0, SCMP_CMP_NE, PR_SET_TSC, 0};
    int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prctl), 1, &is_tsc);
    if (rc == 0)
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &not_tsc);
    if (rc != 0)
        dprintf(errfd, "seccomp rule for prctl: %s\n", strerror(-rc));
    return rc;
}

/* futex runs natively unless it is a wait with a timeout: the kernel would measure the timeout
 * in host time. Those trap (the default action) and emulate.c gives them logical time. */
static int add_futex(scmp_filter_ctx ctx, int errfd)
{
    static const unsigned untimed_ops[] = {1, 2, 3, 4, 5, 7, 8, 10, 12}; /* wake, requeue, ... */
    const struct scmp_arg_cmp no_timeout = {3, SCMP_CMP_EQ, 0, 0};
    int rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1, &no_timeout);
    for (size_t i = 0; rc == 0 && i < sizeof(untimed_ops) / sizeof(untimed_ops[0]); i++) {
        const struct scmp_arg_cmp op = {1, SCMP_CMP_MASKED_EQ, 0x7f, untimed_ops[i]};
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(futex), 1, &op);
    }
    if (rc != 0)
        dprintf(errfd, "seccomp rule for futex: %s\n", strerror(-rc));
    return rc;
}

int mn__dl_seccomp_install(int errfd)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRACE(0));
    if (ctx == NULL) {
        dprintf(errfd, "seccomp_init failed\n");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof(allow_list) / sizeof(allow_list[0]); i++)
        rc = add(ctx, SCMP_ACT_ALLOW, allow_list[i], errfd);
    for (size_t i = 0; rc == 0 && i < sizeof(errno_list) / sizeof(errno_list[0]); i++)
        rc = add(ctx, SCMP_ACT_ERRNO((uint32_t)errno_list[i].errnum), errno_list[i].name, errfd);
    if (rc == 0)
        rc = add_prctl(ctx, errfd);
    if (rc == 0)
        rc = add_futex(ctx, errfd);
    if (rc == 0 && (rc = seccomp_load(ctx)) != 0)
        dprintf(errfd, "seccomp_load: %s\n", strerror(-rc));
    seccomp_release(ctx);
    return rc == 0 ? 0 : -1;
}

/* A bundle's profile (OCI linux.seccomp) as a second filter. The kernel runs every filter and
 * keeps the most restrictive action, so the profile can only refuse more: an ERRNO there wins
 * over the cage's TRACE (the guest sees the errno, deterministically), an ALLOW there leaves
 * the cage's tiers in force. Rules with the default action are skipped (libseccomp refuses
 * them), and so are names this libseccomp does not know, as runc does. */
int mn__dl_seccomp_install_profile(const mn_docklock_seccomp *p, int errfd)
{
    scmp_filter_ctx ctx = seccomp_init(p->default_action);
    if (ctx == NULL) {
        dprintf(errfd, "linux.seccomp: bad default action 0x%x\n", p->default_action);
        return -1;
    }
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < p->rulec; i++) {
        const mn_docklock_sc_rule *r = &p->rules[i];
        int nr = seccomp_syscall_resolve_name(r->name);
        if (nr == __NR_SCMP_ERROR || r->action == p->default_action)
            continue;
        struct scmp_arg_cmp cmp[6];
        for (uint32_t k = 0; k < r->argc && k < 6; k++)
            cmp[k] = (struct scmp_arg_cmp){r->args[k].index, (enum scmp_compare)r->args[k].op,
                                           r->args[k].value, r->args[k].value_two};
        rc = seccomp_rule_add_array(ctx, r->action, nr, r->argc < 6 ? r->argc : 6, cmp);
        if (rc != 0)
            dprintf(errfd, "linux.seccomp: rule for %s: %s\n", r->name, strerror(-rc));
    }
    if (rc == 0 && (rc = seccomp_load(ctx)) != 0)
        dprintf(errfd, "linux.seccomp: seccomp_load: %s\n", strerror(-rc));
    seccomp_release(ctx);
    return rc == 0 ? 0 : -1;
}

const char *mn__dl_syscall_name(long nr, char *buf, size_t len)
{
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);
    if (name == NULL)
        snprintf(buf, len, "syscall_%ld", nr);
    else
        snprintf(buf, len, "%s", name);
    free(name);
    return buf;
}
