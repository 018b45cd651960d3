"""The terminal: headers, messages, live progress; ``views`` renders typed results.

Everything a user reads goes through one ``Console``; stdout carries results
(tables, JSON), stderr carries progress and errors, so ``--output json`` pipes
cleanly. On a terminal deploy shows a live table; elsewhere one line per change.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console as RichConsole
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hubvpn.kinds import KINDS
from hubvpn.plan import Plan, Step

STATE_STYLE = {
    "pending": "dim",
    "waiting": "yellow",
    "creating": "cyan",
    "updating": "cyan",
    "retrying": "yellow",
    "created": "green",
    "updated": "green",
    "unchanged": "dim green",
    "attached": "green",
    "failed": "bold red",
    "skipped": "red",
    "Succeeded": "green",
    "Failed": "bold red",
    "Updating": "yellow",
    "Creating": "yellow",
    "Deleting": "yellow",
    "Connected": "green",
    "Connecting": "yellow",
    "NotConnected": "red",
    "Unknown": "dim",
}
KIND_LABEL = {kind.value: info.label for kind, info in KINDS.items()}
_INTERRUPT_REPORTED = threading.Event()


def interrupt_reported() -> bool:
    """Whether this process already told the user it was interrupted."""
    return _INTERRUPT_REPORTED.is_set()


DONE = ("created", "updated", "unchanged", "attached", "failed", "skipped")


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def label(step: Step) -> str:
    name = f"{step.parent}/{step.name}" if step.kind == "peering" else step.name
    if step.kind == "vm_extension":
        name = f"{step.parent}/{step.name}"
    return name


class Console:
    def __init__(self) -> None:
        self.out = RichConsole(highlight=False, soft_wrap=False)
        # Messages stay one line each in logs and pipes (no hard wrap at 80 columns).
        self.err = RichConsole(stderr=True, highlight=False, soft_wrap=True)

    # ------------------------------------------------------------ basics
    def header(
        self, command: str, target: str, detail: str = "", warnings: tuple[str, ...] = ()
    ) -> None:
        """The first line of every command names its target; topology warnings follow."""
        extra = f" · {escape(detail)}" if detail else ""
        self.err.print(f"[bold]hubvpn {command}[/] · target: [bold]{escape(target)}[/]{extra}")
        for warning in warnings:
            self.warn(warning)

    def info(self, message: str, *, markup: bool = False) -> None:
        """A line on stderr; ``markup`` only for text this program wrote, never user input."""
        self.err.print(message if markup else escape(message))

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/] {escape(message)}")

    def error(self, message: str) -> None:
        if "interrupted" in message:
            _INTERRUPT_REPORTED.set()
        self.err.print(f"[bold red]error:[/] {escape(message)}")

    def json(self, data: Any) -> None:
        self.out.print_json(json.dumps(data)) if self.out.is_terminal else print(
            json.dumps(data, indent=2)
        )

    def requests(self, rows: list[dict[str, Any]]) -> None:
        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in ("time", "method", "status", "ms"):
            table.add_column(col, no_wrap=True)
        table.add_column("path", overflow="fold")
        for r in rows:
            table.add_row(
                r["time"], r["method"], str(r["status"]), f"{r['durationMs']:.0f}", r["path"]
            )
        self.out.print(table)
        self.info(f"{len(rows)} requests")

    @contextmanager
    def waiting(self, message: str) -> Iterator[Callable[[float], None]]:
        """A spinner with the elapsed time on a terminal (nothing extra in logs);
        yields the function that updates it."""
        if not self.err.is_terminal:
            yield lambda elapsed: None
            return
        with self.err.status(escape(message)) as status:
            yield lambda elapsed: status.update(f"{escape(message)} · {duration(elapsed)}")

    def awaiting(self, awaited: tuple[str, ...]) -> None:
        """Progress of a bounded wait for tunnels and BGP sessions that lag provisioning."""
        self.info(f"waiting for tunnels to come up: {', '.join(awaited)}")

    # --------------------------------------------------------- progress
    def deploy_progress(self) -> DeployProgress:
        return DeployProgress(self)

    # ------------------------------------------------------------ deploy
    def deploy_summary(self, report: Any) -> None:
        counts = Counter(o.state for o in report.outcomes.values())
        parts = [
            f"{counts[s]} {s}"
            for s in ("created", "updated", "attached", "unchanged", "failed", "skipped")
            if counts[s]
        ]
        summary = ", ".join(parts) or "nothing to do"
        if report.interrupted:
            _INTERRUPT_REPORTED.set()
            self.err.print(f"[yellow]Interrupted[/] after {duration(report.seconds)}: {summary}.")
            if report.in_progress:
                names = ", ".join(label(s) for s in report.in_progress)
                self.err.print(
                    f"Still provisioning in Azure: {names}. Run deploy again: it waits for "
                    "them instead of writing them twice, then finishes the rest."
                )
            return
        if report.failed or report.skipped:
            self.err.print(
                f"[bold red]Deploy failed[/] after {duration(report.seconds)}: {summary}."
            )
            table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
            table.add_column("resource")
            table.add_column("type")
            table.add_column("error")
            for o in report.failed:
                table.add_row(label(o.step), KIND_LABEL[o.step.kind], Text(o.detail, style="red"))
            self.err.print(table)
            if report.skipped:
                self.err.print(
                    f"{len(report.skipped)} dependent step(s) skipped. Fix the cause "
                    "and run deploy again: it resumes from here."
                )
            return
        self.err.print(f"[bold green]Deployed[/] in {duration(report.seconds)}: {summary}.")


class DeployProgress:
    """Live per-resource state during deploy (a table on a terminal, lines elsewhere)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, list[Any]] = {}
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.started_at = time.monotonic()

    def started(self, plan: Plan) -> None:
        self.started_at = time.monotonic()
        for step in plan.steps:
            self.rows[step.key] = [step, "pending", "", None, None]
        if self.console.err.is_terminal:
            self.live = Live(
                self._render(),
                console=self.console.err,
                refresh_per_second=4,
                transient=True,  # the summary line replaces it
                get_renderable=self._render,
            )
            self.live.start()

    def step(self, step: Step, state: str, detail: str = "") -> None:
        with self.lock:
            row = self.rows[step.key]
            now = time.monotonic()
            if row[3] is None and state not in ("pending",):
                row[3] = now
            if state in DONE:
                row[4] = now
            row[1], row[2] = state, detail
        if self.live is None:
            elapsed = time.monotonic() - self.started_at
            text = f"[{elapsed:7.1f}s] {state:<9} {KIND_LABEL[step.kind]} {label(step)}"
            if detail:
                text += f" ({detail})"
            self.console.err.print(text, markup=False, highlight=False)

    def finished(self) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()

    def _render(self) -> Group:
        with self.lock:
            rows = list(self.rows.values())
        now = time.monotonic()
        active = [r for r in rows if r[1] not in DONE and r[1] != "pending"]
        done = Counter(r[1] for r in rows if r[1] in DONE)
        pending = sum(1 for r in rows if r[1] == "pending")
        table = Table(box=None, header_style="bold", pad_edge=False)
        for col in ("state", "type", "resource", "elapsed", ""):
            table.add_column(col)
        shown = [r for r in rows if r[1] in ("failed",)] + active
        for step, state, detail, begun, ended in shown:
            elapsed = (ended or now) - begun if begun else 0.0
            table.add_row(
                Text(state, style=STATE_STYLE.get(state, "")),
                KIND_LABEL[step.kind],
                label(step),
                duration(elapsed),
                Text(detail, style="dim"),
            )
        done_text = ", ".join(f"{n} {s}" for s, n in done.most_common())
        footer = Text(
            f"{duration(now - self.started_at)} · {done_text or 'starting'}"
            f"{f' · {pending} waiting on dependencies' if pending else ''}",
            style="dim",
        )
        return Group(table, footer) if table.row_count else Group(footer)
