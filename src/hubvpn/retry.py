"""Retries on a budget of time, as a long Azure session needs them.

azure-core's ``RetryPolicy`` gives up after three 429/5xx answers (``retry_status=3``),
and retries a POST only on some of them. ARM throttling and server errors are
transient: a deploy that sends hundreds of requests over an hour meets several in a
row sooner or later. ``BudgetRetryPolicy`` retries every request (writes, reads, and
the GETs of long-running-operation pollers, which run through the same pipeline)
until a budget of time runs out, sleeping what Retry-After says, else an exponential
backoff with jitter. A request that got no answer at all (DNS, connection refused) keeps
azure-core's three attempts::

    policy = BudgetRetryPolicy(RetryBudget.azure())           # 10 minutes per request
    NetworkManagementClient(credential, sub, retry_policy=policy)

``PatientPolling`` is ARM's polling that waits what the operation's first answer says
(Retry-After) before its first poll: azure-core's polls once at once, which for a short
operation (a connectivity check, a BGP query) is a wasted GET each time. With
``read_back=False`` a PUT ends on its operation's terminal status, without ARM's final
GET of the resource: for a write whose answer nobody reads (the poller's result is then
None; a Failed or Canceled operation raises as before, with its Azure code).

Only azure.py builds these (the module imports azure-core, which only it loads).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy
from azure.core.polling.base_polling import LocationPolling, StatusCheckPolling
from azure.mgmt.core.polling.arm_polling import (
    ARMPolling,
    AzureAsyncOperationPolling,
    BodyContentPolling,
)

# What ARM answers while it sheds load or restarts: each is worth another try of the
# same request, whatever its method (a 429 was refused before any processing).
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
AZURE_BUDGET_S = 600.0  # per request, however many attempts it takes
AZURE_BACKOFF_S = 1.0  # first wait when ARM gives no Retry-After, doubled each time
AZURE_BACKOFF_MAX_S = 60.0
# On the emulator the budget is in Azure seconds scaled by its speed, but a request's
# own processing (real milliseconds; on a loaded machine, with dozens of pollers
# sharing the emulator's lock, hundreds of them) is not scaled: never give up before
# this much wall time.
EMULATOR_MIN_BUDGET_S = 20.0
_UNLIMITED_ATTEMPTS = 1_000_000  # the budget is the time; azure-core still counts
CONNECTION_RETRIES = 3


@dataclass(frozen=True)
class RetryBudget:
    """How long one request may keep retrying, and how it backs off (wall seconds)."""

    budget_s: float
    backoff_s: float
    backoff_max_s: float

    @classmethod
    def azure(cls) -> RetryBudget:
        return cls(AZURE_BUDGET_S, AZURE_BACKOFF_S, AZURE_BACKOFF_MAX_S)

    @classmethod
    def emulator(cls, speed: float) -> RetryBudget:
        """Azure's budget on the emulator's clock (``speed`` Azure seconds per second)."""
        return cls(
            max(AZURE_BUDGET_S / speed, EMULATOR_MIN_BUDGET_S),
            AZURE_BACKOFF_S / speed,
            AZURE_BACKOFF_MAX_S / speed,
        )


class BudgetRetryPolicy(RetryPolicy):  # type: ignore[misc]  # azure-core is untyped here
    """azure-core's RetryPolicy with a deadline per request instead of attempt counts."""

    def __init__(
        self,
        budget: RetryBudget,
        *,
        clock: Callable[[], float] = time.monotonic,
        dice: random.Random | None = None,
    ) -> None:
        super().__init__(
            retry_total=_UNLIMITED_ATTEMPTS,
            # No answer at all (DNS, refused, reset) is not ARM shedding load: azure-core's
            # three attempts, so that an unreachable network is said at once.
            retry_connect=CONNECTION_RETRIES,
            retry_read=CONNECTION_RETRIES,
            retry_status=_UNLIMITED_ATTEMPTS,
            retry_backoff_factor=budget.backoff_s,
            retry_backoff_max=budget.backoff_max_s,
        )
        self.budget = budget
        self._clock = clock
        self._dice = dice or random.Random()

    def configure_retries(self, options: dict[str, Any]) -> dict[str, Any]:
        settings: dict[str, Any] = super().configure_retries(options)
        settings["deadline"] = self._clock() + self.budget.budget_s
        settings["wait_s"] = 0.0
        return settings

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse) -> bool:
        return response.http_response.status_code in RETRY_STATUS

    def increment(
        self,
        settings: dict[str, Any],
        response: PipelineRequest | PipelineResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super().increment(settings, response=response, error=error):
            return False
        wait_s = None
        if isinstance(response, PipelineResponse):
            wait_s = self.get_retry_after(response)
        if wait_s is None:
            wait_s = self._backoff_s(len(settings["history"]))
        if self._clock() + wait_s > settings["deadline"]:
            return False  # the caller gets the last answer: the error, with its code
        settings["wait_s"] = wait_s
        return True

    def sleep(
        self, settings: dict[str, Any], transport: Any, response: PipelineResponse | None = None
    ) -> None:
        if settings["wait_s"] > 0:
            transport.sleep(settings["wait_s"])

    def _backoff_s(self, failures: int) -> float:
        """Exponential, capped, with jitter so that parallel pollers do not retry in step."""
        ceiling = min(self.budget.backoff_max_s, self.budget.backoff_s * 2 ** max(failures - 1, 0))
        return float(ceiling / 2 + self._dice.uniform(0, ceiling / 2))


class StatusOnlyPolling(AzureAsyncOperationPolling):  # type: ignore[misc]  # untyped
    """ARM's Azure-AsyncOperation polling whose PUT (or PATCH) ends on the operation's
    terminal status: the GET of the resource that ARM's protocol ends with is not sent
    (``skipped`` says it was due). A POST's result (its Location) is still fetched."""

    def __init__(self, lro_options: dict[str, Any] | None = None) -> None:
        super().__init__(lro_options=lro_options)
        self.method = ""
        self.skipped = False

    def set_initial_status(self, pipeline_response: PipelineResponse) -> str:
        self.method = pipeline_response.http_response.request.method
        status: str = super().set_initial_status(pipeline_response)
        return status

    def get_final_get_url(self, pipeline_response: PipelineResponse) -> str | None:
        url: str | None = super().get_final_get_url(pipeline_response)
        if url is not None and self.method in ("PUT", "PATCH"):
            self.skipped = True
            return None
        return url


class PatientPolling(ARMPolling):  # type: ignore[misc]  # azure-mgmt-core is untyped here
    """ARMPolling whose first poll comes after the initial answer's Retry-After (ARM's
    "come back then"), not at once; later polls follow each answer's Retry-After too.

    ``read_back=False``: a PUT's operation ends on its terminal status, the resource
    not read again (``result()`` is None); ARM's other ways of answering an operation
    (Location, the resource's own provisioningState) are polled as ARMPolling does."""

    def __init__(
        self,
        timeout: float = 30,
        *,
        read_back: bool = True,
        path_format_arguments: dict[str, str] | None = None,
        **operation_config: Any,
    ) -> None:
        self.status_only = None if read_back else StatusOnlyPolling()
        algorithms = (
            None
            if self.status_only is None
            else [self.status_only, LocationPolling(), BodyContentPolling(), StatusCheckPolling()]
        )
        super().__init__(
            timeout,
            lro_algorithms=algorithms,
            path_format_arguments=path_format_arguments,
            **operation_config,
        )

    def _poll(self) -> None:
        if not self.finished():
            self._delay()  # the initial 202's Retry-After (else the client's interval)
        super()._poll()

    # ``answering_json``: the operation's result as the JSON of its final answer, not
    # the SDK model the generated deserialization callback builds.
    json_answer = False

    def answering_json(self) -> PatientPolling:
        """This polling, with ``result()`` giving the final answer's JSON (None when it
        has no body): reading a large answer (thousands of routes, hops) through an SDK
        model builds and re-serialises a model per field. Failures still raise the SDK's
        HttpResponseError, with ``e.error.code``: they never reach ``resource()``."""
        self.json_answer = True
        return self

    def resource(self) -> Any:
        if self.status_only is not None and self.status_only.skipped:
            return None  # not read: the last answer is the operation's, not the resource
        if not self.json_answer:
            return super().resource()
        response = self._pipeline_response.http_response
        return response.json() if response.body() else None
