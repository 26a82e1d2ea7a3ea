/* SPDX-License-Identifier: Apache-2.0
 *
 * node.c: the running node of node.h. One libuv loop carries the BPCI node, the consensus
 * core and the ledger. The core is driven as tests/sim drives it: every call's actions run in
 * order (run_actions); PERSIST is written to the ledger's meta table (durable on return)
 * before the next action, so no signature leaves before the state that protects it is on disk;
 * VALIDATE requests are queued and answered after the current action list (the core's output
 * buffer is reused by every call), so the core is never re-entered. Block sync and catch-up
 * commits keep late and new nodes in step; a mismatch between the core's height and the
 * ledger's (a sync committed past it) re-initialises the core from the ledger and the
 * persisted signing state, exactly like a restart.
 *
 * Not here: message formats (msg.c), the signing-state encoding (signstate.c), key files and
 * homes (home.c), the HTTP API.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "metanode/hash.h"
#include "metanode/log.h"
#include "metanode/node.h"
#include "metanode/node_msg.h"
#include "metanode/tags.h"
#include "relay_driver.h"

#define MS 1000000ull
#define SIGN_STATE_KEY "bft.sign_state"
#define TICK_MS 50u

typedef struct peer {
    bool used, up, validator;
    uint8_t id[MN_ID_BYTES];
    uint64_t height;            /* last reported committed height */
    uint64_t commit_sent_ns;    /* last catch-up commit sent to it */
} peer;

typedef struct body_entry {
    bool used;
    uint64_t height;
    uint8_t payload[32];
    mn_buf body;
} body_entry;

typedef struct parked {
    bool used;
    mn_block_header header;
    uint64_t requested_ns;
} parked;

typedef struct bft_timer {
    uv_timer_t t;
    mn_node *n;
    struct bft_timer *prev, *next;
    mn_bft_step step;
    uint64_t height;
    uint32_t round;
} bft_timer;

struct mn_node {
    uv_loop_t *loop;
    mn_genesis genesis;
    mn_ledger *ledger;
    mn_mempool *mp;
    mn_bpci_identity ident;
    mn_bpci_registry reg;
    mn_bpci_node *net;
    mn_relay_driver *relay;     /* gossip relay (relay_driver.c) */
    mn_keypair key;
    uint8_t vrf_sk[MN_VRF_SECRETKEY_BYTES];
    bool have_vrf;
    mn_node_config cfg;
    char *listen;
    char **peers_addr;
    uint32_t peers_addr_count;
    /* consensus */
    mn_bft *core;
    bool core_ok;
    const mn_bft_valset *last_vs;  /* the set refresh_validators last applied */
    mn_bft_config bcfg;
    mn_bft_actions *out;
    bool in_actions;
    mn_block_header *valq;      /* validations queued during an action list */
    uint32_t valq_len;
    parked parked[MN_NODE_BODY_CACHE];
    body_entry bodies[MN_NODE_BODY_CACHE];
    bft_timer *timers;
    /* peers */
    peer peers[MN_NODE_PEERS_MAX];
    /* tx gossip batch */
    mn_buf txbuf;
    size_t tx_off[MN_NODE_TX_BATCH_MAX];
    size_t tx_len[MN_NODE_TX_BATCH_MAX];
    uint32_t tx_count;
    /* received txs waiting for admission (u32 length, u8 relay flag, bytes), admitted in
     * slices from an idle handle so consensus messages are never queued behind a batch */
    mn_buf inq;
    size_t inq_off;
    uv_idle_t admit;
    bool admit_on;
    uint64_t txs_dropped;
    /* periodic work */
    uv_timer_t tick;
    uint64_t ticks;
    uint64_t progress, progress_ns;
    uint64_t sync_sent_ns;
    uint64_t height_start_ns;
    /* stats */
    uint64_t blocks_decided, blocks_synced, txs_committed, last_block_txs, latency_last;
    uint64_t bytes_in, bytes_out;
    uint32_t lat[MN_NODE_LATENCY_WINDOW];
    uint64_t lat_count;
    /* shutdown */
    uint32_t handles_open;
    bool closing, failed, handles_init;
    mn_buf scratch;
};

static uint64_t now_ns(void)
{
    return uv_hrtime();
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void hex8(char out[17], const uint8_t *id)
{
    mn_hex_encode(out, id, 8);
}

/* ---- peers ------------------------------------------------------------------------------- */

static peer *peer_find(mn_node *n, const uint8_t id[MN_ID_BYTES], bool create)
{
    peer *free_slot = NULL;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++) {
        if (n->peers[i].used && memcmp(n->peers[i].id, id, MN_ID_BYTES) == 0)
            return &n->peers[i];
        if (!n->peers[i].used && free_slot == NULL)
            free_slot = &n->peers[i];
    }
    if (!create || free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = true;
    memcpy(free_slot->id, id, MN_ID_BYTES);
    return free_slot;
}

static bool is_validator_id(mn_node *n, const uint8_t id[MN_ID_BYTES])
{
    const mn_bft_valset *vs = mn_ledger_valset_at(n->ledger, mn_ledger_height(n->ledger) + 1);
    return vs != NULL && mn_bft_valset_find(vs, id) >= 0;
}

static void on_peer(void *ctx, const uint8_t id[MN_ID_BYTES], bool up)
{
    mn_node *n = ctx;
    peer *p = peer_find(n, id, up);
    if (p == NULL)
        return;
    p->up = up;
    p->validator = is_validator_id(n, id);
    char h[17];
    hex8(h, id);
    MN_LOG(INFO, "node", "peer %s... %s", h, up ? "up" : "down");
    mn_relay_driver_peer(n->relay, id, up);
    if (!up && !p->validator)
        p->used = false;
}

static void send_to(mn_node *n, const uint8_t id[MN_ID_BYTES], uint16_t svc, const mn_buf *b)
{
    mn_err err;
    if (mn_bpci_node_send(n->net, id, svc, b->data, b->len, &err) != 0)
        MN_LOG(DEBUG, "node", "send on service %u: %s", svc, err.msg);
    else
        n->bytes_out += b->len;
}

static void send_validators(mn_node *n, uint16_t svc, const mn_buf *b)
{
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        if (n->peers[i].used && n->peers[i].up && n->peers[i].validator)
            send_to(n, n->peers[i].id, svc, b);
}

/* ---- bodies -------------------------------------------------------------------------------- */

static void body_hash(uint8_t out[32], const uint8_t *body, size_t len)
{
    mn_sha256_tagged(out, MN_TAG_BLOCK_BODY, body, len);
}

static body_entry *body_find(mn_node *n, const uint8_t payload[32])
{
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        if (n->bodies[i].used && memcmp(n->bodies[i].payload, payload, 32) == 0)
            return &n->bodies[i];
    return NULL;
}

/* Keeps a copy of a body whose hash is payload (checked by the caller). */
static void body_put(mn_node *n, uint64_t height, const uint8_t payload[32], const uint8_t *body,
                     size_t len)
{
    if (body_find(n, payload) != NULL || height <= mn_ledger_height(n->ledger))
        return;
    body_entry *slot = NULL;
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++) {
        body_entry *e = &n->bodies[i];
        if (!e->used) {
            slot = e;
            break;
        }
        if (slot == NULL || e->height < slot->height)
            slot = e;
    }
    mn_err err;
    slot->body.len = 0;
    if (mn_buf_append(&slot->body, body, len, &err) != 0) {
        slot->used = false;
        return;
    }
    slot->used = true;
    slot->height = height;
    memcpy(slot->payload, payload, 32);
}

/* A body received from the network: kept only if it hashes to the payload it claims. */
static bool body_offer(mn_node *n, uint64_t height, const uint8_t payload[32],
                       const uint8_t *body, size_t len)
{
    uint8_t h[32];
    body_hash(h, body, len);
    if (memcmp(h, payload, 32) != 0)
        return false;
    body_put(n, height, payload, body, len);
    return true;
}

static void bodies_prune(mn_node *n)
{
    const uint64_t committed = mn_ledger_height(n->ledger);
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        if (n->bodies[i].used && n->bodies[i].height <= committed)
            n->bodies[i].used = false;
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        if (n->parked[i].used && n->parked[i].header.height <= committed)
            n->parked[i].used = false;
}

/* ---- driving the core ---------------------------------------------------------------------- */

static void run_actions(mn_node *n);
static void drain(mn_node *n);
static void node_fail(mn_node *n, const char *why);

static void timer_closed(uv_handle_t *h)
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
    uv_close((uv_handle_t *)h, timer_closed);
    if (!n->core_ok || n->closing)
        return;
    mn_bft_on_timeout(n->core, t->step, t->height, t->round, n->out);
    run_actions(n);
    drain(n);
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
        b = body_find(n, c.u.proposal.header.payload);
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
    send_validators(n, MN_NODE_SVC_CONSENSUS, &n->scratch);
}

static void send_status(mn_node *n);

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
}

/* Commits a block (decided or synced) whose body we hold. */
static int commit(mn_node *n, const mn_block_header *h, const mn_commit_cert *c,
                  const uint8_t *body, size_t len, mn_err *err)
{
    MN_TRY(mn_ledger_commit_block(n->ledger, h, c, body, len, err));
    mn_mempool_update(n->mp, n->ledger);
    bodies_prune(n);
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
    body_entry *b = body_find(n, h->payload);
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
    int rc = commit(n, h, c, body.data, body.len, &err);
    MN_LOG(DEBUG, "node", "stored block %llu in %llu ms", (unsigned long long)h->height,
           (unsigned long long)((now_ns() - t0) / MS));
    if (rc == 0) /* followers hear of it through the relay */
        mn_relay_driver_publish_block(n->relay, h, c, body.data, body.len);
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
    send_status(n); /* followers and clients hear of the block at once */
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

static void run_actions(mn_node *n)
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
        send_validators(n, MN_NODE_SVC_CONSENSUS, &n->scratch);
}

static void validate(mn_node *n, const mn_block_header *h)
{
    const body_entry *b = body_find(n, h->payload);
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
    run_actions(n);
}

/* Answers the validations queued by the last action lists (each answer may queue more). */
static void drain(mn_node *n)
{
    while (n->valq_len > 0 && n->core_ok) {
        mn_block_header h = n->valq[0];
        memmove(n->valq, n->valq + 1, (n->valq_len - 1) * sizeof(*n->valq));
        n->valq_len--;
        validate(n, &h);
    }
}

/* Parked validations whose body has arrived. */
static void unpark(mn_node *n)
{
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE && n->core_ok; i++) {
        if (n->parked[i].used && body_find(n, n->parked[i].header.payload) != NULL) {
            mn_block_header h = n->parked[i].header;
            n->parked[i].used = false;
            validate(n, &h);
            drain(n);
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
    body_put(n, height, payload, body.data, body.len);
    mn_buf_deinit(&body);
}

static const mn_bft_valset *valset_at(void *ctx, uint64_t height)
{
    mn_node *n = ctx;
    return mn_ledger_valset_at(n->ledger, height);
}

static void core_stop(mn_node *n)
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
static int core_start(mn_node *n, mn_err *err)
{
    core_stop(n);
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
    run_actions(n);
    drain(n);
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
static void core_resync(mn_node *n)
{
    if (n->core == NULL || n->closing || n->failed)
        return;
    if (n->core->height == mn_ledger_height(n->ledger) + 1)
        return;
    mn_err err;
    if (core_start(n, &err) != 0)
        node_fail(n, err.msg);
}

/* ---- services ------------------------------------------------------------------------------ */

/* A peer behind us sent a message of height h: hand it the decided block with its body. */
static void catch_up(mn_node *n, const uint8_t id[MN_ID_BYTES], uint64_t h)
{
    peer *p = peer_find(n, id, false);
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
            send_to(n, id, MN_NODE_SVC_CONSENSUS, &n->scratch);
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
            (void)body_offer(n, h, c->u.proposal.header.payload, m->body, m->body_len);
        rc = mn_bft_on_proposal(n->core, &c->u.proposal, n->out, &err);
        break;
    case MN_CMSG_VOTE:
        h = c->u.vote.height;
        rc = mn_bft_on_vote(n->core, &c->u.vote, n->out, &err);
        break;
    case MN_CMSG_COMMIT:
        h = c->u.commit.header.height;
        if (!m->has_body || h != was ||
            !body_offer(n, h, c->u.commit.header.payload, m->body, m->body_len))
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
    run_actions(n);
    drain(n);
    unpark(n);
    if (c->kind != MN_CMSG_COMMIT && h < was)
        catch_up(n, from, h);
}

static void on_body_request(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    mn_err err;
    const body_entry *b = body_find(n, m->hash);
    n->scratch.len = 0;
    if (b != NULL) {
        if (mn_nmsg_encode_body(b->height, b->body.data, b->body.len, &n->scratch, &err) == 0)
            send_to(n, from, MN_NODE_SVC_CONSENSUS, &n->scratch);
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
        send_to(n, from, MN_NODE_SVC_CONSENSUS, &n->scratch);
    mn_buf_deinit(&body);
}

static void on_consensus(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
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
                (void)body_offer(n, m.height, n->parked[i].header.payload, m.body, m.body_len);
        unpark(n);
        break;
    default:
        break;
    }
}

/* ---- sync ---------------------------------------------------------------------------------- */

static void on_sync_request(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    static _Thread_local mn_block_header h;
    static _Thread_local mn_commit_cert c;
    const uint64_t top = mn_ledger_height(n->ledger);
    mn_buf body;
    mn_err err;
    mn_buf_init(&body, 0);
    for (uint64_t k = m->height; k < m->height + m->count && k <= top; k++) {
        body.len = 0;
        n->scratch.len = 0;
        if (mn_ledger_get_block(n->ledger, k, &h, &c, &body, &err) != 0 ||
            mn_nmsg_encode_sync_block(&h, &c, body.data, body.len, &n->scratch, &err) != 0 ||
            mn_bpci_node_send(n->net, from, MN_NODE_SVC_SYNC, n->scratch.data, n->scratch.len,
                              &err) != 0)
            break;
        n->bytes_out += n->scratch.len;
    }
    mn_buf_deinit(&body);
}

/* 0: committed; 1: not the next height (ignored); MN_ECRYPTO / MN_ECORRUPT: refused. */
static int on_sync_block(mn_node *n, const mn_nmsg *m)
{
    mn_err err;
    const mn_block_header *h = &m->header;
    if (h->height != mn_ledger_height(n->ledger) + 1)
        return 1;
    mn_bft_chain ch;
    mn_ledger_chain(n->ledger, &ch);
    const mn_bft_valset *vs = mn_ledger_valset_at(n->ledger, h->height);
    if (memcmp(h->parent, ch.parent, MN_BLOCK_ID_BYTES) != 0 || vs == NULL ||
        mn_bft_verify_commit(vs, n->genesis.chain_id, h, &m->cert, NULL, &err) != 0) {
        MN_LOG(WARN, "node", "synced block %llu refused: %s", (unsigned long long)h->height,
               vs == NULL ? "no validator set" : "parent or certificate does not verify");
        return -MN_ECRYPTO;
    }
    if (commit(n, h, &m->cert, m->body, m->body_len, &err) != 0) {
        MN_LOG(WARN, "node", "synced block %llu refused: %s", (unsigned long long)h->height,
               err.msg);
        return err.code == MN_ECORRUPT || err.code == MN_ECRYPTO ? -(int)err.code : 1;
    }
    uint64_t txs = 0;
    (void)mn_body_txs(m->body, m->body_len, NULL, NULL, &txs, &err);
    n->txs_committed += txs;
    n->blocks_synced++;
    if (n->cfg.on_commit)
        n->cfg.on_commit(n->cfg.ctx, h->height, 0, txs);
    n->sync_sent_ns = 0; /* progress: the next request may leave at once */
    if ((n->blocks_synced & 255u) == 0)
        MN_LOG(INFO, "node", "synced to height %llu", (unsigned long long)h->height);
    return 0;
}

static void on_status(mn_node *n, const uint8_t from[MN_ID_BYTES], const mn_nmsg *m)
{
    peer *p = peer_find(n, from, false);
    if (p != NULL)
        p->height = m->height;
}

static void send_status(mn_node *n);

static void on_sync(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                    const uint8_t *data, size_t len)
{
    mn_node *n = ctx;
    n->bytes_in += len;
    static _Thread_local mn_nmsg m;
    mn_err err;
    (void)svc;
    if (n->closing || n->failed)
        return;
    if (mn_nmsg_decode(data, len, &m, &err) != 0) {
        MN_LOG(DEBUG, "node", "bad sync-service message: %s", err.msg);
        return;
    }
    switch (m.kind) {
    case MN_NMSG_STATUS:
        on_status(n, from, &m);
        break;
    case MN_NMSG_SYNC_REQUEST:
        on_sync_request(n, from, &m);
        break;
    case MN_NMSG_SYNC_BLOCK: {
        (void)on_sync_block(n, &m);
        core_resync(n);
        break;
    }
    default:
        break;
    }
}

/* Asks the highest peer for the next blocks when we are behind. */
static void maybe_sync(mn_node *n, bool stuck)
{
    const uint64_t ours = mn_ledger_height(n->ledger);
    peer *best = NULL;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++) {
        peer *p = &n->peers[i];
        if (p->used && p->up && p->height > ours && (best == NULL || p->height > best->height))
            best = p;
    }
    if (best == NULL)
        return;
    const uint64_t gap = best->height - ours;
    const bool observer = n->core == NULL || n->core->self < 0;
    if (gap < 2 && !stuck && !observer)
        return;
    const uint64_t t = now_ns();
    if (n->sync_sent_ns != 0 && t - n->sync_sent_ns < 1000 * MS)
        return;
    n->sync_sent_ns = t;
    mn_err err;
    n->scratch.len = 0;
    const uint64_t count = gap < MN_NODE_SYNC_BATCH_MAX ? gap : MN_NODE_SYNC_BATCH_MAX;
    if (mn_nmsg_encode_sync_request(ours + 1, count, &n->scratch, &err) == 0)
        send_to(n, best->id, MN_NODE_SVC_SYNC, &n->scratch);
}

static void send_status(mn_node *n)
{
    mn_err err;
    mn_bft_chain ch;
    uint8_t root[32];
    mn_ledger_chain(n->ledger, &ch);
    mn_ledger_state_root(n->ledger, root);
    n->scratch.len = 0;
    if (mn_nmsg_encode_status(mn_ledger_height(n->ledger), ch.parent, root, &n->scratch, &err) !=
        0)
        return;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        if (n->peers[i].used && n->peers[i].up)
            send_to(n, n->peers[i].id, MN_NODE_SVC_SYNC, &n->scratch);
}

/* ---- transactions -------------------------------------------------------------------------- */

static void tx_flush(mn_node *n)
{
    if (n->tx_count == 0)
        return;
    const uint8_t *ptrs[MN_NODE_TX_BATCH_MAX];
    for (uint32_t i = 0; i < n->tx_count; i++)
        ptrs[i] = n->txbuf.data + n->tx_off[i];
    mn_err err;
    n->scratch.len = 0;
    if (mn_nmsg_encode_txs(ptrs, n->tx_len, n->tx_count, &n->scratch, &err) == 0)
        send_validators(n, MN_NODE_SVC_TX, &n->scratch);
    n->tx_count = 0;
    n->txbuf.len = 0;
}

static void tx_gossip(mn_node *n, const uint8_t *tx, size_t len)
{
    mn_err err;
    if (n->tx_count == MN_NODE_TX_BATCH_MAX || n->txbuf.len + len > MN_NODE_TX_BATCH_BYTES)
        tx_flush(n);
    n->tx_off[n->tx_count] = n->txbuf.len;
    if (mn_buf_append(&n->txbuf, tx, len, &err) != 0)
        return;
    n->tx_len[n->tx_count++] = len;
}

void mn_node_gossip_tx(mn_node *n, const uint8_t *tx, size_t len)
{
    tx_gossip(n, tx, len);
    mn_relay_driver_publish_tx(n->relay, tx, len);
}

int mn_node_submit_tx(mn_node *n, const uint8_t *tx, size_t len, uint8_t hash[32], mn_err *err)
{
    MN_TRY(mn_mempool_add(n->mp, n->ledger, tx, len, hash, err));
    mn_node_gossip_tx(n, tx, len);
    return 0;
}

static void on_admit(uv_idle_t *h)
{
    mn_node *n = h->data;
    const uint64_t t0 = now_ns();
    mn_err err;
    while (n->inq_off < n->inq.len && now_ns() - t0 < MN_NODE_ADMIT_SLICE_US * 1000u) {
        const uint8_t *p = n->inq.data + n->inq_off;
        uint32_t len;
        memcpy(&len, p, 4);
        const bool relay = p[4] != 0;
        if (mn_mempool_add(n->mp, n->ledger, p + 5, len, NULL, &err) == 0 && relay)
            tx_gossip(n, p + 5, len);
        n->inq_off += 5 + (size_t)len;
    }
    if (n->inq_off == n->inq.len) {
        n->inq.len = n->inq_off = 0;
        uv_idle_stop(&n->admit);
        n->admit_on = false;
    } else if (n->inq_off > n->inq.len / 2) {
        memmove(n->inq.data, n->inq.data + n->inq_off, n->inq.len - n->inq_off);
        n->inq.len -= n->inq_off;
        n->inq_off = 0;
    }
}

static void on_txs(void *ctx, const uint8_t from[MN_ID_BYTES], uint16_t svc,
                   const uint8_t *data, size_t len)
{
    mn_node *n = ctx;
    n->bytes_in += len;
    static _Thread_local mn_nmsg m;
    mn_err err;
    (void)svc;
    if (n->closing || n->failed || mn_nmsg_decode(data, len, &m, &err) != 0 ||
        m.kind != MN_NMSG_TXS)
        return;
    const peer *p = peer_find(n, from, false);
    const uint8_t relay = p == NULL || !p->validator; /* a client's txs go to the validators */
    for (uint32_t i = 0; i < m.tx_count; i++) {
        const uint32_t tl = (uint32_t)m.tx_lens[i];
        if (n->inq.len - n->inq_off + 5 + tl > MN_NODE_TX_QUEUE_BYTES) {
            n->txs_dropped++; /* the mempool is behind: shed load at the door */
            continue;
        }
        if (mn_buf_append(&n->inq, &tl, 4, &err) != 0 || mn_buf_append(&n->inq, &relay, 1, &err) != 0 ||
            mn_buf_append(&n->inq, m.txs[i], tl, &err) != 0)
            break;
    }
    if (!n->admit_on && n->inq.len > n->inq_off) {
        uv_idle_start(&n->admit, on_admit);
        n->admit_on = true;
    }
}

/* ---- periodic work ----------------------------------------------------------------------- */

static uint64_t progress_of(const mn_bft *b)
{
    return b->height << 24 ^ (uint64_t)b->round << 4 ^ (uint64_t)b->step;
}

static void on_tick(uv_timer_t *t)
{
    mn_node *n = t->data;
    if (n->closing)
        return;
    n->ticks++;
    tx_flush(n);
    const uint64_t now = now_ns();
    bool stuck = false;
    if (n->core_ok) {
        const uint64_t p = progress_of(n->core);
        if (p != n->progress) {
            n->progress = p;
            n->progress_ns = now;
        } else if (now - n->progress_ns > MN_NODE_REBROADCAST_MS * MS) {
            stuck = true;
            n->progress_ns = now;
            mn_bft_rebroadcast(n->core, n->out);
            run_actions(n);
            drain(n);
            for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
                if (n->parked[i].used) {
                    mn_err err;
                    n->scratch.len = 0;
                    if (mn_nmsg_encode_body_request(n->parked[i].header.height,
                                                    n->parked[i].header.payload, &n->scratch,
                                                    &err) == 0)
                        send_validators(n, MN_NODE_SVC_CONSENSUS, &n->scratch);
                }
        }
    }
    if (n->ticks % (MN_NODE_STATUS_MS / TICK_MS) == 0 || stuck)
        send_status(n);
    maybe_sync(n, stuck);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static int split_hostport(const char *text, char *host, size_t host_max, uint16_t *port,
                          mn_err *err)
{
    const char *colon = strrchr(text, ':');
    char *end;
    if (colon == NULL || (size_t)(colon - text) >= host_max || colon == text)
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" is not host:port", text);
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p > 65535 || colon[1] == '\0')
        return mn_err_set(err, MN_EINVAL, 0, "\"%s\" is not host:port", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* ---- relay (relay_driver.c): blocks and transactions from the gossip mesh ---------------- */

/* A decided block (a SYNC_BLOCK message) from the relay: checked and committed exactly as a
 * synced one when it is the next height; validators take blocks from consensus (a commit
 * here would restart their core mid-height), and any gap is left to block sync. */
static int relay_block(void *ctx, const uint8_t *payload, size_t len)
{
    mn_node *n = ctx;
    static _Thread_local mn_nmsg m;
    mn_err err;
    if (mn_nmsg_decode(payload, len, &m, &err) != 0 || m.kind != MN_NMSG_SYNC_BLOCK)
        return -MN_ECORRUPT;
    if (n->closing || n->failed || (n->core != NULL && n->core->self >= 0))
        return 0;
    const int rc = on_sync_block(n, &m);
    if (rc == 0)
        core_resync(n);
    return rc < 0 ? rc : rc == 0;
}

static int relay_tx(void *ctx, const uint8_t *tx, size_t len)
{
    mn_node *n = ctx;
    mn_err err;
    if (n->closing || n->failed)
        return 0;
    if (mn_mempool_add(n->mp, n->ledger, tx, len, NULL, &err) == 0)
        return 1;
    return err.code == MN_ECORRUPT || err.code == MN_ECRYPTO ? -(int)err.code : 0;
}

static int relay_start(mn_node *n, mn_err *err)
{
    uint8_t(*ids)[MN_ID_BYTES] = calloc(n->genesis.validator_count + 1u, MN_ID_BYTES);
    if (ids == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "relay");
    uint8_t self[MN_ID_BYTES];
    mn_node_id(self, n->key.pk);
    bool self_validator = false;
    for (uint32_t i = 0; i < n->genesis.validator_count; i++) {
        mn_node_id(ids[i], n->genesis.validators[i].pk);
        self_validator |= memcmp(ids[i], self, MN_ID_BYTES) == 0;
    }
    const mn_relay_driver_config rc = {
        .key = &n->key,
        .validators = (const uint8_t(*)[MN_ID_BYTES])ids,
        .validator_count = n->genesis.validator_count,
        .self_validator = self_validator && n->have_vrf,
        .app = {.ctx = n, .on_block = relay_block, .on_tx = relay_tx},
    };
    const int r = mn_relay_driver_new(n->loop, n->net, &rc, &n->relay, err);
    free(ids);
    return r;
}

int mn_node_relay_metrics(mn_node *n, mn_buf *out, mn_err *err)
{
    return mn_relay_driver_metrics(n->relay, out, err);
}

int mn_node_new(uv_loop_t *loop, const mn_node_config *cfg, mn_node **out, mn_err *err)
{
    mn_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "node");
    n->loop = loop;
    n->genesis = *cfg->genesis;
    n->cfg = *cfg;
    n->key = *cfg->key;
    if (cfg->vrf_sk) {
        memcpy(n->vrf_sk, cfg->vrf_sk, sizeof(n->vrf_sk));
        n->have_vrf = true;
    }
    if (n->cfg.timeouts.propose_ns == 0) {
        n->cfg.timeouts = (mn_bft_timeouts){
            .propose_ns = MN_NODE_TIMEOUT_PROPOSE_MS * MS,
            .propose_delta_ns = MN_NODE_TIMEOUT_DELTA_MS * MS,
            .prevote_ns = MN_NODE_TIMEOUT_VOTE_MS * MS,
            .prevote_delta_ns = MN_NODE_TIMEOUT_DELTA_MS * MS,
            .precommit_ns = MN_NODE_TIMEOUT_VOTE_MS * MS,
            .precommit_delta_ns = MN_NODE_TIMEOUT_DELTA_MS * MS,
            .commit_ns = MN_NODE_TIMEOUT_COMMIT_MS * MS,
        };
    }
    n->cfg.genesis = &n->genesis;
    n->cfg.listen = NULL;
    n->cfg.peers = NULL;
    n->out = calloc(1, sizeof(*n->out));
    n->valq = calloc(MN_BFT_ACTIONS_MAX, sizeof(*n->valq));
    n->listen = cfg->listen ? strdup(cfg->listen) : NULL;
    n->peers_addr = calloc(cfg->peer_count + 1, sizeof(char *));
    MN_ASSERT(n->out && n->valq && n->peers_addr);
    for (uint32_t i = 0; i < cfg->peer_count; i++)
        n->peers_addr[i] = strdup(cfg->peers[i]);
    n->peers_addr_count = cfg->peer_count;
    mn_buf_init(&n->scratch, 0);
    mn_buf_init(&n->txbuf, 0);
    mn_buf_init(&n->inq, 0);
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        mn_buf_init(&n->bodies[i].body, 0);
    int rc = mn_ledger_open(cfg->db_path, cfg->genesis, &n->ledger, err);
    if (rc == 0)
        rc = mn_mempool_new(&n->mp, err);
    if (rc != 0) {
        mn_node_free(n);
        return rc;
    }
    mn_bpci_identity_init(&n->ident, &n->key, cfg->noise_priv);
    mn_bpci_registry_init(&n->reg);
    (void)mn_bpci_registry_add(&n->reg, MN_NODE_SVC_CONSENSUS, false, err);
    (void)mn_bpci_registry_add(&n->reg, MN_NODE_SVC_SYNC, true, err);
    (void)mn_bpci_registry_add(&n->reg, MN_NODE_SVC_TX, true, err);
    (void)mn_relay_driver_register(&n->reg, err);
    for (uint32_t i = 0; i < n->genesis.validator_count; i++) {
        uint8_t id[MN_ID_BYTES];
        mn_node_id(id, n->genesis.validators[i].pk);
        if ((rc = mn_bpci_registry_allow(&n->reg, MN_NODE_SVC_CONSENSUS, id, err)) != 0) {
            mn_node_free(n);
            return rc;
        }
    }
    const mn_bpci_node_config ncfg = {
        .self = &n->ident,
        .registry = &n->reg,
        .redial_base_ms = 100,
        .redial_max_ms = 2000,
        .on_peer = on_peer,
        .ctx = n,
    };
    rc = mn_bpci_node_new(loop, &ncfg, &n->net, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(n->net, MN_NODE_SVC_CONSENSUS, on_consensus, n, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(n->net, MN_NODE_SVC_SYNC, on_sync, n, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(n->net, MN_NODE_SVC_TX, on_txs, n, err);
    if (rc == 0)
        rc = relay_start(n, err);
    if (rc == 0 && n->listen) {
        char host[64];
        uint16_t port, bound;
        rc = split_hostport(n->listen, host, sizeof(host), &port, err);
        if (rc == 0)
            rc = mn_bpci_node_listen(n->net, host, port, &bound, err);
    }
    if (rc != 0) {
        mn_node_close(n);
        while (!mn_node_closed(n))
            uv_run(loop, UV_RUN_ONCE);
        mn_node_free(n);
        return rc;
    }
    uv_timer_init(loop, &n->tick);
    n->tick.data = n;
    n->handles_open++;
    uv_idle_init(loop, &n->admit);
    n->admit.data = n;
    n->handles_open++;
    n->handles_init = true;
    *out = n;
    return 0;
}

int mn_node_start(mn_node *n, mn_err *err)
{
    uint8_t self[MN_ID_BYTES];
    mn_node_id(self, n->key.pk);
    for (uint32_t i = 0; i < n->genesis.validator_count; i++) {
        const mn_genesis_validator *v = &n->genesis.validators[i];
        uint8_t id[MN_ID_BYTES];
        mn_node_id(id, v->pk);
        const int cmp = memcmp(self, id, MN_ID_BYTES);
        if (cmp == 0)
            continue;
        peer *p = peer_find(n, id, true);
        if (p != NULL)
            p->validator = true;
        /* One session per pair: the lower id dials. An observer dials every validator, or,
         * with peers in its config, only those (it follows the others through the relay). */
        if (cmp > 0 && is_validator_id(n, self))
            continue;
        if (!is_validator_id(n, self) && n->peers_addr_count > 0)
            continue;
        char host[64];
        uint16_t port;
        if (split_hostport(v->addr, host, sizeof(host), &port, err) != 0)
            return mn_err_wrap(err, "genesis validator %u", i);
        static const uint8_t zero[32];
        const bool ik = memcmp(v->noise_pk, zero, 32) != 0;
        MN_TRY(mn_bpci_node_dial(n->net, host, port, id, ik ? v->noise_pk : NULL, true, NULL,
                                 err));
    }
    for (uint32_t i = 0; i < n->peers_addr_count; i++) {
        char host[64];
        uint16_t port;
        MN_TRY(split_hostport(n->peers_addr[i], host, sizeof(host), &port, err));
        MN_TRY(mn_bpci_node_dial(n->net, host, port, NULL, NULL, true, NULL, err));
    }
    MN_TRY(core_start(n, err));
    uv_timer_start(&n->tick, on_tick, TICK_MS, TICK_MS);
    return 0;
}

void mn_node_get_status(mn_node *n, mn_node_status *st)
{
    memset(st, 0, sizeof(*st));
    mn_bft_chain ch;
    mn_ledger_chain(n->ledger, &ch);
    st->height = mn_ledger_height(n->ledger);
    memcpy(st->block_id, ch.parent, 32);
    mn_ledger_state_root(n->ledger, st->state_root);
    if (n->core != NULL) {
        st->consensus_height = n->core->height;
        st->round = n->core->round;
        st->step = (uint32_t)n->core->step;
        st->validator = n->core->self >= 0;
    }
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        st->peers_connected += n->peers[i].used && n->peers[i].up;
    st->blocks_decided = n->blocks_decided;
    st->blocks_synced = n->blocks_synced;
    st->txs_committed = n->txs_committed;
    st->last_block_txs = n->last_block_txs;
    st->commit_latency_ms_last = n->latency_last;
    st->bytes_in = n->bytes_in;
    st->bytes_out = n->bytes_out;
    st->mempool = mn_mempool_get_stats(n->mp);
}

bool mn_node_catching_up(const mn_node *n)
{
    const uint64_t ours = mn_ledger_height(n->ledger);
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX; i++)
        if (n->peers[i].used && n->peers[i].up && n->peers[i].height > ours + 1)
            return true;
    return false;
}

uint32_t mn_node_peers(const mn_node *n, mn_node_peer *out, uint32_t max)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < MN_NODE_PEERS_MAX && k < max; i++) {
        const peer *p = &n->peers[i];
        if (!p->used)
            continue;
        memcpy(out[k].id, p->id, MN_ID_BYTES);
        out[k].connected = p->up;
        out[k].validator = p->validator;
        out[k].height = p->height;
        k++;
    }
    return k;
}

uint32_t mn_node_latencies(const mn_node *n, uint32_t *out, uint32_t max)
{
    const uint64_t have = n->lat_count < MN_NODE_LATENCY_WINDOW ? n->lat_count
                                                                : MN_NODE_LATENCY_WINDOW;
    uint32_t k = 0;
    for (uint64_t i = 0; i < have && k < max; i++)
        out[k++] = n->lat[i];
    return k;
}

mn_ledger *mn_node_ledger(mn_node *n)
{
    return n->ledger;
}

mn_mempool *mn_node_mempool(mn_node *n)
{
    return n->mp;
}

mn_bpci_node *mn_node_bpci(mn_node *n)
{
    return n->net;
}

const mn_genesis *mn_node_genesis(const mn_node *n)
{
    return &n->genesis;
}

static void tick_closed(uv_handle_t *h)
{
    mn_node *n = h->data;
    n->handles_open--;
}

void mn_node_close(mn_node *n)
{
    if (n->closing)
        return;
    n->closing = true;
    core_stop(n);
    for (bft_timer *t = n->timers; t != NULL;) {
        bft_timer *next = t->next;
        uv_timer_stop(&t->t);
        uv_close((uv_handle_t *)&t->t, timer_closed);
        t = next;
    }
    n->timers = NULL;
    if (n->handles_init) {
        uv_close((uv_handle_t *)&n->tick, tick_closed);
        uv_close((uv_handle_t *)&n->admit, tick_closed);
    }
    mn_relay_driver_close(n->relay);
    if (n->net)
        mn_bpci_node_close(n->net);
}

bool mn_node_closed(const mn_node *n)
{
    return n->handles_open == 0 && (n->net == NULL || mn_bpci_node_closed(n->net)) &&
           mn_relay_driver_closed(n->relay);
}

bool mn_node_failed(const mn_node *n)
{
    return n->failed;
}

void mn_node_free(mn_node *n)
{
    if (n == NULL)
        return;
    core_stop(n);
    mn_relay_driver_free(n->relay);
    if (n->net)
        mn_bpci_node_free(n->net);
    if (n->mp)
        mn_mempool_free(n->mp);
    if (n->ledger)
        mn_ledger_close(n->ledger);
    for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
        mn_buf_deinit(&n->bodies[i].body);
    mn_buf_deinit(&n->scratch);
    mn_buf_deinit(&n->txbuf);
    mn_buf_deinit(&n->inq);
    for (uint32_t i = 0; i < n->peers_addr_count; i++)
        free(n->peers_addr[i]);
    free(n->peers_addr);
    free(n->listen);
    free(n->out);
    free(n->valq);
    mn_bpci_identity_wipe(&n->ident);
    mn_keypair_wipe(&n->key);
    memset(n->vrf_sk, 0, sizeof(n->vrf_sk));
    free(n);
}
