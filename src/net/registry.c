/* SPDX-License-Identifier: Apache-2.0
 *
 * registry.c: the service key registry: which authenticated peers may speak for which service
 * ids. Fixed capacity (limits.h), linear scans (a few dozen services, a few hundred keys: a
 * scan is cheaper than keeping an index right). Unregistered services are refused; the control
 * service 0 is always allowed and cannot be registered. Peer ids are compared with
 * sodium_memcmp. It does not know where keys come from (the chain's registrations feed it).
 */
#include <string.h>

#include <sodium.h>

#include "metanode/bpci.h"

void mn_bpci_registry_init(mn_bpci_registry *reg)
{
    memset(reg, 0, sizeof *reg);
}

static int find_service(const mn_bpci_registry *reg, uint16_t service)
{
    for (uint32_t i = 0; i < reg->services_count; i++)
        if (reg->services[i].service == service)
            return (int)i;
    return -1;
}

int mn_bpci_registry_add(mn_bpci_registry *reg, uint16_t service, bool open, mn_err *err)
{
    if (service == MN_BPCI_SERVICE_CONTROL)
        return mn_err_set(err, MN_EINVAL, 0, "bpci: service 0 is reserved for control");
    if (find_service(reg, service) >= 0)
        return mn_err_set(err, MN_EEXIST, 0, "bpci: service %u already registered", service);
    if (reg->services_count == MN_BPCI_SERVICES_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: more than %u services",
                          MN_BPCI_SERVICES_MAX);
    reg->services[reg->services_count].service = service;
    reg->services[reg->services_count].open = open;
    reg->services_count++;
    return 0;
}

int mn_bpci_registry_allow(mn_bpci_registry *reg, uint16_t service,
                           const uint8_t peer[static MN_ID_BYTES], mn_err *err)
{
    const int i = find_service(reg, service);
    if (i < 0)
        return mn_err_set(err, MN_ENOTFOUND, 0, "bpci: service %u not registered", service);
    if (reg->services[i].open)
        return mn_err_set(err, MN_EINVAL, 0, "bpci: service %u is open to every peer", service);
    if (reg->keys_count == MN_BPCI_SERVICE_KEYS_MAX)
        return mn_err_set(err, MN_ELIMIT, 0, "bpci: more than %u service keys",
                          MN_BPCI_SERVICE_KEYS_MAX);
    reg->keys[reg->keys_count].service = service;
    memcpy(reg->keys[reg->keys_count].peer, peer, MN_ID_BYTES);
    reg->keys_count++;
    return 0;
}

int mn_bpci_registry_check(const mn_bpci_registry *reg, uint16_t service,
                           const uint8_t peer[static MN_ID_BYTES], mn_err *err)
{
    if (service == MN_BPCI_SERVICE_CONTROL)
        return 0;
    const int i = reg ? find_service(reg, service) : -1;
    if (i < 0)
        return mn_err_set(err, MN_EPERM, 0, "bpci: service %u is not registered", service);
    if (reg->services[i].open)
        return 0;
    for (uint32_t k = 0; k < reg->keys_count; k++)
        if (reg->keys[k].service == service &&
            sodium_memcmp(reg->keys[k].peer, peer, MN_ID_BYTES) == 0)
            return 0;
    return mn_err_set(err, MN_EPERM, 0, "bpci: peer not allowed to speak for service %u",
                      service);
}
