/* SPDX-License-Identifier: Apache-2.0
 *
 * esc_attempts.c: tries the cage's known escape hatches one by one and prints, for each,
 * "name: blocked (reason)" or "name: ESCAPED": ptrace, mount, io_uring, bpf, userfaultfd,
 * writing /proc/self/mem, raw and inet sockets, writing a sysctl, re-enabling rdtsc, turning
 * ASLR back on, unshare, signalling processes outside the cage (only pid 1 may be visible),
 * and reading the host clock's [vvar] page. Exits 1 if anything escaped. Never run it natively
 * as root: there most of these succeed (the mount would cover the host's /tmp).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int escaped;

static void report(const char *name, int ok)
{
    if (ok) {
        printf("%s: ESCAPED\n", name);
        escaped = 1;
    } else {
        printf("%s: blocked (%s)\n", name, strerror(errno));
    }
}

static int write_self_mem(void)
{
    int fd = open("/proc/self/mem", O_RDWR);
    if (fd < 0)
        return 0;
    static volatile char target = 'a';
    char b = 'b';
    int ok = pwrite(fd, &b, 1, (off_t)(unsigned long)&target) == 1;
    close(fd);
    return ok;
}

/* Reads the host clock's data page ([vvar]) in a child: escaped if the child survives. */
static int read_vvar(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long start = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, "[vvar]") != NULL)
            sscanf(line, "%lx-", &start);
    if (f != NULL)
        fclose(f);
    if (start == 0) {
        errno = ENOENT;
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0)
        _exit(*(volatile unsigned char *)start == 0xff ? 3 : 0);
    int st = 0;
    waitpid(pid, &st, 0);
    errno = EFAULT;
    return !(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
}

static int other_process_visible(void)
{
    for (pid_t p = 2; p < 4096; p++)
        if (p != getpid() && kill(p, 0) == 0)
            return 1;
    errno = ESRCH;
    return 0;
}

int main(void)
{
    struct io_uring_params up;
    memset(&up, 0, sizeof(up));
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    report("ptrace", ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0);
    report("mount", mount("none", "/tmp", "tmpfs", 0, NULL) == 0);
    report("io_uring", syscall(SYS_io_uring_setup, 4, &up) >= 0);
    report("bpf", syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr)) >= 0);
    report("userfaultfd", syscall(SYS_userfaultfd, 0) >= 0);
    report("proc_self_mem", write_self_mem());
    report("raw_socket", socket(AF_INET, SOCK_RAW, 1) >= 0);
    report("inet_socket", socket(AF_INET, SOCK_STREAM, 0) >= 0);
    int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
    report("sysctl_write", fd >= 0 && write(fd, "1", 1) == 1);
    report("rdtsc_enable", prctl(PR_SET_TSC, PR_TSC_ENABLE, 0, 0, 0) == 0);
    report("aslr_on", personality(0) != -1 && personality(0) == 0);
    report("unshare", unshare(CLONE_NEWNS) == 0);
    report("see_other_processes", other_process_visible());
    report("read_vvar", read_vvar());
    return escaped;
}
