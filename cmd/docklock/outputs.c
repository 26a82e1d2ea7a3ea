/* SPDX-License-Identifier: Apache-2.0
 *
 * outputs.c: what `run` (and `replay`) do with a finished run: copy the guest's stdout and
 * stderr to the real ones, write the witness file and the signed receipt (loading the node
 * key, or creating one next to the receipt and saying where), report a limit on stderr, and
 * turn the guest's exit status into docklock's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dl.h"
#include "dl_run.h"
#include "metanode/keyfile.h"
#include "metanode/sign.h"

static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int load_key(const char *verb, const dl_run_args *a, mn_keypair *kp)
{
    mn_err err;
    mn_keyfile kf;
    char path[4096];
    if (a->key != NULL) {
        if (mn_keyfile_read(a->key, MN_KEY_ED25519, &kf, &err) != 0)
            return dl_fail(verb, &err);
    } else {
        snprintf(path, sizeof(path), "%s.key", a->receipt);
        mn_keyfile_generate(&kf, MN_KEY_ED25519);
        if (mn_keyfile_write(path, &kf, &err) != 0) {
            mn_keyfile_wipe(&kf);
            return dl_fail(verb, &err);
        }
        fprintf(stderr, "docklock %s: new node key written to %s\n", verb, path);
    }
    mn_keypair_from_seed(kp, kf.seed);
    mn_keyfile_wipe(&kf);
    return -1;
}

static int write_receipt(const char *verb, const dl_run_args *a, const mn_docklock_result *res)
{
    mn_keypair kp;
    int rc = load_key(verb, a, &kp);
    if (rc >= 0)
        return rc;
    uint8_t node_id[32];
    mn_node_id(node_id, kp.pk);
    mn_receipt r;
    mn_docklock_fill_receipt(res, node_id, &r);
    mn_err err;
    mn_buf buf;
    mn_buf_init(&buf, MN_RECEIPT_BYTES_MAX);
    rc = mn_receipt_sign(&r, &kp, &err);
    mn_keypair_wipe(&kp);
    if (rc == 0)
        rc = mn_receipt_encode(&r, &buf, &err);
    if (rc == 0)
        rc = mn_file_write(a->receipt, buf.data, buf.len, 0644, true, &err);
    mn_buf_deinit(&buf);
    return rc == 0 ? -1 : dl_fail(verb, &err);
}

static int exit_code(const mn_docklock_result *res)
{
    static const char *const limits[] = {"?", "time limit", "output limit",
                                         "unmodelled syscall", "memory limit", "pids limit"};
    switch (res->exit_kind) {
    case MN_EXIT_CODE:
        return (int)res->exit_code;
    case MN_EXIT_SIGNAL:
        return 128 + (int)res->exit_code;
    default:
        break;
    }
    const char *what = res->exit_code > 0 && res->exit_code <= 5 ? limits[res->exit_code] : "?";
    if (res->exit_code == MN_LIMIT_UNMODELLED)
        fprintf(stderr, "docklock: the cage does not model syscall %s; run stopped\n",
                res->unmodelled);
    else
        fprintf(stderr, "docklock: run stopped at the %s\n", what);
    return DL_LIMIT;
}

int dl_write_outputs(const char *verb, const dl_run_args *a, const mn_docklock_result *res)
{
    fflush(stdout);
    if (!a->streamed && (write_all(1, res->out.data, res->out.len) != 0 ||
                         write_all(2, res->errout.data, res->errout.len) != 0))
        return DL_FAILED;
    mn_err err;
    if (a->witness != NULL &&
        mn_file_write(a->witness, res->witness.data, res->witness.len, 0644, true, &err) != 0)
        return dl_fail(verb, &err);
    if (a->receipt != NULL) {
        int rc = write_receipt(verb, a, res);
        if (rc >= 0)
            return rc;
    }
    return exit_code(res);
}
