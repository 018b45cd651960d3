"""The emulator's world is one world for every process that opens the state directory.

Each process keeps a decoded, indexed copy of the SQLite store (``store._Cache``)
and reloads it when another process has written. These tests open two ``Clients``
on one state directory (two emulators: to the store, two processes) and check
that each sees the other's writes, and that the reference indexes (who uses a
subnet, a NIC) follow creates and deletes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.network import models as n
from emulator_helpers import (
    GROUP,
    connect_at,
    expect_arm_error,
    network_interface,
    resource_group,
    resource_id,
    subnet_id,
    virtual_network,
    virtual_network_model,
)

from hubvpn.azure import Clients
from hubvpn.emulator.store import Store, _Cache


def test_get_resource_sees_writes_of_another_process(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    with connect_at(state_dir, monkeypatch, speed=36000.0) as other:
        assert other.network.virtual_networks.get(GROUP, "vnet").tags is None  # cached now
        model = virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"})
        model.tags = {"owner": "first"}
        clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", model).result()
        assert other.network.virtual_networks.get(GROUP, "vnet").tags == {"owner": "first"}
        clients.network.virtual_networks.begin_delete(GROUP, "vnet").result()
        with pytest.raises(ResourceNotFoundError):
            other.network.virtual_networks.get(GROUP, "vnet")


def test_list_resources_empty_after_reset_by_another_process(
    clients: Clients, state_dir: Path
) -> None:
    resource_group(clients)
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    assert [v.name for v in clients.network.virtual_networks.list_all()] == ["vnet"]
    Store(state_dir).reset()  # `hubvpn emulator reset` in another process
    assert list(clients.network.virtual_networks.list_all()) == []


def test_delete_subnet_refused_while_used_then_allowed_after_nic_delete(
    clients: Clients,
) -> None:
    resource_group(clients)
    virtual_network(
        clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24", "other": "10.0.1.0/24"}
    )
    network_interface(clients, "nic", "vnet", "default")
    subnet = clients.network.subnets.get(GROUP, "vnet", "default")
    nic_id = resource_id(clients, "Microsoft.Network/networkInterfaces", "nic")
    assert [c.id for c in subnet.ip_configurations or []] == [
        f"{nic_id}/ipConfigurations/ipconfig1"
    ]
    with expect_arm_error("InUseSubnetCannotBeDeleted"):
        clients.network.subnets.begin_delete(GROUP, "vnet", "default").result()
    clients.network.network_interfaces.begin_delete(GROUP, "nic").result()
    assert clients.network.subnets.get(GROUP, "vnet", "default").ip_configurations is None
    clients.network.subnets.begin_delete(GROUP, "vnet", "default").result()
    names = [s.name for s in clients.network.virtual_networks.get(GROUP, "vnet").subnets or []]
    assert names == ["other"]


def test_create_nic_refused_after_rolled_back_write(clients: Clients) -> None:
    """A refused request changes nothing: the next one sees the world as it was."""
    resource_group(clients)
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    bad = n.NetworkInterface(
        location="westeurope",
        ip_configurations=[
            n.NetworkInterfaceIPConfiguration(
                name="ipconfig1", subnet=n.Subnet(id=subnet_id(clients, "vnet", "missing"))
            )
        ],
    )
    with expect_arm_error("InvalidResourceReference"):
        clients.network.network_interfaces.begin_create_or_update(GROUP, "nic", bad).result()
    with pytest.raises(ResourceNotFoundError):
        clients.network.network_interfaces.get(GROUP, "nic")
    nic = network_interface(clients, "nic", "vnet", "default")
    assert nic.ip_configurations is not None
    assert nic.ip_configurations[0].private_ip_address == "10.0.0.4"


def _record(name: str) -> dict[str, object]:
    return {
        "id": f"/subscriptions/s/resourceGroups/{GROUP}/providers/Microsoft.Network"
        f"/virtualNetworks/{name}",
        "type": "Microsoft.Network/virtualNetworks",
        "group": GROUP,
        "name": name,
        "parent": None,
        "pending": None,
        "body": {"properties": {}},
    }


def test_savepoint_undoes_its_writes_and_keeps_the_rest(state_dir: Path) -> None:
    """A request and the settling before it share one transaction: a failed request's
    writes are undone, in the file and in this process's cache, the settling stays."""
    store = Store(state_dir)
    with store.transaction() as tx:
        tx.put(_record("settled"))
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.put(_record("refused"))
            raise RuntimeError("the request failed")
    with store.transaction() as tx:
        assert [r["name"] for r in tx.select()] == ["settled"]
    with Store(state_dir).transaction() as tx:  # another process
        assert [r["name"] for r in tx.select()] == ["settled"]


def test_get_missing_resource_logged_once(clients: Clients, state_dir: Path) -> None:
    resource_group(clients)
    before = len(Store(state_dir).requests())
    with pytest.raises(ResourceNotFoundError):
        clients.network.virtual_networks.get(GROUP, "missing")
    rows = Store(state_dir).requests()[before:]
    assert [(r["method"], r["status"]) for r in rows] == [("GET", 404)]
    assert rows[0]["path"].endswith("/virtualNetworks/missing")


def _reloads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The versions ``store``'s cache reloads the world at, from now on."""
    loads: list[str] = []
    load = _Cache.load

    def counted(cache: _Cache, conn: sqlite3.Connection, version: str) -> None:
        if cache is store._cache:
            loads.append(version)
        load(cache, conn, version)

    monkeypatch.setattr(_Cache, "load", counted)
    return loads


def test_operation_write_of_another_process_keeps_world_cache(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, other = Store(state_dir), Store(state_dir)
    with mine.transaction() as tx:
        tx.put(_record("vnet"))
    reloads = _reloads(mine, monkeypatch)
    with other.transaction() as tx:  # a connectivity check's POST in another process
        tx.put_operation({"name": "OP-1", "status": "Succeeded"})
    with mine.transaction() as tx:
        assert tx.get_operation("op-1") == {"name": "OP-1", "status": "Succeeded"}
        assert [r["name"] for r in tx.select()] == ["vnet"]
    assert reloads == []
    with other.transaction() as tx:  # a resource write: the world changed
        tx.put(_record("vnet2"))
    with mine.transaction() as tx:
        assert [r["name"] for r in tx.select()] == ["vnet", "vnet2"]
    assert len(reloads) == 1
