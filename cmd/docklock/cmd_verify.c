/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_verify.c: `docklock verify --receipt FILE [--witness FILE] [--pubkey HEX]`: checks a
 * receipt's encoding and signature (by the given key, if one is given) and, with a witness,
 * that every field the receipt derives from the witness matches it, and shows the receipt's
 * taints and the witness's TAINT records (relaxed mode). Nothing is run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "dl.h"
#include "metanode/replay.h"
#include "metanode/witness.h"

static const char help[] =
    "usage: docklock verify --receipt FILE [--witness FILE] [--pubkey HEX]\n"
    "Checks the receipt's signature and structure and, given the witness, that its roots,\n"
    "counts, digests and exit status match the witness. Exit 0 valid, 1 invalid.\n";

/* The witness's TAINT records (what relaxed mode accepted without honouring), one a line;
 * the witness was checked already. */
static void print_taint_records(const uint8_t *data, size_t len)
{
    mn_witness_reader rd;
    mn_witness_header h;
    mn_witness_record rec;
    mn_witness_trailer t;
    mn_err err;
    if (mn_witness_reader_init(&rd, data, len, &h, &err) != 0)
        return;
    while (mn_witness_reader_next(&rd, &rec, &t, &err) == 1)
        if (rec.kind == MN_WK_TAINT)
            printf("taint: %.*s\n", (int)rec.inline_data.len,
                   (const char *)rec.inline_data.data);
}

static int verify(const char *receipt, const char *witness, const uint8_t *pubkey)
{
    uint8_t *data;
    size_t len;
    mn_err err;
    mn_receipt r;
    if (mn_file_read(receipt, MN_RECEIPT_BYTES_MAX, &data, &len, &err) != 0)
        return dl_fail("verify", &err);
    int rc = mn_receipt_decode(data, len, pubkey, &r, &err);
    free(data);
    if (rc != 0) {
        fprintf(stderr, "docklock verify: receipt refused: %s\n", err.msg);
        return DL_INVALID;
    }
    if (witness != NULL) {
        if (mn_file_read(witness, MN_WITNESS_FILE_BYTES_MAX, &data, &len, &err) != 0)
            return dl_fail("verify", &err);
        rc = mn_receipt_check_witness(&r, data, len, &err);
        if (rc == 0)
            print_taint_records(data, len);
        free(data);
        if (rc != 0) {
            fprintf(stderr, "docklock verify: witness refused: %s\n", err.msg);
            return DL_INVALID;
        }
    }
    char root[65];
    mn_hex_encode(root, r.core.witness_root, 32);
    printf("valid: signature ok%s; witness root %s (%llu leaves)\n",
           witness != NULL ? ", witness matches" : "", root,
           (unsigned long long)r.core.witness_count);
    if (r.core.taints != 0) /* a claim downgraded: say so next to "valid" */
        printf("taints: 0x%llx%s%s%s\n", (unsigned long long)r.core.taints,
               (r.core.taints & MN_TAINT_RDRAND) ? " rdrand" : "",
               (r.core.taints & MN_TAINT_RELAXED) ? " relaxed" : "",
               (r.core.taints & MN_TAINT_PREEMPTED) ? " preempted" : "");
    return DL_OK;
}

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {{"receipt", 1, 0, 'r'}, {"witness", 1, 0, 'w'},
                                         {"pubkey", 1, 0, 'p'},  {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *receipt = NULL, *witness = NULL;
    uint8_t pk[32];
    bool have_pk = false;
    mn_err err;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return DL_OK;
        }
        if (c == 'r')
            receipt = optarg;
        else if (c == 'w')
            witness = optarg;
        else if (c == 'p' && mn_hex_decode(pk, 32, optarg, &err) == 0)
            have_pk = true;
        else
            return dl_usage("verify", help);
    }
    if (receipt == NULL || optind != argc)
        return dl_usage("verify", help);
    return verify(receipt, witness, have_pk ? pk : NULL);
}
