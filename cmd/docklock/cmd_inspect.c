/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_inspect.c: `docklock inspect [--json] FILE`: shows a witness log (header, one line per
 * record, trailer, root) or a receipt, told apart by the witness magic. The file is decoded
 * strictly; a file that does not decode is reported, never half shown.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dl.h"
#include "metanode/receipt_json.h"
#include "metanode/witness.h"

static const char help[] = "usage: docklock inspect [--json] FILE\n"
                           "Shows a witness log or a receipt (for people, or as JSON).\n";

static json_t *hex_json(const uint8_t *data, size_t len)
{
    char *hex = malloc(2 * len + 1);
    mn_hex_encode(hex, data, len);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

/* Printable text of arbitrary bytes (non-printable bytes as \xNN). */
static void print_bytes(const mn_witness_str *s)
{
    for (size_t i = 0; i < s->len && i < 200; i++) {
        uint8_t c = s->data[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    if (s->len > 200)
        printf("...");
}

static json_t *record_json(const mn_witness_record *r)
{
    json_t *args = json_array();
    for (unsigned i = 0; i < MN_WITNESS_ARGS; i++)
        json_array_append_new(args, json_integer((json_int_t)r->args[i]));
    json_t *j = json_pack("{sI sI sI ss sI so sI}", "seq", (json_int_t)r->seq, "vtid",
                          (json_int_t)r->vtid, "ltime_ns", (json_int_t)r->ltime_ns, "kind",
                          mn_witness_kind_name(r->kind), "nr", (json_int_t)r->nr, "args", args,
                          "result", (json_int_t)r->result);
    if (r->has_digest)
        json_object_set_new(j, "digest", hex_json(r->digest, 32));
    json_object_set_new(j, "inline", hex_json(r->inline_data.data, r->inline_data.len));
    if (r->kind == MN_WK_CONFIG || r->kind == MN_WK_TAINT ||
        (r->kind == MN_WK_INPUT && r->nr == 3) || (r->kind == MN_WK_OUTPUT && r->nr == 3))
        json_object_set_new(j, "text", json_stringn((const char *)r->inline_data.data,
                                                    r->inline_data.len));
    return j;
}

static void print_record(const mn_witness_record *r)
{
    printf("#%-5llu vtid %-3u t=%-10llu %-7s nr=%-3u res=%lld",
           (unsigned long long)r->seq, r->vtid, (unsigned long long)r->ltime_ns,
           mn_witness_kind_name(r->kind), r->nr, (long long)r->result);
    if (r->kind == MN_WK_CONFIG || r->kind == MN_WK_TAINT ||
        (r->kind == MN_WK_INPUT && r->nr == 3) || (r->kind == MN_WK_OUTPUT && r->nr == 3)) {
        printf(" "); /* settings, taints, mounts: text, shown whole (up to 200 bytes) */
        print_bytes(&r->inline_data);
    } else if (r->inline_data.len > 0) {
        printf(" inline[%zu]=", r->inline_data.len);
        mn_witness_str head = {r->inline_data.data,
                               r->inline_data.len < 24 ? r->inline_data.len : 24};
        print_bytes(&head);
    }
    printf("\n");
}

static void print_header(const mn_witness_header *h)
{
    char hex[65];
    mn_hex_encode(hex, h->program_digest, 32);
    printf("witness v%u\n  program %s\n  argv   ", h->version, hex);
    for (uint32_t i = 0; i < h->argc; i++) {
        printf(" [");
        print_bytes(&h->argv[i]);
        printf("]");
    }
    printf("\n  env     %u entries\n  epoch   %llu ns\n  host    ", h->envc,
           (unsigned long long)h->epoch_ns);
    for (int i = 0; i < 3; i++) {
        print_bytes(&h->host[i]);
        putchar(' ');
    }
    printf("\n");
}

static int inspect_witness(const uint8_t *data, size_t len, bool json)
{
    mn_witness_reader rd;
    mn_witness_header h;
    mn_witness_record r;
    mn_witness_trailer t;
    mn_err err;
    if (mn_witness_reader_init(&rd, data, len, &h, &err) != 0)
        return dl_fail("inspect", &err);
    json_t *records = json_array();
    if (!json)
        print_header(&h);
    int rc;
    while ((rc = mn_witness_reader_next(&rd, &r, &t, &err)) == 1) {
        if (json)
            json_array_append_new(records, record_json(&r));
        else
            print_record(&r);
    }
    if (rc < 0) {
        json_decref(records);
        return dl_fail("inspect", &err);
    }
    uint8_t root[32];
    uint64_t count;
    mn_witness_reader_root(&rd, root, &count);
    if (json) {
        json_t *doc = json_pack("{so sI sI sI sI so}", "records", records, "exit_kind",
                                (json_int_t)t.exit_kind, "exit_code", (json_int_t)t.exit_code,
                                "taints", (json_int_t)t.taints, "leaves", (json_int_t)count,
                                "root", hex_json(root, 32));
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text);
        free(text);
        json_decref(doc);
    } else {
        char hex[65];
        mn_hex_encode(hex, root, 32);
        printf("trailer: %llu records, exit %u/%lld, logical end %llu ns, %llu events, "
               "taints 0x%llx\nroot %s (%llu leaves)\n",
               (unsigned long long)t.records, t.exit_kind, (long long)t.exit_code,
               (unsigned long long)t.logical_end_ns, (unsigned long long)t.syscalls,
               (unsigned long long)t.taints, hex, (unsigned long long)count);
        json_decref(records);
    }
    return DL_OK;
}

static int inspect_receipt(const uint8_t *data, size_t len)
{
    mn_receipt r;
    mn_err err;
    if (mn_receipt_parse(data, len, &r, &err) != 0)
        return dl_fail("inspect", &err);
    json_t *doc = mn_receipt_to_json(&r);
    json_object_set_new(doc, "signature_valid", json_boolean(mn_receipt_verify(&r, NULL) == 0));
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(doc);
    return DL_OK;
}

int cmd_inspect(int argc, char **argv)
{
    bool json = false;
    static const struct option opts[] = {{"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(help, stdout);
            return DL_OK;
        }
        if (c != 'j')
            return dl_usage("inspect", help);
        json = true;
    }
    if (optind != argc - 1)
        return dl_usage("inspect", help);
    uint8_t *data;
    size_t len;
    mn_err err;
    if (mn_file_read(argv[optind], MN_WITNESS_FILE_BYTES_MAX, &data, &len, &err) != 0)
        return dl_fail("inspect", &err);
    int rc = len >= MN_WITNESS_MAGIC_BYTES && memcmp(data, MN_WITNESS_MAGIC, 8) == 0
                 ? inspect_witness(data, len, json)
                 : inspect_receipt(data, len);
    free(data);
    return rc;
}
