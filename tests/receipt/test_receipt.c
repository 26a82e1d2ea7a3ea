/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of receipts: round trip, signature coverage (every byte), strict decoding (unknown,
 * missing, reordered fields, wrong types, trailing bytes), what the core hash covers, the JSON
 * view, and a pinned encoding (tests/receipt/receipt_v1.hex) so the format cannot drift.
 */
#include <stdlib.h>

#include "metanode/bytes.h"
#include "metanode/cbor.h"
#include "metanode/hash.h"
#include "metanode/receipt.h"
#include "metanode/receipt_json.h"
#include "mn_test.h"

static void fill(mn_receipt *r, mn_keypair *kp)
{
    uint8_t seed[32];
    mn_sha256(seed, "receipt test key", 16);
    mn_keypair_from_seed(kp, seed);
    mn_receipt_init(r);
    mn_receipt_core *c = &r->core;
    mn_sha256(c->job_id, "job", 3);
    c->replica = 2;
    mn_node_id(c->node_id, kp->pk);
    mn_sha256(c->program_digest, "prog", 4);
    mn_sha256(c->config_digest, "conf", 4);
    mn_sha256(c->seed_commitment, "seed", 4);
    c->has_agreement = true;
    mn_sha256(c->agreement_id, "agreement", 9);
    c->policy_count = 2;
    mn_sha256(c->policy_ids[0], "p0", 2);
    mn_sha256(c->policy_ids[1], "p1", 2);
    c->start_height = 1234567;
    mn_sha256(c->witness_root, "w", 1);
    c->witness_count = 99;
    mn_sha256(c->stdout_root, "o", 1);
    mn_sha256(c->stderr_root, "e", 1);
    mn_sha256(c->fsdiff_root, "f", 1);
    c->exit_kind = MN_EXIT_SIGNAL;
    c->exit_code = -9;
    c->logical_time_ns = UINT64_MAX;
    c->syscalls = 4242;
    c->policy_fuel = 1000;
    c->taints = MN_TAINT_RDRAND;
    r->measured.wall_ns = 5;
    r->measured.cpu_ns = 6;
    r->measured.peak_memory_bytes = 7;
    r->verdict_count = 2;
    memcpy(r->verdicts[0].policy_id, c->policy_ids[0], 32);
    r->verdicts[0].verdict = MN_VERDICT_COMPLY;
    r->verdicts[0].fuel = 600;
    memcpy(r->verdicts[1].policy_id, c->policy_ids[1], 32);
    r->verdicts[1].verdict = MN_VERDICT_VIOLATION;
    r->verdicts[1].fuel = 400;
}

static mn_buf encode_signed(mn_receipt *r, mn_keypair *kp)
{
    mn_err err;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    ASSERT_OK(mn_receipt_sign(r, kp, &err), &err);
    ASSERT_OK(mn_receipt_encode(r, &buf, &err), &err);
    return buf;
}

static void round_trip(void)
{
    mn_receipt r, back;
    mn_keypair kp;
    mn_err err;
    fill(&r, &kp);
    mn_buf buf = encode_signed(&r, &kp);
    ASSERT_OK(mn_receipt_decode(buf.data, buf.len, kp.pk, &back, &err), &err);
    mn_buf again;
    mn_buf_init(&again, 0);
    ASSERT_OK(mn_receipt_encode(&back, &again, &err), &err);
    ASSERT_EQ(again.len, buf.len);
    ASSERT_MEM_EQ(again.data, buf.data, buf.len);
    ASSERT_U64_EQ(back.core.logical_time_ns, UINT64_MAX);
    ASSERT_EQ(back.core.exit_code, -9);
    ASSERT_EQ(back.verdicts[1].verdict, MN_VERDICT_VIOLATION);
    ASSERT_TRUE(back.core.has_agreement);
    /* without an agreement the field is null */
    r.core.has_agreement = false;
    mn_buf nb = encode_signed(&r, &kp);
    ASSERT_OK(mn_receipt_decode(nb.data, nb.len, NULL, &back, &err), &err);
    ASSERT_FALSE(back.core.has_agreement);
    mn_buf_deinit(&nb);
    mn_buf_deinit(&again);
    mn_buf_deinit(&buf);
}

static void every_byte_is_covered(void)
{
    mn_receipt r, back;
    mn_keypair kp;
    mn_err err;
    fill(&r, &kp);
    mn_buf buf = encode_signed(&r, &kp);
    for (size_t i = 0; i < buf.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf.data[i] ^= (uint8_t)(1u << bit);
            int rc = mn_receipt_decode(buf.data, buf.len, NULL, &back, &err);
            if (rc != -MN_ECORRUPT && rc != -MN_ECRYPTO && rc != -MN_ELIMIT &&
                rc != -MN_EUNSUPPORTED)
                mn_test_fail(__FILE__, __LINE__, "flip at byte %zu bit %d: rc %d", i, bit, rc);
            buf.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    ASSERT_OK(mn_receipt_decode(buf.data, buf.len, NULL, &back, &err), &err);
    mn_buf_deinit(&buf);
}

static void signer_and_trailing_bytes(void)
{
    mn_receipt r, back;
    mn_keypair kp, other;
    mn_err err;
    fill(&r, &kp);
    mn_keypair_generate(&other);
    mn_buf buf = encode_signed(&r, &kp);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len, other.pk, &back, &err), -MN_ECRYPTO);
    uint8_t zero = 0;
    mn_err e2;
    ASSERT_OK(mn_buf_append(&buf, &zero, 1, &e2), &e2);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len, NULL, &back, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len - 2, NULL, &back, &err), -MN_ECORRUPT);
    ASSERT_EQ(mn_receipt_decode(buf.data, 0, NULL, &back, &err), -MN_ECORRUPT);
    /* a re-signed receipt by another key verifies, but not as the expected signer */
    ASSERT_OK(mn_receipt_sign(&r, &other, &err), &err);
    ASSERT_OK(mn_receipt_verify(&r, &err), &err);
    r.core.syscalls++;
    ASSERT_EQ(mn_receipt_verify(&r, &err), -MN_ECRYPTO);
    mn_buf_deinit(&buf);
}

/* A map {1: 1, <key>: <uint>} shaped like a receipt start, to probe field checks. */
static void rejects_unknown_and_mistyped_fields(void)
{
    mn_err err;
    mn_receipt back;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    mn_cbor_enc e;
    /* 7 fields: an unknown key 7 after a plausible signature */
    mn_cbor_enc_init(&e, &buf);
    mn_cbor_put_map(&e, 7);
    mn_cbor_put_key(&e, 1), mn_cbor_put_uint(&e, 1);
    for (int k = 2; k <= 7; k++)
        mn_cbor_put_key(&e, k), mn_cbor_put_uint(&e, 0);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len, NULL, &back, &err), -MN_ECORRUPT);
    ASSERT_TRUE(strstr(err.msg, "fields") != NULL);
    /* version as a byte string */
    buf.len = 0;
    mn_cbor_enc_init(&e, &buf);
    mn_cbor_put_map(&e, 6);
    mn_cbor_put_key(&e, 1), mn_cbor_put_bytes(&e, "x", 1);
    for (int k = 2; k <= 6; k++)
        mn_cbor_put_key(&e, k), mn_cbor_put_uint(&e, 0);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len, NULL, &back, &err), -MN_ECORRUPT);
    /* version 2 */
    buf.len = 0;
    mn_cbor_enc_init(&e, &buf);
    mn_cbor_put_map(&e, 6);
    mn_cbor_put_key(&e, 1), mn_cbor_put_uint(&e, 2);
    for (int k = 2; k <= 6; k++)
        mn_cbor_put_key(&e, k), mn_cbor_put_uint(&e, 0);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len, NULL, &back, &err), -MN_EUNSUPPORTED);
    /* the core as an array */
    buf.len = 0;
    mn_cbor_enc_init(&e, &buf);
    mn_cbor_put_map(&e, 6);
    mn_cbor_put_key(&e, 1), mn_cbor_put_uint(&e, 1);
    mn_cbor_put_key(&e, 2), mn_cbor_put_array(&e, 0);
    for (int k = 3; k <= 6; k++)
        mn_cbor_put_key(&e, k), mn_cbor_put_uint(&e, 0);
    ASSERT_OK(mn_cbor_enc_finish(&e, &err), &err);
    ASSERT_EQ(mn_receipt_decode(buf.data, buf.len, NULL, &back, &err), -MN_ECORRUPT);
    mn_buf_deinit(&buf);
}

static void core_hash_covers_only_the_core(void)
{
    mn_receipt r;
    mn_keypair kp;
    mn_err err;
    uint8_t h1[32], h2[32], id1[32], id2[32];
    fill(&r, &kp);
    ASSERT_OK(mn_receipt_core_hash(&r, h1, &err), &err);
    ASSERT_OK(mn_receipt_id(&r, id1, &err), &err);
    r.measured.wall_ns += 1000;
    r.verdicts[0].fuel++;
    ASSERT_OK(mn_receipt_core_hash(&r, h2, &err), &err);
    ASSERT_OK(mn_receipt_id(&r, id2, &err), &err);
    ASSERT_MEM_EQ(h1, h2, 32);
    ASSERT_TRUE(memcmp(id1, id2, 32) != 0);
    r.core.witness_root[5] ^= 1;
    ASSERT_OK(mn_receipt_core_hash(&r, h2, &err), &err);
    ASSERT_TRUE(memcmp(h1, h2, 32) != 0);
}

static void out_of_range_values_refused(void)
{
    mn_receipt r;
    mn_keypair kp;
    mn_err err;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    fill(&r, &kp);
    r.core.taints = 1u << 20;
    ASSERT_EQ(mn_receipt_sign(&r, &kp, &err), -MN_EINVAL);
    r.core.taints = 0;
    r.core.policy_count = MN_RECEIPT_POLICIES_MAX + 1;
    ASSERT_EQ(mn_receipt_encode(&r, &buf, &err), -MN_ELIMIT);
    r.core.policy_count = 0;
    r.core.exit_kind = MN_EXIT_KIND_COUNT;
    ASSERT_EQ(mn_receipt_encode(&r, &buf, &err), -MN_EINVAL);
    mn_buf_deinit(&buf);
}

static void json_view(void)
{
    mn_receipt r;
    mn_keypair kp;
    mn_err err;
    fill(&r, &kp);
    ASSERT_OK(mn_receipt_sign(&r, &kp, &err), &err);
    json_t *doc = mn_receipt_to_json(&r);
    ASSERT_TRUE(doc != NULL);
    json_t *core = json_object_get(doc, "core");
    ASSERT_EQ(json_integer_value(json_object_get(core, "replica")), 2);
    /* above INT64_MAX: shown exactly, as a decimal string */
    ASSERT_STR_EQ(json_string_value(json_object_get(core, "logical_time_ns")),
                  "18446744073709551615");
    ASSERT_STR_EQ(json_string_value(json_object_get(json_object_get(core, "exit"), "kind")),
                  "signaled");
    ASSERT_EQ(strlen(json_string_value(json_object_get(doc, "core_hash"))), 64);
    ASSERT_EQ(json_array_size(json_object_get(doc, "verdicts")), 2);
    json_decref(doc);
}

/* The encoding of fill()'s receipt is pinned: a change to the format must be deliberate (bump
 * the version and regenerate with MN_RECEIPT_REGEN=1). */
static void pinned_encoding(void)
{
    mn_receipt r;
    mn_keypair kp;
    fill(&r, &kp);
    mn_buf buf = encode_signed(&r, &kp);
    char *hex = malloc(2 * buf.len + 1);
    mn_hex_encode(hex, buf.data, buf.len);
    const char *path = mn_test_source_path("tests/receipt/receipt_v1.hex");
    mn_err err;
    if (getenv("MN_RECEIPT_REGEN") != NULL)
        ASSERT_OK(mn_file_write(path, hex, strlen(hex), 0644, true, &err), &err);
    uint8_t *want;
    size_t want_len;
    ASSERT_OK(mn_file_read(path, 0, &want, &want_len, &err), &err);
    while (want_len > 0 && (want[want_len - 1] == '\n'))
        want[--want_len] = '\0';
    ASSERT_STR_EQ(hex, (const char *)want);
    free(want);
    free(hex);
    mn_buf_deinit(&buf);
}

MN_TEST_MAIN("receipt", MN_TEST(round_trip), MN_TEST(every_byte_is_covered),
             MN_TEST(signer_and_trailing_bytes), MN_TEST(rejects_unknown_and_mistyped_fields),
             MN_TEST(core_hash_covers_only_the_core), MN_TEST(out_of_range_values_refused),
             MN_TEST(json_view), MN_TEST(pinned_encoding))
