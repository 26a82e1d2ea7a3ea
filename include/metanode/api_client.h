/* SPDX-License-Identifier: Apache-2.0
 *
 * api_client.h: a small blocking HTTP client for the node's API (api.h), on libcurl, used by
 * the CLI verbs (metanode status, block get, tx send, validators) and by tests. Plain HTTP
 * only (the API listens on loopback), no redirects, bounded response size and time.
 *
 * Errors: MN_ESYS when the node cannot be reached (connection refused, timeout, bad URL
 * scheme), MN_ELIMIT for a response above MN_API_RESPONSE_BYTES_MAX, MN_ECORRUPT when a JSON
 * response does not parse. An HTTP error status is NOT an error here: the caller gets the
 * status and the body (the API's {"error": ...} document) and decides.
 */
#ifndef METANODE_API_CLIENT_H
#define METANODE_API_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "metanode/bytes.h"
#include "metanode/error.h"

/* The default API address of a node (`metanode agent` listens here unless configured). */
#define MN_API_DEFAULT_URL "http://127.0.0.1:26657"

/* GET base_url + path. On success *status is the HTTP status and body holds the response. */
int mn_api_client_get(const char *base_url, const char *path, long *status, mn_buf *body,
                      mn_err *err);
/* POST data (content_type) to base_url + path. */
int mn_api_client_post(const char *base_url, const char *path, const char *content_type,
                       const uint8_t *data, size_t len, long *status, mn_buf *body,
                       mn_err *err);
/* GET and parse a JSON response: *doc is a new reference (an object) whatever the status. */
int mn_api_client_get_json(const char *base_url, const char *path, long *status, json_t **doc,
                           mn_err *err);
/* Parses a JSON response body into an object (MN_ECORRUPT otherwise). */
int mn_api_client_parse(const mn_buf *body, json_t **doc, mn_err *err);

#endif
