/* SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_consensus_msg.c: arbitrary bytes through the consensus envelope decoder (proposals,
 * votes, commits with certificates, evidence). Whatever decodes must re-encode to exactly the
 * input (one message, one encoding), and the checks a node runs next (sign-bytes, block id,
 * conflict tests) must not crash. Aborts on a violated property so libFuzzer reports it.
 */
#include <stdlib.h>
#include <string.h>

#include "metanode/consensus_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const mn_cmsg *m)
{
    uint8_t id[MN_BLOCK_ID_BYTES];
    mn_buf sb;
    mn_err err;
    mn_buf_init(&sb, 0);
    switch (m->kind) {
    case MN_CMSG_PROPOSAL:
        if (mn_proposal_sign_bytes(&m->u.proposal, "fuzz", &sb, &err) != 0)
            abort();
        break;
    case MN_CMSG_VOTE:
        if (mn_vote_sign_bytes(&m->u.vote, "fuzz", &sb, &err) != 0)
            abort();
        break;
    case MN_CMSG_COMMIT:
        mn_block_id(id, &m->u.commit.header);
        break;
    case MN_CMSG_EVIDENCE:
        if (m->u.evidence.kind == MN_EVIDENCE_DUPLICATE_VOTE &&
            !mn_vote_conflicts(&m->u.evidence.u.votes[0], &m->u.evidence.u.votes[1]))
            abort();
        break;
    default:
        abort();
    }
    mn_buf_deinit(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mn_cmsg m; /* about 9 KiB: keep it off the fuzzer's stack */
    mn_err err;
    if (mn_cmsg_decode(data, size, &m, &err) != 0)
        return 0;
    mn_buf buf;
    mn_buf_init(&buf, 0);
    if (mn_cmsg_encode(&m, &buf, &err) != 0 || buf.len != size ||
        memcmp(buf.data, data, size) != 0)
        abort();
    mn_buf_deinit(&buf);
    exercise(&m);
    return 0;
}
