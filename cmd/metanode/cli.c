/* SPDX-License-Identifier: Apache-2.0
 *
 * cli.c: the helpers of cli.h. Output conventions: results go to stdout (plain text or, with
 * --json, one JSON document); errors go to stderr, one line, prefixed with "metanode".
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const char *what, const mn_err *err)
{
    fprintf(stderr, "metanode %s: %s\n", what, err->msg);
    switch (err->code) {
    case MN_ECRYPTO:
        return CLI_INVALID;
    case MN_EINVAL:
    case MN_ECORRUPT:
    case MN_ELIMIT:
    case MN_ENOTFOUND:
    case MN_EEXIST:
    case MN_EPERM:
    case MN_EUNSUPPORTED:
        return CLI_INPUT;
    default:
        return CLI_INTERNAL;
    }
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    fprintf(stderr, "metanode %s: ", verb);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see: metanode %s --help)\n", verb);
    return CLI_USAGE;
}

void cli_print_json(json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text != NULL) {
        puts(text);
        free(text);
    }
    json_decref(doc);
}

int cli_dispatch(const char *group, const cli_verb *verbs, int count, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: metanode %s VERB [OPTIONS]\n\nverbs:\n", group);
        for (int i = 0; i < count; i++)
            fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(out, "\nRun 'metanode %s VERB --help' for a verb's options.\n", group);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (int i = 0; i < count; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].run(argc - 1, argv + 1);
    return cli_usage_error(group, "unknown verb \"%s\"", argv[1]);
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

void cli_print_hex(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        printf("%02x", data[i]);
    putchar('\n');
}

int cli_parse_one_file(const char *verb, const char *help, int argc, char **argv, bool *json,
                       const char **file)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    *json = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            *json = true;
        else if (c == 'h')
            return fputs(help, stdout), CLI_OK;
        else
            return cli_usage_error(verb, "bad option");
    }
    if (optind != argc - 1)
        return cli_usage_error(verb, "expected exactly one FILE");
    *file = argv[optind];
    return -1;
}
