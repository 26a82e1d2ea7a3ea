/* SPDX-License-Identifier: Apache-2.0
 *
 * ns.c: the cage's namespaces and root file system, set up in the child after it was cloned
 * into new pid, mount, uts, ipc and net namespaces (it is pid 1 of the new pid namespace).
 * The root is the host root or --rootfs bind-mounted read-only (recursively) on a staging
 * directory, with a fresh tmpfs on /tmp, a fresh procfs on /proc and a minimal tmpfs /dev
 * (null, zero and full bound from the host; random and urandom regular files filled from the
 * seed, so reads of them are deterministic), then the bundle's mounts (mounts.c), then
 * pivot_root into it. The hostname is fixed (the configured one, else "docklock") and the
 * loopback interface is brought up. Everything here runs in the child before exec:
 * a failure writes one line to errfd and exits 125. Not here: cgroups, user namespaces (the
 * cage runs as root on the host and drops every capability before exec instead).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "metanode/clock.h"

/* Bytes in /dev/urandom and /dev/random inside the cage (regular files, see docs). */
#define DEV_RANDOM_BYTES (1u << 20)


_Noreturn void mn__dl_die(int errfd, const char *fmt, ...)
{
    int saved = errno;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    dprintf(errfd, "%s: %s\n", msg, strerror(saved));
    _exit(125);
}

static void path_join(char *out, size_t len, const char *a, const char *b)
{
    if ((size_t)snprintf(out, len, "%s%s", a, b) >= len) {
        errno = ENAMETOOLONG;
        mn__dl_die(-1, "path %s%s", a, b); /* stage paths are short: cannot happen */
    }
}

static void write_seeded_file(const char *path, const uint8_t seed[32], const char *label,
                              int errfd)
{
    uint8_t key[32];
    mn__dl_stream_key(seed, label, 0, key);
    mn_rng rng;
    mn_rng_seeded_init(&rng, key);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0)
        mn__dl_die(errfd, "create %s", path);
    static uint8_t chunk[65536];
    for (size_t done = 0; done < DEV_RANDOM_BYTES; done += sizeof(chunk)) {
        rng.fill(&rng, chunk, sizeof(chunk));
        if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
            mn__dl_die(errfd, "write %s", path);
    }
    close(fd);
}

static void bind_dev(const char *dev, const char *name, int errfd)
{
    char host[64], target[4096];
    snprintf(host, sizeof(host), "/dev/%s", name);
    path_join(target, sizeof(target), dev, name);
    int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        mn__dl_die(errfd, "create %s", target);
    close(fd);
    if (mount(host, target, NULL, MS_BIND, NULL) != 0)
        mn__dl_die(errfd, "bind %s", host);
}

static void make_dev(const char *stage, const uint8_t seed[32], int errfd)
{
    char dev[4096], p[4096];
    path_join(dev, sizeof(dev), stage, "/dev/");
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=8m") != 0)
        mn__dl_die(errfd, "mount tmpfs on /dev");
    bind_dev(dev, "null", errfd);
    bind_dev(dev, "zero", errfd);
    bind_dev(dev, "full", errfd);
    path_join(p, sizeof(p), dev, "urandom");
    write_seeded_file(p, seed, "dev/urandom", errfd);
    path_join(p, sizeof(p), dev, "random");
    write_seeded_file(p, seed, "dev/random", errfd);
    static const char *const links[][2] = {{"/proc/self/fd", "fd"},
                                           {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"},
                                           {"/proc/self/fd/2", "stderr"}};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        path_join(p, sizeof(p), dev, links[i][1]);
        if (symlink(links[i][0], p) != 0)
            mn__dl_die(errfd, "symlink %s", p);
    }
    path_join(p, sizeof(p), dev, "shm");
    if (mkdir(p, 01777) != 0)
        mn__dl_die(errfd, "mkdir %s", p);
}

static void loopback_up(int errfd)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        mn__dl_die(errfd, "socket for lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
        mn__dl_die(errfd, "SIOCGIFFLAGS lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
        mn__dl_die(errfd, "SIOCSIFFLAGS lo");
    close(fd);
}

static void mount_root(const mn_docklock_config *cfg, const char *rootfs, const char *stage,
                       int errfd)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        mn__dl_die(errfd, "make / private");
    if (mount(rootfs, stage, NULL, MS_BIND | MS_REC, NULL) != 0)
        mn__dl_die(errfd, "bind %s", rootfs);
    mn__dl_mount_points(cfg, stage, errfd); /* while the root is writable */
    struct mount_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (syscall(SYS_mount_setattr, AT_FDCWD, stage, AT_RECURSIVE, &attr, sizeof(attr)) != 0)
        mn__dl_die(errfd, "make %s read-only", rootfs);
}

void mn__dl_ns_setup(const mn_docklock_config *cfg, const char *stage, int errfd)
{
    char p[4096];
    mount_root(cfg, cfg->rootfs != NULL ? cfg->rootfs : "/", stage, errfd);
    path_join(p, sizeof(p), stage, "/tmp");
    if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") != 0)
        mn__dl_die(errfd, "mount tmpfs on /tmp");
    path_join(p, sizeof(p), stage, "/proc");
    /* read-only: no writes to /proc/self/mem or to sysctls, even for uid 0 */
    if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL) != 0)
        mn__dl_die(errfd, "mount /proc");
    make_dev(stage, cfg->seed, errfd);
    if (cfg->output_dir != NULL) {
        path_join(p, sizeof(p), stage, cfg->output_dir);
        if (mount(cfg->output_dir, p, NULL, MS_BIND, NULL) != 0)
            mn__dl_die(errfd, "bind the output directory %s", cfg->output_dir);
    }
    mn__dl_mounts_setup(cfg, stage, errfd);
    const char *host = cfg->hostname != NULL ? cfg->hostname : "docklock";
    if (sethostname(host, strlen(host)) != 0 || setdomainname("(none)", 6) != 0)
        mn__dl_die(errfd, "sethostname");
    loopback_up(errfd);
    if (chdir(stage) != 0)
        mn__dl_die(errfd, "chdir %s", stage);
    if (syscall(SYS_pivot_root, ".", ".") != 0)
        mn__dl_die(errfd, "pivot_root");
    if (umount2(".", MNT_DETACH) != 0)
        mn__dl_die(errfd, "detach the old root");
    if (chdir("/") != 0)
        mn__dl_die(errfd, "chdir /");
}
