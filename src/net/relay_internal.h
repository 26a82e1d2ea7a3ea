/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_internal.h: what the relay's files share and nobody else needs: the hooks peer up/down
 * calls into score retention and connection accounting, and the action-list helpers.
 */
#ifndef MN_RELAY_INTERNAL_H
#define MN_RELAY_INTERNAL_H

#include "metanode/relay.h"

/* relay_retain.c: give p the score kept for its node id (removing it from the table), or keep
 * p's score for its node id (anonymous peers are not kept). */
void mn__relay_retain_take(mn_relay *r, mn_relay_peer *p, uint64_t now_ms);
void mn__relay_retain_put(mn_relay *r, mn_relay_peer *p, uint64_t now_ms);

/* relay_conn.c: inbound slot accounting of p's address group. */
void mn__relay_conn_up(mn_relay *r, mn_relay_peer *p);
void mn__relay_conn_down(mn_relay *r, mn_relay_peer *p);

/* relay_health.c: pings, drops of unhealthy peers and dials of missing explicit peers, run
 * by the heartbeat; appends to out (the caller flushes). */
void mn__relay_health(mn_relay *r, uint64_t now_ms, mn_relay_actions *out);
/* Whether node is one of the configured explicit peers. */
bool mn__relay_is_explicit(const mn_relay *r, const uint8_t node[MN_ED25519_PUBLICKEY_BYTES]);
mn_relay_action *mn__relay_push(mn_relay_actions *out, mn_relay_action_kind kind,
                                uint32_t peer);

#endif
