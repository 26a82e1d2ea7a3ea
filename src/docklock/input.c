/* SPDX-License-Identifier: Apache-2.0
 *
 * input.c: live input of a run (mn_docklock_io.live_in): the guest's stdin is a pipe, or with
 * a terminal its stdin, stdout and stderr are the slave of a pty, and the supervisor writes
 * into the other end only at idle points of its turn scheduler, when every guest task is held
 * and blocked (nothing in the guest can happen before input does). Each delivery is an INPUT
 * record (nr MN__DL_INPUT_LIVE, the bytes inline) at that position of the witness, so the
 * bytes every read returns are fixed by the witness: replay delivers the recorded chunks at
 * the same positions (mn_docklock_io.feed). The end of the host's input is a delivery of zero
 * bytes: the pipe's write end is closed (the guest reads EOF); a pty stays open (its output
 * is still the run's stdout). The mode and the pty's fixed window size are an INPUT record
 * (nr MN__DL_INPUT_MODE) before the run, so replay makes the same kind of stdin.
 * Not here: the scheduler's idle test (supervisor.c), copying output (stream.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_ROWS 24u
#define DEFAULT_COLS 80u

static int make_pty(mn__dl_input *in, const mn_docklock_io *io, mn_err *err)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return mn_err_set(err, MN_ESYS, errno, "posix_openpt");
    char name[64];
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof(name)) != 0) {
        close(m);
        return mn_err_set(err, MN_ESYS, errno, "pty");
    }
    int sl = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (sl < 0) {
        close(m);
        return mn_err_set(err, MN_ESYS, errno, "open %s", name);
    }
    /* A fixed size: the guest's TIOCGWINSZ is answered by the kernel from it in every run. */
    struct winsize ws = {.ws_row = io->rows != 0 ? io->rows : DEFAULT_ROWS,
                         .ws_col = io->cols != 0 ? io->cols : DEFAULT_COLS};
    if (ioctl(m, TIOCSWINSZ, &ws) != 0) {
        close(m);
        close(sl);
        return mn_err_set(err, MN_ESYS, errno, "TIOCSWINSZ");
    }
    in->pipe_w = m;
    in->guest_fd = sl;
    return 0;
}

int mn__dl_input_setup(mn__dl_sup *s, int fds[3], mn_err *err)
{
    mn__dl_input *in = &s->in;
    const mn_docklock_io *io = s->cfg->io;
    in->pipe_w = in->guest_fd = in->host_fd = -1;
    if (io == NULL || !io->live_in)
        return 0;
    in->active = in->open = true;
    in->tty = io->terminal;
    in->host_fd = io->feed != NULL ? -1 : io->in_fd;
    if (in->tty) {
        MN_TRY(make_pty(in, io, err));
        fds[0] = fds[1] = fds[2] = in->guest_fd;
    } else {
        int p[2];
        if (pipe2(p, O_CLOEXEC) != 0)
            return mn_err_set(err, MN_ESYS, errno, "stdin pipe");
        in->guest_fd = p[0];
        in->pipe_w = p[1];
        fds[0] = p[0];
    }
    if (fcntl(in->pipe_w, F_SETFL, O_NONBLOCK) != 0)
        return mn_err_set(err, MN_ESYS, errno, "O_NONBLOCK");
    struct winsize ws = {0};
    if (in->tty)
        (void)ioctl(in->pipe_w, TIOCGWINSZ, &ws);
    uint64_t args[6] = {in->tty ? 2u : 1u, ws.ws_row, ws.ws_col, 0, 0, 0};
    return mn__dl_record(s, NULL, MN_WK_INPUT, MN__DL_INPUT_MODE, args, 0, NULL, NULL, 0, err);
}

void mn__dl_input_child_started(mn__dl_sup *s)
{
    if (s->in.guest_fd >= 0) {
        close(s->in.guest_fd); /* the guest holds it now: EOF and hang-up follow the guest */
        s->in.guest_fd = -1;
    }
}

/* Records and (for a pipe) closes at the end of the input. */
static int deliver_eof(mn__dl_sup *s, mn_err *err)
{
    mn__dl_input *in = &s->in;
    in->open = false;
    in->awaiting = false;
    if (!in->tty && in->pipe_w >= 0) {
        close(in->pipe_w);
        in->pipe_w = -1;
    }
    uint64_t args[6] = {0, in->offset, 0, 0, 0, 0};
    return mn__dl_record(s, NULL, MN_WK_INPUT, MN__DL_INPUT_LIVE, args, 0, NULL, NULL, 0, err);
}

/* Writes up to len bytes without blocking; returns how many the pipe or pty took. */
static size_t push(mn__dl_input *in, const uint8_t *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(in->pipe_w, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

static int record_chunk(mn__dl_sup *s, const uint8_t *data, size_t len, mn_err *err)
{
    uint64_t args[6] = {0, s->in.offset, len, 0, 0, 0};
    s->in.offset += len;
    return mn__dl_record(s, NULL, MN_WK_INPUT, MN__DL_INPUT_LIVE, args, (int64_t)len, NULL,
                         data, len, err);
}

/* Replay: the recorded delivery, when this idle point is where it was made (or nothing else
 * can happen). A chunk is pushed whole: in the recorded run the same pipe or pty in the same
 * state took it whole. */
static int idle_replay(mn__dl_sup *s, bool timed, bool *delivered, mn_err *err)
{
    mn__dl_input *in = &s->in;
    const mn_docklock_io *io = s->cfg->io;
    if (in->next_feed >= io->feedc) {
        in->open = false; /* the recorded run ended waiting: nothing more will come */
        return 0;
    }
    const mn_docklock_feed *f = &io->feed[in->next_feed];
    if (f->seq > s->seq && timed)
        return 0; /* a timeout came first in the recorded run */
    in->next_feed++;
    *delivered = true;
    if (f->len == 0)
        return deliver_eof(s, err);
    size_t done = 0;
    for (int tries = 0; done < f->len && tries < 1000; tries++) {
        done += push(in, f->data + done, f->len - done);
        if (done < f->len)
            usleep(1000);
    }
    return record_chunk(s, f->data, f->len, err);
}

int mn__dl_input_idle(mn__dl_sup *s, bool timed, bool *delivered, mn_err *err)
{
    mn__dl_input *in = &s->in;
    *delivered = false;
    in->awaiting = false;
    if (!in->active || !in->open)
        return 0;
    if (in->host_fd < 0)
        return idle_replay(s, timed, delivered, err);
    if (in->pend_len == 0) {
        struct pollfd p = {.fd = in->host_fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1) {
            ssize_t n = read(in->host_fd, in->pend, sizeof(in->pend));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                n = -2; /* nothing after all */
            if (n == 0 || n == -1) { /* EOF; a pty whose other end closed reads EIO */
                *delivered = true;
                return deliver_eof(s, err);
            }
            in->pend_len = n > 0 ? (size_t)n : 0;
        }
    }
    size_t took = in->pend_len > 0 ? push(in, in->pend, in->pend_len) : 0;
    if (took == 0) {
        in->awaiting = !timed; /* nothing but input can end this: wait for it */
        return 0;
    }
    *delivered = true;
    int rc = record_chunk(s, in->pend, took, err);
    memmove(in->pend, in->pend + took, in->pend_len - took);
    in->pend_len -= took;
    return rc;
}

bool mn__dl_input_wait(mn__dl_sup *s, int ms)
{
    if (s->in.host_fd < 0 || s->in.pend_len > 0) {
        usleep((useconds_t)ms * 1000u); /* a full pipe nobody reads: as natively, it waits */
        return false;
    }
    struct pollfd p[2] = {{.fd = s->in.host_fd, .events = POLLIN},
                          {.fd = s->join.ctl, .events = POLLIN}}; /* an exec, join.c */
    return poll(p, s->join.ctl >= 0 ? 2 : 1, ms) != 0;
}

void mn__dl_input_close(mn__dl_sup *s)
{
    mn__dl_input_child_started(s);
    if (s->in.pipe_w >= 0)
        close(s->in.pipe_w);
    s->in.pipe_w = -1;
}
