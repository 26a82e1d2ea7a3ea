/* SPDX-License-Identifier: Apache-2.0
 *
 * metrics.h: a small Prometheus registry: counters, gauges and histograms with fixed integer
 * bucket bounds, each optionally with ONE label whose values are fixed at registration (e.g.
 * direction="in"|"out"), rendered in the text exposition format 0.0.4 into an mn_buf.
 *
 * No floating point anywhere in the state: values are integers. A metric registered with
 * ns_as_seconds holds nanoseconds and is rendered in seconds as exact decimal text
 * (1500000 ns -> "0.0015"), as Prometheus' base unit convention wants.
 *
 * The registry is a fixed-size table (MN_METRICS_MAX metrics, limits.h) allocated once;
 * updating a metric never allocates and never fails. Not thread-safe: update and render on one
 * thread (the node's loop). Not here: summaries, timestamps, the OpenMetrics format.
 */
#ifndef METANODE_METRICS_H
#define METANODE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"

typedef enum mn_metric_kind {
    MN_METRIC_COUNTER = 1, /* monotone uint64; rendered with the _total suffix as given */
    MN_METRIC_GAUGE = 2,   /* int64, set or added to */
    MN_METRIC_HISTOGRAM = 3, /* uint64 observations into fixed buckets, plus _sum and _count */
} mn_metric_kind;

typedef struct mn_metrics mn_metrics;
typedef struct mn_metric mn_metric;

/* What to register. Strings are copied. */
typedef struct mn_metric_desc {
    const char *name;          /* [a-zA-Z_:][a-zA-Z0-9_:]*, at most MN_METRIC_NAME_BYTES_MAX */
    const char *help;          /* one line of text (escaped on output); may be NULL */
    mn_metric_kind kind;
    const char *label;         /* label name, or NULL for an unlabelled metric */
    const char *const *label_values; /* label_count values (fixed), when label is set */
    uint32_t label_count;      /* 1..MN_METRIC_LABEL_VALUES_MAX when label is set */
    const uint64_t *buckets;   /* histograms: strictly ascending upper bounds (+Inf implied) */
    uint32_t bucket_count;     /* 1..MN_METRIC_BUCKETS_MAX */
    bool ns_as_seconds;        /* values and bucket bounds are ns, rendered as seconds */
} mn_metric_desc;

int mn_metrics_new(mn_metrics **out, mn_err *err);
void mn_metrics_free(mn_metrics *m);

/* Registers a metric; *out is a handle valid until mn_metrics_free. MN_EINVAL for a bad name,
 * label or bucket list, MN_EEXIST for a name already registered, MN_ELIMIT when full. */
int mn_metrics_add(mn_metrics *m, const mn_metric_desc *d, mn_metric **out, mn_err *err);

/* Updates. label_index selects the label value (0 for an unlabelled metric); an index out of
 * range or a call on the wrong kind is a programmer error (asserted). */
void mn_metric_inc(mn_metric *x, uint32_t label_index, uint64_t by);      /* counter, gauge */
void mn_metric_set(mn_metric *x, uint32_t label_index, int64_t value);    /* gauge */
void mn_metric_observe(mn_metric *x, uint32_t label_index, uint64_t value); /* histogram */
/* Counter sets from an external monotone source (e.g. BPCI's byte counters). */
void mn_metric_set_counter(mn_metric *x, uint32_t label_index, uint64_t value);
/* Reads back (tests): counters and gauges their value, histograms their count. */
int64_t mn_metric_value(const mn_metric *x, uint32_t label_index);

/* Appends every metric, in registration order, in the text format 0.0.4. */
int mn_metrics_render(const mn_metrics *m, mn_buf *out, mn_err *err);

/* Appends v nanoseconds as decimal seconds with no trailing zeros ("0", "0.25", "12.000001").
 * Used by the renderer; exposed for tests and for other exporters. */
int mn_metrics_append_seconds(mn_buf *out, uint64_t ns, mn_err *err);

/* ---- the node's standard set ------------------------------------------------------------ */

struct mn_bpci_metrics;

/* The metrics every node exports (docs/api.md lists them). The node updates them with the
 * mn_metric_* calls above as things happen (or before rendering) and renders them, with
 * BPCI's counters appended, from its mn_api_callbacks.metrics callback. */
typedef struct mn_node_metrics {
    mn_metrics *registry;
    mn_metric *height;          /* gauge mn_node_height: last committed height */
    mn_metric *round;           /* gauge mn_node_round: round of the height being decided */
    mn_metric *peers;           /* gauge mn_node_peers: peers with an established session */
    mn_metric *mempool_txs;     /* gauge mn_node_mempool_txs */
    mn_metric *mempool_bytes;   /* gauge mn_node_mempool_bytes */
    mn_metric *txs_committed;   /* counter mn_node_txs_committed_total */
    mn_metric *blocks_committed; /* counter mn_node_blocks_committed_total */
    mn_metric *commit_latency;  /* histogram mn_node_commit_latency_seconds (observe ns) */
    mn_metric *bytes;           /* counter mn_node_bytes_total{direction="in"|"out"} (index 0 / 1) */
} mn_node_metrics;

/* Bucket bounds of mn_node_commit_latency_seconds, in ns: 5 ms .. 10 s. */
#define MN_NODE_LATENCY_BUCKETS_NS                                                             \
    {5000000ull, 10000000ull, 25000000ull, 50000000ull, 100000000ull, 250000000ull,            \
     500000000ull, 1000000000ull, 2500000000ull, 5000000000ull, 10000000000ull}

int mn_node_metrics_init(mn_node_metrics *m, mn_err *err);
void mn_node_metrics_deinit(mn_node_metrics *m);
/* Appends the registry, then bpci's counters when bpci is not NULL. */
int mn_node_metrics_render(const mn_node_metrics *m, const struct mn_bpci_metrics *bpci,
                           mn_buf *out, mn_err *err);

#endif
