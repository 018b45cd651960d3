"""Microsoft.Network/localNetworkGateways: the on-premises side of a connection.

An address (IPv4) or FQDN; address prefixes, or BGP settings whose ASN Azure
accepts (no reserved ASN) and whose peering address is IPv4. In use by a
connection, it cannot be deleted.
"""

from __future__ import annotations

import ipaddress

from hubvpn.emulator import errors
from hubvpn.emulator.arm import Body, Kind, ResourceId, World, body_copy, expect_type
from hubvpn.emulator.resources.common import asn_problem, props_of
from hubvpn.emulator.resources.references import connection_using
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import LOCAL_GATEWAY


class LocalNetworkGateway(Kind):
    type = LOCAL_GATEWAY
    create_s = 30.0
    update_s = 30.0
    delete_s = 30.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        address = expect_type(props.get("gatewayIpAddress"), str, "properties.gatewayIpAddress")
        fqdn = props.get("fqdn")
        if not address and not fqdn:
            raise errors.InvalidRequestBody(
                "A local network gateway needs gatewayIpAddress or fqdn.",
                target="properties.gatewayIpAddress",
            )
        if address:
            try:
                ipaddress.IPv4Address(address)
            except ValueError:
                raise errors.InvalidRequestBody(
                    f"gatewayIpAddress '{address}' is not an IPv4 address.",
                    target="properties.gatewayIpAddress",
                ) from None
        space = (
            expect_type(
                props.get("localNetworkAddressSpace", {}),
                dict,
                "properties.localNetworkAddressSpace",
            )
            or {}
        )
        prefixes = (
            expect_type(
                space.get("addressPrefixes", []),
                list,
                "properties.localNetworkAddressSpace.addressPrefixes",
            )
            or []
        )
        for p in prefixes:
            try:
                ipaddress.IPv4Network(p, strict=True)
            except (ValueError, TypeError):
                raise errors.NetcfgInvalidAddressPrefix(str(p)) from None
        bgp = expect_type(props.get("bgpSettings"), dict, "properties.bgpSettings")
        if bgp is not None:
            asn = expect_type(bgp.get("asn"), int, "properties.bgpSettings.asn")
            if asn is None:
                raise errors.InvalidRequestBody(
                    "bgpSettings.asn is required.", target="properties.bgpSettings.asn"
                )
            problem = asn_problem(asn, gateway=False)
            if problem:
                raise errors.InvalidBgpAsn(asn, problem)
            peer = bgp.get("bgpPeeringAddress")
            try:
                ipaddress.IPv4Address(peer)
            except (ValueError, TypeError):
                raise errors.InvalidBgpPeeringAddress(str(peer), "not an IPv4 address") from None
        elif not prefixes:
            raise errors.InvalidRequestBody(
                "A local network gateway without BGP needs at least one address prefix.",
                target="properties.localNetworkAddressSpace",
            )
        keep = {k: v for k, v in props.items() if k not in ("provisioningState", "resourceGuid")}
        keep["localNetworkAddressSpace"] = {"addressPrefixes": list(prefixes)}
        if bgp is not None:
            keep["bgpSettings"] = {
                "asn": bgp["asn"],
                "bgpPeeringAddress": bgp["bgpPeeringAddress"],
                "peerWeight": int(bgp.get("peerWeight", 0)),
            }
        return {"properties": keep}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        out["properties"]["resourceGuid"] = rec["guid"]
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        conn = connection_using(w, "localNetworkGateway2", rec["id"])
        if conn is not None:
            raise errors.InUseLocalNetworkGatewayCannotBeDeleted(rec["id"], conn["id"])
