"""Shared fixtures: an emulator world per test, reached through the real SDK clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_helpers import TEST_SPEED

from hubvpn.azure import Clients, connect, resolve_target


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("HUBVPN_STATE_DIR", str(state))
    monkeypatch.setenv("HUBVPN_EMULATOR_SPEED", TEST_SPEED)
    monkeypatch.setenv("HUBVPN_PRICES", "offline")  # cost estimates never reach the network
    monkeypatch.delenv("HUBVPN_EMULATOR_FAULTS", raising=False)
    monkeypatch.delenv("HUBVPN_EMULATOR_LATENCY_MS", raising=False)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    for credential in ("AZURE_CLIENT_ID", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        monkeypatch.delenv(credential, raising=False)  # auto would refuse to pick
    monkeypatch.delenv("HUBVPN_RECORD", raising=False)
    monkeypatch.delenv("HUBVPN_DEBUG", raising=False)
    monkeypatch.delenv("HUBVPN_SHARED_KEY", raising=False)
    monkeypatch.setenv("AZURE_CONFIG_DIR", str(tmp_path / "no-azure-cli"))
    return state


@pytest.fixture
def clients(state_dir: Path) -> Iterator[Clients]:
    with connect(resolve_target("emulator", None), state_dir) as c:
        yield c
