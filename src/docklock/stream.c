/* SPDX-License-Identifier: Apache-2.0
 *
 * stream.c: the guest's output reaches the caller while it is written (mn_docklock_io.out_fd,
 * err_fd). The guest writes to memfds, as in every run (writes never block and the receipt's
 * output roots are computed from the memfds' whole contents after the run, unchanged); a
 * thread of the supervisor's process follows the memfds' growth and copies new bytes to the
 * caller's descriptors (the fifos a container manager gives), looking again after 1 ms while
 * output flows and backing off to 20 ms when it does not. With a terminal the guest writes to
 * a pty: the thread reads the pty's master (what a terminal would show: the guest's output
 * after the line discipline, echo included), keeps it as the run's stdout and copies it on.
 * The thread blocks every signal (SIGCHLD and SIGALRM belong to the supervisor's loop; a
 * closed reader gives EPIPE, not SIGPIPE) and never touches ptrace or the witness.
 * Not here: input (input.c), the output roots (run.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct mn__dl_stream {
    pthread_t thread;
    atomic_bool stop;
    int wake[2];        /* stop writes a byte: the thread's nap ends at once */
    int src[2], dst[2]; /* memfds and their destinations (-1: none) */
    off_t off[2];
    bool dst_broken[2]; /* the caller's reader went away: copying stops, the run goes on */
    int tty;            /* pty master, or -1 */
    int tty_dst;
    mn_buf tty_out;
    bool tty_full;
};

static void write_all(int fd, bool *broken, const uint8_t *p, size_t len)
{
    while (len > 0 && !*broken) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *broken = true;
            return;
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Copies what memfd i gained since the last look; true if there was something. */
static bool copy_memfd(mn__dl_stream *st, int i)
{
    uint8_t buf[65536];
    bool any = false;
    for (;;) {
        ssize_t n = pread(st->src[i], buf, sizeof(buf), st->off[i]);
        if (n <= 0)
            return any;
        any = true;
        st->off[i] += n;
        write_all(st->dst[i], &st->dst_broken[i], buf, (size_t)n);
    }
}

/* Reads what the pty's master has; false at its end (every slave closed and drained). */
static bool copy_tty(mn__dl_stream *st, int wait_ms)
{
    struct pollfd p = {.fd = st->tty, .events = POLLIN};
    int r = poll(&p, 1, wait_ms);
    if (r <= 0)
        return r == 0 || errno == EINTR;
    uint8_t buf[65536];
    ssize_t n = read(st->tty, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0)
        return false; /* EIO: no slave left */
    if (st->tty_out.len + (size_t)n > MN_DOCKLOCK_TTY_OUTPUT_BYTES_MAX)
        st->tty_full = true;
    mn_err err;
    if (!st->tty_full && mn_buf_append(&st->tty_out, buf, (size_t)n, &err) != 0)
        st->tty_full = true;
    if (st->tty_dst >= 0)
        write_all(st->tty_dst, &st->dst_broken[0], buf, (size_t)n);
    return true;
}

static void *stream_main(void *arg)
{
    mn__dl_stream *st = arg;
    /* Off the guest's CPU: the supervisor pinned itself there before the thread began. */
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < CPU_SETSIZE; i++)
        CPU_SET(i, &all);
    (void)sched_setaffinity(0, sizeof(all), &all);
    if (st->tty >= 0) {
        /* Until the guest's last holder of the slave is gone (read gives EIO), then the
         * thread ends by itself: stop only tells it that the supervisor waits. */
        while (copy_tty(st, 20)) {
        }
        return NULL;
    }
    unsigned nap_us = 1000;
    for (;;) {
        bool last = atomic_load(&st->stop);
        bool any = false;
        for (int i = 0; i < 2; i++)
            if (st->src[i] >= 0 && st->dst[i] >= 0)
                any |= copy_memfd(st, i);
        if (last)
            return NULL; /* the guest is gone: that copy was the final one */
        nap_us = any ? 1000 : (nap_us * 2 > 20000 ? 20000 : nap_us * 2);
        struct pollfd p = {.fd = st->wake[0], .events = POLLIN};
        (void)poll(&p, 1, (int)(nap_us / 1000));
    }
}

int mn__dl_stream_start(mn__dl_stream **out, const mn_docklock_io *io, int out_memfd,
                        int err_memfd, int tty_master, mn_err *err)
{
    *out = NULL;
    bool tty = io != NULL && io->terminal && io->live_in;
    if (io == NULL || (!tty && io->out_fd < 0 && io->err_fd < 0))
        return 0;
    mn__dl_stream *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "stream");
    atomic_init(&st->stop, false);
    if (pipe2(st->wake, O_CLOEXEC) != 0) {
        free(st);
        return mn_err_set(err, MN_ESYS, errno, "pipe");
    }
    st->src[0] = out_memfd;
    st->src[1] = err_memfd;
    st->dst[0] = io->out_fd;
    st->dst[1] = io->err_fd;
    st->tty = tty ? tty_master : -1;
    st->tty_dst = io->out_fd;
    mn_buf_init(&st->tty_out, 0);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread starts with every signal blocked */
    /* SCHED_OTHER: the supervisor runs SCHED_FIFO by now, and the thread must never
     * preempt the guest. */
    pthread_attr_t attr;
    struct sched_param prio = {.sched_priority = 0};
    pthread_attr_init(&attr);
    pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&attr, SCHED_OTHER);
    pthread_attr_setschedparam(&attr, &prio);
    int rc = pthread_create(&st->thread, &attr, stream_main, st);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        mn_buf_deinit(&st->tty_out);
        close(st->wake[0]);
        close(st->wake[1]);
        free(st);
        return mn_err_set(err, MN_ESYS, rc, "output thread");
    }
    *out = st;
    return 0;
}

int mn__dl_stream_stop(mn__dl_stream *st, mn_buf *tty_out, mn_err *err)
{
    if (st == NULL)
        return 0;
    atomic_store(&st->stop, true);
    (void)!write(st->wake[1], "x", 1);
    pthread_join(st->thread, NULL);
    close(st->wake[0]);
    close(st->wake[1]);
    int rc = 0;
    if (st->tty >= 0 && tty_out != NULL) {
        rc = st->tty_full ? mn_err_set(err, MN_ELIMIT, 0, "terminal output over %u bytes",
                                       MN_DOCKLOCK_TTY_OUTPUT_BYTES_MAX)
                          : mn_buf_append(tty_out, st->tty_out.data, st->tty_out.len, err);
    }
    mn_buf_deinit(&st->tty_out);
    free(st);
    return rc;
}
