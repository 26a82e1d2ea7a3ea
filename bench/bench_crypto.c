/* SPDX-License-Identifier: Apache-2.0
 *
 * bench_crypto.c: speed of the cryptographic building blocks, measured in one run so that
 * ratios between them are meaningful on whatever machine runs it. The program is a list of
 * sections (Ed25519 as the reference point, the RFC 9381 VRF, Merkle appends, CBOR receipts); each
 * section appends its cases, then every case is timed with bench_util.h and printed as a table,
 * or as JSON with --json. The "x ed25519 verify" column divides by libsodium's
 * crypto_sign_verify_detached from the same run. Not a test: nothing here fails on slowness.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bench_util.h"
#include "metanode/merkle.h"
#include "metanode/receipt.h"
#include "metanode/vrf.h"

#define CASES_MAX 32

static volatile int sink; /* keeps results observable so nothing is optimised away */

/* ---- section: ed25519 (libsodium; the baseline) ------------------------------------------- */

static struct {
    uint8_t pk[32], sk[64], sig[64], msg[64];
} ed;

static void ed_sign(void *ctx)
{
    (void)ctx;
    sink += crypto_sign_detached(ed.sig, NULL, ed.msg, sizeof(ed.msg), ed.sk);
}

static void ed_verify(void *ctx)
{
    (void)ctx;
    sink += crypto_sign_verify_detached(ed.sig, ed.msg, sizeof(ed.msg), ed.pk);
}

static size_t section_ed25519(bench_case *out)
{
    uint8_t seed[32] = {1};
    memset(ed.msg, 0x5a, sizeof(ed.msg));
    if (crypto_sign_seed_keypair(ed.pk, ed.sk, seed) != 0 ||
        crypto_sign_detached(ed.sig, NULL, ed.msg, sizeof(ed.msg), ed.sk) != 0)
        abort();
    out[0] = (bench_case){"ed25519", "sign (64 B)", ed_sign, NULL, 0, 0};
    out[1] = (bench_case){"ed25519", "verify (64 B)", ed_verify, NULL, 0, 0};
    return 2;
}

/* ---- section: vrf (RFC 9381) --------------------------------------------------------------- */

typedef struct vrf_ctx {
    enum mn_vrf_suite suite;
    uint8_t pk[32], sk[64], proof[80], beta[64], alpha[32];
} vrf_ctx;

static vrf_ctx vrf_tai = {.suite = MN_VRF_SUITE_TAI};
static vrf_ctx vrf_ell2 = {.suite = MN_VRF_SUITE_ELL2};

static void vrf_prove(void *ctx)
{
    vrf_ctx *v = ctx;
    v->alpha[0]++; /* a fresh alpha each time: TAI's counter search varies with it */
    sink += mn_vrf_prove(v->proof, v->sk, v->alpha, sizeof(v->alpha), v->suite);
}

static void vrf_verify(void *ctx)
{
    vrf_ctx *v = ctx;
    sink += mn_vrf_verify(v->beta, v->pk, v->proof, v->alpha, sizeof(v->alpha), v->suite);
}

static void vrf_proof_to_hash(void *ctx)
{
    vrf_ctx *v = ctx;
    sink += mn_vrf_proof_to_hash(v->beta, v->proof, v->suite);
}

static void vrf_setup(vrf_ctx *v)
{
    uint8_t seed[32] = {2};
    memset(v->alpha, 0x33, sizeof(v->alpha)); /* seed || round sized */
    if (mn_vrf_keypair_from_seed(v->pk, v->sk, seed) != 0 ||
        mn_vrf_prove(v->proof, v->sk, v->alpha, sizeof(v->alpha), v->suite) != 0 ||
        mn_vrf_verify(v->beta, v->pk, v->proof, v->alpha, sizeof(v->alpha), v->suite) != 0)
        abort();
}

static size_t section_vrf(bench_case *out)
{
    vrf_setup(&vrf_tai);
    vrf_setup(&vrf_ell2);
    out[0] = (bench_case){"vrf", "prove tai (32 B alpha)", vrf_prove, &vrf_tai, 0, 0};
    out[1] = (bench_case){"vrf", "verify tai", vrf_verify, &vrf_tai, 0, 0};
    out[2] = (bench_case){"vrf", "prove ell2 (32 B alpha)", vrf_prove, &vrf_ell2, 0, 0};
    out[3] = (bench_case){"vrf", "verify ell2", vrf_verify, &vrf_ell2, 0, 0};
    out[4] = (bench_case){"vrf", "proof_to_hash", vrf_proof_to_hash, &vrf_ell2, 0, 0};
    return 5;
}

/* ---- section: merkle (RFC 9162 incremental builder) ------------------------------------- */

static struct {
    mn_merkle_builder builder;
    uint8_t leaf_hash[32];
    uint8_t record[64];
} mk;

static void merkle_append_hash(void *ctx)
{
    (void)ctx;
    mk.leaf_hash[0]++;
    mn_merkle_builder_append_hash(&mk.builder, mk.leaf_hash);
}

static void merkle_append_record(void *ctx)
{
    (void)ctx;
    mk.record[0]++;
    mn_merkle_builder_append(&mk.builder, mk.record, sizeof(mk.record));
}

static size_t section_merkle(bench_case *out)
{
    mn_merkle_builder_init(&mk.builder);
    out[0] = (bench_case){"merkle", "append leaf hash", merkle_append_hash, NULL, 0, 0};
    out[1] = (bench_case){"merkle", "append 64 B record", merkle_append_record, NULL, 0, 0};
    return 2;
}

/* ---- section: cbor (a signed receipt through the canonical codec) ------------------------ */

static struct {
    mn_receipt receipt;
    mn_buf buf;
    uint8_t encoded[MN_RECEIPT_BYTES_MAX];
    size_t encoded_len;
} rc_bench;

static void receipt_encode(void *ctx)
{
    (void)ctx;
    rc_bench.buf.len = 0;
    sink += mn_receipt_encode(&rc_bench.receipt, &rc_bench.buf, NULL);
}

static void receipt_parse(void *ctx)
{
    (void)ctx;
    mn_receipt r;
    sink += mn_receipt_parse(rc_bench.encoded, rc_bench.encoded_len, &r, NULL);
}

static void receipt_decode_verify(void *ctx)
{
    (void)ctx;
    mn_receipt r;
    sink += mn_receipt_decode(rc_bench.encoded, rc_bench.encoded_len, NULL, &r, NULL);
}

/* A receipt with two policies and two verdicts, every digest filled: a realistic size. */
static size_t section_cbor(bench_case *out)
{
    mn_keypair kp;
    uint8_t seed[32] = {7};
    mn_keypair_from_seed(&kp, seed);
    mn_receipt *r = &rc_bench.receipt;
    mn_receipt_init(r);
    memset(&r->core, 0xab, offsetof(mn_receipt_core, has_agreement));
    r->core.has_agreement = true;
    r->core.policy_count = 2;
    r->core.witness_count = 123456;
    r->core.logical_time_ns = 987654321;
    r->verdict_count = 2;
    r->measured.wall_ns = 1234567;
    mn_buf_init(&rc_bench.buf, MN_RECEIPT_BYTES_MAX);
    if (mn_receipt_sign(r, &kp, NULL) != 0 || mn_receipt_encode(r, &rc_bench.buf, NULL) != 0)
        abort();
    memcpy(rc_bench.encoded, rc_bench.buf.data, rc_bench.buf.len);
    rc_bench.encoded_len = rc_bench.buf.len;
    out[0] = (bench_case){"cbor", "receipt encode", receipt_encode, NULL, 0, 0};
    out[1] = (bench_case){"cbor", "receipt decode", receipt_parse, NULL, 0, 0};
    out[2] = (bench_case){"cbor", "receipt decode+verify", receipt_decode_verify, NULL, 0, 0};
    return 3;
}

/* ---- driver ------------------------------------------------------------------------------- */

typedef size_t (*section_fn)(bench_case *out);

/* Sections run in this order. */
static const section_fn sections[] = {section_ed25519, section_vrf, section_merkle, section_cbor};

static uint64_t baseline_ps(const bench_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cases[i].section, "ed25519") == 0 && strncmp(cases[i].name, "verify", 6) == 0)
            return cases[i].ps_per_op;
    return 0;
}

static void print_table(const bench_case *cases, size_t n)
{
    const uint64_t base = baseline_ps(cases, n);
    char a[32], b[32];
    printf("%-10s %-26s %14s %12s %18s\n", "section", "operation", "ns/op", "ops/s",
           "x ed25519 verify");
    for (size_t i = 0; i < n; i++)
        printf("%-10s %-26s %14s %12llu %18s\n", cases[i].section, cases[i].name,
               bench_fmt_ns(a, cases[i].ps_per_op),
               (unsigned long long)bench_ops_per_s(cases[i].ps_per_op),
               bench_fmt_ratio(b, cases[i].ps_per_op, base));
}

static void print_json(const bench_case *cases, size_t n)
{
    const uint64_t base = baseline_ps(cases, n);
    char a[32], b[32];
    printf("{\"unit\": \"ns/op\", \"baseline\": \"ed25519 verify\", \"results\": [\n");
    for (size_t i = 0; i < n; i++)
        printf("  {\"section\": \"%s\", \"name\": \"%s\", \"ns_per_op\": %s, \"ops_per_s\": %llu, "
               "\"ratio_to_baseline\": %s, \"batch_ops\": %llu}%s\n",
               cases[i].section, cases[i].name, bench_fmt_ns(a, cases[i].ps_per_op),
               (unsigned long long)bench_ops_per_s(cases[i].ps_per_op),
               bench_fmt_ratio(b, cases[i].ps_per_op, base),
               (unsigned long long)cases[i].batch_ops, i + 1 < n ? "," : "");
    printf("]}\n");
}

int main(int argc, char **argv)
{
    const int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: %s [--json]\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    bench_case cases[CASES_MAX];
    size_t n = 0;
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        if (n + 8 > CASES_MAX) /* every section adds at most 8 cases */
            abort();
        n += sections[s](cases + n);
    }
    bench_measure_all(cases, n);
    if (sink != 0) { /* every operation above must have succeeded */
        fprintf(stderr, "bench: an operation failed (sink = %d)\n", sink);
        return 1;
    }
    if (json)
        print_json(cases, n);
    else
        print_table(cases, n);
    return 0;
}
