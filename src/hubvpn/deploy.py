"""Converge Azure to the plan: each step starts the moment its dependencies succeed.

No rounds, no phase barriers: a bounded pool of workers (``MAX_WORKERS``) sends
each step's requests, the most urgent first (the longest chain of Azure time still
behind the step: the critical path starts first however many steps are ready); a
long-running write hands its wait to the SDK's poller (azure-core's ``LROPoller``
polls in its own thread and sleeps as long as ARM's Retry-After says), so a
gateway's 30 minutes hold no worker. When a step ends, the scheduler decrements
its dependents' counts of unfinished dependencies and starts those that reach zero
(constant work per edge, whatever the plan's size).
What already matches the plan is left alone (no write); what is still
provisioning from an earlier run is waited for, not re-written::

    report = deploy(plan, clients, reporter, cancel=threading.Event())
    report.ok, report.writes, report.failed

A failed step is reported with its Azure code and message; the steps that
need it are skipped and everything independent finishes.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from hubvpn.azure import Clients, error_code, error_message
from hubvpn.converge import Action, Orphan, decide, existing_of, orphans
from hubvpn.errors import OwnershipError
from hubvpn.interrupts import ctrl_c_noted
from hubvpn.kinds.watcher import watcher_group
from hubvpn.observe import TRANSIENT_STATES, observe, state_of
from hubvpn.plan import Plan, Step
from hubvpn.prune import prune
from hubvpn.resources import (
    Context,
    SharedKeys,
    begin_put,
    desired,
    read,
    updated,
)

# Azure codes that mean "try again": another operation holds the resource, or a
# referenced resource is still provisioning (azure-facts.md). Gateway operations hold
# a gateway for minutes, so the budget is time (Azure's), not a count of attempts.
RETRYABLE_CODES = frozenset(
    {
        "AnotherOperationInProgress",
        "RetryableErrorDueToAnotherOperation",
        "ReferencedResourceNotProvisioned",
    }
)
RETRY_BUDGET_S = 15 * 60.0
AZURE_POLL_S = 10.0  # how often to re-read a resource another run left provisioning
# Workers send requests; they do not wait for operations (the SDK's pollers do). ARM
# limits the rate of requests (token buckets), not their concurrency: as many as
# observe's parallel reads keeps the emulator's lock and 2 cores busy without a queue
# of hundreds of threads. A step that must wait in-process (a resource another run
# left provisioning, a retry after AnotherOperationInProgress) holds its worker.
# The bound is on requests in flight, as before; only which queued step a free worker
# takes changed (the most urgent, not the oldest: PriorityPool).
MAX_WORKERS = 32
# Workers that steps with slack may hold at once: a step whose chain is shorter than
# SLACK_FRACTION of the longest chain not yet started. Every request in flight shares
# the client's CPU (and, on the emulator, the GIL and its lock), so while a gateway's
# chain is still to be sent, 32 NSG/NIC/VM requests in flight would make each of its
# requests 32 times slower; at most SLACK_WORKERS of them leaves it most of the CPU.
# On Azure (100-500 ms a request) 8 in flight is still more writes a second than ARM's
# write bucket refills; once the longest chains have started, nothing is held back.
SLACK_WORKERS = 8
SLACK_FRACTION = 0.5


class PriorityPool:
    """At most ``size`` worker threads; a free worker takes the most urgent queued task.

    A ThreadPoolExecutor's queue is first in, first out: a gateway that becomes ready
    behind 300 queued NSGs, NICs and VMs waits for all of them, and every second it
    starts late is a second on the whole deploy. Here tasks are ordered by urgency
    (highest first), then by submission; a batch is queued at once, so an idle worker
    picks from all of it. Nothing starves: every queued task runs once the more urgent
    ones have. Threads start as tasks arrive, up to ``size``. Tasks for which
    ``slack(urgency)`` is true hold at most ``slack_workers`` workers at once; the
    others are never held back by them.
    """

    def __init__(
        self,
        size: int,
        name: str,
        slack_workers: int | None = None,
        slack: Callable[[float], bool] = lambda urgency: False,
    ) -> None:
        self.size = size
        self.name = name
        self.slack = slack
        self.slack_workers = max(1, slack_workers or size)
        self.slack_running = 0
        self.tasks: list[tuple[float, int, Callable[[], None] | None]] = []
        self.order = itertools.count()
        self.ready = threading.Condition()
        self.threads: list[threading.Thread] = []
        self.closed = False

    def submit(self, urgency: float, fn: Callable[..., None], *args: Any) -> None:
        self.submit_all([(urgency, partial(fn, *args))])

    def submit_all(self, batch: Iterable[tuple[float, Callable[[], None]]]) -> None:
        with self.ready:
            if self.closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            added = 0
            for urgency, task in batch:
                heapq.heappush(self.tasks, (-urgency, next(self.order), task))
                added += 1
            for _ in range(min(added, self.size - len(self.threads))):
                # Daemon: once the run's outcome is decided nothing waits for a worker,
                # so one that cannot finish (a lock a Ctrl-C left held) never keeps the
                # process from exiting.
                thread = threading.Thread(
                    target=self._serve, name=f"{self.name}_{len(self.threads)}", daemon=True
                )
                self.threads.append(thread)
                thread.start()
            self.ready.notify(added)

    def _held(self) -> bool:
        """Nothing to run, or the most urgent task has slack and its share is in use."""
        if not self.tasks:
            return True
        return self.slack_running >= self.slack_workers and self.slack(-self.tasks[0][0])

    def _serve(self) -> None:
        while True:
            with self.ready:
                while self._held():
                    self.ready.wait()
                negated, _, task = heapq.heappop(self.tasks)
                if task is None:
                    return
                has_slack = self.slack(-negated)
                self.slack_running += has_slack
            try:
                task()
            finally:
                if has_slack:
                    with self.ready:
                        self.slack_running -= 1
                        self.ready.notify()

    def shutdown(self) -> None:
        """Drop what has not started; each worker ends after its current task."""
        with self.ready:
            self.closed = True
            self.tasks = [(float("-inf"), next(self.order), None) for _ in self.threads]
            self.ready.notify_all()


class Reporter(Protocol):
    def started(self, plan: Plan) -> None: ...
    def step(self, step: Step, state: str, detail: str = "") -> None: ...
    def finished(self) -> None: ...


@dataclass
class Outcome:
    step: Step
    state: str  # created | updated | unchanged | attached | failed | skipped
    detail: str = ""
    seconds: float = 0.0
    code: str | None = None


@dataclass
class Report:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    in_progress: list[Step] = field(default_factory=list)  # running when interrupted
    orphans: list[Orphan] = field(default_factory=list)  # no longer in the topology
    deleted: list[Orphan] = field(default_factory=list)  # of those, deleted (--prune)
    # SDK models by step key: what Azure answered, or what was kept; None for a write
    # whose answer nothing reads (its operation's status was the last answer: read_back).
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.state == "failed"]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.state == "skipped"]

    @property
    def writes(self) -> int:
        written = sum(1 for o in self.outcomes.values() if o.state in ("created", "updated"))
        return written + len(self.deleted)

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.failed and not self.skipped

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes.values() if o.state == state)


class StepFailed(Exception):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Pending:
    """A write whose long-running operation is under way; ``finish`` makes its outcome."""

    step: Step
    model: Any
    wait: Callable[[], Any]
    finish: Callable[[Any], tuple[str, str]]


def when_done(wait: Callable[[], Any], then: Callable[[], None]) -> bool:
    """Call ``then`` once, from the poller's thread, when the LRO behind ``wait`` ends.

    False when ``wait`` is not an LROPoller's ``result`` (the answer is already there).
    azure-core runs callbacks added before the poller finishes; one added while it
    finishes may be missed or run twice, hence the second look and the once-guard.
    """
    poller = getattr(wait, "__self__", None)
    add = getattr(poller, "add_done_callback", None)
    done = getattr(poller, "done", None)
    if add is None or done is None:
        return False
    lock = threading.Lock()
    called = [False]

    def once(*_: Any) -> None:
        with lock:
            if called[0]:
                return
            called[0] = True
        then()

    add(once)
    if done():
        once()
    return True


class Engine:
    """Runs one deploy: schedules the steps and applies each one's ``Decision``."""

    def __init__(
        self,
        plan: Plan,
        clients: Clients,
        reporter: Reporter,
        ssh_public_key: str | None,
        shared_key: str | None,
        cancel: threading.Event,
        prune: bool = False,
    ) -> None:
        self.prune = prune
        self.plan = plan
        self.clients = clients
        self.reporter = reporter
        self.ssh_public_key = ssh_public_key
        self.shared_key = shared_key
        self.cancel = cancel
        self.report = Report()
        self.events: queue.Queue[tuple[str, Outcome]] = queue.Queue()
        emulator = clients.emulator
        # Azure's seconds, on the emulator's clock when there is one.
        self.scale = 1.0 / emulator.settings.speed if emulator else 1.0
        self.poll_s = AZURE_POLL_S * self.scale

    # ------------------------------------------------------------ scheduling
    def run(self) -> Report:
        started = time.monotonic()
        with ctrl_c_noted(self.cancel) as pressed:
            self._run(started, pressed)
        if self.cancel.is_set():
            self.report.interrupted = True
        self._prune()
        return self.report

    def _run(self, started: float, pressed: threading.Event) -> None:
        group = self.plan.topology.resource_group
        self.observed = observe(self.clients, group)
        self.ctx = Context(
            self.clients,
            self.plan,
            self.observed,
            self.ssh_public_key,
            SharedKeys(self.clients, group, self.shared_key, self.observed),
        )
        first = self.plan.steps[0]
        refusal = decide(first, self.observed, self.ctx)
        if first.kind == "resource_group" and refusal.action is Action.BLOCKED:
            raise OwnershipError(refusal.reason)
        self.reporter.started(self.plan)
        # Unfinished dependencies per waiting step; a step starts when its count is 0.
        waiting = {s.key: len(s.depends_on) for s in self.plan.steps}
        ready = [s.key for s in self.plan.steps if not s.depends_on]
        running: set[str] = set()
        self.urgency = self.plan.remaining
        # Steps by urgency, longest chain first; ``begun`` are those started or skipped.
        self.by_urgency = sorted(self.urgency, key=lambda k: -self.urgency[k])
        self.begun: set[str] = set()
        self.longest_unbegun = 0
        self.pool = PriorityPool(MAX_WORKERS, "hubvpn", SLACK_WORKERS, self._has_slack)
        try:
            if pressed.is_set():  # Ctrl-C while observing: nothing is sent
                raise KeyboardInterrupt
            self._launch(ready, waiting, running)
            while running:
                if pressed.is_set():  # Ctrl-C, noted by ctrl_c_noted: stop here
                    raise KeyboardInterrupt
                try:
                    key, outcome = self.events.get(timeout=0.2)
                except queue.Empty:
                    continue
                running.discard(key)
                self.report.outcomes[key] = outcome
                self.reporter.step(outcome.step, outcome.state, outcome.detail)
                if outcome.state == "failed":
                    self._skip_dependents(key, waiting)
                    continue
                ready = []
                for dependent in self.plan.dependents[key]:
                    if dependent in waiting:
                        waiting[dependent] -= 1
                        if waiting[dependent] == 0:
                            ready.append(dependent)
                if not self.cancel.is_set():
                    self._launch(ready, waiting, running)
        except KeyboardInterrupt:
            self.cancel.set()
            self.report.interrupted = True
            self.report.in_progress = [self.plan.step(k) for k in sorted(running)]
        finally:
            self.pool.shutdown()
            self.report.seconds = time.monotonic() - started
            self.report.results = self.ctx.results
            self.reporter.finished()

    def _prune(self) -> None:
        """Orphans named in the report; under --prune deleted, once the rest converged."""
        planned = {s.key for s in self.plan.steps}
        left = orphans(planned, self.observed, self.plan.topology.name)
        self.report.orphans = left
        if not self.prune or not left or not self.report.ok:
            return
        started = time.monotonic()
        group = self.plan.topology.resource_group
        try:
            self.report.deleted = prune(
                self.clients, group, left, self.observed, self.cancel, self.poll_s
            )
        except KeyboardInterrupt:
            self.cancel.set()
            self.report.interrupted = True
        finally:
            self.report.seconds += time.monotonic() - started

    def _launch(self, keys: list[str], waiting: dict[str, int], running: set[str]) -> None:
        batch: list[tuple[float, Callable[[], None]]] = []
        for key in keys:
            del waiting[key]
            running.add(key)
            batch.append((self.urgency[key], partial(self._work, self.plan.step(key))))
        self.pool.submit_all(batch)

    def _skip_dependents(self, key: str, waiting: dict[str, int]) -> None:
        for dependent in self.plan.dependents[key]:
            if dependent in waiting:
                del waiting[dependent]
                self.begun.add(dependent)
                step = self.plan.step(dependent)
                outcome = Outcome(step, "skipped", f"needs {key}")
                self.report.outcomes[dependent] = outcome
                self.reporter.step(step, "skipped", outcome.detail)
                self._skip_dependents(dependent, waiting)

    def _has_slack(self, urgency: float) -> bool:
        """Far shorter than the longest chain not yet started (called under the pool's lock)."""
        keys = self.by_urgency
        while self.longest_unbegun < len(keys) and keys[self.longest_unbegun] in self.begun:
            self.longest_unbegun += 1
        if self.longest_unbegun == len(keys):
            return False
        return urgency < SLACK_FRACTION * self.urgency[keys[self.longest_unbegun]]

    def _work(self, step: Step) -> None:
        self.begun.add(step.key)
        started = time.monotonic()
        self._settle(step, started, lambda: self.converge(step))

    def _resume(self, pending: Pending, started: float) -> None:
        """The LRO ended: its answer (or a retry, holding this worker) and the outcome."""
        self._settle(pending.step, started, lambda: pending.finish(self._answer(pending)))

    def _answer(self, pending: Pending) -> Any:
        try:
            return pending.wait()
        except Exception as err:
            if error_code(err) in RETRYABLE_CODES:
                return self._put(pending.step, pending.model)
            raise _failure(err) from None

    def _settle(
        self, step: Step, started: float, work: Callable[[], tuple[str, str] | Pending]
    ) -> None:
        """Run ``work``; report its outcome, or resume when its operation ends."""
        try:
            done = work()
            if isinstance(done, Pending):
                pending = done
                resume = lambda: self._submit(self._resume, pending, started)  # noqa: E731
                if when_done(pending.wait, resume):
                    return
                done = pending.finish(self._answer(pending))
            outcome = Outcome(step, done[0], done[1])
        except StepFailed as err:
            outcome = Outcome(step, "failed", str(err), code=err.code)
        except Exception as err:  # every failure is reported, none kills the run
            outcome = Outcome(
                step,
                "failed",
                f"{error_code(err) or type(err).__name__}: {error_message(err)}",
                code=error_code(err),
            )
        outcome.seconds = time.monotonic() - started
        self.events.put((step.key, outcome))

    def _submit(self, fn: Callable[[Pending, float], None], pending: Pending, at: float) -> None:
        # After the run ended (interrupted) the pool refuses: nobody waits for the outcome.
        # Its urgency is what remains after it: its dependents' (it gates them).
        step = pending.step
        after = self.urgency[step.key] - step.azure_s
        with contextlib.suppress(RuntimeError):
            self.pool.submit(after, fn, pending, at)

    # ----------------------------------------------------------- one step
    def converge(self, step: Step) -> tuple[str, str] | Pending:
        """Decide, then do what was decided (the decision plan shows)."""
        if self.cancel.is_set():
            raise StepFailed("interrupted before it was sent")
        decision = decide(step, self.observed, self.ctx)
        attached = False
        if decision.action is Action.WAIT:
            self.reporter.step(step, "waiting", decision.reason or "")
            self._remember(step, self._wait_terminal(step))
            decision = decide(step, self.observed, self.ctx)
            attached = True
        existing = existing_of(step, self.observed)
        if decision.action is Action.BLOCKED:
            raise StepFailed(decision.reason or "blocked")
        if decision.action is Action.KEEP:
            self.ctx.results[step.key] = existing
            if attached:
                return "attached", "finished provisioning"
            return "unchanged", decision.reason or ""
        if decision.action is Action.UPDATE:
            model = updated(step, existing, self.ctx)
            self.reporter.step(step, "updating", decision.summary())
            summary = decision.summary()

            def finish_update(result: Any) -> tuple[str, str]:
                self.ctx.results[step.key] = result
                return "updated", summary

            return self._start_put(step, model, finish_update)
        if decision.action is not Action.CREATE:
            raise StepFailed(f"deploy does not {decision.action.value} resources")
        if step.kind == "virtual_machine" and not self.ctx.ssh_public_key:
            raise StepFailed("no SSH public key for the VMs")
        self.reporter.step(step, "creating", decision.reason or "")
        reason = decision.reason or ""

        def finish_create(result: Any) -> tuple[str, str]:
            self.ctx.results[step.key] = result
            if step.kind == "network_watcher" and result.name != step.name:
                # The region's watcher appeared meanwhile (NetworkWatcherCountLimitReached).
                return "unchanged", f"uses {watcher_group(result)}/{result.name}"
            return "created", reason

        return self._start_put(step, desired(step, self.ctx), finish_create)

    def _start_put(
        self, step: Step, model: Any, finish: Callable[[Any], tuple[str, str]]
    ) -> Pending:
        """Send the write; what the operation answers is awaited without a worker."""
        if self.cancel.is_set():
            raise StepFailed("interrupted before it was sent")
        try:
            wait = begin_put(step, model, self.ctx)
        except Exception as err:
            if error_code(err) not in RETRYABLE_CODES:
                raise _failure(err) from None
            result = self._put(step, model)  # retries, waiting for what holds it

            def answered() -> Any:
                return result

            wait = answered
        return Pending(step, model, wait, finish)

    def _remember(self, step: Step, current: Any | None) -> None:
        """What a re-read found, for the next decision about the step."""
        if step.kind == "resource_group":
            self.observed.group = current
        elif current is None:
            self.observed.resources.pop(step.key, None)
        else:
            self.observed.resources[step.key] = current

    def _put(self, step: Step, model: Any) -> Any:
        deadline = time.monotonic() + RETRY_BUDGET_S * self.scale
        attempt = 0
        while True:
            attempt += 1
            if self.cancel.is_set():
                raise StepFailed("interrupted before it was sent")
            try:
                wait = begin_put(step, model, self.ctx)
                return wait()
            except Exception as err:
                code = error_code(err)
                if code in RETRYABLE_CODES and time.monotonic() < deadline:
                    self.reporter.step(step, "retrying", f"{code} (attempt {attempt + 1})")
                    # What holds the resource is an operation: wait for it, then retry.
                    self._wait_terminal(step)
                    if self.cancel.wait(self.poll_s * min(attempt, 6)):
                        raise StepFailed("interrupted while waiting") from None
                    continue
                raise _failure(err) from None

    def _wait_terminal(self, step: Step) -> Any | None:
        """Re-read a resource until no operation is running on it."""
        while True:
            current = read(step, self.ctx)
            if current is None or state_of(current) not in TRANSIENT_STATES:
                return current
            if self.cancel.wait(self.poll_s):
                raise StepFailed("interrupted while waiting")


def _failure(err: Exception) -> StepFailed:
    code = error_code(err)
    return StepFailed(f"{code or type(err).__name__}: {error_message(err)}", code)


def deploy(
    plan: Plan,
    clients: Clients,
    reporter: Reporter,
    *,
    ssh_public_key: str | None,
    shared_key: str | None,
    cancel: threading.Event,
    prune: bool = False,
) -> Report:
    engine = Engine(plan, clients, reporter, ssh_public_key, shared_key, cancel, prune)
    return engine.run()
