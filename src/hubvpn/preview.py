"""``hubvpn plan``: the decisions against what exists, without writing anything.

Each step gets ``converge.decide``'s answer, the same one ``deploy`` acts on, in
dependency order; a step's decision is projected (what the resource will look
like once deployed) so that the steps after it see its effect: an ASN change on a
gateway shows up as the follow-on update of the local network gateways that
point at it. A step that needs a blocked one is blocked too (deploy skips it).
The expected duration is the critical path of what remains under Azure's
typical durations; the reachability matrix is the routing model's prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubvpn.azure import Clients
from hubvpn.config import Topology
from hubvpn.converge import Action, Decision, Orphan, decide, decide_orphan, existing_of, orphans
from hubvpn.observe import observe
from hubvpn.plan import GatewaySpec, Plan, Step, build_plan
from hubvpn.predict import SSH_PORT, Probe, predicted_probes
from hubvpn.resources import Context, SharedKeys, desired, updated


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    decisions: dict[str, Decision]
    critical: tuple[float, list[Step]]
    remaining_s: float
    reachability: list[Probe]
    orphans: tuple[Orphan, ...] = ()  # decided as orphan, or delete under --prune

    @property
    def actions(self) -> dict[str, str]:
        return {key: d.action.value for key, d in self.decisions.items()}

    def as_json(self) -> dict[str, Any]:
        return {
            "topology": self.plan.topology.name,
            "resource_group": self.plan.topology.resource_group,
            "steps": [
                {
                    "key": s.key,
                    "type": s.arm_type,
                    "name": s.name,
                    "action": self.decisions[s.key].action.value,
                    "dependsOn": list(s.depends_on),
                    "changes": [
                        {"path": path, "old": old, "new": new}
                        for path, old, new in self.decisions[s.key].changes
                    ],
                    "reason": self.decisions[s.key].reason,
                }
                for s in self.plan.steps
            ]
            + [
                {
                    "key": o.key,
                    "type": o.arm_type,
                    "name": o.name,
                    "action": self.decisions[o.key].action.value,
                    "dependsOn": list(o.depends_on),
                    "changes": [],
                    "reason": self.decisions[o.key].reason,
                }
                for o in self.orphans
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


def decisions_for(
    plan: Plan, clients: Clients, shared_key: str | None, prune: bool = False
) -> tuple[dict[str, Decision], list[Orphan]]:
    observed = observe(clients, plan.topology.resource_group)
    ctx = Context(
        clients,
        plan,
        observed,
        None,
        SharedKeys(clients, plan.topology.resource_group, shared_key),
    )
    decisions: dict[str, Decision] = {}
    refused: Decision | None = None
    for step in plan.steps:
        needs = next((d for d in step.depends_on if decisions[d].action is Action.BLOCKED), None)
        if refused is not None:  # deploy refuses the whole run
            decision = refused
        elif needs is not None:
            decision = Decision(Action.BLOCKED, reason=f"needs {needs}")
        else:
            decision = decide(step, observed, ctx)
        if step.kind == "resource_group" and decision.action is Action.BLOCKED:
            refused = decision
        decisions[step.key] = decision
        projected = project(step, decision, existing_of(step, observed), ctx)
        if projected is not None:
            ctx.results[step.key] = projected
    left = orphans({s.key for s in plan.steps}, observed, plan.topology.name)
    if refused is None:  # in a group deploy refuses, nothing is this topology's
        for orphan in left:
            decisions[orphan.key] = decide_orphan(orphan, observed, prune)
    else:
        left = []
    return decisions, left


def project(step: Step, decision: Decision, existing: Any, ctx: Context) -> Any | None:
    """What the resource will look like after ``decision``, for the steps that read it."""
    if decision.action is Action.UPDATE or (
        decision.action is Action.CREATE and existing is not None and step.kind != "resource_group"
    ):
        try:
            return updated(step, existing, ctx)
        except LookupError:
            return None
    if decision.action is Action.CREATE and step.kind != "resource_group":
        try:
            model = desired(step, ctx)
        except LookupError:
            return None
        if isinstance(step.spec, GatewaySpec):  # Azure assigns it: as plan predicts
            model.bgp_settings.bgp_peering_address = step.spec.bgp_peering_address
        return model
    return existing


def plan_against(
    topology: Topology, clients: Clients, shared_key: str | None = None, prune: bool = False
) -> PlanResult:
    plan = build_plan(topology)
    decisions, left = decisions_for(plan, clients, shared_key, prune)
    remaining = {
        s.key: (
            s.azure_s
            if decisions[s.key].action in (Action.CREATE, Action.UPDATE, Action.WAIT)
            else 0.0
        )
        for s in plan.steps
    }
    total, path = plan.critical_path()
    left_s, _ = plan.critical_path(remaining)
    reach = predicted_probes(plan, SSH_PORT) if topology.vm is not None else []
    return PlanResult(plan, decisions, (total, list(path)), left_s, reach, tuple(left))
