"""Why a deploy failed, in words that say what to do next.

A failed step carries Azure's error code (``Outcome.code``). The code decides the
advice: ARM throttling and server errors that outlived every retry are Azure's
weather, not the topology's fault (re-run deploy); a resource group that a destroy
is still deleting refuses every write until it is gone (wait for destroy); anything
else is the topology's or the subscription's to fix. Identical errors are said once
for all the resources they hit, ARM ids shortened to resource names, and each failed
resource names the steps skipped because they needed it::

    for line in failure_lines(report, width=80):
        print(line)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from hubvpn.kinds import KINDS, Kind
from hubvpn.plan import Step


class Cause(StrEnum):
    TRANSIENT = "transient"  # Azure throttling or failing: re-run deploy
    DELETING = "deleting"  # the group is being deleted: wait for destroy to finish
    TOPOLOGY = "topology"  # something to fix before deploying again


# ARM's answers while it sheds load or fails on its side (429, 5xx, and an operation
# another one holds past deploy's own retries): the same request later succeeds.
TRANSIENT_CODES = frozenset(
    {
        "TooManyRequests",
        "SubscriptionRequestsThrottled",
        "TenantRequestsThrottled",
        "ResourceRequestsThrottled",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "BadGateway",
        "GatewayTimeout",
        "ServerTimeout",
        "RetryableError",
        "RetryableErrorDueToAnotherOperation",
        "AnotherOperationInProgress",
    }
)
# ARM's 409 for any write into a group whose deletion is under way (azure-facts.md).
DELETING_CODES = frozenset({"ResourceGroupBeingDeleted"})
HINT = {
    Cause.TRANSIENT: "transient: re-run deploy",
    Cause.DELETING: "wait for destroy to finish",
    Cause.TOPOLOGY: "",
}
ADVICE = {
    Cause.TRANSIENT: "Azure was throttling / failing; your topology is fine: re-run "
    "deploy, it resumes from here.",
    Cause.DELETING: "The resource group is still being deleted by a destroy: wait for "
    "destroy to finish (hubvpn destroy waits for it), then deploy.",
    Cause.TOPOLOGY: "Fix the cause and run deploy again: it resumes from here.",
}
_ARM_ID = re.compile(r"/subscriptions/[^\s'\"]*[^\s'\".,;:)/]")
_KIND_ORDER = {kind.value: i for i, kind in enumerate(Kind)}


class StepOutcome(Protocol):
    """What deploy reports about one step (``deploy.Outcome``)."""

    @property
    def step(self) -> Step: ...
    @property
    def state(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def code(self) -> str | None: ...


def cause_of(code: str | None) -> Cause:
    if code in TRANSIENT_CODES:
        return Cause.TRANSIENT
    if code in DELETING_CODES:
        return Cause.DELETING
    return Cause.TOPOLOGY


def shorten_ids(text: str) -> str:
    """Each ARM id in ``text`` by its resource's name (``…/virtualNetworks/vnet-hub00``)."""
    return _ARM_ID.sub(lambda m: m.group(0).rsplit("/", 1)[-1], text)


def name_of(step: Step) -> str:
    return f"{step.parent}/{step.name}" if step.parent else step.name


def _order(step: Step) -> tuple[int, str]:
    return (_KIND_ORDER.get(step.kind, len(_KIND_ORDER)), name_of(step))


@dataclass
class Failure:
    """Resources that failed with one code and message, and what was skipped for them."""

    code: str | None
    message: str
    steps: list[Step] = field(default_factory=list)
    skipped: dict[str, list[Step]] = field(default_factory=dict)  # by failed step's key

    @property
    def cause(self) -> Cause:
        return cause_of(self.code)


def _message(outcome: StepOutcome) -> str:
    """The error's message without the ``Code: `` deploy put in front of it."""
    text = outcome.detail
    if outcome.code and text.startswith(f"{outcome.code}: "):
        text = text[len(outcome.code) + 2 :]
    return shorten_ids(text)


def group_failures(outcomes: Iterable[StepOutcome]) -> list[Failure]:
    """Failed steps grouped by (code, message); skipped ones under the failure they needed."""
    done = {o.step.key: o for o in outcomes}
    groups: dict[tuple[str | None, str], Failure] = {}
    for o in sorted(
        (o for o in done.values() if o.state == "failed"), key=lambda o: _order(o.step)
    ):
        failure = groups.setdefault((o.code, _message(o)), Failure(o.code, _message(o)))
        failure.steps.append(o.step)
        failure.skipped[o.step.key] = []
    by_failed = {key: f for f in groups.values() for key in f.skipped}
    for o in sorted(
        (o for o in done.values() if o.state == "skipped"), key=lambda o: _order(o.step)
    ):
        root = _root(o, done)
        if root in by_failed:
            by_failed[root].skipped[root].append(o.step)
    return sorted(groups.values(), key=lambda f: (-len(f.steps), _order(f.steps[0])))


def _root(outcome: StepOutcome, done: dict[str, StepOutcome]) -> str | None:
    """The failed step a skipped one needed: its first failed dependency, else the root
    of its first skipped one (the plan's order, so the answer does not depend on which
    failure deploy happened to see first)."""
    seen: set[str] = set()
    while outcome.state == "skipped" and outcome.step.key not in seen:
        seen.add(outcome.step.key)
        needed = [done[d] for d in outcome.step.depends_on if d in done]
        failed = [o for o in needed if o.state == "failed"]
        if failed:
            return failed[0].step.key
        skipped = [o for o in needed if o.state == "skipped"]
        if not skipped:
            return None
        outcome = skipped[0]
    return None


def wrap(first: str, indent: str, words: list[str], width: int, sep: str = " ") -> list[str]:
    """``first`` then ``words`` joined by ``sep``, wrapped between words at ``width``;
    later lines start with ``indent`` (both end in a space or are followed by one).
    A word longer than a line stays whole."""
    lines: list[str] = []
    line = first
    for i, word in enumerate(words):
        piece = word + (sep.rstrip() if i < len(words) - 1 else "")
        joiner = "" if not line or line.endswith(" ") else " "
        if line.strip() and len(line) + len(joiner) + len(piece) > width:
            lines.append(line.rstrip())
            line, joiner = indent, ""
        line += joiner + piece
    lines.append(line)
    return lines


def failure_lines(failures: list[Failure], width: int) -> list[str]:
    """Each group: ``7 resources: Code (hint)``, its message wrapped, then each failed
    resource with the steps skipped because of it."""
    width = max(width, 40)
    lines: list[str] = []
    for failure in failures:
        n = len(failure.steps)
        head = f"{n} resource{'s' if n > 1 else ''}: {failure.code or 'error'}"
        hint = HINT[failure.cause]
        lines.append(head + (f" ({hint})" if hint else ""))
        lines += wrap("  ", "  ", failure.message.split(), width)
        for step in failure.steps:
            label = KINDS[Kind(step.kind)].label
            skipped = [name_of(s) for s in failure.skipped.get(step.key, [])]
            if not skipped:
                lines.append(f"  ✗ {label} {name_of(step)}")
                continue
            first = f"  ✗ {label} {name_of(step)}, {len(skipped)} skipped:"
            lines += wrap(first, "      ", skipped, width, ", ")
    return lines


def advice(failures: list[Failure], width: int) -> list[str]:
    """What to do next, once per kind of cause present, wrapped at ``width``."""
    causes = {f.cause for f in failures}
    lines: list[str] = []
    for cause in (Cause.DELETING, Cause.TRANSIENT, Cause.TOPOLOGY):
        if cause in causes:
            lines += wrap("", "", ADVICE[cause].split(), max(width, 40))
    return lines
