"""Benchmark against the emulator: ``python benchmarks/bench.py [--runs N]``.

Prints a readable table and one JSON object. Every figure is a ratio or count
measured in the same run (median of ``--runs``):

- deploy_vs_critical_path: deploy wall time / the critical path of the
  emulator's own durations (at a speed where a gateway takes 30 s), for the
  reference lab and a 6-hub full mesh with 2 spokes per hub;
- noop_redeploy: wall time and reads/writes of a second deploy;
- status_round_trips: (status at 300 ms latency - status at 0) / 0.3 s;
- startup: ``hubvpn --help`` wall time / ``python -c "import typer, rich"``;
- peak RSS of a 6-hub deploy (a child process), and the ARM requests a deploy costs;
- scale rows (``--hubs 2,12,20``): full meshes with 2 spokes per hub at the emulator's
  default speed (a gateway takes 10 s): deploy / critical path, deploy time relative to
  the 2-hub deploy of the same run, the fewest ARM tokens left in the subscription's
  buckets (x-ms-ratelimit-remaining-subscription-reads/-writes seen on any response),
  no-op redeploy (wall, requests, writes), status and verify wall time, and the peak
  RSS of a ``hubvpn deploy`` child process of the mesh (emulator in-process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hubvpn.azure import Clients, connect, resolve_target
from hubvpn.config import Topology, load_topology, parse_topology
from hubvpn.deploy import Report, deploy
from hubvpn.emulator.resources import KINDS
from hubvpn.plan import Plan, Step, build_plan
from hubvpn.status import status
from hubvpn.verify import verify

GATEWAY_AZURE_S = 1800.0
BENCH_GATEWAY_S = 30.0  # the speed: a gateway takes 30 s
REFERENCE = Path(__file__).resolve().parents[1] / "config" / "topology.toml"
WRITE_METHODS = ("PUT", "PATCH", "DELETE", "POST")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBench bench"


class _Silent:
    def started(self, plan: Plan) -> None:
        """Nothing to show."""

    def step(self, step: Step, state: str, detail: str = "") -> None:
        """Nothing to show."""

    def finished(self) -> None:
        """Nothing to show."""


class EmulatorClock:
    """Sums the thread CPU time spent inside the emulator's WSGI app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seconds = 0.0
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Iterable[bytes]:
        started = time.thread_time()
        body = list(self.app(environ, start_response))
        spent = time.thread_time() - started
        with self._lock:
            self.seconds += spent
        return body


def mesh_topology(hubs: int, spokes: int) -> Topology:
    return parse_topology(tomllib.loads(_mesh_toml(hubs, spokes)), Path(f"<mesh{hubs}>"))


def emulator_critical_path(plan: Plan) -> float:
    """Azure seconds of the longest chain, using the emulator's own durations."""
    durations = {}
    for step in plan.steps:
        kind = KINDS.get(step.arm_type.lower())
        durations[step.key] = kind.create_s if kind is not None else 0.0
    seconds, _ = plan.critical_path(durations)
    return seconds


@contextmanager
def environment(**values: str) -> Iterator[Path]:
    saved = {k: os.environ.get(k) for k in values}
    with tempfile.TemporaryDirectory(prefix="hubvpn-bench-") as tmp:
        os.environ.update(values)
        os.environ["HUBVPN_STATE_DIR"] = tmp
        try:
            yield Path(tmp)
        finally:
            os.environ.pop("HUBVPN_STATE_DIR", None)
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    writes = sum(1 for r in rows if r["method"] in ("PUT", "PATCH", "DELETE"))
    return {"requests": len(rows), "writes": writes, "reads": len(rows) - writes}


def timed_deploy(plan: Plan, clients: Clients) -> tuple[float, Report]:
    started = time.perf_counter()
    report = deploy(
        plan, clients, _Silent(), ssh_public_key=KEY, shared_key=None, cancel=threading.Event()
    )
    return time.perf_counter() - started, report


def deploy_once(topology: Topology, speed: float) -> dict[str, Any]:
    plan = build_plan(topology)
    with (
        environment(HUBVPN_EMULATOR_SPEED=str(speed)) as state,
        connect(resolve_target("emulator", None), state) as clients,
    ):
        assert clients.emulator is not None
        wall, report = timed_deploy(plan, clients)
        if not report.ok:
            raise RuntimeError(f"deploy failed: {[o.detail for o in report.failed]}")
        first = _counts(clients.emulator.store.requests())
        noop_wall, again = timed_deploy(plan, clients)
        rows = clients.emulator.store.requests()
        noop = _counts(rows[first["requests"] :])
        assert again.ok
    critical_wall = emulator_critical_path(plan) / speed
    return {
        "wall_s": wall,
        "critical_path_s": critical_wall,
        "ratio": wall / critical_wall,
        "requests": first,
        "noop_wall_s": noop_wall,
        "noop": noop,
    }


def status_time(topology: Topology, latency_ms: float, speed: float) -> float:
    plan = build_plan(topology)
    with environment(HUBVPN_EMULATOR_SPEED=str(speed)) as state:
        with connect(resolve_target("emulator", None), state) as clients:
            timed_deploy(plan, clients)
        os.environ["HUBVPN_EMULATOR_LATENCY_MS"] = str(latency_ms)
        try:
            with connect(resolve_target("emulator", None), state) as clients:
                started = time.perf_counter()
                status(plan, clients)
                return time.perf_counter() - started
        finally:
            os.environ.pop("HUBVPN_EMULATOR_LATENCY_MS", None)


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - started


def startup_ratio(runs: int) -> tuple[float, float, float]:
    hubvpn = [sys.executable, "-m", "hubvpn", "--help"]
    baseline = [sys.executable, "-c", "import typer, rich"]
    _timed(hubvpn)  # warm the file cache
    cli = statistics.median(_timed(hubvpn) for _ in range(runs))
    base = statistics.median(_timed(baseline) for _ in range(runs))
    return cli / base, cli, base


def peak_rss_mb(topology_file: Path, speed: float) -> float:
    """Peak RSS of `hubvpn deploy` of a mesh, measured on the child process.

    RUSAGE_CHILDREN's ru_maxrss is the largest child's so far: the figure is this
    child's only if it is the largest (the ``hubvpn --help`` children are far smaller).
    """
    with environment(HUBVPN_EMULATOR_SPEED=str(speed)):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hubvpn",
                "deploy",
                "-c",
                str(topology_file),
                "--target",
                "emulator",
            ],
            check=True,
            capture_output=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(after, before) / 1024.0


DEFAULT_SPEED = 180.0  # the emulator's default: a 30-minute gateway takes 10 s
RATELIMIT = "x-ms-ratelimit-remaining-subscription-"


def scale_row(hubs: int, rss: bool, verify_too: bool = True) -> dict[str, Any]:
    """One N-hub full mesh on a fresh emulator at the default speed."""
    topology = mesh_topology(hubs, 2)
    plan = build_plan(topology)
    least: dict[str, float] = {}

    def remaining(request: Any, response: Any) -> None:
        for bucket in ("reads", "writes"):
            value = response.headers.get(RATELIMIT + bucket)
            if value is not None:
                least[bucket] = min(least.get(bucket, float("inf")), float(value))

    with (
        environment(HUBVPN_EMULATOR_SPEED=str(DEFAULT_SPEED)) as state,
        connect(resolve_target("emulator", None), state) as clients,
    ):
        assert clients.emulator is not None
        clients.transport.observers.append(remaining)  # every attempt, as sent
        wall, report = timed_deploy(plan, clients)
        if not report.ok:
            raise RuntimeError(f"deploy failed: {[o.detail for o in report.failed][:3]}")
        first = _counts(clients.emulator.store.requests())
        noop_wall, again = timed_deploy(plan, clients)
        noop = _counts(clients.emulator.store.requests()[first["requests"] :])
        assert again.ok
        started = time.perf_counter()
        status(plan, clients)
        status_s = time.perf_counter() - started
        verify_s, probes, verify_ok = 0.0, 0, None
        if verify_too:
            started = time.perf_counter()
            verified = verify(plan, clients, 22)
            verify_s = time.perf_counter() - started
            probes, verify_ok = len(verified.probes), verified.ok
    critical = emulator_critical_path(plan) / DEFAULT_SPEED
    row: dict[str, Any] = {
        "hubs": hubs,
        "steps": len(plan.steps),
        "deploy_s": round(wall, 2),
        "critical_path_s": round(critical, 2),
        "deploy_vs_critical_path": round(wall / critical, 3),
        "requests": first,
        "least_remaining_tokens": {k: int(v) for k, v in least.items()},
        "noop": {"wall_s": round(noop_wall, 3), **noop},
        "status_s": round(status_s, 3),
        "verify_s": round(verify_s, 2) if verify_too else None,
        "probes": probes,
        "verify_ok": verify_ok,
    }
    if rss:
        with tempfile.TemporaryDirectory() as tmp:
            mesh_file = Path(tmp) / f"mesh{hubs}.toml"
            mesh_file.write_text(_mesh_toml(hubs, 2), encoding="utf-8")
            row["peak_rss_mb"] = round(peak_rss_mb(mesh_file, DEFAULT_SPEED), 1)
    return row


def scale(hubs: list[int], rss: bool, verify_too: bool = True) -> list[dict[str, Any]]:
    rows = [scale_row(n, rss, verify_too) for n in hubs]
    base = rows[0]["deploy_s"]
    for row in rows:
        row["deploy_vs_first"] = round(row["deploy_s"] / base, 3)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) after the scale rows")
    header = (
        "hubs steps  deploy/cp  vs first  deploy  no-op (req, writes)  status  verify (probes)"
        "  min tokens r/w  RSS"
    )
    print(header)
    for r in rows:
        tokens = r["least_remaining_tokens"]
        print(
            f"{r['hubs']:>4} {r['steps']:>5} {r['deploy_vs_critical_path']:>9.3f}"
            f" {r['deploy_vs_first']:>9.3f} {r['deploy_s']:>6.1f}s"
            f"  {r['noop']['wall_s']:>5.2f}s ({r['noop']['requests']}, {r['noop']['writes']})"
            f"  {r['status_s']:>5.2f}s  {r['verify_s'] or 0:>5.1f}s ({r['probes']})"
            f"  {tokens.get('reads', '-')}/{tokens.get('writes', '-')}"
            f"  {r.get('peak_rss_mb', '-')} MB"
        )
    return rows


def median_of(runs: int, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    results = [fn() for _ in range(runs)]
    results.sort(key=lambda r: r["ratio"])
    return results[len(results) // 2]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--hubs", default="", help="scale rows only: comma-separated mesh sizes, first = base"
    )
    parser.add_argument("--no-rss", action="store_true", help="scale rows without peak RSS")
    parser.add_argument("--no-verify", action="store_true", help="scale rows without verify")
    args = parser.parse_args(argv)
    if args.hubs:
        rows = scale([int(n) for n in args.hubs.split(",")], not args.no_rss, not args.no_verify)
        print(json.dumps({"scale": rows, "load_average": os.getloadavg()}))
        return
    speed = GATEWAY_AZURE_S / BENCH_GATEWAY_S
    reference = load_topology(REFERENCE)
    mesh = mesh_topology(6, 2)
    ref = median_of(args.runs, lambda: deploy_once(reference, speed))
    six = median_of(args.runs, lambda: deploy_once(mesh, speed))
    fast = 36000.0
    t0 = statistics.median(status_time(reference, 0, fast) for _ in range(args.runs))
    t300 = statistics.median(status_time(reference, 300, fast) for _ in range(args.runs))
    startup, cli_s, base_s = startup_ratio(max(5, args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        mesh_file = Path(tmp) / "mesh6.toml"
        mesh_file.write_text(_mesh_toml(6, 2), encoding="utf-8")
        rss = peak_rss_mb(mesh_file, fast)
    result = {
        "runs": args.runs,
        "deploy_vs_critical_path": {
            "reference": round(ref["ratio"], 3),
            "mesh6": round(six["ratio"], 3),
        },
        "deploy_wall_s": {"reference": round(ref["wall_s"], 2), "mesh6": round(six["wall_s"], 2)},
        "critical_path_s": {
            "reference": round(ref["critical_path_s"], 2),
            "mesh6": round(six["critical_path_s"], 2),
        },
        "deploy_requests": {"reference": ref["requests"], "mesh6": six["requests"]},
        "noop_redeploy": {"wall_s": round(ref["noop_wall_s"], 3), **ref["noop"]},
        "noop_redeploy_mesh6": {"wall_s": round(six["noop_wall_s"], 3), **six["noop"]},
        "status_round_trips": round((t300 - t0) / 0.3, 2),
        "status_s": {"latency_0ms": round(t0, 3), "latency_300ms": round(t300, 3)},
        "startup": round(startup, 2),
        "startup_s": {"hubvpn_help": round(cli_s, 3), "import_typer_rich": round(base_s, 3)},
        "peak_rss_mb_mesh6": round(rss, 1),
    }
    rows = [
        (
            "deploy_vs_critical_path (reference)",
            f"{ref['ratio']:.3f}",
            f"{ref['wall_s']:.2f} s / {ref['critical_path_s']:.2f} s",
            "≤ 1.05",
        ),
        (
            "deploy_vs_critical_path (6-hub mesh)",
            f"{six['ratio']:.3f}",
            f"{six['wall_s']:.2f} s / {six['critical_path_s']:.2f} s",
            "≤ 1.10",
        ),
        (
            "noop_redeploy",
            f"{ref['noop_wall_s']:.3f} s",
            f"{ref['noop']['reads']} reads, {ref['noop']['writes']} writes",
            "0 writes, < 2 s",
        ),
        ("status_round_trips", f"{(t300 - t0) / 0.3:.2f}", f"{t0:.3f} s → {t300:.3f} s", "≤ 4"),
        ("startup", f"{startup:.2f}", f"{cli_s:.3f} s / {base_s:.3f} s", "≤ 1.3"),
        ("peak RSS, 6-hub deploy", f"{rss:.0f} MB", "", "≤ 200 MB"),
        (
            "ARM requests, reference deploy",
            str(ref["requests"]["requests"]),
            f"{ref['requests']['writes']} writes",
            "",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value, detail, target in rows:
        print(f"{name:<{width}}  {value:>10}  {detail:<28} {target}")
    print(json.dumps(result))


def _mesh_toml(hubs: int, spokes: int) -> str:
    lines = [
        'name = "mesh6"',
        'resource_group = "rg-mesh6"',
        'location = "japaneast"',
        "",
        "[vm]",
        'size = "Standard_B2ms"',
        'admin_username = "azureuser"',
        'ssh_public_key_file = "/nonexistent/bench.pub"',
        "",
    ]
    for i in range(hubs):
        base = 10 + i * 10
        lines += [
            "[[hubs]]",
            f'name = "hub{i}"',
            f'address_space = "10.{base}.0.0/16"',
            f'default_subnet = "10.{base}.0.0/24"',
            f'gateway_subnet = "10.{base}.200.0/24"',
            f"asn = {65001 + i}",
            "",
        ]
        for j in range(1, spokes + 1):
            lines += [
                "  [[hubs.spokes]]",
                f'  name = "spoke{i}{j}"',
                f'  address_space = "10.{base + j}.0.0/16"',
                f'  default_subnet = "10.{base + j}.0.0/24"',
                "",
            ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
