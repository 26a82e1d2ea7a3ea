/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_inode_numbers.c: inode numbers and device ids of a file created in /tmp (tmpfs hands
 * out a new inode number every time), of a hard link to it, of the open descriptor, and of
 * files of the root image, through stat, lstat, fstat, newfstatat and statx.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int main(void)
{
    char path[] = "/tmp/nd_ino.XXXXXX", link_path[64];
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    snprintf(link_path, sizeof(link_path), "%s.link", path);
    if (link(path, link_path) != 0)
        return 1;
    struct stat a, b, c, d, e;
    struct statx x;
    if (stat(path, &a) != 0 || lstat(link_path, &b) != 0 || fstat(fd, &c) != 0 ||
        fstatat(AT_FDCWD, "/etc/passwd", &d, 0) != 0 || stat("/", &e) != 0 ||
        statx(AT_FDCWD, "/tmp", 0, STATX_BASIC_STATS | STATX_BTIME, &x) != 0)
        return 1;
    printf("tmp file ino %lu dev %u:%u nlink %lu | link ino %lu | fd ino %lu\n",
           (unsigned long)a.st_ino, major(a.st_dev), minor(a.st_dev), (unsigned long)a.st_nlink,
           (unsigned long)b.st_ino, (unsigned long)c.st_ino);
    printf("/etc/passwd ino %lu dev %lx | / ino %lu dev %lx | statx /tmp ino %llu dev %u:%u "
           "mnt %llu\n", (unsigned long)d.st_ino, (unsigned long)d.st_dev,
           (unsigned long)e.st_ino, (unsigned long)e.st_dev, (unsigned long long)x.stx_ino,
           x.stx_dev_major, x.stx_dev_minor, (unsigned long long)x.stx_mnt_id);
    printf("identity: %s\n", a.st_ino == b.st_ino && a.st_ino == c.st_ino ? "kept" : "LOST");
    close(fd);
    unlink(link_path);
    unlink(path);
    return 0;
}
