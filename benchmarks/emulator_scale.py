"""Emulator cost against world size: ``python benchmarks/emulator_scale.py 12 20``.

For each N, deploys an N-hub full mesh (2 spokes per hub, ``hubvpn.bench``'s
topology) on a fresh emulator at a high speed (so the figures are the
emulator's and the engine's own cost, not Azure's durations), then measures:

- deploy wall time and ARM requests;
- a no-op redeploy: wall time, requests, requests per second;
- 200 GETs of one VNet and 20 LISTs of the group's NICs through the real SDK;
- peak RSS of a ``hubvpn deploy`` child process of the same mesh (``--rss``).

Prints one line per N and one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hubvpn.azure import connect, resolve_target
from hubvpn.bench import _mesh_toml, environment, mesh_topology, timed_deploy
from hubvpn.plan import build_plan

SPEED = "36000"


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
        wall, report = timed_deploy(plan, clients)
        assert report.ok, [o.detail for o in report.failed]
        first = len(store.requests())
        noop_wall, again = timed_deploy(plan, clients)
        assert again.ok
        noop = len(store.requests()) - first
        started = time.perf_counter()
        for _ in range(200):
            clients.network.virtual_networks.get(group, "vnet-hub0")
        get_s = (time.perf_counter() - started) / 200
        started = time.perf_counter()
        for _ in range(20):
            list(clients.network.network_interfaces.list(group))
        list_s = (time.perf_counter() - started) / 20
        resources = len(list(clients.resource.resources.list_by_resource_group(group)))
    out: dict[str, Any] = {
        "hubs": hubs,
        "top_level_resources": resources,
        "deploy_s": round(wall, 2),
        "deploy_requests": first,
        "noop_s": round(noop_wall, 3),
        "noop_requests": noop,
        "noop_requests_per_s": round(noop / noop_wall, 1),
        "get_vnet_ms": round(get_s * 1000, 2),
        "list_nics_ms": round(list_s * 1000, 2),
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
