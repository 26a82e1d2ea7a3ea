/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_run.c: `docklock run`: parse the run's configuration, run the program in the cage, copy
 * its stdout and stderr through, write the witness log and the signed receipt when asked, and
 * exit with the guest's status. The environment is only what the command line gives: a fixed
 * base (PATH, HOME, TZ=UTC, LC_ALL=C) plus --env entries, which replace a base entry of the
 * same name. Without --seed the seed is all zero, so two plain runs agree.
 * Also here: the receipt and key helpers that replay shares (dl_write_outputs).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dl.h"
#include "dl_run.h"
#include "metanode/docklock.h"
#include "metanode/keyfile.h"
#include "metanode/receipt.h"
#include "metanode/sign.h"

static const char help[] =
    "usage: docklock run [--seed HEX] [--key FILE] [--witness FILE] [--receipt FILE]\n"
    "                    [--rootfs DIR] [--output-dir DIR] [--env K=V]... [--stdin FILE]\n"
    "                    [--mem-limit BYTES]\n"
    "                    [--pids-limit N] [--cpu-limit MILLICPUS] [--time-limit MS]\n"
    "                    [--net none] [--epoch NS] -- PROGRAM [ARGS...]\n"
    "Runs PROGRAM deterministically in the cage. Its stdout, stderr and exit status pass\n"
    "through; a run stopped at a limit exits 124; Docklock's own failures exit 125 (126: not\n"
    "executable, 127: not found). --witness and --receipt write the witness log and the\n"
    "signed receipt; without --key a new key file is created and its path printed.\n"
    "--output-dir (an empty directory, absolute path) is the one writable place, at the same\n"
    "path in the cage; its tree hash is the receipt's fsdiff root.\n";

static const char *const base_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp",
                                       "TZ=UTC", "LC_ALL=C"};

static int add_env(dl_run_args *a, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return -1;
    for (uint32_t i = 0; i < a->envc; i++)
        if (strncmp(a->env[i], kv, (size_t)(eq - kv) + 1) == 0) {
            a->env[i] = kv;
            return 0;
        }
    if (a->envc >= MN_WITNESS_ENV_MAX)
        return -1;
    a->env[a->envc++] = kv;
    return 0;
}

static int parse_u64_opt(const char *text, uint64_t *out)
{
    char *end;
    if (text[0] < '0' || text[0] > '9')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_opt(dl_run_args *a, int c, const char *arg)
{
    mn_err err;
    switch (c) {
    case 's': return mn_hex_decode(a->cfg.seed, 32, arg, &err) == 0 ? 0 : -1;
    case 'k': a->key = arg; return 0;
    case 'w': a->witness = arg; return 0;
    case 'r': a->receipt = arg; return 0;
    case 'R': a->cfg.rootfs = arg; return 0;
    case 'o': a->cfg.output_dir = arg; return 0;
    case 'e': return add_env(a, arg);
    case 'i': a->stdin_path = arg; return 0;
    case 'm': return parse_u64_opt(arg, &a->cfg.mem_bytes);
    case 'p': return parse_u64_opt(arg, &a->cfg.pids);
    case 'c': return parse_u64_opt(arg, &a->cfg.cpu_millis);
    case 't': return parse_u64_opt(arg, &a->cfg.time_ms);
    case 'E': return parse_u64_opt(arg, &a->cfg.epoch_ns);
    case 'n': return strcmp(arg, "none") == 0 ? 0 : -1;
    default: return -1;
    }
}

static int parse(int argc, char **argv, dl_run_args *a)
{
    static const struct option opts[] = {
        {"seed", 1, 0, 's'},       {"key", 1, 0, 'k'},        {"witness", 1, 0, 'w'},
        {"receipt", 1, 0, 'r'},    {"rootfs", 1, 0, 'R'},     {"env", 1, 0, 'e'},
        {"stdin", 1, 0, 'i'},      {"mem-limit", 1, 0, 'm'},  {"pids-limit", 1, 0, 'p'},
        {"cpu-limit", 1, 0, 'c'},  {"time-limit", 1, 0, 't'}, {"net", 1, 0, 'n'},
        {"epoch", 1, 0, 'E'},      {"output-dir", 1, 0, 'o'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof(*a));
    a->cfg.epoch_ns = MN_DOCKLOCK_EPOCH_NS;
    for (size_t i = 0; i < sizeof(base_env) / sizeof(base_env[0]); i++)
        a->env[a->envc++] = base_env[i];
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return DL_OK;
        }
        if (c == '?' || parse_opt(a, c, optarg) != 0)
            return dl_usage("run", help);
    }
    if (optind >= argc || argc - optind > (int)MN_WITNESS_ARGV_MAX)
        return dl_usage("run", help);
    a->cfg.argv = (const char *const *)(argv + optind);
    a->cfg.argc = (uint32_t)(argc - optind);
    a->cfg.env = a->env;
    a->cfg.envc = a->envc;
    return -1;
}

int cmd_run(int argc, char **argv)
{
    static dl_run_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    mn_err err;
    uint8_t *stdin_data = NULL;
    size_t stdin_len = 0;
    if (a.stdin_path != NULL && mn_file_read(a.stdin_path, 0, &stdin_data, &stdin_len, &err))
        return dl_fail("run", &err);
    a.cfg.stdin_data = stdin_data;
    a.cfg.stdin_len = stdin_len;
    mn_docklock_result res;
    rc = mn_docklock_run(&a.cfg, &res, &err);
    free(stdin_data);
    if (rc != 0)
        return dl_fail("run", &err);
    rc = dl_write_outputs("run", &a, &res);
    mn_docklock_result_deinit(&res);
    return rc;
}
