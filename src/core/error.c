/* SPDX-License-Identifier: Apache-2.0
 *
 * error.c: filling and wrapping mn_err. Never allocates; messages are truncated to
 * MN_ERR_MSG_MAX - 1 bytes.
 */
#include "metanode/error.h"

#include <stdio.h>
#include <string.h>

int mn_err_set(mn_err *err, mn_code code, int sys_errno, const char *fmt, ...)
{
    if (err != NULL) {
        err->code = code;
        err->sys_errno = sys_errno;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        if (code == MN_ESYS && sys_errno != 0) {
            size_t used = strlen(err->msg);
            snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", strerror(sys_errno));
        }
    }
    return -(int)code;
}

int mn_err_wrap(mn_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return -(int)MN_EINVAL;
    char prefix[MN_ERR_MSG_MAX];
    char old[MN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    /* Built by hand: snprintf("%s: %s") trips -Wformat-truncation, and truncation is wanted. */
    size_t used = 0;
    const char *parts[3] = {prefix, ": ", old};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (n > sizeof(err->msg) - 1 - used)
            n = sizeof(err->msg) - 1 - used;
        memcpy(err->msg + used, parts[i], n);
        used += n;
    }
    err->msg[used] = '\0';
    return -(int)err->code;
}

void mn_err_clear(mn_err *err)
{
    if (err == NULL)
        return;
    err->code = MN_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

const char *mn_code_name(mn_code code)
{
    static const char *const names[MN_CODE_COUNT] = {
        [MN_OK] = "ok",           [MN_EINVAL] = "invalid",   [MN_ESYS] = "system",
        [MN_ECORRUPT] = "corrupt", [MN_ECRYPTO] = "crypto",  [MN_ELIMIT] = "limit",
        [MN_ENOMEM] = "nomem",    [MN_ENOTFOUND] = "notfound", [MN_EEXIST] = "exists",
        [MN_ESTATE] = "state",    [MN_EUNSUPPORTED] = "unsupported", [MN_EPERM] = "denied",
        [MN_ETRAP] = "trap",
    };
    if ((unsigned)code >= MN_CODE_COUNT || names[code] == NULL)
        return "unknown";
    return names[code];
}
