/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_rate.c: integer token buckets for the relay's rate limits. A bucket holds thousandths
 * of a token and gains rate->per_s of them per millisecond of caller-supplied time, capped at
 * burst tokens; a refill never overflows because a gap long enough to fill the bucket is
 * recognised before multiplying. Buckets know nothing of peers or topics: the relay keeps one
 * pair (messages, bytes) per peer and per peer and topic.
 */
#include "metanode/relay.h"

static uint64_t cap_milli(const mn_relay_rate *rate)
{
    MN_ASSERT(rate->per_s >= 1);
    MN_ASSERT(rate->burst >= 1);
    return (uint64_t)rate->burst * 1000u;
}

void mn_relay_bucket_init(mn_relay_bucket *b, const mn_relay_rate *rate, uint64_t now_ms)
{
    b->milli = cap_milli(rate);
    b->last_ms = now_ms;
}

static void refill(mn_relay_bucket *b, const mn_relay_rate *rate, uint64_t now_ms)
{
    uint64_t cap = cap_milli(rate);
    MN_ASSERT(now_ms >= b->last_ms);
    MN_ASSERT(b->milli <= cap);
    uint64_t elapsed_ms = now_ms - b->last_ms;
    b->last_ms = now_ms;
    /* elapsed * per_s >= cap - milli without overflow: compare by division first. */
    if (elapsed_ms > (cap - b->milli) / rate->per_s)
        b->milli = cap;
    else
        b->milli += elapsed_ms * rate->per_s;
    MN_ASSERT(b->milli <= cap);
}

/* cost in thousandths, saturated: a cost above burst can never be paid anyway. */
static uint64_t cost_milli(const mn_relay_rate *rate, uint64_t cost)
{
    return cost > rate->burst ? UINT64_MAX : cost * 1000u;
}

bool mn_relay_bucket_take(mn_relay_bucket *b, const mn_relay_rate *rate, uint64_t cost,
                          uint64_t now_ms)
{
    refill(b, rate, now_ms);
    uint64_t c = cost_milli(rate, cost);
    if (c > b->milli)
        return false;
    b->milli -= c;
    return true;
}

bool mn_relay_bucket_take2(mn_relay_bucket *a, const mn_relay_rate *ra, uint64_t cost_a,
                           mn_relay_bucket *b, const mn_relay_rate *rb, uint64_t cost_b,
                           uint64_t now_ms)
{
    MN_ASSERT(a != b);
    refill(a, ra, now_ms);
    refill(b, rb, now_ms);
    uint64_t ca = cost_milli(ra, cost_a), cb = cost_milli(rb, cost_b);
    if (ca > a->milli || cb > b->milli)
        return false;
    a->milli -= ca;
    b->milli -= cb;
    return true;
}
