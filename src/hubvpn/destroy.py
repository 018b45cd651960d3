"""Delete what a topology owns: its resource group, when the group carries its tag.

ARM deletes the group's resources in its own dependency order (connections,
gateways, local network gateways, public IPs, ...). Safe to re-run: a group
already gone, or already being deleted, is waited for and reported as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from azure.core.exceptions import ResourceNotFoundError

from hubvpn.azure import Clients
from hubvpn.config import Topology
from hubvpn.observe import check_owner

POLL_S = 0.1  # how often the spinner's elapsed time moves (the poller polls ARM itself)


@dataclass(frozen=True)
class DestroyResult:
    state: str  # "deleted" | "absent"
    resources: int  # how many resources the group held
    seconds: float


def find_owned_group(topology: Topology, clients: Clients) -> tuple[bool, int]:
    """(exists, resource count); OwnershipError when the group is not this topology's."""
    group = topology.resource_group
    try:
        rg = clients.resource.resource_groups.get(group)
    except ResourceNotFoundError:
        return False, 0
    check_owner(rg, topology.name, "delete")
    count = sum(1 for _ in clients.resource.resources.list_by_resource_group(group))
    return True, count


def destroy(
    topology: Topology, clients: Clients, tick: Callable[[float], None] | None = None
) -> DestroyResult:
    """Delete the group and wait; ``tick(elapsed seconds)`` is called while waiting.
    Ctrl-C stops the wait, not the deletion (ARM carries on)."""
    started = time.monotonic()
    exists, count = find_owned_group(topology, clients)
    if not exists:
        return DestroyResult("absent", 0, time.monotonic() - started)
    poller = clients.resource.resource_groups.begin_delete(
        topology.resource_group, polling=clients.polling()
    )
    while not poller.done():
        time.sleep(POLL_S)
        if tick is not None:
            tick(time.monotonic() - started)
    poller.result()
    return DestroyResult("deleted", count, time.monotonic() - started)
