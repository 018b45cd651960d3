"""Microsoft.Compute/virtualMachines/extensions: VM extensions.

An extension needs its VM Succeeded; ``protectedSettings`` are write-only. The
Network Watcher agent extension is what connectivity checks need
(``has_network_watcher_agent``).
"""

from __future__ import annotations

from typing import Any

from hubvpn.emulator import errors
from hubvpn.emulator.arm import Body, Kind, ResourceId, World, body_copy
from hubvpn.emulator.resources.common import parent_of, props_of
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import EXTENSION

NETWORK_WATCHER_AGENT = ("Microsoft.Azure.NetworkWatcher", "NetworkWatcherAgentLinux")
# Either agent serves Network Watcher (recorded: a Windows VM's NetworkWatcherAgentWindows
# answers connectivityCheck, .NET CheckConnectivityVmToInternetTest, tests/recorded/).
NETWORK_WATCHER_AGENTS = frozenset(
    {NETWORK_WATCHER_AGENT, ("Microsoft.Azure.NetworkWatcher", "NetworkWatcherAgentWindows")}
)


class VirtualMachineExtension(Kind):
    type = EXTENSION
    has_etag = False  # Azure returns none (recorded; no etag in the Compute spec's model)
    create_s = 60.0
    update_s = 60.0
    delete_s = 60.0
    creating_state = "Creating"

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        vm = parent_of(w, rid)
        w.succeeded(vm, str(rid))
        props = props_of(body, self.type)
        for field in ("publisher", "type", "typeHandlerVersion"):
            if not isinstance(props.get(field), str) or not props[field]:
                raise errors.InvalidParameter(
                    f"Required parameter '{field}' is missing (null).", target=field
                )
        keep: dict[str, Any] = {
            k: v for k, v in props.items() if k not in ("provisioningState", "protectedSettings")
        }
        keep.setdefault("autoUpgradeMinorVersion", True)
        return {"properties": keep}

    def render(self, w: World, rec: Record) -> Body:
        return body_copy(rec)


def has_network_watcher_agent(w: World, vm: Record) -> bool:
    for ext in w.peek_select(EXTENSION, parent=vm["id"]):
        props = ext["body"]["properties"]
        if (
            (props.get("publisher"), props.get("type")) in NETWORK_WATCHER_AGENTS
            and ext.get("state") == "Succeeded"
            and not ext.get("pending")
        ):
            return True
    return False
