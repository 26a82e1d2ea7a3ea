/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_replay.c: `docklock replay --witness FILE [--receipt FILE] [--rootfs DIR]`: rebuilds the
 * run from the witness alone (program, arguments, environment, seed, limits, stdin), runs it,
 * and compares the new witness with the recorded one leaf by leaf. On the first divergence it
 * names the record (sequence number, expected and seen) and prints the record's RFC 9162
 * inclusion proof against the recorded root, checked before it is printed. With --receipt
 * the receipt must be valid and describe the recorded witness.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "metanode/merkle.h"
#include "metanode/replay.h"

static const char help[] =
    "usage: docklock replay --witness FILE [--receipt FILE] [--rootfs DIR] [--output-dir DIR]\n"
    "Re-runs the recorded run and compares every record. Exit 0 identical, 1 diverged\n"
    "(the first divergent record is shown with its Merkle inclusion proof).\n";

static void describe(const char *label, const uint8_t *w, size_t len, uint64_t leaf,
                     uint64_t leaves)
{
    mn_witness_record r;
    mn_err err;
    if (leaf == 0 || leaf + 1 >= leaves) {
        printf("  %s: the %s\n", label, leaf == 0 ? "header" : "trailer");
        return;
    }
    if (mn_witness_record_at(w, len, leaf - 1, &r, &err) != 0) {
        printf("  %s: (unreadable: %s)\n", label, err.msg);
        return;
    }
    printf("  %s: seq %llu vtid %u t=%llu %s nr=%u result=%lld args=[%llx %llx %llx]\n", label,
           (unsigned long long)r.seq, r.vtid, (unsigned long long)r.ltime_ns,
           mn_witness_kind_name(r.kind), r.nr, (long long)r.result,
           (unsigned long long)r.args[0], (unsigned long long)r.args[1],
           (unsigned long long)r.args[2]);
}

static int print_proof(const mn_witness_leaf *leaves, uint64_t n, uint64_t leaf)
{
    uint8_t(*hashes)[32] = malloc(n * 32);
    uint8_t proof[MN_MERKLE_PROOF_HASHES_MAX][32], root[32];
    size_t count = 0;
    mn_err err;
    for (uint64_t i = 0; i < n; i++)
        memcpy(hashes[i], leaves[i].hash, 32);
    mn_merkle_root((const uint8_t(*)[32])hashes, n, root);
    int rc = mn_merkle_inclusion_proof((const uint8_t(*)[32])hashes, leaf, n, proof, &count, &err);
    if (rc == 0)
        rc = mn_merkle_verify_inclusion(hashes[leaf], leaf, n, (const uint8_t(*)[32])proof,
                                        count, root, &err);
    char hex[65];
    mn_hex_encode(hex, hashes[leaf], 32);
    printf("  inclusion proof of recorded leaf %llu (hash %s) in the recorded tree of %llu:\n",
           (unsigned long long)leaf, hex, (unsigned long long)n);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        mn_hex_encode(hex, proof[i], 32);
        printf("    %s\n", hex);
    }
    mn_hex_encode(hex, root, 32);
    printf("  root %s (%s)\n", hex, rc == 0 ? "proof verified" : err.msg);
    free(hashes);
    return rc;
}

static int compare(const uint8_t *rec, size_t rec_len, const mn_docklock_result *res)
{
    mn_witness_leaf *a = NULL, *b = NULL;
    uint64_t na = 0, nb = 0, leaf = 0;
    mn_err err;
    int rc = mn_witness_leaves(rec, rec_len, &a, &na, &err);
    if (rc == 0)
        rc = mn_witness_leaves(res->witness.data, res->witness.len, &b, &nb, &err);
    if (rc != 0) {
        free(a);
        return dl_fail("replay", &err);
    }
    if (!mn_witness_first_divergence(a, na, b, nb, &leaf)) {
        char hex[65];
        mn_hex_encode(hex, res->witness_root, 32);
        printf("replay: identical: %llu leaves, root %s\n", (unsigned long long)na, hex);
        rc = DL_OK;
    } else {
        printf("replay: DIVERGED at leaf %llu (record seq %lld)\n", (unsigned long long)leaf,
               (long long)leaf - 1);
        if (leaf < na)
            describe("expected", rec, rec_len, leaf, na);
        if (leaf < nb)
            describe("seen    ", res->witness.data, res->witness.len, leaf, nb);
        if (leaf < na)
            print_proof(a, na, leaf);
        rc = DL_INVALID;
    }
    free(a);
    free(b);
    return rc;
}

static int check_receipt(const char *path, const uint8_t *w, size_t len)
{
    uint8_t *data;
    size_t n;
    mn_err err;
    mn_receipt r;
    if (mn_file_read(path, MN_RECEIPT_BYTES_MAX, &data, &n, &err) != 0)
        return dl_fail("replay", &err);
    int rc = mn_receipt_decode(data, n, NULL, &r, &err);
    free(data);
    if (rc == 0)
        rc = mn_receipt_check_witness(&r, w, len, &err);
    if (rc != 0) {
        fprintf(stderr, "docklock replay: receipt refused: %s\n", err.msg);
        return DL_INVALID;
    }
    return -1;
}

static int replay(const char *witness, const char *receipt, const char *rootfs,
                  const char *output_dir)
{
    uint8_t *w;
    size_t len;
    mn_err err;
    if (mn_file_read(witness, MN_WITNESS_FILE_BYTES_MAX, &w, &len, &err) != 0)
        return dl_fail("replay", &err);
    int rc = receipt != NULL ? check_receipt(receipt, w, len) : -1;
    static mn_replay_config c;
    if (rc < 0 && mn_replay_config_init(&c, w, len, &err) != 0) {
        fprintf(stderr, "docklock replay: witness refused: %s\n", err.msg);
        rc = DL_INVALID;
    }
    if (rc < 0) {
        c.cfg.rootfs = rootfs;
        c.cfg.output_dir = output_dir;
        mn_docklock_result res;
        if (mn_docklock_run(&c.cfg, &res, &err) != 0) {
            rc = dl_fail("replay", &err);
        } else {
            rc = compare(w, len, &res);
            mn_docklock_result_deinit(&res);
        }
    }
    mn_replay_config_deinit(&c);
    free(w);
    return rc;
}

int cmd_replay(int argc, char **argv)
{
    static const struct option opts[] = {{"witness", 1, 0, 'w'}, {"receipt", 1, 0, 'r'},
                                         {"rootfs", 1, 0, 'R'},  {"output-dir", 1, 0, 'o'},
                                         {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
    const char *witness = NULL, *receipt = NULL, *rootfs = NULL, *output_dir = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return DL_OK;
        }
        if (c == 'w')
            witness = optarg;
        else if (c == 'r')
            receipt = optarg;
        else if (c == 'R')
            rootfs = optarg;
        else if (c == 'o')
            output_dir = optarg;
        else
            return dl_usage("replay", help);
    }
    if (witness == NULL || optind != argc)
        return dl_usage("replay", help);
    return replay(witness, receipt, rootfs, output_dir);
}
