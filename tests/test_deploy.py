"""hubvpn.deploy, inspect and destroy against the emulator, through the real Azure SDK.

Each test gets its own emulator world (the ``clients`` fixture) in which a gateway
takes 50 ms, so a whole lab deploys in well under a second.
"""

from __future__ import annotations

import ipaddress
import json
import signal
import threading
import tomllib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.core.rest import HttpRequest, HttpResponse
from emulator_helpers import REFERENCE

from hubvpn.azure import Clients, connect, resolve_target
from hubvpn.config import Topology, load_topology, parse_topology
from hubvpn.deploy import Report, deploy
from hubvpn.destroy import destroy
from hubvpn.errors import OwnershipError
from hubvpn.interrupts import ctrl_c_noted
from hubvpn.plan import Plan, Step, build_plan
from hubvpn.preview import plan_against
from hubvpn.status import status
from hubvpn.verify import verify

TOPOLOGIES = Path(__file__).parent / "topologies"
GROUP = "rg-multi-hub-vpn"
TAG = "hubvpn-topology"
WRITES = frozenset({"PUT", "PATCH", "DELETE"})
SHARED_KEY = "Psk-for-tests-3f9c1d7a2b"
CONNECTIONS = ("conn-vpngw-hub01-vpngw-hub02", "conn-vpngw-hub02-vpngw-hub01")


class Recorder:
    """A reporter that keeps every event, in order (steps report from worker threads)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.plan: Plan | None = None
        self.finished_calls = 0
        self._lock = threading.Lock()

    def started(self, plan: Plan) -> None:
        self.plan = plan

    def step(self, step: Step, state: str, detail: str = "") -> None:
        with self._lock:
            self.events.append((step.key, state, detail))

    def finished(self) -> None:
        self.finished_calls += 1

    def index(self, key: str, state: str) -> int:
        return self.events.index(next(e for e in self.events if e[:2] == (key, state)))


@cache
def ssh_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = Ed25519PrivateKey.generate().public_key()
    openssh = public.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return openssh.decode() + " hubvpn-test"


def reference() -> Topology:
    return load_topology(REFERENCE)


def reference_data() -> dict[str, Any]:
    return tomllib.loads(REFERENCE.read_text(encoding="utf-8"))


def run(
    plan: Plan,
    clients: Clients,
    *,
    shared_key: str | None = None,
    key: str | None = "generate",
    cancel: threading.Event | None = None,
    recorder: Recorder | None = None,
) -> tuple[Report, Recorder]:
    recorder = recorder or Recorder()
    report = deploy(
        plan,
        clients,
        recorder,
        ssh_public_key=ssh_key() if key == "generate" else key,
        shared_key=shared_key,
        cancel=cancel or threading.Event(),
    )
    return report, recorder


def requests(clients: Clients) -> list[dict[str, Any]]:
    assert clients.emulator is not None
    return clients.emulator.store.requests()


def writes(clients: Clients, since: int = 0) -> list[dict[str, Any]]:
    return [r for r in requests(clients)[since:] if r["method"] in WRITES]


def create_group(clients: Clients, tags: dict[str, str] | None) -> None:
    from azure.mgmt.resource.resources import models

    clients.resource.resource_groups.create_or_update(
        GROUP, models.ResourceGroup(location="japaneast", tags=tags)
    )


def states(report: Report) -> dict[str, str]:
    return {key: outcome.state for key, outcome in report.outcomes.items()}


@pytest.fixture
def deployed(clients: Clients) -> Plan:
    plan = build_plan(reference())
    report, _ = run(plan, clients)
    assert report.ok, [o.detail for o in report.failed]
    return plan


# ----------------------------------------------------------------- deploy


def test_deploy_reference_creates_every_resource(clients: Clients) -> None:
    plan = build_plan(reference())
    report, recorder = run(plan, clients)
    assert report.ok
    assert states(report) == {s.key: "created" for s in plan.steps}
    assert report.writes == len(plan.steps)
    assert recorder.plan is plan
    assert recorder.finished_calls == 1


def test_deploy_reference_starts_each_step_after_its_dependencies_finish(
    clients: Clients,
) -> None:
    plan = build_plan(reference())
    report, recorder = run(plan, clients)
    assert report.ok
    for step in plan.steps:
        began = recorder.index(step.key, "creating")
        for dependency in step.depends_on:
            assert recorder.index(dependency, "created") < began, (step.key, dependency)


def test_deploy_reference_spoke_peering_is_sent_after_hub_gateway_succeeded(
    clients: Clients,
) -> None:
    report, recorder = run(build_plan(reference()), clients)
    assert report.ok
    gateway_done = recorder.index("virtual_network_gateway:vpngw-hub01", "created")
    assert gateway_done < recorder.index("peering:vnet-spoke10/spoke10-to-hub00", "creating")
    assert gateway_done < recorder.index("local_network_gateway:lng-vpngw-hub01", "creating")
    # never refused for a hub without gateway, not even on a retry
    assert not [e for e in recorder.events if "RemoteVnetHasNoGateways" in e[2]]


def test_deploy_twice_sends_no_write_and_changes_nothing(clients: Clients, deployed: Plan) -> None:
    before = len(requests(clients))
    report, _ = run(deployed, clients)
    assert report.ok
    assert states(report) == {s.key: "unchanged" for s in deployed.steps}
    assert report.writes == 0
    assert writes(clients, before) == []


def test_deploy_twice_reads_only_what_observe_reads(clients: Clients, deployed: Plan) -> None:
    # A no-op costs observe's reads and nothing per step: the group, one LIST per kind,
    # the watchers, one extension LIST per VM and one GET per connection (which carries
    # its sharedKey: no .../sharedkey read per connection).
    before = len(requests(clients))
    report, _ = run(deployed, clients)
    assert report.ok
    rows = requests(clients)[before:]
    vms = sum(1 for s in deployed.steps if s.kind == "virtual_machine")
    connections = sum(1 for s in deployed.steps if s.kind == "connection")
    assert [r["path"] for r in rows if r["path"].endswith("/sharedkey")] == []
    assert len(rows) == 1 + 11 + vms + connections


def test_deploy_added_spoke_creates_only_its_resources(clients: Clients, deployed: Plan) -> None:
    data = reference_data()
    data["hubs"][0]["spokes"].append(
        {"name": "spoke30", "address_space": "10.30.0.0/16", "default_subnet": "10.30.0.0/24"}
    )
    plan = build_plan(parse_topology(data, Path("with-spoke30.toml")))
    before = len(requests(clients))

    report, _ = run(plan, clients)

    new = {
        "network_security_group:nsg-spoke30-default",
        "virtual_network:vnet-spoke30",
        "peering:vnet-hub00/hub00-to-spoke30",
        "peering:vnet-spoke30/spoke30-to-hub00",
        "network_interface:nic-spoke30",
        "virtual_machine:vm-spoke30",
        "vm_extension:vm-spoke30/AzureNetworkWatcherExtension",
    }
    assert report.ok
    assert states(report) == {s.key: "created" if s.key in new else "unchanged" for s in plan.steps}
    written = {r["path"].rsplit("/", 1)[-1] for r in writes(clients, before)}
    assert written == {
        "nsg-spoke30-default",
        "vnet-spoke30",
        "hub00-to-spoke30",
        "spoke30-to-hub00",
        "nic-spoke30",
        "vm-spoke30",
        "AzureNetworkWatcherExtension",
    }
    assert {r["method"] for r in writes(clients, before)} == {"PUT"}
    assert all("spoke30" in r["path"] for r in writes(clients, before))


def test_deploy_added_spoke_is_advertised_to_the_remote_hub(
    clients: Clients, deployed: Plan
) -> None:
    data = reference_data()
    data["hubs"][0]["spokes"].append(
        {"name": "spoke30", "address_space": "10.30.0.0/16", "default_subnet": "10.30.0.0/24"}
    )
    plan = build_plan(parse_topology(data, Path("with-spoke30.toml")))
    report, _ = run(plan, clients)
    assert report.ok
    hub02 = next(g.as_json() for g in status(plan, clients).gateways if g.name == "vpngw-hub02")
    assert {
        "network": "10.30.0.0/16",
        "nextHop": "10.0.200.254",
        "origin": "EBgp",
        "asPath": "65150",
        "sourcePeer": "10.0.200.254",
        "weight": 32768,
    } in hub02["learnedRoutes"]


def test_deploy_recreates_a_deleted_connection_with_the_pair_key(
    clients: Clients, deployed: Plan
) -> None:
    ops = clients.network.virtual_network_gateway_connections
    key = ops.get_shared_key(GROUP, CONNECTIONS[1]).value
    ops.begin_delete(GROUP, CONNECTIONS[0]).result()
    before = len(requests(clients))

    report, _ = run(deployed, clients)

    assert report.ok
    assert {k for k, s in states(report).items() if s != "unchanged"} == {
        f"connection:{CONNECTIONS[0]}"
    }
    assert {r["path"].rsplit("/", 1)[-1] for r in writes(clients, before)} == {CONNECTIONS[0]}
    assert ops.get_shared_key(GROUP, CONNECTIONS[0]).value == key
    connections = status(deployed, clients).connections
    assert [c.connection_status for c in connections] == ["Connected", "Connected"]


def test_deploy_without_ssh_key_fails_vms_and_skips_their_extensions(clients: Clients) -> None:
    plan = build_plan(reference())
    report, _ = run(plan, clients, key=None)
    assert not report.ok
    assert {o.step.name for o in report.failed} == {
        "vm-hub00",
        "vm-spoke10",
        "vm-spoke20",
        "vm-hub100",
        "vm-spoke110",
        "vm-spoke120",
    }
    assert {o.detail for o in report.failed} == {"no SSH public key for the VMs"}
    assert {o.step.kind for o in report.skipped} == {"vm_extension"}
    assert len(report.skipped) == 6
    assert report.count("created") == len(plan.steps) - 12


def test_deploy_cancelled_before_start_sends_no_write(clients: Clients) -> None:
    cancel = threading.Event()
    cancel.set()
    report, _ = run(build_plan(reference()), clients, cancel=cancel)
    assert report.interrupted
    assert not report.ok
    assert report.writes == 0
    assert writes(clients) == []


def test_first_ctrl_c_is_noted_not_raised_and_a_second_raises() -> None:
    """Within a run a Ctrl-C raises nothing where the main thread happens to be (it may
    hold a lock the workers need); a second one raises at once."""
    cancel = threading.Event()
    before = signal.getsignal(signal.SIGINT)
    with ctrl_c_noted(cancel) as pressed:
        signal.raise_signal(signal.SIGINT)  # its handler runs in this (the main) thread
        assert (pressed.is_set(), cancel.is_set()) == (True, True)
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


class CtrlC(Recorder):
    """Presses Ctrl-C (SIGINT to this process) when the first VM starts creating."""

    def step(self, step: Step, state: str, detail: str = "") -> None:
        super().step(step, state, detail)
        if step.kind == "virtual_machine" and state == "creating" and not self.pressed:
            self.pressed = True
            signal.raise_signal(signal.SIGINT)  # from a worker: handled in the main thread

    pressed = False


def test_deploy_interrupted_by_ctrl_c_reports_what_was_in_flight(clients: Clients) -> None:
    plan = build_plan(reference())
    report, recorder = run(plan, clients, recorder=CtrlC())
    assert isinstance(recorder, CtrlC) and recorder.pressed
    assert report.interrupted
    # Nothing starts after the Ctrl-C: no VM had finished when it came, so no extension
    # (each waits for its VM) was sent; what was running is listed, if it still was.
    extensions = [o for o in report.outcomes.values() if o.step.kind == "vm_extension"]
    assert all(o.state != "created" for o in extensions)
    assert report.count("created") < len(plan.steps)
    assert all(step.key not in report.outcomes for step in report.in_progress)
    assert recorder.finished_calls == 1
    assert not [t for t in threading.enumerate() if t.name.startswith("hubvpn_") and not t.daemon]


@pytest.mark.parametrize(
    ("tags", "owner"),
    [
        (None, "no hubvpn topology (no tag)"),
        ({"env": "prod"}, "no hubvpn topology (no tag)"),
        ({TAG: "other-lab"}, "topology 'other-lab'"),
    ],
)
def test_deploy_into_group_not_owned_raises_ownership_error_without_writing(
    clients: Clients, tags: dict[str, str] | None, owner: str
) -> None:
    create_group(clients, tags)
    before = len(requests(clients))
    with pytest.raises(OwnershipError) as raised:
        run(build_plan(reference()), clients)
    assert str(raised.value) == (
        f"resource group '{GROUP}' belongs to {owner}, not 'multi-hub-vpn': refusing to "
        f"write into it (hubvpn touches only a group tagged {TAG}=multi-hub-vpn)"
    )
    assert writes(clients, before) == []


# ----------------------------------------------------------------- status


def test_status_after_deploy_shows_every_resource_succeeded(
    clients: Clients, deployed: Plan
) -> None:
    result = status(deployed, clients).as_json()
    assert (result["deployed"], result["missing"], result["converged"]) == (True, [], True)
    assert len(result["resources"]) == len(deployed.steps)
    assert {r["provisioningState"] for r in result["resources"]} == {"Succeeded"}
    names = {r["name"] for r in result["resources"]}
    assert {GROUP, "vnet-hub00", "vpngw-hub01", "lng-vpngw-hub02", "vm-spoke10"} <= names
    assert all(r["id"].startswith("/subscriptions/") for r in result["resources"])


def test_status_after_deploy_lists_the_network_watchers_it_created(
    clients: Clients, deployed: Plan
) -> None:
    # the watchers live apart from the other resources when read (listed subscription-wide)
    found = {r.name: r.id for r in status(deployed, clients).resources}
    for region in ("japaneast", "japanwest"):
        assert (
            f"/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_{region}"
            in found[f"NetworkWatcher_{region}"]
        )


# ------------------------------------------------------- network watchers
# azure-facts.md "As recorded": one watcher per region and subscription; Azure creates
# NetworkWatcher_<region> in NetworkWatcherRG; deleting a watcher deletes the region's flow
# logs, connection monitors and packet captures. A lab uses the region's watcher.


def watcher_ids(clients: Clients) -> list[str]:
    return sorted(w.id for w in clients.network.network_watchers.list_all())


def regional_watcher_elsewhere(clients: Clients, location: str = "japaneast") -> str:
    """A watcher someone else made for ``location``, in their own group."""
    from azure.mgmt.network import models as n
    from azure.mgmt.resource.resources import models as r

    clients.resource.resource_groups.create_or_update("rg-ops", r.ResourceGroup(location=location))
    watcher = clients.network.network_watchers.create_or_update(
        "rg-ops", "nw-ops", n.NetworkWatcher(location=location)
    )
    return str(watcher.id)


def test_deploy_creates_region_watchers_in_network_watcher_rg_untagged(
    clients: Clients, deployed: Plan
) -> None:
    sub = f"/subscriptions/{clients.subscription_id}/resourceGroups/NetworkWatcherRG"
    assert watcher_ids(clients) == [
        f"{sub}/providers/Microsoft.Network/networkWatchers/NetworkWatcher_{region}"
        for region in ("japaneast", "japanwest")
    ]
    group = clients.resource.resource_groups.get("NetworkWatcherRG")
    assert not group.tags
    lab = clients.resource.resources.list_by_resource_group(GROUP)
    assert [w.name for w in lab if w.type == "Microsoft.Network/networkWatchers"] == []


def test_deploy_uses_the_region_watcher_wherever_it_lives(clients: Clients) -> None:
    theirs = regional_watcher_elsewhere(clients)
    plan = build_plan(reference())
    report, _ = run(plan, clients)
    assert report.ok
    watcher = report.outcomes["network_watcher:NetworkWatcher_japaneast"]
    assert (watcher.state, watcher.detail) == ("unchanged", "uses rg-ops/nw-ops")
    assert len(watcher_ids(clients)) == 2 and theirs in watcher_ids(clients)
    assert verify(plan, clients, 22).ok
    ids = {r.id for r in status(plan, clients).resources}
    assert theirs in ids


def test_deploy_uses_a_watcher_that_appeared_meanwhile(clients: Clients) -> None:
    class Racer(Recorder):
        def started(self, plan: Plan) -> None:  # after deploy observed, before it writes
            super().started(plan)
            self.theirs = regional_watcher_elsewhere(clients)

    recorder = Racer()
    report, _ = run(build_plan(reference()), clients, recorder=recorder)
    assert report.ok, [o.detail for o in report.failed]
    watcher = report.outcomes["network_watcher:NetworkWatcher_japaneast"]
    assert (watcher.state, watcher.detail) == ("unchanged", "uses rg-ops/nw-ops")
    assert recorder.theirs in watcher_ids(clients)
    assert not any(i.endswith("NetworkWatcher_japaneast") for i in watcher_ids(clients))


def test_destroy_leaves_every_network_watcher(clients: Clients, deployed: Plan) -> None:
    before = watcher_ids(clients)
    assert len(before) == 2
    destroy(deployed.topology, clients)
    assert watcher_ids(clients) == before


def test_status_after_deploy_shows_both_connections_connected(
    clients: Clients, deployed: Plan
) -> None:
    assert status(deployed, clients).as_json()["connections"] == [
        {"name": name, "connectionStatus": "Connected", "provisioningState": "Succeeded"}
        for name in CONNECTIONS
    ]


def test_status_after_deploy_reads_each_connection_with_a_get(
    clients: Clients, deployed: Plan
) -> None:
    # Azure's LIST of connections omits connectionStatus and sharedKey; a GET of one
    # connection carries them (azure-sdk-assets net/sdk/network/Azure.ResourceManager.Network/
    # tests/SessionRecords/GatewayOperationsTests/VirtualNetworkGatewayConnectionWithBgpTest.json).
    since = len(requests(clients))
    status(deployed, clients)
    gets = {
        r["path"].split("?")[0].rsplit("/", 1)[-1]
        for r in requests(clients)[since:]
        if r["method"] == "GET" and "/providers/Microsoft.Network/connections/" in r["path"]
    }
    assert gets == set(CONNECTIONS)


def diagnostics_sent(rows: list[dict[str, Any]]) -> dict[str, int]:
    """POST actions by name, and the polls of their operations ("poll")."""
    out: dict[str, int] = {}
    for r in rows:
        path = r["path"].split("?")[0]
        if r["method"] == "POST":
            name = path.rsplit("/", 1)[-1]
        elif "/operationResults/" in path or "/operations/" in path:
            name = "poll"
        else:
            continue
        out[name] = out.get(name, 0) + 1
    return out


def test_status_of_the_lab_sends_no_advertised_routes_query_and_polls_each_once(
    clients: Clients, deployed: Plan, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status(deployed, clients)  # tunnels and BGP sessions up: the next status reads once
    # A query takes 10 Azure seconds: 1/6 s here, long enough for an early poll to miss.
    monkeypatch.setenv("HUBVPN_EMULATOR_SPEED", "60")
    with connect(resolve_target("emulator", None), state_dir) as slower:
        since = len(requests(slower))
        result = status(deployed, slower)
        sent = diagnostics_sent(requests(slower)[since:])
    # Per gateway its BGP peers and learned routes, per test VM its effective routes;
    # the first poll waits the Retry-After of the 202, so it finds each one done.
    assert sent == {
        "getBgpPeerStatus": 2,
        "getLearnedRoutes": 2,
        "effectiveRouteTable": 6,
        "poll": 10,
    }
    assert [g.as_json()["advertisedRoutes"] for g in result.gateways] == [None, None]


def test_status_of_one_hub_queries_only_its_gateway_and_vms(
    clients: Clients, deployed: Plan
) -> None:
    status(deployed, clients, hub="hub00")
    since = len(requests(clients))
    result = status(deployed, clients, hub="hub00")
    read_again = {
        r["path"].split("?")[0].rsplit("/", 1)[-1]
        for r in requests(clients)[since:]
        if r["method"] == "GET" and "/providers/Microsoft.Network/connections/" in r["path"]
    }
    # Its own connection's status, and the one pointing back (a pair's keys compared).
    assert read_again == {"conn-vpngw-hub01-vpngw-hub02", "conn-vpngw-hub02-vpngw-hub01"}
    assert diagnostics_sent(requests(clients)[since:]) == {
        "getBgpPeerStatus": 1,
        "getLearnedRoutes": 1,
        "getAdvertisedRoutes": 1,
        "effectiveRouteTable": 3,
        "poll": 6,
    }
    assert [g.name for g in result.gateways] == ["vpngw-hub01"]
    assert sorted(result.effective_routes) == ["vm-hub00", "vm-spoke10", "vm-spoke20"]
    assert list(result.gateways[0].advertised_routes) == ["10.100.200.254"]


def test_status_after_deploy_hub01_learns_remote_prefixes_over_ebgp(
    clients: Clients, deployed: Plan
) -> None:
    gateways = {g["name"]: g for g in status(deployed, clients).as_json()["gateways"]}
    hub01 = gateways["vpngw-hub01"]
    assert (hub01["asn"], hub01["bgpPeeringAddress"]) == (65150, "10.0.200.254")
    assert [(p["neighbor"], p["asn"], p["state"]) for p in hub01["peers"]] == [
        ("10.100.200.254", 65151, "Connected")
    ]
    ebgp = [r for r in hub01["learnedRoutes"] if r["origin"] == "EBgp"]
    assert sorted(ebgp, key=lambda r: r["network"]) == [
        {
            "network": prefix,
            "nextHop": "10.100.200.254",
            "origin": "EBgp",
            "asPath": "65151",
            "sourcePeer": "10.100.200.254",
            "weight": 32768,
        }
        for prefix in ("10.100.0.0/16", "10.110.0.0/16", "10.120.0.0/16")
    ]


def test_status_after_deploy_spoke10_routes_remote_prefixes_via_gateway(
    clients: Clients, deployed: Plan
) -> None:
    routes = [
        (prefix, r["nextHopType"])
        for r in status(deployed, clients).as_json()["effectiveRoutes"]["vm-spoke10"]
        if r["state"] == "Active"
        for prefix in r["addressPrefix"]
    ]
    assert ("10.10.0.0/16", "VnetLocal") in routes
    assert ("10.0.0.0/16", "VNetPeering") in routes
    for remote in ("10.100.0.0/16", "10.110.0.0/16", "10.120.0.0/16"):
        assert (remote, "VirtualNetworkGateway") in routes
    spoke20 = ipaddress.IPv4Network("10.20.0.0/16")
    covering = {(p, hop) for p, hop in routes if ipaddress.IPv4Network(p).overlaps(spoke20)}
    # peering is not transitive: the longest match for spoke20 drops the packet
    assert covering == {("10.0.0.0/8", "None"), ("0.0.0.0/0", "Internet")}


def test_status_before_deploy_reports_nothing_deployed(clients: Clients) -> None:
    plan = build_plan(reference())
    result = status(plan, clients)
    assert not result.deployed
    assert (result.resources, result.connections, result.gateways) == ((), (), ())
    assert result.effective_routes == {}
    assert result.missing == tuple(s.key for s in plan.steps)
    assert writes(clients) == []


# ----------------------------------------------------------------- verify


def test_verify_after_deploy_measures_what_the_plan_predicts(
    clients: Clients, deployed: Plan
) -> None:
    probes = verify(deployed, clients, 22).probes
    assert len(probes) == 30
    assert [(p.source, p.destination) for p in probes if p.reachable != p.expected] == []
    for p in probes:
        assert bool(p.hops) == p.reachable, (p.source, p.destination)
    blocked = next(p for p in probes if (p.source, p.destination) == ("vm-spoke10", "vm-spoke20"))
    assert (blocked.address, blocked.reachable, blocked.hops) == ("10.20.0.4", False, ())
    assert blocked.detail.endswith("route 10.0.0.0/8 next hop None drops 10.20.0.4")


def test_verify_before_deploy_measures_nothing(clients: Clients) -> None:
    result = verify(build_plan(reference()), clients, 22)
    assert (result.ok, result.deployed, result.incomplete) == (
        False,
        False,
        (f"{GROUP} (missing)",),
    )
    assert len(result.probes) == 30
    assert {p.reachable for p in result.probes} == {None}
    assert writes(clients) == []


# ------------------------------------------------------------ shared key


@pytest.mark.parametrize("given", [SHARED_KEY, None], ids=["from-env", "generated"])
def test_deploy_never_shows_the_shared_key(clients: Clients, given: str | None) -> None:
    plan = build_plan(reference())
    report, recorder = run(plan, clients, shared_key=given)
    assert report.ok
    ops = clients.network.virtual_network_gateway_connections
    keys = {ops.get_shared_key(GROUP, name).value for name in CONNECTIONS}
    assert len(keys) == 1  # one pre-shared key on both sides
    key = keys.pop()
    assert key and (given is None or key == given)

    log = json.dumps(requests(clients))
    shown = repr(recorder.events) + repr(
        [(o.state, o.detail, o.code) for o in report.outcomes.values()]
    )
    assert key not in log
    assert key not in shown


def test_deploy_twice_with_same_shared_key_keeps_it(clients: Clients) -> None:
    plan = build_plan(reference())
    run(plan, clients, shared_key=SHARED_KEY)
    before = len(requests(clients))
    report, _ = run(plan, clients, shared_key=SHARED_KEY)
    assert states(report) == {s.key: "unchanged" for s in plan.steps}
    assert writes(clients, before) == []


def connection_put_bodies(clients: Clients) -> list[dict[str, Any]]:
    """Capture the body of every connection PUT that reaches the emulator (the wire)."""
    seen: list[dict[str, Any]] = []

    def capture(request: HttpRequest, response: HttpResponse) -> None:
        path = urlsplit(request.url).path
        wanted = "/connections/" in path and not path.endswith("/sharedkey")
        if request.method == "PUT" and wanted and request.content:
            seen.append(json.loads(request.content))

    clients.transport.observers.append(capture)
    return seen


def test_deploy_every_connection_put_carries_the_pair_key(clients: Clients) -> None:
    # Azure may generate a new key for a connection PUT without one (issue 9): creates
    # and updates alike send the pair's key.
    bodies = connection_put_bodies(clients)
    plan = build_plan(reference())
    assert run(plan, clients, shared_key=SHARED_KEY)[0].ok
    ops = clients.network.virtual_network_gateway_connections
    connection = ops.get(GROUP, CONNECTIONS[0])
    connection.tags = {}  # drift in an owned field: deploy must update the connection
    ops.begin_create_or_update(GROUP, CONNECTIONS[0], connection).result()
    bodies.clear()
    report, _ = run(plan, clients, shared_key=SHARED_KEY)
    assert states(report)[f"connection:{CONNECTIONS[0]}"] == "updated"
    assert [b["properties"].get("sharedKey") for b in bodies] == [SHARED_KEY]


def test_deploy_with_another_shared_key_rewrites_both_connections(clients: Clients) -> None:
    plan = build_plan(reference())
    assert run(plan, clients, shared_key=SHARED_KEY)[0].ok
    before = len(requests(clients))
    report, _ = run(plan, clients, shared_key="Another-psk-for-tests-77")
    assert report.ok
    assert sorted((r["method"], r["path"].rsplit("/", 1)[-1]) for r in writes(clients, before)) == [
        ("PUT", name) for name in CONNECTIONS
    ]
    ops = clients.network.virtual_network_gateway_connections
    assert {ops.get_shared_key(GROUP, n).value for n in CONNECTIONS} == {"Another-psk-for-tests-77"}


# ---------------------------------------------------------------- destroy


def test_destroy_deletes_the_group_and_a_second_destroy_finds_it_absent(
    clients: Clients, deployed: Plan
) -> None:
    topology = deployed.topology
    first = destroy(topology, clients)
    assert (first.state, first.resources) == ("deleted", 36)  # top-level resources only; no watcher
    assert not clients.resource.resource_groups.check_existence(GROUP)
    second = destroy(topology, clients)
    assert (second.state, second.resources) == ("absent", 0)


@pytest.mark.parametrize(
    ("tags", "owner"),
    [({TAG: "other-lab"}, "topology 'other-lab'"), (None, "no hubvpn topology (no tag)")],
)
def test_destroy_refuses_a_group_it_does_not_own(
    clients: Clients, tags: dict[str, str] | None, owner: str
) -> None:
    create_group(clients, tags)
    before = len(requests(clients))
    with pytest.raises(OwnershipError) as raised:
        destroy(reference(), clients)
    assert str(raised.value) == (
        f"resource group '{GROUP}' belongs to {owner}, not 'multi-hub-vpn': refusing to "
        f"delete it (hubvpn touches only a group tagged {TAG}=multi-hub-vpn)"
    )
    assert writes(clients, before) == []
    assert clients.resource.resource_groups.check_existence(GROUP)


# -------------------------------------------------------------- three hubs


def test_deploy_three_hub_mesh_connects_every_pair(clients: Clients) -> None:
    plan = build_plan(load_topology(TOPOLOGIES / "three_hub_mesh.toml"))
    report, _ = run(plan, clients)
    assert report.ok, [o.detail for o in report.failed]
    connections = status(plan, clients).connections
    assert len(connections) == 6
    assert {c.connection_status for c in connections} == {"Connected"}
    probes = verify(plan, clients, 22).probes
    assert len(probes) == 12
    assert all(p.reachable and p.expected for p in probes)


def test_deploy_three_hub_mesh_across_regions_connects_every_pair(clients: Clients) -> None:
    # each region gets its own local network gateway for a remote hub: no
    # ConnectionGatewaysInDifferentRegion
    data = tomllib.loads((TOPOLOGIES / "three_hub_mesh.toml").read_text(encoding="utf-8"))
    data["hubs"][1]["location"] = "japanwest"
    data["hubs"][2]["location"] = "eastus"
    plan = build_plan(parse_topology(data, Path("three-regions.toml")))
    report, _ = run(plan, clients)
    assert [o.detail for o in report.failed] == []
    assert {c.connection_status for c in status(plan, clients).connections} == {"Connected"}


def test_plan_names_the_region_watcher_it_uses(clients: Clients) -> None:
    regional_watcher_elsewhere(clients)
    steps = {s["key"]: s for s in plan_against(reference(), clients).as_json()["steps"]}
    assert steps["network_watcher:NetworkWatcher_japaneast"]["action"] == "keep"
    assert steps["network_watcher:NetworkWatcher_japaneast"]["reason"] == "uses rg-ops/nw-ops"
    assert steps["network_watcher:NetworkWatcher_japanwest"]["action"] == "create"
    assert steps["network_watcher:NetworkWatcher_japanwest"]["dependsOn"] == []
