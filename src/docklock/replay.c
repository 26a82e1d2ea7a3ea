/* SPDX-License-Identifier: Apache-2.0
 *
 * replay.c: what replay and verification need beyond running: the run configuration recorded
 * in a witness (argv, env, seed, epoch, limits, and stdin gathered from INPUT records), the
 * leaf hashes of a witness (for inclusion proofs), the first leaf where two witnesses differ,
 * and checking a receipt against a witness without running anything. All of it reads
 * untrusted files through the strict witness reader. Not here: running (run.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "metanode/replay.h"

static char *dup_str(mn_witness_str s)
{
    char *p = malloc(s.len + 1);
    if (p != NULL) {
        if (s.len > 0)
            memcpy(p, s.data, s.len);
        p[s.len] = '\0';
    }
    return p;
}

/* Strings must not hold NUL bytes: they become C strings for execve. */
static bool has_nul(mn_witness_str s)
{
    return s.len > 0 && memchr(s.data, 0, s.len) != NULL;
}

/* Stdin given whole (INPUT nr 0) into in; live input (nr 2: its mode, nr 1: deliveries,
 * borrowed from the witness) into c->io. */
static int gather_stdin(mn_witness_reader *rd, mn_replay_config *c, size_t len, mn_err *err)
{
    mn_witness_record r;
    mn_witness_trailer t;
    int rc;
    c->io.in_fd = c->io.out_fd = c->io.err_fd = c->io.ctl_fd = -1;
    while ((rc = mn_witness_reader_next(rd, &r, &t, err)) == 1) {
        if (r.kind == MN_WK_JOIN) {
            /* Each record takes at least 5 bytes: this bounds the joins. */
            if (c->joins == NULL && (c->joins = calloc(len / 5 + 1, sizeof(*c->joins))) == NULL)
                return mn_err_set(err, MN_ENOMEM, 0, "join table");
            c->joins[c->io.joinc++] =
                (mn_docklock_feed){r.seq, r.inline_data.data, r.inline_data.len};
            c->io.joins = c->joins;
            continue;
        }
        if (r.kind != MN_WK_INPUT)
            continue;
        if (r.nr == MN__DL_INPUT_WHOLE) {
            if ((rc = mn_buf_append(&c->stdin_buf, r.inline_data.data, r.inline_data.len,
                                    err)) != 0)
                return rc;
        } else if (r.nr == MN__DL_INPUT_MODE) {
            if (c->io.live_in || (r.args[0] != 1 && r.args[0] != 2) || r.args[1] > 0xffff ||
                r.args[2] > 0xffff)
                return mn_err_set(err, MN_ECORRUPT, 0, "bad live-input record %llu",
                                  (unsigned long long)r.seq);
            c->io.live_in = true;
            c->io.terminal = r.args[0] == 2;
            c->io.rows = (uint16_t)r.args[1];
            c->io.cols = (uint16_t)r.args[2];
            /* Each record takes at least 5 bytes: this bounds the deliveries. */
            c->feed = calloc(len / 5 + 1, sizeof(*c->feed));
            if (c->feed == NULL)
                return mn_err_set(err, MN_ENOMEM, 0, "live input table");
            c->io.feed = c->feed;
        } else if (r.nr == MN__DL_INPUT_MOUNT) {
            continue; /* a bind mount's identity: the mount itself is the bundle's */
        } else if (r.nr == MN__DL_INPUT_LIVE && c->io.live_in) {
            c->feed[c->io.feedc++] =
                (mn_docklock_feed){r.seq, r.inline_data.data, r.inline_data.len};
        } else {
            return mn_err_set(err, MN_ECORRUPT, 0, "bad input record %llu",
                              (unsigned long long)r.seq);
        }
    }
    return rc;
}

int mn_replay_config_init(mn_replay_config *rc_out, const uint8_t *witness, size_t len,
                          mn_err *err)
{
    memset(rc_out, 0, sizeof(*rc_out));
    mn_buf_init(&rc_out->stdin_buf, MN_WITNESS_FILE_BYTES_MAX);
    mn_witness_reader rd;
    mn_witness_header h;
    int rc = mn_witness_reader_init(&rd, witness, len, &h, err);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < h.argc; i++)
        if (has_nul(h.argv[i]))
            return mn_err_set(err, MN_ECORRUPT, 0, "argument %u holds a NUL byte", i);
    for (uint32_t i = 0; i < h.envc; i++)
        if (has_nul(h.env[i]) || h.env[i].len == 0)
            return mn_err_set(err, MN_ECORRUPT, 0, "environment entry %u is malformed", i);
    if ((rc = gather_stdin(&rd, rc_out, len, err)) != 0) {
        mn_replay_config_deinit(rc_out);
        return rc;
    }
    mn_docklock_config *c = &rc_out->cfg;
    for (uint32_t i = 0; i < h.argc; i++)
        rc_out->argv[i] = dup_str(h.argv[i]);
    for (uint32_t i = 0; i < h.envc; i++)
        rc_out->env[i] = dup_str(h.env[i]);
    rc_out->argc = h.argc;
    rc_out->envc = h.envc;
    c->argv = (const char *const *)rc_out->argv;
    c->argc = h.argc;
    c->env = (const char *const *)rc_out->env;
    c->envc = h.envc;
    memcpy(c->seed, h.seed, 32);
    c->epoch_ns = h.epoch_ns;
    c->mem_bytes = h.mem_bytes;
    c->pids = h.pids;
    c->cpu_millis = h.cpu_millis;
    c->time_ms = h.time_ms;
    c->stdin_data = rc_out->stdin_buf.data;
    c->stdin_len = rc_out->stdin_buf.len;
    if (rc_out->io.live_in || rc_out->io.joinc > 0)
        c->io = &rc_out->io;
    for (uint32_t i = 0; i < h.argc; i++)
        if (rc_out->argv[i] == NULL)
            return mn_err_set(err, MN_ENOMEM, 0, "argv copy");
    for (uint32_t i = 0; i < h.envc; i++)
        if (rc_out->env[i] == NULL)
            return mn_err_set(err, MN_ENOMEM, 0, "env copy");
    return 0;
}

void mn_replay_config_deinit(mn_replay_config *c)
{
    for (uint32_t i = 0; i < c->argc; i++)
        free(c->argv[i]);
    for (uint32_t i = 0; i < c->envc; i++)
        free(c->env[i]);
    mn_buf_deinit(&c->stdin_buf);
    free(c->feed);
    free(c->joins);
    c->feed = NULL;
    c->joins = NULL;
    memset(&c->io, 0, sizeof(c->io));
    memset(c->argv, 0, sizeof(c->argv));
    c->argc = c->envc = 0;
}

int mn_witness_leaves(const uint8_t *data, size_t len, mn_witness_leaf **out, uint64_t *count,
                      mn_err *err)
{
    mn_witness_reader rd;
    mn_witness_header h;
    int rc = mn_witness_reader_init(&rd, data, len, &h, err);
    if (rc != 0)
        return rc;
    /* Each frame takes at least 5 bytes: this bounds the array by the file size. */
    size_t cap = len / 5 + 1;
    mn_witness_leaf *leaves = calloc(cap, sizeof(*leaves));
    if (leaves == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "leaf table");
    uint64_t n = 0;
    memcpy(leaves[n].hash, rd.last_leaf, 32);
    leaves[n++].offset = rd.last_off;
    mn_witness_record r;
    mn_witness_trailer t;
    while ((rc = mn_witness_reader_next(&rd, &r, &t, err)) >= 0) {
        MN_ASSERT(n < cap);
        memcpy(leaves[n].hash, rd.last_leaf, 32);
        leaves[n++].offset = rd.last_off;
        if (rc == 0)
            break;
    }
    if (rc < 0) {
        free(leaves);
        return rc;
    }
    *out = leaves;
    *count = n;
    return 0;
}

int mn_witness_record_at(const uint8_t *data, size_t len, uint64_t seq, mn_witness_record *rec,
                         mn_err *err)
{
    mn_witness_reader rd;
    mn_witness_header h;
    mn_witness_trailer t;
    int rc = mn_witness_reader_init(&rd, data, len, &h, err);
    while (rc == 0 || rc == 1) {
        rc = mn_witness_reader_next(&rd, rec, &t, err);
        if (rc == 1 && rec->seq == seq)
            return 0;
    }
    return rc < 0 ? rc : mn_err_set(err, MN_ENOTFOUND, 0, "no record %llu",
                                    (unsigned long long)seq);
}

bool mn_witness_first_divergence(const mn_witness_leaf *a, uint64_t na,
                                 const mn_witness_leaf *b, uint64_t nb, uint64_t *leaf)
{
    uint64_t n = na < nb ? na : nb;
    for (uint64_t i = 0; i < n; i++)
        if (memcmp(a[i].hash, b[i].hash, 32) != 0) {
            *leaf = i;
            return true;
        }
    *leaf = n;
    return na != nb;
}

static int mismatch(const char *what, mn_err *err)
{
    return mn_err_set(err, MN_ECRYPTO, 0, "receipt and witness disagree on the %s", what);
}

int mn_receipt_check_witness(const mn_receipt *r, const uint8_t *witness, size_t len,
                             mn_err *err)
{
    mn_witness_header h;
    mn_witness_trailer t;
    uint8_t root[32], digest[32];
    uint64_t count;
    int rc = mn_witness_check(witness, len, &h, &t, root, &count, err);
    if (rc != 0)
        return rc;
    const mn_receipt_core *c = &r->core;
    if (memcmp(root, c->witness_root, 32) != 0 || count != c->witness_count)
        return mismatch("witness root", err);
    if (memcmp(h.program_digest, c->program_digest, 32) != 0)
        return mismatch("program digest", err);
    if ((rc = mn_witness_config_digest(&h, digest, err)) != 0)
        return rc;
    if (memcmp(digest, c->config_digest, 32) != 0)
        return mismatch("config digest", err);
    mn_witness_seed_commitment(h.seed, digest);
    if (memcmp(digest, c->seed_commitment, 32) != 0)
        return mismatch("seed commitment", err);
    if (memcmp(t.stdout_digest, c->stdout_root, 32) != 0 ||
        memcmp(t.stderr_digest, c->stderr_root, 32) != 0)
        return mismatch("output roots", err);
    if (memcmp(t.fsdiff_root, c->fsdiff_root, 32) != 0)
        return mismatch("output directory root", err);
    if (t.exit_kind != (uint32_t)c->exit_kind || t.exit_code != c->exit_code)
        return mismatch("exit status", err);
    if (t.logical_end_ns != c->logical_time_ns || t.syscalls != c->syscalls ||
        t.taints != c->taints)
        return mismatch("deterministic stats", err);
    return 0;
}
