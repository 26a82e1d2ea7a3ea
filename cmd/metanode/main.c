/* SPDX-License-Identifier: Apache-2.0
 *
 * main.c: the metanode command. Dispatches on the first argument through a table of command
 * groups, one file per group. Initialises crypto (with its self-test) before any verb runs.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "metanode/sign.h"

static const cli_verb groups[] = {
    {"demo", "run the foundation demonstration (keys, VRF proposers, a signed receipt)", cmd_demo},
    {"key", "create and show Ed25519 and VRF key files", cmd_key},
    {"vrf", "prove and verify RFC 9381 ECVRF outputs", cmd_vrf},
    {"hash", "Merkle roots and proofs of files (RFC 9162)", cmd_hash},
    {"receipt", "show and verify signed execution receipts", cmd_receipt},
    {"wasm", "validate WebAssembly policies and run their functions with fuel", cmd_wasm},
    {"net", "probe BPCI nodes (Noise over TCP) and serve one for tests", cmd_net},
    {"init", "create a node home (keys, config.json)", cmd_init},
    {"testnet", "create N validator homes and their genesis on loopback", cmd_testnet},
    {"agent", "run a node (consensus, sync, HTTP API) from its home", cmd_agent},
    {"dev", "run a local cluster, send notes, show blocks and a summary", cmd_dev},
    {"status", "ask a running node for its chain, height and peers (HTTP API)", cmd_status},
    {"block", "fetch committed blocks from a running node", cmd_block},
    {"tx", "sign and submit transactions to a running node", cmd_tx},
    {"validators", "list the validator set of a running node", cmd_validators},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: metanode COMMAND [VERB] [OPTIONS]\n\n"
                 "Metanode: a blockchain-native orchestrator (foundation release).\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        fprintf(out, "  %-10s %s\n", groups[i].name, groups[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version");
    fprintf(out, "\nEvery verb takes --help and --json.\n"
                 "Exit codes: 0 ok, 1 check failed (invalid proof/signature/receipt), 2 usage "
                 "error,\n            3 bad input, 4 internal or system error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("metanode %s\n", METANODE_VERSION);
        return CLI_OK;
    }
    mn_err err;
    if (mn_crypto_init(&err) != 0)
        return cli_fail("self-test", &err), CLI_INTERNAL;
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(argv[1], groups[i].name) == 0)
            return groups[i].run(argc - 1, argv + 1);
    fprintf(stderr, "metanode: unknown command \"%s\" (see: metanode --help)\n", argv[1]);
    return CLI_USAGE;
}
