/* SPDX-License-Identifier: Apache-2.0
 *
 * node_peers.c: the node's peer table: peers come and go (BPCI events, passed on to the relay
 * driver), are classified as validators by the ledger's set, and are sent to. Not here: what the
 * messages mean (node_consensus.c, node_sync.c, node_tx.c).
 */
#include "node_internal.h"

/* ---- peers ------------------------------------------------------------------------------- */

peer *mn__node_peer_find(mn_node *n, const uint8_t id[MN_ID_BYTES], bool create)
{
    peer *free_slot = NULL;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++) {
        if (n->peers[i].used && memcmp(n->peers[i].id, id, MN_ID_BYTES) == 0)
            return &n->peers[i];
        if (!n->peers[i].used && free_slot == NULL)
            free_slot = &n->peers[i];
    }
    if (!create || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = true;
    memcpy(free_slot->id, id, MN_ID_BYTES);
    return free_slot;
}

bool mn__node_is_validator_id(mn_node *n, const uint8_t id[MN_ID_BYTES])
{
    const mn_bft_valset *vs = mn_ledger_valset_at(n->ledger, mn_ledger_height(n->ledger) + 1);
    return vs != NULL && mn_bft_valset_find(vs, id) >= 0;
}

void mn__node_on_peer(void *ctx, const uint8_t id[MN_ID_BYTES], bool up)
{
    mn_node *n = ctx;
    peer *p = mn__node_peer_find(n, id, up);
    if (p == NULL)
        return;
    p->up = up;
    p->validator = mn__node_is_validator_id(n, id);
    char h[17];
    hex8(h, id);
    MN_LOG(INFO, "node", "peer %s... %s", h, up ? "up" : "down");
    mn_relay_driver_peer(n->relay, id, up);
    if (!up && !p->validator)
        p->used = false;
}

void mn__node_send_to(mn_node *n, const uint8_t id[MN_ID_BYTES], uint16_t svc, const mn_buf *b)
{
    mn_err err;
    if (mn_bpci_node_send(n->net, id, svc, b->data, b->len, &err) != 0)
        MN_LOG(DEBUG, "node", "send on service %u: %s", svc, err.msg);
    else
        n->bytes_out += b->len;
}

void mn__node_send_validators(mn_node *n, uint16_t svc, const mn_buf *b)
{
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        if (n->peers[i].used && n->peers[i].up && n->peers[i].validator)
            mn__node_send_to(n, n->peers[i].id, svc, b);
}

int mn__node_split_hostport(const char *text, char *host, size_t host_max, uint16_t *port,
                          mn_err *err)
{
    const char *colon = strrchr(text, ':');
    char *end;
    if (colon == NULL || (size_t)(colon - text) >= host_max || colon == text)
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" is not host:port", text);
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p > 65535 || colon[1] == '\0')
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" is not host:port", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (uint16_t)p;
    return 0;
}

bool mn__node_parse_ip(const char *host, uint8_t ip[16])
{
    memset(ip, 0, 16);
    if (uv_inet_pton(AF_INET, host, ip + 12) == 0) {
        ip[10] = ip[11] = 0xff;
        return true;
    }
    return uv_inet_pton(AF_INET6, host, ip) == 0;
}

bool mn__node_admit(void *ctx, const uint8_t ip[16], uint16_t port)
{
    const mn_node *n = ctx;
    return mn_relay_driver_admit(n->relay, ip, port);
}
