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
    if (m.header.height > n->relay_block_height) /* a copy is out: no backup publish needed */
        n->relay_block_height = m.header.height;
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

static void on_backup(uv_timer_t *t)
{
    mn_node *n = t->data;
    const uint64_t h = n->backup_height;
    if (n->closing || n->failed || h == 0 || h > mn_ledger_height(n->ledger))
        return;
    n->backup_height = 0;
    if (n->relay_block_height >= h) {
        n->publish_skipped++;
        return;
    }
    static _Thread_local mn_block_header hd;
    static _Thread_local mn_commit_cert c;
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    if (mn_ledger_get_block(n->ledger, h, &hd, &c, &body, &err) == 0) {
        mn_relay_driver_publish_block(n->relay, &hd, &c, body.data, body.len);
        n->published_backup++;
    }
    mn_buf_deinit(&body);
}

void mn__node_relay_decided(mn_node *n, const mn_block_header *h, const mn_commit_cert *c,
                            const uint8_t *body, size_t len)
{
    uint8_t self[MN_ID_BYTES];
    mn_node_id(self, n->key.pk);
    if (memcmp(h->proposer, self, MN_ID_BYTES) == 0) {
        mn_relay_driver_publish_block(n->relay, h, c, body, len);
        n->published_proposer++;
        return;
    }
    if (n->backup_height != 0 && n->backup_height < h->height)
        n->publish_skipped++; /* superseded: followers take the newer one (and sync the gap) */
    n->backup_height = h->height;
    uv_timer_start(&n->backup, on_backup, (uint64_t)MN_NODE_RELAY_BACKUP_MS * (n->self_rank + 1u),
                   0);
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
        if (memcmp(ids[i], self, MN_ID_BYTES) == 0) {
            self_validator = true;
            n->self_rank = i;
        }
    }
    /* where the genesis validators listen: admitted before the handshake, seeds of the book */
    mn_addr *vaddrs = calloc(n->genesis.validator_count + 1u, sizeof(mn_addr));
    uint32_t vcount = 0;
    if (vaddrs == NULL) {
        free(ids);
        return mn_err_set(err, MN_ENOMEM, 0, "relay");
    }
    for (uint32_t i = 0; i < n->genesis.validator_count; i++) {
        char host[64];
        uint16_t port;
        mn_err perr;
        mn_addr *a = &vaddrs[vcount];
        if (mn__node_split_hostport(n->genesis.validators[i].addr, host, sizeof(host), &port,
                                    &perr) == 0 &&
            mn__node_parse_ip(host, a->ip)) {
            a->port = port;
            memcpy(a->node, ids[i], MN_ID_BYTES);
            vcount++;
        }
    }
    mn_addr self_addr;
    memset(&self_addr, 0, sizeof(self_addr));
    if (n->listen != NULL) {
        char host[64];
        uint16_t port;
        mn_err perr;
        if (mn__node_split_hostport(n->listen, host, sizeof(host), &port, &perr) == 0 &&
            mn__node_parse_ip(host, self_addr.ip))
            self_addr.port = port;
    }
    const mn_relay_driver_config rc = {
        .key = &n->key,
        .validators = (const uint8_t(*)[MN_ID_BYTES])ids,
        .validator_count = n->genesis.validator_count,
        .self_validator = self_validator && n->have_vrf,
        .app = {.ctx = n, .on_block = relay_block, .on_tx = relay_tx},
        .validator_addrs = vaddrs,
        .validator_addr_count = vcount,
        .self_addr = self_addr.port != 0 ? &self_addr : NULL,
        .source_host = n->source_host[0] ? n->source_host : NULL,
        .anchors_path = n->anchors_path,
        .asmap = n->cfg.asmap,
    };
    const int r = mn_relay_driver_new(n->loop, n->net, &rc, &n->relay, err);
    free(ids);
    free(vaddrs);
    return r;
}

int mn_node_relay_metrics(mn_node *n, mn_buf *out, mn_err *err)
{
    MN_TRY(mn_relay_driver_metrics(n->relay, out, err));
    char tmp[512];
    const int k = snprintf(tmp, sizeof(tmp),
                           "# HELP mn_relay_block_publish_total Decided blocks this validator "
                           "published on the relay (proposer, backup) or left to another "
                           "copy.\n# TYPE mn_relay_block_publish_total counter\n"
                           "mn_relay_block_publish_total{role=\"proposer\"} %llu\n"
                           "mn_relay_block_publish_total{role=\"backup\"} %llu\n"
                           "mn_relay_block_publish_total{role=\"skipped\"} %llu\n",
                           (unsigned long long)n->published_proposer,
                           (unsigned long long)n->published_backup,
                           (unsigned long long)n->publish_skipped);
    MN_ASSERT(k > 0 && (size_t)k < sizeof(tmp));
    return mn_buf_append(out, tmp, (size_t)k, err);
}
