/* SPDX-License-Identifier: Apache-2.0
 *
 * error.h: the one error type of Metanode. A failing function takes `mn_err *err` as its last
 * parameter, returns -code (or NULL), and fills err with a code, an errno where one applies,
 * and a fixed-size message, so reporting an error never allocates. On success err is left
 * untouched. Callers branch on the code, never on the message text.
 *
 * Crypto primitives are the exception (libsodium's 0/-1 convention, see crypto headers): they
 * give no reason, so a failure cannot be used as an oracle.
 */
#ifndef METANODE_ERROR_H
#define METANODE_ERROR_H

#include <stdarg.h>

#define MN_ERR_MSG_MAX 256

typedef enum mn_code {
    MN_OK = 0,
    MN_EINVAL = 1,       /* a caller passed a bad argument (user input, CLI flags) */
    MN_ESYS = 2,         /* a system call failed; sys_errno says why */
    MN_ECORRUPT = 3,     /* untrusted bytes are malformed or non-canonical */
    MN_ECRYPTO = 4,      /* a signature, proof or MAC did not verify */
    MN_ELIMIT = 5,       /* a bound from limits.h would be exceeded */
    MN_ENOMEM = 6,       /* an allocation failed */
    MN_ENOTFOUND = 7,    /* a named thing does not exist */
    MN_EEXIST = 8,       /* a thing that must be new already exists */
    MN_ESTATE = 9,       /* the operation is not valid in the current state */
    MN_EUNSUPPORTED = 10,/* valid input that this build does not implement */
    MN_EPERM = 11,       /* refused by policy (e.g. a key file readable by others) */
    MN_ETRAP = 12,       /* a guest (WASM, cage) trapped or broke a rule */
    MN_CODE_COUNT
} mn_code;

typedef struct mn_err {
    mn_code code;
    int sys_errno;
    char msg[MN_ERR_MSG_MAX];
} mn_err;

/* Returns from the enclosing function with the result of call when it is not 0. */
#define MN_TRY(call)                                                                           \
    do {                                                                                       \
        int mn_try_rc_ = (call);                                                               \
        if (mn_try_rc_ != 0)                                                                   \
            return mn_try_rc_;                                                                 \
    } while (0)

/* Fills *err (err may be NULL) and returns -code. The message is truncated to fit. */
int mn_err_set(mn_err *err, mn_code code, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepends "context: " to err->msg, keeps the code, returns -code. */
int mn_err_wrap(mn_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets err to MN_OK with an empty message. */
void mn_err_clear(mn_err *err);

/* Stable lower-case name of a code ("corrupt", "crypto", ...). Never NULL. */
const char *mn_code_name(mn_code code);

#endif
