/* SPDX-License-Identifier: Apache-2.0
 *
 * ptrace.c: the supervisor's access to a stopped tracee: registers (PTRACE_GETREGS/SETREGS),
 * memory (process_vm_readv to read; /proc/PID/mem to write, which as the tracer also reaches
 * read-only and executable pages such as the vDSO), the tracee's tid inside its pid namespace
 * and its scheduler state letter. Every address comes from the guest and is untrusted: a bad
 * one is an error return, never a crash. Not here: deciding what to read or write (emulate.c,
 * vdso.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

int mn__dl_read_mem(pid_t pid, uint64_t addr, void *out, size_t len)
{
    struct iovec local = {out, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return n == (ssize_t)len ? 0 : -1;
}

int mn__dl_write_mem(pid_t pid, uint64_t addr, const void *data, size_t len)
{
    /* One syscall when the pages are writable (answers into guest buffers); the vDSO text
     * and other read-only pages need the tracer's forced write through /proc/PID/mem. */
    struct iovec local = {(void *)(uintptr_t)data, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pwrite(fd, data, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

int mn__dl_get_regs(pid_t pid, struct user_regs_struct *regs)
{
    return ptrace(PTRACE_GETREGS, pid, NULL, regs) == 0 ? 0 : -1;
}

int mn__dl_set_regs(pid_t pid, const struct user_regs_struct *regs)
{
    return ptrace(PTRACE_SETREGS, pid, NULL, regs) == 0 ? 0 : -1;
}

int mn__dl_ns_tid(pid_t pid, uint32_t *vtid, pid_t *tgid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    int rc = -1;
    *tgid = pid;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "Tgid:", 5) == 0)
            *tgid = (pid_t)strtol(line + 5, NULL, 10);
        if (strncmp(line, "NSpid:", 6) != 0)
            continue;
        /* NSpid lists the id in each namespace, outermost first: take the last one. */
        char *last = NULL, *save = NULL;
        for (char *tok = strtok_r(line + 6, " \t\n", &save); tok != NULL;
             tok = strtok_r(NULL, " \t\n", &save))
            last = tok;
        if (last != NULL) {
            *vtid = (uint32_t)strtoul(last, NULL, 10);
            rc = 0;
        }
        break; /* Tgid comes before NSpid */
    }
    fclose(f);
    return rc;
}

char mn__dl_task_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the command name may hold any byte */
    return paren != NULL && paren[1] == ' ' && paren[2] != '\0' ? paren[2] : '?';
}
