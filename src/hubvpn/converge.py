"""One decision per step: what ``plan`` shows is what ``deploy`` does.

``decide`` compares one planned step with what exists and answers a
``Decision``; ``plan`` prints the decisions, ``deploy`` applies them, and
neither decides anything on its own::

    decision = decide(step, observed, ctx)
    decision.action      # Action.UPDATE
    decision.changes     # (("bgpSettings.asn", 65150, 65160),)
    decision.reason      # None, or why (blocked, waiting, which watcher is used)

Actions: ``create`` (missing, or Failed: a PUT re-creates it), ``update`` (an
owned field differs; ``changes`` says which), ``wait`` (an operation is still
running on it), ``keep``, ``blocked`` (Azure would refuse the write: ``reason``
says why), ``orphan`` and ``delete`` (tagged resources no longer in the
topology; reserved for ``--prune``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hubvpn.kinds import DELETE_ORDER, KINDS, Kind
from hubvpn.kinds.body import Change
from hubvpn.kinds.vpn import pair_key
from hubvpn.kinds.watcher import regional_watcher, watcher_group
from hubvpn.observe import TRANSIENT_STATES, Observed, owned_by, ownership_refusal, state_of
from hubvpn.plan import (
    Addressed,
    ConnectionSpec,
    GatewaySpec,
    Step,
    gateway_generation,
    step_key,
)
from hubvpn.resources import Context, differences

SECRET = "(sensitive)"  # what a shared key change shows instead of either key
UNKNOWN = "(known after deploy)"  # a value Azure assigns while deploying


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    WAIT = "wait"
    KEEP = "keep"
    BLOCKED = "blocked"
    ORPHAN = "orphan"
    DELETE = "delete"


WRITES = frozenset({Action.CREATE, Action.UPDATE, Action.DELETE})


@dataclass(frozen=True)
class Decision:
    action: Action
    changes: tuple[Change, ...] = ()
    reason: str | None = None

    @property
    def writes(self) -> bool:
        return self.action in WRITES

    def summary(self) -> str:
        """One line for people: the changed fields, else the reason."""
        if self.changes:
            return ", ".join(path for path, _, _ in self.changes)
        return self.reason or ""


def existing_of(step: Step, observed: Observed) -> Any | None:
    """What exists for a step: the group, the region's watcher, or the named resource."""
    if step.kind == "resource_group":
        return observed.group
    if step.kind == "network_watcher":
        return regional_watcher(observed.watchers, step.location)
    return observed.get(step.key)


def decide(step: Step, observed: Observed, ctx: Context) -> Decision:
    """The one answer to "what must happen to this step", for plan and deploy alike."""
    existing = existing_of(step, observed)
    topology = ctx.plan.topology
    if existing is None:
        return Decision(Action.CREATE)
    if step.kind == "network_watcher":
        return Decision(Action.KEEP, reason=f"uses {watcher_group(existing)}/{existing.name}")
    if step.kind == "resource_group":
        refusal = ownership_refusal(existing, topology.name, "write into")
        if refusal is not None:
            return Decision(Action.BLOCKED, reason=refusal)
    state = state_of(existing)
    if step.kind == "resource_group" and state == "Deleting":
        # ARM refuses every write into it (409 ResourceGroupBeingDeleted) until it is gone.
        return Decision(
            Action.BLOCKED,
            reason=f"{existing.name} is still being deleted (a destroy): wait for destroy "
            "to finish (hubvpn destroy waits for it), then deploy",
        )
    if state in TRANSIENT_STATES:
        return Decision(Action.WAIT, reason=f"{state} from an earlier run")
    moved = _region_move(step, existing)
    if moved:
        return Decision(Action.BLOCKED, reason=moved)
    if state == "Failed":
        return Decision(
            Action.CREATE, reason="re-created: the earlier attempt ended in state Failed"
        )
    if step.kind == "resource_group":
        return Decision(Action.KEEP)
    try:
        changes = differences(step, existing, ctx)
    except LookupError:  # an input Azure assigns later (a remote gateway still to come)
        return Decision(Action.UPDATE, (("bgpSettings", UNKNOWN, UNKNOWN),))
    if isinstance(step.spec, GatewaySpec):
        generation = getattr(existing, "vpn_gateway_generation", None)
        generation = getattr(generation, "value", generation)
        resized = any(path == "sku.name" for path, _, _ in changes)
        if resized and gateway_generation(step.spec.sku) == "Generation1" != generation:
            return Decision(
                Action.BLOCKED,
                tuple(changes),
                f"{step.spec.sku} exists only in Generation1 and {step.name} is {generation}: "
                "Azure cannot resize it to that SKU (about-gateway-skus); choose VpnGw2AZ or "
                "larger",
            )
    if isinstance(step.spec, ConnectionSpec):
        for path, old, new in changes:
            if path == "localNetworkGateway2.id":
                return Decision(
                    Action.BLOCKED,
                    (("localNetworkGateway2.id", old, new),),
                    f"{step.name} would have to move from {old.rsplit('/', 1)[-1]} to "
                    f"{new.rsplit('/', 1)[-1]}, which Azure refuses in place "
                    "(PropertyChangeNotAllowed): delete the connection, then deploy",
                )
        if ctx.shared_keys.current(step.name) != pair_key(step.spec, ctx):
            changes.append(("sharedKey", SECRET, SECRET))
    if changes:
        return Decision(Action.UPDATE, tuple(changes))
    return Decision(Action.KEEP)


def _region_move(step: Step, existing: Any) -> str | None:
    """Azure cannot move a resource between regions: say so instead of a PUT it refuses."""
    where = getattr(existing, "location", None)
    if step.kind == "resource_group" or not where:
        return None
    if where.replace(" ", "").lower() == step.location.lower():
        return None
    return (
        f"{step.name} exists in {where} but the topology now places it in {step.location}; "
        "Azure cannot move a resource between regions (restore the hub order in the "
        "topology, or destroy and deploy again)"
    )


@dataclass(frozen=True)
class Orphan(Addressed):
    """A resource tagged with this topology (or the child of one) that it no longer has."""

    kind: str
    name: str
    parent: str | None
    depends_on: tuple[str, ...]  # orphans deleted before this one


def orphans(planned: set[str], observed: Observed, topology: str) -> list[Orphan]:
    """This topology's resources that the plan lacks, in the order they can be deleted.

    Only resources tagged with ``topology``; a peering or VM extension (which carry no
    tags) when its VNet or VM is. Never untagged resources, nor another topology's.
    """
    found: dict[str, list[tuple[str, str | None]]] = {kind.value: [] for kind in DELETE_ORDER}
    for key, model in observed.resources.items():
        kind, _, rest = key.partition(":")
        if key in planned or kind not in found:
            continue
        parent, _, name = rest.rpartition("/")
        owner_kind = KINDS[Kind(kind)].parent
        owner = observed.get(step_key(owner_kind, parent)) if owner_kind else model
        if owner is not None and owned_by(getattr(owner, "tags", None), topology):
            found[kind].append((name, parent or None))
    result: list[Orphan] = []
    before: tuple[str, ...] = ()
    for kind in found:
        rank = [Orphan(kind, name, parent, before) for name, parent in sorted(found[kind])]
        result += rank
        before = tuple(o.key for o in rank) or before
    return result


def decide_orphan(orphan: Orphan, observed: Observed, prune: bool) -> Decision:
    """``orphan`` (shown, left alone) or, under ``--prune``, ``delete``; ``wait`` while an
    earlier delete is still running."""
    state = state_of(observed.get(orphan.key))
    if state == "Deleting":
        return Decision(Action.WAIT, reason="Deleting from an earlier run")
    if prune:
        return Decision(Action.DELETE, reason="no longer in the topology")
    return Decision(Action.ORPHAN, reason="no longer in the topology: run hubvpn deploy --prune")
