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
import time
from collections.abc import Callable
from functools import partial
from itertools import groupby
from typing import Any

from hubvpn.azure import Clients
from hubvpn.converge import Action, Orphan, decide_orphan
from hubvpn.observe import Observed, not_found, parallel


def _ops(kind: str) -> tuple[str, str]:
    """(client, operations group) of a kind's SDK calls."""
    return {
        "peering": ("network", "virtual_network_peerings"),
        "connection": ("network", "virtual_network_gateway_connections"),
        "vm_extension": ("compute", "virtual_machine_extensions"),
        "virtual_machine": ("compute", "virtual_machines"),
        "bastion": ("network", "bastion_hosts"),
        "local_network_gateway": ("network", "local_network_gateways"),
        "virtual_network_gateway": ("network", "virtual_network_gateways"),
        "network_interface": ("network", "network_interfaces"),
        "public_ip": ("network", "public_ip_addresses"),
        "virtual_network": ("network", "virtual_networks"),
        "route_table": ("network", "route_tables"),
        "network_security_group": ("network", "network_security_groups"),
    }[kind]


def _operations(clients: Clients, orphan: Orphan) -> Any:
    client, group = _ops(orphan.kind)
    return getattr(getattr(clients, client), group)


def _names(group: str, orphan: Orphan) -> tuple[str, ...]:
    return (group, orphan.parent, orphan.name) if orphan.parent else (group, orphan.name)


def _delete(clients: Clients, group: str, orphan: Orphan) -> None:
    _operations(clients, orphan).begin_delete(*_names(group, orphan)).result()


def _gone(clients: Clients, group: str, orphan: Orphan, poll_s: float) -> None:
    """Wait for a delete started by an earlier run: until the GET answers 404."""
    ops = _operations(clients, orphan)
    while True:
        try:
            ops.get(*_names(group, orphan))
        except Exception as err:
            if not_found(err):
                return
            raise
        time.sleep(poll_s)


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
                calls[orphan.key] = partial(_gone, clients, group, orphan, poll_s)
            else:
                calls[orphan.key] = partial(_delete, clients, group, orphan)
        results = parallel(calls)
        failed = [r for r in results.values() if isinstance(r, Exception)]
        done += [o for o in rank if not isinstance(results[o.key], Exception)]
        if failed:
            raise failed[0]
    return done
