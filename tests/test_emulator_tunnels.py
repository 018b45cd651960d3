"""Tunnels lag provisioning, as on Azure.

As recorded (azure-facts.md "As recorded"; Azure/azure-sdk-assets,
GatewayOperationsTests/VirtualNetworkGatewayConnectionWithBgpTest.json and
VirtualNetworkGatewayBgpRouteApiTest.json): a connection's operation Succeeds before
its tunnel is up; a GET right after shows connectionStatus Unknown, then Connecting,
then Connected; the BGP session comes up about a minute (Azure time) after the
connection, and the gateway learns the other side's routes only then. The emulator's
moments are physics.IKE_S, TUNNEL_S and BGP_S, scaled by the writer's speed.

Each test holds one end still provisioning (written at speed 1, where a connection
takes Azure's full 120 s) and looks at what the other side reports meanwhile.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from emulator_helpers import (
    GROUP,
    connect_at,
    connection,
    connection_model,
    gateway_model,
    hub,
    local_network_gateway,
    resource_group,
)

from hubvpn.azure import Clients

KEY = "tunnel-key"


def two_hubs_one_way(clients: Clients) -> None:
    """hub-a and hub-b with gateways, local network gateways both ways, and the
    connection hub-a -> hub-b (Succeeded); hub-b -> hub-a is left to the test."""
    resource_group(clients)
    for name, octet in (("hub-a", 1), ("hub-b", 2)):
        hub(clients, name, octet)
    pollers = [
        clients.network.virtual_network_gateways.begin_create_or_update(
            GROUP, f"{name}-gateway", gateway_model(clients, name, f"{name}-ip", asn=asn)
        )
        for name, asn in (("hub-a", 65010), ("hub-b", 65020))
    ]
    a, b = (poller.result() for poller in pollers)
    ip_a = clients.network.public_ip_addresses.get(GROUP, "hub-a-ip").ip_address
    ip_b = clients.network.public_ip_addresses.get(GROUP, "hub-b-ip").ip_address
    local_network_gateway(clients, "to-hub-b", ip_b, 65020, b.bgp_settings.bgp_peering_address)
    local_network_gateway(clients, "to-hub-a", ip_a, 65010, a.bgp_settings.bgp_peering_address)
    connection(clients, "hub-a-to-hub-b", "hub-a-gateway", "to-hub-b", KEY)


def start_connection_b_at_azure_speed(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with connect_at(state, monkeypatch, speed=1.0) as azure_time:
        azure_time.network.virtual_network_gateway_connections.begin_create_or_update(
            GROUP,
            "hub-b-to-hub-a",
            connection_model(azure_time, "hub-b-gateway", "to-hub-a", KEY),
            polling=False,  # it provisions for 120 s: the test looks meanwhile
        )


def test_get_connection_unknown_while_it_provisions(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_hubs_one_way(clients)
    start_connection_b_at_azure_speed(state_dir, monkeypatch)
    conn = clients.network.virtual_network_gateway_connections.get(GROUP, "hub-b-to-hub-a")
    assert (conn.provisioning_state, conn.connection_status) == ("Updating", "Unknown")


def test_get_connection_succeeded_connecting_until_other_end_is_up(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_hubs_one_way(clients)
    start_connection_b_at_azure_speed(state_dir, monkeypatch)
    conn = clients.network.virtual_network_gateway_connections.get(GROUP, "hub-a-to-hub-b")
    assert (conn.provisioning_state, conn.connection_status) == ("Succeeded", "Connecting")


def test_get_learned_routes_lack_other_side_until_bgp_session_up(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_hubs_one_way(clients)
    start_connection_b_at_azure_speed(state_dir, monkeypatch)
    gateways = clients.network.virtual_network_gateways
    peers = gateways.begin_get_bgp_peer_status(GROUP, "hub-a-gateway").result().value or []
    assert [p.state for p in peers] and all(p.state != "Connected" for p in peers)
    learned = gateways.begin_get_learned_routes(GROUP, "hub-a-gateway").result().value or []
    assert not [r for r in learned if r.network == "10.2.0.0/16"]  # hub-b's address space


def test_get_learned_routes_carry_other_side_once_both_ends_up(clients: Clients) -> None:
    """At 36000 Azure seconds per wall second the minute of BGP setup takes 2 ms."""
    two_hubs_one_way(clients)
    connection(clients, "hub-b-to-hub-a", "hub-b-gateway", "to-hub-a", KEY)
    gateways = clients.network.virtual_network_gateways
    peers = gateways.begin_get_bgp_peer_status(GROUP, "hub-a-gateway").result().value or []
    assert [p.state for p in peers] == ["Connected"]
    learned = gateways.begin_get_learned_routes(GROUP, "hub-a-gateway").result().value or []
    assert [r.origin for r in learned if r.network == "10.2.0.0/16"] == ["EBgp"]
    conn = clients.network.virtual_network_gateway_connections.get(GROUP, "hub-a-to-hub-b")
    assert conn.connection_status == "Connected"
