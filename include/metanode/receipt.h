/* SPDX-License-Identifier: Apache-2.0
 *
 * receipt.h: the signed receipt of one run of one workload (ARCHITECTURE.md §4).
 *
 * Canonical encoding (deterministic CBOR, cbor.h), a map with small integer keys:
 *   receipt   = {1: version (1), 2: core, 3: measured, 4: [verdict...], 5: signer, 6: signature}
 *   core      = {1: job_id, 2: replica, 3: node_id, 4: program_digest, 5: config_digest,
 *                6: seed_commitment, 7: agreement_id or null, 8: [policy_id...],
 *                9: start_height, 10: witness_root, 11: witness_count, 12: stdout_root,
 *                13: stderr_root, 14: fsdiff_root, 15: [exit_kind, exit_code],
 *                16: logical_time_ns, 17: syscalls, 18: policy_fuel, 19: taints}
 *   measured  = {1: wall_ns, 2: cpu_ns, 3: peak_memory_bytes}
 *   verdict   = {1: policy_id, 2: verdict, 3: fuel}
 * Digests and ids are 32-byte byte strings, the signer a 32-byte Ed25519 public key, the
 * signature 64 bytes. Every field is required; unknown keys, wrong types, non-canonical bytes
 * and trailing bytes are rejected.
 *
 * The signature is Ed25519 over MN_TAG_RECEIPT || the encoding of the receipt map without key
 * 6 (a 5-entry map with keys 1..5). The core hash, SHA-256(MN_TAG_RECEIPT_CORE || encoding of
 * core), identifies what the execution determined: two honest runs of the same job with the
 * same seed and inputs have the same core hash; measured stats and verdicts are outside it.
 *
 * Not here: producing receipts (Docklock), judging them (policies), storing them (ledger).
 */
#ifndef METANODE_RECEIPT_H
#define METANODE_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"
#include "metanode/sign.h"

#define MN_RECEIPT_VERSION 1u

typedef enum mn_exit_kind {
    MN_EXIT_CODE = 0,   /* exited normally; code is the exit status */
    MN_EXIT_SIGNAL = 1, /* killed by a signal; code is the signal number */
    MN_EXIT_LIMIT = 2,  /* stopped by the cage at a limit; code is an mn_limit_kind */
    MN_EXIT_KIND_COUNT
} mn_exit_kind;

/* Taint bits: what the cage could not make deterministic, recorded, never hidden. */
enum {
    MN_TAINT_RDRAND = 1u << 0,     /* the CPU offers RDRAND/RDSEED without CPUID faulting */
    MN_TAINT_RELAXED = 1u << 1,    /* run in relaxed mode (bundle asked for it) */
    MN_TAINT_PREEMPTED = 1u << 2,  /* a spin loop had to be preempted by the supervisor */
    MN_TAINT_ALL = (1u << 3) - 1,
};

typedef struct mn_receipt_core {
    uint8_t job_id[32];
    uint32_t replica;
    uint8_t node_id[32];
    uint8_t program_digest[32];
    uint8_t config_digest[32];
    uint8_t seed_commitment[32];
    bool has_agreement;
    uint8_t agreement_id[32];
    uint32_t policy_count;
    uint8_t policy_ids[MN_RECEIPT_POLICIES_MAX][32];
    uint64_t start_height;
    uint8_t witness_root[32];
    uint64_t witness_count;
    uint8_t stdout_root[32];
    uint8_t stderr_root[32];
    uint8_t fsdiff_root[32];
    mn_exit_kind exit_kind;
    int64_t exit_code;
    uint64_t logical_time_ns;
    uint64_t syscalls;
    uint64_t policy_fuel;
    uint64_t taints;
} mn_receipt_core;

typedef struct mn_receipt_measured {
    uint64_t wall_ns;
    uint64_t cpu_ns;
    uint64_t peak_memory_bytes;
} mn_receipt_measured;

typedef enum mn_verdict_value {
    MN_VERDICT_COMPLY = 0,
    MN_VERDICT_VIOLATION = 1,
    MN_VERDICT_ERROR = 2,
} mn_verdict_value;

typedef struct mn_receipt_verdict {
    uint8_t policy_id[32];
    mn_verdict_value verdict;
    uint64_t fuel;
} mn_receipt_verdict;

typedef struct mn_receipt {
    uint32_t version;
    mn_receipt_core core;
    mn_receipt_measured measured;
    uint32_t verdict_count;
    mn_receipt_verdict verdicts[MN_RECEIPT_POLICIES_MAX];
    uint8_t signer[MN_ED25519_PUBLICKEY_BYTES];
    uint8_t signature[MN_ED25519_SIG_BYTES];
} mn_receipt;

/* Zeroes r and sets the version (call before filling fields). */
void mn_receipt_init(mn_receipt *r);

/* Sets signer to kp's public key and signs. MN_EINVAL if a field is out of range. */
int mn_receipt_sign(mn_receipt *r, const mn_keypair *kp, mn_err *err);

/* Appends the canonical encoding (with signature) to out. */
int mn_receipt_encode(const mn_receipt *r, mn_buf *out, mn_err *err);

/* Decodes and verifies: strict canonical decoding, then the signature. MN_ECORRUPT for
 * malformed bytes, MN_ECRYPTO for a bad signature. If expected_signer is not NULL, a receipt
 * signed by another key is MN_ECRYPTO. r is written only on success. */
int mn_receipt_decode(const uint8_t *data, size_t len, const uint8_t *expected_signer,
                      mn_receipt *r, mn_err *err);

/* Strict canonical decoding only, without checking the signature (for display). */
int mn_receipt_parse(const uint8_t *data, size_t len, mn_receipt *r, mn_err *err);

/* Checks the signature of a decoded or built receipt (0 / MN_ECRYPTO). */
int mn_receipt_verify(const mn_receipt *r, mn_err *err);

/* SHA-256(MN_TAG_RECEIPT_CORE || canonical core). */
int mn_receipt_core_hash(const mn_receipt *r, uint8_t out[static 32], mn_err *err);

/* Hash of the whole signed receipt: SHA-256(MN_TAG_RECEIPT || full encoding); its id. */
int mn_receipt_id(const mn_receipt *r, uint8_t out[static 32], mn_err *err);

const char *mn_exit_kind_name(mn_exit_kind kind);
const char *mn_verdict_name(mn_verdict_value v);

#endif
