/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_conn.c: limits on inbound connections by address group (/24 for IPv4, /48 for IPv6),
 * against a sybil that opens many connections from one network: a token bucket of new
 * connections per group, a cap on the inbound slots one group holds, and the total of inbound
 * slots. Peers already connected are never evicted to make room, so a flood cannot push honest
 * peers out. Groups live in a fixed table; an idle one (no peers up) is reused least recently
 * used first, so the table cannot be exhausted by many groups. Not here: outbound choices
 * (the address book) and scoring of the peers once connected.
 */
#include <string.h>

#include "relay_internal.h"

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void mn_relay_addr_group(uint8_t prefix[static 16], const uint8_t addr[static 16])
{
    memset(prefix, 0, 16);
    if (memcmp(addr, v4_mapped, sizeof v4_mapped) == 0)
        memcpy(prefix, addr, 15); /* ::ffff:a.b.c.0 */
    else
        memcpy(prefix, addr, 6);
}

/* The group's entry; created (replacing the least recently used idle one) when create is set.
 * NULL if absent, or if every entry holds connected peers. */
static mn_relay_conn_group *group_of(mn_relay *r, const uint8_t addr[16], bool create,
                                     uint64_t now_ms)
{
    uint8_t prefix[16];
    mn_relay_addr_group(prefix, addr);
    mn_relay_conn_group *idle = NULL;
    for (uint32_t i = 0; i < MN_RELAY_CONN_GROUPS_MAX; i++) {
        mn_relay_conn_group *g = &r->groups[i];
        if (g->used && memcmp(g->prefix, prefix, 16) == 0)
            return g;
        if (g->inbound == 0 && (idle == NULL || !g->used ||
                                (idle->used && g->last_ms < idle->last_ms)))
            idle = g;
    }
    if (!create || idle == NULL)
        return NULL;
    memset(idle, 0, sizeof *idle);
    idle->used = true;
    memcpy(idle->prefix, prefix, 16);
    idle->last_ms = now_ms;
    mn_relay_bucket_init(&idle->bucket, &r->cfg.conn_per_group, now_ms);
    return idle;
}

bool mn_relay_conn_admit(mn_relay *r, const uint8_t addr[static 16], uint64_t now_ms)
{
    MN_ASSERT(now_ms >= r->now_ms);
    r->now_ms = now_ms;
    mn_relay_conn_group *g = group_of(r, addr, true, now_ms);
    if (g == NULL) {
        r->metrics.conn_refused_full++;
        return false;
    }
    g->last_ms = now_ms;
    if (!mn_relay_bucket_take(&g->bucket, &r->cfg.conn_per_group, 1, now_ms)) {
        r->metrics.conn_refused_rate++;
        return false;
    }
    if (g->inbound >= r->cfg.inbound_per_group_max) {
        r->metrics.conn_refused_group++;
        return false;
    }
    if (r->inbound_count >= r->cfg.inbound_max) {
        r->metrics.conn_refused_full++;
        return false;
    }
    return true;
}

void mn__relay_conn_up(mn_relay *r, mn_relay_peer *p)
{
    if (p->info.outbound || p->info.explicit_peer)
        return;
    r->inbound_count++;
    mn_relay_conn_group *g = group_of(r, p->info.addr, true, r->now_ms);
    if (g != NULL)
        g->inbound++;
}

void mn__relay_conn_down(mn_relay *r, mn_relay_peer *p)
{
    if (p->info.outbound || p->info.explicit_peer)
        return;
    MN_ASSERT(r->inbound_count > 0);
    r->inbound_count--;
    mn_relay_conn_group *g = group_of(r, p->info.addr, false, r->now_ms);
    if (g != NULL && g->inbound > 0)
        g->inbound--;
}
