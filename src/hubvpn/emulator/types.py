"""The ARM resource types the emulator knows, spelled as ARM spells them.

One place for the names every module compares against (``Kind.type``, selects,
references); lower-case them for keys.
"""

from __future__ import annotations

RESOURCE_GROUP = "Microsoft.Resources/resourceGroups"
VNET = "Microsoft.Network/virtualNetworks"
SUBNET = "Microsoft.Network/virtualNetworks/subnets"
PEERING = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
PUBLIC_IP = "Microsoft.Network/publicIPAddresses"
NSG = "Microsoft.Network/networkSecurityGroups"
ROUTE_TABLE = "Microsoft.Network/routeTables"
ROUTE = "Microsoft.Network/routeTables/routes"
NIC = "Microsoft.Network/networkInterfaces"
BASTION = "Microsoft.Network/bastionHosts"
WATCHER = "Microsoft.Network/networkWatchers"
GATEWAY = "Microsoft.Network/virtualNetworkGateways"
LOCAL_GATEWAY = "Microsoft.Network/localNetworkGateways"
CONNECTION = "Microsoft.Network/connections"
VM = "Microsoft.Compute/virtualMachines"
EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
