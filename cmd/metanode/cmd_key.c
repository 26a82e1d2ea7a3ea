/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_key.c: `metanode key gen` and `metanode key show`. Never prints a secret seed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "metanode/bpci.h"
#include "metanode/bytes.h"
#include "metanode/keyfile.h"
#include "metanode/sign.h"

static void print_key(const mn_keyfile *kf, const char *path, bool json)
{
    char pk[65], id[65], noise[65];
    uint8_t node_id[32], x_pub[32];
    mn_node_id(node_id, kf->public_key);
    mn_hex_encode(pk, kf->public_key, 32);
    mn_hex_encode(id, node_id, 32);
    const bool node_key = kf->type == MN_KEY_ED25519;
    if (node_key) { /* the BPCI Noise static key derived from this seed, for IK dials */
        mn_bpci_noise_static_public(x_pub, kf->seed);
        mn_hex_encode(noise, x_pub, 32);
    }
    if (json) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "file", path, "type",
                                mn_key_type_name(kf->type), "public_key", pk, "id", id);
        if (node_key)
            json_object_set_new(doc, "noise_static_key", json_string(noise));
        cli_print_json(doc);
        return;
    }
    printf("file:       %s\ntype:       %s\npublic_key: %s\nid:         %s\n", path,
           mn_key_type_name(kf->type), pk, id);
    if (node_key)
        printf("noise_key:  %s\n", noise);
}

static const char gen_help[] =
    "usage: metanode key gen --out FILE [--type ed25519|vrf] [--json]\n"
    "Creates a new random key and writes it to FILE with mode 0600 (never over an existing\n"
    "file). ed25519 keys (the default) are node and party identities; vrf keys prove leader\n"
    "election outputs (RFC 9381). Prints the public key and the id (SHA-256 of the key).\n";

static int key_gen(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"type", required_argument, 0, 't'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    mn_key_type type = MN_KEY_ED25519;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else if (c == 't' && mn_key_type_parse(optarg, &type) != 0)
            return cli_usage_error("key gen", "unknown key type \"%s\" (ed25519 or vrf)", optarg);
        else if (c == 'j')
            json = true;
        else if (c == 'h')
            return fputs(gen_help, stdout), CLI_OK;
        else if (c == '?')
            return cli_usage_error("key gen", "bad option");
    }
    if (out == NULL || optind != argc)
        return cli_usage_error("key gen", "--out FILE is required and no other argument");
    mn_keyfile kf;
    mn_err err;
    mn_keyfile_generate(&kf, type);
    int rc = mn_keyfile_write(out, &kf, &err);
    if (rc == 0)
        print_key(&kf, out, json);
    mn_keyfile_wipe(&kf);
    return rc == 0 ? CLI_OK : cli_fail("key gen", &err);
}

static const char show_help[] =
    "usage: metanode key show FILE [--json]\n"
    "Checks a key file (mode 0600, public key matches the seed) and prints its type,\n"
    "public key and id, and for an ed25519 key the BPCI Noise static key derived from it\n"
    "(noise_key; what peers need to dial this node with IK). Never prints the secret.\n";

static int key_show(int argc, char **argv)
{
    bool json;
    const char *file;
    int rc = cli_parse_one_file("key show", show_help, argc, argv, &json, &file);
    if (rc >= 0)
        return rc;
    mn_keyfile kf;
    mn_err err;
    if (mn_keyfile_read(file, 0, &kf, &err) != 0)
        return cli_fail("key show", &err);
    print_key(&kf, file, json);
    mn_keyfile_wipe(&kf);
    return CLI_OK;
}

int cmd_key(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"gen", "create a key file (mode 0600)", key_gen},
        {"show", "check a key file and print its public key and id", key_show},
    };
    return cli_dispatch("key", verbs, 2, argc, argv);
}
