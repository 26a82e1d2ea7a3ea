/* SPDX-License-Identifier: Apache-2.0
 *
 * node.c: the running node of node.h: creation, start (dials), the periodic tick, status
 * accessors and shutdown. One libuv loop carries the BPCI node, the consensus core and the
 * ledger; the jobs are split over the files named in node_internal.h. Not here: message formats
 * (msg.c), the signing-state encoding (signstate.c), key files and homes (home.c), the HTTP API.
 */
#include "node_internal.h"

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
    mn__node_tx_flush(n);
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
            mn__node_run_actions(n);
            mn__node_drain(n);
            for (uint32_t i = 0; i < MN_NODE_BODY_CACHE; i++)
                if (n->parked[i].used) {
                    mn_err err;
                    n->scratch.len = 0;
                    if (mn_nmsg_encode_body_request(n->parked[i].header.height,
                                                    n->parked[i].header.payload, &n->scratch,
                                                    &err) == 0)
                        mn__node_send_validators(n, MN_NODE_SVC_CONSENSUS, &n->scratch);
                }
        }
    }
    if (n->ticks % (MN_NODE_STATUS_MS / TICK_MS) == 0 || stuck)
        mn__node_send_status(n);
    mn__node_maybe_sync(n, stuck);
}

/* ---- lifecycle ----------------------------------------------------------------------------- */


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
    n->anchors_path = cfg->anchors_path ? strdup(cfg->anchors_path) : NULL;
    n->cfg.anchors_path = NULL;
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
        .on_peer = mn__node_on_peer,
        .admit = mn__node_admit,
        .ctx = n,
    };
    rc = mn_bpci_node_new(loop, &ncfg, &n->net, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(n->net, MN_NODE_SVC_CONSENSUS, mn__node_on_consensus, n, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(n->net, MN_NODE_SVC_SYNC, mn__node_on_sync, n, err);
    if (rc == 0)
        rc = mn_bpci_node_on_service(n->net, MN_NODE_SVC_TX, mn__node_on_txs, n, err);
    if (rc == 0 && n->listen) {
        char host[64];
        uint16_t port;
        uint8_t ip[16];
        static const uint8_t any6[16], any4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (mn__node_split_hostport(n->listen, host, sizeof(host), &port, err) == 0 &&
            mn__node_parse_ip(host, ip) && memcmp(ip, any6, 16) != 0 && memcmp(ip, any4, 16) != 0)
            memcpy(n->source_host, host, strlen(host) + 1); /* fits: both are 64 bytes */
    }
    if (rc == 0)
        rc = mn__node_relay_start(n, err);
    if (rc == 0 && n->listen) {
        char host[64];
        uint16_t port, bound;
        rc = mn__node_split_hostport(n->listen, host, sizeof(host), &port, err);
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
    uv_timer_init(loop, &n->backup);
    n->backup.data = n;
    n->handles_open++;
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

#define SRC(n) ((n)->source_host[0] ? (n)->source_host : NULL)

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
        peer *p = mn__node_peer_find(n, id, true);
        if (p != NULL)
            p->validator = true;
        /* One session per pair: the lower id dials. An observer dials every validator, or,
         * with peers in its config, only those (it follows the others through the relay). */
        if (cmp > 0 && mn__node_is_validator_id(n, self))
            continue;
        if (!mn__node_is_validator_id(n, self) && n->peers_addr_count > 0)
            continue;
        char host[64];
        uint16_t port;
        if (mn__node_split_hostport(v->addr, host, sizeof(host), &port, err) != 0)
            return mn_err_wrap(err, "genesis validator %u", i);
        static const uint8_t zero[32];
        const bool ik = memcmp(v->noise_pk, zero, 32) != 0;
        MN_TRY(mn_bpci_node_dial(n->net, host, port, id, ik ? v->noise_pk : NULL, true, SRC(n),
                                 err));
    }
    for (uint32_t i = 0; i < n->peers_addr_count; i++) {
        char host[64];
        uint16_t port;
        MN_TRY(mn__node_split_hostport(n->peers_addr[i], host, sizeof(host), &port, err));
        MN_TRY(mn_bpci_node_dial(n->net, host, port, NULL, NULL, true, SRC(n), err));
    }
    MN_TRY(mn__node_core_start(n, err));
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
    mn__node_core_stop(n);
    for (bft_timer *t = n->timers; t != NULL;) {
        bft_timer *next = t->next;
        uv_timer_stop(&t->t);
        uv_close((uv_handle_t *)&t->t, mn__node_timer_closed);
        t = next;
    }
    n->timers = NULL;
    if (n->handles_init) {
        uv_close((uv_handle_t *)&n->tick, tick_closed);
        uv_close((uv_handle_t *)&n->backup, tick_closed);
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
    mn__node_core_stop(n);
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
    free(n->anchors_path);
    free(n->out);
    free(n->valq);
    mn_bpci_identity_wipe(&n->ident);
    mn_keypair_wipe(&n->key);
    memset(n->vrf_sk, 0, sizeof(n->vrf_sk));
    free(n);
}
