"""The fastest an N-hub mesh deploy can be on this machine, from what one write costs:
``python benchmarks/tail_bound.py [--hubs 20]``.

The writes that need a gateway Succeeded (local network gateways, connections, spoke
peerings) cannot leave before the gateways finish, and on the in-process emulator every
request is CPU of this one process, run one at a time (the GIL). So, whatever the
schedule, an N-hub deploy takes at least

    G + (PUTs that wait for a gateway) x (CPU of one such PUT) + (a connection's Azure time)

where G is when the 2-hub deploy's gateways finish (its first local network gateway
PUT), measured in the same run, and the last connection PUT is followed only by its own
operation. The bound leaves out everything else a deploy does in that window (every
poll, the VMs still provisioning, the head's contention): the real deploy is slower.
The N-hub deploy itself is measured in the same run too: on a shared machine the CPU's
speed changes from minute to minute, and only figures of one run compare.

The CPU of a PUT is measured one write at a time in a deployed 4-hub mesh (re-sending
each planned body: decide, build the SDK model, send, emulator; the poll is apart), so
no other thread shares the core; the emulator's part is the thread time inside its WSGI
app. ``SDK alone`` is the same PUT and its poll against a canned WSGI answer: what the
real SDK costs with no emulator behind it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from bench import (  # type: ignore[import-not-found]
    DEFAULT_SPEED,
    KEY,
    EmulatorClock,
    _Silent,
    environment,
    mesh_topology,
)

from hubvpn.azure import connect, resolve_target
from hubvpn.converge import decide
from hubvpn.deploy import deploy
from hubvpn.emulator.resources import KINDS
from hubvpn.observe import observe
from hubvpn.plan import Plan, build_plan
from hubvpn.resources import Context, SharedKeys, begin_put, desired

GATED = ("local_network_gateway", "connection", "peering")
FAST = 100_000.0  # emulator speed of the measuring mesh: operations end at once


def gated_steps(plan: Plan) -> dict[str, int]:
    """Steps of each kind that wait, directly or not, for a gateway."""
    frontier = [s.key for s in plan.steps if s.kind == "virtual_network_gateway"]
    after: set[str] = set()
    while frontier:
        key = frontier.pop()
        for dependent in plan.dependents[key]:
            if dependent not in after:
                after.add(dependent)
                frontier.append(dependent)
    counts: dict[str, int] = {}
    for key in after:
        kind = plan.step(key).kind
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def mesh_deploy(hubs: int) -> tuple[float, float]:
    """(deploy wall time, when its first local network gateway PUT left) of an N-hub
    mesh on a fresh emulator at its default speed."""
    plan = build_plan(mesh_topology(hubs, 2))
    first: list[float] = []

    def seen(request: Any, response: Any) -> None:
        if request.method == "PUT" and "/localnetworkgateways/" in request.url.lower():
            first.append(time.perf_counter())

    with (
        environment(HUBVPN_EMULATOR_SPEED=str(DEFAULT_SPEED)) as state,
        connect(resolve_target("emulator", None), state) as clients,
    ):
        clients.transport.observers.append(seen)
        started = time.perf_counter()
        report = deploy(
            plan, clients, _Silent(), ssh_public_key=KEY, shared_key=None, cancel=threading.Event()
        )
        wall = time.perf_counter() - started
    if not report.ok or not first:
        raise SystemExit(f"the {hubs}-hub deploy failed")
    return wall, min(first) - started


def write_costs(rounds: int) -> dict[str, dict[str, float]]:
    """Median CPU ms of one PUT (client, emulator) and of its poll, per gated kind."""
    plan = build_plan(mesh_topology(4, 2))
    samples: dict[str, list[tuple[float, float, float]]] = {k: [] for k in GATED}
    with (
        environment(HUBVPN_EMULATOR_SPEED=str(FAST)) as state,
        connect(resolve_target("emulator", None), state) as clients,
    ):
        clock = EmulatorClock(clients.transport.app)
        clients.transport.app = clock
        report = deploy(
            plan, clients, _Silent(), ssh_public_key=KEY, shared_key=None, cancel=threading.Event()
        )
        if not report.ok:
            raise SystemExit("the 4-hub deploy failed")
        group = plan.topology.resource_group
        observed = observe(clients, group)
        ctx = Context(clients, plan, observed, KEY, SharedKeys(clients, group, None, observed))
        steps = [s for s in plan.steps if s.kind in GATED]
        for round_ in range(rounds + 1):
            for step in steps:
                emulator, cpu = clock.seconds, time.thread_time()
                decide(step, observed, ctx)
                wait = begin_put(step, desired(step, ctx), ctx)  # the PUT, in this thread
                put_cpu, put_emulator = time.thread_time() - cpu, clock.seconds - emulator
                emulator, cpu = clock.seconds, time.process_time()
                wait()  # the poll, in the poller's thread (this one waits)
                poll_cpu = time.process_time() - cpu
                if round_:  # the first round warms the models and code paths
                    samples[step.kind].append((put_cpu - put_emulator, put_emulator, poll_cpu))
    return {
        kind: {
            "put_client_ms": round(1000 * statistics.median(s[0] for s in rows), 2),
            "put_emulator_ms": round(1000 * statistics.median(s[1] for s in rows), 2),
            "poll_ms": round(1000 * statistics.median(s[2] for s in rows), 2),
        }
        for kind, rows in samples.items()
        if rows
    }


def sdk_alone(runs: int) -> float:
    """Client CPU ms of a connection PUT and its poll against a canned answer."""
    from azure.mgmt.network import NetworkManagementClient, models

    from hubvpn.azure import ARM_SCOPE, EMULATOR_URL, _EmulatorCredential, _pipeline_options
    from hubvpn.emulator.transport import EmulatorTransport
    from hubvpn.retry import PatientPolling, RetryBudget

    sub = "00000000-0000-0000-0000-000000000000"
    prefix = f"/subscriptions/{sub}/resourceGroups/g/providers/Microsoft.Network"
    status = f"{EMULATOR_URL}/subscriptions/{sub}/providers/Microsoft.Network/locations/x"
    answer = {
        "id": f"{prefix}/connections/c",
        "name": "c",
        "type": "Microsoft.Network/connections",
        "location": "japaneast",
        "properties": {
            "provisioningState": "Updating",
            "connectionType": "IPsec",
            "enableBgp": True,
            "virtualNetworkGateway1": {"id": f"{prefix}/virtualNetworkGateways/a"},
            "localNetworkGateway2": {"id": f"{prefix}/localNetworkGateways/b"},
        },
    }

    def app(environ: Any, start_response: Callable[..., Any]) -> list[bytes]:
        put = environ["REQUEST_METHOD"] == "PUT"
        body = json.dumps(answer if put else {"status": "Succeeded"}).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if put:
            headers += [("Azure-AsyncOperation", f"{status}/operations/o?api-version=1")]
            headers += [("retry-after-ms", "1")]
        start_response("201 Created" if put else "200 OK", headers)
        return [body]

    options = _pipeline_options(RetryBudget.emulator(DEFAULT_SPEED), None, False, False)
    client = NetworkManagementClient(
        _EmulatorCredential(),
        sub,
        transport=EmulatorTransport(app),  # type: ignore[arg-type]
        base_url=EMULATOR_URL,
        credential_scopes=[ARM_SCOPE],
        **options,
    )
    model = models.VirtualNetworkGatewayConnection(
        location="japaneast",
        connection_type="IPsec",
        enable_bgp=True,
        virtual_network_gateway1=models.VirtualNetworkGateway(id=f"{prefix}/vng/a"),
        local_network_gateway2=models.LocalNetworkGateway(id=f"{prefix}/lng/b"),
        shared_key="not-a-secret",
    )
    ops = client.virtual_network_gateway_connections

    def once() -> None:
        polling = PatientPolling(1, read_back=False, path_format_arguments={"endpoint": ""})
        ops.begin_create_or_update("g", "c", model, polling=polling).result()

    for _ in range(20):
        once()
    started = time.process_time()
    for _ in range(runs):
        once()
    return 1000 * (time.process_time() - started) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hubs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="re-sent rounds of the 4-hub")
    args = parser.parse_args()
    # Shared machines change speed from minute to minute: everything compared is
    # measured in this one run, the deploy itself included.
    t2, g2 = mesh_deploy(2)
    costs = write_costs(args.rounds)
    floor = sdk_alone(300)
    measured, _ = mesh_deploy(args.hubs)
    plan = build_plan(mesh_topology(args.hubs, 2))
    counts = gated_steps(plan)
    connection_s = KINDS["microsoft.network/connections"].create_s / DEFAULT_SPEED
    puts_s = sum(
        n * (costs[k]["put_client_ms"] + costs[k]["put_emulator_ms"]) / 1000
        for k, n in counts.items()
        if k in costs
    )
    bound = g2 + puts_s + connection_s
    client_only = (
        g2
        + connection_s
        + sum(n * costs[k]["put_client_ms"] / 1000 for k, n in counts.items() if k in costs)
    )
    print(
        f"2-hub deploy {t2:.2f} s, its gateways done at {g2:.2f} s (load {os.getloadavg()[0]:.1f})"
    )
    print("CPU of one write, median, ms:  PUT client  PUT emulator  poll (both)")
    for kind, c in costs.items():
        print(
            f"  {kind:<24} {counts.get(kind, 0):>4} x {c['put_client_ms']:>8.2f}"
            f"  {c['put_emulator_ms']:>12.2f}  {c['poll_ms']:>11.2f}"
        )
    print(f"  SDK alone: connection PUT + poll, canned answer: {floor:.2f} ms client CPU")
    print(
        f"{args.hubs}-hub lower bound: {g2:.2f} + {puts_s:.2f} (gated PUTs) + {connection_s:.2f}"
        f" (a connection) = {bound:.2f} s = {bound / t2:.3f} x the 2-hub deploy"
    )
    print(
        f"  with a free emulator: {client_only:.2f} s = {client_only / t2:.3f} x"
        f"; the 1.10 target is {1.1 * t2:.2f} s"
    )
    print(f"{args.hubs}-hub deploy measured in this run: {measured:.2f} s = {measured / t2:.3f} x")
    print(
        json.dumps(
            {
                "hubs": args.hubs,
                "deploy_2hub_s": round(t2, 3),
                "gateways_done_2hub_s": round(g2, 3),
                "gated_steps": counts,
                "write_cpu_ms": costs,
                "sdk_alone_ms": round(floor, 3),
                "lower_bound_s": round(bound, 3),
                "lower_bound_vs_2hub": round(bound / t2, 3),
                "free_emulator_bound_vs_2hub": round(client_only / t2, 3),
                "deploy_s": round(measured, 3),
                "deploy_vs_2hub": round(measured / t2, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
