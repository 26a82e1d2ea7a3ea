/* SPDX-License-Identifier: Apache-2.0
 *
 * supervisor.c: the cage's event loop. One thread waits for every ptrace stop of every task of
 * the guest tree (waitpid(-1, __WALL)), keeps the task table (host tid -> virtual tid, random
 * stream position), dispatches seccomp stops to emulate.c, exec stops to vdso.c, SIGSEGV stops
 * to the rdtsc emulation, records clone/exec/exit/signal events in the witness, forwards other
 * signals, and enforces the wall-time limit (SIGALRM interrupts waitpid) and the fail-closed
 * rule (an unmodelled call kills the tree). Execution order is serialised by the kernel: every
 * guest task runs SCHED_FIFO on one CPU below the supervisor's priority, so a task runs until
 * it blocks or traps. Not here: process creation (run.c), the answers themselves (emulate.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "internal.h"
#include "metanode/hash.h"

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
    (void)sig;
    alarm_fired = 1;
}

int mn__dl_record(mn__dl_sup *s, const mn__dl_task *t, mn_witness_kind kind, uint32_t nr,
                  const uint64_t args[6], int64_t result, const uint8_t *digest,
                  const void *inline_data, size_t inline_len, mn_err *err)
{
    /* Past the cap (less room for the output records and the trailer) the run stops as an
     * output limit; what was recorded so far still makes a complete, checkable witness. */
    if (kind != MN_WK_OUTPUT &&
        (s->no_more_records ||
         s->witness->len + inline_len + 1024u > MN_WITNESS_FILE_BYTES_MAX - 4096u)) {
        s->no_more_records = true;
        if (!s->limit_hit) {
            s->limit_hit = true;
            s->limit = MN_LIMIT_OUTPUT;
        }
        return 0;
    }
    mn_witness_record r;
    memset(&r, 0, sizeof(r));
    r.seq = s->seq;
    r.vtid = t != NULL ? t->vtid : 0;
    r.ltime_ns = s->ltime_ns;
    r.kind = kind;
    r.nr = nr;
    if (args != NULL)
        memcpy(r.args, args, sizeof(r.args));
    r.result = result;
    r.has_digest = digest != NULL;
    if (digest != NULL)
        memcpy(r.digest, digest, 32);
    r.inline_data = (mn_witness_str){inline_data, inline_len};
    int rc = mn_witness_record_encode(&r, s->witness, err);
    if (rc == 0)
        s->seq++;
    return rc;
}

static mn__dl_task *task_find(mn__dl_sup *s, pid_t pid)
{
    for (uint32_t i = 0; i < MN__DL_TASKS_MAX; i++)
        if (s->tasks[i].live && s->tasks[i].pid == pid)
            return &s->tasks[i];
    return NULL;
}

static mn__dl_task *task_add(mn__dl_sup *s, pid_t pid)
{
    mn__dl_task *t = task_find(s, pid);
    if (t != NULL)
        return t;
    if (s->cfg->pids != 0 && s->live >= s->cfg->pids)
        return NULL; /* the pids limit: the caller stops the run */
    for (uint32_t i = 0; i < MN__DL_TASKS_MAX; i++) {
        if (s->tasks[i].live || s->tasks[i].pid != 0)
            continue; /* slots are never reused, so a late event of a dead task finds nothing */
        t = &s->tasks[i];
        memset(t, 0, sizeof(*t));
        t->pid = pid;
        t->live = true;
        t->fresh = true;
        if (mn__dl_ns_tid(pid, &t->vtid) != 0)
            t->vtid = 0;
        s->live++;
        return t;
    }
    return NULL;
}

static void stop_run(mn__dl_sup *s, mn_limit_kind why)
{
    if (!s->limit_hit) {
        s->limit_hit = true;
        s->limit = why;
    }
    kill(s->init_pid, SIGKILL); /* pid 1 of the namespace: the kernel kills all the others */
}

static int on_clone(mn__dl_sup *s, mn__dl_task *t, mn_err *err)
{
    unsigned long msg = 0;
    if (ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &msg) != 0)
        return mn_err_set(err, MN_ESYS, errno, "GETEVENTMSG");
    mn__dl_task *child = task_add(s, (pid_t)msg);
    if (child == NULL) {
        stop_run(s, MN_LIMIT_PIDS);
        return 0;
    }
    return mn__dl_record(s, t, MN_WK_SPAWN, 0, NULL, child->vtid, NULL, NULL, 0, err);
}

/* Records an exec with the new program's argv[0] inline. */
static int on_exec(mn__dl_sup *s, mn__dl_task *t, mn_err *err)
{
    int rc = mn__dl_on_exec(s, t, err);
    if (rc != 0)
        return rc;
    struct user_regs_struct regs;
    uint64_t argv0 = 0;
    char name[256];
    size_t len = 0;
    if (mn__dl_get_regs(t->pid, &regs) == 0 &&
        mn__dl_read_mem(t->pid, regs.rsp + 8, &argv0, 8) == 0) {
        for (; len < sizeof(name); len++)
            if (mn__dl_read_mem(t->pid, argv0 + len, &name[len], 1) != 0 || name[len] == 0)
                break;
    }
    uint8_t digest[32];
    mn_sha256(digest, name, len);
    return mn__dl_record(s, t, MN_WK_EXEC, 0, NULL, 0, digest, name, len, err);
}

/* True if pid has a handler installed for sig (SigCgt in /proc/PID/status). */
static bool has_handler(pid_t pid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    bool caught = false;
    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "SigCgt:", 7) == 0) {
            unsigned long long mask = strtoull(line + 7, NULL, 16);
            caught = sig >= 1 && sig <= 64 && ((mask >> (sig - 1)) & 1u) != 0;
            break;
        }
    fclose(f);
    return caught;
}

static bool default_kills(int sig)
{
    return sig != SIGCHLD && sig != SIGCONT && sig != SIGSTOP && sig != SIGTSTP &&
           sig != SIGTTIN && sig != SIGTTOU && sig != SIGURG && sig != SIGWINCH;
}

/* The guest's first process is pid 1 of its namespace, and the kernel drops a signal to an
 * init that has no handler for it, even a crash's SIGSEGV (which would then loop forever).
 * The cage gives it an ordinary process's fate instead: it dies of the signal. */
static bool init_dies_of(mn__dl_sup *s, mn__dl_task *t, int sig)
{
    if (t->pid != s->init_pid || !default_kills(sig) || has_handler(t->pid, sig))
        return false;
    s->init_signal = sig;
    kill(t->pid, SIGKILL);
    return true;
}

static int on_stop(mn__dl_sup *s, mn__dl_task *t, int status, mn_err *err)
{
    int sig = WSTOPSIG(status), event = status >> 16, deliver = 0, rc = 0;
    if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP && !s->started) {
        rc = 0; /* our own child code between the filter and execve (allocator, sanitizer
                 * runtime): not the guest's, so neither answered nor recorded */
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
        rc = mn__dl_on_syscall(s, t, err);
    } else if (sig == (SIGTRAP | 0x80) && t->pending) {
        rc = mn__dl_on_syscall_exit(s, t, err); /* PTRACE_O_TRACESYSGOOD marks it */
    } else if (sig == (SIGTRAP | 0x80)) {
        rc = 0; /* a syscall stop nobody asked for: never delivered as a signal */
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
        s->started = true;
        rc = on_exec(s, t, err);
    } else if (sig == SIGTRAP && (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
                                  event == PTRACE_EVENT_VFORK)) {
        rc = on_clone(s, t, err);
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
        /* Recorded here, synchronously, while the task still holds its files: the later
         * zombie notification reaches us at a time that depends on the host. */
        unsigned long st = 0;
        ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &st);
        rc = mn__dl_record(s, t, MN_WK_EXIT, 0, NULL, (int64_t)st, NULL, NULL, 0, err);
    } else if (sig == SIGTRAP && event != 0) {
        rc = 0; /* vfork-done and other events: nothing to record */
    } else if (sig == SIGSTOP && t->fresh) {
        rc = 0; /* the stop every auto-attached new task starts with */
    } else if (sig == SIGSEGV) {
        bool handled = false;
        rc = mn__dl_on_segv(s, t, &handled, err);
        deliver = handled ? 0 : SIGSEGV;
    } else {
        deliver = sig;
        rc = mn__dl_record(s, t, MN_WK_SIGNAL, (uint32_t)sig, NULL, 0, NULL, NULL, 0, err);
    }
    t->fresh = false;
    if (rc != 0)
        return rc;
    if (deliver != 0 && init_dies_of(s, t, deliver))
        deliver = 0;
    if (s->limit_hit)
        stop_run(s, s->limit);
    /* A call fsmeta.c finishes at its exit stop goes on with PTRACE_SYSCALL to reach it. */
    int how = t->pending ? PTRACE_SYSCALL : PTRACE_CONT;
    if (ptrace((enum __ptrace_request)how, t->pid, NULL, (void *)(uintptr_t)deliver) != 0 &&
        errno != ESRCH)
        return mn_err_set(err, MN_ESYS, errno, "PTRACE_CONT vtid %u", t->vtid);
    return 0;
}

static int on_exit_status(mn__dl_sup *s, mn__dl_task *t, int status, mn_err *err)
{
    t->live = false;
    s->live--;
    (void)err;
    if (t->pid == s->init_pid) {
        s->init_status = status;
        s->init_done = true;
    }
    return 0;
}

static int wait_one(mn__dl_sup *s, mn_err *err)
{
    int status = 0;
    pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
        if (errno == EINTR)
            return 0;
        if (errno == ECHILD) {
            s->live = 0;
            s->all_gone = true;
            return 0;
        }
        return mn_err_set(err, MN_ESYS, errno, "waitpid");
    }
    mn__dl_task *t = task_add(s, pid);
    if (t == NULL) {
        /* Over the pids limit: the task is not tracked, but it must be let go so it can die
         * of the SIGKILL (a tracee stopped at its exit event waits for us otherwise). */
        stop_run(s, MN_LIMIT_PIDS);
        if (WIFSTOPPED(status))
            ptrace(PTRACE_CONT, pid, NULL, NULL);
        return 0;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status))
        return on_exit_status(s, t, status, err);
    if (WIFSTOPPED(status))
        return on_stop(s, t, status, err);
    return 0;
}

int mn__dl_supervise(mn__dl_sup *s, mn_err *err)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm must interrupt waitpid */
    sigaction(SIGALRM, &sa, &old);
    alarm_fired = 0;
    if (s->cfg->time_ms != 0) {
        struct itimerval it;
        memset(&it, 0, sizeof(it));
        it.it_value.tv_sec = (time_t)(s->cfg->time_ms / 1000);
        it.it_value.tv_usec = (suseconds_t)(s->cfg->time_ms % 1000 * 1000);
        setitimer(ITIMER_REAL, &it, NULL);
    }
    int rc = 0;
    /* Until every task, tracked or not, has been reaped (waitpid says ECHILD). */
    while (!s->all_gone && rc == 0) {
        if (alarm_fired) {
            alarm_fired = 0;
            stop_run(s, MN_LIMIT_TIME);
        }
        rc = wait_one(s, err);
    }
    struct itimerval zero;
    memset(&zero, 0, sizeof(zero));
    setitimer(ITIMER_REAL, &zero, NULL);
    sigaction(SIGALRM, &old, NULL);
    if (rc != 0)
        kill(s->init_pid, SIGKILL);
    return rc;
}
