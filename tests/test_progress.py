"""Progress that says how long is left, on a fake clock (no timing in these tests).

The reference lab's plan is driven by hand through the states deploy reports;
each test reads the exact text a user sees at 80 columns: the live table on a
terminal, the event lines and heartbeats in a pipe, and destroy's heartbeat.
"""

from __future__ import annotations

import io

import pytest
from emulator_helpers import REFERENCE
from rich.console import Console as RichConsole

from hubvpn.config import load_topology
from hubvpn.console import Console, DeployProgress, Heartbeat
from hubvpn.plan import Plan, build_plan
from hubvpn.progress import Done, Progress, outputs, record, short

FIRST = ("resource_group", "network_security_group", "virtual_network", "public_ip")
LONG = ("virtual_network_gateway", "bastion")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def plan() -> Plan:
    return build_plan(load_topology(REFERENCE))


def piped() -> tuple[Console, io.StringIO]:
    console = Console()
    buffer = io.StringIO()
    console.err = RichConsole(file=buffer, width=80, highlight=False, soft_wrap=True)
    return console, buffer


def gateways_running(plan: Plan, progress: DeployProgress, clock: FakeClock) -> None:
    """The first minute creates the quick resources; then gateways and Bastions run."""
    progress.started(plan)
    for step in plan.steps:
        if step.kind in FIRST:
            progress.step(step, "created")
    clock.now = 60.0
    for step in plan.steps:
        if step.kind in LONG:
            progress.step(step, "creating")


def rendered(progress: DeployProgress) -> list[str]:
    out = io.StringIO()
    RichConsole(file=out, width=80).print(progress._render())
    return [line.rstrip() for line in out.getvalue().splitlines()]


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0s"), (45, "45s"), (720, "12m"), (3900, "1h05m")]
)
def test_short_duration_reads_compactly(seconds: float, text: str) -> None:
    assert short(seconds) == text


def test_render_progress_shows_elapsed_of_expected_waits_and_eta(plan: Plan) -> None:
    clock = FakeClock()
    console, _ = piped()
    progress = DeployProgress(console, 1.0, clock)
    gateways_running(plan, progress, clock)
    clock.now = 60.0 + 12 * 60
    assert rendered(progress) == [
        "resource     state     time",
        "vpngw-hub01  creating  12m of ~30m",
        "bas-hub00    creating  12m of ~10m",
        "vpngw-hub02  creating  12m of ~30m",
        "bas-hub100   creating  12m of ~10m",
        "2 connections, 2 peerings, 1 local gateway wait for vpngw-hub02",
        "2 peerings, 1 local gateway wait for vpngw-hub01",
        "17/53 done · 13m elapsed · ~20m left",
    ]


def test_eta_follows_critical_path_of_remaining_steps(plan: Plan) -> None:
    model = Progress(plan, 1.0, started=0.0)
    full, _ = plan.critical_path()
    assert model.remaining(0.0) == full  # nothing started: the whole path
    for step in plan.steps:
        model.update(step, "created", "", 0.0)
    assert model.remaining(0.0) == 0.0
    assert model.footer(0.0) == "53/53 done · 0s elapsed"


def test_expected_time_scales_with_emulator_speed(plan: Plan) -> None:
    model = Progress(plan, 1 / 180, started=0.0)  # the emulator's default speed
    gateway = next(s for s in plan.steps if s.name == "vpngw-hub01")
    row = model.update(gateway, "creating", "", 0.0)
    assert model.row_cells(row, 4.0) == ("vpngw-hub01", "creating", "4s of ~10s")


def test_attached_operation_says_attached_and_counts_from_first_sight(plan: Plan) -> None:
    model = Progress(plan, 1.0, started=0.0)
    gateway = next(s for s in plan.steps if s.name == "vpngw-hub01")
    row = model.update(gateway, "waiting", "provisioning since an earlier run", 30.0)
    assert model.row_cells(row, 90.0) == ("vpngw-hub01", "attached", "1m of ~30m")
    assert model.heartbeats(45.0) == ["waiting for vpngw-hub01 [15s elapsed, ~29m left]"]


def test_piped_deploy_prints_heartbeats_at_most_ten_seconds_apart(plan: Plan) -> None:
    clock = FakeClock()
    console, buffer = piped()
    progress = DeployProgress(console, 1.0, clock)
    gateways_running(plan, progress, clock)
    buffer.truncate(0)
    buffer.seek(0)
    for now in (65.0, 70.0, 75.0, 720.0, 725.0):
        clock.now = now
        progress.heartbeat()
    gateway = next(s for s in plan.steps if s.name == "vpngw-hub01")
    clock.now = 726.0
    progress.step(gateway, "created")
    clock.now = 736.0
    progress.heartbeat()
    assert buffer.getvalue().splitlines() == [
        "[   70.0s] still creating vpngw-hub01 [10s elapsed, ~29m left]",
        "[   70.0s] still creating bas-hub00 [10s elapsed, ~9m left]",
        "[   70.0s] still creating vpngw-hub02 [10s elapsed, ~29m left]",
        "[   70.0s] still creating bas-hub100 [10s elapsed, ~9m left]",
        "[  720.0s] still creating vpngw-hub01 [11m elapsed, ~19m left]",
        "[  720.0s] still creating bas-hub00 [11m elapsed, usually ~10m]",
        "[  720.0s] still creating vpngw-hub02 [11m elapsed, ~19m left]",
        "[  720.0s] still creating bas-hub100 [11m elapsed, usually ~10m]",
        "[  726.0s] created   VPN gateway vpngw-hub01",
        "[  736.0s] still creating bas-hub00 [11m elapsed, usually ~10m]",
        "[  736.0s] still creating vpngw-hub02 [11m elapsed, ~18m left]",
        "[  736.0s] still creating bas-hub100 [11m elapsed, usually ~10m]",
    ]
    assert all(len(line) <= 80 for line in buffer.getvalue().splitlines())


def test_piped_destroy_prints_heartbeat_every_ten_seconds() -> None:
    console, buffer = piped()
    beat = Heartbeat(console, "deleting rg-multi-hub-vpn")
    for elapsed in (0.1, 5.0, 9.9, 10.0, 15.0, 20.5, 95.0):
        beat(elapsed)
    assert buffer.getvalue().splitlines() == [
        "still deleting rg-multi-hub-vpn [10s elapsed]",
        "still deleting rg-multi-hub-vpn [20s elapsed]",
        "still deleting rg-multi-hub-vpn [1m elapsed]",
    ]


def test_record_fits_80_columns_one_line_per_kind(plan: Plan) -> None:
    seconds = {"virtual_network_gateway": 1810.0, "bastion": 610.0, "connection": 95.0}
    done = [Done(s, "created", seconds.get(s.kind, 4.0)) for s in plan.steps]
    assert record(done, 80) == [
        "  resource group    rg-multi-hub-vpn 4s",
        "  NSGs              6 in 4s (slowest nsg-hub00-default)",
        "  VNets             6 in 4s (slowest vnet-hub00)",
        "  public IPs        4 in 4s (slowest pip-bas-hub00)",
        "  VPN gateways      vpngw-hub01 30m, vpngw-hub02 30m",
        "  local gateways    lng-vpngw-hub01 4s, lng-vpngw-hub02 4s",
        "  connections       2 in 1m (slowest conn-vpngw-hub01-vpngw-hub02)",
        "  peerings          8 in 4s (slowest vnet-hub00/hub00-to-spoke10)",
        "  NICs              6 in 4s (slowest nic-hub00)",
        "  VMs               6 in 4s (slowest vm-hub00)",
        "  VM extensions     6 in 4s (slowest vm-hub00/AzureNetworkWatcherExtension)",
        "  Bastions          bas-hub00 10m, bas-hub100 10m",
        "  network watchers  NetworkWatcher_japaneast 4s, NetworkWatcher_japanwest 4s",
    ]


def test_outputs_lists_gateways_by_name_whatever_order_they_finished() -> None:
    from azure.mgmt.network.models import BgpSettings, VirtualNetworkGateway

    def gateway(name: str, asn: int) -> VirtualNetworkGateway:
        gw = VirtualNetworkGateway(ip_configurations=[], bgp_settings=BgpSettings(asn=asn))
        gw.name = name
        return gw

    late_first = {
        "virtual_network_gateway:vpngw-hub02": gateway("vpngw-hub02", 65151),
        "virtual_network_gateway:vpngw-hub01": gateway("vpngw-hub01", 65150),
    }
    assert outputs(late_first) == [
        "  vpngw-hub01  public pending  BGP - (AS 65150)",
        "  vpngw-hub02  public pending  BGP - (AS 65151)",
    ]
