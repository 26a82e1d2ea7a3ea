/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c: the docklock command: a table of verbs, one file each, and the shared error
 * helpers. Docklock runs a program in the deterministic cage (run), re-runs a recorded run
 * and compares (replay), checks a receipt and witness without running (verify), and shows a
 * witness or receipt (inspect). It is also an OCI runtime with runc's command line (global
 * options, create, start, state, kill, delete, ps, features, and `run` with --bundle or a
 * global option), oci_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "dl.h"
#include "oci_cli.h"
#include "metanode/sign.h"

int dl_fail(const char *verb, const mn_err *err)
{
    fprintf(stderr, "docklock %s: %s\n", verb, err->msg);
    switch (err->code) {
    case MN_ENOTFOUND:
        return DL_NOTFOUND;
    case MN_ECRYPTO:
        return DL_INVALID;
    default:
        return DL_FAILED;
    }
}

int dl_usage(const char *verb, const char *help)
{
    fprintf(stderr, "docklock %s: bad arguments\n%s", verb, help);
    return DL_USAGE;
}

static const struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} verbs[] = {
    {"run", "run a program in the cage; write its witness and signed receipt", cmd_run},
    {"replay", "re-run a witness and report the first divergence", cmd_replay},
    {"verify", "check a receipt (and its witness) without running anything", cmd_verify},
    {"inspect", "show a witness log or a receipt", cmd_inspect},
    {"create", "OCI: create a container from a bundle (it waits for start)", oci_create},
    {"start", "OCI: start a created container", oci_start},
    {"state", "OCI: print a container's state JSON", oci_state},
    {"kill", "OCI: send a signal to a container", oci_kill},
    {"delete", "OCI: remove a container (--force: also a running one)", oci_delete},
    {"ps", "OCI: list a container's processes", oci_ps},
    {"list", "OCI: list the containers in the state directory", oci_list},
    {"features", "OCI: print the runtime's features JSON", oci_features},
    {"events", "OCI: resource use of a container (--stats: once)", oci_events},
    {"exec", "OCI: run a process in a running container (joins the run, recorded)", oci_exec},
};

static int usage(FILE *out)
{
    fprintf(out, "usage: docklock VERB [OPTIONS]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nOCI global options (before the verb): --root DIR (default /run/docklock), "
                 "--log FILE,\n  --log-format text|json, --systemd-cgroup (accepted), "
                 "--version.\n`run` is the OCI run (create + start) with --bundle or a global "
                 "option.\n\n`docklock VERB --help` describes a verb.\n");
    return out == stdout ? DL_OK : DL_USAGE;
}

int main(int argc, char **argv)
{
    int exit_now;
    int v = oci_parse_globals(argc, argv, &exit_now);
    if (v < 0)
        return exit_now;
    if (v >= argc)
        return usage(stderr);
    if (strcmp(argv[v], "--help") == 0 || strcmp(argv[v], "-h") == 0)
        return usage(stdout);
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        return dl_fail("init", &err);
    if (strcmp(argv[v], "run") == 0 && oci_run_is_oci(argc - v, argv + v))
        return oci_run(argc - v, argv + v);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[v], verbs[i].name) == 0)
            return verbs[i].run(argc - v, argv + v);
    fprintf(stderr, "docklock: unknown verb '%s'\n", argv[v]);
    return usage(stderr);
}
