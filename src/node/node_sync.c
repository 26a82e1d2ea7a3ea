/* SPDX-License-Identifier: Apache-2.0
 *
 * node_sync.c: block sync and status: peers report their height; a node behind asks the highest
 * peer for ranges of blocks and commits each after verifying its certificate against the
 * validator set of its height. Not here: relayed blocks (node_relay.c uses on_sync_block).
 */
#include "node_internal.h"

/* ---- sync ---------------------------------------------------------------------------------- */

static void on_sync_request(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    static _Thread_local mn_block_header h;
    static _Thread_local mn_commit_cert c;
    const uint64_t top = mn_ledger_height(n->ledger);
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    for (uint64_t k = m->height; k < m->height + m->count && k <= top; k++) {
        body.len = 0;
        n->scratch.len = 0;
        if (mn_ledger_get_block(n->ledger, k, &h, &c, &body, &err) != 0 ||
            mn_nmsg_encode_sync_block(&h, &c, body.data, body.len, &n->scratch, &err) != 0 ||
            mn_bpci_node_send(n->net, from, MN_NODE_SVC_SYNC, n->scratch.data, n->scratch.len,
                              &err) != 0)
            break;
        n->bytes_out += n->scratch.len;
    }
    mn_buf_deinit(&body);
}

/* 0: committed; 1: not the next height (ignored); MN_ECRYPTO / MN_ECORRUPT: refused. */
int mn__node_on_sync_block(mn_node *n, const mn_nmsg *m)
{
    mn_err err;
    const mn_block_header *h = &m->header;
    if (h->height != mn_ledger_height(n->ledger) + 1)
        return 1;
    mn_bft_chain ch;
    mn_ledger_chain(n->ledger, &ch);
    const mn_bft_valset *vs = mn_ledger_valset_at(n->ledger, h->height);
    if (memcmp(h->parent, ch.parent, MN_BLOCK_ID_BYTES) != 0 || vs == NULL ||
        mn_bft_verify_commit(vs, n->genesis.chain_id, h, &m->cert, NULL, &err) != 0) {
        MN_LOG(WARN, "node", "synced block %llu refused: %s", (unsigned long long)h->height,
               vs == NULL ? "no validator set" : "parent or certificate does not verify");
        return -MN_ECRYPTO;
    }
    if (mn__node_commit(n, h, &m->cert, m->body, m->body_len, &err) != 0) {
        MN_LOG(WARN, "node", "synced block %llu refused: %s", (unsigned long long)h->height,
               err.msg);
        return err.code == MN_ECORRUPT || err.code == MN_ECRYPTO ? -(int)err.code : 1;
    }
    uint64_t txs = 0;
    (void)mn_body_txs(m->body, m->body_len, NULL, NULL, &txs, &err);
    n->txs_committed += txs;
    n->blocks_synced++;
    if (n->cfg.on_commit)
        n->cfg.on_commit(n->cfg.ctx, h->height, 0, txs);
    n->sync_sent_ns = 0; /* progress: the next request may leave at once */
    if ((n->blocks_synced & 255u) == 0)
        MN_LOG(INFO, "node", "synced to height %llu", (unsigned long long)h->height);
    return 0;
}

static void on_status(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    peer *p = mn__node_peer_find(n, from, false);
    if (p != NULL)
        p->height = m->height;
}

void mn__node_on_sync(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                      const uint8_t *data, size_t len)
{
    mn_node *n = ctx;
    n->bytes_in += len;
    static _Thread_local mn_nmsg m;
    mn_err err;
    (void)svc;
    if (n->closing || n->failed)
        return;
    if (mn_nmsg_decode(data, len, &m, &err) != 0) {
        MN_LOG(DEBUG, "node", "bad sync-service message: %s", err.msg);
        return;
    }
    switch (m.kind) {
    case MN_NMSG_STATUS:
        on_status(n, from, &m);
        break;
    case MN_NMSG_SYNC_REQUEST:
        on_sync_request(n, from, &m);
        break;
    case MN_NMSG_SYNC_BLOCK: {
        (void)mn__node_on_sync_block(n, &m);
        mn__node_core_resync(n);
        break;
    }
    default:
        break;
    }
}

/* Asks the highest peer for the next blocks when we are behind. */
void mn__node_maybe_sync(mn_node *n, bool stuck)
{
    const uint64_t ours = mn_ledger_height(n->ledger);
    peer *best = NULL;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++) {
        peer *p = &n->peers[i];
        if (p->used && p->up && p->height > ours && (best == NULL || p->height > best->height))
            best = p;
    }
    if (best == NULL)
        return;
    const uint64_t gap = best->height - ours;
    const bool observer = n->core == NULL || n->core->self < 0;
    if (gap < 2 && !stuck && !observer)
        return;
    const uint64_t t = now_ns();
    if (n->sync_sent_ns != 0 && t - n->sync_sent_ns < 1000 * MS)
        return;
    n->sync_sent_ns = t;
    mn_err err;
    n->scratch.len = 0;
    const uint64_t count = gap < MN_NODE_SYNC_BATCH_MAX ? gap : MN_NODE_SYNC_BATCH_MAX;
    if (mn_nmsg_encode_sync_request(ours + 1, count, &n->scratch, &err) == 0)
        mn__node_send_to(n, best->id, MN_NODE_SVC_SYNC, &n->scratch);
}

void mn__node_send_status(mn_node *n)
{
    mn_err err;
    mn_bft_chain ch;
    uint8_t root[32];
    mn_ledger_chain(n->ledger, &ch);
    mn_ledger_state_root(n->ledger, root);
    n->scratch.len = 0;
    if (mn_nmsg_encode_status(mn_ledger_height(n->ledger), ch.parent, root, &n->scratch, &err) !=
        0)
        return;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        if (n->peers[i].used && n->peers[i].up)
            mn__node_send_to(n, n->peers[i].id, MN_NODE_SVC_SYNC, &n->scratch);
}
