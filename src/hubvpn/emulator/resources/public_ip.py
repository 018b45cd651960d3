"""Microsoft.Network/publicIPAddresses: SKU, zones, allocated addresses."""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Any

from hubvpn import regions
from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
)
from hubvpn.emulator.resources.common import props_of
from hubvpn.emulator.resources.references import public_ip_user
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    PUBLIC_IP,
)


class PublicIPAddress(Kind):
    type = PUBLIC_IP
    put_hint_s = 1.0  # as recorded (tests/recorded/)

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
