"""Which ready step a free worker takes: the most urgent (longest Azure chain behind it).

Orders are pinned with one worker and recorded sends, never with timings.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from emulator_helpers import REFERENCE
from test_deploy import requests, run

import hubvpn.deploy
from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.deploy import PriorityPool
from hubvpn.plan import build_plan


def blocked_pool(size: int) -> tuple[PriorityPool, threading.Event, list[str]]:
    """A pool whose workers are all busy until the event is set; ``ran`` records order."""
    pool = PriorityPool(size, "test")
    release = threading.Event()
    ran: list[str] = []
    started = threading.Barrier(size + 1)

    def hold() -> None:
        started.wait()
        release.wait()

    for _ in range(size):
        pool.submit(100.0, hold)
    started.wait()
    return pool, release, ran


def finish(pool: PriorityPool) -> None:
    pool.shutdown()
    for thread in pool.threads:
        thread.join()


def test_pool_runs_queued_tasks_most_urgent_first_ties_in_submission_order() -> None:
    pool, release, ran = blocked_pool(1)
    for name, urgency in [("a", 1.0), ("b", 5.0), ("c", 3.0), ("d", 5.0), ("e", 0.0)]:
        pool.submit(urgency, ran.append, name)
    done = threading.Event()
    pool.submit(-1.0, done.set)
    release.set()
    done.wait()
    finish(pool)
    assert ran == ["b", "d", "c", "a", "e"]


def test_pool_idle_worker_picks_from_the_whole_batch() -> None:
    pool = PriorityPool(1, "test")
    ran: list[str] = []
    done = threading.Event()
    pool.submit_all(
        [
            (1.0, lambda: ran.append("late")),
            (9.0, lambda: ran.append("urgent")),
            (0.0, done.set),
        ]
    )
    done.wait()
    finish(pool)
    assert ran == ["urgent", "late"]


def test_pool_starts_no_more_threads_than_its_size() -> None:
    pool, release, ran = blocked_pool(2)
    for n in range(10):
        pool.submit(float(n), ran.append, str(n))
    assert len(pool.threads) == 2
    release.set()
    finish(pool)


def test_pool_shutdown_drops_queued_tasks_and_refuses_new_ones() -> None:
    pool, release, ran = blocked_pool(1)
    pool.submit(1.0, ran.append, "queued")
    pool.shutdown()
    release.set()
    for thread in pool.threads:
        thread.join()
    assert ran == []
    with pytest.raises(RuntimeError):
        pool.submit(1.0, ran.append, "late")


def test_plan_remaining_of_each_critical_step_is_what_is_left_of_the_path() -> None:
    plan = build_plan(load_topology(REFERENCE))
    total, chain = plan.critical_path()
    left = total
    for step in chain:
        assert plan.remaining[step.key] == pytest.approx(left)
        left -= step.azure_s
    assert max(plan.remaining.values()) == pytest.approx(total)


def test_deploy_with_one_worker_sends_ready_steps_longest_chain_first(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hubvpn.deploy, "MAX_WORKERS", 1)
    plan = build_plan(load_topology(REFERENCE))
    report, _ = run(plan, clients)
    assert report.ok, [o.detail for o in report.failed]
    sent = [
        urlsplit(r["path"]).path.rsplit("/", 1)[-1]
        for r in requests(clients)
        if r["method"] == "PUT"
    ]
    # Everything ready when the group exists is queued at once; the one worker takes it
    # by urgency (the hub NSGs and gateway IPs before the spokes' NSGs and the Bastion IPs).
    group = plan.steps[0].key
    batch = [s for s in plan.steps if s.depends_on == (group,)]
    expected = sorted(batch, key=lambda s: -plan.remaining[s.key])  # stable: plan order
    first_put = {s.name: sent.index(s.name) for s in batch}
    assert sorted(batch, key=lambda s: first_put[s.name]) == expected
    assert expected != batch  # first in, first out would have sent them in plan order


def test_pool_slack_tasks_hold_at_most_their_share_and_never_the_urgent_ones() -> None:
    pool = PriorityPool(4, "test", slack_workers=1, slack=lambda urgency: urgency < 10.0)
    holding = threading.Event()
    release = threading.Event()
    ran: list[str] = []
    urgent_done = threading.Event()

    def hold() -> None:
        holding.set()
        release.wait()
        ran.append("held")

    pool.submit(1.0, hold)
    holding.wait()
    pool.submit_all([(2.0, lambda: ran.append("slack")), (50.0, urgent_done.set)])
    urgent_done.wait()  # a free worker took it although the slack one holds the share
    assert ran == []  # the second slack task waits for the first to end
    done = threading.Event()
    pool.submit(0.5, done.set)
    release.set()
    done.wait()
    finish(pool)
    assert ran == ["held", "slack"]
