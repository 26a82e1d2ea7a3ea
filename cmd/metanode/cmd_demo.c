/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_demo.c: `metanode demo`, the foundation demonstration. It creates key files for a
 * sample validator set, chains VRF seeds and picks the stake-weighted proposer of each height
 * (every proof verified as a validator would), then builds a receipt for a sample run (Merkle
 * roots over witness records and outputs), signs it, writes it, reads it back, verifies it and
 * shows it. It is a demonstration of the real mechanisms on sample data, not a running chain:
 * later releases replace it with the running cluster.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"
#include "metanode/bytes.h"
#include "metanode/hash.h"
#include "metanode/keyfile.h"
#include "metanode/leader.h"
#include "metanode/merkle.h"
#include "metanode/receipt.h"
#include "metanode/receipt_json.h"
#include "metanode/sign.h"
#include "metanode/vrf.h"

#define DEMO_CHAIN_ID "metanode-demo-1"
#define DEMO_VALIDATORS_MAX 16

typedef struct demo_validator {
    mn_keyfile identity, vrf;
    uint8_t id[32];
    uint64_t stake;
} demo_validator;

typedef struct demo {
    const char *dir;
    bool json;
    uint32_t count;
    uint64_t heights;
    enum mn_vrf_suite suite;
    demo_validator v[DEMO_VALIDATORS_MAX];
    mn_validator_set set;
    json_t *out; /* the JSON document, also the source of the text output */
} demo;

static int make_validators(demo *d, mn_err *err)
{
    mn_validator members[DEMO_VALIDATORS_MAX];
    json_t *arr = json_array();
    for (uint32_t i = 0; i < d->count; i++) {
        demo_validator *v = &d->v[i];
        char path[4096], pk[65], vpk[65], id[65];
        mn_keyfile_generate(&v->identity, MN_KEY_ED25519);
        mn_keyfile_generate(&v->vrf, MN_KEY_VRF);
        snprintf(path, sizeof(path), "%s/validator%u.key", d->dir, i);
        if (mn_keyfile_write(path, &v->identity, err) != 0)
            return -1;
        snprintf(path, sizeof(path), "%s/validator%u.vrf.key", d->dir, i);
        if (mn_keyfile_write(path, &v->vrf, err) != 0)
            return -1;
        mn_node_id(v->id, v->identity.public_key);
        v->stake = 10u * (i + 1); /* unequal stakes, so the weighting is visible */
        memcpy(members[i].id, v->id, 32);
        members[i].stake = v->stake;
        mn_hex_encode(pk, v->identity.public_key, 32);
        mn_hex_encode(vpk, v->vrf.public_key, 32);
        mn_hex_encode(id, v->id, 32);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I}", "index", (json_int_t)i,
                                             "id", id, "public_key", pk, "vrf_public_key", vpk,
                                             "stake", (json_int_t)v->stake));
    }
    json_object_set_new(d->out, "validators", arr);
    return mn_valset_init(&d->set, members, d->count, err);
}

/* The demo validator whose id is member i of the (id-sorted) set. */
static demo_validator *owner(demo *d, uint32_t member)
{
    for (uint32_t i = 0; i < d->count; i++)
        if (memcmp(d->v[i].id, d->set.members[member].id, 32) == 0)
            return &d->v[i];
    MN_UNREACHABLE();
}

/* One height: pick the proposer from seed_h, let it prove alpha_h, verify as any validator
 * would, chain the seed. */
static int run_height(demo *d, uint64_t h, uint8_t seed[32], json_t *rows, mn_err *err)
{
    uint32_t m = mn_leader_proposer(&d->set, seed, h, 0);
    demo_validator *p = owner(d, m);
    uint8_t alpha[MN_LEADER_ALPHA_BYTES], pk[32], sk[64], proof[MN_VRF_PROOF_BYTES], beta[64];
    mn_leader_alpha(alpha, seed, h);
    int failed = mn_vrf_keypair_from_seed(pk, sk, p->vrf.seed) != 0;
    failed = failed || mn_vrf_prove(proof, sk, alpha, sizeof(alpha), d->suite) != 0;
    sodium_memzero(sk, sizeof(sk));
    if (failed || mn_vrf_verify(beta, p->vrf.public_key, proof, alpha, sizeof(alpha), d->suite))
        return mn_err_set(err, MN_ECRYPTO, 0, "VRF proof of height %llu did not verify",
                          (unsigned long long)h);
    char seed_hex[65], proof_hex[161], id_hex[65];
    mn_hex_encode(seed_hex, seed, 32);
    mn_hex_encode(proof_hex, proof, sizeof(proof));
    mn_hex_encode(id_hex, p->id, 32);
    json_array_append_new(rows, json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:b}", "height",
                                          (json_int_t)h, "seed", seed_hex, "proposer",
                                          (json_int_t)(p - d->v), "proposer_id", id_hex, "stake",
                                          (json_int_t)p->stake, "vrf_proof", proof_hex,
                                          "verified", 1));
    mn_leader_next_seed(seed, beta);
    return 0;
}

static int run_heights(demo *d, mn_err *err)
{
    uint8_t seed[32];
    mn_leader_genesis_seed(seed, DEMO_CHAIN_ID);
    json_t *rows = json_array();
    json_object_set_new(d->out, "heights", rows);
    for (uint64_t h = 1; h <= d->heights; h++)
        if (run_height(d, h, seed, rows, err) != 0)
            return -1;
    return 0;
}

/* Merkle root over `count` chunks of text: a stand-in for a witness log or an output. */
static void root_of_lines(const char *const *lines, size_t count, uint8_t root[32],
                          uint64_t *leaves)
{
    mn_merkle_builder b;
    mn_merkle_builder_init(&b);
    for (size_t i = 0; i < count; i++)
        mn_merkle_builder_append(&b, lines[i], strlen(lines[i]));
    mn_merkle_builder_root(&b, root);
    if (leaves != NULL)
        *leaves = count;
}

static void fill_sample_receipt(demo *d, mn_receipt *r)
{
    static const char *const witness[] = {
        "exec /bin/echo hello", "clock_gettime -> 1700000000.000000001", "getrandom 16 -> chacha20",
        "write fd=1 len=20",    "exit_group 0"};
    static const char *const out[] = {"hello from metanode\n"};
    mn_receipt_init(r);
    mn_receipt_core *c = &r->core;
    mn_sha256(c->job_id, "demo job: echo hello", 20);
    memcpy(c->node_id, d->v[0].id, 32);
    mn_sha256(c->program_digest, "/bin/echo", 9);
    mn_sha256(c->config_digest, "{}", 2);
    mn_sha256(c->seed_commitment, "seed 0", 6);
    c->start_height = d->heights;
    root_of_lines(witness, 5, c->witness_root, &c->witness_count);
    root_of_lines(out, 1, c->stdout_root, NULL);
    root_of_lines(NULL, 0, c->stderr_root, NULL);
    root_of_lines(NULL, 0, c->fsdiff_root, NULL);
    c->exit_kind = MN_EXIT_CODE;
    c->logical_time_ns = 5000;
    c->syscalls = 5;
    r->measured.wall_ns = 1200000;
    r->measured.cpu_ns = 800000;
    r->measured.peak_memory_bytes = 1 << 20;
}

static int run_receipt(demo *d, mn_err *err)
{
    mn_receipt r, back;
    mn_keypair kp;
    fill_sample_receipt(d, &r);
    mn_keypair_from_seed(&kp, d->v[0].identity.seed);
    int rc = mn_receipt_sign(&r, &kp, err);
    mn_keypair_wipe(&kp);
    mn_buf buf;
    mn_buf_init(&buf, MN_RECEIPT_BYTES_MAX);
    char path[4096];
    snprintf(path, sizeof(path), "%s/receipt.cbor", d->dir);
    if (rc == 0)
        rc = mn_receipt_encode(&r, &buf, err);
    if (rc == 0)
        rc = mn_file_write(path, buf.data, buf.len, 0644, true, err);
    mn_buf_deinit(&buf);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = mn_file_read(path, MN_RECEIPT_BYTES_MAX, &bytes, &len, err);
    if (rc == 0) /* read back as any verifier would: decode, check signature and signer */
        rc = mn_receipt_decode(bytes, len, d->v[0].identity.public_key, &back, err);
    free(bytes);
    if (rc != 0)
        return rc;
    json_t *doc = mn_receipt_to_json(&back);
    json_object_set_new(doc, "file", json_string(path));
    json_object_set_new(doc, "encoded_bytes", json_integer((json_int_t)len));
    json_object_set_new(doc, "signature_valid", json_true());
    json_object_set_new(d->out, "receipt", doc);
    return 0;
}

static void print_text(const demo *d)
{
    printf("Metanode foundation demo (chain %s, VRF suite %s)\nkeys and receipt in %s\n\n",
           DEMO_CHAIN_ID, mn_vrf_suite_name(d->suite), d->dir);
    printf("validators (stake-weighted):\n");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(d->out, "validators"), i, v)
        printf("  #%zu  id %.16s…  stake %lld\n", i,
               json_string_value(json_object_get(v, "id")),
               (long long)json_integer_value(json_object_get(v, "stake")));
    printf("\nproposers (seed chained by each proposer's VRF output; every proof verified):\n");
    json_array_foreach(json_object_get(d->out, "heights"), i, v)
        printf("  height %-3lld seed %.16s…  proposer #%lld (stake %lld)  proof %.16s…  ok\n",
               (long long)json_integer_value(json_object_get(v, "height")),
               json_string_value(json_object_get(v, "seed")),
               (long long)json_integer_value(json_object_get(v, "proposer")),
               (long long)json_integer_value(json_object_get(v, "stake")),
               json_string_value(json_object_get(v, "vrf_proof")));
    json_t *r = json_object_get(d->out, "receipt");
    char *text = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\nreceipt signed by validator #0, written, read back and verified:\n%s\n", text);
    free(text);
}

static const char demo_help[] =
    "usage: metanode demo [--out DIR] [--validators N] [--heights N] [--suite tai|ell2] [--json]\n"
    "Runs the foundation demonstration: creates Ed25519 and VRF key files for N validators\n"
    "(default 4, stakes 10, 20, 30, ...) in DIR (default: a new directory under /tmp), picks\n"
    "the stake-weighted proposer of heights 1..N (default 8) from a VRF-chained seed, verifying\n"
    "every proof, then builds, signs, writes, reads back and verifies a sample receipt.\n";

static int parse(int argc, char **argv, demo *d)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},   {"validators", required_argument, 0, 'n'},
        {"heights", required_argument, 0, 'H'}, {"suite", required_argument, 0, 's'},
        {"json", no_argument, 0, 'j'},        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    uint64_t n;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'o')
            d->dir = optarg;
        else if (c == 'n' && cli_parse_u64(optarg, &n) == 0 && n >= 1 && n <= DEMO_VALIDATORS_MAX)
            d->count = (uint32_t)n;
        else if (c == 'H' && cli_parse_u64(optarg, &n) == 0 && n >= 1 && n <= 1000)
            d->heights = n;
        else if (c == 's' && mn_vrf_suite_parse(&d->suite, optarg) == 0)
            continue;
        else if (c == 'j')
            d->json = true;
        else if (c == 'h')
            return fputs(demo_help, stdout), CLI_OK;
        else
            return cli_usage_error("demo", "bad option or value (validators 1..%d, heights 1..1000)",
                                   DEMO_VALIDATORS_MAX);
    }
    if (optind != argc)
        return cli_usage_error("demo", "unexpected argument \"%s\"", argv[optind]);
    return -1;
}

int cmd_demo(int argc, char **argv)
{
    static demo d; /* large (validator set); static keeps it off the stack */
    memset(&d, 0, sizeof(d));
    d.count = 4;
    d.heights = 8;
    d.suite = MN_VRF_SUITE_TAI;
    int rc = parse(argc, argv, &d);
    if (rc >= 0)
        return rc;
    static char tmpdir[] = "/tmp/metanode-demo-XXXXXX";
    mn_err err;
    if (d.dir == NULL && (d.dir = mkdtemp(tmpdir)) == NULL)
        return mn_err_set(&err, MN_ESYS, errno, "mkdtemp"), cli_fail("demo", &err);
    if (d.dir != tmpdir && mkdir(d.dir, 0700) != 0 && errno != EEXIST)
        return mn_err_set(&err, MN_ESYS, errno, "mkdir %s", d.dir), cli_fail("demo", &err);
    d.out = json_pack("{s:s, s:s, s:s}", "chain_id", DEMO_CHAIN_ID, "dir", d.dir, "vrf_suite",
                      mn_vrf_suite_name(d.suite));
    rc = make_validators(&d, &err);
    if (rc == 0)
        rc = run_heights(&d, &err);
    if (rc == 0)
        rc = run_receipt(&d, &err);
    for (uint32_t i = 0; i < d.count; i++) {
        mn_keyfile_wipe(&d.v[i].identity);
        mn_keyfile_wipe(&d.v[i].vrf);
    }
    if (rc != 0) {
        json_decref(d.out);
        return cli_fail("demo", &err);
    }
    if (d.json)
        cli_print_json(d.out);
    else
        print_text(&d), json_decref(d.out);
    return CLI_OK;
}
