/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_ctrl.c: the gossip control message (GRAFT, PRUNE with back-off and peer exchange,
 * IHAVE, IWANT) and its one canonical CBOR encoding. A map with keys 1-6 in order, each present
 * only when it carries something, so every message has exactly one encoding; the decoder
 * refuses anything else (empty lists, unsorted or unknown topics, back-off or PX without
 * PRUNE, counts above the limits, trailing bytes). It does not act on a message: the mesh does.
 */
#include <string.h>

#include "metanode/cbor.h"
#include "metanode/relay.h"

#define WHAT "gossip control"
#define TOPIC_BITS (((1u << (MN_RELAY_TOPIC_LAST + 1u)) - 1u) & ~((1u << MN_RELAY_TOPIC_FIRST) - 1u))

MN_STATIC_ASSERT(MN_RELAY_TOPIC_LAST < 32);

bool mn_relay_ctrl_empty(const mn_relay_ctrl *c)
{
    return c->graft == 0 && c->prune == 0 && c->ihave_count == 0 && c->iwant_count == 0;
}

static int check(const mn_relay_ctrl *c, mn_err *err)
{
    if ((c->graft & ~TOPIC_BITS) || (c->prune & ~TOPIC_BITS))
        return mn_err_set(err, MN_EINVAL, 0, WHAT ": unknown topic bits");
    if (c->prune == 0 && (c->backoff_s != 0 || c->px_count != 0))
        return mn_err_set(err, MN_EINVAL, 0, WHAT ": back-off or PX without PRUNE");
    if (c->backoff_s > MN_RELAY_BACKOFF_S_MAX || c->px_count > MN_RELAY_PX_MAX ||
        c->ihave_count > MN_RELAY_IHAVE_IDS_MAX || c->iwant_count > MN_RELAY_IWANT_IDS_MAX)
        return mn_err_set(err, MN_EINVAL, 0, WHAT ": over a limit");
    for (uint32_t i = 0; i < c->ihave_count; i++)
        if (!mn_relay_topic_valid(c->ihave[i].topic))
            return mn_err_set(err, MN_EINVAL, 0, WHAT ": IHAVE topic %u", c->ihave[i].topic);
    if (mn_relay_ctrl_empty(c))
        return mn_err_set(err, MN_EINVAL, 0, WHAT ": empty");
    return 0;
}

static uint32_t popcount(uint32_t v)
{
    uint32_t n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static void put_topics(mn_cbor_enc *e, uint32_t bits)
{
    mn_cbor_put_array(e, popcount(bits));
    for (uint32_t t = MN_RELAY_TOPIC_FIRST; t <= MN_RELAY_TOPIC_LAST; t++)
        if (bits & (1u << t))
            mn_cbor_put_uint(e, t);
}

int mn_relay_ctrl_encode(const mn_relay_ctrl *c, mn_buf *out, mn_err *err)
{
    MN_TRY(check(c, err));
    uint32_t keys = (c->graft != 0) + (c->prune != 0) + (c->backoff_s != 0) +
                    (c->px_count != 0) + (c->ihave_count != 0) + (c->iwant_count != 0);
    mn_cbor_enc e;
    mn_cbor_enc_init(&e, out);
    mn_cbor_put_map(&e, keys);
    if (c->graft)
        mn_cbor_put_key(&e, 1), put_topics(&e, c->graft);
    if (c->prune)
        mn_cbor_put_key(&e, 2), put_topics(&e, c->prune);
    if (c->backoff_s)
        mn_cbor_put_key(&e, 3), mn_cbor_put_uint(&e, c->backoff_s);
    if (c->px_count) {
        mn_cbor_put_key(&e, 4);
        mn_cbor_put_array(&e, c->px_count);
        for (uint32_t i = 0; i < c->px_count; i++) {
            mn_cbor_put_array(&e, 3);
            mn_cbor_put_bytes(&e, c->px[i].node, sizeof c->px[i].node);
            mn_cbor_put_bytes(&e, c->px[i].addr, sizeof c->px[i].addr);
            mn_cbor_put_uint(&e, c->px[i].port);
        }
    }
    if (c->ihave_count) {
        mn_cbor_put_key(&e, 5);
        mn_cbor_put_array(&e, c->ihave_count);
        for (uint32_t i = 0; i < c->ihave_count; i++) {
            mn_cbor_put_array(&e, 2);
            mn_cbor_put_uint(&e, c->ihave[i].topic);
            mn_cbor_put_bytes(&e, c->ihave[i].id, MN_RELAY_ID_BYTES);
        }
    }
    if (c->iwant_count) {
        mn_cbor_put_key(&e, 6);
        mn_cbor_put_array(&e, c->iwant_count);
        for (uint32_t i = 0; i < c->iwant_count; i++)
            mn_cbor_put_bytes(&e, c->iwant[i], MN_RELAY_ID_BYTES);
    }
    return mn_cbor_enc_finish(&e, err);
}

/* A non-empty list of at most max items. */
static int get_list(mn_cbor_dec *d, uint64_t max, uint32_t *count, mn_err *err)
{
    uint64_t n;
    MN_TRY(mn_cbor_get_array(d, &n, err));
    if (n == 0)
        return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": empty list");
    if (n > max)
        return mn_err_set(err, MN_ELIMIT, 0, WHAT ": list of %llu", (unsigned long long)n);
    *count = (uint32_t)n;
    return 0;
}

static int get_topic(mn_cbor_dec *d, uint32_t *topic, mn_err *err)
{
    MN_TRY(mn_cbor_get_u32(d, topic, WHAT " topic", err));
    if (!mn_relay_topic_valid(*topic))
        return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": topic %u unknown", *topic);
    return 0;
}

static int get_topics(mn_cbor_dec *d, uint32_t *bits, mn_err *err)
{
    uint32_t n, prev = 0;
    MN_TRY(get_list(d, MN_RELAY_TOPICS_COUNT, &n, err));
    *bits = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t t;
        MN_TRY(get_topic(d, &t, err));
        if (t <= prev)
            return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": topics not ascending");
        prev = t;
        *bits |= 1u << t;
    }
    return 0;
}

static int get_ctrl(mn_cbor_dec *d, mn_relay_ctrl *c, mn_err *err)
{
    uint64_t keys;
    MN_TRY(mn_cbor_get_map(d, &keys, err));
    if (keys == 0 || keys > 6)
        return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": map of %llu keys",
                          (unsigned long long)keys);
    int64_t prev = 0;
    for (uint64_t k = 0; k < keys; k++) {
        int64_t key;
        MN_TRY(mn_cbor_get_key(d, &key, err));
        if (key <= prev || key > 6)
            return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": key %lld", (long long)key);
        prev = key;
        switch (key) {
        case 1:
            MN_TRY(get_topics(d, &c->graft, err));
            break;
        case 2:
            MN_TRY(get_topics(d, &c->prune, err));
            break;
        case 3:
            MN_TRY(mn_cbor_get_u32(d, &c->backoff_s, WHAT " back-off", err));
            if (c->backoff_s == 0)
                return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": zero back-off present");
            if (c->backoff_s > MN_RELAY_BACKOFF_S_MAX)
                return mn_err_set(err, MN_ELIMIT, 0, WHAT ": back-off %u s", c->backoff_s);
            break;
        case 4:
            MN_TRY(get_list(d, MN_RELAY_PX_MAX, &c->px_count, err));
            for (uint32_t i = 0; i < c->px_count; i++) {
                uint32_t port;
                MN_TRY(mn_cbor_want_array(d, 3, WHAT " px", err));
                MN_TRY(mn_cbor_get_bytes_n(d, c->px[i].node, sizeof c->px[i].node, err));
                MN_TRY(mn_cbor_get_bytes_n(d, c->px[i].addr, sizeof c->px[i].addr, err));
                MN_TRY(mn_cbor_get_u32(d, &port, WHAT " px port", err));
                if (port > UINT16_MAX)
                    return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": port %u", port);
                c->px[i].port = (uint16_t)port;
            }
            break;
        case 5:
            MN_TRY(get_list(d, MN_RELAY_IHAVE_IDS_MAX, &c->ihave_count, err));
            for (uint32_t i = 0; i < c->ihave_count; i++) {
                MN_TRY(mn_cbor_want_array(d, 2, WHAT " ihave", err));
                MN_TRY(get_topic(d, &c->ihave[i].topic, err));
                MN_TRY(mn_cbor_get_bytes_n(d, c->ihave[i].id, MN_RELAY_ID_BYTES, err));
            }
            break;
        default: /* 6 */
            MN_TRY(get_list(d, MN_RELAY_IWANT_IDS_MAX, &c->iwant_count, err));
            for (uint32_t i = 0; i < c->iwant_count; i++)
                MN_TRY(mn_cbor_get_bytes_n(d, c->iwant[i], MN_RELAY_ID_BYTES, err));
            break;
        }
    }
    if (c->prune == 0 && (c->backoff_s != 0 || c->px_count != 0))
        return mn_err_set(err, MN_ECORRUPT, 0, WHAT ": back-off or PX without PRUNE");
    return mn_cbor_dec_finish(d, err);
}

int mn_relay_ctrl_decode(const uint8_t *data, size_t len, mn_relay_ctrl *c, mn_err *err)
{
    if (len > MN_BPCI_MSG_BYTES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, WHAT " of %zu bytes", len);
    mn_relay_ctrl tmp; /* about 5 KiB */
    memset(&tmp, 0, sizeof tmp);
    mn_cbor_dec d;
    mn_cbor_dec_init(&d, data, len);
    MN_TRY(get_ctrl(&d, &tmp, err));
    MN_ASSERT(check(&tmp, NULL) == 0);
    *c = tmp;
    return 0;
}
