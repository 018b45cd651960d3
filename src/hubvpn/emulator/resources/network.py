"""Microsoft.Network: virtual networks, subnets, peerings, public IPs, NSGs,
route tables, network interfaces, Bastion hosts, network watchers.

The rules are Azure's (azure-facts.md): subnets inside their VNet, no overlap,
GatewaySubnet only for gateways, peering rules for gateway transit, in-use
resources cannot be deleted, first free private IP from .4.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
from typing import Any

from hubvpn.emulator import errors, regions
from hubvpn.emulator.arm import (
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
    new_record,
    parse_id,
    parse_subscription,
)
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    BASTION,
    GATEWAY,
    NIC,
    NSG,
    PEERING,
    PUBLIC_IP,
    ROUTE,
    ROUTE_TABLE,
    SUBNET,
    VM,
    VNET,
)

NEXT_HOP_TYPES = ("VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None")


# ----------------------------------------------------------------- helpers


def props_of(body: Body, kind: str) -> Body:
    props = body.get("properties", {})
    expect_type(props, dict, "properties")
    return dict(props)


def cidr(
    text: Any, path: str, *, error: type[errors.ArmError] = errors.NetcfgInvalidAddressPrefix
) -> ipaddress.IPv4Network:
    expect_type(text, str, path)
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise error(str(text)) from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise error(str(text))
    return net


def ref_id(ref: Any) -> str | None:
    if isinstance(ref, dict) and isinstance(ref.get("id"), str):
        return str(ref["id"])
    return None


def vnet_prefixes(rec: Record) -> list[ipaddress.IPv4Network]:
    prefixes = rec["body"]["properties"]["addressSpace"]["addressPrefixes"]
    return [ipaddress.IPv4Network(p) for p in prefixes]


def subnet_prefix(rec: Record) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(rec["body"]["properties"]["addressPrefix"])


def ip_configuration_users(w: World, subnet_key: str) -> list[tuple[str, Record]]:
    """(ipConfiguration id, owner record) of everything placed in a subnet."""
    users: list[tuple[str, Record]] = []
    for type_ in (NIC, GATEWAY, BASTION):
        for rec in w.referrers(subnet_key, type_):
            for cfg in rec["body"]["properties"].get("ipConfigurations", []):
                sid = ref_id(cfg.get("properties", {}).get("subnet"))
                if sid and sid.lower() == subnet_key.lower():
                    users.append((f"{rec['id']}/ipConfigurations/{cfg['name']}", rec))
    return users


def gateway_in_vnet(w: World, vnet_id: str) -> Record | None:
    """The VPN gateway whose GatewaySubnet lies in a VNet, if any."""
    prefix = vnet_id.lower() + "/subnets/"
    for subnet in w.select(SUBNET, parent=vnet_id):
        for rec in w.referrers(subnet["id"], GATEWAY):
            for cfg in rec["body"]["properties"].get("ipConfigurations", []):
                sid = ref_id(cfg.get("properties", {}).get("subnet")) or ""
                if sid.lower().startswith(prefix):
                    return rec
    return None


def _subnet_id(vnet_id: str, name: str) -> str:
    return f"{vnet_id}/subnets/{name}"


# ------------------------------------------------------------- virtual networks


class VirtualNetwork(Kind):
    type = VNET
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
            sid = _subnet_id(rec["id"], sub["name"])
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
        props["subnets"] = [render_child(w, s) for s in w.select(SUBNET, parent=rec["id"])]
        props["virtualNetworkPeerings"] = [
            render_child(w, p) for p in w.select(PEERING, parent=rec["id"])
        ]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        for sub in w.select(SUBNET, parent=rec["id"]):
            users = ip_configuration_users(w, sub["id"])
            if users:
                raise errors.InUseSubnetCannotBeDeleted(sub["id"], users[0][0])


def new_child(parent: Record, type_: str, name: str) -> Record:
    rid = parse_id(f"{parent['id']}/{type_.rsplit('/', 1)[1]}/{name}")
    assert rid is not None
    return new_record(rid, None)


def render_child(w: World, rec: Record) -> Body:
    from hubvpn.emulator.resources import render_resource

    return render_resource(w, rec)


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
    has_location = False

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        parent = rid.parent
        assert parent is not None
        vnet = w.get(str(parent))
        if vnet is None:
            raise errors.ResourceNotFound(VNET, parent.name, rid.group)
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


# ------------------------------------------------------------------ peerings


class VirtualNetworkPeering(Kind):
    type = PEERING
    has_location = False
    create_s = 10.0
    update_s = 10.0
    delete_s = 10.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        parent = rid.parent
        assert parent is not None
        vnet = w.get(str(parent))
        if vnet is None:
            raise errors.ResourceNotFound(VNET, parent.name, rid.group)
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
        remote = w.get(props["remoteVirtualNetwork"]["id"])
        back = reverse_peering(w, rec["parent"], props["remoteVirtualNetwork"]["id"])
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


def reverse_peering(w: World, vnet_id: str, remote_id: str) -> Record | None:
    for peering in w.select(PEERING, parent=remote_id):
        target = peering["body"]["properties"]["remoteVirtualNetwork"]["id"]
        if target.lower() == vnet_id.lower():
            return peering
    return None


# ---------------------------------------------------------------- public IPs


class PublicIPAddress(Kind):
    type = PUBLIC_IP

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        sku = expect_type(body.get("sku", {"name": "Basic"}), dict, "sku") or {"name": "Basic"}
        sku_name = sku.get("name", "Basic")
        if sku_name not in ("Basic", "Standard"):
            raise errors.InvalidRequestBody(
                f"Public IP SKU '{sku_name}' is not Basic or Standard.", target="sku.name"
            )
        method = props.get(
            "publicIPAllocationMethod", "Dynamic" if sku_name == "Basic" else "Static"
        )
        if method not in ("Static", "Dynamic"):
            raise errors.InvalidRequestBody(
                f"publicIPAllocationMethod '{method}' is invalid.",
                target="properties.publicIPAllocationMethod",
            )
        if sku_name == "Standard" and method != "Static":
            raise errors.PublicIpMustBeStatic(str(rid))
        zones = expect_type(body.get("zones", []), list, "zones") or []
        check_zones(rid, zones, str(body.get("location")))
        if old is not None:
            if old["body"]["sku"]["name"] != sku_name:
                raise errors.PropertyChangeNotAllowed("sku")
            if sorted(old["body"].get("zones", [])) != sorted(zones):
                raise errors.PropertyChangeNotAllowed("zones")
        props = {
            k: v
            for k, v in props.items()
            if k not in ("ipAddress", "ipConfiguration", "provisioningState", "resourceGuid")
        }
        props["publicIPAllocationMethod"] = method
        props.setdefault("publicIPAddressVersion", "IPv4")
        props.setdefault("idleTimeoutInMinutes", 4)
        props["ipAddress"] = (
            old["body"]["properties"]["ipAddress"]
            if old is not None
            else allocate_public_ip(w, str(rid))
        )
        out: Body = {
            "properties": props,
            "sku": {"name": sku_name, "tier": sku.get("tier", "Regional")},
        }
        if zones:
            out["zones"] = [str(z) for z in zones]
        return out

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        props.setdefault("ipTags", [])  # Azure always lists them
        if out.get("sku", {}).get("name") == "Standard":  # as recorded (bastion suite)
            props.setdefault("ddosSettings", {"protectionMode": "VirtualNetworkInherited"})
        dns = props.get("dnsSettings")
        if isinstance(dns, dict) and dns.get("domainNameLabel"):
            dns["fqdn"] = f"{dns['domainNameLabel']}.{rec['location']}.cloudapp.azure.com"
        user = public_ip_user(w, rec["id"])
        if user is not None:
            out["properties"]["ipConfiguration"] = {"id": user}
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        user = public_ip_user(w, rec["id"])
        if user is not None:
            raise errors.PublicIPAddressCannotBeDeleted(rec["id"], user)


def check_zones(rid: ResourceId, zones: list[Any], location: str) -> None:
    """Zonal resources only where the region has zones (regions.py), and only its zones."""
    if not zones:
        return
    if regions.has_zones(location) is False:
        raise errors.LocationNotSupportAvailabilityZones(rid.type, rid.name, location)
    for zone in zones:
        if str(zone) not in regions.ZONES:
            raise errors.InvalidAvailabilityZone(str(zone), rid.type, rid.name, location)


def allocate_public_ip(w: World, rid: str) -> str:
    """A stable, unique address in Azure's 20.0.0.0/8 (never contacted)."""
    digest = int(hashlib.sha256(rid.lower().encode()).hexdigest(), 16)
    for attempt in range(1 << 16):
        n = (digest + attempt * 7919) % (1 << 24)
        address = str(ipaddress.IPv4Address((20 << 24) + n))
        if w.tx.address_holder(address) is None and not address.endswith((".0", ".255")):
            return address
    raise errors.InternalServerError()


def public_ip_user(w: World, ip_id: str) -> str | None:
    for type_ in (GATEWAY, BASTION, NIC):
        for rec in w.referrers(ip_id, type_):
            for cfg in rec["body"]["properties"].get("ipConfigurations", []):
                pid = ref_id(cfg.get("properties", {}).get("publicIPAddress"))
                if pid and pid.lower() == ip_id.lower():
                    return f"{rec['id']}/ipConfigurations/{cfg['name']}"
    return None


# ------------------------------------------------------- security groups


def default_security_rules(nsg_id: str) -> list[Body]:
    def rule(
        name: str,
        direction: str,
        priority: int,
        source: str,
        dest: str,
        access: str,
        description: str,
    ) -> Body:
        return {
            "name": name,
            "id": f"{nsg_id}/defaultSecurityRules/{name}",
            "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
            "properties": {
                "description": description,
                "protocol": "*",
                "sourcePortRange": "*",
                "destinationPortRange": "*",
                "sourceAddressPrefix": source,
                "destinationAddressPrefix": dest,
                "access": access,
                "priority": priority,
                "direction": direction,
                "provisioningState": "Succeeded",
            },
        }

    return [
        rule(
            "AllowVnetInBound",
            "Inbound",
            65000,
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            "Allow inbound traffic from all VMs in VNET",
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            "Inbound",
            65001,
            "AzureLoadBalancer",
            "*",
            "Allow",
            "Allow inbound traffic from azure load balancer",
        ),
        rule("DenyAllInBound", "Inbound", 65500, "*", "*", "Deny", "Deny all inbound traffic"),
        rule(
            "AllowVnetOutBound",
            "Outbound",
            65000,
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            "Allow outbound traffic from all VMs to all VMs in VNET",
        ),
        rule(
            "AllowInternetOutBound",
            "Outbound",
            65001,
            "*",
            "Internet",
            "Allow",
            "Allow outbound traffic from all VMs to Internet",
        ),
        rule("DenyAllOutBound", "Outbound", 65500, "*", "*", "Deny", "Deny all outbound traffic"),
    ]


class NetworkSecurityGroup(Kind):
    type = NSG

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        rules = expect_type(props.get("securityRules", []), list, "properties.securityRules") or []
        priorities: set[tuple[str, int]] = set()
        for i, r in enumerate(rules):
            expect_type(r, dict, f"properties.securityRules[{i}]")
            if not isinstance(r.get("name"), str) or not r["name"]:
                raise errors.InvalidRequestBody(
                    f"Security rule {i} needs a name.", target=f"properties.securityRules[{i}].name"
                )
            rp = expect_type(r.get("properties", {}), dict, f"properties.securityRules[{i}]") or {}
            prio = expect_type(rp.get("priority"), int, f"properties.securityRules[{i}].priority")
            if prio is None or not 100 <= prio <= 4096:
                raise errors.InvalidRequestBody(
                    f"Security rule {r.get('name')} has invalid priority {prio}: 100..4096."
                )
            direction = rp.get("direction")
            if direction not in ("Inbound", "Outbound"):
                raise errors.InvalidRequestBody(f"Security rule {r.get('name')} direction invalid.")
            if (direction, prio) in priorities:
                raise errors.InvalidRequestBody(
                    f"Security rule {r.get('name')} has the same priority and direction as "
                    "another rule."
                )
            priorities.add((direction, prio))
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "defaultSecurityRules",
                "provisioningState",
                "resourceGuid",
                "subnets",
                "networkInterfaces",
            )
        }
        keep["securityRules"] = rules
        return {"properties": keep}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        props["securityRules"] = [
            {
                **rule,
                "id": f"{rec['id']}/securityRules/{rule['name']}",
                "type": "Microsoft.Network/networkSecurityGroups/securityRules",
                "properties": {**rule.get("properties", {}), "provisioningState": "Succeeded"},
            }
            for rule in props.get("securityRules", [])
        ]
        props["defaultSecurityRules"] = default_security_rules(rec["id"])
        for rule in props["defaultSecurityRules"]:  # as recorded (NSG suite, tests/recorded/)
            rule["etag"] = rec["etag"]
            for field in (
                "sourcePortRanges",
                "destinationPortRanges",
                "sourceAddressPrefixes",
                "destinationAddressPrefixes",
            ):
                rule["properties"].setdefault(field, [])
        users = subnets_using(w, "networkSecurityGroup", rec["id"])
        if users:
            props["subnets"] = [{"id": s} for s in users]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        users = subnets_using(w, "networkSecurityGroup", rec["id"])
        if users:
            raise errors.InUseNetworkSecurityGroupCannotBeDeleted(rec["id"], users[0])


def subnets_using(w: World, field: str, rid: str) -> list[str]:
    found = []
    for sub in w.referrers(rid, SUBNET):
        target = ref_id(sub["body"]["properties"].get(field))
        if target and target.lower() == rid.lower():
            found.append(sub["id"])
    return found


# ------------------------------------------------------------- route tables


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
            render_child(w, r) for r in w.select(ROUTE, parent=rec["id"])
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
    has_location = False

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        parent = rid.parent
        assert parent is not None
        if w.get(str(parent)) is None:
            raise errors.ResourceNotFound(ROUTE_TABLE, parent.name, rid.group)
        return {"properties": check_route(props_of(body, self.type), rid.name)}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        # As recorded (go armnetwork TestRouteTableTestSuite): no BGP route overrides this.
        out["properties"].setdefault("hasBgpOverride", False)
        return out


# --------------------------------------------------------- network interfaces


class NetworkInterface(Kind):
    type = NIC

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        configs = expect_type(props.get("ipConfigurations"), list, "properties.ipConfigurations")
        if not configs:
            raise errors.InvalidRequestBody(
                "A network interface needs at least one IP configuration.",
                target="properties.ipConfigurations",
            )
        out_configs = []
        old_ips = {}
        if old is not None:
            old_ips = {
                c["name"].lower(): c["properties"].get("privateIPAddress")
                for c in old["body"]["properties"]["ipConfigurations"]
            }
        primary_subnet: Record | None = None
        taken: set[ipaddress.IPv4Address] = set()  # addresses of this NIC's earlier configs
        for i, cfg in enumerate(configs):
            expect_type(cfg, dict, f"properties.ipConfigurations[{i}]")
            name = cfg.get("name") or f"ipconfig{i + 1}"
            cprops = dict(
                expect_type(
                    cfg.get("properties", {}), dict, f"properties.ipConfigurations[{i}].properties"
                )
                or {}
            )
            if cprops.get("subnet") is None and primary_subnet is not None:
                subnet = primary_subnet  # a secondary configuration shares the primary's subnet
            else:
                subnet = w.reference(cprops.get("subnet"), str(rid), kind=SUBNET)
            primary_subnet = primary_subnet or subnet
            if subnet["name"].lower() == "gatewaysubnet":
                raise errors.GatewaySubnet()
            w.succeeded(subnet, str(rid))
            vnet = w.get(subnet["parent"])
            if vnet is not None and vnet.get("location") != body.get("location"):
                raise errors.InvalidResourceReference(subnet["id"], f"{rid} (other region)")
            method = cprops.get("privateIPAllocationMethod", "Dynamic")
            length = expect_type(
                cprops.get("privateIPAddressPrefixLength"),
                int,
                f"properties.ipConfigurations[{i}].properties.privateIPAddressPrefixLength",
            )
            address = (
                cprops.get("privateIPAddress") if method == "Static" else old_ips.get(name.lower())
            )
            if length is not None:
                address = assign_private_prefix(w, subnet, str(rid), length, address, taken)
            else:
                address = assign_private_ip(w, subnet, str(rid), address, taken)
            taken.update(ipaddress.IPv4Network(address, strict=False))
            cprops = {k: v for k, v in cprops.items() if k != "provisioningState"}
            cprops.update(
                {
                    "subnet": {"id": subnet["id"]},
                    "privateIPAddress": address,
                    "privateIPAllocationMethod": method,
                    "privateIPAddressVersion": "IPv4",
                    "primary": i == 0,
                }
            )
            if cprops.get("publicIPAddress") is not None:
                w.reference(cprops["publicIPAddress"], str(rid), kind=PUBLIC_IP)
            out_configs.append(
                {
                    "name": name,
                    "id": f"{rid}/ipConfigurations/{name}",
                    "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                    "properties": cprops,
                }
            )
        if props.get("networkSecurityGroup") is not None:
            w.reference(props["networkSecurityGroup"], str(rid), kind=NSG)
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "ipConfigurations",
                "provisioningState",
                "resourceGuid",
                "virtualMachine",
                "macAddress",
                "primary",
            )
        }
        keep["ipConfigurations"] = out_configs
        keep.setdefault("enableAcceleratedNetworking", False)
        keep.setdefault("enableIPForwarding", False)
        return {"properties": keep}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        for cfg in props["ipConfigurations"]:
            cfg["etag"] = rec["etag"]
            cfg["type"] = f"{NIC}/ipConfigurations"
            cfg["properties"]["provisioningState"] = "Succeeded"
        for field, value in NIC_COMPUTED.items():  # as recorded Azure shows them
            props.setdefault(field, copy.deepcopy(value))
        dns = props.setdefault("dnsSettings", {})
        dns.setdefault("dnsServers", [])
        dns.setdefault("appliedDnsServers", list(dns["dnsServers"]))
        dns.setdefault(
            "internalDomainNameSuffix",
            f"{rec['guid'].replace('-', '')[:26]}.dx.internal.cloudapp.net",
        )
        out["kind"] = "Regular"
        vm = vm_of_nic(w, rec["id"])
        if vm is not None:
            props["virtualMachine"] = {"id": vm["id"]}
            props["primary"] = True
            props["macAddress"] = "00-22-48-" + "-".join(
                rec["guid"].replace("-", "")[i : i + 2].upper() for i in (0, 2, 4)
            )
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        vm = vm_of_nic(w, rec["id"])
        if vm is not None:
            raise errors.NicInUse(rec["id"], vm["id"])


# Fields Azure fills in on every network interface it returns (recording: go armnetwork
# TestNetworkInterfaceTestSuite, tests/recorded/).
NIC_COMPUTED: dict[str, Any] = {
    "vnetEncryptionSupported": False,
    "disableTcpStateTracking": False,
    "hostedWorkloads": [],
    "tapConfigurations": [],
    "nicType": "Standard",
    "allowPort25Out": True,
    "auxiliaryMode": "None",
    "auxiliarySku": "None",
}


def vm_of_nic(w: World, nic_id: str) -> Record | None:
    for vm in w.referrers(nic_id, VM):
        for ref in vm["body"]["properties"].get("networkProfile", {}).get("networkInterfaces", []):
            if str(ref.get("id", "")).lower() == nic_id.lower():
                return vm
    return None


def used_private_addresses(w: World, subnet: Record, owner: str) -> set[ipaddress.IPv4Address]:
    """Addresses others hold in a subnet (a configuration may hold a prefix: x.x.x.16/28)."""
    used: set[ipaddress.IPv4Address] = set()
    for _cfg_id, rec in ip_configuration_users(w, subnet["id"]):
        if rec["id"].lower() == owner.lower():
            continue
        for cfg in rec["body"]["properties"].get("ipConfigurations", []):
            if cfg.get("properties", {}).get("privateIPAddress"):
                used.update(
                    ipaddress.IPv4Network(cfg["properties"]["privateIPAddress"], strict=False)
                )
    return used


def assign_private_prefix(
    w: World,
    subnet: Record,
    owner: str,
    length: int,
    kept: str | None,
    taken: set[ipaddress.IPv4Address],
) -> str:
    """privateIPAddressPrefixLength: the first aligned free block, e.g. 172.20.2.16/28."""
    net = subnet_prefix(subnet)
    if not net.prefixlen <= length <= 32:
        raise errors.InvalidRequestBody(
            f"privateIPAddressPrefixLength {length} does not fit subnet {net}.",
            target="privateIPAddressPrefixLength",
        )
    if kept is not None and "/" in kept and ipaddress.IPv4Network(kept).prefixlen == length:
        return kept
    unavailable = used_private_addresses(w, subnet, owner) | taken
    unavailable.update(net.network_address + i for i in range(4))
    unavailable.add(net.broadcast_address)
    for block in net.subnets(new_prefix=length):
        if not any(address in unavailable for address in block):
            return str(block)
    raise errors.SubnetIsFull(subnet["id"])


def assign_private_ip(
    w: World,
    subnet: Record,
    owner: str,
    wanted: str | None,
    taken: set[ipaddress.IPv4Address] | None = None,
) -> str:
    """Azure reserves the first four addresses and the last: the first free is x.x.x.4."""
    net = subnet_prefix(subnet)
    used = {str(a) for a in used_private_addresses(w, subnet, owner) | (taken or set())}
    if wanted is not None and "/" in wanted:
        wanted = None  # a former prefix configuration becomes a single address
    if wanted is not None:
        try:
            address = ipaddress.IPv4Address(wanted)
        except ValueError:
            raise errors.PrivateIPAddressNotInSubnet(str(wanted), str(net)) from None
        if (
            address not in net
            or int(address) - int(net.network_address) < 4
            or address == net.broadcast_address
        ):
            raise errors.PrivateIPAddressNotInSubnet(str(wanted), str(net))
        if str(address) in used:
            raise errors.PrivateIPAddressInUse(str(address))
        return str(address)
    for offset in range(4, net.num_addresses - 1):
        candidate = str(net.network_address + offset)
        if candidate not in used:
            return candidate
    raise errors.SubnetIsFull(subnet["id"])


# ------------------------------------------------------------ bastion hosts


class BastionHost(Kind):
    type = BASTION
    create_s = 600.0
    update_s = 300.0
    delete_s = 300.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        sku = (expect_type(body.get("sku", {"name": "Standard"}), dict, "sku") or {}).get(
            "name", "Standard"
        )
        if sku not in ("Developer", "Basic", "Standard", "Premium"):
            raise errors.InvalidRequestBody(f"Bastion SKU '{sku}' is invalid.", target="sku.name")
        configs = expect_type(props.get("ipConfigurations"), list, "properties.ipConfigurations")
        if not configs:
            raise errors.InvalidRequestBody("A Bastion host needs one IP configuration.")
        cfg = configs[0]
        cprops = cfg.get("properties", {})
        subnet = w.reference(cprops.get("subnet"), str(rid), kind=SUBNET)
        if subnet["name"] != "AzureBastionSubnet":
            raise errors.BastionSubnetRequired(subnet["id"])
        if subnet_prefix(subnet).prefixlen > 26:
            raise errors.AzureBastionSubnetTooSmall(str(subnet_prefix(subnet)))
        w.succeeded(subnet, str(rid))
        pip = w.reference(cprops.get("publicIPAddress"), str(rid), kind=PUBLIC_IP)
        w.succeeded(pip, str(rid))
        if pip["body"]["sku"]["name"] != "Standard":
            raise errors.InvalidRequestBody(
                f"Bastion needs a Standard public IP; {pip['id']} is Basic."
            )
        user = public_ip_user(w, pip["id"])
        if user is not None and not user.lower().startswith(str(rid).lower()):
            raise errors.InvalidRequestBody(f"Public IP {pip['id']} is already used by {user}.")
        name = cfg.get("name") or "IpConf"
        keep = {
            k: v
            for k, v in props.items()
            if k not in ("ipConfigurations", "provisioningState", "dnsName")
        }
        keep["ipConfigurations"] = [
            {
                "name": name,
                "id": f"{rid}/bastionHostIpConfigurations/{name}",
                "type": "Microsoft.Network/bastionHosts/bastionHostIpConfigurations",
                "properties": {
                    "subnet": {"id": subnet["id"]},
                    "publicIPAddress": {"id": pip["id"]},
                    "privateIPAllocationMethod": "Dynamic",
                },
            }
        ]
        keep.setdefault("scaleUnits", 2)
        for flag in (  # BastionHostPut.json answers every feature flag, false by default
            "disableCopyPaste",
            "enableTunneling",
            "enableIpConnect",
            "enableShareableLink",
            "enableKerberos",
            "enableSessionRecording",
            "enablePrivateOnlyBastion",
        ):
            keep[flag] = bool(expect_type(keep.get(flag, False), bool, f"properties.{flag}"))
        return {"properties": keep, "sku": {"name": sku}}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        out["properties"]["dnsName"] = f"bst-{rec['guid']}.bastion.azure.com"
        for cfg in out["properties"].get("ipConfigurations", []):  # as recorded (bastion suite)
            cfg["etag"] = rec["etag"]
            cfg.setdefault("properties", {})["provisioningState"] = "Succeeded"
        return out
