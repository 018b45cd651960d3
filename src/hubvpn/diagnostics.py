"""The reads behind status and verify that are not plain GETs, and the wait for
tunnels: each gateway's BGP peers and learned (and advertised) routes, each test VM's
effective routes — long-running POSTs, sent only for what a view shows (``Scope``) —
and ``settle``, the bounded wait for connections and BGP sessions that lag
provisioning (Azure reports a connection Succeeded before its tunnel is up and its
BGP session about a minute later: azure-facts.md)::

    observed, awaited = settle(plan, clients, read, progress)
    calls = diagnostic_calls(plan, clients, observed, Scope(advertised=True))

Answers are kept as the JSON they came in (``values``): no SDK model is built for
them (``PatientPolling.answering_json``). Building one, and reading it back, cost most
of a 20-hub status's CPU: a model per route, and a re-serialisation per mapping read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from hubvpn.azure import Clients
from hubvpn.interrupts import result_of
from hubvpn.observe import Observed, state_of, text
from hubvpn.plan import ConnectionSpec, Plan, Step, VmSpec, step_key

# Azure seconds (scaled by the emulator's speed): tunnels and BGP sessions come up
# within about a minute of provisioning; a few minutes is a generous bound.
TUNNEL_WAIT_S = 300.0
TUNNEL_POLL_S = 10.0
SETTLING = frozenset({"Unknown", "Connecting"})  # connectionStatus still coming up

Progress = Callable[[tuple[str, ...]], None]  # told what is awaited, when that changes


def no_progress(awaited: tuple[str, ...]) -> None:
    """No progress to show."""


@dataclass(frozen=True)
class Scope:
    """Which diagnostics a view needs: those of these gateways and test VMs (None: all),
    and whether the routes advertised to each peer."""

    gateways: frozenset[str] | None = None
    vms: frozenset[str] | None = None
    advertised: bool = False

    def gateway(self, name: str) -> bool:
        return self.gateways is None or name in self.gateways

    def connections(self, plan: Plan) -> frozenset[str] | None:
        """The connections of these gateways (None: all), whose status the view shows,
        and those pointing back at them: a pair's keys are compared from both GETs."""
        if self.gateways is None:
            return None
        gateways = self.gateways
        return frozenset(
            s.name
            for s in plan.steps
            if isinstance(s.spec, ConnectionSpec)
            and (s.spec.gateway in gateways or s.spec.remote_gateway in gateways)
        )

    def vm(self, name: str) -> bool:
        return self.vms is None or name in self.vms


def incomplete(plan: Plan, observed: Observed) -> tuple[str, ...]:
    """What keeps the lab from being fully deployed: "name (missing)" or "name (state)"."""
    out = [f"{plan.by_key[key].name} (missing)" for key in missing(plan, observed)]
    for step in plan.steps:
        model = observed.get(step.key)
        if model is not None and state_of(model) != "Succeeded":
            out.append(f"{step.name} ({state_of(model)})")
    return tuple(out)


# ----------------------------------------------------- tunnels lag provisioning


def settle(
    plan: Plan,
    clients: Clients,
    read: Callable[[], Observed],
    progress: Progress,
    wait_s: float = TUNNEL_WAIT_S,
    gateways: frozenset[str] | None = None,
) -> tuple[Observed, tuple[str, ...]]:
    """Read until no provisioned connection or BGP session is still coming up, for at
    most ``wait_s`` Azure seconds (scaled by the emulator's speed); what is still
    awaited then is returned with what was read last.

    ``read`` must include ``bgp_peer_calls`` (the BGP peer status of each gateway, or
    of ``gateways``: then only their connections are awaited).
    """
    speed = clients.emulator.settings.speed if clients.emulator is not None else 1.0
    deadline = time.monotonic() + wait_s / speed
    observed = read()
    shown: tuple[str, ...] = ()
    while True:
        if observed.group is None or incomplete(plan, observed):
            return observed, ()  # still being built (or not at all): no tunnel to wait for
        waiting = awaited(plan, observed, gateways)
        if not waiting:
            return observed, ()
        if waiting != shown:
            progress(waiting)
            shown = waiting
        left = deadline - time.monotonic()
        if left <= 0:
            return observed, waiting
        # Why this wait: Azure reports a connection Succeeded before its IPsec tunnel
        # and BGP session are up; they come up within about a minute.
        time.sleep(min(TUNNEL_POLL_S / speed, left))
        observed = read()


def awaited(
    plan: Plan, observed: Observed, gateways: frozenset[str] | None = None
) -> tuple[str, ...]:
    """Provisioned connections (of ``gateways``, default all) whose tunnel is not up
    yet, and BGP sessions over Connected tunnels that are not up yet. NotConnected is
    an answer, not a wait."""
    out = []
    for step in plan.steps:
        if step.kind != "connection" or not isinstance(step.spec, ConnectionSpec):
            continue
        if gateways is not None and step.spec.gateway not in gateways:
            continue
        conn = observed.get(step.key)
        if conn is None or state_of(conn) != "Succeeded":
            continue
        status_ = text(conn.connection_status or "Unknown")
        if status_ in SETTLING:
            out.append(f"connection {conn.name} ({status_})")
        elif status_ == "Connected":
            peer = _peer_of(step.spec, observed)
            if peer is not None and peer.get("state") != "Connected":
                out.append(
                    f"BGP session {step.spec.gateway} → {peer.get('neighbor')} "
                    f"({peer.get('state')})"
                )
    return tuple(out)


def _peer_of(spec: ConnectionSpec, observed: Observed) -> dict[str, Any] | None:
    """The gateway's BGP peer across this connection (the neighbor is the LNG's address),
    as its JSON."""
    lng = observed.get(step_key("local_network_gateway", spec.local_network_gateway))
    bgp = getattr(lng, "bgp_settings", None)
    peers = observed.extra.get(f"peers:{spec.gateway}")
    if bgp is None or failed_answer(peers):
        return None
    address = bgp.bgp_peering_address
    return next((p for p in values(peers) if p.get("neighbor") == address), None)


# ------------------------------------------------------------ diagnostics


def bgp_peer_calls(
    plan: Plan, clients: Clients, observed: Observed, gateways: frozenset[str] | None = None
) -> dict[str, Callable[[], Any]]:
    """The BGP peer status of each Succeeded gateway, or of ``gateways`` (what
    ``settle`` waits on)."""
    gateway_ops = clients.network.virtual_network_gateways
    return {
        f"peers:{step.name}": partial(
            _lro,
            clients,
            gateway_ops.begin_get_bgp_peer_status,
            plan.topology.resource_group,
            step.name,
        )
        for step in plan.steps
        if step.kind == "virtual_network_gateway"
        and (gateways is None or step.name in gateways)
        and _succeeded(observed.get(step.key))
    }


def diagnostic_calls(
    plan: Plan, clients: Clients, observed: Observed, scope: Scope | None = None
) -> dict[str, Callable[[], Any]]:
    """BGP peers, learned routes and effective routes of what is Succeeded (within
    ``scope``; advertised routes when it asks for them)."""
    scope = scope or Scope(advertised=True)
    group = plan.topology.resource_group
    net = clients.network
    calls = bgp_peer_calls(plan, clients, observed, scope.gateways)
    for step in plan.steps:
        if step.kind == "virtual_network_gateway":
            if scope.gateway(step.name) and _succeeded(observed.get(step.key)):
                calls[f"learned:{step.name}"] = partial(
                    _lro,
                    clients,
                    net.virtual_network_gateways.begin_get_learned_routes,
                    group,
                    step.name,
                )
        elif step.kind == "connection" and isinstance(step.spec, ConnectionSpec):
            if not scope.advertised or not scope.gateway(step.spec.gateway):
                continue
            if not _succeeded(observed.get(step.key)):
                continue
            gateway = observed.get(step_key("virtual_network_gateway", step.spec.gateway))
            lng = observed.get(step_key("local_network_gateway", step.spec.local_network_gateway))
            peer = getattr(getattr(lng, "bgp_settings", None), "bgp_peering_address", None)
            if _succeeded(gateway) and peer:
                calls[f"advertised:{step.spec.gateway}:{peer}"] = partial(
                    _lro,
                    clients,
                    partial(net.virtual_network_gateways.begin_get_advertised_routes, peer=peer),
                    group,
                    step.spec.gateway,
                )
        elif step.kind == "virtual_machine" and isinstance(step.spec, VmSpec):
            if not scope.vm(step.name) or not _succeeded(observed.get(step.key)):
                continue
            nic = observed.get(step_key("network_interface", step.spec.network_interface))
            if nic is None:
                continue
            calls[f"routes:{step.name}"] = partial(
                _lro,
                clients,
                net.network_interfaces.begin_get_effective_route_table,
                group,
                nic.name,
            )
    return calls


def _succeeded(model: Any | None) -> bool:
    return model is not None and state_of(model) == "Succeeded"


def _lro(clients: Clients, begin: Callable[..., Any], *args: Any) -> dict[str, Any] | None:
    """Start a POST action and wait for its result (ARM answers it as an LRO), first
    polling when its Retry-After says; the result is the final answer's JSON. A Ctrl-C
    ends the wait (``result_of``)."""
    answer: dict[str, Any] | None = result_of(
        begin(*args, polling=clients.polling().answering_json())
    )
    return answer


def values(result: Any) -> list[dict[str, Any]]:
    """The ``value`` list of a diagnostic's answer (its JSON, as ``_lro`` returns it)."""
    if failed_answer(result):
        return []
    return list(result.get("value") or [])


def failed_answer(value: Any) -> bool:
    return value is None or isinstance(value, Exception)


def missing(plan: Plan, observed: Observed) -> tuple[str, ...]:
    """The plan's step keys with nothing in Azure (the resource group aside)."""
    return tuple(
        s.key
        for s in plan.steps
        if s.kind != "resource_group"
        and observed.get(s.key) is None
        and not _watcher_present(s, observed)
    )


def _watcher_present(step: Step, observed: Observed) -> bool:
    return step.kind == "network_watcher" and any(
        w.location == step.location for w in observed.watchers
    )
