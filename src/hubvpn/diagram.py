"""The topology drawn for a terminal (plain text) or for docs (Mermaid), from the plan.

Pure: a plan in, a string out (no rich; the console prints it)::

    print(text_diagram(build_plan(topology)))
    print(text_diagram(plan, {"conn-vpngw-hub01-vpngw-hub02": "Connected"}))
    print(mermaid_diagram(plan))

Hubs are drawn one under the other with their spokes as a tree; the VPN links are
listed, not drawn, so six hubs in a full mesh (15 links) stay readable in 80 columns.
A legend explains the lab's resource names (``naming.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hubvpn import naming
from hubvpn.config import Hub
from hubvpn.plan import ConnectionSpec, GatewaySpec, Plan, RouteTableSpec, step_key

FORMATS = ("text", "mermaid")

LEGEND = (
    ("vnet-<vnet>", "virtual network of a hub or spoke"),
    ("vm-<vnet>, nic-<vnet>", "the VNet's test VM and its NIC"),
    ("nsg-<vnet>-default", "NSG of the VNet's default subnet"),
    ("rt-<spoke>", "route table of a spoke (UDRs, with spoke_to_spoke)"),
    ("pip-<owner>", "public IP of a gateway or Bastion: pip-vpngw-hub01"),
    ("bas-<hub>", "Bastion host of a hub"),
    ("<a>-to-<b>", "peering from VNet a to VNet b: spoke10-to-hub00"),
    ("conn-<local>-<remote>", "VPN connection, one each way between two gateways"),
    ("lng-<remote gw>", "local network gateway: the remote gateway as a"),
    ("", "connection sees it (public IP, ASN, BGP address)"),
    ("lng-<remote gw>-<region>", "the same, for hubs in another region than the"),
    ("", "first hub linked to it: lng-vpngw-hub02-eastasia"),
)


@dataclass(frozen=True)
class _Link:
    a: Hub
    b: Hub
    connections: tuple[tuple[str, str], ...]  # (connection, local network gateway)


def _links(plan: Plan) -> list[_Link]:
    topology = plan.topology
    by_gateway = {hub.gateway_name: hub for hub in topology.hubs}
    conns = [(s.name, s.spec) for s in plan.steps if isinstance(s.spec, ConnectionSpec)]
    links = []
    for link in topology.links:
        a, b = (topology.hub(n) for n in link.hubs)
        pair = {a.gateway_name, b.gateway_name}
        found = tuple(
            (name, spec.local_network_gateway)
            for name, spec in conns
            if {spec.gateway, spec.remote_gateway} == pair
            and by_gateway[spec.gateway].name in link.hubs
        )
        links.append(_Link(a, b, found))
    return links


def _route_tables(plan: Plan) -> dict[str, RouteTableSpec]:
    return {s.name: s.spec for s in plan.steps if isinstance(s.spec, RouteTableSpec)}


def _bgp_address(plan: Plan, hub: Hub) -> str:
    spec = plan.step(step_key("virtual_network_gateway", hub.gateway_name)).spec
    return spec.bgp_peering_address if isinstance(spec, GatewaySpec) else "?"


def _has_bastion(plan: Plan, hub: Hub) -> bool:
    return naming.bastion(hub.name) in {s.name for s in plan.steps if s.kind == "bastion"}


# ------------------------------------------------------------------ text


def text_diagram(plan: Plan, states: Mapping[str, str] | None = None) -> str:
    """The topology as plain text; ``states`` maps connection names to their status
    (once deployed): a connection missing from it reads ``absent``."""
    topology = plan.topology
    tables = _route_tables(plan)
    links = _links(plan)
    spokes = sum(len(h.spokes) for h in topology.hubs)
    lines = [
        f"{topology.name}: {_count(len(topology.hubs), 'hub')}, {_count(spokes, 'spoke')},"
        f" {_count(len(links), 'VPN link')} (resource group {topology.resource_group})",
    ]
    for hub in topology.hubs:
        lines.append("")
        lines.append(f"{hub.name}  {naming.vnet(hub.name)} {hub.address_space}  {hub.location}")
        bar = "│ " if hub.spokes else "  "
        lines.append(
            f"{bar}gateway  {hub.gateway_name}  {hub.gateway_sku}  ASN {hub.asn}"
            f"  BGP {_bgp_address(plan, hub)}"
        )
        if _has_bastion(plan, hub):
            lines.append(f"{bar}bastion  {naming.bastion(hub.name)}")
        for i, spoke in enumerate(hub.spokes):
            last = i == len(hub.spokes) - 1
            lines.append(
                f"{'└' if last else '├'}── {spoke.name}  {naming.vnet(spoke.name)}"
                f" {spoke.address_space}"
            )
            table = tables.get(naming.route_table(spoke.name))
            if table is not None:
                for route in table.routes:
                    lines.append(
                        f"{' ' if last else '│'}     UDR {route.address_prefix}"
                        f" -> {hub.gateway_name} ({naming.route_table(spoke.name)})"
                    )
    lines.append("")
    lines.append("VPN links (IPsec IKEv2 with BGP, a connection each way)")
    for link in links:
        lines.append(
            f"  {link.a.name} {link.a.gateway_name} AS{link.a.asn}"
            f" <==> {link.b.name} {link.b.gateway_name} AS{link.b.asn}"
        )
        for conn, lng in link.connections:
            state = "" if states is None else f"  {states.get(conn, 'absent')}"
            lines.append(f"    {conn} via {lng}{state}")
    if not links:
        lines.append("  none")
    lines.append("")
    if topology.spoke_to_spoke:
        lines.append("Spokes of one hub reach each other through its gateway (UDRs).")
    else:
        lines.append("Spokes of one hub do not reach each other: peering is not")
        lines.append("transitive (routing.spoke_to_spoke = true adds UDRs).")
    lines.append("")
    lines.append("Names")
    width = max(len(pattern) for pattern, _ in LEGEND)
    for pattern, meaning in LEGEND:
        lines.append(f"  {pattern:<{width}}  {meaning}")
    return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ------------------------------------------------------------------ mermaid


def _id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name)


def mermaid_diagram(plan: Plan, states: Mapping[str, str] | None = None) -> str:
    """A Mermaid flowchart of the topology, for docs."""
    topology = plan.topology
    tables = _route_tables(plan)
    out = ["flowchart TB"]
    for hub in topology.hubs:
        hub_vnet = naming.vnet(hub.name)
        out.append(f'  subgraph {_id("hub " + hub.name)}["{hub.name}, {hub.location}"]')
        out.append(f'    {_id(hub_vnet)}["{hub_vnet}<br/>{hub.address_space}"]')
        out.append(
            f'    {_id(hub.gateway_name)}{{{{"{hub.gateway_name}<br/>'
            f'{hub.gateway_sku}, AS {hub.asn}"}}}}'
        )
        out.append(f"    {_id(hub.gateway_name)} --- {_id(hub_vnet)}")
        if _has_bastion(plan, hub):
            bastion = naming.bastion(hub.name)
            out.append(f'    {_id(bastion)}["{bastion}"] --- {_id(hub_vnet)}')
        for spoke in hub.spokes:
            spoke_vnet = naming.vnet(spoke.name)
            out.append(f'    {_id(spoke_vnet)}["{spoke_vnet}<br/>{spoke.address_space}"]')
            out.append(f"    {_id(spoke_vnet)} ---|peering| {_id(hub_vnet)}")
            table = tables.get(naming.route_table(spoke.name))
            if table is not None:
                prefixes = ", ".join(r.address_prefix for r in table.routes)
                out.append(f'    {_id(spoke_vnet)} -.->|"UDR {prefixes}"| {_id(hub.gateway_name)}')
        out.append("  end")
    for link in _links(plan):
        label = "IPsec + BGP"
        if states is not None:
            found = dict.fromkeys(states.get(c, "absent") for c, _ in link.connections)
            label += ": " + " / ".join(found)
        out.append(f'  {_id(link.a.gateway_name)} <==>|"{label}"| {_id(link.b.gateway_name)}')
    return "\n".join(out) + "\n"
