"""Why a probe cannot succeed, and which test VMs a user means, from the topology.

The routing model says where a packet dies ("route 10.0.0.0/8 next hop None drops
10.20.0.4"); a person wants the design reason behind it::

    unreachable_reason(plan, "vm-spoke10", "vm-spoke20", model_reason)
    # "spoke10 and spoke20 both peer only with hub00; peering is not transitive ..."
    select_vms(plan, ("spoke10",), "--from")      # ("vm-spoke10",)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hubvpn import naming, routing
from hubvpn.errors import BadInput
from hubvpn.observe import TRANSIENT_STATES, Observed, state_of, text
from hubvpn.plan import (
    ConnectionSpec,
    GatewaySpec,
    NicSpec,
    PeeringSpec,
    Plan,
    Step,
    VmSpec,
    step_key,
)
from hubvpn.predict import predicted_network


def vm_networks(plan: Plan) -> dict[str, str]:
    """Each test VM by name -> the VNet set member (hub or spoke name) it sits in."""
    vm_of = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    out = {}
    for hub in plan.topology.hubs:
        for network in (hub.name, *(spoke.name for spoke in hub.spokes)):
            if naming.nic(network) in vm_of:
                out[vm_of[naming.nic(network)]] = network
    return out


def select_vms(plan: Plan, names: tuple[str, ...], option: str) -> tuple[str, ...]:
    """The test VMs named by ``vm-<vnet>`` or ``<vnet>``; an unknown name is bad input
    that lists the valid names."""
    networks = vm_networks(plan)
    by_network = {network: vm for vm, network in networks.items()}
    chosen = []
    for name in names:
        vm = name if name in networks else by_network.get(name)
        if vm is None:
            valid = ", ".join(networks)
            raise BadInput(f"{option} {name}: no such test VM; valid names: {valid}")
        if vm not in chosen:
            chosen.append(vm)
    return tuple(chosen)


def unreachable_reason(plan: Plan, source: str, destination: str, model_reason: str) -> str:
    """The design reason a probe from ``source`` to ``destination`` is unreachable, or
    the routing model's own account when no design rule explains it."""
    topology = plan.topology
    networks = vm_networks(plan)
    hub_of = {spoke.name: hub.name for hub in topology.hubs for spoke in hub.spokes}  # spokes only
    a, b = networks.get(source), networks.get(destination)
    if a in hub_of and b in hub_of and hub_of[a] == hub_of[b] and not topology.spoke_to_spoke:
        return (
            f"{a} and {b} both peer only with {hub_of[a]}; peering is not transitive "
            "(no UDR: routing.spoke_to_spoke is false)"
        )
    return model_reason


# ------------------------------------------------ what breaks a probe, and the fix

DEPLOY = "run hubvpn deploy"


@dataclass(frozen=True)
class Cause:
    """A resource (or a connection pair) that breaks probes, in the user's words::

    Cause(("spoke10-to-hub00",), "is missing", DEPLOY).text
    # "spoke10-to-hub00 is missing: run hubvpn deploy"
    """

    resources: tuple[str, ...]  # names, as az and the portal show them
    problem: str  # "is missing", "is Failed", "are NotConnected: their shared keys differ"
    fix: str
    keys: tuple[str, ...] = ()  # the plan step keys behind ``resources``
    probes: tuple[tuple[str, str], ...] = ()  # (from, to) test VMs it breaks (or opens)
    effect: str = "breaks"  # what it does to those probes: "breaks", or "opens" (extras)

    @property
    def text(self) -> str:
        return f"{' and '.join(self.resources)} {self.problem}: {self.fix}"

    def as_json(self) -> dict[str, Any]:
        return {
            "resources": list(self.resources),
            "problem": self.problem,
            "fix": self.fix,
            "text": self.text,
            "probes": [{"from": a, "to": b} for a, b in self.probes],
        }


def problems(plan: Plan, observed: Observed) -> list[Cause]:
    """Every planned resource that keeps probes from working, with its fix: missing,
    not Succeeded, a connection that is NotConnected, a peering that is not Connected.
    A connection still coming up (Unknown, Connecting) is a wait, not a problem."""
    out: list[Cause] = []
    said: set[str] = set()
    for step in plan.steps:
        if step.kind in ("resource_group", "network_watcher") or step.key in said:
            continue
        model = observed.get(step.key)
        if model is None:
            out.append(Cause((step.name,), "is missing", DEPLOY, (step.key,)))
            continue
        state = state_of(model)
        if state == "Failed":
            out.append(
                Cause((step.name,), "is Failed", f"{DEPLOY} (it re-creates it)", (step.key,))
            )
        elif state in TRANSIENT_STATES:
            fix = "wait for the operation (a deploy or destroy may be running), then verify"
            out.append(Cause((step.name,), f"is {state}", fix, (step.key,)))
        elif state != "Succeeded":
            out.append(Cause((step.name,), f"is {state}", DEPLOY, (step.key,)))
        elif step.kind == "connection" and isinstance(step.spec, ConnectionSpec):
            cause = _not_connected(plan, observed, step)
            if cause is not None:
                said.update(cause.keys)
                out.append(cause)
        elif isinstance(step.spec, PeeringSpec):
            peering_state = text(getattr(model, "peering_state", None) or "Unknown")
            back = _reverse_peering(plan, step.spec)
            if peering_state != "Connected" and (back is None or observed.get(back.key)):
                # (with its other side missing, that missing side is the cause to name)
                fix = f"{DEPLOY}; if it stays {peering_state}, delete it and deploy again"
                out.append(Cause((step.name,), f"is {peering_state}", fix, (step.key,)))
    return out


def _not_connected(plan: Plan, observed: Observed, step: Step) -> Cause | None:
    """A provisioned connection whose tunnel is down, with the likeliest reason: the
    other side missing, or the two sides' shared keys differing (a GET carries it)."""
    conn = observed.get(step.key)
    status = text(getattr(conn, "connection_status", None) or "Unknown")
    if status != "NotConnected":
        return None
    assert isinstance(step.spec, ConnectionSpec)
    other = _counterpart(plan, step)
    if other is None:
        return Cause((step.name,), "is NotConnected", DEPLOY, (step.key,))
    remote = observed.get(other.key)
    if remote is None:
        return None  # the missing side is the cause to name
    mine, theirs = getattr(conn, "shared_key", None), getattr(remote, "shared_key", None)
    both = (step.name, other.name)
    if mine and theirs and mine != theirs:
        fix = f"{DEPLOY} (it sets one key on both)"
        return Cause(both, "are NotConnected: their shared keys differ", fix, (step.key, other.key))
    return Cause(
        (step.name,),
        "is NotConnected (shared keys, public IPs or BGP addresses of the two sides differ?)",
        DEPLOY,
        (step.key,),
    )


def _reverse_peering(plan: Plan, spec: PeeringSpec) -> Step | None:
    return next(
        (
            s
            for s in plan.steps
            if isinstance(s.spec, PeeringSpec)
            and s.spec.virtual_network == spec.remote_virtual_network
            and s.spec.remote_virtual_network == spec.virtual_network
        ),
        None,
    )


def _counterpart(plan: Plan, step: Step) -> Step | None:
    """The connection of the same hub pair in the other direction."""
    assert isinstance(step.spec, ConnectionSpec)
    return next(
        (
            s
            for s in plan.steps
            if isinstance(s.spec, ConnectionSpec)
            and s.spec.pair == step.spec.pair
            and s.spec.gateway != step.spec.gateway
        ),
        None,
    )


def dependencies(plan: Plan, port: int) -> dict[tuple[str, str], frozenset[str]]:
    """The plan step keys each predicted-reachable probe needs, by (from, to) test VM:
    what its predicted path crosses both ways (VMs, peerings, gateways, connections and
    the other side of each) with everything those depend on."""
    vm_of = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    vnet_of = {
        s.name: s.spec.virtual_network
        for s in plan.steps
        if isinstance(s.spec, (NicSpec, GatewaySpec))
    }
    peering_of = {
        (s.spec.virtual_network, s.spec.remote_virtual_network): s.key
        for s in plan.steps
        if isinstance(s.spec, PeeringSpec)
    }
    by_name = {s.name: s for s in plan.steps if s.kind in ("connection", "virtual_network_gateway")}
    traces = routing.reachability(predicted_network(plan), port)
    out: dict[tuple[str, str], frozenset[str]] = {}
    for (a, b), trace in traces.items():
        if a not in vm_of or b not in vm_of or not trace.reachable:
            continue
        keys = {step_key("virtual_machine", vm_of[a]), step_key("virtual_machine", vm_of[b])}
        for hops in (trace.hops, traces[(b, a)].hops):
            here: str | None = None  # the VNet the walk is in
            for hop in hops:
                step = by_name.get(hop.resource)
                if step is not None:
                    keys.add(step.key)
                if hop.type == "VpnConnection" and step is not None:
                    other = _counterpart(plan, step)
                    keys.update((other.key,) if other is not None else ())
                    here = None  # across a tunnel: no peering between the two VNets
                    continue
                vnet = vnet_of.get(hop.resource)
                if vnet is None:
                    continue
                if here is not None and here != vnet:
                    for way in ((here, vnet), (vnet, here)):
                        if way in peering_of:
                            keys.add(peering_of[way])
                here = vnet
        out[(vm_of[a], vm_of[b])] = _closure(plan, keys)
    return out


def _closure(plan: Plan, keys: set[str]) -> frozenset[str]:
    todo, seen = list(keys), set(keys)
    while todo:
        step = plan.by_key.get(todo.pop())
        for dep in step.depends_on if step is not None else ():
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return frozenset(seen)


def causes(
    plan: Plan,
    observed: Observed,
    port: int,
    pairs: Iterable[tuple[str, str]],
    keep_all: bool = False,
) -> tuple[Cause, ...]:
    """The problems behind ``pairs`` (probes predicted reachable that are not), each with
    the probes it breaks; problems no such probe needs are left out unless ``keep_all``
    (why a lab is not fully deployed: a missing Bastion breaks no probe, yet it is
    missing)."""
    found = problems(plan, observed)
    if not found:
        return ()
    needs = dependencies(plan, port)
    pairs = list(pairs)
    out = []
    for cause in found:
        broken = tuple(p for p in pairs if set(cause.keys) & needs.get(p, frozenset()))
        if broken or keep_all:
            out.append(replace(cause, probes=broken))
    return tuple(out)


def extras(plan: Plan, paths: dict[tuple[str, str], tuple[str, ...]]) -> tuple[Cause, ...]:
    """Resources outside the topology on the measured path of probes that reached a VM
    the topology says they cannot (``paths``: the resource names of each one's hops),
    such as a peering made by hand."""
    known = {s.name for s in plan.steps}
    found: dict[str, list[tuple[str, str]]] = {}
    for pair, resources in paths.items():
        for name in resources:
            if name and name not in known:
                found.setdefault(name, []).append(pair)
    fix = "delete it (hubvpn builds and verifies only what the topology describes)"
    return tuple(
        Cause(
            (name,),
            "is not in the topology (made by hand?)",
            fix,
            probes=tuple(pairs),
            effect="opens",
        )
        for name, pairs in found.items()
    )
