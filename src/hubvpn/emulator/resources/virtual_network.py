"""Microsoft.Network/virtualNetworks with their subnets and peerings (children).

The rules are Azure's (azure-facts.md): subnets inside their VNet, no overlap,
GatewaySubnet only for gateways, peering rules for gateway transit.
"""

from __future__ import annotations

import copy
import ipaddress

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
    parse_subscription,
)
from hubvpn.emulator.resources.common import (
    cidr,
    new_child,
    parent_of,
    props_of,
    render_child,
    subnet_id,
    subnet_prefix,
    vnet_prefixes,
)
from hubvpn.emulator.resources.references import (
    gateway_in_vnet,
    ip_configuration_users,
    reverse_peering,
)
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    NSG,
    PEERING,
    ROUTE_TABLE,
    SUBNET,
    VNET,
)


class VirtualNetwork(Kind):
    type = VNET
    put_hint_s = 3.0  # as recorded (tests/recorded/)
    create_s = 5.0
    update_s = 5.0
    delete_s = 10.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        space = expect_type(props.get("addressSpace"), dict, "properties.addressSpace") or {}
        prefixes = expect_type(
            space.get("addressPrefixes"), list, "properties.addressSpace.addressPrefixes"
        )
        if not prefixes:
            raise errors.InvalidRequestBody(
                "Virtual network must have at least one address prefix in addressSpace.",
                target="properties.addressSpace.addressPrefixes",
            )
        nets = [cidr(p, "properties.addressSpace.addressPrefixes[]") for p in prefixes]
        for i, a in enumerate(nets):
            for b in nets[i + 1 :]:
                if a.overlaps(b):
                    raise errors.InvalidRequestBody(
                        f"Address prefixes {a} and {b} of the virtual network overlap."
                    )
        subnets = expect_type(props.get("subnets", []), list, "properties.subnets") or []
        seen: dict[str, ipaddress.IPv4Network] = {}
        for i, sub in enumerate(subnets):
            expect_type(sub, dict, f"properties.subnets[{i}]")
            name = expect_type(sub.get("name"), str, f"properties.subnets[{i}].name")
            if not name:
                raise errors.InvalidRequestBody(
                    "Every subnet needs a name.", target=f"properties.subnets[{i}].name"
                )
            sprops = expect_type(
                sub.get("properties", {}), dict, f"properties.subnets[{i}].properties"
            )
            net = check_subnet(w, rid, name, sprops or {}, nets)
            for other, onet in seen.items():
                if net.overlaps(onet):
                    raise errors.NetcfgSubnetRangesOverlap(name, other)
            seen[name.lower()] = net
        if old is not None:
            self._check_removed_subnets(w, old, set(seen))
            self._check_peered_overlap(w, old, nets)
        keep = {
            k: v
            for k, v in props.items()
            if k not in ("subnets", "virtualNetworkPeerings", "provisioningState", "resourceGuid")
        }
        keep["addressSpace"] = {"addressPrefixes": [str(n) for n in nets]}
        keep.setdefault("enableDdosProtection", False)
        keep["_subnets"] = subnets
        return {"properties": keep}

    def _check_removed_subnets(self, w: World, old: Record, names: set[str]) -> None:
        for sub in w.select(SUBNET, parent=old["id"]):
            if sub["name"].lower() not in names:
                users = ip_configuration_users(w, sub["id"])
                if users:
                    raise errors.InUseSubnetCannotBeDeleted(sub["id"], users[0][0])

    def _check_peered_overlap(
        self, w: World, old: Record, nets: list[ipaddress.IPv4Network]
    ) -> None:
        for peering in w.select(PEERING, parent=old["id"]):
            remote = w.get(peering["body"]["properties"]["remoteVirtualNetwork"]["id"])
            if remote is None:
                continue
            for net in nets:
                for rnet in vnet_prefixes(remote):
                    if net.overlaps(rnet):
                        raise errors.VnetAddressSpaceOverlapsWithAlreadyPeeredVnet(
                            old["id"], str(net), remote["id"]
                        )

    def after_put(self, w: World, rec: Record, old: Record | None) -> None:
        from hubvpn.emulator.resources.watcher import ensure_region_watcher

        ensure_region_watcher(w, parse_subscription(rec["id"]), rec["location"])
        subnets = rec["body"]["properties"].pop("_subnets")
        wanted = {s["name"].lower(): s for s in subnets}
        for existing in w.select(SUBNET, parent=rec["id"]):
            if existing["name"].lower() not in wanted:
                w.tx.delete(existing["id"])
        for sub in subnets:
            sid = subnet_id(rec["id"], sub["name"])
            child = w.get(sid)
            if child is None:
                child = new_child(rec, SUBNET, sub["name"])
            child["body"] = {"properties": normalized_subnet(sub.get("properties", {}))}
            child["pending"] = copy.deepcopy(rec["pending"])
            child["etag"] = rec["etag"]
            w.put(child)

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        props["subnets"] = [render_child(w, s) for s in w.peek_select(SUBNET, parent=rec["id"])]
        props["virtualNetworkPeerings"] = [
            render_child(w, p) for p in w.peek_select(PEERING, parent=rec["id"])
        ]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        for sub in w.select(SUBNET, parent=rec["id"]):
            users = ip_configuration_users(w, sub["id"])
            if users:
                raise errors.InUseSubnetCannotBeDeleted(sub["id"], users[0][0])


def normalized_subnet(props: Body) -> Body:
    keep = {
        k: v
        for k, v in props.items()
        if k not in ("provisioningState", "ipConfigurations", "purpose")
    }
    keep.setdefault("privateEndpointNetworkPolicies", "Disabled")
    keep.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
    return keep


def check_subnet(
    w: World, vnet: ResourceId, name: str, props: Body, vnet_nets: list[ipaddress.IPv4Network]
) -> ipaddress.IPv4Network:
    prefix = props.get("addressPrefix")
    if (
        prefix is None
        and isinstance(props.get("addressPrefixes"), list)
        and props["addressPrefixes"]
    ):
        prefix = props["addressPrefixes"][0]
    if prefix is None:
        raise errors.InvalidRequestBody(
            f"Subnet '{name}' needs an addressPrefix.", target="properties.addressPrefix"
        )
    net = cidr(prefix, "properties.addressPrefix", error=errors.NetcfgInvalidSubnetPrefix)
    if not any(net.subnet_of(v) for v in vnet_nets):
        raise errors.NetcfgInvalidSubnet(name, str(net), ", ".join(str(v) for v in vnet_nets))
    if net.prefixlen > 29:
        raise errors.InvalidRequestBody(
            f"Subnet '{name}' prefix {net} is too small: Azure subnets are /29 or larger."
        )
    for field, kind in (("networkSecurityGroup", NSG), ("routeTable", ROUTE_TABLE)):
        if props.get(field) is not None:
            w.reference(props[field], f"{vnet}/subnets/{name}", kind=kind)
    return net


class Subnet(Kind):
    type = SUBNET
    put_hint_s = 3.0  # as recorded (tests/recorded/)
    has_location = False

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        vnet, parent = parent_of(w, rid), rid.parent
        assert parent is not None
        props = props_of(body, self.type)
        net = check_subnet(w, parent, rid.name, props, vnet_prefixes(vnet))
        for sibling in w.select(SUBNET, parent=vnet["id"]):
            if sibling["name"].lower() != rid.name.lower() and net.overlaps(subnet_prefix(sibling)):
                raise errors.NetcfgSubnetRangesOverlap(rid.name, sibling["name"])
        if old is not None and net != subnet_prefix(old) and ip_configuration_users(w, old["id"]):
            raise errors.InUseSubnetCannotBeDeleted(old["id"], "its IP configurations")
        normalized = normalized_subnet(props)
        normalized["addressPrefix"] = str(net)
        return {"properties": normalized}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        out["properties"].setdefault("delegations", [])  # Azure always lists them
        users = ip_configuration_users(w, rec["id"])
        if users:
            out["properties"]["ipConfigurations"] = [{"id": cfg} for cfg, _ in users]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        users = ip_configuration_users(w, rec["id"])
        if users:
            raise errors.InUseSubnetCannotBeDeleted(rec["id"], users[0][0])


class VirtualNetworkPeering(Kind):
    type = PEERING
    has_location = False
    create_s = 10.0
    update_s = 10.0
    delete_s = 10.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        vnet = parent_of(w, rid)
        props = props_of(body, self.type)
        for flag in (
            "allowVirtualNetworkAccess",
            "allowForwardedTraffic",
            "allowGatewayTransit",
            "useRemoteGateways",
        ):
            expect_type(props.get(flag), bool, f"properties.{flag}")
        remote = w.reference(props.get("remoteVirtualNetwork"), str(rid), kind=VNET)
        if remote["id"].lower() == vnet["id"].lower():
            raise errors.InvalidRequestBody("A virtual network cannot be peered with itself.")
        for net in vnet_prefixes(vnet):
            for rnet in vnet_prefixes(remote):
                if net.overlaps(rnet):
                    raise errors.VnetAddressSpacesOverlap(vnet["id"], remote["id"], str(rnet))
        for other in w.select(PEERING, parent=vnet["id"]):
            if other["name"].lower() == rid.name.lower():
                continue
            other_remote = w.get(other["body"]["properties"]["remoteVirtualNetwork"]["id"])
            if other_remote is None:
                continue
            if other_remote["id"].lower() == remote["id"].lower():
                raise errors.InvalidRequestBody(
                    f"Virtual network {vnet['id']} is already peered with {remote['id']} "
                    f"through peering {other['name']}."
                )
            for rnet in vnet_prefixes(remote):
                for onet in vnet_prefixes(other_remote):
                    if rnet.overlaps(onet):
                        raise errors.VnetAddressSpaceOverlapsWithAlreadyPeeredVnet(
                            remote["id"], str(rnet), other_remote["id"]
                        )
        if props.get("useRemoteGateways") and props.get("allowGatewayTransit"):
            raise errors.InvalidRequestBody(
                f"Peering {rid} cannot have both UseRemoteGateways and AllowGatewayTransit set."
            )
        if props.get("useRemoteGateways"):
            self._check_remote_gateway(w, rid, vnet, remote)
        back = reverse_peering(w, vnet["id"], remote["id"])
        if (
            back is not None
            and back["body"]["properties"].get("useRemoteGateways")
            and not props.get("allowGatewayTransit")
        ):
            # The remote side uses this VNet's gateway: transit cannot be withdrawn under it.
            raise errors.RemotePeeringDoesNotAllowGatewayTransit(back["id"])
        props = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "peeringState",
                "peeringSyncLevel",
                "provisioningState",
                "remoteAddressSpace",
                "remoteVirtualNetworkAddressSpace",
                "resourceGuid",
                "remoteGateways",
            )
        }
        props["remoteVirtualNetwork"] = {"id": remote["id"]}
        for flag, default in (
            ("allowVirtualNetworkAccess", True),
            ("allowForwardedTraffic", False),
            ("allowGatewayTransit", False),
            ("useRemoteGateways", False),
        ):
            props.setdefault(flag, default)
        return {"properties": props}

    def _check_remote_gateway(
        self, w: World, rid: ResourceId, vnet: Record, remote: Record
    ) -> None:
        if gateway_in_vnet(w, vnet["id"]) is not None:
            raise errors.PeeringWithUseRemoteGatewaysAndLocalGateway(str(rid))
        gateway = gateway_in_vnet(w, remote["id"])
        if gateway is None:
            raise errors.RemoteVnetHasNoGateways(str(rid), remote["id"])
        w.succeeded(gateway, str(rid))
        back = reverse_peering(w, vnet["id"], remote["id"])
        if back is not None and not back["body"]["properties"].get("allowGatewayTransit"):
            raise errors.RemotePeeringDoesNotAllowGatewayTransit(str(rid))

    def after_put(self, w: World, rec: Record, old: Record | None) -> None:
        remote_id = rec["body"]["properties"]["remoteVirtualNetwork"]["id"]
        parent = rec["parent"]
        back = reverse_peering(w, parent, remote_id)
        if back is not None:
            rec["linked"] = True
            back["linked"] = True
            w.put(back)

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        remote = w.peek(props["remoteVirtualNetwork"]["id"])
        back = reverse_peering(w, rec["parent"], props["remoteVirtualNetwork"]["id"], copy=False)
        if back is not None:
            state = "Connected"
        else:
            state = "Disconnected" if rec.get("linked") else "Initiated"
        props["peeringState"] = state
        props["peeringSyncLevel"] = "FullyInSync" if back is not None else "RemoteNotInSync"
        props["resourceGuid"] = rec["guid"]
        # Defaults Azure shows when the PUT did not set them (recorded: go armnetwork
        # TestVirtualNetworkTestSuite, tests/recorded/).
        props.setdefault("doNotVerifyRemoteGateways", False)
        props.setdefault("peerCompleteVnets", True)
        props.setdefault("routeServiceVips", {})
        if remote is not None:
            space = {"addressPrefixes": [str(n) for n in vnet_prefixes(remote)]}
            props["remoteAddressSpace"] = space
            props["remoteVirtualNetworkAddressSpace"] = copy.deepcopy(space)
        return out
