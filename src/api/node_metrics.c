/* SPDX-License-Identifier: Apache-2.0
 *
 * node_metrics.c: the standard metrics of a node (metrics.h, mn_node_metrics): registers them in
 * one registry and renders them followed by the BPCI runtime's counters. It does not read the
 * node: the node updates the values.
 */
#include <string.h>

#include "metanode/bpci_node.h"
#include "metanode/metrics.h"

int mn_node_metrics_init(mn_node_metrics *m, mn_err *err)
{
    memset(m, 0, sizeof *m);
    static const uint64_t buckets[] = MN_NODE_LATENCY_BUCKETS_NS;
    static const char *const directions[] = {"in", "out"};
    const struct {
        mn_metric_desc d;
        mn_metric **out;
    } all[] = {
        {{.name = "mn_node_height", .help = "Last committed height.", .kind = MN_METRIC_GAUGE},
         &m->height},
        {{.name = "mn_node_round", .help = "Consensus round of the height being decided.",
          .kind = MN_METRIC_GAUGE}, &m->round},
        {{.name = "mn_node_peers", .help = "Peers with an established session.",
          .kind = MN_METRIC_GAUGE}, &m->peers},
        {{.name = "mn_node_mempool_txs", .help = "Transactions waiting in the mempool.",
          .kind = MN_METRIC_GAUGE}, &m->mempool_txs},
        {{.name = "mn_node_mempool_bytes", .help = "Bytes of the transactions in the mempool.",
          .kind = MN_METRIC_GAUGE}, &m->mempool_bytes},
        {{.name = "mn_node_txs_committed_total", .help = "Transactions in committed blocks.",
          .kind = MN_METRIC_COUNTER}, &m->txs_committed},
        {{.name = "mn_node_blocks_committed_total", .help = "Blocks committed.",
          .kind = MN_METRIC_COUNTER}, &m->blocks_committed},
        {{.name = "mn_node_commit_latency_seconds",
          .help = "Time from the start of a height to its decision.",
          .kind = MN_METRIC_HISTOGRAM, .buckets = buckets,
          .bucket_count = sizeof buckets / sizeof buckets[0], .ns_as_seconds = true},
         &m->commit_latency},
        {{.name = "mn_node_bytes_total", .help = "Bytes received and sent to peers.",
          .kind = MN_METRIC_COUNTER, .label = "direction", .label_values = directions,
          .label_count = 2}, &m->bytes},
    };
    MN_TRY(mn_metrics_new(&m->registry, err));
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const int rc = mn_metrics_add(m->registry, &all[i].d, all[i].out, err);
        if (rc != 0) {
            mn_node_metrics_deinit(m);
            return rc;
        }
    }
    return 0;
}

void mn_node_metrics_deinit(mn_node_metrics *m)
{
    mn_metrics_free(m->registry);
    memset(m, 0, sizeof *m);
}

int mn_node_metrics_render(const mn_node_metrics *m, const struct mn_bpci_metrics *bpci,
                           mn_buf *out, mn_err *err)
{
    MN_TRY(mn_metrics_render(m->registry, out, err));
    return bpci != NULL ? mn_bpci_metrics_prometheus(bpci, out, err) : 0;
}
