/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_verbs.c: the runc verbs on an existing container: start (write to the exec fifo so the
 * cage's waiting first process goes on), state (the OCI state JSON), kill (a signal to the
 * container's init, or to the waiting supervisor before start), delete (with --force also of
 * a running container) and ps. Each takes the container's lock. Errors are runc's: unknown
 * id, start of a container that is not created, kill of a stopped one, delete of a running
 * one without --force (delete --force of an unknown id succeeds, as with runc). Not here:
 * create and run (oci_create.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci_cli.h"

static mn_oci_state st; /* one per command; big (annotations) */

static int read_children(int pid, int *out, int max)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    int count = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \n", &save); t != NULL && count < max;
         t = strtok_r(NULL, " \n", &save))
        out[count++] = atoi(t);
    return count;
}

int oci_descendants(int pid, int *out, int max)
{
    int n = read_children(pid, out, max);
    for (int i = 0; i < n && n < max; i++)
        n += read_children(out[i], out + n, max - n); /* breadth first over the growing list */
    return n;
}

int oci_container_pids(const mn_oci_state *c, int *out, int max)
{
    if (c->cage_pid <= 0) /* a record of an older docklock: the cage is the supervisor's */
        return oci_descendants(c->pid, out, max);
    if (max < 1 || mn_oci_pid_start(c->cage_pid) != c->cage_start)
        return 0;
    out[0] = c->cage_pid;
    return 1 + oci_descendants(c->cage_pid, out + 1, max - 1);
}

void oci_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[MN_OCI_PATH_BYTES_MAX + 300];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

/* One container id as the only argument after options; *lock_fd locked. */
static int load_locked(const char *verb, const char *id, int *lock_fd)
{
    mn_err err;
    if (mn_oci_state_lock(oci_g.root, id, lock_fd, &err) != 0 ||
        mn_oci_state_load(oci_g.root, id, &st, &err) != 0) {
        if (*lock_fd >= 0)
            close(*lock_fd);
        *lock_fd = -1;
        if (err.code == MN_ENOTFOUND)
            return oci_fail("container %s does not exist", id);
        return oci_fail_err(verb, &err);
    }
    return -1;
}

static int only_id(const char *verb, int argc, int first)
{
    if (first + 1 != argc)
        return oci_fail("%s: expects exactly one container id", verb);
    return -1;
}

static int kill_and_wait(void);

int oci_start(int argc, char **argv)
{
    int rc = only_id("start", argc, 1), lock = -1;
    if (rc >= 0)
        return rc;
    const char *id = argv[1];
    if ((rc = load_locked("start", id, &lock)) >= 0)
        return rc;
    if (st.status != MN_OCI_CREATED) {
        close(lock);
        return oci_fail("cannot start a container that is %s: %s",
                        mn_oci_status_name(st.status), id);
    }
    if (oci_bundle_hooks(&st, MN_OCI_HOOK_START_CONTAINER) != 0) {
        kill_and_wait();
        close(lock);
        return oci_fail("start %s: startContainer hooks failed; container stopped", id);
    }
    /* The cage's first process opens the fifo for reading once the cage is built (that may
     * still be going on right after create): until then opening for writing fails (ENXIO). */
    char fifo[MN_OCI_PATH_BYTES_MAX + 32];
    snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", oci_g.root, id);
    int fd = -1;
    for (int waited = 0; waited < 30000 && fd < 0; waited += 2) {
        fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 || errno != ENXIO || mn_oci_pid_start(st.pid) != st.pid_start)
            break;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (fd < 0 || write(fd, "0", 1) != 1) {
        if (fd >= 0)
            close(fd);
        close(lock);
        return oci_fail("start %s: the container is not waiting (its set-up failed?)", id);
    }
    close(fd);
    unlink(fifo);
    /* Running, unless the supervisor has already recorded the end of a short run. */
    mn_err err;
    static mn_oci_state now; /* big: not on the stack */
    if (mn_oci_state_load(oci_g.root, id, &now, &err) == 0 && now.status == MN_OCI_CREATED) {
        st.status = MN_OCI_RUNNING;
        if (mn_oci_state_save(oci_g.root, &st, &err) != 0) {
            close(lock);
            return oci_fail_err("start", &err);
        }
    }
    close(lock);
    st.status = MN_OCI_RUNNING;
    if (oci_bundle_hooks(&st, MN_OCI_HOOK_POSTSTART) != 0)
        oci_warn("poststart hooks failed (the container runs)");
    return 0;
}

int oci_state(int argc, char **argv)
{
    int rc = only_id("state", argc, 1), lock = -1;
    if (rc >= 0)
        return rc;
    if ((rc = load_locked("state", argv[1], &lock)) >= 0)
        return rc;
    close(lock);
    char *json = mn_oci_state_json(&st);
    puts(json);
    free(json);
    return 0;
}

static int parse_signal(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
                 {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},
                 {"CONT", SIGCONT}, {"ALRM", SIGALRM}, {"PIPE", SIGPIPE}, {"WINCH", SIGWINCH},
                 {"CHLD", SIGCHLD}, {"ABRT", SIGABRT}, {"TSTP", SIGTSTP}};
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        long v = strtol(s, &end, 10);
        return *end == '\0' && v > 0 && v < 65 ? (int)v : -1;
    }
    if (strncmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0)
            return names[i].sig;
    return -1;
}

int oci_kill(int argc, char **argv)
{
    static const struct option opts[] = {{"all", 0, 0, 'a'}, {0, 0, 0, 0}};
    bool all = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
        if (c != 'a')
            return oci_fail("kill: bad arguments");
        all = true;
    }
    if (optind >= argc || argc - optind > 2)
        return oci_fail("kill: usage: kill [--all] ID [SIGNAL]");
    const char *id = argv[optind];
    int sig = argc - optind == 2 ? parse_signal(argv[optind + 1]) : SIGTERM;
    if (sig < 0)
        return oci_fail("kill: unknown signal %s", argv[optind + 1]);
    int lock = -1, rc;
    if ((rc = load_locked("kill", id, &lock)) >= 0)
        return rc;
    if ((st.status != MN_OCI_CREATED && st.status != MN_OCI_RUNNING) || st.pid <= 0) {
        close(lock);
        return oci_fail("cannot kill container %s: container not running", id);
    }
    /* Running: the container's process (the cage's pid 1), traced by the supervisor, which
     * sees the signal and writes the receipt. Created: the supervisor itself (the waiting cage
     * dies with it). */
    int pids[1024];
    int n = st.status == MN_OCI_RUNNING ? oci_container_pids(&st, pids, 1024) : 0;
    if (n == 0) {
        pids[0] = st.pid;
        n = 1;
    }
    int sent = 0;
    for (int i = 0; i < (all ? n : 1); i++)
        if (pids[i] > 0) /* never 0 or -1: those mean process groups */
            sent += kill(pids[i], sig) == 0;
    close(lock);
    if (sent == 0)
        return oci_fail("kill %s: %s", id, strerror(errno));
    return 0;
}

static int wait_supervisor(int ticks);

/* Kills the whole container and waits (up to 10 s) until its supervisor is gone. */
static int kill_and_wait(void)
{
    if (st.pid <= 0 || st.pid_start == 0)
        return 0; /* a record left by a create that died before its supervisor existed */
    int pids[1024];
    int n = oci_container_pids(&st, pids, 1024);
    if (mn_oci_pid_start(st.pid) == st.pid_start)
        kill(st.pid, SIGKILL);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    return wait_supervisor(1000);
}

/* Waits (up to ticks x 10 ms) until the supervisor is gone: 0, or -1 when it is not. */
static int wait_supervisor(int ticks)
{
    if (st.pid <= 0 || st.pid_start == 0)
        return 0;
    for (int i = 0; i < ticks; i++) {
        if (mn_oci_pid_start(st.pid) != st.pid_start)
            return 0;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int oci_delete(int argc, char **argv)
{
    static const struct option opts[] = {{"force", 0, 0, 'f'}, {0, 0, 0, 0}};
    bool force = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        if (c != 'f')
            return oci_fail("delete: bad arguments");
        force = true;
    }
    int rc = only_id("delete", argc, optind), lock = -1;
    if (rc >= 0)
        return rc;
    const char *id = argv[optind];
    /* As runc: delete --force of a container that does not exist succeeds (containerd's shim
     * deletes once more after every container is gone, and logs a warning otherwise). */
    char dir[MN_OCI_PATH_BYTES_MAX + 8];
    mn_err err;
    if (force && mn_oci_state_dir(oci_g.root, id, dir, sizeof(dir), &err) == 0 &&
        access(dir, F_OK) != 0 && errno == ENOENT)
        return 0;
    if ((rc = load_locked("delete", id, &lock)) >= 0)
        return rc;
    if (st.status == MN_OCI_RUNNING && !force) {
        close(lock);
        return oci_fail("cannot delete container %s that is not stopped: running", id);
    }
    if (st.status != MN_OCI_STOPPED && kill_and_wait() != 0) {
        close(lock);
        return oci_fail("delete %s: the container did not stop", id);
    }
    /* Stopped: the container's process is gone, but its supervisor may still be writing the
     * witness and the receipt (into this directory by default): let it finish. */
    if (wait_supervisor(1000) != 0) {
        oci_warn("delete %s: the supervisor did not finish within 10 s; killed", id);
        if (kill_and_wait() != 0) {
            close(lock);
            return oci_fail("delete %s: the supervisor did not stop", id);
        }
    }
    st.status = MN_OCI_STOPPED;
    if (oci_bundle_hooks(&st, MN_OCI_HOOK_POSTSTOP) != 0)
        oci_warn("poststop hooks failed");
    snprintf(dir, sizeof(dir), "%s/%s", oci_g.root, id);
    oci_remove_dir(dir);
    close(lock);
    return 0;
}

int oci_ps(int argc, char **argv)
{
    static const struct option opts[] = {{"format", 1, 0, 'f'}, {0, 0, 0, 0}};
    bool json = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
        if (c != 'f' || (strcmp(optarg, "json") != 0 && strcmp(optarg, "table") != 0))
            return oci_fail("ps: bad arguments");
        json = strcmp(optarg, "json") == 0;
    }
    int rc = only_id("ps", argc, optind), lock = -1;
    if (rc >= 0)
        return rc;
    if ((rc = load_locked("ps", argv[optind], &lock)) >= 0)
        return rc;
    close(lock);
    int pids[1024];
    int n = st.status == MN_OCI_RUNNING ? oci_container_pids(&st, pids, 1024) : 0;
    if (json) {
        printf("[");
        for (int i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", pids[i]);
        printf("]\n");
        return 0;
    }
    printf("PID\tCMD\n");
    for (int i = 0; i < n; i++) {
        char path[64], comm[64] = "?";
        snprintf(path, sizeof(path), "/proc/%d/comm", pids[i]);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(comm, sizeof(comm), f) != NULL)
                comm[strcspn(comm, "\n")] = '\0';
            fclose(f);
        }
        printf("%d\t%s\n", pids[i], comm);
    }
    return 0;
}

int oci_list(int argc, char **argv)
{
    static const struct option opts[] = {{"format", 1, 0, 'f'}, {"quiet", 0, 0, 'q'},
                                         {0, 0, 0, 0}};
    bool json = false, quiet = false;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "f:q", opts, NULL)) != -1) {
        if (c == 'q')
            quiet = true;
        else if (c == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0))
            json = strcmp(optarg, "json") == 0;
        else
            return oci_fail("list: bad arguments");
    }
    if (optind != argc)
        return oci_fail("list takes no container id");
    DIR *d = opendir(oci_g.root);
    if (d == NULL && errno != ENOENT)
        return oci_fail("list: %s: %s", oci_g.root, strerror(errno));
    if (json)
        printf("[");
    else if (!quiet)
        printf("%-20s %-8s %-8s %s\n", "ID", "PID", "STATUS", "BUNDLE");
    struct dirent *e;
    int shown = 0;
    mn_err err;
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || mn_oci_id_check(e->d_name, &err) != 0 ||
            mn_oci_state_load(oci_g.root, e->d_name, &st, &err) != 0)
            continue;
        bool live = st.status == MN_OCI_CREATED || st.status == MN_OCI_RUNNING;
        if (json)
            printf("%s{\"id\":\"%s\",\"pid\":%d,\"status\":\"%s\"}", shown ? "," : "",
                   st.id, live ? (st.cage_pid > 0 ? st.cage_pid : st.pid) : 0, mn_oci_status_name(st.status));
        else if (quiet)
            printf("%s\n", st.id);
        else
            printf("%-20s %-8d %-8s %s\n", st.id, live ? (st.cage_pid > 0 ? st.cage_pid : st.pid) : 0,
                   mn_oci_status_name(st.status), st.bundle);
        shown++;
    }
    if (d != NULL)
        closedir(d);
    if (json)
        printf("]\n");
    return 0;
}
