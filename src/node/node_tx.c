/* SPDX-License-Identifier: Apache-2.0
 *
 * node_tx.c: transactions: client submissions and batches from peers are admitted to the mempool
 * in slices from an idle handle (consensus messages are never queued behind a batch) and
 * gossiped to the validators in batches; the relay carries them to followers. Not here: the
 * relay (node_relay.c).
 */
#include "node_internal.h"

/* ---- transactions -------------------------------------------------------------------------- */

void mn__node_tx_flush(mn_node *n)
{
    if (n->tx_count == 0)
        return;
    const uint8_t *ptrs[MN_NODE_TX_BATCH_MAX];
    for (uint32_t i = 0; i < n->tx_count; i++)
        ptrs[i] = n->txbuf.data + n->tx_off[i];
    mn_err err;
    n->scratch.len = 0;
    if (mn_nmsg_encode_txs(ptrs, n->tx_len, n->tx_count, &n->scratch, &err) == 0)
        mn__node_send_validators(n, MN_NODE_SVC_TX, &n->scratch);
    n->tx_count = 0;
    n->txbuf.len = 0;
}

static void tx_gossip(mn_node *n, const uint8_t *tx, size_t len)
{
    mn_err err;
    if (n->tx_count == MN_NODE_TX_BATCH_MAX || n->txbuf.len + len > MN_NODE_TX_BATCH_BYTES)
        mn__node_tx_flush(n);
    n->tx_off[n->tx_count] = n->txbuf.len;
    if (mn_buf_append(&n->txbuf, tx, len, &err) != 0)
        return;
    n->tx_len[n->tx_count++] = len;
}

void mn_node_gossip_tx(mn_node *n, const uint8_t *tx, size_t len)
{
    tx_gossip(n, tx, len);
    mn_relay_driver_publish_tx(n->relay, tx, len);
}

int mn_node_submit_tx(mn_node *n, const uint8_t *tx, size_t len, uint8_t hash[32], mn_err *err)
{
    MN_TRY(mn_mempool_add(n->mp, n->ledger, tx, len, hash, err));
    mn_node_gossip_tx(n, tx, len);
    return 0;
}

static void on_admit(uv_idle_t *h)
{
    mn_node *n = h->data;
    const uint64_t t0 = now_ns();
    mn_err err;
    while (n->inq_off < n->inq.len && now_ns() - t0 < MN_NODE_ADMIT_SLICE_US * 1000u) {
        const uint8_t *p = n->inq.data + n->inq_off;
        uint32_t len;
        memcpy(&len, p, 4);
        const bool relay = p[4] != 0;
        if (mn_mempool_add(n->mp, n->ledger, p + 5, len, NULL, &err) == 0 && relay)
            tx_gossip(n, p + 5, len);
        n->inq_off += 5 + (size_t)len;
    }
    if (n->inq_off == n->inq.len) {
        n->inq.len = n->inq_off = 0;
        uv_idle_stop(&n->admit);
        n->admit_on = false;
    } else if (n->inq_off > n->inq.len / 2) {
        memmove(n->inq.data, n->inq.data + n->inq_off, n->inq.len - n->inq_off);
        n->inq.len -= n->inq_off;
        n->inq_off = 0;
    }
}

void mn__node_on_txs(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                     const uint8_t *data, size_t len)
{
    mn_node *n = ctx;
    n->bytes_in += len;
    static _Thread_local mn_nmsg m;
    mn_err err;
    (void)svc;
    if (n->closing || n->failed || mn_nmsg_decode(data, len, &m, &err) != 0 ||
        m.kind != MN_NMSG_TXS)
        return;
    const peer *p = mn__node_peer_find(n, from, false);
    const uint8_t relay = p == NULL || !p->validator; /* a client's txs go to the validators */
    for (uint32_t i = 0; i < m.tx_count; i++) {
        const uint32_t tl = (uint32_t)m.tx_lens[i];
        if (n->inq.len - n->inq_off + 5 + tl > MN_NODE_TX_QUEUE_BYTES) {
            n->txs_dropped++; /* the mempool is behind: shed load at the door */
            continue;
        }
        if (mn_buf_append(&n->inq, &tl, 4, &err) != 0 ||
            mn_buf_append(&n->inq, &relay, 1, &err) != 0 ||
            mn_buf_append(&n->inq, m.txs[i], tl, &err) != 0)
            break;
    }
    if (!n->admit_on && n->inq.len > n->inq_off) {
        uv_idle_start(&n->admit, on_admit);
        n->admit_on = true;
    }
}
