/* SPDX-License-Identifier: Apache-2.0
 *
 * fsmeta.c: deterministic file metadata and directory listings. The stat family runs in the
 * kernel; at its syscall-exit stop the supervisor rewrites the result in the guest's buffer:
 * inode numbers and device ids become virtual ones handed out in first-seen order in the run,
 * and every timestamp becomes the run's epoch. getdents64 never runs: the supervisor reads
 * the whole directory through /proc/PID/fd/FD, sorts it by name and copies out the entries
 * from the descriptor's position, which it then treats as an index into the sorted list (it
 * turns the call into an lseek to the next index, so rewinddir, telldir and seekdir work and
 * a shared descriptor stays shared). Both answers are recorded at the exit stop with the
 * bytes the guest saw inline. First-seen order is stable across runs and replay because the
 * guest's execution, and so the sequence of stat and getdents answers, is serialised and the
 * same in every run; it keeps identity too (hard links and fstat of an open file share the
 * inode number the path had), which a number derived from the path could not. statfs and
 * fstatfs run too and get their host-varying counts normalised at the exit stop.
 * Not here: mapping inode numbers the guest reads elsewhere (/proc/self/maps, fdinfo).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* Virtual devices are (0, 1 + first-seen index): major 0 as the kernel's anonymous devices
 * (tmpfs, procfs) have, minors small and fixed. */
#define VDEV_MAJOR 0u
#define VDEVS_MAX 255u
#define DIR_BYTES_MAX (64u << 20)

struct mn__dl_fsmeta {
    uint64_t *keys;     /* 2 words per slot: host dev, host ino; dev ~0 = empty */
    uint64_t *vinos;
    size_t cap, used;
    uint64_t next_ino;
    uint64_t devs[VDEVS_MAX];
    uint32_t ndevs;
    uint64_t proc_dev;  /* host device of the guest's /proc; UINT64_MAX when unknown */
};

void mn__dl_fsmeta_free(mn__dl_sup *s)
{
    if (s->fsmeta == NULL)
        return;
    free(s->fsmeta->keys);
    free(s->fsmeta->vinos);
    free(s->fsmeta);
    s->fsmeta = NULL;
}

static mn__dl_fsmeta *fsmeta_get(mn__dl_sup *s)
{
    if (s->fsmeta == NULL) {
        s->fsmeta = calloc(1, sizeof(*s->fsmeta));
        if (s->fsmeta == NULL)
            return NULL;
        s->fsmeta->next_ino = 2; /* inode numbers 0 and 1 are special to some tools */
        /* The guest's procfs, seen through its root (the walk stays in its mounts). */
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%d/root/proc", (int)s->init_pid);
        s->fsmeta->proc_dev = stat(path, &st) == 0 ? st.st_dev : UINT64_MAX;
    }
    return s->fsmeta;
}

static size_t slot_of(uint64_t dev, uint64_t ino, size_t cap)
{
    uint64_t h = (dev * 0x9e3779b97f4a7c15ull) ^ (ino * 0xc2b2ae3d27d4eb4full);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static int grow(mn__dl_fsmeta *m)
{
    size_t cap = m->cap == 0 ? 1024 : m->cap * 2;
    uint64_t *keys = malloc(cap * 2 * sizeof(uint64_t)), *vinos = malloc(cap * sizeof(uint64_t));
    if (keys == NULL || vinos == NULL) {
        free(keys);
        free(vinos);
        return -1;
    }
    memset(keys, 0xff, cap * 2 * sizeof(uint64_t));
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[2 * i] == UINT64_MAX)
            continue;
        size_t j = slot_of(m->keys[2 * i], m->keys[2 * i + 1], cap);
        while (keys[2 * j] != UINT64_MAX)
            j = (j + 1) & (cap - 1);
        keys[2 * j] = m->keys[2 * i];
        keys[2 * j + 1] = m->keys[2 * i + 1];
        vinos[j] = m->vinos[i];
    }
    free(m->keys);
    free(m->vinos);
    m->keys = keys;
    m->vinos = vinos;
    m->cap = cap;
    return 0;
}

/* The virtual inode number of (host dev, host ino), handed out on first sight. Out of memory
 * the run cannot stay deterministic, so it ends as a failure of the supervisor (returns 0). */
static uint64_t vino(mn__dl_fsmeta *m, uint64_t dev, uint64_t ino)
{
    if (m->used * 2 >= m->cap && grow(m) != 0)
        return 0;
    size_t j = slot_of(dev, ino, m->cap);
    for (; m->keys[2 * j] != UINT64_MAX; j = (j + 1) & (m->cap - 1))
        if (m->keys[2 * j] == dev && m->keys[2 * j + 1] == ino)
            return m->vinos[j];
    m->keys[2 * j] = dev;
    m->keys[2 * j + 1] = ino;
    m->vinos[j] = m->next_ino++;
    m->used++;
    return m->vinos[j];
}

/* The virtual device of a host device; past VDEVS_MAX devices they share the last one. */
static uint32_t vdev_minor(mn__dl_fsmeta *m, uint64_t dev)
{
    for (uint32_t i = 0; i < m->ndevs; i++)
        if (m->devs[i] == dev)
            return i + 1;
    if (m->ndevs == VDEVS_MAX)
        return VDEVS_MAX;
    m->devs[m->ndevs++] = dev;
    return m->ndevs;
}

/* The link count of a procfs directory: the root's counts every process of the host (all pid
 * namespaces), so procfs directories report 1, the usual "not counted" value. */
static uint64_t norm_nlink(const mn__dl_fsmeta *m, uint64_t dev, uint32_t mode, uint64_t nlink)
{
    return dev == m->proc_dev && S_ISDIR(mode) ? 1 : nlink;
}

/* A pty slave's number (/dev/pts/N) is whichever the host had free: the cage's terminal
 * (input.c) is always shown as the first one. */
#define PTY_SLAVE_MAJOR_FIRST 136u
#define PTY_SLAVE_MAJOR_LAST 143u
static bool pty_slave(unsigned maj)
{
    return maj >= PTY_SLAVE_MAJOR_FIRST && maj <= PTY_SLAVE_MAJOR_LAST;
}

static void norm_stat(const mn__dl_sup *s, mn__dl_fsmeta *m, struct stat *st)
{
    if (S_ISCHR(st->st_mode) && pty_slave(major(st->st_rdev)))
        st->st_rdev = makedev(PTY_SLAVE_MAJOR_FIRST, 0);
    uint64_t dev = st->st_dev;
    st->st_nlink = norm_nlink(m, dev, st->st_mode, st->st_nlink);
    st->st_ino = vino(m, dev, st->st_ino);
    st->st_dev = makedev(VDEV_MAJOR, vdev_minor(m, dev));
    struct timespec ts = {(time_t)(s->cfg->epoch_ns / 1000000000u),
                          (long)(s->cfg->epoch_ns % 1000000000u)};
    st->st_atim = st->st_mtim = st->st_ctim = ts;
}

static void norm_statx(const mn__dl_sup *s, mn__dl_fsmeta *m, struct statx *sx)
{
    if (S_ISCHR(sx->stx_mode) && pty_slave(sx->stx_rdev_major)) {
        sx->stx_rdev_major = PTY_SLAVE_MAJOR_FIRST;
        sx->stx_rdev_minor = 0;
    }
    uint64_t dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
    sx->stx_nlink = (uint32_t)norm_nlink(m, dev, sx->stx_mode, sx->stx_nlink);
    sx->stx_ino = vino(m, dev, sx->stx_ino);
    uint32_t minor = vdev_minor(m, dev);
    sx->stx_dev_major = VDEV_MAJOR;
    sx->stx_dev_minor = minor;
    sx->stx_mnt_id = minor; /* the host's mount ids count every mount since boot */
    struct statx_timestamp ts = {(int64_t)(s->cfg->epoch_ns / 1000000000u),
                                 (uint32_t)(s->cfg->epoch_ns % 1000000000u), 0};
    sx->stx_atime = sx->stx_btime = sx->stx_ctime = sx->stx_mtime = ts;
}

/* At the exit stop of a stat-family call: rewrites the guest's buffer. Returns the number of
 * bytes now in it (the inline data of the record), 0 when the call failed or wrote nothing. */
/* statfs/fstatfs: the host's free block and inode counts change while the run goes on (other
 * users write to the same disk) and f_fsid names the host's file system: free counts become
 * half the totals and f_fsid 0. Totals, block size, type and mount flags are left: they are
 * properties of the root image and its mounts. */
static void norm_statfs(struct statfs *f)
{
    f->f_bfree = f->f_blocks / 2;
    f->f_bavail = f->f_blocks / 2;
    f->f_ffree = f->f_files / 2;
    memset(&f->f_fsid, 0, sizeof(f->f_fsid));
}

static size_t stat_exit(mn__dl_sup *s, mn__dl_task *t, int64_t result, uint8_t *buf)
{
    const uint64_t *a = t->pend_args;
    if (t->pend_nr == SYS_statfs || t->pend_nr == SYS_fstatfs) {
        if (result != 0 || mn__dl_read_mem(t->pid, a[1], buf, sizeof(struct statfs)) != 0)
            return 0;
        norm_statfs((struct statfs *)(void *)buf);
        return mn__dl_write_mem(t->pid, a[1], buf, sizeof(struct statfs)) == 0
                   ? sizeof(struct statfs)
                   : 0;
    }
    uint64_t addr = t->pend_nr == SYS_newfstatat ? a[2] : t->pend_nr == SYS_statx ? a[4] : a[1];
    size_t len = t->pend_nr == SYS_statx ? sizeof(struct statx) : sizeof(struct stat);
    mn__dl_fsmeta *m = fsmeta_get(s);
    if (result != 0 || m == NULL || mn__dl_read_mem(t->pid, addr, buf, len) != 0)
        return 0;
    if (t->pend_nr == SYS_statx)
        norm_statx(s, m, (struct statx *)(void *)buf);
    else
        norm_stat(s, m, (struct stat *)(void *)buf);
    return mn__dl_write_mem(t->pid, addr, buf, len) == 0 ? len : 0;
}

/* One directory entry as the supervisor read it. */
typedef struct dent {
    uint64_t ino;
    uint8_t type;
    const char *name;
} dent;

static int by_name(const void *x, const void *y)
{
    return strcmp(((const dent *)x)->name, ((const dent *)y)->name);
}

/* The descriptor's position (an index into the sorted listing) and whether it is an O_PATH
 * descriptor, from /proc/PID/fdinfo/FD. */
static int fd_pos(pid_t pid, int fd, uint64_t *pos, bool *opath)
{
    char path[64], line[128];
    snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    *pos = 0;
    *opath = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "pos:", 4) == 0)
            *pos = strtoull(line + 4, NULL, 10);
        else if (strncmp(line, "flags:", 6) == 0)
            *opath = (strtoul(line + 6, NULL, 8) & O_PATH) != 0;
    }
    fclose(f);
    return 0;
}

/* Reads the whole directory open as fd in the guest: raw getdents64 records into *raw, one
 * dent per entry into *ents (names point into *raw), sorted by name. Returns the entry count
 * or -errno. */
static long read_dir(pid_t pid, int fd, uint8_t **raw, dent **ents, uint64_t *dev)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return errno == ENOTDIR ? -ENOTDIR : -EBADF;
    struct stat st;
    size_t cap = 65536, len = 0;
    *raw = NULL;
    *ents = NULL;
    long n = fstat(dfd, &st) == 0 ? 0 : -EBADF;
    *dev = st.st_dev;
    for (long got = 1; n == 0 && got > 0; len += (size_t)got) {
        if (*raw == NULL || len + 32768 > cap) {
            uint8_t *bigger = cap * 2 <= DIR_BYTES_MAX ? realloc(*raw, cap * 2) : NULL;
            if (bigger == NULL) {
                n = -ENOMEM;
                break;
            }
            *raw = bigger;
            cap *= 2;
        }
        got = syscall(SYS_getdents64, dfd, *raw + len, cap - len);
        if (got < 0)
            n = -errno;
    }
    close(dfd);
    size_t count = 0;
    for (size_t off = 0; n == 0 && off < len; count++)
        off += ((struct dirent64 *)(void *)(*raw + off))->d_reclen;
    if (n == 0 && (*ents = malloc((count + 1) * sizeof(dent))) == NULL)
        n = -ENOMEM;
    for (size_t off = 0, i = 0; n == 0 && off < len; i++) {
        const struct dirent64 *d = (const struct dirent64 *)(const void *)(*raw + off);
        (*ents)[i] = (dent){d->d_ino, d->d_type, d->d_name};
        off += d->d_reclen;
    }
    if (n == 0)
        qsort(*ents, count, sizeof(dent), by_name);
    return n == 0 ? (long)count : n;
}

/* Fills buf (at most cap bytes) with the sorted entries from index *pos on, with virtual
 * inode numbers and d_off = the index of the next entry; advances *pos. Returns the bytes
 * filled, or -EINVAL when the first entry does not fit. */
static long fill(mn__dl_fsmeta *m, uint64_t dev, const dent *ents, long count, uint64_t *pos,
                 uint8_t *buf, size_t cap)
{
    size_t len = 0;
    for (; *pos < (uint64_t)count; ++*pos) {
        const dent *e = &ents[*pos];
        size_t namelen = strlen(e->name);
        size_t reclen = (offsetof(struct dirent64, d_name) + namelen + 1 + 7) & ~(size_t)7;
        if (len + reclen > cap)
            break;
        struct dirent64 d;
        memset(&d, 0, sizeof(d));
        d.d_ino = vino(m, dev, e->ino);
        d.d_off = (int64_t)(*pos + 1);
        d.d_reclen = (unsigned short)reclen;
        d.d_type = e->type;
        memset(buf + len, 0, reclen);
        memcpy(buf + len, &d, offsetof(struct dirent64, d_name));
        memcpy(buf + len + offsetof(struct dirent64, d_name), e->name, namelen);
        len += reclen;
    }
    return len == 0 && *pos < (uint64_t)count ? -EINVAL : (long)len;
}

/* getdents64(fd, buf, count) at its seccomp stop. Answered here from the sorted listing;
 * when entries were copied out, the call becomes lseek(fd, next index, SEEK_SET) so the
 * descriptor's position moves in the kernel (mn__dl_on_syscall_exit then puts the byte count
 * back in rax). */
void mn__dl_getdents_enter(mn__dl_sup *s, mn__dl_task *t, struct user_regs_struct *regs,
                           const uint64_t *a, int64_t *result, bool *lseek_instead)
{
    static uint8_t buf[MN_WITNESS_INLINE_BYTES_MAX];
    mn__dl_fsmeta *m = fsmeta_get(s);
    uint64_t pos, dev = 0;
    bool opath;
    uint8_t *raw = NULL;
    dent *ents = NULL;
    *lseek_instead = false;
    if (m == NULL) {
        *result = -ENOMEM;
        return;
    }
    if ((int)a[0] < 0 || fd_pos(t->pid, (int)a[0], &pos, &opath) != 0 || opath) {
        *result = -EBADF;
        return;
    }
    long count = read_dir(t->pid, (int)a[0], &raw, &ents, &dev);
    size_t cap = a[2] < sizeof(buf) ? (size_t)a[2] : sizeof(buf);
    *result = count < 0 ? count : fill(m, dev, ents, count, &pos, buf, cap);
    if (*result > 0 && mn__dl_write_mem(t->pid, a[1], buf, (size_t)*result) != 0)
        *result = -EFAULT;
    free(ents);
    free(raw);
    if (*result <= 0)
        return;
    t->pend_result = *result;
    t->pend_pos = pos;
    regs->orig_rax = SYS_lseek;
    regs->rsi = pos;
    regs->rdx = SEEK_SET;
    *lseek_instead = true;
}

bool mn__dl_fsmeta_traps(long nr)
{
    return nr == SYS_stat || nr == SYS_fstat || nr == SYS_lstat || nr == SYS_newfstatat ||
           nr == SYS_statx || nr == SYS_getdents64 || nr == SYS_statfs || nr == SYS_fstatfs;
}

int mn__dl_on_syscall_exit(mn__dl_sup *s, mn__dl_task *t, mn_err *err)
{
    static uint8_t buf[MN_WITNESS_INLINE_BYTES_MAX];
    struct user_regs_struct regs;
    t->pending = false;
    if (mn__dl_get_regs(t->pid, &regs) != 0)
        return mn_err_set(err, MN_ESYS, errno, "GETREGS of vtid %u", t->vtid);
    int64_t result = (int64_t)regs.rax;
    size_t len = 0;
    if (t->pend_nr == SYS_getdents64) {
        if (result == (int64_t)t->pend_pos) {
            result = t->pend_result;
            if (mn__dl_read_mem(t->pid, t->pend_args[1], buf, (size_t)result) == 0)
                len = (size_t)result;
        }
        regs.rax = (uint64_t)result;
        if (mn__dl_set_regs(t->pid, &regs) != 0)
            return mn_err_set(err, MN_ESYS, errno, "SETREGS of vtid %u", t->vtid);
    } else {
        len = stat_exit(s, t, result, buf);
    }
    return mn__dl_record(s, t, MN_WK_SYSCALL, (uint32_t)t->pend_nr, t->pend_args, result, NULL,
                         buf, len, err);
}
