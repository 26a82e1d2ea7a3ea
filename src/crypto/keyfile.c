/* SPDX-License-Identifier: Apache-2.0
 *
 * keyfile.c: reading and writing secret key files (format in keyfile.h). The permission check
 * uses fstat on the opened descriptor, so the file checked is the file read. The JSON text is
 * built and parsed with jansson; buffers that held the seed are wiped.
 */
#include "metanode/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "metanode/assert.h"
#include "metanode/bytes.h"

#define KEYFILE_VERSION 1
#define KEYFILE_BYTES_MAX 4096

const char *mn_key_type_name(mn_key_type type)
{
    return type == MN_KEY_VRF ? "vrf" : type == MN_KEY_ED25519 ? "ed25519" : "unknown";
}

int mn_key_type_parse(const char *name, mn_key_type *out)
{
    if (strcmp(name, "ed25519") == 0)
        *out = MN_KEY_ED25519;
    else if (strcmp(name, "vrf") == 0)
        *out = MN_KEY_VRF;
    else
        return -1;
    return 0;
}

/* Both key types derive the public key from the seed the same way (RFC 8032 / RFC 9381). */
static void public_from_seed(uint8_t pk[32], const uint8_t seed[32])
{
    uint8_t sk[64];
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(sk, sizeof(sk));
}

void mn_keyfile_generate(mn_keyfile *kf, mn_key_type type)
{
    kf->type = type;
    randombytes_buf(kf->seed, sizeof(kf->seed));
    public_from_seed(kf->public_key, kf->seed);
}

void mn_keyfile_wipe(mn_keyfile *kf)
{
    sodium_memzero(kf->seed, sizeof(kf->seed));
}

int mn_keyfile_write(const char *path, const mn_keyfile *kf, mn_err *err)
{
    /* Formatted by hand into one stack buffer that is wiped afterwards: building it with
     * jansson would leave copies of the seed in freed heap memory. */
    char seed_hex[65], pk_hex[65], text[256];
    mn_hex_encode(seed_hex, kf->seed, 32);
    mn_hex_encode(pk_hex, kf->public_key, 32);
    int len = snprintf(text, sizeof(text),
                       "{\n  \"type\": \"%s\",\n  \"version\": %d,\n  \"seed\": \"%s\",\n"
                       "  \"public_key\": \"%s\"\n}\n",
                       mn_key_type_name(kf->type), KEYFILE_VERSION, seed_hex, pk_hex);
    MN_ASSERT(len > 0 && (size_t)len < sizeof(text));
    int rc = mn_file_write(path, text, (size_t)len, 0600, false, err);
    sodium_memzero(seed_hex, sizeof(seed_hex));
    sodium_memzero(text, sizeof(text));
    return rc;
}

/* Opens path and refuses it unless it is a regular file, ours, with no group/other bits. */
static int open_private(const char *path, int *fd_out, mn_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return mn_err_set(err, errno == ENOENT ? MN_ENOTFOUND : MN_ESYS, errno, "key file %s",
                          path);
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = mn_err_set(err, MN_ESYS, errno, "stat %s", path);
    else if (!S_ISREG(st.st_mode))
        rc = mn_err_set(err, MN_EINVAL, 0, "key file %s is not a regular file", path);
    else if ((st.st_mode & 077) != 0)
        rc = mn_err_set(err, MN_EPERM, 0,
                        "key file %s has mode %04o: it must not be accessible by group or "
                        "others (fix: chmod 600 %s)",
                        path, (unsigned)(st.st_mode & 07777), path);
    else if (st.st_uid != geteuid())
        rc = mn_err_set(err, MN_EPERM, 0, "key file %s is owned by uid %u, not by us (%u)", path,
                        (unsigned)st.st_uid, (unsigned)geteuid());
    if (rc != 0) {
        close(fd);
        return rc;
    }
    *fd_out = fd;
    return 0;
}

static int parse_key_json(const char *path, json_t *doc, mn_keyfile *kf, mn_err *err)
{
    const char *type = NULL, *seed = NULL, *pk = NULL;
    int version = 0;
    if (json_unpack(doc, "{s:s, s:i, s:s, s:s !}", "type", &type, "version", &version, "seed",
                    &seed, "public_key", &pk) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0,
                          "key file %s: expected fields type, version, seed, public_key", path);
    if (version != KEYFILE_VERSION)
        return mn_err_set(err, MN_EUNSUPPORTED, 0, "key file %s: version %d", path, version);
    if (mn_key_type_parse(type, &kf->type) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "key file %s: unknown key type \"%s\"", path, type);
    if (mn_hex_decode(kf->seed, 32, seed, err) != 0 ||
        mn_hex_decode(kf->public_key, 32, pk, err) != 0)
        return mn_err_wrap(err, "key file %s", path);
    uint8_t derived[32];
    public_from_seed(derived, kf->seed);
    if (sodium_memcmp(derived, kf->public_key, 32) != 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "key file %s: public key does not match the seed",
                          path);
    return 0;
}

int mn_keyfile_read(const char *path, mn_key_type want_type, mn_keyfile *kf, mn_err *err)
{
    int fd = -1;
    int rc = open_private(path, &fd, err);
    if (rc != 0)
        return rc;
    json_error_t jerr;
    json_t *doc = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
    close(fd);
    if (doc == NULL)
        return mn_err_set(err, MN_ECORRUPT, 0, "key file %s: %s", path, jerr.text);
    mn_keyfile tmp;
    rc = parse_key_json(path, doc, &tmp, err);
    json_decref(doc);
    if (rc == 0 && want_type != 0 && tmp.type != want_type)
        rc = mn_err_set(err, MN_EINVAL, 0, "key file %s holds a %s key, a %s key is needed", path,
                        mn_key_type_name(tmp.type), mn_key_type_name(want_type));
    if (rc == 0)
        *kf = tmp;
    mn_keyfile_wipe(&tmp);
    return rc;
}
