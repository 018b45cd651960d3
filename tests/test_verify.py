"""verify and status on a lab that is changed out of band, not fully deployed, or whose
tunnels lag provisioning.

Out-of-band changes go through the real SDK against the emulator, as a person with
the portal or the Azure CLI would make them.
"""

from __future__ import annotations

import copy
import signal
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from azure.mgmt.network import models as n
from test_deploy import GROUP, deployed

from hubvpn.azure import Clients, connect, resolve_target
from hubvpn.diagnostics import awaited, settle
from hubvpn.interrupts import NOTED
from hubvpn.observe import Observed
from hubvpn.plan import Plan
from hubvpn.verify import MAX_PARALLEL_CHECKS, run_checks, verify

__all__ = ["deployed"]  # the fixture, shared with test_deploy

CONNECTION = "conn-vpngw-hub01-vpngw-hub02"
BACK = "conn-vpngw-hub02-vpngw-hub01"


def mismatches(clients: Clients, plan: Plan) -> set[tuple[str, str]]:
    result = verify(plan, clients, 22)
    return {(p.source, p.destination) for p in result.probes if p.reachable != p.expected}


def test_verify_after_spoke_peering_deleted_out_of_band_fails_naming_it(
    clients: Clients, deployed: Plan
) -> None:
    clients.network.virtual_network_peerings.begin_delete(
        GROUP, "vnet-spoke10", "spoke10-to-hub00"
    ).result()
    result = verify(deployed, clients, 22)
    assert (result.ok, result.deployed) == (False, False)
    assert result.incomplete == ("spoke10-to-hub00 (missing)",)
    assert {p.reachable for p in result.probes} == {None}  # no false mismatches


def test_verify_after_one_side_shared_key_changed_fails_across_the_hubs(
    clients: Clients, deployed: Plan
) -> None:
    clients.network.virtual_network_gateway_connections.begin_set_shared_key(
        GROUP, CONNECTION, n.ConnectionSharedKey(value="Another-key-for-one-side-7c1e")
    ).result()
    result = verify(deployed, clients, 22)
    # NotConnected is an answer (a key mismatch), not a tunnel still coming up.
    assert (result.ok, result.deployed, result.converged) == (False, True, True)
    hub00_side = {"vm-hub00", "vm-spoke10", "vm-spoke20"}
    hub100_side = {"vm-hub100", "vm-spoke110", "vm-spoke120"}
    crossing = {(a, b) for a in hub00_side for b in hub100_side}
    crossing |= {(b, a) for a, b in crossing}
    assert mismatches(clients, deployed) == crossing


def test_verify_on_deployed_lab_passes_before_any_out_of_band_change(
    clients: Clients, deployed: Plan
) -> None:
    result = verify(deployed, clients, 22)
    assert (result.ok, result.deployed, result.converged, result.incomplete) == (
        True,
        True,
        True,
        (),
    )


# --------------------------------------------------- tunnels lag provisioning


def lagging(observed: Observed, status: str) -> Observed:
    """The same lab with one provisioned connection reporting ``status`` (as Azure
    does right after provisioning: Succeeded, connectionStatus Unknown)."""
    key = f"connection:{CONNECTION}"
    model = observed.resources[key]
    changed = copy.deepcopy(model)
    changed.connection_status = status
    return Observed(
        observed.group,
        {**observed.resources, key: changed},
        observed.watchers,
        observed.extra,
    )


def reader(snapshots: list[Observed]) -> tuple[Callable[[], Observed], list[int]]:
    reads = [0]

    def read() -> Observed:
        reads[0] += 1
        return snapshots[min(reads[0], len(snapshots)) - 1]

    return read, reads


def observed_lab(clients: Clients, plan: Plan) -> Observed:
    from functools import partial

    from hubvpn.diagnostics import bgp_peer_calls
    from hubvpn.observe import observe

    return observe(clients, GROUP, partial(bgp_peer_calls, plan, clients))


def test_awaited_names_a_provisioned_connection_whose_tunnel_is_not_up(
    clients: Clients, deployed: Plan
) -> None:
    lab = observed_lab(clients, deployed)
    assert awaited(deployed, lab) == ()
    assert awaited(deployed, lagging(lab, "Unknown")) == (f"connection {CONNECTION} (Unknown)",)
    assert awaited(deployed, lagging(lab, "NotConnected")) == ()  # an answer, not a wait


def test_settle_waits_visibly_until_the_tunnel_is_up(clients: Clients, deployed: Plan) -> None:
    lab = observed_lab(clients, deployed)
    read, reads = reader([lagging(lab, "Unknown"), lagging(lab, "Connecting"), lab])
    shown: list[tuple[str, ...]] = []
    # a bound far beyond what the test needs: it returns as soon as the tunnel is up
    observed, still = settle(deployed, clients, read, shown.append, wait_s=36000.0 * 600)
    assert (observed, still, reads[0]) == (lab, (), 3)
    assert shown == [
        (f"connection {CONNECTION} (Unknown)",),
        (f"connection {CONNECTION} (Connecting)",),
    ]


def test_settle_gives_up_after_its_bound_and_says_what_is_awaited(
    clients: Clients, deployed: Plan
) -> None:
    lab = lagging(observed_lab(clients, deployed), "Unknown")
    read, reads = reader([lab])
    shown: list[tuple[str, ...]] = []
    _, still = settle(deployed, clients, read, shown.append, wait_s=0.0)
    assert still == (f"connection {CONNECTION} (Unknown)",)
    assert (shown, reads[0]) == ([still], 1)


def test_awaited_names_a_bgp_session_not_up_over_a_connected_tunnel(
    clients: Clients, deployed: Plan
) -> None:
    lab = observed_lab(clients, deployed)
    peers = lab.extra["peers:vpngw-hub01"]
    idle = copy.deepcopy(peers)
    for peer in idle["value"]:
        peer["state"] = "Connecting"
    late = Observed(
        lab.group, lab.resources, lab.watchers, {**lab.extra, "peers:vpngw-hub01": idle}
    )
    neighbor = peers["value"][0]["neighbor"]
    assert awaited(deployed, late) == (f"BGP session vpngw-hub01 → {neighbor} (Connecting)",)


def test_run_checks_counts_each_answer_once_up_to_the_total() -> None:
    told: list[tuple[int, int]] = []

    def fails() -> None:
        raise ValueError("refused")

    calls: dict[str, Callable[[], object]] = {f"p{i}": (lambda i=i: i) for i in range(40)}
    calls["bad"] = fails
    results = run_checks(calls, lambda done, total: told.append((done, total)))
    assert told == [(i, 41) for i in range(42)]
    assert {k: v for k, v in results.items() if k != "bad"} == {f"p{i}": i for i in range(40)}
    assert isinstance(results["bad"], ValueError)


def test_run_checks_interrupted_starts_no_queued_check_and_stops_those_in_flight() -> None:
    """Ctrl-C (here: SIGINT sent by the first check) raises KeyboardInterrupt between
    two answers; the queued checks never start and those in flight stop waiting."""
    started: list[int] = []
    stopped: list[bool] = []
    lock = threading.Lock()

    def check(i: int) -> int:
        with lock:
            started.append(i)
        if i == 0:
            signal.raise_signal(signal.SIGINT)  # handled in the main thread
        stopped.append(NOTED.wait(60))  # in flight, as result_of waits for Azure
        return i

    calls = {f"p{i}": partial(check, i=i) for i in range(200)}
    with pytest.raises(KeyboardInterrupt):
        run_checks(calls, lambda done, total: None)
    assert len(started) <= MAX_PARALLEL_CHECKS
    assert len(stopped) == len(started) and all(stopped)  # none waited for Azure


def test_verify_after_deploy_counts_every_check(clients: Clients, deployed: Plan) -> None:
    told: list[tuple[int, int]] = []
    result = verify(deployed, clients, 22, counted=lambda d, t: told.append((d, t)))
    assert told == [(i, len(result.probes)) for i in range(len(result.probes) + 1)]


def test_verify_sends_one_check_and_one_poll_per_probe(
    clients: Clients, deployed: Plan, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verify(deployed, clients, 22)  # tunnels and BGP sessions up: one read of the lab next
    # A check takes 30 Azure seconds: half a second here, long enough for an early poll
    # to find it running; the first poll waits the Retry-After of the 202.
    monkeypatch.setenv("HUBVPN_EMULATOR_SPEED", "60")
    with connect(resolve_target("emulator", None), state_dir) as slower:
        assert slower.emulator is not None
        since = len(slower.emulator.store.requests())
        result = verify(deployed, slower, 22)
        sent = slower.emulator.store.requests()[since:]
    checks = [r for r in sent if r["path"].split("?")[0].endswith("/connectivityCheck")]
    polls = [
        r for r in sent if "/operationResults/" in r["path"] and "/networkWatchers" not in r["path"]
    ]
    assert result.ok
    assert (len(checks), len(result.probes)) == (30, 30)
    # and one poll per check, besides the BGP peer queries' (one per gateway)
    assert len(polls) == len(checks) + 2
