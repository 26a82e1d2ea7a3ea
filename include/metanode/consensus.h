/* SPDX-License-Identifier: Apache-2.0
 *
 * consensus.h: the BPI consensus core, Tendermint as in "The latest gossip on BFT consensus"
 * (Buchman, Kwon, Milosevic 2018), Algorithm 1, as a pure state machine: events in (a
 * proposal, a vote, a timeout fired, a block validated, a commit for a late node), actions out
 * (persist the signing state, broadcast a signed message, schedule a timeout, ask the
 * application to validate a block, decide, report evidence). It does no I/O, reads no clock,
 * allocates nothing after init and uses no floating point: the driver (a node, or the
 * simulator in tests/sim) executes the actions IN ORDER. In particular every PERSIST action
 * precedes the BROADCAST it protects, and the driver must make it durable before sending.
 *
 * Voting power: quorums are more than 2/3 (and "f+1" is more than 1/3) of the total stake of
 * the validator set; one vote per validator per (height, round, type) counts, duplicates are
 * ignored, a second different vote becomes evidence, votes from outside the set are refused.
 *
 * Proposer: proposer(h, r) = mn_leader_proposer(set, seed_h, h, r). A new block carries its
 * author's VRF proof over mn_leader_alpha(seed_h, h); a block whose proof does not verify is
 * invalid, and seed_{h+1} = mn_leader_next_seed(beta of the decided block's proof).
 *
 * Validator sets change with stake: the set (members, stakes) of height h is the one of the
 * application's state after committing h - MN_STAKE_LOOKBACK (genesis for the first heights),
 * handed to the core by the valset_at hook. Everything of a height (proposer, quorum, who may
 * vote, certificate bitsets) is counted against that height's set only; a validator outside
 * it is an observer for that height.
 *
 * Not here: computing the sets (the ledger does, from its stake state), block bodies (the core
 * decides headers whose payload root the application validates), networking and storage.
 */
#ifndef METANODE_CONSENSUS_H
#define METANODE_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/consensus_msg.h"
#include "metanode/leader.h"

/* ---- validator set ----------------------------------------------------------------------- */

typedef struct mn_bft_member {
    uint8_t pk[MN_ED25519_PUBLICKEY_BYTES];  /* signs proposals and votes */
    uint8_t vrf_pk[MN_VRF_PUBLICKEY_BYTES];  /* proves the block's VRF output */
    uint64_t stake;
} mn_bft_member;

typedef struct mn_bft_valset {
    mn_validator_set set;                    /* ids (mn_node_id of pk) sorted, stakes */
    uint8_t pk[MN_VALIDATORS_MAX][MN_ED25519_PUBLICKEY_BYTES];  /* of set.members[i] */
    uint8_t vrf_pk[MN_VALIDATORS_MAX][MN_VRF_PUBLICKEY_BYTES];
    uint64_t quorum;                         /* least power p with 3p > 2 total (2f+1) */
    uint64_t skip;                           /* least power p with 3p > total (f+1) */
} mn_bft_valset;

/* MN_EINVAL / MN_ELIMIT as mn_valset_init, and for two members with the same key. */
int mn_bft_valset_init(mn_bft_valset *vs, const mn_bft_member *members, uint32_t count,
                       mn_err *err);
/* Index of the member with this id, or -1. */
int mn_bft_valset_find(const mn_bft_valset *vs, const uint8_t id[static MN_ID_BYTES]);

/* The committed height whose post-state gives the set of `height`: height - MN_STAKE_LOOKBACK,
 * or 0 (genesis) for heights <= MN_STAKE_LOOKBACK. */
uint64_t mn_bft_snapshot_height(uint64_t height);

/* ---- configuration ------------------------------------------------------------------------ */

/* timeout(r) = base + r * delta (saturating), as in the paper's "timeouts grow with r". */
typedef struct mn_bft_timeouts {
    uint64_t propose_ns, propose_delta_ns;
    uint64_t prevote_ns, prevote_delta_ns;
    uint64_t precommit_ns, precommit_delta_ns;
    uint64_t commit_ns; /* after a decision, before the next height starts (0 allowed) */
} mn_bft_timeouts;

/* Callbacks the core makes synchronously. All must be deterministic. */
typedef struct mn_bft_hooks {
    void *ctx;
    /* getValue() of the paper: the payload root of a new block at `height`. Required. */
    void (*get_payload)(void *ctx, uint64_t height, uint8_t payload[32]);
    /* Optional replacements for mn_verify / mn_vrf_verify (TAI) that must return exactly
     * their answers; a driver may memoise them (the simulator verifies each message once). */
    int (*verify)(void *ctx, const uint8_t sig[64], uint8_t tag, const void *msg, size_t len,
                  const uint8_t pk[32]);
    int (*vrf_verify)(void *ctx, uint8_t beta[64], const uint8_t pk[32],
                      const uint8_t proof[80], const uint8_t *alpha, size_t alpha_len);
    /* The validator set of `height`: the members and stakes of the application's state after
     * committing block mn_bft_snapshot_height(height) (the genesis set for heights <=
     * MN_STAKE_LOOKBACK), or NULL while the application has not committed that block yet.
     * NULL hook: cfg.valset is the set of every height (a fixed set).
     *  - When: the core asks for its current height only: in mn_bft_init (chain->height; it
     *    must be known then, the application has committed chain->height - 1), when a
     *    decision moves it to the next height (inside the call that emits DECIDE for h, the
     *    set of h + 1: known to an application that has executed the DECIDE of h - 1), and at
     *    the start of any call while it does not know the set of its height yet.
     *  - Lifetime: the set is borrowed. It must stay valid and unchanged from the call that
     *    returned it until the core's height passes `height`, that is until the return of the
     *    call that emits DECIDE for `height` (keeping the sets of the last MN_STAKE_LOOKBACK + 1
     *    heights is enough). The core never writes it and never frees it.
     *  - Determinism: every call for one height returns the same content, at every node.
     *  - Unknown (NULL): the core ignores every message of that height (returns 0, as for
     *    another height), keeps no vote of it, and does not start the height: the commit
     *    timeout is re-armed (after timeouts.propose_ns) until the set is known. */
    const mn_bft_valset *(*valset_at)(void *ctx, uint64_t height);
} mn_bft_hooks;

typedef struct mn_bft_config {
    const char *chain_id;           /* copied; at most MN_CHAIN_ID_BYTES_MAX bytes */
    const mn_bft_valset *valset;    /* fixed set, used when hooks.valset_at is NULL (then
                                     * required and borrowed for the core's lifetime); else
                                     * ignored */
    mn_bft_timeouts timeouts;
    mn_bft_hooks hooks;
} mn_bft_config;

/* Where the chain stands, from the application's store of decided blocks. */
typedef struct mn_bft_chain {
    uint64_t height;                  /* the next height to decide, >= 1 */
    uint8_t seed[MN_SEED_BYTES];      /* seed_height */
    uint8_t parent[MN_BLOCK_ID_BYTES]; /* id of the block at height - 1, zero at height 1 */
} mn_bft_chain;

/* The steps of a round; MN_STEP_COMMIT only names the timeout between a decision and the
 * next height (one decision per event, and time for the application to store the block). */
typedef enum mn_bft_step {
    MN_STEP_PROPOSE = 1,
    MN_STEP_PREVOTE,
    MN_STEP_PRECOMMIT,
    MN_STEP_COMMIT,
} mn_bft_step;

/* Our signed messages of one round. */
typedef struct mn_bft_own_round {
    uint32_t round;
    bool has_proposal, has_prevote, has_precommit;
    mn_proposal proposal;
    mn_vote prevote;
    mn_vote precommit;
} mn_bft_own_round;

/* Why a validator entered its round: the messages it held that made it move, kept so that a
 * restart can still show them to the others (they may never have received them, and without
 * them honest validators can stay in different rounds forever). Line 65 (timeoutPrecommit of
 * round r): the precommits of round r it held (2f+1 of any values). Line 55 (f+1 of a higher
 * round r): one vote per validator that has one in round r, and the round's proposal when its
 * proposer has no vote there (a sender too). Ordinary signed messages: a receiver verifies and
 * counts them as any other. Empty (round 0, no proposal, no votes) for round 0 of a height. */
typedef struct mn_bft_entry {
    uint32_t round;                      /* the round of the messages below */
    bool has_proposal;
    mn_proposal proposal;                /* line 55 only */
    uint32_t vote_count;                 /* <= MN_VALIDATORS_MAX */
    mn_vote votes[MN_VALIDATORS_MAX];    /* of `round`, in validator order, one per validator */
} mn_bft_entry;

/* The durable state of a validator, written (PERSIST) when it enters a round and before any
 * signed message leaves the core. A validator restarted from it never signs twice at one
 * (height, round, step), keeps its lock (no amnesia), does not fall back to an older round,
 * and can still retransmit what it signed in its last two rounds, the proof of lock of its
 * valid value and the messages that justified entering its round (others may need those
 * votes for a quorum, or to follow it into its round). */
typedef struct mn_bft_sign_state {
    uint64_t height;
    uint32_t round;                /* the round entered last */
    uint32_t step;                 /* the last mn_bft_step signed in `round`; 0: none */
    int64_t locked_round;          /* -1: no lock */
    mn_block_header locked_value;
    int64_t valid_round;           /* -1: none */
    mn_block_header valid_value;
    mn_commit_cert valid_pol;      /* prevotes for valid_value in valid_round (a polka) */
    mn_bft_own_round own[2];       /* [0]: of `round`; [1]: of the round entered before it */
    mn_bft_entry entry;            /* why `round` was entered (its justification) */
} mn_bft_sign_state;

/* ---- actions ---------------------------------------------------------------------------- */

typedef enum mn_bft_action_kind {
    MN_ACT_PERSIST = 1, /* make *u.persist durable before executing any later action */
    MN_ACT_BROADCAST,   /* send u.msg (a proposal or vote) to every validator */
    MN_ACT_TIMEOUT,     /* call mn_bft_on_timeout(u.timeout...) after u.timeout.delay_ns */
    MN_ACT_VALIDATE,    /* validate u.validate, answer with mn_bft_on_validated */
    MN_ACT_DECIDE,      /* u.decide: the block of height u.decide.header->height is final */
    MN_ACT_EVIDENCE,    /* u.evidence: hand it to the application for inclusion in a block */
} mn_bft_action_kind;

typedef struct mn_bft_action {
    mn_bft_action_kind kind;
    union {
        const mn_bft_sign_state *persist; /* the core's latest state; valid until its next call */
        struct {
            mn_cmsg_kind kind; /* MN_CMSG_PROPOSAL or MN_CMSG_VOTE */
            mn_proposal proposal;
            mn_vote vote;
        } msg;
        struct {
            mn_bft_step step;
            uint64_t height;
            uint32_t round;
            uint64_t delay_ns;
        } timeout;
        mn_block_header validate;
        struct {
            const mn_block_header *header; /* owned by the core; valid until its next call */
            const mn_commit_cert *cert;
        } decide;
        mn_evidence evidence;
    } u;
} mn_bft_action;

typedef struct mn_bft_actions {
    uint32_t count;
    mn_bft_action items[MN_BFT_ACTIONS_MAX];
} mn_bft_actions;

/* ---- the core ---------------------------------------------------------------------------- */

/* Votes of one (round, type): who voted what, with the signatures kept for certificates,
 * relaying and evidence. As in the paper, where "2f+1 <PREVOTE, h, r, id(v)>" counts senders
 * of matching messages, a validator that signs two different votes counts once toward each
 * value (and once toward "any"): a Byzantine double vote cannot hide a quorum for v from a
 * node that happened to see the other vote first. A third value is ignored. Private. */
typedef struct mn__bft_votes {
    uint16_t choice[MN_VALIDATORS_MAX][2]; /* 0: none; k: tallies[k - 1]; [1]: a conflict */
    uint8_t sig[MN_VALIDATORS_MAX][2][MN_ED25519_SIG_BYTES];
    uint32_t tally_count;
    struct {
        bool has_value;
        uint8_t value[MN_BLOCK_ID_BYTES];
        uint64_t power;
    } tallies[2 * MN_VALIDATORS_MAX];
    uint64_t power_any;
} mn__bft_votes;

typedef enum { MN__VALIDITY_PENDING, MN__VALIDITY_VALID, MN__VALIDITY_INVALID } mn__bft_validity;

typedef struct mn__bft_round {
    bool used;
    uint32_t round;
    uint64_t generation;                    /* distinct for every (re)use of the slot */
    uint32_t proposal_count;
    bool proposal_evidenced;
    mn_proposal proposals[MN_BFT_PROPOSALS_PER_ROUND];
    uint8_t proposal_id[MN_BFT_PROPOSALS_PER_ROUND][MN_BLOCK_ID_BYTES];
    uint8_t beta[MN_BFT_PROPOSALS_PER_ROUND][MN_VRF_OUTPUT_BYTES];
    mn__bft_validity validity[MN_BFT_PROPOSALS_PER_ROUND];
    uint8_t senders[MN_VALIDATORS_MAX / 8]; /* anyone with a message in this round */
    uint64_t sender_power;
    mn__bft_votes votes[2];                 /* [0] prevotes, [1] precommits */
} mn__bft_round;

typedef struct mn_bft {
    /* configuration */
    char chain_id[MN_CHAIN_ID_BYTES_MAX + 1];
    const mn_bft_valset *fixed_vs;   /* cfg.valset, when hooks.valset_at is NULL */
    mn_bft_timeouts timeouts;
    mn_bft_hooks hooks;
    bool has_key;                    /* a validator's key (it signs when in the set) */
    uint8_t self_id[MN_ID_BYTES];
    mn_keypair key;
    uint8_t vrf_sk[MN_VRF_SECRETKEY_BYTES];
    /* the set of the current height (NULL: not known yet; the height has not started) */
    const mn_bft_valset *vs;
    int32_t self;                    /* our index in vs; -1: an observer at this height */
    /* Algorithm 1 state (h_p, round_p, step_p, lockedValue/Round, validValue/Round) */
    uint64_t height;
    uint32_t round;
    mn_bft_step step;
    uint8_t seed[MN_SEED_BYTES];
    uint8_t parent[MN_BLOCK_ID_BYTES];
    int64_t locked_round;
    mn_block_header locked_value;
    int64_t valid_round;
    mn_block_header valid_value;
    mn_commit_cert valid_pol;        /* the polka that made valid_value valid */
    bool prevote_timer_started;      /* line 34 "for the first time" in this round */
    bool precommit_timer_started;    /* line 47 */
    bool line36_done;                /* line 36 */
    bool awaiting_height;            /* decided; the next height starts on MN_STEP_COMMIT */
    /* double-sign guard: what was last persisted */
    mn_bft_sign_state signed_state;
    bool have_own_proof;
    uint8_t own_proof[MN_VRF_PROOF_BYTES];
    mn__bft_round rounds[MN_BFT_ROUND_SLOTS];
    /* the last decision, pointed to by MN_ACT_DECIDE */
    mn_block_header decided_header;
    mn_commit_cert decided_cert;
    mn_bft_actions *out;             /* the caller's action list during one event */
    uint64_t slot_generations;       /* slots taken so far (mn__bft_round.generation) */
    uint64_t stat_signatures_verified; /* counters for benchmarks and the simulator */
    uint64_t stat_rounds_started;
} mn_bft;

/* Initialises a core for a validator (key, vrf_sk given) or an observer (key NULL). A
 * validator signs at the heights whose set has its key and observes the others (it may join
 * or leave with stake changes). `persisted` is the last PERSIST the driver made durable, or
 * NULL for a validator that never signed. It may be ahead of the chain (the driver persisted
 * the next height's state, then crashed before storing the decision): the core then signs
 * nothing until it has caught up past it. The core copies what it needs from all arguments
 * except the sets (cfg->valset, hooks.valset_at's answers: borrowed as documented there).
 * Calls hooks.valset_at(cfg->hooks.ctx, chain->height). MN_EINVAL for a bad chain id, no set
 * (neither hook nor cfg->valset), a key without get_payload; MN_ESTATE when the set of
 * chain->height is unknown. Call mn_bft_start next. */
int mn_bft_init(mn_bft *b, const mn_bft_config *cfg, const mn_keypair *key,
                const uint8_t vrf_sk[MN_VRF_SECRETKEY_BYTES], const mn_bft_chain *chain,
                const mn_bft_sign_state *persisted, mn_err *err);
/* Wipes the keys. */
void mn_bft_deinit(mn_bft *b);

/* StartRound(round_p) of the current height (0, or the persisted round after a restart).
 * Every function below clears `out` and fills it with the actions to execute in order. */
void mn_bft_start(mn_bft *b, mn_bft_actions *out);

/* A proposal from the network. 0 when handled (counted or ignored: another height, a height
 * whose set is unknown, a duplicate, a round outside the kept window); MN_EPERM when the
 * signer is not proposer(h, r) over the set of h, MN_ECRYPTO for a bad signature. */
int mn_bft_on_proposal(mn_bft *b, const mn_proposal *p, mn_bft_actions *out, mn_err *err);
/* A vote from the network. 0 when handled (or ignored, as proposals); MN_EPERM from outside
 * the validator set of the vote's height (a member of another height's set included),
 * MN_ECRYPTO for a bad signature. A vote whose content the core already holds (a relayed
 * copy) is ignored before its signature is checked. A second different vote of a validator for the same
 * (height, round, type) is not counted and yields MN_ACT_EVIDENCE (once). */
int mn_bft_on_vote(mn_bft *b, const mn_vote *v, mn_bft_actions *out, mn_err *err);
/* OnTimeoutPropose/Prevote/Precommit(height, round) (lines 57-67); MN_STEP_COMMIT starts the
 * height that the last decision opened (StartRound(0) of line 54). */
void mn_bft_on_timeout(mn_bft *b, mn_bft_step step, uint64_t height, uint32_t round,
                       mn_bft_actions *out);
/* The application's answer to MN_ACT_VALIDATE for the block with this id. */
void mn_bft_on_validated(mn_bft *b, const uint8_t id[static MN_BLOCK_ID_BYTES], bool valid,
                         mn_bft_actions *out);
/* A decided block with its certificate, for a node at that height that missed the round
 * (other heights, and a height whose set is unknown, are ignored). The certificate is checked
 * against the set of that height. MN_ECRYPTO / MN_ECORRUPT if it does not verify. */
int mn_bft_on_commit(mn_bft *b, const mn_block_header *h, const mn_commit_cert *c,
                     mn_bft_actions *out, mn_err *err);
/* Broadcasts again every message held for the current round (proposals, everyone's votes),
 * the precommits of the previous round, the proof of lock of our valid value and the
 * justification of our round (mn_bft_entry, when its round is no longer held): the gossip
 * retransmission that liveness needs over a lossy network. Call it when the core has made no
 * progress for a while. Signs nothing. */
void mn_bft_rebroadcast(mn_bft *b, mn_bft_actions *out);

/* Checks a commit certificate for header h against vs, which must be the set of h's height
 * (valset_at(h->height); a node that committed c can check heights up to c +
 * MN_STAKE_LOOKBACK): certificate for id(h) at h's height, bitset over that set of exactly
 * ceil(count / 8) bytes with no bit beyond count, every signature a valid precommit, total
 * power >= quorum. hooks may be NULL (plain mn_verify). Does not check the header's parent or
 * VRF proof (the core does). */
int mn_bft_verify_commit(const mn_bft_valset *vs, const char *chain_id,
                         const mn_block_header *h, const mn_commit_cert *c,
                         const mn_bft_hooks *hooks, mn_err *err);

#endif
