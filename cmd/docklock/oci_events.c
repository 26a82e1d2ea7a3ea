/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_events.c: `docklock events [--stats] [--interval N] ID`: resource use of a container's
 * processes as runc's event JSON ({"type":"stats","id":...,"data":{cpu, memory, pids}}), read
 * from /proc of the cage's processes on the host (CPU time user+system, resident memory, the
 * number of processes). With --stats one event, otherwise one every interval (default 5 s)
 * until the container stops. Not here: OOM events (the cage reports a memory limit in the receipt).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oci_cli.h"

static mn_oci_state st;

/* utime+stime (ticks) and rss (pages) of one process; 0 when it is gone. */
static void proc_use(int pid, uint64_t *ticks, uint64_t *pages)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return;
    /* fields after ")": 3 state ... 14 utime 15 stime ... 24 rss */
    int field = 2;
    uint64_t ut = 0, stime = 0, rss = 0;
    for (char *q = p + 1; *q != '\0'; q++) {
        if (*q != ' ')
            continue;
        field++;
        if (field == 14)
            ut = strtoull(q + 1, NULL, 10);
        else if (field == 15)
            stime = strtoull(q + 1, NULL, 10);
        else if (field == 24)
            rss = strtoull(q + 1, NULL, 10);
    }
    *ticks += ut + stime;
    *pages += rss;
}

static void print_stats(const char *id)
{
    int pids[1024];
    int n = oci_container_pids(&st, pids, 1024);
    uint64_t ticks = 0, pages = 0;
    for (int i = 0; i < n; i++)
        proc_use(pids[i], &ticks, &pages);
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    uint64_t ns = hz > 0 ? ticks * (1000000000u / (uint64_t)hz) : 0;
    printf("{\"type\":\"stats\",\"id\":\"%s\",\"data\":{\"cpu\":{\"usage\":{\"total\":%llu}},"
           "\"memory\":{\"usage\":{\"usage\":%llu}},\"pids\":{\"current\":%d}}}\n",
           id, (unsigned long long)ns, (unsigned long long)(pages * (uint64_t)page), n);
    fflush(stdout);
}

int oci_events(int argc, char **argv)
{
    static const struct option opts[] = {
        {"stats", 0, 0, 's'}, {"interval", 1, 0, 'i'}, {0, 0, 0, 0}};
    bool once = false;
    long interval = 5;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 's')
            once = true;
        else if (c == 'i')
            interval = strtol(optarg, NULL, 10); /* "5" or runc's "5s" */
        else
            return oci_fail("events: bad arguments");
    }
    if (optind + 1 != argc || interval <= 0)
        return oci_fail("events: usage: events [--stats] [--interval SECONDS] ID");
    const char *id = argv[optind];
    mn_err err;
    for (;;) {
        if (mn_oci_state_load(oci_g.root, id, &st, &err) != 0)
            return err.code == MN_ENOTFOUND ? oci_fail("container %s does not exist", id)
                                            : oci_fail_err("events", &err);
        if (st.status == MN_OCI_STOPPED)
            return once ? oci_fail("events: container %s is not running", id) : 0;
        print_stats(id);
        if (once)
            return 0;
        struct timespec ts = {interval, 0};
        nanosleep(&ts, NULL);
    }
}
