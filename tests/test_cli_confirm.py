"""On Azure, deploy and destroy ask only after showing what they would do and what it
costs (issue 12). No subscription is reachable here: the target is Azure's (a stand-in
``az`` answers for the credential, as in test_target.py) and its clients talk to the
emulator, so everything between the first line and the prompt is the real path."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import COST_LINES, ENV, lines, reference_without_key
from test_cli import writes
from test_target import SUBSCRIPTION, account, write_profile
from test_target import fake_az as fake_az  # a fixture
from test_target import no_credential as no_credential  # a fixture
from typer.testing import CliRunner, Result

import hubvpn.cli.lab
from hubvpn.azure import Clients, connect, resolve_target
from hubvpn.cli import app


def invoke(*args: str | Path, input: str | None = None) -> Result:
    """At 80 columns, answering the prompt with ``input``."""
    runner = CliRunner(env=ENV)
    return runner.invoke(app, [str(a) for a in args], input=input, prog_name="hubvpn")


@pytest.fixture
def azure_on_emulator(fake_az: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`az login` done on a default subscription; its requests answered by the emulator."""
    write_profile(fake_az, account(SUBSCRIPTION, "Lab Subscription", default=True))

    def emulated(_: object) -> Clients:
        return connect(resolve_target("emulator", None), state_dir)

    monkeypatch.setattr(hubvpn.cli.lab, "connect_to", emulated)


def header(command: str, detail: str = "") -> str:
    return (
        f"hubvpn {command} · target: Azure subscription Lab Subscription ({SUBSCRIPTION}, "
        f"Azure CLI default) · topology multi-hub-vpn{detail}"
    )


def test_deploy_on_azure_shows_plan_and_cost_then_asks(
    azure_on_emulator: None, tmp_path: Path, state_dir: Path
) -> None:
    config = reference_without_key(tmp_path)
    result = invoke("deploy", "-c", config, input="n\n")
    assert result.exit_code == 1
    assert "Plan:" not in result.stdout  # --output json stays clean: all of it on stderr
    err = lines(result.stderr)
    assert err[:4] == [
        header("deploy", f" ({config})"),
        "multi-hub-vpn → rg-multi-hub-vpn: 53 resources (53 to create)",
        "action  type             resource",
        "create  resource group   rg-multi-hub-vpn",
    ]
    cost = err.index(COST_LINES[0])
    assert err[cost : cost + len(COST_LINES)] == COST_LINES
    assert err[cost + len(COST_LINES) :] == [
        "",
        "Plan: 53 to create, 0 to update, 0 to delete, 0 unchanged.",
        "Deploy this into rg-multi-hub-vpn on Azure (about $1.82/hour while it exists)? "
        "[y/N]:error: cancelled",
    ]
    assert writes(state_dir) == []


def test_deploy_on_azure_answered_yes_deploys_what_it_showed(
    azure_on_emulator: None, tmp_path: Path, state_dir: Path
) -> None:
    config = reference_without_key(tmp_path)
    result = invoke("deploy", "-c", config, input="y\n")
    assert result.exit_code == 0, result.stderr
    assert lines(result.stderr)[-1].startswith("Deployed in ")
    assert len([w for w in writes(state_dir) if w["method"] == "PUT"]) >= 53


def test_deploy_on_azure_with_nothing_to_write_does_not_ask(
    azure_on_emulator: None, tmp_path: Path
) -> None:
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config, "--yes").exit_code == 0
    result = invoke("deploy", "-c", config)  # no input: a prompt would fail the run
    assert result.exit_code == 0, result.stderr
    err = lines(result.stderr)
    assert err[1:3] == [
        "multi-hub-vpn → rg-multi-hub-vpn: 53 resources (53 to keep)",
        "Nothing to do: what exists matches the topology.",
    ]
    assert "Plan: 0 to create, 0 to update, 0 to delete, 53 unchanged." in err
    assert not any("[y/N]" in line for line in err)


def test_destroy_on_azure_shows_what_is_deleted_and_saved_then_asks(
    azure_on_emulator: None, tmp_path: Path, state_dir: Path
) -> None:
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config, "--yes").exit_code == 0
    before = len(writes(state_dir))
    result = invoke("destroy", "-c", config, input="n\n")
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        header("destroy"),
        "Deletes resource group rg-multi-hub-vpn and its 36 top-level resources, with",
        "everything in them: 6 NSGs, 6 VNets, 4 public IPs, 2 VPN gateways, 2 local",
        "gateways, 2 connections, 8 peerings, 6 NICs, 6 VMs, 6 VM extensions, 2 Bastions.",
        "Stops paying about $1.82/hour ($43.71/day) for 2 VPN gateways, 2 Bastions,",
        "4 public IPs, 6 VMs.",
        "Delete resource group rg-multi-hub-vpn and its 36 resources? [y/N]:error: cancelled",
    ]
    assert writes(state_dir)[before:] == []
