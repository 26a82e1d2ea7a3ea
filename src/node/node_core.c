/* SPDX-License-Identifier: Apache-2.0
 *
 * node_core.c: the consensus driver. The core is driven as tests/sim drives it: every call's
 * actions run in order (run_actions); PERSIST is written to the ledger's meta table (durable on
 * return) before the next action, so no signature leaves before the state that protects it is on
 * disk; VALIDATE requests are queued and answered after the current action list, so the core is
 * never re-entered. A mismatch between the core's height and the ledger's (a sync committed past
 * it) re-initialises the core from the ledger and the persisted signing state, exactly like a
 * restart. Not here: the consensus service's messages (node_consensus.c), block sync
 * (node_sync.c).
 */
#include "node_internal.h"

/* ---- driving the core ---------------------------------------------------------------------- */

static void node_fail(mn_node *n, const char *why);

void mn__node_timer_closed(uv_handle_t *h)
{
    bft_timer *t = (bft_timer *)h;
    t->n->handles_open--;
    free(t);
}

static void timer_unlink(bft_timer *t)
{
    mn_node *n = t->n;
    if (t->prev)
        t->prev->next = t->next;
    else
        n->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
}

static void timer_fired(uv_timer_t *h)
{
    bft_timer *t = (bft_timer *)h;
    mn_node *n = t->n;
    timer_unlink(t);
    uv_close((uv_handle_t *)h, mn__node_timer_closed);
    if (!n->core_ok || n->closing)
        return;
    mn_bft_on_timeout(n->core, t->step, t->height, t->round, n->out);
    mn__node_run_actions(n);
    mn__node_drain(n);
}

static void schedule(mn_node *n, const mn_bft_action *a)
{
    bft_timer *t = calloc(1, sizeof(*t));
    MN_ASSERT(t != NULL);
    t->n = n;
    t->step = a->u.timeout.step;
    t->height = a->u.timeout.height;
    t->round = a->u.timeout.round;
    uv_timer_init(n->loop, &t->t);
    n->handles_open++;
    t->next = n->timers;
    if (n->timers)
        n->timers->prev = t;
    n->timers = t;
    uv_timer_start(&t->t, timer_fired, (a->u.timeout.delay_ns + MS - 1) / MS, 0);
}

static void broadcast(mn_node *n, const mn_bft_action *a)
{
    static _Thread_local mn_cmsg c;
    memset(&c, 0, sizeof(c));
    c.kind = a->u.msg.kind;
    const body_entry *b = NULL;
    if (c.kind == MN_CMSG_PROPOSAL) {
        c.u.proposal = a->u.msg.proposal;
        b = mn__node_body_find(n, c.u.proposal.header.payload);
    } else {
        c.u.vote = a->u.msg.vote;
    }
    mn_err err;
    n->scratch.len = 0;
    if (mn_nmsg_encode_consensus(&c, b ? b->body.data : NULL, b ? b->body.len : 0, b != NULL,
                                 &n->scratch, &err) != 0) {
        MN_LOG(ERROR, "node", "encode consensus message: %s", err.msg);
        return;
    }
    mn__node_send_validators(n, MN_NODE_SVC_CONSENSUS, &n->scratch);
}


static void record_latency(mn_node *n)
{
    const uint64_t t = now_ns();
    n->latency_last = n->height_start_ns ? (t - n->height_start_ns) / MS : 0;
    n->lat[n->lat_count++ % MN_NODE_LATENCY_WINDOW] = (uint32_t)n->latency_last;
    n->height_start_ns = t;
}

/* The set of the next height changed (stake moved): its members may speak on the consensus
 * service from now on, and peers are (re)classified for gossip. Genesis members stay allowed. */
static void refresh_validators(mn_node *n)
{
    const mn_bft_valset *vs = mn_ledger_valset_at(n->ledger, mn_ledger_height(n->ledger) + 1);
    if (vs == NULL || vs == n->last_vs)
        return;
    n->last_vs = vs;
    mn_err err;
    for (uint32_t i = 0; i < vs->set.count; i++) {
        const uint8_t *id = vs->set.members[i].id;
        if (mn_bpci_registry_check(&n->reg, MN_NODE_SVC_CONSENSUS, id, &err) != 0 &&
            mn_bpci_registry_allow(&n->reg, MN_NODE_SVC_CONSENSUS, id, &err) != 0)
            MN_LOG(WARN, "node", "cannot admit a new validator: %s", err.msg);
    }
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        if (n->peers[i].used && n->peers[i].up)
            n->peers[i].validator = mn_bft_valset_find(vs, n->peers[i].id) >= 0 ||
                                    n->peers[i].validator;
    /* bonded validators are explicit relay peers of each other */
    static _Thread_local uint8_t ids[MN_VALIDATORS_MAX][MN_ID_BYTES];
    uint8_t self[MN_ID_BYTES];
    mn_node_id(self, n->key.pk);
    uint32_t k = 0;
    for (uint32_t i = 0; i < vs->set.count && k < MN_VALIDATORS_MAX; i++)
        memcpy(ids[k++], vs->set.members[i].id, MN_ID_BYTES);
    mn_relay_driver_set_validators(n->relay, (const uint8_t(*)[MN_ID_BYTES])ids, k,
                                   n->have_vrf && mn_bft_valset_find(vs, self) >= 0);
}

/* Commits a block (decided or synced) whose body we hold. */
int mn__node_commit(mn_node *n, const mn_block_header *h, const mn_commit_cert *c,
                  const uint8_t *body, size_t len, mn_err *err)
{
    MN_TRY(mn_ledger_commit_block(n->ledger, h, c, body, len, err));
    mn_mempool_update(n->mp, n->ledger);
    mn__node_bodies_prune(n);
    refresh_validators(n);
    return 0;
}

static void decide(mn_node *n, const mn_block_header *h, const mn_commit_cert *c)
{
    mn_err err;
    if (h->height != mn_ledger_height(n->ledger) + 1) {
        MN_LOG(WARN, "node", "decision at %llu but ledger at %llu: sync will repair",
               (unsigned long long)h->height, (unsigned long long)mn_ledger_height(n->ledger));
        return;
    }
    body_entry *b = mn__node_body_find(n, h->payload);
    if (b == NULL) {
        MN_LOG(WARN, "node", "decided block %llu without its body: sync will fetch it",
               (unsigned long long)h->height);
        return;
    }
    mn_buf body = b->body; /* commit prunes the cache: take the buffer out first */
    uint64_t txs = 0;
    (void)mn_body_txs(body.data, body.len, NULL, NULL, &txs, &err);
    n->last_block_txs = txs;
    memset(&b->body, 0, sizeof(b->body));
    b->used = false;
    const uint64_t t0 = now_ns();
    int rc = mn__node_commit(n, h, c, body.data, body.len, &err);
    MN_LOG(DEBUG, "node", "stored block %llu in %llu ms", (unsigned long long)h->height,
           (unsigned long long)((now_ns() - t0) / MS));
    if (rc == 0) /* followers hear of it through the relay */
        mn__node_relay_decided(n, h, c, body.data, body.len);
    mn_buf_deinit(&body);
    if (rc != 0) {
        MN_LOG(ERROR, "node", "commit of decided block %llu failed: %s",
               (unsigned long long)h->height, err.msg);
        return;
    }
    n->txs_committed += n->last_block_txs;
    n->blocks_decided++;
    record_latency(n);
    if (n->cfg.on_commit)
        n->cfg.on_commit(n->cfg.ctx, h->height, n->latency_last * MS, n->last_block_txs);
    mn__node_send_status(n); /* followers and clients hear of the block at once */
    MN_LOG(DEBUG, "node", "committed %llu (round %u, %llu ms)", (unsigned long long)h->height,
           c->round, (unsigned long long)n->latency_last);
}

static void persist(mn_node *n, const mn_bft_sign_state *s)
{
    mn_err err;
    n->scratch.len = 0;
    if (mn_sign_state_encode(s, &n->scratch, &err) != 0 ||
        mn_ledger_meta_put(n->ledger, SIGN_STATE_KEY, n->scratch.data, n->scratch.len, &err) != 0)
        node_fail(n, err.msg);
}

void mn__node_run_actions(mn_node *n)
{
    MN_ASSERT(!n->in_actions);
    n->in_actions = true;
    for (uint32_t i = 0; i < n->out->count && n->core_ok; i++) {
        const mn_bft_action *a = &n->out->items[i];
        switch (a->kind) {
        case MN_ACT_PERSIST:
            persist(n, a->u.persist);
            break;
        case MN_ACT_BROADCAST:
            broadcast(n, a);
            break;
        case MN_ACT_TIMEOUT:
            schedule(n, a);
            break;
        case MN_ACT_VALIDATE:
            MN_ASSERT(n->valq_len < MN_BFT_ACTIONS_MAX);
            n->valq[n->valq_len++] = a->u.validate;
            break;
        case MN_ACT_DECIDE:
            decide(n, a->u.decide.header, a->u.decide.cert);
            break;
        case MN_ACT_EVIDENCE: {
            mn_err err;
            if (mn_ledger_add_evidence(n->ledger, &a->u.evidence, &err) != 0)
                MN_LOG(WARN, "node", "evidence refused by the ledger: %s", err.msg);
            else
                MN_LOG(WARN, "node", "equivocation seen: evidence queued for a block");
            break;
        }
        }
    }
    n->out->count = 0;
    n->in_actions = false;
}

static void park(mn_node *n, const mn_block_header *h)
{
    parked *slot = NULL;
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++) {
        if (n->parked[i].used && memcmp(n->parked[i].header.payload, h->payload, 32) == 0 &&
            n->parked[i].header.height == h->height)
            return;
        if (!n->parked[i].used && slot == NULL)
            slot = &n->parked[i];
    }
    if (slot == NULL)
        slot = &n->parked[0];
    slot->used = true;
    slot->header = *h;
    slot->requested_ns = now_ns();
    mn_err err;
    n->scratch.len = 0;
    if (mn_nmsg_encode_body_request(h->height, h->payload, &n->scratch, &err) == 0)
        mn__node_send_validators(n, MN_NODE_SVC_CONSENSUS, &n->scratch);
}

static void validate(mn_node *n, const mn_block_header *h)
{
    const body_entry *b = mn__node_body_find(n, h->payload);
    if (b == NULL) {
        park(n, h);
        return;
    }
    mn_err err;
    const uint64_t t0 = now_ns();
    const bool ok = mn_ledger_check_block(n->ledger, h, b->body.data, b->body.len, &err) == 0;
    MN_LOG(DEBUG, "node", "checked block %llu (%zu bytes) in %llu ms",
           (unsigned long long)h->height, b->body.len, (unsigned long long)((now_ns() - t0) / MS));
    if (!ok)
        MN_LOG(WARN, "node", "block %llu refused: %s", (unsigned long long)h->height, err.msg);
    uint8_t id[MN_BLOCK_ID_BYTES];
    mn_block_id(id, h);
    mn_bft_on_validated(n->core, id, ok, n->out);
    mn__node_run_actions(n);
}

/* Answers the validations queued by the last action lists (each answer may queue more). */
void mn__node_drain(mn_node *n)
{
    while (n->valq_len > 0 && n->core_ok) {
        mn_block_header h = n->valq[0];
        memmove(n->valq, n->valq + 1, (n->valq_len - 1) * sizeof(*n->valq));
        n->valq_len--;
        validate(n, &h);
    }
}

/* Parked validations whose body has arrived. */
void mn__node_unpark(mn_node *n)
{
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE && n->core_ok; i++) {
        if (n->parked[i].used && mn__node_body_find(n, n->parked[i].header.payload) != NULL) {
            mn_block_header h = n->parked[i].header;
            n->parked[i].used = false;
            validate(n, &h);
            mn__node_drain(n);
        }
    }
}

static void get_payload(void *ctx, uint64_t height, uint8_t payload[32])
{
    mn_node *n = ctx;
    mn_err err;
    mn_buf body;
    mn_buf_init(&body, 0);
    const uint64_t t0 = now_ns();
    if (height != mn_ledger_height(n->ledger) + 1 ||
        mn_ledger_build_block(n->ledger, n->mp, wall_ms(), &body, payload, &err) != 0) {
        /* Cannot happen while the core and the ledger agree; a payload nobody can validate
         * makes this proposal fail and the round move on. */
        MN_LOG(ERROR, "node", "cannot build block %llu", (unsigned long long)height);
        memset(payload, 0xff, 32);
        mn_buf_deinit(&body);
        return;
    }
    MN_LOG(DEBUG, "node", "built block %llu (%zu bytes) in %llu ms", (unsigned long long)height,
           body.len, (unsigned long long)((now_ns() - t0) / MS));
    mn__node_body_put(n, height, payload, body.data, body.len);
    mn_buf_deinit(&body);
}

static const mn_bft_valset *valset_at(void *ctx, uint64_t height)
{
    mn_node *n = ctx;
    return mn_ledger_valset_at(n->ledger, height);
}

void mn__node_core_stop(mn_node *n)
{
    if (n->core != NULL) {
        mn_bft_deinit(n->core);
        free(n->core);
        n->core = NULL;
    }
    n->core_ok = false;
    n->valq_len = 0;
}

/* (Re)starts the core at the ledger's next height with the persisted signing state. */
int mn__node_core_start(mn_node *n, mn_err *err)
{
    mn__node_core_stop(n);
    mn_bft_chain ch;
    mn_ledger_chain(n->ledger, &ch);
    const mn_bft_valset *vs = mn_ledger_valset_at(n->ledger, ch.height);
    if (vs == NULL)
        return mn_err_set(err, MN_ESTATE, 0, "no validator set for height %llu",
                          (unsigned long long)ch.height);
    static _Thread_local mn_bft_sign_state ps;
    bool have_ps = false;
    mn_buf val;
    mn_buf_init(&val, 0);
    int rc = mn_ledger_meta_get(n->ledger, SIGN_STATE_KEY, &val, err);
    if (rc == 0) {
        rc = mn_sign_state_decode(val.data, val.len, &ps, err);
        if (rc != 0) {
            mn_buf_deinit(&val);
            return mn_err_wrap(err, "persisted signing state");
        }
        have_ps = true;
    } else if (err->code != MN_ENOTFOUND) {
        mn_buf_deinit(&val);
        return rc;
    }
    mn_buf_deinit(&val);
    const bool validator = n->have_vrf;
    n->bcfg.chain_id = n->genesis.chain_id;
    n->bcfg.valset = NULL;
    n->bcfg.timeouts = n->cfg.timeouts;
    n->bcfg.hooks.ctx = n;
    n->bcfg.hooks.valset_at = valset_at;
    n->bcfg.hooks.get_payload = get_payload;
    n->core = calloc(1, sizeof(mn_bft));
    MN_ASSERT(n->core != NULL);
    rc = mn_bft_init(n->core, &n->bcfg, validator ? &n->key : NULL,
                     validator ? n->vrf_sk : NULL, &ch, have_ps ? &ps : NULL, err);
    if (rc != 0) {
        free(n->core);
        n->core = NULL;
        return rc;
    }
    n->core_ok = true;
    n->height_start_ns = now_ns();
    MN_LOG(INFO, "node", "consensus at height %llu as %s", (unsigned long long)ch.height,
           n->core->self >= 0 ? "validator" : "observer");
    mn_bft_start(n->core, n->out);
    mn__node_run_actions(n);
    mn__node_drain(n);
    return 0;
}

static void node_fail(mn_node *n, const char *why)
{
    MN_LOG(ERROR, "node", "fatal: %s; stopping (nothing more is signed)", why);
    n->failed = true;
    n->core_ok = false;
    if (!n->closing)
        mn_node_close(n);
}

/* After a sync committed past the core, or a decision the ledger could not store. */
void mn__node_core_resync(mn_node *n)
{
    if (n->core == NULL || n->closing || n->failed)
        return;
    if (n->core->height == mn_ledger_height(n->ledger) + 1)
        return;
    mn_err err;
    if (mn__node_core_start(n, &err) != 0)
        node_fail(n, err.msg);
}
