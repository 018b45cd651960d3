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


def invoke(*args: str | Path) -> Result:
    return CliRunner(env=ENV).invoke(app, [str(a) for a in args], prog_name="hubvpn")


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def deploy_reference(directory: Path) -> Path:
    """The reference topology written to ``directory`` and deployed; its path."""
    text = REFERENCE.read_text(encoding="utf-8")
    config = directory / "topology.toml"
    config.write_text(
        text.replace('"~/.ssh/id_ed25519.pub"', f'"{directory / "none" / "id.pub"}"', 1),
        encoding="utf-8",
    )
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    return config
