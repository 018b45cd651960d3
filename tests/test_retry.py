"""Retries on a budget of time: through the real SDK clients against the emulator.

azure-core alone gives up after three 429/5xx answers; ARM throttling and server
errors are transient, so hubvpn retries until a time budget (10 Azure minutes per
request) is spent, sleeping what Retry-After says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources import models as r
from emulator_helpers import GROUP, LOCATION

from hubvpn.azure import ARM_SCOPE, EMULATOR_SUBSCRIPTION, EMULATOR_URL
from hubvpn.emulator import open_app
from hubvpn.emulator.app import EmulatorApp
from hubvpn.emulator.store import Store
from hubvpn.emulator.transport import EmulatorTransport
from hubvpn.retry import AZURE_BUDGET_S, EMULATOR_MIN_BUDGET_S, BudgetRetryPolicy, RetryBudget


class StaticToken:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("emulator", 2**40)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("emulator", 2**40)


class Clock:
    """Time as the policy sees it: it moves only when the transport 'sleeps'."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SleepLog(EmulatorTransport):
    """The in-process transport, whose sleeps advance a clock instead of the wall."""

    def __init__(self, app: EmulatorApp, clock: Clock) -> None:
        super().__init__(app)
        self.clock = clock
        self.slept: list[float] = []

    def sleep(self, duration: float) -> None:
        self.slept.append(duration)
        self.clock.now += duration


def resource_client(
    state: Path, monkeypatch: pytest.MonkeyPatch, faults: str, budget: RetryBudget, speed: float
) -> tuple[ResourceManagementClient, SleepLog]:
    monkeypatch.setenv("HUBVPN_EMULATOR_SPEED", str(speed))
    monkeypatch.setenv("HUBVPN_EMULATOR_FAULTS", faults)
    clock = Clock()
    transport = SleepLog(open_app(state), clock)
    client = ResourceManagementClient(
        StaticToken(),
        EMULATOR_SUBSCRIPTION,
        base_url=EMULATOR_URL,
        credential_scopes=[ARM_SCOPE],
        transport=transport,
        retry_policy=BudgetRetryPolicy(budget, clock=clock),
    )
    return client, transport


def statuses(state: Path) -> list[int]:
    return [row["status"] for row in Store(state).requests()]


def test_budget_emulator_scales_azure_minutes_by_speed() -> None:
    assert RetryBudget.emulator(1.0).budget_s == AZURE_BUDGET_S
    assert RetryBudget.emulator(36000.0).budget_s == EMULATOR_MIN_BUDGET_S
    assert RetryBudget.emulator(10.0).budget_s == AZURE_BUDGET_S / 10.0


def test_create_group_throttled_more_than_three_times_succeeds(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, transport = resource_client(
        state_dir, monkeypatch, "throttle=0.9,seed=3", RetryBudget.azure(), speed=1.0
    )
    group = client.resource_groups.create_or_update(GROUP, r.ResourceGroup(location=LOCATION))
    assert group.name == GROUP
    seen = statuses(state_dir)
    assert seen[-1] == 201
    assert seen[:-1] == [429] * (len(seen) - 1)
    assert len(seen) - 1 > 3  # azure-core's retry_status=3 would have given up
    # The emulator at speed 1 says Retry-After: 10 (ARM's seconds): each wait is that.
    assert transport.slept == [10.0] * (len(seen) - 1)


def test_server_errors_without_retry_after_back_off_exponentially(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = RetryBudget(budget_s=100.0, backoff_s=1.0, backoff_max_s=8.0)
    client, transport = resource_client(state_dir, monkeypatch, "error=1", budget, speed=1.0)
    with pytest.raises(HttpResponseError) as info:
        client.resource_groups.get(GROUP)
    assert info.value.status_code in (500, 503)
    waits = transport.slept
    # Each wait in [ceiling/2, ceiling], the ceiling doubling from 1 s up to 8 s.
    ceilings = [min(8.0, 2.0**i) for i in range(len(waits))]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    # Gave up when the next wait would have overrun the budget, not after N attempts.
    assert sum(waits) <= budget.budget_s < sum(waits) + budget.backoff_max_s
    assert len(statuses(state_dir)) == len(waits) + 1


def test_retry_after_longer_than_budget_gives_up_at_once(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = RetryBudget(budget_s=5.0, backoff_s=1.0, backoff_max_s=8.0)
    client, transport = resource_client(state_dir, monkeypatch, "throttle=1", budget, speed=1.0)
    with pytest.raises(HttpResponseError) as info:
        client.resource_groups.get(GROUP)
    assert info.value.error.code == "SubscriptionRequestsThrottled"
    assert (transport.slept, statuses(state_dir)) == ([], [429])
