/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c: the docklock command: a table of verbs, one file each, and the shared error
 * helpers. Docklock runs a program in the deterministic cage (run), re-runs a recorded run
 * and compares (replay), checks a receipt and witness without running (verify), and shows a
 * witness or receipt (inspect). Not yet: the OCI runtime verbs (create, start, state, ...).
 */
#include <stdio.h>
#include <string.h>

#include "dl.h"
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
};

static int usage(FILE *out)
{
    fprintf(out, "usage: docklock VERB [OPTIONS]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\n`docklock VERB --help` describes a verb.\n");
    return out == stdout ? DL_OK : DL_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return usage(stdout);
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        return dl_fail("init", &err);
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "docklock: unknown verb '%s'\n", argv[1]);
    return usage(stderr);
}
