"""Typed results as the user reads them: status rows, a verification, a plan.

Each function prints one result through the ``Console`` (results on stdout,
remarks on stderr); with ``console.py`` the only module that knows rich::

    views.status(console, status(plan, clients))
    views.verification(console, verify(plan, clients, 22))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hubvpn.console import KIND_LABEL, STATE_STYLE, Console, duration, label

if TYPE_CHECKING:
    from hubvpn.explain import Cause
    from hubvpn.preview import PlanResult
    from hubvpn.status import EffectiveRoute, GatewayRow, LearnedRoute, Status
    from hubvpn.verify import Verification


def status(console: Console, status: Status, show_all: bool = False) -> None:
    if not status.deployed:
        console.out.print(
            f"Topology [bold]{status.topology}[/] is not deployed "
            f"(resource group {status.resource_group} does not exist)."
        )
        return
    states = Counter(r.provisioning_state for r in status.resources)
    line = ", ".join(f"{n} {s}" for s, n in states.most_common())
    console.out.print(
        f"[bold]{status.topology}[/] in {status.resource_group}: "
        f"{len(status.resources)} resources ({line})"
    )
    odd = [r for r in status.resources if r.provisioning_state != "Succeeded"]
    if odd:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in ("resource", "type", "state"):
            table.add_column(col)
        for r in odd:
            table.add_row(
                r.name,
                r.type.split("/")[-1],
                Text(r.provisioning_state, style=STATE_STYLE.get(r.provisioning_state, "")),
            )
        console.out.print(table)
    if status.missing:
        console.out.print(
            f"[yellow]{len(status.missing)} planned resource(s) missing[/]: "
            + ", ".join(k.split(":", 1)[1] for k in status.missing[:8])
            + (" ..." if len(status.missing) > 8 else "")
        )
    if status.awaited:
        awaited = escape(", ".join(status.awaited))
        console.out.print(f"[yellow]not converged yet[/]: still waiting for {awaited}")
    for problem in status.problems:
        if problem.problem != "is missing":  # said in one line above
            _cause(console, problem, "breaks", out=True)
    if status.connections:
        console.out.print()
        table = Table(
            title="Connections",
            title_justify="left",
            box=None,
            header_style="bold",
            pad_edge=False,
        )
        table.add_column("connection")
        table.add_column("status")
        for c in status.connections:
            table.add_row(
                c.name,
                Text(c.connection_status, style=STATE_STYLE.get(c.connection_status, "")),
            )
        console.out.print(table)
    gateways = {gw.name: gw for gw in status.gateways}
    for hub in status.hubs:
        console.out.print()
        console.out.print(f"[bold]{hub.name}[/] ({hub.location})")
        gw = gateways.get(hub.gateway)
        if gw is None:
            state = next(
                (
                    r.provisioning_state
                    for r in status.resources
                    if r.name == hub.gateway and r.type.endswith("virtualNetworkGateways")
                ),
                "not deployed",
            )
            console.out.print(f"  gateway {hub.gateway}: {state}")
        else:
            _gateway(console, gw, show_all)
        peerings = [p for p in status.peerings if p.name.split("-to-", 1)[0] in hub.networks]
        if peerings:
            rows = [
                (p.name, Text(p.peering_state, STATE_STYLE.get(p.peering_state, "")))
                for p in peerings
            ]
            _az_table(console, "Peerings", ("Name", "PeeringState"), rows)
        for vm in hub.vms:
            if vm in status.effective_routes:
                _effective_routes(console, vm, status.effective_routes[vm], show_all)
        inventory = [i for i in status.inventory if i.hub == hub.name]
        if inventory:
            _az_table(
                console,
                "Addresses",
                ("Kind", "Name", "Address"),
                [(i.kind, i.name, i.address or "") for i in inventory],
            )


USER_ROUTE = "bold magenta"  # user-defined routes stand out among Azure's


def _az_table(
    console: Console,
    title: str,
    columns: tuple[str, ...],
    rows: Sequence[Sequence[str | Text]],
    gap: int = 2,
) -> None:
    """A table with az's column headers (``-o table``), titled, fitting 80 columns."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=None,
        header_style="dim",
        pad_edge=False,
        padding=(0, gap, 0, 0),
    )
    for col in columns[:-1]:
        table.add_column(col, no_wrap=True)
    table.add_column(columns[-1])
    for row in rows:
        table.add_row(*row)
    console.out.print(table)


def _gateway(console: Console, gw: GatewayRow, show_all: bool) -> None:
    """az network vnet-gateway list-bgp-peer-status / list-learned-routes /
    list-advertised-routes, column for column."""
    console.out.print(f"  gateway {gw.name}  AS {gw.asn}  BGP {gw.bgp_peering_address}")
    wide = console.out.width >= 100  # az's message counters when there is room
    columns: tuple[str, ...] = ("Neighbor", "ASN", "State", "ConnectedDuration", "RoutesReceived")
    if wide:
        columns += ("MessagesSent", "MessagesReceived")
    rows: list[tuple[str | Text, ...]] = []
    for p in gw.peers:
        row: tuple[str | Text, ...] = (
            p.neighbor,
            _cell(p.asn),
            Text(p.state, STATE_STYLE.get(p.state, "")),
            p.connected_duration or "",
            _cell(p.routes_received),
        )
        rows.append(row + ((_cell(p.messages_sent), _cell(p.messages_received)) if wide else ()))
    if rows:
        _az_table(console, f"BGP peers of {gw.name}", columns, rows)
    route_columns = ("Network", "NextHop", "Origin", "SourcePeer", "AsPath", "Weight")
    learned = [r for r in gw.learned_routes if show_all or r.origin != "Network"]
    if learned:
        _az_table(
            console, f"Learned routes of {gw.name}", route_columns, [_route(r) for r in learned]
        )
    for peer, routes in gw.advertised_routes.items():
        if routes:
            _az_table(
                console,
                f"Advertised to {peer}",
                route_columns,
                [_route(r) for r in routes],
            )


def _route(r: LearnedRoute) -> tuple[str, ...]:
    return (r.network, r.next_hop or "", r.origin, r.source_peer or "", r.as_path, _cell(r.weight))


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def _effective_routes(
    console: Console, vm: str, routes: tuple[EffectiveRoute, ...], show_all: bool
) -> None:
    """az network nic show-effective-route-table -o table: user routes stand out (listed
    first and styled, so they do piped too), Azure's defaults
    (Source Default) only with --all."""
    shown = [r for r in routes if show_all or r.source != "Default"]
    shown.sort(key=lambda r: r.source != "User")  # stable: Azure's order otherwise
    rows: list[tuple[str | Text, ...]] = []
    for r in shown:
        style = USER_ROUTE if r.source == "User" else ""
        rows.append(
            (
                Text(r.source, style),
                r.state,
                Text(" ".join(r.address_prefix), style),
                Text(r.next_hop_type, style),
                " ".join(r.next_hop_ip_address),
            )
        )
    hidden = len(routes) - len(shown)
    title = f"Effective routes of {vm}"
    if hidden:
        title += f" ({hidden} Default hidden; --all shows them)"
    columns = ("Source", "State", "Address Prefix", "Next Hop Type", "Next Hop IP")
    _az_table(console, title, columns, rows, gap=1)


def matrix(
    console: Console,
    title: str,
    names: list[str],
    cells: dict[tuple[str, str], Any],
    columns: list[str] | None = None,
) -> None:
    """cells[(from, to)] = (reachable, expected) or (reachable, None); rows are
    ``names``, columns ``columns`` (default the same names)."""
    columns = names if columns is None else columns
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        pad_edge=False,
        box=None,
        padding=(0, 1),
    )
    table.add_column("from \\ to")
    for name in columns:
        table.add_column(name.removeprefix("vm-"), justify="center")
    for src in names:
        row: list[Text | str] = [src.removeprefix("vm-")]
        for dst in columns:
            if src == dst:
                row.append(Text("·", style="dim"))
                continue
            reachable, expected = cells[(src, dst)]
            if reachable is None:
                row.append(Text("?", style="bold yellow"))
                continue
            mark = "✓" if reachable else "✗"
            if expected is None or expected == reachable:
                row.append(Text(mark, style="green" if reachable else "dim"))
            else:
                row.append(Text(f"{mark}!", style="bold white on red"))
        table.add_row(*row)
    console.out.print(table)


def verification(console: Console, result: Verification) -> None:
    probes, port, ok = result.probes, result.port, result.ok
    if len(probes) == 1:
        _one_probe(console, result)
    else:
        order = list(dict.fromkeys(vm for p in probes for vm in (p.source, p.destination)))
        names = [vm for vm in order if any(p.source == vm for p in probes)]
        columns = [vm for vm in order if any(p.destination == vm for p in probes)]
        cells = {(p.source, p.destination): (p.reachable, p.expected) for p in probes}
        matrix(console, f"Measured TCP {port}", names, cells, columns)
        _expected_blocks(console, result)
    if not ok:
        console.err.print("[dim]! differs from the prediction, ? not measured[/]")
    explained = {pair for cause in result.causes for pair in cause.probes}
    for cause in result.causes:
        _cause(console, cause, cause.effect)
    for p in probes:
        if p.reachable == p.expected or (p.source, p.destination) in explained:
            continue
        what = (
            "not measured"
            if p.reachable is None
            else ("reachable" if p.reachable else "unreachable")
        )
        predicted = "reachable" if p.expected else "unreachable"
        address = f" ({p.address})" if p.address else ""
        why = result.reasons.get((p.source, p.destination)) or p.detail
        detail = f" — {why}" if why else ""
        message = f"{p.source} → {p.destination}{address}: {what}, predicted {predicted}"
        console.err.print(f"[red]✗[/] {escape(message + detail)}")
    console.err.print(
        "[green]verified:[/] measured matrix equals the prediction"
        if ok
        else "[bold red]verification failed[/]"
    )


def _cause(
    console: Console, cause: Cause, verb: str, total: int | None = None, *, out: bool = False
) -> None:
    """A resource that breaks probes, its fix, and the probes it breaks by source:
    ``✗ spoke10-to-hub00 is missing: run hubvpn deploy`` then ``breaks 5 probes: ...``
    (on stderr beside verify's matrix; on stdout, ``out``, as part of status)."""
    stream = console.out if out else console.err
    width = max(stream.width, 40)
    for line in wrapped("✗ ", cause.text.split(" "), width, ""):
        stream.print(line, style="red" if line.startswith("✗") else "", markup=False)
    if not cause.probes:
        return
    by_source: dict[str, list[str]] = {}
    for source, destination in cause.probes:
        by_source.setdefault(source.removeprefix("vm-"), []).append(destination.removeprefix("vm-"))
    groups = [f"{src} → {' '.join(dsts)}" for src, dsts in by_source.items()]
    count = len(cause.probes)
    of = f" of {total}" if total is not None else ""
    stream.print(f"  {verb} {count}{of} probe{'s' if count > 1 else ''}:", style="dim")
    for line in wrapped("    ", groups, width, ";"):
        stream.print(line, style="dim", markup=False)


def not_deployed(console: Console, result: Verification) -> None:
    """Why verify stops before probing: each resource in the way, its fix, and the
    probes it would break."""
    total = len(result.probes)
    for cause in result.causes:
        _cause(console, cause, "would break", total)


def _expected_blocks(console: Console, result: Verification) -> None:
    """Each ✗ that the topology predicts, with its reason (mismatches follow on stderr)."""
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1))
    table.add_column("pair", no_wrap=True)
    table.add_column("reason")
    for p in result.probes:
        if p.reachable is False and not p.expected:
            reason = result.reasons.get((p.source, p.destination), "")
            pair = f"✗ {p.source.removeprefix('vm-')} → {p.destination.removeprefix('vm-')}:"
            table.add_row(pair, reason)
    if table.row_count:
        console.out.print(table)


def _one_probe(console: Console, result: Verification) -> None:
    """One pair: the verdict, then the hops Network Watcher reported with their types."""
    p = result.probes[0]
    path = result.paths.get((p.source, p.destination))
    verdict = {True: "reachable", False: "unreachable", None: "not measured"}[p.reachable]
    latency = (
        f", avg latency {path.avg_latency_ms:g} ms"
        if path is not None and path.avg_latency_ms is not None
        else ""
    )
    console.out.print(
        escape(f"{p.source} → {p.destination} ({p.address}) TCP {result.port}: {verdict}") + latency
    )
    if path is not None and path.hops:
        timed = any(hop.latency_ms is not None for hop in path.hops)
        table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, 2))
        for col in ("  hop", "address", "resource", *(("latency",) if timed else ())):
            table.add_column(col, no_wrap=True)
        for hop in path.hops:
            latency = f"{hop.latency_ms:g} ms" if hop.latency_ms is not None else ""
            table.add_row(
                f"  {hop.type}", hop.address, hop.resource, *((latency,) if timed else ())
            )
        console.out.print(table)
    if p.reachable is False and p.reachable == p.expected:
        reason = result.reasons.get((p.source, p.destination), "")
        console.out.print(escape(f"✗ as predicted: {reason}"), style="dim")
    elif p.reachable is not None and p.reachable != p.expected:
        predicted = "reachable" if p.expected else "unreachable"
        console.out.print(f"! predicted {predicted}", style="bold red", markup=False)


ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "wait": "cyan",
    "blocked": "bold red",
    "orphan": "magenta",
    "delete": "red",
}
# The summary's words in Terraform's order; the extra states appear only when non-zero.
SUMMARY = (
    ("create", "to create"),
    ("update", "to update"),
    ("delete", "to delete"),
    ("keep", "unchanged"),
)
EXTRA = (("blocked", "blocked"), ("wait", "waiting"), ("orphan", "orphaned"))


def shown(value: Any) -> str:
    """One field value for people: an ARM id by its resource name, None as (none)."""
    if value is None:
        return "(none)"
    if isinstance(value, str) and value.startswith("/subscriptions/"):
        return value.rstrip("/").rsplit("/", 1)[-1]
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def wrapped(prefix: str, words: list[str], width: int, sep: str = ",") -> list[str]:
    """``prefix`` then ``words`` (``sep`` after all but the last), wrapped between words."""
    indent = " " * len(prefix)
    lines: list[str] = []
    line = ""
    for i, word in enumerate(words):
        piece = word + (sep if i < len(words) - 1 else "")
        if line and len(prefix) + len(line) + 1 + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line = f"{line} {piece}" if line else piece
    lines.append(line)
    return [(prefix if i == 0 else indent) + text for i, text in enumerate(lines)]


def plan_summary(actions: dict[str, str]) -> str:
    """The plan's last line: ``Plan: 4 to create, 2 to update, 1 to delete, 46 unchanged.``"""
    counts = Counter(actions.values())
    parts = [f"{counts[a]} {words}" for a, words in SUMMARY]
    parts += [f"{counts[a]} {words}" for a, words in EXTRA if counts[a]]
    return "Plan: " + ", ".join(parts) + "."


def _plan(console: Console, result: PlanResult) -> None:
    plan, actions = result.plan, result.actions
    counts = Counter(actions.values())
    verbs = {"blocked": "blocked", "orphan": "orphaned", "wait": "to wait for"}
    summary = ", ".join(f"{n} {verbs.get(a, 'to ' + a)}" for a, n in counts.most_common())
    head = f"{plan.topology.name} → {plan.topology.resource_group}: {len(plan.steps)} resources"
    words = [*head.split(), *f"({summary})".split()]
    console.lines(wrapped("", words, console.layout_width() or 10**6, ""), {"^[^ ]+": "bold"})
    rows = [(s.key, s.kind, label(s), s.depends_on) for s in plan.steps if actions[s.key] != "keep"]
    rows += [
        (o.key, o.kind, f"{o.parent}/{o.name}" if o.parent else o.name, ()) for o in result.orphans
    ]
    if not rows:
        console.out.print("Nothing to do: what exists matches the topology.")
        return
    width = max(console.out.width, 40)
    type_w = max(len(KIND_LABEL[kind]) for _, kind, _, _ in rows)
    action_w = max(6, *(len(actions[key]) for key, _, _, _ in rows))
    console.out.print(f"{'action':<{action_w}}  {'type':<{type_w}}  resource", style="bold")
    said: dict[str | None, str] = {}  # a reason said once, then referred to
    for key, kind, name, depends_on in rows:
        action = actions[key]
        decision = result.decisions[key]
        row = Text(f"{action:<{action_w}}", style=ACTION_STYLE.get(action, ""))
        row.append(f"  {KIND_LABEL[kind]:<{type_w}}  {name}")
        console.out.print(row)
        detail: list[str] = []
        for field, old, new in decision.changes:
            change = f"{field} {shown(old)} → {shown(new)}"
            detail += wrapped("    ~ ", change.split(" "), width, "")
        if action in ("orphan", "delete"):
            pass  # one line after the table says why and what to do
        elif decision.reason in said:
            detail.append(f"    (as {said[decision.reason]})")
        elif decision.reason:
            said[decision.reason] = name
            detail += wrapped("    ", decision.reason.split(" "), width, "")
        after = [
            d.split(":", 1)[1].rsplit("/", 1)[-1]
            for d in depends_on
            if not d.startswith("resource_group:")
        ]
        if after and action == "create":
            detail += wrapped("    after ", after, width)
        for line in detail:
            console.out.print(line, markup=False)
    left = counts["orphan"]
    if left:
        console.out.print(
            f"{left} resource{'s are' if left > 1 else ' is'} no longer in the topology: "
            "run hubvpn deploy --prune",
            markup=False,
        )
    total, critical = result.critical
    chain = [s.name for s in critical if s.kind != "resource_group"]
    # Wrapped between names and whole durations at a terminal; one line in a pipe.
    words = ["Expected", "duration", "on", "Azure:", duration(result.remaining_s)]
    words += ["(a", "full", "deploy:", f"{duration(total)};", "critical", "path"]
    words += [f"{name} →" for name in chain[:-1]] + [f"{chain[-1] if chain else ''})"]
    console.out.print()
    console.lines(wrapped("", words, console.layout_width() or 10**6, ""))


def plan_diff(console: Console, result: PlanResult) -> None:
    """What deploy would do and how long it should take (no matrix): before a prompt."""
    _plan(console, result)


MATRIX_STYLES = {"✓": "green", "✗": "dim", "~": "bold yellow"}


def plan(
    console: Console, result: PlanResult, before: dict[tuple[str, str], bool] | None = None
) -> None:
    """What deploy would do and how long it should take, then the predicted matrix
    (``before``: what is deployed now, whose cells the change flips are marked)."""
    from hubvpn.grid import matrix_lines

    _plan(console, result)
    if result.reachability:
        names = list(dict.fromkeys(p.source for p in result.reachability))
        cells = {(p.source, p.destination): bool(p.expected) for p in result.reachability}
        console.out.print()
        console.out.print("Predicted TCP 22 reachability", style="bold", soft_wrap=True)
        console.lines(matrix_lines(names, cells, console.layout_width(), before), MATRIX_STYLES)
