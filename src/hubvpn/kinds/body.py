"""What a kind's module declares about its SDK body, and what each declaration gets.

A kind's module (``network``, ``vpn``, ``compute``, ``watcher``, ``group``) lists one
``Body`` per kind it owns; ``resources`` looks the body up by the step's kind::

    BODIES = {
        Kind.ROUTE_TABLE: Body(desired_route_table, route_table_differences),
        Kind.PEERING: Body(desired_peering, peering_differences, tagged=False),
    }

``desired`` builds the SDK model to PUT; ``differences`` names the owned fields that
differ (the tag is compared for every tagged kind, apart from the body); ``updated``
is the model to PUT over what exists, given a copy of it to change (default: the
desired model, keeping the existing tags). No SDK import at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hubvpn.plan import Step
    from hubvpn.resources import Context

Change = tuple[str, Any, Any]  # (field path in the ARM body, what exists, what the plan wants)

Desired = Callable[["Step", "Context"], Any]
Differences = Callable[["Step", Any, "Context"], list[Change]]
Updated = Callable[["Step", Any, "Context"], Any]
Put = Callable[["Step", Any, "Context"], Callable[[], Any]]


SpecT = TypeVar("SpecT")


def spec_of(step: Step, spec_type: type[SpecT]) -> SpecT:
    """The step's spec, as the body that was looked up for its kind expects it."""
    if not isinstance(step.spec, spec_type):
        raise TypeError(f"{step.key} has no {spec_type.__name__}")
    return step.spec


def no_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    """Nothing owned beyond name, place and tag."""
    return []


@dataclass(frozen=True)
class Body:
    desired: Desired
    differences: Differences = no_differences
    updated: Updated | None = None  # None: the desired model, keeping the existing tags
    tagged: bool = True  # carries the lab's tag (peerings, extensions, watchers do not)
    put: Put | None = None  # a write unlike the generic PUT (the region's watcher)
    group: str | None = None  # the resource group it lives in, when not the lab's


def ref_id(ref: Any) -> str | None:
    """The id of an SDK sub-resource reference, None when unset."""
    value = getattr(ref, "id", None)
    return str(value) if value else None


def same_id(a: str | None, b: str | None) -> bool:
    """ARM ids compare without case (resource-api-reference: URIs are case-insensitive)."""
    return (a or "").lower() == (b or "").lower()


def tracked(step: Step, ctx: Context) -> dict[str, Any]:
    """What every tracked resource's body carries: its region and the lab's tag."""
    return {"location": step.location, "tags": ctx.tags}


def add_lab_tag(model: Any, ctx: Context, kept: Any | None = None) -> Any:
    """The model with the lab's tag beside the tags ``kept`` has (default: its own)."""
    source = model if kept is None else kept
    model.tags = {**(getattr(source, "tags", None) or {}), **ctx.tags}
    return model
