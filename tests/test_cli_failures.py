"""deploy's failures at 80 columns: classified (transient, a group being deleted, the
topology's), identical errors grouped, skipped steps under the failure they needed,
and whether anything was written (issue 12)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import invoke, lines, reference_without_key
from emulator_helpers import REFERENCE
from test_cli import writes

import hubvpn.emulator.arm
from hubvpn.azure import connect, resolve_target
from hubvpn.console import DeployProgress

GROUP = "rg-multi-hub-vpn"
SECONDS = re.compile(r"after \d+\.\d s:")


def after_progress(stderr: str) -> list[str]:
    """The summary that follows the progress lines (their times vary), times masked."""
    out = lines(stderr)
    start = next(i for i, line in enumerate(out) if line.startswith("Deploy failed"))
    return [SECONDS.sub("after N s:", line) for line in out[start:]]


TRANSIENT_SUMMARY = [
    "Deploy failed after N s: 3 created, 10 failed, 40 skipped.",
    "10 resources: InternalServerError (transient: re-run deploy)",
    "  An error occurred while provisioning the resource (injected).",
    "  ✗ NSG nsg-hub00-default, 8 skipped: vnet-hub00, vnet-hub00/hub00-to-spoke10,",
    "      vnet-hub00/hub00-to-spoke20, vnet-spoke10/spoke10-to-hub00,",
    "      vnet-spoke20/spoke20-to-hub00, nic-hub00, vm-hub00,",
    "      vm-hub00/AzureNetworkWatcherExtension",
    "  ✗ NSG nsg-hub100-default, 8 skipped: vnet-hub100,",
    "      vnet-hub100/hub100-to-spoke110, vnet-hub100/hub100-to-spoke120,",
    "      vnet-spoke110/spoke110-to-hub100, vnet-spoke120/spoke120-to-hub100,",
    "      nic-hub100, vm-hub100, vm-hub100/AzureNetworkWatcherExtension",
    "  ✗ NSG nsg-spoke10-default, 4 skipped: vnet-spoke10, nic-spoke10, vm-spoke10,",
    "      vm-spoke10/AzureNetworkWatcherExtension",
    "  ✗ NSG nsg-spoke110-default, 4 skipped: vnet-spoke110, nic-spoke110,",
    "      vm-spoke110, vm-spoke110/AzureNetworkWatcherExtension",
    "  ✗ NSG nsg-spoke120-default, 4 skipped: vnet-spoke120, nic-spoke120,",
    "      vm-spoke120, vm-spoke120/AzureNetworkWatcherExtension",
    "  ✗ NSG nsg-spoke20-default, 4 skipped: vnet-spoke20, nic-spoke20, vm-spoke20,",
    "      vm-spoke20/AzureNetworkWatcherExtension",
    "  ✗ public IP pip-bas-hub00, 1 skipped: bas-hub00",
    "  ✗ public IP pip-bas-hub100, 1 skipped: bas-hub100",
    "  ✗ public IP pip-vpngw-hub01, 3 skipped: vpngw-hub01, lng-vpngw-hub01,",
    "      conn-vpngw-hub01-vpngw-hub02",
    "  ✗ public IP pip-vpngw-hub02, 3 skipped: vpngw-hub02, lng-vpngw-hub02,",
    "      conn-vpngw-hub02-vpngw-hub01",
    "Azure was throttling / failing; your topology is fine: re-run deploy, it resumes",
    "from here.",
]


def test_deploy_failing_with_server_errors_groups_them_as_transient(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every long-running operation ends Failed with Azure's 500 code (the fault knob's
    # other codes are retried by deploy itself): what outlives the retries is said once.
    monkeypatch.setattr(
        hubvpn.emulator.arm,
        "LRO_FAILURE_CODES",
        (("InternalServerError", "An error occurred while provisioning the resource (injected)."),),
    )
    config = reference_without_key(tmp_path)
    result = invoke("deploy", "-c", config, env={"HUBVPN_EMULATOR_FAULTS": "lro_fail=1,seed=1"})
    assert result.exit_code == 1
    assert after_progress(result.stderr) == TRANSIENT_SUMMARY
    assert all(len(line) <= 80 for line in result.stderr.splitlines()[-len(TRANSIENT_SUMMARY) :])


@pytest.fixture
def being_deleted(tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The reference lab deployed, then its group's deletion started (a destroy that was
    interrupted) on a slow clock, so that it is still Deleting when the test runs."""
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config).exit_code == 0
    monkeypatch.setenv("HUBVPN_EMULATOR_SPEED", "1")
    with connect(resolve_target("emulator", None), state_dir) as clients:
        clients.resource.resource_groups.begin_delete(GROUP)
        assert clients.resource.resource_groups.get(GROUP).properties.provisioning_state == (
            "Deleting"
        )
    return config


def test_deploy_into_group_being_deleted_says_wait_for_destroy_and_writes_nothing(
    being_deleted: Path, state_dir: Path
) -> None:
    before = len(writes(state_dir))
    result = invoke("deploy", "-c", being_deleted)
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        f"hubvpn deploy · target: embedded emulator · topology multi-hub-vpn ({being_deleted})",
        "error: rg-multi-hub-vpn is still being deleted (a destroy): wait for destroy to "
        "finish (hubvpn destroy waits for it), then deploy. Nothing was written.",
    ]
    assert writes(state_dir)[before:] == []


def test_plan_shows_group_being_deleted_as_blocked_with_the_reason(being_deleted: Path) -> None:
    result = invoke("plan", "-c", being_deleted, "--detailed-exitcode")
    assert result.exit_code == 1
    out = lines(result.stdout)
    assert out[0] == "multi-hub-vpn → rg-multi-hub-vpn: 53 resources (53 blocked)"
    assert out[1:5] == [
        "action   type             resource",
        "blocked  resource group   rg-multi-hub-vpn",
        "    rg-multi-hub-vpn is still being deleted (a destroy): wait for destroy to",
        "    finish (hubvpn destroy waits for it), then deploy",
    ]
    assert out[5:7] == ["blocked  NSG              nsg-hub00-default", "    (as rg-multi-hub-vpn)"]


def test_deploy_interrupted_before_any_write_says_nothing_was_written(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config).exit_code == 0
    before = len(writes(state_dir))

    def ctrl_c(*_: object) -> None:
        raise KeyboardInterrupt  # where the signal lands: deploy's main thread, at an event

    # Ctrl-C as the first step's outcome arrives (the group: unchanged, nothing running).
    monkeypatch.setattr(DeployProgress, "step", ctrl_c)
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 130
    assert [SECONDS.sub("after N s:", line) for line in lines(result.stderr)[1:]] == [
        "Interrupted after N s: 1 unchanged.",
        "Nothing was written: Azure is as this run found it.",
    ]
    assert writes(state_dir)[before:] == []


def test_plan_throttled_past_its_retries_says_azure_not_topology(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every request answered 429; the retry budget cut to a tenth of a second.
    monkeypatch.setattr("hubvpn.retry.EMULATOR_MIN_BUDGET_S", 0.1)
    result = invoke("plan", "-c", REFERENCE, env={"HUBVPN_EMULATOR_FAULTS": "throttle=1,seed=1"})
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        "hubvpn plan · target: embedded emulator · topology multi-hub-vpn",
        "error: SubscriptionRequestsThrottled: Number of requests for subscription exceeded "
        "the limit. Please try again later.",
        "error: Azure was throttling / failing; your topology is fine: run it again.",
    ]
