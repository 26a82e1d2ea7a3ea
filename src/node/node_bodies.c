/* SPDX-License-Identifier: Apache-2.0
 *
 * node_bodies.c: block bodies a node holds for proposals it made or received, keyed by their
 * payload hash, dropped once committed. A body from the network is kept only if it hashes to the
 * payload it claims. Not here: validation (node_core.c).
 */
#include "node_internal.h"

/* ---- bodies -------------------------------------------------------------------------------- */

static void body_hash(uint8_t out[32], const uint8_t *body, size_t len)
{
    mn_sha256_tagged(out, MN_TAG_BLOCK_BODY, body, len);
}

body_entry *mn__node_body_find(mn_node *n, const uint8_t payload[32])
{
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        if (n->bodies[i].used && memcmp(n->bodies[i].payload, payload, 32) == 0)
            return &n->bodies[i];
    return NULL;
}

/* Keeps a copy of a body whose hash is payload (checked by the caller). */
void mn__node_body_put(mn_node *n, uint64_t height, const uint8_t payload[32], const uint8_t *body,
                     size_t len)
{
    if (mn__node_body_find(n, payload) != NULL || height <= mn_ledger_height(n->ledger))
        return;
    body_entry *slot = NULL;
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++) {
        body_entry *e = &n->bodies[i];
        if (!e->used) {
            slot = e;
            break;
        }
        if (slot == NULL || e->height < slot->height)
            slot = e;
    }
    mn_err err;
    slot->body.len = 0;
    if (mn_buf_append(&slot->body, body, len, &err) != 0) {
        slot->used = false;
        return;
    }
    slot->used = true;
    slot->height = height;
    memcpy(slot->payload, payload, 32);
}

/* A body received from the network: kept only if it hashes to the payload it claims. */
bool mn__node_body_offer(mn_node *n, uint64_t height, const uint8_t payload[32],
                       const uint8_t *body, size_t len)
{
    uint8_t h[32];
    body_hash(h, body, len);
    if (memcmp(h, payload, 32) != 0)
        return false;
    mn__node_body_put(n, height, payload, body, len);
    return true;
}

void mn__node_bodies_prune(mn_node *n)
{
    const uint64_t committed = mn_ledger_height(n->ledger);
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        if (n->bodies[i].used && n->bodies[i].height <= committed)
            n->bodies[i].used = false;
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        if (n->parked[i].used && n->parked[i].header.height <= committed)
            n->parked[i].used = false;
}
