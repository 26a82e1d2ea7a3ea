/* SPDX-License-Identifier: Apache-2.0
 *
 * config.c: strict reading of an OCI bundle's config.json (runtime-spec 1.x) into an
 * mn_oci_config, and Docklock's policy on each setting: what the cage honours (args, env, cwd,
 * user, hostname, root, mounts of kind bind/tmpfs/devpts/mqueue/sysfs with their options,
 * maskedPaths/readonlyPaths, the seccomp profile, memory/cpu/pids limits, noNewPrivileges,
 * hooks, the docklock annotations), what it ignores because it cannot change a run's
 * determinism (listed in cfg->ignored), and what it refuses because it would (joined
 * namespaces, user namespaces, mounts of other types) unless the annotation
 * org.metanode.docklock.mode=relaxed turns the refusal into a taint (cfg->taints). Seccomp
 * TRACE/NOTIFY actions and a listenerPath are always refused. Unknown properties are ignored,
 * as the spec requires.
 * Not here: applying anything (cmd/docklock/oci_*.c) or reading the file (the caller).
 */
#include <errno.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "metanode/bytes.h"
#include "metanode/docklock.h"
#include "metanode/hash.h"
#include "metanode/oci.h"
#include "metanode/tags.h"

#define FAIL(code, ...) return mn_err_set(err, (code), 0, "config.json: " __VA_ARGS__)

static const json_t *member(const json_t *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

/* Fetches obj.key as an object; absent is fine unless required. */
static int get_obj(const json_t *obj, const char *key, const char *where, bool required,
                   const json_t **out, mn_err *err)
{
    const json_t *v = member(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            FAIL(MN_ECORRUPT, "%s%s is required", where, key);
        return 0;
    }
    if (!json_is_object(v))
        FAIL(MN_ECORRUPT, "%s%s is not an object", where, key);
    *out = v;
    return 0;
}

static int get_str(const json_t *obj, const char *key, const char *where, bool required,
                   const char **out, mn_err *err)
{
    const json_t *v = member(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            FAIL(MN_ECORRUPT, "%s%s is required", where, key);
        return 0;
    }
    if (!json_is_string(v))
        FAIL(MN_ECORRUPT, "%s%s is not a string", where, key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        FAIL(MN_EINVAL, "%s%s contains a NUL byte", where, key);
    *out = json_string_value(v);
    return 0;
}

static int get_bool(const json_t *obj, const char *key, const char *where, bool *out,
                    mn_err *err)
{
    const json_t *v = member(obj, key);
    *out = false;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        FAIL(MN_ECORRUPT, "%s%s is not a boolean", where, key);
    *out = json_is_true(v);
    return 0;
}

/* An integer in [lo, hi]; absent leaves *out as it is. */
static int get_int(const json_t *obj, const char *key, const char *where, int64_t lo,
                   int64_t hi, int64_t *out, mn_err *err)
{
    const json_t *v = member(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        FAIL(MN_ECORRUPT, "%s%s is not an integer", where, key);
    json_int_t n = json_integer_value(v);
    if (n < lo || n > hi)
        FAIL(MN_EINVAL, "%s%s = %lld is out of range", where, key, (long long)n);
    *out = (int64_t)n;
    return 0;
}

/* obj.key as an array of strings into out[max]. */
static int get_strs(const json_t *obj, const char *key, const char *where, const char **out,
                    uint32_t max, uint32_t *n, mn_err *err)
{
    const json_t *v = member(obj, key);
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        FAIL(MN_ECORRUPT, "%s%s is not an array", where, key);
    if (json_array_size(v) > max)
        FAIL(MN_ELIMIT, "%s%s has %zu entries (at most %u)", where, key, json_array_size(v),
             max);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *s = json_array_get(v, i);
        if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s))
            FAIL(MN_ECORRUPT, "%s%s[%zu] is not a string", where, key, i);
        out[(*n)++] = json_string_value(s);
    }
    return 0;
}

static void note(const char **list, uint32_t *n, const char *what)
{
    for (uint32_t i = 0; i < *n; i++)
        if (list[i] == what)
            return;
    if (*n < MN_OCI_NOTES_MAX)
        list[(*n)++] = what;
}

/* A setting that would break determinism: refused, or a taint in relaxed mode. */
static int refuse(mn_oci_config *cfg, const char *what, mn_err *err)
{
    if (!cfg->relaxed)
        return mn_err_set(err, MN_EUNSUPPORTED, 0,
                          "config.json: %s would break determinism (refused; the annotation "
                          MN_OCI_ANN_MODE "=relaxed accepts it as a taint)", what);
    note(cfg->taints, &cfg->taintc, what);
    return 0;
}

/* A ".." component anywhere in path. */
static bool has_dotdot(const char *path)
{
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return true;
    return false;
}

static int parse_user(const json_t *proc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *user;
    MN_TRY(get_obj(proc, "user", "process.", false, &user, err));
    if (user == NULL)
        return 0;
    int64_t uid = 0, gid = 0;
    MN_TRY(get_int(user, "uid", "process.user.", 0, UINT32_MAX, &uid, err));
    MN_TRY(get_int(user, "gid", "process.user.", 0, UINT32_MAX, &gid, err));
    cfg->uid = (uint32_t)uid;
    cfg->gid = (uint32_t)gid;
    const json_t *extra = member(user, "additionalGids");
    if (extra != NULL && !json_is_null(extra)) {
        if (!json_is_array(extra))
            FAIL(MN_ECORRUPT, "process.user.additionalGids is not an array");
        if (json_array_size(extra) > MN_OCI_GROUPS_MAX)
            FAIL(MN_ELIMIT, "process.user.additionalGids has more than %u entries",
                 MN_OCI_GROUPS_MAX);
        for (size_t i = 0; i < json_array_size(extra); i++) {
            const json_t *g = json_array_get(extra, i);
            if (!json_is_integer(g) || json_integer_value(g) < 0 ||
                json_integer_value(g) > UINT32_MAX)
                FAIL(MN_ECORRUPT, "process.user.additionalGids[%zu] is not a gid", i);
            cfg->groups[i] = (uint32_t)json_integer_value(g);
        }
        cfg->additional_gids = (uint32_t)json_array_size(extra);
    }
    if (member(user, "umask") != NULL || member(user, "username") != NULL)
        note(cfg->ignored, &cfg->ignoredc, "process.user.umask/username (the umask is 022)");
    return 0;
}

static int parse_rlimits(const json_t *proc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *v = member(proc, "rlimits");
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        FAIL(MN_ECORRUPT, "process.rlimits is not an array");
    if (json_array_size(v) > MN_OCI_RLIMITS_MAX)
        FAIL(MN_ELIMIT, "process.rlimits has too many entries");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *r = json_array_get(v, i);
        mn_oci_rlimit *rl = &cfg->rlimits[cfg->rlimitc++];
        int64_t hard = -1, soft = -1;
        if (!json_is_object(r))
            FAIL(MN_ECORRUPT, "process.rlimits[%zu] is not an object", i);
        MN_TRY(get_str(r, "type", "process.rlimits[].", true, &rl->type, err));
        if (strncmp(rl->type, "RLIMIT_", 7) != 0)
            FAIL(MN_EINVAL, "process.rlimits[%zu].type %s is not RLIMIT_*", i, rl->type);
        MN_TRY(get_int(r, "hard", "process.rlimits[].", 0, INT64_MAX, &hard, err));
        MN_TRY(get_int(r, "soft", "process.rlimits[].", 0, INT64_MAX, &soft, err));
        if (hard < 0 || soft < 0)
            FAIL(MN_ECORRUPT, "process.rlimits[%zu] needs hard and soft", i);
        rl->hard = (uint64_t)hard;
        rl->soft = (uint64_t)soft;
    }
    if (cfg->rlimitc > 0)
        note(cfg->ignored, &cfg->ignoredc, "process.rlimits (the cage's own limits apply)");
    return 0;
}

static int parse_process(const json_t *doc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *proc;
    MN_TRY(get_obj(doc, "process", "", true, &proc, err));
    MN_TRY(get_strs(proc, "args", "process.", cfg->args, MN_WITNESS_ARGV_MAX, &cfg->argc, err));
    if (cfg->argc == 0)
        FAIL(MN_EINVAL, "process.args is required and must not be empty");
    MN_TRY(get_strs(proc, "env", "process.", cfg->env, MN_WITNESS_ENV_MAX, &cfg->envc, err));
    for (uint32_t i = 0; i < cfg->envc; i++) {
        const char *eq = strchr(cfg->env[i], '=');
        if (eq == NULL || eq == cfg->env[i])
            FAIL(MN_EINVAL, "process.env[%u] is not KEY=VALUE", i);
    }
    for (uint32_t i = 0; i < cfg->argc; i++)
        if (strlen(cfg->args[i]) > MN_WITNESS_STRING_BYTES_MAX)
            FAIL(MN_ELIMIT, "process.args[%u] is too long", i);
    for (uint32_t i = 0; i < cfg->envc; i++)
        if (strlen(cfg->env[i]) > MN_WITNESS_STRING_BYTES_MAX)
            FAIL(MN_ELIMIT, "process.env[%u] is too long", i);
    MN_TRY(get_str(proc, "cwd", "process.", true, &cfg->cwd, err));
    if (cfg->cwd[0] != '/')
        FAIL(MN_EINVAL, "process.cwd %s is not an absolute path", cfg->cwd);
    if (has_dotdot(cfg->cwd))
        FAIL(MN_EINVAL, "process.cwd %s leaves the root", cfg->cwd);
    MN_TRY(get_bool(proc, "terminal", "process.", &cfg->terminal, err));
    /* A terminal is live input, recorded in the witness (docs/oci.md §2.2); create needs
     * --console-socket for it. */
    MN_TRY(get_bool(proc, "noNewPrivileges", "process.", &cfg->no_new_privileges, err));
    MN_TRY(parse_user(proc, cfg, err));
    MN_TRY(parse_rlimits(proc, cfg, err));
    const json_t *caps;
    MN_TRY(get_obj(proc, "capabilities", "process.", false, &caps, err));
    if (caps != NULL)
        note(cfg->ignored, &cfg->ignoredc,
             "process.capabilities (the cage drops every capability)");
    if (member(proc, "apparmorProfile") != NULL || member(proc, "selinuxLabel") != NULL)
        note(cfg->ignored, &cfg->ignoredc, "process.apparmorProfile/selinuxLabel");
    int64_t oom = 0;
    MN_TRY(get_int(proc, "oomScoreAdj", "process.", -1000, 1000, &oom, err));
    return 0;
}

/* Options that only change atime updates or propagation: timestamps are the cage's own and
 * the cage's mount namespace is private, so they change nothing a program can see. */
static bool harmless_option(const char *o)
{
    static const char *const names[] = {
        "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable",
        "runbindable", "relatime", "norelatime", "strictatime", "nostrictatime", "noatime",
        "atime", "nodiratime", "diratime", "sync", "async", "dirsync", "mand", "nomand",
        "lazytime", "nolazytime", "tmpcopyup", "notmpcopyup", "z", "Z", "U", "copy", "nocopy"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(o, names[i]) == 0)
            return true;
    return false;
}

/* Options into flags (ro, nosuid, nodev, noexec, bind, rbind) and the data string (the rest:
 * tmpfs size=, mode=, devpts newinstance, ptmxmode=, ...). */
static int mount_options(mn_oci_mount *mt, const char **opts, uint32_t optc, bool *bind,
                         size_t i, mn_err *err)
{
    static const struct {
        const char *name;
        unsigned long set, clear;
    } flags[] = {{"ro", MS_RDONLY, 0},      {"rw", 0, MS_RDONLY},  {"nosuid", MS_NOSUID, 0},
                 {"suid", 0, MS_NOSUID},    {"nodev", MS_NODEV, 0}, {"dev", 0, MS_NODEV},
                 {"noexec", MS_NOEXEC, 0},  {"exec", 0, MS_NOEXEC}, {"bind", 0, 0},
                 {"rbind", MS_REC, 0},      {"defaults", 0, 0},    {"rro", MS_RDONLY, 0},
                 {"rrw", 0, MS_RDONLY}};
    size_t used = 0;
    for (uint32_t k = 0; k < optc; k++) {
        bool known = false;
        for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]) && !known; f++)
            if (strcmp(opts[k], flags[f].name) == 0) {
                mt->flags = (mt->flags | flags[f].set) & ~flags[f].clear;
                known = true;
            }
        if (strcmp(opts[k], "bind") == 0 || strcmp(opts[k], "rbind") == 0)
            *bind = true;
        if (known || harmless_option(opts[k]))
            continue;
        size_t n = strlen(opts[k]);
        if (strchr(opts[k], ',') != NULL || used + n + 2 > sizeof(mt->data))
            FAIL(MN_ELIMIT, "mounts[%zu].options: too long or holds a comma", i);
        if (used > 0)
            mt->data[used++] = ',';
        memcpy(mt->data + used, opts[k], n + 1);
        used += n;
    }
    return 0;
}

/* How the cage makes one mount (MN_OCI_MOUNT_SKIP: not at all). */
static int mount_kind(mn_oci_config *cfg, mn_oci_mount *mt, const char **opts, uint32_t optc,
                      size_t i, mn_err *err)
{
    bool bind = false;
    MN_TRY(mount_options(mt, opts, optc, &bind, i, err));
    const char *type = mt->type != NULL ? mt->type : "";
    const char *d = mt->destination;
    mt->kind = MN_OCI_MOUNT_SKIP;
    if (strcmp(d, "/") == 0)
        FAIL(MN_EINVAL, "mounts[%zu] on / (root.path is the root)", i);
    if (strcmp(d, "/proc") == 0 || strcmp(d, "/dev") == 0 || strcmp(d, "/tmp") == 0) {
        note(cfg->ignored, &cfg->ignoredc, "mounts on /proc, /dev, /tmp (the cage makes its own)");
        return 0;
    }
    if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
        note(cfg->ignored, &cfg->ignoredc, "cgroup mounts (the host's cgroup tree is not part "
                                           "of a run)");
        return 0;
    }
    if (bind || strcmp(type, "bind") == 0) {
        if (mt->source == NULL || mt->source[0] == '\0')
            FAIL(MN_EINVAL, "mounts[%zu]: a bind mount needs a source", i);
        mt->kind = MN_DL_MOUNT_BIND;
        if (mt->data[0] != '\0') /* a bind mount takes no file-system options */
            note(cfg->ignored, &cfg->ignoredc, "bind mount options other than ro, rw, nosuid, "
                                               "nodev, noexec, bind, rbind (e.g. idmap)");
        mt->data[0] = '\0';
    } else if (strcmp(type, "tmpfs") == 0) {
        mt->kind = MN_DL_MOUNT_TMPFS;
    } else if (strcmp(type, "devpts") == 0) {
        mt->kind = MN_DL_MOUNT_DEVPTS;
    } else if (strcmp(type, "mqueue") == 0) {
        mt->kind = MN_DL_MOUNT_MQUEUE;
        mt->data[0] = '\0';
    } else if (strcmp(type, "sysfs") == 0) {
        mt->kind = MN_DL_MOUNT_SYSFS;
        mt->flags |= MS_RDONLY;
        mt->data[0] = '\0';
    } else {
        return refuse(cfg, "a mount of a type other than bind, tmpfs, devpts, mqueue, sysfs "
                           "(not made)", err);
    }
    return 0;
}

static int parse_mounts(const json_t *doc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *v = member(doc, "mounts");
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        FAIL(MN_ECORRUPT, "mounts is not an array");
    if (json_array_size(v) > MN_OCI_MOUNTS_MAX)
        FAIL(MN_ELIMIT, "mounts has %zu entries (at most %u)", json_array_size(v),
             MN_OCI_MOUNTS_MAX);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *m = json_array_get(v, i);
        if (!json_is_object(m))
            FAIL(MN_ECORRUPT, "mounts[%zu] is not an object", i);
        mn_oci_mount *mt = &cfg->mounts[cfg->mountc++];
        MN_TRY(get_str(m, "destination", "mounts[].", true, &mt->destination, err));
        MN_TRY(get_str(m, "type", "mounts[].", false, &mt->type, err));
        MN_TRY(get_str(m, "source", "mounts[].", false, &mt->source, err));
        const char *opts[MN_OCI_MOUNT_OPTIONS_MAX];
        uint32_t optc;
        MN_TRY(get_strs(m, "options", "mounts[].", opts, MN_OCI_MOUNT_OPTIONS_MAX, &optc, err));
        if (mt->destination[0] != '/')
            FAIL(MN_EINVAL, "mounts[%zu].destination %s is not absolute", i, mt->destination);
        if (has_dotdot(mt->destination))
            FAIL(MN_EINVAL, "mounts[%zu].destination %s leaves the root", i, mt->destination);
        MN_TRY(mount_kind(cfg, mt, opts, optc, i, err));
    }
    return 0;
}

static int parse_idmap(const json_t *linux_, const char *key, mn_oci_idmap *out, uint32_t *n,
                       mn_err *err)
{
    const json_t *v = member(linux_, key);
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        FAIL(MN_ECORRUPT, "linux.%s is not an array", key);
    if (json_array_size(v) > MN_OCI_IDMAPS_MAX)
        FAIL(MN_ELIMIT, "linux.%s has too many entries", key);
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *m = json_array_get(v, i);
        int64_t c = -1, h = -1, s = -1;
        if (!json_is_object(m))
            FAIL(MN_ECORRUPT, "linux.%s[%zu] is not an object", key, i);
        MN_TRY(get_int(m, "containerID", "linux.idmap.", 0, UINT32_MAX, &c, err));
        MN_TRY(get_int(m, "hostID", "linux.idmap.", 0, UINT32_MAX, &h, err));
        MN_TRY(get_int(m, "size", "linux.idmap.", 1, UINT32_MAX, &s, err));
        if (c < 0 || h < 0 || s < 0)
            FAIL(MN_ECORRUPT, "linux.%s[%zu] needs containerID, hostID and size", key, i);
        out[(*n)++] = (mn_oci_idmap){(uint32_t)c, (uint32_t)h, (uint32_t)s};
    }
    return 0;
}

static int parse_namespaces(const json_t *linux_, mn_oci_config *cfg, mn_err *err)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } kinds[] = {{"pid", MN_OCI_NS_PID},   {"network", MN_OCI_NS_NETWORK},
                 {"mount", MN_OCI_NS_MOUNT}, {"ipc", MN_OCI_NS_IPC},
                 {"uts", MN_OCI_NS_UTS},   {"user", MN_OCI_NS_USER},
                 {"cgroup", MN_OCI_NS_CGROUP}, {"time", MN_OCI_NS_TIME}};
    const json_t *v = member(linux_, "namespaces");
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        FAIL(MN_ECORRUPT, "linux.namespaces is not an array");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *ns = json_array_get(v, i);
        const char *type, *path;
        if (!json_is_object(ns))
            FAIL(MN_ECORRUPT, "linux.namespaces[%zu] is not an object", i);
        MN_TRY(get_str(ns, "type", "linux.namespaces[].", true, &type, err));
        MN_TRY(get_str(ns, "path", "linux.namespaces[].", false, &path, err));
        uint32_t bit = 0;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (strcmp(type, kinds[k].name) == 0)
                bit = kinds[k].bit;
        if (bit == 0)
            FAIL(MN_EINVAL, "linux.namespaces[%zu].type %s is unknown", i, type);
        if (cfg->namespaces & bit)
            FAIL(MN_EINVAL, "linux.namespaces: %s given twice", type);
        cfg->namespaces |= bit;
        if (path != NULL && path[0] != '\0') {
            cfg->ns_joined |= bit;
            MN_TRY(refuse(cfg, "joining an existing namespace (linux.namespaces[].path): the "
                               "cage always makes fresh ones", err));
        }
    }
    if (cfg->namespaces & MN_OCI_NS_USER)
        MN_TRY(refuse(cfg, "a user namespace (the cage runs as host root without "
                           "capabilities)", err));
    if (cfg->namespaces & (MN_OCI_NS_CGROUP | MN_OCI_NS_TIME))
        note(cfg->ignored, &cfg->ignoredc, "cgroup and time namespaces (time is virtual)");
    return 0;
}

static int parse_resources(const json_t *linux_, mn_oci_config *cfg, mn_err *err)
{
    const json_t *res, *mem, *cpu, *pids;
    MN_TRY(get_obj(linux_, "resources", "linux.", false, &res, err));
    if (res == NULL)
        return 0;
    MN_TRY(get_obj(res, "memory", "linux.resources.", false, &mem, err));
    MN_TRY(get_obj(res, "cpu", "linux.resources.", false, &cpu, err));
    MN_TRY(get_obj(res, "pids", "linux.resources.", false, &pids, err));
    int64_t limit = -1, quota = -1, period = 0, shares = 0, plimit = -1;
    MN_TRY(get_int(mem, "limit", "linux.resources.memory.", -1, INT64_MAX, &limit, err));
    MN_TRY(get_int(cpu, "quota", "linux.resources.cpu.", -1, INT64_MAX, &quota, err));
    MN_TRY(get_int(cpu, "period", "linux.resources.cpu.", 0, INT64_MAX, &period, err));
    MN_TRY(get_int(cpu, "shares", "linux.resources.cpu.", 0, INT64_MAX, &shares, err));
    MN_TRY(get_int(pids, "limit", "linux.resources.pids.", -1, INT64_MAX, &plimit, err));
    cfg->memory_limit = limit > 0 ? limit : 0;
    cfg->cpu_quota = quota > 0 ? quota : 0;
    cfg->cpu_period = (uint64_t)period;
    cfg->cpu_shares = (uint64_t)shares;
    cfg->pids_limit = plimit > 0 ? plimit : 0;
    if (cfg->cpu_quota > 0 && cfg->cpu_period == 0)
        cfg->cpu_period = 100000; /* the kernel's default CFS period */
    if (shares != 0 || member(cpu, "cpus") != NULL || member(cpu, "mems") != NULL)
        note(cfg->ignored, &cfg->ignoredc,
             "linux.resources.cpu shares/cpus/mems (the guest runs on one CPU)");
    if (member(res, "devices") != NULL || member(res, "blockIO") != NULL ||
        member(res, "hugepageLimits") != NULL || member(res, "network") != NULL)
        note(cfg->ignored, &cfg->ignoredc, "linux.resources devices/blockIO/hugepages/network");
    return 0;
}

static const char *const hook_names[MN_OCI_HOOK_KINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

static int parse_hooks(const json_t *doc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *hooks;
    MN_TRY(get_obj(doc, "hooks", "", false, &hooks, err));
    if (hooks == NULL)
        return 0;
    for (int k = 0; k < MN_OCI_HOOK_KINDS; k++) {
        const json_t *list = member(hooks, hook_names[k]);
        if (list == NULL || json_is_null(list))
            continue;
        if (!json_is_array(list))
            FAIL(MN_ECORRUPT, "hooks.%s is not an array", hook_names[k]);
        if (json_array_size(list) > MN_OCI_HOOKS_MAX)
            FAIL(MN_ELIMIT, "hooks.%s has too many entries", hook_names[k]);
        for (size_t i = 0; i < json_array_size(list); i++) {
            const json_t *h = json_array_get(list, i);
            mn_oci_hook *hk = &cfg->hooks[k][cfg->hookc[k]++];
            if (!json_is_object(h))
                FAIL(MN_ECORRUPT, "hooks.%s[%zu] is not an object", hook_names[k], i);
            MN_TRY(get_str(h, "path", "hooks[].", true, &hk->path, err));
            if (hk->path[0] != '/')
                FAIL(MN_EINVAL, "hooks.%s[%zu].path is not absolute", hook_names[k], i);
            MN_TRY(get_strs(h, "args", "hooks[].", hk->args, MN_OCI_HOOK_ARGS_MAX, &hk->argc,
                            err));
            MN_TRY(get_strs(h, "env", "hooks[].", hk->env, MN_OCI_HOOK_ARGS_MAX, &hk->envc,
                            err));
            MN_TRY(get_int(h, "timeout", "hooks[].", 1, INT32_MAX, &hk->timeout_s, err));
        }
    }
    return 0;
}

/* An action name with its errno into a SECCOMP_RET_* value. TRACE and NOTIFY are refused:
 * the cage is the only tracer, and a listener outside would answer calls outside the run. */
static int sc_action(const char *name, int64_t errno_ret, uint32_t *out, mn_err *err)
{
    static const struct {
        const char *name;
        uint32_t action;
    } acts[] = {{"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD},
                {"SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD},
                {"SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS},
                {"SCMP_ACT_TRAP", SECCOMP_RET_TRAP},
                {"SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO},
                {"SCMP_ACT_LOG", SECCOMP_RET_LOG},
                {"SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW}};
    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
        if (strcmp(name, acts[i].name) == 0) {
            *out = acts[i].action;
            if (acts[i].action == SECCOMP_RET_ERRNO)
                *out |= (uint32_t)errno_ret & SECCOMP_RET_DATA;
            return 0;
        }
    if (strcmp(name, "SCMP_ACT_TRACE") == 0 || strcmp(name, "SCMP_ACT_NOTIFY") == 0)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "config.json: linux.seccomp action %s is "
                          "refused: the cage is the only tracer and listener of its run", name);
    FAIL(MN_EINVAL, "linux.seccomp: unknown action %s", name);
}

static int sc_args(const json_t *rule, mn_oci_config *cfg, uint32_t n, mn_err *err)
{
    static const char *const ops[] = {"", "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",
                                      "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                                      "SCMP_CMP_MASKED_EQ"};
    const json_t *args = member(rule, "args");
    cfg->sc_argc[n] = 0;
    if (args == NULL || json_is_null(args))
        return 0;
    if (!json_is_array(args) || json_array_size(args) > 6)
        FAIL(MN_ECORRUPT, "linux.seccomp.syscalls[].args is not an array of at most 6");
    for (size_t i = 0; i < json_array_size(args); i++) {
        const json_t *a = json_array_get(args, i);
        if (!json_is_object(a))
            FAIL(MN_ECORRUPT, "linux.seccomp.syscalls[].args[%zu] is not an object", i);
        int64_t index = -1, value = 0, value2 = 0;
        const char *op;
        MN_TRY(get_int(a, "index", "linux.seccomp.args[].", 0, 5, &index, err));
        MN_TRY(get_int(a, "value", "linux.seccomp.args[].", 0, INT64_MAX, &value, err));
        MN_TRY(get_int(a, "valueTwo", "linux.seccomp.args[].", 0, INT64_MAX, &value2, err));
        MN_TRY(get_str(a, "op", "linux.seccomp.args[].", true, &op, err));
        if (index < 0)
            FAIL(MN_ECORRUPT, "linux.seccomp.syscalls[].args[%zu].index is required", i);
        uint32_t k = 1;
        while (k < 8 && strcmp(op, ops[k]) != 0)
            k++;
        if (k == 8)
            FAIL(MN_EINVAL, "linux.seccomp: unknown op %s", op);
        cfg->sc_args[n][i] = (mn_oci_sc_arg){(uint32_t)index, k, (uint64_t)value,
                                             (uint64_t)value2};
    }
    cfg->sc_argc[n] = (uint32_t)json_array_size(args);
    return 0;
}

static int parse_seccomp(const json_t *sc, mn_oci_config *cfg, mn_err *err)
{
    const char *def, *listener;
    int64_t def_errno = EPERM;
    MN_TRY(get_str(sc, "defaultAction", "linux.seccomp.", true, &def, err));
    MN_TRY(get_int(sc, "defaultErrnoRet", "linux.seccomp.", 0, 4095, &def_errno, err));
    MN_TRY(sc_action(def, def_errno, &cfg->sc_default, err));
    MN_TRY(get_str(sc, "listenerPath", "linux.seccomp.", false, &listener, err));
    if (listener != NULL)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "config.json: linux.seccomp.listenerPath "
                          "is refused: the cage is the only listener of its run");
    if (member(sc, "architectures") != NULL || member(sc, "flags") != NULL)
        note(cfg->ignored, &cfg->ignoredc, "linux.seccomp architectures/flags (the native "
                                           "architecture only)");
    const json_t *calls = member(sc, "syscalls");
    if (calls != NULL && !json_is_null(calls)) {
        if (!json_is_array(calls))
            FAIL(MN_ECORRUPT, "linux.seccomp.syscalls is not an array");
        for (size_t i = 0; i < json_array_size(calls); i++) {
            const json_t *r = json_array_get(calls, i);
            const char *names[MN_OCI_SECCOMP_RULES_MAX], *action;
            uint32_t namec;
            int64_t eret = EPERM;
            if (!json_is_object(r))
                FAIL(MN_ECORRUPT, "linux.seccomp.syscalls[%zu] is not an object", i);
            MN_TRY(get_strs(r, "names", "linux.seccomp.syscalls[].", names,
                            MN_OCI_SECCOMP_RULES_MAX, &namec, err));
            MN_TRY(get_str(r, "action", "linux.seccomp.syscalls[].", true, &action, err));
            MN_TRY(get_int(r, "errnoRet", "linux.seccomp.syscalls[].", 0, 4095, &eret, err));
            uint32_t act;
            MN_TRY(sc_action(action, eret, &act, err));
            for (uint32_t k = 0; k < namec; k++) {
                if (cfg->sc_rulec >= MN_OCI_SECCOMP_RULES_MAX)
                    FAIL(MN_ELIMIT, "linux.seccomp has more than %u rules",
                         MN_OCI_SECCOMP_RULES_MAX);
                uint32_t n = cfg->sc_rulec++;
                cfg->sc_names[n] = names[k];
                cfg->sc_actions[n] = act;
                MN_TRY(sc_args(r, cfg, n, err));
            }
        }
    }
    char *text = json_dumps(sc, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        FAIL(MN_ENOMEM, "linux.seccomp: out of memory");
    mn_sha256_tagged(cfg->sc_digest, MN_TAG_DOCKLOCK_SECCOMP, text, strlen(text));
    free(text);
    return 0;
}

static int parse_linux(const json_t *doc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *linux_;
    MN_TRY(get_obj(doc, "linux", "", false, &linux_, err));
    if (linux_ == NULL)
        return 0;
    MN_TRY(parse_namespaces(linux_, cfg, err));
    MN_TRY(parse_idmap(linux_, "uidMappings", cfg->uid_map, &cfg->uid_mapc, err));
    MN_TRY(parse_idmap(linux_, "gidMappings", cfg->gid_map, &cfg->gid_mapc, err));
    if ((cfg->uid_mapc > 0 || cfg->gid_mapc > 0) && !(cfg->namespaces & MN_OCI_NS_USER))
        FAIL(MN_EINVAL, "linux.uidMappings/gidMappings without a user namespace");
    MN_TRY(parse_resources(linux_, cfg, err));
    MN_TRY(get_strs(linux_, "maskedPaths", "linux.", cfg->masked_paths, MN_OCI_PATHS_MAX,
                    &cfg->maskedc, err));
    MN_TRY(get_strs(linux_, "readonlyPaths", "linux.", cfg->readonly_paths, MN_OCI_PATHS_MAX,
                    &cfg->readonlyc, err));
    for (uint32_t i = 0; i < cfg->maskedc + cfg->readonlyc; i++) {
        const char *p = i < cfg->maskedc ? cfg->masked_paths[i]
                                         : cfg->readonly_paths[i - cfg->maskedc];
        if (p[0] != '/' || has_dotdot(p))
            FAIL(MN_EINVAL, "linux.maskedPaths/readonlyPaths: %s is not an absolute path "
                 "inside the root", p);
    }
    const json_t *seccomp;
    MN_TRY(get_obj(linux_, "seccomp", "linux.", false, &seccomp, err));
    cfg->has_seccomp = seccomp != NULL;
    if (seccomp != NULL)
        MN_TRY(parse_seccomp(seccomp, cfg, err));
    const char *cgpath;
    MN_TRY(get_str(linux_, "cgroupsPath", "linux.", false, &cgpath, err));
    if (member(linux_, "sysctl") != NULL || member(linux_, "devices") != NULL ||
        member(linux_, "rootfsPropagation") != NULL || cgpath != NULL)
        note(cfg->ignored, &cfg->ignoredc,
             "linux.sysctl/devices/rootfsPropagation/cgroupsPath");
    return 0;
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
            return false;
    return true;
}

/* Annotations first: the mode decides how the rest is judged. */
static int parse_annotations(const json_t *doc, mn_oci_config *cfg, mn_err *err)
{
    const json_t *ann;
    MN_TRY(get_obj(doc, "annotations", "", false, &ann, err));
    if (ann == NULL)
        return 0;
    if (json_object_size(ann) > MN_OCI_ANNOTATIONS_MAX)
        FAIL(MN_ELIMIT, "annotations has %zu entries (at most %u)", json_object_size(ann),
             MN_OCI_ANNOTATIONS_MAX);
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)ann, key, val) {
        if (!json_is_string(val) || strlen(json_string_value(val)) != json_string_length(val))
            FAIL(MN_ECORRUPT, "annotations.%s is not a string", key);
        if (strlen(key) >= MN_OCI_ANN_BYTES_MAX ||
            json_string_length(val) >= MN_OCI_ANN_BYTES_MAX)
            FAIL(MN_ELIMIT, "annotation %.40s is longer than %u bytes", key,
                 MN_OCI_ANN_BYTES_MAX - 1);
        const char *s = json_string_value(val);
        cfg->ann_keys[cfg->annc] = key;
        cfg->ann_values[cfg->annc++] = s;
        if (strncmp(key, MN_OCI_ANN_PREFIX, strlen(MN_OCI_ANN_PREFIX)) != 0)
            continue;
        if (strcmp(key, MN_OCI_ANN_SEED) == 0) {
            if (!is_hex64(s))
                FAIL(MN_EINVAL, "annotation %s must be 64 hex digits", key);
            MN_TRY(mn_hex_decode(cfg->seed, 32, s, err));
        } else if (strcmp(key, MN_OCI_ANN_KEY) == 0) {
            cfg->key = s;
        } else if (strcmp(key, MN_OCI_ANN_WITNESS) == 0) {
            cfg->witness = s;
        } else if (strcmp(key, MN_OCI_ANN_RECEIPT) == 0) {
            cfg->receipt = s;
        } else if (strcmp(key, MN_OCI_ANN_MODE) == 0) {
            if (strcmp(s, "strict") != 0 && strcmp(s, "relaxed") != 0)
                FAIL(MN_EINVAL, "annotation %s must be strict or relaxed", key);
            cfg->relaxed = strcmp(s, "relaxed") == 0;
        } else if (strcmp(key, MN_OCI_ANN_EPOCH) == 0) {
            char *end;
            if (s[0] < '0' || s[0] > '9')
                FAIL(MN_EINVAL, "annotation %s must be a decimal number", key);
            cfg->epoch_ns = strtoull(s, &end, 10);
            if (*end != '\0')
                FAIL(MN_EINVAL, "annotation %s must be a decimal number", key);
        } else {
            FAIL(MN_EINVAL, "unknown Docklock annotation %s", key);
        }
        if ((cfg->key == s || cfg->witness == s || cfg->receipt == s) && s[0] != '/')
            FAIL(MN_EINVAL, "annotation %s must be an absolute path", key);
    }
    return 0;
}

int mn_oci_config_parse(const uint8_t *json, size_t len, mn_oci_config *cfg, mn_err *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->epoch_ns = 946684800ull * 1000000000ull; /* MN_DOCKLOCK_EPOCH_NS */
    if (len > MN_OCI_CONFIG_BYTES_MAX)
        FAIL(MN_ELIMIT, "%zu bytes (at most %u)", len, MN_OCI_CONFIG_BYTES_MAX);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL)
        FAIL(MN_ECORRUPT, "line %d: %s", jerr.line, jerr.text);
    cfg->doc = doc;
    if (!json_is_object(doc))
        FAIL(MN_ECORRUPT, "not a JSON object");
    MN_TRY(get_str(doc, "ociVersion", "", true, &cfg->oci_version, err));
    if (strncmp(cfg->oci_version, "1.", 2) != 0)
        FAIL(MN_EUNSUPPORTED, "ociVersion %s (Docklock reads 1.x)", cfg->oci_version);
    MN_TRY(parse_annotations(doc, cfg, err));
    MN_TRY(parse_process(doc, cfg, err));
    const json_t *root;
    MN_TRY(get_obj(doc, "root", "", true, &root, err));
    MN_TRY(get_str(root, "path", "root.", true, &cfg->root_path, err));
    if (cfg->root_path[0] == '\0')
        FAIL(MN_EINVAL, "root.path is empty");
    MN_TRY(get_bool(root, "readonly", "root.", &cfg->root_readonly, err));
    if (!cfg->root_readonly)
        note(cfg->ignored, &cfg->ignoredc, "root.readonly=false (the root is always read-only; "
                                           "/tmp is writable)");
    MN_TRY(parse_mounts(doc, cfg, err));
    MN_TRY(get_str(doc, "hostname", "", false, &cfg->hostname, err));
    if (cfg->hostname != NULL && (strlen(cfg->hostname) > 64 || cfg->hostname[0] == '\0'))
        FAIL(MN_EINVAL, "hostname must be 1..64 bytes");
    const char *domain;
    MN_TRY(get_str(doc, "domainname", "", false, &domain, err));
    MN_TRY(parse_linux(doc, cfg, err));
    MN_TRY(parse_hooks(doc, cfg, err));
    return 0;
}

void mn_oci_config_deinit(mn_oci_config *cfg)
{
    if (cfg->doc != NULL)
        json_decref((json_t *)cfg->doc);
    cfg->doc = NULL;
}

int mn_oci_id_check(const char *id, mn_err *err)
{
    size_t n = strlen(id);
    if (n == 0 || n > MN_OCI_ID_BYTES_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return mn_err_set(err, MN_EINVAL, 0, "invalid container id '%.64s'", id);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '.';
        if (!ok)
            return mn_err_set(err, MN_EINVAL, 0, "invalid container id '%.64s'", id);
    }
    return 0;
}
