/* SPDX-License-Identifier: Apache-2.0
 *
 * oci.h: Docklock as an OCI runtime. Two jobs: read a bundle's config.json strictly into a
 * struct (config.c), deciding what the deterministic cage honours, what it ignores and what it
 * refuses; and keep the per-container state directory (state.c): the record of one container
 * (id, bundle, supervisor pid, status, exit status, annotations), written atomically, locked
 * against concurrent commands on one id, and rendered as the OCI state JSON.
 * Not here: the command line (cmd/docklock/oci_*.c) and the cage itself (docklock.h).
 *
 * Ownership: an mn_oci_config owns its parsed JSON document; every string pointer in it is
 * borrowed from that document and lives until mn_oci_config_deinit.
 */
#ifndef METANODE_OCI_H
#define METANODE_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/error.h"
#include "metanode/limits.h"

/* The runtime-spec version Docklock writes in state JSON and accepts (major 1). */
#define MN_OCI_VERSION "1.2.0"

/* Annotations that steer Docklock. */
#define MN_OCI_ANN_PREFIX "org.metanode.docklock."
#define MN_OCI_ANN_SEED "org.metanode.docklock.seed"       /* 64 hex digits */
#define MN_OCI_ANN_KEY "org.metanode.docklock.key"         /* node key file */
#define MN_OCI_ANN_WITNESS "org.metanode.docklock.witness" /* where the witness goes */
#define MN_OCI_ANN_RECEIPT "org.metanode.docklock.receipt" /* where the receipt goes */
#define MN_OCI_ANN_MODE "org.metanode.docklock.mode"       /* strict (default) | relaxed */
#define MN_OCI_ANN_EPOCH "org.metanode.docklock.epoch"     /* logical epoch, ns (decimal) */

typedef enum mn_oci_hook_kind {
    MN_OCI_HOOK_PRESTART,
    MN_OCI_HOOK_CREATE_RUNTIME,
    MN_OCI_HOOK_CREATE_CONTAINER,
    MN_OCI_HOOK_START_CONTAINER,
    MN_OCI_HOOK_POSTSTART,
    MN_OCI_HOOK_POSTSTOP,
    MN_OCI_HOOK_KINDS
} mn_oci_hook_kind;

typedef struct mn_oci_hook {
    const char *path;
    const char *args[MN_OCI_HOOK_ARGS_MAX];
    uint32_t argc;
    const char *env[MN_OCI_HOOK_ARGS_MAX];
    uint32_t envc;
    int64_t timeout_s; /* 0 = none */
} mn_oci_hook;

/* How the cage makes a mount: MN_OCI_MOUNT_SKIP for those it provides itself (/proc, /dev,
 * /tmp) or never makes (cgroup); otherwise the mn_docklock_mount_kind value. */
#define MN_OCI_MOUNT_SKIP 0

typedef struct mn_oci_mount {
    const char *destination, *type, *source; /* type and source may be NULL */
    uint32_t kind;                            /* mn_docklock_mount_kind or MN_OCI_MOUNT_SKIP */
    unsigned long flags;                      /* MS_RDONLY, NOSUID, NODEV, NOEXEC, MS_REC */
    char data[MN_OCI_MOUNT_DATA_BYTES_MAX];   /* the other options, comma-separated ("" none) */
} mn_oci_mount;

/* A seccomp rule after expanding names (docklock.h's mn_docklock_sc_rule, same layout). */
typedef struct mn_oci_sc_arg {
    uint32_t index, op;
    uint64_t value, value_two;
} mn_oci_sc_arg;

typedef struct mn_oci_rlimit {
    const char *type; /* "RLIMIT_NOFILE", ... */
    uint64_t hard, soft;
} mn_oci_rlimit;

typedef struct mn_oci_idmap {
    uint32_t container_id, host_id, size;
} mn_oci_idmap;

/* Namespace bits. */
enum {
    MN_OCI_NS_PID = 1u << 0,
    MN_OCI_NS_NETWORK = 1u << 1,
    MN_OCI_NS_MOUNT = 1u << 2,
    MN_OCI_NS_IPC = 1u << 3,
    MN_OCI_NS_UTS = 1u << 4,
    MN_OCI_NS_USER = 1u << 5,
    MN_OCI_NS_CGROUP = 1u << 6,
    MN_OCI_NS_TIME = 1u << 7,
};

typedef struct mn_oci_config {
    void *doc; /* the parsed JSON document (json_t *), owned */
    const char *oci_version;
    /* process */
    const char *args[MN_WITNESS_ARGV_MAX];
    uint32_t argc;
    const char *env[MN_WITNESS_ENV_MAX];
    uint32_t envc;
    const char *cwd;
    uint32_t uid, gid, additional_gids;
    uint32_t groups[MN_OCI_GROUPS_MAX]; /* the additional gids (additional_gids of them) */
    bool terminal, no_new_privileges;
    mn_oci_rlimit rlimits[MN_OCI_RLIMITS_MAX];
    uint32_t rlimitc;
    /* root and mounts */
    const char *root_path;
    bool root_readonly;
    mn_oci_mount mounts[MN_OCI_MOUNTS_MAX];
    uint32_t mountc;
    const char *hostname;
    /* linux */
    uint32_t namespaces; /* MN_OCI_NS_* bits asked for */
    uint32_t ns_joined;  /* MN_OCI_NS_* bits given with a path (join an existing one) */
    mn_oci_idmap uid_map[MN_OCI_IDMAPS_MAX], gid_map[MN_OCI_IDMAPS_MAX];
    uint32_t uid_mapc, gid_mapc;
    int64_t memory_limit;          /* bytes, 0 = none */
    int64_t cpu_quota;             /* us per period, 0 = none */
    uint64_t cpu_period, cpu_shares;
    int64_t pids_limit;            /* 0 = none */
    const char *masked_paths[MN_OCI_PATHS_MAX];
    uint32_t maskedc;
    const char *readonly_paths[MN_OCI_PATHS_MAX];
    uint32_t readonlyc;
    bool has_seccomp;
    /* linux.seccomp, when has_seccomp: actions as SECCOMP_RET_* values with data */
    uint32_t sc_default;
    uint32_t sc_rulec;
    const char *sc_names[MN_OCI_SECCOMP_RULES_MAX];
    uint32_t sc_actions[MN_OCI_SECCOMP_RULES_MAX];
    uint32_t sc_argc[MN_OCI_SECCOMP_RULES_MAX];
    mn_oci_sc_arg sc_args[MN_OCI_SECCOMP_RULES_MAX][6];
    uint8_t sc_digest[32]; /* SHA-256(MN_TAG_DOCKLOCK_SECCOMP || compact sorted JSON) */
    mn_oci_hook hooks[MN_OCI_HOOK_KINDS][MN_OCI_HOOKS_MAX];
    uint32_t hookc[MN_OCI_HOOK_KINDS];
    /* annotations, in document order */
    const char *ann_keys[MN_OCI_ANNOTATIONS_MAX], *ann_values[MN_OCI_ANNOTATIONS_MAX];
    uint32_t annc;
    /* Docklock's reading of the annotations */
    uint8_t seed[32]; /* all zero without the seed annotation */
    uint64_t epoch_ns;
    const char *key, *witness, *receipt; /* NULL: not given */
    bool relaxed;
    /* What the cage does not honour (static strings): ignored = harmless to determinism,
     * taints = would break determinism, accepted only because mode=relaxed. */
    const char *ignored[MN_OCI_NOTES_MAX];
    uint32_t ignoredc;
    const char *taints[MN_OCI_NOTES_MAX];
    uint32_t taintc;
} mn_oci_config;

/* Parses config.json bytes (untrusted) into *cfg (which the caller frees with
 * mn_oci_config_deinit, also after a failure). Unknown properties are ignored as the spec
 * asks; a known property of the wrong type, a missing required one, or a setting that would
 * break determinism (in strict mode) is an error naming the property.
 * Errors: MN_ECORRUPT (not JSON / wrong shape), MN_EINVAL (bad value), MN_EUNSUPPORTED
 * (refused for determinism; relaxed mode would accept it as a taint), MN_ELIMIT. */
int mn_oci_config_parse(const uint8_t *json, size_t len, mn_oci_config *cfg, mn_err *err);
void mn_oci_config_deinit(mn_oci_config *cfg);

/* A container id as runc accepts it: 1..MN_OCI_ID_BYTES_MAX of [A-Za-z0-9_+.-], not "." or
 * "..". Returns 0 or MN_EINVAL. */
int mn_oci_id_check(const char *id, mn_err *err);

typedef enum mn_oci_status {
    MN_OCI_CREATING = 0,
    MN_OCI_CREATED = 1,
    MN_OCI_RUNNING = 2,
    MN_OCI_STOPPED = 3,
} mn_oci_status;

/* One container's record, kept in ROOT/ID/state.json. */
typedef struct mn_oci_state {
    char id[MN_OCI_ID_BYTES_MAX + 1];
    char bundle[MN_OCI_PATH_BYTES_MAX];
    int32_t pid;          /* the container's supervisor (0: none) */
    uint64_t pid_start;   /* its start time (clock ticks since boot), against pid reuse */
    /* The cage's pid 1 as seen on the host (0: not known, a record of an older docklock):
     * hooks join its namespaces; kill, ps and events address it and its descendants; it is
     * the pid the OCI state JSON and --pid-file give (the supervisor's when it is 0). */
    int32_t cage_pid;
    uint64_t cage_start;
    mn_oci_status status; /* as last written; see mn_oci_state_load for the live one */
    int32_t exit_status;  /* valid when stopped by the supervisor: wait status as a shell says */
    char witness[MN_OCI_PATH_BYTES_MAX], receipt[MN_OCI_PATH_BYTES_MAX];
    char key[MN_OCI_PATH_BYTES_MAX];
    /* the bundle's annotations, copied */
    char ann_keys[MN_OCI_ANNOTATIONS_MAX][MN_OCI_ANN_BYTES_MAX];
    char ann_values[MN_OCI_ANNOTATIONS_MAX][MN_OCI_ANN_BYTES_MAX];
    uint32_t annc;
} mn_oci_state;

/* ROOT/ID into out (PATH_MAX). Returns 0 or MN_EINVAL (bad id, too long). */
int mn_oci_state_dir(const char *root, const char *id, char *out, size_t len, mn_err *err);
/* Writes ROOT/ID/state.json atomically (temporary file + rename). */
int mn_oci_state_save(const char *root, const mn_oci_state *st, mn_err *err);
/* Reads ROOT/ID/state.json; MN_ENOTFOUND when there is no such container. The status is the
 * live one: a created or running record whose supervisor is gone reads as stopped. */
int mn_oci_state_load(const char *root, const char *id, mn_oci_state *st, mn_err *err);
/* Takes an exclusive lock on ROOT/ID (blocking); *fd is closed to release it. */
int mn_oci_state_lock(const char *root, const char *id, int *fd, mn_err *err);
/* The OCI state JSON (a malloc'd NUL-terminated string, the caller frees it). */
char *mn_oci_state_json(const mn_oci_state *st);
const char *mn_oci_status_name(mn_oci_status s);
/* Start time of pid from /proc/PID/stat (0 when it does not exist or is a zombie: a process
 * that has exited but is not reaped yet has ended). */
uint64_t mn_oci_pid_start(int32_t pid);

#endif
