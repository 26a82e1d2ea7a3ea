/* SPDX-License-Identifier: Apache-2.0
 *
 * log.h: levelled logging with a subsystem scope and key=value fields. The level is checked
 * before formatting. The sink is replaceable (text to stderr by default, JSON lines on request).
 * A log call never changes deterministic state; never log secrets or whole untrusted payloads.
 */
#ifndef METANODE_LOG_H
#define METANODE_LOG_H

typedef enum mn_log_level {
    MN_LOG_TRACE = 0,
    MN_LOG_DEBUG = 1,
    MN_LOG_INFO = 2,
    MN_LOG_WARN = 3,
    MN_LOG_ERROR = 4,
    MN_LOG_OFF = 5,
} mn_log_level;

typedef void (*mn_log_sink)(void *ctx, mn_log_level level, const char *scope, const char *msg);

extern mn_log_level mn_log_threshold;

void mn_log_set_level(mn_log_level level);
/* Parses "trace|debug|info|warn|error|off"; returns -1 on an unknown name. */
int mn_log_level_parse(const char *name, mn_log_level *out);
const char *mn_log_level_name(mn_log_level level);
/* Replaces the sink; NULL restores the default text sink on stderr. */
void mn_log_set_sink(mn_log_sink sink, void *ctx);
/* The JSON-lines sink, usable with mn_log_set_sink(mn_log_sink_json, NULL). */
void mn_log_sink_json(void *ctx, mn_log_level level, const char *scope, const char *msg);

void mn_log_emit(mn_log_level level, const char *scope, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define MN_LOG(level, scope, ...)                                                              \
    do {                                                                                       \
        if (MN_LOG_##level >= mn_log_threshold)                                                \
            mn_log_emit(MN_LOG_##level, scope, __VA_ARGS__);                                   \
    } while (0)

#endif
