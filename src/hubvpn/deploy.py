"""Converge Azure to the plan: each step starts the moment its dependencies succeed.

No rounds, no phase barriers: a worker thread per step runs the SDK's
``begin_*`` poller (which sleeps as long as ARM's Retry-After says) and, when
it returns, the scheduler starts every dependent whose last dependency that
was. What already matches the plan is left alone (no write); what is still
provisioning from an earlier run is waited for, not re-written::

    report = deploy(plan, clients, reporter, cancel=threading.Event())
    report.ok, report.writes, report.failed

A failed step is reported with its Azure code and message; the steps that
need it are skipped and everything independent finishes.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from hubvpn.azure import Clients, error_code, error_message
from hubvpn.converge import Action, Orphan, decide, existing_of, orphans
from hubvpn.errors import OwnershipError
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
    watcher_group,
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
    results: dict[str, Any] = field(default_factory=dict)  # SDK models by step key

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
        group = self.plan.topology.resource_group
        self.observed = observe(self.clients, group)
        self.ctx = Context(
            self.clients,
            self.plan,
            self.observed,
            self.ssh_public_key,
            SharedKeys(self.clients, group, self.shared_key),
        )
        first = self.plan.steps[0]
        refusal = decide(first, self.observed, self.ctx)
        if first.kind == "resource_group" and refusal.action is Action.BLOCKED:
            raise OwnershipError(refusal.reason)
        self.reporter.started(self.plan)
        waiting = {s.key: set(s.depends_on) for s in self.plan.steps}
        running: set[str] = set()
        try:
            self._launch_ready(waiting, running)
            while running:
                try:
                    key, outcome = self.events.get(timeout=0.2)
                except queue.Empty:
                    continue
                running.discard(key)
                self.report.outcomes[key] = outcome
                self.reporter.step(outcome.step, outcome.state, outcome.detail)
                if outcome.state == "failed":
                    self._skip_dependents(key, waiting)
                else:
                    for dependent in self.plan.dependents[key]:
                        waiting.get(dependent, set()).discard(key)
                if not self.cancel.is_set():
                    self._launch_ready(waiting, running)
        except KeyboardInterrupt:
            self.cancel.set()
            self.report.interrupted = True
            self.report.in_progress = [self.plan.step(k) for k in sorted(running)]
        finally:
            self.report.seconds = time.monotonic() - started
            self.report.results = self.ctx.results
            self.reporter.finished()
        if self.cancel.is_set():
            self.report.interrupted = True
        self._prune()
        return self.report

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

    def _launch_ready(self, waiting: dict[str, set[str]], running: set[str]) -> None:
        for key in [k for k, deps in waiting.items() if not deps]:
            del waiting[key]
            running.add(key)
            step = self.plan.step(key)
            thread = threading.Thread(
                target=self._work, args=(step,), daemon=True, name=f"hubvpn-{key}"
            )
            thread.start()

    def _skip_dependents(self, key: str, waiting: dict[str, set[str]]) -> None:
        for dependent in self.plan.dependents[key]:
            if dependent in waiting:
                del waiting[dependent]
                step = self.plan.step(dependent)
                outcome = Outcome(step, "skipped", f"needs {key}")
                self.report.outcomes[dependent] = outcome
                self.reporter.step(step, "skipped", outcome.detail)
                self._skip_dependents(dependent, waiting)

    def _work(self, step: Step) -> None:
        started = time.monotonic()
        try:
            state, detail = self.converge(step)
            outcome = Outcome(step, state, detail)
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

    # ----------------------------------------------------------- one step
    def converge(self, step: Step) -> tuple[str, str]:
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
            self.ctx.results[step.key] = self._put(step, model)
            return "updated", decision.summary()
        if decision.action is not Action.CREATE:
            raise StepFailed(f"deploy does not {decision.action.value} resources")
        if step.kind == "virtual_machine" and not self.ctx.ssh_public_key:
            raise StepFailed("no SSH public key for the VMs")
        self.reporter.step(step, "creating", decision.reason or "")
        result = self._put(step, desired(step, self.ctx))
        self.ctx.results[step.key] = result
        if step.kind == "network_watcher" and result.name != step.name:
            # The region's watcher appeared meanwhile (NetworkWatcherCountLimitReached).
            return "unchanged", f"uses {watcher_group(result)}/{result.name}"
        return "created", decision.reason or ""

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
                raise StepFailed(
                    f"{code or type(err).__name__}: {error_message(err)}", code
                ) from None

    def _wait_terminal(self, step: Step) -> Any | None:
        """Re-read a resource until no operation is running on it."""
        while True:
            current = read(step, self.ctx)
            if current is None or state_of(current) not in TRANSIENT_STATES:
                return current
            if self.cancel.wait(self.poll_s):
                raise StepFailed("interrupted while waiting")


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
