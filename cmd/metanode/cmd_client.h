/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_client.h: what the client verbs (cmd_client.c, cmd_tx.c) share: --node/--json/--help
 * parsing and one JSON request with the exit-code conventions of those verbs.
 */
#ifndef METANODE_CMD_CLIENT_H
#define METANODE_CMD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct client_opts {
    const char *node; /* base URL */
    char url[160];    /* storage for a URL built from --home */
    bool json;
} client_opts;

/* Parses --node URL, --home DIR (the "api" of DIR/config.json), --json, --help (other options are usage errors); *first_arg is the index
 * of the first positional argument. Returns -1 to go on, or an exit code. */
int client_parse_common(const char *verb, const char *help, int argc, char **argv,
                        client_opts *o, int *first_arg);
/* method "GET" or "POST". Returns -1 with *doc (a JSON object, caller owns) on a 2xx answer,
 * else the exit code after printing why: CLI_INPUT (3) unreachable or not the API,
 * CLI_INVALID (1) the node refused. */
int client_request(const char *verb, const char *node, const char *method, const char *path,
                   const char *content_type, const uint8_t *data, size_t len, json_t **doc);

#endif
