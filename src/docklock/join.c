/* SPDX-License-Identifier: Apache-2.0
 *
 * join.c: exec, a process that joins a running cage from outside (docs/oci.md §2.3). A join
 * is an input: a client (docklock exec) connects to the run's control socket
 * (mn_docklock_io.ctl_fd) and sends a request (argv, env, cwd; canonical CBOR); the holder
 * gives up its turn at its next trapped event, and at that turn boundary the supervisor
 * starts the process in the cage's namespaces and root, traced and filtered like every guest
 * process, gives it the next turn, and records a JOIN record (the request inline) at that
 * position. Replay starts the same process at the same position from the record. The
 * process's stdin is empty; its stdout and stderr are memfds of its own: at its exit stop
 * their roots become OUTPUT records (args [1|2, join number], a labelled stream beside the
 * container's own, which stay as they were) and the bytes and its exit status go to the
 * client. How it starts: a helper forked from the supervisor enters the namespaces of the
 * cage's pid 1 (setns ipc, uts, net, pid, mount; then its root and the request's cwd) and
 * clones the process with CLONE_PARENT, so the supervisor is its parent (and tracer) and the
 * cage's pid 1 never sees it; the process asks to be traced, stops, and then takes the same
 * steps as the cage's first process (spawn.c) before execvpe.
 * Not here: the client (cmd/docklock/oci_exec.c), the scheduler (supervisor.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "metanode/cbor.h"

int mn_docklock_join_encode(const mn_docklock_join *j, mn_buf *out, mn_err *err)
{
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, 3);
    mn_cbor_put_key(&e, 1);
    mn_cbor_put_array(&e, j->argc);
    for (uint32_t i = 0; i < j->argc; i++)
        mn_cbor_put_bytes(&e, j->argv[i], strlen(j->argv[i]));
    mn_cbor_put_key(&e, 2);
    mn_cbor_put_array(&e, j->envc);
    for (uint32_t i = 0; i < j->envc; i++)
        mn_cbor_put_bytes(&e, j->env[i], strlen(j->env[i]));
    mn_cbor_put_key(&e, 3);
    mn_cbor_put_bytes(&e, j->cwd, strlen(j->cwd));
    MN_TRY(mn_cbor_enc_finish(&e, err));
    if (out->len > MN_WITNESS_INLINE_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "exec request of %zu bytes", out->len);
    return 0;
}

/* One byte string copied into the store with a NUL; no NUL inside. */
static int take_str(mn_cbor_dec *d, char **at, char *end, const char **out, mn_err *err)
{
    const uint8_t *p;
    size_t n;
    MN_TRY(mn_cbor_get_bytes(d, &p, &n, err));
    if (n > MN_WITNESS_STRING_BYTES_MAX || (n > 0 && memchr(p, 0, n) != NULL))
        return mn_err_set(err, MN_ECORRUPT, 0, "exec request: bad string");
    if ((size_t)(end - *at) < n + 1)
        return mn_err_set(err, MN_ELIMIT, 0, "exec request: store too small");
    if (n > 0)
        memcpy(*at, p, n);
    (*at)[n] = '\0';
    *out = *at;
    *at += n + 1;
    return 0;
}

static int take_list(mn_cbor_dec *d, int64_t key, const char **list, uint32_t max,
                     uint32_t *count, char **at, char *end, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_want_key(d, key, "exec request", err));
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n > max)
        return mn_err_set(err, MN_ELIMIT, 0, "exec request: %llu entries",
                          (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++)
        MN_TRY(take_str(d, at, end, &list[i], err));
    list[n] = NULL;
    *count = (uint32_t)n;
    return 0;
}

int mn_docklock_join_decode(const uint8_t *data, size_t len, mn_docklock_join *j, char *store,
                            size_t store_len, mn_err *err)
{
    memset(j, 0, sizeof(*j));
    if (len > MN_WITNESS_INLINE_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "exec request of %zu bytes", len);
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    char *at = store, *end = store + store_len;
    MN_TRY(mn_cbor_want_map(&d, 3, "exec request", err));
    MN_TRY(take_list(&d, 1, j->argv, MN_DOCKLOCK_JOIN_ARGS_MAX, &j->argc, &at, end, err));
    MN_TRY(take_list(&d, 2, j->env, MN_DOCKLOCK_JOIN_ENV_MAX, &j->envc, &at, end, err));
    MN_TRY(mn_cbor_want_key(&d, 3, "exec request", err));
    MN_TRY(take_str(&d, &at, end, &j->cwd, err));
    MN_TRY(mn_cbor_dec_finish(&d, err));
    if (j->argc == 0 || j->argv[0][0] == '\0')
        return mn_err_set(err, MN_ECORRUPT, 0, "exec request: no program");
    if (j->cwd[0] != '/')
        return mn_err_set(err, MN_ECORRUPT, 0, "exec request: cwd is not absolute");
    for (uint32_t i = 0; i < j->envc; i++)
        if (strchr(j->env[i], '=') == NULL)
            return mn_err_set(err, MN_ECORRUPT, 0, "exec request: env %u is not K=V", i);
    return 0;
}

/* A connection arrived on the exec socket (SIGIO, O_ASYNC): set by the handler, cleared at
 * the turn boundary that looks for it. No system call per trapped event. */
static volatile sig_atomic_t join_signal;

static void on_sigio(int sig)
{
    (void)sig;
    join_signal = 1;
}

void mn__dl_join_arm(mn__dl_sup *s)
{
    if (s->join.ctl < 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigio; /* no SA_RESTART: it interrupts the blocking waitpid */
    sigaction(SIGIO, &sa, &s->join.old_sigio);
    int fl = fcntl(s->join.ctl, F_GETFL);
    if (fcntl(s->join.ctl, F_SETOWN, getpid()) != 0 || fl < 0 ||
        fcntl(s->join.ctl, F_SETFL, fl | O_ASYNC | O_NONBLOCK) != 0)
        join_signal = 1; /* no signal: look at every boundary instead (join_due polls) */
    struct pollfd p = {.fd = s->join.ctl, .events = POLLIN};
    if (poll(&p, 1, 0) == 1)
        join_signal = 1; /* a client that came before the signal was armed */
    s->join.armed = true;
}

void mn__dl_join_disarm(mn__dl_sup *s)
{
    if (!s->join.armed)
        return;
    int fl = fcntl(s->join.ctl, F_GETFL);
    if (fl >= 0)
        (void)fcntl(s->join.ctl, F_SETFL, fl & ~O_ASYNC);
    sigaction(SIGIO, &s->join.old_sigio, NULL);
    s->join.armed = false;
    join_signal = 0;
}

bool mn__dl_join_signalled(const mn__dl_sup *s)
{
    return s->join.ctl >= 0 && join_signal != 0;
}

bool mn__dl_join_due(mn__dl_sup *s)
{
    const mn_docklock_io *io = s->cfg->io;
    if (io == NULL)
        return false;
    if (io->joins != NULL)
        return s->join.next < io->joinc && io->joins[s->join.next].seq <= s->seq;
    if (s->join.ctl < 0 || join_signal == 0)
        return false;
    struct pollfd p = {.fd = s->join.ctl, .events = POLLIN};
    if (poll(&p, 1, 0) == 1)
        return true;
    join_signal = 0; /* nothing after all (the client gave up, or it was served) */
    return false;
}

static void reply(int conn, const char *text)
{
    if (conn >= 0)
        (void)!send(conn, text, strlen(text), MSG_NOSIGNAL);
}

/* Takes the client's stdout and stderr if this message carries exactly two descriptors. */
static void take_fds(struct msghdr *m, int dst[2])
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int fds[8];
        if (n > 8)
            n = 8; /* the control buffer holds no more */
        memcpy(fds, CMSG_DATA(c), n * sizeof(int));
        if (n == 2 && dst[0] < 0 && dst[1] < 0) {
            dst[0] = fds[0]; /* close-on-exec already (MSG_CMSG_CLOEXEC) */
            dst[1] = fds[1];
        } else {
            for (size_t i = 0; i < n; i++)
                close(fds[i]); /* anything else is not ours to keep */
        }
    }
}

/* Reads one request: length (u32 big-endian) and the bytes, within
 * MN_DOCKLOCK_JOIN_REQUEST_MS; the client's stdout and stderr may come with it (cfds). */
static int read_request(int conn, uint8_t *buf, size_t cap, size_t *len, int cfds[2])
{
    uint8_t hdr[4];
    size_t want = 4, got = 0;
    uint8_t *dst = hdr;
    for (int phase = 0; phase < 2; phase++) {
        while (got < want) {
            struct pollfd p = {.fd = conn, .events = POLLIN};
            int r = poll(&p, 1, MN_DOCKLOCK_JOIN_REQUEST_MS);
            if (r < 0 && errno == EINTR)
                continue; /* another client's SIGIO */
            if (r != 1)
                return -1;
            struct iovec iov = {.iov_base = dst + got, .iov_len = want - got};
            union {
                struct cmsghdr h;
                char raw[CMSG_SPACE(8 * sizeof(int))];
            } ctl;
            struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.raw,
                               .msg_controllen = sizeof(ctl.raw)};
            ssize_t n = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
            if (n <= 0)
                return -1;
            take_fds(&m, cfds);
            got += (size_t)n;
        }
        if (phase == 0) {
            want = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
            if (want == 0 || want > cap)
                return -1;
            got = 0;
            dst = buf;
        }
    }
    *len = want;
    return 0;
}

/* The helper (a child of the supervisor): enters the cage, clones the process as the
 * supervisor's child and reports its host pid (or -errno) on fd. Never returns. */
_Noreturn static void helper(mn__dl_sup *s, const mn_docklock_join *j, const mn__dl_spawn *sp,
                             int fd)
{
    static const char *const kinds[] = {"ipc", "uts", "net", "pid", "mnt"};
    int nsfd[5], rootfd;
    char path[64];
    int32_t code = -EINVAL;
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)s->init_pid, kinds[i]);
        if ((nsfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            goto fail;
    }
    snprintf(path, sizeof(path), "/proc/%d/root", (int)s->init_pid);
    if ((rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        goto fail;
    for (int i = 0; i < 5; i++)
        if (setns(nsfd[i], 0) != 0)
            goto fail;
    if (fchdir(rootfd) != 0 || chroot(".") != 0 || chdir(j->cwd) != 0)
        goto fail;
    long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        if (dup2(sp->fds[0], 0) < 0 || dup2(sp->fds[1], 1) < 0 || dup2(sp->fds[2], 2) < 0)
            _exit(125);
        if (syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) != 0)
            _exit(125);
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(125);
        raise(SIGSTOP); /* the supervisor sets the options and holds it until its turn */
        mn__dl_child_fix(sp, NULL);
        execvpe(j->argv[0], (char *const *)j->argv, (char *const *)j->env);
        /* Traced and recorded from here on: only calls that are not trapped (stdio would
         * fstat, and its arguments are addresses of the supervisor's randomised layout). */
        int e = errno;
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "exec %s: %s\n", j->argv[0], strerror(e));
        (void)!write(2, msg, n > 0 && (size_t)n < sizeof(msg) ? (size_t)n : 0);
        _exit(e == ENOENT ? 127 : 126);
    }
    code = (int32_t)pid;
    (void)!write(fd, &code, sizeof(code));
    _exit(0);
fail:
    code = -errno;
    (void)!write(fd, &code, sizeof(code));
    _exit(1);
}

static int new_memfd(const char *name)
{
    return memfd_create(name, MFD_CLOEXEC);
}

/* Starts the process of request j; on success it is a held task that gets the next turn. */
static void close_pair(int fds[2])
{
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    fds[0] = fds[1] = -1;
}

/* Owns conn and cfds (the client's stdout and stderr, or -1) from here on. */
static int start(mn__dl_sup *s, const mn_docklock_join *j, const uint8_t *req, size_t req_len,
                 int conn, int cfds[2], mn_err *err)
{
    uint32_t slot = 0;
    while (slot < MN_DOCKLOCK_JOINS_LIVE_MAX && s->join.live[slot].pid != 0)
        slot++;
    if (slot == MN_DOCKLOCK_JOINS_LIVE_MAX) {
        reply(conn, "error too many exec'd processes at once\n");
        close_pair(cfds);
        if (conn >= 0)
            close(conn);
        return conn >= 0 ? 0 : mn_err_set(err, MN_ELIMIT, 0, "exec: no free slot");
    }
    int in = new_memfd("exec-stdin"), out = new_memfd("exec-stdout"), er = new_memfd("exec-stderr");
    int p[2] = {-1, -1};
    if (in < 0 || out < 0 || er < 0 || pipe2(p, O_CLOEXEC) != 0) {
        int e = errno;
        close(in), close(out), close(er);
        reply(conn, "error no memory for the process\n");
        close_pair(cfds);
        if (conn >= 0)
            close(conn);
        return mn_err_set(err, MN_ESYS, e, "exec: memfd or pipe");
    }
    mn__dl_spawn sp;
    memset(&sp, 0, sizeof(sp));
    sp.cfg = s->cfg;
    sp.fds[0] = in;
    sp.fds[1] = out;
    sp.fds[2] = er;
    sp.errfd = 2; /* the process's own stderr, after the dup2 */
    cpu_set_t set;
    sp.cpu = 0;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &set)) {
                sp.cpu = i; /* the supervisor is pinned to the guest's CPU */
                break;
            }
    pid_t h = fork();
    if (h == 0)
        helper(s, j, &sp, p[1]);
    close(p[1]);
    close(in);
    int32_t code = h < 0 ? -errno : -EIO;
    if (h > 0) {
        ssize_t n;
        do /* SIGIO (another exec client) may interrupt any wait here */
            n = read(p[0], &code, sizeof(code));
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(code))
            code = -EIO;
        while (waitpid(h, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    close(p[0]);
    int status = 0;
    pid_t w = 0;
    if (code > 0) {
        do
            w = waitpid(code, &status, __WALL);
        while (w < 0 && errno == EINTR);
    }
    if (code > 0 && (w != code || !WIFSTOPPED(status)))
        code = -ECHILD;
    long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP | PTRACE_O_TRACECLONE |
                PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC |
                PTRACE_O_TRACEEXIT | PTRACE_O_TRACESYSGOOD;
    if (code > 0 && ptrace(PTRACE_SETOPTIONS, code, NULL, (void *)opts) != 0)
        code = -errno;
    mn__dl_task *t = code > 0 ? mn__dl_task_new(s, code) : NULL;
    if (t == NULL) {
        if (code > 0) {
            kill(code, SIGKILL);
            waitpid(code, NULL, __WALL);
        }
        close(out), close(er);
        char msg[160];
        snprintf(msg, sizeof(msg), "error cannot enter the container: %s\n",
                 strerror(code < 0 ? -code : EAGAIN));
        reply(conn, msg);
        close_pair(cfds);
        if (conn >= 0)
            close(conn);
        return conn >= 0 ? 0 : mn_err_set(err, MN_ESYS, 0, "%s", msg);
    }
    t->fresh = false;
    t->st = MN__DL_T_HELD;
    t->resume_how = PTRACE_CONT;
    t->tgid = code;
    t->join = slot + 1;
    t->prexec = true;
    s->join.count++;
    mn__dl_joined *jd = &s->join.live[slot];
    *jd = (mn__dl_joined){code, s->join.count, conn, out, er, {cfds[0], cfds[1]}, NULL};
    if (cfds[0] >= 0) {
        /* Its output reaches the client's stdout and stderr as it is written; without a
         * thread it is sent whole at its exit instead. */
        mn_docklock_io sio = {.out_fd = cfds[0], .err_fd = cfds[1], .in_fd = -1, .ctl_fd = -1};
        mn_err serr;
        if (mn__dl_stream_start(&jd->stream, &sio, out, er, -1, &serr) != 0)
            jd->stream = NULL;
    }
    s->handoff = t; /* it runs next: the position is the JOIN record's */
    s->progress++;
    char msg[64];
    snprintf(msg, sizeof(msg), "ok %d\n", (int)code);
    reply(conn, msg);
    return mn__dl_record(s, t, MN_WK_JOIN, s->join.count, NULL, t->vtid, NULL, req, req_len,
                         err);
}

int mn__dl_join_point(mn__dl_sup *s, mn_err *err)
{
    if (!mn__dl_join_due(s))
        return 0;
    static uint8_t req[MN_WITNESS_INLINE_BYTES_MAX];
    static char store[MN_WITNESS_INLINE_BYTES_MAX + MN_DOCKLOCK_JOIN_ARGS_MAX +
                      MN_DOCKLOCK_JOIN_ENV_MAX + 1];
    mn_docklock_join j;
    mn_err derr;
    const mn_docklock_io *io = s->cfg->io;
    if (io->joins != NULL) {
        const mn_docklock_feed *f = &io->joins[s->join.next++];
        if (mn_docklock_join_decode(f->data, f->len, &j, store, sizeof(store), &derr) != 0)
            return mn_err_set(err, MN_ECORRUPT, 0, "recorded exec: %s", derr.msg);
        int none[2] = {-1, -1};
        return start(s, &j, f->data, f->len, -1, none, err);
    }
    int conn = accept4(s->join.ctl, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0)
        return 0;
    join_signal = 1; /* another client may wait too: the next boundary looks again */
    size_t len = 0;
    int cfds[2] = {-1, -1};
    if (read_request(conn, req, sizeof(req), &len, cfds) != 0) {
        reply(conn, "error no request\n");
        close_pair(cfds);
        close(conn);
        return 0;
    }
    if (mn_docklock_join_decode(req, len, &j, store, sizeof(store), &derr) != 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "error %s\n", derr.msg);
        reply(conn, msg);
        close_pair(cfds);
        close(conn);
        return 0;
    }
    int flags = fcntl(conn, F_GETFL);
    if (flags >= 0)
        (void)fcntl(conn, F_SETFL, flags & ~O_NONBLOCK); /* replies are written whole */
    return start(s, &j, req, len, conn, cfds, err); /* owns conn and cfds from here */
}

static int read_all(int fd, mn_buf *out, mn_err *err)
{
    uint8_t chunk[65536];
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, chunk, sizeof(chunk), off);
        if (n <= 0)
            return n < 0 ? mn_err_set(err, MN_ESYS, errno, "read exec output") : 0;
        MN_TRY(mn_buf_append(out, chunk, (size_t)n, err));
        off += n;
    }
}

static void send_all(int conn, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(conn, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client went away (exec --detach): the run goes on */
        p += n;
        len -= (size_t)n;
    }
}

int mn__dl_join_exit(mn__dl_sup *s, mn__dl_task *t, int status, mn_err *err)
{
    mn__dl_joined *jd = &s->join.live[t->join - 1];
    t->join = 0;
    bool streamed = jd->stream != NULL;
    (void)mn__dl_stream_stop(jd->stream, NULL, err); /* the last bytes copied, then it ends */
    jd->stream = NULL;
    close_pair(jd->dst);
    mn_buf bufs[2];
    mn_buf_init(&bufs[0], 0);
    mn_buf_init(&bufs[1], 0);
    int rc = read_all(jd->out, &bufs[0], err);
    if (rc == 0)
        rc = read_all(jd->err, &bufs[1], err);
    for (uint32_t i = 0; i < 2 && rc == 0; i++) {
        uint8_t root[32];
        mn_docklock_output_root(bufs[i].data, bufs[i].len, root);
        uint64_t args[6] = {i + 1, jd->number, 0, 0, 0, 0};
        rc = mn__dl_record(s, t, MN_WK_OUTPUT, i + 1, args, (int64_t)bufs[i].len, root, NULL,
                           0, err);
    }
    if (jd->conn >= 0) {
        /* status (the wait status), then the two lengths, all u32 big-endian, then bytes;
         * streamed output was written to the client's own stdout and stderr already */
        size_t ol = streamed ? 0 : bufs[0].len, el = streamed ? 0 : bufs[1].len;
        uint32_t v[3] = {(uint32_t)status, (uint32_t)ol, (uint32_t)el};
        uint8_t hdr[12];
        for (int i = 0; i < 3; i++)
            for (int b = 0; b < 4; b++)
                hdr[i * 4 + b] = (uint8_t)(v[i] >> (24 - 8 * b));
        send_all(jd->conn, hdr, sizeof(hdr));
        send_all(jd->conn, bufs[0].data, ol);
        send_all(jd->conn, bufs[1].data, el);
        close(jd->conn);
    }
    close(jd->out);
    close(jd->err);
    mn_buf_deinit(&bufs[0]);
    mn_buf_deinit(&bufs[1]);
    memset(jd, 0, sizeof(*jd));
    return rc;
}

void mn__dl_join_close(mn__dl_sup *s)
{
    for (uint32_t i = 0; i < MN_DOCKLOCK_JOINS_LIVE_MAX; i++) {
        mn__dl_joined *jd = &s->join.live[i];
        if (jd->pid == 0)
            continue;
        reply(jd->conn, "error the container ended first\n");
        (void)mn__dl_stream_stop(jd->stream, NULL, NULL);
        close_pair(jd->dst);
        if (jd->conn >= 0)
            close(jd->conn);
        close(jd->out);
        close(jd->err);
        memset(jd, 0, sizeof(*jd));
    }
}
