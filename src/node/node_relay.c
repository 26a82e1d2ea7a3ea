/* SPDX-License-Identifier: Apache-2.0
 *
 * node_relay.c: the gossip relay on the node (relay_driver.c): its configuration from the
 * genesis validators and the application callbacks for relayed blocks and transactions. Not
 * here: the relay's own logic (src/net/relay*.c) and the driver (relay_driver.c).
 */
#include "node_internal.h"

/* ---- relay (relay_driver.c): blocks and transactions from the gossip mesh ---------------- */

/* A decided block (a SYNC_BLOCK message) from the relay: checked and committed exactly as a
 * synced one when it is the next height; validators take blocks from consensus (a commit
 * here would restart their core mid-height), and any gap is left to block sync. */
static int relay_block(void *ctx, const uint8_t *payload, size_t len)
{
    mn_node *n = ctx;
    static _Thread_local mn_nmsg m;
    mn_err err;
    if (mn_nmsg_decode(payload, len, &m, &err) != 0 || m.kind != MN_NMSG_SYNC_BLOCK)
        return -MN_ECORRUPT;
    if (n->closing || n->failed || (n->core != NULL && n->core->self >= 0))
        return 0;
    const int rc = mn__node_on_sync_block(n, &m);
    if (rc == 0)
        mn__node_core_resync(n);
    return rc < 0 ? rc : rc == 0;
}

static int relay_tx(void *ctx, const uint8_t *tx, size_t len)
{
    mn_node *n = ctx;
    mn_err err;
    if (n->closing || n->failed)
        return 0;
    if (mn_mempool_add(n->mp, n->ledger, tx, len, NULL, &err) == 0)
        return 1;
    return err.code == MN_ECORRUPT || err.code == MN_ECRYPTO ? -(int)err.code : 0;
}

int mn__node_relay_start(mn_node *n, mn_err *err)
{
    uint8_t(*ids)[MN_ID_BYTES] = calloc(n->genesis.validator_count + 1u, MN_ID_BYTES);
    if (ids == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "relay");
    uint8_t self[MN_ID_BYTES];
    mn_node_id(self, n->key.pk);
    bool self_validator = false;
    for (uint32_t i = 0; i < n->genesis.validator_count; i++) {
        mn_node_id(ids[i], n->genesis.validators[i].pk);
        self_validator |= memcmp(ids[i], self, MN_ID_BYTES) == 0;
    }
    const mn_relay_driver_config rc = {
        .key = &n->key,
        .validators = (const uint8_t(*)[MN_ID_BYTES])ids,
        .validator_count = n->genesis.validator_count,
        .self_validator = self_validator && n->have_vrf,
        .app = {.ctx = n, .on_block = relay_block, .on_tx = relay_tx},
    };
    const int r = mn_relay_driver_new(n->loop, n->net, &rc, &n->relay, err);
    free(ids);
    return r;
}

int mn_node_relay_metrics(mn_node *n, mn_buf *out, mn_err *err)
{
    return mn_relay_driver_metrics(n->relay, out, err);
}
