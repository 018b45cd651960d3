"""The emulator's physics: the routing model applied to the resources it holds.

Builds a ``routing.Network`` from the world (names are lower-cased ARM ids)
and answers, in Azure's response shapes, connection status, BGP peer status,
learned and advertised routes, NIC effective routes and connectivity checks.

Tunnels lag provisioning, as recorded on Azure (azure-facts.md "As recorded":
connectionStatus Unknown right after a connection's operation Succeeds, the BGP
session up about a minute later): a connection shows Unknown while it provisions and
for ``IKE_S`` after, then Connecting; its tunnel counts as up ``TUNNEL_S`` after its
provisioning ended (Connected once both ends are up) and its BGP session ``BGP_S``
after; learned and effective routes follow the BGP sessions. These moments are fixed
at the PUT, in Azure seconds at the writer's speed (``Connection.after_put``).

The network and every answer are computed once per state of the world (``Tx.memo``,
emptied by any write) and per *phase*: how many of those moments have passed. A
connection's status, asked after nearly every write while a mesh deploys, is computed
over the few records its tunnel depends on (``_tunnel_network``), not the whole world;
that part is built once per state of the world and the clock applied to it per request
(``_Tunnel.status``). Records are read where the store keeps them (``World.peek_select``),
never copied, and answers are shared, never changed.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from hubvpn import routing
from hubvpn.emulator.arm import World, provisioning_state
from hubvpn.emulator.resources.references import vm_of_nic as attached_vm
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    CONNECTION,
    GATEWAY,
    LOCAL_GATEWAY,
    NIC,
    PEERING,
    ROUTE,
    ROUTE_TABLE,
    SUBNET,
    VNET,
)

SSH_PORT = 22
T = TypeVar("T")
IKE_S = 15.0  # Azure seconds after provisioning: Unknown, then Connecting
TUNNEL_S = 30.0  # ... until the tunnel is up at this end
BGP_S = 60.0  # ... and the BGP session over it ("about a minute")
TUNNEL, BGP = "tunnelAt", "bgpAt"  # record fields: wall times of those moments


def _shared(w: World, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per state of the world; the caller must not change it."""
    memo = w.tx.memo
    if key not in memo:
        memo[key] = compute()
    result: T = memo[key]
    return result


def _ready(rec: Record) -> bool:
    return provisioning_state(rec) == "Succeeded"


def _ref(value: Any) -> str:
    return str(value["id"]).lower() if isinstance(value, dict) and "id" in value else ""


def _phase(w: World, moment: str) -> int:
    """How many connections' ``moment`` (TUNNEL or BGP) has passed: the network changes
    only when this does."""
    moments = _shared(
        w,
        ("moments", moment),
        lambda: sorted(c.get(moment, 0.0) for c in w.peek_select(CONNECTION)),
    )
    return bisect.bisect_right(moments, w.now)


def build_network(w: World, moment: str = BGP) -> routing.Network:
    """Everything the routing model needs, from what exists (ready or not). A connection
    is ready once its ``moment`` has passed: TUNNEL for its status, BGP for routes."""
    phase = _phase(w, moment)
    return _shared(w, ("network", moment, phase), lambda: _build_network(w, moment))


def _answer(w: World, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """A routing answer (over the BGP network), once per state and phase. Shared, not
    copied: every caller hands it on as an action's result, which the operation stores as
    JSON (``lro.start_action``), or reads it; none may change it."""
    return _shared(w, (*key, _phase(w, BGP)), compute)


def _build_network(w: World, moment: str) -> routing.Network:
    vnets = []
    for vnet in w.peek_select(VNET):
        subnets = tuple(
            routing.Subnet(
                name=s["name"],
                prefix=s["body"]["properties"]["addressPrefix"],
                route_table=_ref(s["body"]["properties"].get("routeTable")) or None,
            )
            for s in w.peek_select(SUBNET, parent=vnet["id"])
        )
        prefixes = tuple(vnet["body"]["properties"]["addressSpace"]["addressPrefixes"])
        vnets.append(routing.VirtualNetwork(vnet["id"].lower(), prefixes, subnets))
    peerings = tuple(
        routing.Peering(
            name=p["id"].lower(),
            vnet=p["parent"].lower(),
            remote_vnet=_ref(p["body"]["properties"]["remoteVirtualNetwork"]),
            allow_virtual_network_access=bool(p["body"]["properties"]["allowVirtualNetworkAccess"]),
            allow_forwarded_traffic=bool(p["body"]["properties"]["allowForwardedTraffic"]),
            allow_gateway_transit=bool(p["body"]["properties"]["allowGatewayTransit"]),
            use_remote_gateways=bool(p["body"]["properties"]["useRemoteGateways"]),
        )
        for p in w.peek_select(PEERING)
        if _ready(p)
    )
    tables = tuple(
        routing.RouteTable(
            name=t["id"].lower(),
            routes=tuple(
                routing.Route(
                    name=r["name"],
                    address_prefix=r["body"]["properties"]["addressPrefix"],
                    next_hop_type=r["body"]["properties"]["nextHopType"],
                    next_hop_ip=r["body"]["properties"].get("nextHopIpAddress"),
                )
                for r in w.peek_select(ROUTE, parent=t["id"])
            ),
            disable_bgp_route_propagation=bool(
                t["body"]["properties"].get("disableBgpRoutePropagation", False)
            ),
        )
        for t in w.peek_select(ROUTE_TABLE)
    )
    return routing.Network(
        vnets=tuple(vnets),
        peerings=peerings,
        route_tables=tables,
        gateways=tuple(_gateway(w, g) for g in w.peek_select(GATEWAY)),
        local_network_gateways=tuple(_local_gateway(g) for g in w.peek_select(LOCAL_GATEWAY)),
        connections=tuple(_connection(w, c, moment) for c in w.peek_select(CONNECTION)),
        nics=tuple(_nic(w, n) for n in w.peek_select(NIC)),
    )


def _gateway(w: World, rec: Record) -> routing.VirtualNetworkGateway:
    props = rec["body"]["properties"]
    cfg = props["ipConfigurations"][0]["properties"]
    subnet_id = _ref(cfg["subnet"])
    pip = w.tx.peek(cfg["publicIPAddress"]["id"])
    return routing.VirtualNetworkGateway(
        name=rec["id"].lower(),
        vnet=subnet_id.rsplit("/subnets/", 1)[0],
        asn=int(props["bgpSettings"]["asn"]),
        bgp_peering_address=props["bgpSettings"]["bgpPeeringAddress"],
        instance_addresses=tuple(props.get("_instances", ())),
        public_ip=None if pip is None else pip["body"]["properties"]["ipAddress"],
        enable_bgp=bool(props.get("enableBgp")),
        ready=_ready(rec),
    )


def _local_gateway(rec: Record) -> routing.LocalNetworkGateway:
    props = rec["body"]["properties"]
    bgp = props.get("bgpSettings") or {}
    return routing.LocalNetworkGateway(
        name=rec["id"].lower(),
        gateway_ip=props.get("gatewayIpAddress") or "",
        address_prefixes=tuple(props["localNetworkAddressSpace"]["addressPrefixes"]),
        bgp_asn=bgp.get("asn"),
        bgp_peering_address=bgp.get("bgpPeeringAddress"),
    )


def _connection(w: World, rec: Record, moment: str) -> routing.Connection:
    props = rec["body"]["properties"]
    key = w.tx.get_secret(rec["id"]) or ""
    return routing.Connection(
        name=rec["id"].lower(),
        gateway=_ref(props["virtualNetworkGateway1"]),
        local_network_gateway=_ref(props["localNetworkGateway2"]),
        enable_bgp=bool(props.get("enableBgp")),
        shared_key_digest=hashlib.sha256(key.encode()).hexdigest(),
        ready=_ready(rec) and w.now >= rec.get(moment, 0.0),
    )


def _nic(w: World, rec: Record) -> routing.NetworkInterface:
    cfg = rec["body"]["properties"]["ipConfigurations"][0]["properties"]
    subnet_id = _ref(cfg["subnet"])
    vnet_id, subnet_name = subnet_id.rsplit("/subnets/", 1)
    vm = attached_vm(w, rec["id"])
    listening = frozenset({SSH_PORT}) if vm is not None and _ready(vm) else frozenset()
    return routing.NetworkInterface(
        name=rec["id"].lower(),
        vnet=vnet_id,
        subnet=subnet_name,
        private_ip=cfg["privateIPAddress"],
        listening_ports=listening,
    )


# ---------------------------------------------------------------- answers


def connection_status(w: World, rec: Record) -> str:
    """Azure's connectionStatus: Unknown while provisioning and just after, Connecting
    until this end's tunnel is up, then what the routing model says (Connected once both
    ends are up with one key, NotConnected otherwise)."""
    rid = rec["id"].lower()
    if rec.get("pending") or w.now < rec.get("ikeAt", 0.0):
        return "Unknown"
    tunnel = _shared(w, ("tunnel", rid), lambda: _tunnel_network(w, rid))
    return tunnel.status(w.now)


class _Tunnel:
    """The part of the network a connection's tunnel depends on, at one state of the
    world; its connections' tunnels come up at their ``TUNNEL`` moments, so the answer at
    a time depends only on which of those moments have passed (one answer each)."""

    def __init__(
        self,
        rid: str,
        gateways: list[routing.VirtualNetworkGateway],
        lngs: list[routing.LocalNetworkGateway],
        connections: list[tuple[routing.Connection, float]],
    ) -> None:
        self.rid = rid
        self.gateways = tuple(gateways)
        self.lngs = tuple(lngs)
        self.connections = connections  # (connection ready but for its moment, moment)
        self._statuses: dict[tuple[bool, ...], str] = {}

    def status(self, now: float) -> str:
        up = tuple(c.ready and now >= moment for c, moment in self.connections)
        if up not in self._statuses:
            net = routing.Network(
                gateways=self.gateways,
                local_network_gateways=self.lngs,
                connections=tuple(
                    c if c.ready == ready else dataclasses.replace(c, ready=ready)
                    for (c, _), ready in zip(self.connections, up, strict=True)
                ),
            )
            status = routing.connection_status(net, self.rid)
            self._statuses[up] = "Connecting" if status == "Unknown" else status
        return self._statuses[up]


def _tunnel_network(w: World, rid: str) -> _Tunnel:
    """The part of the network a connection's tunnel depends on, found through the
    store's indexes: its gateway and local network gateway, the gateways holding the
    address that local network gateway points at, and their connections whose local
    network gateway points back at this gateway's address. ``routing.connection_status``
    looks no further, so its answer is the one over the whole network, at a cost that
    does not grow with the world. Built once per state of the world (``connection_status``)."""
    tx = w.tx
    rec = tx.peek(rid)
    assert rec is not None
    props = rec["body"]["properties"]
    connections = [_tunnel_connection(w, rec)]
    gateways: list[routing.VirtualNetworkGateway] = []
    lngs: list[routing.LocalNetworkGateway] = []
    own = tx.peek(_ref(props["virtualNetworkGateway1"]))
    target = tx.peek(_ref(props["localNetworkGateway2"]))
    if own is not None:
        gateways.append(_gateway(w, own))
    if target is not None:
        lngs.append(_local_gateway(target))
    own_ip = gateways[0].public_ip if gateways else None
    holder = tx.address_holder(lngs[0].gateway_ip) if lngs and own_ip else None
    for remote_key in tx.referrer_keys(holder, GATEWAY) if holder else ():
        remote = tx.peek(remote_key)
        if remote is None or own is None or remote_key == own["id"].lower():
            continue
        gateways.append(_gateway(w, remote))
        for other_key in tx.referrer_keys(remote_key, CONNECTION):
            other = tx.peek(other_key)
            if other is None:
                continue
            back = tx.peek(_ref(other["body"]["properties"]["localNetworkGateway2"]))
            if back is None or back["body"]["properties"].get("gatewayIpAddress") != own_ip:
                continue
            connections.append(_tunnel_connection(w, other))
            lngs.append(_local_gateway(back))
    return _Tunnel(rid, gateways, lngs, connections)


def _tunnel_connection(w: World, rec: Record) -> tuple[routing.Connection, float]:
    """A connection ready but for its tunnel's moment, and that moment."""
    conn = _connection(w, rec, TUNNEL)
    return dataclasses.replace(conn, ready=_ready(rec)), float(rec.get(TUNNEL, 0.0))


def schedule_tunnel(w: World, rec: Record) -> None:
    """Fix, at a connection's PUT, when IKE starts, the tunnel and BGP come up."""
    pending = rec.get("pending")
    done = pending["until"] if pending else w.now
    for field, azure_s in (("ikeAt", IKE_S), (TUNNEL, TUNNEL_S), (BGP, BGP_S)):
        rec[field] = done + w.settings.wall_s(azure_s)


def bgp_peer_status(w: World, rec: Record) -> list[dict[str, Any]]:
    return _answer(w, ("bgp", rec["id"].lower()), lambda: _bgp_peer_status(w, rec))


def _bgp_peer_status(w: World, rec: Record) -> list[dict[str, Any]]:
    peers = routing.bgp_peer_status(build_network(w), rec["id"].lower())
    return [
        {
            "localAddress": p.local_address,
            "neighbor": p.neighbor,
            "asn": p.asn,
            "state": p.state,
            "connectedDuration": "00:00:00" if p.state != "Connected" else "01:00:00.0000000",
            "routesReceived": p.routes_received,
            "messagesSent": 0,
            "messagesReceived": 0,
        }
        for p in peers
    ]


def _gateway_routes(routes: tuple[routing.GatewayRoute, ...]) -> list[dict[str, Any]]:
    out = []
    for r in routes:
        item: dict[str, Any] = {
            "localAddress": r.local_address,
            "network": r.network,
            "origin": r.origin,
            "asPath": r.as_path,
            "weight": r.weight,
        }
        if r.next_hop:
            item["nextHop"] = r.next_hop
        if r.source_peer:
            item["sourcePeer"] = r.source_peer
        out.append(item)
    return out


def learned_routes(w: World, rec: Record) -> list[dict[str, Any]]:
    rid = rec["id"].lower()
    return _answer(
        w,
        ("learned", rid),
        lambda: _gateway_routes(routing.learned_routes(build_network(w), rid)),
    )


def advertised_routes(w: World, rec: Record, peer: str) -> list[dict[str, Any]]:
    rid = rec["id"].lower()
    return _answer(
        w,
        ("advertised", rid, peer),
        lambda: _gateway_routes(routing.advertised_routes(build_network(w), rid, peer)),
    )


def effective_routes(w: World, nic: Record) -> list[dict[str, Any]]:
    return _answer(w, ("effective", nic["id"].lower()), lambda: _effective_routes(w, nic))


def _effective_routes(w: World, nic: Record) -> list[dict[str, Any]]:
    routes = routing.effective_routes(build_network(w), nic["id"].lower())
    return [
        {
            "source": r.source,
            "state": r.state,
            "addressPrefix": list(r.address_prefixes),
            "nextHopIpAddress": list(r.next_hop_ips),
            "nextHopType": r.next_hop_type,
        }
        for r in routes
    ]


def connectivity(w: World, source_nic: Record, address: str, port: int) -> dict[str, Any]:
    """Network Watcher connectivityCheck: the routing model's trace, in Azure's shape."""
    nic = source_nic["id"].lower()
    return _answer(w, ("trace", nic, address, port), lambda: _connectivity(w, nic, address, port))


def _names(w: World) -> dict[str, str]:
    """Lower-cased ids of what a trace may cross -> the ids as created."""
    return {
        rec["id"].lower(): rec["id"]
        for t in (NIC, GATEWAY, CONNECTION, PEERING)
        for rec in w.peek_select(t)
    }


def _connectivity(w: World, nic: str, address: str, port: int) -> dict[str, Any]:
    result = routing.trace(build_network(w), nic, address, port)
    names = _shared(w, ("names",), lambda: _names(w))
    hops: list[dict[str, Any]] = []
    for i, hop in enumerate(result.hops):
        hop_id = f"hop-{i}"
        hops.append(
            {
                "type": hop.type,
                "id": hop_id,
                "address": hop.address if "/" not in hop.address else "",
                "resourceId": names.get(hop.resource, hop.resource),
                "nextHopIds": [f"hop-{i + 1}"] if i + 1 < len(result.hops) else [],
                "issues": [],
            }
        )
    if not result.reachable and hops:
        reason = result.reason
        for key in sorted(names, key=len, reverse=True):  # lower-cased ids -> resource names
            reason = reason.replace(key, names[key].rsplit("/", 1)[-1])
        hops[-1]["issues"] = [
            {
                "origin": "Local",
                "severity": "Error",
                "type": "NetworkSecurityRule" if "port" in result.reason else "UserDefinedRoute",
                "context": [{"reason": reason}],
            }
        ]
    reachable = result.reachable
    return {
        "hops": hops,
        "connectionStatus": "Reachable" if reachable else "Unreachable",
        "avgLatencyInMs": 2 if reachable else None,
        "minLatencyInMs": 1 if reachable else None,
        "maxLatencyInMs": 4 if reachable else None,
        "probesSent": 66 if reachable else 30,
        "probesFailed": 0 if reachable else 30,
    }
