/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_vrf.c: `metanode vrf prove` and `metanode vrf verify` (RFC 9381 ECVRF, suites TAI and
 * ELL2). verify exits 0 for a valid proof and 1 for an invalid one, printing beta when valid.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "metanode/bytes.h"
#include "metanode/keyfile.h"
#include "metanode/limits.h"
#include "metanode/vrf.h"

typedef struct vrf_args {
    const char *key, *pubkey, *alpha, *proof;
    enum mn_vrf_suite suite;
    bool json;
} vrf_args;

static const struct option vrf_opts[] = {
    {"key", required_argument, 0, 'k'},   {"pubkey", required_argument, 0, 'p'},
    {"alpha", required_argument, 0, 'a'}, {"proof", required_argument, 0, 'P'},
    {"suite", required_argument, 0, 's'}, {"json", no_argument, 0, 'j'},
    {"help", no_argument, 0, 'h'},        {0, 0, 0, 0}};

/* Returns -1 to continue, or an exit code. */
static int parse(const char *verb, const char *help, int argc, char **argv, vrf_args *a)
{
    memset(a, 0, sizeof(*a));
    a->suite = MN_VRF_SUITE_TAI;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", vrf_opts, NULL)) != -1) {
        switch (c) {
        case 'k': a->key = optarg; break;
        case 'p': a->pubkey = optarg; break;
        case 'a': a->alpha = optarg; break;
        case 'P': a->proof = optarg; break;
        case 'j': a->json = true; break;
        case 's':
            if (mn_vrf_suite_parse(&a->suite, optarg) != 0)
                return cli_usage_error(verb, "unknown suite \"%s\" (tai or ell2)", optarg);
            break;
        case 'h': fputs(help, stdout); return CLI_OK;
        default: return cli_usage_error(verb, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage_error(verb, "unexpected argument \"%s\"", argv[optind]);
    if (a->alpha == NULL)
        return cli_usage_error(verb, "--alpha HEX is required (use \"\" for the empty string)");
    return -1;
}

static int decode_alpha(const char *verb, const char *hex, uint8_t **alpha, size_t *len)
{
    mn_err err;
    if (mn_hex_decode_alloc(hex, alpha, len, &err) != 0)
        return mn_err_wrap(&err, "--alpha"), cli_fail(verb, &err);
    if (*len > MN_VRF_ALPHA_BYTES_MAX) {
        free(*alpha);
        mn_err_set(&err, MN_ELIMIT, 0, "--alpha is longer than %u bytes", MN_VRF_ALPHA_BYTES_MAX);
        return cli_fail(verb, &err);
    }
    return -1;
}

static void print_result(const vrf_args *a, const uint8_t *proof, const uint8_t beta[64])
{
    char beta_hex[129], proof_hex[2 * MN_VRF_PROOF_BYTES + 1];
    mn_hex_encode(beta_hex, beta, 64);
    if (proof != NULL)
        mn_hex_encode(proof_hex, proof, MN_VRF_PROOF_BYTES);
    if (a->json) {
        json_t *doc = json_pack("{s:s, s:b, s:s}", "suite", mn_vrf_suite_name(a->suite), "valid",
                                1, "beta", beta_hex);
        if (proof != NULL)
            json_object_set_new(doc, "proof", json_string(proof_hex));
        cli_print_json(doc);
        return;
    }
    if (proof != NULL)
        printf("proof: %s\n", proof_hex);
    printf("beta:  %s\n", beta_hex);
}

static const char prove_help[] =
    "usage: metanode vrf prove --key FILE --alpha HEX [--suite tai|ell2] [--json]\n"
    "Proves alpha with the VRF key in FILE (made by 'metanode key gen --type vrf').\n"
    "Prints the 80-byte proof pi and the 64-byte output beta, as hex.\n";

static int vrf_prove(int argc, char **argv)
{
    vrf_args a;
    int rc = parse("vrf prove", prove_help, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.key == NULL)
        return cli_usage_error("vrf prove", "--key FILE is required");
    uint8_t *alpha;
    size_t alpha_len;
    if ((rc = decode_alpha("vrf prove", a.alpha, &alpha, &alpha_len)) >= 0)
        return rc;
    mn_keyfile kf;
    mn_err err;
    if (mn_keyfile_read(a.key, MN_KEY_VRF, &kf, &err) != 0) {
        free(alpha);
        return cli_fail("vrf prove", &err);
    }
    uint8_t pk[MN_VRF_PUBLICKEY_BYTES], sk[MN_VRF_SECRETKEY_BYTES];
    uint8_t proof[MN_VRF_PROOF_BYTES], beta[MN_VRF_OUTPUT_BYTES];
    rc = mn_vrf_keypair_from_seed(pk, sk, kf.seed) != 0;
    mn_keyfile_wipe(&kf);
    rc = rc || mn_vrf_prove(proof, sk, alpha, alpha_len, a.suite) != 0 ||
         mn_vrf_proof_to_hash(beta, proof, a.suite) != 0;
    sodium_memzero(sk, sizeof(sk));
    free(alpha);
    if (rc != 0) {
        mn_err_set(&err, MN_ECRYPTO, 0, "proving failed");
        return cli_fail("vrf prove", &err) , CLI_INTERNAL;
    }
    print_result(&a, proof, beta);
    return CLI_OK;
}

static const char verify_help[] =
    "usage: metanode vrf verify --pubkey HEX --alpha HEX --proof HEX [--suite tai|ell2] [--json]\n"
    "Verifies a VRF proof. Exit 0 and prints beta if valid; exit 1 if invalid.\n";

static int vrf_verify(int argc, char **argv)
{
    vrf_args a;
    int rc = parse("vrf verify", verify_help, argc, argv, &a);
    if (rc >= 0)
        return rc;
    if (a.pubkey == NULL || a.proof == NULL)
        return cli_usage_error("vrf verify", "--pubkey HEX and --proof HEX are required");
    uint8_t pk[MN_VRF_PUBLICKEY_BYTES], proof[MN_VRF_PROOF_BYTES], beta[MN_VRF_OUTPUT_BYTES];
    mn_err err;
    if (mn_hex_decode(pk, sizeof(pk), a.pubkey, &err) != 0)
        return mn_err_wrap(&err, "--pubkey"), cli_fail("vrf verify", &err);
    if (mn_hex_decode(proof, sizeof(proof), a.proof, &err) != 0)
        return mn_err_wrap(&err, "--proof"), cli_fail("vrf verify", &err);
    uint8_t *alpha;
    size_t alpha_len;
    if ((rc = decode_alpha("vrf verify", a.alpha, &alpha, &alpha_len)) >= 0)
        return rc;
    rc = mn_vrf_verify(beta, pk, proof, alpha, alpha_len, a.suite);
    free(alpha);
    if (rc != 0) {
        if (a.json)
            cli_print_json(json_pack("{s:s, s:b}", "suite", mn_vrf_suite_name(a.suite), "valid", 0));
        else
            fprintf(stderr, "metanode vrf verify: proof is INVALID\n");
        return CLI_INVALID;
    }
    print_result(&a, NULL, beta);
    return CLI_OK;
}

int cmd_vrf(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"prove", "prove alpha with a VRF key file", vrf_prove},
        {"verify", "verify a proof; exit 0 valid, 1 invalid", vrf_verify},
    };
    return cli_dispatch("vrf", verbs, 2, argc, argv);
}
