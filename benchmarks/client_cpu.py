"""CPU seconds of a no-op redeploy, ``status`` and ``verify`` on an N-hub full mesh
(2 spokes per hub) at the emulator's default speed:
``python benchmarks/client_cpu.py --hubs 20 [--state DIR]``.

Wall time is noisy on a shared machine; CPU time is not. The emulator runs in-process,
so each figure is split: the emulator's share is the thread CPU time spent inside its
WSGI app (each request runs in the calling thread), the client's is the rest of the
process's CPU time over the same call. ``--state DIR`` keeps the deployed mesh between
runs (the deploy is then a no-op); ``--profile FILE`` writes a yappi profile (all
threads, CPU clock) of status and verify as pstats.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (  # type: ignore[import-not-found]
    DEFAULT_SPEED,
    KEY,
    EmulatorClock,
    _Silent,
    mesh_topology,
)

from hubvpn.azure import Clients, connect, resolve_target
from hubvpn.deploy import deploy
from hubvpn.plan import build_plan
from hubvpn.status import status
from hubvpn.verify import verify


def measured(clock: EmulatorClock, fn: Callable[[], Any]) -> dict[str, float]:
    before_emulator = clock.seconds
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    emulator = clock.seconds - before_emulator
    return {
        "cpu_s": round(cpu, 2),
        "client_cpu_s": round(cpu - emulator, 2),
        "emulator_cpu_s": round(emulator, 2),
        "wall_s": round(wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hubs", type=int, default=20)
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args()
    state = args.state or Path(f"/tmp/hubvpn-client-cpu-{os.getpid()}")
    state.mkdir(parents=True, exist_ok=True)
    os.environ["HUBVPN_STATE_DIR"] = str(state)
    os.environ["HUBVPN_EMULATOR_SPEED"] = str(DEFAULT_SPEED)
    plan = build_plan(mesh_topology(args.hubs, 2))
    clients: Clients
    with connect(resolve_target("emulator", None), state) as clients:
        adapter = clients.transport  # EmulatorTransport: its WSGI app
        clock = EmulatorClock(adapter.app)
        adapter.app = clock
        report = deploy(
            plan, clients, _Silent(), ssh_public_key=KEY, shared_key=None, cancel=threading.Event()
        )
        if not report.ok:
            raise SystemExit(f"deploy failed: {[o.detail for o in report.failed][:3]}")
        status(plan, clients)  # warm: imports, first models
        profiler: Any = None
        if args.profile is not None:
            import yappi

            yappi.set_clock_type("cpu")
            yappi.start(builtins=False, profile_threads=True)

        def noop() -> None:
            again = deploy(
                plan,
                clients,
                _Silent(),
                ssh_public_key=KEY,
                shared_key=None,
                cancel=threading.Event(),
            )
            if not again.ok:
                raise SystemExit("no-op redeploy failed")

        rows = {
            "noop": measured(clock, noop),
            "status": measured(clock, lambda: status(plan, clients)),
            "verify": measured(clock, lambda: verify(plan, clients, 22)),
        }
        if args.profile is not None:
            import yappi

            yappi.stop()
            profiler = yappi.get_func_stats()
            profiler.save(str(args.profile), type="pstat")
    print(json.dumps({"hubs": args.hubs, "load_1min": os.getloadavg()[0], **rows}))


if __name__ == "__main__":
    main()
