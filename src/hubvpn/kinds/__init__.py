"""One registry of the resource kinds hubvpn writes: everything known about a kind
lives in one row of ``KINDS``, and the generic SDK calls are built from it once::

    KINDS[Kind.VIRTUAL_NETWORK_GATEWAY].arm_type   # "Microsoft.Network/virtualNetworkGateways"
    KINDS[Kind.CONNECTION].azure_s                 # typical Azure duration, seconds
    begin_put(clients, group, kind, name, parent, model)()  # PUT and wait for the LRO
    get(clients, group, kind, name, parent)                 # GET, None when absent
    begin_delete(clients, group, kind, name, parent)()      # DELETE and wait

A kind's SDK bodies (desired, differences, updated) are declared in the module of
its area: ``network``, ``vpn``, ``compute``, ``watcher``, ``group``.

No SDK import at module level: ``plan`` reads this table and stays SDK-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from hubvpn.interrupts import result_of

if TYPE_CHECKING:
    from hubvpn.azure import Clients


class Kind(StrEnum):
    RESOURCE_GROUP = "resource_group"
    NETWORK_SECURITY_GROUP = "network_security_group"
    ROUTE_TABLE = "route_table"
    VIRTUAL_NETWORK = "virtual_network"
    PUBLIC_IP = "public_ip"
    VIRTUAL_NETWORK_GATEWAY = "virtual_network_gateway"
    LOCAL_NETWORK_GATEWAY = "local_network_gateway"
    CONNECTION = "connection"
    PEERING = "peering"
    NETWORK_INTERFACE = "network_interface"
    VIRTUAL_MACHINE = "virtual_machine"
    VM_EXTENSION = "vm_extension"
    BASTION = "bastion"
    NETWORK_WATCHER = "network_watcher"


@dataclass(frozen=True)
class KindInfo:
    arm_type: str
    label: str  # what people read in tables
    azure_s: float  # typical Azure duration of a create (azure-facts.md; recordings)
    client: str  # attribute of Clients: network, compute or resource
    operations: str  # the client's operations group
    long_running: bool = True  # begin_create_or_update; else create_or_update answers at once
    parent: Kind | None = None  # the resource a child lives under (its name is the path's)
    # The operation observe lists a group's resources of this kind with; None: read
    # otherwise (the group by GET, children with their parent).
    lister: str | None = "list"
    subscription_wide: bool = False  # lister takes no group (the region's watchers)
    # Deploy reads what a write of this kind ends with: ARM's final GET of the resource
    # after its operation succeeds. A gateway's BGP peering address and its public IP's
    # address feed the local network gateways (vpn.remote_gateway_facts), and gateways,
    # public IPs and NICs are shown in the deploy record (progress.outputs). Nothing
    # reads the others' answers: their writes end on the operation's status.
    read_back: bool = True


KINDS: dict[Kind, KindInfo] = {
    Kind.RESOURCE_GROUP: KindInfo(
        "Microsoft.Resources/resourceGroups",
        "resource group",
        2.0,
        "resource",
        "resource_groups",
        long_running=False,
        lister=None,
    ),
    Kind.NETWORK_SECURITY_GROUP: KindInfo(
        "Microsoft.Network/networkSecurityGroups",
        "NSG",
        5.0,
        "network",
        "network_security_groups",
        read_back=False,
    ),
    Kind.ROUTE_TABLE: KindInfo(
        "Microsoft.Network/routeTables",
        "route table",
        5.0,
        "network",
        "route_tables",
        read_back=False,
    ),
    Kind.VIRTUAL_NETWORK: KindInfo(
        "Microsoft.Network/virtualNetworks",
        "VNet",
        5.0,
        "network",
        "virtual_networks",
        read_back=False,
    ),
    Kind.PUBLIC_IP: KindInfo(
        "Microsoft.Network/publicIPAddresses", "public IP", 5.0, "network", "public_ip_addresses"
    ),
    Kind.VIRTUAL_NETWORK_GATEWAY: KindInfo(
        "Microsoft.Network/virtualNetworkGateways",
        "VPN gateway",
        1800.0,
        "network",
        "virtual_network_gateways",
    ),
    Kind.LOCAL_NETWORK_GATEWAY: KindInfo(
        "Microsoft.Network/localNetworkGateways",
        "local gateway",
        30.0,
        "network",
        "local_network_gateways",
        read_back=False,
    ),
    Kind.CONNECTION: KindInfo(
        "Microsoft.Network/connections",
        "connection",
        120.0,
        "network",
        "virtual_network_gateway_connections",
        read_back=False,
    ),
    Kind.PEERING: KindInfo(
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "peering",
        10.0,
        "network",
        "virtual_network_peerings",
        parent=Kind.VIRTUAL_NETWORK,
        lister=None,  # the VNet's LIST carries its peerings
        read_back=False,
    ),
    Kind.NETWORK_INTERFACE: KindInfo(
        "Microsoft.Network/networkInterfaces", "NIC", 5.0, "network", "network_interfaces"
    ),
    Kind.VIRTUAL_MACHINE: KindInfo(
        "Microsoft.Compute/virtualMachines",
        "VM",
        120.0,
        "compute",
        "virtual_machines",
        read_back=False,
    ),
    Kind.VM_EXTENSION: KindInfo(
        "Microsoft.Compute/virtualMachines/extensions",
        "VM extension",
        60.0,
        "compute",
        "virtual_machine_extensions",
        parent=Kind.VIRTUAL_MACHINE,
        lister=None,  # listed per VM in observe's second round
        read_back=False,
    ),
    Kind.BASTION: KindInfo(
        "Microsoft.Network/bastionHosts",
        "Bastion",
        600.0,
        "network",
        "bastion_hosts",
        lister="list_by_resource_group",
        read_back=False,
    ),
    Kind.NETWORK_WATCHER: KindInfo(
        "Microsoft.Network/networkWatchers",
        "network watcher",
        5.0,
        "network",
        "network_watchers",
        long_running=False,  # NetworkWatchers_CreateOrUpdate is not an LRO
        lister="list_all",  # wherever the region's watcher lives (often NetworkWatcherRG)
        subscription_wide=True,
    ),
}


# Deleting in this order never asks Azure to delete a resource still in use: peerings
# and connections before VNets and gateways, VMs before NICs, NICs before NSGs and
# VNets, public IPs after the gateways and Bastions that hold them. The resource group
# and the region's watcher are never deleted one by one.
DELETE_ORDER = (
    Kind.PEERING,
    Kind.CONNECTION,
    Kind.VM_EXTENSION,
    Kind.VIRTUAL_MACHINE,
    Kind.BASTION,
    Kind.LOCAL_NETWORK_GATEWAY,
    Kind.VIRTUAL_NETWORK_GATEWAY,
    Kind.NETWORK_INTERFACE,
    Kind.PUBLIC_IP,
    Kind.VIRTUAL_NETWORK,
    Kind.ROUTE_TABLE,
    Kind.NETWORK_SECURITY_GROUP,
)


def _operations(clients: Clients, kind: str) -> Any:
    info = KINDS[Kind(kind)]
    return getattr(getattr(clients, info.client), info.operations)


def _address(group: str, name: str, parent: str | None, kind: str) -> tuple[str, ...]:
    """The SDK's positional path: (group, [parent,] name); a group is addressed by name."""
    if Kind(kind) is Kind.RESOURCE_GROUP:
        return (name,)
    return (group, parent, name) if parent else (group, name)


def begin_put(
    clients: Clients, group: str, kind: str, name: str, parent: str | None, model: Any
) -> Callable[[], Any]:
    """Start the write of one resource; returns the wait for Azure's answer (None for
    a kind whose answer deploy does not read: ``KindInfo.read_back``)."""
    info = KINDS[Kind(kind)]
    ops = _operations(clients, kind)
    path = _address(group, name, parent, kind)
    if not info.long_running:
        result = ops.create_or_update(*path, model)
        return lambda: result
    polling = clients.polling(read_back=info.read_back)
    poller = ops.begin_create_or_update(*path, model, polling=polling)
    return poller.result  # type: ignore[no-any-return]


def get(clients: Clients, group: str, kind: str, name: str, parent: str | None) -> Any | None:
    """GET one resource; None when Azure answers ResourceNotFound."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return _operations(clients, kind).get(*_address(group, name, parent, kind))
    except ResourceNotFoundError:
        return None


def begin_delete(
    clients: Clients, group: str, kind: str, name: str, parent: str | None
) -> Callable[[], Any]:
    """Start the delete of one resource; returns the wait for Azure's answer (given up
    on Ctrl-C: the delete goes on in Azure)."""
    poller = _operations(clients, kind).begin_delete(
        *_address(group, name, parent, kind), polling=clients.polling()
    )
    return partial(result_of, poller)
