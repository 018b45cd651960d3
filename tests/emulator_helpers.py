"""Builders for emulator tests: one small Azure resource each, through the real SDK.

Every builder PUTs an SDK model and waits for its long-running operation, because
the emulator (like Azure) refuses to reference a resource that is not Succeeded
yet. A test builds what it needs, then sends the one request it is about::

    resource_group(clients)
    hub = virtual_network(clients, "hub", "10.0.0.0/16", {"GatewaySubnet": "10.0.255.0/27"})
    with expect_arm_error("RemoteVnetHasNoGateways"):
        ...

``connect_at`` opens another ``Clients`` on the same state directory at another
speed: to the emulator that is another process sharing the same world.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import models as c
from azure.mgmt.network import models as n
from azure.mgmt.resource.resources import models as r

from hubvpn.azure import Clients, connect, resolve_target

LOCATION = "westeurope"
GROUP = "rg-test"
ZONE_REDUNDANT = ("1", "2", "3")
HUB_ASN = 65010
SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmulatorTestKeyNotARealKey0000000000 test"
GATEWAY_CREATE_S = 1800.0  # the emulator's Azure duration of a VPN gateway create
REFERENCE = Path(__file__).resolve().parents[1] / "config" / "topology.toml"
# 36000 Azure seconds per wall second: a 30-minute gateway takes 50 ms.
TEST_SPEED = "36000"


def connect_at(
    state: Path, monkeypatch: pytest.MonkeyPatch, *, speed: float, faults: str = ""
) -> Clients:
    """Another Clients on ``state`` whose emulator runs at ``speed`` (and ``faults``)."""
    monkeypatch.setenv("HUBVPN_EMULATOR_SPEED", str(speed))
    monkeypatch.setenv("HUBVPN_EMULATOR_FAULTS", faults)
    return connect(resolve_target("emulator", None), state)


@contextmanager
def expect_arm_error(code: str, status: int = 400) -> Iterator[pytest.ExceptionInfo[Any]]:
    """The request inside raises HttpResponseError with ARM error ``code`` and HTTP ``status``."""
    with pytest.raises(HttpResponseError) as info:
        yield info
    err = info.value
    assert err.error is not None, err.message
    assert (err.error.code, err.status_code) == (code, status), err.message


# ------------------------------------------------------------------ ids


def resource_id(clients: Clients, type_: str, name: str, group: str = GROUP) -> str:
    return (
        f"/subscriptions/{clients.subscription_id}/resourceGroups/{group}/providers/{type_}/{name}"
    )


def vnet_id(clients: Clients, vnet: str) -> str:
    return resource_id(clients, "Microsoft.Network/virtualNetworks", vnet)


def subnet_id(clients: Clients, vnet: str, subnet: str) -> str:
    return f"{vnet_id(clients, vnet)}/subnets/{subnet}"


# ------------------------------------------------------------ builders


def resource_group(clients: Clients, name: str = GROUP) -> r.ResourceGroup:
    # Synchronous in ARM: no poller.
    return clients.resource.resource_groups.create_or_update(
        name, r.ResourceGroup(location=LOCATION)
    )


def virtual_network_model(prefix: str, subnets: dict[str, str]) -> n.VirtualNetwork:
    return n.VirtualNetwork(
        location=LOCATION,
        address_space=n.AddressSpace(address_prefixes=[prefix]),
        subnets=[n.Subnet(name=name, address_prefix=p) for name, p in subnets.items()],
    )


def virtual_network(
    clients: Clients, name: str, prefix: str, subnets: dict[str, str]
) -> n.VirtualNetwork:
    model = virtual_network_model(prefix, subnets)
    # Subnets must be Succeeded before a NIC or gateway may use them.
    return clients.network.virtual_networks.begin_create_or_update(GROUP, name, model).result()


def public_ip_model(
    *, sku: str = "Standard", zones: tuple[str, ...] = ZONE_REDUNDANT
) -> n.PublicIPAddress:
    return n.PublicIPAddress(
        location=LOCATION,
        zones=list(zones) or None,
        sku=n.PublicIPAddressSku(name=sku, tier="Regional"),
        public_ip_allocation_method="Static" if sku == "Standard" else "Dynamic",
    )


def public_ip_address(
    clients: Clients, name: str, *, sku: str = "Standard", zones: tuple[str, ...] = ZONE_REDUNDANT
) -> n.PublicIPAddress:
    model = public_ip_model(sku=sku, zones=zones)
    # Azure assigns the address during provisioning; gateways need it Succeeded.
    return clients.network.public_ip_addresses.begin_create_or_update(GROUP, name, model).result()


def generation_of(sku: str) -> str:
    """The generation a VpnGw SKU exists in (about-gateway-skus): Generation1 up to VpnGw3AZ."""
    return (
        "Generation1"
        if sku.removesuffix("AZ") in ("VpnGw1", "VpnGw2", "VpnGw3")
        else ("Generation2")
    )


def gateway_model(
    clients: Clients,
    vnet: str,
    public_ip: str,
    *,
    sku: str = "VpnGw1AZ",
    asn: int = HUB_ASN,
    subnet: str = "GatewaySubnet",
) -> n.VirtualNetworkGateway:
    """An active-standby route-based VPN gateway with BGP."""
    return n.VirtualNetworkGateway(
        location=LOCATION,
        gateway_type="Vpn",
        vpn_type="RouteBased",
        sku=n.VirtualNetworkGatewaySku(name=sku, tier=sku),
        enable_bgp=True,
        active_active=False,
        vpn_gateway_generation=generation_of(sku),
        bgp_settings=n.BgpSettings(asn=asn),
        ip_configurations=[
            n.VirtualNetworkGatewayIPConfiguration(
                name="default",
                private_ip_allocation_method="Dynamic",
                subnet=n.SubResource(id=subnet_id(clients, vnet, subnet)),
                public_ip_address=n.SubResource(
                    id=resource_id(clients, "Microsoft.Network/publicIPAddresses", public_ip)
                ),
            )
        ],
    )


def virtual_network_gateway(
    clients: Clients, name: str, vnet: str, public_ip: str, **options: Any
) -> n.VirtualNetworkGateway:
    model = gateway_model(clients, vnet, public_ip, **options)
    # Connections and useRemoteGateways peerings need the gateway Succeeded.
    return clients.network.virtual_network_gateways.begin_create_or_update(
        GROUP, name, model
    ).result()


def hub(clients: Clients, name: str, second_octet: int) -> n.VirtualNetwork:
    """A hub VNet 10.N.0.0/16 (default 10.N.0.0/24, GatewaySubnet 10.N.255.0/27) and its IP."""
    vnet = virtual_network(
        clients,
        name,
        f"10.{second_octet}.0.0/16",
        {"default": f"10.{second_octet}.0.0/24", "GatewaySubnet": f"10.{second_octet}.255.0/27"},
    )
    public_ip_address(clients, f"{name}-ip")
    return vnet


def peering_model(
    clients: Clients,
    remote_vnet: str,
    *,
    allow_gateway_transit: bool = False,
    use_remote_gateways: bool = False,
) -> n.VirtualNetworkPeering:
    return n.VirtualNetworkPeering(
        remote_virtual_network=n.SubResource(id=vnet_id(clients, remote_vnet)),
        allow_virtual_network_access=True,
        allow_forwarded_traffic=True,
        allow_gateway_transit=allow_gateway_transit,
        use_remote_gateways=use_remote_gateways,
    )


def peering(
    clients: Clients, vnet: str, name: str, remote_vnet: str, **flags: bool
) -> n.VirtualNetworkPeering:
    model = peering_model(clients, remote_vnet, **flags)
    # The other side's checks (transit, overlap) read this peering once it exists.
    return clients.network.virtual_network_peerings.begin_create_or_update(
        GROUP, vnet, name, model
    ).result()


def local_network_gateway(
    clients: Clients, name: str, gateway_ip: str, asn: int, bgp_peering_address: str
) -> n.LocalNetworkGateway:
    model = n.LocalNetworkGateway(
        location=LOCATION,
        gateway_ip_address=gateway_ip,
        local_network_address_space=n.AddressSpace(address_prefixes=[]),
        bgp_settings=n.BgpSettings(asn=asn, bgp_peering_address=bgp_peering_address),
    )
    # A connection needs its local network gateway Succeeded.
    return clients.network.local_network_gateways.begin_create_or_update(
        GROUP, name, model
    ).result()


def connection_model(
    clients: Clients, gateway: str, local_gateway: str, shared_key: str
) -> n.VirtualNetworkGatewayConnection:
    return n.VirtualNetworkGatewayConnection(
        location=LOCATION,
        connection_type="IPsec",
        connection_protocol="IKEv2",
        enable_bgp=True,
        shared_key=shared_key,
        virtual_network_gateway1=n.VirtualNetworkGateway(
            id=resource_id(clients, "Microsoft.Network/virtualNetworkGateways", gateway)
        ),
        local_network_gateway2=n.LocalNetworkGateway(
            id=resource_id(clients, "Microsoft.Network/localNetworkGateways", local_gateway)
        ),
    )


def connection(
    clients: Clients, name: str, gateway: str, local_gateway: str, shared_key: str
) -> n.VirtualNetworkGatewayConnection:
    model = connection_model(clients, gateway, local_gateway, shared_key)
    # connectionStatus is only meaningful once the connection is Succeeded.
    return clients.network.virtual_network_gateway_connections.begin_create_or_update(
        GROUP, name, model
    ).result()


def network_interface_model(clients: Clients, vnet: str, subnet: str) -> n.NetworkInterface:
    return n.NetworkInterface(
        location=LOCATION,
        ip_configurations=[
            n.NetworkInterfaceIPConfiguration(
                name="ipconfig1",
                private_ip_allocation_method="Dynamic",
                subnet=n.Subnet(id=subnet_id(clients, vnet, subnet)),
            )
        ],
    )


def network_interface(clients: Clients, name: str, vnet: str, subnet: str) -> n.NetworkInterface:
    model = network_interface_model(clients, vnet, subnet)
    # A VM may only take a NIC that is Succeeded.
    return clients.network.network_interfaces.begin_create_or_update(GROUP, name, model).result()


def virtual_machine(clients: Clients, name: str, nic: str) -> c.VirtualMachine:
    model = c.VirtualMachine(
        location=LOCATION,
        hardware_profile=c.HardwareProfile(vm_size="Standard_B1s"),
        storage_profile=c.StorageProfile(
            image_reference=c.ImageReference(
                publisher="Canonical", offer="ubuntu-24_04-lts", sku="server", version="latest"
            ),
        ),
        os_profile=c.OSProfile(
            computer_name=name,
            admin_username="azureuser",
            linux_configuration=c.LinuxConfiguration(
                disable_password_authentication=True,
                ssh=c.SshConfiguration(
                    public_keys=[
                        c.SshPublicKey(
                            path="/home/azureuser/.ssh/authorized_keys", key_data=SSH_PUBLIC_KEY
                        )
                    ]
                ),
            ),
        ),
        network_profile=c.NetworkProfile(
            network_interfaces=[
                c.NetworkInterfaceReference(
                    id=resource_id(clients, "Microsoft.Network/networkInterfaces", nic),
                    primary=True,
                )
            ]
        ),
    )
    # Extensions and effective routes need a running (Succeeded) VM.
    return clients.compute.virtual_machines.begin_create_or_update(GROUP, name, model).result()


def network_watcher(clients: Clients, name: str) -> n.NetworkWatcher:
    # Synchronous in the SDK (a plain PUT, no poller).
    return clients.network.network_watchers.create_or_update(
        GROUP, name, n.NetworkWatcher(location=LOCATION)
    )


def network_watcher_extension(clients: Clients, vm: str) -> c.VirtualMachineExtension:
    model = c.VirtualMachineExtension(
        location=LOCATION,
        properties=c.VirtualMachineExtensionProperties(
            publisher="Microsoft.Azure.NetworkWatcher",
            type="NetworkWatcherAgentLinux",
            type_handler_version="1.4",
            auto_upgrade_minor_version=True,
        ),
    )
    # A connectivity check needs the agent Succeeded on the source VM.
    return clients.compute.virtual_machine_extensions.begin_create_or_update(
        GROUP, vm, "AzureNetworkWatcherExtension", model
    ).result()
