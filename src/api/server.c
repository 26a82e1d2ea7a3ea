/* SPDX-License-Identifier: Apache-2.0
 *
 * server.c: the HTTP server of api.h: libmicrohttpd without threads of its own, driven from
 * the caller's libuv loop. MHD's epoll descriptor is watched by a uv_poll_t (readable: run
 * MHD) and its next timeout by a one-shot uv_timer_t re-armed after every run, so requests are
 * handled on the loop thread and may read the ledger directly. It routes (route.c), enforces
 * the body limit while the body arrives, renders (render.c) and submits to the mempool.
 * It does not parse HTTP itself and does not keep state between requests beyond counters.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <uv.h>

#include "internal.h"
#include "metanode/assert.h"
#include "metanode/ledger.h"
#include "metanode/log.h"
#include "metanode/metrics.h"

struct mn_api {
    struct MHD_Daemon *daemon;
    uv_poll_t poll;
    uv_timer_t timer;
    int handles_open;
    bool closing;
    size_t body_bytes_max;
    char chain_id[MN_CHAIN_ID_BYTES_MAX + 1];
    mn_api_callbacks cb;
    mn__api_ctx ctx;
    mn_api_stats stats;
    mn_metrics *metrics;
    mn_metric *m_requests;     /* by status class */
    mn_metric *m_txs;          /* admitted / refused */
};

/* One request in progress (MHD's per-connection request context). */
typedef struct request {
    mn__api_route route;
    bool route_ok;
    bool responded;
    bool too_large;
    mn_buf body;
} request;

/* ---- responses ---------------------------------------------------------------------------- */

static void count_status(mn_api *api, unsigned status)
{
    api->stats.requests++;
    if (status >= 400 && status < 500)
        api->stats.errors_4xx++;
    else if (status >= 500)
        api->stats.errors_5xx++;
    mn_metric_inc(api->m_requests, status < 300 ? 0 : status < 500 ? 1 : 2, 1);
}

static enum MHD_Result send_text(mn_api *api, struct MHD_Connection *conn, unsigned status,
                                 const char *content_type, char *text, size_t len,
                                 const char *allow)
{
    /* text is malloc'd and handed to MHD (freed with free()). */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    const enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    count_status(api, status);
    return r;
}

static enum MHD_Result send_json(mn_api *api, struct MHD_Connection *conn, unsigned status,
                                 json_t *doc, const char *allow)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(doc);
    if (text == NULL) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        text = strdup(fallback);
        status = 500;
        if (text == NULL)
            return MHD_NO;
    }
    const size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (with_nl != NULL) {
        with_nl[len] = '\n';
        with_nl[len + 1] = '\0';
        text = with_nl;
    }
    return send_text(api, conn, status, "application/json", text, strlen(text), allow);
}

static enum MHD_Result send_error(mn_api *api, struct MHD_Connection *conn, unsigned status,
                                  const char *code, const char *message, const char *allow)
{
    json_t *doc = mn__api_error_json(code, message);
    if (doc == NULL) /* message not UTF-8 (cannot happen with our messages; be safe) */
        doc = mn__api_error_json(code, "request refused");
    return send_json(api, conn, status, doc, allow);
}

/* ---- routes ------------------------------------------------------------------------------ */

static enum MHD_Result handle_metrics(mn_api *api, struct MHD_Connection *conn)
{
    mn_buf out;
    mn_err err;
    mn_buf_init(&out, 0);
    int rc = 0;
    if (api->cb.metrics != NULL)
        rc = api->cb.metrics(api->cb.ctx, &out, &err);
    if (rc == 0)
        rc = mn_metrics_render(api->metrics, &out, &err);
    if (rc == 0)
        rc = mn_buf_append_byte(&out, 0, &err);
    if (rc != 0) {
        mn_buf_deinit(&out);
        return send_error(api, conn, 500, "internal", "metrics could not be rendered", NULL);
    }
    size_t len = 0;
    char *text = (char *)mn_buf_take(&out, &len);
    return send_text(api, conn, 200, "text/plain; version=0.0.4; charset=utf-8", text, len - 1,
                     NULL);
}

static unsigned tx_refusal(int rc, const char **code)
{
    switch (-rc) {
    case MN_ECORRUPT: *code = "bad_encoding"; return 400;
    case MN_ECRYPTO: *code = "bad_signature"; return 400;
    case MN_EEXIST: *code = "nonce_reused"; return 409;
    case MN_ELIMIT: *code = "over_limit"; return 429;
    case MN_EINVAL: *code = "invalid_tx"; return 400;
    default: *code = "internal"; return 500;
    }
}

static enum MHD_Result handle_submit(mn_api *api, struct MHD_Connection *conn, request *req)
{
    if (req->too_large) {
        char msg[96];
        snprintf(msg, sizeof msg, "body above %zu bytes", api->body_bytes_max);
        api->stats.txs_refused++;
        mn_metric_inc(api->m_txs, 1, 1);
        return send_error(api, conn, 413, "too_large", msg, NULL);
    }
    if (api->ctx.mempool == NULL)
        return send_error(api, conn, 503, "unavailable", "this node accepts no transactions",
                          NULL);
    const char *ctype =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    uint8_t *tx = NULL;
    size_t tx_len = 0;
    bool owned = false;
    const char *code = "bad_request";
    mn_err err;
    int rc = mn__api_tx_from_body(ctype, req->body.data, req->body.len, &tx, &tx_len, &owned,
                                  &code, &err);
    unsigned status = 0;
    if (rc != 0) {
        status = rc == -MN_ELIMIT ? 413 : 400;
    } else {
        /* Decode first, so a malformed tx is "bad_encoding" whatever the mempool says. */
        mn_tx decoded;
        rc = mn_tx_decode(&decoded, tx, tx_len, &err);
        if (rc != 0) {
            status = 400;
            code = "bad_encoding";
        } else {
            uint8_t hash[32];
            rc = mn_mempool_add(api->ctx.mempool, api->ctx.ledger, tx, tx_len, hash, &err);
            if (rc == 0) {
                if (api->cb.tx_admitted != NULL)
                    api->cb.tx_admitted(api->cb.ctx, hash, tx, tx_len);
                if (owned)
                    free(tx);
                api->stats.txs_admitted++;
                mn_metric_inc(api->m_txs, 0, 1);
                char hex[65];
                mn_hex_encode(hex, hash, 32);
                return send_json(api, conn, 202, json_pack("{s:s}", "hash", hex), NULL);
            }
            status = tx_refusal(rc, &code);
            /* A limit is the pool's capacity only when the pool is at it. */
            const mn_mempool_stats ms = mn_mempool_get_stats(api->ctx.mempool);
            if (rc == -MN_ELIMIT && (ms.count >= MN_MEMPOOL_TXS_MAX ||
                                     ms.bytes + tx_len > MN_MEMPOOL_BYTES_MAX)) {
                status = 503;
                code = "mempool_full";
            }
        }
    }
    if (owned)
        free(tx);
    api->stats.txs_refused++;
    mn_metric_inc(api->m_txs, 1, 1);
    return send_error(api, conn, status, code, err.msg, NULL);
}

static enum MHD_Result dispatch(mn_api *api, struct MHD_Connection *conn, request *req)
{
    unsigned status = 200;
    const char *code = "internal";
    mn_err err;
    snprintf(err.msg, sizeof err.msg, "failed");
    json_t *doc = NULL;
    const mn__api_ctx *c = &api->ctx;
    switch (req->route.kind) {
    case MN__API_HEALTHZ: doc = json_pack("{s:b}", "ok", 1); break;
    case MN__API_STATUS: doc = mn__api_render_status(c, &status, &code, &err); break;
    case MN__API_BLOCK_LATEST: {
        const uint64_t h = mn_ledger_height(c->ledger);
        if (h == 0) {
            status = 404;
            code = "not_found";
            snprintf(err.msg, sizeof err.msg, "no block committed yet");
        } else
            doc = mn__api_render_block(c, h, &status, &code, &err);
        break;
    }
    case MN__API_BLOCK:
        doc = mn__api_render_block(c, req->route.height, &status, &code, &err);
        if (doc == NULL && status == 404)
            snprintf(err.msg, sizeof err.msg, "no block at height %llu",
                     (unsigned long long)req->route.height);
        break;
    case MN__API_TX:
        doc = mn__api_render_tx(c, req->route.hash, &status, &code, &err);
        if (doc == NULL && status == 404)
            snprintf(err.msg, sizeof err.msg, "no committed transaction with this hash");
        break;
    case MN__API_ACCOUNT: doc = mn__api_render_account(c, req->route.hash); break;
    case MN__API_VALIDATORS:
        doc = mn__api_render_validators(c, &status, &code, &err);
        if (doc == NULL)
            snprintf(err.msg, sizeof err.msg, "validator set not known yet");
        break;
    case MN__API_PEERS: doc = mn__api_render_peers(c); break;
    case MN__API_METRICS: return handle_metrics(api, conn);
    case MN__API_TXS: return handle_submit(api, conn, req);
    case MN__API_NONE: break;
    }
    if (doc == NULL) {
        if (status < 400)
            status = 500;
        if (status == 500)
            MN_LOG(WARN, "api", "request failed: %s", err.msg);
        return send_error(api, conn, status, code, err.msg, NULL);
    }
    return send_json(api, conn, status, doc, NULL);
}

/* Answers now if not answered yet. A request answered before its body was read whole has its
 * connection closed by libmicrohttpd after the response (the rest of the body is not read). */
static enum MHD_Result answer(mn_api *api, struct MHD_Connection *conn, request *req)
{
    if (req->responded)
        return MHD_YES;
    req->responded = true;
    if (!req->route_ok)
        return send_error(api, conn, req->route.status, req->route.code, req->route.message,
                          req->route.allow);
    return dispatch(api, conn, req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    mn_api *api = cls;
    request *req = *con_cls;
    if (req == NULL) {
        /* First call: headers only. Answering is left to the last call (keep-alive works),
         * except for a declared body above the limit. */
        req = calloc(1, sizeof *req);
        if (req == NULL)
            return MHD_NO;
        mn_buf_init(&req->body, api->body_bytes_max);
        *con_cls = req;
        req->route_ok = mn__api_route_parse(method, url, &req->route) == 0;
        const char *length =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        uint64_t declared = 0;
        if (req->route_ok && req->route.kind == MN__API_TXS && length != NULL &&
            mn__api_parse_height(length, &declared) == 0 && declared > api->body_bytes_max) {
            req->too_large = true;
            return answer(api, conn, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* libmicrohttpd 0.9.75 cannot queue a response while a body is arriving: what is not
         * kept is read and dropped, and the answer comes after the last byte. Only POST /txs
         * keeps its body, and never more than the limit. */
        const size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->responded || req->too_large || !req->route_ok ||
            req->route.kind != MN__API_TXS)
            return MHD_YES;
        mn_err err;
        if (mn_buf_append(&req->body, upload_data, n, &err) != 0) {
            req->too_large = true;
            mn_buf_deinit(&req->body);
            mn_buf_init(&req->body, api->body_bytes_max);
        }
        return MHD_YES;
    }
    return answer(api, conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    request *req = *con_cls;
    if (req != NULL) {
        mn_buf_deinit(&req->body);
        free(req);
        *con_cls = NULL;
    }
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t);

/* Runs MHD once and re-arms the timer from MHD's next timeout (at most one second away, so
 * idle connections are reaped even if MHD reports no timeout). */
static void run_daemon(mn_api *api)
{
    if (api->closing)
        return;
    MHD_run(api->daemon);
    MHD_UNSIGNED_LONG_LONG timeout = 1000;
    if (MHD_get_timeout(api->daemon, &timeout) != MHD_YES || timeout > 1000)
        timeout = 1000;
    uv_timer_start(&api->timer, on_timer, (uint64_t)timeout, 0);
}

static void on_timer(uv_timer_t *t)
{
    run_daemon(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    run_daemon(p->data);
}

static void release(mn_api *api)
{
    if (api->daemon != NULL)
        MHD_stop_daemon(api->daemon);
    mn_metrics_free(api->metrics);
    free(api);
}

static void on_handle_closed(uv_handle_t *h)
{
    mn_api *api = h->data;
    if (--api->handles_open == 0)
        release(api);
}

void mn_api_close(mn_api *api)
{
    if (api == NULL || api->closing)
        return;
    api->closing = true;
    uv_poll_stop(&api->poll);
    uv_timer_stop(&api->timer);
    uv_close((uv_handle_t *)&api->poll, on_handle_closed);
    uv_close((uv_handle_t *)&api->timer, on_handle_closed);
}

mn_api_stats mn_api_get_stats(const mn_api *api)
{
    return api->stats;
}

static int register_metrics(mn_api *api, mn_err *err)
{
    static const char *const classes[] = {"2xx", "4xx", "5xx"};
    static const char *const outcomes[] = {"admitted", "refused"};
    const mn_metric_desc requests = {
        .name = "mn_api_requests_total", .help = "HTTP requests answered, by status class.",
        .kind = MN_METRIC_COUNTER, .label = "class", .label_values = classes, .label_count = 3};
    const mn_metric_desc txs = {
        .name = "mn_api_txs_total", .help = "Transactions submitted over the API, by outcome.",
        .kind = MN_METRIC_COUNTER, .label = "outcome", .label_values = outcomes,
        .label_count = 2};
    MN_TRY(mn_metrics_new(&api->metrics, err));
    MN_TRY(mn_metrics_add(api->metrics, &requests, &api->m_requests, err));
    return mn_metrics_add(api->metrics, &txs, &api->m_txs, err);
}

int mn_api_start(struct uv_loop_s *loop, const mn_api_config *cfg, mn_api **out,
                 uint16_t *bound_port, mn_err *err)
{
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_EPOLL;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(cfg->port);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        return mn_err_set(err, MN_EINVAL, 0, "api: host \"%s\" is not an IP literal", host);
    }
    if (cfg->ledger == NULL)
        return mn_err_set(err, MN_EINVAL, 0, "api: no ledger");
    const char *chain_id = cfg->chain_id ? cfg->chain_id : "";
    if (strlen(chain_id) > MN_CHAIN_ID_BYTES_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "api: chain id too long");

    mn_api *api = calloc(1, sizeof *api);
    if (api == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "api: out of memory");
    int rc = register_metrics(api, err);
    if (rc != 0) {
        release(api);
        return rc;
    }
    memcpy(api->chain_id, chain_id, strlen(chain_id) + 1);
    api->cb = cfg->cb;
    api->body_bytes_max = cfg->body_bytes_max ? cfg->body_bytes_max : MN_API_BODY_BYTES_MAX;
    api->ctx = (mn__api_ctx){.ledger = cfg->ledger, .mempool = cfg->mempool, .cb = &api->cb,
                             .chain_id = api->chain_id};
    const unsigned conns = cfg->connections_max ? cfg->connections_max : MN_API_CONNECTIONS_MAX;
    const unsigned timeout_s =
        cfg->connection_timeout_s ? cfg->connection_timeout_s : MN_API_CONNECTION_TIMEOUT_S;

    api->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_CONNECTION_TIMEOUT, timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MN_API_CONNECTION_MEMORY_BYTES,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, api, MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u,
        MHD_OPTION_END);
    if (api->daemon == NULL) {
        release(api);
        return mn_err_set(err, MN_ESYS, 0, "api: cannot listen on %s:%u", host,
                          (unsigned)cfg->port);
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    const union MHD_DaemonInfo *port_info =
        MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || port_info == NULL) {
        release(api);
        return mn_err_set(err, MN_ESYS, 0, "api: daemon info unavailable");
    }
    if (uv_poll_init(loop, &api->poll, info->epoll_fd) != 0) {
        release(api);
        return mn_err_set(err, MN_ESYS, 0, "api: uv_poll_init failed");
    }
    uv_timer_init(loop, &api->timer);
    api->poll.data = api;
    api->timer.data = api;
    api->handles_open = 2;
    uv_poll_start(&api->poll, UV_READABLE, on_poll);
    uv_timer_start(&api->timer, on_timer, 0, 0);
    if (bound_port != NULL)
        *bound_port = port_info->port;
    MN_LOG(INFO, "api", "listening on %s:%u", host, (unsigned)port_info->port);
    *out = api;
    return 0;
}
