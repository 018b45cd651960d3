"""``deploy --prune``: delete this topology's resources that it no longer has.

``converge.orphans`` says which and in what order (peerings and connections before
VNets and gateways, VMs before NICs, NICs before NSGs and VNets, public IPs after the
gateways); ``converge.decide_orphan`` says ``delete`` or ``wait`` (a delete from an
earlier run still running). Each rank is deleted at once through the SDK's
``begin_delete`` pollers and waited for before the next, so an interrupted prune
leaves only whole deletions behind and a re-run continues::

    deleted = prune(clients, group, orphans(planned, observed, topology), observed, cancel)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from itertools import groupby
from typing import Any

from hubvpn import kinds
from hubvpn.azure import Clients
from hubvpn.converge import Action, Orphan, decide_orphan
from hubvpn.interrupts import NOTED
from hubvpn.observe import Observed, parallel


def _delete(clients: Clients, group: str, orphan: Orphan) -> None:
    kinds.begin_delete(clients, group, orphan.kind, orphan.name, orphan.parent)()


def _gone(
    clients: Clients, group: str, orphan: Orphan, poll_s: float, cancel: threading.Event
) -> bool:
    """Wait for a delete started by an earlier run: until the GET answers 404 (True),
    or Ctrl-C (False: the delete goes on in Azure; a re-run waits for it again)."""
    while kinds.get(clients, group, orphan.kind, orphan.name, orphan.parent) is not None:
        if NOTED.wait(poll_s) or cancel.is_set():
            return False
    return True


def prune(
    clients: Clients,
    group: str,
    orphans: list[Orphan],
    observed: Observed,
    cancel: threading.Event,
    poll_s: float = 1.0,
) -> list[Orphan]:
    """Delete ``orphans`` rank by rank; the ones deleted (or waited for), in order.

    A failure raises the SDK's error after the rank's other deletions have finished;
    what was deleted stays deleted and a re-run continues from what is left.
    """
    done: list[Orphan] = []
    for _, rank_iter in groupby(orphans, key=lambda o: o.depends_on):
        if cancel.is_set():
            break
        rank = list(rank_iter)
        calls: dict[str, Callable[[], Any]] = {}
        for orphan in rank:
            decision = decide_orphan(orphan, observed, prune=True)
            if decision.action is Action.WAIT:
                calls[orphan.key] = partial(_gone, clients, group, orphan, poll_s, cancel)
            else:
                calls[orphan.key] = partial(_delete, clients, group, orphan)
        results = parallel(calls)
        failed = [r for r in results.values() if isinstance(r, Exception)]
        done += [
            o
            for o in rank
            if not isinstance(results[o.key], Exception) and results[o.key] is not False
        ]
        if failed:
            raise failed[0]
    return done
