"""What the topology predicts, before anything exists: the network as the routing model
sees it once deployed, and the reachability between test VMs in verify's shape.

Pure: no SDK. ``plan`` prints the prediction, ``verify`` compares measurements with it::

    probes = predicted_probes(build_plan(topology), port=22)
    predicted(plan, 22)[("vm-spoke10", "vm-spoke20")]           # False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubvpn import routing
from hubvpn.plan import (
    ConnectionSpec,
    GatewaySpec,
    LocalGatewaySpec,
    NicSpec,
    PeeringSpec,
    Plan,
    RouteTableSpec,
    VirtualNetworkSpec,
    VmSpec,
    gateway_addresses,
)

SSH_PORT = 22  # the port the test VMs listen on


def predicted_network(plan: Plan) -> routing.Network:
    """The network the plan builds, as the routing model sees it once deployed."""
    vnets, peerings, tables, gateways, lngs, conns, nics = [], [], [], [], [], [], []
    for step in plan.steps:
        spec = step.spec
        if isinstance(spec, VirtualNetworkSpec):
            vnets.append(
                routing.VirtualNetwork(
                    step.name,
                    spec.address_space,
                    tuple(routing.Subnet(s.name, s.prefix, s.route_table) for s in spec.subnets),
                )
            )
        elif isinstance(spec, RouteTableSpec):
            tables.append(
                routing.RouteTable(
                    step.name,
                    tuple(
                        routing.Route(r.name, r.address_prefix, r.next_hop_type)
                        for r in spec.routes
                    ),
                )
            )
        elif isinstance(spec, PeeringSpec):
            peerings.append(
                routing.Peering(
                    step.name,
                    spec.virtual_network,
                    spec.remote_virtual_network,
                    allow_virtual_network_access=True,
                    allow_forwarded_traffic=True,
                    allow_gateway_transit=spec.allow_gateway_transit,
                    use_remote_gateways=spec.use_remote_gateways,
                )
            )
        elif isinstance(spec, GatewaySpec):
            hub = next(h for h in plan.topology.hubs if h.gateway_name == step.name)
            _, instances = gateway_addresses(hub.gateway_subnet)
            gateways.append(
                routing.VirtualNetworkGateway(
                    step.name,
                    spec.virtual_network,
                    spec.asn,
                    spec.bgp_peering_address,
                    instances,
                    public_ip=spec.public_ip,
                )
            )
        elif isinstance(spec, LocalGatewaySpec):
            remote = next(h for h in plan.topology.hubs if h.gateway_name == spec.remote_gateway)
            address, _ = gateway_addresses(remote.gateway_subnet)
            lngs.append(
                routing.LocalNetworkGateway(
                    step.name, spec.remote_public_ip, (), spec.remote_asn, address
                )
            )
        elif isinstance(spec, ConnectionSpec):
            conns.append(
                routing.Connection(
                    step.name, spec.gateway, spec.local_network_gateway, True, "-".join(spec.pair)
                )
            )
        elif isinstance(spec, NicSpec):
            nics.append(
                routing.NetworkInterface(
                    step.name,
                    spec.virtual_network,
                    spec.subnet,
                    spec.predicted_ip,
                    frozenset({SSH_PORT}),
                )
            )
    return routing.Network(
        tuple(vnets),
        tuple(peerings),
        tuple(tables),
        tuple(gateways),
        tuple(lngs),
        tuple(conns),
        tuple(nics),
    )


@dataclass(frozen=True)
class Probe:
    source: str  # VM name
    destination: str
    address: str
    expected: bool
    reachable: bool | None  # None: could not be measured
    hops: tuple[str, ...]
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.destination,
            "address": self.address,
            "expected": self.expected,
            "reachable": self.reachable,
            "hops": list(self.hops),
            "detail": self.detail or None,  # always present (issue 13's JSON rule)
        }


def predicted_probes(plan: Plan, port: int) -> list[Probe]:
    """The prediction in verify's shape: predicted addresses and hops, before anything exists."""
    nic_to_vm = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    address = {s.name: s.spec.predicted_ip for s in plan.steps if isinstance(s.spec, NicSpec)}
    traces = routing.reachability(predicted_network(plan), port)
    probes = []
    for (a, b), trace in traces.items():
        if a in nic_to_vm and b in nic_to_vm:
            hops = tuple(h.address for h in trace.hops if h.address and "/" not in h.address)
            probes.append(
                Probe(
                    nic_to_vm[a],
                    nic_to_vm[b],
                    address[b],
                    trace.reachable,
                    trace.reachable,
                    hops if trace.reachable else (),
                    "" if trace.reachable else trace.reason,
                )
            )
    return probes


def predicted(plan: Plan, port: int) -> dict[tuple[str, str], bool]:
    """Reachability between test VMs that the routing model predicts from the topology."""
    return {(p.source, p.destination): p.expected for p in predicted_probes(plan, port)}
