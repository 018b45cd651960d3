"""The desired resources of a topology and the order Azure imposes on them, as data.

No SDK here: ``deploy`` executes a plan and ``plan`` prints it (``predict`` turns
it into the network the routing model sees)::

    plan = build_plan(topology)
    for step in plan.steps:                 # dependencies first
        print(step.key, step.depends_on)
    seconds, path = plan.critical_path()

Orders that Azure enforces (azure-facts.md):
- a spoke peering with useRemoteGateways after its hub's gateway Succeeded;
- a local network gateway after the remote gateway exists (it needs the
  remote public IP and BGP peering address); a connection after both gateways;
- a gateway after its VNet (GatewaySubnet) and public IP; a NIC after its VNet;
  a VM after its NIC; the Network Watcher agent after its VM.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from hubvpn import naming
from hubvpn.config import Hub, Topology
from hubvpn.kinds import KINDS, Kind

# The VPN gateway generation each SKU exists in (learn.microsoft.com/azure/vpn-gateway/
# about-gateway-skus, 2026): VpnGw1AZ only in Generation1; VpnGw2AZ-VpnGw5AZ in Generation2.
# Azure refuses a mismatch: VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration.
GENERATION1_SKUS = frozenset({"VpnGw1AZ"})
PUBLIC_IP_ZONES = ("1", "2", "3")  # zone-redundant, as AZ gateway SKUs require
UBUNTU_IMAGE = ("Canonical", "ubuntu-24_04-lts", "server", "latest")  # current LTS
WATCHER_AGENT = ("Microsoft.Azure.NetworkWatcher", "NetworkWatcherAgentLinux", "1.4")


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    prefix: str
    network_security_group: str | None = None
    route_table: str | None = None


@dataclass(frozen=True)
class VirtualNetworkSpec:
    address_space: tuple[str, ...]
    subnets: tuple[SubnetSpec, ...]


@dataclass(frozen=True)
class PublicIpSpec:
    zones: tuple[str, ...] = PUBLIC_IP_ZONES


@dataclass(frozen=True)
class GatewaySpec:
    virtual_network: str
    public_ip: str
    sku: str
    asn: int
    bgp_peering_address: str  # what Azure will assign (prediction only)

    @property
    def generation(self) -> str:
        """The generation to create the gateway in: the one its SKU exists in."""
        return gateway_generation(self.sku)


@dataclass(frozen=True)
class LocalGatewaySpec:
    remote_gateway: str  # its public IP and BGP settings are read from Azure
    remote_public_ip: str
    remote_asn: int


@dataclass(frozen=True)
class ConnectionSpec:
    gateway: str
    local_network_gateway: str
    remote_gateway: str
    pair: tuple[str, str]  # the two gateways, sorted: both directions share one key


@dataclass(frozen=True)
class PeeringSpec:
    virtual_network: str
    remote_virtual_network: str
    allow_virtual_network_access: bool
    allow_forwarded_traffic: bool
    allow_gateway_transit: bool
    use_remote_gateways: bool


@dataclass(frozen=True)
class RouteSpec:
    name: str
    address_prefix: str
    next_hop_type: str


@dataclass(frozen=True)
class RouteTableSpec:
    routes: tuple[RouteSpec, ...]


@dataclass(frozen=True)
class NicSpec:
    virtual_network: str
    subnet: str
    predicted_ip: str


@dataclass(frozen=True)
class VmSpec:
    network_interface: str
    size: str
    admin_username: str
    ssh_public_key_file: str


@dataclass(frozen=True)
class ExtensionSpec:
    virtual_machine: str
    publisher: str
    type: str
    version: str


@dataclass(frozen=True)
class BastionSpec:
    virtual_network: str
    public_ip: str


@dataclass(frozen=True)
class NoSpec:
    """Resource groups, NSGs and network watchers: nothing beyond name and place."""


Spec = (
    SubnetSpec
    | VirtualNetworkSpec
    | PublicIpSpec
    | GatewaySpec
    | LocalGatewaySpec
    | ConnectionSpec
    | PeeringSpec
    | RouteTableSpec
    | NicSpec
    | VmSpec
    | ExtensionSpec
    | BastionSpec
    | NoSpec
)


class Addressed:
    """What names one resource, planned (``Step``) or left over (``converge.Orphan``):
    its kind, its name and the parent it lives under."""

    kind: str  # a Kind's value
    name: str
    parent: str | None

    @property
    def key(self) -> str:
        return step_key(self.kind, self.name, self.parent)

    @property
    def arm_type(self) -> str:
        return KINDS[Kind(self.kind)].arm_type


@dataclass(frozen=True)
class Step(Addressed):
    """One resource to converge."""

    kind: str  # a Kind's value
    name: str
    location: str
    spec: Spec
    depends_on: tuple[str, ...] = ()
    parent: str | None = None  # the VNet of a peering, the VM of an extension

    @property
    def azure_s(self) -> float:
        return KINDS[Kind(self.kind)].azure_s


def step_key(kind: str, name: str, parent: str | None = None) -> str:
    return f"{kind}:{parent}/{name}" if parent else f"{kind}:{name}"


@dataclass(frozen=True)
class Plan:
    topology: Topology
    steps: tuple[Step, ...]  # dependencies before dependents
    by_key: dict[str, Step] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_key.update({s.key: s for s in self.steps})

    def step(self, key: str) -> Step:
        return self.by_key[key]

    @cached_property
    def dependents(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {s.key: [] for s in self.steps}
        for s in self.steps:
            for dep in s.depends_on:
                found[dep].append(s.key)
        return {k: tuple(v) for k, v in found.items()}

    @cached_property
    def remaining(self) -> dict[str, float]:
        """Per step, the longest chain of Azure seconds from its start to the plan's end.

        The scheduler's urgency: the step with the most Azure time still behind it goes
        first (the first step of ``critical_path`` has the whole path).
        """
        tail: dict[str, float] = {}
        for s in reversed(self.steps):
            after = max((tail[d] for d in self.dependents[s.key]), default=0.0)
            tail[s.key] = s.azure_s + after
        return tail

    def critical_path(
        self, durations: dict[str, float] | None = None
    ) -> tuple[float, tuple[Step, ...]]:
        """Longest chain of Azure durations: the least time any deploy can take."""
        cost = durations or {s.key: s.azure_s for s in self.steps}
        finish: dict[str, float] = {}
        via: dict[str, str | None] = {}
        for s in self.steps:
            start, before = 0.0, None
            for dep in s.depends_on:
                if finish[dep] > start:
                    start, before = finish[dep], dep
            finish[s.key] = start + cost.get(s.key, 0.0)
            via[s.key] = before
        if not finish:
            return 0.0, ()
        last: str | None = max(finish, key=lambda k: finish[k])
        total = finish[last] if last else 0.0
        chain: list[Step] = []
        while last is not None:
            chain.append(self.by_key[last])
            last = via[last]
        return total, tuple(reversed(chain))


# ------------------------------------------------------------------ building


def gateway_addresses(gateway_subnet: str) -> tuple[str, tuple[str, str]]:
    """(BGP peering address, instance addresses) Azure gives an active-standby gateway:
    the last usable address of GatewaySubnet (observed .254 for a /24), instances from .4."""
    net = ipaddress.IPv4Network(gateway_subnet)
    first = net.network_address + 4
    return str(net.broadcast_address - 1), (str(first), str(first + 1))


def gateway_generation(sku: str) -> str:
    return "Generation1" if sku in GENERATION1_SKUS else "Generation2"


def first_private_ip(subnet: str) -> str:
    """Azure reserves .0-.3: the first NIC of a subnet gets .4."""
    return str(ipaddress.IPv4Network(subnet).network_address + 4)


def _networks(topology: Topology) -> Iterable[tuple[str, str, str, Hub, bool]]:
    """(name, address space, default subnet, hub, is_hub) of every VNet."""
    for hub in topology.hubs:
        yield hub.name, hub.address_space, hub.default_subnet, hub, True
        for spoke in hub.spokes:
            yield spoke.name, spoke.address_space, spoke.default_subnet, hub, False


def build_plan(topology: Topology) -> Plan:
    steps: list[Step] = []
    group = step_key("resource_group", topology.resource_group)
    steps.append(Step("resource_group", topology.resource_group, topology.location, NoSpec()))

    def add(step: Step) -> str:
        steps.append(step)
        return step.key

    for name, space, default_subnet, hub, is_hub in _networks(topology):
        location = hub.location
        deps = [group]
        nsg = add(
            Step(
                "network_security_group",
                naming.network_security_group(name),
                location,
                NoSpec(),
                (group,),
            )
        )
        deps.append(nsg)
        table_name = None
        if topology.spoke_to_spoke and not is_hub and len(hub.spokes) > 1:
            table_name = naming.route_table(name)
            routes = tuple(
                RouteSpec(f"to-{other.name}", other.address_space, "VirtualNetworkGateway")
                for other in hub.spokes
                if other.name != name
            )
            deps.append(
                add(Step("route_table", table_name, location, RouteTableSpec(routes), (group,)))
            )
        subnets = [
            SubnetSpec(
                naming.DEFAULT_SUBNET,
                default_subnet,
                naming.network_security_group(name),
                table_name,
            )
        ]
        if is_hub:
            if hub.bastion_subnet:
                subnets.append(SubnetSpec(naming.BASTION_SUBNET, hub.bastion_subnet))
            subnets.append(SubnetSpec(naming.GATEWAY_SUBNET, hub.gateway_subnet))
        add(
            Step(
                "virtual_network",
                naming.vnet(name),
                location,
                VirtualNetworkSpec((space,), tuple(subnets)),
                tuple(deps),
            )
        )

    for hub in topology.hubs:
        vnet_key = step_key("virtual_network", naming.vnet(hub.name))
        pip = naming.public_ip(hub.gateway_name)
        pip_key = add(Step("public_ip", pip, hub.location, PublicIpSpec(), (group,)))
        bgp_address, _ = gateway_addresses(hub.gateway_subnet)
        add(
            Step(
                "virtual_network_gateway",
                hub.gateway_name,
                hub.location,
                GatewaySpec(naming.vnet(hub.name), pip, hub.gateway_sku, hub.asn, bgp_address),
                (vnet_key, pip_key),
            )
        )
        if hub.bastion_subnet:
            bas_pip = naming.public_ip(naming.bastion(hub.name))
            bas_pip_key = add(Step("public_ip", bas_pip, hub.location, PublicIpSpec(), (group,)))
            add(
                Step(
                    "bastion",
                    naming.bastion(hub.name),
                    hub.location,
                    BastionSpec(naming.vnet(hub.name), bas_pip),
                    (vnet_key, bas_pip_key),
                )
            )

    # A local network gateway stands for a remote gateway in one region; the hubs of
    # that region that link to the remote share it (a connection, its gateway and its
    # LNG must be in one region). The region of the first hub in file order that links
    # to the remote gets the plain name, so appending hubs never moves or renames one.
    order = {hub.name: i for i, hub in enumerate(topology.hubs)}
    home: dict[str, tuple[int, str]] = {}
    for link in topology.links:
        a, b = (topology.hub(n) for n in link.hubs)
        for local, remote in ((a, b), (b, a)):
            first = (order[local.name], local.location)
            home[remote.gateway_name] = min(home.get(remote.gateway_name, first), first)
    added: set[str] = set()
    for link in topology.links:
        a, b = (topology.hub(n) for n in link.hubs)
        for local, remote in ((a, b), (b, a)):
            remote_gw = step_key("virtual_network_gateway", remote.gateway_name)
            local_gw = step_key("virtual_network_gateway", local.gateway_name)
            at_home = home[remote.gateway_name][1] == local.location
            lng_name = naming.local_network_gateway(
                remote.gateway_name, None if at_home else local.location
            )
            lng = step_key("local_network_gateway", lng_name)
            if lng not in added:
                added.add(lng)
                add(
                    Step(
                        "local_network_gateway",
                        lng_name,
                        local.location,
                        LocalGatewaySpec(
                            remote.gateway_name, naming.public_ip(remote.gateway_name), remote.asn
                        ),
                        (group, remote_gw),
                    )
                )
            pair = tuple(sorted((local.gateway_name, remote.gateway_name)))
            add(
                Step(
                    "connection",
                    naming.connection(local.gateway_name, remote.gateway_name),
                    local.location,
                    ConnectionSpec(
                        local.gateway_name, lng_name, remote.gateway_name, (pair[0], pair[1])
                    ),
                    (local_gw, lng),
                )
            )

    for hub in topology.hubs:
        hub_vnet = naming.vnet(hub.name)
        gateway = step_key("virtual_network_gateway", hub.gateway_name)
        for spoke in hub.spokes:
            spoke_vnet = naming.vnet(spoke.name)
            vnets = (step_key("virtual_network", hub_vnet), step_key("virtual_network", spoke_vnet))
            hub_side = add(
                Step(
                    "peering",
                    naming.peering(hub.name, spoke.name),
                    hub.location,
                    PeeringSpec(
                        hub_vnet,
                        spoke_vnet,
                        allow_virtual_network_access=True,
                        allow_forwarded_traffic=True,
                        allow_gateway_transit=True,
                        use_remote_gateways=False,
                    ),
                    vnets,
                    parent=hub_vnet,
                )
            )
            # Azure refuses useRemoteGateways until the hub's gateway has Succeeded.
            add(
                Step(
                    "peering",
                    naming.peering(spoke.name, hub.name),
                    spoke.location,
                    PeeringSpec(
                        spoke_vnet,
                        hub_vnet,
                        allow_virtual_network_access=True,
                        allow_forwarded_traffic=True,
                        allow_gateway_transit=False,
                        use_remote_gateways=True,
                    ),
                    (*vnets, gateway, hub_side),
                    parent=spoke_vnet,
                )
            )

    if topology.vm is not None:
        vm = topology.vm
        for location in dict.fromkeys(h.location for h in topology.hubs):
            add(
                Step(
                    "network_watcher",
                    naming.network_watcher(location),
                    location,
                    NoSpec(),
                    # The region's watcher, wherever it lives: not in the lab's group.
                )
            )
        for name, _space, default_subnet, hub, _is_hub in _networks(topology):
            nic = add(
                Step(
                    "network_interface",
                    naming.nic(name),
                    hub.location,
                    NicSpec(
                        naming.vnet(name), naming.DEFAULT_SUBNET, first_private_ip(default_subnet)
                    ),
                    (step_key("virtual_network", naming.vnet(name)),),
                )
            )
            vm_key = add(
                Step(
                    "virtual_machine",
                    naming.vm(name),
                    hub.location,
                    VmSpec(naming.nic(name), vm.size, vm.admin_username, vm.ssh_public_key_file),
                    (nic,),
                )
            )
            publisher, type_, version = WATCHER_AGENT
            add(
                Step(
                    "vm_extension",
                    naming.NETWORK_WATCHER_EXTENSION,
                    hub.location,
                    ExtensionSpec(naming.vm(name), publisher, type_, version),
                    (vm_key,),
                    parent=naming.vm(name),
                )
            )
    return Plan(topology, _ordered(steps))


def _ordered(steps: list[Step]) -> tuple[Step, ...]:
    """Dependencies first (stable), and a check that the graph has no cycle."""
    by_key = {s.key: s for s in steps}
    done: dict[str, bool] = {}
    out: list[Step] = []

    def visit(step: Step) -> None:
        state = done.get(step.key)
        if state is True:
            return
        if state is False:
            raise ValueError(f"dependency cycle at {step.key}")
        done[step.key] = False
        for dep in step.depends_on:
            visit(by_key[dep])
        done[step.key] = True
        out.append(step)

    for step in steps:
        visit(step)
    return tuple(out)
