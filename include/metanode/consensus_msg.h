/* SPDX-License-Identifier: Apache-2.0
 *
 * consensus_msg.h: the canonical consensus messages (block header, proposal, vote, commit
 * certificate, evidence) and the envelope that carries them on the wire. Every format is
 * deterministic CBOR with small integer keys in one fixed order; decoders read exactly that
 * order and refuse anything else (missing, unknown or reordered keys, wrong sizes, values out
 * of range, trailing bytes), so one message has exactly one encoding.
 *
 * Sign-bytes. A proposal or a vote is signed (mn_sign, tag MN_TAG_PROPOSAL / MN_TAG_VOTE) over
 * a CBOR map that starts with the chain id and then names height, round, type (votes), the
 * block hash (or null for a nil vote), the proposal's valid round (proposals) and the signer,
 * so a signature never transfers to another chain, height, round, type or signer. The chain id
 * is not sent: the receiver supplies its own when verifying.
 *
 * Block ids. id(header) = SHA-256(MN_TAG_BLOCK_HEADER || encode(header)). The header carries
 * the VRF proof of its proposer over mn_leader_alpha(seed_h, h) (leader.h); checking that proof
 * needs the seed and the validator set and is done by the consensus core (consensus.h).
 *
 * This module does no verification beyond structure and signatures: whether a signer belongs
 * to the validator set, has power, or may propose is the core's business.
 */
#ifndef METANODE_CONSENSUS_MSG_H
#define METANODE_CONSENSUS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metanode/bytes.h"
#include "metanode/error.h"
#include "metanode/limits.h"
#include "metanode/sign.h"
#include "metanode/vrf.h"

#define MN_BLOCK_ID_BYTES 32u

typedef enum mn_vote_type {
    MN_VOTE_PREVOTE = 1,
    MN_VOTE_PRECOMMIT = 2,
} mn_vote_type;

/* A block header: the value consensus decides. payload is the root of whatever the application
 * puts in the block (transactions); the core treats it as opaque and asks the application
 * whether the block is valid. */
typedef struct mn_block_header {
    uint64_t height;                      /* >= 1 */
    uint8_t parent[MN_BLOCK_ID_BYTES];    /* id of the header at height - 1; zero at height 1 */
    uint8_t proposer[MN_ID_BYTES];        /* validator id of the block's author */
    uint8_t vrf_proof[MN_VRF_PROOF_BYTES]; /* author's VRF proof over alpha(seed_h, h) */
    uint8_t payload[32];                  /* application payload root */
} mn_block_header;

/* <PROPOSAL, h, r, v, vr> of Algorithm 1, signed by proposer(h, r). */
typedef struct mn_proposal {
    uint64_t height;
    uint32_t round;
    int64_t pol_round; /* the paper's vr: -1, or 0 <= pol_round < round */
    mn_block_header header;
    uint8_t signer[MN_ID_BYTES];
    uint8_t signature[MN_ED25519_SIG_BYTES];
} mn_proposal;

/* <PREVOTE|PRECOMMIT, h, r, id(v) or nil>, signed by one validator. */
typedef struct mn_vote {
    mn_vote_type type;
    uint64_t height;
    uint32_t round;
    bool has_value; /* false: a vote for nil */
    uint8_t value[MN_BLOCK_ID_BYTES];
    uint8_t signer[MN_ID_BYTES];
    uint8_t signature[MN_ED25519_SIG_BYTES];
} mn_vote;

/* +2/3 precommits for one block, as the signatures of the validators marked in `signers`
 * (bit i = member i of the height's validator set, sorted by id, least significant bit first
 * in byte i / 8). signatures[k] belongs to the k-th set bit. */
typedef struct mn_commit_cert {
    uint64_t height;
    uint32_t round;
    uint8_t value[MN_BLOCK_ID_BYTES];
    uint32_t signer_bytes; /* length of the bitset actually used: ceil(set size / 8) */
    uint8_t signers[MN_VALIDATORS_MAX / 8];
    uint32_t sig_count;
    uint8_t signatures[MN_VALIDATORS_MAX][MN_ED25519_SIG_BYTES];
} mn_commit_cert;

typedef enum mn_evidence_kind {
    MN_EVIDENCE_DUPLICATE_VOTE = 1,
    MN_EVIDENCE_DUPLICATE_PROPOSAL = 2,
} mn_evidence_kind;

/* Two conflicting messages signed by one validator for the same (height, round, type).
 * Canonical order: the encoding of the first sorts strictly before that of the second. */
typedef struct mn_evidence {
    mn_evidence_kind kind;
    union {
        mn_vote votes[2];
        mn_proposal proposals[2];
    } u;
} mn_evidence;

typedef enum mn_cmsg_kind {
    MN_CMSG_PROPOSAL = 1,
    MN_CMSG_VOTE = 2,
    MN_CMSG_COMMIT = 3,   /* a decided header with its certificate, for late nodes */
    MN_CMSG_EVIDENCE = 4,
} mn_cmsg_kind;

/* The wire envelope: [kind, body]. */
typedef struct mn_cmsg {
    mn_cmsg_kind kind;
    union {
        mn_proposal proposal;
        mn_vote vote;
        struct {
            mn_block_header header;
            mn_commit_cert cert;
        } commit;
        mn_evidence evidence;
    } u;
} mn_cmsg;

/* ---- ids and sign-bytes ---------------------------------------------------------------- */

/* id(header). Cannot fail for a header that passed mn_block_header_check. */
void mn_block_id(uint8_t id[static MN_BLOCK_ID_BYTES], const mn_block_header *h);
/* Range checks shared by encoders (asserted) and decoders: MN_ECORRUPT when violated. */
int mn_block_header_check(const mn_block_header *h, mn_err *err);
int mn_proposal_check(const mn_proposal *p, mn_err *err);
int mn_vote_check(const mn_vote *v, mn_err *err);

/* Signs in place (fills signer = mn_node_id(kp->pk) and signature). chain_id is text. */
void mn_proposal_sign(mn_proposal *p, const char *chain_id, const mn_keypair *kp);
void mn_vote_sign(mn_vote *v, const char *chain_id, const mn_keypair *kp);
/* Checks the signature against pk (which must hash to the signer id): 0, or MN_ECRYPTO. */
int mn_proposal_verify(const mn_proposal *p, const char *chain_id,
                       const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES], mn_err *err);
int mn_vote_verify(const mn_vote *v, const char *chain_id,
                   const uint8_t pk[static MN_ED25519_PUBLICKEY_BYTES], mn_err *err);
/* The sign-bytes themselves (appended to out), for callers that verify in their own way. */
int mn_proposal_sign_bytes(const mn_proposal *p, const char *chain_id, mn_buf *out, mn_err *err);
int mn_vote_sign_bytes(const mn_vote *v, const char *chain_id, mn_buf *out, mn_err *err);

/* True when a and b are the same (height, round, type, signer) but differ in content. */
bool mn_vote_conflicts(const mn_vote *a, const mn_vote *b);
bool mn_proposal_conflicts(const mn_proposal *a, const mn_proposal *b);
/* Builds canonical evidence from two conflicting votes / proposals (in either order). */
void mn_evidence_from_votes(mn_evidence *e, const mn_vote *a, const mn_vote *b);
void mn_evidence_from_proposals(mn_evidence *e, const mn_proposal *a, const mn_proposal *b);

/* ---- encoding ------------------------------------------------------------------------- */

/* Each encoder appends the canonical encoding to out. MN_ELIMIT / MN_ENOMEM from the buffer. */
int mn_vote_encode(const mn_vote *v, mn_buf *out, mn_err *err);
int mn_proposal_encode(const mn_proposal *p, mn_buf *out, mn_err *err);
int mn_block_header_encode(const mn_block_header *h, mn_buf *out, mn_err *err);
int mn_commit_cert_encode(const mn_commit_cert *c, mn_buf *out, mn_err *err);
int mn_evidence_encode(const mn_evidence *e, mn_buf *out, mn_err *err);
int mn_cmsg_encode(const mn_cmsg *m, mn_buf *out, mn_err *err);

/* Strict decoders over untrusted bytes: MN_ECORRUPT / MN_ELIMIT on anything but the one
 * canonical encoding of a well-formed value. The output is written only on success.
 * Signatures are NOT checked (the signer's key is not known here). */
int mn_vote_decode(const uint8_t *data, size_t len, mn_vote *v, mn_err *err);
int mn_proposal_decode(const uint8_t *data, size_t len, mn_proposal *p, mn_err *err);
int mn_block_header_decode(const uint8_t *data, size_t len, mn_block_header *h, mn_err *err);
int mn_commit_cert_decode(const uint8_t *data, size_t len, mn_commit_cert *c, mn_err *err);
int mn_evidence_decode(const uint8_t *data, size_t len, mn_evidence *e, mn_err *err);
int mn_cmsg_decode(const uint8_t *data, size_t len, mn_cmsg *m, mn_err *err);

#endif
