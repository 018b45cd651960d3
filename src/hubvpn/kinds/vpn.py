"""VPN bodies: the virtual network gateway, the local network gateway that stands
for a remote one, and the connection between them; the emulator's side is
``emulator/resources/vpn.py``.

A local network gateway and a connection are written from what Azure assigned
the remote gateway (its public IP and BGP peering address) and from the pair's
pre-shared key (``resources.SharedKeys``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubvpn import naming
from hubvpn.kinds import Kind
from hubvpn.kinds.body import Body, Change, add_lab_tag, ref_id, same_id, spec_of, tracked
from hubvpn.observe import text
from hubvpn.plan import ConnectionSpec, GatewaySpec, LocalGatewaySpec, Step, step_key

if TYPE_CHECKING:
    from hubvpn.resources import Context


# --------------------------------------------------------- network gateway


def desired_gateway(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    spec = spec_of(step, GatewaySpec)
    return n.VirtualNetworkGateway(
        **tracked(step, ctx),
        gateway_type="Vpn",
        vpn_type="RouteBased",
        sku=n.VirtualNetworkGatewaySku(name=spec.sku, tier=spec.sku),
        enable_bgp=True,
        active_active=False,
        vpn_gateway_generation=spec.generation,
        bgp_settings=n.BgpSettings(asn=spec.asn),
        ip_configurations=[
            n.VirtualNetworkGatewayIPConfiguration(
                name="default",
                private_ip_allocation_method="Dynamic",
                subnet=n.SubResource(id=ctx.subnet_id(spec.virtual_network, naming.GATEWAY_SUBNET)),
                public_ip_address=n.SubResource(id=ctx.rid(Kind.PUBLIC_IP, spec.public_ip)),
            )
        ],
    )


def gateway_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    spec = spec_of(step, GatewaySpec)
    found: list[Change] = []
    if text(existing.sku.name) != spec.sku:
        found.append(("sku.name", text(existing.sku.name), spec.sku))
    if not existing.enable_bgp:
        found.append(("enableBgp", bool(existing.enable_bgp), True))
    asn = None if existing.bgp_settings is None else existing.bgp_settings.asn
    if asn != spec.asn:
        found.append(("bgpSettings.asn", asn, spec.asn))
    # vpnGatewayGeneration is the platform's: never drift (issue 9).
    return found


def updated_gateway(step: Step, existing: Any, ctx: Context) -> Any:
    """What exists with the owned fields set: a gateway is never re-sent from scratch,
    its Azure-computed BGP fields and IP configurations stay as Azure returned them."""
    from azure.mgmt.network import models as n

    spec = spec_of(step, GatewaySpec)
    model = add_lab_tag(existing, ctx)  # a copy of what was observed
    model.sku = n.VirtualNetworkGatewaySku(name=spec.sku, tier=spec.sku)
    model.enable_bgp = True
    model.bgp_settings.asn = spec.asn
    return model


# --------------------------------------------------- local network gateway


def remote_gateway_facts(spec: LocalGatewaySpec, ctx: Context) -> tuple[str, int, str]:
    """(public IP, ASN, BGP peering address) of the remote gateway, as Azure assigned them."""
    gateway = ctx.model(Kind.VIRTUAL_NETWORK_GATEWAY, spec.remote_gateway)
    pip = ctx.model(Kind.PUBLIC_IP, spec.remote_public_ip)
    bgp = None if gateway is None else gateway.bgp_settings
    if bgp is None or not bgp.bgp_peering_address or pip is None or not pip.ip_address:
        raise LookupError(f"remote gateway {spec.remote_gateway} or its public IP is missing")
    return str(pip.ip_address), int(bgp.asn), str(bgp.bgp_peering_address)


def desired_local_gateway(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    address, asn, bgp_address = remote_gateway_facts(spec_of(step, LocalGatewaySpec), ctx)
    return n.LocalNetworkGateway(
        **tracked(step, ctx),
        gateway_ip_address=address,
        local_network_address_space=n.AddressSpace(address_prefixes=[]),
        bgp_settings=n.BgpSettings(asn=asn, bgp_peering_address=bgp_address),
    )


def local_gateway_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    """LookupError while the remote gateway is still to come."""
    address, asn, bgp_address = remote_gateway_facts(spec_of(step, LocalGatewaySpec), ctx)
    found: list[Change] = []
    bgp = existing.bgp_settings
    if existing.gateway_ip_address != address:
        found.append(("gatewayIpAddress", existing.gateway_ip_address, address))
    if (None if bgp is None else bgp.asn) != asn:
        found.append(("bgpSettings.asn", None if bgp is None else bgp.asn, asn))
    if (None if bgp is None else bgp.bgp_peering_address) != bgp_address:
        old = None if bgp is None else bgp.bgp_peering_address
        found.append(("bgpSettings.bgpPeeringAddress", old, bgp_address))
    return found


# --------------------------------------------------------------- connection


def pair_key(spec: ConnectionSpec, ctx: Context) -> str:
    local, remote = spec.gateway, spec.remote_gateway
    # Sorted: whichever direction asks first, the pair's key is read from the same side.
    existing = [
        name
        for name in sorted((naming.connection(local, remote), naming.connection(remote, local)))
        if ctx.observed.get(step_key(Kind.CONNECTION, name)) is not None
    ]
    return ctx.shared_keys.for_pair(spec.pair, existing)


def desired_connection(step: Step, ctx: Context) -> Any:
    """Every create and update carries the pair's key: Azure may generate a new key
    for a connection PUT without one."""
    from azure.mgmt.network import models as n

    spec = spec_of(step, ConnectionSpec)
    return n.VirtualNetworkGatewayConnection(
        **tracked(step, ctx),
        connection_type="IPsec",
        connection_protocol="IKEv2",
        enable_bgp=True,
        shared_key=pair_key(spec, ctx),
        virtual_network_gateway1=n.VirtualNetworkGateway(
            id=ctx.rid(Kind.VIRTUAL_NETWORK_GATEWAY, spec.gateway)
        ),
        local_network_gateway2=n.LocalNetworkGateway(
            id=ctx.rid(Kind.LOCAL_NETWORK_GATEWAY, spec.local_network_gateway)
        ),
    )


def connection_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    """The key is not compared here: ``converge.decide`` asks the pair's key apart."""
    spec = spec_of(step, ConnectionSpec)
    found: list[Change] = []
    if not existing.enable_bgp:
        found.append(("enableBgp", bool(existing.enable_bgp), True))
    have_lng = ref_id(existing.local_network_gateway2)
    want_lng = ctx.rid(Kind.LOCAL_NETWORK_GATEWAY, spec.local_network_gateway)
    if not same_id(have_lng, want_lng):
        found.append(("localNetworkGateway2.id", have_lng, want_lng))
    return found


BODIES = {
    Kind.VIRTUAL_NETWORK_GATEWAY: Body(desired_gateway, gateway_differences, updated_gateway),
    Kind.LOCAL_NETWORK_GATEWAY: Body(desired_local_gateway, local_gateway_differences),
    Kind.CONNECTION: Body(desired_connection, connection_differences),
}
