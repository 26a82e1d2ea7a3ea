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
