"""Secrets never leak: a known pre-shared key and the generated SSH private key are
searched for in everything a full run prints and writes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hubvpn.cli import app

KNOWN_KEY = "Sup3r-Secret-PSK-0f1e2d3c"


@pytest.fixture
def topology(tmp_path: Path) -> Path:
    """The reference lab, with an SSH key file that does not exist (so one is generated)."""
    reference = Path(__file__).resolve().parents[1] / "config" / "topology.toml"
    text = reference.read_text().replace(
        'ssh_public_key_file = "~/.ssh/id_ed25519.pub"',
        f'ssh_public_key_file = "{tmp_path / "missing.pub"}"',
    )
    path = tmp_path / "topology.toml"
    path.write_text(text)
    return path


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_full_run_never_prints_or_logs_the_shared_key_or_private_key(
    state_dir: Path, topology: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBVPN_SHARED_KEY", KNOWN_KEY)
    runner = CliRunner()
    outputs = []
    for args in (
        ["plan"],
        ["deploy"],
        ["deploy"],
        ["status"],
        ["status", "--output", "json"],
        ["verify", "--output", "json"],
        ["emulator", "requests", "--output", "json"],
    ):
        result = runner.invoke(app, [*args, "-c", str(topology)] if args[0] != "emulator" else args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    private = state_dir / "ssh" / "id_ed25519_hubvpn"
    private_text = private.read_text()
    secret_lines = [line for line in private_text.splitlines() if "PRIVATE KEY" not in line]
    for out in outputs:
        assert KNOWN_KEY not in out
        assert all(line not in out for line in secret_lines)
    # Only the files meant to hold them do: the emulator's database (Azure's own
    # store of the connection key) and the private key file, both mode 0600.
    for path in _files(state_dir):
        data = path.read_bytes()
        if KNOWN_KEY.encode() in data:
            assert path.name.startswith("emulator.db"), path
        if secret_lines[0].encode() in data:
            assert path == private, path
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_dir / "emulator.db").st_mode) == 0o600
    db = sqlite3.connect(state_dir / "emulator.db")
    try:
        logged = " ".join(str(row) for row in db.execute("SELECT * FROM requests"))
        stored = " ".join(str(row) for row in db.execute("SELECT data FROM resources"))
    finally:
        db.close()
    assert KNOWN_KEY not in logged
    assert KNOWN_KEY not in stored  # only the secrets table holds it


def test_invalid_shared_key_error_does_not_echo_the_key(
    state_dir: Path, topology: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_key = "x" * 129 + "-LEAKME"  # Azure allows 1-128 characters
    monkeypatch.setenv("HUBVPN_SHARED_KEY", bad_key)
    result = CliRunner().invoke(app, ["deploy", "-c", str(topology)])
    assert result.exit_code == 1
    assert "InvalidSharedKey" in result.output
    assert "LEAKME" not in result.output
