/* SPDX-License-Identifier: Apache-2.0
 *
 * internal.h: what the files of the cage share. One mechanism per file: ns.c (namespaces and
 * root file system, run in the child), seccomp.c (the filter and the syscall tier table),
 * ptrace.c (tracee registers and memory), vdso.c (auxv and vDSO neutralisation at exec),
 * emulate.c (answers to modelled syscalls and rdtsc), supervisor.c (the event loop and the
 * task table), run.c (the public entry point). Nothing here is exported beyond libmetanode.
 */
#ifndef METANODE_DOCKLOCK_INTERNAL_H
#define METANODE_DOCKLOCK_INTERNAL_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "metanode/docklock.h"
#include "metanode/merkle.h"
#include "metanode/witness.h"

/* Logical time advanced by every trapped event (1 µs), so repeated clock reads differ. */
#define MN__DL_TICK_NS 1000u
/* Logical CLOCK_MONOTONIC at the start of a run (1 s, as if the machine had just booted). */
#define MN__DL_MONO_START_NS 1000000000ull
/* Most tasks (threads + processes) alive at once; a fork bomb stops here as a pids limit. */
#define MN__DL_TASKS_MAX 512u
/* Trapped events a task may take in a row while others wait for the turn (supervisor.c). */
#define MN__DL_QUANTUM_EVENTS 100u
/* First and longest wait before the supervisor looks whether the turn holder fell asleep
 * (the first bounds the cost of a hand-over at a blocking call; it doubles up to the longest
 * while the holder computes, each look costing a /proc read). */
#define MN__DL_BLOCK_CHECK_FIRST_NS 25000ull
#define MN__DL_BLOCK_CHECK_MAX_NS 4000000ull
/* Most turns a task that keeps blocking sits out before it is retried. */
#define MN__DL_BACKOFF_MAX 32u

/* cgroup.c: a memory and a cpu cgroup for the run (v1, else v2), each only with its limit. */
typedef struct mn__dl_group {
    char dir[128];
    bool active;
    bool v1;
} mn__dl_group;
typedef struct mn__dl_cgroup {
    mn__dl_group mem, cpu;
} mn__dl_cgroup;
/* Where a task is in the turn scheduler (supervisor.c). */
typedef enum mn__dl_tstate {
    MN__DL_T_ARRIVING, /* created; its attach stop not seen yet (it runs no guest code) */
    MN__DL_T_HELD,     /* at a ptrace stop, waiting for the turn */
    MN__DL_T_RUNNING,  /* the turn holder, released */
    MN__DL_T_STOPPING, /* the holder, found asleep: SIGSTOP sent, its stop not seen yet */
    MN__DL_T_EXITING,  /* past its exit stop: the kernel finishes it */
} mn__dl_tstate;

typedef struct mn__dl_task {
    pid_t pid;            /* host tid */
    pid_t tgid;           /* host thread-group id */
    mn__dl_tstate st;
    int resume_how;       /* PTRACE_CONT or PTRACE_SYSCALL when it next gets the turn */
    int resume_sig;       /* signal to deliver then */
    pid_t vfork_child;    /* host tid of the vfork child it waits for (0: none) */
    uint32_t quantum;     /* trapped events since it got the turn */
    uint32_t events_since_stop; /* events after the SIGSTOP was sent (STOPPING) */
    bool blocked;         /* last lost the turn asleep in a blocking call */
    uint32_t backoff;     /* turns a blocked task sits out after blocking again (doubling) */
    uint32_t skip;        /* turns still to sit out */
    uint64_t blocked_at;  /* s->progress when it last lost the turn asleep */
    uint64_t block_regs[7]; /* where it was asleep then: rip, rsp, orig_rax, rdi, rsi, rdx, r10 */
    bool timed;           /* in a wait passed through untimed (futex, poll, ...), whose: */
    uint64_t deadline_ns; /* logical time (s->ltime_ns) at which it times out */
    long timed_nr;        /* the call, */
    uint64_t timed_regs[4]; /* and rdi, rsi, rdx, rsp then: the same call when asleep again */
    bool stop_sent;       /* the scheduler's SIGSTOP is on its way (its stop is consumed) */
    bool given_up;        /* exiting, but its end was never reported: no longer waited for */
    uint32_t vtid;        /* tid inside the pid namespace */
    uint64_t rng_counter; /* 64-byte blocks of this task's random stream consumed */
    uint32_t execs;       /* successful execs (keys AT_RANDOM) */
    bool live;
    bool reaped;          /* its exit status was collected: the slot may be reused */
    bool fresh;           /* no stop seen yet: its first SIGSTOP is the attach stop */
    bool pending;         /* resumed to its syscall-exit stop, where fsmeta.c finishes */
    long pend_nr;         /* the call as the guest made it */
    uint64_t pend_args[6];
    int64_t pend_result;  /* getdents64: the bytes copied out */
    uint32_t join;        /* an exec'd process: 1 + its slot in s->join.live; 0 otherwise */
    bool prexec;          /* an exec'd process before its exec: our own code (join.c), whose
                           * events are neither recorded nor counted */
    uint64_t pend_pos;    /* getdents64: the lseek result that means success */
} mn__dl_task;

typedef struct mn__dl_fsmeta mn__dl_fsmeta;

/* Live input (input.c): the guest's stdin is a pipe (or its terminal a pty) fed by the
 * supervisor at idle points only, every delivery an INPUT record (nr MN__DL_INPUT_LIVE). */
#define MN__DL_INPUT_WHOLE 0u /* INPUT nr: stdin given whole before the run (args: 0, off, n) */
#define MN__DL_INPUT_LIVE 1u  /* a live delivery at an idle point (args: 0, off, n; n 0 = EOF) */
#define MN__DL_INPUT_MODE 2u  /* before the run: live input (args: 1 pipe | 2 pty, rows, cols) */
#define MN__DL_INPUT_MOUNT 3u /* before the run: a bind mount's content identity (settings.c) */
typedef struct mn__dl_input {
    bool active;          /* live input mode */
    bool open;            /* not at its end yet */
    bool awaiting;        /* every task is idle and only input can go on: wait for it */
    bool retry;           /* waited in vain: try the blocked tasks once more */
    bool tty;             /* a pty: pipe_w is its master, the guest holds the slave */
    int host_fd;          /* where live bytes come from (-1: replay feeds) */
    int pipe_w;           /* the pipe's write end or the pty's master (non-blocking) */
    int guest_fd;         /* the pipe's read end or the pty's slave, until the child has it */
    size_t next_feed;     /* replay: the next recorded delivery */
    uint64_t offset;      /* bytes delivered so far */
    uint8_t pend[65536];  /* read from the host, not yet accepted by the pipe or pty */
    size_t pend_len;
} mn__dl_input;

typedef struct mn__dl_stream mn__dl_stream;

/* exec (join.c): processes that join the run from outside, at turn boundaries. */
typedef struct mn__dl_joined {
    pid_t pid;     /* host pid, 0: free slot */
    uint32_t number; /* the JOIN record's nr */
    int conn;      /* the exec client's connection (-1: none, e.g. replay or gone) */
    int out, err;  /* its stdout and stderr memfds */
    int dst[2];    /* the client's stdout and stderr (passed with the request), or -1 */
    mn__dl_stream *stream; /* copies out/err to dst as they are written (stream.c) */
} mn__dl_joined;
typedef struct mn__dl_joins {
    int ctl;                /* listening socket, -1 none */
    bool armed;             /* SIGIO is set up for ctl (mn__dl_join_arm) */
    struct sigaction old_sigio;
    uint32_t count;         /* joins made */
    size_t next;            /* replay: the next recorded JOIN */
    mn__dl_joined live[MN_DOCKLOCK_JOINS_LIVE_MAX];
} mn__dl_joins;

/* Output streaming (stream.c): a thread copies what the guest writes to the caller's fds as
 * it is written, and for a terminal collects the pty's output (the run's stdout). */

typedef struct mn__dl_sup {
    const mn_docklock_config *cfg;
    pid_t init_pid;       /* host pid of the guest's pid 1 */
    mn__dl_task tasks[MN__DL_TASKS_MAX];
    uint32_t used;        /* slots ever used (a high-water mark: slots are never reused) */
    uint32_t live;
    uint64_t ltime_ns;    /* logical time elapsed since the start of the run */
    uint64_t events;      /* trapped events answered */
    uint64_t seq;         /* next witness record */
    mn_buf *witness;
    int rc;               /* first fatal error (sticky) */
    mn_err err;
    bool limit_hit;
    bool started;         /* the guest program has been exec'd */
    bool all_gone;        /* waitpid reported ECHILD: nothing left to supervise */
    bool no_more_records; /* the witness is at its cap */
    mn__dl_cgroup cgroup;
    mn_limit_kind limit;
    char unmodelled[64];
    int init_status;      /* wait status of the guest's pid 1 */
    int init_signal;      /* a signal the cage made pid 1 die of (see supervisor.c) */
    bool init_done;
    mn__dl_fsmeta *fsmeta; /* virtual inode and device numbers (fsmeta.c), made on first use */
    mn__dl_input in;       /* live input (input.c) */
    mn__dl_joins join;     /* exec (join.c) */
    /* The turn scheduler (supervisor.c). */
    mn__dl_task *holder;   /* the one task released, NULL between turns */
    mn__dl_task *handoff;  /* the task that must get the next turn (a vfork child) */
    uint32_t last_vtid;    /* the last holder: round-robin goes on after it */
    bool yield;            /* the holder's trapped call gives the turn away (sched_yield) */
    uint64_t check_ns;     /* next wait before looking whether the holder fell asleep */
    uint64_t turns, blocks; /* turns given, holders found asleep (measured, not recorded) */
    uint64_t progress;     /* trapped events and exits so far: a task blocked at the current
                            * value has been tried since anything last happened */
} mn__dl_sup;

/* Real-time priorities: the guest's tasks run SCHED_FIFO at one level (run until they block or
 * trap), the supervisor one above, so it answers a stop as soon as the stop happens. */
#define MN__DL_GUEST_PRIO 1
#define MN__DL_SUPERVISOR_PRIO 2

/* What the child needs between clone and execve (all prepared by the parent: the child only
 * makes system calls). */
typedef struct mn__dl_spawn {
    const mn_docklock_config *cfg;
    const char *stage;        /* empty directory for the new root */
    const char *path;         /* the program, as a path inside the cage */
    const char *const *argv;  /* NULL-terminated */
    const char *const *envp;  /* NULL-terminated */
    int fds[3];               /* stdin, stdout, stderr of the guest */
    int errfd;                /* set-up and exec errors, one line */
    int cpu;                  /* the one CPU the guest and supervisor share */
    bool tty;                 /* fds[0] is a pty slave: make it the controlling terminal */
    /* With cfg->sibling_init: a pipe; the child waits for one byte on go[0] (sent once the
     * supervisor has attached) before doing anything. Otherwise -1, -1. */
    int go[2];
} mn__dl_spawn;

/* spawn.c: the child from clone to execve; never returns. */
_Noreturn void mn__dl_child(const mn__dl_spawn *sp);

/* ns.c: runs in the child, after clone into new namespaces, building the root on the empty
 * directory stage; never returns on failure but writes a message to errfd and _exits 125. */
void mn__dl_ns_setup(const mn_docklock_config *cfg, const char *stage, int errfd);

/* ns.c: writes "MESSAGE: strerror(errno)" to errfd and _exits 125 (child side only). */
_Noreturn void mn__dl_die(int errfd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mounts.c (child side): makes the mount points of cfg->mounts in the root bound at stage while
 * it is still writable (those outside the cage's /proc, /dev, /tmp and not inside another of
 * the mounts), then, after the cage's own mounts, the mounts themselves, maskedPaths and
 * readonlyPaths. Fails like ns.c (errfd, exit 125). */
void mn__dl_mount_points(const mn_docklock_config *cfg, const char *stage, int errfd);
void mn__dl_mounts_setup(const mn_docklock_config *cfg, const char *stage, int errfd);

/* settings.c (supervisor side): before the run, the CONFIG record (when any setting differs
 * from the default), one INPUT record (nr 1) per bind mount with its content digest, one TAINT
 * record per accepted taint (adding MN_TAINT_RELAXED to *taints); after it, one OUTPUT record
 * (nr 3) per writable hashed bind mount with its content digest then. */
int mn__dl_settings_record(mn__dl_sup *s, uint64_t *taints, mn_err *err);
int mn__dl_mounts_record_outputs(mn__dl_sup *s, mn_err *err);

/* seccomp.c: installs a bundle's profile on top of the cage's filter (child side). */
int mn__dl_seccomp_install_profile(const mn_docklock_seccomp *p, int errfd);

/* tree.c: the tree hash of a directory (the receipt's fsdiff root). */
int mn__dl_tree_root(const char *root, uint8_t out[32], mn_err *err);

/* cgroup.c */
int mn__dl_cgroup_enter(mn__dl_cgroup *cg, pid_t pid, uint64_t mem_bytes, uint64_t cpu_millis,
                        mn_err *err);
bool mn__dl_cgroup_oom(const mn__dl_cgroup *cg);
void mn__dl_cgroup_leave(mn__dl_cgroup *cg);

/* seccomp.c */
int mn__dl_seccomp_install(int errfd);
typedef enum mn__dl_tier { MN__DL_ALLOW, MN__DL_ERRNO, MN__DL_TRACE } mn__dl_tier;
const char *mn__dl_syscall_name(long nr, char *buf, size_t len);

/* ptrace.c */
int mn__dl_read_mem(pid_t pid, uint64_t addr, void *out, size_t len);
int mn__dl_write_mem(pid_t pid, uint64_t addr, const void *data, size_t len);
int mn__dl_get_regs(pid_t pid, struct user_regs_struct *regs);
int mn__dl_set_regs(pid_t pid, const struct user_regs_struct *regs);
/* The tid of host thread pid inside its innermost pid namespace and its host thread-group id
 * (from /proc/PID/status). */
int mn__dl_ns_tid(pid_t pid, uint32_t *vtid, pid_t *tgid);
/* The state letter of /proc/PID/stat (R, S, D, t, Z, ...), '?' when it cannot be read. */
char mn__dl_task_state(pid_t pid);

/* vdso.c: at the exec stop of task t: overwrite AT_RANDOM from the seed, drop
 * AT_SYSINFO_EHDR from the auxv and patch the vDSO's time/getcpu/getrandom entries. */
int mn__dl_on_exec(mn__dl_sup *s, mn__dl_task *t, mn_err *err);

/* emulate.c: the result a timed wait of call nr gives at its timeout (ETIMEDOUT or 0). */
int64_t mn__dl_timeout_result(long nr);
/* emulate.c: answers a seccomp-trace stop of task t (the syscall in regs). Returns 0 when
 * answered or let through, -code on a fatal error; sets s->limit_hit for an unmodelled call. */
int mn__dl_on_syscall(mn__dl_sup *s, mn__dl_task *t, mn_err *err);
/* Answers rdtsc/rdtscp at a SIGSEGV stop; *handled is false when the fault is a real one. */
int mn__dl_on_segv(mn__dl_sup *s, mn__dl_task *t, bool *handled, mn_err *err);
/* key = SHA-256(MN_TAG_DOCKLOCK_STREAM || seed || label || vtid as u32 little-endian). */
void mn__dl_stream_key(const uint8_t seed[32], const char *label, uint32_t vtid,
                       uint8_t key[32]);
/* Fills len bytes from task t's random stream (ChaCha20 keyed by seed, label and vtid). */
void mn__dl_random(const mn__dl_sup *s, uint32_t vtid, const char *label, uint64_t *counter,
                   uint8_t *out, size_t len);

/* fsmeta.c: the stat family and getdents64 (see the file's comment). */
bool mn__dl_fsmeta_traps(long nr);
void mn__dl_getdents_enter(mn__dl_sup *s, mn__dl_task *t, struct user_regs_struct *regs,
                           const uint64_t *a, int64_t *result, bool *lseek_instead);
/* At the syscall-exit stop of a task with pending set: normalises and records the call. */
int mn__dl_on_syscall_exit(mn__dl_sup *s, mn__dl_task *t, mn_err *err);
void mn__dl_fsmeta_free(mn__dl_sup *s);

/* input.c: live input. setup (before the run, after the stdin records): makes the pipe or
 * pty, replaces the guest's fds (fds[0], or all three for a pty) and records the mode;
 * child_started closes the supervisor's copy of the guest's end; idle is called when every
 * task is idle (timed: a timed wait could end it instead) and delivers input if there is
 * some (*delivered), else sets in.awaiting when nothing else can happen; wait blocks up to
 * ms for host input; close releases everything. */
int mn__dl_input_setup(mn__dl_sup *s, int fds[3], mn_err *err);
void mn__dl_input_child_started(mn__dl_sup *s);
int mn__dl_input_idle(mn__dl_sup *s, bool timed, bool *delivered, mn_err *err);
bool mn__dl_input_wait(mn__dl_sup *s, int ms); /* true if input may be ready */
void mn__dl_input_close(mn__dl_sup *s);

/* supervisor.c: a new task entry for host tid pid (NULL over the pids limit). */
mn__dl_task *mn__dl_task_new(mn__dl_sup *s, pid_t pid);

/* join.c: a join is due (a request waits, or replay reaches a recorded one): the holder
 * gives up the turn at its next trapped event. */
bool mn__dl_join_due(mn__dl_sup *s);
/* Live exec socket: SIGIO marks a waiting client (arm at the start of supervision, disarm at
 * its end); signalled: one may wait, so a lone holder must be watched. */
void mn__dl_join_arm(mn__dl_sup *s);
void mn__dl_join_disarm(mn__dl_sup *s);
bool mn__dl_join_signalled(const mn__dl_sup *s);
/* At a turn boundary: starts the due join (the new task gets the next turn). */
int mn__dl_join_point(mn__dl_sup *s, mn_err *err);
/* At the exit stop of an exec'd task: records its outputs and tells its client. */
int mn__dl_join_exit(mn__dl_sup *s, mn__dl_task *t, int status, mn_err *err);
void mn__dl_join_close(mn__dl_sup *s);

/* spawn.c: the steps from the ptrace stop to just before execve (one CPU, scheduling, no
 * ASLR, rdtsc faulting, limits, the configured user, no capabilities, the cage's seccomp
 * filter and the bundle's), shared with exec'd processes; the working directory becomes cwd
 * (NULL: kept, as an exec'd process has entered its own). _exits 125 on failure. */
void mn__dl_child_fix(const mn__dl_spawn *sp, const char *cwd);

/* stream.c: starts copying (NULL *out when nothing is to be streamed); stop ends the copy
 * after the last byte (for a pty: after every holder of the slave is gone) and, for a pty,
 * moves the collected output into tty_out. */
int mn__dl_stream_start(mn__dl_stream **out, const mn_docklock_io *io, int out_memfd,
                        int err_memfd, int tty_master, mn_err *err);
int mn__dl_stream_stop(mn__dl_stream *st, mn_buf *tty_out, mn_err *err);

/* supervisor.c: appends one witness record (inline data borrowed for the call). */
int mn__dl_record(mn__dl_sup *s, const mn__dl_task *t, mn_witness_kind kind, uint32_t nr,
                  const uint64_t args[6], int64_t result, const uint8_t *digest,
                  const void *inline_data, size_t inline_len, mn_err *err);
/* Runs the event loop until every task has exited or the run must stop. */
int mn__dl_supervise(mn__dl_sup *s, mn_err *err);

#endif
