/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_receipt.c: `metanode receipt show` and `metanode receipt verify`. A receipt file holds
 * the canonical CBOR bytes of one signed receipt (receipt.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "metanode/bytes.h"
#include "metanode/receipt.h"
#include "metanode/receipt_json.h"

typedef struct receipt_args {
    const char *file, *pubkey;
    bool json;
} receipt_args;

static int parse(const char *verb, const char *help, bool allow_pubkey, int argc, char **argv,
                 receipt_args *a)
{
    static const struct option opts[] = {{"pubkey", required_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof(*a));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'p' && allow_pubkey)
            a->pubkey = optarg;
        else if (c == 'j')
            a->json = true;
        else if (c == 'h')
            return fputs(help, stdout), CLI_OK;
        else
            return cli_usage_error(verb, "bad option");
    }
    if (optind != argc - 1)
        return cli_usage_error(verb, "expected exactly one FILE");
    a->file = argv[optind];
    return -1;
}

static int load(const char *verb, const char *path, mn_receipt *r)
{
    uint8_t *data;
    size_t len;
    mn_err err;
    if (mn_file_read(path, MN_RECEIPT_BYTES_MAX, &data, &len, &err) != 0)
        return cli_fail(verb, &err);
    int rc = mn_receipt_parse(data, len, r, &err);
    free(data);
    return rc == 0 ? -1 : cli_fail(verb, &err);
}

static void print_text(const mn_receipt *r, bool valid)
{
    json_t *doc = mn_receipt_to_json(r);
    json_t *core = json_object_get(doc, "core");
    const char *keys[] = {"job_id", "replica", "node_id", "program_digest", "start_height",
                          "witness_root", "witness_count", "stdout_root", "stderr_root",
                          "fsdiff_root", "logical_time_ns", "syscalls", "policy_fuel", "taints"};
    printf("receipt %s\n", json_string_value(json_object_get(doc, "receipt_id")));
    printf("  signer       %s (%s)\n", json_string_value(json_object_get(doc, "signer")),
           valid ? "signature valid" : "SIGNATURE INVALID");
    printf("  core_hash    %s\n", json_string_value(json_object_get(doc, "core_hash")));
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *v = json_dumps(json_object_get(core, keys[i]), JSON_ENCODE_ANY);
        printf("  %-16s %s\n", keys[i], v);
        free(v);
    }
    printf("  exit         %s %lld\n", mn_exit_kind_name(r->core.exit_kind),
           (long long)r->core.exit_code);
    printf("  policies     %u, verdicts %u\n", r->core.policy_count, r->verdict_count);
    for (uint32_t i = 0; i < r->verdict_count; i++)
        printf("    verdict %u: %s (fuel %llu)\n", i, mn_verdict_name(r->verdicts[i].verdict),
               (unsigned long long)r->verdicts[i].fuel);
    printf("  measured     wall %llu ns, cpu %llu ns, peak memory %llu bytes\n",
           (unsigned long long)r->measured.wall_ns, (unsigned long long)r->measured.cpu_ns,
           (unsigned long long)r->measured.peak_memory_bytes);
    json_decref(doc);
}

static const char show_help[] =
    "usage: metanode receipt show FILE [--json]\n"
    "Decodes a receipt (strict canonical CBOR) and shows it; the signature is checked and\n"
    "reported but does not stop the display. Exit 1 if the signature is invalid.\n";

static int receipt_show(int argc, char **argv)
{
    receipt_args a;
    mn_receipt r;
    int rc = parse("receipt show", show_help, false, argc, argv, &a);
    if (rc >= 0 || (rc = load("receipt show", a.file, &r)) >= 0)
        return rc;
    bool valid = mn_receipt_verify(&r, NULL) == 0;
    if (a.json) {
        json_t *doc = mn_receipt_to_json(&r);
        json_object_set_new(doc, "signature_valid", json_boolean(valid));
        cli_print_json(doc);
    } else {
        print_text(&r, valid);
    }
    return valid ? CLI_OK : CLI_INVALID;
}

static const char verify_help[] =
    "usage: metanode receipt verify FILE [--pubkey HEX] [--json]\n"
    "Checks a receipt's structure and signature, and with --pubkey that it was signed by that\n"
    "key. Exit 0 valid, 1 invalid signature or signer, 3 malformed file.\n";

static int receipt_verify(int argc, char **argv)
{
    receipt_args a;
    mn_receipt r;
    int rc = parse("receipt verify", verify_help, true, argc, argv, &a);
    if (rc >= 0)
        return rc;
    uint8_t pk[32];
    mn_err err;
    if (a.pubkey != NULL && mn_hex_decode(pk, 32, a.pubkey, &err) != 0)
        return mn_err_wrap(&err, "--pubkey"), cli_fail("receipt verify", &err);
    if ((rc = load("receipt verify", a.file, &r)) >= 0)
        return rc;
    rc = mn_receipt_verify(&r, &err);
    if (rc == 0 && a.pubkey != NULL && memcmp(pk, r.signer, 32) != 0)
        rc = mn_err_set(&err, MN_ECRYPTO, 0, "receipt is signed by another key");
    uint8_t id[32];
    char id_hex[65];
    MN_ASSERT(mn_receipt_id(&r, id, NULL) == 0);
    mn_hex_encode(id_hex, id, 32);
    if (a.json)
        cli_print_json(json_pack("{s:s, s:b, s:s}", "receipt_id", id_hex, "valid", rc == 0,
                                 "reason", rc == 0 ? "" : err.msg));
    else if (rc == 0)
        printf("receipt %s: valid\n", id_hex);
    if (rc != 0)
        return a.json ? CLI_INVALID : cli_fail("receipt verify", &err);
    return CLI_OK;
}

int cmd_receipt(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"show", "decode and display a receipt file", receipt_show},
        {"verify", "check a receipt's signature (exit 0 valid, 1 invalid)", receipt_verify},
    };
    return cli_dispatch("receipt", verbs, 2, argc, argv);
}
