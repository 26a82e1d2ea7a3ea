/* SPDX-License-Identifier: Apache-2.0
 *
 * oci_cage.h: a bundle's settings as the cage's configuration (oci_cage.c).
 */
#ifndef DOCKLOCK_OCI_CAGE_H
#define DOCKLOCK_OCI_CAGE_H

#include "metanode/docklock.h"
#include "metanode/oci.h"

/* Fills the OCI settings of *out (mounts, cwd, user, hostname, masked and read-only paths,
 * seccomp profile, taints) from cfg; bundle is the bundle's absolute path. Returns -1 when
 * done, else the exit code after reporting (a bind mount's source missing, or not
 * identifiable in strict mode). Static storage: one call per process. */
int oci_cage_config(const mn_oci_config *cfg, const char *bundle, mn_docklock_config *out);

#endif
