/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_relay_asmap.c: arbitrary text through the ASN map parser, then a lookup of addresses
 * taken from the input. A parsed map stays within its limits and every lookup result is an
 * entry of the map with a known region. Aborts on a violated property.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/relay_addrbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_asmap map;
    mn_err err;
    if (mn_asmap_parse(&map, (const char *)data, size, &err) != 0) {
        if (map.count != 0)
            abort();
        return 0;
    }
    if (map.count > MN_ASMAP_ENTRIES_MAX || map.regions_count > MN_ASMAP_REGIONS_MAX)
        abort();
    uint8_t addr[16] = {0};
    memcpy(addr, data, size < 16 ? size : 16);
    const mn_asmap_entry *e = mn_asmap_lookup(&map, addr);
    if (e != NULL && (e < map.entries || e >= map.entries + map.count ||
                      e->region >= map.regions_count || e->bits > 128))
        abort();
    return 0;
}
