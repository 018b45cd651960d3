"""Microsoft.Resources/resourceGroups: the group every resource lives in.

A group is no provider resource (no ``Kind``: no provider path, no etag, its
own error codes), but it has rules like one:

- PUT needs a location and never moves (``InvalidResourceGroupLocation``); the
  name is 1-90 of ``-\\w._()`` not ending in a dot; tags are an object.
- PATCH changes tags only.
- DELETE is long-running: ARM deletes the members tier by tier (VMs,
  connections and bastions; then gateways, NICs and local gateways; then the
  rest), so the group takes the slowest member of each tier, summed.
- Nothing is written into a group being deleted (``ResourceGroupBeingDeleted``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    RG_TYPE,
    Body,
    Kind,
    World,
    group_id,
    new_group_record,
    normalize_location,
    provisioning_state,
)
from hubvpn.emulator.store import Record, clone

DELETE_TIERS = (  # ARM deletes a group in dependency order, tier by tier
    (
        "microsoft.compute/virtualmachines",
        "microsoft.network/connections",
        "microsoft.network/bastionhosts",
    ),
    (
        "microsoft.network/virtualnetworkgateways",
        "microsoft.network/networkinterfaces",
        "microsoft.network/localnetworkgateways",
    ),
)
MIN_DELETE_S = 5.0  # an empty group still takes a few seconds
_NAME = re.compile(r"[-\w._()]{1,90}")


class ResourceGroup:
    type = RG_TYPE

    def __init__(self, kinds: Mapping[str, Kind]) -> None:
        self.kinds = kinds  # the member types, for their delete durations

    def existing(self, w: World, subscription: str, group: str, *, write: bool) -> Record:
        """The group a request names (a copy); a write into a group being deleted is refused."""
        self.require(w, subscription, group, write=write)
        rec = w.get(group_id(subscription, group))
        assert rec is not None
        return rec

    def require(self, w: World, subscription: str, group: str, *, write: bool) -> None:
        """``existing``'s checks alone (no copy of the group)."""
        rec = w.peek(group_id(subscription, group))
        if rec is None:
            raise errors.ResourceGroupNotFound(group)
        if write and rec.get("pending") and rec["pending"]["kind"] == "delete":
            raise errors.ResourceGroupBeingDeleted(group)

    def put(self, w: World, subscription: str, group: str, body: Body) -> tuple[Record, bool]:
        """Create or update a group; (the record, whether it was created)."""
        rec = w.get(group_id(subscription, group))
        location = body.get("location")
        if not isinstance(location, str) or not location:
            raise errors.LocationRequired()
        location = normalize_location(location)
        if rec is not None and rec.get("pending"):
            raise errors.ResourceGroupBeingDeleted(group)
        if not _NAME.fullmatch(group) or group.endswith("."):
            raise errors.InvalidRequestBody(f"Resource group name '{group}' is invalid.")
        tags = body.get("tags")
        if tags is not None and not isinstance(tags, dict):
            raise errors.InvalidRequestBody("tags must be an object.", target="tags")
        created = rec is None
        if rec is None:
            rec = new_group_record(subscription, group, location)
        elif normalize_location(rec["location"]) != location:
            raise errors.InvalidResourceGroupLocation(location, rec["location"])
        rec["body"] = {"tags": tags} if tags is not None else {}
        w.put(rec)
        return rec, created

    def patch(self, w: World, subscription: str, group: str, body: Body) -> Record:
        rec = w.get(group_id(subscription, group))
        if rec is None:
            raise errors.ResourceGroupNotFound(group)
        if "tags" in body:
            rec["body"]["tags"] = body["tags"]
        w.put(rec)
        return rec

    def delete_s(self, w: World, group: str) -> float:
        """Azure seconds to delete a group: the slowest member of each tier, summed."""
        remaining = [r for r in w.peek_select(group=group) if r["type"].lower() in self.kinds]
        total = 0.0
        for tier in DELETE_TIERS:
            in_tier = [r for r in remaining if r["type"].lower() in tier]
            if in_tier:
                total += max(self.kinds[r["type"].lower()].delete_s for r in in_tier)
            remaining = [r for r in remaining if r["type"].lower() not in tier]
        if remaining:
            total += max(self.kinds[r["type"].lower()].delete_s for r in remaining)
        return max(total, MIN_DELETE_S)

    def render(self, rec: Record) -> Body:
        out: Body = {
            "id": rec["id"],
            "name": rec["name"],
            "type": RG_TYPE,
            "location": rec["location"],
            "properties": {"provisioningState": provisioning_state(rec)},
        }
        if rec["body"].get("tags") is not None:
            out["tags"] = clone(rec["body"]["tags"])
        return out

    def members(self, w: World, group: str, expand: str) -> list[Body]:
        """Resources_ListByResourceGroup: the group's top-level resources, ``$expand``
        adding provisioningState and createdTime."""
        items = []
        for rec in w.peek_select(group=group):
            if rec["type"] == RG_TYPE or rec.get("parent"):
                continue
            item: Body = {
                "id": rec["id"],
                "name": rec["name"],
                "type": rec["type"],
                "location": rec["location"],
            }
            if rec["body"].get("tags") is not None:
                item["tags"] = clone(rec["body"]["tags"])
            for field in ("sku", "zones"):
                if field in rec["body"]:
                    item[field] = clone(rec["body"][field])
            if "provisioningstate" in expand:
                item["provisioningState"] = provisioning_state(rec)
            if "createdtime" in expand and rec.get("createdAt"):
                item["createdTime"] = rec["createdAt"]
            items.append(item)
        return items
