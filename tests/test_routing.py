"""Pure tests of the routing model: each pins one Azure routing rule on a small topology."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Sequence
from typing import Any

import pytest

from hubvpn import routing
from hubvpn.routing import (
    BgpPeerStatus,
    Connection,
    EffectiveRoute,
    GatewayRoute,
    Hop,
    LocalNetworkGateway,
    Network,
    NetworkInterface,
    Peering,
    Route,
    RouteTable,
    Subnet,
    Trace,
    VirtualNetwork,
    VirtualNetworkGateway,
    advertised_routes,
    bgp_peer_status,
    connection_status,
    effective_routes,
    learned_routes,
    reachability,
    trace,
)

# (hub name, ASN, second octet of its /16, second octets of its spokes)
HubSpec = tuple[str, int, int, tuple[int, ...]]

GATEWAY_IPS = ("10.0.200.4", "10.0.200.5")


def hub_and_spokes(
    hubs: Sequence[HubSpec], links: Sequence[tuple[str, str]] = (), *, key: str = "digest"
) -> Network:
    """Hubs 10.<n>.0.0/16 with a BGP VPN gateway, spokes 10.<m>.0.0/16 using it as remote
    gateway, one NIC 10.<x>.0.4 per VNet, and one connection per direction per link."""
    vnets: list[VirtualNetwork] = []
    peerings: list[Peering] = []
    gateways: dict[str, VirtualNetworkGateway] = {}
    nics: list[NetworkInterface] = []

    def add_vnet(short: str, octet: int, gateway_subnet: bool) -> None:
        subnets = [Subnet("default", f"10.{octet}.0.0/24")]
        if gateway_subnet:
            subnets.append(Subnet("GatewaySubnet", f"10.{octet}.200.0/24"))
        vnets.append(VirtualNetwork(f"vnet-{short}", (f"10.{octet}.0.0/16",), tuple(subnets)))
        nics.append(NetworkInterface(f"nic-{short}", f"vnet-{short}", "default", f"10.{octet}.0.4"))

    for index, (name, asn, octet, spokes) in enumerate(hubs):
        add_vnet(name, octet, gateway_subnet=True)
        gateways[name] = VirtualNetworkGateway(
            name=f"gw-{name}",
            vnet=f"vnet-{name}",
            asn=asn,
            bgp_peering_address=f"10.{octet}.200.254",
            instance_addresses=(f"10.{octet}.200.4", f"10.{octet}.200.5"),
            public_ip=f"20.0.0.{index + 1}",
        )
        for spoke_octet in spokes:
            spoke = f"spoke{spoke_octet}"
            add_vnet(spoke, spoke_octet, gateway_subnet=False)
            peerings.append(
                Peering(
                    f"{name}-to-{spoke}",
                    f"vnet-{name}",
                    f"vnet-{spoke}",
                    allow_forwarded_traffic=True,
                    allow_gateway_transit=True,
                )
            )
            peerings.append(
                Peering(
                    f"{spoke}-to-{name}",
                    f"vnet-{spoke}",
                    f"vnet-{name}",
                    allow_forwarded_traffic=True,
                    use_remote_gateways=True,
                )
            )

    lngs: list[LocalNetworkGateway] = []
    connections: list[Connection] = []
    for a, b in links:
        for local, remote in ((a, b), (b, a)):
            far = gateways[remote]
            assert far.public_ip is not None
            lngs.append(
                LocalNetworkGateway(
                    f"lng-{local}-{remote}",
                    far.public_ip,
                    bgp_asn=far.asn,
                    bgp_peering_address=far.bgp_peering_address,
                )
            )
            connections.append(
                Connection(
                    f"conn-{local}-{remote}", f"gw-{local}", f"lng-{local}-{remote}", True, key
                )
            )
    return Network(
        vnets=tuple(vnets),
        peerings=tuple(peerings),
        gateways=tuple(gateways.values()),
        local_network_gateways=tuple(lngs),
        connections=tuple(connections),
        nics=tuple(nics),
    )


def changed(net: Network, collection: str, name: str, **changes: Any) -> Network:
    """``net`` with the resource ``name`` of ``collection`` (e.g. "connections") changed."""
    items = getattr(net, collection)
    assert any(item.name == name for item in items), name
    updated = tuple(
        dataclasses.replace(item, **changes) if item.name == name else item for item in items
    )
    return dataclasses.replace(net, **{collection: updated})


def without(net: Network, collection: str, name: str) -> Network:
    items = getattr(net, collection)
    assert any(item.name == name for item in items), name
    return dataclasses.replace(net, **{collection: tuple(i for i in items if i.name != name)})


def with_user_routes(
    net: Network, short: str, *routes: Route, disable_bgp_route_propagation: bool = False
) -> Network:
    """Attach a route table with ``routes`` to the default subnet of vnet-<short>."""
    table = RouteTable(f"rt-{short}", tuple(routes), disable_bgp_route_propagation)
    vnet = next(v for v in net.vnets if v.name == f"vnet-{short}")
    subnets = tuple(
        dataclasses.replace(s, route_table=table.name) if s.name == "default" else s
        for s in vnet.subnets
    )
    net = changed(net, "vnets", vnet.name, subnets=subnets)
    return dataclasses.replace(net, route_tables=(*net.route_tables, table))


def to_gateway(prefix: str) -> Route:
    return Route(f"to-{prefix}", prefix, "VirtualNetworkGateway")


REFERENCE = hub_and_spokes(
    [("hub00", 65150, 0, (10, 20)), ("hub100", 65151, 100, (110, 120))], [("hub00", "hub100")]
)
CHAIN = hub_and_spokes(
    [("a", 65001, 1, ()), ("b", 65002, 2, ()), ("c", 65003, 3, ())], [("a", "b"), ("b", "c")]
)
MESH = hub_and_spokes(
    [("a", 65001, 1, ()), ("b", 65002, 2, ()), ("c", 65003, 3, ())],
    [("a", "b"), ("b", "c"), ("a", "c")],
)


def ebgp(net: Network, gateway: str) -> dict[str, str]:
    """network -> AS path of the EBgp routes a gateway learned."""
    return {r.network: r.as_path for r in learned_routes(net, gateway) if r.origin == "EBgp"}


def vng(prefix: str, ips: tuple[str, ...] = GATEWAY_IPS, state: str = "Active") -> EffectiveRoute:
    return EffectiveRoute("VirtualNetworkGateway", state, (prefix,), "VirtualNetworkGateway", ips)


def default(prefix: str, hop: str, state: str = "Active") -> EffectiveRoute:
    return EffectiveRoute("Default", state, (prefix,), hop, ())


SYSTEM_TAIL = (
    default("0.0.0.0/0", "Internet"),
    default("10.0.0.0/8", "None"),
    default("172.16.0.0/12", "None"),
    default("192.168.0.0/16", "None"),
    default("100.64.0.0/10", "None"),
)


# --- connection status -------------------------------------------------------


def test_connection_status_connected_when_both_sides_match() -> None:
    assert connection_status(REFERENCE, "conn-hub00-hub100") == "Connected"
    assert connection_status(REFERENCE, "conn-hub100-hub00") == "Connected"


def test_connection_status_not_connected_when_counterpart_missing() -> None:
    net = without(REFERENCE, "connections", "conn-hub100-hub00")
    assert connection_status(net, "conn-hub00-hub100") == "NotConnected"


def test_connection_status_not_connected_when_lng_points_elsewhere() -> None:
    net = changed(REFERENCE, "local_network_gateways", "lng-hub00-hub100", gateway_ip="203.0.113.9")
    assert connection_status(net, "conn-hub00-hub100") == "NotConnected"
    assert connection_status(net, "conn-hub100-hub00") == "NotConnected"


def test_connection_status_connecting_when_counterpart_not_ready() -> None:
    net = changed(REFERENCE, "connections", "conn-hub100-hub00", ready=False)
    assert connection_status(net, "conn-hub00-hub100") == "Connecting"
    assert connection_status(net, "conn-hub100-hub00") == "Unknown"


def test_connection_status_connecting_when_remote_gateway_not_ready() -> None:
    net = changed(REFERENCE, "gateways", "gw-hub100", ready=False)
    assert connection_status(net, "conn-hub00-hub100") == "Connecting"


def test_connection_status_not_connected_when_shared_key_differs() -> None:
    net = changed(REFERENCE, "connections", "conn-hub100-hub00", shared_key_digest="other")
    assert connection_status(net, "conn-hub00-hub100") == "NotConnected"
    assert connection_status(net, "conn-hub100-hub00") == "NotConnected"


def test_connection_status_unknown_when_connection_not_ready() -> None:
    net = changed(REFERENCE, "connections", "conn-hub00-hub100", ready=False)
    assert connection_status(net, "conn-hub00-hub100") == "Unknown"


def test_connection_status_raises_when_name_unknown() -> None:
    with pytest.raises(KeyError, match="conn-nope"):
        connection_status(REFERENCE, "conn-nope")


# --- BGP peers -----------------------------------------------------------------


def test_bgp_peer_status_lists_connected_peer_with_accepted_routes() -> None:
    # hub100 advertises its 3 VNets, plus hub00's 3 back with "65151 65150": dropped.
    assert bgp_peer_status(REFERENCE, "gw-hub00") == (
        BgpPeerStatus("10.0.200.254", "10.100.200.254", 65151, "Connected", 3),
    )


def test_bgp_peer_status_connecting_when_lng_asn_mismatches() -> None:
    net = changed(REFERENCE, "local_network_gateways", "lng-hub00-hub100", bgp_asn=65999)
    assert connection_status(net, "conn-hub00-hub100") == "Connected"  # IPsec is fine
    assert bgp_peer_status(net, "gw-hub00") == (
        BgpPeerStatus("10.0.200.254", "10.100.200.254", 65999, "Connecting", 0),
    )
    assert [p.state for p in bgp_peer_status(net, "gw-hub100")] == ["Connecting"]
    assert ebgp(net, "gw-hub00") == {}


def test_bgp_peer_status_connecting_when_tunnel_down() -> None:
    net = changed(REFERENCE, "connections", "conn-hub100-hub00", shared_key_digest="other")
    assert [(p.state, p.routes_received) for p in bgp_peer_status(net, "gw-hub00")] == [
        ("Connecting", 0)
    ]


def test_bgp_peer_status_no_peer_when_lng_has_no_bgp_settings() -> None:
    net = changed(
        REFERENCE,
        "local_network_gateways",
        "lng-hub00-hub100",
        bgp_asn=None,
        bgp_peering_address=None,
    )
    assert bgp_peer_status(net, "gw-hub00") == ()


def test_bgp_peer_status_empty_when_gateway_bgp_disabled() -> None:
    net = changed(REFERENCE, "gateways", "gw-hub00", enable_bgp=False)
    assert bgp_peer_status(net, "gw-hub00") == ()
    assert [p.state for p in bgp_peer_status(net, "gw-hub100")] == ["Connecting"]


# --- learned and advertised routes ---------------------------------------------


def test_learned_routes_two_hubs_show_own_prefixes_and_ebgp_paths() -> None:
    me = "10.0.200.254"
    peer = "10.100.200.254"
    assert learned_routes(REFERENCE, "gw-hub00") == (
        GatewayRoute(me, "10.0.0.0/16", None, me, "Network", "", 32768),
        GatewayRoute(me, "10.10.0.0/16", None, me, "Network", "", 32768),
        GatewayRoute(me, "10.20.0.0/16", None, me, "Network", "", 32768),
        GatewayRoute(me, "10.100.200.254/32", None, me, "Network", "", 32768),
        GatewayRoute(me, "10.100.0.0/16", peer, peer, "EBgp", "65151", 32768),
        GatewayRoute(me, "10.110.0.0/16", peer, peer, "EBgp", "65151", 32768),
        GatewayRoute(me, "10.120.0.0/16", peer, peer, "EBgp", "65151", 32768),
    )


def test_learned_routes_include_local_network_gateway_prefixes() -> None:
    net = changed(
        REFERENCE,
        "local_network_gateways",
        "lng-hub00-hub100",
        address_prefixes=("192.168.5.0/24",),
    )
    networks = [r.network for r in learned_routes(net, "gw-hub00") if r.origin == "Network"]
    assert "192.168.5.0/24" in networks


def test_learned_routes_chain_transit_prepends_each_asn() -> None:
    assert ebgp(CHAIN, "gw-a") == {"10.2.0.0/16": "65002", "10.3.0.0/16": "65002 65003"}
    assert ebgp(CHAIN, "gw-c") == {"10.1.0.0/16": "65002 65001", "10.2.0.0/16": "65002"}
    assert ebgp(CHAIN, "gw-b") == {"10.1.0.0/16": "65001", "10.3.0.0/16": "65003"}


def test_learned_routes_full_mesh_prefers_direct_path() -> None:
    assert ebgp(MESH, "gw-a") == {"10.2.0.0/16": "65002", "10.3.0.0/16": "65003"}


def test_learned_routes_fall_back_to_transit_when_direct_link_down() -> None:
    net = changed(MESH, "connections", "conn-c-a", ready=False)
    assert ebgp(net, "gw-a") == {"10.2.0.0/16": "65002", "10.3.0.0/16": "65002 65003"}


def test_learned_routes_never_contain_own_asn() -> None:
    for gateway in MESH.gateways:
        for route in learned_routes(MESH, gateway.name):
            assert str(gateway.asn) not in route.as_path.split()


def test_learned_routes_drop_paths_with_own_asn_when_asn_reused() -> None:
    # a and c share ASN 65001: c's prefix reaches a as "65002 65001" and is rejected.
    net = changed(CHAIN, "gateways", "gw-c", asn=65001)
    net = changed(net, "local_network_gateways", "lng-b-c", bgp_asn=65001)
    assert ebgp(net, "gw-a") == {"10.2.0.0/16": "65002"}


def test_learned_routes_converge_on_a_ring() -> None:
    ring = hub_and_spokes(
        [("a", 65001, 1, ()), ("b", 65002, 2, ()), ("c", 65003, 3, ()), ("d", 65004, 4, ())],
        [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")],
    )
    # c is two AS hops away both ways; the tie goes to the lower neighbor address (b).
    assert ebgp(ring, "gw-a") == {
        "10.2.0.0/16": "65002",
        "10.3.0.0/16": "65002 65003",
        "10.4.0.0/16": "65004",
    }


def test_advertised_routes_prepend_own_asn_and_include_transit() -> None:
    me = "10.2.200.254"
    assert advertised_routes(CHAIN, "gw-b", "10.3.200.254") == (
        GatewayRoute(me, "10.2.0.0/16", me, None, "Igp", "65002", 0),
        GatewayRoute(me, "10.1.0.0/16", me, None, "Igp", "65002 65001", 0),
        GatewayRoute(me, "10.3.0.0/16", me, None, "Igp", "65002 65003", 0),
    )


def test_advertised_routes_empty_for_unknown_peer() -> None:
    assert advertised_routes(CHAIN, "gw-b", "192.0.2.1") == ()


# --- effective routes --------------------------------------------------------------


def test_effective_routes_reference_spoke10_lists_peering_and_bgp_routes() -> None:
    assert effective_routes(REFERENCE, "nic-spoke10") == (
        default("10.10.0.0/16", "VnetLocal"),
        default("10.0.0.0/16", "VNetPeering"),
        vng("10.100.0.0/16"),
        vng("10.100.200.254/32"),
        vng("10.110.0.0/16"),
        vng("10.120.0.0/16"),
        *SYSTEM_TAIL,
    )


def test_effective_routes_hub_lists_every_spoke_as_peering() -> None:
    routes = effective_routes(REFERENCE, "nic-hub00")
    peered = [r.address_prefixes[0] for r in routes if r.next_hop_type == "VNetPeering"]
    assert peered == ["10.10.0.0/16", "10.20.0.0/16"]


def test_effective_routes_omit_gateway_routes_when_bgp_propagation_disabled() -> None:
    net = with_user_routes(REFERENCE, "spoke10", disable_bgp_route_propagation=True)
    assert effective_routes(net, "nic-spoke10") == (
        default("10.10.0.0/16", "VnetLocal"),
        default("10.0.0.0/16", "VNetPeering"),
        *SYSTEM_TAIL,
    )
    assert not trace(net, "nic-spoke10", "10.110.0.4", 22).reachable


def test_effective_routes_user_route_invalidates_bgp_route_on_equal_prefix() -> None:
    net = with_user_routes(REFERENCE, "spoke10", Route("drop", "10.110.0.0/16", "None"))
    routes = effective_routes(net, "nic-spoke10")
    assert vng("10.110.0.0/16", state="Invalid") in routes
    assert routes[-1] == EffectiveRoute("User", "Active", ("10.110.0.0/16",), "None", ())


def test_effective_routes_user_default_route_invalidates_system_internet_route() -> None:
    net = with_user_routes(REFERENCE, "spoke10", to_gateway("0.0.0.0/0"))
    routes = effective_routes(net, "nic-spoke10")
    assert default("0.0.0.0/0", "Internet", state="Invalid") in routes
    assert default("10.0.0.0/8", "None") in routes  # still Active


def test_effective_routes_no_peering_route_when_one_direction_missing() -> None:
    net = without(REFERENCE, "peerings", "hub00-to-spoke10")
    routes = effective_routes(net, "nic-spoke10")
    assert [r.next_hop_type for r in routes[:2]] == ["VnetLocal", "Internet"]
    assert not trace(net, "nic-spoke10", "10.0.0.4", 22).reachable


def test_effective_routes_no_gateway_routes_without_gateway_transit() -> None:
    net = changed(REFERENCE, "peerings", "hub00-to-spoke10", allow_gateway_transit=False)
    routes = effective_routes(net, "nic-spoke10")
    assert all(r.source != "VirtualNetworkGateway" for r in routes)
    assert "10.10.0.0/16" not in {r.network for r in learned_routes(net, "gw-hub00")}


def test_effective_routes_no_gateway_routes_while_gateway_provisioning() -> None:
    net = changed(REFERENCE, "gateways", "gw-hub00", ready=False)
    assert all(r.source == "Default" for r in effective_routes(net, "nic-spoke10"))


# --- traces ------------------------------------------------------------------------


def test_trace_longest_prefix_user_route_drops_part_of_bgp_prefix() -> None:
    net = with_user_routes(REFERENCE, "spoke10", Route("drop", "10.110.0.0/24", "None"))
    dropped = trace(net, "nic-spoke10", "10.110.0.4", 22)
    assert dropped == Trace(
        False,
        (Hop("Source", "nic-spoke10", "10.10.0.4"),),
        "vm nic-spoke10: route 10.110.0.0/24 next hop None drops 10.110.0.4",
    )
    assert trace(net, "nic-spoke10", "10.120.0.4", 22).reachable


def test_trace_peering_route_beats_more_specific_bgp_route() -> None:
    # udr-overview: VNet and peering system routes win over BGP even when BGP is more specific.
    net = changed(
        REFERENCE, "local_network_gateways", "lng-hub00-hub100", address_prefixes=("10.0.5.0/24",)
    )
    net = changed(net, "nics", "nic-hub00", private_ip="10.0.5.4")
    assert vng("10.0.5.0/24") in effective_routes(net, "nic-spoke10")
    assert trace(net, "nic-spoke10", "10.0.5.4", 22) == Trace(
        True,
        (
            Hop("Source", "nic-spoke10", "10.10.0.4"),
            Hop("VNetPeering", "spoke10-to-hub00", "10.0.0.0/16"),
            Hop("Destination", "nic-hub00", "10.0.5.4"),
        ),
        "",
    )


def test_trace_spoke_to_other_spoke_of_same_hub_dropped_by_none_route() -> None:
    assert trace(REFERENCE, "nic-spoke10", "10.20.0.4", 22) == Trace(
        False,
        (Hop("Source", "nic-spoke10", "10.10.0.4"),),
        "vm nic-spoke10: route 10.0.0.0/8 next hop None drops 10.20.0.4",
    )


def test_trace_spoke_to_remote_spoke_crosses_both_gateways() -> None:
    assert trace(REFERENCE, "nic-spoke10", "10.110.0.4", 22) == Trace(
        True,
        (
            Hop("Source", "nic-spoke10", "10.10.0.4"),
            Hop("VirtualNetworkGateway", "gw-hub00", "10.0.200.4"),
            Hop("VpnConnection", "conn-hub00-hub100", "20.0.0.2"),
            Hop("VirtualNetworkGateway", "gw-hub100", "10.100.200.4"),
            Hop("Destination", "nic-spoke110", "10.110.0.4"),
        ),
        "",
    )


def test_trace_chain_transits_middle_gateway() -> None:
    result = trace(CHAIN, "nic-a", "10.3.0.4", 22)
    assert result.reachable
    assert [h.resource for h in result.hops if h.type == "VpnConnection"] == [
        "conn-a-b",
        "conn-b-c",
    ]


def test_trace_spoke_to_spoke_via_hub_gateway_with_udrs() -> None:
    net = with_user_routes(REFERENCE, "spoke10", to_gateway("10.20.0.0/16"))
    net = with_user_routes(net, "spoke20", to_gateway("10.10.0.0/16"))
    assert trace(net, "nic-spoke10", "10.20.0.4", 22) == Trace(
        True,
        (
            Hop("Source", "nic-spoke10", "10.10.0.4"),
            Hop("VirtualNetworkGateway", "gw-hub00", "10.0.200.4"),
            Hop("Destination", "nic-spoke20", "10.20.0.4"),
        ),
        "",
    )
    assert trace(net, "nic-spoke20", "10.10.0.4", 22).reachable


def test_trace_unreachable_without_return_route() -> None:
    net = with_user_routes(REFERENCE, "spoke10", to_gateway("10.20.0.0/16"))
    result = trace(net, "nic-spoke10", "10.20.0.4", 22)
    assert not result.reachable
    assert result.hops[-1] == Hop("Destination", "nic-spoke20", "10.20.0.4")
    assert result.reason == (
        "no return route: vm nic-spoke20: route 10.0.0.0/8 next hop None drops 10.10.0.4"
    )


def test_trace_unreachable_when_port_not_listening() -> None:
    result = trace(REFERENCE, "nic-spoke10", "10.110.0.4", 80)
    assert not result.reachable
    assert result.reason == "vm nic-spoke110: nothing listens on port 80"


def test_trace_unreachable_when_spoke_disallows_forwarded_traffic() -> None:
    net = changed(REFERENCE, "peerings", "spoke110-to-hub100", allow_forwarded_traffic=False)
    result = trace(net, "nic-spoke10", "10.110.0.4", 22)
    assert not result.reachable
    assert "does not allow forwarded traffic" in result.reason


def test_trace_unreachable_when_connection_down() -> None:
    net = changed(REFERENCE, "connections", "conn-hub100-hub00", ready=False)
    result = trace(net, "nic-spoke10", "10.110.0.4", 22)
    assert result.reason == "vm nic-spoke10: route 10.0.0.0/8 next hop None drops 10.110.0.4"


def test_trace_internet_destination_dropped() -> None:
    result = trace(REFERENCE, "nic-spoke10", "8.8.8.8", 443)
    assert result.reason == "vm nic-spoke10: route 0.0.0.0/0 next hop Internet drops 8.8.8.8"


# --- reachability --------------------------------------------------------------------


def test_reachability_reference_spoke10_matches_design() -> None:
    matrix = reachability(REFERENCE, 22)
    got = {dst: matrix["nic-spoke10", dst].reachable for src, dst in matrix if src == "nic-spoke10"}
    assert got == {
        "nic-hub00": True,
        "nic-spoke20": False,
        "nic-hub100": True,
        "nic-spoke110": True,
        "nic-spoke120": True,
    }


def test_reachability_reference_all_pairs_only_sibling_spokes_unreachable() -> None:
    siblings = {
        ("nic-spoke10", "nic-spoke20"),
        ("nic-spoke20", "nic-spoke10"),
        ("nic-spoke110", "nic-spoke120"),
        ("nic-spoke120", "nic-spoke110"),
    }
    matrix = reachability(REFERENCE, 22)
    assert len(matrix) == 6 * 5
    assert {pair for pair, result in matrix.items() if not result.reachable} == siblings
    assert all(result.reason == "" for result in matrix.values() if result.reachable)


def test_reachability_spoke_to_spoke_udrs_make_all_pairs_reachable() -> None:
    net = REFERENCE
    for a, b in (
        ("spoke10", "10.20"),
        ("spoke20", "10.10"),
        ("spoke110", "10.120"),
        ("spoke120", "10.110"),
    ):
        net = with_user_routes(net, a, to_gateway(f"{b}.0.0/16"))
    assert all(result.reachable for result in reachability(net, 22).values())


@dataclasses.dataclass(frozen=True)
class _CountedNetwork(Network):
    """A Network that counts how often it is hashed (the cost of finding its model)."""

    hashes: list[int] = dataclasses.field(default_factory=list, compare=False)

    def __hash__(self) -> int:
        self.hashes.append(1)
        return super().__hash__()


def test_trace_same_network_hashes_it_once_for_many_questions() -> None:
    net = _CountedNetwork(
        **{f.name: getattr(REFERENCE, f.name) for f in dataclasses.fields(Network)}
    )
    for _ in range(50):
        assert trace(net, "nic-spoke10", "10.110.0.4", 22).reachable
        effective_routes(net, "nic-spoke10")
    assert len(net.hashes) == 1


def test_reachability_walks_each_source_destination_pair_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walks: list[tuple[str, str]] = []
    new_walk = routing._World._new_walk

    def counted(self: routing._World, src: NetworkInterface, dest: Any) -> Any:
        walks.append((src.name, str(dest)))
        return new_walk(self, src, dest)

    monkeypatch.setattr(routing._World, "_new_walk", counted)
    net = dataclasses.replace(MESH)  # a new object: no walk of it is known yet
    traces = reachability(net, 22)
    assert all(t.reachable for t in traces.values())
    # each probe's reply walks the way of the reverse probe: one walk per ordered pair
    assert sorted(walks) == sorted(set(walks))
    assert len(walks) == len(traces)


def test_learned_routes_mesh_computes_each_advertisement_once_per_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    advertised: list[str] = []
    advertisement = routing._World.advertisement

    def counted(self: routing._World, gw: VirtualNetworkGateway, ribs: Any = None) -> Any:
        advertised.append(gw.name)
        return advertisement(self, gw, ribs)

    monkeypatch.setattr(routing._World, "advertisement", counted)
    hubs = [(h, 65001 + i, i + 1, ()) for i, h in enumerate("abcde")]
    links = [(a, b) for i, a in enumerate("abcde") for b in "abcde"[i + 1 :]]
    net = hub_and_spokes(hubs, links, key="counted")  # unlike any network asked before
    for hub in "abcde":
        assert len(ebgp(net, f"gw-{hub}")) == 4
    rounds = routing._world(net).rounds
    # every gateway sends one advertisement to its 4 peers: 5 per round, not 20
    assert rounds >= 2
    assert len(advertised) == 5 * rounds


def test_learned_routes_mesh_hashes_each_prefix_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hashes: list[str] = []
    network_hash = ipaddress.IPv4Network.__hash__

    def counted(self: ipaddress.IPv4Network) -> int:
        hashes.append(str(self))
        return network_hash(self)

    monkeypatch.setattr(ipaddress.IPv4Network, "__hash__", counted)
    hubs = [(h, 65101 + i, 231 + i, ()) for i, h in enumerate("abcde")]  # prefixes new here
    links = [(a, b) for i, a in enumerate("abcde") for b in "abcde"[i + 1 :]]
    net = hub_and_spokes(hubs, links, key="hashed")
    for hub in "abcde":
        assert len(ebgp(net, f"gw-{hub}")) == 4
        effective_routes(net, f"nic-{hub}")
    # a prefix's hash is computed when it is first parsed, not at every table lookup
    assert hashes
    assert sorted(hashes) == sorted(set(hashes))
