/* SPDX-License-Identifier: Apache-2.0
 *
 * internal.h: helpers shared by the files of src/consensus and by nothing else: the ordering
 * rule of evidence (msg.c), the round window and vote counting (tally.c) used by the rules of
 * Algorithm 1 (bft.c).
 */
#ifndef METANODE_CONSENSUS_INTERNAL_H
#define METANODE_CONSENSUS_INTERNAL_H

#include <stdbool.h>

#include "metanode/consensus.h"
#include "metanode/consensus_msg.h"

/* True when the first message of the evidence encodes strictly before the second. */
bool mn__evidence_ordered(const mn_evidence *ev);

/* The slot of a round, or NULL. */
mn__bft_round *mn__round_find(mn_bft *b, uint32_t round);
/* The slot of a round, created (evicting the round farthest from the current one) if needed;
 * NULL when the round is itself the farthest and the window is full. */
mn__bft_round *mn__round_get(mn_bft *b, uint32_t round);
void mn__rounds_reset(mn_bft *b);
void mn__round_mark_sender(mn_bft *b, mn__bft_round *s, uint32_t idx);

enum { MN__VOTE_COUNTED, MN__VOTE_DUPLICATE, MN__VOTE_CONFLICT };
/* Counts v (already verified, from member idx) in slot s: MN__VOTE_COUNTED (a first vote),
 * _DUPLICATE (a vote already held, or a third value: ignored), or _CONFLICT (a second value:
 * counted toward that value only; the caller reports evidence). */
int mn__votes_add(mn_bft *b, mn__bft_round *s, const mn_vote *v, uint32_t idx);
/* True when member idx's vote of v's type in s already has v's value (v carries nothing new,
 * whatever its signature). */
bool mn__votes_holds(const mn__bft_round *s, const mn_vote *v, uint32_t idx);
/* Power of the votes of this type for value (has_value false: nil) in slot s (NULL: 0). */
uint64_t mn__votes_power(const mn__bft_round *s, mn_vote_type type, bool has_value,
                         const uint8_t *value);
/* The which-th (0: first, 1: conflicting) vote member idx cast, rebuilt with its signature;
 * false when there is none. */
bool mn__votes_get(const mn_bft *b, const mn__bft_round *s, mn_vote_type type, uint32_t idx,
                   uint32_t which, mn_vote *v);
/* True when the which-th vote of member idx in s is for value id. */
bool mn__votes_is_for(const mn__bft_round *s, mn_vote_type type, uint32_t idx, uint32_t which,
                      const uint8_t id[32]);
/* The certificate of the votes of this type for id in slot s (precommits: a commit
 * certificate; prevotes: a proof of lock). */
void mn__cert_build(const mn_bft *b, const mn__bft_round *s, mn_vote_type type,
                    const uint8_t id[32], mn_commit_cert *c);
/* hooks->verify when set, else mn_verify: 0 valid, -1 not. */
int mn__verify_sig(const mn_bft_hooks *hooks, const uint8_t sig[64], uint8_t tag,
                   const mn_buf *msg, const uint8_t pk[32]);

#endif
