/* SPDX-License-Identifier: Apache-2.0
 *
 * metrics.c: the Prometheus registry of metrics.h: a fixed table of counters, gauges and
 * histograms with integer state and one optional fixed-valued label, rendered in the text
 * exposition format 0.0.4. It does not serve HTTP (api_server.c does) and keeps no history.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metanode/assert.h"
#include "metanode/metrics.h"

struct mn_metric {
    mn_metric_kind kind;
    char name[MN_METRIC_NAME_BYTES_MAX + 1];
    char help[MN_METRIC_HELP_BYTES_MAX + 1];
    char label[MN_METRIC_NAME_BYTES_MAX + 1]; /* "" when unlabelled */
    char label_values[MN_METRIC_LABEL_VALUES_MAX][MN_METRIC_LABEL_BYTES_MAX + 1];
    uint32_t series;                          /* 1 when unlabelled, else label_count */
    uint64_t buckets[MN_METRIC_BUCKETS_MAX];
    uint32_t bucket_count;
    bool ns_as_seconds;
    /* state, per series */
    int64_t value[MN_METRIC_LABEL_VALUES_MAX];     /* counters (as uint64 bits) and gauges */
    uint64_t counts[MN_METRIC_LABEL_VALUES_MAX][MN_METRIC_BUCKETS_MAX + 1]; /* last: +Inf */
    uint64_t sum[MN_METRIC_LABEL_VALUES_MAX];
    uint64_t count[MN_METRIC_LABEL_VALUES_MAX];
};

struct mn_metrics {
    uint32_t count;
    mn_metric items[MN_METRICS_MAX];
};

int mn_metrics_new(mn_metrics **out, mn_err *err)
{
    mn_metrics *m = calloc(1, sizeof *m);
    if (m == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "metrics: out of memory");
    *out = m;
    return 0;
}

void mn_metrics_free(mn_metrics *m)
{
    free(m);
}

static bool valid_name(const char *s, bool allow_colon)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MN_METRIC_NAME_BYTES_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char c = s[i];
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                           (allow_colon && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    if (!allow_colon && n >= 2 && s[0] == '_' && s[1] == '_')
        return false; /* label names starting with __ are reserved */
    return true;
}

static bool valid_text(const char *s, size_t max)
{
    if (strlen(s) > max)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            return false;
    return true;
}

int mn_metrics_add(mn_metrics *m, const mn_metric_desc *d, mn_metric **out, mn_err *err)
{
    if (!valid_name(d->name, true))
        return mn_err_set(err, MN_EINVAL, 0, "metrics: bad metric name");
    if (d->kind != MN_METRIC_COUNTER && d->kind != MN_METRIC_GAUGE &&
        d->kind != MN_METRIC_HISTOGRAM)
        return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: bad kind", d->name);
    if (d->help != NULL && !valid_text(d->help, MN_METRIC_HELP_BYTES_MAX))
        return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: bad help text", d->name);
    if (d->label != NULL) {
        if (!valid_name(d->label, false) || strcmp(d->label, "le") == 0)
            return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: bad label name", d->name);
        if (d->label_count == 0 || d->label_count > MN_METRIC_LABEL_VALUES_MAX ||
            d->label_values == NULL)
            return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: 1..%u label values", d->name,
                              MN_METRIC_LABEL_VALUES_MAX);
        for (uint32_t i = 0; i < d->label_count; i++)
            if (d->label_values[i] == NULL ||
                !valid_text(d->label_values[i], MN_METRIC_LABEL_BYTES_MAX))
                return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: bad label value", d->name);
    }
    if (d->kind == MN_METRIC_HISTOGRAM) {
        if (d->bucket_count == 0 || d->bucket_count > MN_METRIC_BUCKETS_MAX || !d->buckets)
            return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: 1..%u buckets", d->name,
                              MN_METRIC_BUCKETS_MAX);
        for (uint32_t i = 1; i < d->bucket_count; i++)
            if (d->buckets[i] <= d->buckets[i - 1])
                return mn_err_set(err, MN_EINVAL, 0, "metrics: %s: buckets not ascending",
                                  d->name);
    }
    for (uint32_t i = 0; i < m->count; i++)
        if (strcmp(m->items[i].name, d->name) == 0)
            return mn_err_set(err, MN_EEXIST, 0, "metrics: %s registered twice", d->name);
    if (m->count == MN_METRICS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "metrics: more than %u metrics", MN_METRICS_MAX);

    mn_metric *x = &m->items[m->count];
    memset(x, 0, sizeof *x);
    x->kind = d->kind;
    memcpy(x->name, d->name, strlen(d->name));
    if (d->help != NULL)
        memcpy(x->help, d->help, strlen(d->help));
    x->series = 1;
    if (d->label != NULL) {
        memcpy(x->label, d->label, strlen(d->label));
        x->series = d->label_count;
        for (uint32_t i = 0; i < d->label_count; i++)
            memcpy(x->label_values[i], d->label_values[i], strlen(d->label_values[i]));
    }
    if (d->kind == MN_METRIC_HISTOGRAM) {
        x->bucket_count = d->bucket_count;
        memcpy(x->buckets, d->buckets, d->bucket_count * sizeof d->buckets[0]);
    }
    x->ns_as_seconds = d->ns_as_seconds;
    m->count++;
    *out = x;
    return 0;
}

void mn_metric_inc(mn_metric *x, uint32_t label_index, uint64_t by)
{
    MN_ASSERT(x->kind != MN_METRIC_HISTOGRAM && label_index < x->series);
    x->value[label_index] = (int64_t)((uint64_t)x->value[label_index] + by);
}

void mn_metric_set(mn_metric *x, uint32_t label_index, int64_t value)
{
    MN_ASSERT(x->kind == MN_METRIC_GAUGE && label_index < x->series);
    x->value[label_index] = value;
}

void mn_metric_set_counter(mn_metric *x, uint32_t label_index, uint64_t value)
{
    MN_ASSERT(x->kind == MN_METRIC_COUNTER && label_index < x->series);
    x->value[label_index] = (int64_t)value;
}

void mn_metric_observe(mn_metric *x, uint32_t label_index, uint64_t value)
{
    MN_ASSERT(x->kind == MN_METRIC_HISTOGRAM && label_index < x->series);
    uint32_t b = 0;
    while (b < x->bucket_count && value > x->buckets[b])
        b++;
    x->counts[label_index][b]++; /* non-cumulative here; cumulated when rendering */
    x->sum[label_index] += value;
    x->count[label_index]++;
}

int64_t mn_metric_value(const mn_metric *x, uint32_t label_index)
{
    MN_ASSERT(label_index < x->series);
    if (x->kind == MN_METRIC_HISTOGRAM)
        return (int64_t)x->count[label_index];
    return x->value[label_index];
}

/* ---- rendering ---------------------------------------------------------------------------- */

static int append_fmt(mn_buf *out, mn_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int append_fmt(mn_buf *out, mn_err *err, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    MN_ASSERT(n >= 0 && (size_t)n < sizeof tmp); /* every field is bounded by limits.h */
    return mn_buf_append(out, tmp, (size_t)n, err);
}

int mn_metrics_append_seconds(mn_buf *out, uint64_t ns, mn_err *err)
{
    const uint64_t whole = ns / 1000000000u;
    uint64_t frac = ns % 1000000000u;
    if (frac == 0)
        return append_fmt(out, err, "%" PRIu64, whole);
    int digits = 9;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    return append_fmt(out, err, "%" PRIu64 ".%0*" PRIu64, whole, digits, frac);
}

static int append_value(mn_buf *out, const mn_metric *x, uint64_t v, mn_err *err)
{
    if (x->ns_as_seconds)
        return mn_metrics_append_seconds(out, v, err);
    return append_fmt(out, err, "%" PRIu64, v);
}

/* Escapes help text (\\ and \n) or a label value (also "). Input is bounded and control-free. */
static int append_escaped(mn_buf *out, const char *s, bool quote, mn_err *err)
{
    char tmp[2 * MN_METRIC_HELP_BYTES_MAX + 1];
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '\\' || (quote && *p == '"'))
            tmp[n++] = '\\';
        tmp[n++] = *p;
    }
    return mn_buf_append(out, tmp, n, err);
}

/* The "{label="value"" part, without the closing brace; nothing when unlabelled. */
static int append_labels(mn_buf *out, const mn_metric *x, uint32_t s, bool more, mn_err *err)
{
    if (x->label[0] == '\0')
        return more ? mn_buf_append(out, "{", 1, err) : 0;
    MN_TRY(append_fmt(out, err, "{%s=\"", x->label));
    MN_TRY(append_escaped(out, x->label_values[s], true, err));
    return mn_buf_append(out, more ? "\"," : "\"}", 2, err);
}

static int render_one(mn_buf *out, const mn_metric *x, mn_err *err)
{
    static const char *const types[] = {"", "counter", "gauge", "histogram"};
    if (x->help[0] != '\0') {
        MN_TRY(append_fmt(out, err, "# HELP %s ", x->name));
        MN_TRY(append_escaped(out, x->help, false, err));
        MN_TRY(mn_buf_append(out, "\n", 1, err));
    }
    MN_TRY(append_fmt(out, err, "# TYPE %s %s\n", x->name, types[x->kind]));
    for (uint32_t s = 0; s < x->series; s++) {
        if (x->kind != MN_METRIC_HISTOGRAM) {
            MN_TRY(mn_buf_append(out, x->name, strlen(x->name), err));
            MN_TRY(append_labels(out, x, s, false, err));
            if (x->kind == MN_METRIC_GAUGE && x->value[s] < 0 && !x->ns_as_seconds)
                MN_TRY(append_fmt(out, err, " %" PRId64 "\n", x->value[s]));
            else {
                const uint64_t v = x->kind == MN_METRIC_GAUGE && x->value[s] < 0
                                       ? 0 : (uint64_t)x->value[s];
                MN_TRY(mn_buf_append(out, " ", 1, err));
                MN_TRY(append_value(out, x, v, err));
                MN_TRY(mn_buf_append(out, "\n", 1, err));
            }
            continue;
        }
        uint64_t cumulative = 0;
        for (uint32_t b = 0; b <= x->bucket_count; b++) {
            cumulative += x->counts[s][b];
            MN_TRY(append_fmt(out, err, "%s_bucket", x->name));
            MN_TRY(append_labels(out, x, s, true, err));
            MN_TRY(mn_buf_append(out, "le=\"", 4, err));
            if (b == x->bucket_count)
                MN_TRY(mn_buf_append(out, "+Inf", 4, err));
            else
                MN_TRY(append_value(out, x, x->buckets[b], err));
            MN_TRY(append_fmt(out, err, "\"} %" PRIu64 "\n", cumulative));
        }
        MN_TRY(append_fmt(out, err, "%s_sum", x->name));
        MN_TRY(append_labels(out, x, s, false, err));
        MN_TRY(mn_buf_append(out, " ", 1, err));
        MN_TRY(append_value(out, x, x->sum[s], err));
        MN_TRY(append_fmt(out, err, "\n%s_count", x->name));
        MN_TRY(append_labels(out, x, s, false, err));
        MN_TRY(append_fmt(out, err, " %" PRIu64 "\n", x->count[s]));
    }
    return 0;
}

int mn_metrics_render(const mn_metrics *m, mn_buf *out, mn_err *err)
{
    for (uint32_t i = 0; i < m->count; i++)
        MN_TRY(render_one(out, &m->items[i], err));
    return 0;
}
