/* SPDX-License-Identifier: Apache-2.0
 *
 * receipt_json.c: builds the JSON view of a receipt with jansson. Read-only: there is no JSON
 * to receipt direction, because receipts are only ever decoded from their canonical bytes.
 * Unsigned 64-bit values above INT64_MAX (which jansson cannot hold as integers) are shown as
 * decimal strings, so no value is ever shown wrong.
 */
#include "metanode/receipt_json.h"

#include <inttypes.h>
#include <stdio.h>

#include "metanode/bytes.h"

static json_t *hex32(const uint8_t b[32])
{
    char hex[65];
    mn_hex_encode(hex, b, 32);
    return json_string(hex);
}

static json_t *u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    char text[24];
    snprintf(text, sizeof(text), "%" PRIu64, v);
    return json_string(text);
}

static void put(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value);
}

static json_t *core_json(const mn_receipt_core *c)
{
    json_t *o = json_object();
    put(o, "job_id", hex32(c->job_id));
    put(o, "replica", u64(c->replica));
    put(o, "node_id", hex32(c->node_id));
    put(o, "program_digest", hex32(c->program_digest));
    put(o, "config_digest", hex32(c->config_digest));
    put(o, "seed_commitment", hex32(c->seed_commitment));
    put(o, "agreement_id", c->has_agreement ? hex32(c->agreement_id) : json_null());
    json_t *policies = json_array();
    for (uint32_t i = 0; i < c->policy_count; i++)
        json_array_append_new(policies, hex32(c->policy_ids[i]));
    put(o, "policy_ids", policies);
    put(o, "start_height", u64(c->start_height));
    put(o, "witness_root", hex32(c->witness_root));
    put(o, "witness_count", u64(c->witness_count));
    put(o, "stdout_root", hex32(c->stdout_root));
    put(o, "stderr_root", hex32(c->stderr_root));
    put(o, "fsdiff_root", hex32(c->fsdiff_root));
    json_t *exit = json_object();
    put(exit, "kind", json_string(mn_exit_kind_name(c->exit_kind)));
    put(exit, "code", json_integer((json_int_t)c->exit_code));
    put(o, "exit", exit);
    put(o, "logical_time_ns", u64(c->logical_time_ns));
    put(o, "syscalls", u64(c->syscalls));
    put(o, "policy_fuel", u64(c->policy_fuel));
    put(o, "taints", u64(c->taints));
    return o;
}

json_t *mn_receipt_to_json(const mn_receipt *r)
{
    json_t *doc = json_object();
    if (doc == NULL)
        return NULL;
    put(doc, "version", u64(r->version));
    put(doc, "core", core_json(&r->core));
    json_t *m = json_object();
    put(m, "wall_ns", u64(r->measured.wall_ns));
    put(m, "cpu_ns", u64(r->measured.cpu_ns));
    put(m, "peak_memory_bytes", u64(r->measured.peak_memory_bytes));
    put(doc, "measured", m);
    json_t *verdicts = json_array();
    for (uint32_t i = 0; i < r->verdict_count; i++) {
        const mn_receipt_verdict *v = &r->verdicts[i];
        json_t *o = json_object();
        put(o, "policy_id", hex32(v->policy_id));
        put(o, "verdict", json_string(mn_verdict_name(v->verdict)));
        put(o, "fuel", u64(v->fuel));
        json_array_append_new(verdicts, o);
    }
    put(doc, "verdicts", verdicts);
    put(doc, "signer", hex32(r->signer));
    char sig[129];
    mn_hex_encode(sig, r->signature, 64);
    put(doc, "signature", json_string(sig));
    uint8_t h[32];
    if (mn_receipt_core_hash(r, h, NULL) == 0)
        put(doc, "core_hash", hex32(h));
    if (mn_receipt_id(r, h, NULL) == 0)
        put(doc, "receipt_id", hex32(h));
    return doc;
}
