"""The live suite's switches: deselected by default, skipped without a subscription
(naming the variable), and green on the emulator, so its code path is the tested one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_live(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HUBVPN_", "AZURE_"))}
    clean["AZURE_CONFIG_DIR"] = str(ROOT / ".no-azure-cli")
    command = [sys.executable, "-m", "pytest", "tests/live", "-n", "0", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_live_tests_default_run_deselects_them() -> None:
    result = run_live()
    assert result.returncode == 5, result.stdout  # pytest: no tests ran
    assert "5 deselected" in result.stdout


def test_live_tests_without_subscription_skip_naming_it() -> None:
    result = run_live("-m", "live", "-rs")
    assert result.returncode == 0, result.stdout
    assert "5 skipped" in result.stdout
    assert result.stdout.count("HUBVPN_LIVE_SUBSCRIPTION is not set") == 5


def test_live_tests_pass_on_emulator() -> None:
    result = run_live("-m", "live", HUBVPN_LIVE_EMULATOR="1")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "5 passed" in result.stdout
