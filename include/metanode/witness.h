/* SPDX-License-Identifier: Apache-2.0
 *
 * witness.h: Docklock's witness log, the record of everything that crossed the boundary of a
 * deterministic cage during one run (format in docs/docklock.md).
 *
 * A witness file is the 8-byte magic "DLWIT01\n" followed by frames; a frame is a 4-byte
 * big-endian length and one canonical CBOR document (cbor.h) of that length. The first frame
 * is the header, then come zero or more records, and the last frame is the trailer; nothing
 * may follow it. Every frame is a leaf of an RFC 9162 Merkle tree whose leaf data is
 * SHA-256(MN_TAG_WITNESS_RECORD || document), so the root binds the header, every record in
 * order and the trailer, and one record can be proven with an inclusion proof.
 *
 *   header  = {1: version (1), 2: program_digest, 3: [argv bytes...], 4: [env bytes...],
 *              5: seed (32 bytes), 6: epoch_ns, 7: [mem_bytes, pids, cpu_millis, time_ms],
 *              8: [kernel release, machine, cpu vendor] (byte strings)}
 *   record  = {1: seq, 2: vtid, 3: ltime_ns, 4: kind, 5: nr, 6: [6 args], 7: result,
 *              8: digest (empty or 32 bytes), 9: inline bytes}
 *   trailer = {1: records, 2: [exit_kind, exit_code], 3: stdout root, 4: stderr root,
 *              5: logical end ns, 6: syscalls, 7: taints, 8: output-dir tree root}
 * (output roots as in the receipt: RFC 9162 roots over 64 KiB chunks of the output)
 * Every field is required, in this order; seq counts from 0 without gaps; unknown keys, wrong
 * types and sizes, values out of range and trailing bytes are MN_ECORRUPT (MN_ELIMIT beyond
 * the bounds in limits.h). Inline bytes are results injected by the cage (time, random bytes,
 * uname) and inputs from outside (stdin, kind INPUT) stored whole; guest outputs are digests.
 *
 * The seed is stored in the header: a witness is everything needed to replay the run. The
 * receipt carries only the seed commitment and the config digest, both derived from the header
 * by the functions below. Not here: running anything (supervisor.h), receipts (receipt.h).
 */
#ifndef METANODE_WITNESS_H
#define METANODE_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"
#include "metanode/merkle.h"

#define MN_WITNESS_VERSION 1u
#define MN_WITNESS_MAGIC "DLWIT01\n"
#define MN_WITNESS_MAGIC_BYTES 8u
#define MN_WITNESS_ARGS 6u

typedef enum mn_witness_kind {
    MN_WK_SYSCALL = 1, /* a trapped syscall and the result the guest saw */
    MN_WK_EXEC = 2,    /* an execve that succeeded; digest = SHA-256 of the path */
    MN_WK_SPAWN = 3,   /* a new task (fork/clone); result = its virtual tid */
    MN_WK_EXIT = 4,    /* a task ended; result = wait status */
    MN_WK_RDTSC = 5,   /* rdtsc/rdtscp answered; result = the virtual TSC */
    MN_WK_INPUT = 6,   /* bytes from outside the cage (stdin), inline and whole */
    MN_WK_OUTPUT = 7,  /* bytes the guest wrote to stdout (nr 1) or stderr (nr 2), as digest */
    MN_WK_SIGNAL = 8,  /* a signal delivered to the guest; nr = signal number */
    MN_WK_TAINT = 9,   /* something the cage could not make deterministic; nr = taint bit,
                        * inline = what (text) */
    MN_WK_CONFIG = 10, /* settings beyond the header (OCI cwd, user, hostname, mounts, masked
                        * paths, seccomp profile digest): inline = "key=value" lines */
    MN_WK_JOIN = 11,   /* a process joined from outside (exec); result = its vtid, nr = the
                        * join's number (1, 2, ...), inline = the request (docklock.h) */
    MN_WK_COUNT
} mn_witness_kind;

/* A byte string inside a decoded witness (points into the caller's input). */
typedef struct mn_witness_str {
    const uint8_t *data;
    size_t len;
} mn_witness_str;

typedef struct mn_witness_header {
    uint32_t version;
    uint8_t program_digest[32];
    uint32_t argc;
    mn_witness_str argv[MN_WITNESS_ARGV_MAX];
    uint32_t envc;
    mn_witness_str env[MN_WITNESS_ENV_MAX];
    uint8_t seed[32];
    uint64_t epoch_ns;
    uint64_t mem_bytes;  /* 0 = no limit */
    uint64_t pids;       /* 0 = no limit */
    uint64_t cpu_millis; /* 0 = no limit */
    uint64_t time_ms;    /* 0 = no limit */
    mn_witness_str host[3]; /* kernel release, machine, cpu vendor (informational) */
} mn_witness_header;

typedef struct mn_witness_record {
    uint64_t seq;
    uint32_t vtid;
    uint64_t ltime_ns;
    mn_witness_kind kind;
    uint32_t nr;
    uint64_t args[MN_WITNESS_ARGS];
    int64_t result;
    bool has_digest;
    uint8_t digest[32];
    mn_witness_str inline_data; /* at most MN_WITNESS_INLINE_BYTES_MAX */
} mn_witness_record;

typedef struct mn_witness_trailer {
    uint64_t records;
    uint32_t exit_kind; /* mn_exit_kind (receipt.h) */
    int64_t exit_code;
    uint8_t stdout_digest[32];
    uint8_t stderr_digest[32];
    uint64_t logical_end_ns;
    uint64_t syscalls;
    uint64_t taints;
    uint8_t fsdiff_root[32]; /* tree root of --output-dir (empty tree when none) */
} mn_witness_trailer;

/* ---- encoding ----------------------------------------------------------------------- */

/* Each appends one frame (length + canonical document) to out. MN_EINVAL for values out of
 * range (the same checks the decoder applies), MN_ELIMIT when out is full. */
int mn_witness_header_encode(const mn_witness_header *h, mn_buf *out, mn_err *err);
int mn_witness_record_encode(const mn_witness_record *r, mn_buf *out, mn_err *err);
int mn_witness_trailer_encode(const mn_witness_trailer *t, mn_buf *out, mn_err *err);

/* SHA-256(MN_TAG_DOCKLOCK_CONFIG || {1: argv, 2: env, 3: epoch_ns, 4: limits}): what the run
 * was asked to do, for the receipt's config digest. */
int mn_witness_config_digest(const mn_witness_header *h, uint8_t out[static 32], mn_err *err);
/* SHA-256(MN_TAG_DOCKLOCK_SEED || seed): the receipt's seed commitment. */
void mn_witness_seed_commitment(const uint8_t seed[static 32], uint8_t out[static 32]);
/* Merkle leaf data of one frame's document: SHA-256(MN_TAG_WITNESS_RECORD || document). */
void mn_witness_leaf_data(const uint8_t *doc, size_t len, uint8_t out[static 32]);

/* ---- decoding ----------------------------------------------------------------------- */

/* A pull reader over a whole witness file held in memory (borrowed; decoded strings point into
 * it). It checks the magic and every frame, the record sequence and the trailer's count, and
 * feeds every frame into a Merkle builder. */
typedef struct mn_witness_reader {
    const uint8_t *data;
    size_t len;
    size_t off;
    uint64_t next_seq;
    bool done;             /* the trailer has been read */
    mn_merkle_builder tree;
    uint8_t last_leaf[32]; /* leaf hash of the last frame read */
    size_t last_off;       /* offset of the last frame read */
} mn_witness_reader;

/* Checks the magic and reads the header. */
int mn_witness_reader_init(mn_witness_reader *rd, const uint8_t *data, size_t len,
                           mn_witness_header *h, mn_err *err);
/* Reads the next frame: returns 1 with *rec filled for a record, 0 with *t filled for the
 * trailer (after which the reader is done and the input must be exhausted), -code on error. */
int mn_witness_reader_next(mn_witness_reader *rd, mn_witness_record *rec, mn_witness_trailer *t,
                           mn_err *err);
/* The Merkle root and leaf count of the frames read so far. */
void mn_witness_reader_root(const mn_witness_reader *rd, uint8_t root[static 32],
                            uint64_t *count);

/* Reads a whole witness (header, all records, trailer), and gives its root and leaf count. */
int mn_witness_check(const uint8_t *data, size_t len, mn_witness_header *h,
                     mn_witness_trailer *t, uint8_t root[static 32], uint64_t *count,
                     mn_err *err);

const char *mn_witness_kind_name(mn_witness_kind kind);

#endif
