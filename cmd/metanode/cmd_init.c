/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_init.c: `metanode init --home DIR` (a node home: keys with mode 0600 and config.json)
 * and `metanode testnet --validators N --out DIR` (N homes on loopback and one genesis.json
 * naming them all, copied into each home). Layout: node_home.h. Not here: running a node.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "metanode/ledger.h"
#include "metanode/log.h"
#include "metanode/node_home.h"

static void print_keys(json_t *doc, const mn_home_keys *k)
{
    char pk[65], id[65], vrf[65], noise[65];
    uint8_t node_id[32];
    mn_node_id(node_id, k->key.pk);
    mn_hex_encode(pk, k->key.pk, 32);
    mn_hex_encode(id, node_id, 32);
    mn_hex_encode(vrf, k->vrf_pk, 32);
    mn_hex_encode(noise, k->noise_pub, 32);
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "public_key", json_string(pk));
    json_object_set_new(doc, "vrf_public_key", json_string(vrf));
    json_object_set_new(doc, "noise_public_key", json_string(noise));
}

static void print_doc(json_t *doc, bool json)
{
    if (json) {
        cli_print_json(doc);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(doc, key, v)
    {
        if (json_is_string(v))
            printf("%-17s %s\n", key, json_string_value(v));
        else if (json_is_integer(v))
            printf("%-17s %lld\n", key, (long long)json_integer_value(v));
    }
    json_decref(doc);
}

static const char init_help[] =
    "usage: metanode init --home DIR [--listen HOST:PORT] [--api HOST:PORT] [--peer HOST:PORT]...\n"
    "                     [--asmap FILE] [--log-level LEVEL] [--json]\n"
    "Creates a node home: node_key.json (Ed25519 identity; the BPCI Noise static key is derived\n"
    "from it), vrf_key.json (leader election), both mode 0600, and config.json (defaults: listen\n"
    "127.0.0.1:26656, api 127.0.0.1:26657, log level info). Refuses to overwrite keys. The\n"
    "genesis.json of the chain to join must be copied into the home before `metanode agent`.\n"
    "--asmap FILE names an ASN map (relative to DIR or absolute) by which the relay groups\n"
    "peers and caps outbound peers per region; it is read when the agent starts.\n";

static int run_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"home", required_argument, 0, 'H'},   {"listen", required_argument, 0, 'l'},
        {"api", required_argument, 0, 'a'},    {"peer", required_argument, 0, 'p'},
        {"log-level", required_argument, 0, 'L'}, {"json", no_argument, 0, 'j'},
        {"asmap", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    mn_home_config cfg = {.listen = "127.0.0.1:26656", .api = "127.0.0.1:26657",
                          .log_level = "info"};
    const char *home = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const size_t n = optarg ? strlen(optarg) : 0;
        if (c == 'H')
            home = optarg;
        else if (c == 'l' && n < sizeof(cfg.listen))
            strcpy(cfg.listen, optarg);
        else if (c == 'a' && n < sizeof(cfg.api))
            strcpy(cfg.api, optarg);
        else if (c == 'p' && n < 64 && cfg.peer_count < MN_HOME_PEERS_MAX)
            strcpy(cfg.peers[cfg.peer_count++], optarg);
        else if (c == 'm' && n < sizeof(cfg.asmap))
            strcpy(cfg.asmap, optarg);
        else if (c == 'L' && n < sizeof(cfg.log_level))
            strcpy(cfg.log_level, optarg);
        else if (c == 'j')
            json = true;
        else if (c == 'h')
            return fputs(init_help, stdout), CLI_OK;
        else
            return cli_usage_error("init", "bad option (see --help)");
    }
    mn_log_level lvl;
    if (home == NULL || optind != argc)
        return cli_usage_error("init", "--home DIR is required and no other argument");
    if (mn_log_level_parse(cfg.log_level, &lvl) != 0)
        return cli_usage_error("init", "unknown log level \"%s\"", cfg.log_level);
    mn_err err;
    mn_home_keys keys;
    if (mn_home_init(home, &cfg, &keys, &err) != 0)
        return cli_fail("init", &err);
    json_t *doc = json_object();
    json_object_set_new(doc, "home", json_string(home));
    print_keys(doc, &keys);
    json_object_set_new(doc, "listen", json_string(cfg.listen));
    json_object_set_new(doc, "api", json_string(cfg.api));
    mn_home_keys_wipe(&keys);
    print_doc(doc, json);
    return CLI_OK;
}

int cmd_init(int argc, char **argv)
{
    return run_init(argc, argv);
}

/* ---- testnet ---------------------------------------------------------------------------- */

static const char testnet_help[] =
    "usage: metanode testnet --validators N --out DIR [--base-port P] [--chain-id ID] [--json]\n"
    "Creates N validator homes DIR/node0 .. DIR/node{N-1} on loopback (node i: BPCI on\n"
    "127.0.0.1:P+2i, API on 127.0.0.1:P+2i+1; P defaults to 26656) and one genesis.json with\n"
    "all of them (equal stakes), written to DIR and copied into each home. Start each node with\n"
    "`metanode agent --home DIR/nodeI`, or the whole cluster with `metanode dev`.\n";

int mn_cli_testnet(const char *out, uint32_t n, uint32_t base_port, const char *chain_id,
                   json_t *report, mn_err *err);

int mn_cli_testnet(const char *out, uint32_t n, uint32_t base_port, const char *chain_id,
                   json_t *report, mn_err *err)
{
    static mn_genesis g;
    memset(&g, 0, sizeof(g));
    if (strlen(chain_id) == 0 || strlen(chain_id) > MN_CHAIN_ID_BYTES_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "chain id of 1..%u bytes", MN_CHAIN_ID_BYTES_MAX);
    strcpy(g.chain_id, chain_id);
    g.genesis_time_ms = (uint64_t)time(NULL) * 1000u;
    g.validator_count = n;
    if (mkdir(out, 0700) != 0 && errno != EEXIST)
        return mn_err_set(err, MN_ESYS, errno, "mkdir %s: %s", out, strerror(errno));
    json_t *nodes = json_array();
    for (uint32_t i = 0; i < n; i++) {
        char home[MN_HOME_PATH_MAX], name[32];
        snprintf(name, sizeof(name), "node%u", i);
        MN_TRY(mn_home_path(home, out, name, err));
        mn_home_config cfg = {.log_level = "info"};
        snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:%u", base_port + 2 * i);
        snprintf(cfg.api, sizeof(cfg.api), "127.0.0.1:%u", base_port + 2 * i + 1);
        mn_home_keys k;
        if (mn_home_init(home, &cfg, &k, err) != 0) {
            json_decref(nodes);
            return mn_err_wrap(err, "%s", home);
        }
        mn_genesis_validator *v = &g.validators[i];
        memcpy(v->pk, k.key.pk, 32);
        memcpy(v->vrf_pk, k.vrf_pk, 32);
        memcpy(v->noise_pk, k.noise_pub, 32);
        v->stake = 100;
        strcpy(v->addr, cfg.listen);
        strcpy(v->api, cfg.api);
        json_t *o = json_object();
        json_object_set_new(o, "home", json_string(home));
        print_keys(o, &k);
        json_object_set_new(o, "listen", json_string(cfg.listen));
        json_object_set_new(o, "api", json_string(cfg.api));
        json_array_append_new(nodes, o);
        mn_home_keys_wipe(&k);
    }
    char path[MN_HOME_PATH_MAX];
    int rc = mn_home_path(path, out, "genesis.json", err);
    if (rc == 0)
        rc = mn_genesis_save(&g, path, err);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        char home[MN_HOME_PATH_MAX], name[48];
        snprintf(name, sizeof(name), "node%u/genesis.json", i);
        rc = mn_home_path(home, out, name, err);
        if (rc == 0)
            rc = mn_genesis_save(&g, home, err);
    }
    if (rc != 0) {
        json_decref(nodes);
        return rc;
    }
    uint8_t gh[32];
    char ghex[65];
    mn_genesis_hash(&g, gh);
    mn_hex_encode(ghex, gh, 32);
    json_object_set_new(report, "chain_id", json_string(chain_id));
    json_object_set_new(report, "genesis", json_string(path));
    json_object_set_new(report, "genesis_hash", json_string(ghex));
    json_object_set_new(report, "nodes", nodes);
    return 0;
}

static int run_testnet(int argc, char **argv)
{
    static const struct option opts[] = {
        {"validators", required_argument, 0, 'n'}, {"out", required_argument, 0, 'o'},
        {"base-port", required_argument, 0, 'p'},  {"chain-id", required_argument, 0, 'c'},
        {"json", no_argument, 0, 'j'},             {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    uint64_t n = 4, port = 26656;
    const char *out = NULL, *chain = "metanode-testnet";
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'n' && cli_parse_u64(optarg, &n) == 0)
            continue;
        if (c == 'p' && cli_parse_u64(optarg, &port) == 0)
            continue;
        if (c == 'o')
            out = optarg;
        else if (c == 'c')
            chain = optarg;
        else if (c == 'j')
            json = true;
        else if (c == 'h')
            return fputs(testnet_help, stdout), CLI_OK;
        else
            return cli_usage_error("testnet", "bad option (see --help)");
    }
    if (out == NULL || optind != argc)
        return cli_usage_error("testnet", "--out DIR is required and no other argument");
    if (n < 1 || n > MN_VALIDATORS_MAX)
        return cli_usage_error("testnet", "--validators wants 1..%u", MN_VALIDATORS_MAX);
    if (port < 1 || port + 2 * n > 65535)
        return cli_usage_error("testnet", "--base-port leaves no room for %llu nodes",
                               (unsigned long long)n);
    mn_err err;
    json_t *doc = json_object();
    if (mn_cli_testnet(out, (uint32_t)n, (uint32_t)port, chain, doc, &err) != 0) {
        json_decref(doc);
        return cli_fail("testnet", &err);
    }
    if (json) {
        cli_print_json(doc);
        return CLI_OK;
    }
    printf("chain %s, genesis %s\n", chain, json_string_value(json_object_get(doc, "genesis")));
    size_t i;
    json_t *node;
    json_array_foreach(json_object_get(doc, "nodes"), i, node)
    printf("  %s  bpci %s  api %s\n", json_string_value(json_object_get(node, "home")),
           json_string_value(json_object_get(node, "listen")),
           json_string_value(json_object_get(node, "api")));
    json_decref(doc);
    return CLI_OK;
}

int cmd_testnet(int argc, char **argv)
{
    return run_testnet(argc, argv);
}
