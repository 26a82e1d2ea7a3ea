// SPDX-License-Identifier: Apache-2.0
// pause.c: the pod sandbox ("pause") program of the CRI test (tests/oci/test_cri.sh), linked
// statically and packaged as the sandbox image, so no image has to come from a registry. It
// waits for a signal and exits 0 on SIGINT or SIGTERM (the stop containerd sends first), so a
// sandbox stops cleanly; SIGKILL ends it anyway. It also reaps children, as a pid-namespace
// init must. Not here: anything else Kubernetes' own pause does (it has nothing else either).
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_child(int sig)
{
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void)
{
    /* SIGINT/SIGTERM stay blocked except inside sigsuspend, so a stop cannot slip in between
     * the test of stop_requested and the wait. */
    sigset_t stops, waiting;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &stops, &waiting) != 0)
        return 1;
    sigdelset(&waiting, SIGINT);
    sigdelset(&waiting, SIGTERM);
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return 1;
    sa.sa_handler = on_child;
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) != 0)
        return 1;
    while (!stop_requested)
        sigsuspend(&waiting);
    return 0;
}
