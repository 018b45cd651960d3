"""What a deployed lab looks like, as typed rows: provisioning states, connections,
BGP peers and learned routes of each gateway, effective routes of each test VM.

``status`` reads through ``observe`` (the BGP and route queries of ``diagnostics``
ride in its second round) and waits, bounded, for tunnels that lag provisioning
(``diagnostics.settle``): Azure reports a connection Succeeded before its tunnel is
up (connectionStatus Unknown) and its BGP session comes up about a minute later::

    result = status(plan, clients, progress=print)
    result.connections[0].connection_status       # "Connected"
    result.as_json()                              # design.md's status JSON
    status(plan, clients, hub="hub00")            # one hub, with its advertised routes

Each diagnostic is a long-running POST (a POST and a polling GET at least), so status
sends only those its view shows: for the whole lab, what grows with the lab (each
gateway's BGP peers and learned routes, each test VM's effective routes: design.md's
status); for one hub (``hub``) only that hub's, plus the routes its gateway advertises
to each peer (one POST per link: a full mesh has N×(N-1), too many for the whole lab;
``advertised=True`` reads them anyway). Answers are read as the JSON they came in
(``model["key"]``): an SDK model deserialises a field on every attribute read, which
cost seconds over the tens of thousands of routes of a 20-hub mesh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from hubvpn import naming
from hubvpn.azure import Clients
from hubvpn.diagnostics import (
    Progress,
    Scope,
    diagnostic_calls,
    failed_answer,
    missing,
    no_progress,
    settle,
    values,
)
from hubvpn.explain import Cause, problems
from hubvpn.kinds import KINDS, Kind
from hubvpn.observe import Observed, field_of, observe, state_of, text
from hubvpn.plan import Plan, VmSpec, step_key


@dataclass(frozen=True)
class ResourceRow:
    id: str
    type: str  # the ARM type
    name: str
    provisioning_state: str
    in_topology: bool = True  # False: found in the group, not (or no longer) planned

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "name": self.name,
            "provisioningState": self.provisioning_state,
            "inTopology": self.in_topology,
        }
        return row


@dataclass(frozen=True)
class ConnectionRow:
    name: str
    connection_status: str
    provisioning_state: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "connectionStatus": self.connection_status,
            "provisioningState": self.provisioning_state,
        }


@dataclass(frozen=True)
class PeerRow:
    neighbor: str
    asn: int | None
    state: str
    routes_received: int | None
    connected_duration: str | None = None
    messages_sent: int | None = None
    messages_received: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "neighbor": self.neighbor,
            "asn": self.asn,
            "state": self.state,
            "routesReceived": self.routes_received,
            "connectedDuration": self.connected_duration,
            "messagesSent": self.messages_sent,
            "messagesReceived": self.messages_received,
        }


@dataclass(frozen=True)
class LearnedRoute:
    network: str
    next_hop: str | None
    origin: str
    as_path: str
    source_peer: str | None = None
    weight: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "nextHop": self.next_hop,
            "origin": self.origin,
            "asPath": self.as_path,
            "sourcePeer": self.source_peer,
            "weight": self.weight,
        }


@dataclass(frozen=True)
class PeeringRow:
    name: str
    peering_state: str
    provisioning_state: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "peeringState": self.peering_state,
            "provisioningState": self.provisioning_state,
        }


@dataclass(frozen=True)
class InventoryRow:
    """An address worth knowing: a VM's private IP, a gateway's public, BGP or
    instance address, a Bastion host."""

    hub: str
    kind: str  # "vm", "gateway public IP", "BGP peering", "gateway instance", "bastion"
    name: str
    address: str | None

    def as_json(self) -> dict[str, Any]:
        return {"hub": self.hub, "kind": self.kind, "name": self.name, "address": self.address}


@dataclass(frozen=True)
class GatewayRow:
    name: str
    asn: int | None
    bgp_peering_address: str | None
    peers: tuple[PeerRow, ...]
    learned_routes: tuple[LearnedRoute, ...]
    advertised_routes: dict[str, tuple[LearnedRoute, ...]] = field(default_factory=dict)
    advertised_read: bool = True  # False: not asked for (JSON null; ``status --hub`` reads them)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "asn": self.asn,
            "bgpPeeringAddress": self.bgp_peering_address,
            "peers": [p.as_json() for p in self.peers],
            "learnedRoutes": [r.as_json() for r in self.learned_routes],
            "advertisedRoutes": {
                peer: [r.as_json() for r in routes]
                for peer, routes in self.advertised_routes.items()
            }
            if self.advertised_read
            else None,
        }


@dataclass(frozen=True)
class EffectiveRoute:
    address_prefix: tuple[str, ...]
    next_hop_type: str
    source: str
    state: str
    next_hop_ip_address: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "addressPrefix": list(self.address_prefix),
            "nextHopType": self.next_hop_type,
            "source": self.source,
            "state": self.state,
            "nextHopIpAddress": list(self.next_hop_ip_address),
        }


@dataclass(frozen=True)
class HubRow:
    """How a person reads the lab: a hub, its region, its gateway and its VNet set's VMs."""

    name: str
    location: str
    gateway: str
    vms: tuple[str, ...]
    networks: tuple[str, ...] = ()  # the hub's and its spokes' names (vnet-less)


@dataclass(frozen=True)
class Status:
    target: str
    topology: str
    resource_group: str
    deployed: bool
    resources: tuple[ResourceRow, ...] = ()
    connections: tuple[ConnectionRow, ...] = ()
    gateways: tuple[GatewayRow, ...] = ()
    effective_routes: dict[str, tuple[EffectiveRoute, ...]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # plan step keys
    hubs: tuple[HubRow, ...] = ()
    awaited: tuple[str, ...] = ()  # tunnels and BGP sessions not up when the wait ran out
    peerings: tuple[PeeringRow, ...] = ()
    inventory: tuple[InventoryRow, ...] = ()
    problems: tuple[Cause, ...] = ()  # what is wrong, with the fix (explain.py)

    @property
    def converged(self) -> bool:
        return not self.awaited

    def narrowed(self, hub: str) -> Status:
        """Only what belongs to one hub: its gateway, VNets, peerings, VMs and addresses."""
        row = next(h for h in self.hubs if h.name == hub)
        vnets = {f"vnet-{n}" for n in row.networks}
        gateway_names = {row.gateway}
        connections = tuple(
            c for c in self.connections if c.name.startswith(f"conn-{row.gateway}-")
        )
        return replace(
            self,
            connections=connections,
            gateways=tuple(g for g in self.gateways if g.name in gateway_names),
            effective_routes={vm: r for vm, r in self.effective_routes.items() if vm in row.vms},
            hubs=(row,),
            peerings=tuple(p for p in self.peerings if p.name.split("-to-", 1)[0] in row.networks),
            inventory=tuple(i for i in self.inventory if i.hub == hub),
            problems=tuple(
                c for c in self.problems if any(_of_hub(row, name) for name in c.resources)
            ),
            resources=tuple(
                r
                for r in self.resources
                if r.name in vnets or r.name == row.gateway or r.name in row.vms
            ),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "topology": self.topology,
            "resource_group": self.resource_group,
            "deployed": self.deployed,
            "resources": [r.as_json() for r in self.resources],
            "connections": [c.as_json() for c in self.connections],
            "gateways": [g.as_json() for g in self.gateways],
            "effectiveRoutes": {
                vm: [r.as_json() for r in routes] for vm, routes in self.effective_routes.items()
            },
            "missing": list(self.missing),
            "converged": self.converged,
            "awaited": list(self.awaited),
            "peerings": [p.as_json() for p in self.peerings],
            "inventory": [i.as_json() for i in self.inventory],
            "problems": [c.as_json() for c in self.problems],
        }


def _of_hub(hub: HubRow, name: str) -> bool:
    """Whether a resource, by name, belongs to ``hub``'s VNet set or its gateway."""
    return (
        name in {hub.gateway, *hub.vms}
        or name.removeprefix("vnet-") in hub.networks
        or name.split("-to-", 1)[0] in hub.networks
        or name.startswith(f"conn-{hub.gateway}-")
    )


def status(
    plan: Plan,
    clients: Clients,
    progress: Progress = no_progress,
    *,
    hub: str | None = None,
    advertised: bool | None = None,
) -> Status:
    """What exists, once tunnels and BGP sessions are up (or the bounded wait ran out).

    ``hub``: only that hub's diagnostics are read and the result is narrowed to it;
    ``advertised``: read the routes advertised to each peer (default: for one hub only).
    """
    topology = plan.topology
    group = topology.resource_group
    scope = _scope(plan, hub, hub is not None if advertised is None else advertised)
    observed, awaited = settle(
        plan,
        clients,
        lambda: observe(
            clients,
            group,
            partial(diagnostic_calls, plan, clients, scope=scope),
            scope.connections(plan),
        ),
        progress,
        gateways=scope.gateways,
    )
    target = clients.target.name
    if observed.group is None:
        return Status(target, topology.name, group, False, missing=tuple(s.key for s in plan.steps))
    resources = [
        ResourceRow(
            observed.group.id,
            KINDS[Kind.RESOURCE_GROUP].arm_type,
            group,
            state_of(observed.group.properties),
        )
    ]
    for key, model in _ordered_resources(plan, observed):
        resources.append(_row(key, model))
    for key, model in observed.resources.items():
        if key not in plan.by_key:
            resources.append(_row(key, model, in_topology=False))
    connections = []
    for step in plan.steps:
        if step.kind == "connection":
            conn = observed.get(step.key)
            if conn is not None:
                connections.append(
                    ConnectionRow(
                        conn.name, text(conn.connection_status or "Unknown"), state_of(conn)
                    )
                )
    gateways, routes = _diagnostics(plan, observed, scope.advertised)
    peerings = tuple(
        PeeringRow(m.name, text(m.peering_state or "Unknown"), state_of(m))
        for step in plan.steps
        if step.kind == "peering" and (m := observed.get(step.key)) is not None
    )
    result = Status(
        target,
        topology.name,
        group,
        True,
        tuple(resources),
        tuple(connections),
        gateways,
        routes,
        missing(plan, observed),
        hubs_of(plan),
        awaited,
        peerings,
        inventory(plan, observed),
        tuple(problems(plan, observed)),
    )
    return result if hub is None else result.narrowed(hub)


def inventory(plan: Plan, observed: Observed) -> tuple[InventoryRow, ...]:
    """Each hub's addresses: VM private IPs, gateway public, BGP and instance
    addresses, Bastion hosts (with their public IP)."""
    out: list[InventoryRow] = []
    for hub in hubs_of(plan):
        gw = observed.get(step_key("virtual_network_gateway", hub.gateway))
        pip = observed.get(step_key("public_ip", naming.public_ip(hub.gateway)))
        if pip is not None:
            out.append(InventoryRow(hub.name, "gateway public IP", pip.name, pip.ip_address))
        bgp = getattr(gw, "bgp_settings", None)
        if bgp is not None:
            out.append(InventoryRow(hub.name, "BGP peering", hub.gateway, bgp.bgp_peering_address))
            for address in _instances(hub, observed):
                out.append(InventoryRow(hub.name, "gateway instance", hub.gateway, address))
        bastion = observed.get(step_key("bastion", naming.bastion(hub.name)))
        if bastion is not None:
            bas_pip = observed.get(
                step_key("public_ip", naming.public_ip(naming.bastion(hub.name)))
            )
            public = bas_pip.ip_address if bas_pip is not None else None
            out.append(InventoryRow(hub.name, "bastion", bastion.name, public))
        for vm in hub.vms:
            step = plan.by_key.get(step_key("virtual_machine", vm))
            spec = step.spec if step is not None else None
            if not isinstance(spec, VmSpec):
                continue
            nic = observed.get(step_key("network_interface", spec.network_interface))
            configs = getattr(nic, "ip_configurations", None) or []
            private = configs[0].private_ip_address if configs else None
            out.append(InventoryRow(hub.name, "vm", vm, private))
    return tuple(out)


def _scope(plan: Plan, hub: str | None, advertised: bool) -> Scope:
    """The diagnostics a view of the whole lab, or of one hub, needs."""
    if hub is None:
        return Scope(advertised=advertised)
    row = next(h for h in hubs_of(plan) if h.name == hub)
    return Scope(frozenset({row.gateway}), frozenset(row.vms), advertised)


def hubs_of(plan: Plan) -> tuple[HubRow, ...]:
    """Each hub's location, gateway and the test VMs of its VNet set."""
    vm_of = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    out = []
    for hub in plan.topology.hubs:
        networks = [hub.name, *(spoke.name for spoke in hub.spokes)]
        vms = tuple(vm_of[naming.nic(n)] for n in networks if naming.nic(n) in vm_of)
        out.append(HubRow(hub.name, hub.location, hub.gateway_name, vms, tuple(networks)))
    return tuple(out)


def _ordered_resources(plan: Plan, observed: Observed) -> Iterable[tuple[str, Any]]:
    for step in plan.steps:
        if step.kind == "resource_group":
            continue
        model = observed.get(step.key)
        if step.kind == "network_watcher":  # the region's watcher, wherever it lives
            model = next(
                (w for w in observed.watchers if w.location == step.location),
                None,
            )
        if model is not None:
            yield step.key, model


def _row(key: str, model: Any, *, in_topology: bool = True) -> ResourceRow:
    return ResourceRow(
        field_of(model, "id"),
        KINDS[Kind(key.split(":", 1)[0])].arm_type,
        field_of(model, "name"),
        state_of(model),
        in_topology,
    )


def _diagnostics(
    plan: Plan, observed: Observed, advertised: bool = True
) -> tuple[tuple[GatewayRow, ...], dict[str, tuple[EffectiveRoute, ...]]]:
    """The answers to ``diagnostic_calls`` as rows (read from their JSON)."""
    results = observed.extra
    by_gateway: dict[str, dict[str, tuple[LearnedRoute, ...]]] = {}
    routes: dict[str, tuple[EffectiveRoute, ...]] = {}
    for key, value in results.items():
        if key.startswith("advertised:"):
            _, gateway, peer = key.split(":", 2)
            by_gateway.setdefault(gateway, {})[peer] = _gateway_routes(value)
        elif key.startswith("routes:") and not failed_answer(value):
            routes[key.split(":", 1)[1]] = tuple(
                EffectiveRoute(
                    tuple(r.get("addressPrefix") or ()),
                    str(r.get("nextHopType")),
                    str(r.get("source")),
                    str(r.get("state")),
                    tuple(r.get("nextHopIpAddress") or ()),
                )
                for r in values(value)
            )
    gateways = []
    for step in plan.steps:
        if step.kind != "virtual_network_gateway" or f"peers:{step.name}" not in results:
            continue
        gw = observed.resources[step.key]
        bgp = gw.bgp_settings
        gateways.append(
            GatewayRow(
                gw.name,
                bgp.asn if bgp else None,
                bgp.bgp_peering_address if bgp else None,
                tuple(
                    PeerRow(
                        str(p.get("neighbor") or ""),
                        p.get("asn"),
                        str(p.get("state")),
                        p.get("routesReceived"),
                        p.get("connectedDuration"),
                        p.get("messagesSent"),
                        p.get("messagesReceived"),
                    )
                    for p in values(results.get(f"peers:{gw.name}"))
                ),
                _gateway_routes(results.get(f"learned:{gw.name}")),
                by_gateway.get(gw.name, {}),
                advertised,
            )
        )
    return tuple(gateways), routes


def _instances(hub: HubRow, observed: Observed) -> list[str]:
    """The gateway's instance addresses, as its VMs' effective routes name them (next
    hop of the VirtualNetworkGateway routes)."""
    out: list[str] = []
    for vm in hub.vms:
        table = observed.extra.get(f"routes:{vm}")
        for route in values(table):
            if route.get("nextHopType") == "VirtualNetworkGateway":
                out.extend(a for a in route.get("nextHopIpAddress") or [] if a not in out)
    return out


def _gateway_routes(result: Any) -> tuple[LearnedRoute, ...]:
    return tuple(
        LearnedRoute(
            str(r.get("network") or ""),
            r.get("nextHop"),
            str(r.get("origin")),
            r.get("asPath") or "",
            r.get("sourcePeer"),
            r.get("weight"),
        )
        for r in values(result)
    )
