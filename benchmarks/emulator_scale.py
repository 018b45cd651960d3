"""Emulator cost against world size: ``python benchmarks/emulator_scale.py 12 20``.

For each N, deploys an N-hub full mesh (2 spokes per hub, ``bench.py``'s
topology) on a fresh emulator at a high speed (so the figures are the
emulator's and the engine's own cost, not Azure's durations), then measures
CPU time of this process (all threads; the emulator runs in-process) per request:

- deploy: wall time, ARM requests, CPU ms per request;
- a no-op redeploy: wall time, requests, CPU ms per request;
- GETs of one VNet and of one connection, LISTs of the group's NICs and connections,
  through the real SDK (the least CPU ms per call of three rounds: the machine is
  shared, the least is the one least disturbed);
- peak RSS of a ``hubvpn deploy`` child process of the same mesh (``--rss``).

CPU per request is the figure to compare between versions: wall time on a shared
machine measures the other processes too. Prints one line per N and one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _mesh_toml, environment, mesh_topology, timed_deploy

from hubvpn.azure import connect, resolve_target
from hubvpn.plan import build_plan

SPEED = "36000"


def cpu_ms(calls: int, fn: Callable[[], Any], rounds: int = 3) -> float:
    """The least CPU milliseconds of this process per call of ``fn`` over ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - started) * 1000.0 / calls)
    return best


def measure(hubs: int, rss: bool) -> dict[str, Any]:
    topology = mesh_topology(hubs, 2)
    plan = build_plan(topology)
    group = topology.resource_group
    with (
        environment(HUBVPN_EMULATOR_SPEED=SPEED) as state,
        connect(resolve_target("emulator", None), state) as clients,
    ):
        assert clients.emulator is not None
        store = clients.emulator.store
        cpu = time.process_time()
        wall, report = timed_deploy(plan, clients)
        deploy_cpu = time.process_time() - cpu
        assert report.ok, [o.detail for o in report.failed]
        first = len(store.requests())
        cpu = time.process_time()
        noop_wall, again = timed_deploy(plan, clients)
        noop_cpu = time.process_time() - cpu
        assert again.ok
        noop = len(store.requests()) - first
        network = clients.network
        conn = "conn-vpngw-hub0-vpngw-hub1"
        out: dict[str, Any] = {
            "hubs": hubs,
            "top_level_resources": len(
                list(clients.resource.resources.list_by_resource_group(group))
            ),
            "deploy_s": round(wall, 2),
            "deploy_requests": first,
            "deploy_cpu_ms_per_request": round(deploy_cpu * 1000 / first, 2),
            "noop_s": round(noop_wall, 3),
            "noop_requests": noop,
            "noop_cpu_ms_per_request": round(noop_cpu * 1000 / noop, 2),
            "get_vnet_cpu_ms": round(
                cpu_ms(100, lambda: network.virtual_networks.get(group, "vnet-hub0")), 2
            ),
            "get_connection_cpu_ms": round(
                cpu_ms(100, lambda: network.virtual_network_gateway_connections.get(group, conn)), 2
            ),
            "list_nics_cpu_ms": round(
                cpu_ms(5, lambda: list(network.network_interfaces.list(group))), 2
            ),
            "list_connections_cpu_ms": round(
                cpu_ms(5, lambda: list(network.virtual_network_gateway_connections.list(group))), 2
            ),
            "load_average": round(os.getloadavg()[0], 1),
        }
    if rss:
        out["deploy_peak_rss_mb"] = round(child_rss(hubs), 1)
    return out


def child_rss(hubs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp, environment(HUBVPN_EMULATOR_SPEED=SPEED):
        path = Path(tmp) / f"mesh{hubs}.toml"
        path.write_text(_mesh_toml(hubs, 2), encoding="utf-8")
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, sys\n"
                "from hubvpn.cli import main\n"
                "try:\n    main()\n"
                "finally:\n"
                "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                "    print(f'RSS={rss}', file=sys.stderr)",
                "deploy",
                "-c",
                str(path),
                "--target",
                "emulator",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        for line in proc.stderr.splitlines():
            if line.startswith("RSS="):
                return int(line[4:]) / 1024.0
        raise RuntimeError(f"deploy failed ({proc.returncode}): {proc.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("hubs", type=int, nargs="*", default=[12, 20])
    parser.add_argument("--rss", action="store_true", help="also a child deploy's peak RSS")
    args = parser.parse_args()
    results = []
    for hubs in args.hubs:
        result = measure(hubs, args.rss)
        print(result, flush=True)
        results.append(result)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
