/* SPDX-License-Identifier: Apache-2.0
 *
 * run.c: one run of a program in the cage (docklock.h), start to finish: check the config,
 * find the program in the cage's root and hash it, write the witness header, prepare the
 * guest's streams (memfds: stdin holds the given bytes, stdout and stderr are collected after
 * the run), clone the child into its namespaces (spawn.c), set the ptrace options at its first
 * stop, supervise until the tree is gone (supervisor.c), then write the trailer and compute the
 * roots and stats the receipt needs. The supervisor runs SCHED_FIFO on the guest's CPU for the
 * duration of the run and returns to its former policy afterwards.
 * Not here: receipts and files (the CLI), cgroups (cgroup.c).
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "metanode/hash.h"
#include "metanode/log.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *env_path(const mn_docklock_config *cfg)
{
    for (uint32_t i = 0; i < cfg->envc; i++)
        if (strncmp(cfg->env[i], "PATH=", 5) == 0)
            return cfg->env[i] + 5;
    return DEFAULT_PATH;
}

/* Finds argv[0] as the cage will see it (cage_path) and on the host (host_path). */
static int resolve(const mn_docklock_config *cfg, char *cage_path, char *host_path,
                   mn_err *err)
{
    const char *root = cfg->rootfs != NULL ? cfg->rootfs : "";
    const char *name = cfg->argv[0];
    if (strchr(name, '/') != NULL) {
        if (name[0] != '/' && cfg->rootfs == NULL) {
            if (realpath(name, cage_path) == NULL)
                return mn_err_set(err, MN_ENOTFOUND, errno, "program %s", name);
        } else {
            snprintf(cage_path, PATH_MAX, "%s%s", name[0] == '/' ? "" : "/", name);
        }
        snprintf(host_path, PATH_MAX, "%s%s", root, cage_path);
        if (access(host_path, F_OK) != 0)
            return mn_err_set(err, MN_ENOTFOUND, errno, "program %s", name);
        return 0;
    }
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s", env_path(cfg));
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        snprintf(cage_path, PATH_MAX, "%s/%s", d, name);
        snprintf(host_path, PATH_MAX, "%s%s", root, cage_path);
        if (access(host_path, X_OK) == 0)
            return 0;
    }
    return mn_err_set(err, MN_ENOTFOUND, 0, "program %s not found in PATH", name);
}

static int check_config(const mn_docklock_config *cfg, mn_err *err)
{
    if (cfg->argc == 0 || cfg->argc > MN_WITNESS_ARGV_MAX || cfg->envc > MN_WITNESS_ENV_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "need 1..%u arguments and at most %u env entries",
                          MN_WITNESS_ARGV_MAX, MN_WITNESS_ENV_MAX);
    for (uint32_t i = 0; i < cfg->argc; i++)
        if (strlen(cfg->argv[i]) > MN_WITNESS_STRING_BYTES_MAX)
            return mn_err_set(err, MN_EINVAL, 0, "argument %u is too long", i);
    for (uint32_t i = 0; i < cfg->envc; i++)
        if (strlen(cfg->env[i]) > MN_WITNESS_STRING_BYTES_MAX || !strchr(cfg->env[i], '='))
            return mn_err_set(err, MN_EINVAL, 0, "environment entry %u is not K=V", i);
    if (cfg->cpu_millis != 0 && (cfg->cpu_millis < MN_DOCKLOCK_CPU_MILLIS_MIN ||
                                 cfg->cpu_millis > MN_DOCKLOCK_CPU_MILLIS_MAX))
        return mn_err_set(err, MN_EINVAL, 0, "--cpu-limit must be %u..%u millicpus",
                          MN_DOCKLOCK_CPU_MILLIS_MIN, MN_DOCKLOCK_CPU_MILLIS_MAX);
    if (cfg->stdin_len > MN_WITNESS_FILE_BYTES_MAX / 2)
        return mn_err_set(err, MN_ELIMIT, 0, "stdin of %zu bytes", cfg->stdin_len);
    if (cfg->io != NULL && cfg->io->live_in && cfg->stdin_len != 0)
        return mn_err_set(err, MN_EINVAL, 0, "stdin is either given whole or live");
    if (cfg->io != NULL && cfg->io->terminal && !cfg->io->live_in)
        return mn_err_set(err, MN_EINVAL, 0, "a terminal is live input");
    if (cfg->output_dir != NULL) {
        DIR *d = cfg->output_dir[0] == '/' ? opendir(cfg->output_dir) : NULL;
        struct dirent *e;
        int entries = 0;
        while (d != NULL && (e = readdir(d)) != NULL)
            entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
        if (d != NULL)
            closedir(d);
        if (d == NULL || entries != 0)
            return mn_err_set(err, MN_EINVAL, 0, "--output-dir %s must be an existing empty "
                              "directory given by its absolute path", cfg->output_dir);
    }
    if ((cfg->mountc > 0 || cfg->maskedc > 0 || cfg->readonlyc > 0) && cfg->rootfs == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "mounts need a root file system of their own");
    for (uint32_t i = 0; i < cfg->mountc; i++)
        if (cfg->mounts[i].destination[0] != '/' ||
            (cfg->mounts[i].kind == MN_DL_MOUNT_BIND && cfg->mounts[i].source == NULL))
            return mn_err_set(err, MN_EINVAL, 0, "mount %u: no absolute destination/source", i);
    if (geteuid() != 0)
        return mn_err_set(err, MN_EPERM, 0, "the cage needs root (namespaces, ptrace, FIFO)");
    return 0;
}

static void host_class(mn_witness_header *h, struct utsname *u, char vendor[13], bool *rdrand)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    memset(vendor, 0, 13);
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        memcpy(vendor, &b, 4);
        memcpy(vendor + 4, &d, 4);
        memcpy(vendor + 8, &c, 4);
    }
    *rdrand = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 30)) != 0;
    uname(u);
    h->host[0] = (mn_witness_str){(const uint8_t *)u->release, strlen(u->release)};
    h->host[1] = (mn_witness_str){(const uint8_t *)u->machine, strlen(u->machine)};
    h->host[2] = (mn_witness_str){(const uint8_t *)vendor, strlen(vendor)};
}

static int make_header(const mn_docklock_config *cfg, const char *host_path,
                       mn_witness_header *h, mn_err *err)
{
    memset(h, 0, sizeof(*h));
    h->version = MN_WITNESS_VERSION;
    uint8_t *prog;
    size_t prog_len;
    int rc = mn_file_read(host_path, 0, &prog, &prog_len, err);
    if (rc != 0)
        return mn_err_wrap(err, "hash the program");
    mn_sha256(h->program_digest, prog, prog_len);
    free(prog);
    h->argc = cfg->argc;
    for (uint32_t i = 0; i < cfg->argc; i++)
        h->argv[i] = (mn_witness_str){(const uint8_t *)cfg->argv[i], strlen(cfg->argv[i])};
    h->envc = cfg->envc;
    for (uint32_t i = 0; i < cfg->envc; i++)
        h->env[i] = (mn_witness_str){(const uint8_t *)cfg->env[i], strlen(cfg->env[i])};
    memcpy(h->seed, cfg->seed, 32);
    h->epoch_ns = cfg->epoch_ns;
    h->mem_bytes = cfg->mem_bytes;
    h->pids = cfg->pids;
    h->cpu_millis = cfg->cpu_millis;
    h->time_ms = cfg->time_ms;
    return 0;
}

static int make_memfd(const char *name, const uint8_t *data, size_t len, mn_err *err)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return mn_err_set(err, MN_ESYS, errno, "memfd_create");
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n <= 0) {
            close(fd);
            return mn_err_set(err, MN_ESYS, errno, "fill stdin");
        }
        done += (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int read_memfd(int fd, mn_buf *out, mn_err *err)
{
    uint8_t chunk[65536];
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, chunk, sizeof(chunk), off);
        if (n < 0)
            return mn_err_set(err, MN_ESYS, errno, "read guest output");
        if (n == 0)
            return 0;
        int rc = mn_buf_append(out, chunk, (size_t)n, err);
        if (rc != 0)
            return rc;
        off += n;
    }
}

/* Stdin is an input from outside: stored whole, in INPUT records of at most 64 KiB. */
static int record_stdin(mn__dl_sup *s, mn_err *err)
{
    const mn_docklock_config *cfg = s->cfg;
    for (size_t off = 0; off < cfg->stdin_len; off += MN_WITNESS_INLINE_BYTES_MAX) {
        size_t n = cfg->stdin_len - off;
        if (n > MN_WITNESS_INLINE_BYTES_MAX)
            n = MN_WITNESS_INLINE_BYTES_MAX;
        uint64_t args[6] = {0, off, n, 0, 0, 0};
        int rc = mn__dl_record(s, NULL, MN_WK_INPUT, MN__DL_INPUT_WHOLE, args, (int64_t)n, NULL,
                               cfg->stdin_data + off, n, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* CPU time (user + system) of all reaped children of this process so far. */
static uint64_t children_cpu_ns(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* The CPU of a cage: one of the allowed ones, spread by process id so that cages started by
 * different processes (each OCI container has its own supervisor) do not all share the first
 * CPU. Which CPU it is does not reach the guest (getcpu and sched_getaffinity are virtual). */
static int pick_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return 0;
    const int count = CPU_COUNT(&set);
    if (count <= 0)
        return 0;
    int nth = (int)((unsigned)getpid() % (unsigned)count);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set) && nth-- == 0)
            return i;
    return 0;
}

/* Clones the child and takes it over at its first stop. */
static int start_child(mn__dl_sup *s, mn__dl_spawn *sp, mn_err *err)
{
    long flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
    const bool sibling = s->cfg->sibling_init;
    if (sibling && pipe2(sp->go, O_CLOEXEC) != 0)
        return mn_err_set(err, MN_ESYS, errno, "pipe");
    /* A sibling: the parent's child, not ours (docklock.h), so not able to ask to be traced;
     * it waits on sp->go until we have attached. */
    long pid = syscall(SYS_clone, flags | (sibling ? CLONE_PARENT : SIGCHLD), NULL, NULL, NULL,
                       NULL);
    if (pid == 0)
        mn__dl_child(sp);
    if (sibling)
        close(sp->go[0]);
    if (pid < 0) {
        if (sibling)
            close(sp->go[1]);
        return mn_err_set(err, MN_ESYS, errno, "clone into new namespaces");
    }
    if (sibling) {
        /* PTRACE_ATTACH, not SEIZE: a tracee then stops and reports exactly as one that asked
         * with PTRACE_TRACEME (its new tasks start with SIGSTOP, no PTRACE_EVENT_STOP), so the
         * supervision, and the witness, are the same. EXITKILL from now on: it dies with us. */
        int e = 0, status = 0;
        if (ptrace(PTRACE_ATTACH, (pid_t)pid, NULL, NULL) != 0)
            e = errno;
        while (e == 0) {
            if (waitpid((pid_t)pid, &status, __WALL) != pid) {
                e = errno;
            } else if (!WIFSTOPPED(status)) {
                e = ECHILD;
            } else if (WSTOPSIG(status) == SIGSTOP) {
                if (ptrace(PTRACE_SETOPTIONS, (pid_t)pid, NULL, (void *)(long)PTRACE_O_EXITKILL)
                        != 0 || ptrace(PTRACE_CONT, (pid_t)pid, NULL, NULL) != 0)
                    e = errno;
                break;
            } else {
                ptrace(PTRACE_CONT, (pid_t)pid, NULL, (void *)(long)WSTOPSIG(status));
            }
        }
        if (e == 0 && write(sp->go[1], "g", 1) != 1)
            e = errno;
        close(sp->go[1]);
        if (e != 0) {
            kill((pid_t)pid, SIGKILL);
            return mn_err_set(err, MN_ESYS, e, "trace the cage");
        }
    }
    s->init_pid = (pid_t)pid;
    if (s->cfg->ready_fd > 0)
        dprintf(s->cfg->ready_fd, "P%ld\n", pid);
    int status = 0;
    for (;;) {
        if (waitpid((pid_t)pid, &status, __WALL) != pid)
            return mn_err_set(err, MN_ESYS, errno, "wait for the cage");
        /* A sibling, traced already, reports signals sent to it while it waits for start
         * (kill of a created container); they are its own until its SIGSTOP. */
        if (!sibling || !WIFSTOPPED(status) || WSTOPSIG(status) == SIGSTOP)
            break;
        ptrace(PTRACE_CONT, (pid_t)pid, NULL, (void *)(long)WSTOPSIG(status));
    }
    if (!WIFSTOPPED(status)) {
        s->init_status = status;
        s->init_done = true;
        return 0; /* set-up failed: the reason is on the error pipe */
    }
    int rc = mn__dl_cgroup_enter(&s->cgroup, (pid_t)pid, s->cfg->mem_bytes, s->cfg->cpu_millis,
                                 err);
    if (rc != 0) {
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, &status, __WALL);
        return rc;
    }
    long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE |
                PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
                PTRACE_O_TRACEEXIT | PTRACE_O_TRACESYSGOOD;
    if (ptrace(PTRACE_SETOPTIONS, (pid_t)pid, NULL, (void *)opts) != 0 ||
        ptrace(PTRACE_CONT, (pid_t)pid, NULL, NULL) != 0) {
        kill((pid_t)pid, SIGKILL);
        waitpid((pid_t)pid, &status, __WALL);
        return mn_err_set(err, MN_ESYS, errno, "ptrace the cage");
    }
    mn__dl_task *t = &s->tasks[0];
    t->pid = (pid_t)pid;
    t->vtid = 1;
    t->live = true;
    s->live = 1;
    return 0;
}

typedef struct sched_saved {
    int policy;
    struct sched_param param;
    cpu_set_t cpus;
} sched_saved;

static void supervisor_sched(int cpu, sched_saved *saved)
{
    saved->policy = sched_getscheduler(0);
    sched_getparam(0, &saved->param);
    sched_getaffinity(0, sizeof(saved->cpus), &saved->cpus);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    struct sched_param sp = {.sched_priority = MN__DL_SUPERVISOR_PRIO};
    if (sched_setaffinity(0, sizeof(one), &one) != 0 ||
        sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
        MN_LOG(WARN, "docklock", "supervisor cannot run SCHED_FIFO: %s", strerror(errno));
}

static void supervisor_sched_restore(const sched_saved *saved)
{
    sched_setscheduler(0, saved->policy, &saved->param);
    sched_setaffinity(0, sizeof(saved->cpus), &saved->cpus);
}

static int child_error(mn__dl_sup *s, int errfd, mn_err *err)
{
    char msg[512];
    ssize_t n = read(errfd, msg, sizeof(msg) - 1);
    if (n <= 0 || !s->init_done || !WIFEXITED(s->init_status))
        return 0;
    msg[n] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    int code = WEXITSTATUS(s->init_status);
    if (code == 127)
        return mn_err_set(err, MN_ENOTFOUND, 0, "cage: %s", msg);
    if (code == 126)
        return mn_err_set(err, MN_EPERM, 0, "cage: %s", msg);
    return mn_err_set(err, MN_ESYS, 0, "cage set-up: %s", msg);
}

static void set_exit(const mn__dl_sup *s, mn_docklock_result *res)
{
    int st = s->init_status;
    if (s->limit_hit) {
        res->exit_kind = MN_EXIT_LIMIT;
        res->exit_code = s->limit;
    } else if (s->init_signal != 0) {
        res->exit_kind = s->init_signal == SIGXFSZ ? MN_EXIT_LIMIT : MN_EXIT_SIGNAL;
        res->exit_code = s->init_signal == SIGXFSZ ? MN_LIMIT_OUTPUT : s->init_signal;
    } else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXFSZ) {
        res->exit_kind = MN_EXIT_LIMIT;
        res->exit_code = MN_LIMIT_OUTPUT;
    } else if (WIFSIGNALED(st)) {
        res->exit_kind = MN_EXIT_SIGNAL;
        res->exit_code = WTERMSIG(st);
    } else {
        res->exit_kind = MN_EXIT_CODE;
        res->exit_code = WEXITSTATUS(st);
    }
}

/* Outputs (as digests), trailer, roots. With a terminal the stdout is the pty's output,
 * already in res->out (stream.c). */
static int finish(mn__dl_sup *s, mn_docklock_result *res, const int fds[3], mn_err *err)
{
    int rc = s->in.tty ? 0 : read_memfd(fds[1], &res->out, err);
    if (rc == 0)
        rc = read_memfd(fds[2], &res->errout, err);
    if (rc != 0)
        return rc;
    set_exit(s, res);
    mn_witness_trailer t;
    memset(&t, 0, sizeof(t));
    mn_docklock_output_root(res->out.data, res->out.len, res->stdout_root);
    mn_docklock_output_root(res->errout.data, res->errout.len, res->stderr_root);
    memcpy(t.stdout_digest, res->stdout_root, 32);
    memcpy(t.stderr_digest, res->stderr_root, 32);
    if (s->cfg->output_dir != NULL) {
        rc = mn__dl_tree_root(s->cfg->output_dir, res->fsdiff_root, err);
        if (rc != 0)
            return rc;
    } else {
        mn_docklock_output_root(NULL, 0, res->fsdiff_root);
    }
    memcpy(t.fsdiff_root, res->fsdiff_root, 32);
    uint64_t a1[6] = {1, 0, 0, 0, 0, 0}, a2[6] = {2, 0, 0, 0, 0, 0};
    rc = mn__dl_record(s, NULL, MN_WK_OUTPUT, 1, a1, (int64_t)res->out.len, t.stdout_digest,
                       NULL, 0, err);
    if (rc == 0)
        rc = mn__dl_record(s, NULL, MN_WK_OUTPUT, 2, a2, (int64_t)res->errout.len,
                           t.stderr_digest, NULL, 0, err);
    if (rc == 0)
        rc = mn__dl_mounts_record_outputs(s, err);
    if (rc != 0)
        return rc;
    t.records = s->seq;
    t.exit_kind = (uint32_t)res->exit_kind;
    t.exit_code = res->exit_code;
    t.logical_end_ns = s->ltime_ns;
    t.syscalls = s->events;
    t.taints = res->taints;
    rc = mn_witness_trailer_encode(&t, &res->witness, err);
    if (rc != 0)
        return rc;
    mn_witness_header h;
    mn_witness_trailer t2;
    rc = mn_witness_check(res->witness.data, res->witness.len, &h, &t2, res->witness_root,
                          &res->witness_count, err);
    MN_ASSERT(rc == 0); /* we just wrote it: refusing it is a bug, not bad input */
    res->logical_time_ns = s->ltime_ns;
    res->syscalls = s->events;
    return 0;
}

/* The output thread (stream.c) starts only after the clone: the child runs library code
 * (allocator, stdio, a sanitizer runtime) before execve, and a raw clone from a process with a
 * second thread could copy a lock that thread holds. Nothing is lost meanwhile: the memfds
 * (and the pty) keep what the guest writes until the thread copies it. */
static int run_cage(mn__dl_sup *s, mn__dl_spawn *sp, mn_docklock_result *res,
                    mn__dl_stream **stream, const int memfds[3], mn_err *err)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return mn_err_set(err, MN_ESYS, errno, "pipe");
    sp->errfd = pipefd[1];
    sched_saved saved;
    supervisor_sched(sp->cpu, &saved);
    uint64_t cpu0 = children_cpu_ns(); /* cumulative over this process's life: a difference */
    uint64_t t0 = now_ns();
    int rc = start_child(s, sp, err);
    close(pipefd[1]);
    mn__dl_input_child_started(s);
    if (rc == 0 && !s->init_done)
        rc = mn__dl_stream_start(stream, s->cfg->io, memfds[1], memfds[2], s->in.pipe_w, err);
    if (rc == 0 && !s->init_done)
        rc = mn__dl_supervise(s, err);
    mn__dl_fsmeta_free(s);
    res->wall_ns = now_ns() - t0;
    supervisor_sched_restore(&saved);
    if (mn__dl_cgroup_oom(&s->cgroup) && !s->limit_hit) {
        s->limit_hit = true;
        s->limit = MN_LIMIT_MEMORY;
    }
    mn__dl_cgroup_leave(&s->cgroup);
    if (rc == 0)
        rc = child_error(s, pipefd[0], err);
    close(pipefd[0]);
    struct rusage ru;
    res->cpu_ns = children_cpu_ns() - cpu0;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0) /* the largest child ever: not per run */
        res->peak_memory_bytes = (uint64_t)ru.ru_maxrss * 1024u;
    return rc;
}

int mn_docklock_run(const mn_docklock_config *cfg, mn_docklock_result *res, mn_err *err)
{
    memset(res, 0, sizeof(*res));
    mn_buf_init(&res->witness, MN_WITNESS_FILE_BYTES_MAX);
    mn_buf_init(&res->out, 0);
    mn_buf_init(&res->errout, 0);
    char cage_path[PATH_MAX], host_path[PATH_MAX], stage[] = "/tmp/docklock-root.XXXXXX";
    static mn__dl_sup sup; /* large (task table); one run at a time per process */
    mn__dl_sup *s = &sup;
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->witness = &res->witness;
    mn_witness_header h;
    struct utsname u;
    char vendor[13];
    bool rdrand = false;
    int fds[3] = {-1, -1, -1}, rc;
    mn__dl_stream *stream = NULL;
    s->in.pipe_w = s->in.guest_fd = s->in.host_fd = -1;
    s->join.ctl = cfg->io != NULL && cfg->io->joins == NULL ? cfg->io->ctl_fd : -1;
    if ((rc = check_config(cfg, err)) != 0 || (rc = resolve(cfg, cage_path, host_path, err)) ||
        (rc = make_header(cfg, host_path, &h, err)) != 0)
        goto out;
    host_class(&h, &u, vendor, &rdrand);
    res->taints = rdrand ? MN_TAINT_RDRAND : 0;
    memcpy(res->program_digest, h.program_digest, 32);
    mn_witness_seed_commitment(cfg->seed, res->seed_commitment);
    if ((rc = mn_witness_config_digest(&h, res->config_digest, err)) != 0 ||
        (rc = mn_buf_append(&res->witness, MN_WITNESS_MAGIC, MN_WITNESS_MAGIC_BYTES, err)) ||
        (rc = mn_witness_header_encode(&h, &res->witness, err)) != 0 ||
        (rc = record_stdin(s, err)) != 0 || (rc = mn__dl_settings_record(s, &res->taints, err)))
        goto out;
    if ((fds[0] = rc = make_memfd("stdin", cfg->stdin_data, cfg->stdin_len, err)) < 0 ||
        (fds[1] = rc = make_memfd("stdout", NULL, 0, err)) < 0 ||
        (fds[2] = rc = make_memfd("stderr", NULL, 0, err)) < 0)
        goto out;
    if (mkdtemp(stage) == NULL) {
        rc = mn_err_set(err, MN_ESYS, errno, "mkdtemp %s", stage);
        goto out;
    }
    const char *argv[MN_WITNESS_ARGV_MAX + 1], *envp[MN_WITNESS_ENV_MAX + 1];
    memcpy(argv, cfg->argv, cfg->argc * sizeof(char *));
    argv[cfg->argc] = NULL;
    if (cfg->envc > 0)
        memcpy(envp, cfg->env, cfg->envc * sizeof(char *));
    envp[cfg->envc] = NULL;
    mn__dl_spawn sp = {cfg, stage, cage_path, argv, envp, {fds[0], fds[1], fds[2]}, -1,
                       pick_cpu(), cfg->io != NULL && cfg->io->terminal, {-1, -1}};
    if ((rc = mn__dl_input_setup(s, sp.fds, err)) != 0) {
        rmdir(stage);
        goto out;
    }
    rc = run_cage(s, &sp, res, &stream, fds, err);
    mn__dl_input_child_started(s); /* also when the child never started */
    int src = mn__dl_stream_stop(stream, &res->out, err);
    stream = NULL;
    if (rc == 0)
        rc = src;
    /* The cage's mount namespace may outlive its last task by a moment and keep the staging
     * directory busy. */
    for (int tries = 0; tries < 200 && rmdir(stage) != 0 && errno == EBUSY; tries++)
        usleep(1000);
    if (rc == 0)
        rc = finish(s, res, fds, err);
    /* The precision keeps gcc's truncation analysis within the source array's bound. */
    snprintf(res->unmodelled, sizeof(res->unmodelled), "%.*s", (int)sizeof(s->unmodelled) - 1,
             s->unmodelled);
out:
    (void)mn__dl_stream_stop(stream, NULL, err);
    mn__dl_input_close(s);
    mn__dl_join_close(s);
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (rc != 0)
        mn_docklock_result_deinit(res);
    return rc < 0 ? rc : 0;
}

void mn_docklock_result_deinit(mn_docklock_result *res)
{
    mn_buf_deinit(&res->witness);
    mn_buf_deinit(&res->out);
    mn_buf_deinit(&res->errout);
}

void mn_docklock_output_root(const uint8_t *data, size_t len, uint8_t out[static 32])
{
    mn_merkle_builder b;
    mn_merkle_builder_init(&b);
    for (size_t off = 0; off < len; off += 65536)
        mn_merkle_builder_append(&b, data + off, len - off < 65536 ? len - off : 65536);
    mn_merkle_builder_root(&b, out);
}

void mn_docklock_fill_receipt(const mn_docklock_result *res, const uint8_t node_id[static 32],
                              mn_receipt *r)
{
    mn_receipt_init(r);
    mn_receipt_core *c = &r->core;
    memcpy(c->node_id, node_id, 32);
    memcpy(c->program_digest, res->program_digest, 32);
    memcpy(c->config_digest, res->config_digest, 32);
    memcpy(c->seed_commitment, res->seed_commitment, 32);
    memcpy(c->witness_root, res->witness_root, 32);
    c->witness_count = res->witness_count;
    memcpy(c->stdout_root, res->stdout_root, 32);
    memcpy(c->stderr_root, res->stderr_root, 32);
    memcpy(c->fsdiff_root, res->fsdiff_root, 32);
    c->exit_kind = res->exit_kind;
    c->exit_code = res->exit_code;
    c->logical_time_ns = res->logical_time_ns;
    c->syscalls = res->syscalls;
    c->taints = res->taints;
    r->measured.wall_ns = res->wall_ns;
    r->measured.cpu_ns = res->cpu_ns;
    r->measured.peak_memory_bytes = res->peak_memory_bytes;
}
