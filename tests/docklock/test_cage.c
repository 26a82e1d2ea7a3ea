/* SPDX-License-Identifier: Apache-2.0
 *
 * The nondeterminism suite: each program reads one source of nondeterminism. The test first
 * runs it natively and shows that its output varies between runs (or, for sources that are
 * fixed per host such as uname, that the native output differs from the cage's), so that the
 * second half means something: five runs in the cage with the same seed must give the same
 * stdout, exit status, witness log and receipt core, and the witness must check (its root and
 * leaf count match the run's). A different seed must change the witness. The programs that
 * race (threads, forked children, pipes, a mutex, vfork spawns, a shell pipeline) are run
 * again with their executables evicted from the page cache before every run and a second cage
 * running beside them: the turn scheduler must make them identical all the same.
 * argv[1] is the directory holding the nd_* programs. Needs root (namespaces, ptrace, FIFO):
 * exits 77 with the reason otherwise.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metanode/docklock.h"
#include "metanode/hash.h"
#include "metanode/merkle.h"
#include "metanode/receipt.h"
#include "metanode/replay.h"
#include "mn_test.h"

#define NATIVE_TRIES 6
#define CAGE_RUNS 5

static const char *nd_dir;

typedef struct nd_case {
    const char *name;
    const char *argv[6];
    bool host_fixed; /* the source is constant per host: compare native with the cage */
} nd_case;

static const nd_case cases[] = {
    {"clock_vdso", {"nd_clock_vdso"}, false},
    {"clock_raw", {"nd_clock_raw"}, false},
    {"gettimeofday", {"nd_gettimeofday"}, false},
    {"rdtsc", {"nd_rdtsc"}, false},
    {"getrandom", {"nd_getrandom"}, false},
    {"urandom", {"nd_urandom"}, false},
    {"at_random", {"nd_at_random"}, false},
    {"aslr", {"nd_aslr"}, false},
    {"pid", {"nd_pid"}, false},
    {"threads", {"nd_threads"}, false},
    {"fork_order", {"nd_fork_order"}, false},
    {"sleep", {"nd_sleep"}, false},
    {"readdir_proc", {"nd_readdir_proc"}, false},
    {"times", {"nd_times"}, false},
    {"getrusage", {"nd_getrusage"}, false},
    {"sysinfo", {"nd_sysinfo"}, true},
    {"cputime", {"nd_cputime"}, false},
    {"canary", {"nd_canary"}, false},
    {"thread_ids", {"nd_thread_ids"}, false},
    {"pipes", {"nd_pipes"}, false},
    {"mutex", {"nd_mutex"}, false},
    {"spawn", {"nd_spawn"}, false},
    {"clock_coarse", {"nd_clock_coarse"}, false},
    {"hostname", {"nd_hostname"}, true},
    {"uname", {"nd_uname"}, true},
    {"getcpu", {"nd_getcpu"}, true},
    {"readdir_order", {"nd_readdir_order"}, true},
    {"inode_numbers", {"nd_inode_numbers"}, true},
    {"mtimes", {"nd_mtimes"}, false},
    {"statfs", {"nd_statfs"}, true},
    {"ls_find",
     {"/bin/sh", "-c",
      "d=$(mktemp -d) && cd $d && for f in zz aa mm bb; do echo $f > $f; done && mkdir sub && "
      "ln aa hard && ls -lai --full-time . | sed 1d && find . -printf '%i %n %y %TY-%Tm %p\\n' "
      "&& stat -c '%i %d %X %Y %Z %W %n' . aa hard / && cd / && rm -r $d"},
     false},
    {"shell_pipeline",
     {"/bin/sh", "-c",
      "echo $$; date +%s.%N; head -c 8 /dev/urandom | od -An -tx1 | tr -d ' '; "
      "for i in 1 2 3; do (echo sub $i) & done; wait"},
     false},
    {"python_threads",
     {"/usr/bin/python3", "-c",
      "import threading, time\n"
      "log = []\n"
      "def w(n):\n"
      "    for i in range(200000):\n"
      "        if i % 2000 == 0: log.append(n)\n"
      "ts = [threading.Thread(target=w, args=(n,)) for n in range(3)]\n"
      "[t.start() for t in ts]; [t.join() for t in ts]\n"
      "t0 = time.monotonic(); threading.Event().wait(0.05)\n"
      "print(hash(tuple(log)), ''.join(map(str, log[:60])), round(time.monotonic() - t0, 6))"},
     false},
    /* Every thread blocked, one in a timed wait: only its logical deadline can end it. */
    {"python_timeouts",
     {"/usr/bin/python3", "-c",
      "import queue, threading, time\n"
      "q, r = queue.Queue(), queue.Queue()\n"
      "def worker():\n"
      "    while True: r.put(q.get() * 2)\n"
      "threading.Thread(target=worker, daemon=True).start()\n"
      "t0 = time.monotonic()\n"
      "try: r.get(timeout=0.25)\n"
      "except queue.Empty: print('timed out after', time.monotonic() - t0)\n"
      "q.put(21); print('got', r.get(timeout=1))\n"
      "print('event', threading.Event().wait(0.1), time.monotonic() - t0)"},
     false},
    /* Readiness waits with timeouts, alone and beside a child: poll, select, epoll, and
     * subprocess.run's poll loop over two pipes. */
    {"python_poll",
     {"/usr/bin/python3", "-c",
      "import os, select, subprocess, time\n"
      "t0 = time.monotonic()\n"
      "print('poll', select.poll().poll(10), time.monotonic() - t0)\n"
      "r, w = os.pipe()\n"
      "print('select', select.select([r], [], [], 0.02), time.monotonic() - t0)\n"
      "os.write(w, b'x')\n"
      "print('ready', select.select([r], [], [], 0.02)[0] == [r])\n"
      "ep = select.epoll(); ep.register(r, select.EPOLLIN)\n"
      "print('epoll', ep.poll(0.01), time.monotonic() - t0)\n"
      "p = subprocess.run(['/bin/sh', '-c', 'echo out; echo err >&2; sleep 0.05; echo late'],"
      " capture_output=True)\n"
      "print(p.stdout, p.stderr, p.returncode, time.monotonic() - t0)"},
     false},
    {"python",
     {"/usr/bin/python3", "-c",
      "import random, time, uuid, os\n"
      "print(random.random(), time.time(), uuid.uuid4(), os.urandom(4).hex(), hash('x'))"},
     false},
};

static const char *prog_path(const nd_case *c, char *buf, size_t len)
{
    if (c->argv[0][0] == '/')
        return c->argv[0];
    snprintf(buf, len, "%s/%s", nd_dir, c->argv[0]);
    return buf;
}

/* Runs the program natively and returns its stdout (malloc'd, NUL-terminated). */
static char *run_native(const nd_case *c)
{
    char path[4096];
    const char *argv[6] = {prog_path(c, path, sizeof(path))};
    for (int i = 1; i < 6 && c->argv[i] != NULL; i++)
        argv[i] = c->argv[i];
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t cap = 65536, len = 0;
    char *out = malloc(cap);
    ssize_t n;
    while ((n = read(p[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = 0;
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return out;
}

static void cage(const nd_case *c, uint8_t seed_byte, mn_docklock_result *res)
{
    char path[4096];
    const char *argv[6] = {prog_path(c, path, sizeof(path))};
    uint32_t argc = 1;
    for (; argc < 6 && c->argv[argc] != NULL; argc++)
        argv[argc] = c->argv[argc];
    static const char *const env[] = {"PATH=/usr/bin:/bin", "TZ=UTC", "LC_ALL=C"};
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = argc;
    cfg.env = env;
    cfg.envc = 3;
    memset(cfg.seed, seed_byte, 32);
    cfg.epoch_ns = MN_DOCKLOCK_EPOCH_NS;
    cfg.time_ms = 20000;
    mn_err err;
    ASSERT_OK(mn_docklock_run(&cfg, res, &err), &err);
}

static void core_hash(const mn_docklock_result *res, uint8_t out[32])
{
    uint8_t node[32] = {1};
    mn_receipt r;
    mn_docklock_fill_receipt(res, node, &r);
    mn_err err;
    ASSERT_OK(mn_receipt_core_hash(&r, out, &err), &err);
}

/* Keeps both witnesses of a failed comparison for `docklock inspect` (MN_ND_DUMP=DIR). */
static void dump_witnesses(const nd_case *c, const mn_docklock_result *a,
                           const mn_docklock_result *b)
{
    const char *dir = getenv("MN_ND_DUMP");
    if (dir == NULL)
        return;
    char path[4096];
    mn_err err;
    snprintf(path, sizeof(path), "%s/%s.ref.witness", dir, c->name);
    (void)mn_file_write(path, a->witness.data, a->witness.len, 0644, true, &err);
    snprintf(path, sizeof(path), "%s/%s.bad.witness", dir, c->name);
    (void)mn_file_write(path, b->witness.data, b->witness.len, 0644, true, &err);
}

/* Native runs come first: they show the source varies, and they also bring the programs into
 * the page cache (a read that blocks on the disk is a host-timed switch point, docs §3). */
static void check_native_varies(const nd_case *c, const char *cage_out)
{
    char *first = run_native(c);
    bool varies = false;
    if (c->host_fixed) {
        varies = cage_out != NULL && strcmp(first, cage_out) != 0;
    } else {
        for (int i = 1; i < NATIVE_TRIES && !varies; i++) {
            char *again = run_native(c);
            varies = strcmp(first, again) != 0;
            free(again);
        }
    }
    if (!varies)
        mn_test_fail(__FILE__, __LINE__, "%s: native output does not vary:\n%s", c->name, first);
    free(first);
}

static void check_case(const nd_case *c)
{
    mn_docklock_result ref, res;
    if (!c->host_fixed)
        check_native_varies(c, NULL);
    cage(c, 0, &ref);
    uint8_t ref_core[32], core[32];
    core_hash(&ref, ref_core);
    mn_buf_append_byte(&ref.out, 0, NULL);
    if (c->host_fixed)
        check_native_varies(c, (const char *)ref.out.data);
    ASSERT_EQ(ref.exit_kind, MN_EXIT_CODE);
    ASSERT_EQ(ref.exit_code, 0);
    for (int i = 1; i < CAGE_RUNS; i++) {
        cage(c, 0, &res);
        mn_buf_append_byte(&res.out, 0, NULL);
        if (res.witness.len != ref.witness.len ||
            memcmp(res.witness.data, ref.witness.data, ref.witness.len) != 0)
            dump_witnesses(c, &ref, &res);
        if (strcmp((const char *)ref.out.data, (const char *)res.out.data) != 0)
            mn_test_fail(__FILE__, __LINE__, "%s: cage run %d differs:\n%s---\n%s", c->name, i,
                         (const char *)ref.out.data, (const char *)res.out.data);
        ASSERT_EQ(res.exit_kind, ref.exit_kind);
        ASSERT_EQ(res.exit_code, ref.exit_code);
        ASSERT_EQ(res.witness.len, ref.witness.len);
        ASSERT_MEM_EQ(res.witness.data, ref.witness.data, ref.witness.len);
        core_hash(&res, core);
        ASSERT_MEM_EQ(core, ref_core, 32);
        mn_docklock_result_deinit(&res);
    }
    mn_witness_header h;
    mn_witness_trailer t;
    uint8_t root[32];
    uint64_t count;
    mn_err err;
    ASSERT_OK(mn_witness_check(ref.witness.data, ref.witness.len, &h, &t, root, &count, &err),
              &err);
    ASSERT_MEM_EQ(root, ref.witness_root, 32);
    ASSERT_U64_EQ(count, ref.witness_count);
    cage(c, 1, &res); /* another seed: another witness (the seed is in the header) */
    ASSERT_TRUE(res.witness.len != ref.witness.len ||
                memcmp(res.witness.data, ref.witness.data, ref.witness.len) != 0);
    mn_docklock_result_deinit(&res);
    mn_docklock_result_deinit(&ref);
    printf("  %-16s ok\n", c->name);
}

static void nondeterminism_suite(void)
{
    const char *only = getenv("MN_ND_ONLY");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (only == NULL || strcmp(only, cases[i].name) == 0)
            check_case(&cases[i]);
}

/* Drops a file's pages from the page cache; returns how many stay resident (pages mapped by
 * some process stay, and pages under writeback). */
static size_t evict(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    (void)fdatasync(fd); /* dirty pages (a program just linked) cannot be dropped */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    size_t len = (size_t)st.st_size, pages = (len + 4095) / 4096, resident = 0;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    unsigned char *vec = malloc(pages);
    if (m != MAP_FAILED && vec != NULL && mincore(m, len, vec) == 0)
        for (size_t i = 0; i < pages; i++)
            resident += vec[i] & 1u;
    if (m != MAP_FAILED)
        munmap(m, len);
    free(vec);
    close(fd);
    return resident;
}

/* A second cage running beside the test's, until the returned pipe is closed: a grandchild,
 * so the test's own cage (which reaps with waitpid(-1)) never sees it. */
static int start_neighbour(void)
{
    int p[2];
    ASSERT_EQ(pipe(p), 0);
    pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        close(p[1]);
        if (fork() != 0)
            _exit(0);
        /* Not one of the programs evicted below: their pages would stay mapped. */
        const char *argv[] = {"/bin/sh", "-c",
                              "for i in 1 2 3; do (echo $i; cat /etc/hostname) & done; wait"};
        struct pollfd pf = {p[0], POLLIN, 0};
        for (int i = 0; i < 1000 && poll(&pf, 1, 0) == 0; i++) {
            mn_docklock_config cfg;
            memset(&cfg, 0, sizeof(cfg));
            cfg.argv = argv;
            cfg.argc = 3;
            cfg.time_ms = 20000;
            mn_docklock_result res;
            mn_err err;
            if (mn_docklock_run(&cfg, &res, &err) == 0)
                mn_docklock_result_deinit(&res);
        }
        _exit(0);
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    return p[1];
}

/* Racing threads, forked children, pipes, a mutex and a shell pipeline with a cold page cache
 * (their executables evicted before every run) and another cage beside them: blocking on the
 * disk must not change the interleaving. */
static void cold_cache_interleavings(void)
{
    static const char *const names[] = {"threads", "fork_order", "pipes", "mutex", "spawn",
                                        "shell_pipeline"};
    static const char *const tools[] = {"/usr/bin/od", "/usr/bin/tr", "/usr/bin/head",
                                        "/usr/bin/date"};
    int neighbour = start_neighbour();
    /* Private copies of the programs (under /var/tmp: the cage sees the host's root), so that
     * no other process (another test run) keeps their pages mapped and resident. */
    char dir[] = "/var/tmp/docklock-cold.XXXXXX", copy[4200];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        const nd_case *orig = NULL;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            if (strcmp(cases[i].name, names[n]) == 0)
                orig = &cases[i];
        ASSERT_TRUE(orig != NULL);
        nd_case private_case = *orig;
        const nd_case *c = &private_case;
        char path[4096];
        if (orig->argv[0][0] != '/') {
            uint8_t *bin;
            size_t len;
            mn_err err;
            ASSERT_OK(mn_file_read(prog_path(orig, path, sizeof(path)), 64u << 20, &bin, &len,
                                   &err), &err);
            snprintf(copy, sizeof(copy), "%s/%s", dir, orig->argv[0]);
            ASSERT_OK(mn_file_write(copy, bin, len, 0755, true, &err), &err);
            free(bin);
            private_case.argv[0] = copy;
        }
        mn_docklock_result ref, res;
        for (int i = 0; i < CAGE_RUNS; i++) {
            if (orig->argv[0][0] != '/') /* not resident afterwards: the exec reads the disk */
                ASSERT_EQ(evict(copy), 0);
            for (size_t k = 0; k < sizeof(tools) / sizeof(tools[0]); k++)
                (void)evict(tools[k]);
            cage(c, 0, i == 0 ? &ref : &res);
            if (i == 0)
                continue;
            if (res.witness.len != ref.witness.len ||
                memcmp(res.witness.data, ref.witness.data, ref.witness.len) != 0)
                dump_witnesses(c, &ref, &res);
            ASSERT_EQ(res.out.len, ref.out.len);
            ASSERT_MEM_EQ(res.out.data, ref.out.data, ref.out.len);
            ASSERT_EQ(res.witness.len, ref.witness.len);
            ASSERT_MEM_EQ(res.witness.data, ref.witness.data, ref.witness.len);
            mn_docklock_result_deinit(&res);
        }
        mn_docklock_result_deinit(&ref);
        if (orig->argv[0][0] != '/')
            unlink(copy);
        printf("  %-16s cold ok\n", c->name);
    }
    rmdir(dir);
    close(neighbour);
}

static void time_limit_stops_a_spin(void)
{
    nd_case spin = {"spin", {"/bin/sh", "-c", "while :; do :; done"}, false};
    char path[64];
    (void)path;
    mn_docklock_result res;
    const char *argv[] = {spin.argv[0], spin.argv[1], spin.argv[2]};
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = 3;
    cfg.time_ms = 300;
    mn_err err;
    ASSERT_OK(mn_docklock_run(&cfg, &res, &err), &err);
    ASSERT_EQ(res.exit_kind, MN_EXIT_LIMIT);
    ASSERT_EQ(res.exit_code, MN_LIMIT_TIME);
    mn_docklock_result_deinit(&res);
}

static void run_argv(const char *const *argv, uint32_t argc, mn_docklock_result *res)
{
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = argc;
    cfg.epoch_ns = MN_DOCKLOCK_EPOCH_NS;
    cfg.time_ms = 20000;
    mn_err err;
    ASSERT_OK(mn_docklock_run(&cfg, res, &err), &err);
}

/* A long-lived run that starts more processes in all than the supervisor has task slots
 * (MN__DL_TASKS_MAX, 512), one after the other: it ends normally (the slots of reaped tasks
 * are reused; the pids limit counts live tasks), twice with the same witness root. */
static void many_processes_over_time(void)
{
    const char *argv[] = {"/bin/sh", "-c",
                          "i=0; while [ $i -lt 600 ]; do /bin/true; i=$((i+1)); done; echo $i"};
    mn_docklock_result a, b;
    run_argv(argv, 3, &a);
    ASSERT_EQ(a.exit_kind, MN_EXIT_CODE);
    ASSERT_EQ(a.exit_code, 0);
    ASSERT_EQ(a.out.len, 4);
    ASSERT_MEM_EQ(a.out.data, "600\n", 4);
    run_argv(argv, 3, &b);
    ASSERT_MEM_EQ(a.witness_root, b.witness_root, 32);
    mn_docklock_result_deinit(&a);
    mn_docklock_result_deinit(&b);
}

static mn_buf signed_receipt(const mn_docklock_result *res, mn_keypair *kp)
{
    uint8_t seed[32] = {7}, node[32];
    mn_keypair_from_seed(kp, seed);
    mn_node_id(node, kp->pk);
    mn_receipt r;
    mn_docklock_fill_receipt(res, node, &r);
    mn_err err;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    ASSERT_OK(mn_receipt_sign(&r, kp, &err), &err);
    ASSERT_OK(mn_receipt_encode(&r, &buf, &err), &err);
    return buf;
}

/* A receipt checks against its own witness; one changed byte of the witness, a receipt with
 * a changed root or signature, and the witness of another run are all refused. */
static void verify_refuses_tampering(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/nd_getrandom", nd_dir);
    const char *argv[] = {path};
    mn_docklock_result a, b;
    run_argv(argv, 1, &a);
    mn_keypair kp;
    mn_buf rb = signed_receipt(&a, &kp);
    mn_receipt r;
    mn_err err;
    ASSERT_OK(mn_receipt_decode(rb.data, rb.len, kp.pk, &r, &err), &err);
    ASSERT_OK(mn_receipt_check_witness(&r, a.witness.data, a.witness.len, &err), &err);
    size_t refused = 0;
    for (size_t i = 0; i < a.witness.len; i += 7) {
        a.witness.data[i] ^= 0x20;
        refused += mn_receipt_check_witness(&r, a.witness.data, a.witness.len, &err) != 0;
        a.witness.data[i] ^= 0x20;
    }
    ASSERT_EQ(refused, (a.witness.len + 6) / 7);
    /* the root inside the signed receipt: the signature no longer holds */
    uint8_t *root = memmem(rb.data, rb.len, a.witness_root, 32);
    ASSERT_TRUE(root != NULL);
    root[0] ^= 1;
    ASSERT_EQ(mn_receipt_decode(rb.data, rb.len, kp.pk, &r, &err), -MN_ECRYPTO);
    root[0] ^= 1;
    rb.data[rb.len - 1] ^= 1; /* the signature itself */
    ASSERT_EQ(mn_receipt_decode(rb.data, rb.len, kp.pk, &r, &err), -MN_ECRYPTO);
    rb.data[rb.len - 1] ^= 1;
    const char *other[] = {path, "another-run"};
    run_argv(other, 2, &b);
    ASSERT_EQ(mn_receipt_check_witness(&r, b.witness.data, b.witness.len, &err), -MN_ECRYPTO);
    mn_buf_deinit(&rb);
    mn_docklock_result_deinit(&a);
    mn_docklock_result_deinit(&b);
}

static void replay_witness(const mn_docklock_result *rec, mn_docklock_result *res)
{
    mn_replay_config c;
    mn_err err;
    ASSERT_OK(mn_replay_config_init(&c, rec->witness.data, rec->witness.len, &err), &err);
    ASSERT_OK(mn_docklock_run(&c.cfg, res, &err), &err);
    mn_replay_config_deinit(&c);
}

/* Replay from the witness alone is identical, stdin included; a run whose outside world changed
 * diverges, and the first divergent record has a valid inclusion proof. */
static void replay_identical_then_diverges(void)
{
    char flag[4096], script[8192];
    snprintf(flag, sizeof(flag), "%s/replay-flag.%d", nd_dir, (int)getpid()); /* per run */
    unlink(flag);
    snprintf(script, sizeof(script), "read line; echo \"got $line\"; "
             "if [ -e %s ]; then date +%%s; fi; head -c 4 /dev/urandom | od -An -tx1", flag);
    const char *argv[] = {"/bin/sh", "-c", script};
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = 3;
    cfg.epoch_ns = MN_DOCKLOCK_EPOCH_NS;
    cfg.stdin_data = (const uint8_t *)"hello\n";
    cfg.stdin_len = 6;
    mn_docklock_result rec, res;
    mn_err err;
    ASSERT_OK(mn_docklock_run(&cfg, &rec, &err), &err);
    ASSERT_TRUE(memmem(rec.out.data, rec.out.len, "got hello", 9) != NULL);
    replay_witness(&rec, &res);
    ASSERT_EQ(res.witness.len, rec.witness.len);
    ASSERT_MEM_EQ(res.witness.data, rec.witness.data, rec.witness.len);
    mn_docklock_result_deinit(&res);
    ASSERT_OK(mn_file_write(flag, "x", 1, 0644, true, &err), &err);
    replay_witness(&rec, &res);
    unlink(flag);
    mn_witness_leaf *a, *b;
    uint64_t na, nb, leaf;
    ASSERT_OK(mn_witness_leaves(rec.witness.data, rec.witness.len, &a, &na, &err), &err);
    ASSERT_OK(mn_witness_leaves(res.witness.data, res.witness.len, &b, &nb, &err), &err);
    ASSERT_TRUE(mn_witness_first_divergence(a, na, b, nb, &leaf));
    ASSERT_TRUE(leaf > 1 && leaf < na); /* the header and stdin input agree */
    uint8_t(*hashes)[32] = malloc(na * 32);
    for (uint64_t i = 0; i < na; i++)
        memcpy(hashes[i], a[i].hash, 32);
    uint8_t proof[MN_MERKLE_PROOF_HASHES_MAX][32];
    size_t count;
    ASSERT_OK(mn_merkle_inclusion_proof((const uint8_t(*)[32])hashes, leaf, na, proof, &count,
                                        &err), &err);
    ASSERT_OK(mn_merkle_verify_inclusion(hashes[leaf], leaf, na, (const uint8_t(*)[32])proof,
                                         count, rec.witness_root, &err), &err);
    free(hashes);
    free(a);
    free(b);
    mn_docklock_result_deinit(&res);
    mn_docklock_result_deinit(&rec);
}

/* The output directory is writable in the cage; its tree root is deterministic, covers the
 * contents and is checked by verification. */
static void output_dir_tree_root(void)
{
    uint8_t roots[2][32];
    for (int i = 0; i < 2; i++) {
        char dir[] = "/var/tmp/docklock-out.XXXXXX", script[512];
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(script, sizeof(script), "mkdir %s/sub && date > %s/sub/when && "
                 "head -c 16 /dev/urandom > %s/r && ln -s r %s/link", dir, dir, dir, dir);
        const char *argv[] = {"/bin/sh", "-c", script};
        mn_docklock_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.argv = argv;
        cfg.argc = 3;
        cfg.output_dir = dir;
        mn_docklock_result res;
        mn_err err;
        ASSERT_OK(mn_docklock_run(&cfg, &res, &err), &err);
        ASSERT_EQ(res.exit_code, 0);
        memcpy(roots[i], res.fsdiff_root, 32);
        uint8_t empty[32];
        mn_docklock_output_root(NULL, 0, empty);
        ASSERT_TRUE(memcmp(res.fsdiff_root, empty, 32) != 0);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        ASSERT_EQ(system(cmd), 0);
        mn_docklock_result_deinit(&res);
    }
    /* the directory names differ between the runs; the root covers only what is inside */
    ASSERT_MEM_EQ(roots[0], roots[1], 32);
}

int main(int argc, char **argv)
{
    if (geteuid() != 0) {
        printf("skip: the cage needs root (namespaces, ptrace, SCHED_FIFO)\n");
        return 77;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s ND_DIR\n", argv[0]);
        return 2;
    }
    static char dir[4096];
    if (realpath(argv[1], dir) == NULL) {
        fprintf(stderr, "%s: no such directory\n", argv[1]);
        return 1;
    }
    nd_dir = dir; /* absolute: the cage's working directory is / */
    static const mn_test_case tests[] = {
        MN_TEST(nondeterminism_suite), MN_TEST(cold_cache_interleavings),
        MN_TEST(time_limit_stops_a_spin), MN_TEST(many_processes_over_time),
        MN_TEST(verify_refuses_tampering), MN_TEST(replay_identical_then_diverges),
        MN_TEST(output_dir_tree_root)};
    return mn_test_run("cage", tests, sizeof(tests) / sizeof(tests[0]), argc - 1, argv + 1);
}
