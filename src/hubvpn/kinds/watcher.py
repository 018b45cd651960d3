"""The region's network watcher: Azure allows one per region and subscription and
keeps it in ``NetworkWatcherRG``, untagged, serving every lab; the emulator's side
is ``emulator/resources/watcher.py``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubvpn import naming
from hubvpn.azure import error_code
from hubvpn.kinds import Kind
from hubvpn.kinds.body import Body
from hubvpn.plan import Step

if TYPE_CHECKING:
    from hubvpn.resources import Context


def desired_watcher(step: Step, ctx: Context) -> Any:
    from azure.mgmt.network import models as n

    # Untagged: the region's watcher serves every lab and outlives this one.
    return n.NetworkWatcher(location=step.location)


def regional_watcher(watchers: list[Any], location: str) -> Any | None:
    """The region's network watcher (Azure allows one per region and subscription)."""
    region = location.replace(" ", "").lower()
    return next(
        (w for w in watchers if (w.location or "").replace(" ", "").lower() == region), None
    )


def watcher_group(watcher: Any) -> str:
    return str(watcher.id.split("/")[4])


_WATCHER_GROUP_LOCK = threading.Lock()


def create_watcher(step: Step, model: Any, ctx: Context) -> Any:
    """Create the region's watcher where Azure would (``NetworkWatcherRG``, untagged).

    Returns the watcher to use. When another one appeared meanwhile (Azure creates
    one on a region's first VNet write), Azure refuses a second with
    NetworkWatcherCountLimitReached: the region's watcher is then the one to use.
    """
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resource.resources import models as r

    groups = ctx.clients.resource.resource_groups
    group = naming.NETWORK_WATCHER_GROUP
    with _WATCHER_GROUP_LOCK:  # two regions' steps run at once; one PUT of the group
        if not groups.check_existence(group):
            try:
                groups.create_or_update(group, r.ResourceGroup(location=step.location))
            except HttpResponseError as err:
                # Azure made it meanwhile, in another region (a VNet write there creates
                # the region's watcher and this group): a group's region is only its
                # metadata's home, and the watcher goes in it all the same.
                if error_code(err) != "InvalidResourceGroupLocation":
                    raise
    watchers = ctx.clients.network.network_watchers
    try:
        return watchers.create_or_update(group, step.name, model)
    except HttpResponseError as err:
        if error_code(err) != "NetworkWatcherCountLimitReached":
            raise
        found = regional_watcher(list(watchers.list_all()), step.location)
        if found is None:
            raise
        return found


def put_watcher(step: Step, model: Any, ctx: Context) -> Callable[[], Any]:
    """NetworkWatchers_CreateOrUpdate answers at once: the wait has nothing left to do."""
    result = create_watcher(step, model, ctx)
    return lambda: result


BODIES = {
    Kind.NETWORK_WATCHER: Body(
        desired_watcher, tagged=False, put=put_watcher, group=naming.NETWORK_WATCHER_GROUP
    ),
}
