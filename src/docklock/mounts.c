/* SPDX-License-Identifier: Apache-2.0
 *
 * mounts.c: the mounts an OCI bundle asks for beyond the cage's own /proc, /dev and /tmp, made
 * in the child inside the cage's mount namespace before pivot_root: bind mounts (read-only when
 * asked), tmpfs, devpts, mqueue and sysfs (always read-only), then maskedPaths (hidden under
 * /dev/null or an empty read-only tmpfs) and readonlyPaths (re-bound read-only). Every path
 * inside the root is resolved with openat2(RESOLVE_IN_ROOT), so a symbolic link in an image
 * cannot point a mount outside the root; mounts are made through /proc/self/fd. Mount points
 * (and the working directory) missing from the image are made while the root is still
 * writable, as runc makes them.
 * Also the host side: the content digest that identifies a bind mount's source.
 * Not here: recording anything (settings.c), cgroup mounts (never made: the host's cgroup tree
 * is not part of a run), deciding what a bundle may ask (src/oci/config.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "metanode/limits.h"

/* ---- host side: what a bind mount's source is ---------------------------------------- */

static uint64_t walk_bytes, walk_files;
static bool walk_special;

static int walk_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path, (void)flag, (void)ftw;
    walk_files++;
    if (S_ISREG(st->st_mode))
        walk_bytes += (uint64_t)st->st_size;
    else if (!S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode))
        walk_special = true;
    return walk_bytes > MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX ||
                   walk_files > MN_DOCKLOCK_MOUNT_HASH_FILES_MAX || walk_special
               ? 1
               : 0;
}

int mn_docklock_mount_digest(const char *source, bool *is_dir, uint8_t out[static 32],
                             mn_err *err)
{
    struct stat st;
    if (stat(source, &st) != 0)
        return mn_err_set(err, MN_ENOTFOUND, errno, "mount source %s", source);
    *is_dir = S_ISDIR(st.st_mode);
    if (S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "mount source %s: more than %u bytes", source,
                              MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX);
        uint8_t *data;
        size_t len;
        MN_TRY(mn_file_read(source, MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX, &data, &len, err));
        mn_docklock_output_root(data, len, out);
        free(data);
        return 0;
    }
    if (!*is_dir)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "mount source %s is not a file or directory",
                          source);
    walk_bytes = walk_files = 0;
    walk_special = false;
    int rc = nftw(source, walk_cb, 16, FTW_PHYS);
    if (rc < 0)
        return mn_err_set(err, MN_ESYS, errno, "walk mount source %s", source);
    if (walk_special)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "mount source %s holds devices, fifos or "
                          "sockets", source);
    if (rc != 0)
        return mn_err_set(err, MN_ELIMIT, 0, "mount source %s: more than %u bytes or %u "
                          "entries", source, MN_DOCKLOCK_MOUNT_HASH_BYTES_MAX,
                          MN_DOCKLOCK_MOUNT_HASH_FILES_MAX);
    return mn__dl_tree_root(source, out, err);
}

/* ---- child side ----------------------------------------------------------------------- */

/* dest (absolute) resolved inside the root at rootfd, as an O_PATH descriptor; -1 with errno. */
static int open_in_root(int rootfd, const char *dest)
{
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, rootfd, dest, &how, sizeof(how));
}

/* Like open_in_root, making missing components: directories, the last one a directory or (not
 * dir) an empty file. */
static int make_in_root(int rootfd, const char *dest, bool dir, int errfd)
{
    int fd = open_in_root(rootfd, dest);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    char prefix[4096];
    size_t n = strlen(dest);
    if (n >= sizeof(prefix)) {
        errno = ENAMETOOLONG;
        mn__dl_die(errfd, "mount point %.100s", dest);
    }
    int parent = open_in_root(rootfd, "/");
    if (parent < 0)
        mn__dl_die(errfd, "open the root");
    for (size_t i = 1; i <= n; i++) {
        if (i < n && dest[i] != '/')
            continue;
        memcpy(prefix, dest, i);
        prefix[i] = '\0';
        if (prefix[i - 1] == '/') /* "//" */
            continue;
        int next = open_in_root(rootfd, prefix);
        if (next < 0 && errno == ENOENT) {
            const char *name = strrchr(prefix, '/') + 1;
            if (i < n || dir) {
                if (mkdirat(parent, name, 0755) != 0 && errno != EEXIST)
                    mn__dl_die(errfd, "make mount point %s", prefix);
            } else {
                int f = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                               O_CLOEXEC, 0644);
                if (f < 0 && errno != EEXIST)
                    mn__dl_die(errfd, "make mount point %s", prefix);
                if (f >= 0)
                    close(f);
            }
            next = open_in_root(rootfd, prefix);
        }
        if (next < 0)
            mn__dl_die(errfd, "mount point %s", prefix);
        close(parent);
        parent = next;
    }
    return parent;
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The cage's own mounts: their points exist (create made them) and what is below them is
 * made after they are mounted. */
static bool in_cage_mount(const char *dest)
{
    return under(dest, "/proc") || under(dest, "/dev") || under(dest, "/tmp");
}

static int open_root(const char *stage, int errfd)
{
    int fd = open(stage, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        mn__dl_die(errfd, "open %s", stage);
    return fd;
}

void mn__dl_mount_points(const mn_docklock_config *cfg, const char *stage, int errfd)
{
    if (cfg->mountc == 0 && cfg->cwd == NULL)
        return;
    int rootfd = open_root(stage, errfd);
    if (cfg->cwd != NULL) { /* runc makes a missing working directory too */
        bool nested = in_cage_mount(cfg->cwd);
        for (uint32_t j = 0; j < cfg->mountc && !nested; j++)
            nested = under(cfg->cwd, cfg->mounts[j].destination);
        int fd = nested ? -2 : make_in_root(rootfd, cfg->cwd, true, errfd);
        if (fd == -1)
            mn__dl_die(errfd, "process.cwd %s", cfg->cwd);
        if (fd >= 0)
            close(fd);
    }
    for (uint32_t i = 0; i < cfg->mountc; i++) {
        const mn_docklock_mount *m = &cfg->mounts[i];
        bool nested = in_cage_mount(m->destination);
        for (uint32_t j = 0; j < i && !nested; j++)
            nested = under(m->destination, cfg->mounts[j].destination);
        if (nested)
            continue;
        int fd = make_in_root(rootfd, m->destination,
                              m->kind != MN_DL_MOUNT_BIND || m->is_dir, errfd);
        if (fd < 0)
            mn__dl_die(errfd, "mount point %s", m->destination);
        close(fd);
    }
    close(rootfd);
}

static void fd_path(char *out, size_t len, int fd)
{
    snprintf(out, len, "/proc/self/fd/%d", fd);
}

/* Remounts the mount now at dest with flags (a bind mount's flags change only by remount). */
static void remount(int rootfd, const char *dest, unsigned long flags, int errfd)
{
    char p[64];
    int fd = open_in_root(rootfd, dest);
    if (fd < 0)
        mn__dl_die(errfd, "reopen %s", dest);
    fd_path(p, sizeof(p), fd);
    if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | flags, NULL) != 0)
        mn__dl_die(errfd, "remount %s", dest);
    close(fd);
}

static void one_mount(int rootfd, const mn_docklock_mount *m, int errfd)
{
    static const unsigned long attrs = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    int fd = make_in_root(rootfd, m->destination, m->kind != MN_DL_MOUNT_BIND || m->is_dir,
                          errfd);
    if (fd < 0)
        mn__dl_die(errfd, "mount point %s", m->destination);
    char p[64];
    fd_path(p, sizeof(p), fd);
    unsigned long fl = m->flags & attrs;
    int rc = 0;
    switch (m->kind) {
    case MN_DL_MOUNT_BIND:
        rc = mount(m->source, p, NULL, MS_BIND | (m->flags & MS_REC), NULL);
        break;
    case MN_DL_MOUNT_TMPFS: rc = mount("tmpfs", p, "tmpfs", fl, m->data); break;
    case MN_DL_MOUNT_DEVPTS: rc = mount("devpts", p, "devpts", fl, m->data); break;
    case MN_DL_MOUNT_MQUEUE: rc = mount("mqueue", p, "mqueue", fl, NULL); break;
    case MN_DL_MOUNT_SYSFS:
        rc = mount("sysfs", p, "sysfs", fl | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   NULL);
        break;
    default: errno = EINVAL; rc = -1; break;
    }
    if (rc != 0)
        mn__dl_die(errfd, "mount %s on %s", m->source != NULL ? m->source : "-",
                   m->destination);
    close(fd);
    if (m->kind == MN_DL_MOUNT_BIND && fl != 0)
        remount(rootfd, m->destination, fl, errfd);
    if (m->kind == MN_DL_MOUNT_DEVPTS && strcmp(m->destination, "/dev/pts") == 0) {
        int dev = open_in_root(rootfd, "/dev");
        if (dev < 0 || (unlinkat(dev, "ptmx", 0) != 0 && errno != ENOENT) ||
            symlinkat("pts/ptmx", dev, "ptmx") != 0)
            mn__dl_die(errfd, "/dev/ptmx");
        close(dev);
    }
}

void mn__dl_mounts_setup(const mn_docklock_config *cfg, const char *stage, int errfd)
{
    if (cfg->mountc == 0 && cfg->maskedc == 0 && cfg->readonlyc == 0)
        return;
    int rootfd = open_root(stage, errfd);
    for (uint32_t i = 0; i < cfg->mountc; i++)
        one_mount(rootfd, &cfg->mounts[i], errfd);
    char p[64];
    for (uint32_t i = 0; i < cfg->maskedc; i++) {
        int fd = open_in_root(rootfd, cfg->masked[i]);
        if (fd < 0 && errno == ENOENT)
            continue; /* nothing to hide */
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0)
            mn__dl_die(errfd, "masked path %s", cfg->masked[i]);
        fd_path(p, sizeof(p), fd);
        int rc = S_ISDIR(st.st_mode)
                     ? mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                             "size=0,mode=0555")
                     : mount("/dev/null", p, NULL, MS_BIND, NULL);
        if (rc != 0)
            mn__dl_die(errfd, "mask %s", cfg->masked[i]);
        close(fd);
    }
    for (uint32_t i = 0; i < cfg->readonlyc; i++) {
        int fd = open_in_root(rootfd, cfg->readonly[i]);
        if (fd < 0 && errno == ENOENT)
            continue;
        if (fd < 0)
            mn__dl_die(errfd, "read-only path %s", cfg->readonly[i]);
        fd_path(p, sizeof(p), fd);
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) != 0)
            mn__dl_die(errfd, "bind %s", cfg->readonly[i]);
        close(fd);
        remount(rootfd, cfg->readonly[i], MS_RDONLY | MS_NOSUID | MS_NODEV, errfd);
    }
    close(rootfd);
}
