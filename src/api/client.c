/* SPDX-License-Identifier: Apache-2.0
 *
 * client.c: the blocking HTTP client of api_client.h on libcurl's easy interface: one request
 * per call, plain HTTP only, no redirects, bounded response size and time. It knows nothing of
 * the routes; the CLI verbs (cmd/metanode/cmd_client.c) do.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "metanode/api_client.h"
#include "metanode/limits.h"

static bool curl_ready;

static int init_curl(mn_err *err)
{
    if (curl_ready)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return mn_err_set(err, MN_ESYS, 0, "libcurl could not start");
    curl_ready = true;
    return 0;
}

typedef struct sink {
    mn_buf *body;
    bool overflow;
} sink;

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    mn_err err;
    if (mn_buf_append(s->body, data, size * n, &err) != 0) {
        s->overflow = true;
        return 0; /* aborts the transfer */
    }
    return size * n;
}

static int request(const char *base_url, const char *path, const char *content_type,
                   const uint8_t *data, size_t len, bool post, long *status, mn_buf *body,
                   mn_err *err)
{
    MN_TRY(init_curl(err));
    const size_t base_len = strlen(base_url);
    const size_t path_len = strlen(path);
    char *url = malloc(base_len + path_len + 1);
    if (url == NULL)
        return mn_err_set(err, MN_ENOMEM, 0, "out of memory");
    memcpy(url, base_url, base_len);
    /* "http://host:port/" + "/status" would give "//status": drop the base's slash. */
    size_t at = base_len;
    while (at > 0 && url[at - 1] == '/')
        at--;
    memcpy(url + at, path, path_len + 1);

    CURL *c = curl_easy_init();
    if (c == NULL) {
        free(url);
        return mn_err_set(err, MN_ENOMEM, 0, "libcurl: no handle");
    }
    mn_buf_init(body, MN_API_RESPONSE_BYTES_MAX);
    sink s = {.body = body};
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MN_API_CLIENT_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MN_API_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "metanode-cli");
    if (post) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, ct);
        headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    const CURLcode rc = curl_easy_perform(c);
    int out = 0;
    if (s.overflow) {
        out = mn_err_set(err, MN_ELIMIT, 0, "%s: response above %u bytes", url,
                         MN_API_RESPONSE_BYTES_MAX);
    } else if (rc != CURLE_OK) {
        out = mn_err_set(err, MN_ESYS, 0, "cannot reach the node at %s: %s", base_url,
                         errbuf[0] ? errbuf : curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    if (out != 0)
        mn_buf_deinit(body);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    free(url);
    return out;
}

int mn_api_client_get(const char *base_url, const char *path, long *status, mn_buf *body,
                      mn_err *err)
{
    return request(base_url, path, NULL, NULL, 0, false, status, body, err);
}

int mn_api_client_post(const char *base_url, const char *path, const char *content_type,
                       const uint8_t *data, size_t len, long *status, mn_buf *body,
                       mn_err *err)
{
    return request(base_url, path, content_type, data, len, true, status, body, err);
}

int mn_api_client_parse(const mn_buf *body, json_t **doc, mn_err *err)
{
    json_error_t jerr;
    *doc = json_loadb((const char *)body->data, body->len, JSON_REJECT_DUPLICATES, &jerr);
    if (*doc == NULL || !json_is_object(*doc)) {
        json_decref(*doc);
        *doc = NULL;
        return mn_err_set(err, MN_ECORRUPT, 0, "the node answered something other than JSON");
    }
    return 0;
}

int mn_api_client_get_json(const char *base_url, const char *path, long *status, json_t **doc,
                           mn_err *err)
{
    mn_buf body;
    MN_TRY(mn_api_client_get(base_url, path, status, &body, err));
    const int rc = mn_api_client_parse(&body, doc, err);
    mn_buf_deinit(&body);
    return rc;
}
