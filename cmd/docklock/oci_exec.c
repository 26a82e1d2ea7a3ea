/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_exec.c: `docklock exec`, runc's form: exec [--process FILE | ID ARGS...] [--detach]
 * [--pid-file F] [--env K=V]... [--cwd DIR] ID. The process joins the running container's
 * deterministic run: the request goes to the container's supervisor over ROOT/ID/exec.sock
 * (src/docklock/join.c), which starts it in the cage at a turn boundary and records it in the
 * witness. This command's stdout and stderr go with the request (SCM_RIGHTS): the process's
 * output is copied to them as it is written. The supervisor answers "ok PID" once it runs
 * (PID is its host pid, for --pid-file) and, when it exits, its wait status (and any output it
 * could not stream), and this command exits with the status (128+N for signal N); with
 * --detach it returns after "ok". The environment is the container's process.env with --env
 * added; cwd defaults to /. Errors as runc: an unknown or stopped container fails (exit 1).
 * --tty is refused (not supported yet, docs/oci.md §4). Also the shim's side of the socket
 * (oci_exec_listen). Not here: starting the process (join.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metanode/docklock.h"
#include "oci_cli.h"
#include "oci_console.h"

static mn_oci_state st;
static mn_oci_config cfg;
static json_t *process_doc; /* --process: its strings are borrowed until the end */

int oci_exec_listen(const char *root, const char *id)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s/exec.sock", root, id);
    if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
        return -1; /* a state path too long for a socket: exec will say the container has none */
    unlink(addr.sun_path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(s, 8) != 0) {
        close(s);
        return -1;
    }
    return s;
}

typedef struct exec_opts {
    const char *process, *pid_file, *cwd, *id;
    bool detach;
    mn_docklock_join j;
} exec_opts;

static int add_env(mn_docklock_join *j, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return oci_fail("exec: --env %s is not KEY=VALUE", kv);
    size_t klen = (size_t)(eq - kv) + 1;
    for (uint32_t i = 0; i < j->envc; i++)
        if (strncmp(j->env[i], kv, klen) == 0) {
            j->env[i] = kv; /* a later value replaces an earlier one */
            return -1;
        }
    if (j->envc >= MN_DOCKLOCK_JOIN_ENV_MAX)
        return oci_fail("exec: more than %u environment entries", MN_DOCKLOCK_JOIN_ENV_MAX);
    j->env[j->envc++] = kv;
    return -1;
}

/* --process FILE: runc's process.json (args, env, cwd, terminal). Strings stay in the JSON
 * document, which lives until exit. */
static int read_process(const char *path, exec_opts *o)
{
    json_error_t jerr;
    json_t *doc = process_doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL || !json_is_object(doc))
        return oci_fail("exec: --process %s: %s", path, doc == NULL ? jerr.text : "not an object");
    json_t *args = json_object_get(doc, "args"), *env = json_object_get(doc, "env");
    json_t *cwd = json_object_get(doc, "cwd"), *tty = json_object_get(doc, "terminal");
    if (!json_is_array(args) || json_array_size(args) == 0 ||
        json_array_size(args) > MN_DOCKLOCK_JOIN_ARGS_MAX)
        return oci_fail("exec: --process %s: args must be 1..%u strings", path,
                        MN_DOCKLOCK_JOIN_ARGS_MAX);
    if (json_is_true(tty))
        return oci_fail("exec: a terminal for exec is not supported yet (docs/oci.md)");
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v) {
        if (!json_is_string(v))
            return oci_fail("exec: --process %s: args[%zu] is not a string", path, i);
        o->j.argv[o->j.argc++] = json_string_value(v);
    }
    if (env != NULL) {
        if (!json_is_array(env))
            return oci_fail("exec: --process %s: env is not an array", path);
        o->j.envc = 0; /* process.json gives the whole environment */
        json_array_foreach(env, i, v) {
            if (!json_is_string(v))
                return oci_fail("exec: --process %s: env[%zu] is not a string", path, i);
            int rc = add_env(&o->j, json_string_value(v));
            if (rc >= 0)
                return rc;
        }
    }
    if (cwd != NULL && !json_is_string(cwd))
        return oci_fail("exec: --process %s: cwd is not a string", path);
    if (cwd != NULL)
        o->cwd = json_string_value(cwd);
    return -1;
}

/* The container's own process.env: what an exec'd process gets unless told otherwise. */
static int container_env(mn_docklock_join *j)
{
    char path[MN_OCI_PATH_BYTES_MAX + 16];
    snprintf(path, sizeof(path), "%s/config.json", st.bundle);
    uint8_t *json;
    size_t len;
    mn_err err;
    if (mn_file_read(path, MN_OCI_CONFIG_BYTES_MAX, &json, &len, &err) != 0)
        return oci_fail_err("exec", &err);
    int rc = mn_oci_config_parse(json, len, &cfg, &err);
    free(json);
    if (rc != 0)
        return oci_fail_err("exec", &err);
    for (uint32_t i = 0; i < cfg.envc && j->envc < MN_DOCKLOCK_JOIN_ENV_MAX; i++)
        j->env[j->envc++] = cfg.env[i];
    return -1;
}

static int parse(int argc, char **argv, exec_opts *o)
{
    static const struct option opts[] = {
        {"process", 1, 0, 'p'}, {"detach", 0, 0, 'd'}, {"pid-file", 1, 0, 'P'},
        {"tty", 0, 0, 't'},     {"console-socket", 1, 0, 'c'}, {"env", 1, 0, 'e'},
        {"cwd", 1, 0, 'w'},     {"user", 1, 0, 'u'},  {"cap", 1, 0, 'C'},
        {"no-new-privs", 0, 0, 'n'}, {"preserve-fds", 1, 0, 'f'}, {"process-label", 1, 0, 'l'},
        {"apparmor", 1, 0, 'a'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    static const char *envs[MN_DOCKLOCK_JOIN_ENV_MAX];
    uint32_t nenv = 0;
    memset(o, 0, sizeof(*o));
    o->cwd = "/";
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+p:de:tu:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->process = optarg; break;
        case 'd': o->detach = true; break;
        case 'P': o->pid_file = optarg; break;
        case 't': return oci_fail("exec: --tty is not supported yet (docs/oci.md)");
        case 'c': break; /* meaningful only with --tty */
        case 'e':
            if (nenv >= MN_DOCKLOCK_JOIN_ENV_MAX)
                return oci_fail("exec: too many --env");
            envs[nenv++] = optarg;
            break;
        case 'w': o->cwd = optarg; break;
        case 'u':
            if (strcmp(optarg, "0") != 0 && strcmp(optarg, "0:0") != 0 &&
                strcmp(optarg, "root") != 0)
                return oci_fail("exec: --user %s: the cage runs processes as 0:0", optarg);
            break;
        case 'C': case 'n': case 'f': case 'l': case 'a': break;
        case 'h':
            printf("usage: docklock [GLOBAL] exec [--process FILE] [--detach] [--pid-file F] "
                   "[--env K=V]... [--cwd DIR] ID [ARGS...]\n");
            return 0;
        default: return oci_fail("exec: bad arguments");
        }
    }
    if (optind >= argc)
        return oci_fail("exec: expects a container id");
    o->id = argv[optind++];
    if (o->process == NULL && optind >= argc)
        return oci_fail("exec: give --process FILE or the command to run");
    if (o->process != NULL && optind < argc)
        return oci_fail("exec: --process and a command exclude each other");
    mn_err err;
    if (mn_oci_state_load(oci_g.root, o->id, &st, &err) != 0)
        return err.code == MN_ENOTFOUND ? oci_fail("container %s does not exist", o->id)
                                        : oci_fail_err("exec", &err);
    if (st.status == MN_OCI_STOPPED)
        return oci_fail("cannot exec in a stopped container");
    if (st.status != MN_OCI_RUNNING)
        return oci_fail("cannot exec in a container that is not running: %s",
                        mn_oci_status_name(st.status));
    int rc = container_env(&o->j);
    if (rc >= 0)
        return rc;
    if (o->process != NULL && (rc = read_process(o->process, o)) >= 0)
        return rc;
    for (; optind < argc; optind++) {
        if (o->j.argc >= MN_DOCKLOCK_JOIN_ARGS_MAX)
            return oci_fail("exec: more than %u arguments", MN_DOCKLOCK_JOIN_ARGS_MAX);
        o->j.argv[o->j.argc++] = argv[optind];
    }
    for (uint32_t i = 0; i < nenv; i++)
        if ((rc = add_env(&o->j, envs[i])) >= 0)
            return rc;
    if (o->cwd[0] != '/')
        return oci_fail("exec: --cwd %s is not an absolute path", o->cwd);
    o->j.cwd = o->cwd;
    return -1;
}

static int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copies n bytes from the connection to fd. */
static int relay(int conn, int fd, uint32_t n)
{
    uint8_t buf[65536];
    while (n > 0) {
        size_t k = n < sizeof(buf) ? n : sizeof(buf);
        if (read_full(conn, buf, k) != 0)
            return -1;
        for (size_t off = 0; off < k;) {
            ssize_t w = write(fd, buf + off, k - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break; /* our reader went away: keep draining */
            off += (size_t)w;
        }
        n -= (uint32_t)k;
    }
    return 0;
}

static int talk(const exec_opts *o, int conn)
{
    mn_buf req;
    mn_err err;
    mn_buf_init(&req, MN_WITNESS_INLINE_BYTES_MAX);
    if (mn_docklock_join_encode(&o->j, &req, &err) != 0) {
        mn_buf_deinit(&req);
        return oci_fail_err("exec", &err);
    }
    uint8_t hdr[4] = {(uint8_t)(req.len >> 24), (uint8_t)(req.len >> 16), (uint8_t)(req.len >> 8),
                      (uint8_t)req.len};
    /* Our stdout and stderr go with the header: the process's output reaches them while it
     * is written (and after we are gone, with --detach), as runc's exec does. */
    int fds[2] = {1, 2};
    struct iovec iov = {.iov_base = hdr, .iov_len = 4};
    union {
        struct cmsghdr h;
        char raw[CMSG_SPACE(sizeof(fds))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw,
                       .msg_controllen = sizeof(ctl.raw)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(c), fds, sizeof(fds));
    fflush(stdout);
    bool sent = sendmsg(conn, &m, MSG_NOSIGNAL) == 4 &&
                send(conn, req.data, req.len, MSG_NOSIGNAL) == (ssize_t)req.len;
    mn_buf_deinit(&req);
    if (!sent)
        return oci_fail("exec: the container's supervisor does not answer");
    char line[512];
    size_t n = 0;
    while (n + 1 < sizeof(line) && read_full(conn, &line[n], 1) == 0 && line[n] != '\n')
        n++;
    line[n] = '\0';
    if (strncmp(line, "ok ", 3) != 0)
        return oci_fail("exec failed: %s", strncmp(line, "error ", 6) == 0 ? line + 6
                                            : "the container ended");
    if (o->pid_file != NULL &&
        mn_file_write(o->pid_file, line + 3, strlen(line + 3), 0644, true, &err) != 0)
        return oci_fail_err("exec: pid-file", &err);
    if (o->detach)
        return 0;
    uint8_t res[12];
    if (read_full(conn, res, sizeof(res)) != 0)
        return oci_fail("exec: the container ended before the process");
    uint32_t v[3];
    for (int i = 0; i < 3; i++)
        v[i] = (uint32_t)res[i * 4] << 24 | (uint32_t)res[i * 4 + 1] << 16 |
               (uint32_t)res[i * 4 + 2] << 8 | res[i * 4 + 3];
    fflush(stdout);
    if (relay(conn, 1, v[1]) != 0 || relay(conn, 2, v[2]) != 0)
        return oci_fail("exec: output cut short");
    int status = (int)v[0];
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int oci_exec(int argc, char **argv)
{
    exec_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s/exec.sock", oci_g.root, o.id);
    int conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (n < 0 || (size_t)n >= sizeof(addr.sun_path) || conn < 0 ||
        connect(conn, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int e = errno;
        if (conn >= 0)
            close(conn);
        return oci_fail("exec: container %s takes no exec: %s", o.id, strerror(e));
    }
    rc = talk(&o, conn);
    close(conn);
    mn_oci_config_deinit(&cfg);
    json_decref(process_doc);
    return rc;
}
