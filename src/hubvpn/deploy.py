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

from hubvpn import naming
from hubvpn.azure import Clients, error_code, error_message
from hubvpn.inspect import TRANSIENT_STATES, Observed, observe, owned_by, state_of
from hubvpn.plan import ConnectionSpec, Plan, Step
from hubvpn.resources import (
    Context,
    SharedKeys,
    begin_put,
    create_network_watcher,
    desired,
    differences,
    pair_key,
    read,
    regional_watcher,
    updated,
    watcher_group,
)

# Azure codes that mean "try again": another operation holds the resource, or a
# referenced resource is still provisioning (azure-facts.md).
RETRYABLE_CODES = frozenset(
    {
        "AnotherOperationInProgress",
        "RetryableErrorDueToAnotherOperation",
        "ReferencedResourceNotProvisioned",
    }
)
MAX_ATTEMPTS = 5
AZURE_POLL_S = 10.0  # how often to re-read a resource another run left provisioning


class OwnershipError(Exception):
    """The resource group exists but is not this topology's."""


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

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.state == "failed"]

    @property
    def skipped(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if o.state == "skipped"]

    @property
    def writes(self) -> int:
        return sum(1 for o in self.outcomes.values() if o.state in ("created", "updated"))

    @property
    def ok(self) -> bool:
        return not self.interrupted and not self.failed and not self.skipped

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes.values() if o.state == state)


class StepFailed(Exception):
    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def check_ownership(plan: Plan, observed: Observed) -> None:
    group = observed.group
    if group is not None and not owned_by(group.tags, plan.topology.name):
        owner = (group.tags or {}).get(naming.TAG)
        whose = f"topology '{owner}'" if owner else "no hubvpn topology (no tag)"
        raise OwnershipError(
            f"resource group '{plan.topology.resource_group}' exists and belongs to {whose}; "
            f"hubvpn writes only into a group tagged {naming.TAG}={plan.topology.name}"
        )


class Engine:
    """Runs one deploy."""

    def __init__(
        self,
        plan: Plan,
        clients: Clients,
        reporter: Reporter,
        ssh_public_key: str | None,
        shared_key: str | None,
        cancel: threading.Event,
    ) -> None:
        self.plan = plan
        self.clients = clients
        self.reporter = reporter
        self.cancel = cancel
        self.report = Report()
        self.observed = observe(clients, plan.topology.resource_group)
        check_ownership(plan, self.observed)
        self.ctx = Context(
            clients,
            plan,
            self.observed,
            ssh_public_key,
            SharedKeys(clients, plan.topology.resource_group, shared_key),
        )
        self.events: queue.Queue[tuple[str, Outcome]] = queue.Queue()
        emulator = clients.emulator
        # Re-reading a resource left provisioning: ARM's usual 10 s, on the emulator's clock.
        self.poll_s = AZURE_POLL_S / emulator.settings.speed if emulator else AZURE_POLL_S

    # ------------------------------------------------------------ scheduling
    def run(self) -> Report:
        started = time.monotonic()
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
            self.reporter.finished()
        if self.cancel.is_set():
            self.report.interrupted = True
        return self.report

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
        if self.cancel.is_set():
            raise StepFailed("interrupted before it was sent")
        existing = self.observed.get(step.key)
        if step.kind == "network_watcher":
            return self._network_watcher(step)
        if step.kind == "resource_group":
            existing = self.observed.group
        attached = False
        if existing is not None and state_of(existing) in TRANSIENT_STATES:
            self.reporter.step(step, "waiting", f"{state_of(existing)} from an earlier run")
            existing = self._wait_terminal(step)
            attached = True
        if existing is not None and step.kind != "resource_group":
            self._check_location(step, existing)
        if existing is not None and state_of(existing) == "Succeeded":
            diff = [] if step.kind == "resource_group" else differences(step, existing, self.ctx)
            if isinstance(step.spec, ConnectionSpec):
                diff += self._shared_key_drift(step)
            if not diff:
                self.ctx.results[step.key] = existing
                return ("attached", "finished provisioning") if attached else ("unchanged", "")
            model = updated(step, existing, self.ctx)
            self.reporter.step(step, "updating", ", ".join(diff))
            self.ctx.results[step.key] = self._put(step, model)
            return "updated", ", ".join(diff)
        model = desired(step, self.ctx) if step.kind != "resource_group" else self._group_model()
        if step.kind == "virtual_machine" and not self.ctx.ssh_public_key:
            raise StepFailed("no SSH public key for the VMs")
        self.reporter.step(step, "creating", "" if existing is None else "after Failed")
        self.ctx.results[step.key] = self._put(step, model)
        return "created", "" if existing is None else "re-created after Failed"

    def _network_watcher(self, step: Step) -> tuple[str, str]:
        """The region's watcher, wherever it lives; created in NetworkWatcherRG if none."""
        watcher = regional_watcher(self.observed.watchers, step.location)
        created = False
        if watcher is None:
            self.reporter.step(step, "creating", "")
            watcher, created = create_network_watcher(step, self.ctx)
        self.ctx.results[step.key] = watcher
        where = f"{watcher_group(watcher)}/{watcher.name}"
        return ("created", where) if created else ("unchanged", f"uses {where}")

    @staticmethod
    def _check_location(step: Step, existing: Any) -> None:
        """Azure cannot move a resource between regions: say so instead of a PUT it refuses."""
        where = getattr(existing, "location", None)
        if where and where.replace(" ", "").lower() != step.location.lower():
            raise StepFailed(
                f"{step.name} exists in {where} but the topology now places it in "
                f"{step.location}; Azure cannot move a resource between regions (restore the "
                "hub order in the topology, or destroy and deploy again)"
            )

    def _group_model(self) -> Any:
        from azure.mgmt.resource.resources import models as r

        return r.ResourceGroup(location=self.plan.topology.location, tags=self.ctx.tags)

    def _put(self, step: Step, model: Any) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if self.cancel.is_set():
                raise StepFailed("interrupted before it was sent")
            try:
                wait = begin_put(step, model, self.ctx)
                return wait()
            except Exception as err:
                code = error_code(err)
                if code in RETRYABLE_CODES and attempt < MAX_ATTEMPTS:
                    self.reporter.step(step, "retrying", f"{code} (attempt {attempt + 1})")
                    # What holds the resource is an operation: wait for it, then retry.
                    self._wait_terminal(step)
                    time.sleep(self.poll_s * attempt)
                    continue
                raise StepFailed(
                    f"{code or type(err).__name__}: {error_message(err)}", code
                ) from None
        raise AssertionError("unreachable")

    def _wait_terminal(self, step: Step) -> Any | None:
        """Re-read a resource until no operation is running on it."""
        while True:
            current = read(step, self.ctx)
            if current is None or state_of(current) not in TRANSIENT_STATES:
                return current
            if self.cancel.wait(self.poll_s):
                raise StepFailed("interrupted while waiting")

    def _shared_key_drift(self, step: Step) -> list[str]:
        spec = step.spec
        assert isinstance(spec, ConnectionSpec)
        want = pair_key(spec, self.ctx)
        have = self.ctx.shared_keys.current(step.name)
        return [] if have == want else ["shared key"]


def deploy(
    plan: Plan,
    clients: Clients,
    reporter: Reporter,
    *,
    ssh_public_key: str | None,
    shared_key: str | None,
    cancel: threading.Event,
) -> Report:
    engine = Engine(plan, clients, reporter, ssh_public_key, shared_key, cancel)
    return engine.run()
