/* SPDX-License-Identifier: Apache-2.0
 *
 * replay.h: re-running and checking recorded Docklock runs. A witness holds everything a run
 * was given (program arguments, environment, seed, epoch, limits, stdin), so the run can be
 * configured again from it alone; running the configuration and comparing the two witnesses
 * leaf by leaf gives the first divergent record, which an RFC 9162 inclusion proof ties to
 * the recorded root. Verification ties a receipt to its witness without running anything.
 * Every input here is an untrusted file and is read through the strict witness reader.
 */
#ifndef METANODE_REPLAY_H
#define METANODE_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/docklock.h"
#include "metanode/receipt.h"
#include "metanode/witness.h"

/* A run configuration rebuilt from a witness; owns its strings and the stdin bytes. A run
 * with live input (docs/docklock.md §1.2) gets cfg.io with the recorded deliveries, whose
 * bytes point into the witness: the caller keeps the witness until the run has ended. */
typedef struct mn_replay_config {
    mn_docklock_config cfg;
    char *argv[MN_WITNESS_ARGV_MAX];
    char *env[MN_WITNESS_ENV_MAX];
    uint32_t argc, envc;
    mn_buf stdin_buf;
    mn_docklock_io io;
    mn_docklock_feed *feed;  /* malloc'd */
    mn_docklock_feed *joins; /* malloc'd: the JOIN records (exec), their requests inline */
} mn_replay_config;

/* Reads the witness (strictly) and fills c. MN_ECORRUPT for a malformed witness or for
 * arguments or environment entries holding NUL bytes. Release with mn_replay_config_deinit
 * (also after a failure). */
int mn_replay_config_init(mn_replay_config *c, const uint8_t *witness, size_t len, mn_err *err);
void mn_replay_config_deinit(mn_replay_config *c);

/* One leaf of a witness: its Merkle leaf hash and the byte offset of its frame. */
typedef struct mn_witness_leaf {
    uint8_t hash[32];
    size_t offset;
} mn_witness_leaf;

/* All leaves of a witness in order (header, records, trailer), in a new array the caller
 * frees with free(). Errors are the reader's. */
int mn_witness_leaves(const uint8_t *data, size_t len, mn_witness_leaf **out, uint64_t *count,
                      mn_err *err);
/* The record with sequence number seq. MN_ENOTFOUND if there is none. */
int mn_witness_record_at(const uint8_t *data, size_t len, uint64_t seq, mn_witness_record *rec,
                         mn_err *err);
/* True if the leaf lists differ; *leaf is the first index where they do (the length of the
 * shorter list when one is a prefix of the other). */
bool mn_witness_first_divergence(const mn_witness_leaf *a, uint64_t na,
                                 const mn_witness_leaf *b, uint64_t nb, uint64_t *leaf);

/* Checks that a (decoded, signature-checked) receipt describes this witness: witness root and
 * leaf count, program digest, config digest, seed commitment, output roots, exit status,
 * logical time, event count and taints. MN_ECORRUPT for a bad witness, MN_ECRYPTO naming the
 * first field that does not match. */
int mn_receipt_check_witness(const mn_receipt *r, const uint8_t *witness, size_t len,
                             mn_err *err);

#endif
