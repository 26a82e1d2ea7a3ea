/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_console.c: a container's stdio as the shim gives it to the cage (docs/oci.md §2.2).
 * Output is streamed to the shim's stdout and stderr (the fifos a manager passed to create)
 * as the guest writes it. Input is live when create's stdin is a pipe, socket, file or a
 * terminal (not /dev/null, not closed): the cage then feeds it to the guest at idle points,
 * each piece recorded in the witness. With process.terminal and --console-socket S this file
 * speaks runc's console protocol: it makes a pty, sends the master to the unix socket S
 * (SCM_RIGHTS, the payload its name, as runc does) and keeps the slave, in raw mode, as the
 * container's console: what the manager types arrives there and is the cage's live input, and
 * the cage's own pty's output is written back there. The cage's pty (the guest's controlling
 * terminal, input.c) is a second one, so that every byte the guest reads passes the witness.
 * Not here: the cage side (src/docklock/input.c, stream.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "oci_console.h"
#include "oci_cli.h"

static int send_fd(const char *path, int fd)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return oci_fail("create: --console-socket %s: path too long", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return oci_fail("create: console socket: %s", strerror(errno));
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        int e = errno;
        close(s);
        return oci_fail("create: connect to console socket %s: %s", path, strerror(e));
    }
    char name[] = "/dev/ptmx";
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    ssize_t n;
    do
        n = sendmsg(s, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(s);
    return n < 0 ? oci_fail("create: send the console to %s: %s", path, strerror(e)) : -1;
}

int oci_console_send(const char *socket_path, int *slave)
{
    *slave = -1;
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[64];
    if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, sizeof(name)) != 0) {
        int e = errno;
        if (m >= 0)
            close(m);
        return oci_fail("create: console pty: %s", strerror(e));
    }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios tio;
    if (s < 0 || tcgetattr(s, &tio) != 0) {
        int e = errno;
        close(m);
        if (s >= 0)
            close(s);
        return oci_fail("create: console %s: %s", name, strerror(e));
    }
    /* Raw: a transparent channel between the manager and the cage's own pty, whose line
     * discipline (echo, canonical mode, ONLCR) is the one the guest sees and sets. */
    cfmakeraw(&tio);
    (void)tcsetattr(s, TCSANOW, &tio);
    int rc = send_fd(socket_path, m);
    close(m);
    if (rc >= 0) {
        close(s);
        return rc;
    }
    *slave = s;
    return -1;
}

/* Live input unless stdin is closed or /dev/null (what managers give a container without
 * stdin): then the run is exactly as before, with empty stdin and no live-input records. */
static bool stdin_live(void)
{
    struct stat st;
    if (fstat(0, &st) != 0)
        return false;
    if (S_ISCHR(st.st_mode))
        return !(major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
    return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISREG(st.st_mode);
}

void oci_shim_io(mn_docklock_io *io, int console)
{
    memset(io, 0, sizeof(*io));
    io->ctl_fd = -1;
    if (console >= 0) {
        io->live_in = io->terminal = true;
        io->in_fd = io->out_fd = console;
        io->err_fd = -1;
        return;
    }
    io->out_fd = 1;
    io->err_fd = 2;
    io->live_in = stdin_live();
    io->in_fd = io->live_in ? 0 : -1;
}
