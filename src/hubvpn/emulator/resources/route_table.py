"""Microsoft.Network/routeTables and their routes (children)."""

from __future__ import annotations

import copy

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
)
from hubvpn.emulator.resources.common import cidr, new_child, parent_of, props_of, render_child
from hubvpn.emulator.resources.references import subnets_using
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    ROUTE,
    ROUTE_TABLE,
)

NEXT_HOP_TYPES = ("VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None")


def check_route(props: Body, name: str) -> Body:
    prefix = props.get("addressPrefix")
    cidr(prefix, "properties.addressPrefix")
    hop = props.get("nextHopType")
    if hop not in NEXT_HOP_TYPES:
        raise errors.InvalidRequestBody(
            f"Route {name}: nextHopType '{hop}' is not one of {', '.join(NEXT_HOP_TYPES)}.",
            target="properties.nextHopType",
        )
    address = props.get("nextHopIpAddress")
    if hop == "VirtualAppliance" and not address:
        raise errors.InvalidRequestBody(
            f"Route {name}: next hop type VirtualAppliance needs nextHopIpAddress."
        )
    if hop != "VirtualAppliance" and address:
        raise errors.InvalidRequestBody(
            f"Route {name}: nextHopIpAddress is allowed only with next hop type VirtualAppliance."
        )
    return {k: v for k, v in props.items() if k not in ("provisioningState", "hasBgpOverride")}


class RouteTable(Kind):
    type = ROUTE_TABLE
    put_hint_s = 2.0  # as recorded (tests/recorded/)
    delete_hint_s = 2.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        expect_type(
            props.get("disableBgpRoutePropagation"), bool, "properties.disableBgpRoutePropagation"
        )
        routes = expect_type(props.get("routes", []), list, "properties.routes") or []
        names: set[str] = set()
        for i, route in enumerate(routes):
            expect_type(route, dict, f"properties.routes[{i}]")
            name = route.get("name")
            if not isinstance(name, str) or not name or name.lower() in names:
                raise errors.InvalidRequestBody(f"Route {i} needs a unique name.")
            names.add(name.lower())
            check_route(route.get("properties", {}), name)
        keep = {
            k: v
            for k, v in props.items()
            if k not in ("routes", "subnets", "provisioningState", "resourceGuid")
        }
        keep.setdefault("disableBgpRoutePropagation", False)
        keep["_routes"] = routes
        return {"properties": keep}

    def after_put(self, w: World, rec: Record, old: Record | None) -> None:
        routes = rec["body"]["properties"].pop("_routes")
        wanted = {r["name"].lower() for r in routes}
        for existing in w.select(ROUTE, parent=rec["id"]):
            if existing["name"].lower() not in wanted:
                w.tx.delete(existing["id"])
        for route in routes:
            child = w.get(f"{rec['id']}/routes/{route['name']}") or new_child(
                rec, ROUTE, route["name"]
            )
            child["body"] = {"properties": check_route(route.get("properties", {}), route["name"])}
            child["pending"] = copy.deepcopy(rec["pending"])
            w.put(child)

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        out["properties"]["resourceGuid"] = rec["guid"]
        out["properties"]["routes"] = [
            render_child(w, r) for r in w.peek_select(ROUTE, parent=rec["id"])
        ]
        users = subnets_using(w, "routeTable", rec["id"])
        if users:
            out["properties"]["subnets"] = [{"id": s} for s in users]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        users = subnets_using(w, "routeTable", rec["id"])
        if users:
            raise errors.InUseRouteTableCannotBeDeleted(rec["id"], users[0])


class Route(Kind):
    type = ROUTE
    put_hint_s = 2.0  # as recorded (tests/recorded/)
    delete_hint_s = 2.0
    has_location = False

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        parent_of(w, rid)
        return {"properties": check_route(props_of(body, self.type), rid.name)}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        # As recorded (go armnetwork TestRouteTableTestSuite): no BGP route overrides this.
        out["properties"].setdefault("hasBgpOverride", False)
        return out
