/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_client.c: the client verbs that ask a running node over its HTTP API (api.h):
 * `metanode status`, `metanode block get H|latest`, `metanode validators`, and the shared
 * plumbing of `metanode tx send` (cmd_tx.c): --node URL, fetching JSON, and turning the node's
 * answers into exit codes: 3 when the node cannot be reached (or answers something that is not
 * the API), 1 when it refuses the request (any HTTP error; its {"error": ...} is printed).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_client.h"
#include "metanode/api_client.h"

int client_request(const char *verb, const char *node, const char *method, const char *path,
                   const char *content_type, const uint8_t *data, size_t len, json_t **doc)
{
    mn_buf body;
    mn_err err;
    long status = 0;
    int rc = strcmp(method, "POST") == 0
                 ? mn_api_client_post(node, path, content_type, data, len, &status, &body, &err)
                 : mn_api_client_get(node, path, &status, &body, &err);
    if (rc != 0) {
        fprintf(stderr, "metanode %s: %s\n", verb, err.msg);
        return CLI_INPUT;
    }
    rc = mn_api_client_parse(&body, doc, &err);
    mn_buf_deinit(&body);
    if (rc != 0) {
        fprintf(stderr, "metanode %s: %s (HTTP %ld from %s)\n", verb, err.msg, status, node);
        return CLI_INPUT;
    }
    if (status < 200 || status > 299) {
        json_t *e = json_object_get(*doc, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        fprintf(stderr, "metanode %s: the node refused (HTTP %ld %s): %s\n", verb, status,
                code ? code : "?", msg ? msg : "no message");
        json_decref(*doc);
        *doc = NULL;
        return CLI_INVALID;
    }
    return -1;
}

/* The API address of a node home: the "api" field ("host:port") of DIR/config.json, written
 * by `metanode init` / `metanode testnet`. */
static int url_from_home(const char *verb, const char *dir, char *url, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    const char *api = json_string_value(json_object_get(doc, "api"));
    if (api == NULL || strlen(api) == 0 || strlen(api) > 100) {
        fprintf(stderr, "metanode %s: %s: no \"api\" address (%s)\n", verb, path,
                doc ? "missing" : jerr.text);
        json_decref(doc);
        return CLI_INPUT;
    }
    /* A wildcard listener is reached on loopback. */
    if (strncmp(api, "0.0.0.0:", 8) == 0)
        snprintf(url, size, "http://127.0.0.1:%s", api + 8);
    else if (strncmp(api, "[::]:", 5) == 0)
        snprintf(url, size, "http://[::1]:%s", api + 5);
    else
        snprintf(url, size, "http://%s", api);
    json_decref(doc);
    return -1;
}

int client_parse_common(const char *verb, const char *help, int argc, char **argv,
                        client_opts *o, int *first_arg)
{
    static const struct option opts[] = {{"node", required_argument, 0, 'n'},
                                         {"home", required_argument, 0, 'H'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->node = getenv("METANODE_NODE") ? getenv("METANODE_NODE") : MN_API_DEFAULT_URL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'n')
            o->node = optarg;
        else if (c == 'H') {
            const int rc = url_from_home(verb, optarg, o->url, sizeof o->url);
            if (rc >= 0)
                return rc;
            o->node = o->url;
        } else if (c == 'j')
            o->json = true;
        else if (c == 'h')
            return fputs(help, stdout), CLI_OK;
        else
            return cli_usage_error(verb, "bad option");
    }
    *first_arg = optind;
    return -1;
}

static const char *str(json_t *doc, const char *key)
{
    const char *s = json_string_value(json_object_get(doc, key));
    return s ? s : "-";
}

static json_int_t num(json_t *doc, const char *key)
{
    return json_integer_value(json_object_get(doc, key));
}

/* ---- status ------------------------------------------------------------------------------ */

static const char status_help[] =
    "usage: metanode status [--node URL | --home DIR] [--json]\n"
    "Asks a running node (GET /status) for its chain, height, latest block, state root,\n"
    "consensus round, peers and role. The node is --node URL, or the \"api\" address in\n"
    "DIR/config.json with --home DIR, else $METANODE_NODE, else " MN_API_DEFAULT_URL ".\n"
    "Exit codes: 0 ok, 1 the node refused, 2 usage, 3 the node cannot be reached.\n";

int cmd_status(int argc, char **argv)
{
    client_opts o;
    int first;
    int rc = client_parse_common("status", status_help, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    if (first != argc)
        return cli_usage_error("status", "no arguments expected");
    json_t *doc = NULL;
    if ((rc = client_request("status", o.node, "GET", "/status", NULL, NULL, 0, &doc)) >= 0)
        return rc;
    if (o.json) {
        cli_print_json(doc);
        return CLI_OK;
    }
    json_t *latest = json_object_get(doc, "latest_block");
    printf("chain:        %s\n", str(doc, "chain_id"));
    printf("node:         %s (%s)\n", str(doc, "node_id"), str(doc, "role"));
    printf("height:       %" JSON_INTEGER_FORMAT "\n", num(doc, "height"));
    if (json_is_object(latest))
        printf("latest block: %s (time %" JSON_INTEGER_FORMAT " ms)\n", str(latest, "id"),
               num(latest, "time_ms"));
    else
        printf("latest block: none yet\n");
    printf("state root:   %s\n", str(doc, "state_root"));
    printf("round:        %" JSON_INTEGER_FORMAT "\n", num(doc, "round"));
    printf("peers:        %" JSON_INTEGER_FORMAT "\n", num(doc, "peers"));
    printf("catching up:  %s\n", json_is_true(json_object_get(doc, "catching_up")) ? "yes" : "no");
    json_t *mp = json_object_get(doc, "mempool");
    if (json_is_object(mp))
        printf("mempool:      %" JSON_INTEGER_FORMAT " txs, %" JSON_INTEGER_FORMAT " bytes\n",
               num(mp, "count"), num(mp, "bytes"));
    json_decref(doc);
    return CLI_OK;
}

/* ---- block get --------------------------------------------------------------------------- */

static const char block_get_help[] =
    "usage: metanode block get HEIGHT|latest [--node URL | --home DIR] [--json]\n"
    "Fetches a committed block (GET /blocks/HEIGHT): its id, header, commit certificate\n"
    "summary, time, state root and transaction hashes.\n"
    "Exit codes: 0 ok, 1 the node refused (e.g. no such block), 2 usage, 3 unreachable.\n";

static int block_get(int argc, char **argv)
{
    client_opts o;
    int first;
    int rc = client_parse_common("block get", block_get_help, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    if (first != argc - 1)
        return cli_usage_error("block get", "expected exactly one HEIGHT or \"latest\"");
    const char *which = argv[first];
    uint64_t height = 0;
    char path[64];
    if (strcmp(which, "latest") == 0)
        snprintf(path, sizeof path, "/blocks/latest");
    else if (cli_parse_u64(which, &height) == 0)
        snprintf(path, sizeof path, "/blocks/%" PRIu64, height);
    else
        return cli_usage_error("block get", "HEIGHT must be a number or \"latest\"");
    json_t *doc = NULL;
    if ((rc = client_request("block get", o.node, "GET", path, NULL, NULL, 0, &doc)) >= 0)
        return rc;
    if (o.json) {
        cli_print_json(doc);
        return CLI_OK;
    }
    json_t *hdr = json_object_get(doc, "header");
    json_t *commit = json_object_get(doc, "commit");
    json_t *body = json_object_get(doc, "body");
    printf("height:     %" JSON_INTEGER_FORMAT "\n", num(doc, "height"));
    printf("id:         %s\n", str(doc, "id"));
    printf("parent:     %s\n", str(hdr, "parent"));
    printf("proposer:   %s\n", str(hdr, "proposer"));
    printf("payload:    %s\n", str(hdr, "payload"));
    printf("commit:     round %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT " signatures",
           num(commit, "round"), num(commit, "signatures"));
    if (json_object_get(commit, "total_power") != NULL)
        printf(", power %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT, num(commit, "power"),
               num(commit, "total_power"));
    printf("\ntime_ms:    %" JSON_INTEGER_FORMAT "\n", num(body, "time_ms"));
    printf("state root: %s\n", str(body, "state_root"));
    printf("txs:        %" JSON_INTEGER_FORMAT "\n", num(body, "tx_count"));
    json_t *txs = json_object_get(body, "txs");
    size_t i;
    json_t *h;
    json_array_foreach(txs, i, h) printf("  %s\n", json_string_value(h));
    json_decref(doc);
    return CLI_OK;
}

static const cli_verb block_verbs[] = {
    {"get", "fetch a committed block by height (or latest) from a node", block_get},
};

int cmd_block(int argc, char **argv)
{
    return cli_dispatch("block", block_verbs, 1, argc, argv);
}

/* ---- validators -------------------------------------------------------------------------- */

static const char validators_help[] =
    "usage: metanode validators [--node URL | --home DIR] [--json]\n"
    "Lists the validator set running the next height (GET /validators): id, public key,\n"
    "stake and voting power in basis points.\n"
    "Exit codes: 0 ok, 1 the node refused, 2 usage, 3 the node cannot be reached.\n";

int cmd_validators(int argc, char **argv)
{
    client_opts o;
    int first;
    int rc = client_parse_common("validators", validators_help, argc, argv, &o, &first);
    if (rc >= 0)
        return rc;
    if (first != argc)
        return cli_usage_error("validators", "no arguments expected");
    json_t *doc = NULL;
    if ((rc = client_request("validators", o.node, "GET", "/validators", NULL, NULL, 0, &doc)) >=
        0)
        return rc;
    if (o.json) {
        cli_print_json(doc);
        return CLI_OK;
    }
    printf("height %" JSON_INTEGER_FORMAT ", total stake %" JSON_INTEGER_FORMAT "\n",
           num(doc, "height"), num(doc, "total_stake"));
    printf("%-64s %12s %8s\n", "id", "stake", "power");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, "validators"), i, v)
    {
        const json_int_t bp = num(v, "power_bp");
        printf("%-64s %12" JSON_INTEGER_FORMAT " %5" JSON_INTEGER_FORMAT ".%02" JSON_INTEGER_FORMAT
               "%%\n",
               str(v, "id"), num(v, "stake"), bp / 100, bp % 100);
    }
    json_decref(doc);
    return CLI_OK;
}
