"""The reachability of what is deployed now, by the same routing model ``plan`` predicts
with, so that plan can mark the cells a change flips.

Built from the SDK models ``observe`` read (no SDK import, no request): VNets and their
subnets' route tables, peerings, route tables, gateways, local network gateways,
connections and NICs, each reference by its resource's name (one group). What the
models do not carry is assumed as deploy leaves it: the two connections of a pair share
their key (deploy sets pair keys; a different key shows in plan as an update), and a
gateway's instances are the first addresses of its GatewaySubnet::

    before = current_reachability(observe(clients, group), port=22)
    before[("vm-spoke10", "vm-spoke20")]                     # False
"""

from __future__ import annotations

from typing import Any

from hubvpn import routing
from hubvpn.observe import Observed, state_of
from hubvpn.plan import gateway_addresses


def _name(ref: Any) -> str | None:
    """The resource name of a sub-resource reference (``.id``), or None."""
    rid = getattr(ref, "id", None)
    return str(rid).rstrip("/").rsplit("/", 1)[-1] if rid else None


def _segment(rid: str | None, kind: str) -> str | None:
    """The name after ``/<kind>/`` in an ARM id (``virtualNetworks``, ``subnets``)."""
    if not rid:
        return None
    parts = rid.split("/")
    low = [p.lower() for p in parts]
    return parts[low.index(kind.lower()) + 1] if kind.lower() in low[:-1] else None


def _of(observed: Observed, kind: str) -> list[tuple[str, Any]]:
    return [(k, m) for k, m in observed.resources.items() if k.startswith(f"{kind}:")]


def _bgp(model: Any) -> tuple[int | None, str | None]:
    bgp = getattr(model, "bgp_settings", None)
    if bgp is None:
        return None, None
    address = bgp.bgp_peering_address
    return bgp.asn, (address.split(",")[0] if address else None)


def current_network(observed: Observed) -> routing.Network:
    """What exists, as the routing model sees it."""
    vnets, gateway_subnets = [], {}
    for _, vnet in _of(observed, "virtual_network"):
        subnets = []
        for s in vnet.subnets or ():
            prefix = s.address_prefix or (s.address_prefixes or [""])[0]
            subnets.append(routing.Subnet(s.name, prefix, _name(s.route_table)))
            if s.name == "GatewaySubnet":
                gateway_subnets[vnet.name] = prefix
        space = tuple(vnet.address_space.address_prefixes) if vnet.address_space else ()
        vnets.append(routing.VirtualNetwork(vnet.name, space, tuple(subnets)))
    peerings = [
        routing.Peering(
            p.name,
            _segment(p.id, "virtualNetworks") or "",
            _name(p.remote_virtual_network) or "",
            allow_virtual_network_access=bool(p.allow_virtual_network_access),
            allow_forwarded_traffic=bool(p.allow_forwarded_traffic),
            allow_gateway_transit=bool(p.allow_gateway_transit),
            use_remote_gateways=bool(p.use_remote_gateways),
        )
        for _, p in _of(observed, "peering")
        if p.peering_state in (None, "Connected")
    ]
    tables = [
        routing.RouteTable(
            t.name,
            tuple(
                routing.Route(r.name, r.address_prefix, str(r.next_hop_type), r.next_hop_ip_address)
                for r in t.routes or ()
            ),
            bool(t.disable_bgp_route_propagation),
        )
        for _, t in _of(observed, "route_table")
    ]
    addresses = {ip.name: ip.ip_address for _, ip in _of(observed, "public_ip")}
    gateways = []
    for _, gw in _of(observed, "virtual_network_gateway"):
        config = (gw.ip_configurations or [None])[0]
        vnet = _segment(getattr(getattr(config, "subnet", None), "id", None), "virtualNetworks")
        asn, address = _bgp(gw)
        if vnet is None or asn is None or address is None:
            continue
        subnet = gateway_subnets.get(vnet)
        instances = gateway_addresses(subnet)[1] if subnet else ()
        public = addresses.get(_name(getattr(config, "public_ip_address", None)) or "")
        gateways.append(
            routing.VirtualNetworkGateway(
                gw.name,
                vnet,
                asn,
                address,
                instances,
                public,
                enable_bgp=bool(gw.enable_bgp),
                ready=state_of(gw) == "Succeeded",
            )
        )
    lngs = []
    for _, lng in _of(observed, "local_network_gateway"):
        asn, address = _bgp(lng)
        space = lng.local_network_address_space
        prefixes = tuple(space.address_prefixes or ()) if space else ()
        lngs.append(
            routing.LocalNetworkGateway(
                lng.name, lng.gateway_ip_address or "", prefixes, asn, address
            )
        )
    connections = [
        routing.Connection(
            c.name,
            _name(c.virtual_network_gateway1) or "",
            _name(c.local_network_gateway2) or "",
            bool(c.enable_bgp),
            "pair",  # assumed: deploy gives both directions of a pair one key
            ready=state_of(c) == "Succeeded",
        )
        for _, c in _of(observed, "connection")
    ]
    nics = []
    for _, nic in _of(observed, "network_interface"):
        config = (nic.ip_configurations or [None])[0]
        subnet_id = getattr(getattr(config, "subnet", None), "id", None)
        vnet, subnet = _segment(subnet_id, "virtualNetworks"), _segment(subnet_id, "subnets")
        address = getattr(config, "private_ip_address", None)
        if vnet and subnet and address:
            nics.append(routing.NetworkInterface(nic.name, vnet, subnet, address))
    return routing.Network(
        tuple(vnets),
        tuple(peerings),
        tuple(tables),
        tuple(gateways),
        tuple(lngs),
        tuple(connections),
        tuple(nics),
    )


def current_reachability(observed: Observed, port: int) -> dict[tuple[str, str], bool]:
    """(from VM, to VM) -> reachable now, for the VMs that exist with their NICs."""
    nic_to_vm: dict[str, str] = {}
    for _, vm in _of(observed, "virtual_machine"):
        profile = getattr(vm, "network_profile", None)
        for ref in getattr(profile, "network_interfaces", None) or ():
            nic = _name(ref)
            if nic:
                nic_to_vm[nic] = vm.name
    traces = routing.reachability(current_network(observed), port)
    return {
        (nic_to_vm[a], nic_to_vm[b]): trace.reachable
        for (a, b), trace in traces.items()
        if a in nic_to_vm and b in nic_to_vm
    }
