"""The served emulator the contract suite speaks raw HTTP to.

``hubvpn emulator serve`` runs as a real subprocess on a free loopback port
with its own state directory. Every xdist worker starts its own servers:

- ``arm``: HUBVPN_EMULATOR_SPEED=360000 (a 30-minute gateway takes 5 ms);
- ``slow``: speed 60 (a 2-minute connection takes 2 s), to watch transient states;
- ``slow_gateway``: speed 1200 (a 20-minute gateway update takes 1 s).

The slow servers share the fast server's state directory (the emulator's SQLite
world is shared between processes, each keeping its own clock speed), so a test
builds quickly through ``arm`` and sends only the operation it watches through a
slow server. Slow servers start on first use. Each test gets its own resource
group (``rg``), so tests never see each other's resources.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from contract.armhttp import API, SUBSCRIPTION, Arm, Group, create_group

FAST_SPEED = "360000"
SLOW_SPEED = "60"
SLOW_GATEWAY_SPEED = "1200"
START_POLLS = 500  # bounded wait for the server's first answer


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Servers:
    """Emulator processes of this worker, one per speed, started on first use."""

    def __init__(self, state: Path, logs: Path) -> None:
        self.state = state
        self.logs = logs
        self.started: dict[str, tuple[subprocess.Popen[bytes], Arm]] = {}

    def at(self, speed: str) -> Arm:
        if speed not in self.started:
            self.started[speed] = self._start(speed)
        return self.started[speed][1]

    def _start(self, speed: str) -> tuple[subprocess.Popen[bytes], Arm]:
        env = dict(os.environ)
        env.update(HUBVPN_STATE_DIR=str(self.state), HUBVPN_EMULATOR_SPEED=speed)
        # Tests share the world and pick their regions freely: the subscription opts out
        # of Network Watcher's automatic creation (tests/test_emulator_watcher.py pins it).
        env["HUBVPN_EMULATOR_NO_AUTO_WATCHER"] = "1"
        for name in ("HUBVPN_EMULATOR_FAULTS", "HUBVPN_EMULATOR_LATENCY_MS"):
            env.pop(name, None)
        log = self.logs / f"serve-{speed}.log"
        for _attempt in range(3):  # another process may take the free port first
            port = _free_port()
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "hubvpn", "emulator", "serve", "--port", str(port)],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            arm = Arm(f"http://127.0.0.1:{port}")
            for _ in range(START_POLLS):
                if process.poll() is not None:
                    break
                try:
                    arm.get(f"/subscriptions/{SUBSCRIPTION}", api_version=API)
                except requests.ConnectionError:
                    time.sleep(0.02)
                    continue
                return process, arm
            _stop(process)
        raise RuntimeError(f"hubvpn emulator serve did not start:\n{log.read_text()}")

    def stop(self) -> None:
        for process, arm in self.started.values():
            arm.http.close()
            _stop(process)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("contract")
    registry = Servers(root / "state", root)
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def arm(servers: Servers) -> Arm:
    return servers.at(FAST_SPEED)


@pytest.fixture(scope="session")
def slow(servers: Servers, arm: Arm) -> Arm:
    return servers.at(SLOW_SPEED)


@pytest.fixture(scope="session")
def slow_gateway(servers: Servers, arm: Arm) -> Arm:
    return servers.at(SLOW_GATEWAY_SPEED)


@pytest.fixture
def rg(arm: Arm) -> Group:
    """A fresh resource group in West Europe, unique to the test."""
    return create_group(arm, f"rg-ct-{uuid.uuid4().hex[:12]}")
