"""Network bodies: NSG, route table, VNet (with its subnets), public IP, NIC, peering
and Bastion; the emulator's side is ``emulator/resources/`` (``nsg``, ``route_table``,
``virtual_network``, ``public_ip``, ``nic``, ``bastion``).

Bodies are built with the SDK's model classes (a plain dict would send snake_case
keys to the wire); ``differences`` compares only the fields hubvpn owns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubvpn import naming
from hubvpn.kinds import Kind
from hubvpn.kinds.body import Body, Change, add_lab_tag, ref_id, same_id, spec_of, tracked
from hubvpn.observe import text
from hubvpn.plan import (
    BastionSpec,
    NicSpec,
    PeeringSpec,
    PublicIpSpec,
    RouteTableSpec,
    Step,
    VirtualNetworkSpec,
)

if TYPE_CHECKING:
    from hubvpn.resources import Context


def desired_network_security_group(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    return n.NetworkSecurityGroup(**tracked(step, ctx))


# ------------------------------------------------------------------ route table


def desired_route_table(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    return n.RouteTable(
        **tracked(step, ctx),
        disable_bgp_route_propagation=False,
        routes=[
            n.Route(name=r.name, address_prefix=r.address_prefix, next_hop_type=r.next_hop_type)
            for r in spec_of(step, RouteTableSpec).routes
        ],
    )


def route_table_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    routes = spec_of(step, RouteTableSpec).routes
    have = sorted([r.name, r.address_prefix, text(r.next_hop_type)] for r in existing.routes or [])
    want = sorted([r.name, r.address_prefix, r.next_hop_type] for r in routes)
    return [] if have == want else [("routes", have, want)]


# --------------------------------------------------------------------- VNet


def desired_virtual_network(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    spec = spec_of(step, VirtualNetworkSpec)
    subnets = []
    for s in spec.subnets:
        subnet = n.Subnet(name=s.name, address_prefix=s.prefix)
        if s.network_security_group:
            subnet.network_security_group = n.NetworkSecurityGroup(
                id=ctx.rid(Kind.NETWORK_SECURITY_GROUP, s.network_security_group)
            )
        if s.route_table:
            subnet.route_table = n.RouteTable(id=ctx.rid(Kind.ROUTE_TABLE, s.route_table))
        subnets.append(subnet)
    return n.VirtualNetwork(
        **tracked(step, ctx),
        subnets=subnets,
        address_space=n.AddressSpace(address_prefixes=list(spec.address_space)),
    )


def virtual_network_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    spec = spec_of(step, VirtualNetworkSpec)
    found: list[Change] = []
    prefixes = sorted(existing.address_space.address_prefixes or [])
    if prefixes != sorted(spec.address_space):
        found.append(("addressSpace.addressPrefixes", prefixes, sorted(spec.address_space)))
    have = {s.name.lower(): s for s in existing.subnets or []}
    for s in spec.subnets:
        sub = have.pop(s.name.lower(), None)
        path = f"subnets[{s.name}]"
        if sub is None or sub.address_prefix != s.prefix:
            old = None if sub is None else sub.address_prefix
            found.append((f"{path}.addressPrefix", old, s.prefix))
            continue
        nsg = s.network_security_group and ctx.rid(
            Kind.NETWORK_SECURITY_GROUP, s.network_security_group
        )
        table = s.route_table and ctx.rid(Kind.ROUTE_TABLE, s.route_table)
        for field_path, ref, want in (
            ("networkSecurityGroup.id", sub.network_security_group, nsg or None),
            ("routeTable.id", sub.route_table, table or None),
        ):
            if not same_id(ref_id(ref), want):
                found.append((f"{path}.{field_path}", ref_id(ref), want))
    return found


def updated_virtual_network(step: Step, existing: Any, ctx: Context) -> Any:
    """A VNet PUT replaces the whole VNet: its peerings and foreign subnets are kept."""
    model = add_lab_tag(desired_virtual_network(step, ctx), ctx, kept=existing)
    model.virtual_network_peerings = existing.virtual_network_peerings
    ours = {s.name.lower() for s in spec_of(step, VirtualNetworkSpec).subnets}
    model.subnets += [s for s in existing.subnets or [] if s.name.lower() not in ours]
    return model


# ---------------------------------------------------------------- public IP


def desired_public_ip(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    return n.PublicIPAddress(
        **tracked(step, ctx),
        zones=list(spec_of(step, PublicIpSpec).zones),
        sku=n.PublicIPAddressSku(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
    )


# ---------------------------------------------------------------------- NIC


def desired_network_interface(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    spec = spec_of(step, NicSpec)
    return n.NetworkInterface(
        **tracked(step, ctx),
        ip_configurations=[
            n.NetworkInterfaceIPConfiguration(
                name="ipconfig1",
                private_ip_allocation_method="Dynamic",
                subnet=n.Subnet(id=ctx.subnet_id(spec.virtual_network, spec.subnet)),
            )
        ],
    )


def network_interface_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    spec = spec_of(step, NicSpec)
    configs = existing.ip_configurations or []
    have = ref_id(configs[0].subnet) if configs else None
    want = ctx.subnet_id(spec.virtual_network, spec.subnet)
    return [] if same_id(have, want) else [("ipConfigurations[0].subnet.id", have, want)]


# ------------------------------------------------------------------ peering


PEERING_FLAGS = (  # (SDK attribute, ARM field)
    ("allow_virtual_network_access", "allowVirtualNetworkAccess"),
    ("allow_forwarded_traffic", "allowForwardedTraffic"),
    ("allow_gateway_transit", "allowGatewayTransit"),
    ("use_remote_gateways", "useRemoteGateways"),
)


def desired_peering(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    spec = spec_of(step, PeeringSpec)
    return n.VirtualNetworkPeering(
        remote_virtual_network=n.SubResource(
            id=ctx.rid(Kind.VIRTUAL_NETWORK, spec.remote_virtual_network)
        ),
        **{attr: getattr(spec, attr) for attr, _ in PEERING_FLAGS},
    )


def peering_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    spec = spec_of(step, PeeringSpec)
    found: list[Change] = []
    have_remote = ref_id(existing.remote_virtual_network)
    want_remote = ctx.rid(Kind.VIRTUAL_NETWORK, spec.remote_virtual_network)
    if not same_id(have_remote, want_remote):
        found.append(("remoteVirtualNetwork.id", have_remote, want_remote))
    for attr, wire in PEERING_FLAGS:
        if bool(getattr(existing, attr)) != getattr(spec, attr):
            found.append((wire, bool(getattr(existing, attr)), getattr(spec, attr)))
    return found


# ------------------------------------------------------------------ Bastion


def desired_bastion(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    spec = spec_of(step, BastionSpec)
    return n.BastionHost(
        **tracked(step, ctx),
        sku=n.Sku(name="Standard"),
        enable_tunneling=True,  # native client support: az network bastion ssh
        ip_configurations=[
            n.BastionHostIPConfiguration(
                name="IpConf",
                subnet=n.SubResource(id=ctx.subnet_id(spec.virtual_network, naming.BASTION_SUBNET)),
                public_ip_address=n.SubResource(id=ctx.rid(Kind.PUBLIC_IP, spec.public_ip)),
            )
        ],
    )


def bastion_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    if existing.enable_tunneling:
        return []
    return [("enableTunneling", bool(existing.enable_tunneling), True)]


BODIES = {
    Kind.NETWORK_SECURITY_GROUP: Body(desired_network_security_group),
    Kind.ROUTE_TABLE: Body(desired_route_table, route_table_differences),
    Kind.VIRTUAL_NETWORK: Body(
        desired_virtual_network, virtual_network_differences, updated_virtual_network
    ),
    Kind.PUBLIC_IP: Body(desired_public_ip),
    Kind.NETWORK_INTERFACE: Body(desired_network_interface, network_interface_differences),
    Kind.PEERING: Body(desired_peering, peering_differences, tagged=False),
    Kind.BASTION: Body(desired_bastion, bastion_differences),
}
