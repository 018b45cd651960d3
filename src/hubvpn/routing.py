"""A pure model of how Azure routes a hub-and-spoke network joined by VPN gateways.

It knows nothing of hubvpn's naming: every name is an opaque identity chosen by the
caller (an ARM id in the emulator, a resource name in ``plan``). The rules are those
of azure-facts.md, sections "VPN gateways" and "Routing" (cited as [VPN] and [Routing]
below), checked against Microsoft's docs where noted.

Usage::

    net = Network(vnets=..., peerings=..., gateways=..., local_network_gateways=...,
                  connections=..., nics=...)
    connection_status(net, "conn-a-b")            # "Connected"
    bgp_peer_status(net, "gw-a")                  # one BgpPeerStatus per BGP connection
    learned_routes(net, "gw-a")                   # own prefixes + best BGP paths
    effective_routes(net, "nic-spoke10")          # what the NIC's subnet routes with
    trace(net, "nic-spoke10", "10.20.0.4", 22)    # Trace(reachable=False, reason=...)
    reachability(net, 22)                         # every ordered pair of NICs

Unknown names raise ``KeyError``. Results are computed once per ``Network`` value
(it is immutable and hashable) and shared by every call on it.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache

_IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

WEIGHT_LOCAL = 32768
"""Weight of every learned route, own and EBgp (Get-AzVirtualNetworkGatewayLearnedRoute docs)."""
WEIGHT_ADVERTISED = 0
"""Weight shown on advertised routes (observed in az CLI output; not documented)."""
MAX_GATEWAY_HOPS = 16
RESERVED_NONE_PREFIXES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
"""[Routing] system routes with next hop None (RFC 1918 and RFC 6598 ranges)."""


# ---------------------------------------------------------------------------
# Input: the resources, as the caller knows them
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A user route (UDR)."""

    name: str
    address_prefix: str
    # "VirtualNetworkGateway" | "VnetLocal" | "Internet" | "VirtualAppliance" | "None"
    next_hop_type: str
    next_hop_ip: str | None = None


@dataclass(frozen=True)
class RouteTable:
    name: str
    routes: tuple[Route, ...] = ()
    disable_bgp_route_propagation: bool = False


@dataclass(frozen=True)
class Subnet:
    name: str
    prefix: str
    route_table: str | None = None  # RouteTable.name


@dataclass(frozen=True)
class VirtualNetwork:
    name: str
    address_space: tuple[str, ...]
    subnets: tuple[Subnet, ...] = ()


@dataclass(frozen=True)
class Peering:
    """One direction of a peering; it works only when the other direction exists too."""

    name: str
    vnet: str
    remote_vnet: str
    allow_virtual_network_access: bool = True
    allow_forwarded_traffic: bool = False
    allow_gateway_transit: bool = False
    use_remote_gateways: bool = False


@dataclass(frozen=True)
class VirtualNetworkGateway:
    name: str
    vnet: str
    asn: int
    bgp_peering_address: str
    instance_addresses: tuple[str, ...]  # private IPs in GatewaySubnet (next hop IPs)
    public_ip: str | None
    enable_bgp: bool = True
    ready: bool = True  # provisioningState Succeeded


@dataclass(frozen=True)
class LocalNetworkGateway:
    name: str
    gateway_ip: str  # the remote device's public IP
    address_prefixes: tuple[str, ...] = ()
    bgp_asn: int | None = None
    bgp_peering_address: str | None = None


@dataclass(frozen=True)
class Connection:
    """An IPsec site-to-site connection: gateway -> local network gateway."""

    name: str
    gateway: str
    local_network_gateway: str
    enable_bgp: bool
    shared_key_digest: str  # a hash of the pre-shared key, never the key
    ready: bool = True  # provisioningState Succeeded and its setup time elapsed


@dataclass(frozen=True)
class NetworkInterface:
    name: str
    vnet: str
    subnet: str
    private_ip: str
    listening_ports: frozenset[int] = frozenset({22})


@dataclass(frozen=True)
class Network:
    vnets: tuple[VirtualNetwork, ...] = ()
    peerings: tuple[Peering, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    gateways: tuple[VirtualNetworkGateway, ...] = ()
    local_network_gateways: tuple[LocalNetworkGateway, ...] = ()
    connections: tuple[Connection, ...] = ()
    nics: tuple[NetworkInterface, ...] = ()


# ---------------------------------------------------------------------------
# Output: what Azure's APIs answer
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BgpPeerStatus:
    local_address: str
    neighbor: str
    asn: int
    state: str  # "Connected" | "Connecting" | "Idle" | "Stopped" | "Unknown"
    routes_received: int


@dataclass(frozen=True)
class GatewayRoute:
    local_address: str
    network: str
    next_hop: str | None
    source_peer: str | None
    origin: str  # learned: "Network" | "EBgp"; advertised: "Igp"
    as_path: str  # space separated, "" for own routes
    weight: int


@dataclass(frozen=True)
class EffectiveRoute:
    source: str  # "Default" | "User" | "VirtualNetworkGateway"
    state: str  # "Active" | "Invalid"
    address_prefixes: tuple[str, ...]
    next_hop_type: str  # "VnetLocal" | "VNetPeering" | "VirtualNetworkGateway" | "Internet" | ...
    next_hop_ips: tuple[str, ...]


@dataclass(frozen=True)
class Hop:
    type: (
        str  # "Source" | "VNetPeering" | "VirtualNetworkGateway" | "VpnConnection" | "Destination"
    )
    resource: str
    address: str


@dataclass(frozen=True)
class Trace:
    reachable: bool
    hops: tuple[Hop, ...]
    reason: str  # "" when reachable, else where and why the packet died


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def connection_status(net: Network, connection: str) -> str:
    """connectionStatus of a connection: Connected | Connecting | NotConnected | Unknown.

    [VPN] A connection comes up when the gateway its local network gateway points at
    (by public IP) has a connection back to this gateway, with the same shared key.
    Not provisioned yet -> Unknown; counterpart still provisioning -> Connecting;
    no counterpart, or a key mismatch (IKE fails) -> NotConnected.
    BGP settings do not affect the tunnel: a BGP mismatch shows in bgp_peer_status.
    """
    return _world(net).connection_status(connection)


def bgp_peer_status(net: Network, gateway: str) -> tuple[BgpPeerStatus, ...]:
    """One peer per connection with BGP whose local network gateway has BGP settings.

    The session is "Connected" when the tunnel is Connected and both sides' BGP
    settings match the real gateways (ASN and peering address); otherwise Azure keeps
    trying: "Connecting". routes_received counts the routes accepted from the peer
    (after loop prevention).
    """
    w = _world(net)
    gw = w.gateway(gateway)
    peers = []
    for session in w.sessions(gw):
        received = w.received(gw).get(session.neighbor, ())
        peers.append(
            BgpPeerStatus(
                local_address=gw.bgp_peering_address,
                neighbor=session.neighbor,
                asn=session.asn,
                state="Connected" if session.remote is not None else "Connecting",
                routes_received=len(received) if session.remote is not None else 0,
            )
        )
    return tuple(peers)


def learned_routes(net: Network, gateway: str) -> tuple[GatewayRoute, ...]:
    """getLearnedRoutes: own routes (origin Network) then the best EBgp path per prefix.

    As in the docs' example of Get-AzVirtualNetworkGatewayLearnedRoute: own routes have
    no next hop, the gateway itself as source peer and an empty AS path; they include
    the /32 host route Azure adds for each BGP peer address [VPN]. EBgp routes carry
    the path as received (e.g. "65151" or "65152 65151") and the peer as next hop.
    """
    w = _world(net)
    gw = w.gateway(gateway)
    if not gw.ready:
        return ()
    me = gw.bgp_peering_address
    routes = [
        GatewayRoute(me, str(prefix), None, me, "Network", "", WEIGHT_LOCAL)
        for prefix in w.network_routes(gw)
    ]
    for prefix, path in sorted(w.rib(gw).items(), key=lambda item: _net_key(item[0])):
        routes.append(
            GatewayRoute(
                me,
                str(prefix),
                path.neighbor,
                path.neighbor,
                "EBgp",
                _as_path(path.as_path),
                WEIGHT_LOCAL,
            )
        )
    return tuple(routes)


def advertised_routes(net: Network, gateway: str, peer: str) -> tuple[GatewayRoute, ...]:
    """getAdvertisedRoutes to the BGP neighbor at address ``peer``.

    [Routing] The gateway advertises its VNet's prefixes, those of the VNets that use it
    as remote gateway, its local network gateways' prefixes and what it learned from
    other peers (transit), with its ASN prepended. Routes learned from ``peer`` itself
    are advertised back too; the peer drops them by loop prevention. Empty when no
    session with ``peer`` is established.
    """
    w = _world(net)
    gw = w.gateway(gateway)
    if not any(s.neighbor == peer and s.remote is not None for s in w.sessions(gw)):
        return ()
    me = gw.bgp_peering_address
    return tuple(
        GatewayRoute(me, str(prefix), me, None, "Igp", _as_path(path), WEIGHT_ADVERTISED)
        for prefix, path in w.advertisement(gw)
    )


def effective_routes(net: Network, nic: str) -> tuple[EffectiveRoute, ...]:
    """effectiveRouteTable of a NIC, in the order Azure lists it.

    Default VnetLocal, Default VNetPeering, VirtualNetworkGateway, Default Internet,
    Default None, then User routes. On equal prefixes User > VirtualNetworkGateway >
    Default [Routing]; the losers stay listed with state "Invalid".
    """
    return _world(net).effective_routes(nic)


def trace(net: Network, nic: str, destination: str, port: int) -> Trace:
    """Follow a TCP probe from ``nic`` to ``destination`` and its reply back.

    Reachable when the packet reaches a NIC holding ``destination`` that listens on
    ``port`` and the reply finds its way back to ``nic`` by the same rules.
    """
    return _world(net).trace(nic, destination, port)


def reachability(net: Network, port: int) -> dict[tuple[str, str], Trace]:
    """trace() for every ordered pair of distinct NICs, keyed by (source, destination)."""
    w = _world(net)
    return {
        (src.name, dst.name): w.trace(src.name, dst.private_ip, port)
        for src in net.nics
        for dst in net.nics
        if src.name != dst.name
    }


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    """A BGP neighbor configured on a gateway (connection with BGP to an LNG with BGP)."""

    connection: Connection
    neighbor: str
    asn: int
    remote: VirtualNetworkGateway | None  # the peer gateway when the session is established


@dataclass(frozen=True)
class _Path:
    as_path: tuple[int, ...]
    neighbor: str

    def rank(self) -> tuple[int, int, int]:
        # Shortest AS path; tie-break on the lowest neighbor address (as an integer: an
        # address object compares in Python code, and BGP ranks every received path).
        version, number = _address_key(self.neighbor)
        return (len(self.as_path), version, number)


@dataclass
class _Walk:
    """A packet on its way: the hops so far and, once finished, where it ended."""

    hops: list[Hop] = field(default_factory=list)
    delivered_to: NetworkInterface | None = None
    reason: str = ""


_ROUTE_RANK = {"User": 3, "VirtualNetworkGateway": 2, "Default": 1}


_RECENT_WORLDS = 16
_recent: list[tuple[Network, _World]] = []  # newest last
_recent_lock = threading.Lock()


def _world(net: Network) -> _World:
    """The _World of ``net``: found by identity first (hashing a large Network costs
    as much as a trace, and a caller asks the same object thousands of questions),
    then by equality."""
    with _recent_lock:
        for known, world in reversed(_recent):
            if known is net:
                return world
    world = _equal_world(net)
    with _recent_lock:
        _recent.append((net, world))
        del _recent[:-_RECENT_WORLDS]
    return world


@lru_cache(maxsize=16)
def _equal_world(net: Network) -> _World:
    return _World(net)


class _World:
    """Indexes of one Network plus the BGP routing state, computed lazily and memoised."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.vnets = {v.name: v for v in net.vnets}
        self.gateways = {g.name: g for g in net.gateways}
        self.lngs = {lng.name: lng for lng in net.local_network_gateways}
        self.connections = {c.name: c for c in net.connections}
        self.nics = {n.name: n for n in net.nics}
        self.route_tables = {t.name: t for t in net.route_tables}
        self._ribs: dict[str, dict[_IPNet, _Path]] | None = None
        self.rounds = 0  # rounds of the BGP fixpoint run (once per network)
        self._owns: dict[str, tuple[list[_IPNet], list[_IPNet]]] = {}
        self._network_sets: dict[str, frozenset[_IPNet]] = {}
        self._received: dict[str, dict[str, tuple[tuple[_IPNet, _Path], ...]]] = {}
        self._effective: dict[str, tuple[EffectiveRoute, ...]] = {}
        # Who answers a connection, by index, not by scanning every gateway and
        # connection per question (a full mesh asks it of every connection per probe).
        self._gateways_at: dict[str | None, list[VirtualNetworkGateway]] = {}
        for g in net.gateways:
            self._gateways_at.setdefault(g.public_ip, []).append(g)
        self._connections_of: dict[str, list[Connection]] = {}
        for c in net.connections:
            self._connections_of.setdefault(c.gateway, []).append(c)
        self._counterparts: dict[str, tuple[Connection, VirtualNetworkGateway] | None] = {}
        self._statuses: dict[str, str] = {}
        self._sessions: dict[str, list[_Session]] = {}
        self._forwarding: dict[str, list[tuple[_IPNet, Connection]]] = {}
        self._peered: dict[str, list[tuple[Peering, Peering]]] = {}
        self._active: dict[str, list[tuple[_IPNet, EffectiveRoute]]] = {}
        self._walks: dict[tuple[str, _IPAddr], _Walk] = {}
        self._nic_at: dict[tuple[str, _IPAddr], NetworkInterface] = {}
        for n in net.nics:
            self._nic_at.setdefault((n.vnet, _addr(n.private_ip)), n)

    # -- lookups -------------------------------------------------------------

    def gateway(self, name: str) -> VirtualNetworkGateway:
        if name not in self.gateways:
            raise KeyError(f"no virtual network gateway named {name!r}")
        return self.gateways[name]

    def nic(self, name: str) -> NetworkInterface:
        if name not in self.nics:
            raise KeyError(f"no network interface named {name!r}")
        return self.nics[name]

    def vnet(self, name: str) -> VirtualNetwork:
        if name not in self.vnets:
            raise KeyError(f"no virtual network named {name!r}")
        return self.vnets[name]

    def prefixes(self, vnet: str) -> list[_IPNet]:
        return [_net(p) for p in self.vnet(vnet).address_space]

    def peering_back(self, peering: Peering) -> Peering | None:
        """The other direction of a peering; without it the peering is not Connected."""
        for other in self.net.peerings:
            if other.vnet == peering.remote_vnet and other.remote_vnet == peering.vnet:
                return other
        return None

    def connected_peerings(self, vnet: str) -> Iterator[tuple[Peering, Peering]]:
        """(local side, remote side) of each peering of ``vnet`` present in both directions."""
        if vnet not in self._peered:
            self._peered[vnet] = [
                (peering, back)
                for peering in self.net.peerings
                if peering.vnet == vnet and peering.remote_vnet in self.vnets
                for back in [self.peering_back(peering)]
                if back is not None
            ]
        yield from self._peered[vnet]

    def spokes(self, gw: VirtualNetworkGateway) -> Iterator[tuple[str, Peering]]:
        """(spoke VNet, spoke-side peering) of each VNet using ``gw`` as remote gateway."""
        for hub_side, spoke_side in self.connected_peerings(gw.vnet):
            if hub_side.allow_gateway_transit and spoke_side.use_remote_gateways:
                yield hub_side.remote_vnet, spoke_side

    def serving_gateway(self, vnet: str) -> VirtualNetworkGateway | None:
        """The gateway of ``vnet``, or of its hub through a peering with useRemoteGateways."""
        for gw in self.net.gateways:
            if gw.vnet == vnet:
                return gw if gw.ready else None
        for local, remote in self.connected_peerings(vnet):
            if local.use_remote_gateways and remote.allow_gateway_transit:
                for gw in self.net.gateways:
                    if gw.vnet == local.remote_vnet and gw.ready:
                        return gw
        return None

    # -- connections and BGP sessions ----------------------------------------

    def counterpart(self, conn: Connection) -> tuple[Connection, VirtualNetworkGateway] | None:
        """The connection back (and its gateway) that makes ``conn`` Connected, if any."""
        if conn.name not in self._counterparts:
            self._counterparts[conn.name] = next(
                (
                    (other, remote)
                    for other, remote in self._candidates(conn)
                    if other.ready
                    and remote.ready
                    and other.shared_key_digest == conn.shared_key_digest
                ),
                None,
            )
        return self._counterparts[conn.name]

    def _candidates(self, conn: Connection) -> Iterator[tuple[Connection, VirtualNetworkGateway]]:
        """Connections of the gateway ``conn`` points at that point back at ``conn``'s gateway."""
        gw = self.gateways.get(conn.gateway)
        lng = self.lngs.get(conn.local_network_gateway)
        if gw is None or lng is None or gw.public_ip is None:
            return
        for remote in self._gateways_at.get(lng.gateway_ip, []):
            if remote.name == gw.name:
                continue
            for other in self._connections_of.get(remote.name, []):
                back = self.lngs.get(other.local_network_gateway)
                if back and back.gateway_ip == gw.public_ip:
                    yield other, remote

    def connection_status(self, name: str) -> str:
        if name not in self._statuses:
            self._statuses[name] = self._connection_status(name)
        return self._statuses[name]

    def _connection_status(self, name: str) -> str:
        if name not in self.connections:
            raise KeyError(f"no connection named {name!r}")
        conn = self.connections[name]
        gw = self.gateways.get(conn.gateway)
        if not conn.ready or gw is None or not gw.ready:
            return "Unknown"
        if self.counterpart(conn) is not None:
            return "Connected"
        if any(not (other.ready and remote.ready) for other, remote in self._candidates(conn)):
            return "Connecting"
        return "NotConnected"

    def sessions(self, gw: VirtualNetworkGateway) -> list[_Session]:
        if gw.name not in self._sessions:
            self._sessions[gw.name] = self._gateway_sessions(gw)
        return self._sessions[gw.name]

    def _gateway_sessions(self, gw: VirtualNetworkGateway) -> list[_Session]:
        if not (gw.ready and gw.enable_bgp):
            return []
        sessions = []
        for conn in self._connections_of.get(gw.name, []):
            lng = self.lngs.get(conn.local_network_gateway)
            if conn.gateway != gw.name or not conn.enable_bgp or lng is None:
                continue
            if lng.bgp_asn is None or lng.bgp_peering_address is None:
                continue
            remote = self._bgp_remote(gw, conn, lng)
            sessions.append(_Session(conn, lng.bgp_peering_address, lng.bgp_asn, remote))
        return sessions

    def _bgp_remote(
        self, gw: VirtualNetworkGateway, conn: Connection, lng: LocalNetworkGateway
    ) -> VirtualNetworkGateway | None:
        """The peer gateway when the BGP session over ``conn`` is established."""
        pair = self.counterpart(conn) if self.connection_status(conn.name) == "Connected" else None
        if pair is None:
            return None
        other, remote = pair
        back = self.lngs[other.local_network_gateway]
        both_sides_match = (
            other.enable_bgp
            and remote.enable_bgp
            and (lng.bgp_asn, lng.bgp_peering_address) == (remote.asn, remote.bgp_peering_address)
            and (back.bgp_asn, back.bgp_peering_address) == (gw.asn, gw.bgp_peering_address)
        )
        return remote if both_sides_match else None

    def static_prefixes(self, gw: VirtualNetworkGateway) -> list[tuple[_IPNet, Connection]]:
        """Local network gateway address prefixes, reached over their connection."""
        routes: list[tuple[_IPNet, Connection]] = []
        for conn in self._connections_of.get(gw.name, []):  # in the network's order
            lng = self.lngs.get(conn.local_network_gateway)
            if conn.ready and lng is not None:
                routes.extend((_net(p), conn) for p in lng.address_prefixes)
        return routes

    def vnet_prefixes(self, gw: VirtualNetworkGateway) -> list[_IPNet]:
        """[Routing] The gateway's VNet and the VNets that use it as remote gateway."""
        prefixes = self.prefixes(gw.vnet)
        for spoke, _ in self.spokes(gw):
            prefixes.extend(self.prefixes(spoke))
        return prefixes

    def network_routes(self, gw: VirtualNetworkGateway) -> list[_IPNet]:
        """Learned routes of origin Network: VNets, LNG prefixes, BGP peer host routes."""
        prefixes = self.vnet_prefixes(gw) + [p for p, _ in self.static_prefixes(gw)]
        # [VPN] an LNG used with BGP needs no prefixes: Azure adds a host route to the peer.
        prefixes += [_net(s.neighbor) for s in self.sessions(gw)]
        return list(dict.fromkeys(prefixes))

    def originated(self, gw: VirtualNetworkGateway) -> list[_IPNet]:
        """What the gateway announces as its own: VNets and LNG prefixes (not host routes)."""
        return list(
            dict.fromkeys(self.vnet_prefixes(gw) + [p for p, _ in self.static_prefixes(gw)])
        )

    # -- BGP: best paths computed to a fixpoint ------------------------------

    def advertisement(
        self, gw: VirtualNetworkGateway, ribs: dict[str, dict[_IPNet, _Path]] | None = None
    ) -> list[tuple[_IPNet, tuple[int, ...]]]:
        """Routes ``gw`` sends to each of its peers, its own ASN prepended."""
        rib = (ribs if ribs is not None else self._all_ribs()).get(gw.name, {})
        own, originated = self._own(gw)
        routes: list[tuple[_IPNet, tuple[int, ...]]] = [(p, (gw.asn,)) for p in originated]
        for prefix, path in sorted(rib.items(), key=lambda item: _net_key(item[0])):
            # Transit, except a default route or routes overlapping the gateway's VNets
            # (VPN gateway FAQ, "What address prefixes will Azure VPN gateways advertise").
            if prefix.prefixlen == 0 or any(_overlaps(prefix, p) for p in own):
                continue
            routes.append((prefix, (gw.asn, *path.as_path)))
        return routes

    def _own(self, gw: VirtualNetworkGateway) -> tuple[list[_IPNet], list[_IPNet]]:
        """(VNet prefixes, originated prefixes) of ``gw``: fixed for this network, asked
        of every gateway in every round of the fixpoint."""
        if gw.name not in self._owns:
            self._owns[gw.name] = (self.vnet_prefixes(gw), self.originated(gw))
        return self._owns[gw.name]

    def _receive(
        self,
        gw: VirtualNetworkGateway,
        ribs: dict[str, dict[_IPNet, _Path]],
        adverts: dict[str, list[tuple[_IPNet, tuple[int, ...]]]] | None = None,
    ) -> dict[str, tuple[tuple[_IPNet, _Path], ...]]:
        """Routes accepted from each established neighbor, given the peers' current RIBs
        (``adverts``: each peer's advertisement over ``ribs``, when already computed)."""
        received = {}
        for session in self.sessions(gw):
            remote = session.remote
            if remote is None:
                continue
            if adverts is not None and remote.name in adverts:
                advertised = adverts[remote.name]
            else:
                advertised = self.advertisement(remote, ribs)
            received[session.neighbor] = tuple(
                (prefix, _Path(path, session.neighbor))
                for prefix, path in advertised
                # [Routing] loop prevention: never accept a path containing our own ASN.
                if gw.asn not in path
            )
        return received

    def _best(
        self, gw: VirtualNetworkGateway, received: dict[str, tuple[tuple[_IPNet, _Path], ...]]
    ) -> dict[_IPNet, _Path]:
        if gw.name not in self._network_sets:
            self._network_sets[gw.name] = frozenset(self.network_routes(gw))
        own = self._network_sets[gw.name]  # origin Network beats any learned path
        best: dict[_IPNet, tuple[tuple[int, int, int], _Path]] = {}
        for routes in received.values():
            for prefix, path in routes:
                if prefix in own:
                    continue
                rank = path.rank()
                held = best.get(prefix)
                if held is None or rank < held[0]:
                    best[prefix] = (rank, path)
        return {prefix: path for prefix, (_, path) in best.items()}

    def _all_ribs(self) -> dict[str, dict[_IPNet, _Path]]:
        """Best path per prefix for every gateway, iterated until nothing changes.

        Each round recomputes every RIB from the previous round's (so withdrawals
        propagate). Paths never repeat an ASN, so they are at most as long as the
        number of gateways and rounds beyond that change nothing; the bound only
        guarantees termination. A gateway sends one advertisement to all its peers, so
        each round computes it once per gateway, not once per session.
        """
        if self._ribs is None:
            speakers = [g for g in self.net.gateways if g.ready and g.enable_bgp]
            ribs: dict[str, dict[_IPNet, _Path]] = {g.name: {} for g in speakers}
            for _ in range(2 * len(speakers) + 2):
                self.rounds += 1
                adverts = {g.name: self.advertisement(g, ribs) for g in speakers}
                received = {g.name: self._receive(g, ribs, adverts) for g in speakers}
                new = {g.name: self._best(g, received[g.name]) for g in speakers}
                self._received = received
                if new == ribs:
                    break
                ribs = new
            self._ribs = ribs
        return self._ribs

    def rib(self, gw: VirtualNetworkGateway) -> dict[_IPNet, _Path]:
        return self._all_ribs().get(gw.name, {})

    def received(self, gw: VirtualNetworkGateway) -> dict[str, tuple[tuple[_IPNet, _Path], ...]]:
        self._all_ribs()
        return self._received.get(gw.name, {})

    def forwarding(self, gw: VirtualNetworkGateway) -> list[tuple[_IPNet, Connection]]:
        """Where the gateway sends what is not in its VNets: static, host and BGP routes."""
        if gw.name not in self._forwarding:
            routes = self.static_prefixes(gw)
            sessions = {s.neighbor: s.connection for s in self.sessions(gw)}
            routes += [(_net(n), conn) for n, conn in sessions.items()]
            routes += [(p, sessions[path.neighbor]) for p, path in self.rib(gw).items()]
            self._forwarding[gw.name] = routes
        return self._forwarding[gw.name]

    # -- effective routes ----------------------------------------------------

    def effective_routes(self, name: str) -> tuple[EffectiveRoute, ...]:
        if name not in self._effective:
            self._effective[name] = self._compute_effective(self.nic(name))
        return self._effective[name]

    def _compute_effective(self, nic: NetworkInterface) -> tuple[EffectiveRoute, ...]:
        vnet = self.vnet(nic.vnet)
        table = self._route_table(vnet, nic.subnet)
        own = self.prefixes(vnet.name)
        # (source, prefix, next hop type, next hop IPs), in Azure's listing order.
        candidates: list[tuple[str, _IPNet, str, tuple[str, ...]]] = []
        candidates += [("Default", p, "VnetLocal", ()) for p in own]
        for local, _ in self.connected_peerings(vnet.name):
            if local.allow_virtual_network_access:
                candidates += [
                    ("Default", p, "VNetPeering", ()) for p in self.prefixes(local.remote_vnet)
                ]
        gw = self.serving_gateway(vnet.name)
        if gw is not None and not (table and table.disable_bgp_route_propagation):
            candidates += [
                ("VirtualNetworkGateway", p, "VirtualNetworkGateway", gw.instance_addresses)
                for p in self._gateway_prefixes(gw)
            ]
        candidates.append(("Default", _net("0.0.0.0/0"), "Internet", ()))
        for reserved in map(_net, RESERVED_NONE_PREFIXES):
            # udr-overview: a VNet prefix equal to or containing a reserved range replaces
            # its None route; a VNet inside 10.0.0.0/8 leaves 10.0.0.0/8 -> None in place.
            if not any(_subnet_of(reserved, p) for p in own):
                candidates.append(("Default", reserved, "None", ()))
        for route in table.routes if table else ():
            ips = (route.next_hop_ip,) if route.next_hop_ip else ()
            candidates.append(("User", _net(route.address_prefix), route.next_hop_type, ips))

        winners: dict[_IPNet, int] = {}
        for index, (source, prefix, _, _) in enumerate(candidates):
            current = winners.get(prefix)
            if current is None or _ROUTE_RANK[source] > _ROUTE_RANK[candidates[current][0]]:
                winners[prefix] = index
        return tuple(
            EffectiveRoute(
                source=source,
                state="Active" if winners[prefix] == index else "Invalid",
                address_prefixes=(str(prefix),),
                next_hop_type=hop_type,
                next_hop_ips=ips,
            )
            for index, (source, prefix, hop_type, ips) in enumerate(candidates)
        )

    def _route_table(self, vnet: VirtualNetwork, subnet: str) -> RouteTable | None:
        for sub in vnet.subnets:
            if sub.name == subnet and sub.route_table is not None:
                return self.route_tables.get(sub.route_table)
        return None

    def _gateway_prefixes(self, gw: VirtualNetworkGateway) -> list[_IPNet]:
        """[Routing] one route per BGP-learned or LNG prefix; never the gateway's own VNets."""
        own = set(self.vnet_prefixes(gw))
        prefixes = [p for p in self.network_routes(gw) if p not in own] + list(self.rib(gw))
        return sorted(dict.fromkeys(prefixes), key=_net_key)

    # -- packets -------------------------------------------------------------

    def trace(self, nic_name: str, destination: str, port: int) -> Trace:
        src = self.nic(nic_name)
        there = self._walk(src, _addr(destination))
        if there.delivered_to is None:
            return Trace(False, tuple(there.hops), there.reason)
        dst = there.delivered_to
        if port not in dst.listening_ports:
            reason = f"vm {dst.name}: nothing listens on port {port}"
            return Trace(False, tuple(there.hops), reason)
        back = self._walk(dst, _addr(src.private_ip))
        if back.delivered_to is None:
            return Trace(False, tuple(there.hops), f"no return route: {back.reason}")
        if back.delivered_to.name != src.name:
            reason = f"no return route: the reply reaches {back.delivered_to.name}"
            return Trace(False, tuple(there.hops), reason)
        return Trace(True, tuple(there.hops), "")

    def _walk(self, src: NetworkInterface, dest: _IPAddr) -> _Walk:
        """The walk of a packet from ``src`` to ``dest``, once per pair (a reply walks the
        way of the reverse probe); callers must not change it."""
        key = (src.name, dest)
        if key not in self._walks:
            self._walks[key] = self._new_walk(src, dest)
        return self._walks[key]

    def _new_walk(self, src: NetworkInterface, dest: _IPAddr) -> _Walk:
        walk = _Walk([Hop("Source", src.name, src.private_ip)])
        if src.name not in self._active:
            self._active[src.name] = _active(self.effective_routes(src.name))
        chosen = _choose([(p, r) for p, r in self._active[src.name] if dest in p])
        if chosen is None:
            walk.reason = f"vm {src.name}: no route to {dest}"
            return walk
        prefix, route = chosen
        where = f"vm {src.name}: route {prefix} next hop {route.next_hop_type}"
        if route.next_hop_type == "VnetLocal":
            return self._deliver(walk, src.vnet, dest)
        if route.next_hop_type == "VNetPeering":
            for local, _ in self.connected_peerings(src.vnet):
                if any(dest in p for p in self.prefixes(local.remote_vnet)):
                    walk.hops.append(Hop("VNetPeering", local.name, str(prefix)))
                    return self._deliver(walk, local.remote_vnet, dest)
        if route.next_hop_type == "VirtualNetworkGateway":
            gw = self.serving_gateway(src.vnet)
            if gw is None:
                walk.reason = f"{where}: vnet {src.vnet} has no usable gateway"
                return walk
            return self._through_gateways(walk, gw, dest, src.vnet)
        if route.next_hop_type == "VirtualAppliance":
            appliance = " ".join(route.next_hop_ips)
            walk.reason = f"{where} {appliance}: virtual appliances are not modelled"
            return walk
        walk.reason = f"{where} drops {dest}"  # None, Internet (nothing modelled out there)
        return walk

    def _through_gateways(
        self, walk: _Walk, gw: VirtualNetworkGateway, dest: _IPAddr, origin_vnet: str
    ) -> _Walk:
        for _ in range(MAX_GATEWAY_HOPS):
            address = gw.instance_addresses[0] if gw.instance_addresses else gw.bgp_peering_address
            walk.hops.append(Hop("VirtualNetworkGateway", gw.name, address))
            if any(dest in p for p in self.prefixes(gw.vnet)):
                return self._deliver(walk, gw.vnet, dest)
            for spoke, spoke_side in self.spokes(gw):
                if any(dest in p for p in self.prefixes(spoke)):
                    # Traffic from outside the hub VNet is "forwarded" into the spoke.
                    if origin_vnet != gw.vnet and not spoke_side.allow_forwarded_traffic:
                        walk.reason = (
                            f"gateway {gw.name}: peering {spoke_side.name} does not allow "
                            f"forwarded traffic into {spoke}"
                        )
                        return walk
                    return self._deliver(walk, spoke, dest)
            matches = [(p, c) for p, c in self.forwarding(gw) if dest in p]
            if not matches:
                walk.reason = f"gateway {gw.name}: no route to {dest}"
                return walk
            _, conn = max(matches, key=lambda match: match[0].prefixlen)
            status = self.connection_status(conn.name)
            pair = self.counterpart(conn)
            if status != "Connected" or pair is None:
                walk.reason = f"gateway {gw.name}: connection {conn.name} is {status}"
                return walk
            lng = self.lngs[conn.local_network_gateway]
            walk.hops.append(Hop("VpnConnection", conn.name, lng.gateway_ip))
            gw = pair[1]
        walk.reason = f"gateway {gw.name}: more than {MAX_GATEWAY_HOPS} gateway hops"
        return walk

    def _deliver(self, walk: _Walk, vnet: str, dest: _IPAddr) -> _Walk:
        nic = self._nic_at.get((vnet, dest))
        if nic is not None:
            walk.hops.append(Hop("Destination", nic.name, nic.private_ip))
            walk.delivered_to = nic
            return walk
        walk.reason = f"vnet {vnet}: no network interface has address {dest}"
        return walk


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _active(routes: Iterable[EffectiveRoute]) -> list[tuple[_IPNet, EffectiveRoute]]:
    """(prefix, route) of each Active route, in order."""
    return [
        (prefix, route)
        for route in routes
        if route.state == "Active"
        for prefix in map(_net, route.address_prefixes)
    ]


def _choose(
    matches: list[tuple[_IPNet, EffectiveRoute]],
) -> tuple[_IPNet, EffectiveRoute] | None:
    """The route a packet takes among the Active routes whose prefix holds its destination:
    the longest prefix.

    udr-overview: system routes for the VNet and its peerings are preferred over BGP
    routes even when the BGP route is more specific (user routes still win by prefix).
    """
    if any(r.next_hop_type in ("VnetLocal", "VNetPeering") for _, r in matches):
        matches = [(p, r) for p, r in matches if r.source != "VirtualNetworkGateway"]
    if not matches:
        return None
    return max(matches, key=lambda match: (match[0].prefixlen, _ROUTE_RANK[match[1].source]))


class _Net4(ipaddress.IPv4Network):
    """An IPv4 prefix that hashes once: BGP and effective routes key their tables by
    prefix, and ``IPv4Network.__hash__`` computes in Python at every lookup."""

    def __init__(self, address: str) -> None:
        super().__init__(address, strict=False)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


@cache
def _net(prefix: str) -> _IPNet:
    """A prefix (or a bare address, as a host route); host bits are cleared. One object
    per prefix (cached), so dictionary lookups find it by identity."""
    net = ipaddress.ip_network(prefix, strict=False)
    return _Net4(prefix) if isinstance(net, ipaddress.IPv4Network) else net


@cache
def _addr(address: str) -> _IPAddr:
    return ipaddress.ip_address(address)


@cache
def _address_key(address: str) -> tuple[int, int]:
    """(version, integer) of an address: how addresses order, without parsing again."""
    addr = _addr(address)
    return (addr.version, int(addr))


def _net_key(prefix: _IPNet) -> tuple[int, int, int]:
    return (prefix.version, int(prefix.network_address), prefix.prefixlen)


@cache  # BGP asks it of every learned route against every own prefix
def _overlaps(a: _IPNet, b: _IPNet) -> bool:
    return _subnet_of(a, b) or _subnet_of(b, a)


def _subnet_of(a: _IPNet, b: _IPNet) -> bool:
    if isinstance(a, ipaddress.IPv4Network) and isinstance(b, ipaddress.IPv4Network):
        return a.subnet_of(b)
    if isinstance(a, ipaddress.IPv6Network) and isinstance(b, ipaddress.IPv6Network):
        return a.subnet_of(b)
    return False


def _as_path(path: tuple[int, ...]) -> str:
    return " ".join(str(asn) for asn in path)
