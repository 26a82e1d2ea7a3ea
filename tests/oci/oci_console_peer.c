/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_console_peer.c: plays a container manager's side of runc's console-socket protocol for
 * the tests (what conmon or containerd's shim do for `podman run -it`): listens on a unix
 * socket, runs a command that is given the socket (docklock create/run --console-socket S),
 * receives the pty master it sends (SCM_RIGHTS), types INPUT into it in one write, and copies
 * everything the terminal shows to stdout until the console closes. Exits with the command's
 * status (or 100 + a step number when the protocol fails).
 * Usage: oci_console_peer SOCKET INPUT COMMAND [ARGS...]
 * Not here: anything docklock-specific (it would work with runc).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int recv_fd(int conn)
{
    char name[256];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    if (recvmsg(conn, &msg, 0) <= 0)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(fd));
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: oci_console_peer SOCKET INPUT COMMAND [ARGS...]\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof(addr.sun_path))
        return 101;
    strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(ls, 1) != 0)
        return 102;
    pid_t pid = fork();
    if (pid == 0) {
        close(ls);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    struct pollfd p = {.fd = ls, .events = POLLIN};
    if (poll(&p, 1, 30000) != 1) {
        fprintf(stderr, "oci_console_peer: no connection\n");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 103;
    }
    int conn = accept(ls, NULL, NULL);
    int master = conn >= 0 ? recv_fd(conn) : -1;
    if (master < 0) {
        fprintf(stderr, "oci_console_peer: no descriptor received\n");
        waitpid(pid, NULL, 0);
        return 104;
    }
    close(conn);
    close(ls);
    setvbuf(stdout, NULL, _IONBF, 0);
    size_t len = strlen(argv[2]);
    if (len > 0 && write(master, argv[2], len) != (ssize_t)len)
        return 105;
    char buf[4096];
    for (;;) {
        struct pollfd q = {.fd = master, .events = POLLIN};
        if (poll(&q, 1, 30000) != 1)
            break; /* 30 s of silence: give up */
        ssize_t n = read(master, buf, sizeof(buf));
        if (n <= 0)
            break; /* EIO: the runtime's end of the console is closed */
        fwrite(buf, 1, (size_t)n, stdout);
    }
    fflush(stdout);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
