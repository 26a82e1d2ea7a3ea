/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_hooks.c: running a bundle's OCI hooks. Each hook is executed (execve, never through a
 * shell) with its args and env, the container's OCI state JSON on its stdin, and its timeout
 * (killed when over). prestart, createRuntime and createContainer run at `create`, after the
 * cage is built and waits (untraced, before any program code) on its start fifo; startContainer
 * in `start` before the program is released; poststart at the end of `start`; poststop at
 * `delete`. createContainer and startContainer run in the container's ipc, uts, net, pid and
 * mount namespaces (joined through the waiting cage's pid 1); their path resolves in the
 * runtime's namespace (createContainer) or the container's (startContainer), as the spec says.
 * They are not traced and not part of the witness: they run before the program does. The
 * others run in the runtime's namespaces.
 * Not here: deciding what a failure means (the caller: create fails, the others warn).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metanode/bytes.h"
#include "oci_cli.h"

static const char *const kind_names[MN_OCI_HOOK_KINDS] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};

/* The hook's child when it runs in the container's namespaces (ns_pid: the cage's pid 1 on
 * the host): the hook's binary is opened here, where its path resolves as the spec says
 * (createContainer: the runtime's namespace; startContainer: the container's, so it is opened
 * after joining), then the child joins the cage's ipc, uts, net, pid and mount namespaces and
 * forks the hook, whose exit status it passes on. */
_Noreturn static void in_container(const mn_oci_hook *h, int ns_pid, bool path_in_container,
                                   const char *const *argv, const char *const *envp)
{
    static const char *const kinds[] = {"ipc", "uts", "net", "pid", "mnt"};
    int fds[5], exe = -1;
    char p[64];
    if (!path_in_container && (exe = open(h->path, O_PATH)) < 0)
        _exit(127);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "/proc/%d/ns/%s", ns_pid, kinds[i]);
        if ((fds[i] = open(p, O_RDONLY | O_CLOEXEC)) < 0)
            _exit(126);
    }
    for (int i = 0; i < 5; i++)
        if (setns(fds[i], 0) != 0)
            _exit(126);
    if (path_in_container && (exe = open(h->path, O_PATH)) < 0)
        _exit(127);
    pid_t pid = fork(); /* the pid namespace applies to children */
    if (pid < 0)
        _exit(126);
    if (pid == 0) {
        /* not O_CLOEXEC: a script's interpreter reads it through /dev/fd */
        syscall(SYS_execveat, exe, "", (char *const *)argv, (char *const *)envp, AT_EMPTY_PATH);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            _exit(126);
    if (WIFSIGNALED(status))
        raise(WTERMSIG(status));
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 126);
}

static int run_one(const mn_oci_hook *h, const char *state_json, mn_oci_hook_kind kind,
                   int ns_pid)
{
    int in[2];
    if (pipe(in) != 0)
        return oci_fail("hook %s: pipe: %s", h->path, strerror(errno));
    const char *argv[MN_OCI_HOOK_ARGS_MAX + 2], *envp[MN_OCI_HOOK_ARGS_MAX + 1];
    uint32_t argc = 0;
    if (h->argc == 0)
        argv[argc++] = h->path;
    for (uint32_t i = 0; i < h->argc; i++)
        argv[argc++] = h->args[i];
    argv[argc] = NULL;
    for (uint32_t i = 0; i < h->envc; i++)
        envp[i] = h->env[i];
    envp[h->envc] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return oci_fail("hook %s: fork: %s", h->path, strerror(errno));
    if (pid == 0) {
        dup2(in[0], 0);
        close(in[0]);
        close(in[1]);
        if (ns_pid > 0)
            in_container(h, ns_pid, kind == MN_OCI_HOOK_START_CONTAINER, argv, envp);
        execve(h->path, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    close(in[0]);
    signal(SIGPIPE, SIG_IGN);
    size_t len = strlen(state_json), done = 0;
    while (done < len) {
        ssize_t n = write(in[1], state_json + done, len - done);
        if (n <= 0)
            break; /* the hook need not read its stdin */
        done += (size_t)n;
    }
    close(in[1]);
    int status = 0;
    uint64_t waited_ms = 0, limit_ms = h->timeout_s > 0 ? (uint64_t)h->timeout_s * 1000u : 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return oci_fail("hook %s: wait: %s", h->path, strerror(errno));
        if (limit_ms != 0 && waited_ms >= limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return oci_fail("hook %s: timed out after %lld s", h->path,
                            (long long)h->timeout_s);
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited_ms += 5;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return oci_fail("hook %s failed (%s %d)", h->path,
                        WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

int oci_run_hooks(const mn_oci_config *cfg, mn_oci_hook_kind kind, const mn_oci_state *st)
{
    if (cfg->hookc[kind] == 0)
        return 0;
    char *json = mn_oci_state_json(st);
    int rc = 0;
    /* createContainer and startContainer run in the container's namespaces, the others in
     * the runtime's (as the spec says) */
    int ns_pid = kind == MN_OCI_HOOK_CREATE_CONTAINER || kind == MN_OCI_HOOK_START_CONTAINER
                     ? st->cage_pid
                     : 0;
    for (uint32_t i = 0; i < cfg->hookc[kind] && rc == 0; i++)
        rc = run_one(&cfg->hooks[kind][i], json, kind, ns_pid);
    free(json);
    if (rc != 0)
        oci_fail("%s hooks failed", kind_names[kind]);
    return rc;
}

int oci_bundle_hooks(const mn_oci_state *st, mn_oci_hook_kind kind)
{
    static mn_oci_config cfg;
    char path[MN_OCI_PATH_BYTES_MAX + 16];
    snprintf(path, sizeof(path), "%s/config.json", st->bundle);
    uint8_t *json;
    size_t len;
    mn_err err;
    if (mn_file_read(path, MN_OCI_CONFIG_BYTES_MAX, &json, &len, &err) != 0)
        return oci_fail_err("hooks", &err);
    int rc = mn_oci_config_parse(json, len, &cfg, &err);
    free(json);
    if (rc != 0) {
        mn_oci_config_deinit(&cfg);
        return oci_fail_err("hooks", &err);
    }
    rc = oci_run_hooks(&cfg, kind, st);
    mn_oci_config_deinit(&cfg);
    return rc;
}
