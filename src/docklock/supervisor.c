/* SPDX-License-Identifier: Apache-2.0
 *
 * supervisor.c: the cage's event loop and its turn scheduler. One thread waits for every
 * ptrace stop of every task of the guest tree (waitpid(-1, __WALL)), keeps the task table (host
 * tid -> virtual tid, random stream position), dispatches seccomp stops to emulate.c, exec
 * stops to vdso.c, SIGSEGV stops to the rdtsc emulation, records clone/exec/exit/signal events
 * in the witness, forwards other signals, and enforces the wall-time limit (SIGALRM) and the
 * fail-closed rule (an unmodelled call kills the tree).
 *
 * Turn scheduler: exactly one task (the holder) is released at a time; every other task is
 * held at a ptrace stop. The holder keeps the turn for MN__DL_QUANTUM_EVENTS trapped events,
 * until it yields (sched_yield), vforks (the child gets the turn), exits, or falls asleep in
 * the kernel (state S: a blocking call such as wait4, a pipe read or a futex wait, waiting for
 * a task that is held). A sleeping holder is stopped with SIGSTOP, which the supervisor then
 * suppresses, so its call restarts when it next gets the turn (a blocking call becomes a
 * deterministic retry). The next holder is the next task in virtual-tid order (round robin),
 * chosen only when nothing else is in flight: no task between clone and its attach stop, and
 * no exiting process that the kernel has not finished. A holder waiting for the host (state D:
 * a page-cache miss, a lock) is simply waited for. So the order of events is a function of the
 * run, not of host timing. Not here: process creation (run.c), the answers (emulate.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    for (uint32_t i = 0; i < s->used; i++)
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
        /* A slot is free when never used, or when its task's exit status has been collected:
         * no event can come for that pid any more. A task that vanished otherwise (a thread
         * whose exec another thread took over) keeps its slot, so a late event of it finds
         * nothing. The scheduler orders tasks by virtual tid, never by slot. */
        if (s->tasks[i].live || (s->tasks[i].pid != 0 && !s->tasks[i].reaped))
            continue;
        t = &s->tasks[i];
        if (i >= s->used)
            s->used = i + 1;
        memset(t, 0, sizeof(*t));
        t->pid = pid;
        t->live = true;
        t->fresh = true;
        t->st = MN__DL_T_ARRIVING;
        t->resume_how = PTRACE_CONT;
        if (mn__dl_ns_tid(pid, &t->vtid, &t->tgid) != 0)
            t->vtid = 0;
        s->live++;
        return t;
    }
    return NULL;
}

mn__dl_task *mn__dl_task_new(mn__dl_sup *s, pid_t pid)
{
    return task_add(s, pid);
}

static void stop_run(mn__dl_sup *s, mn_limit_kind why)
{
    if (!s->limit_hit) {
        s->limit_hit = true;
        s->limit = why;
    }
    kill(s->init_pid, SIGKILL); /* pid 1 of the namespace: the kernel kills all the others */
}

static int on_clone(mn__dl_sup *s, mn__dl_task *t, int event, mn_err *err)
{
    unsigned long msg = 0;
    if (ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &msg) != 0)
        return mn_err_set(err, MN_ESYS, errno, "GETEVENTMSG");
    mn__dl_task *child = task_add(s, (pid_t)msg);
    if (child == NULL) {
        stop_run(s, MN_LIMIT_PIDS);
        return 0;
    }
    /* The parent of a vfork cannot go on before the child execs or exits: the child gets
     * the turn now, and the parent waits for it. */
    if (event == PTRACE_EVENT_VFORK) {
        t->vfork_child = child->pid;
        s->handoff = child;
    }
    return mn__dl_record(s, t, MN_WK_SPAWN, 0, NULL, child->vtid, NULL, NULL, 0, err);
}

/* A vfork parent waiting for t may go on (t exec'd or exited). */
static void vfork_release(mn__dl_sup *s, const mn__dl_task *t)
{
    for (uint32_t i = 0; i < s->used; i++)
        if (s->tasks[i].live && s->tasks[i].vfork_child == t->pid)
            s->tasks[i].vfork_child = 0;
}

/* Records an exec with the new program's argv[0] inline. */
static int on_exec(mn__dl_sup *s, mn__dl_task *t, mn_err *err)
{
    /* A thread other than the leader that execs takes over the leader's tid: the event comes
     * with the leader's, and the execing thread's own entry is gone. */
    unsigned long former = 0;
    if (ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &former) == 0 && (pid_t)former != t->pid) {
        mn__dl_task *old = task_find(s, (pid_t)former);
        if (old != NULL) {
            if (s->holder == old)
                s->holder = t;
            old->live = false;
            s->live--;
        }
        t->st = MN__DL_T_RUNNING;
    }
    vfork_release(s, t);
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

static void resume(mn__dl_task *t, int how, int sig)
{
    /* ESRCH: it was killed meanwhile; its exit is reported and handled later. */
    (void)ptrace((enum __ptrace_request)how, t->pid, NULL, (void *)(uintptr_t)sig);
}

static uint64_t mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Gives the turn to t (held at a stop). */
static void give_turn(mn__dl_sup *s, mn__dl_task *t)
{
    t->st = MN__DL_T_RUNNING;
    t->quantum = 0;
    t->events_since_stop = 0;
    s->holder = t;
    s->last_vtid = t->vtid;
    s->check_ns = MN__DL_BLOCK_CHECK_FIRST_NS;
    s->turns++;
    resume(t, t->resume_how, t->resume_sig);
}

/* True if some task other than t could take the turn. */
static bool others_waiting(const mn__dl_sup *s, const mn__dl_task *t)
{
    for (uint32_t i = 0; i < s->used; i++) {
        const mn__dl_task *o = &s->tasks[i];
        if (o != t && o->live && (o->st == MN__DL_T_HELD || o->st == MN__DL_T_ARRIVING))
            return true;
    }
    return false;
}

/* The holder t lost the turn at a stop; it goes on with (how, sig) at its next turn. */
static void hold(mn__dl_sup *s, mn__dl_task *t, int how, int sig)
{
    t->st = MN__DL_T_HELD;
    t->resume_how = how;
    t->resume_sig = sig;
    if (s->holder == t)
        s->holder = NULL;
}

/* After a stop of t was handled: resume it now, or hold it until its turn. sched_point: a
 * trapped event that counts against the holder's quantum. */
static void after_stop(mn__dl_sup *s, mn__dl_task *t, int how, int sig, bool sched_point)
{
    if (s->holder != t) {
        hold(s, t, how, sig); /* not its turn (its attach stop, or a stop the kernel forced) */
        return;
    }
    if (t->stop_sent)
        t->events_since_stop++; /* woke before the SIGSTOP hit: it was not blocked */
    t->st = MN__DL_T_RUNNING;
    t->blocked = false;
    t->backoff = 0; /* progress: retried at its next turn again */
    bool rotate = false;
    if (sched_point) {
        s->progress++;
        t->quantum++;
        rotate = t->vfork_child != 0 ||
                 ((s->yield || t->quantum >= MN__DL_QUANTUM_EVENTS) && others_waiting(s, t)) ||
                 mn__dl_join_due(s); /* an exec joins at the next turn boundary (join.c) */
    }
    s->yield = false;
    if (rotate) {
        hold(s, t, how, sig);
        return;
    }
    s->check_ns = MN__DL_BLOCK_CHECK_FIRST_NS;
    resume(t, how, sig);
}

static int on_stop(mn__dl_sup *s, mn__dl_task *t, int status, mn_err *err)
{
    int sig = WSTOPSIG(status), event = status >> 16, deliver = 0, rc = 0;
    bool sched_point = true;
    if (sig == SIGSTOP && t->stop_sent && event == 0) {
        /* The SIGSTOP the scheduler sent to a sleeping holder: suppressed, so the interrupted
         * call restarts at the task's next turn. A task that had events since was not
         * asleep for good after all: it just goes on (or stays held). */
        int how = t->pending ? PTRACE_SYSCALL : PTRACE_CONT;
        t->stop_sent = false;
        /* Calls that end with EINTR when a signal interrupts them even if no handler runs
         * (epoll_wait, semtimedop, ...) are made to restart like the others: no signal reaches
         * the guest, so no call of its may fail because of one. */
        struct user_regs_struct regs;
        bool have_regs = mn__dl_get_regs(t->pid, &regs) == 0;
        if (have_regs && (int64_t)regs.orig_rax >= 0 && (int64_t)regs.rax == -EINTR) {
            regs.rax = (uint64_t)(int64_t)-514; /* -ERESTARTNOHAND */
            (void)mn__dl_set_regs(t->pid, &regs);
        }
        if (t->events_since_stop != 0 || t->st != MN__DL_T_STOPPING) {
            if (s->holder == t) {
                t->st = MN__DL_T_RUNNING;
                resume(t, how, 0);
            } else {
                hold(s, t, how, 0);
            }
            return 0;
        }
        /* Blocked again at once after its last turn: it sits out twice as many turns. */
        t->backoff = t->blocked ? (t->backoff * 2 > MN__DL_BACKOFF_MAX ? MN__DL_BACKOFF_MAX
                                                                        : t->backoff * 2)
                                : 1;
        t->skip = t->backoff;
        /* Work done without a trapped call (a pipe drained, a futex handed over) is progress
         * too: a task found asleep somewhere else than at its last block has made some. */
        const uint64_t where[7] = {regs.rip, regs.rsp, regs.orig_rax, regs.rdi,
                                   regs.rsi, regs.rdx, regs.r10};
        if (!have_regs || memcmp(where, t->block_regs, sizeof(where)) != 0)
            s->progress++;
        memcpy(t->block_regs, where, sizeof(where));
        t->blocked = true;
        t->blocked_at = s->progress;
        s->blocks++;
        hold(s, t, how, 0);
        return 0;
    }
    if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP && (!s->started || t->prexec)) {
        rc = 0; /* our own child code between the filter and execve (allocator, sanitizer
                 * runtime): not the guest's, so neither answered nor recorded */
        sched_point = !t->prexec; /* (an exec'd process's: not even counted, join.c) */
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_SECCOMP) {
        t->timed = false; /* a new call: any earlier wait is over */
        rc = mn__dl_on_syscall(s, t, err);
    } else if (sig == (SIGTRAP | 0x80) && t->pending) {
        rc = mn__dl_on_syscall_exit(s, t, err); /* PTRACE_O_TRACESYSGOOD marks it */
        sched_point = false; /* the second half of a trapped call */
    } else if (sig == (SIGTRAP | 0x80)) {
        rc = 0; /* a syscall stop nobody asked for: never delivered as a signal */
        sched_point = false;
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
        s->started = true;
        t->prexec = false;
        rc = on_exec(s, t, err);
    } else if (sig == SIGTRAP && (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
                                  event == PTRACE_EVENT_VFORK)) {
        rc = on_clone(s, t, event, err);
    } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXIT) {
        /* Recorded here, synchronously, while the task still holds its files: the later
         * zombie notification reaches us at a time that depends on the host. The task goes
         * on at once (exiting is not a turn), and the turn passes. */
        unsigned long st = 0;
        ptrace(PTRACE_GETEVENTMSG, t->pid, NULL, &st);
        rc = mn__dl_record(s, t, MN_WK_EXIT, 0, NULL, (int64_t)st, NULL, NULL, 0, err);
        if (rc == 0 && t->join != 0)
            rc = mn__dl_join_exit(s, t, (int)st, err); /* an exec'd process: tell its client */
        t->st = MN__DL_T_EXITING;
        s->progress++;
        vfork_release(s, t);
        if (s->holder == t)
            s->holder = NULL;
        if (s->limit_hit)
            stop_run(s, s->limit);
        resume(t, PTRACE_CONT, 0);
        return rc;
    } else if (sig == SIGTRAP && event != 0) {
        rc = 0; /* vfork-done and other events: nothing to record */
    } else if (sig == SIGSTOP && t->fresh) {
        rc = 0; /* the stop every auto-attached new task starts with */
        sched_point = false;
        if (t->st == MN__DL_T_ARRIVING)
            t->st = MN__DL_T_HELD;
    } else if (sig == SIGSEGV) {
        bool handled = false;
        sched_point = !t->prexec;
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
    after_stop(s, t, t->pending ? PTRACE_SYSCALL : PTRACE_CONT, deliver, sched_point);
    return 0;
}

static int on_exit_status(mn__dl_sup *s, mn__dl_task *t, int status, mn_err *err)
{
    t->live = false;
    t->reaped = true; /* its slot may be reused */
    s->live--;
    (void)err;
    vfork_release(s, t);
    if (s->holder == t)
        s->holder = NULL;
    if (s->handoff == t)
        s->handoff = NULL;
    if (t->pid == s->init_pid) {
        s->init_status = status;
        s->init_done = true;
    }
    /* With live input an idle run waits for input instead of retrying its blocked tasks, so
     * what can wake one must count as progress: a parent's wait4 sees a traced child only
     * once the supervisor has reaped it. (Without live input the count stays as it was, so
     * timeouts, and receipts, are unchanged.) */
    if (s->in.active)
        s->progress++;
    return 0;
}

/* Handles one reported change; *none is set when nothing was pending. */
static int wait_one(mn__dl_sup *s, bool block, bool *none, mn_err *err)
{
    int status = 0;
    *none = false;
    pid_t pid;
    if (s->cfg->sibling_init) {
        /* The cage's pid 1 is not our child (docklock.h): reaping its zombie would let its
         * parent see the end before the receipt exists. So look first; its zombie comes
         * last (the kernel ends every other task of its pid namespace before it), and is
         * the end of the run. */
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        pid = waitid(P_ALL, 0, &si, WEXITED | __WALL | WNOWAIT | (block ? 0 : WNOHANG)) != 0
                  ? -1
                  : si.si_pid;
        if (pid > 0 && pid == s->init_pid && si.si_code != CLD_TRAPPED &&
            si.si_code != CLD_STOPPED && si.si_code != CLD_CONTINUED) {
            status = si.si_code == CLD_EXITED   ? (si.si_status & 0xff) << 8
                     : si.si_code == CLD_DUMPED ? (si.si_status & 0x7f) | 0x80
                                                : si.si_status & 0x7f;
            mn__dl_task *t = task_add(s, pid);
            s->all_gone = true;
            return t != NULL ? on_exit_status(s, t, status, err) : 0;
        }
        if (pid > 0 && waitpid(pid, &status, __WALL | WNOHANG) != pid)
            pid = 0; /* gone meanwhile (a SIGKILL): look again */
    } else {
        pid = waitpid(-1, &status, __WALL | (block ? 0 : WNOHANG));
    }
    if (pid == 0) {
        *none = true;
        return 0;
    }
    if (pid < 0) {
        if (errno == EINTR) {
            *none = true;
            return 0;
        }
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

/* An exiting task the kernel has not finished yet. Its end can be observed by others: the
 * futex wake of its clear-tid address (pthread_join), a wait4 of its parent. A thread is
 * finished when its death is reported to us; a group leader whose threads live on is not
 * reported before them, so it is finished when it is a zombie. */
static bool exit_in_flight(const mn__dl_sup *s, const mn__dl_task *t)
{
    if (t->st != MN__DL_T_EXITING || t->given_up)
        return false;
    if (t->pid != t->tgid)
        return true;
    for (uint32_t i = 0; i < s->used; i++) {
        const mn__dl_task *o = &s->tasks[i];
        if (o->live && o->tgid == t->tgid && o->st != MN__DL_T_EXITING)
            return mn__dl_task_state(t->pid) != 'Z';
    }
    return true;
}

/* While an exit is in flight the holder may be asleep waiting for it (a wait4 on a child
 * killed with SIGKILL): it is not judged blocked then. */
static bool exits_in_flight(const mn__dl_sup *s)
{
    for (uint32_t i = 0; i < s->used; i++)
        if (s->tasks[i].live && exit_in_flight(s, &s->tasks[i]))
            return true;
    return false;
}

/* Nothing is in flight: every live task is held, or exiting with nobody able to observe it
 * yet. Only then is the choice of the next holder independent of host timing. */
static bool quiescent(const mn__dl_sup *s)
{
    for (uint32_t i = 0; i < s->used; i++) {
        const mn__dl_task *t = &s->tasks[i];
        if (!t->live)
            continue;
        if (t->st == MN__DL_T_ARRIVING || t->st == MN__DL_T_RUNNING ||
            t->st == MN__DL_T_STOPPING || exit_in_flight(s, t))
            return false;
    }
    return true;
}

/* The next task after the last holder in virtual-tid order that may run; with sitting_out,
 * also those still sitting out a back-off. */
static mn__dl_task *next_in_order(mn__dl_sup *s, bool sitting_out)
{
    mn__dl_task *after = NULL, *first = NULL;
    for (uint32_t i = 0; i < s->used; i++) {
        mn__dl_task *t = &s->tasks[i];
        if (!t->live || t->st != MN__DL_T_HELD || t->vfork_child != 0 ||
            (t->skip > 0 && !sitting_out))
            continue;
        if (first == NULL || t->vtid < first->vtid)
            first = t;
        if (t->vtid > s->last_vtid && (after == NULL || t->vtid < after->vtid))
            after = t;
    }
    return after != NULL ? after : first;
}

/* Round robin, except that a task that keeps blocking sits out a doubling number of turns
 * (deterministic back-off, so idle waiters cost little); when every candidate sits out, the
 * next one in order runs anyway. */
static mn__dl_task *next_task(mn__dl_sup *s)
{
    if (s->handoff != NULL && s->handoff->live && s->handoff->st == MN__DL_T_HELD)
        return s->handoff;
    mn__dl_task *t = next_in_order(s, false);
    if (t == NULL)
        return next_in_order(s, true);
    for (uint32_t i = 0; i < s->used; i++)
        if (s->tasks[i].live && s->tasks[i].skip > 0)
            s->tasks[i].skip--;
    return t;
}

/* Every live task is held, blocked, and has been tried since anything last happened: only a
 * timeout can end it. */
static bool all_idle(const mn__dl_sup *s)
{
    bool any = false;
    for (uint32_t i = 0; i < s->used; i++) {
        const mn__dl_task *t = &s->tasks[i];
        if (!t->live || t->st == MN__DL_T_EXITING)
            continue;
        if (t->st != MN__DL_T_HELD || !t->blocked || t->blocked_at != s->progress)
            return false;
        any = true;
    }
    return any;
}

/* When every task is blocked, the timed wait (futex, poll, select, epoll_wait) with the
 * earliest logical deadline (then the smallest vtid) times out: logical time jumps to its
 * deadline, the interrupted call returns its timeout result (ETIMEDOUT, or 0 ready) instead of
 * restarting (rax set at its signal-delivery stop), and the task gets the next turn. The
 * timeout is a witness record. Without a timed wait nothing can end the run but the time
 * limit, as natively. */
static int fire_timeout(mn__dl_sup *s, mn_err *err)
{
    mn__dl_task *first = NULL;
    for (uint32_t i = 0; i < s->used; i++) {
        mn__dl_task *t = &s->tasks[i];
        if (t->live && t->st == MN__DL_T_HELD && t->timed &&
            (first == NULL || t->deadline_ns < first->deadline_ns ||
             (t->deadline_ns == first->deadline_ns && t->vtid < first->vtid)))
            first = t;
    }
    if (first == NULL)
        return 0;
    first->timed = false;
    struct user_regs_struct regs;
    int64_t rax = 0;
    if (mn__dl_get_regs(first->pid, &regs) == 0)
        rax = (int64_t)regs.rax;
    /* Still asleep in the same call (its number, first arguments and stack pointer), stopped
     * with -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND or -ERESTART_RESTARTBLOCK. A task
     * woken from it that blocked again elsewhere without a trapped call is not timed. */
    if ((long)regs.orig_rax != first->timed_nr || regs.rdi != first->timed_regs[0] ||
        regs.rsi != first->timed_regs[1] || regs.rdx != first->timed_regs[2] ||
        regs.rsp != first->timed_regs[3] || rax < -516 || rax > -512)
        return 0;
    int64_t result = mn__dl_timeout_result(first->timed_nr);
    if (first->timed_nr == SYS_select || first->timed_nr == SYS_pselect6) {
        /* The kernel writes the fd sets back only on return: at a timeout they are empty. */
        static const uint8_t zero[1024];
        size_t len = (size_t)(regs.rdi > 8192 ? 8192 : regs.rdi + 63) / 64 * 8;
        const uint64_t sets[3] = {regs.rsi, regs.rdx, regs.r10};
        for (int i = 0; i < 3; i++)
            if (sets[i] != 0 && len > 0)
                (void)mn__dl_write_mem(first->pid, sets[i], zero, len);
    }
    regs.rax = (uint64_t)result;
    if (mn__dl_set_regs(first->pid, &regs) != 0)
        return mn_err_set(err, MN_ESYS, errno, "SETREGS of vtid %u", first->vtid);
    if (first->deadline_ns > s->ltime_ns)
        s->ltime_ns = first->deadline_ns;
    s->events++;
    s->progress++;
    first->blocked = false;
    first->backoff = 0;
    first->skip = 0;
    s->handoff = first;
    return mn__dl_record(s, first, MN_WK_SYSCALL, (uint32_t)first->timed_nr, NULL, result,
                         NULL, NULL, 0, err);
}

/* A held task in a wait that a timeout could end. */
static bool any_timed(const mn__dl_sup *s)
{
    for (uint32_t i = 0; i < s->used; i++)
        if (s->tasks[i].live && s->tasks[i].st == MN__DL_T_HELD && s->tasks[i].timed)
            return true;
    return false;
}

/* Every task is idle: live input (input.c) is delivered now if there is some, which is
 * progress for every task; else the earliest timed wait times out; else, with live input
 * still open, the run waits for it (in.awaiting). */
static int on_idle(mn__dl_sup *s, mn_err *err)
{
    bool delivered = false;
    if (s->in.open) {
        int rc = mn__dl_input_idle(s, any_timed(s), &delivered, err);
        if (rc != 0)
            return rc;
    }
    if (!delivered && s->in.awaiting && s->in.retry) {
        s->in.awaiting = s->in.retry = false; /* a retry round, as without live input */
        return 0;
    }
    if (!delivered)
        return s->in.awaiting ? 0 : fire_timeout(s, err);
    s->progress++;
    for (uint32_t i = 0; i < s->used; i++) {
        s->tasks[i].skip = 0;
        s->tasks[i].backoff = 0;
    }
    return 0;
}

static int schedule(mn__dl_sup *s, mn_err *err)
{
    s->in.awaiting = false;
    if (s->holder != NULL || !quiescent(s))
        return 0;
    int jrc = mn__dl_join_point(s, err); /* a turn boundary: an exec may join here */
    if (jrc != 0)
        return jrc;
    if (all_idle(s)) {
        int rc = on_idle(s, err);
        if (rc != 0 || s->in.awaiting)
            return rc;
    }
    mn__dl_task *t = next_task(s);
    if (t == NULL)
        return 0;
    if (t == s->handoff)
        s->handoff = NULL;
    give_turn(s, t);
    return 0;
}

/* Waits for the next change (SIGCHLD) or, with a holder others wait for, until it is time to
 * look whether the holder fell asleep: then it is stopped and loses the turn. */
static void wait_change(mn__dl_sup *s, const sigset_t *chld, uint64_t *stuck_ns)
{
    mn__dl_task *h = s->holder;
    /* A holder alone is watched too when it waits with a timeout, or while live input is
     * open: only the scheduler can end that wait or deliver the input. */
    bool watch = h != NULL && h->st == MN__DL_T_RUNNING && !h->stop_sent &&
                 (others_waiting(s, h) || h->timed || s->in.open || mn__dl_join_signalled(s)) &&
                 !exits_in_flight(s);
    if (h == NULL && s->in.awaiting) {
        /* Every task idle: only input (or a kill) can go on. After 50 ms without input the
         * blocked tasks are tried once more (something the scheduler did not count as
         * progress may have woken one). */
        s->in.retry = !mn__dl_input_wait(s, 50);
        *stuck_ns = 0;
        return;
    }
    uint64_t wait = watch ? s->check_ns : h == NULL ? 1000000u : 10000000u;
    struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
    siginfo_t info;
    uint64_t t0 = mono_now_ns();
    if (sigtimedwait(chld, &info, &ts) >= 0 || errno != EAGAIN) {
        *stuck_ns = 0;
        return; /* a change, or SIGALRM */
    }
    if (watch) {
        *stuck_ns = 0;
        if (mn__dl_task_state(h->pid) == 'S') {
            h->st = MN__DL_T_STOPPING;
            h->stop_sent = true;
            h->events_since_stop = 0;
            syscall(SYS_tgkill, h->tgid, h->pid, SIGSTOP);
        } else if (s->check_ns < MN__DL_BLOCK_CHECK_MAX_NS) {
            s->check_ns *= 2;
        }
        return;
    }
    if (h != NULL)
        return; /* a holder alone runs as long as it likes */
    /* No holder and no change for a while: an exiting task the kernel never reports as
     * finished (this should not happen) would stall the run. After 1 s it is no longer
     * waited for. */
    *stuck_ns += mono_now_ns() - t0;
    if (*stuck_ns < 1000000000u)
        return;
    for (uint32_t i = 0; i < s->used; i++)
        if (s->tasks[i].live && s->tasks[i].st == MN__DL_T_EXITING)
            s->tasks[i].given_up = true;
    *stuck_ns = 0;
}

int mn__dl_supervise(mn__dl_sup *s, mn_err *err)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm must interrupt the wait */
    sigaction(SIGALRM, &sa, &old);
    sigset_t chld, oldmask;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &oldmask); /* taken with sigtimedwait */
    mn__dl_join_arm(s);
    alarm_fired = 0;
    if (s->cfg->time_ms != 0) {
        struct itimerval it;
        memset(&it, 0, sizeof(it));
        it.it_value.tv_sec = (time_t)(s->cfg->time_ms / 1000);
        it.it_value.tv_usec = (suseconds_t)(s->cfg->time_ms % 1000 * 1000);
        setitimer(ITIMER_REAL, &it, NULL);
    }
    /* The first process is the first holder: run.c let it go at its first stop. */
    if (s->used == 0)
        s->used = 1;
    s->holder = &s->tasks[0];
    s->holder->st = MN__DL_T_RUNNING;
    s->holder->tgid = s->init_pid;
    s->last_vtid = 1;
    s->check_ns = MN__DL_BLOCK_CHECK_FIRST_NS;
    int rc = 0;
    uint64_t stuck_ns = 0;
    /* Until every task, tracked or not, has been reaped (waitpid says ECHILD). */
    while (!s->all_gone && rc == 0) {
        if (alarm_fired) {
            alarm_fired = 0;
            stop_run(s, MN_LIMIT_TIME);
        }
        bool none = false;
        if (s->holder != NULL && s->holder->st == MN__DL_T_RUNNING && !s->holder->timed &&
            !s->in.open && !mn__dl_join_signalled(s) && !others_waiting(s, s->holder)) {
            rc = wait_one(s, true, &none, err); /* a holder alone: as cheap as plain ptrace */
            continue;
        }
        while (rc == 0 && !none && !s->all_gone)
            rc = wait_one(s, false, &none, err);
        if (rc != 0 || s->all_gone)
            break;
        if ((rc = schedule(s, err)) != 0)
            break;
        wait_change(s, &chld, &stuck_ns);
    }
    struct itimerval zero;
    memset(&zero, 0, sizeof(zero));
    setitimer(ITIMER_REAL, &zero, NULL);
    sigaction(SIGALRM, &old, NULL);
    mn__dl_join_disarm(s);
    siginfo_t info;
    struct timespec nowait = {0, 0};
    while (sigtimedwait(&chld, &info, &nowait) > 0) {
    } /* SIGCHLDs of this run are not the caller's */
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    if (rc != 0)
        kill(s->init_pid, SIGKILL);
    return rc;
}
