/* SPDX-License-Identifier: Apache-2.0
 *
 * node_consensus.c: the consensus service (validators only): proposals, votes and decided blocks
 * for the core, body requests, and catch-up commits for a peer that is behind. Not here: driving
 * the core (node_core.c).
 */
#include "node_internal.h"

/* ---- services ------------------------------------------------------------------------------ */

/* A peer behind us sent a message of height h: hand it the decided block with its body. */
static void catch_up(mn_node *n, const uint8_t id[MN_ID_BYTES], uint64_t h)
{
    peer *p = mn__node_peer_find(n, id, false);
    const uint64_t t = now_ns();
    if (p == NULL || h == 0 || h > mn_ledger_height(n->ledger) ||
        (p->commit_sent_ns != 0 && t - p->commit_sent_ns < 100 * MS))
        return;
    p->commit_sent_ns = t;
    static _Thread_local mn_cmsg c;
    mn_buf body;
    mn_err err;
    memset(&c, 0, sizeof(c));
    mn_buf_init(&body, 0);
    c.kind = MN_CMSG_COMMIT;
    if (mn_ledger_get_block(n->ledger, h, &c.u.commit.header, &c.u.commit.cert, &body, &err) ==
        0) {
        n->scratch.len = 0;
        if (mn_nmsg_encode_consensus(&c, body.data, body.len, true, &n->scratch, &err) == 0)
            mn__node_send_to(n, id, MN_NODE_SVC_CONSENSUS, &n->scratch);
    }
    mn_buf_deinit(&body);
}

static void on_consensus_msg(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    const mn_cmsg *c = &m->cmsg;
    mn_err err;
    int rc = 0;
    uint64_t h = 0;
    const uint64_t was = n->core->height;
    switch (c->kind) {
    case MN_CMSG_PROPOSAL:
        h = c->u.proposal.height;
        if (m->has_body)
            (void)mn__node_body_offer(n, h, c->u.proposal.header.payload, m->body, m->body_len);
        rc = mn_bft_on_proposal(n->core, &c->u.proposal, n->out, &err);
        break;
    case MN_CMSG_VOTE:
        h = c->u.vote.height;
        rc = mn_bft_on_vote(n->core, &c->u.vote, n->out, &err);
        break;
    case MN_CMSG_COMMIT:
        h = c->u.commit.header.height;
        if (!m->has_body || h != was ||
            !mn__node_body_offer(n, h, c->u.commit.header.payload, m->body, m->body_len))
            return;
        rc = mn_bft_on_commit(n->core, &c->u.commit.header, &c->u.commit.cert, n->out, &err);
        break;
    case MN_CMSG_EVIDENCE:
        return; /* evidence reaches the chain through the ledger of whoever saw it */
    }
    if (rc != 0) {
        char hx[17];
        hex8(hx, from);
        MN_LOG(DEBUG, "node", "consensus message from %s... refused: %s", hx, err.msg);
        n->out->count = 0;
        return;
    }
    mn__node_run_actions(n);
    mn__node_drain(n);
    mn__node_unpark(n);
    if (c->kind != MN_CMSG_COMMIT && h < was)
        catch_up(n, from, h);
}

static void on_body_request(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    mn_err err;
    const body_entry *b = mn__node_body_find(n, m->hash);
    n->scratch.len = 0;
    if (b != NULL) {
        if (mn_nmsg_encode_body(b->height, b->body.data, b->body.len, &n->scratch, &err) == 0)
            mn__node_send_to(n, from, MN_NODE_SVC_CONSENSUS, &n->scratch);
        return;
    }
    if (m->height == 0 || m->height > mn_ledger_height(n->ledger))
        return;
    static _Thread_local mn_block_header h;
    static _Thread_local mn_commit_cert c;
    mn_buf body;
    mn_buf_init(&body, 0);
    if (mn_ledger_get_block(n->ledger, m->height, &h, &c, &body, &err) == 0 &&
        memcmp(h.payload, m->hash, 32) == 0 &&
        mn_nmsg_encode_body(m->height, body.data, body.len, &n->scratch, &err) == 0)
        mn__node_send_to(n, from, MN_NODE_SVC_CONSENSUS, &n->scratch);
    mn_buf_deinit(&body);
}

void mn__node_on_consensus(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                           const uint8_t *data, size_t len)
{
    mn_node *n = ctx;
    n->bytes_in += len;
    static _Thread_local mn_nmsg m;
    mn_err err;
    (void)svc;
    if (!n->core_ok || n->closing)
        return;
    if (mn_nmsg_decode(data, len, &m, &err) != 0) {
        MN_LOG(DEBUG, "node", "bad consensus-service message: %s", err.msg);
        return;
    }
    switch (m.kind) {
    case MN_NMSG_CONSENSUS:
        on_consensus_msg(n, from, &m);
        break;
    case MN_NMSG_BODY_REQUEST:
        on_body_request(n, from, &m);
        break;
    case MN_NMSG_BODY:
        for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
            if (n->parked[i].used && n->parked[i].header.height == m.height)
                (void)mn__node_body_offer(n, m.height, n->parked[i].header.payload, m.body,
                                          m.body_len);
        mn__node_unpark(n);
        break;
    default:
        break;
    }
}
