/* SPDX-License-Identifier: Apache-2.0
 *
 * nd_statfs.c: free blocks, free inodes and the file system id of / and /tmp (statvfs and
 * fstatfs): the host's counts change whenever anyone writes to its disks.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

int main(void)
{
    static const char *const paths[] = {"/", "/tmp"};
    for (int i = 0; i < 2; i++) {
        struct statvfs v;
        struct statfs f;
        int fd = open(paths[i], O_RDONLY | O_DIRECTORY);
        if (statvfs(paths[i], &v) != 0 || fd < 0 || fstatfs(fd, &f) != 0)
            return 1;
        close(fd);
        printf("%s bfree %llu bavail %llu ffree %llu fsid %lx | %llu %llu %d:%d\n", paths[i],
               (unsigned long long)v.f_bfree, (unsigned long long)v.f_bavail,
               (unsigned long long)v.f_ffree, v.f_fsid, (unsigned long long)f.f_bfree,
               (unsigned long long)f.f_ffree, f.f_fsid.__val[0], f.f_fsid.__val[1]);
    }
    return 0;
}
