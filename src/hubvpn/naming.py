"""Resource names of the lab, from the topology (the original Bicep lab's conventions).

The only module that knows the short forms (``vpngw``, ``lng``, ``conn``, ``pip``)::

    vnet("hub00")                              -> "vnet-hub00"
    connection("vpngw-hub01", "vpngw-hub02")   -> "conn-vpngw-hub01-vpngw-hub02"
"""

from __future__ import annotations

TAG = "hubvpn-topology"  # the tag naming the topology that owns a resource

DEFAULT_SUBNET = "default"
GATEWAY_SUBNET = "GatewaySubnet"  # Azure requires exactly this name
BASTION_SUBNET = "AzureBastionSubnet"  # likewise
NETWORK_WATCHER_EXTENSION = "AzureNetworkWatcherExtension"
# Where Azure puts the watchers it creates; a region's watcher is the region's, not a lab's.
NETWORK_WATCHER_GROUP = "NetworkWatcherRG"


def vnet(network: str) -> str:
    return f"vnet-{network}"


def default_gateway(hub: str) -> str:
    return f"vpngw-{hub}"


def public_ip(owner: str) -> str:
    return f"pip-{owner}"


def local_network_gateway(remote_gateway: str, region: str | None = None) -> str:
    """One per remote gateway; suffixed with the region when several regions need one."""
    return f"lng-{remote_gateway}" if region is None else f"lng-{remote_gateway}-{region}"


def connection(local_gateway: str, remote_gateway: str) -> str:
    return f"conn-{local_gateway}-{remote_gateway}"


def peering(local: str, remote: str) -> str:
    return f"{local}-to-{remote}"


def network_security_group(network: str) -> str:
    return f"nsg-{network}-{DEFAULT_SUBNET}"


def route_table(network: str) -> str:
    return f"rt-{network}"


def bastion(hub: str) -> str:
    return f"bas-{hub}"


def vm(network: str) -> str:
    return f"vm-{network}"


def nic(network: str) -> str:
    return f"nic-{network}"


def network_watcher(location: str) -> str:
    return f"NetworkWatcher_{location}"  # the name Azure gives the ones it creates
