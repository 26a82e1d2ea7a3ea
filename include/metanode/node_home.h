/* SPDX-License-Identifier: Apache-2.0
 *
 * node_home.h: a node's home directory. Layout:
 *   DIR/node_key.json    Ed25519 identity (keyfile.h, 0600)
 *   DIR/vrf_key.json     VRF key (keyfile.h, 0600)
 *   DIR/config.json      {"listen": "host:port", "api": "host:port", "peers": ["host:port"...],
 *                         "log_level": "info", "asmap": "FILE"} (strict: unknown keys refused;
 *                         "asmap", optional, names an ASN map (relay_addrbook.h) relative to
 *                         DIR or absolute: the relay then groups peers by AS number and caps
 *                         outbound peers per region; without it, by /16 and /32)
 *   DIR/genesis.json     the chain's genesis (ledger.h), written by `metanode testnet`
 *   DIR/data/ledger.db   the SQLite ledger
 *   DIR/data/anchors.cbor the relay's outbound peers at the last run (relay_addrbook.h), dialled
 *                         first at start
 * Not here: running the node (node.h).
 */
#ifndef METANODE_NODE_HOME_H
#define METANODE_NODE_HOME_H

#include <stdbool.h>
#include <stdint.h>

#include "metanode/error.h"
#include "metanode/sign.h"
#include "metanode/vrf.h"

#define MN_HOME_PEERS_MAX 64u
#define MN_HOME_PATH_MAX 4096u

typedef struct mn_home_config {
    char listen[64];
    char api[64];
    char log_level[16];
    uint32_t peer_count;
    char peers[MN_HOME_PEERS_MAX][64];
    char asmap[256]; /* "" when absent */
} mn_home_config;

typedef struct mn_home_keys {
    mn_keypair key;
    uint8_t vrf_pk[MN_VRF_PUBLICKEY_BYTES];
    uint8_t vrf_sk[MN_VRF_SECRETKEY_BYTES];
    uint8_t noise_priv[32];  /* BPCI static key, derived from key's seed (bpci.h) */
    uint8_t noise_pub[32];
} mn_home_keys;

/* "DIR/name" into out (MN_HOME_PATH_MAX); MN_ELIMIT if too long. */
int mn_home_path(char *out, const char *dir, const char *name, mn_err *err);
/* Creates DIR (0700) if absent, its keys (MN_EEXIST if any key file exists) and config.json.
 * keys (may be NULL) receives the new keys. */
int mn_home_init(const char *dir, const mn_home_config *cfg, mn_home_keys *keys, mn_err *err);
int mn_home_load_config(const char *dir, mn_home_config *cfg, mn_err *err);
int mn_home_save_config(const char *dir, const mn_home_config *cfg, bool overwrite, mn_err *err);
int mn_home_load_keys(const char *dir, mn_home_keys *keys, mn_err *err);
void mn_home_keys_wipe(mn_home_keys *keys);
/* Finds `count` consecutive free TCP ports on 127.0.0.1 (each bound and released once),
 * starting the search at a pseudo-random point of [10000, 65535) drawn from seed, outside the
 * kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range) unless nothing else is
 * free. For tests and `metanode dev`; racy by nature (another process may take a port before
 * it is used), but never against the local ports of outgoing connections. */
int mn_home_free_ports(uint32_t count, uint32_t seed, uint32_t *base, mn_err *err);

#endif
