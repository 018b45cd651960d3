"""Microsoft.Network VPN: virtual network gateways, local network gateways, connections.

Gateway rules (azure-facts.md "VPN gateways"): GatewaySubnet only, /29 or
larger; Standard static public IP, zonal for AZ SKUs; no new non-AZ VpnGw1-5;
Basic has no BGP; ASNs reserved by Azure or IANA refused. Azure computes the
BGP peering address (last usable address of GatewaySubnet, active-standby) and
the instance addresses. Connection status, BGP and routes come from
``physics`` (the routing model over what the emulator holds).
"""

from __future__ import annotations

import copy
import ipaddress
import secrets
import string
from typing import Any, ClassVar

from hubvpn.emulator import errors, physics
from hubvpn.emulator.arm import (
    Action,
    Body,
    Kind,
    ResourceId,
    View,
    World,
    body_copy,
    expect_type,
    provisioning_state,
)
from hubvpn.emulator.resources.common import props_of, ref_id, subnet_prefix
from hubvpn.emulator.resources.references import gateway_in_vnet, public_ip_user
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import CONNECTION, GATEWAY, LOCAL_GATEWAY, PUBLIC_IP, SUBNET

AZ_SKUS = ("VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ")
NON_AZ_SKUS = ("VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5")
LEGACY_SKUS = ("Basic", "Standard", "HighPerformance")
ALL_SKUS = AZ_SKUS + NON_AZ_SKUS + LEGACY_SKUS
# Microsoft Learn, about-gateway-skus ("Gateway SKUs by performance", 2026): which SKUs
# exist in which generation. VpnGw1(AZ) only in Generation1, VpnGw4-5(AZ) only in
# Generation2; the legacy SKUs predate generations (Generation1).
GENERATIONS = {
    "Generation1": frozenset(
        {"VpnGw1", "VpnGw2", "VpnGw3", "VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", *LEGACY_SKUS}
    ),
    "Generation2": frozenset(
        {"VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ"}
    ),
}


def gateway_generation(sku: str, asked: Any, old: Record | None) -> str:
    """The generation a gateway gets: the one asked if the SKU exists in it; when none is
    asked, the one it has, else Generation1 where the SKU exists there (Azure's default)."""
    if asked in (None, "None"):
        if old is not None:
            return str(old["body"]["properties"]["vpnGatewayGeneration"])
        return "Generation1" if sku in GENERATIONS["Generation1"] else "Generation2"
    if asked not in GENERATIONS:
        raise errors.InvalidRequestBody(
            f"vpnGatewayGeneration '{asked}' is invalid.",
            target="properties.vpnGatewayGeneration",
        )
    if sku not in GENERATIONS[asked]:
        raise errors.VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration(sku, asked)
    return str(asked)


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


def gateway_addresses(gateway_subnet: ipaddress.IPv4Network) -> tuple[str, tuple[str, str]]:
    """(BGP peering address, instance addresses) Azure assigns in a GatewaySubnet."""
    last_usable = gateway_subnet.broadcast_address - 1
    first = gateway_subnet.network_address + 4
    return str(last_usable), (str(first), str(first + 1))


# -------------------------------------------------------- gateway


def _bgp_status(w: World, rec: Record, body: Body) -> tuple[Body, float]:
    return {"value": physics.bgp_peer_status(w, rec)}, 10.0


def _learned(w: World, rec: Record, body: Body) -> tuple[Body, float]:
    return {"value": physics.learned_routes(w, rec)}, 10.0


def _advertised(w: World, rec: Record, body: Body) -> tuple[Body, float]:
    peer = body.get("_query", {}).get("peer")
    if not peer:
        raise errors.InvalidRequestBody("The 'peer' query parameter is required.", target="peer")
    return {"value": physics.advertised_routes(w, rec, str(peer))}, 10.0


class VirtualNetworkGateway(Kind):
    type = GATEWAY
    actions: ClassVar[dict[str, Action]] = {
        "getbgppeerstatus": _bgp_status,
        "getlearnedroutes": _learned,
        "getadvertisedroutes": _advertised,
    }
    create_s = 1800.0
    update_s = 1200.0
    delete_s = 600.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        for flag in ("enableBgp", "activeActive"):
            expect_type(props.get(flag), bool, f"properties.{flag}")
        gateway_type = props.get("gatewayType", "Vpn")
        if gateway_type not in ("Vpn", "ExpressRoute", "LocalGateway"):
            raise errors.InvalidRequestBody(
                f"gatewayType '{gateway_type}' is invalid.", target="properties.gatewayType"
            )
        if gateway_type != "Vpn":
            raise errors.InvalidRequestBody(
                f"gatewayType '{gateway_type}' is not supported by this emulator (only Vpn)."
            )
        vpn_type = props.get("vpnType", "RouteBased")
        if vpn_type not in ("RouteBased", "PolicyBased"):
            raise errors.InvalidRequestBody(
                f"vpnType '{vpn_type}' is invalid.", target="properties.vpnType"
            )
        sku = expect_type(props.get("sku"), dict, "properties.sku") or {}
        sku_name = sku.get("name")
        if sku_name not in ALL_SKUS:
            raise errors.InvalidGatewaySize(str(sku_name), ", ".join(AZ_SKUS))
        if sku_name in NON_AZ_SKUS and (
            old is None or old["body"]["properties"]["sku"]["name"] != sku_name
        ):
            raise errors.NonAzVpnGatewaySkuDeprecated(sku_name)
        generation = gateway_generation(sku_name, props.get("vpnGatewayGeneration"), old)
        enable_bgp = bool(props.get("enableBgp", False))
        active_active = bool(props.get("activeActive", False))
        if sku_name == "Basic" and enable_bgp:
            raise errors.BasicSkuDoesNotSupportBgp()
        if vpn_type == "PolicyBased" and enable_bgp:
            raise errors.InvalidRequestBody("A PolicyBased VPN gateway does not support BGP.")
        if old is not None:
            for immutable in ("gatewayType", "vpnType"):
                if old["body"]["properties"].get(immutable) != props.get(
                    immutable, {"gatewayType": "Vpn", "vpnType": "RouteBased"}[immutable]
                ):
                    raise errors.PropertyChangeNotAllowed(immutable)
        configs = expect_type(props.get("ipConfigurations"), list, "properties.ipConfigurations")
        wanted = 2 if active_active else 1
        if not configs or len(configs) != wanted:
            raise errors.InvalidRequestBody(
                f"A{'n active-active' if active_active else 'n active-standby'} VPN gateway needs "
                f"exactly {wanted} IP configuration(s); got {len(configs or [])}.",
                target="properties.ipConfigurations",
            )
        out_configs, subnet = self._ip_configurations(w, rid, configs, sku_name)
        vnet_id = subnet["parent"]
        existing = gateway_in_vnet(w, vnet_id)
        if existing is not None and existing["id"].lower() != str(rid).lower():
            raise errors.VpnGatewayAlreadyExistsInVnet(vnet_id, existing["id"])
        bgp = dict(expect_type(props.get("bgpSettings", {}), dict, "properties.bgpSettings") or {})
        asn = expect_type(bgp.get("asn", DEFAULT_GATEWAY_ASN), int, "properties.bgpSettings.asn")
        problem = asn_problem(int(asn), gateway=True)
        if problem:
            raise errors.InvalidBgpAsn(int(asn), problem)
        peering_address, instances = gateway_addresses(subnet_prefix(subnet))
        pip = w.get(out_configs[0]["properties"]["publicIPAddress"]["id"])
        assert pip is not None
        bgp_settings = {
            "asn": asn,
            "bgpPeeringAddress": peering_address,
            "peerWeight": int(bgp.get("peerWeight", 0)),
            "bgpPeeringAddresses": [
                {
                    "ipconfigurationId": out_configs[0]["id"],
                    "defaultBgpIpAddresses": [peering_address],
                    "customBgpIpAddresses": list(
                        (bgp.get("bgpPeeringAddresses") or [{}])[0].get("customBgpIpAddresses", [])
                    ),
                    "tunnelIpAddresses": [pip["body"]["properties"]["ipAddress"]],
                }
            ],
        }
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "ipConfigurations",
                "bgpSettings",
                "provisioningState",
                "resourceGuid",
                "inboundDnsForwardingEndpoint",
            )
        }
        keep.update(
            {
                "gatewayType": gateway_type,
                "vpnType": vpn_type,
                "sku": {"name": sku_name, "tier": sku_name, "capacity": 2},
                "enableBgp": enable_bgp,
                "activeActive": active_active,
                "ipConfigurations": out_configs,
                "bgpSettings": bgp_settings,
                "vpnGatewayGeneration": generation,
                "enablePrivateIpAddress": bool(props.get("enablePrivateIpAddress", False)),
                "disableIPSecReplayProtection": False,
                "enableBgpRouteTranslationForNat": False,
            }
        )
        if isinstance(keep.get("vpnClientConfiguration"), dict):
            keep["vpnClientConfiguration"] = _without_radius_secrets(keep["vpnClientConfiguration"])
        keep["_instances"] = list(instances)
        return {"properties": keep}

    def _ip_configurations(
        self, w: World, rid: ResourceId, configs: list[Any], sku: str
    ) -> tuple[list[Body], Record]:
        out: list[Body] = []
        subnet: Record | None = None
        for i, cfg in enumerate(configs):
            expect_type(cfg, dict, f"properties.ipConfigurations[{i}]")
            name = cfg.get("name") or "default"
            cprops = cfg.get("properties", {})
            sub = w.reference(cprops.get("subnet"), str(rid), kind=SUBNET)
            if sub["name"] != "GatewaySubnet":
                raise errors.VirtualNetworkGatewayMustUseGatewaySubnet(sub["id"])
            if subnet_prefix(sub).prefixlen > 29:
                raise errors.GatewaySubnetTooSmall(str(subnet_prefix(sub)))
            w.succeeded(sub, str(rid))
            subnet = sub
            pip = w.reference(cprops.get("publicIPAddress"), str(rid), kind=PUBLIC_IP)
            if pip["body"]["sku"]["name"] == "Basic" and sku != "Basic":
                raise errors.PublicIpWithBasicSkuNotAllowedOnVPNGateways(pip["id"])
            if sku in AZ_SKUS and not pip["body"].get("zones"):
                raise errors.VmssVpnGatewayPublicIpsMustHaveZonesConfigured(pip["id"], sku)
            w.succeeded(pip, str(rid))
            user = public_ip_user(w, pip["id"])
            if user is not None and not user.lower().startswith(str(rid).lower() + "/"):
                raise errors.InvalidRequestBody(f"Public IP {pip['id']} is already used by {user}.")
            out.append(
                {
                    "name": name,
                    "id": f"{rid}/ipConfigurations/{name}",
                    "properties": {
                        "privateIPAllocationMethod": "Dynamic",
                        "subnet": {"id": sub["id"]},
                        "publicIPAddress": {"id": pip["id"]},
                    },
                }
            )
        assert subnet is not None
        return out, subnet

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props.pop("_instances", None)
        props["resourceGuid"] = rec["guid"]
        for cfg in props["ipConfigurations"]:
            cfg["etag"] = rec["etag"]
            cfg["type"] = f"{GATEWAY}/ipConfigurations"
            cfg["properties"]["provisioningState"] = provisioning_state(rec)
        for field, value in GATEWAY_COMPUTED.items():  # as recorded Azure shows them
            props.setdefault(field, copy.deepcopy(value))
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        for conn in w.referrers(rec["id"], CONNECTION):
            if _same(conn, "virtualNetworkGateway1", rec["id"]):
                raise errors.InUseVirtualNetworkGatewayCannotBeDeleted(rec["id"], conn["id"])


# Fields Azure fills in on every gateway it returns, whatever the PUT sent
# (recording: go armnetwork TestVirtualNetworkGatewayTestSuite, tests/recorded/).
GATEWAY_COMPUTED: dict[str, Any] = {
    "packetCaptureDiagnosticState": "None",
    "isMigrateToCSES": False,
    "natRules": [],
    "virtualNetworkGatewayPolicyGroups": [],
    "allowRemoteVnetTraffic": False,
    "allowVirtualWanTraffic": False,
}


def _without_radius_secrets(config: Body) -> Body:
    """RADIUS secrets are write-only: Azure no longer returns them (spec: radiusServerSecret)."""
    out = {k: v for k, v in config.items() if k != "radiusServerSecret"}
    if isinstance(out.get("radiusServers"), list):
        out["radiusServers"] = [
            {k: v for k, v in server.items() if k != "radiusServerSecret"}
            if isinstance(server, dict)
            else server
            for server in out["radiusServers"]
        ]
    return out


def _same(conn: Record, field: str, rid: str) -> bool:
    target = ref_id(conn["body"]["properties"].get(field)) or ""
    return target.lower() == rid.lower()


# ------------------------------------------------ local network gateway


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
        for conn in w.referrers(rec["id"], CONNECTION):
            if _same(conn, "localNetworkGateway2", rec["id"]):
                raise errors.InUseLocalNetworkGatewayCannotBeDeleted(rec["id"], conn["id"])


# ------------------------------------------------------------- connections

_PRINTABLE = set(string.printable) - set("\t\n\r\x0b\x0c")


def check_shared_key(key: Any) -> str:
    if (
        not isinstance(key, str)
        or not 1 <= len(key) <= 128
        or not set(key) <= _PRINTABLE
        or key != key.strip()
    ):
        raise errors.InvalidSharedKey()
    return key


class Connection(Kind):
    type = CONNECTION
    create_s = 120.0
    update_s = 60.0
    delete_s = 60.0
    # As recorded (Azure/azure-sdk-assets, net/.../GatewayOperationsTests/
    # VirtualNetworkGatewayConnectionWithBgpTest.json): a GET carries sharedKey,
    # connectionStatus and the byte counters; a LIST carries the byte counters only;
    # the PUT's answer has no connectionStatus yet.
    omit: ClassVar[dict[View, tuple[str, ...]]] = {
        "list": ("sharedKey", "connectionStatus", "tunnelConnectionStatus"),
        "put": ("connectionStatus", "tunnelConnectionStatus"),
    }

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        ctype = props.get("connectionType")
        if ctype not in ("IPsec", "Vnet2Vnet", "ExpressRoute", "VPNClient"):
            raise errors.InvalidRequestBody(
                f"connectionType '{ctype}' is invalid.", target="properties.connectionType"
            )
        if ctype != "IPsec":
            raise errors.InvalidRequestBody(
                f"connectionType '{ctype}' is not supported by this emulator (only IPsec)."
            )
        expect_type(props.get("enableBgp"), bool, "properties.enableBgp")
        gateway = w.reference(props.get("virtualNetworkGateway1"), str(rid), kind=GATEWAY)
        lng = w.reference(props.get("localNetworkGateway2"), str(rid), kind=LOCAL_GATEWAY)
        w.succeeded(gateway, str(rid))
        w.succeeded(lng, str(rid))
        location = body.get("location")
        if gateway.get("location") != location or lng.get("location") != location:
            raise errors.ConnectionGatewaysInDifferentRegion(str(rid))
        if old is not None:
            for field in ("virtualNetworkGateway1", "localNetworkGateway2"):
                if not _same(old, field, (gateway if field.startswith("virtual") else lng)["id"]):
                    raise errors.PropertyChangeNotAllowed(field)
        enable_bgp = bool(props.get("enableBgp", False))
        # Azure accepts enableBgp on a gateway without BGP (no session comes up; recorded:
        # VirtualNetworkGatewayConnectionWithBgpTest, tests/recorded/).
        if enable_bgp and not lng["body"]["properties"].get("bgpSettings"):
            raise errors.InvalidRequestBody(
                f"Connection {rid} has enableBgp but local network gateway {lng['id']} has no "
                "bgpSettings."
            )
        protocol = props.get("connectionProtocol", "IKEv2")
        if protocol not in ("IKEv1", "IKEv2"):
            raise errors.InvalidRequestBody(f"connectionProtocol '{protocol}' is invalid.")
        if "sharedKey" in props and props["sharedKey"] is not None:
            check_shared_key(props["sharedKey"])
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "sharedKey",
                "provisioningState",
                "resourceGuid",
                "connectionStatus",
                "ingressBytesTransferred",
                "egressBytesTransferred",
                "tunnelConnectionStatus",
            )
        }
        keep.update(
            {
                "connectionType": ctype,
                "connectionProtocol": protocol,
                "enableBgp": enable_bgp,
                "virtualNetworkGateway1": {"id": gateway["id"]},
                "localNetworkGateway2": {"id": lng["id"]},
                "routingWeight": int(props.get("routingWeight", 0)),
                "usePolicyBasedTrafficSelectors": bool(
                    props.get("usePolicyBasedTrafficSelectors", False)
                ),
                "dpdTimeoutSeconds": int(props.get("dpdTimeoutSeconds", 45)),
                "connectionMode": props.get("connectionMode", "Default"),
                "useLocalAzureIpAddress": bool(props.get("useLocalAzureIpAddress", False)),
                "ipsecPolicies": list(props.get("ipsecPolicies") or []),
            }
        )
        keep["_sharedKey"] = props.get("sharedKey")
        return {"properties": keep}

    def after_put(self, w: World, rec: Record, old: Record | None) -> None:
        key = rec["body"]["properties"].pop("_sharedKey")
        if key is None and w.tx.get_secret(rec["id"]) is None:
            key = secrets.token_urlsafe(24)  # Azure generates one when none is given
        if key is not None:
            w.tx.put_secret(rec["id"], key)
        physics.schedule_tunnel(w, rec)

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        for ref in ("virtualNetworkGateway1", "localNetworkGateway2"):
            # The spec types these as full resources; Azure answers the id only (recorded:
            # VirtualNetworkGatewayConnectionWithBgpTest, tests/recorded/).
            props[ref] = {"id": props[ref]["id"]}
        for field, value in CONNECTION_COMPUTED.items():  # as recorded Azure shows them
            props.setdefault(field, copy.deepcopy(value))
        status = physics.connection_status(w, rec)
        props["sharedKey"] = w.tx.get_secret(rec["id"]) or ""
        props["connectionStatus"] = status
        props["ingressBytesTransferred"] = 0
        props["egressBytesTransferred"] = 0
        if status == "Connected":  # absent until a tunnel is up, as recorded
            props["tunnelConnectionStatus"] = [
                {
                    "tunnel": rec["name"],
                    "connectionStatus": "Connected",
                    "ingressBytesTransferred": 0,
                    "egressBytesTransferred": 0,
                }
            ]
        return out


# Fields Azure fills in on every IPsec connection it returns, whatever the PUT sent
# (recording: .NET VirtualNetworkGatewayConnectionWithBgpTest, tests/recorded/).
CONNECTION_COMPUTED: dict[str, Any] = {
    "packetCaptureDiagnosticState": "None",
    "trafficSelectorPolicies": [],
    "expressRouteGatewayBypass": False,
    "enablePrivateLinkFastPath": False,
    "gatewayCustomBgpIpAddresses": [],
}


class SharedKeyActions:
    """GET/PUT .../connections/{c}/sharedkey: the only place a key is readable."""

    @staticmethod
    def get(w: World, rec: Record) -> Body:
        key = w.tx.get_secret(rec["id"]) or ""
        return {"id": f"{rec['id']}/sharedkey", "value": key}

    @staticmethod
    def put(w: World, rec: Record, body: Body) -> Body:
        key = check_shared_key(body.get("value"))
        w.tx.put_secret(rec["id"], key)
        return {"id": f"{rec['id']}/sharedkey", "value": key}
