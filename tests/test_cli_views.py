"""status and verify as a person reads them (issue 13): az-shaped routing views,
narrowed verify with hops, every ✗ with its reason. Exact text at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emulator_helpers import REFERENCE
from typer.testing import CliRunner, Result

from hubvpn.cli import app

ENV: dict[str, str | None] = {
    "COLUMNS": "80",
    "HUBVPN_TARGET": None,
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
}
HEADER = "hubvpn verify · target: embedded emulator · topology multi-hub-vpn, TCP 22"
VALID = "vm-hub00, vm-spoke10, vm-spoke20, vm-hub100, vm-spoke110, vm-spoke120"


def invoke(*args: str | Path) -> Result:
    return CliRunner(env=ENV).invoke(app, [str(a) for a in args], prog_name="hubvpn")


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


@pytest.fixture
def deployed(tmp_path: Path, state_dir: Path) -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    config = tmp_path / "topology.toml"
    config.write_text(
        text.replace('"~/.ssh/id_ed25519.pub"', f'"{tmp_path / "none" / "id.pub"}"', 1),
        encoding="utf-8",
    )
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    return config


# ----------------------------------------------------------------- verify


def test_verify_with_unknown_from_exits_2_listing_valid_names(state_dir: Path) -> None:
    result = invoke("verify", "-c", REFERENCE, "--from", "spoke99")
    assert result.exit_code == 2
    assert (
        lines(result.stderr)[-1] == f"error: --from spoke99: no such test VM; valid names: {VALID}"
    )


def test_verify_with_unknown_to_exits_2_before_reading_azure(state_dir: Path) -> None:
    result = invoke("verify", "-c", REFERENCE, "--to", "vm-nope")
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == f"error: --to vm-nope: no such test VM; valid names: {VALID}"
    assert result.stdout == ""


def test_verify_one_pair_prints_its_hops_with_types(deployed: Path) -> None:
    result = invoke("verify", "-c", deployed, "--from", "vm-spoke10", "--to", "vm-hub100")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        "vm-spoke10 → vm-hub100 (10.100.0.4) TCP 22: reachable, avg latency 2 ms",
        "  hop                      address           resource",
        "  Source                   10.10.0.4         nic-spoke10",
        "  VirtualNetworkGateway    10.0.200.4        vpngw-hub01",
        f"  VpnConnection            {public_ip(result)}    conn-vpngw-hub01-vpngw-hub02",
        "  VirtualNetworkGateway    10.100.200.4      vpngw-hub02",
        "  Destination              10.100.0.4        nic-hub100",
    ]
    assert lines(result.stderr)[-1] == "verified: measured matrix equals the prediction"


def public_ip(result: Result) -> str:
    """The VPN connection hop's address: the remote gateway's public IP (allocated)."""
    row = next(line for line in lines(result.stdout) if "VpnConnection" in line)
    address = row.split()[1]
    assert address.count(".") == 3 and len(address) == 14, row
    return address


def test_verify_one_expected_unreachable_pair_says_why(deployed: Path) -> None:
    result = invoke("verify", "-c", deployed, "--from", "spoke10", "--to", "spoke20")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        "vm-spoke10 → vm-spoke20 (10.20.0.4) TCP 22: unreachable",
        "  hop       address      resource",
        "  Source    10.10.0.4    nic-spoke10",
        "✗ as predicted: spoke10 and spoke20 both peer only with hub00; peering is not",
        "transitive (no UDR: routing.spoke_to_spoke is false)",
    ]


def test_verify_from_one_vm_narrows_the_matrix_and_explains_each_cross(
    deployed: Path,
) -> None:
    result = invoke("verify", "-c", deployed, "--from", "spoke10", "--output", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(p["from"], p["to"]) for p in data["probes"]] == [
        ("vm-spoke10", vm)
        for vm in ("vm-hub00", "vm-spoke20", "vm-hub100", "vm-spoke110", "vm-spoke120")
    ]
    blocked = data["probes"][1]
    assert blocked["reason"] == (
        "spoke10 and spoke20 both peer only with hub00; peering is not transitive "
        "(no UDR: routing.spoke_to_spoke is false)"
    )
    assert data["probes"][0]["reason"] is None
    assert [(h["type"], h["resource"]) for h in data["probes"][0]["hopDetails"]] == [
        ("Source", "nic-spoke10"),
        ("VNetPeering", "spoke10-to-hub00"),
        ("Destination", "nic-hub00"),
    ]
    table = invoke("verify", "-c", deployed, "--from", "spoke10")
    assert lines(table.stdout) == [
        "Measured TCP 22",
        "from \\ to  hub00  spoke20  hub100  spoke110  spoke120",
        "spoke10      ✓       ✗       ✓        ✓         ✓",
        "✗ spoke10 → spoke20:  spoke10 and spoke20 both peer only with hub00; peering is",
        "                      not transitive (no UDR: routing.spoke_to_spoke is false)",
    ]


def test_verify_to_repeatable_selects_each_destination(deployed: Path) -> None:
    result = invoke(
        "verify", "-c", deployed, "--to", "hub00", "--to", "vm-spoke120", "--output", "json"
    )
    assert result.exit_code == 0, result.output
    pairs = {(p["from"], p["to"]) for p in json.loads(result.stdout)["probes"]}
    assert {to for _, to in pairs} == {"vm-hub00", "vm-spoke120"}
    assert len(pairs) == 10  # 5 sources to each (every VM but itself)
