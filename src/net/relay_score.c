/* SPDX-License-Identifier: Apache-2.0
 *
 * relay_score.c: per-peer scores after gossipsub v1.1, in integers. Counters hold thousandths
 * of an event so geometric decay (counter * permille / 1000 per interval) keeps precision, and
 * they saturate at MN_RELAY_SCORE_COUNT_MAX events so squared terms cannot overflow. Invalid
 * messages and behaviour penalties enter squared, so a spammer's score falls faster with each
 * message. The score is a pure function of the counters; nothing here knows about peers,
 * sessions or the clock beyond the times it is given.
 */
#include "metanode/relay.h"

#define EVENT 1000u
#define COUNT_MAX ((uint64_t)MN_RELAY_SCORE_COUNT_MAX * EVENT)
#define ZERO_BELOW 10u /* 0.01 of an event: gossipsub's decayToZero */

MN_STATIC_ASSERT((uint64_t)MN_RELAY_SCORE_COUNT_MAX * MN_RELAY_SCORE_COUNT_MAX < (1ull << 40));

void mn_relay_score_params_default(mn_relay_score_params *p)
{
    /* A point per first delivery up to 100 per topic; 20 points per invalid message squared,
     * so with no deliveries one invalid message stops gossip (-20 < -10), and three graylist
     * (-180 < -80). Invalid counts halve in about a minute (0.99 a second), deliveries in
     * about seven seconds (0.9 a second): good behaviour does not bank forgiveness. */
    *p = (mn_relay_score_params){
        .first_weight = 1000,
        .first_cap = 100,
        .invalid_weight = -20000,
        .behaviour_weight = -10000,
        .first_decay_permille = 900,
        .invalid_decay_permille = 990,
        .decay_interval_ms = 1000,
        /* P1: 0.01 point a second in the mesh, up to 10 minutes (6 points): a long-standing
         * mesh peer survives one bad moment, a new identity cannot buy much standing. */
        .mesh_time_weight = 10,
        .mesh_time_cap_s = 600,
        /* P3: -1 point per missing delivery squared, but every topic's threshold is 0 (off) by
         * default: it depends on the topic's rate, which the deployment knows (the simulation
         * sets it for its traffic). */
        .mesh_deficit_weight = -1000,
        .mesh_threshold = {0, 0, 0, 0},
        .mesh_activation_ms = 5000,
        .mesh_window_ms = 200,
        /* P6: beyond two peers on one address, 5 points per extra peer, squared. */
        .colocation_weight = -5000,
        .colocation_threshold = 2,
        .gossip_threshold = -10000,
        .publish_threshold = -50000,
        .graylist_threshold = -80000,
        .accept_px_threshold = 1000,
    };
    MN_ASSERT(mn_relay_score_params_check(p, NULL) == 0);
}

int mn_relay_score_params_check(const mn_relay_score_params *p, mn_err *err)
{
    if (p->first_weight <= 0 || p->first_weight > 1000000 || p->first_cap == 0 ||
        p->first_cap > MN_RELAY_SCORE_COUNT_MAX)
        return mn_err_set(err, MN_EINVAL, 0, "score: first delivery weight or cap");
    if (p->invalid_weight >= 0 || p->invalid_weight < -1000000 || p->behaviour_weight >= 0 ||
        p->behaviour_weight < -1000000)
        return mn_err_set(err, MN_EINVAL, 0, "score: penalty weights must be in [-1e6, 0)");
    if (p->first_decay_permille >= 1000 || p->invalid_decay_permille >= 1000 ||
        p->decay_interval_ms == 0)
        return mn_err_set(err, MN_EINVAL, 0, "score: decay must be below 1000 permille");
    if (p->mesh_time_weight < 0 || p->mesh_time_weight > 1000000 ||
        p->mesh_time_cap_s > 86400 || p->mesh_deficit_weight > 0 ||
        p->mesh_deficit_weight < -1000000 || p->mesh_threshold[0] > MN_RELAY_SCORE_COUNT_MAX ||
        p->mesh_threshold[1] > MN_RELAY_SCORE_COUNT_MAX ||
        p->mesh_threshold[2] > MN_RELAY_SCORE_COUNT_MAX ||
        p->mesh_threshold[3] > MN_RELAY_SCORE_COUNT_MAX ||
        p->colocation_weight > 0 || p->colocation_weight < -1000000)
        return mn_err_set(err, MN_EINVAL, 0, "score: mesh or colocation parameters");
    if (p->accept_px_threshold < 0)
        return mn_err_set(err, MN_EINVAL, 0, "score: PX threshold must be >= 0");
    if (!(p->gossip_threshold < 0 && p->publish_threshold <= p->gossip_threshold &&
          p->graylist_threshold < p->publish_threshold))
        return mn_err_set(err, MN_EINVAL, 0, "score: thresholds out of order");
    return 0;
}

void mn_relay_score_init(mn_relay_score *s, uint64_t now_ms)
{
    *s = (mn_relay_score){.decayed_ms = now_ms};
}

static uint64_t decay1(uint64_t v, uint32_t permille)
{
    v = v * permille / 1000u; /* v <= COUNT_MAX, so no overflow */
    return v < ZERO_BELOW ? 0 : v;
}

static bool all_zero(const mn_relay_score *s)
{
    uint64_t any = s->behaviour;
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++)
        any |= s->first[t] | s->invalid[t] | s->mesh_deliveries[t] | s->mesh_failure[t];
    return any == 0;
}

void mn_relay_score_decay(mn_relay_score *s, const mn_relay_score_params *p, uint64_t now_ms)
{
    MN_ASSERT(now_ms >= s->decayed_ms);
    uint64_t steps = (now_ms - s->decayed_ms) / p->decay_interval_ms;
    s->decayed_ms += steps * p->decay_interval_ms;
    if (steps > MN_RELAY_SCORE_DECAY_STEPS_MAX)
        steps = MN_RELAY_SCORE_DECAY_STEPS_MAX;
    for (uint64_t i = 0; i < steps && !all_zero(s); i++) {
        for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++) {
            s->first[t] = decay1(s->first[t], p->first_decay_permille);
            s->invalid[t] = decay1(s->invalid[t], p->invalid_decay_permille);
            s->mesh_deliveries[t] = decay1(s->mesh_deliveries[t], p->first_decay_permille);
            s->mesh_failure[t] = decay1(s->mesh_failure[t], p->invalid_decay_permille);
        }
        s->behaviour = decay1(s->behaviour, p->invalid_decay_permille);
    }
}

static void bump(uint64_t *v)
{
    *v = *v > COUNT_MAX - EVENT ? COUNT_MAX : *v + EVENT;
}

void mn_relay_score_first(mn_relay_score *s, uint32_t topic)
{
    MN_ASSERT(mn_relay_topic_valid(topic));
    bump(&s->first[topic - MN_RELAY_TOPIC_FIRST]);
}

void mn_relay_score_invalid(mn_relay_score *s, uint32_t topic)
{
    MN_ASSERT(mn_relay_topic_valid(topic));
    bump(&s->invalid[topic - MN_RELAY_TOPIC_FIRST]);
}

void mn_relay_score_penalty(mn_relay_score *s)
{
    bump(&s->behaviour);
}

void mn_relay_score_mesh_delivery(mn_relay_score *s, uint32_t topic)
{
    MN_ASSERT(mn_relay_topic_valid(topic));
    bump(&s->mesh_deliveries[topic - MN_RELAY_TOPIC_FIRST]);
}

/* The P3 deficit in thousandths of an event: 0 before activation or with P3 off. */
static uint64_t deficit(const mn_relay_score *s, const mn_relay_score_params *p, uint32_t t)
{
    if (p->mesh_threshold[t] == 0 || s->mesh_ms[t] < p->mesh_activation_ms)
        return 0;
    uint64_t want = (uint64_t)p->mesh_threshold[t] * EVENT;
    return s->mesh_deliveries[t] >= want ? 0 : want - s->mesh_deliveries[t];
}

void mn_relay_score_mesh_leave(mn_relay_score *s, const mn_relay_score_params *p,
                               uint32_t topic)
{
    MN_ASSERT(mn_relay_topic_valid(topic));
    uint32_t t = topic - MN_RELAY_TOPIC_FIRST;
    uint64_t d = deficit(s, p, t); /* <= COUNT_MAX, so d * d / EVENT <= 1e14 */
    uint64_t f = s->mesh_failure[t] + d * d / EVENT;
    s->mesh_failure[t] = f > COUNT_MAX * COUNT_MAX / EVENT ? COUNT_MAX * COUNT_MAX / EVENT : f;
    s->mesh_ms[t] = 0;
}

/* weight (thousandths of a point) * (v / 1000)^2, v in thousandths; |result| < 2^63. */
static int64_t squared(int64_t weight, uint64_t v)
{
    MN_ASSERT(v <= COUNT_MAX);
    uint64_t sq = v * v / EVENT; /* thousandths of count^2, <= 1e14 */
    return weight * (int64_t)sq / (int64_t)EVENT;
}

int64_t mn_relay_score_value(const mn_relay_score *s, const mn_relay_score_params *p)
{
    int64_t score = squared(p->behaviour_weight, s->behaviour);
    uint64_t cap = (uint64_t)p->first_cap * EVENT;
    for (uint32_t t = 0; t < MN_RELAY_TOPICS_COUNT; t++) {
        uint64_t first = s->first[t] < cap ? s->first[t] : cap;
        score += p->first_weight * (int64_t)first / (int64_t)EVENT;
        score += squared(p->invalid_weight, s->invalid[t]);
        uint64_t secs = s->mesh_ms[t] / 1000u;
        score += p->mesh_time_weight * (int64_t)(secs < p->mesh_time_cap_s ? secs
                                                                           : p->mesh_time_cap_s);
        score += squared(p->mesh_deficit_weight, deficit(s, p, t));
        /* mesh_failure is already squared (thousandths of deficit^2) */
        score += p->mesh_deficit_weight * (int64_t)(s->mesh_failure[t] / EVENT);
    }
    if (s->colocated > p->colocation_threshold) {
        int64_t extra = (int64_t)(s->colocated - p->colocation_threshold);
        score += p->colocation_weight * extra * extra;
    }
    score += s->app;
    return score;
}

mn_relay_standing mn_relay_score_standing(const mn_relay_score *s,
                                          const mn_relay_score_params *p)
{
    int64_t v = mn_relay_score_value(s, p);
    if (v < p->graylist_threshold)
        return MN_RELAY_STANDING_GRAYLISTED;
    if (v < p->publish_threshold)
        return MN_RELAY_STANDING_NO_PUBLISH;
    if (v < p->gossip_threshold)
        return MN_RELAY_STANDING_NO_GOSSIP;
    return MN_RELAY_STANDING_OK;
}
