"""The CLI as a person at an 80-column terminal runs it: Typer's runner with a fixed
environment, lines without rich's padding, and the reference lab deployed on the
emulator (no SSH key of the user's: hubvpn generates the lab's pair)."""

from __future__ import annotations

from pathlib import Path

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


def invoke(*args: str | Path, env: dict[str, str | None] | None = None) -> Result:
    """``env`` overrides ENV for one call (COLUMNS=28, a piped run without COLUMNS)."""
    runner = CliRunner(env=ENV)
    return runner.invoke(app, [str(a) for a in args], env=env, prog_name="hubvpn")


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def reference_without_key(tmp_path: Path) -> Path:
    """The reference lab, its VMs pointed at an SSH key that does not exist."""
    text = REFERENCE.read_text(encoding="utf-8")
    path = tmp_path / "topology.toml"
    path.write_text(
        text.replace('"~/.ssh/id_ed25519.pub"', f'"{tmp_path}/absent/id_ed25519.pub"'),
        encoding="utf-8",
    )
    return path


def deploy_reference(directory: Path) -> Path:
    """The reference lab (``reference_without_key``) written to ``directory`` and
    deployed; its path."""
    config = reference_without_key(directory)
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    return config


# plan's cost lines for the reference lab with the bundled price table
COST_LINES = [
    "Estimated cost: $1.82/hour, $43.71/day",
    "  prices: bundled table of 2026-12-01, USD",
    "                         region          n     each/h     hourly     daily",
    "  VPN gateway VpnGw1AZ   japaneast       1 x   0.3610*     0.361      8.66",
    "  VPN gateway VpnGw1AZ   japanwest       1 x   0.3610*     0.361      8.66",
    "  Bastion Standard       japaneast       1 x   0.2900*     0.290      6.96",
    "  Bastion Standard       japanwest       1 x   0.2900*     0.290      6.96",
    "  public IP Standard     japaneast       2 x   0.0050*     0.010      0.24",
    "  public IP Standard     japanwest       2 x   0.0050*     0.010      0.24",
    "  VM Standard_B2ms       japaneast       3 x   0.0832*     0.250      5.99",
    "  VM Standard_B2ms       japanwest       3 x   0.0832*     0.250      5.99",
    "  * the table's price for eastus, westus (none for this region)",
    "  No hourly charge: VNets, peerings, connections, local network gateways, NSGs,",
    "    route tables, NICs.",
    "  Not included: data transfer, peering traffic, VM OS disks.",
]
