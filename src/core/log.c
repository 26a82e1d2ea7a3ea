/* SPDX-License-Identifier: Apache-2.0
 *
 * log.c: the logger behind MN_LOG. Messages are formatted into a fixed stack buffer (long ones
 * are truncated), then handed to the sink. Not thread-safe by design: each process logs from
 * its event loop thread.
 */
#include "metanode/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

mn_log_level mn_log_threshold = MN_LOG_WARN;

static const char *const level_names[] = {"trace", "debug", "info", "warn", "error", "off"};

static void sink_text(void *ctx, mn_log_level level, const char *scope, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "%s [%s] %s\n", level_names[level], scope, msg);
}

static mn_log_sink current_sink = sink_text;
static void *current_ctx = NULL;

void mn_log_set_level(mn_log_level level)
{
    mn_log_threshold = level;
}

int mn_log_level_parse(const char *name, mn_log_level *out)
{
    for (int i = 0; i <= (int)MN_LOG_OFF; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (mn_log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *mn_log_level_name(mn_log_level level)
{
    return (unsigned)level <= MN_LOG_OFF ? level_names[level] : "?";
}

void mn_log_set_sink(mn_log_sink sink, void *ctx)
{
    current_sink = sink != NULL ? sink : sink_text;
    current_ctx = sink != NULL ? ctx : NULL;
}

void mn_log_sink_json(void *ctx, mn_log_level level, const char *scope, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "{\"level\":\"%s\",\"scope\":\"", level_names[level]);
    for (const char *p = scope; *p; p++)
        fputc(*p, stderr);
    fputs("\",\"msg\":\"", stderr);
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(stderr, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(stderr, "\\u%04x", *p);
        else
            fputc(*p, stderr);
    }
    fputs("\"}\n", stderr);
}

void mn_log_emit(mn_log_level level, const char *scope, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    current_sink(current_ctx, level, scope, msg);
}
