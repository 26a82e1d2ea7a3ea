/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_hash.c: `metanode hash merkle`: the RFC 9162 Merkle tree of files, one file per leaf, in
 * the order given, like sha256sum for trees. Files are streamed (leaf = SHA-256(0x00 || bytes)),
 * so their size is not bounded by memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "metanode/bytes.h"
#include "metanode/hash.h"
#include "metanode/merkle.h"
#include "metanode/tags.h"

static int leaf_hash_file(const char *path, uint8_t out[32], mn_err *err)
{
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mn_err_set(err, errno == ENOENT ? MN_ENOTFOUND : MN_ESYS, errno, "open %s", path);
    mn_sha256_ctx ctx;
    mn_sha256_tagged_init(&ctx, MN_TAG_MERKLE_LEAF);
    uint8_t chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return mn_err_set(err, MN_ESYS, e, "read %s", path);
        }
        if (n == 0)
            break;
        mn_sha256_update(&ctx, chunk, (size_t)n);
    }
    close(fd);
    mn_sha256_final(&ctx, out);
    return 0;
}

static const char merkle_help[] =
    "usage: metanode hash merkle [--inclusion INDEX] [--consistency OLD_SIZE] [--json] FILE...\n"
    "Prints the RFC 9162 Merkle tree head (root and size) over the files, one leaf per file\n"
    "('-' reads stdin). --inclusion prints the inclusion proof of leaf INDEX (0-based);\n"
    "--consistency prints the consistency proof from the first OLD_SIZE leaves to all of them.\n"
    "Proof hashes are printed bottom-up, one per line, as hex.\n";

typedef struct merkle_args {
    bool json, want_inclusion, want_consistency;
    uint64_t index, old_size;
} merkle_args;

static int parse(int argc, char **argv, merkle_args *a)
{
    static const struct option opts[] = {{"inclusion", required_argument, 0, 'i'},
                                         {"consistency", required_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof(*a));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'i' && cli_parse_u64(optarg, &a->index) == 0)
            a->want_inclusion = true;
        else if (c == 'c' && cli_parse_u64(optarg, &a->old_size) == 0)
            a->want_consistency = true;
        else if (c == 'j')
            a->json = true;
        else if (c == 'h')
            return fputs(merkle_help, stdout), CLI_OK;
        else
            return cli_usage_error("hash merkle", "bad option or number");
    }
    if (optind >= argc)
        return cli_usage_error("hash merkle", "at least one FILE is required");
    return -1;
}

static json_t *proof_json(const uint8_t (*proof)[32], size_t count)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        char hex[65];
        mn_hex_encode(hex, proof[i], 32);
        json_array_append_new(arr, json_string(hex));
    }
    return arr;
}

static void print_proof(const char *label, const uint8_t (*proof)[32], size_t count)
{
    printf("%s (%zu hashes):\n", label, count);
    for (size_t i = 0; i < count; i++)
        cli_print_hex(proof[i], 32);
}

static int emit(const merkle_args *a, const uint8_t (*leaves)[32], uint64_t n, mn_err *err)
{
    uint8_t root[32], incl[MN_MERKLE_PROOF_HASHES_MAX][32], cons[MN_MERKLE_PROOF_HASHES_MAX][32];
    size_t incl_count = 0, cons_count = 0;
    mn_merkle_root(leaves, n, root);
    if (a->want_inclusion &&
        mn_merkle_inclusion_proof(leaves, a->index, n, incl, &incl_count, err) != 0)
        return mn_err_wrap(err, "--inclusion %llu", (unsigned long long)a->index);
    if (a->want_consistency &&
        mn_merkle_consistency_proof(leaves, a->old_size, n, cons, &cons_count, err) != 0)
        return mn_err_wrap(err, "--consistency %llu", (unsigned long long)a->old_size);
    char root_hex[65];
    mn_hex_encode(root_hex, root, 32);
    if (a->json) {
        json_t *doc = json_pack("{s:I, s:s}", "size", (json_int_t)n, "root", root_hex);
        if (a->want_inclusion) {
            json_object_set_new(doc, "index", json_integer((json_int_t)a->index));
            json_object_set_new(doc, "inclusion_proof", proof_json(incl, incl_count));
        }
        if (a->want_consistency) {
            json_object_set_new(doc, "old_size", json_integer((json_int_t)a->old_size));
            json_object_set_new(doc, "consistency_proof", proof_json(cons, cons_count));
        }
        cli_print_json(doc);
        return 0;
    }
    printf("%s  size=%llu\n", root_hex, (unsigned long long)n);
    if (a->want_inclusion)
        print_proof("inclusion proof", incl, incl_count);
    if (a->want_consistency)
        print_proof("consistency proof", cons, cons_count);
    return 0;
}

static int hash_merkle(int argc, char **argv)
{
    merkle_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0)
        return rc;
    uint64_t n = (uint64_t)(argc - optind);
    uint8_t (*leaves)[32] = calloc(n, 32);
    if (leaves == NULL)
        return fprintf(stderr, "metanode hash merkle: out of memory\n"), CLI_INTERNAL;
    mn_err err;
    rc = 0;
    for (uint64_t i = 0; i < n && rc == 0; i++)
        rc = leaf_hash_file(argv[optind + (int)i], leaves[i], &err);
    if (rc == 0)
        rc = emit(&a, (const uint8_t(*)[32])leaves, n, &err);
    free(leaves);
    return rc == 0 ? CLI_OK : cli_fail("hash merkle", &err);
}

int cmd_hash(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"merkle", "RFC 9162 Merkle root and proofs over files", hash_merkle},
    };
    return cli_dispatch("hash", verbs, 1, argc, argv);
}
