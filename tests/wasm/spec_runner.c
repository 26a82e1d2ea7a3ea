/* SPDX-License-Identifier: Apache-2.0
 *
 * spec_runner.c: runs the WebAssembly spec test suite (the .wast files of
 * shared/wasm-testsuite, SIMD files excluded) against the engine. Each .wast file is converted
 * by Debian's `wast2json` into a scratch directory at test time, the JSON is read with jansson,
 * and every command is
 * executed with one store per file, a registry of named instances and the `spectest` host
 * module (wasm.md §4). Text-format assert_malformed cases are skipped (no text parser); nothing
 * else is. A failure listed in tests/wasm/known_failures.txt (file:line) is reported but does
 * not fail the test; any other failure does. Missing test data or a missing wast2json is a
 * failure, never a skip.
 *
 * Usage: test_wasm_spec [--plain] [FILE.wast ...]   (default: all non-SIMD files; policy mode
 * with fuel metering and NaN canonicalisation; --plain turns both off)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "metanode/bytes.h"
#include "metanode/wasm.h"

#define MAX_NAMED 256
#define MAX_MODULES 4096
#define MAX_KNOWN 1024

typedef struct named {
    char *name;
    mn_wasm_instance *inst;
} named;

typedef struct runner {
    const char *dir; /* scratch dir with the converted files */
    const char *file;
    mn_wasm_config cfg;
    mn_wasm_store *store;
    mn_wasm_instance *current;
    named registry[MAX_NAMED];
    size_t registry_count;
    named names[MAX_NAMED];
    size_t names_count;
    mn_wasm_module *modules[MAX_MODULES];
    size_t modules_count;
    /* spectest */
    mn_wasm_extern spectest[16];
    const char *spectest_names[16];
    size_t spectest_count;
    long passed, failed, skipped, known;
    long other_stage; /* malformed rejected by the validator or invalid by the decoder */
    long line;
} runner;

static char *known[MAX_KNOWN];
static bool known_hit[MAX_KNOWN];
static size_t known_count;

static void fail(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool is_known(runner *r)
{
    char key[512];
    snprintf(key, sizeof(key), "%s:%ld", r->file, r->line);
    for (size_t i = 0; i < known_count; i++) {
        if (strcmp(known[i], key) == 0) {
            known_hit[i] = true;
            return true;
        }
    }
    return false;
}

static void fail(runner *r, const char *fmt, ...)
{
    bool k = is_known(r);
    if (k)
        r->known++;
    else
        r->failed++;
    fprintf(stderr, "%s%s:%ld: ", k ? "known failure: " : "FAIL ", r->file, r->line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void pass(runner *r)
{
    r->passed++;
}

/* ---- spectest host module ----------------------------------------------------------- */

static int print_fn(void *ctx, mn_wasm_instance *caller, const mn_wasm_val *args,
                    mn_wasm_val *results, mn_err *err)
{
    (void)ctx, (void)caller, (void)args, (void)results, (void)err;
    return 0;
}

static void add_spec(runner *r, const char *name, mn_wasm_extern ex)
{
    r->spectest_names[r->spectest_count] = name;
    r->spectest[r->spectest_count++] = ex;
}

static void spec_func(runner *r, const char *name, uint32_t n, mn_wasm_type a, mn_wasm_type b)
{
    mn_wasm_type params[2] = {a, b};
    mn_wasm_functype ft = {n, 0, params, NULL};
    mn_wasm_extern ex = {.kind = MN_WASM_EXTERN_FUNC};
    mn_err err;
    if (mn_wasm_func_new_host(r->store, &ft, print_fn, NULL, &ex.of.func, &err) != 0) {
        fprintf(stderr, "spectest: %s\n", err.msg);
        exit(1);
    }
    add_spec(r, name, ex);
}

static void spec_global(runner *r, const char *name, mn_wasm_type t, uint64_t bits)
{
    mn_wasm_val v = {.type = t};
    v.of.i64 = bits;
    mn_wasm_extern ex = {.kind = MN_WASM_EXTERN_GLOBAL};
    mn_err err;
    if (mn_wasm_global_new(r->store, v, false, &ex.of.global, &err) != 0)
        exit(1);
    add_spec(r, name, ex);
}

static void make_spectest(runner *r)
{
    mn_err err;
    r->spectest_count = 0;
    spec_func(r, "print", 0, 0, 0);
    spec_func(r, "print_i32", 1, MN_WASM_I32, 0);
    spec_func(r, "print_i64", 1, MN_WASM_I64, 0);
    spec_func(r, "print_f32", 1, MN_WASM_F32, 0);
    spec_func(r, "print_f64", 1, MN_WASM_F64, 0);
    spec_func(r, "print_i32_f32", 2, MN_WASM_I32, MN_WASM_F32);
    spec_func(r, "print_f64_f64", 2, MN_WASM_F64, MN_WASM_F64);
    spec_global(r, "global_i32", MN_WASM_I32, 666);
    spec_global(r, "global_i64", MN_WASM_I64, 666);
    spec_global(r, "global_f32", MN_WASM_F32, 0x4426a666u);             /* 666.6 */
    spec_global(r, "global_f64", MN_WASM_F64, 0x4084d4cccccccccdull); /* 666.6 */
    mn_wasm_extern t = {.kind = MN_WASM_EXTERN_TABLE};
    mn_wasm_extern m = {.kind = MN_WASM_EXTERN_MEMORY};
    if (mn_wasm_table_new(r->store, MN_WASM_FUNCREF, 10, 20, &t.of.table, &err) != 0 ||
        mn_wasm_memory_new(r->store, 1, 2, &m.of.memory, &err) != 0) {
        fprintf(stderr, "spectest: %s\n", err.msg);
        exit(1);
    }
    add_spec(r, "table", t);
    add_spec(r, "memory", m);
}

/* ---- modules and linking -------------------------------------------------------------- */

static mn_wasm_instance *find_named(named *list, size_t n, const char *name, size_t len)
{
    for (size_t i = n; i > 0; i--)
        if (strlen(list[i - 1].name) == len && memcmp(list[i - 1].name, name, len) == 0)
            return list[i - 1].inst;
    return NULL;
}

static void put_named(named *list, size_t *n, const char *name, mn_wasm_instance *inst)
{
    if (*n == MAX_NAMED) {
        fprintf(stderr, "too many named instances\n");
        exit(1);
    }
    list[*n].name = strdup(name);
    list[*n].inst = inst;
    (*n)++;
}

/* Resolves an import by (module, name). Returns false for an unknown import. */
static bool resolve(runner *r, const uint8_t *mod, uint32_t mod_len, const uint8_t *name,
                    uint32_t name_len, mn_wasm_extern *out)
{
    if (mod_len == 8 && memcmp(mod, "spectest", 8) == 0) {
        for (size_t i = 0; i < r->spectest_count; i++) {
            const char *n = r->spectest_names[i];
            if (strlen(n) == name_len && memcmp(n, name, name_len) == 0) {
                *out = r->spectest[i];
                return true;
            }
        }
        return false;
    }
    mn_wasm_instance *inst = find_named(r->registry, r->registry_count, (const char *)mod,
                                        mod_len);
    if (!inst)
        return false;
    mn_err err;
    return mn_wasm_instance_export(inst, name, name_len, out, &err) == 0;
}

typedef enum { LOAD_OK, LOAD_MALFORMED, LOAD_INVALID, LOAD_UNLINKABLE, LOAD_TRAP } load_result;

static load_result load(runner *r, const char *filename, mn_wasm_instance **out, mn_err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", r->dir, filename);
    uint8_t *bytes;
    size_t len;
    if (mn_file_read(path, 0, &bytes, &len, err) != 0)
        return LOAD_MALFORMED;
    mn_wasm_module *mod;
    int rc = mn_wasm_module_load(bytes, len, &r->cfg, &mod, err);
    free(bytes);
    if (rc != 0)
        return err->code == MN_EINVAL ? LOAD_INVALID : LOAD_MALFORMED;
    if (r->modules_count == MAX_MODULES) {
        fprintf(stderr, "too many modules\n");
        exit(1);
    }
    r->modules[r->modules_count++] = mod;
    uint32_t n = mn_wasm_module_imports_count(mod);
    mn_wasm_extern *imports = calloc(n + 1, sizeof(*imports));
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *m, *f;
        uint32_t ml, fl;
        mn_wasm_extern_kind kind;
        mn_wasm_module_import(mod, i, &m, &ml, &f, &fl, &kind);
        if (!resolve(r, m, ml, f, fl, &imports[i])) {
            free(imports);
            mn_err_set(err, MN_ENOTFOUND, 0, "unknown import %.*s.%.*s", (int)ml, m, (int)fl,
                       f);
            return LOAD_UNLINKABLE;
        }
    }
    rc = mn_wasm_instantiate(r->store, mod, imports, n, out, err);
    free(imports);
    if (rc == 0)
        return LOAD_OK;
    return err->code == MN_ETRAP ? LOAD_TRAP : LOAD_UNLINKABLE;
}

/* ---- values ------------------------------------------------------------------------- */

static mn_wasm_type type_of(const char *s)
{
    if (!strcmp(s, "i32"))
        return MN_WASM_I32;
    if (!strcmp(s, "i64"))
        return MN_WASM_I64;
    if (!strcmp(s, "f32"))
        return MN_WASM_F32;
    if (!strcmp(s, "f64"))
        return MN_WASM_F64;
    if (!strcmp(s, "funcref"))
        return MN_WASM_FUNCREF;
    if (!strcmp(s, "externref"))
        return MN_WASM_EXTERNREF;
    return 0;
}

static bool parse_val(json_t *j, mn_wasm_val *out)
{
    const char *t = json_string_value(json_object_get(j, "type"));
    json_t *jv = json_object_get(j, "value");
    const char *v = json_string_value(jv);
    if (!t || !(out->type = type_of(t)))
        return false;
    out->of.i64 = 0;
    if (out->type == MN_WASM_FUNCREF || out->type == MN_WASM_EXTERNREF) {
        if (!v || !strcmp(v, "null"))
            out->of.ref = 0;
        else
            out->of.ref = (uintptr_t)strtoull(v, NULL, 10) + 1;
        return true;
    }
    if (!v)
        return false;
    uint64_t x = strtoull(v, NULL, 10);
    if (out->type == MN_WASM_I32 || out->type == MN_WASM_F32)
        out->of.i32 = (uint32_t)x;
    else
        out->of.i64 = x;
    return true;
}

/* Does result `got` match the expected JSON value? */
static bool match(json_t *exp, const mn_wasm_val *got)
{
    const char *t = json_string_value(json_object_get(exp, "type"));
    const char *v = json_string_value(json_object_get(exp, "value"));
    mn_wasm_type type = t ? type_of(t) : 0;
    if (type != got->type)
        return false;
    if (type == MN_WASM_FUNCREF && !v)
        return got->of.ref != 0;
    if (type == MN_WASM_F32 && v && !strncmp(v, "nan:", 4)) {
        uint32_t b = got->of.f32_bits;
        if (!strcmp(v, "nan:canonical"))
            return (b & 0x7fffffffu) == 0x7fc00000u;
        return (b & 0x7fc00000u) == 0x7fc00000u;
    }
    if (type == MN_WASM_F64 && v && !strncmp(v, "nan:", 4)) {
        uint64_t b = got->of.f64_bits;
        if (!strcmp(v, "nan:canonical"))
            return (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        return (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
    }
    mn_wasm_val want;
    if (!parse_val(exp, &want))
        return false;
    if (type == MN_WASM_I32 || type == MN_WASM_F32)
        return want.of.i32 == got->of.i32;
    return want.of.i64 == got->of.i64;
}

/* ---- actions ------------------------------------------------------------------------ */

typedef enum { ACT_OK, ACT_TRAP, ACT_ERROR } act_result;

static act_result act(runner *r, json_t *a, mn_wasm_val *results, size_t *nresults,
                      mn_err *err)
{
    const char *type = json_string_value(json_object_get(a, "type"));
    const char *modname = json_string_value(json_object_get(a, "module"));
    json_t *jfield = json_object_get(a, "field");
    mn_wasm_instance *inst = r->current;
    if (modname)
        inst = find_named(r->names, r->names_count, modname, strlen(modname));
    if (!inst || !type || !jfield) {
        mn_err_set(err, MN_ENOTFOUND, 0, "no such instance");
        return ACT_ERROR;
    }
    mn_wasm_extern ex;
    if (mn_wasm_instance_export(inst, (const uint8_t *)json_string_value(jfield),
                                json_string_length(jfield), &ex, err) != 0)
        return ACT_ERROR;
    if (!strcmp(type, "get")) {
        if (ex.kind != MN_WASM_EXTERN_GLOBAL)
            return ACT_ERROR;
        results[0] = mn_wasm_global_get(ex.of.global);
        *nresults = 1;
        return ACT_OK;
    }
    if (ex.kind != MN_WASM_EXTERN_FUNC)
        return ACT_ERROR;
    json_t *jargs = json_object_get(a, "args");
    size_t nargs = json_array_size(jargs);
    mn_wasm_val args[64];
    if (nargs > 64)
        return ACT_ERROR;
    for (size_t i = 0; i < nargs; i++)
        if (!parse_val(json_array_get(jargs, i), &args[i]))
            return ACT_ERROR;
    uint32_t np, nr;
    mn_wasm_func_type(ex.of.func, &np, &nr, NULL, NULL);
    if (nr > 64)
        return ACT_ERROR;
    mn_wasm_store_set_fuel(r->store, UINT64_MAX / 2);
    int rc = mn_wasm_func_call(r->store, ex.of.func, args, nargs, results, 64, err);
    *nresults = nr;
    if (rc == 0)
        return ACT_OK;
    return err->code == MN_ETRAP ? ACT_TRAP : ACT_ERROR;
}

static bool text_matches(const char *want, const char *got)
{
    /* The spec's texts are canonical; ours are the same for traps. Compare the first word
     * sequence up to the shorter length. */
    size_t n = strlen(want) < strlen(got) ? strlen(want) : strlen(got);
    return strncmp(want, got, n) == 0;
}

static void cmd_assert_return(runner *r, json_t *c)
{
    mn_wasm_val res[64];
    size_t n = 0;
    mn_err err = {0};
    act_result ar = act(r, json_object_get(c, "action"), res, &n, &err);
    if (ar != ACT_OK) {
        fail(r, "assert_return: %s", err.msg);
        return;
    }
    json_t *exp = json_object_get(c, "expected");
    if (json_array_size(exp) != n) {
        fail(r, "assert_return: %zu results, expected %zu", n, json_array_size(exp));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!match(json_array_get(exp, i), &res[i])) {
            char *s = json_dumps(json_array_get(exp, i), JSON_COMPACT);
            fail(r, "assert_return: result %zu is 0x%" PRIx64 ", expected %s", i, res[i].of.i64,
                 s);
            free(s);
            return;
        }
    }
    pass(r);
}

static void cmd_assert_trap(runner *r, json_t *c, bool exhaustion)
{
    mn_wasm_val res[64];
    size_t n = 0;
    mn_err err = {0};
    act_result ar = act(r, json_object_get(c, "action"), res, &n, &err);
    const char *text = json_string_value(json_object_get(c, "text"));
    if (ar != ACT_TRAP) {
        fail(r, "%s: did not trap (%s)", exhaustion ? "assert_exhaustion" : "assert_trap",
             ar == ACT_OK ? "returned" : err.msg);
        return;
    }
    if (text && !text_matches(text, err.msg)) {
        fail(r, "trap \"%s\", expected \"%s\"", err.msg, text);
        return;
    }
    pass(r);
}

static void cmd_module_fails(runner *r, json_t *c, load_result want, const char *what)
{
    const char *mt = json_string_value(json_object_get(c, "module_type"));
    if (mt && strcmp(mt, "binary") != 0) {
        r->skipped++;
        return;
    }
    mn_wasm_instance *inst = NULL;
    mn_err err = {0};
    load_result got = load(r, json_string_value(json_object_get(c, "filename")), &inst, &err);
    if (got == LOAD_OK) {
        fail(r, "%s: module loaded", what);
        return;
    }
    /* malformed vs invalid differ only in which stage noticed: not a failure (wasm.md §4.1). */
    bool ok = got == want || (want == LOAD_MALFORMED && got == LOAD_INVALID) ||
              (want == LOAD_INVALID && got == LOAD_MALFORMED);
    if (!ok) {
        fail(r, "%s: failed at the wrong stage: %s", what, err.msg);
        return;
    }
    if (got != want) {
        r->other_stage++;
        fprintf(stderr, "note: %s:%ld: %s rejected by the other stage: %s\n", r->file, r->line,
                what, err.msg);
    }
    pass(r);
}

static void command(runner *r, json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    r->line = (long)json_integer_value(json_object_get(c, "line"));
    mn_err err = {0};
    if (!strcmp(type, "module")) {
        mn_wasm_instance *inst;
        load_result lr = load(r, json_string_value(json_object_get(c, "filename")), &inst, &err);
        if (lr != LOAD_OK) {
            r->current = NULL;
            fail(r, "module: %s", err.msg);
            return;
        }
        r->current = inst;
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name)
            put_named(r->names, &r->names_count, name, inst);
        pass(r);
    } else if (!strcmp(type, "register")) {
        const char *name = json_string_value(json_object_get(c, "name"));
        mn_wasm_instance *inst =
            name ? find_named(r->names, r->names_count, name, strlen(name)) : r->current;
        if (!inst) {
            fail(r, "register: no instance");
            return;
        }
        put_named(r->registry, &r->registry_count,
                  json_string_value(json_object_get(c, "as")), inst);
        pass(r);
    } else if (!strcmp(type, "action")) {
        mn_wasm_val res[64];
        size_t n;
        if (act(r, json_object_get(c, "action"), res, &n, &err) != ACT_OK)
            fail(r, "action: %s", err.msg);
        else
            pass(r);
    } else if (!strcmp(type, "assert_return")) {
        cmd_assert_return(r, c);
    } else if (!strcmp(type, "assert_trap")) {
        cmd_assert_trap(r, c, false);
    } else if (!strcmp(type, "assert_exhaustion")) {
        cmd_assert_trap(r, c, true);
    } else if (!strcmp(type, "assert_malformed")) {
        cmd_module_fails(r, c, LOAD_MALFORMED, "assert_malformed");
    } else if (!strcmp(type, "assert_invalid")) {
        cmd_module_fails(r, c, LOAD_INVALID, "assert_invalid");
    } else if (!strcmp(type, "assert_unlinkable")) {
        cmd_module_fails(r, c, LOAD_UNLINKABLE, "assert_unlinkable");
    } else if (!strcmp(type, "assert_uninstantiable")) {
        cmd_module_fails(r, c, LOAD_TRAP, "assert_uninstantiable");
    } else {
        fail(r, "unknown command %s", type);
    }
}

/* ---- files ---------------------------------------------------------------------------- */

static void run_file(runner *r, const char *wast_dir, const char *name, const char *scratch)
{
    char cmd[16384], json_path[4096];
    char base[256];
    snprintf(base, sizeof(base), "%.*s", (int)(strlen(name) - 5), name);
    snprintf(json_path, sizeof(json_path), "%s/%s.json", scratch, base);
    snprintf(cmd, sizeof(cmd), "wast2json '%s/%s' -o '%s' 2>&1", wast_dir, name, json_path);
    r->file = name;
    r->line = 0;
    if (system(cmd) != 0) {
        fail(r, "wast2json failed");
        return;
    }
    json_error_t jerr;
    json_t *root = json_load_file(json_path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        fail(r, "cannot read %s: %s", json_path, jerr.text);
        return;
    }
    mn_err err;
    if (mn_wasm_store_new(NULL, &r->store, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    make_spectest(r);
    r->dir = scratch;
    json_t *cmds = json_object_get(root, "commands");
    for (size_t i = 0; i < json_array_size(cmds); i++)
        command(r, json_array_get(cmds, i));
    json_decref(root);
    mn_wasm_store_free(r->store);
    r->store = NULL;
    r->current = NULL;
    for (size_t i = 0; i < r->modules_count; i++)
        mn_wasm_module_free(r->modules[i]);
    r->modules_count = 0;
    for (size_t i = 0; i < r->names_count; i++)
        free(r->names[i].name);
    for (size_t i = 0; i < r->registry_count; i++)
        free(r->registry[i].name);
    r->names_count = r->registry_count = 0;
    snprintf(cmd, sizeof(cmd), "rm -f '%s'/*", scratch);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot clean %s\n", scratch);
}

static void load_known(void)
{
    const char *src = getenv("MN_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/wasm/known_failures.txt", src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    char line[512];
    while (fgets(line, sizeof(line), f) && known_count < MAX_KNOWN) {
        line[strcspn(line, " \t#\r\n")] = '\0';
        if (line[0])
            known[known_count++] = strdup(line);
    }
    fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int wanted(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 5 && strcmp(e->d_name + n - 5, ".wast") == 0 && strncmp(e->d_name, "simd_", 5);
}

int main(int argc, char **argv)
{
    runner r = {0};
    int first = 1;
    r.cfg.metered = true;
    r.cfg.canonical_nans = true;
    if (argc > 1 && !strcmp(argv[1], "--plain")) {
        r.cfg.metered = r.cfg.canonical_nans = false;
        first = 2;
    }
    const char *shared = getenv("MN_SHARED_DIR");
    if (!shared) {
        fprintf(stderr, "MN_SHARED_DIR is not set\n");
        return 1;
    }
    if (system("command -v wast2json >/dev/null") != 0) {
        fprintf(stderr, "wast2json (Debian package wabt) is required\n");
        return 1;
    }
    char wast_dir[4096];
    snprintf(wast_dir, sizeof(wast_dir), "%s/wasm-testsuite", shared);
    load_known();
    char scratch[] = "/tmp/mn-wasm-spec-XXXXXX";
    if (!mkdtemp(scratch)) {
        perror("mkdtemp");
        return 1;
    }
    struct dirent **names;
    int n = scandir(wast_dir, &names, wanted, by_name);
    if (n <= 0) {
        fprintf(stderr, "no .wast files in %s\n", wast_dir);
        return 1;
    }
    long files = 0;
    for (int i = 0; i < n; i++) {
        bool selected = argc <= first;
        for (int k = first; k < argc; k++)
            selected |= !strcmp(argv[k], names[i]->d_name);
        if (selected) {
            long p = r.passed, f = r.failed, s = r.skipped, k = r.known;
            run_file(&r, wast_dir, names[i]->d_name, scratch);
            printf("%-32s %6ld passed, %4ld failed, %4ld skipped, %4ld known\n",
                   names[i]->d_name, r.passed - p, r.failed - f, r.skipped - s, r.known - k);
            fflush(stdout);
            files++;
        }
        free(names[i]);
    }
    free(names);
    rmdir(scratch);
    for (size_t i = 0; i < known_count && argc <= first; i++)
        if (!known_hit[i])
            printf("note: known failure %s now passes; remove it from known_failures.txt\n",
                   known[i]);
    printf("%ld files: %ld passed, %ld failed, %ld skipped (text-format assert_malformed), "
           "%ld known failures; %ld malformed/invalid rejections came from the other stage\n",
           files, r.passed, r.failed, r.skipped, r.known, r.other_stage);
    printf("%ld passed, %ld failed, %ld skipped\n", r.passed, r.failed + r.known, r.skipped);
    if (files == 0)
        return 1;
    return r.failed ? 1 : 0;
}
