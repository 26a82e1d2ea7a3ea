/* SPDX-License-Identifier: Apache-2.0
 *
 * docklock.h: run a program in the deterministic cage and get its outputs, its witness log and
 * the facts a receipt needs. A run forks a child into new pid, mount, uts, ipc and net
 * namespaces with its own root (the host root or --rootfs, read-only, with a fresh /tmp, /proc
 * and a minimal /dev), installs a three-tier seccomp filter (allow / errno / trace), and
 * supervises the whole process tree with ptrace from this (single-threaded) process: time,
 * randomness, rdtsc, uname and the other modelled calls are answered from the seed and a
 * logical clock, and every answer is recorded in the witness. A call the cage does not model
 * ends the run (fail closed) with a message naming it.
 *
 * Must run as root (or with CAP_SYS_ADMIN + CAP_SYS_PTRACE): the cage uses namespaces, mounts,
 * ptrace and SCHED_FIFO. Not here: cgroup limits, OCI bundles, the CLI (cmd/docklock).
 */
#ifndef METANODE_DOCKLOCK_H
#define METANODE_DOCKLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/receipt.h"
#include "metanode/witness.h"

/* Why a run stopped at a limit (receipt exit code when exit kind is MN_EXIT_LIMIT). */
typedef enum mn_limit_kind {
    MN_LIMIT_TIME = 1,       /* wall-time limit (--time-limit) */
    MN_LIMIT_OUTPUT = 2,     /* stdout/stderr or witness size cap */
    MN_LIMIT_UNMODELLED = 3, /* a syscall the cage does not model (fail closed) */
    MN_LIMIT_MEMORY = 4,     /* memory limit */
    MN_LIMIT_PIDS = 5,       /* process limit */
} mn_limit_kind;

/* 1 January 2000 00:00:00 UTC, the default logical epoch. */
#define MN_DOCKLOCK_EPOCH_NS (946684800ull * 1000000000ull)

/* A mount the cage makes in its mount namespace besides its own /proc, /dev and /tmp (OCI
 * bundles; docs/docklock.md "Mounts and settings"). */
typedef enum mn_docklock_mount_kind {
    MN_DL_MOUNT_BIND = 1,   /* source (a host file or directory) bound at destination */
    MN_DL_MOUNT_TMPFS = 2,  /* a fresh tmpfs */
    MN_DL_MOUNT_DEVPTS = 3, /* a new devpts instance (and /dev/ptmx pointing into it) */
    MN_DL_MOUNT_MQUEUE = 4, /* the ipc namespace's message queues */
    MN_DL_MOUNT_SYSFS = 5,  /* sysfs, always read-only */
} mn_docklock_mount_kind;

typedef struct mn_docklock_mount {
    mn_docklock_mount_kind kind;
    const char *source;      /* bind: the host path (absolute); never recorded */
    const char *destination; /* absolute path inside the cage without ".." components */
    const char *data;        /* file-system options (tmpfs size=, mode=; devpts) or NULL */
    unsigned long flags;     /* MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC; MS_REC for rbind */
    /* bind: identity of the content (mn_docklock_mount_digest), recorded as an INPUT record;
     * hashed = false means it was too large or not hashable (the caller's taint). */
    bool is_dir, hashed;
    uint8_t digest[32];
} mn_docklock_mount;

/* The tree root (directory, tree.c rules) or output root (file) of a bind mount's source,
 * refusing more than MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX bytes or MN_DOCKLOCK_MOUNT_HASH_FILES_MAX
 * entries (MN_ELIMIT) and devices, fifos and sockets inside a directory (MN_EUNSUPPORTED). */
int mn_docklock_mount_digest(const char *source, bool *is_dir, uint8_t out[static 32],
                             mn_err *err);

/* A seccomp profile installed after the cage's own filter (OCI linux.seccomp). Actions are
 * the kernel's SECCOMP_RET_* values with their data (ERRNO | errno); only KILL_PROCESS,
 * KILL_THREAD, TRAP, ERRNO, LOG and ALLOW (TRACE and USER_NOTIF are the cage's own). */
typedef struct mn_docklock_sc_arg {
    uint32_t index;      /* 0..5 */
    uint32_t op;         /* libseccomp's enum scmp_compare: 1 NE .. 7 MASKED_EQ */
    uint64_t value, value_two;
} mn_docklock_sc_arg;
typedef struct mn_docklock_sc_rule {
    const char *name;    /* syscall name; unknown to libseccomp: skipped, as runc does */
    uint32_t action;
    uint32_t argc;
    mn_docklock_sc_arg args[6];
} mn_docklock_sc_rule;
typedef struct mn_docklock_seccomp {
    uint32_t default_action;
    const mn_docklock_sc_rule *rules;
    uint32_t rulec;
    uint8_t digest[32];  /* identity of the profile (recorded; the caller computes it) */
} mn_docklock_seccomp;

/* One piece of live input recorded in a witness (replay): delivered to the guest's stdin (or
 * terminal) at the first idle point of the run once the witness holds seq records. */
typedef struct mn_docklock_feed {
    uint64_t seq;
    const uint8_t *data; /* borrowed; len 0 is the end of the input */
    size_t len;
} mn_docklock_feed;

/* Live streams of a run (OCI containers, docs/oci.md §2.2); all optional, see input.c and
 * stream.c. Live input is delivered only at idle points (every guest task blocked), each
 * delivery an INPUT record, so a run with live input is replayed from its witness. */
typedef struct mn_docklock_io {
    int out_fd, err_fd;  /* -1, or where the guest's stdout/stderr are copied as written */
    bool live_in;        /* stdin (or the terminal) is fed during the run, not given whole */
    int in_fd;           /* live input from the host (-1: none, e.g. replay); read at idle
                          * points, never blocking; EOF closes the guest's stdin */
    bool terminal;       /* the guest's 0, 1 and 2 are a pty, its controlling terminal; the
                          * pty's output (echo included) is the run's stdout */
    uint16_t rows, cols; /* the terminal's fixed window size (0: 24 x 80) */
    const mn_docklock_feed *feed; /* replay: the recorded live input, in order (borrowed) */
    size_t feedc;
    /* exec (join.c): -1, or a listening unix stream socket; each connection sends one
     * encoded mn_docklock_join and the process joins the run at the next turn boundary. */
    int ctl_fd;
    const mn_docklock_feed *joins; /* replay: recorded JOIN records (inline: the request) */
    size_t joinc;
} mn_docklock_io;

/* A process that joins a running cage (OCI exec): argv[0] is looked up in its PATH. */
typedef struct mn_docklock_join {
    const char *argv[MN_DOCKLOCK_JOIN_ARGS_MAX + 1]; /* NULL-terminated */
    uint32_t argc;
    const char *env[MN_DOCKLOCK_JOIN_ENV_MAX + 1];
    uint32_t envc;
    const char *cwd; /* absolute */
} mn_docklock_join;

/* The request as canonical CBOR {1: [argv bytes], 2: [env bytes], 3: cwd bytes}, which is
 * also the inline data of its JOIN record. */
int mn_docklock_join_encode(const mn_docklock_join *j, mn_buf *out, mn_err *err);
/* Strict decoding of untrusted bytes; the strings are copied, NUL-terminated, into store
 * (at least len + MN_DOCKLOCK_JOIN_ARGS_MAX + MN_DOCKLOCK_JOIN_ENV_MAX + 1 bytes), which
 * j's pointers borrow. MN_ECORRUPT, or MN_ELIMIT for bounds. */
int mn_docklock_join_decode(const uint8_t *data, size_t len, mn_docklock_join *j, char *store,
                            size_t store_len, mn_err *err);

typedef struct mn_docklock_config {
    const char *const *argv; /* program and arguments; argv[0] is looked up in PATH */
    uint32_t argc;
    const char *const *env;  /* the complete environment ("K=V") */
    uint32_t envc;
    uint8_t seed[32];
    uint64_t epoch_ns;
    const char *rootfs;      /* NULL: the host root, read-only */
    /* NULL, or an existing empty directory (absolute path): mounted read-write at the same
     * path inside the cage, its tree hash is the receipt's fsdiff root. */
    const char *output_dir;
    const uint8_t *stdin_data; /* borrowed; NULL = empty */
    size_t stdin_len;
    uint64_t mem_bytes, pids, cpu_millis, time_ms; /* 0 = no limit */
    /* 0, or an O_PATH descriptor of a FIFO (OCI create/start): the child builds the cage,
     * then opens the FIFO for reading and waits for one byte before the program starts; it
     * dies with its tracer meanwhile (PR_SET_PDEATHSIG, or PTRACE_O_EXITKILL with
     * sibling_init), and gives up (exit 125) at EOF. */
    int start_fd;
    /* OCI create: the cage's pid 1 is cloned as the caller's sibling (CLONE_PARENT), so its
     * parent is the caller's parent (and, once that exits, a subreaper such as containerd's
     * shim or conmon), and traced with PTRACE_ATTACH. Its exit is not reaped by the run: the
     * zombie stays traced, so its parent can wait for it only once the caller has exited
     * (the kernel notifies the parent when the tracer goes), i.e. after the caller has
     * written the outputs and the receipt. A caller that dies early releases it too. */
    bool sibling_init;
    /* 0, or a descriptor the run reports on (OCI create): "P<host pid of the cage's pid 1>\n"
     * once cloned, and "R\n" from the cage once it is built and waits on start_fd. */
    int ready_fd;
    /* OCI settings (all borrowed; zero/NULL = the cage's defaults). They are configuration,
     * recorded in one CONFIG record of the witness when any differs from the default. */
    const mn_docklock_mount *mounts; /* made in order after the cage's /proc, /dev, /tmp */
    uint32_t mountc;
    const char *cwd;                 /* NULL: "/" */
    const char *hostname;            /* NULL: "docklock" (also what uname reports) */
    uint32_t uid, gid;               /* the program's user (0:0: root, no capabilities) */
    const uint32_t *groups;          /* supplementary groups */
    uint32_t groupc;
    const char *const *masked;       /* paths hidden (/dev/null or an empty read-only tmpfs) */
    uint32_t maskedc;
    const char *const *readonly;     /* paths re-bound read-only */
    uint32_t readonlyc;
    const mn_docklock_seccomp *seccomp; /* NULL: the cage's filter only */
    /* Settings accepted but not honoured (OCI relaxed mode): each is a TAINT record and the
     * run gets MN_TAINT_RELAXED. */
    const char *const *taints;
    uint32_t taintc;
    /* NULL, or the run's live streams (borrowed for the run). */
    const mn_docklock_io *io;
    /* Replay: when set, the run is checked against this witness (borrowed). */
    const uint8_t *expect_witness;
    size_t expect_witness_len;
} mn_docklock_config;

typedef struct mn_docklock_result {
    mn_buf witness;          /* the whole witness file */
    mn_buf out, errout;      /* the guest's stdout and stderr */
    mn_exit_kind exit_kind;
    int64_t exit_code;
    uint8_t witness_root[32];
    uint64_t witness_count;
    uint8_t program_digest[32];
    uint8_t config_digest[32];
    uint8_t seed_commitment[32];
    uint8_t stdout_root[32];
    uint8_t stderr_root[32];
    uint8_t fsdiff_root[32];   /* tree root of output_dir (the empty tree without one) */
    uint64_t logical_time_ns;
    uint64_t syscalls;       /* trapped events answered by the supervisor */
    uint64_t taints;
    uint64_t wall_ns, cpu_ns, peak_memory_bytes;
    char unmodelled[80];     /* name of the unmodelled syscall that stopped the run, if any */
} mn_docklock_result;

/* Runs cfg->argv in the cage until the whole tree has exited or a limit is hit. The calling
 * process must have no other children during the run (the supervisor reaps with waitpid(-1)),
 * and only one run at a time per process. On success
 * (the guest ran, whatever its exit status) fills *res, which the caller releases with
 * mn_docklock_result_deinit. Errors: MN_EINVAL (bad config), MN_ENOTFOUND (program not found),
 * MN_EPERM (not privileged enough), MN_ESYS (set-up failed). */
int mn_docklock_run(const mn_docklock_config *cfg, mn_docklock_result *res, mn_err *err);
void mn_docklock_result_deinit(mn_docklock_result *res);

/* The Merkle root of data cut into 64 KiB chunks (each chunk one leaf): the receipt's stdout
 * and stderr roots. Empty data gives the empty-tree root. */
void mn_docklock_output_root(const uint8_t *data, size_t len, uint8_t out[static 32]);

/* Fills the deterministic core and measured stats of a receipt from a result (job id zero,
 * replica 0, no agreement or policies, start height 0, fsdiff root of the empty tree). */
void mn_docklock_fill_receipt(const mn_docklock_result *res, const uint8_t node_id[static 32],
                              mn_receipt *r);

#endif
