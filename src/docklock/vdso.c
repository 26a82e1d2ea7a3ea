/* SPDX-License-Identifier: Apache-2.0
 *
 * vdso.c: what the supervisor does at every exec stop (PTRACE_EVENT_EXEC), before the new
 * program runs a single instruction: walk the new stack to the auxiliary vector, overwrite the
 * 16 AT_RANDOM bytes (stack canary, pointer guard) from the task's seeded stream, patch the
 * vDSO's clock_gettime, gettimeofday, time, clock_getres and getcpu entries (the __vdso_ names
 * and their aliases) into `mov $nr,%eax; syscall; ret` so the libc takes the trapped syscall,
 * patch getrandom into `mov $-ENOSYS,%rax; ret`, and turn AT_SYSINFO_EHDR into AT_IGNORE so a
 * libc that looks for the vDSO does not find it, and finally make the tracee mprotect its
 * [vvar] pages PROT_NONE (one injected syscall), so code that finds them through
 * /proc/self/maps faults instead of reading the host's clock. The vDSO image, the stack and the
 * maps are read from the tracee and bounds-checked like any untrusted input.
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

/* Largest vDSO image read (the x86-64 vDSO is 8 KiB). */
#define VDSO_BYTES_MAX (64u * 1024u)
/* Bounds on the walk from argc to the end of the auxv. */
#define STACK_WORDS_MAX (2u * (MN_WITNESS_ARGV_MAX + MN_WITNESS_ENV_MAX) + 4096u)

static const struct {
    const char *name;
    long nr; /* -1: getrandom, answered -ENOSYS so libc falls back to the syscall */
} patched[] = {
    {"__vdso_clock_gettime", SYS_clock_gettime}, {"clock_gettime", SYS_clock_gettime},
    {"__vdso_gettimeofday", SYS_gettimeofday},   {"gettimeofday", SYS_gettimeofday},
    {"__vdso_time", SYS_time},                   {"time", SYS_time},
    {"__vdso_clock_getres", SYS_clock_getres},   {"clock_getres", SYS_clock_getres},
    {"__vdso_getcpu", SYS_getcpu},               {"getcpu", SYS_getcpu},
    {"__vdso_getrandom", -1},                    {"getrandom", -1},
};

static long patch_nr(const char *name, size_t max)
{
    for (size_t i = 0; i < sizeof(patched) / sizeof(patched[0]); i++)
        if (strnlen(name, max) < max && strcmp(name, patched[i].name) == 0)
            return patched[i].nr;
    return 0;
}

static int write_stub(pid_t pid, uint64_t addr, long nr)
{
    uint8_t stub[8];
    if (nr < 0) {
        static const uint8_t enosys[8] = {0x48, 0xc7, 0xc0, 0xda, 0xff, 0xff, 0xff, 0xc3};
        memcpy(stub, enosys, 8);
    } else {
        stub[0] = 0xb8; /* mov $nr, %eax */
        stub[1] = (uint8_t)nr;
        stub[2] = (uint8_t)(nr >> 8);
        stub[3] = 0;
        stub[4] = 0;
        stub[5] = 0x0f; /* syscall */
        stub[6] = 0x05;
        stub[7] = 0xc3; /* ret */
    }
    return mn__dl_write_mem(pid, addr, stub, sizeof(stub));
}

static bool in_image(size_t off, size_t len, size_t size)
{
    return off <= size && len <= size - off;
}

/* The vaddr the image was linked at (first PT_LOAD), so symbol values become offsets. */
static int link_base(const uint8_t *img, size_t size, const Elf64_Ehdr *eh, uint64_t *base)
{
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        size_t off = eh->e_phoff + (size_t)i * sizeof(Elf64_Phdr);
        if (!in_image(off, sizeof(Elf64_Phdr), size))
            return -1;
        Elf64_Phdr ph;
        memcpy(&ph, img + off, sizeof(ph));
        if (ph.p_type == PT_LOAD) {
            *base = ph.p_vaddr;
            return 0;
        }
    }
    return -1;
}

static int patch_symbols(pid_t pid, uint64_t vdso, const uint8_t *img, size_t size,
                         const Elf64_Shdr *sym, const Elf64_Shdr *str, uint64_t base,
                         uint64_t *syscall_insn)
{
    if (!in_image(sym->sh_offset, sym->sh_size, size) ||
        !in_image(str->sh_offset, str->sh_size, size) || str->sh_size == 0)
        return -1;
    int patched_count = 0;
    for (size_t off = 0; off + sizeof(Elf64_Sym) <= sym->sh_size; off += sizeof(Elf64_Sym)) {
        Elf64_Sym s;
        memcpy(&s, img + sym->sh_offset + off, sizeof(s));
        if (s.st_name >= str->sh_size || ELF64_ST_TYPE(s.st_info) != STT_FUNC)
            continue;
        long nr = patch_nr((const char *)img + str->sh_offset + s.st_name,
                           str->sh_size - s.st_name);
        if (nr == 0 || s.st_value < base || !in_image(s.st_value - base, 8, size))
            continue;
        if (write_stub(pid, vdso + (s.st_value - base), nr) != 0)
            return -1;
        if (nr > 0)
            *syscall_insn = vdso + (s.st_value - base) + 5; /* the stub's `syscall` */
        patched_count++;
    }
    return patched_count > 0 ? 0 : -1;
}

static int patch_vdso(pid_t pid, uint64_t vdso, uint64_t *syscall_insn)
{
    Elf64_Ehdr eh;
    if (mn__dl_read_mem(pid, vdso, &eh, sizeof(eh)) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
        eh.e_phentsize != sizeof(Elf64_Phdr))
        return -1;
    size_t size = eh.e_shoff + (size_t)eh.e_shnum * sizeof(Elf64_Shdr);
    if (eh.e_shoff > VDSO_BYTES_MAX || size > VDSO_BYTES_MAX)
        return -1;
    uint8_t *img = malloc(size);
    int rc = -1;
    uint64_t base = 0;
    if (img == NULL || mn__dl_read_mem(pid, vdso, img, size) != 0 ||
        link_base(img, size, &eh, &base) != 0)
        goto out;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh, str;
        memcpy(&sh, img + eh.e_shoff + (size_t)i * sizeof(sh), sizeof(sh));
        if (sh.sh_type != SHT_DYNSYM || sh.sh_link >= eh.e_shnum)
            continue;
        memcpy(&str, img + eh.e_shoff + (size_t)sh.sh_link * sizeof(str), sizeof(str));
        rc = patch_symbols(pid, vdso, img, size, &sh, &str, base, syscall_insn);
        break;
    }
out:
    free(img);
    return rc;
}

/* Makes the tracee run mprotect(start, len, PROT_NONE) on the `syscall` instruction of a
 * patched stub (one single step), then restores its registers. */
static int inject_mprotect_none(pid_t pid, uint64_t insn, uint64_t start, uint64_t len)
{
    struct user_regs_struct saved, r;
    if (mn__dl_get_regs(pid, &saved) != 0)
        return -1;
    r = saved;
    r.rax = SYS_mprotect;
    r.rdi = start;
    r.rsi = len;
    r.rdx = PROT_NONE;
    r.rip = insn;
    /* At the exec stop the task is still inside execve: the first step may stop at that
     * syscall's exit (with rax overwritten) before our instruction ran, so step until the
     * instruction after `syscall` is reached. */
    struct user_regs_struct after;
    for (int step = 0; step < 3; step++) {
        int status = 0;
        if (mn__dl_set_regs(pid, &r) != 0 || ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0)
            return -1;
        /* The supervisor's SIGALRM (no SA_RESTART, supervisor.c) may interrupt the wait: a
         * loaded machine made this step fail the whole run with EINTR. */
        pid_t w;
        while ((w = waitpid(pid, &status, __WALL)) < 0 && errno == EINTR) {
        }
        if (w != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP ||
            mn__dl_get_regs(pid, &after) != 0)
            return -1;
        if (after.rip == insn + 2)
            return mn__dl_set_regs(pid, &saved) == 0 && after.rax == 0 ? 0 : -1;
    }
    return -1;
}

/* Protects [vvar] and [vvar_vclock]: code that finds the vDSO's data through /proc/self/maps
 * and reads the host's clock from it faults instead. */
static int protect_vvar(pid_t pid, uint64_t insn)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    uint64_t ranges[4][2];
    int n = 0;
    while (n < 4 && fgets(line, sizeof(line), f) != NULL) {
        unsigned long long a, b;
        if (strstr(line, "[vvar") != NULL && sscanf(line, "%llx-%llx", &a, &b) == 2) {
            ranges[n][0] = a;
            ranges[n++][1] = b - a;
        }
    }
    fclose(f);
    for (int i = 0; i < n; i++)
        if (inject_mprotect_none(pid, insn, ranges[i][0], ranges[i][1]) != 0)
            return -1;
    return 0;
}

static int word_at(pid_t pid, uint64_t addr, uint64_t *w)
{
    return mn__dl_read_mem(pid, addr, w, sizeof(*w));
}

/* Finds the address of the auxv on the stack that starts (argc) at sp. */
static int find_auxv(pid_t pid, uint64_t sp, uint64_t *auxv)
{
    uint64_t argc, w = 1, p;
    if (word_at(pid, sp, &argc) != 0 || argc > STACK_WORDS_MAX)
        return -1;
    p = sp + 8 * (argc + 2); /* argc, argv[0..argc-1], NULL */
    for (unsigned n = 0; n < STACK_WORDS_MAX; n++, p += 8) {
        if (word_at(pid, p, &w) != 0)
            return -1;
        if (w == 0) {
            *auxv = p + 8;
            return 0;
        }
    }
    return -1;
}

int mn__dl_on_exec(mn__dl_sup *s, mn__dl_task *t, mn_err *err)
{
    struct user_regs_struct regs;
    uint64_t av = 0;
    if (mn__dl_get_regs(t->pid, &regs) != 0 || find_auxv(t->pid, regs.rsp, &av) != 0)
        return mn_err_set(err, MN_ESYS, errno, "exec of vtid %u: cannot read the auxv", t->vtid);
    bool vdso_done = false, random_done = false;
    for (unsigned n = 0; n < STACK_WORDS_MAX; n++, av += 16) {
        uint64_t pair[2];
        if (mn__dl_read_mem(t->pid, av, pair, sizeof(pair)) != 0)
            return mn_err_set(err, MN_ESYS, errno, "exec: auxv unreadable");
        if (pair[0] == AT_NULL)
            break;
        if (pair[0] == AT_RANDOM) {
            uint8_t bytes[16];
            uint64_t counter = (uint64_t)t->execs << 32;
            mn__dl_random(s, t->vtid, "at_random", &counter, bytes, sizeof(bytes));
            if (mn__dl_write_mem(t->pid, pair[1], bytes, sizeof(bytes)) != 0)
                return mn_err_set(err, MN_ESYS, errno, "exec: cannot write AT_RANDOM");
            random_done = true;
        } else if (pair[0] == AT_SYSINFO_EHDR) {
            uint64_t ignore = AT_IGNORE, insn = 0;
            if (patch_vdso(t->pid, pair[1], &insn) != 0 || insn == 0 ||
                mn__dl_write_mem(t->pid, av, &ignore, sizeof(ignore)) != 0 ||
                protect_vvar(t->pid, insn) != 0)
                return mn_err_set(err, MN_ESYS, errno, "exec: cannot neutralise the vDSO");
            vdso_done = true;
        }
    }
    if (!random_done)
        return mn_err_set(err, MN_ESYS, 0, "exec of vtid %u: no AT_RANDOM in the auxv", t->vtid);
    (void)vdso_done; /* a kernel without a vDSO needs no patch */
    t->execs++;
    return 0;
}
