/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_create.c: `docklock create` and the OCI form of `docklock run`. create reads the
 * bundle's config.json (strictly, src/oci/config.c), makes ROOT/ID (the id must be new), an
 * exec fifo and, unless the bundle names one, a node key, then forks the container's
 * supervisor ("shim") and returns once the cage is built. The shim calls mn_docklock_run at
 * once with the fifo as start_fd: the cage is built now and its first process waits on the
 * fifo, before any program code, until `start` writes to it (like runc's exec.fifo); a failure
 * while building it (a mount, the root) is create's. The pid given by state and --pid-file
 * is the cage's pid 1 (the container's process, as runc's is its init): it is cloned as the
 * shim's sibling, so it is create's child and then its caller's (containerd's shim and conmon
 * are subreapers and wait for it), and the shim traces it and holds its zombie until the
 * outputs and the receipt are written: the manager sees its exit only when the shim exits
 * (docs/oci.md §2). The shim streams the guest's stdout/stderr to its own (the ones create was
 * given), writes the witness and the signed receipt, records "stopped" with the exit status,
 * and exits with it (state.json keeps the shim's pid for liveness).
 * Not here: the other verbs (oci_verbs.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dl.h"
#include "dl_run.h"
#include "metanode/keyfile.h"
#include "oci_cage.h"
#include "oci_cli.h"
#include "oci_console.h"

typedef struct create_opts {
    const char *bundle, *pid_file, *console_socket, *id;
    bool detach, keep;
} create_opts;

static int parse_create(int argc, char **argv, bool is_run, create_opts *o)
{
    static const struct option opts[] = {
        {"bundle", 1, 0, 'b'},       {"pid-file", 1, 0, 'p'},    {"console-socket", 1, 0, 'c'},
        {"no-pivot", 0, 0, 'n'},     {"no-new-keyring", 0, 0, 'n'}, {"preserve-fds", 1, 0, 'f'},
        {"detach", 0, 0, 'd'},       {"keep", 0, 0, 'k'},        {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof(*o));
    o->bundle = ".";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+b:dh", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o->bundle = optarg; break;
        case 'p': o->pid_file = optarg; break;
        case 'c': o->console_socket = optarg; break;
        case 'd': o->detach = true; break;
        case 'k': o->keep = true; break;
        case 'n': case 'f': break;
        case 'h':
            printf("usage: docklock [GLOBAL] %s [--bundle DIR] [--pid-file F] "
                   "[--console-socket S]%s ID\n", is_run ? "run" : "create",
                   is_run ? " [--detach] [--keep]" : "");
            return 0;
        default: return oci_fail("%s: bad arguments", is_run ? "run" : "create");
        }
    }
    if (optind + 1 != argc)
        return oci_fail("%s: expects exactly one container id", is_run ? "run" : "create");
    o->id = argv[optind];
    return -1;
}

static int write_pid_file(const char *path, int pid)
{
    char text[32];
    int n = snprintf(text, sizeof(text), "%d", pid);
    mn_err err;
    if (mn_file_write(path, text, (size_t)n, 0644, true, &err) != 0)
        return oci_fail_err("pid-file", &err);
    return -1;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The cage configuration of a bundle (strings borrowed from cfg, paths from st). */
static void run_args(const mn_oci_config *cfg, const char *rootfs, const mn_oci_state *st,
                     dl_run_args *a)
{
    memset(a, 0, sizeof(*a));
    a->cfg.argv = cfg->args;
    a->cfg.argc = cfg->argc;
    for (uint32_t i = 0; i < cfg->envc; i++)
        a->env[a->envc++] = cfg->env[i];
    /* In byte order: managers emit the environment in an arbitrary order (podman's differs
     * from run to run), and the order is something the program can see. */
    qsort(a->env, a->envc, sizeof(a->env[0]), cmp_str);
    a->cfg.env = a->env;
    a->cfg.envc = a->envc;
    memcpy(a->cfg.seed, cfg->seed, 32);
    a->cfg.epoch_ns = cfg->epoch_ns;
    a->cfg.rootfs = rootfs;
    a->cfg.mem_bytes = (uint64_t)cfg->memory_limit;
    a->cfg.pids = (uint64_t)cfg->pids_limit;
    if (cfg->cpu_quota > 0 && cfg->cpu_period > 0) {
        uint64_t m = (uint64_t)cfg->cpu_quota * 1000u / cfg->cpu_period;
        a->cfg.cpu_millis = m < MN_DOCKLOCK_CPU_MILLIS_MIN   ? MN_DOCKLOCK_CPU_MILLIS_MIN
                            : m > MN_DOCKLOCK_CPU_MILLIS_MAX ? 0
                                                             : m;
    }
    a->key = st->key;
    a->witness = st->witness;
    a->receipt = st->receipt;
}

/* The shim: builds the cage at once (mn_docklock_run with a start fifo: the cage's first
 * process waits on it before the program starts), records the end. Never returns. */
_Noreturn static void shim(const char *root, mn_oci_state *st, const mn_oci_config *cfg,
                           dl_run_args *a, int ready_fd, int console)
{
    char fifo[MN_OCI_PATH_BYTES_MAX + 16];
    snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root, st->id);
    setsid();
    signal(SIGPIPE, SIG_IGN);
    int fd = open(fifo, O_PATH | O_CLOEXEC);
    (void)!write(ready_fd, fd >= 0 ? "r" : "x", 1);
    if (fd < 0)
        _exit(DL_FAILED);
    a->cfg.start_fd = fd;
    a->cfg.ready_fd = ready_fd; /* the run reports the cage's pid and readiness on it */
    /* The cage's pid 1 becomes create's child, and so its caller's (a subreaper: conmon,
     * containerd's shim) once create has returned; its exit reaches them when we exit. */
    a->cfg.sibling_init = true;
    /* Output streamed as written, live stdin or the console (oci_console.c). */
    static mn_docklock_io io;
    oci_shim_io(&io, console);
    io.ctl_fd = oci_exec_listen(root, st->id); /* docklock exec joins the run through it */
    a->cfg.io = &io;
    a->streamed = true;
    /* The cage runs its supervisor and guest SCHED_FIFO, which a cgroup v1 cpu group without
     * an RT budget forbids; a manager's group for its runtime (conmon's, a shim's) has none.
     * So the supervisor goes to the cpu hierarchy's root; the cage makes its own groups. */
    int cg = open("/sys/fs/cgroup/cpu/cgroup.procs", O_WRONLY | O_CLOEXEC);
    if (cg >= 0) {
        dprintf(cg, "%d\n", (int)getpid());
        close(cg);
    }
    mn_err err;
    mn_docklock_result res;
    int rc;
    (void)cfg;
    if (mn_docklock_run(&a->cfg, &res, &err) != 0) {
        rc = dl_fail("run", &err);
    } else {
        rc = dl_write_outputs("run", a, &res);
        mn_docklock_result_deinit(&res);
    }
    st->status = MN_OCI_STOPPED;
    st->exit_status = rc;
    if (mn_oci_state_save(root, st, &err) != 0)
        oci_fail_err("shim", &err);
    _exit(rc);
}

/* The program must exist in the root (as the cage will look it up), so that create fails
 * rather than start, as with runc. */
static int check_program(const mn_oci_config *cfg, const char *rootfs)
{
    const char *name = cfg->args[0], *path = "/usr/local/bin:/usr/bin:/bin";
    char full[PATH_MAX + 8192];
    if (strchr(name, '/') != NULL) {
        snprintf(full, sizeof(full), "%s%s%s", rootfs, name[0] == '/' ? "" : "/", name);
        return access(full, X_OK) == 0 ? -1 : oci_fail("create: program %s not found in the "
                                                       "container's root", name);
    }
    for (uint32_t i = 0; i < cfg->envc; i++)
        if (strncmp(cfg->env[i], "PATH=", 5) == 0)
            path = cfg->env[i] + 5;
    char dirs[8192];
    snprintf(dirs, sizeof(dirs), "%s", path);
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
        snprintf(full, sizeof(full), "%s/%s/%s", rootfs, d, name);
        if (access(full, X_OK) == 0)
            return -1;
    }
    return oci_fail("create: program %s not found in the container's PATH", name);
}

static int make_key(const char *path)
{
    mn_keyfile kf;
    mn_err err;
    mn_keyfile_generate(&kf, MN_KEY_ED25519);
    int rc = mn_keyfile_write(path, &kf, &err);
    mn_keyfile_wipe(&kf);
    return rc == 0 ? -1 : oci_fail_err("create", &err);
}

/* An annotated witness or receipt path that ends in '/' names a directory: the file is
 * DIR/ID.EXT, so the sandbox and the containers of a Kubernetes pod, which all get the pod's
 * annotations, write apart (docs/kubernetes.md). Otherwise the path is the file. */
static int annotated_path(char *out, size_t len, const char *given, const char *id,
                          const char *ext)
{
    size_t n = strlen(given);
    int w = n > 0 && given[n - 1] == '/' ? snprintf(out, len, "%s%s.%s", given, id, ext)
                                          : snprintf(out, len, "%s", given);
    if (w < 0 || (size_t)w >= len)
        return oci_fail("create: the %s path %s%s is too long", ext, given, id);
    return -1;
}

/* Fills st and a from the bundle; makes ROOT/ID. */
static int prepare(const create_opts *o, mn_oci_config *cfg, mn_oci_state *st, dl_run_args *a,
                   char *rootfs)
{
    mn_err err;
    char bundle[PATH_MAX], path[PATH_MAX + 32], dir[MN_OCI_PATH_BYTES_MAX - 64];
    if (mn_oci_id_check(o->id, &err) != 0)
        return oci_fail_err("create", &err);
    if (realpath(o->bundle, bundle) == NULL)
        return oci_fail("create: bundle %s: %s", o->bundle, strerror(errno));
    snprintf(path, sizeof(path), "%s/config.json", bundle);
    uint8_t *json;
    size_t len;
    if (mn_file_read(path, MN_OCI_CONFIG_BYTES_MAX, &json, &len, &err) != 0)
        return oci_fail_err("create", &err);
    int rc = mn_oci_config_parse(json, len, cfg, &err);
    free(json);
    if (rc != 0)
        return oci_fail_err("create", &err);
    for (uint32_t i = 0; i < cfg->taintc; i++)
        oci_warn("taint (relaxed mode), not honoured: %s", cfg->taints[i]);
    if (oci_g.log != NULL || oci_g.debug)
        for (uint32_t i = 0; i < cfg->ignoredc; i++)
            oci_warn("ignored: %s", cfg->ignored[i]);
    /* runc's rules and wording: a terminal needs a console socket and the other way round. */
    if (cfg->terminal && o->console_socket == NULL)
        return oci_fail("cannot allocate tty if runc will detach without setting console "
                        "socket");
    if (!cfg->terminal && o->console_socket != NULL)
        return oci_fail("cannot use console socket if runc will not detach or allocate tty");
    if (cfg->root_path[0] == '/')
        snprintf(path, sizeof(path), "%s", cfg->root_path);
    else
        snprintf(path, sizeof(path), "%s/%s", bundle, cfg->root_path);
    if (realpath(path, rootfs) == NULL)
        return oci_fail("create: root.path %s: %s", path, strerror(errno));
    if ((rc = check_program(cfg, rootfs)) >= 0)
        return rc;
    /* The cage mounts its own /proc, /dev and /tmp on the read-only root: the mount points
     * must exist (image layers often lack them); runc makes mount destinations too. */
    static const char *const points[] = {"proc", "dev", "tmp"};
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", rootfs, points[i]);
        if (mkdir(path, points[i][0] == 't' ? 01777 : 0755) != 0 && errno != EEXIST)
            return oci_fail("create: mount point %s: %s", path, strerror(errno));
    }
    /* Like runc, make the state directory with its parents: containerd's shim passes
     * --root RUNTIME_ROOT/NAMESPACE (e.g. /run/containerd/runc/k8s.io), which may not exist. */
    snprintf(path, sizeof(path), "%s", oci_g.root);
    for (char *p = path + (path[0] != '\0');; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0711) != 0 && errno != EEXIST)
            return oci_fail("create: state directory %s: %s", path, strerror(errno));
        *p = c;
        if (c == '\0')
            break;
    }
    if (mn_oci_state_dir(oci_g.root, o->id, dir, sizeof(dir), &err) != 0)
        return oci_fail_err("create", &err);
    if (mkdir(dir, 0700) != 0)
        return errno == EEXIST ? oci_fail("container with id exists: %s", o->id)
                               : oci_fail("create: %s: %s", dir, strerror(errno));
    memset(st, 0, sizeof(*st));
    snprintf(st->id, sizeof(st->id), "%s", o->id);
    snprintf(st->bundle, sizeof(st->bundle), "%s", bundle);
    st->status = MN_OCI_CREATING;
    snprintf(st->witness, sizeof(st->witness), "%s/witness", dir);
    snprintf(st->receipt, sizeof(st->receipt), "%s/receipt", dir);
    snprintf(st->key, sizeof(st->key), "%s/node.key", dir);
    if (cfg->witness != NULL &&
        (rc = annotated_path(st->witness, sizeof(st->witness), cfg->witness, o->id,
                             "witness")) >= 0)
        return rc;
    if (cfg->receipt != NULL &&
        (rc = annotated_path(st->receipt, sizeof(st->receipt), cfg->receipt, o->id,
                             "receipt")) >= 0)
        return rc;
    if (cfg->key != NULL)
        snprintf(st->key, sizeof(st->key), "%s", cfg->key);
    else if ((rc = make_key(st->key)) >= 0)
        return rc;
    for (uint32_t i = 0; i < cfg->annc; i++) {
        snprintf(st->ann_keys[i], MN_OCI_ANN_BYTES_MAX, "%s", cfg->ann_keys[i]);
        snprintf(st->ann_values[i], MN_OCI_ANN_BYTES_MAX, "%s", cfg->ann_values[i]);
    }
    st->annc = cfg->annc;
    snprintf(path, sizeof(path), "%s/exec.fifo", dir);
    if (mkfifo(path, 0600) != 0)
        return oci_fail("create: mkfifo %s: %s", path, strerror(errno));
    if (mn_oci_state_save(oci_g.root, st, &err) != 0)
        return oci_fail_err("create", &err);
    run_args(cfg, rootfs, st, a);
    return oci_cage_config(cfg, bundle, &a->cfg);
}

/* Reads the supervisor's reports until the cage is built ("R"), taking the cage's pid from
 * "P<pid>"; false when the supervisor ended first (the cage could not be built: its message
 * is on our stderr already). */
static bool wait_cage_ready(int fd, int32_t *cage_pid)
{
    char buf[256];
    size_t used = 0;
    bool ready = false;
    for (;;) {
        ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        used += (size_t)n;
        buf[used] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            if (line[0] == 'P')
                *cage_pid = (int32_t)strtol(line + 1, NULL, 10);
            else if (line[0] == 'R')
                ready = true;
            line = nl + 1;
        }
        used = strlen(line);
        memmove(buf, line, used);
        if (ready && *cage_pid > 0)
            return true;
        if (used == sizeof(buf) - 1)
            return false; /* not our protocol */
    }
}

/* create: returns the exit code, and the shim's pid in *pid. */
static int do_create(const create_opts *o, int *pid)
{
    static mn_oci_config cfg;
    static mn_oci_state st;
    static dl_run_args a;
    static char rootfs[PATH_MAX];
    char dir[MN_OCI_PATH_BYTES_MAX + 8];
    int rc = prepare(o, &cfg, &st, &a, rootfs);
    if (rc >= 0) {
        mn_oci_config_deinit(&cfg);
        if (st.id[0] != '\0') { /* ROOT/ID was made: take it away again */
            snprintf(dir, sizeof(dir), "%s/%s", oci_g.root, st.id);
            oci_remove_dir(dir);
        }
        return rc;
    }
    int ready[2], console = -1;
    if (o->console_socket != NULL && (rc = oci_console_send(o->console_socket, &console)) >= 0) {
        snprintf(dir, sizeof(dir), "%s/%s", oci_g.root, st.id);
        oci_remove_dir(dir);
        return rc;
    }
    if (pipe2(ready, O_CLOEXEC) != 0)
        return oci_fail("create: pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        return oci_fail("create: fork: %s", strerror(errno));
    if (child == 0) {
        close(ready[0]);
        shim(oci_g.root, &st, &cfg, &a, ready[1], console);
    }
    close(ready[1]);
    if (console >= 0)
        close(console);
    char byte;
    ssize_t n;
    do
        n = read(ready[0], &byte, 1);
    while (n < 0 && errno == EINTR);
    bool ready_ok = n == 1 && byte == 'r' && wait_cage_ready(ready[0], &st.cage_pid);
    close(ready[0]);
    if (!ready_ok) {
        waitpid(child, NULL, 0);
        snprintf(dir, sizeof(dir), "%s/%s", oci_g.root, st.id);
        oci_remove_dir(dir);
        return oci_fail("create: the container could not be set up%s",
                        n == 1 && byte == 'r' ? " (see the message above)" : "");
    }
    mn_err err;
    st.status = MN_OCI_CREATED;
    st.pid = child;
    st.pid_start = mn_oci_pid_start(child);
    st.cage_start = mn_oci_pid_start(st.cage_pid);
    if (mn_oci_state_save(oci_g.root, &st, &err) != 0)
        return oci_fail_err("create", &err);
    st.status = MN_OCI_CREATING; /* what the create-time hooks are told */
    for (int k = MN_OCI_HOOK_PRESTART; k <= MN_OCI_HOOK_CREATE_CONTAINER; k++)
        if (oci_run_hooks(&cfg, (mn_oci_hook_kind)k, &st) != 0) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            /* the spec: stop the container and go on with the lifecycle at delete, whose
             * poststop hooks run (their failures are warnings), as runc does */
            st.status = MN_OCI_STOPPED;
            if (oci_run_hooks(&cfg, MN_OCI_HOOK_POSTSTOP, &st) != 0)
                oci_warn("poststop hooks failed");
            snprintf(dir, sizeof(dir), "%s/%s", oci_g.root, st.id);
            oci_remove_dir(dir);
            return 1;
        }
    st.status = MN_OCI_CREATED;
    if (o->pid_file != NULL && (rc = write_pid_file(o->pid_file, st.cage_pid)) >= 0)
        return rc;
    *pid = child;
    return 0;
}

int oci_create(int argc, char **argv)
{
    create_opts o;
    int rc = parse_create(argc, argv, false, &o);
    if (rc >= 0)
        return rc;
    int pid;
    return do_create(&o, &pid);
}

int oci_run(int argc, char **argv)
{
    create_opts o;
    int rc = parse_create(argc, argv, true, &o);
    if (rc >= 0)
        return rc;
    int pid;
    if ((rc = do_create(&o, &pid)) != 0)
        return rc;
    char *start_argv[] = {"start", (char *)o.id, NULL};
    if ((rc = oci_start(2, start_argv)) != 0 || o.detach)
        return rc;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return oci_fail("run: wait: %s", strerror(errno));
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!o.keep) {
        char *del_argv[] = {"delete", (char *)o.id, NULL};
        if (oci_delete(2, del_argv) != 0)
            return 1;
    }
    return rc;
}
