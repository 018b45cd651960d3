"""The end-to-end path against a real subscription: ``pytest -m live``.

Runs only when ``HUBVPN_LIVE_SUBSCRIPTION`` names a subscription (credentials through
DefaultAzureCredential: ``az login``, a service principal's AZURE_* variables, or a
managed identity); otherwise every test here is skipped with that reason, and the
default suite deselects them (``-m "not live"`` in pyproject). Modelled on moto's
``aws_verified``: the same tests, the same commands, another backend.

The reference lab is deployed into a resource group with a random suffix, inspected
(status with BGP peers, learned and effective routes), verified, redeployed (which must
write nothing), and destroyed; the group is destroyed at the end even when a test
fails. Expect about an hour (VPN gateways) and the gateways' hourly cost.

``HUBVPN_LIVE_EMULATOR=1`` runs the very same tests on the embedded emulator (which is
how they are tested here); ``HUBVPN_RECORD=DIR`` keeps every command's sanitised
traffic as recordings for tests/recorded/.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hubvpn.cli import app

LIVE_ENV = "HUBVPN_LIVE_SUBSCRIPTION"
LIVE_ON_EMULATOR_ENV = "HUBVPN_LIVE_EMULATOR"
REFERENCE = Path(__file__).resolve().parents[2] / "config" / "topology.toml"
CONVERGE_TIMEOUT_S = 900.0  # tunnels and BGP sessions come up minutes after provisioning
CONVERGE_POLL_S = 30.0
EMULATOR_SPEED = "36000"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not (os.environ.get(LIVE_ENV) or os.environ.get(LIVE_ON_EMULATOR_ENV)),
        reason=f"{LIVE_ENV} is not set: live tests need an Azure subscription id",
    ),
]


@dataclass(frozen=True)
class Lab:
    config: Path
    resource_group: str
    target_args: tuple[str, ...]
    on_emulator: bool


def invoke(lab: Lab, *args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"COLUMNS": "200", **(env or {})})
    return runner.invoke(app, [*args, "-c", str(lab.config), *lab.target_args], input=None)


def json_of(result: Result) -> Any:
    assert result.exit_code in (0, 1), result.stderr
    return json.loads(result.stdout)


def lab_config(directory: Path, resource_group: str) -> Path:
    """The reference lab, in another resource group."""
    text = REFERENCE.read_text(encoding="utf-8")
    text, replaced = re.subn(
        r'(?m)^resource_group = "[^"]*"', f'resource_group = "{resource_group}"', text
    )
    assert replaced == 1
    path = directory / "topology.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _delete_group_directly(lab: Lab) -> None:
    """Last resort when destroy refused or failed: the group is this run's own."""
    from hubvpn.azure import connect, resolve_target

    if lab.on_emulator:
        return
    target = resolve_target("azure", os.environ[LIVE_ENV])
    with connect(target) as clients:
        groups = clients.resource.resource_groups
        if groups.check_existence(lab.resource_group):
            groups.begin_delete(lab.resource_group).result()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    on_emulator = not os.environ.get(LIVE_ENV)
    base = tmp_path_factory.mktemp("live")
    group = f"rg-hubvpn-live-{secrets.token_hex(3)}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HUBVPN_STATE_DIR", str(base / "state"))
        env.delenv("HUBVPN_TARGET", raising=False)
        if on_emulator:
            env.setenv("HUBVPN_EMULATOR_SPEED", EMULATOR_SPEED)
            target_args: tuple[str, ...] = ("--target", "emulator")
        else:
            target_args = ("--target", "azure", "--subscription", os.environ[LIVE_ENV])
        lab = Lab(lab_config(base, group), group, target_args, on_emulator)
        try:
            yield lab
        finally:
            # Always, even when a test failed: a lab left behind bills by the hour.
            destroyed = invoke(lab, "destroy", "--yes")
            if destroyed.exit_code != 0:
                _delete_group_directly(lab)


def converged(status: dict[str, Any]) -> bool:
    connections = status["connections"]
    peers = [p for g in status["gateways"] for p in g["peers"]]
    return (
        bool(connections)
        and all(c["connectionStatus"] == "Connected" for c in connections)
        and bool(peers)
        and all(p["state"] == "Connected" for p in peers)
    )


def test_live_deploy_reference_lab_succeeds(lab: Lab) -> None:
    result = invoke(lab, "deploy", "--yes")
    assert result.exit_code == 0, result.stderr


def test_live_status_shows_bgp_peers_and_routes(lab: Lab) -> None:
    deadline = time.monotonic() + CONVERGE_TIMEOUT_S
    status = json_of(invoke(lab, "status", "--output", "json"))
    while not converged(status) and time.monotonic() < deadline:
        time.sleep(0 if lab.on_emulator else CONVERGE_POLL_S)
        status = json_of(invoke(lab, "status", "--output", "json"))
    assert converged(status), status["connections"]
    assert all(r["provisioningState"] == "Succeeded" for r in status["resources"])
    learned = {
        g["name"]: {route["network"] for route in g["learnedRoutes"] if route["origin"] == "EBgp"}
        for g in status["gateways"]
    }
    # Each hub learns the other hub's VNet and its spokes over BGP.
    assert {"10.100.0.0/16", "10.110.0.0/16", "10.120.0.0/16"} <= learned["vpngw-hub01"]
    assert {"10.0.0.0/16", "10.10.0.0/16", "10.20.0.0/16"} <= learned["vpngw-hub02"]
    spoke10 = status["effectiveRoutes"]["vm-spoke10"]
    via_gateway = {
        prefix
        for route in spoke10
        if route["nextHopType"] == "VirtualNetworkGateway"
        for prefix in route["addressPrefix"]
    }
    assert "10.100.0.0/16" in via_gateway


def test_live_verify_matrix_matches_prediction(lab: Lab) -> None:
    result = invoke(lab, "verify", "--output", "json")
    report = json_of(result)
    assert report["ok"], [p for p in report["probes"] if p["reachable"] != p["expected"]]
    assert result.exit_code == 0


def test_live_redeploy_sends_no_write(lab: Lab, tmp_path: Path) -> None:
    record = tmp_path / "redeploy"
    result = invoke(lab, "deploy", "--yes", env={"HUBVPN_RECORD": str(record)})
    assert result.exit_code == 0, result.stderr
    (recording,) = record.glob("*.json")
    entries = json.loads(recording.read_text(encoding="utf-8"))["Entries"]
    assert entries  # it did read
    writes = [
        f"{e['RequestMethod']} {e['RequestUri']}"
        for e in entries
        if e["RequestMethod"] in ("PUT", "PATCH", "DELETE")
    ]
    assert writes == []


def test_live_destroy_removes_group(lab: Lab) -> None:
    result = invoke(lab, "destroy", "--yes")
    assert result.exit_code == 0, result.stderr
    again = invoke(lab, "destroy", "--yes")
    assert again.exit_code == 0
    assert f"Nothing to destroy: resource group {lab.resource_group} does not exist." in (
        again.stderr
    )
