/* SPDX-License-Identifier: Apache-2.0
 *
 * receipt_json.h: the JSON face of a receipt (CLI --json, HTTP API). Digests are lowercase
 * hex strings, numbers are JSON integers (64-bit values above 2^53 are still exact in jansson,
 * but readers in other languages may want them as strings; we keep integers for now). JSON is
 * never hashed or signed: the canonical bytes are the CBOR encoding.
 */
#ifndef METANODE_RECEIPT_JSON_H
#define METANODE_RECEIPT_JSON_H

#include <jansson.h>

#include "metanode/receipt.h"

/* A new JSON object (caller owns the reference); NULL only on allocation failure.
 * core_hash and receipt_id are added when the encodings succeed. */
json_t *mn_receipt_to_json(const mn_receipt *r);

#endif
