"""Diagnostics: network watchers (connectivityCheck) and NIC effective routes.

Both are POST actions answered as ARM long-running operations (202 + Location).
Azure's preconditions hold: one watcher per region and subscription; the source
VM runs the Network Watcher agent extension and sits in the watcher's region;
effective routes only for a NIC attached to a running VM.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any, ClassVar

from hubvpn.emulator import errors, physics
from hubvpn.emulator.arm import (
    Action,
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
    group_id,
    new_group_record,
    new_record,
)
from hubvpn.emulator.resources.common import props_of
from hubvpn.emulator.resources.vm_extension import has_network_watcher_agent
from hubvpn.emulator.store import Record, utc_iso
from hubvpn.emulator.types import VM, WATCHER

CONNECTIVITY_CHECK_S = 30.0  # Azure runs probes for tens of seconds


WATCHER_GROUP = "NetworkWatcherRG"


def region_watcher(w: World, subscription: str, location: str) -> Record | None:
    """The subscription's watcher in a region (there is at most one), wherever it lives."""
    prefix = f"/subscriptions/{subscription}/".lower()
    for other in w.peek_select(WATCHER):
        if other["id"].lower().startswith(prefix) and other.get("location") == location:
            return other
    return None


def ensure_region_watcher(w: World, subscription: str, location: str) -> None:
    """What Azure does on a VNet write: NetworkWatcher_<region> in NetworkWatcherRG (the
    group created, untagged, if absent) when the region has no watcher, unless the
    subscription opted out (``Settings.auto_network_watcher``)."""
    if not w.settings.auto_network_watcher or region_watcher(w, subscription, location):
        return
    gid = group_id(subscription, WATCHER_GROUP)
    group = w.get(gid)
    if group is None:
        w.put(new_group_record(subscription, WATCHER_GROUP, location))
    elif group.get("pending"):
        return  # the group is being deleted: Azure would try again on a later write
    rid = ResourceId(
        subscription,
        WATCHER_GROUP,
        "Microsoft.Network",
        ("networkWatchers",),
        (f"NetworkWatcher_{location}",),
    )
    rec = new_record(rid, location)
    rec["createdAt"] = utc_iso(w.now)
    rec["body"] = {"properties": {}}
    w.put(rec)


def connectivity_check(w: World, watcher: Record, body: Body) -> tuple[Body, float]:
    source = expect_type(body.get("source"), dict, "source") or {}
    vm_id = expect_type(source.get("resourceId"), str, "source.resourceId")
    destination = expect_type(body.get("destination"), dict, "destination") or {}
    if not vm_id or not destination:
        raise errors.InvalidRequestBody("source.resourceId and destination are required.")
    vm = w.peek(vm_id)  # read, never changed: a check costs what its answer needs
    if vm is None or vm["type"].lower() != VM.lower():
        raise errors.InvalidResourceReference(vm_id, watcher["id"])
    if vm.get("location") != watcher.get("location"):
        raise errors.NetworkWatcherNotInSourceRegion(watcher["id"], str(vm.get("location")))
    w.succeeded(vm, watcher["id"])
    if not has_network_watcher_agent(w, vm):
        raise errors.NetworkWatcherExtensionNotInstalled(vm["id"])
    port = expect_type(destination.get("port"), int, "destination.port")
    if port is None or not 0 < port < 65536:
        raise errors.InvalidRequestBody(
            "destination.port must be 1-65535.", target="destination.port"
        )
    address = destination.get("address")
    if not address and destination.get("resourceId"):
        address = _primary_ip(w, str(destination["resourceId"]))
    if not isinstance(address, str) or not address:
        raise errors.InvalidRequestBody(
            "destination.address or destination.resourceId is required."
        )
    address = _internet_host(address)
    protocol = body.get("protocol", "Tcp")
    if protocol not in ("Tcp", "Http", "Https", "Icmp"):
        raise errors.InvalidRequestBody(f"protocol '{protocol}' is invalid.", target="protocol")
    nic_ref = vm["body"]["properties"]["networkProfile"]["networkInterfaces"][0]["id"]
    nic = w.peek(nic_ref)
    if nic is None:
        raise errors.InvalidResourceReference(nic_ref, vm["id"])
    return physics.connectivity(w, nic, address, port), CONNECTIVITY_CHECK_S


def _internet_host(address: str) -> str:
    """A host name (Azure accepts them, e.g. "bing.com" as recorded) stands for a host on the
    Internet: the emulator has no DNS, so it takes a stable address in 203.0.113.0/24."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        digest = hashlib.sha256(address.lower().encode()).digest()
        return f"203.0.113.{1 + digest[0] % 254}"
    return address


def _primary_ip(w: World, vm_id: str) -> str | None:
    vm = w.peek(vm_id)
    if vm is None:
        return None
    nic = w.peek(vm["body"]["properties"]["networkProfile"]["networkInterfaces"][0]["id"])
    if nic is None:
        return None
    address: Any = nic["body"]["properties"]["ipConfigurations"][0]["properties"].get(
        "privateIPAddress"
    )
    return str(address) if address else None


class NetworkWatcherKind(Kind):
    type = WATCHER
    # NetworkWatchers_CreateOrUpdate is no long-running operation in the spec, but Azure
    # answers 201 with Azure-AsyncOperation and a Succeeded body (azure-facts.md).
    synchronous = True
    announces_operation = True
    actions: ClassVar[dict[str, Action]] = {"connectivityCheck": connectivity_check}

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        if old is None and region_watcher(w, rid.subscription, str(body.get("location"))):
            raise errors.NetworkWatcherCountLimitReached()
        props = props_of(body, self.type)
        return {"properties": {k: v for k, v in props.items() if k != "provisioningState"}}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        out["properties"]["runningOperationIds"] = []  # as recorded Azure shows it
        return out
