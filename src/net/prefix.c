/* SPDX-License-Identifier: Apache-2.0
 *
 * prefix.c: the address group that the runtime's per-IP limits (pending handshakes, sessions,
 * connection rate) count together. An IPv4 host has one address, so IPv4 groups by address;
 * an IPv6 host is normally given a whole /64 (SLAAC, privacy addresses, a subscriber's
 * allocation), so counting IPv6 per address would let one host open 2^64 "different" peers:
 * IPv6 groups by its first 64 bits. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a
 * dual-stack listener sees IPv4 peers) is the IPv4 address it maps.
 *
 * Not here: larger groupings (/48, autonomous systems) or allow-lists; the total caps bound an
 * attacker with many prefixes.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <uv.h>

#include "metanode/bpci_node.h"

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool mn_bpci_addr_prefix(const struct sockaddr *sa, mn_bpci_prefix *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        out->bytes[0] = 4;
        memcpy(out->bytes + 1, &v4->sin_addr, 4);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (memcmp(a, V4_MAPPED, sizeof V4_MAPPED) == 0) {
            out->bytes[0] = 4;
            memcpy(out->bytes + 1, a + 12, 4);
        } else {
            out->bytes[0] = 6;
            memcpy(out->bytes + 1, a, 8);
        }
        return true;
    }
    return false;
}

void mn_bpci_prefix_text(const mn_bpci_prefix *p, char out[static MN_BPCI_PREFIX_TEXT_BYTES])
{
    if (p->bytes[0] == 4) {
        uv_inet_ntop(AF_INET, p->bytes + 1, out, MN_BPCI_PREFIX_TEXT_BYTES);
    } else if (p->bytes[0] == 6) {
        uint8_t a[16] = {0};
        memcpy(a, p->bytes + 1, 8);
        char text[48]; /* INET6_ADDRSTRLEN is 46 */
        uv_inet_ntop(AF_INET6, a, text, sizeof text);
        snprintf(out, MN_BPCI_PREFIX_TEXT_BYTES, "%s/64", text);
    } else {
        snprintf(out, MN_BPCI_PREFIX_TEXT_BYTES, "?");
    }
}
