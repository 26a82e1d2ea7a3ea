/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_retain.c: scores kept by node id after a peer leaves, so that disconnecting and
 * reconnecting does not wipe penalties (gossipsub's retain_score). A fixed table of
 * MN_RELAY_RETAIN_MAX entries, each kept MN_RELAY_RETAIN_MS; when it is full the entry that
 * expires first is replaced. Decay continues from where it stopped when the peer returns (the
 * score's own clock), so time away counts as it would have connected. Not here: anonymous
 * peers (all-zero node id), whose scores are simply dropped.
 */
#include <string.h>

#include "relay_internal.h"

static bool anonymous(const uint8_t node[MN_ED25519_PUBLICKEY_BYTES])
{
    uint8_t any = 0;
    for (uint32_t i = 0; i < MN_ED25519_PUBLICKEY_BYTES; i++)
        any |= node[i];
    return any == 0;
}

void mn__relay_retain_take(mn_relay *r, mn_relay_peer *p, uint64_t now_ms)
{
    if (anonymous(p->info.node))
        return;
    for (uint32_t i = 0; i < MN_RELAY_RETAIN_MAX; i++) {
        mn_relay_retained *e = &r->retained[i];
        if (e->until_ms == 0 || memcmp(e->node, p->info.node, sizeof e->node) != 0)
            continue;
        if (e->until_ms > now_ms) {
            p->score = e->score;
            memset(p->score.mesh_ms, 0, sizeof p->score.mesh_ms);
            p->score.colocated = 0;
            mn_relay_score_decay(&p->score, &r->cfg.score, now_ms);
        }
        memset(e, 0, sizeof *e);
        return;
    }
}

void mn__relay_retain_put(mn_relay *r, mn_relay_peer *p, uint64_t now_ms)
{
    if (anonymous(p->info.node))
        return;
    /* The same node twice (two sessions) keeps one entry: the later departure wins. */
    uint32_t slot = MN_RELAY_RETAIN_MAX;
    for (uint32_t i = 0; i < MN_RELAY_RETAIN_MAX && slot == MN_RELAY_RETAIN_MAX; i++)
        if (r->retained[i].until_ms != 0 &&
            memcmp(r->retained[i].node, p->info.node, sizeof p->info.node) == 0)
            slot = i;
    for (uint32_t i = 0; i < MN_RELAY_RETAIN_MAX && slot == MN_RELAY_RETAIN_MAX; i++)
        if (r->retained[i].until_ms <= now_ms) /* free or expired */
            slot = i;
    if (slot == MN_RELAY_RETAIN_MAX) {
        slot = 0;
        for (uint32_t i = 1; i < MN_RELAY_RETAIN_MAX; i++)
            if (r->retained[i].until_ms < r->retained[slot].until_ms)
                slot = i;
        r->metrics.retained_evictions++;
    }
    mn_relay_retained *e = &r->retained[slot];
    memcpy(e->node, p->info.node, sizeof e->node);
    e->until_ms = now_ms + MN_RELAY_RETAIN_MS;
    e->score = p->score;
}
