/* SPDX-License-Identifier: Apache-2.0
 *
 * cli.h: what the verbs of the metanode command share: the exit codes, error reporting, JSON
 * output, and small argument helpers. Each verb lives in its own file and is listed in the
 * table in main.c.
 *
 * Exit codes (documented in --help and docs/cli.md):
 *   0 success; 1 a check failed (invalid proof, signature or receipt); 2 usage error;
 *   3 bad input (missing, unreadable, malformed or unsafe file or value); 4 internal or system
 *   error.
 */
#ifndef METANODE_CLI_H
#define METANODE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "metanode/error.h"

enum {
    CLI_OK = 0,
    CLI_INVALID = 1,
    CLI_USAGE = 2,
    CLI_INPUT = 3,
    CLI_INTERNAL = 4,
};

typedef struct cli_verb {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_verb;

/* Prints "metanode <what>: <err->msg>" to stderr and returns the exit code for err->code. */
int cli_fail(const char *what, const mn_err *err);
/* Prints a usage error and returns CLI_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints doc (JSON, pretty, sorted keys kept in insertion order) to stdout; takes ownership. */
void cli_print_json(json_t *doc);
/* Runs a verb group: argv[0] is the group, argv[1] the verb, looked up in verbs[]. */
int cli_dispatch(const char *group, const cli_verb *verbs, int count, int argc, char **argv);
/* Parses a non-negative decimal integer; -1 if the text is not exactly one. */
int cli_parse_u64(const char *text, uint64_t *out);
/* True if argv has --help or -h anywhere (so every verb answers --help). */
bool cli_wants_help(int argc, char **argv);
/* For verbs whose only options are --json and --help and that take exactly one FILE: parses
 * argv, sets *json and *file. Returns -1 to go on, or the exit code (help printed, usage
 * error). */
int cli_parse_one_file(const char *verb, const char *help, int argc, char **argv, bool *json,
                       const char **file);
/* Prints hex of len bytes followed by a newline. */
void cli_print_hex(const uint8_t *data, size_t len);

int cmd_key(int argc, char **argv);
int cmd_vrf(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_wasm(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_testnet(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_dev(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_block(int argc, char **argv);
int cmd_validators(int argc, char **argv);
int cmd_tx(int argc, char **argv);

#endif
