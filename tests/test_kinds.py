"""The kinds registry: every kind has its row, its body and its place in the delete
order, and the generic SDK calls built from the rows reach Azure (the emulator)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError
from emulator_helpers import GROUP, REFERENCE, connect_at, public_ip_address, resource_group

from hubvpn import kinds
from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.converge import Orphan
from hubvpn.kinds import DELETE_ORDER, KINDS, Kind
from hubvpn.observe import Observed
from hubvpn.plan import build_plan, step_key
from hubvpn.prune import prune
from hubvpn.resources import BODIES


def test_register_body_for_every_kind() -> None:
    assert set(BODIES) == set(KINDS) == set(Kind)


def test_list_every_kind_observe_reads_through_its_row(clients: Clients) -> None:
    # A new kind with a row is observed without touching observe.py; the others are
    # read with their parent (peerings in the VNet, extensions per VM) or by GET.
    unlisted = {kind for kind, info in KINDS.items() if info.lister is None}
    assert unlisted == {Kind.RESOURCE_GROUP, Kind.PEERING, Kind.VM_EXTENSION}
    for kind, info in KINDS.items():
        if info.lister is not None:
            operations = getattr(getattr(clients, info.client), info.operations)
            assert callable(getattr(operations, info.lister)), kind


def test_order_deletes_every_kind_but_group_and_watcher() -> None:
    assert len(DELETE_ORDER) == len(set(DELETE_ORDER))
    assert set(Kind) - set(DELETE_ORDER) == {Kind.RESOURCE_GROUP, Kind.NETWORK_WATCHER}


def test_order_deletes_children_before_parents() -> None:
    for kind, info in KINDS.items():
        if info.parent is not None:
            assert DELETE_ORDER.index(kind) < DELETE_ORDER.index(info.parent), kind


def test_name_orphan_like_step_of_same_resource() -> None:
    step = build_plan(load_topology(REFERENCE)).step("peering:vnet-hub00/hub00-to-spoke10")
    orphan = Orphan(step.kind, step.name, step.parent, ())
    assert (orphan.key, orphan.arm_type) == (step.key, step.arm_type)
    assert orphan.key == "peering:vnet-hub00/hub00-to-spoke10"
    assert orphan.arm_type == "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"


def test_prune_orphan_waits_for_delete_of_earlier_run(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    public_ip_address(clients, "old-ip")
    # 5 Azure seconds of delete at 5 Azure seconds per wall second: still Deleting when read.
    with connect_at(state_dir, monkeypatch, speed=5) as slow:
        slow.network.public_ip_addresses.begin_delete(GROUP, "old-ip")
        deleting = slow.network.public_ip_addresses.get(GROUP, "old-ip")
        assert deleting.provisioning_state == "Deleting"
        orphan = Orphan("public_ip", "old-ip", None, ())
        observed = Observed(None, {step_key("public_ip", "old-ip"): deleting})

        done = prune(slow, GROUP, [orphan], observed, threading.Event(), poll_s=0.05)

        assert done == [orphan]
        with pytest.raises(ResourceNotFoundError):
            slow.network.public_ip_addresses.get(GROUP, "old-ip")
        assert kinds.get(slow, GROUP, "public_ip", "old-ip", None) is None


def test_prune_wait_for_earlier_delete_stops_on_cancel(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    public_ip_address(clients, "old-ip")
    # 5 Azure seconds of delete at one Azure second per wall second: still Deleting.
    with connect_at(state_dir, monkeypatch, speed=1) as slow:
        slow.network.public_ip_addresses.begin_delete(GROUP, "old-ip")
        deleting = slow.network.public_ip_addresses.get(GROUP, "old-ip")
        orphan = Orphan("public_ip", "old-ip", None, ())
        observed = Observed(None, {step_key("public_ip", "old-ip"): deleting})
        cancel = threading.Event()
        threading.Timer(0.2, cancel.set).start()  # Ctrl-C while it waits

        done = prune(slow, GROUP, [orphan], observed, cancel, poll_s=0.05)

        assert done == []  # not counted as deleted: Azure is still deleting it
        assert slow.network.public_ip_addresses.get(GROUP, "old-ip").provisioning_state == (
            "Deleting"
        )
