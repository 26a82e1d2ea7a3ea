/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_readdir_order.c: directory listings in readdir order. Eight files are created in a fresh
 * directory under /tmp in an order that depends on the pid and the clock (tmpfs lists in
 * reverse creation order), and /etc is listed as its file system hashes it (ext4: an order
 * fixed per file system, not by name). Prints both orders, with d_off and whether d_ino
 * matches the stat inode number, lists /etc again through raw getdents64 calls with a
 * 128-byte buffer (many partial reads, then a seek back to a d_off) and removes the directory.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void list(const char *path, int max)
{
    DIR *d = opendir(path);
    if (d == NULL)
        exit(1);
    struct dirent *e;
    unsigned long h = 1469598103934665603ul; /* FNV-1a over the names in order */
    int n = 0, ino_ok = 0;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == e->d_ino)
            ino_ok++;
        if (n++ < max)
            printf("%s@%ld ", e->d_name, (long)telldir(d));
        for (const char *p = e->d_name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ul;
        h = (h ^ ' ') * 1099511628211ul;
    }
    closedir(d);
    /* d_ino agrees with the stat inode number except for mount points and a root's "..". */
    printf("| %d entries, %d d_ino = st_ino, hash %016lx\n", n, ino_ok, h);
}

/* The listing in small pieces: the same names in the same order as readdir gave, then the
 * entry after the third one's d_off again. */
static void list_small(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    /* Reads ask for 128 bytes at a time; the array is larger only so that the compiler sees
     * room for a whole struct dirent64 (280 bytes) behind every entry pointer. */
    enum { SMALL_READ = 128 };
    _Alignas(8) char buf[512];
    char third[256] = "";
    long n, calls = 0, count = 0, off3 = -1;
    unsigned long h = 1469598103934665603ul;
    if (fd < 0)
        exit(1);
    while ((n = syscall(SYS_getdents64, fd, buf, SMALL_READ)) > 0) {
        calls++;
        for (long off = 0; off < n; count++) {
            const struct dirent64 *d = (const struct dirent64 *)(const void *)(buf + off);
            for (const char *p = d->d_name; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ul;
            h = (h ^ ' ') * 1099511628211ul;
            if (count == 2)
                off3 = (long)d->d_off;
            if (count == 3)
                snprintf(third, sizeof(third), "%s", d->d_name);
            off += d->d_reclen;
        }
    }
    lseek(fd, off3, SEEK_SET);
    n = syscall(SYS_getdents64, fd, buf, SMALL_READ);
    printf("small reads: %ld entries in %ld calls, hash %016lx, 4th %s, again %s\n", count,
           calls, h, third, n > 0 ? ((const struct dirent64 *)(const void *)buf)->d_name : "-");
    close(fd);
}

int main(void)
{
    char dir[] = "/tmp/nd_readdir.XXXXXX", path[64];
    if (mkdtemp(dir) == NULL)
        return 1;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned x = (unsigned)getpid() ^ (unsigned)ts.tv_nsec;
    int order[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (int i = 7; i > 0; i--) { /* a Fisher-Yates shuffle driven by x */
        x = x * 1103515245u + 12345u;
        int j = (int)((x >> 16) % (unsigned)(i + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "%s/f%d", dir, order[i]);
        int fd = open(path, O_CREAT | O_WRONLY, 0644);
        if (fd < 0)
            return 1;
        close(fd);
    }
    list(dir, 10);
    list("/etc", 6);
    list_small("/etc");
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "%s/f%d", dir, i);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
