"""Deploy under throttling and server errors: one run must succeed, for any seed.

Each seed deploys the reference lab as a real ``hubvpn`` process on a fresh emulator
with ``HUBVPN_EMULATOR_FAULTS=throttle=0.2,error=0.1,seed=N`` (a fifth of all requests
answered 429 with Retry-After, a tenth 500/503), once, and compares the end state with
a clean deploy's. Run as a script for the figures (``python tests/faults.py --seeds 20``)
or through ``tests/test_faults.py`` (a few seeds, in the default suite).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from soak import RUN_TIMEOUT_S, _env, _hubvpn, clean_state, end_state

FAULT_MIX = "throttle=0.2,error=0.1"
EndState = tuple[list[tuple[str, str, str]], list[tuple[str, str]], bool]


@dataclass
class FaultRun:
    seed: int
    exit_code: int
    seconds: float
    requests: int
    throttled: int
    server_errors: int
    end: EndState
    stderr_tail: str


def _counts(state: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(state / "emulator.db")
    try:
        rows = db.execute("SELECT status, count(*) FROM requests GROUP BY status").fetchall()
    finally:
        db.close()
    by_status = dict(rows)
    return (
        sum(by_status.values()),
        by_status.get(429, 0),
        sum(n for status, n in by_status.items() if status >= 500),
    )


def deploy_once(seed: int, state: Path) -> FaultRun:
    started = time.monotonic()
    run = subprocess.run(
        _hubvpn("deploy"),
        env=_env(state, f"{FAULT_MIX},seed={seed}"),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )
    seconds = time.monotonic() - started
    requests, throttled, errors = _counts(state)
    tail = "\n".join(run.stderr.splitlines()[-6:])
    return FaultRun(
        seed, run.returncode, seconds, requests, throttled, errors, end_state(state), tail
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="hubvpn deploy under faults, one run per seed")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=1)
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        clean = clean_state(Path(tmp) / "clean")
        runs = [deploy_once(seed, Path(tmp) / f"seed{seed}") for seed in seeds]
    ok = [r.seed for r in runs if r.exit_code == 0 and r.end == clean]
    for r in runs:
        verdict = "ok" if r.seed in ok else f"FAILED\n{r.stderr_tail}"
        print(
            f"seed {r.seed:2d}: exit {r.exit_code} in {r.seconds:.1f} s, {r.requests} requests, "
            f"429s {r.throttled}, 5xx {r.server_errors}, end state "
            f"{'= clean' if r.end == clean else 'DIFFERS'}: {verdict}"
        )
    print(
        json.dumps(
            {
                "faults": FAULT_MIX,
                "seeds": len(runs),
                "succeeded_in_one_run": len(ok),
                "requests": sum(r.requests for r in runs),
                "throttled_429": sum(r.throttled for r in runs),
                "server_errors_5xx": sum(r.server_errors for r in runs),
                "max_seconds": round(max(r.seconds for r in runs), 1),
            }
        )
    )
    sys.exit(0 if len(ok) == len(runs) else 1)


if __name__ == "__main__":
    main()
