/* SPDX-License-Identifier: Apache-2.0
 *
 * metrics.c: the BPCI runtime's counters in the Prometheus text exposition format (version
 * 0.0.4), for the node's /metrics endpoint. Pure formatting of a snapshot: it neither reads
 * nor resets the counters of a live node.
 */
#include <inttypes.h>
#include <stdio.h>

#include "metanode/bpci_node.h"

typedef struct metric {
    const char *name, *type, *help;
    uint64_t value;
} metric;

int mn_bpci_metrics_prometheus(const mn_bpci_metrics *m, mn_buf *out, mn_err *err)
{
    const metric all[] = {
        {"accepted_total", "counter", "Inbound connections accepted.", m->accepted},
        {"refused_pending_total", "counter", "Refused: too many pending handshakes.",
         m->refused_pending},
        {"refused_per_ip_total", "counter", "Refused: too many connections from one address.",
         m->refused_per_ip},
        {"refused_sessions_total", "counter", "Refused: too many sessions.", m->refused_sessions},
        {"refused_rate_total", "counter", "Refused: connection rate from one address.",
         m->refused_rate},
        {"refused_admit_total", "counter",
         "Refused by the admission policy (relay limits) before the handshake.",
         m->refused_admit},
        {"self_connects_total", "counter", "Dials that connected to themselves (closed).",
         m->self_connects},
        {"handshake_timeouts_total", "counter", "Handshakes that timed out.",
         m->handshake_timeouts},
        {"handshake_failures_total", "counter", "Handshakes that failed.", m->handshake_failures},
        {"replayed_handshakes_total", "counter", "IK first messages refused as replays.",
         m->replayed_handshakes},
        {"protocol_errors_total", "counter", "Sessions closed for a bad record or frame.",
         m->protocol_errors},
        {"refused_services_total", "counter", "Sessions closed for a service not allowed.",
         m->refused_services},
        {"idle_timeouts_total", "counter", "Sessions closed as idle.", m->idle_timeouts},
        {"established_total", "counter", "Handshakes completed.", m->established},
        {"duplicate_sessions_total", "counter", "Second sessions with an already connected peer.",
         m->duplicate_sessions},
        {"dial_failures_total", "counter", "Outbound connections that failed.", m->dial_failures},
        {"redials_total", "counter", "Redial attempts.", m->redials},
        {"messages_in_total", "counter", "Messages received.", m->messages_in},
        {"messages_out_total", "counter", "Messages sent.", m->messages_out},
        {"send_backpressure_total", "counter", "Sends refused because a write queue was full.",
         m->send_refused_backpressure},
        {"sessions", "gauge", "Established sessions.", m->sessions_active},
        {"pending_handshakes", "gauge", "Connections still in their handshake.",
         m->pending_active},
    };
    char line[512];
    for (size_t i = 0; i < MN_ARRAY_LEN(all); i++) {
        const int n = snprintf(line, sizeof line,
                               "# HELP mn_bpci_%s %s\n# TYPE mn_bpci_%s %s\nmn_bpci_%s %" PRIu64
                               "\n",
                               all[i].name, all[i].help, all[i].name, all[i].type, all[i].name,
                               all[i].value);
        MN_ASSERT(n > 0 && (size_t)n < sizeof line);
        int rc = mn_buf_append(out, line, (size_t)n, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}
