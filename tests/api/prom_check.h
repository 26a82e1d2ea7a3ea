/* SPDX-License-Identifier: Apache-2.0
 *
 * prom_check.h: a checker of the Prometheus text exposition format 0.0.4 for the API tests
 * (metrics registry and GET /metrics): every line is a "# HELP", a "# TYPE" or a sample
 * `name{label="value",...} number`, every sample's metric family has a TYPE line before it,
 * and TYPE lines are not repeated. Returns the number of samples, or -1 with the bad line.
 */
#ifndef MN_TEST_PROM_CHECK_H
#define MN_TEST_PROM_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool prom_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* Length of a metric name at p (0 if none). */
static inline size_t prom_name_len(const char *p)
{
    size_t n = 0;
    while (p[n] && prom_name_char(p[n], n == 0))
        n++;
    return n;
}

static inline bool prom_number(const char *p)
{
    if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 || strcmp(p, "NaN") == 0)
        return true;
    char *end;
    strtod(p, &end);
    return end != p && *end == '\0';
}

static inline int prom_check(const char *text, char *bad, size_t bad_size)
{
    char typed[256][80];
    int typed_count = 0, samples = 0;
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        if (nl == NULL) {
            snprintf(bad, bad_size, "no final newline");
            return -1;
        }
        char buf[1024];
        size_t len = (size_t)(nl - line);
        if (len >= sizeof buf) {
            snprintf(bad, bad_size, "line too long");
            return -1;
        }
        memcpy(buf, line, len);
        buf[len] = '\0';
        line = nl + 1;
        /* the line under examination, cut to fit (a copy, not snprintf: gcc -O2 flags the
         * intended truncation with -Wformat-truncation) */
        const size_t shown = len < bad_size ? len : bad_size - 1;
        memcpy(bad, buf, shown);
        bad[shown] = '\0';
        if (strncmp(buf, "# HELP ", 7) == 0) {
            if (prom_name_len(buf + 7) == 0)
                return -1;
            continue;
        }
        if (strncmp(buf, "# TYPE ", 7) == 0) {
            size_t n = prom_name_len(buf + 7);
            const char *type = buf + 7 + n + 1;
            if (n == 0 || n >= 80 || buf[7 + n] != ' ' ||
                (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram") &&
                 strcmp(type, "summary") && strcmp(type, "untyped")))
                return -1;
            for (int i = 0; i < typed_count; i++)
                if (strlen(typed[i]) == n && strncmp(typed[i], buf + 7, n) == 0)
                    return -1; /* TYPE repeated */
            if (typed_count == 256)
                return -1;
            memcpy(typed[typed_count], buf + 7, n);
            typed[typed_count++][n] = '\0';
            continue;
        }
        if (buf[0] == '#')
            return -1;
        size_t n = prom_name_len(buf);
        if (n == 0)
            return -1;
        bool family_typed = false;
        for (int i = 0; i < typed_count && !family_typed; i++) {
            size_t t = strlen(typed[i]);
            if (t <= n && strncmp(typed[i], buf, t) == 0 &&
                (t == n || strcmp(buf + t, "_bucket") == 0 || strncmp(buf + t, "_bucket{", 8) == 0 ||
                 strncmp(buf + t, "_sum", 4) == 0 || strncmp(buf + t, "_count", 6) == 0))
                family_typed = true;
        }
        if (!family_typed)
            return -1;
        const char *p = buf + n;
        if (*p == '{') {
            p++;
            while (*p != '}') {
                size_t l = prom_name_len(p);
                if (l == 0 || p[l] != '=' || p[l + 1] != '"')
                    return -1;
                p += l + 2;
                while (*p && *p != '"') {
                    if (*p == '\\') {
                        if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                            return -1;
                        p++;
                    }
                    p++;
                }
                if (*p != '"')
                    return -1;
                p++;
                if (*p == ',')
                    p++;
                else if (*p != '}')
                    return -1;
            }
            p++;
        }
        if (*p != ' ' || !prom_number(p + 1))
            return -1;
        samples++;
    }
    return samples;
}

#endif
