/* SPDX-License-Identifier: Apache-2.0
 *
 * cmd_wasm.c: `metanode wasm validate` and `metanode wasm run`, for policy authors. Modules
 * are loaded in policy mode by default (fuel metering, canonical NaNs), exactly as validators
 * run them, so the fuel printed is the fuel a policy will be charged. The module may import
 * nothing: the policy host functions are provided by the court, not by this tool. Arguments
 * are parsed by the exported function's parameter types; floats may be given as decimals or as
 * raw IEEE bits (0x...), and results are printed both ways.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "metanode/bytes.h"
#include "metanode/limits.h"
#include "metanode/wasm.h"

#define WASM_FILE_BYTES_MAX (64u * 1024u * 1024u)
#define WASM_CLI_VALUES_MAX 64u

static const char *type_name(mn_wasm_type t)
{
    switch (t) {
    case MN_WASM_I32: return "i32";
    case MN_WASM_I64: return "i64";
    case MN_WASM_F32: return "f32";
    case MN_WASM_F64: return "f64";
    case MN_WASM_FUNCREF: return "funcref";
    case MN_WASM_EXTERNREF: return "externref";
    }
    return "?";
}

static const char *extern_name(mn_wasm_extern_kind k)
{
    static const char *const names[] = {"func", "table", "memory", "global"};
    return (unsigned)k <= MN_WASM_EXTERN_GLOBAL ? names[k] : "?";
}

/* Reads and loads a module; MN_ECORRUPT / MN_EINVAL describe why a module is not valid. */
static int load(const char *path, bool plain, mn_wasm_module **mod, mn_err *err)
{
    uint8_t *bytes;
    size_t len;
    int rc = mn_file_read(path, WASM_FILE_BYTES_MAX, &bytes, &len, err);
    if (rc != 0)
        return rc;
    mn_wasm_config cfg = {.metered = !plain, .canonical_nans = !plain};
    rc = mn_wasm_module_load(bytes, len, &cfg, mod, err);
    free(bytes);
    return rc;
}

static json_t *names_json(const mn_wasm_module *mod, bool imports)
{
    json_t *arr = json_array();
    uint32_t n = imports ? mn_wasm_module_imports_count(mod) : mn_wasm_module_exports_count(mod);
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *module = NULL, *name;
        uint32_t module_len = 0, name_len;
        mn_wasm_extern_kind kind;
        if (imports)
            mn_wasm_module_import(mod, i, &module, &module_len, &name, &name_len, &kind);
        else
            mn_wasm_module_export(mod, i, &name, &name_len, &kind);
        json_t *o = json_pack("{s:s%, s:s}", "name", (const char *)name, (size_t)name_len,
                              "kind", extern_name(kind));
        if (imports)
            json_object_set_new(o, "module", json_stringn((const char *)module, module_len));
        json_array_append_new(arr, o);
    }
    return arr;
}

static const char validate_help[] =
    "usage: metanode wasm validate FILE.wasm [--json]\n"
    "Decodes and validates a WebAssembly 2.0 module (no SIMD) as a validator would load a\n"
    "policy. Exit 0 valid (lists imports and exports), 1 invalid (says why), 3 unreadable.\n";

static int wasm_validate(int argc, char **argv)
{
    bool json;
    const char *file;
    int rc = cli_parse_one_file("wasm validate", validate_help, argc, argv, &json, &file);
    if (rc >= 0)
        return rc;
    mn_wasm_module *mod = NULL;
    mn_err err;
    rc = load(file, false, &mod, &err);
    bool invalid = rc == -MN_ECORRUPT || rc == -MN_EINVAL || rc == -MN_EUNSUPPORTED ||
                   rc == -MN_ELIMIT;
    if (rc != 0 && !invalid)
        return cli_fail("wasm validate", &err);
    if (json) {
        json_t *doc = json_pack("{s:s, s:b}", "file", file, "valid", rc == 0);
        if (rc == 0) {
            json_object_set_new(doc, "imports", names_json(mod, true));
            json_object_set_new(doc, "exports", names_json(mod, false));
        } else {
            json_object_set_new(doc, "reason", json_string(err.msg));
        }
        cli_print_json(doc);
    } else if (rc == 0) {
        printf("%s: valid (%u imports, %u exports)\n", file,
               mn_wasm_module_imports_count(mod), mn_wasm_module_exports_count(mod));
    } else {
        printf("%s: INVALID: %s\n", file, err.msg);
    }
    mn_wasm_module_free(mod);
    return rc == 0 ? CLI_OK : CLI_INVALID;
}

/* Parses one argument of the given type; floats accept decimals or raw bits "0x...". */
static int parse_value(const char *text, mn_wasm_type type, mn_wasm_val *out)
{
    char *end;
    errno = 0;
    out->type = type;
    bool bits = strncmp(text, "0x", 2) == 0 || strncmp(text, "0X", 2) == 0;
    switch (type) {
    case MN_WASM_I32:
    case MN_WASM_I64: {
        bool neg = text[0] == '-';
        /* decimal, or hex with 0x; never octal, so "010" means ten */
        int base = strncmp(text + neg, "0x", 2) == 0 || strncmp(text + neg, "0X", 2) == 0 ? 16 : 10;
        uint64_t v = neg ? (uint64_t)strtoll(text, &end, base) : strtoull(text, &end, base);
        if (type == MN_WASM_I32 && (neg ? (int64_t)v < INT32_MIN : v > UINT32_MAX))
            return -1;
        if (type == MN_WASM_I32)
            out->of.i32 = (uint32_t)v;
        else
            out->of.i64 = v;
        break;
    }
    case MN_WASM_F32:
        if (bits) {
            uint64_t v = strtoull(text, &end, 16);
            if (v > UINT32_MAX)
                return -1;
            out->of.f32_bits = (uint32_t)v;
        } else {
            float f = strtof(text, &end);
            memcpy(&out->of.f32_bits, &f, 4);
        }
        break;
    case MN_WASM_F64:
        if (bits) {
            out->of.f64_bits = strtoull(text, &end, 16);
        } else {
            double d = strtod(text, &end);
            memcpy(&out->of.f64_bits, &d, 8);
        }
        break;
    default:
        return -1; /* references cannot be written on a command line */
    }
    return errno != 0 || *end != '\0' || end == text ? -1 : 0;
}

static json_t *value_json(const mn_wasm_val *v)
{
    char text[64];
    float f;
    double d;
    switch (v->type) {
    case MN_WASM_I32:
        snprintf(text, sizeof(text), "%" PRId32, (int32_t)v->of.i32);
        break;
    case MN_WASM_I64:
        snprintf(text, sizeof(text), "%" PRId64, (int64_t)v->of.i64);
        break;
    case MN_WASM_F32:
        memcpy(&f, &v->of.f32_bits, 4);
        snprintf(text, sizeof(text), "%.9g (0x%08" PRIx32 ")", (double)f, v->of.f32_bits);
        break;
    case MN_WASM_F64:
        memcpy(&d, &v->of.f64_bits, 8);
        snprintf(text, sizeof(text), "%.17g (0x%016" PRIx64 ")", d, v->of.f64_bits);
        break;
    default:
        snprintf(text, sizeof(text), "%s", v->of.ref == 0 ? "null" : "ref");
        break;
    }
    return json_pack("{s:s, s:s}", "type", type_name(v->type), "value", text);
}

typedef struct run_args {
    const char *file, *invoke;
    const char *args[WASM_CLI_VALUES_MAX];
    uint32_t args_count;
    uint64_t fuel, max_pages;
    bool json, plain, have_fuel;
} run_args;

static const char run_help[] =
    "usage: metanode wasm run FILE.wasm --invoke NAME [ARG...] [--fuel N] [--max-pages N]\n"
    "                         [--plain] [--json]\n"
    "Instantiates the module (it may import nothing) and calls the exported function NAME\n"
    "with the arguments, parsed by its parameter types (floats as decimals or raw bits 0x...;\n"
    "negative numbers are arguments, not options). Runs in policy mode (fuel metering,\n"
    "canonical NaNs) unless --plain. Prints the results and the fuel used, or the trap.\n"
    "Exit 0 returned, 1 trapped, 3 invalid module or arguments.\n";

/* By hand rather than getopt: arguments such as -5 must stay positional. Returns -1 to go on,
 * or an exit code. */
static int parse_run(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
            return fputs(run_help, stdout), CLI_OK;
        else if (strcmp(o, "--json") == 0)
            a->json = true;
        else if (strcmp(o, "--plain") == 0)
            a->plain = true;
        else if (strcmp(o, "--invoke") == 0 && has_value)
            a->invoke = argv[++i];
        else if (strcmp(o, "--fuel") == 0 && has_value && cli_parse_u64(argv[i + 1], &a->fuel) == 0)
            a->have_fuel = true, i++;
        else if (strcmp(o, "--max-pages") == 0 && has_value &&
                 cli_parse_u64(argv[i + 1], &a->max_pages) == 0 && a->max_pages <= 65536)
            i++;
        else if (strncmp(o, "--", 2) == 0)
            return cli_usage_error("wasm run", "bad option or value \"%s\"", o);
        else if (a->file == NULL)
            a->file = o;
        else if (a->args_count < WASM_CLI_VALUES_MAX)
            a->args[a->args_count++] = o;
        else
            return cli_usage_error("wasm run", "more than %u arguments", WASM_CLI_VALUES_MAX);
    }
    if (a->file == NULL || a->invoke == NULL)
        return cli_usage_error("wasm run", "FILE.wasm and --invoke NAME are required");
    return -1;
}

/* Instantiates and finds the export; fills *func. */
static int prepare(const run_args *a, mn_wasm_module *mod, mn_wasm_store **store,
                   mn_wasm_func **func, mn_err *err)
{
    if (mn_wasm_module_imports_count(mod) != 0)
        return mn_err_set(err, MN_EUNSUPPORTED, 0,
                          "the module has %u imports; `wasm run` provides none",
                          mn_wasm_module_imports_count(mod));
    mn_wasm_limits limits = {.memory_pages_max = (uint32_t)a->max_pages};
    int rc = mn_wasm_store_new(&limits, store, err);
    if (rc != 0)
        return rc;
    if (a->have_fuel)
        mn_wasm_store_set_fuel(*store, a->fuel);
    mn_wasm_instance *inst;
    mn_wasm_extern ext;
    if ((rc = mn_wasm_instantiate(*store, mod, NULL, 0, &inst, err)) != 0 ||
        (rc = mn_wasm_instance_export(inst, (const uint8_t *)a->invoke, strlen(a->invoke), &ext,
                                      err)) != 0)
        return rc;
    if (ext.kind != MN_WASM_EXTERN_FUNC)
        return mn_err_set(err, MN_EINVAL, 0, "export \"%s\" is a %s, not a function", a->invoke,
                          extern_name(ext.kind));
    *func = ext.of.func;
    return 0;
}

static int parse_args(const run_args *a, const mn_wasm_func *func, mn_wasm_val *vals,
                      uint32_t *results_count, mn_err *err)
{
    static mn_wasm_type params[MN_WASM_FUNC_PARAMS_MAX];
    uint32_t params_count;
    mn_wasm_func_type(func, &params_count, results_count, params, NULL);
    if (params_count != a->args_count)
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" takes %u arguments, %u given", a->invoke,
                          params_count, a->args_count);
    if (*results_count > WASM_CLI_VALUES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "\"%s\" returns %u values, at most %u shown",
                          a->invoke, *results_count, WASM_CLI_VALUES_MAX);
    for (uint32_t i = 0; i < params_count; i++)
        if (parse_value(a->args[i], params[i], &vals[i]) != 0)
            return mn_err_set(err, MN_EINVAL, 0, "argument %u \"%s\" is not a valid %s", i + 1,
                              a->args[i], type_name(params[i]));
    return 0;
}

static void report(const run_args *a, const mn_wasm_val *results, uint32_t n, uint64_t fuel,
                   const char *trap)
{
    json_t *doc = json_pack("{s:s, s:s, s:s}", "file", a->file, "invoke", a->invoke, "mode",
                            a->plain ? "plain" : "policy");
    json_t *arr = json_array();
    for (uint32_t i = 0; trap == NULL && i < n; i++)
        json_array_append_new(arr, value_json(&results[i]));
    json_object_set_new(doc, "results", arr);
    json_object_set_new(doc, "fuel_used", json_integer((json_int_t)fuel));
    json_object_set_new(doc, "trap", trap != NULL ? json_string(trap) : json_null());
    if (a->json) {
        cli_print_json(doc);
        return;
    }
    if (trap != NULL)
        printf("trap: %s\n", trap);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        printf("%s:%s\n", json_string_value(json_object_get(v, "type")),
               json_string_value(json_object_get(v, "value")));
    if (!a->plain)
        printf("fuel used: %llu\n", (unsigned long long)fuel);
    json_decref(doc);
}

static int wasm_run(int argc, char **argv)
{
    run_args a;
    int rc = parse_run(argc, argv, &a);
    if (rc >= 0)
        return rc;
    mn_wasm_module *mod = NULL;
    mn_wasm_store *store = NULL;
    mn_wasm_func *func = NULL;
    mn_wasm_val args[WASM_CLI_VALUES_MAX], results[WASM_CLI_VALUES_MAX];
    uint32_t results_count = 0;
    mn_err err;
    rc = load(a.file, a.plain, &mod, &err);
    if (rc == 0)
        rc = prepare(&a, mod, &store, &func, &err);
    if (rc == 0)
        rc = parse_args(&a, func, args, &results_count, &err);
    if (rc != 0) {
        mn_wasm_store_free(store);
        mn_wasm_module_free(mod);
        /* a start function that traps is a trap like any other */
        return rc == -MN_ETRAP ? (fprintf(stderr, "metanode wasm run: trap: %s\n", err.msg),
                                  CLI_INVALID)
                               : cli_fail("wasm run", &err);
    }
    uint64_t before = mn_wasm_store_fuel(store);
    rc = mn_wasm_func_call(store, func, args, a.args_count, results, WASM_CLI_VALUES_MAX, &err);
    uint64_t used = before - mn_wasm_store_fuel(store);
    if (rc == 0 || rc == -MN_ETRAP)
        report(&a, results, results_count, used, rc == 0 ? NULL : err.msg);
    int code = rc == 0 ? CLI_OK : rc == -MN_ETRAP ? CLI_INVALID : cli_fail("wasm run", &err);
    mn_wasm_store_free(store);
    mn_wasm_module_free(mod);
    return code;
}

int cmd_wasm(int argc, char **argv)
{
    static const cli_verb verbs[] = {
        {"validate", "check a module (exit 0 valid, 1 invalid)", wasm_validate},
        {"run", "call an exported function with fuel metering", wasm_run},
    };
    return cli_dispatch("wasm", verbs, 2, argc, argv);
}
