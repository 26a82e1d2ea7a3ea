/* SPDX-License-Identifier: Apache-2.0
 *
 * home.c: node home directories (node_home.h): key generation and config.json, strict on
 * reading. The BPCI Noise static key has no file: it is derived from the identity key's seed
 * (bpci.h, mn_bpci_noise_static_derive). Not here: genesis files (ledger), running the node.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "metanode/bpci.h"
#include "metanode/bytes.h"
#include "metanode/keyfile.h"
#include "metanode/node_home.h"

int mn_home_path(char *out, const char *dir, const char *name, mn_err *err)
{
    int k = snprintf(out, MN_HOME_PATH_MAX, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= MN_HOME_PATH_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "path %s/%s too long", dir, name);
    return 0;
}

static int write_keyfile(const char *dir, const char *name, mn_key_type type, mn_keyfile *kf,
                         mn_err *err)
{
    char path[MN_HOME_PATH_MAX];
    MN_TRY(mn_home_path(path, dir, name, err));
    mn_keyfile_generate(kf, type);
    return mn_keyfile_write(path, kf, err);
}

int mn_home_init(const char *dir, const mn_home_config *cfg, mn_home_keys *keys, mn_err *err)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return mn_err_set(err, MN_ESYS, errno, "mkdir %s: %s", dir, strerror(errno));
    char path[MN_HOME_PATH_MAX];
    MN_TRY(mn_home_path(path, dir, "data", err));
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return mn_err_set(err, MN_ESYS, errno, "mkdir %s: %s", path, strerror(errno));
    mn_keyfile kf;
    mn_home_keys k;
    memset(&k, 0, sizeof(k));
    int rc = write_keyfile(dir, "node_key.json", MN_KEY_ED25519, &kf, err);
    if (rc == 0) {
        mn_keypair_from_seed(&k.key, kf.seed);
        mn_bpci_noise_static_derive(k.noise_priv, kf.seed);
        mn_bpci_noise_static_public(k.noise_pub, kf.seed);
        rc = write_keyfile(dir, "vrf_key.json", MN_KEY_VRF, &kf, err);
    }
    if (rc == 0 && mn_vrf_keypair_from_seed(k.vrf_pk, k.vrf_sk, kf.seed) != 0)
        rc = mn_err_set(err, MN_ECRYPTO, 0, "VRF key derivation failed");
    mn_keyfile_wipe(&kf);
    if (rc == 0)
        rc = mn_home_save_config(dir, cfg, false, err);
    if (rc == 0 && keys != NULL)
        *keys = k;
    mn_home_keys_wipe(&k);
    return rc;
}

int mn_home_save_config(const char *dir, const mn_home_config *cfg, bool overwrite, mn_err *err)
{
    char path[MN_HOME_PATH_MAX];
    MN_TRY(mn_home_path(path, dir, "config.json", err));
    json_t *peers = json_array();
    for (uint32_t i = 0; i < cfg->peer_count; i++)
        json_array_append_new(peers, json_string(cfg->peers[i]));
    json_t *doc = json_pack("{s:s, s:s, s:o, s:s}", "listen", cfg->listen, "api", cfg->api,
                            "peers", peers, "log_level", cfg->log_level);
    if (doc != NULL && cfg->asmap[0] != '\0')
        json_object_set_new(doc, "asmap", json_string(cfg->asmap));
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "config.json");
    size_t len = strlen(text);
    text[len] = '\n';
    int rc = mn_file_write(path, text, len + 1, 0600, overwrite, err);
    free(text);
    return rc;
}

static int copy_text(char *out, size_t max, const char *text, const char *what, mn_err *err)
{
    if (strlen(text) >= max)
        return mn_err_set(err, MN_EINVAL, 0, "config.json: %s too long", what);
    strcpy(out, text);
    return 0;
}

int mn_home_load_config(const char *dir, mn_home_config *cfg, mn_err *err)
{
    char path[MN_HOME_PATH_MAX];
    MN_TRY(mn_home_path(path, dir, "config.json", err));
    uint8_t *data;
    size_t len;
    MN_TRY(mn_file_read(path, 1u << 20, &data, &len, err));
    json_error_t je;
    json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &je);
    free(data);
    const char *listen, *api, *level, *asmap = NULL;
    json_t *peers;
    memset(cfg, 0, sizeof(*cfg));
    int rc = 0;
    if (doc == NULL || json_unpack(doc, "{s:s, s:s, s:o, s:s, s?s !}", "listen", &listen, "api",
                                   &api, "peers", &peers, "log_level", &level, "asmap",
                                   &asmap) != 0 ||
        !json_is_array(peers)) {
        rc = mn_err_set(err, MN_EINVAL, 0,
                        "%s: want {listen, api, peers, log_level[, asmap]}%s%s", path,
                        doc ? "" : ": ", doc ? "" : je.text);
    }
    if (rc == 0)
        rc = copy_text(cfg->listen, sizeof(cfg->listen), listen, "listen", err);
    if (rc == 0)
        rc = copy_text(cfg->api, sizeof(cfg->api), api, "api", err);
    if (rc == 0)
        rc = copy_text(cfg->log_level, sizeof(cfg->log_level), level, "log_level", err);
    if (rc == 0 && asmap != NULL)
        rc = copy_text(cfg->asmap, sizeof(cfg->asmap), asmap, "asmap", err);
    if (rc == 0 && json_array_size(peers) > MN_HOME_PEERS_MAX)
        rc = mn_err_set(err, MN_ELIMIT, 0, "config.json: more than %u peers", MN_HOME_PEERS_MAX);
    for (size_t i = 0; rc == 0 && i < json_array_size(peers); i++) {
        const char *p = json_string_value(json_array_get(peers, i));
        if (p == NULL)
            rc = mn_err_set(err, MN_EINVAL, 0, "config.json: peers must be strings");
        else
            rc = copy_text(cfg->peers[cfg->peer_count++], 64, p, "peer", err);
    }
    json_decref(doc);
    return rc;
}

int mn_home_load_keys(const char *dir, mn_home_keys *keys, mn_err *err)
{
    char path[MN_HOME_PATH_MAX];
    mn_keyfile kf;
    memset(keys, 0, sizeof(*keys));
    MN_TRY(mn_home_path(path, dir, "node_key.json", err));
    MN_TRY(mn_keyfile_read(path, MN_KEY_ED25519, &kf, err));
    mn_keypair_from_seed(&keys->key, kf.seed);
    mn_bpci_noise_static_derive(keys->noise_priv, kf.seed);
    mn_bpci_noise_static_public(keys->noise_pub, kf.seed);
    mn_keyfile_wipe(&kf);
    MN_TRY(mn_home_path(path, dir, "vrf_key.json", err));
    MN_TRY(mn_keyfile_read(path, MN_KEY_VRF, &kf, err));
    int rc = mn_vrf_keypair_from_seed(keys->vrf_pk, keys->vrf_sk, kf.seed);
    mn_keyfile_wipe(&kf);
    if (rc != 0)
        return mn_err_set(err, MN_ECRYPTO, 0, "VRF key derivation failed");
    return 0;
}

void mn_home_keys_wipe(mn_home_keys *keys)
{
    sodium_memzero(keys, sizeof(*keys));
}

static bool port_free(uint32_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* The kernel's ephemeral port range (the local ports of outgoing connections); Linux's default
 * when it cannot be read. */
static void ephemeral_range(uint32_t *lo, uint32_t *hi)
{
    *lo = 32768u;
    *hi = 60999u;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f == NULL)
        return;
    unsigned a, b;
    if (fscanf(f, "%u %u", &a, &b) == 2 && a <= b && b < 65536u) {
        *lo = a;
        *hi = b;
    }
    fclose(f);
}

/* Ports inside the ephemeral range are avoided: any outgoing connection on the machine (and a
 * node redialing a peer that is down, which can even connect to itself) may take one as its
 * local port between the search and the bind of the listener, and the agent then cannot listen
 * (this silently stalled node.cluster.* under a loaded full test run). */
int mn_home_free_ports(uint32_t count, uint32_t seed, uint32_t *base, mn_err *err)
{
    const uint32_t first = 10000u, step = 16u;
    const uint32_t slots = (65536u - first) / step;
    uint32_t lo, hi;
    ephemeral_range(&lo, &hi);
    for (int avoid = 1; avoid >= 0; avoid--) { /* a range covering everything: ignore it */
        for (uint32_t attempt = 0; attempt < slots; attempt++) {
            const uint32_t start = first + ((seed * 2654435761u + attempt) % slots) * step;
            if (start + count >= 65536u || (avoid && start <= hi && start + count > lo))
                continue;
            uint32_t k = 0;
            while (k < count && port_free(start + k))
                k++;
            if (k == count) {
                *base = start;
                return 0;
            }
        }
    }
    return mn_err_set(err, MN_ENOTFOUND, 0, "no %u free consecutive ports", count);
}
