"""What a read costs the emulator: work done once per state of the world, not per request.

Counts, not times: how often a connection's tunnel network is built, how many records a
GET or a LIST copies, how many times the world is decoded. Each test would fail if the
emulator went back to doing the work per request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import GROUP, TEST_SPEED, connect_at, connection
from test_deploy import GROUP as LAB_GROUP
from test_deploy import deployed
from test_emulator_tunnels import KEY, two_hubs_one_way

from hubvpn.azure import Clients
from hubvpn.emulator import physics
from hubvpn.emulator.arm import Settings, World
from hubvpn.plan import Plan
from hubvpn.status import status
from hubvpn.verify import verify

__all__ = ["deployed"]  # the fixture, shared with test_deploy
CONNECTIONS = ("hub-a-to-hub-b", "hub-b-to-hub-a")


def both_ways(clients: Clients) -> None:
    two_hubs_one_way(clients)
    connection(clients, "hub-b-to-hub-a", "hub-b-gateway", "to-hub-a", KEY)


def count_tunnel_networks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    built: list[str] = []
    tunnel_network = physics._tunnel_network

    def counted(w: World, rid: str) -> Any:
        built.append(rid.rsplit("/", 1)[-1])
        return tunnel_network(w, rid)

    monkeypatch.setattr(physics, "_tunnel_network", counted)
    return built


def test_get_connection_builds_tunnel_network_once_per_world_version(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_ways(clients)
    connections = clients.network.virtual_network_gateway_connections
    built = count_tunnel_networks(monkeypatch)
    tag = clients.network.public_ip_addresses.update_tags
    tag(GROUP, "hub-a-ip", {"tags": {"k": "1"}})  # a new state of the world
    for _ in range(5):
        for name in CONNECTIONS:
            assert connections.get(GROUP, name).connection_status == "Connected"
    assert len(list(connections.list(GROUP))) == 2
    assert sorted(built) == sorted(CONNECTIONS)
    tag(GROUP, "hub-a-ip", {"tags": {"k": "2"}})
    assert connections.get(GROUP, "hub-a-to-hub-b").connection_status == "Connected"
    assert len(built) == 3  # a write is a new state of the world: built again


def test_connection_status_follows_tunnel_moments_within_one_world_version(
    clients: Clients,
) -> None:
    both_ways(clients)
    assert clients.emulator is not None
    store = clients.emulator.store
    with store.transaction() as tx:
        rid = next(k for k in tx._cache.records if k.endswith("/hub-a-to-hub-b"))
        rec, other = tx.peek(rid), tx.peek(rid.replace("hub-a-to-hub-b", "hub-b-to-hub-a"))
        assert rec is not None and other is not None
        ike, mine, theirs = rec["ikeAt"], rec[physics.TUNNEL], other[physics.TUNNEL]
        settings = Settings(speed=36000.0)
        seen = []
        # one transaction, no write: only the clock moves
        for now in (ike - 1e-6, max(ike, min(mine, theirs) - 1e-6), max(mine, theirs) + 1e-6):
            tx.now = now
            seen.append(physics.connection_status(World(tx, settings, ""), rec))
    assert seen == ["Unknown", "Connecting", "Connected"]


def test_get_and_list_copy_no_record(clients: Clients) -> None:
    both_ways(clients)
    assert clients.emulator is not None
    store = clients.emulator.store
    network = clients.network
    before = store.copies
    network.virtual_networks.get(GROUP, "hub-a")
    network.virtual_network_gateway_connections.get(GROUP, "hub-a-to-hub-b")
    network.virtual_network_gateways.get(GROUP, "hub-a-gateway")
    assert len(list(network.virtual_network_gateway_connections.list(GROUP))) == 2
    assert len(list(network.subnets.list(GROUP, "hub-a"))) == 2
    network.virtual_network_gateways.begin_get_bgp_peer_status(GROUP, "hub-a-gateway").result()
    # rendered into new objects: the records are read where they are, never copied
    assert store.copies == before
    network.public_ip_addresses.update_tags(GROUP, "hub-a-ip", {"tags": {"k": "v"}})
    assert store.copies > before  # a write copies what it changes


def snapshot(clients: Clients) -> str:
    assert clients.emulator is not None
    with clients.emulator.store.transaction() as tx:
        return json.dumps(tx._cache.records, sort_keys=True)


def test_reads_of_deployed_lab_leave_store_unchanged(clients: Clients, deployed: Plan) -> None:
    """Every reader works on the store's own records; none of them may change one."""
    assert clients.emulator is not None
    before = snapshot(clients)
    copies = clients.emulator.store.copies
    resources = clients.resource.resources
    ids = [r.id for r in resources.list_by_resource_group(LAB_GROUP)]
    for rid in ids:
        version = "2024-07-01" if "Microsoft.Compute" in rid else "2024-05-01"
        got = resources.get_by_id(rid, api_version=version)
        got.properties["provisioningState"] = "Changed by the caller"  # the caller's copy
        got.tags = {"changed": "by the caller"}
    status(deployed, clients)
    assert verify(deployed, clients, 22).ok
    assert snapshot(clients) == before
    assert clients.emulator.store.copies == copies


def test_list_connections_reads_each_secret_once_per_world_version(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_ways(clients)
    assert clients.emulator is not None
    statements: list[str] = []
    clients.emulator.store._conn.set_trace_callback(statements.append)
    connections = clients.network.virtual_network_gateway_connections
    with connect_at(state_dir, monkeypatch, speed=float(TEST_SPEED)) as other:
        # another process writes: this one reloads the world, its secrets with it
        other.network.public_ip_addresses.update_tags(GROUP, "hub-a-ip", {"tags": {"k": "1"}})
        for _ in range(3):
            assert len(list(connections.list(GROUP))) == 2
            assert connections.get(GROUP, "hub-a-to-hub-b").shared_key == KEY
        assert sum("FROM secrets" in s for s in statements) == 2
        other.network.virtual_network_gateway_connections.begin_set_shared_key(
            GROUP, "hub-a-to-hub-b", {"value": "Another-key-42"}
        ).result()
    assert connections.get(GROUP, "hub-a-to-hub-b").shared_key == "Another-key-42"
    assert connections.get(GROUP, "hub-b-to-hub-a").shared_key == KEY
