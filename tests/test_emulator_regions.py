"""Zones follow the region: zonal public IPs only where the region has availability zones.

Sources: Microsoft Learn "Azure regions list" (learn.microsoft.com/azure/reliability/
regions-list, 09/2025: ukwest has no availability zones, japanwest has three);
Azure's answers as reported in aztfmod/terraform-azurerm-caf#1744 (400
LocationNotSupportAvailabilityZones for a zonal public IP in ukwest) and
hashicorp/terraform-provider-azurerm#6296 (400 InvalidAvailabilityZone for a zone a
region does not have).
"""

from __future__ import annotations

from azure.mgmt.network import models as n
from emulator_helpers import GROUP, expect_arm_error, resource_group

from hubvpn.azure import Clients


def zonal_public_ip(location: str, zones: list[str] | None) -> n.PublicIPAddress:
    return n.PublicIPAddress(
        location=location,
        zones=zones,
        sku=n.PublicIPAddressSku(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
    )


def test_create_zonal_public_ip_refused_in_region_without_zones(clients: Clients) -> None:
    resource_group(clients)
    with expect_arm_error("LocationNotSupportAvailabilityZones") as info:
        clients.network.public_ip_addresses.begin_create_or_update(
            GROUP, "ip", zonal_public_ip("ukwest", ["1", "2", "3"])
        ).result()
    assert info.value.error.message == (
        "The resource 'Microsoft.Network/publicIPAddresses/ip' does not support "
        "availability zones at location 'ukwest'."
    )


def test_create_public_ip_without_zones_accepted_in_region_without_zones(
    clients: Clients,
) -> None:
    resource_group(clients)
    ip = clients.network.public_ip_addresses.begin_create_or_update(
        GROUP, "ip", zonal_public_ip("ukwest", None)
    ).result()
    assert (ip.location, ip.zones, ip.provisioning_state) == ("ukwest", None, "Succeeded")


def test_create_zone_redundant_public_ip_accepted_in_region_with_zones(
    clients: Clients,
) -> None:
    resource_group(clients)
    ip = clients.network.public_ip_addresses.begin_create_or_update(
        GROUP, "ip", zonal_public_ip("japanwest", ["1", "2", "3"])
    ).result()
    assert (ip.location, ip.zones) == ("japanwest", ["1", "2", "3"])


def test_create_public_ip_refused_in_zone_region_lacks(clients: Clients) -> None:
    resource_group(clients)
    with expect_arm_error("InvalidAvailabilityZone"):
        clients.network.public_ip_addresses.begin_create_or_update(
            GROUP, "ip", zonal_public_ip("japaneast", ["4"])
        ).result()
