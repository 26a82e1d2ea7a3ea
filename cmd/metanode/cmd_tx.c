/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_tx.c: `metanode tx send --key FILE --note TEXT`: signs a note transaction with the key
 * and submits it to a node's HTTP API. The chain id comes from GET /status and the nonce from
 * GET /accounts/{pk} (the committed next nonce; --nonce N overrides it for senders with
 * transactions still pending). Prints the transaction hash. Does not wait for the commit.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_client.h"
#include "metanode/api_client.h"
#include "metanode/cbor.h"
#include "metanode/keyfile.h"
#include "metanode/ledger.h"
#include "metanode/sign.h"

static const char send_help[] =
    "usage: metanode tx send --key FILE --note TEXT [--nonce N] [--node URL | --home DIR]\n"
    "                        [--json]\n"
    "Signs a note (text up to the ledger's note limit) with the Ed25519 key FILE and submits it\n"
    "(POST /txs). The chain id is read from the node (GET /status), the nonce from the\n"
    "committed state (GET /accounts/PK) unless --nonce is given. Prints the tx hash.\n"
    "Exit codes: 0 submitted, 1 the node refused (bad signature, reused nonce, mempool full),\n"
    "2 usage, 3 unreadable key or the node cannot be reached.\n";

/* The note body: the CBOR byte string of the text (ledger.h, MN_TX_NOTE). */
static int note_body(const char *text, mn_buf *out, mn_err *err)
{
    mn_cbor_enc enc;
    mn_cbor_enc_init(&enc, out);
    mn_cbor_put_bytes(&enc, text, strlen(text));
    return mn_cbor_enc_finish(&enc, err);
}

static int tx_send(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, 0, 'k'},
                                         {"note", required_argument, 0, 'm'},
                                         {"nonce", required_argument, 0, 'N'},
                                         {"node", required_argument, 0, 'n'},
                                         {"home", required_argument, 0, 'H'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *key_path = NULL, *note = NULL;
    uint64_t nonce = 0;
    bool have_nonce = false;
    /* --node/--home/--json/--help are the common client options: parse those with the shared
     * parser over a filtered argv, the rest here. */
    char *common[64];
    int common_count = 0;
    common[common_count++] = argv[0];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            key_path = optarg;
        else if (c == 'm')
            note = optarg;
        else if (c == 'N') {
            if (cli_parse_u64(optarg, &nonce) != 0 || nonce == 0)
                return cli_usage_error("tx send", "--nonce must be a positive integer");
            have_nonce = true;
        } else if (c == 'n' || c == 'H') {
            if (common_count + 2 >= (int)(sizeof common / sizeof common[0]))
                return cli_usage_error("tx send", "too many options");
            common[common_count++] = c == 'n' ? "--node" : "--home";
            common[common_count++] = optarg;
        } else if (c == 'j')
            common[common_count++] = "--json";
        else if (c == 'h')
            return fputs(send_help, stdout), CLI_OK;
        else
            return cli_usage_error("tx send", "bad option");
        if (common_count >= (int)(sizeof common / sizeof common[0]) - 1)
            return cli_usage_error("tx send", "too many options");
    }
    opterr = 1;
    if (optind != argc)
        return cli_usage_error("tx send", "unexpected argument \"%s\"", argv[optind]);
    if (key_path == NULL || note == NULL)
        return cli_usage_error("tx send", "--key FILE and --note TEXT are required");
    if (strlen(note) > MN_TX_NOTE_BYTES_MAX)
        return cli_usage_error("tx send", "the note is %zu bytes (at most %u)", strlen(note),
                               MN_TX_NOTE_BYTES_MAX);
    client_opts o;
    int first;
    common[common_count] = NULL;
    int rc = client_parse_common("tx send", send_help, common_count, common, &o, &first);
    if (rc >= 0)
        return rc;

    mn_keyfile kf;
    mn_err err;
    if (mn_keyfile_read(key_path, MN_KEY_ED25519, &kf, &err) != 0)
        return cli_fail("tx send", &err);
    mn_keypair kp;
    mn_keypair_from_seed(&kp, kf.seed);
    mn_keyfile_wipe(&kf);

    json_t *status = NULL, *account = NULL;
    if ((rc = client_request("tx send", o.node, "GET", "/status", NULL, NULL, 0, &status)) >= 0)
        goto out;
    const char *chain_id = json_string_value(json_object_get(status, "chain_id"));
    if (chain_id == NULL || strlen(chain_id) > MN_CHAIN_ID_BYTES_MAX) {
        fprintf(stderr, "metanode tx send: the node's status has no chain id\n");
        rc = CLI_INPUT;
        goto out;
    }
    if (!have_nonce) {
        char path[128], pk[65];
        mn_hex_encode(pk, kp.pk, 32);
        snprintf(path, sizeof path, "/accounts/%s", pk);
        if ((rc = client_request("tx send", o.node, "GET", path, NULL, NULL, 0, &account)) >= 0)
            goto out;
        const json_int_t next = json_integer_value(json_object_get(account, "next_nonce"));
        if (next < 1) {
            fprintf(stderr, "metanode tx send: the node gave no next nonce\n");
            rc = CLI_INPUT;
            goto out;
        }
        nonce = (uint64_t)next;
    }

    mn_buf body, enc;
    mn_buf_init(&body, 0);
    mn_buf_init(&enc, 0);
    mn_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = MN_TX_NOTE;
    memcpy(tx.chain_id, chain_id, strlen(chain_id) + 1);
    memcpy(tx.sender, kp.pk, 32);
    tx.nonce = nonce;
    if (note_body(note, &body, &err) != 0) {
        rc = cli_fail("tx send", &err);
    } else {
        tx.body = body.data;
        tx.body_len = body.len;
        if (mn_tx_sign_encode(&tx, &kp, &enc, &err) != 0) {
            rc = cli_fail("tx send", &err);
        } else {
            json_t *answer = NULL;
            rc = client_request("tx send", o.node, "POST", "/txs", "application/octet-stream",
                                enc.data, enc.len, &answer);
            if (rc < 0) {
                const char *hash = json_string_value(json_object_get(answer, "hash"));
                if (o.json) {
                    cli_print_json(json_pack("{s:s, s:I, s:s}", "hash", hash ? hash : "",
                                             "nonce", (json_int_t)nonce, "chain_id", chain_id));
                } else {
                    printf("%s\n", hash ? hash : "");
                }
                json_decref(answer);
                rc = CLI_OK;
            }
        }
    }
    mn_buf_deinit(&body);
    mn_buf_deinit(&enc);
out:
    mn_keypair_wipe(&kp);
    json_decref(status);
    json_decref(account);
    return rc < 0 ? CLI_OK : rc;
}

static const cli_verb tx_verbs[] = {
    {"send", "sign a note with a key file and submit it to a node", tx_send},
};

int cmd_tx(int argc, char **argv)
{
    return cli_dispatch("tx", tx_verbs, 1, argc, argv);
}
