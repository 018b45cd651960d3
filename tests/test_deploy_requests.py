"""What each write of deploy, prune and destroy costs in ARM requests, counted in the
emulator's request log (through the real SDK).

A long-running write is its PUT (or DELETE), one poll of its operation after the
Retry-After of the first answer (ARM's "come back then"; the emulator's hint is the
time left), and, only for the kinds whose answer deploy reads (gateways, public IPs,
NICs), ARM's final GET of the resource.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from emulator_helpers import (
    GROUP,
    REFERENCE,
    SSH_PUBLIC_KEY,
    connect_at,
    gateway_model,
    hub,
    public_ip_model,
    resource_group,
    virtual_network_gateway,
    virtual_network_model,
)

from hubvpn import kinds
from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.deploy import deploy
from hubvpn.emulator.arm import LRO_FAILURE_CODES
from hubvpn.interrupts import NOTED, Interrupted
from hubvpn.kinds import KINDS, Kind
from hubvpn.plan import Plan, Step, build_plan


class _Silent:
    def started(self, plan: Plan) -> None:
        """Nothing to show."""

    def step(self, step: Step, state: str, detail: str = "") -> None:
        """Nothing to show."""

    def finished(self) -> None:
        """Nothing to show."""


PUT_TYPES = frozenset(
    {
        "networkSecurityGroups",
        "routeTables",
        "virtualNetworks",
        "publicIPAddresses",
        "virtualNetworkGateways",
        "localNetworkGateways",
        "connections",
        "virtualNetworkPeerings",
        "networkInterfaces",
        "virtualMachines",
        "extensions",
        "bastionHosts",
    }
)


def sent(clients: Clients, since: int) -> list[tuple[str, str]]:
    """(method, what) of each request after ``since``: "poll" for an operation's
    status, else the type segment of the path ("virtualNetworks")."""
    assert clients.emulator is not None
    out = []
    for row in clients.emulator.store.requests()[since:]:
        path = row["path"].split("?")[0]
        what = "poll" if "/operations/" in path else path.rsplit("/", 2)[-2]
        out.append((row["method"], what))
    return out


def logged(clients: Clients) -> int:
    assert clients.emulator is not None
    return len(clients.emulator.store.requests())


def test_put_of_unread_kind_polls_after_retry_after_and_skips_the_final_get(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    assert KINDS[Kind.VIRTUAL_NETWORK].read_back is False
    # At 5 Azure seconds per second a VNet (5 Azure seconds) takes 1 s: a poll sent
    # at once would find it InProgress and cost a second one.
    with connect_at(state_dir, monkeypatch, speed=5.0) as slow:
        since = logged(slow)
        model = virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"})
        result = kinds.begin_put(slow, GROUP, Kind.VIRTUAL_NETWORK, "hub", None, model)()
        assert sent(slow, since) == [("PUT", "virtualNetworks"), ("GET", "poll")]
    assert result is None  # not read: the operation's status was the last answer
    assert clients.network.virtual_networks.get(GROUP, "hub").provisioning_state == "Succeeded"


def test_put_of_gateway_polls_after_retry_after_and_reads_the_gateway_back(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    hub(clients, "hub", 0)
    # At 1800 Azure seconds per second the 30-minute gateway takes 1 s.
    with connect_at(state_dir, monkeypatch, speed=1800.0) as slow:
        since = logged(slow)
        model = gateway_model(slow, "hub", "hub-ip")
        kind = Kind.VIRTUAL_NETWORK_GATEWAY
        gateway = kinds.begin_put(slow, GROUP, kind, "hub-gateway", None, model)()
        assert sent(slow, since) == [
            ("PUT", "virtualNetworkGateways"),
            ("GET", "poll"),
            ("GET", "virtualNetworkGateways"),
        ]
    # What the local network gateways are built from: Azure's BGP peering address.
    assert gateway.provisioning_state == "Succeeded"
    assert gateway.bgp_settings.bgp_peering_address


def test_put_of_public_ip_reads_its_address_back(clients: Clients) -> None:
    resource_group(clients)
    since = logged(clients)
    pip = kinds.begin_put(clients, GROUP, Kind.PUBLIC_IP, "ip", None, public_ip_model())()
    assert sent(clients, since) == [
        ("PUT", "publicIPAddresses"),
        ("GET", "poll"),
        ("GET", "publicIPAddresses"),
    ]
    assert pip.ip_address


def test_put_of_unread_kind_failing_raises_its_azure_code_without_the_final_get(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    with connect_at(state_dir, monkeypatch, speed=36000.0, faults="lro_fail=1,seed=1") as faulty:
        since = logged(faulty)
        model = virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"})
        wait = kinds.begin_put(faulty, GROUP, Kind.VIRTUAL_NETWORK, "hub", None, model)
        with pytest.raises(HttpResponseError) as info:
            wait()
        assert sent(faulty, since) == [("PUT", "virtualNetworks"), ("GET", "poll")]
    assert info.value.error is not None
    assert info.value.error.code in {code for code, _ in LRO_FAILURE_CODES}


def test_post_with_read_back_off_still_returns_its_location_result(clients: Clients) -> None:
    # The flag concerns a PUT's re-read only: a POST action's answer is its Location's.
    resource_group(clients)
    hub(clients, "hub", 0)
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    peers = clients.network.virtual_network_gateways.begin_get_bgp_peer_status(
        GROUP, "hub-gateway", polling=clients.polling(read_back=False)
    ).result()
    assert peers is not None
    assert peers.value == []


def test_delete_polls_once_after_retry_after(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    clients.network.public_ip_addresses.begin_create_or_update(
        GROUP, "ip", public_ip_model()
    ).result()
    # At 5 Azure seconds per second the delete (5 Azure seconds) takes 1 s.
    with connect_at(state_dir, monkeypatch, speed=5.0) as slow:
        since = logged(slow)
        assert kinds.begin_delete(slow, GROUP, Kind.PUBLIC_IP, "ip", None)() is None
        assert sent(slow, since) == [("DELETE", "publicIPAddresses"), ("GET", "poll")]


def test_delete_wait_gives_up_once_ctrl_c_is_noted(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy --prune waits for deletes in its pool's threads: after a Ctrl-C they stop
    waiting (the delete goes on in Azure) instead of holding the process until it ends."""
    resource_group(clients)
    clients.network.public_ip_addresses.begin_create_or_update(
        GROUP, "ip", public_ip_model()
    ).result()
    # At 0.05 Azure seconds per second the delete (5 Azure seconds) takes 100 s.
    with connect_at(state_dir, monkeypatch, speed=0.05) as slow:
        wait = kinds.begin_delete(slow, GROUP, Kind.PUBLIC_IP, "ip", None)
        NOTED.set()
        try:
            with pytest.raises(Interrupted):
                wait()
        finally:
            NOTED.clear()
        state = slow.network.public_ip_addresses.get(GROUP, "ip").provisioning_state
    assert state == "Deleting"  # still going on in Azure


def test_deploy_reference_sends_each_write_one_poll_and_reads_back_only_what_it_reads(
    clients: Clients,
) -> None:
    plan = build_plan(load_topology(REFERENCE))
    report = deploy(
        plan,
        clients,
        _Silent(),
        ssh_public_key=SSH_PUBLIC_KEY,
        shared_key=None,
        cancel=threading.Event(),
    )
    assert report.ok, [o.detail for o in report.failed]
    rows = sent(clients, 0)
    puts = Counter(what for method, what in rows if method == "PUT")
    operations = sum(puts.values()) - puts["resourcegroups"] - puts["networkWatchers"]
    # Every long-running write is polled once: its first poll finds it done.
    assert rows.count(("GET", "poll")) == operations
    # Resources read one by one: only the kinds whose answers deploy uses (the local
    # network gateways' remote facts, the record's addresses), each once after its
    # write; the rest of the reads are observe's (the group and its lists). The two
    # Bastions' public IPs are read too: read_back is a kind's, not a resource's.
    reads = Counter(what for method, what in rows if method == "GET" and what in PUT_TYPES)
    assert reads == {"virtualNetworkGateways": 2, "publicIPAddresses": 4, "networkInterfaces": 6}
    assert {what: puts[what] for what in reads} == reads
