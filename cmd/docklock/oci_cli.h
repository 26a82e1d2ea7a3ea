/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_cli.h: what the OCI runtime verbs of docklock share (oci_main.c, oci_create.c,
 * oci_verbs.c): the global options of the runc command line (--root, --log, --log-format,
 * --systemd-cgroup) and error reporting the way runc does it: a message on stderr, the same
 * message in the --log file (text or JSON lines), exit status 1.
 */
#ifndef DOCKLOCK_OCI_CLI_H
#define DOCKLOCK_OCI_CLI_H

#include <stdbool.h>

#include "metanode/error.h"
#include "metanode/oci.h"

typedef struct oci_globals {
    const char *root;       /* state directory, default /run/docklock */
    const char *log;        /* NULL: stderr only */
    bool log_json;
    bool systemd_cgroup;    /* accepted; Docklock makes its own cgroups (docs/oci.md) */
    bool debug;             /* --debug: warnings also on stderr when there is a --log */
    bool seen;              /* a global option was given (selects the OCI form of `run`) */
} oci_globals;

extern oci_globals oci_g;

/* Parses leading global options from argv[1..]; returns the index of the verb, or -1 after
 * printing a usage error. *exit_now is set with the exit code for --version / --help. */
int oci_parse_globals(int argc, char **argv, int *exit_now);
/* Reports an error (stderr and the log) and returns 1. */
int oci_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int oci_fail_err(const char *verb, const mn_err *err);
/* A warning: to the log (level warning) if there is one, else (or with --debug) to stderr. */
void oci_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Is `run ARGS` the OCI form (create + start) rather than docklock's own run? */
bool oci_run_is_oci(int argc, char **argv);

int oci_create(int argc, char **argv);
int oci_run(int argc, char **argv);
int oci_start(int argc, char **argv);
int oci_state(int argc, char **argv);
int oci_kill(int argc, char **argv);
int oci_delete(int argc, char **argv);
int oci_ps(int argc, char **argv);
int oci_features(int argc, char **argv);
int oci_events(int argc, char **argv);
int oci_list(int argc, char **argv);
int oci_exec(int argc, char **argv);

/* Pids of pid's descendants (children first, depth-first), at most max; returns the count. */
int oci_descendants(int pid, int *out, int max);
/* The container's processes on the host: the cage's pid 1 and its descendants (none when it
 * is gone); at most max; returns the count. */
int oci_container_pids(const mn_oci_state *st, int *out, int max);

/* Runs the hooks of one kind (oci_hooks.c) with the state JSON of st on their stdin; returns
 * 0, or 1 after reporting the first failure. oci_bundle_hooks reads them from the bundle. */
int oci_run_hooks(const mn_oci_config *cfg, mn_oci_hook_kind kind, const mn_oci_state *st);
int oci_bundle_hooks(const mn_oci_state *st, mn_oci_hook_kind kind);
/* Removes a container's state directory (flat: files only) and the directory. */
void oci_remove_dir(const char *dir);

#endif
