/* SPDX-License-Identifier: Apache-2.0
 *
 * keyfile.h: secret key files. A key file is a small JSON document
 *   {"type": "ed25519" | "vrf", "version": 1, "seed": "<64 hex>", "public_key": "<64 hex>"}
 * written atomically with mode 0600 and never over an existing file (the seed is formatted in a
 * wiped stack buffer, never in a JSON library's heap). Reading refuses a file
 * that group or others can read or write (MN_EPERM, with the chmod that fixes it), a file not
 * owned by the current user, and a file whose public key does not match its seed. Signing keys
 * and VRF keys have distinct types so one is never used as the other.
 *
 * Not here: key storage in HSMs or agents, encryption at rest (later issues).
 */
#ifndef METANODE_KEYFILE_H
#define METANODE_KEYFILE_H

#include <stdint.h>

#include "metanode/error.h"

typedef enum mn_key_type {
    MN_KEY_ED25519 = 1, /* node and party identity; signs votes, receipts, transactions */
    MN_KEY_VRF = 2,     /* RFC 9381 ECVRF key (Ed25519 form), used for leader selection */
} mn_key_type;

typedef struct mn_keyfile {
    mn_key_type type;
    uint8_t seed[32];       /* secret: wipe with mn_keyfile_wipe */
    uint8_t public_key[32];
} mn_keyfile;

/* "ed25519" / "vrf"; parse returns -1 on an unknown name. */
const char *mn_key_type_name(mn_key_type type);
int mn_key_type_parse(const char *name, mn_key_type *out);

/* Fills kf with a fresh random key of the given type. */
void mn_keyfile_generate(mn_keyfile *kf, mn_key_type type);
/* Writes kf to path (mode 0600, fails with MN_EEXIST if path exists). */
int mn_keyfile_write(const char *path, const mn_keyfile *kf, mn_err *err);
/* Reads and checks a key file. If want_type is nonzero, another type is MN_EINVAL. */
int mn_keyfile_read(const char *path, mn_key_type want_type, mn_keyfile *kf, mn_err *err);
void mn_keyfile_wipe(mn_keyfile *kf);

#endif
