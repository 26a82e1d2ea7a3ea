/* SPDX-License-Identifier: Apache-2.0
 *
 * settings.c: the witness records of a run's OCI settings, written by the supervisor before the
 * program starts (after the header and stdin) and after it ends.
 *
 * * CONFIG (one record, only when a setting differs from the cage's default): inline text,
 *   one "key=value" line per setting in configuration order: cwd, user (uid:gid[:groups]),
 *   hostname, mount (destination kind flags [data]), masked, readonly, seccomp (profile digest).
 *   These are configuration, like the header's argv and environment.
 * * INPUT nr 1, one per bind mount: its content is input from outside the root. digest = the
 *   content root taken by the caller (mn_docklock_mount_digest) or absent when it was too large
 *   to hash (the caller then accepted a taint); args = [index, is_dir, writable]; inline = the
 *   destination. The host source path is deliberately not recorded: it differs between hosts
 *   and managers (podman's names the container) while the content is what the program sees.
 * * TAINT nr MN_TAINT_RELAXED, one per setting accepted but not honoured (relaxed mode);
 *   inline = what it was. The run's taints get MN_TAINT_RELAXED, so the receipt says so.
 * * OUTPUT nr 3 after the run, one per writable hashed bind mount: the content root then (a
 *   volume's writes are outputs of the run, like --output-dir's); without a digest when the
 *   volume has grown past the hashing bounds by then (a warning, not a failed run).
 * Not here: making the mounts (mounts.c), deciding what is a taint (src/oci/config.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "internal.h"
#include "metanode/bytes.h"
#include "metanode/limits.h"
#include "metanode/log.h"
#include "metanode/receipt.h"

static const char *const kind_names[] = {"?", "bind", "tmpfs", "devpts", "mqueue", "sysfs"};

static bool has_settings(const mn_docklock_config *c)
{
    return c->cwd != NULL || c->hostname != NULL || c->uid != 0 || c->gid != 0 ||
           c->groupc != 0 || c->mountc != 0 || c->maskedc != 0 || c->readonlyc != 0 ||
           c->seccomp != NULL;
}

static int add(mn_buf *b, mn_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add(mn_buf *b, mn_err *err, const char *fmt, ...)
{
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return mn_err_set(err, MN_ELIMIT, 0, "a setting of more than %zu bytes", sizeof(line));
    return mn_buf_append(b, line, (size_t)n, err);
}

static int config_text(const mn_docklock_config *c, mn_buf *b, mn_err *err)
{
    MN_TRY(add(b, err, "cwd=%s\n", c->cwd != NULL ? c->cwd : "/"));
    MN_TRY(add(b, err, "user=%u:%u", c->uid, c->gid));
    for (uint32_t i = 0; i < c->groupc; i++)
        MN_TRY(add(b, err, "%c%u", i == 0 ? ':' : ',', c->groups[i]));
    MN_TRY(add(b, err, "\nhostname=%s\n", c->hostname != NULL ? c->hostname : "docklock"));
    for (uint32_t i = 0; i < c->mountc; i++) {
        const mn_docklock_mount *m = &c->mounts[i];
        unsigned k = (unsigned)m->kind < 6 ? (unsigned)m->kind : 0;
        MN_TRY(add(b, err, "mount=%s %s 0x%lx%s%s\n", m->destination, kind_names[k], m->flags,
                   m->data != NULL ? " " : "", m->data != NULL ? m->data : ""));
    }
    for (uint32_t i = 0; i < c->maskedc; i++)
        MN_TRY(add(b, err, "masked=%s\n", c->masked[i]));
    for (uint32_t i = 0; i < c->readonlyc; i++)
        MN_TRY(add(b, err, "readonly=%s\n", c->readonly[i]));
    if (c->seccomp != NULL) {
        char hex[65];
        mn_hex_encode(hex, c->seccomp->digest, 32);
        MN_TRY(add(b, err, "seccomp=%s\n", hex));
    }
    return 0;
}

int mn__dl_settings_record(mn__dl_sup *s, uint64_t *taints, mn_err *err)
{
    const mn_docklock_config *c = s->cfg;
    uint64_t none[6] = {0, 0, 0, 0, 0, 0};
    if (has_settings(c)) {
        mn_buf text;
        mn_buf_init(&text, MN_DOCKLOCK_CONFIG_TEXT_BYTES_MAX);
        int rc = config_text(c, &text, err);
        if (rc == 0)
            rc = mn__dl_record(s, NULL, MN_WK_CONFIG, 0, none, 0, NULL, text.data, text.len,
                               err);
        mn_buf_deinit(&text);
        if (rc != 0)
            return mn_err_wrap(err, "record the run's settings");
    }
    for (uint32_t i = 0; i < c->mountc; i++) {
        const mn_docklock_mount *m = &c->mounts[i];
        if (m->kind != MN_DL_MOUNT_BIND)
            continue;
        uint64_t args[6] = {i, m->is_dir, (m->flags & MS_RDONLY) == 0, 0, 0, 0};
        MN_TRY(mn__dl_record(s, NULL, MN_WK_INPUT, MN__DL_INPUT_MOUNT, args, 0,
                             m->hashed ? m->digest : NULL, m->destination,
                             strlen(m->destination), err));
    }
    for (uint32_t i = 0; i < c->taintc; i++)
        MN_TRY(mn__dl_record(s, NULL, MN_WK_TAINT, MN_TAINT_RELAXED, none, 0, NULL,
                             c->taints[i], strlen(c->taints[i]), err));
    if (c->taintc > 0)
        *taints |= MN_TAINT_RELAXED;
    return 0;
}

int mn__dl_mounts_record_outputs(mn__dl_sup *s, mn_err *err)
{
    const mn_docklock_config *c = s->cfg;
    for (uint32_t i = 0; i < c->mountc; i++) {
        const mn_docklock_mount *m = &c->mounts[i];
        if (m->kind != MN_DL_MOUNT_BIND || !m->hashed || (m->flags & MS_RDONLY) != 0)
            continue;
        uint8_t digest[32];
        bool is_dir = m->is_dir;
        mn_err herr;
        /* grown past the bounds (or gone) by now: recorded without a digest, not a failed run */
        int rc = mn_docklock_mount_digest(m->source, &is_dir, digest, &herr);
        if (rc != 0)
            MN_LOG(WARN, "docklock", "volume at %s not hashed after the run: %s",
                   m->destination, herr.msg);
        uint64_t args[6] = {i, is_dir, 1, 0, 0, 0};
        MN_TRY(mn__dl_record(s, NULL, MN_WK_OUTPUT, 3, args, 0, rc == 0 ? digest : NULL,
                             m->destination, strlen(m->destination), err));
    }
    return 0;
}
