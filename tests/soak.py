"""Fault soak: deploy under injected faults, interrupt at a random moment, re-run until
it converges, and compare the end state with a clean deploy's.

Run as a script for the figures (``python tests/soak.py --seeds 20``) or through
``tests/test_soak.py`` (one test per seed). Each deploy is a real ``hubvpn``
process, so Ctrl-C (SIGINT) and a killed process (SIGKILL) are the real thing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "config" / "topology.toml"
FAULT_MIX = "throttle=0.2,error=0.1,lro_fail=0.05"
SPEED = "36000"  # a gateway takes 50 ms: the soak is about faults, not waiting
# The interrupted run goes slower (a gateway takes 1 s) so the signal lands while
# operations are in flight; the re-runs then find them provisioning and attach.
INTERRUPTED_SPEED = "1800"
MAX_RERUNS = 8
RUN_TIMEOUT_S = 120


@dataclass
class SoakResult:
    seed: int
    interrupt: str  # "SIGINT" | "SIGKILL"
    interrupted_after_s: float
    interrupted_exit: int
    reruns: int = 0
    exits: list[int] = field(default_factory=list)
    throttled: int = 0
    server_errors: int = 0
    failed_operations: int = 0
    resources: list[tuple[str, str, str]] = field(default_factory=list)
    connections: list[tuple[str, str]] = field(default_factory=list)
    verify_ok: bool = False


def _env(state: Path, faults: str | None, speed: str = SPEED) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBVPN_", "AZURE_"))}
    env.update(
        HUBVPN_STATE_DIR=str(state),
        HUBVPN_EMULATOR_SPEED=speed,
        AZURE_CONFIG_DIR=str(state / "no-azure-cli"),
    )
    if faults:
        env["HUBVPN_EMULATOR_FAULTS"] = faults
    return env


def _hubvpn(*args: str) -> list[str]:
    return [sys.executable, "-m", "hubvpn", *args, "-c", str(REFERENCE), "--target", "emulator"]


def end_state(state: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], bool]:
    """(resources, connections, verify ok), read in this process without faults."""
    from hubvpn.azure import connect, resolve_target
    from hubvpn.config import load_topology
    from hubvpn.plan import build_plan
    from hubvpn.status import status
    from hubvpn.verify import verify

    plan = build_plan(load_topology(REFERENCE))
    saved = {
        k: os.environ.pop(k, None) for k in ("HUBVPN_EMULATOR_FAULTS", "HUBVPN_EMULATOR_LATENCY_MS")
    }
    speed = os.environ.get("HUBVPN_EMULATOR_SPEED")
    os.environ["HUBVPN_EMULATOR_SPEED"] = SPEED
    try:
        with connect(resolve_target("emulator", None), state) as clients:
            found = status(plan, clients)
            probes = verify(plan, clients, 22).probes
    finally:
        for key, value in {**saved, "HUBVPN_EMULATOR_SPEED": speed}.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    resources = sorted((r.type, r.name, r.provisioning_state) for r in found.resources)
    connections = sorted((c.name, c.connection_status) for c in found.connections)
    return resources, connections, all(p.reachable == p.expected for p in probes)


def _fault_counts(state: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(state / "emulator.db")
    try:
        throttled = db.execute("SELECT count(*) FROM requests WHERE status = 429").fetchone()[0]
        errors = db.execute("SELECT count(*) FROM requests WHERE status IN (500, 503)").fetchone()[
            0
        ]
        failed = sum(
            1
            for (data,) in db.execute("SELECT data FROM operations")
            if json.loads(data).get("status") == "Failed"
        )
    finally:
        db.close()
    return throttled, errors, failed


def soak(seed: int, state: Path) -> SoakResult:
    dice = random.Random(seed)
    interrupt = signal.SIGINT if seed % 2 else signal.SIGKILL
    # Counted from hubvpn's first line (its target), not from the fork: a signal that
    # lands while the interpreter itself is still starting is Python's, not hubvpn's,
    # and on a loaded machine start-up alone can take over a second.
    delay = dice.uniform(0.1, 1.5)  # imports and observe, then ~1.2 s of deploy
    env = _env(state, f"{FAULT_MIX},seed={seed}", INTERRUPTED_SPEED)
    process = subprocess.Popen(
        _hubvpn("deploy"), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    process.stdout.readline()
    drain = threading.Thread(target=process.stdout.read, daemon=True)
    drain.start()  # keep the pipe flowing so the process never blocks on output
    time.sleep(delay)
    process.send_signal(interrupt)
    code = process.wait(timeout=RUN_TIMEOUT_S)
    result = SoakResult(seed, interrupt.name, round(delay, 2), code)
    for attempt in range(1, MAX_RERUNS + 1):
        env = _env(state, f"{FAULT_MIX},seed={seed * 100 + attempt}")
        run = subprocess.run(
            _hubvpn("deploy"), env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
        )
        result.reruns = attempt
        result.exits.append(run.returncode)
        if run.returncode == 0:
            break
    result.throttled, result.server_errors, result.failed_operations = _fault_counts(state)
    result.resources, result.connections, result.verify_ok = end_state(state)
    return result


def clean_state(state: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], bool]:
    subprocess.run(
        _hubvpn("deploy"),
        env=_env(state, None),
        capture_output=True,
        timeout=RUN_TIMEOUT_S,
        check=True,
    )
    return end_state(state)


def main() -> None:
    parser = argparse.ArgumentParser(description="hubvpn fault soak")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clean = clean_state(Path(tmp) / "clean")
        results = [soak(seed, Path(tmp) / f"seed{seed}") for seed in range(1, args.seeds + 1)]
    lost = [r.seed for r in results if (r.resources, r.connections, r.verify_ok) != clean]
    for r in results:
        print(
            f"seed {r.seed:2d}: {r.interrupt} after {r.interrupted_after_s:.2f} s "
            f"(exit {r.interrupted_exit}), re-runs {r.reruns} {r.exits}, "
            f"429s {r.throttled}, 5xx {r.server_errors}, failed ops {r.failed_operations}, "
            f"end state {'= clean' if r.seed not in lost else 'DIFFERS'}"
        )
    print(
        json.dumps(
            {
                "seeds": len(results),
                "deploy_runs": sum(1 + r.reruns for r in results),
                "reruns_needed": sum(r.reruns for r in results),
                "max_reruns": max(r.reruns for r in results),
                "throttled_429": sum(r.throttled for r in results),
                "server_errors_5xx": sum(r.server_errors for r in results),
                "failed_operations": sum(r.failed_operations for r in results),
                "differs_from_clean": lost,
            }
        )
    )
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
