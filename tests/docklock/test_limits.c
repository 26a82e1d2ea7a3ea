/* SPDX-License-Identifier: Apache-2.0
 *
 * Limits, fail-closed and escapes: a fork bomb stops at the pids limit, a memory hog at the
 * memory limit, an endless loop at the time limit, a CPU limit throttles a busy loop (its wall
 * time is at least 5 times its CPU time at a tenth of a CPU, whatever the load: load can only
 * add wall time) without changing its output, a cage spinning on one CPU does not starve
 * another cage on that CPU, a syscall nobody modelled (setitimer) stops the
 * run naming it, and every escape attempt of esc_attempts fails inside the cage. Each ends
 * with the documented exit kind and code, and the host is unaffected (the test goes on).
 * argv[1] is the directory of esc_attempts. Needs root: exits 77 with the reason otherwise.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metanode/docklock.h"
#include "mn_test.h"

static const char *esc_dir;

static void run(const char *const *argv, uint32_t argc, uint64_t mem, uint64_t pids,
                uint64_t time_ms, mn_docklock_result *res)
{
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = argc;
    cfg.mem_bytes = mem;
    cfg.pids = pids;
    cfg.time_ms = time_ms;
    mn_err err;
    ASSERT_OK(mn_docklock_run(&cfg, res, &err), &err);
}

static void fork_bomb_hits_pids_limit(void)
{
    const char *argv[] = {"/bin/sh", "-c", "f() { f | f & }; f; wait"};
    mn_docklock_result res;
    run(argv, 3, 0, 16, 20000, &res);
    ASSERT_EQ(res.exit_kind, MN_EXIT_LIMIT);
    ASSERT_EQ(res.exit_code, MN_LIMIT_PIDS);
    mn_docklock_result_deinit(&res);
}

static void memory_hog_hits_memory_limit(void)
{
    const char *argv[] = {"/usr/bin/python3", "-c",
                          "b = bytearray(1 << 30)\nfor i in range(0, len(b), 4096): b[i] = 1"};
    mn_docklock_result res;
    run(argv, 3, 64u << 20, 0, 20000, &res);
    ASSERT_EQ(res.exit_kind, MN_EXIT_LIMIT);
    ASSERT_EQ(res.exit_code, MN_LIMIT_MEMORY);
    mn_docklock_result_deinit(&res);
}

static void endless_loop_hits_time_limit(void)
{
    const char *argv[] = {"/bin/sh", "-c", "while :; do :; done"};
    mn_docklock_result res;
    run(argv, 3, 0, 0, 300, &res);
    ASSERT_EQ(res.exit_kind, MN_EXIT_LIMIT);
    ASSERT_EQ(res.exit_code, MN_LIMIT_TIME);
    mn_docklock_result_deinit(&res);
}

/* Two cages on one CPU, one of them spinning without a syscall: the other still runs to its
 * end meanwhile. Guests are ordinary CFS tasks (only supervisors are real-time); with guests
 * at SCHED_FIFO one busy container starved every other cage on its CPU until it ended. Each
 * cage runs in a child restricted to one CPU; the second must end first. */
static pid_t cage_child(const char *const *argv, uint32_t argc, uint64_t time_ms,
                        mn_exit_kind kind, uint32_t code)
{
    const pid_t pid = fork();
    ASSERT_TRUE(pid >= 0);
    if (pid == 0) {
        mn_docklock_result res;
        run(argv, argc, 0, 0, time_ms, &res);
        _exit(res.exit_kind == kind && res.exit_code == code ? 0 : 1);
    }
    return pid;
}

static void busy_cage_does_not_starve_another(void)
{
    cpu_set_t all, one;
    ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
    int cpu = 0;
    while (!CPU_ISSET(cpu, &all))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0); /* the children inherit it */
    /* a time limit far beyond the test's run: under SCHED_FIFO the second cage would wait for
     * it (and the test fail after it); the spinner is killed once the second cage is done */
    const char *spin[] = {"/bin/sh", "-c", "while :; do :; done"};
    const pid_t spinner = cage_child(spin, 3, 60000, MN_EXIT_LIMIT, MN_LIMIT_TIME);
    usleep(500 * 1000); /* the spinner's cage is built and spinning */
    const char *echo[] = {"/bin/echo", "ran"};
    const pid_t quick = cage_child(echo, 2, 20000, MN_EXIT_CODE, 0);
    ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
    int status = 0;
    const pid_t first = waitpid(-1, &status, 0);
    ASSERT_EQ(first, quick); /* the second cage ended while the spinner still ran */
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_EQ(kill(spinner, SIGKILL), 0); /* its cage dies with it (PR_SET_PDEATHSIG) */
    ASSERT_EQ(waitpid(spinner, &status, 0), spinner);
}

static uint64_t children_cpu_ns(void)
{
    struct rusage ru;
    ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &ru), 0);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

static void cpu_limit_throttles(void)
{
    const char *argv[] = {"/bin/sh", "-c",
                          "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo $i"};
    mn_docklock_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.argv = argv;
    cfg.argc = 3;
    cfg.time_ms = 60000;
    mn_docklock_result free_run, limited;
    mn_err err;
    ASSERT_OK(mn_docklock_run(&cfg, &free_run, &err), &err);
    cfg.cpu_millis = 100; /* a tenth of a CPU: 10 ms per 100 ms period */
    uint64_t cpu0 = children_cpu_ns();
    ASSERT_OK(mn_docklock_run(&cfg, &limited, &err), &err);
    uint64_t cpu = children_cpu_ns() - cpu0;
    ASSERT_EQ(limited.exit_kind, MN_EXIT_CODE);
    ASSERT_EQ(limited.exit_code, 0);
    ASSERT_EQ(limited.out.len, free_run.out.len);
    ASSERT_MEM_EQ(limited.out.data, free_run.out.data, free_run.out.len);
    ASSERT_TRUE(cpu >= 50000000u); /* enough work to span several periods */
    ASSERT_TRUE(limited.cpu_ns <= cpu && limited.cpu_ns * 2 >= cpu); /* this run's own */
    if (limited.wall_ns < 5 * cpu)
        mn_test_fail(__FILE__, __LINE__, "wall %llu ns for %llu ns of CPU at 100 millicpus",
                     (unsigned long long)limited.wall_ns, (unsigned long long)cpu);
    mn_witness_header h;
    mn_witness_trailer t;
    uint8_t root[32];
    uint64_t count;
    ASSERT_OK(mn_witness_check(limited.witness.data, limited.witness.len, &h, &t, root, &count,
                               &err), &err);
    ASSERT_U64_EQ(h.cpu_millis, 100);
    mn_docklock_result_deinit(&limited);
    cfg.cpu_millis = 5; /* below the kernel's smallest quota */
    ASSERT_EQ(mn_docklock_run(&cfg, &limited, &err), -MN_EINVAL);
    mn_docklock_result_deinit(&free_run);
}

static void unmodelled_syscall_fails_closed(void)
{
    const char *argv[] = {"/usr/bin/python3", "-c",
                          "import signal\nsignal.setitimer(signal.ITIMER_REAL, 0.5)"};
    mn_docklock_result res;
    run(argv, 3, 0, 0, 20000, &res);
    ASSERT_EQ(res.exit_kind, MN_EXIT_LIMIT);
    ASSERT_EQ(res.exit_code, MN_LIMIT_UNMODELLED);
    ASSERT_STR_EQ(res.unmodelled, "setitimer");
    mn_docklock_result_deinit(&res);
}

static void escapes_are_blocked(void)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/esc_attempts", esc_dir);
    const char *argv[] = {path};
    mn_docklock_result res;
    run(argv, 1, 0, 0, 20000, &res);
    mn_buf_append_byte(&res.out, 0, NULL);
    if (res.exit_kind != MN_EXIT_CODE || res.exit_code != 0)
        mn_test_fail(__FILE__, __LINE__, "escape attempts (exit %d/%lld):\n%s",
                     (int)res.exit_kind, (long long)res.exit_code, (const char *)res.out.data);
    ASSERT_TRUE(strstr((const char *)res.out.data, "see_other_processes: blocked") != NULL);
    ASSERT_TRUE(strstr((const char *)res.out.data, "read_vvar: blocked") != NULL);
    ASSERT_TRUE(strstr((const char *)res.out.data, "ESCAPED") == NULL);
    mn_docklock_result_deinit(&res);
}

int main(int argc, char **argv)
{
    if (geteuid() != 0) {
        printf("skip: the cage needs root (namespaces, ptrace, SCHED_FIFO)\n");
        return 77;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s ESC_DIR\n", argv[0]);
        return 2;
    }
    esc_dir = argv[1];
    static const mn_test_case tests[] = {
        MN_TEST(fork_bomb_hits_pids_limit), MN_TEST(memory_hog_hits_memory_limit),
        MN_TEST(endless_loop_hits_time_limit), MN_TEST(busy_cage_does_not_starve_another),
        MN_TEST(cpu_limit_throttles),
        MN_TEST(unmodelled_syscall_fails_closed),
        MN_TEST(escapes_are_blocked)};
    return mn_test_run("limits", tests, sizeof(tests) / sizeof(tests[0]), argc - 1, argv + 1);
}
