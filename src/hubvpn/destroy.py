"""Delete what a topology owns: its resource group, when the group carries its tag.

ARM deletes the group's resources in its own dependency order (connections,
gateways, local network gateways, public IPs, ...). Safe to re-run: a group
already gone, or already being deleted, is waited for and reported as such.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hubvpn import naming
from hubvpn.azure import Clients
from hubvpn.config import Topology
from hubvpn.deploy import OwnershipError
from hubvpn.observe import not_found


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
    except Exception as err:
        if not_found(err):
            return False, 0
        raise
    owner = (rg.tags or {}).get(naming.TAG)
    if owner != topology.name:
        whose = f"topology '{owner}'" if owner else "no hubvpn topology (no tag)"
        raise OwnershipError(
            f"resource group '{group}' belongs to {whose}, not '{topology.name}': "
            "refusing to delete it"
        )
    count = sum(1 for _ in clients.resource.resources.list_by_resource_group(group))
    return True, count


def destroy(
    topology: Topology,
    clients: Clients,
    cancel: threading.Event,
    tick: Callable[[float], None] | None = None,
) -> DestroyResult:
    """Delete the group and wait; ``tick(elapsed seconds)`` is called while waiting."""
    started = time.monotonic()
    exists, count = find_owned_group(topology, clients)
    if not exists:
        return DestroyResult("absent", 0, time.monotonic() - started)
    poller = clients.resource.resource_groups.begin_delete(topology.resource_group)
    while not poller.done():
        if cancel.wait(0.1):
            raise KeyboardInterrupt
        if tick is not None:
            tick(time.monotonic() - started)
    poller.result()
    return DestroyResult("deleted", count, time.monotonic() - started)
