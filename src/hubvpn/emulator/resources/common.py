"""Helpers the network resource types share: properties, prefixes, references, children, ASNs."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Body,
    ResourceId,
    World,
    expect_type,
    new_record,
    parse_id,
)
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import SUBNET


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


def subnet_id(vnet_id: str, name: str) -> str:
    return f"{vnet_id}/subnets/{name}"


def parent_of(w: World, rid: ResourceId) -> Record:
    """A child resource's parent; ResourceNotFound (naming the parent) when it is absent."""
    parent = rid.parent
    assert parent is not None
    rec = w.get(str(parent))
    if rec is None:
        raise errors.ResourceNotFound(parent.type, parent.name, rid.group)
    return rec


@dataclass(frozen=True)
class DedicatedSubnet:
    """The subnet a service keeps for itself (a gateway's GatewaySubnet, a bastion's
    AzureBastionSubnet): its name, the longest prefix it may have, the errors for
    another subnet and for one too small."""

    name: str
    longest_prefix: int
    elsewhere: Callable[[str], errors.ArmError]
    too_small: Callable[[str], errors.ArmError]

    def check(self, w: World, ref: Any, rid: ResourceId) -> Record:
        """The subnet ``ref`` names for ``rid``: this one, large enough, Succeeded."""
        subnet = w.reference(ref, str(rid), kind=SUBNET)
        if subnet["name"] != self.name:
            raise self.elsewhere(subnet["id"])
        if subnet_prefix(subnet).prefixlen > self.longest_prefix:
            raise self.too_small(str(subnet_prefix(subnet)))
        w.succeeded(subnet, str(rid))
        return subnet


def new_child(parent: Record, type_: str, name: str) -> Record:
    rid = parse_id(f"{parent['id']}/{type_.rsplit('/', 1)[1]}/{name}")
    assert rid is not None
    return new_record(rid, None)


def render_child(w: World, rec: Record) -> Body:
    from hubvpn.emulator.resources import render_resource

    return render_resource(w, rec)


AZURE_RESERVED_ASNS = {8074, 8075, 12076, 65515, 65517, 65518, 65519, 65520}
IANA_RESERVED_ASN_RANGES = (
    (0, 0),
    (23456, 23456),
    (64496, 64511),
    (65535, 65551),
    (4294967295, 4294967295),
)
DEFAULT_GATEWAY_ASN = 65515


def asn_problem(asn: int, *, gateway: bool) -> str | None:
    """Why Azure refuses an ASN, or None. A gateway may keep Azure's default 65515."""
    if not 0 < asn < 4294967295:
        return "it is outside 1-4294967294"
    for low, high in IANA_RESERVED_ASN_RANGES:
        if low <= asn <= high:
            return "it is reserved by IANA"
    if asn in AZURE_RESERVED_ASNS and not (gateway and asn == DEFAULT_GATEWAY_ASN):
        return "it is reserved by Azure (8074, 8075, 12076, 65515, 65517-65520)"
    return None
