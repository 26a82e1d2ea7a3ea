/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_net.c: `metanode net probe HOST:PORT [--peer ID] [--static KEY]` dials a BPCI node,
 * completes the handshake (XX, or IK when the peer's X25519 static key is given), prints the
 * peer's id and the round-trip time of one ping, and exits; `metanode net serve` runs a node
 * that accepts sessions (and echoes service 1) for a while, printing its address and identity,
 * so operators and tests have something to probe. Both use an Ed25519 key file (--key), whose
 * seed also determines the node's X25519 static key (mn_bpci_identity_load; `metanode key show`
 * prints it), or a throw-away identity. Not a node agent: no chain, no relay, no persistence.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "metanode/bpci_node.h"
#include "metanode/keyfile.h"
#include "metanode/log.h"

#define ECHO_SERVICE 1

typedef struct net_args {
    const char *key_path, *peer_hex, *static_hex;
    uint64_t seconds;
    bool json;
    uint8_t peer_id[MN_ID_BYTES], peer_static[32];
} net_args;

static int parse(int argc, char **argv, net_args *a, const char *verb)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},     {"peer", required_argument, NULL, 'p'},
        {"static", required_argument, NULL, 's'},  {"seconds", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},          {NULL, 0, NULL, 0},
    };
    int c;
    mn_err err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            a->key_path = optarg;
        else if (c == 'p')
            a->peer_hex = optarg;
        else if (c == 's')
            a->static_hex = optarg;
        else if (c == 't' && cli_parse_u64(optarg, &a->seconds) == 0)
            continue;
        else if (c == 'j')
            a->json = true;
        else
            return cli_usage_error(verb, "bad option");
    }
    if (a->peer_hex && mn_hex_decode(a->peer_id, MN_ID_BYTES, a->peer_hex, &err) != 0)
        return cli_usage_error(verb, "--peer wants 64 hex digits");
    if (a->static_hex && mn_hex_decode(a->peer_static, 32, a->static_hex, &err) != 0)
        return cli_usage_error(verb, "--static wants 64 hex digits");
    return 0;
}

/* The key file's identity, with its stable derived static key; or a throw-away one. */
static int load_identity(const net_args *a, mn_bpci_identity *ident, mn_err *err)
{
    if (a->key_path)
        return mn_bpci_identity_load(ident, a->key_path, err);
    mn_keypair kp;
    mn_keypair_generate(&kp);
    mn_bpci_identity_from_keypair(ident, &kp);
    mn_keypair_wipe(&kp);
    return 0;
}

/* HOST:PORT, [V6HOST]:PORT; port 0 is accepted (serve picks one, probe refuses it). */
static int split_addr(char *text, const char **host, uint16_t *port)
{
    char *colon = strrchr(text, ':');
    uint64_t p;
    if (!colon || cli_parse_u64(colon + 1, &p) != 0 || p > 65535)
        return -1;
    *colon = '\0';
    *port = (uint16_t)p;
    *host = text;
    if (text[0] == '[' && colon > text + 1 && colon[-1] == ']') {
        colon[-1] = '\0';
        *host = text + 1;
    }
    return 0;
}

typedef struct probe_state {
    bool up;
} probe_state;

static const char probe_help[] =
    "usage: metanode net probe HOST:PORT [--peer ID] [--static KEY] [--key FILE] [--json]\n"
    "Dials a BPCI node, completes the Noise handshake (XX; IK with --static, the peer's X25519\n"
    "static key in hex), prints the peer's id and the round-trip time of one ping. With --peer\n"
    "(64 hex digits) any other identity fails the handshake. Gives up after 5 s.\n";

static int run_probe(const net_args *a, const char *host, uint16_t port, uv_loop_t *loop,
                     mn_bpci_node *node, probe_state *st)
{
    mn_err err;
    if (mn_bpci_node_dial(node, host, port, a->peer_hex ? a->peer_id : NULL,
                          a->static_hex ? a->peer_static : NULL, false, NULL, &err) != 0)
        return cli_fail("net probe", &err);
    const uint64_t end = uv_hrtime() + 5000000000ull;
    /* The dial counts as pending from the start: none pending and none up means it failed. */
    while (!st->up && uv_hrtime() < end && mn_bpci_node_metrics(node).pending_active > 0)
        uv_run(loop, UV_RUN_ONCE);
    if (!st->up) {
        fprintf(stderr, "metanode net probe: no session with %s:%u (see the log above)\n", host,
                port);
        return CLI_INVALID;
    }
    return 0;
}

static int probe_report(const net_args *a, uv_loop_t *loop, mn_bpci_node *node,
                        const uint8_t *peer_id)
{
    mn_err err;
    if (mn_bpci_node_ping(node, peer_id, &err) != 0)
        return cli_fail("net probe", &err);
    const uint64_t end = uv_hrtime() + 5000000000ull;
    while (mn_bpci_node_rtt_ns(node, peer_id) == 0 && uv_hrtime() < end)
        uv_run(loop, UV_RUN_ONCE);
    const uint64_t rtt = mn_bpci_node_rtt_ns(node, peer_id);
    char hex[65];
    mn_hex_encode(hex, peer_id, MN_ID_BYTES);
    if (a->json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "peer_id", json_string(hex));
        json_object_set_new(doc, "rtt_us", json_integer((json_int_t)(rtt / 1000)));
        cli_print_json(doc);
    } else {
        printf("peer %s\nrtt %llu.%03llu ms\n", hex, (unsigned long long)(rtt / 1000000),
               (unsigned long long)(rtt / 1000 % 1000));
    }
    return rtt ? CLI_OK : CLI_INVALID;
}

/* The peer's id as learnt from the session (the node reports it through on_peer). */
static uint8_t probed_id[MN_ID_BYTES];

static void probe_peer_id(void *ctx, const uint8_t *id, bool up)
{
    probe_state *st = ctx;
    if (up) {
        memcpy(probed_id, id, MN_ID_BYTES);
        st->up = true;
    }
}

static int net_probe(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return fputs(probe_help, stdout), CLI_OK;
    net_args a = {0};
    int rc = parse(argc, argv, &a, "net probe");
    if (rc != 0)
        return rc;
    if (optind != argc - 1)
        return cli_usage_error("net probe", "wants exactly one HOST:PORT");
    const char *host;
    uint16_t port;
    if (split_addr(argv[optind], &host, &port) != 0 || port == 0)
        return cli_usage_error("net probe", "\"%s\" is not HOST:PORT", argv[optind]);
    mn_err err;
    mn_bpci_identity ident;
    if (load_identity(&a, &ident, &err) != 0)
        return cli_fail("net probe", &err);
    mn_bpci_registry reg;
    mn_bpci_registry_init(&reg);
    probe_state st = {0};
    uv_loop_t loop;
    uv_loop_init(&loop);
    const mn_bpci_node_config cfg = {.self = &ident, .registry = &reg, .on_peer = probe_peer_id,
                                     .ctx = &st};
    mn_bpci_node *node;
    if (mn_bpci_node_new(&loop, &cfg, &node, &err) != 0)
        return cli_fail("net probe", &err);
    rc = run_probe(&a, host, port, &loop, node, &st);
    if (rc == 0)
        rc = probe_report(&a, &loop, node, probed_id);
    mn_bpci_node_close(node);
    while (!mn_bpci_node_closed(node))
        uv_run(&loop, UV_RUN_ONCE);
    mn_bpci_node_free(node);
    uv_loop_close(&loop);
    mn_bpci_identity_wipe(&ident);
    return rc;
}

static const char serve_help[] =
    "usage: metanode net serve HOST:PORT [--key FILE] [--seconds N]\n"
    "Runs a BPCI node on HOST:PORT (port 0 picks one) that accepts sessions and echoes\n"
    "messages on service 1, for N seconds (default 60). Prints 'listening HOST:PORT', the node\n"
    "id and its X25519 static key (for IK; with --key it is derived from the key file and the\n"
    "same as `metanode key show` prints), one per line, then serves.\n";

static void echo(void *ctx, const uint8_t *peer, uint16_t service, const uint8_t *d, size_t len)
{
    mn_err err;
    (void)mn_bpci_node_send(ctx, peer, service, d, len, &err);
}

static void stop_cb(uv_timer_t *t)
{
    mn_bpci_node_close(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

static int net_serve(int argc, char **argv)
{
    if (cli_wants_help(argc, argv))
        return fputs(serve_help, stdout), CLI_OK;
    net_args a = {.seconds = 60};
    int rc = parse(argc, argv, &a, "net serve");
    if (rc != 0)
        return rc;
    const char *host;
    uint16_t port;
    if (optind != argc - 1 || split_addr(argv[optind], &host, &port) != 0)
        return cli_usage_error("net serve", "wants exactly one HOST:PORT");
    mn_err err;
    mn_bpci_identity ident;
    if (load_identity(&a, &ident, &err) != 0)
        return cli_fail("net serve", &err);
    mn_bpci_registry reg;
    mn_bpci_registry_init(&reg);
    (void)mn_bpci_registry_add(&reg, ECHO_SERVICE, true, &err);
    uv_loop_t loop;
    uv_loop_init(&loop);
    const mn_bpci_node_config cfg = {.self = &ident, .registry = &reg};
    mn_bpci_node *node;
    uint16_t bound;
    if (mn_bpci_node_new(&loop, &cfg, &node, &err) != 0 ||
        mn_bpci_node_on_service(node, ECHO_SERVICE, echo, node, &err) != 0)
        return cli_fail("net serve", &err);
    if (mn_bpci_node_listen(node, host, port, &bound, &err) != 0) {
        rc = cli_fail("net serve", &err);
    } else {
        char id_hex[65], x_hex[65];
        mn_hex_encode(id_hex, ident.id, MN_ID_BYTES);
        mn_hex_encode(x_hex, ident.x_pub, 32);
        printf("listening %s:%u\nid %s\nstatic %s\n", host, bound, id_hex, x_hex);
        fflush(stdout);
        uv_timer_t stop;
        uv_timer_init(&loop, &stop);
        stop.data = node;
        uv_timer_start(&stop, stop_cb, a.seconds * 1000, 0);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    mn_bpci_node_close(node);
    while (!mn_bpci_node_closed(node))
        uv_run(&loop, UV_RUN_ONCE);
    mn_bpci_node_free(node);
    uv_loop_close(&loop);
    mn_bpci_identity_wipe(&ident);
    return rc;
}

int cmd_net(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"probe", "dial a BPCI node, print its id and round-trip time", net_probe},
        {"serve", "run a BPCI node that accepts sessions (for probes and tests)", net_serve},
    };
    return cli_dispatch("net", verbs, 2, argc, argv);
}
