"""The terminal: headers, messages, live progress; ``views`` renders typed results.

Everything a user reads goes through one ``Console``; stdout carries results
(tables, JSON), stderr carries progress and errors, so ``--output json`` pipes
cleanly. On a terminal deploy shows a live table; elsewhere one line per change.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TextIO, cast

from rich.console import Console as RichConsole
from rich.console import Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hubvpn.failures import advice, failure_lines, group_failures
from hubvpn.kinds import KINDS
from hubvpn.plan import Plan, Step
from hubvpn.progress import HEARTBEAT_S, Clock, Done, Progress, outputs, record, short

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


_TRAILING = re.compile(r"[ \t]+(?=\n)")


class Trimmed:
    """A stream that drops the spaces rich pads table cells with at the end of each
    line: piped output carries no trailing spaces. Terminals get the stream itself."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(_TRAILING.sub("", text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", None) or "utf-8"

    def fileno(self) -> int:
        return self.stream.fileno()


def _stream(stream: TextIO) -> IO[str]:
    return stream if stream.isatty() else cast(IO[str], Trimmed(stream))


class Console:
    def __init__(self) -> None:
        self.out = RichConsole(file=_stream(sys.stdout), highlight=False, soft_wrap=False)
        # Messages stay one line each in logs and pipes (no hard wrap at 80 columns); a
        # terminal gets them wrapped between words, not cut by the terminal mid-word.
        self.err = RichConsole(
            file=_stream(sys.stderr),
            stderr=True,
            highlight=False,
            soft_wrap=not sys.stderr.isatty(),
        )

    # ------------------------------------------------------------ basics
    def header(
        self, command: str, target: str, detail: str = "", warnings: tuple[str, ...] = ()
    ) -> None:
        """The first line of every command names its target; topology warnings follow."""
        extra = f" · {escape(detail)}" if detail else ""
        self.err.print(f"[bold]hubvpn {command}[/] · target: [bold]{escape(target)}[/]{extra}")
        for warning in warnings:
            self.warn(warning)

    def on_stderr(self) -> Console:
        """This console with its results on stderr: what a prompt shows before asking."""
        shown = copy.copy(self)
        shown.out = self.err
        return shown

    def layout_width(self) -> int | None:
        """The width results are laid out for: the terminal's, or COLUMNS when set; None
        in a pipe (lines stay whole there, never hard-wrapped at 80)."""
        if self.out.is_terminal or os.environ.get("COLUMNS", "").isdigit():
            return self.out.width
        return None

    def lines(self, lines: list[str], styles: dict[str, str] | None = None) -> None:
        """Lines laid out already (no wrapping by rich); ``styles``: regex -> style."""
        for line in lines:
            text = Text(line)
            for pattern, style in (styles or {}).items():
                text.highlight_regex(pattern, style)
            self.out.print(text, soft_wrap=True)

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
        """A spinner with the elapsed time on a terminal; in logs and pipes a
        ``still deleting …`` line every ``HEARTBEAT_S`` seconds. Yields the function
        that takes the elapsed seconds."""
        if not self.err.is_terminal:
            yield Heartbeat(self, message)
            return
        with self.err.status(escape(message)) as status:
            yield lambda elapsed: status.update(f"{escape(message)} · {duration(elapsed)}")

    @contextmanager
    def probe_count(self) -> Iterator[ProbeCount]:
        """verify's live count of probes (``ProbeCount``); the line goes when they are done."""
        counted = ProbeCount(self)
        if not self.err.is_terminal:
            yield counted
            return
        with self.err.status("reading the lab") as status:
            counted.status = status
            yield counted

    def awaiting(self, awaited: tuple[str, ...]) -> None:
        """Progress of a bounded wait for tunnels and BGP sessions that lag provisioning."""
        self.info(f"waiting for tunnels to come up: {', '.join(awaited)}")

    # --------------------------------------------------------- progress
    def deploy_progress(self, scale: float = 1.0) -> DeployProgress:
        return DeployProgress(self, scale)

    # ------------------------------------------------------------ deploy
    def deploy_summary(
        self, report: Any, notes: tuple[str, ...] = (), sent: frozenset[str] | None = None
    ) -> None:
        counts = Counter(o.state for o in report.outcomes.values())
        words = {"attached": "finished after an earlier run started them"}
        parts = [
            f"{counts[s]} {words.get(s, s)}"
            for s in ("created", "updated", "attached", "unchanged", "failed", "skipped")
            if counts[s]
        ]
        summary = ", ".join(parts) or "nothing to do"
        if report.interrupted:
            _INTERRUPT_REPORTED.set()
            self.err.print(f"[yellow]Interrupted[/] after {duration(report.seconds)}: {summary}.")
            # Steps still running when interrupted that had sent a write (the others
            # were only being checked): None when nobody watched (every one counts).
            running = [s for s in report.in_progress if sent is None or s.key in sent]
            if not report.writes and not running:
                self.err.print("Nothing was written: Azure is as this run found it.")
            if running:
                names = ", ".join(label(s) for s in running)
                self.err.print(
                    f"Still provisioning in Azure: {names}. Run deploy again: it waits for "
                    "them instead of writing them twice, then finishes the rest."
                )
            return
        if report.failed or report.skipped:
            self.err.print(
                f"[bold red]Deploy failed[/] after {duration(report.seconds)}: {summary}."
            )
            failures = group_failures(report.outcomes.values())
            for line in failure_lines(failures, self.err.width) + advice(failures, self.err.width):
                self.err.print(line, markup=False)
            if not report.writes:
                self.err.print("Nothing was created, changed or deleted.")
            return
        self.deploy_record(report, notes)
        self.err.print(f"[bold green]Deployed[/] in {duration(report.seconds)}: {summary}.")

    def deploy_record(self, report: Any, notes: tuple[str, ...]) -> None:
        """What stays on screen: each kind's resources and times, the addresses
        needed next, the next commands, and notes said once (a generated key)."""
        done = [Done(o.step, o.state, o.seconds) for o in report.outcomes.values()]
        self.info("Resources:")
        for line in record(done, self.err.width):
            self.info(line)
        found = outputs(report.results)
        if found:
            self.info("Addresses:")
            for line in found:
                self.info(line)
        vms = sorted(
            (o.step.name for o in report.outcomes.values() if o.step.kind == "virtual_machine"),
            key=lambda name: ("spoke" not in name, name),  # a spoke VM shows the most
        )
        ssh = f" · hubvpn ssh {vms[0]}" if vms else ""
        self.info(f"Next: hubvpn verify{ssh} · hubvpn destroy")
        for note in notes:
            self.info(note)


class ProbeCount:
    """verify's count of answered probes with the time left (``12/30 probes · about 8s
    left``): on a terminal one live line; in logs and pipes that line at most every
    ``HEARTBEAT_S`` seconds (nothing for a verify quicker than that). Called as
    ``counted(done, total)`` each time a probe answers."""

    clock: Clock = staticmethod(time.monotonic)

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = self.last = self.clock()
        self.status: Any = None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        line = self.text(done, total, now - self.started)
        if self.status is not None:
            self.status.update(line)
        elif done < total and now - self.last >= HEARTBEAT_S:
            self.last = now
            self.console.err.print(line, markup=False, highlight=False)

    @staticmethod
    def text(done: int, total: int, elapsed: float) -> str:
        line = f"{done}/{total} probes"
        if 0 < done < total:
            line += f" · about {short(elapsed / done * (total - done))} left"
        return line


class Heartbeat:
    """Called with the elapsed seconds of one long wait; prints ``still deleting
    rg-x [45s elapsed]`` when ``HEARTBEAT_S`` seconds passed since the last line."""

    def __init__(self, console: Console, message: str) -> None:
        self.console = console
        self.message = message
        self.last = 0.0

    def __call__(self, elapsed: float) -> None:
        if elapsed - self.last < HEARTBEAT_S:
            return
        self.last = elapsed
        self.console.err.print(
            f"still {self.message} [{short(elapsed)} elapsed]", markup=False, highlight=False
        )


class DeployProgress:
    """Live per-resource state during deploy: on a terminal a table of what runs
    (``vpngw-hub01  creating  12m of ~30m``), what waits, and the time left;
    elsewhere one line per event and a heartbeat for each long operation."""

    def __init__(self, console: Console, scale: float = 1.0, clock: Clock = time.monotonic) -> None:
        self.console = console
        self.scale = scale  # wall seconds per Azure second (the emulator's speed)
        self.clock = clock
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.model: Progress | None = None
        self.stop = threading.Event()
        self.beater: threading.Thread | None = None
        self.sent: set[str] = set()  # steps that sent a write

    @property
    def started_at(self) -> float:
        return self.model.started if self.model else self.clock()

    def started(self, plan: Plan) -> None:
        self.model = Progress(plan, self.scale, self.clock())
        if self.console.err.is_terminal:
            self.live = Live(
                self._render(),
                console=self.console.err,
                refresh_per_second=4,
                transient=True,  # the summary replaces it
                get_renderable=self._render,
            )
            self.live.start()
        else:
            self.beater = threading.Thread(target=self._beat, daemon=True, name="hubvpn-beat")
            self.beater.start()

    def step(self, step: Step, state: str, detail: str = "") -> None:
        assert self.model is not None
        if state in ("creating", "updating", "retrying"):
            self.sent.add(step.key)  # a write was sent (or is about to be)
        with self.lock:  # the clock read and the line printed in one order: times ascend
            now = self.clock()
            self.model.update(step, state, detail, now)
            if self.live is None:
                at = now - self.model.started
                text = f"[{at:7.1f}s] {state:<9} {KIND_LABEL[step.kind]} {label(step)}"
                if detail:
                    text += f" ({detail})"
                self.console.err.print(text, markup=False, highlight=False)

    def heartbeat(self) -> None:
        """Print a ``still creating …`` line for each operation quiet for a while."""
        if self.model is None:
            return
        with self.lock:
            now = self.clock()
            for line in self.model.heartbeats(now):
                self.console.err.print(
                    f"[{now - self.model.started:7.1f}s] {line}", markup=False, highlight=False
                )

    def _beat(self) -> None:
        while not self.stop.wait(1.0):
            self.heartbeat()

    def finished(self) -> None:
        self.stop.set()
        if self.beater is not None:
            self.beater.join()
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()

    def _render(self) -> Group:
        assert self.model is not None
        with self.lock:
            now = self.clock()
            model = self.model
            failed = [r for r in model.rows.values() if r.state == "failed"]
            rows = failed + model.active()
            table = Table(box=None, header_style="bold", pad_edge=False)
            table.add_column("resource", no_wrap=True)
            table.add_column("state", no_wrap=True)
            table.add_column("time", no_wrap=True)
            for row in rows:
                name, state, when = model.row_cells(row, now)
                table.add_row(name, Text(state, style=STATE_STYLE.get(state, "")), when)
            waits = [Text(line, style="dim") for line in model.waits(now)]
            footer = Text(model.footer(now), style="dim")
        parts: list[Any] = [table] if table.row_count else []
        return Group(*parts, *waits, footer)
