"""ARM's request limits as the emulator models them: token buckets per subscription.

Source: learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling
("Regional throttling and token bucket algorithm"): reads 250 tokens refilled at 25
per second, writes and deletes 200 refilled at 10 per second; each response carries
``x-ms-ratelimit-remaining-subscription-reads`` (or ``-writes``, ``-deletes``, the
header the recordings show on a DELETE), and an empty bucket answers 429 with
Retry-After. The buckets refill on the emulator's clock: a client at a very low speed
(Azure seconds per wall second) sees almost no refill during a test, so the counts are
exact; one at a high speed sees a full bucket again at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from azure.core.pipeline import PipelineResponse
from azure.mgmt.resource.resources import models as r
from emulator_helpers import GROUP, connect_at, expect_arm_error, resource_group

from hubvpn.azure import Clients

CRAWL = 0.0001  # Azure seconds per wall second: a bucket refills 1/10000 as fast as on Azure
READS = "x-ms-ratelimit-remaining-subscription-reads"
WRITES = "x-ms-ratelimit-remaining-subscription-writes"
DELETES = "x-ms-ratelimit-remaining-subscription-deletes"


class Headers:
    """A raw_response_hook that keeps the headers of the last response (and of the last
    one per method: an LRO poller's own GETs must not hide its DELETE)."""

    def __init__(self) -> None:
        self.last: Mapping[str, str] = {}
        self.by_method: dict[str, Mapping[str, str]] = {}

    def __call__(self, pipeline: PipelineResponse[Any, Any]) -> None:
        self.last = pipeline.http_response.headers
        self.by_method[pipeline.http_request.method] = self.last


def test_requests_answer_remaining_tokens_of_their_bucket(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)  # one write, by another process
    seen = Headers()
    with connect_at(state_dir, monkeypatch, speed=CRAWL) as crawl:
        crawl.resource.resource_groups.get(GROUP, raw_response_hook=seen)
        assert seen.last[READS] == "249"
        crawl.resource.resource_groups.get(GROUP, raw_response_hook=seen)
        assert (seen.last[READS], WRITES in seen.last) == ("248", False)
        crawl.resource.resource_groups.update(
            GROUP, r.ResourceGroupPatchable(tags={"a": "b"}), raw_response_hook=seen
        )
        assert (seen.last[WRITES], READS in seen.last) == ("198", False)
        crawl.resource.resource_groups.begin_delete(GROUP, raw_response_hook=seen)
        assert seen.by_method["DELETE"][DELETES] == "199"


def test_get_throttled_429_after_250_reads_while_writes_still_pass(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    seen = Headers()
    with connect_at(state_dir, monkeypatch, speed=CRAWL) as crawl:
        for _ in range(250):
            crawl.resource.resource_groups.get(GROUP)
        with expect_arm_error("SubscriptionRequestsThrottled", 429):
            crawl.resource.resource_groups.get(GROUP, retry_total=0, raw_response_hook=seen)
        # One read token takes 1/25 Azure s: 400 wall seconds at this speed.
        assert 300 <= int(seen.last["Retry-After"]) <= 400
        crawl.resource.resource_groups.update(
            GROUP, r.ResourceGroupPatchable(tags={"a": "b"}), raw_response_hook=seen
        )
        assert seen.last[WRITES] == "198"


def test_get_after_throttling_passes_once_emulator_clock_refilled(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    with connect_at(state_dir, monkeypatch, speed=CRAWL) as crawl:
        for _ in range(250):
            crawl.resource.resource_groups.get(GROUP)
        with expect_arm_error("SubscriptionRequestsThrottled", 429):
            crawl.resource.resource_groups.get(GROUP, retry_total=0)
    seen = Headers()
    # At 36000 Azure seconds per wall second, the milliseconds since refill 250 reads.
    clients.resource.resource_groups.get(GROUP, retry_total=0, raw_response_hook=seen)
    assert seen.last[READS] == "249"
