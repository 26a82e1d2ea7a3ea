/* SPDX-License-Identifier: Apache-2.0
 *
 * nested.h: private to src/node: puts a structure that has its own canonical encoder (fn(obj,
 * mn_buf *, mn_err *)) into a CBOR map as a byte string, the way every node message and the
 * signing state nest consensus messages. Returns from the enclosing function on failure (the
 * enclosing function has `mn_err *err`). Not here: decoding (each decoder checks its own).
 */
#ifndef METANODE_NODE_NESTED_H
#define METANODE_NODE_NESTED_H

#include "metanode/bytes.h"
#include "metanode/cbor.h"

#define MN_NODE_PUT_NESTED(e, fn, obj)                                                         \
    do {                                                                                       \
        mn_buf tmp_;                                                                           \
        mn_buf_init(&tmp_, 0);                                                                 \
        int rc_ = fn(obj, &tmp_, err);                                                         \
        if (rc_ != 0) {                                                                        \
            mn_buf_deinit(&tmp_);                                                              \
            return rc_;                                                                        \
        }                                                                                      \
        mn_cbor_put_bytes(e, tmp_.data, tmp_.len);                                             \
        mn_buf_deinit(&tmp_);                                                                  \
    } while (0)

#endif
