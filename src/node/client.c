/* SPDX-License-Identifier: Apache-2.0
 *
 * client.c: the BPCI client of node_client.h: a throw-away identity, persistent dials to the
 * nodes named by the caller, the sync service for status and blocks, the transaction service
 * for submissions (gossip and relay control are accepted and dropped: nodes treat every peer
 * as a relay peer). Decodes strictly (node_msg.h) and hands results to the caller.
 */
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "metanode/bpci_node.h"
#include "metanode/log.h"
#include "metanode/node_client.h"
#include "metanode/node_msg.h"

struct mn_nclient {
    mn_nclient_callbacks cb;
    mn_bpci_identity ident;
    mn_bpci_registry reg;
    mn_bpci_node *net;
    uint32_t count;
    struct {
        uint8_t id[32];
        uint64_t height;
    } peers[MN_NCLIENT_PEERS_MAX];
    mn_buf scratch;
};

static int peer_index(const mn_nclient *c, const uint8_t id[32])
{
    for (uint32_t i = 0; i < c->count; i++)
        if (memcmp(c->peers[i].id, id, 32) == 0)
            return (int)i;
    return -1;
}

static void on_sync(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                    const uint8_t *data, size_t len)
{
    mn_nclient *c = ctx;
    static _Thread_local mn_nmsg m;
    mn_err err;
    (void)svc;
    const int idx = peer_index(c, from);
    if (idx < 0 || mn_nmsg_decode(data, len, &m, &err) != 0)
        return;
    if (m.kind == MN_NMSG_STATUS) {
        c->peers[idx].height = m.height;
        if (c->cb.on_status)
            c->cb.on_status(c->cb.ctx, (uint32_t)idx, m.height, m.hash, m.root);
    } else if (m.kind == MN_NMSG_SYNC_BLOCK && c->cb.on_block) {
        c->cb.on_block(c->cb.ctx, (uint32_t)idx, &m.header, &m.cert, m.body, m.body_len);
    }
}

/* Nodes treat every peer as a relay peer: the client accepts gossip and relay control and
 * drops them (refusing them would make the BPCI node close the session). */
static void on_relay(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                     const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)from;
    (void)svc;
    (void)data;
    (void)len;
}

int mn_nclient_new(uv_loop_t *loop, const mn_nclient_callbacks *cb, mn_nclient **out,
                   mn_err *err)
{
    mn_nclient *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "client");
    c->cb = *cb;
    mn_keypair kp;
    mn_keypair_generate(&kp);
    mn_bpci_identity_init(&c->ident, &kp, NULL);
    mn_keypair_wipe(&kp);
    mn_bpci_registry_init(&c->reg);
    (void)mn_bpci_registry_add(&c->reg, MN_NODE_SVC_SYNC, true, err);
    (void)mn_bpci_registry_add(&c->reg, MN_NODE_SVC_GOSSIP, true, err);
    (void)mn_bpci_registry_add(&c->reg, MN_NODE_SVC_RELAY_CTRL, true, err);
    (void)mn_bpci_registry_add(&c->reg, MN_NODE_SVC_ADDRS, true, err);
    mn_buf_init(&c->scratch, 0);
    const mn_bpci_node_config nc = {.self = &c->ident, .registry = &c->reg,
                                    .redial_base_ms = 100, .redial_max_ms = 1000};
    int rc = mn_bpci_node_new(loop, &nc, &c->net, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(c->net, MN_NODE_SVC_SYNC, on_sync, c, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(c->net, MN_NODE_SVC_GOSSIP, on_relay, c, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(c->net, MN_NODE_SVC_RELAY_CTRL, on_relay, c, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(c->net, MN_NODE_SVC_ADDRS, on_relay, c, err);
    if (rc != 0) {
        if (c->net) {
            mn_bpci_node_close(c->net);
            while (!mn_bpci_node_closed(c->net))
                uv_run(loop, UV_RUN_ONCE);
        }
        mn_nclient_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int mn_nclient_add_peer(mn_nclient *c, const char *addr, const uint8_t peer_id[32],
                        uint32_t *index, mn_err *err)
{
    if (c->count == MN_NCLIENT_PEERS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "more than %u peers", MN_NCLIENT_PEERS_MAX);
    const char *colon = strrchr(addr, ':');
    char host[64];
    if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" is not host:port", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    const long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535)
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" is not host:port", addr);
    MN_TRY(mn_bpci_node_dial(c->net, host, (uint16_t)port, peer_id, NULL, true, NULL, err));
    memcpy(c->peers[c->count].id, peer_id, 32);
    c->peers[c->count].height = 0;
    if (index)
        *index = c->count;
    c->count++;
    return 0;
}

bool mn_nclient_connected(mn_nclient *c, uint32_t peer)
{
    return peer < c->count && mn_bpci_node_connected(c->net, c->peers[peer].id);
}

uint64_t mn_nclient_height(const mn_nclient *c, uint32_t peer)
{
    return peer < c->count ? c->peers[peer].height : 0;
}

int mn_nclient_send_txs(mn_nclient *c, uint32_t peer, const uint8_t *const *txs,
                        const size_t *lens, uint32_t count, mn_err *err)
{
    if (peer >= c->count)
        return mn_err_set(err, MN_EINVAL, 0, "no peer %u", peer);
    c->scratch.len = 0;
    MN_TRY(mn_nmsg_encode_txs(txs, lens, count, &c->scratch, err));
    return mn_bpci_node_send(c->net, c->peers[peer].id, MN_NODE_SVC_TX, c->scratch.data,
                             c->scratch.len, err);
}

int mn_nclient_request_blocks(mn_nclient *c, uint32_t peer, uint64_t first, uint32_t count,
                              mn_err *err)
{
    if (peer >= c->count)
        return mn_err_set(err, MN_EINVAL, 0, "no peer %u", peer);
    c->scratch.len = 0;
    MN_TRY(mn_nmsg_encode_sync_request(first, count, &c->scratch, err));
    return mn_bpci_node_send(c->net, c->peers[peer].id, MN_NODE_SVC_SYNC, c->scratch.data,
                             c->scratch.len, err);
}

void mn_nclient_close(mn_nclient *c)
{
    mn_bpci_node_close(c->net);
}

bool mn_nclient_closed(const mn_nclient *c)
{
    return mn_bpci_node_closed(c->net);
}

void mn_nclient_free(mn_nclient *c)
{
    if (c == NULL)
        return;
    mn_bpci_node_free(c->net);
    mn_bpci_identity_wipe(&c->ident);
    mn_buf_deinit(&c->scratch);
    free(c);
}
