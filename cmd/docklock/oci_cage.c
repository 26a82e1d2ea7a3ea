/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_cage.c: a parsed config.json's settings as the cage's configuration (mn_docklock_config):
 * mounts (bind sources resolved against the bundle and identified by their content digest),
 * cwd, user and groups, hostname, maskedPaths, readonlyPaths, the seccomp profile, and the
 * relaxed-mode taints. A bind mount too large (or too special) to hash cannot be identified:
 * refused in strict mode, a taint in relaxed mode (recorded by its destination only). Mounts are
 * made in destination order.
 * Not here: the command line, the state directory (oci_create.c), the mounts themselves (the
 * cage: src/docklock/mounts.c).
 *
 * The configuration lives in static storage here (one container per create process) and
 * borrows strings from cfg, which must outlive the run.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "metanode/docklock.h"
#include "oci_cage.h"
#include "oci_cli.h"

static mn_docklock_mount mounts[MN_OCI_MOUNTS_MAX];
static char sources[MN_OCI_MOUNTS_MAX][PATH_MAX];
static mn_docklock_sc_rule rules[MN_OCI_SECCOMP_RULES_MAX];
static mn_docklock_seccomp profile;
static const char *taints[MN_OCI_NOTES_MAX + MN_OCI_MOUNTS_MAX];

static int add_mount(const mn_oci_config *cfg, uint32_t i, const char *bundle, uint32_t *n,
                     uint32_t *taintc)
{
    const mn_oci_mount *om = &cfg->mounts[i];
    mn_docklock_mount *m = &mounts[*n];
    memset(m, 0, sizeof(*m));
    m->kind = (mn_docklock_mount_kind)om->kind;
    m->destination = om->destination;
    m->flags = om->flags;
    m->data = om->data[0] != '\0' ? om->data : NULL;
    if (m->kind == MN_DL_MOUNT_BIND) {
        /* a relative source is relative to the bundle, as the spec says */
        int len = om->source[0] == '/'
                      ? snprintf(sources[*n], PATH_MAX, "%s", om->source)
                      : snprintf(sources[*n], PATH_MAX, "%s/%s", bundle, om->source);
        if (len < 0 || len >= PATH_MAX)
            return oci_fail("create: mounts[%u].source is too long", i);
        m->source = sources[*n];
        mn_err err;
        int rc = mn_docklock_mount_digest(m->source, &m->is_dir, m->digest, &err);
        if (rc == -MN_ENOTFOUND)
            return oci_fail("create: mounts[%u] (%s): source %s does not exist", i,
                            om->destination, m->source);
        m->hashed = rc == 0;
        if (rc != 0 && !cfg->relaxed)
            return oci_fail("create: mounts[%u] (%s) cannot be identified by its content (%s): "
                            "refused; the annotation " MN_OCI_ANN_MODE "=relaxed accepts it "
                            "as a taint", i, om->destination, err.msg);
        if (rc != 0) {
            taints[(*taintc)++] = "a bind mount too large to identify by content "
                                  "(recorded by destination only)";
            oci_warn("taint (relaxed mode): mounts[%u] (%s) not identified: %s", i,
                     om->destination, err.msg);
        }
    }
    (*n)++;
    return -1;
}

int oci_cage_config(const mn_oci_config *cfg, const char *bundle, mn_docklock_config *out)
{
    uint32_t n = 0, taintc = 0;
    for (uint32_t i = 0; i < cfg->taintc; i++)
        taints[taintc++] = cfg->taints[i];
    for (uint32_t i = 0; i < cfg->mountc; i++) {
        if (cfg->mounts[i].kind == MN_OCI_MOUNT_SKIP)
            continue;
        int rc = add_mount(cfg, i, bundle, &n, &taintc);
        if (rc >= 0)
            return rc;
    }
    /* In destination byte order (stable): managers emit mounts in an arbitrary order (podman's
     * differs from run to run) and the order is part of the run's configuration. A path sorts
     * before the paths below it, so a mount still comes before those nested in it. */
    for (uint32_t i = 1; i < n; i++) {
        mn_docklock_mount m = mounts[i];
        uint32_t j = i;
        for (; j > 0 && strcmp(mounts[j - 1].destination, m.destination) > 0; j--)
            mounts[j] = mounts[j - 1];
        mounts[j] = m;
    }
    out->mounts = mounts;
    out->mountc = n;
    out->cwd = strcmp(cfg->cwd, "/") != 0 ? cfg->cwd : NULL;
    out->hostname = cfg->hostname;
    out->uid = cfg->uid;
    out->gid = cfg->gid;
    out->groups = cfg->groups;
    out->groupc = cfg->additional_gids;
    out->masked = cfg->masked_paths;
    out->maskedc = cfg->maskedc;
    out->readonly = cfg->readonly_paths;
    out->readonlyc = cfg->readonlyc;
    if (cfg->has_seccomp) {
        for (uint32_t i = 0; i < cfg->sc_rulec; i++) {
            rules[i].name = cfg->sc_names[i];
            rules[i].action = cfg->sc_actions[i];
            rules[i].argc = cfg->sc_argc[i];
            for (uint32_t k = 0; k < cfg->sc_argc[i]; k++)
                rules[i].args[k] = (mn_docklock_sc_arg){cfg->sc_args[i][k].index,
                                                        cfg->sc_args[i][k].op,
                                                        cfg->sc_args[i][k].value,
                                                        cfg->sc_args[i][k].value_two};
        }
        profile.default_action = cfg->sc_default;
        profile.rules = rules;
        profile.rulec = cfg->sc_rulec;
        memcpy(profile.digest, cfg->sc_digest, 32);
        out->seccomp = &profile;
    }
    out->taints = taints;
    out->taintc = taintc;
    return -1;
}
