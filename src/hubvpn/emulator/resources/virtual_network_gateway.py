"""Microsoft.Network/virtualNetworkGateways: the VPN gateway of a VNet.

Gateway rules (azure-facts.md "VPN gateways"): GatewaySubnet only, /29 or
larger; Standard static public IP, zonal for AZ SKUs; no new non-AZ VpnGw1-5;
Basic has no BGP; ASNs reserved by Azure or IANA refused. Azure computes the
BGP peering address (last usable address of GatewaySubnet, active-standby) and
the instance addresses. BGP peers and routes (POST actions) come from
``physics`` (the routing model over what the emulator holds).
"""

from __future__ import annotations

import copy
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
    provisioning_state,
)
from hubvpn.emulator.resources.common import (
    DEFAULT_GATEWAY_ASN,
    DedicatedSubnet,
    asn_problem,
    props_of,
    subnet_prefix,
)
from hubvpn.emulator.resources.references import (
    connection_using,
    gateway_in_vnet,
    public_ip_user,
)
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import GATEWAY, PUBLIC_IP

GATEWAY_SUBNET = DedicatedSubnet(
    "GatewaySubnet",
    29,
    errors.VirtualNetworkGatewayMustUseGatewaySubnet,
    errors.GatewaySubnetTooSmall,
)
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


def gateway_addresses(gateway_subnet: ipaddress.IPv4Network) -> tuple[str, tuple[str, str]]:
    """(BGP peering address, instance addresses) Azure assigns in a GatewaySubnet."""
    last_usable = gateway_subnet.broadcast_address - 1
    first = gateway_subnet.network_address + 4
    return str(last_usable), (str(first), str(first + 1))


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
        "getBgpPeerStatus": _bgp_status,
        "getLearnedRoutes": _learned,
        "getAdvertisedRoutes": _advertised,
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
            sub = GATEWAY_SUBNET.check(w, cprops.get("subnet"), rid)
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
        conn = connection_using(w, "virtualNetworkGateway1", rec["id"])
        if conn is not None:
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
