"""Measured reachability between the test VMs, beside the prediction.

``verify`` first checks that the lab is fully deployed (nothing missing, nothing
provisioning) and waits, bounded, for tunnels and BGP sessions that lag
provisioning; only then does it send the Network Watcher connectivity checks, all
at once. A lab that is not deployed or not converged yet is said so, never
reported as mismatches::

    result = verify(plan, clients, port=22)
    result.ok                    # measured matrix equals the prediction
    result.as_json()             # design.md's verify JSON
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from hubvpn.azure import Clients, error_code, error_message
from hubvpn.diagnostics import Progress, bgp_peer_calls, incomplete, no_progress, settle
from hubvpn.explain import Cause, causes, extras, unreachable_reason
from hubvpn.interrupts import completed, ctrl_c_noted, outcome_of, result_of
from hubvpn.observe import Observed, observe
from hubvpn.plan import Plan, Step, VmSpec, step_key
from hubvpn.predict import Probe, predicted_probes

# Checks in flight at once. A connectivity check is a POST action (ARM's writes bucket:
# 200 tokens, 10 a second per subscription, request-limits-and-throttling) answered by an
# LRO polled with GETs (reads bucket); Azure documents no concurrency limit of its own
# for connection troubleshoot, so the bound is ARM's rate: past the bucket's burst the
# checks are paced by 429 + Retry-After (retry.py) whatever the concurrency.
MAX_PARALLEL_CHECKS = 32
Counted = Callable[[int, int], None]  # (checks answered, checks sent), as they answer


def no_count(done: int, total: int) -> None:
    """No count to show."""


@dataclass(frozen=True)
class HopRow:
    """One hop of a connectivity check, as Network Watcher names it."""

    type: str  # Source, VNetPeering, VirtualNetworkGateway, VpnConnection, Destination...
    address: str
    resource: str  # the last segment of its resource id
    latency_ms: float | None  # the link's average round trip, when Azure reports it

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "address": self.address,
            "resource": self.resource,
            "latencyMs": self.latency_ms,
        }


@dataclass(frozen=True)
class Path:
    """The hops of one measured probe and its overall average latency."""

    hops: tuple[HopRow, ...]
    avg_latency_ms: float | None


@dataclass(frozen=True)
class Verification:
    port: int
    probes: tuple[Probe, ...]  # every selected ordered pair of test VMs
    incomplete: tuple[str, ...] = ()  # planned resources missing or not Succeeded
    awaited: tuple[str, ...] = ()  # tunnels and BGP sessions not up when the wait ran out
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)  # why each ✗
    paths: dict[tuple[str, str], Path] = field(default_factory=dict)  # measured hops
    causes: tuple[Cause, ...] = ()  # resources that break probes, with the fix (explain.py)

    @property
    def deployed(self) -> bool:
        return not self.incomplete

    @property
    def converged(self) -> bool:
        return not self.awaited

    @property
    def measured(self) -> bool:
        return any(p.reachable is not None for p in self.probes)

    @property
    def ok(self) -> bool:
        return (
            self.deployed
            and self.converged
            and self.measured
            and all(p.reachable == p.expected for p in self.probes)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "ok": self.ok,
            "probes": [self._probe_json(p) for p in self.probes],
            "deployed": self.deployed,
            "converged": self.converged,
            "incomplete": list(self.incomplete),
            "awaited": list(self.awaited),
            "causes": [c.as_json() for c in self.causes],
        }

    def _probe_json(self, probe: Probe) -> dict[str, Any]:
        pair = (probe.source, probe.destination)
        path = self.paths.get(pair)
        return {
            **probe.as_json(),
            "detail": probe.detail or None,
            "reason": self.reasons.get(pair),
            "hopDetails": [h.as_json() for h in path.hops] if path else [],
            "avgLatencyMs": path.avg_latency_ms if path else None,
        }


def verify(
    plan: Plan,
    clients: Clients,
    port: int,
    progress: Progress = no_progress,
    counted: Counted = no_count,
    sources: tuple[str, ...] = (),
    destinations: tuple[str, ...] = (),
) -> Verification:
    """Connectivity checks between the test VMs (every pair, or those from ``sources``
    to ``destinations`` when given), once the lab is deployed and its tunnels are up."""
    predicted = [
        p
        for p in predicted_probes(plan, port)
        if (not sources or p.source in sources)
        and (not destinations or p.destination in destinations)
    ]
    pairs = {(p.source, p.destination) for p in predicted}
    group = plan.topology.resource_group
    observed, awaited = settle(
        plan,
        clients,
        lambda: observe(clients, group, partial(bgp_peer_calls, plan, clients)),
        progress,
    )
    if observed.group is None:
        why = f"{plan.topology.name} is not deployed"
        return Verification(port, _unmeasured(predicted, why), (f"{group} (missing)",))
    missing = incomplete(plan, observed)
    if missing:
        expected = [(p.source, p.destination) for p in predicted if p.expected]
        return Verification(
            port,
            _unmeasured(predicted, f"{plan.topology.name} is not fully deployed"),
            missing,
            causes=causes(plan, observed, port, expected, keep_all=True),
        )
    if awaited:
        return Verification(port, _unmeasured(predicted, "not converged yet"), awaited=awaited)
    vms = [s for s in plan.steps if isinstance(s.spec, VmSpec)]
    addresses = _addresses(vms, observed)
    calls = {
        pair: call
        for pair, call in _checks(clients, vms, observed, addresses, port).items()
        if tuple(pair.split(">", 1)) in pairs
    }
    results = run_checks(calls, counted)
    probes = []
    paths: dict[tuple[str, str], Path] = {}
    for want in predicted:
        pair = f"{want.source}>{want.destination}"
        address = addresses.get(want.destination, "")
        result = results.get(pair)
        if result is None:  # cannot happen once fully deployed (VMs, NICs and watchers exist)
            probes.append(replace(want, address=address, reachable=None, hops=(), detail=""))
        elif isinstance(result, Exception):
            detail = f"{error_code(result) or type(result).__name__}: {error_message(result)}"
            probes.append(replace(want, address=address, reachable=None, hops=(), detail=detail))
        else:
            probes.append(_measured(want, address, result))
            paths[(want.source, want.destination)] = _path(result)
    broken = [(p.source, p.destination) for p in probes if p.expected and not p.reachable]
    found = causes(plan, observed, port, broken) if broken else ()
    found += extras(  # what made a probe reach a VM the topology says it cannot
        plan,
        {
            (p.source, p.destination): tuple(
                h.resource for h in paths[(p.source, p.destination)].hops
            )
            for p in probes
            if p.reachable and not p.expected and (p.source, p.destination) in paths
        },
    )
    reasons = _reasons(plan, probes)
    named: dict[tuple[str, str], list[str]] = {}
    for cause in found:  # a named resource and its fix beat where the packet died
        for which in cause.probes:
            named.setdefault(which, []).append(cause.text)
    reasons.update({which: "; ".join(texts) for which, texts in named.items()})
    return Verification(port, tuple(probes), reasons=reasons, paths=paths, causes=found)


def _reasons(plan: Plan, probes: list[Probe]) -> dict[tuple[str, str], str]:
    """Why each probe that is (or was predicted) unreachable is so."""
    out = {}
    for p in probes:
        if p.reachable is False or (p.reachable is None and not p.expected):
            model = p.detail or "unreachable"
            out[(p.source, p.destination)] = (
                unreachable_reason(plan, p.source, p.destination, model)
                if not p.expected
                else model
            )
    return out


def _path(result: dict[str, Any]) -> Path:
    """The hops of a check's answer, its JSON (no SDK model is built for the thousands
    of answers of a large lab: ``PatientPolling.answering_json``)."""
    hops = []
    for hop in result.get("hops") or []:
        rtts = [
            rtt
            for link in hop.get("links") or []
            if (rtt := (link.get("properties") or {}).get("roundTripTimeAvg")) is not None
        ]
        hops.append(
            HopRow(
                str(hop.get("type")),
                hop.get("address") or "",
                (hop.get("resourceId") or "").rsplit("/", 1)[-1],
                float(rtts[0]) if rtts else None,
            )
        )
    avg = result.get("avgLatencyInMs")
    return Path(tuple(hops), float(avg) if avg is not None else None)


def run_checks(calls: dict[str, Callable[[], Any]], counted: Counted) -> dict[str, Any]:
    """Every check, ``MAX_PARALLEL_CHECKS`` at a time; results (or the exception) by pair,
    with ``counted`` told each time one answers. On Ctrl-C the checks in flight stop
    waiting for Azure, the queued ones are never sent, and KeyboardInterrupt is raised
    here, between two answers."""
    if not calls:
        return {}
    total = len(calls)
    counted(0, total)

    results: dict[str, Any] = {}
    with ctrl_c_noted() as pressed:
        pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CHECKS, total))
        try:
            futures = {pool.submit(outcome_of, fn): pair for pair, fn in calls.items()}
            for future in completed(futures, pressed):
                results[futures[future]] = future.result()
                counted(len(results), total)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def _unmeasured(predicted: list[Probe], why: str) -> tuple[Probe, ...]:
    return tuple(replace(p, reachable=None, hops=(), detail=why) for p in predicted)


def _addresses(vms: list[Step], observed: Observed) -> dict[str, str]:
    addresses = {}
    for step in vms:
        assert isinstance(step.spec, VmSpec)
        nic = observed.get(step_key("network_interface", step.spec.network_interface))
        if nic is not None and nic.ip_configurations:
            addresses[step.name] = nic.ip_configurations[0].private_ip_address
    return addresses


def _checks(
    clients: Clients,
    vms: list[Step],
    observed: Observed,
    addresses: dict[str, str],
    port: int,
) -> dict[str, Callable[[], Any]]:
    """One connectivity check per ordered pair, from the source's region's watcher."""
    watchers = {w.location: w for w in observed.watchers}
    calls: dict[str, Callable[[], Any]] = {}
    for src in vms:
        vm = observed.get(src.key)
        watcher = watchers.get(src.location)
        if vm is None or watcher is None:
            continue
        for dst in vms:
            if src is not dst and dst.name in addresses:
                calls[f"{src.name}>{dst.name}"] = _check(
                    clients, watcher, vm.id, addresses[dst.name], port
                )
    return calls


def _measured(want: Probe, address: str, result: Any) -> Probe:
    reachable = result.get("connectionStatus") in ("Reachable", "Connected")
    found = result.get("hops") or []
    hops = tuple(h["address"] for h in found if h.get("address") and "/" not in h["address"])
    issue = ""
    for hop in found:
        for problem in hop.get("issues") or []:
            for ctx in problem.get("context") or []:
                issue = issue or "; ".join(f"{v}" for v in ctx.values())
    return replace(
        want, address=address, reachable=reachable, hops=hops if reachable else (), detail=issue
    )


def _check(
    clients: Clients, watcher: Any, vm_id: str, address: str, port: int
) -> Callable[[], Any]:
    from azure.mgmt.network import models as n

    parts = watcher.id.split("/")
    group, name = parts[4], parts[-1]
    params = n.ConnectivityParameters(
        source=n.ConnectivitySource(resource_id=vm_id),
        destination=n.ConnectivityDestination(address=address, port=port),
        protocol="Tcp",
    )

    return lambda: result_of(
        clients.network.network_watchers.begin_check_connectivity(
            group, name, params, polling=clients.polling().answering_json()
        )
    )
