/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_mtimes.c: the timestamps of a freshly created and written file in /tmp (atime, mtime,
 * ctime through stat, btime through statx), of a symlink through lstat, and of /etc/passwd.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, const struct stat *st)
{
    printf("%s a %lld.%09ld m %lld.%09ld c %lld.%09ld\n", what, (long long)st->st_atim.tv_sec,
           st->st_atim.tv_nsec, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
           (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

int main(void)
{
    char path[] = "/tmp/nd_mtime.XXXXXX", sym[64];
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, "x", 1) != 1)
        return 1;
    snprintf(sym, sizeof(sym), "%s.sym", path);
    if (symlink(path, sym) != 0)
        return 1;
    struct stat a, b, c;
    struct statx x;
    if (fstat(fd, &a) != 0 || lstat(sym, &b) != 0 || stat("/etc/passwd", &c) != 0 ||
        statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &x) != 0)
        return 1;
    show("file", &a);
    show("symlink", &b);
    show("/etc/passwd", &c);
    printf("statx b %lld.%09u m %lld.%09u\n", (long long)x.stx_btime.tv_sec,
           x.stx_btime.tv_nsec, (long long)x.stx_mtime.tv_sec, x.stx_mtime.tv_nsec);
    close(fd);
    unlink(sym);
    unlink(path);
    return 0;
}
