/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_asmap.c: the ASN map the address book groups addresses by: a small text format (one
 * "PREFIX/LEN ASN REGION" a line, '#' comments) parsed strictly, since the file is shipped data
 * that an operator may replace. Lookup is the longest matching prefix by a linear scan (a few
 * thousand entries, once per address added). Not here: Bitcoin's compressed asmap binary
 * format, which a later change can import into the same structure.
 */
#include <arpa/inet.h>
#include <string.h>

#include "metanode/relay_addrbook.h"

static bool prefix_match(const uint8_t a[16], const uint8_t p[16], uint32_t bits)
{
    uint32_t full = bits / 8, rest = bits % 8;
    if (memcmp(a, p, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (p[full] & mask);
}

const mn_asmap_entry *mn_asmap_lookup(const mn_asmap *map, const uint8_t addr[static 16])
{
    const mn_asmap_entry *best = NULL;
    for (uint32_t i = 0; i < map->count; i++) {
        const mn_asmap_entry *e = &map->entries[i];
        if ((best == NULL || e->bits > best->bits) && prefix_match(addr, e->prefix, e->bits))
            best = e;
    }
    return best;
}

/* Copies the next space-separated token of line[0..len) from *pos into tok (NUL-terminated). */
static bool token(const char *line, size_t len, size_t *pos, char *tok, size_t cap)
{
    while (*pos < len && line[*pos] == ' ')
        (*pos)++;
    size_t n = 0;
    while (*pos < len && line[*pos] != ' ') {
        if (n + 1 >= cap)
            return false;
        tok[n++] = line[(*pos)++];
    }
    tok[n] = 0;
    return n > 0;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (*s == 0 || (s[0] == '0' && s[1] != 0))
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int parse_line(mn_asmap *map, const char *line, size_t len, uint32_t lineno, mn_err *err)
{
    char pfx[64], asn_s[16], region[MN_ASMAP_REGION_BYTES_MAX + 2];
    size_t pos = 0;
    bool ok = token(line, len, &pos, pfx, sizeof pfx) &&
              token(line, len, &pos, asn_s, sizeof asn_s) &&
              token(line, len, &pos, region, sizeof region);
    while (pos < len && line[pos] == ' ')
        pos++;
    if (!ok || pos != len)
        return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: want PREFIX/LEN ASN REGION",
                          lineno);
    char *slash = strchr(pfx, '/');
    if (slash == NULL)
        return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: no /LEN", lineno);
    *slash = 0;
    mn_asmap_entry e;
    memset(&e, 0, sizeof e);
    uint32_t bits;
    uint8_t v4[4];
    if (inet_pton(AF_INET, pfx, v4) == 1) {
        if (!parse_u32(slash + 1, 32, &bits))
            return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: length", lineno);
        e.prefix[10] = e.prefix[11] = 0xff;
        memcpy(e.prefix + 12, v4, 4);
        e.bits = 96 + bits;
    } else if (inet_pton(AF_INET6, pfx, e.prefix) == 1) {
        if (!parse_u32(slash + 1, 128, &bits))
            return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: length", lineno);
        e.bits = bits;
    } else {
        return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: address", lineno);
    }
    if (!parse_u32(asn_s, UINT32_MAX, &e.asn) || e.asn == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: AS number", lineno);
    size_t rlen = strlen(region);
    if (rlen > MN_ASMAP_REGION_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "asmap line %u: region label too long", lineno);
    for (size_t i = 0; i < rlen; i++)
        if (!((region[i] >= 'a' && region[i] <= 'z') || (region[i] >= '0' && region[i] <= '9') ||
              region[i] == '-'))
            return mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: region label", lineno);
    uint32_t r = 0;
    while (r < map->regions_count && strcmp(map->regions[r], region) != 0)
        r++;
    if (r == map->regions_count) {
        if (r == MN_ASMAP_REGIONS_MAX)
            return mn_err_set(err, MN_ELIMIT, 0, "asmap line %u: too many regions", lineno);
        memcpy(map->regions[r], region, rlen + 1);
        map->regions_count++;
    }
    e.region = r;
    if (map->count == MN_ASMAP_ENTRIES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "asmap line %u: too many entries", lineno);
    map->entries[map->count++] = e;
    return 0;
}

int mn_asmap_parse(mn_asmap *map, const char *text, size_t len, mn_err *err)
{
    memset(map, 0, sizeof *map);
    if (len > MN_ASMAP_FILE_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "asmap of %zu bytes", len);
    uint32_t lineno = 0;
    size_t start = 0;
    int rc = 0;
    while (start < len && rc == 0) {
        size_t end = start;
        while (end < len && text[end] != '\n')
            end++;
        lineno++;
        const char *line = text + start;
        size_t n = end - start;
        for (size_t i = 0; i < n && rc == 0; i++)
            if (line[i] == 0 || (line[i] != ' ' && (line[i] < 0x21 || line[i] > 0x7e)))
                rc = mn_err_set(err, MN_ECORRUPT, 0, "asmap line %u: bad character", lineno);
        size_t lead = 0;
        while (lead < n && line[lead] == ' ')
            lead++;
        if (rc == 0 && lead < n && line[lead] != '#')
            rc = parse_line(map, line, n, lineno, err);
        start = end + 1;
    }
    if (rc != 0)
        memset(map, 0, sizeof *map);
    return rc;
}
