/* SPDX-License-Identifier: Apache-2.0
 *
 * mn_test.c: the harness behind mn_test.h. Runs every case (or those named on the command
 * line), prints one line per case and a closing "N passed, N failed" line.
 */
#include "mn_test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "metanode/bytes.h"

_Noreturn void mn_test_fail(const char *file, int line, const char *fmt, ...)
{
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

void mn_test_dump_hex(const char *label, const void *data, size_t len)
{
    fprintf(stderr, "  %s = ", label);
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, "%02x", p[i]);
    fputc('\n', stderr);
}

int mn_test_run(const char *suite, const mn_test_case *cases, size_t count, int argc,
                char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    size_t ran = 0;
    for (size_t i = 0; i < count; i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted = wanted || strcmp(argv[a], cases[i].name) == 0;
        if (!wanted)
            continue;
        fprintf(stderr, "%s.%s ...\n", suite, cases[i].name);
        cases[i].fn(); /* a failed check exits the process with status 1 */
        ran++;
    }
    if (ran == 0) {
        fprintf(stderr, "%s: no test case ran\n", suite);
        return 1;
    }
    printf("%s: %zu passed, 0 failed\n", suite, ran);
    return 0;
}

static const char *dir_from_env(const char *var, const char *fallback)
{
    const char *dir = getenv(var);
    return dir != NULL && dir[0] != '\0' ? dir : fallback;
}

const char *mn_test_shared_path(const char *relative)
{
    static char path[4096];
    const char *dir = dir_from_env("MN_SHARED_DIR", "../shared");
    snprintf(path, sizeof(path), "%s/%s", dir, relative);
    if (access(path, R_OK) != 0)
        mn_test_fail(__FILE__, __LINE__,
                     "shared test data missing: %s (set MN_SHARED_DIR to the shared/ directory)",
                     path);
    return path;
}

const char *mn_test_source_path(const char *relative)
{
    static char path[4096];
    const char *dir = dir_from_env("MN_SOURCE_DIR", ".");
    snprintf(path, sizeof(path), "%s/%s", dir, relative);
    return path;
}

json_t *mn_test_load_json(const char *path)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        mn_test_fail(__FILE__, __LINE__, "%s:%d: %s", path, jerr.line, jerr.text);
    return root;
}

uint8_t *mn_test_json_hex(json_t *obj, const char *key, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        mn_test_fail(__FILE__, __LINE__, "vector field \"%s\" missing or not a string", key);
    uint8_t *out = NULL;
    mn_err err;
    if (mn_hex_decode_alloc(json_string_value(v), &out, len, &err) != 0)
        mn_test_fail(__FILE__, __LINE__, "vector field \"%s\": %s", key, err.msg);
    return out;
}

void mn_test_json_hex_n(json_t *obj, const char *key, uint8_t *out, size_t n)
{
    size_t len = 0;
    uint8_t *bytes = mn_test_json_hex(obj, key, &len);
    if (len != n)
        mn_test_fail(__FILE__, __LINE__, "vector field \"%s\": %zu bytes, expected %zu", key, len,
                     n);
    if (n != 0)
        memcpy(out, bytes, n);
    free(bytes);
}
