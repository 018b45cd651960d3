"""The emulator validates like Azure: what it refuses (with Azure's error code), and
what it computes for what it accepts. Every request goes through the real SDK.

Codes come from azure-facts.md; where Azure's code is not public the emulator's
own code is pinned (its error class says so).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.mgmt.network import models as n
from emulator_helpers import (
    GROUP,
    HUB_ASN,
    LOCATION,
    connect_at,
    connection,
    connection_model,
    expect_arm_error,
    gateway_model,
    hub,
    local_network_gateway,
    network_interface,
    network_interface_model,
    network_watcher,
    network_watcher_extension,
    peering,
    peering_model,
    public_ip_address,
    resource_group,
    resource_id,
    subnet_id,
    virtual_machine,
    virtual_network,
    virtual_network_gateway,
    virtual_network_model,
    vnet_id,
)

from hubvpn.azure import Clients

SLOW_SPEED = 180.0  # a 30-minute gateway takes 10 s: long enough to act while it is Updating
SPOKE_PREFIX = "10.1.0.0/16"
SPOKE_SUBNETS = {"default": "10.1.0.0/24"}


@pytest.fixture
def group(clients: Clients) -> str:
    resource_group(clients)
    return GROUP


def start_gateway_slowly(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, vnet: str = "hub"
) -> None:
    """PUT hub's gateway at SLOW_SPEED and return at once: it stays Updating for 10 s."""
    with connect_at(state_dir, monkeypatch, speed=SLOW_SPEED) as slow:
        model = gateway_model(slow, vnet, f"{vnet}-ip")
        # polling=False: the test acts while the gateway is still provisioning.
        slow.network.virtual_network_gateways.begin_create_or_update(
            GROUP, f"{vnet}-gateway", model, polling=False
        )


def hub_with_spoke(clients: Clients, *, gateway: bool) -> None:
    hub(clients, "hub", 0)
    virtual_network(clients, "spoke", SPOKE_PREFIX, SPOKE_SUBNETS)
    if gateway:
        virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")


# ------------------------------------------------------------------ peerings


def test_create_peering_use_remote_gateways_before_hub_gateway(
    clients: Clients, group: str
) -> None:
    hub_with_spoke(clients, gateway=False)
    model = peering_model(clients, "hub", use_remote_gateways=True)
    with expect_arm_error("RemoteVnetHasNoGateways") as info:
        clients.network.virtual_network_peerings.begin_create_or_update(
            group, "spoke", "spoke-to-hub", model
        )
    assert vnet_id(clients, "hub") in info.value.error.message


def test_create_peering_use_remote_gateways_hub_peering_without_transit(
    clients: Clients, group: str
) -> None:
    hub_with_spoke(clients, gateway=True)
    peering(clients, "hub", "hub-to-spoke", "spoke", allow_gateway_transit=False)
    model = peering_model(clients, "hub", use_remote_gateways=True)
    with expect_arm_error("RemotePeeringDoesNotAllowGatewayTransit"):
        clients.network.virtual_network_peerings.begin_create_or_update(
            group, "spoke", "spoke-to-hub", model
        )


def test_create_peering_use_remote_gateways_hub_gateway_updating(
    clients: Clients, group: str, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub_with_spoke(clients, gateway=False)
    peering(clients, "hub", "hub-to-spoke", "spoke", allow_gateway_transit=True)
    start_gateway_slowly(state_dir, monkeypatch)
    model = peering_model(clients, "hub", use_remote_gateways=True)
    with expect_arm_error("ReferencedResourceNotProvisioned") as info:
        clients.network.virtual_network_peerings.begin_create_or_update(
            group, "spoke", "spoke-to-hub", model
        )
    assert "Updating" in info.value.error.message


def test_create_peering_overlapping_address_spaces(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    virtual_network(clients, "twin", "10.0.128.0/17", {"default": "10.0.128.0/24"})
    with expect_arm_error("VnetAddressSpacesOverlap"):
        clients.network.virtual_network_peerings.begin_create_or_update(
            group, "hub", "hub-to-twin", peering_model(clients, "twin")
        )


def test_create_peering_overlapping_already_peered_vnet(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    virtual_network(clients, "spoke", SPOKE_PREFIX, SPOKE_SUBNETS)
    virtual_network(clients, "clone", SPOKE_PREFIX, SPOKE_SUBNETS)
    peering(clients, "hub", "hub-to-spoke", "spoke")
    with expect_arm_error("VnetAddressSpaceOverlapsWithAlreadyPeeredVnet"):
        clients.network.virtual_network_peerings.begin_create_or_update(
            group, "hub", "hub-to-clone", peering_model(clients, "clone")
        )


def test_update_virtual_network_prefix_overlapping_peered_vnet(
    clients: Clients, group: str
) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    virtual_network(clients, "spoke", SPOKE_PREFIX, SPOKE_SUBNETS)
    peering(clients, "hub", "hub-to-spoke", "spoke")
    model = virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"})
    model.address_space.address_prefixes.append("10.1.128.0/24")
    with expect_arm_error("VnetAddressSpaceOverlapsWithAlreadyPeeredVnet"):
        clients.network.virtual_networks.begin_create_or_update(group, "hub", model)


# ------------------------------------------------------------ GatewaySubnet


def test_create_network_interface_in_gateway_subnet(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    model = network_interface_model(clients, "hub", "GatewaySubnet")
    with expect_arm_error("GatewaySubnet") as info:
        clients.network.network_interfaces.begin_create_or_update(group, "nic", model)
    assert info.value.error.message == (
        "Subnet with name 'GatewaySubnet' can be used only for the Gateway resource."
    )


def test_create_gateway_on_subnet_not_named_gateway_subnet(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    model = gateway_model(clients, "hub", "hub-ip", subnet="default")
    with expect_arm_error("VirtualNetworkGatewayMustUseGatewaySubnet"):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "gw", model)


def test_create_subnet_smaller_than_slash_29(clients: Clients, group: str) -> None:
    # Azure's smallest subnet is /29, so a /30 GatewaySubnet is refused at the subnet
    # itself, before any gateway could use it. Azure's code is not public.
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    with expect_arm_error("InvalidRequestFormat") as info:
        clients.network.subnets.begin_create_or_update(
            group, "hub", "GatewaySubnet", n.Subnet(address_prefix="10.0.255.0/30")
        )
    assert "/29" in info.value.error.message


def test_create_gateway_on_slash_29_gateway_subnet_accepted(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"GatewaySubnet": "10.0.255.0/29"})
    public_ip_address(clients, "hub-ip")
    gateway = virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    assert gateway.provisioning_state == "Succeeded"
    assert gateway.bgp_settings.bgp_peering_address == "10.0.255.6"


def test_create_gateway_with_basic_public_ip(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"GatewaySubnet": "10.0.255.0/27"})
    public_ip_address(clients, "hub-ip", sku="Basic", zones=())
    model = gateway_model(clients, "hub", "hub-ip")
    with expect_arm_error("PublicIpWithBasicSkuNotAllowedOnVPNGateways"):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "gw", model)


def test_create_gateway_az_sku_with_non_zonal_public_ip(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"GatewaySubnet": "10.0.255.0/27"})
    public_ip_address(clients, "hub-ip", zones=())
    model = gateway_model(clients, "hub", "hub-ip", sku="VpnGw1AZ")
    with expect_arm_error("VmssVpnGatewayPublicIpsMustHaveZonesConfigured"):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "gw", model)


def test_create_gateway_unknown_sku(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    model = gateway_model(clients, "hub", "hub-ip", sku="VpnGw9AZ")
    with expect_arm_error("InvalidGatewaySize"):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "gw", model)


def test_create_gateway_non_az_sku(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    model = gateway_model(clients, "hub", "hub-ip", sku="VpnGw1")
    with expect_arm_error("NonAzVpnGatewaySkuDeprecated"):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "gw", model)


# --------------------------------------------------------------------- ASNs


@pytest.mark.parametrize(
    "asn",
    [
        pytest.param(65515, id="azure-default"),
        pytest.param(23456, id="iana-as-trans"),
        pytest.param(64500, id="iana-documentation"),
    ],
)
def test_create_local_network_gateway_reserved_asn(clients: Clients, group: str, asn: int) -> None:
    model = n.LocalNetworkGateway(
        location=LOCATION,
        gateway_ip_address="20.1.2.3",
        local_network_address_space=n.AddressSpace(address_prefixes=[]),
        bgp_settings=n.BgpSettings(asn=asn, bgp_peering_address="10.9.255.30"),
    )
    with expect_arm_error("InvalidBgpAsn") as info:
        clients.network.local_network_gateways.begin_create_or_update(group, "remote", model)
    assert str(asn) in info.value.error.message


def test_create_gateway_reserved_asn_65518(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    model = gateway_model(clients, "hub", "hub-ip", asn=65518)
    with expect_arm_error("InvalidBgpAsn"):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "gw", model)


def test_create_gateway_azure_default_asn_accepted(clients: Clients, group: str) -> None:
    # 65515 is reserved for peers (see the local network gateway case) but is the
    # gateway's own default.
    hub(clients, "hub", 0)
    gateway = virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip", asn=65515)
    assert gateway.bgp_settings.asn == 65515


# ----------------------------------------------- references not provisioned


def test_create_connection_gateway_updating(
    clients: Clients, group: str, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub(clients, "hub", 0)
    local_network_gateway(clients, "remote", "20.1.2.3", 65020, "10.2.255.30")
    start_gateway_slowly(state_dir, monkeypatch)
    model = connection_model(clients, "hub-gateway", "remote", "key-1")
    with expect_arm_error("ReferencedResourceNotProvisioned") as info:
        clients.network.virtual_network_gateway_connections.begin_create_or_update(
            group, "hub-to-remote", model
        )
    gateway_id = resource_id(clients, "Microsoft.Network/virtualNetworkGateways", "hub-gateway")
    assert gateway_id in info.value.error.message


# ------------------------------------------------------------------ lookups


def test_get_gateway_missing(clients: Clients, group: str) -> None:
    with expect_arm_error("ResourceNotFound", 404) as info:
        clients.network.virtual_network_gateways.get(group, "missing")
    assert info.value.error.message == (
        "The Resource 'Microsoft.Network/virtualNetworkGateways/missing' under resource group "
        f"'{group}' was not found."
    )


def test_get_resource_group_missing(clients: Clients) -> None:
    with expect_arm_error("ResourceGroupNotFound", 404) as info:
        clients.resource.resource_groups.get("rg-missing")
    assert info.value.error.message == "Resource group 'rg-missing' could not be found."


def test_create_virtual_network_resource_group_missing(clients: Clients) -> None:
    model = virtual_network_model("10.0.0.0/16", {})
    with expect_arm_error("ResourceGroupNotFound", 404):
        clients.network.virtual_networks.begin_create_or_update("rg-missing", "hub", model)


def test_create_network_interface_missing_subnet(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    model = network_interface_model(clients, "hub", "missing")
    with expect_arm_error("InvalidResourceReference") as info:
        clients.network.network_interfaces.begin_create_or_update(group, "nic", model)
    assert subnet_id(clients, "hub", "missing") in info.value.error.message


# ---------------------------------------------------------- in-use deletes


def test_delete_public_ip_attached_to_gateway(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    with expect_arm_error("PublicIPAddressCannotBeDeleted"):
        clients.network.public_ip_addresses.begin_delete(group, "hub-ip")


def test_delete_subnet_with_network_interface(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    network_interface(clients, "nic", "hub", "default")
    with expect_arm_error("InUseSubnetCannotBeDeleted"):
        clients.network.subnets.begin_delete(group, "hub", "default")


def test_delete_virtual_network_with_network_interface(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    network_interface(clients, "nic", "hub", "default")
    with expect_arm_error("InUseSubnetCannotBeDeleted"):
        clients.network.virtual_networks.begin_delete(group, "hub")


def test_update_virtual_network_without_used_subnet(clients: Clients, group: str) -> None:
    # PUT replaces the whole VNet: leaving a subnet out tries to delete it.
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    network_interface(clients, "nic", "hub", "default")
    model = virtual_network_model("10.0.0.0/16", {"other": "10.0.1.0/24"})
    with expect_arm_error("InUseSubnetCannotBeDeleted"):
        clients.network.virtual_networks.begin_create_or_update(group, "hub", model)


def test_delete_network_interface_attached_to_vm(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    network_interface(clients, "nic", "hub", "default")
    virtual_machine(clients, "vm", "nic")
    with expect_arm_error("NicInUse"):
        clients.network.network_interfaces.begin_delete(group, "nic")


def test_delete_gateway_used_by_connection(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    local_network_gateway(clients, "remote", "20.1.2.3", 65020, "10.2.255.30")
    connection(clients, "hub-to-remote", "hub-gateway", "remote", "key-1")
    with expect_arm_error("InUseVirtualNetworkGatewayCannotBeDeleted"):
        clients.network.virtual_network_gateways.begin_delete(group, "hub-gateway")
    with expect_arm_error("InUseLocalNetworkGatewayCannotBeDeleted"):
        clients.network.local_network_gateways.begin_delete(group, "remote")


# ---------------------------------------------------------------- conflicts


def test_update_gateway_while_updating(
    clients: Clients, group: str, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub(clients, "hub", 0)
    start_gateway_slowly(state_dir, monkeypatch)
    model = gateway_model(clients, "hub", "hub-ip")
    with expect_arm_error("AnotherOperationInProgress", 409):
        clients.network.virtual_network_gateways.begin_create_or_update(group, "hub-gateway", model)


def test_create_virtual_network_resource_group_being_deleted(
    clients: Clients, group: str, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At speed 1 even an empty group takes ARM's minimum of 5 s to delete.
    with connect_at(state_dir, monkeypatch, speed=1.0) as slow:
        slow.resource.resource_groups.begin_delete(group, polling=False)
    model = virtual_network_model("10.0.0.0/16", {})
    with expect_arm_error("ResourceGroupBeingDeleted", 409):
        clients.network.virtual_networks.begin_create_or_update(group, "hub", model)


def test_create_network_watcher_second_in_region(clients: Clients, group: str) -> None:
    network_watcher(clients, "watcher")
    with expect_arm_error("NetworkWatcherCountLimitReached"):
        network_watcher(clients, "watcher-2")


def test_check_connectivity_without_watcher_extension(clients: Clients, group: str) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    network_interface(clients, "nic", "hub", "default")
    vm = virtual_machine(clients, "vm", "nic")
    # The VNet's creation made the region's watcher, as Azure does.
    watchers, watcher = "NetworkWatcherRG", f"NetworkWatcher_{LOCATION}"
    check = n.ConnectivityParameters(
        source=n.ConnectivitySource(resource_id=vm.id),
        destination=n.ConnectivityDestination(address="10.0.0.5", port=22),
    )
    with expect_arm_error("NetworkWatcherExtensionNotInstalled"):
        clients.network.network_watchers.begin_check_connectivity(watchers, watcher, check)
    network_watcher_extension(clients, "vm")
    # The same check is accepted once the agent runs on the source VM.
    result = clients.network.network_watchers.begin_check_connectivity(watchers, watcher, check)
    assert result.result().connection_status is not None


# ------------------------------------------------------ what Azure computes


def test_create_public_ip_assigns_address(clients: Clients, group: str) -> None:
    created = public_ip_address(clients, "hub-ip")
    assert created.ip_address
    assert clients.network.public_ip_addresses.get(group, "hub-ip").ip_address == created.ip_address


def test_create_network_interfaces_take_first_free_addresses(clients: Clients, group: str) -> None:
    virtual_network(clients, "spoke", "10.7.0.0/16", {"default": "10.7.0.0/24"})
    first = network_interface(clients, "nic-1", "spoke", "default")
    second = network_interface(clients, "nic-2", "spoke", "default")
    addresses = [nic.ip_configurations[0].private_ip_address for nic in (first, second)]
    assert addresses == ["10.7.0.4", "10.7.0.5"]


@pytest.mark.parametrize(
    ("gateway_subnet", "bgp_peering_address"),
    [("10.0.255.0/24", "10.0.255.254"), ("10.0.255.0/27", "10.0.255.30")],
)
def test_create_gateway_bgp_peering_address_last_usable(
    clients: Clients, group: str, gateway_subnet: str, bgp_peering_address: str
) -> None:
    virtual_network(clients, "hub", "10.0.0.0/16", {"GatewaySubnet": gateway_subnet})
    public_ip_address(clients, "hub-ip")
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    gateway = clients.network.virtual_network_gateways.get(group, "hub-gateway")
    assert gateway.bgp_settings.asn == HUB_ASN
    assert gateway.bgp_settings.bgp_peering_address == bgp_peering_address


def connect_two_hubs(clients: Clients, key_a: str, key_b: str) -> None:
    """hub-a and hub-b, each with a gateway, a local network gateway for the other
    (its public IP, ASN and BGP address) and a connection to it."""
    for name, octet in (("hub-a", 1), ("hub-b", 2)):
        hub(clients, name, octet)
    pollers = [
        clients.network.virtual_network_gateways.begin_create_or_update(
            GROUP, f"{name}-gateway", gateway_model(clients, name, f"{name}-ip", asn=asn)
        )
        for name, asn in (("hub-a", 65010), ("hub-b", 65020))
    ]
    # Both gateways provision at once; their IPs and BGP addresses are needed below.
    a, b = (poller.result() for poller in pollers)
    ip_a = clients.network.public_ip_addresses.get(GROUP, "hub-a-ip").ip_address
    ip_b = clients.network.public_ip_addresses.get(GROUP, "hub-b-ip").ip_address
    local_network_gateway(clients, "to-hub-b", ip_b, 65020, b.bgp_settings.bgp_peering_address)
    local_network_gateway(clients, "to-hub-a", ip_a, 65010, a.bgp_settings.bgp_peering_address)
    connection(clients, "hub-a-to-hub-b", "hub-a-gateway", "to-hub-b", key_a)
    connection(clients, "hub-b-to-hub-a", "hub-b-gateway", "to-hub-a", key_b)


def test_create_connections_both_directions_same_key_connected(
    clients: Clients, group: str
) -> None:
    connect_two_hubs(clients, "same-key", "same-key")
    for name in ("hub-a-to-hub-b", "hub-b-to-hub-a"):
        conn = clients.network.virtual_network_gateway_connections.get(group, name)
        assert conn.connection_status == "Connected"


def test_create_connections_both_directions_different_keys_not_connected(
    clients: Clients, group: str
) -> None:
    connect_two_hubs(clients, "key-a", "key-b")
    for name in ("hub-a-to-hub-b", "hub-b-to-hub-a"):
        conn = clients.network.virtual_network_gateway_connections.get(group, name)
        assert conn.connection_status == "NotConnected"


def test_get_shared_key_returns_key_set(clients: Clients, group: str) -> None:
    hub(clients, "hub", 0)
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    local_network_gateway(clients, "remote", "20.1.2.3", 65020, "10.2.255.30")
    connection(clients, "hub-to-remote", "hub-gateway", "remote", "Sh4red-Key!")
    shared_key = clients.network.virtual_network_gateway_connections.get_shared_key(
        group, "hub-to-remote"
    )
    assert shared_key.value == "Sh4red-Key!"


def test_get_connection_carries_shared_key_and_status_list_omits_them(
    clients: Clients, group: str
) -> None:
    """As recorded (Azure/azure-sdk-assets, net/sdk/network/Azure.ResourceManager.Network/
    tests/SessionRecords/GatewayOperationsTests/VirtualNetworkGatewayConnectionWithBgpTest.json):
    a GET of one connection carries sharedKey, connectionStatus and the byte counters;
    the LIST carries the byte counters but neither sharedKey nor connectionStatus."""
    hub(clients, "hub", 0)
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    local_network_gateway(clients, "remote", "20.1.2.3", 65020, "10.2.255.30")
    connection(clients, "hub-to-remote", "hub-gateway", "remote", "Sh4red-Key!")
    connections = clients.network.virtual_network_gateway_connections
    got = connections.get(group, "hub-to-remote")
    assert (got.shared_key, got.connection_status, got.ingress_bytes_transferred) == (
        "Sh4red-Key!",
        "NotConnected",  # the remote end is no Azure gateway: no tunnel ever comes up
        0,
    )
    [listed] = connections.list(group)
    assert (listed.shared_key, listed.connection_status, listed.tunnel_connection_status) == (
        None,
        None,
        None,
    )
    assert (listed.ingress_bytes_transferred, listed.egress_bytes_transferred) == (0, 0)
