/* SPDX-License-Identifier: Apache-2.0
 *
 * Limits, fail-closed and escapes: a fork bomb stops at the pids limit, a memory hog at the
 * memory limit, an endless loop at the time limit, a syscall nobody modelled (poll) stops the
 * run naming it, and every escape attempt of esc_attempts fails inside the cage. Each ends
 * with the documented exit kind and code, and the host is unaffected (the test goes on).
 * argv[1] is the directory of esc_attempts. Needs root: exits 77 with the reason otherwise.
 */
#include <stdlib.h>
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

static void unmodelled_syscall_fails_closed(void)
{
    const char *argv[] = {"/usr/bin/python3", "-c", "import select\nselect.poll().poll(10)"};
    mn_docklock_result res;
    run(argv, 3, 0, 0, 20000, &res);
    ASSERT_EQ(res.exit_kind, MN_EXIT_LIMIT);
    ASSERT_EQ(res.exit_code, MN_LIMIT_UNMODELLED);
    ASSERT_STR_EQ(res.unmodelled, "poll");
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
        MN_TEST(endless_loop_hits_time_limit), MN_TEST(unmodelled_syscall_fails_closed),
        MN_TEST(escapes_are_blocked)};
    return mn_test_run("limits", tests, sizeof(tests) / sizeof(tests[0]), argc - 1, argv + 1);
}
