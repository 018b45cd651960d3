"""``hubvpn plan``: the plan against what exists, without writing anything.

Each step is ``create`` (missing or Failed), ``update`` (owned fields differ),
``wait`` (still provisioning) or ``keep``; the expected duration is the critical
path of what remains under Azure's typical durations; the reachability matrix
is the routing model's prediction from the topology alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubvpn.azure import Clients
from hubvpn.config import Topology
from hubvpn.inspect import TRANSIENT_STATES, Probe, observe, predicted_probes, state_of
from hubvpn.plan import SSH_PORT, Plan, Step, build_plan
from hubvpn.resources import Context, SharedKeys, differences, regional_watcher, watcher_group


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    actions: dict[str, str]
    reasons: dict[str, str]  # why a step is what it is (e.g. which watcher it uses)
    critical: tuple[float, list[Step]]
    remaining_s: float
    reachability: list[Probe]

    def as_json(self) -> dict[str, Any]:
        return {
            "topology": self.plan.topology.name,
            "resource_group": self.plan.topology.resource_group,
            "steps": [
                {
                    "key": s.key,
                    "type": s.arm_type,
                    "name": s.name,
                    "action": self.actions[s.key],
                    "reason": self.reasons.get(s.key),
                    "dependsOn": list(s.depends_on),
                }
                for s in self.plan.steps
            ],
            "expectedSeconds": round(self.remaining_s, 1),
            "fullDeploySeconds": round(self.critical[0], 1),
            "criticalPath": [s.key for s in self.critical[1]],
            "reachability": {
                "port": SSH_PORT,
                "ok": True,  # a prediction agrees with itself; verify measures
                "probes": [p.as_json() for p in self.reachability],
            },
        }


def actions_for(plan: Plan, clients: Clients) -> tuple[dict[str, str], dict[str, str]]:
    observed = observe(clients, plan.topology.resource_group)
    ctx = Context(
        clients, plan, observed, None, SharedKeys(clients, plan.topology.resource_group, None)
    )
    actions: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for step in plan.steps:
        existing = observed.group if step.kind == "resource_group" else observed.get(step.key)
        if step.kind == "network_watcher":
            watcher = regional_watcher(observed.watchers, step.location)
            actions[step.key] = "create" if watcher is None else "keep"
            if watcher is not None:
                reasons[step.key] = f"uses {watcher_group(watcher)}/{watcher.name}"
            continue
        if (
            existing is None
            or state_of(existing if step.kind != "resource_group" else existing.properties)
            == "Failed"
        ):
            actions[step.key] = "create"
        elif state_of(existing) in TRANSIENT_STATES:
            actions[step.key] = "wait"
        elif step.kind == "resource_group":
            actions[step.key] = "keep"
        else:
            try:
                diff = differences(step, existing, ctx)
            except LookupError:  # depends on something not there yet
                diff = ["inputs"]
            actions[step.key] = "update" if diff else "keep"
    return actions, reasons


def plan_against(topology: Topology, clients: Clients) -> PlanResult:
    plan = build_plan(topology)
    actions, reasons = actions_for(plan, clients)
    remaining = {s.key: (0.0 if actions[s.key] == "keep" else s.azure_s) for s in plan.steps}
    total, path = plan.critical_path()
    left, _ = plan.critical_path(remaining)
    reach = predicted_probes(plan, SSH_PORT) if topology.vm is not None else []
    return PlanResult(plan, actions, reasons, (total, list(path)), left, reach)
