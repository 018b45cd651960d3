"""How long is left: the model behind deploy's progress, on an injected clock.

``Progress`` follows each step's state and knows its expected duration (the
kind's typical Azure duration, scaled by the emulator's speed when there is
one), so a row reads ``vpngw-hub01  creating  12m of ~30m``, the footer
``12/53 done · ~18m left`` (the critical path of what remains), and steps that
wait are named by what they wait for (``4 peerings wait for vpngw-hub01``).
Without a terminal, ``heartbeats(now)`` returns a ``still creating …`` line for
each operation that has printed nothing for ``HEARTBEAT_S`` wall seconds, as
Terraform does. Everything here is pure: the caller passes the time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubvpn.kinds import KINDS, Kind
from hubvpn.plan import Plan, Step

Clock = Callable[[], float]
HEARTBEAT_S = 10.0  # wall seconds between lines for a running operation (at most 15)
DONE = frozenset({"created", "updated", "unchanged", "attached", "failed", "skipped"})
ACTIVE = frozenset({"creating", "updating", "waiting", "retrying"})
# What people read for a kind in a count ("4 peerings").
PLURAL = {
    "NSG": "NSGs",
    "VNet": "VNets",
    "public IP": "public IPs",
    "VPN gateway": "VPN gateways",
}


def short(seconds: float) -> str:
    """A compact duration for progress: ``45s``, ``12m``, ``1h05m``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def name_of(step: Step) -> str:
    if step.kind in (Kind.PEERING.value, Kind.VM_EXTENSION.value):
        return f"{step.parent}/{step.name}"
    return step.name


def plural(label: str, n: int) -> str:
    if n == 1:
        return label
    return PLURAL.get(label, label + "s")


@dataclass
class Row:
    step: Step
    expected: float  # wall seconds this kind typically takes here
    state: str = "pending"
    detail: str = ""
    began: float | None = None  # clock time the operation started
    ended: float | None = None
    printed: float | None = None  # clock time of the last line printed about it
    resumed: bool = False  # attached to an operation an earlier run started


class Progress:
    """The state of every step of a deploy and what it says about the time left."""

    def __init__(self, plan: Plan, scale: float, started: float) -> None:
        self.plan = plan
        self.started = started
        self.rows = {s.key: Row(s, KINDS[Kind(s.kind)].azure_s * scale) for s in plan.steps}

    def update(self, step: Step, state: str, detail: str, now: float) -> Row:
        row = self.rows[step.key]
        if state == "waiting":
            # An operation an earlier run started: this run cannot read when ARM began
            # it (the body has no timestamps), so it counts from the first time this
            # run saw it and says "attached" rather than pretending to know more.
            row.resumed = True
        if row.began is None and state != "pending":
            row.began = now
        if state in DONE:
            row.ended = now
        row.state, row.detail, row.printed = state, detail, now
        return row

    # ------------------------------------------------------------ figures
    def elapsed(self, row: Row, now: float) -> float:
        if row.began is None:
            return 0.0
        return (row.ended if row.ended is not None else now) - row.began

    def left(self, row: Row, now: float) -> float:
        if row.state in DONE:
            return 0.0
        return max(0.0, row.expected - self.elapsed(row, now))

    def remaining(self, now: float) -> float:
        """Wall seconds along the critical path of what is not done yet."""
        if all(r.state in DONE for r in self.rows.values()):
            return 0.0
        cost = {key: self.left(row, now) for key, row in self.rows.items()}
        seconds, _ = self.plan.critical_path(cost)
        return seconds

    # ------------------------------------------------------------ lines
    def active(self) -> list[Row]:
        return [r for r in self.rows.values() if r.state in ACTIVE]

    def row_cells(self, row: Row, now: float) -> tuple[str, str, str]:
        """(resource, state, time): ``vpngw-hub01``, ``creating``, ``12m of ~30m``."""
        state = "attached" if row.resumed and row.state == "waiting" else row.state
        when = f"{short(self.elapsed(row, now))} of ~{short(row.expected)}"
        return name_of(row.step), state, when

    def footer(self, now: float) -> str:
        total = len(self.rows)
        done = sum(1 for r in self.rows.values() if r.state in DONE)
        text = f"{done}/{total} done · {short(now - self.started)} elapsed"
        if done < total:
            text += f" · ~{short(self.remaining(now))} left"
        return text

    def waits(self, now: float) -> list[str]:
        """Pending steps grouped by the running operation they wait for, at the end
        of their chain of dependencies: ``4 peerings, 2 connections wait for
        vpngw-hub01``; the blocker named is the one with the most time left."""
        roots: dict[str, Row | None] = {}

        def root(key: str) -> Row | None:
            if key not in roots:
                row = self.rows[key]
                if row.state in ACTIVE:
                    roots[key] = row
                elif row.state in DONE:
                    roots[key] = None
                else:
                    found = [r for r in map(root, row.step.depends_on) if r is not None]
                    roots[key] = max(
                        found, key=lambda r: (self.left(r, now), r.step.key), default=None
                    )
            return roots[key]

        groups: dict[str, Counter[str]] = {}
        for key, row in self.rows.items():
            blocker = root(key) if row.state == "pending" else None
            if blocker is not None:
                name = name_of(blocker.step)
                groups.setdefault(name, Counter())[KINDS[Kind(row.step.kind)].label] += 1
        lines = []
        for name, kinds in sorted(groups.items(), key=lambda g: (-g[1].total(), g[0])):
            counted = ", ".join(f"{n} {plural(label, n)}" for label, n in kinds.most_common())
            lines.append(f"{counted} wait for {name}")
        return lines

    def heartbeats(self, now: float) -> list[str]:
        """``still creating vpngw-hub01 [12m elapsed, ~18m left]`` for each running
        operation that printed nothing for ``HEARTBEAT_S`` seconds."""
        lines = []
        for row in self.active():
            if row.printed is None or now - row.printed < HEARTBEAT_S:
                continue
            row.printed = now
            verb = "waiting for" if row.state == "waiting" else f"still {row.state}"
            elapsed, left = self.elapsed(row, now), self.left(row, now)
            when = f"~{short(left)} left" if left >= 1 else f"usually ~{short(row.expected)}"
            lines.append(f"{verb} {name_of(row.step)} [{short(elapsed)} elapsed, {when}]")
        return lines


# ------------------------------------------------------------ the record
@dataclass(frozen=True)
class Done:
    """One finished step as the record shows it."""

    step: Step
    state: str
    seconds: float  # wall seconds the step took in this run


def record(done: list[Done], width: int = 80) -> list[str]:
    """One line per kind, in plan order: up to three resources named with their
    time, more (or a line wider than ``width``) as a count with the range and the
    slowest named, so the 53-step reference lab stays on one screen."""
    kinds = list(Kind)
    by_kind: dict[str, list[Done]] = {}
    for item in sorted(done, key=lambda d: (kinds.index(Kind(d.step.kind)), d.step.key)):
        by_kind.setdefault(KINDS[Kind(item.step.kind)].label, []).append(item)
    column = max((len(plural(k, len(v))) for k, v in by_kind.items()), default=0)
    lines = []
    for label, items in by_kind.items():
        head = plural(label, len(items)).ljust(column)
        body = ", ".join(f"{name_of(i.step)} {short(i.seconds)}" for i in items)
        if len(items) > 3 or len(f"  {head}  {body}") > width:
            slow = max(items, key=lambda i: i.seconds)
            fast = min(i.seconds for i in items)
            spread = (
                short(fast)
                if short(fast) == short(slow.seconds)
                else (f"{short(fast)}–{short(slow.seconds)}")
            )
            body = f"{len(items)} in {spread} (slowest {name_of(slow.step)})"
        lines.append(f"  {head}  {body}")
    return lines


def outputs(results: dict[str, Any]) -> list[str]:
    """What an engineer needs next, read from the deploy's own results: each
    gateway's public IP and BGP address, each VM's private IP."""
    addresses = {
        getattr(m, "id", "").lower(): getattr(m, "ip_address", None)
        for k, m in results.items()
        if k.startswith("public_ip:") and m is not None
    }
    lines = []
    # results arrive in completion order; the record must not depend on it.
    for key, model in sorted(results.items()):
        if not key.startswith("virtual_network_gateway:") or model is None:
            continue
        publics = [
            addresses.get((c.public_ip_address.id or "").lower())
            for c in model.ip_configurations or []
            if c.public_ip_address is not None
        ]
        bgp = model.bgp_settings
        peering = bgp.bgp_peering_address if bgp else None
        asn = f" (AS {bgp.asn})" if bgp and bgp.asn else ""
        shown = ", ".join(p for p in publics if p) or "pending"
        lines.append(f"  {model.name}  public {shown}  BGP {peering or '-'}{asn}")
    vms = []
    for key, model in results.items():
        if key.startswith("network_interface:") and model is not None:
            configs = model.ip_configurations or []
            ip = configs[0].private_ip_address if configs else None
            vm = model.name.removeprefix("nic-")
            vms.append(f"  vm-{vm}  private {ip or '-'}")
    lines.extend(sorted(vms))
    return lines
