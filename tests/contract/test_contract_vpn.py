"""VPN gateways, local network gateways, connections and their actions, in raw HTTP.

NEX = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01/examples
NET = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from contract.armhttp import (
    MAX_POLLS,
    Arm,
    Group,
    assert_error,
    connect_hubs,
    create_hub,
    create_public_ip,
    create_vnet,
    gateway_body,
    pages,
    pause,
)

CENTRAL = "centralus"

# NEX/VirtualNetworkGatewayUpdate.json request body (ids rewritten per test; see below).
GATEWAY_EXAMPLE: dict[str, Any] = {
    "identity": {"type": "UserAssigned", "userAssignedIdentities": {}},
    "properties": {
        "ipConfigurations": [
            {
                "properties": {
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": "<GatewaySubnet>"},
                    "publicIPAddress": {"id": "<gwpip>"},
                },
                "name": "gwipconfig1",
            }
        ],
        "gatewayType": "Vpn",
        "vpnType": "RouteBased",
        "enableBgp": False,
        "activeActive": False,
        "enableHighBandwidthVpnGateway": False,
        "disableIPSecReplayProtection": False,
        "enableDnsForwarding": True,
        "natRules": [
            {
                "name": "natRule1",
                "id": "<vpngw>/natRules/natRule1",
                "properties": {
                    "type": "Static",
                    "mode": "EgressSnat",
                    "ipConfigurationId": "",
                    "internalMappings": [{"addressSpace": "10.10.0.0/24"}],
                    "externalMappings": [{"addressSpace": "50.0.0.0/24"}],
                },
            }
        ],
        "enableBgpRouteTranslationForNat": False,
        "sku": {"name": "VpnGw1", "tier": "VpnGw1"},
        "vpnClientConfiguration": {
            "vpnClientProtocols": ["OpenVPN"],
            "vpnClientRootCertificates": [],
            "vpnClientRevokedCertificates": [],
            "radiusServers": [
                {
                    "radiusServerAddress": "10.2.0.0",
                    "radiusServerScore": 20,
                    "radiusServerSecret": "radiusServerSecret",
                }
            ],
        },
        "bgpSettings": {"asn": 65515, "bgpPeeringAddress": "10.0.1.30", "peerWeight": 0},
        "customRoutes": {"addressPrefixes": ["101.168.0.6/32"]},
        "allowVirtualWanTraffic": False,
        "allowRemoteVnetTraffic": False,
    },
    "location": CENTRAL,
}


def gateway_example(g: Group, sku: str) -> dict[str, Any]:
    body = copy.deepcopy(GATEWAY_EXAMPLE)
    props = body["properties"]
    config = props["ipConfigurations"][0]["properties"]
    config["subnet"]["id"] = g.net("virtualNetworks/subnets", "vnet1", "GatewaySubnet")
    config["publicIPAddress"]["id"] = g.net("publicIPAddresses", "gwpip")
    props["natRules"][0]["id"] = g.net("virtualNetworkGateways", "vpngw") + "/natRules/natRule1"
    props["sku"] = {"name": sku, "tier": sku}
    return body


def example_network(g: Group) -> None:
    """vnet1 with a /27 GatewaySubnet (10.0.1.0/27: last usable 10.0.1.30, as in the example)."""
    create_vnet(g, "vnet1", "10.0.0.0/16", {"GatewaySubnet": "10.0.1.0/27"}, CENTRAL)
    create_public_ip(g, "gwpip", CENTRAL)


# ------------------------------------------------------------------ gateways


def test_virtual_network_gateway_example_with_an_az_sku(arm: Arm, rg: Group) -> None:
    # NEX/VirtualNetworkGatewayUpdate.json, sent whole (identity, natRules, OpenVPN client
    # configuration with a RADIUS secret, customRoutes) with sku VpnGw1AZ instead of VpnGw1
    # (azure-facts.md: no new non-AZ VpnGw1-5 since 1 Jan 2025). Response fields per the
    # example: ipConfigurations[].id/etag-free props, sku.capacity, bgpPeeringAddresses[]
    # (ipconfigurationId, defaultBgpIpAddresses, customBgpIpAddresses, tunnelIpAddresses),
    # and the RADIUS secret not returned.
    example_network(rg)
    path = rg.net("virtualNetworkGateways", "vpngw")
    request = gateway_example(rg, "VpnGw1AZ")
    put = arm.put(path, request)
    assert put.status_code == 201, put.text
    assert put.json()["properties"]["provisioningState"] == "Updating"
    assert "Azure-AsyncOperation" in put.headers
    body = arm.finish(put, path)
    assert body["id"] == path
    assert body["type"] == "Microsoft.Network/virtualNetworkGateways"
    assert body["location"] == CENTRAL
    assert body["etag"].startswith('W/"')
    props = body["properties"]
    assert props["provisioningState"] == "Succeeded"
    [config] = props["ipConfigurations"]
    assert config["name"] == "gwipconfig1"
    assert config["id"] == f"{path}/ipConfigurations/gwipconfig1"
    assert config["properties"]["provisioningState"] == "Succeeded"
    assert config["properties"]["privateIPAllocationMethod"] == "Dynamic"
    assert config["properties"]["subnet"]["id"].endswith("/subnets/GatewaySubnet")
    assert props["sku"]["name"] == props["sku"]["tier"] == "VpnGw1AZ"
    assert isinstance(props["sku"]["capacity"], int)
    for field in ("gatewayType", "vpnType", "enableBgp", "activeActive", "enableDnsForwarding"):
        assert props[field] == request["properties"][field]
    assert props["vpnGatewayGeneration"] in ("None", "Generation1", "Generation2")
    assert props["natRules"][0]["name"] == "natRule1"
    assert props["customRoutes"] == {"addressPrefixes": ["101.168.0.6/32"]}
    radius = props["vpnClientConfiguration"]["radiusServers"][0]
    assert radius == {"radiusServerAddress": "10.2.0.0", "radiusServerScore": 20}
    bgp = props["bgpSettings"]
    assert (bgp["asn"], bgp["bgpPeeringAddress"], bgp["peerWeight"]) == (65515, "10.0.1.30", 0)
    [peering] = bgp["bgpPeeringAddresses"]
    assert peering["ipconfigurationId"] == config["id"]
    assert peering["defaultBgpIpAddresses"] == ["10.0.1.30"]
    assert isinstance(peering["customBgpIpAddresses"], list)
    pip = arm.get(rg.net("publicIPAddresses", "gwpip")).json()
    assert peering["tunnelIpAddresses"] == [pip["properties"]["ipAddress"]]


def test_the_bgp_peering_address_is_the_last_usable_address_of_gateway_subnet(
    arm: Arm, rg: Group
) -> None:
    # azure-facts.md [O]: active-standby BGP address = last usable of GatewaySubnet (.30 of a
    # /27); NEX/VirtualNetworkGatewayUpdate.json shows it in bgpPeeringAddress and
    # bgpPeeringAddresses[].defaultBgpIpAddresses.
    gateway = create_hub(rg, "hub", 7, 65070)
    bgp = gateway["properties"]["bgpSettings"]
    assert bgp["asn"] == 65070
    assert bgp["bgpPeeringAddress"] == "10.7.255.30"
    assert bgp["bgpPeeringAddresses"][0]["defaultBgpIpAddresses"] == ["10.7.255.30"]
    assert is_guid_like(gateway["properties"]["resourceGuid"])


def is_guid_like(text: str) -> bool:
    return len(text) == 36 and text.count("-") == 4


def test_a_new_non_az_gateway_sku_is_refused(arm: Arm, rg: Group) -> None:
    # azure-facts.md "No new non-AZ VpnGw1-5 since 1 Jan 2025" (the example's own VpnGw1).
    example_network(rg)
    response = arm.put(rg.net("virtualNetworkGateways", "vpngw"), gateway_example(rg, "VpnGw1"))
    assert_error(response, 400, "NonAzVpnGatewaySkuDeprecated")


def test_a_basic_public_ip_on_a_vpn_gateway_is_refused(arm: Arm, rg: Group) -> None:
    # azure-facts.md [O]: 400 PublicIpWithBasicSkuNotAllowedOnVPNGateways.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"GatewaySubnet": "10.0.1.0/27"})
    arm.create(rg.net("publicIPAddresses", "basic"), {"location": "westeurope"})
    response = arm.put(
        rg.net("virtualNetworkGateways", "gw"), gateway_body(rg, "vnet1", "basic", 65010)
    )
    assert_error(response, 400, "PublicIpWithBasicSkuNotAllowedOnVPNGateways")


# ---------------------------------------------------- local network gateways


def test_local_network_gateway_create_example(arm: Arm, rg: Group) -> None:
    # NEX/LocalNetworkGatewayCreate.json: request location "Central US", response
    # "centralus"; the PUT answer shows provisioningState "Updating", resourceGuid, etag.
    request = {
        "properties": {
            "localNetworkAddressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "gatewayIpAddress": "11.12.13.14",
            "fqdn": "site1.contoso.com",
        },
        "location": "Central US",
    }
    path = rg.net("localNetworkGateways", "localgw")
    put = arm.put(path, request)
    assert put.status_code == 201, put.text
    answer = put.json()
    assert answer["location"] == CENTRAL
    assert answer["properties"]["provisioningState"] == "Updating"
    assert answer["etag"].startswith('W/"')
    assert is_guid_like(answer["properties"]["resourceGuid"])
    body = arm.finish(put, path)
    props = body["properties"]
    assert props["localNetworkAddressSpace"] == {"addressPrefixes": ["10.1.0.0/16"]}
    assert props["gatewayIpAddress"] == "11.12.13.14"


def test_a_bgp_local_network_gateway_needs_no_prefixes(arm: Arm, rg: Group) -> None:
    # azure-facts.md "A local network gateway used with BGP needs no address prefixes";
    # NET/virtualNetworkGateway.json LocalNetworkGatewayPropertiesFormat.bgpSettings.
    request = {
        "location": "westeurope",
        "properties": {
            "gatewayIpAddress": "203.0.113.7",
            "bgpSettings": {"asn": 65050, "bgpPeeringAddress": "10.1.255.254", "peerWeight": 0},
        },
    }
    body = arm.create(rg.net("localNetworkGateways", "onprem"), request)
    assert body["properties"]["bgpSettings"] == request["properties"]["bgpSettings"]
    assert body["properties"]["localNetworkAddressSpace"] == {"addressPrefixes": []}


# --------------------------------------------------------------- connections


def test_virtual_network_gateway_connection_create_example(arm: Arm, rg: Group) -> None:
    # NEX/VirtualNetworkGatewayConnectionCreate.json, sent whole (full gateway objects as
    # references, NAT rules, custom BGP addresses, certificate authentication, tunnel
    # properties). Response per the example, except references: answered as {"id"} only, as
    # recorded Azure does (tests/recorded/), where the example shows {"id", "properties": {}};
    # defaults useLocalAzureIpAddress false, ipsecPolicies [], bytes 0. The spec marks
    # sharedKey x-ms-secret, but Azure answers it in the PUT and in a GET, and the PUT's
    # answer has no connectionStatus yet (as recorded: azure-sdk-assets,
    # GatewayOperationsTests/VirtualNetworkGatewayConnectionWithBgpTest.json).
    example_network(rg)
    gateway = arm.create(rg.net("virtualNetworkGateways", "vpngw"), gateway_example(rg, "VpnGw1AZ"))
    lng_path = rg.net("localNetworkGateways", "localgw")
    lng_props = {
        "localNetworkAddressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
        "gatewayIpAddress": "198.51.100.14",
    }
    arm.create(lng_path, {"location": CENTRAL, "properties": lng_props})
    gw_id = gateway["id"]
    request = {
        "properties": {
            "virtualNetworkGateway1": {
                "properties": gateway_example(rg, "VpnGw1AZ")["properties"],
                "id": gw_id,
                "location": CENTRAL,
                "tags": {},
            },
            "localNetworkGateway2": {
                "properties": lng_props,
                "id": lng_path,
                "location": CENTRAL,
                "tags": {},
            },
            "ingressNatRules": [{"id": f"{gw_id}/natRules/natRule1"}],
            "egressNatRules": [{"id": f"{gw_id}/natRules/natRule2"}],
            "gatewayCustomBgpIpAddresses": [
                {
                    "ipConfigurationId": f"{gw_id}/ipConfigurations/default",
                    "customBgpIpAddress": "169.254.21.1",
                }
            ],
            "connectionType": "IPsec",
            "connectionProtocol": "IKEv2",
            "routingWeight": 0,
            "dpdTimeoutSeconds": 30,
            "sharedKey": "Abc123",
            "enableBgp": False,
            "usePolicyBasedTrafficSelectors": False,
            "ipsecPolicies": [],
            "trafficSelectorPolicies": [],
            "connectionMode": "Default",
            "authenticationType": "Certificate",
            "certificateAuthentication": {
                "outboundAuthCertificate": "https://customerKv.vault.azure.net/Certificates/c/v",
                "inboundAuthCertificateChain": ["MIIC+TCCAeGgAwIBAgIQFOJUqDaxV5xJcKpTKO..."],
                "inboundAuthCertificateSubjectName": "CN=rootCert.com",
            },
            "tunnelProperties": [
                {"tunnelIpAddress": "10.78.1.5", "bgpPeeringAddress": "10.78.1.17"}
            ],
        },
        "location": CENTRAL,
    }
    path = rg.net("connections", "connS2S")
    put = arm.put(path, request)
    assert put.status_code == 201, put.text
    answer = put.json()
    assert answer["properties"]["provisioningState"] == "Updating"
    assert answer["type"] == "Microsoft.Network/connections"
    body = arm.finish(put, path)
    props = body["properties"]
    assert props["virtualNetworkGateway1"] == {"id": gw_id}
    assert props["localNetworkGateway2"] == {"id": lng_path}
    expected = {
        "connectionType": "IPsec",
        "connectionProtocol": "IKEv2",
        "routingWeight": 0,
        "dpdTimeoutSeconds": 30,
        "enableBgp": False,
        "useLocalAzureIpAddress": False,
        "usePolicyBasedTrafficSelectors": False,
        "ipsecPolicies": [],
        "ingressBytesTransferred": 0,
        "egressBytesTransferred": 0,
        "connectionMode": "Default",
        "authenticationType": "Certificate",
    }
    assert {k: props[k] for k in expected} == expected
    assert props["ingressNatRules"] == request["properties"]["ingressNatRules"]
    assert props["tunnelProperties"] == request["properties"]["tunnelProperties"]
    assert props["connectionStatus"] in ("Unknown", "Connecting", "Connected", "NotConnected")
    assert props["sharedKey"] == answer["properties"]["sharedKey"] == "Abc123"
    assert "connectionStatus" not in answer["properties"]


def test_shared_key_set_and_get_examples(arm: Arm, rg: Group) -> None:
    # NEX/VirtualNetworkGatewayConnectionSetSharedKey.json (PUT .../sharedkey {"value":
    # "AzureAbc123"}, LRO azure-async-operation) and ...GetSharedKey.json (200 {"value"}).
    connect_hubs(rg)
    path = rg.net("connections", "hub1-to-hub2") + "/sharedkey"
    assert arm.get(path).json()["value"] == "contract-psk-1"
    put = arm.put(path, {"value": "AzureAbc123"})
    assert put.status_code in (200, 201), put.text
    assert put.json()["value"] == "AzureAbc123"
    assert arm.wait_async(put)["status"] == "Succeeded"
    got = arm.get(path)
    assert got.status_code == 200
    assert got.json()["value"] == "AzureAbc123"


def test_connections_list_and_status_connected(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json VirtualNetworkGatewayConnections_List (pageable) and
    # connectionStatus enum Unknown | Connecting | Connected | NotConnected; tunnel health in
    # tunnelConnectionStatus[] (TunnelConnectionHealth). As recorded
    # (VirtualNetworkGatewayConnectionWithBgpTest.json) the list carries the byte counters
    # but no sharedKey and no status: those come from a GET of each connection.
    connect_hubs(rg)
    listed = [c for page in pages(arm, rg.net("connections")) for c in page]
    assert sorted(c["name"] for c in listed) == ["hub1-to-hub2", "hub2-to-hub1"]
    for conn in listed:
        props = conn["properties"]
        assert not {"sharedKey", "connectionStatus", "tunnelConnectionStatus"} & set(props)
        assert (props["ingressBytesTransferred"], props["egressBytesTransferred"]) == (0, 0)
        got = arm.get(conn["id"]).json()["properties"]
        assert got["connectionStatus"] == "Connected"
        [tunnel] = got["tunnelConnectionStatus"]
        assert tunnel["connectionStatus"] == "Connected"


def test_mismatched_shared_keys_never_connect(arm: Arm, rg: Group) -> None:
    # azure-facts.md: Connection connectionStatus NotConnected when IKE fails (key mismatch).
    connect_hubs(rg)
    path = rg.net("connections", "hub1-to-hub2")
    put = arm.put(path + "/sharedkey", {"value": "a-different-key"})
    arm.wait_async(put)
    assert arm.get(path).json()["properties"]["connectionStatus"] == "NotConnected"


# ------------------------------------------------------------- BGP actions


def test_get_bgp_peer_status(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json VirtualNetworkGateways_GetBgpPeerStatus: POST, LRO
    # final-state-via location, 202 then 200 BgpPeerStatusListResult {value: BgpPeerStatus[]}.
    connect_hubs(rg)
    result = arm.action(rg.net("virtualNetworkGateways", "hub1-gw") + "/getBgpPeerStatus")
    [peer] = result["value"]
    assert set(peer) >= {
        "localAddress",
        "neighbor",
        "asn",
        "state",
        "connectedDuration",
        "routesReceived",
        "messagesSent",
        "messagesReceived",
    }
    assert (peer["localAddress"], peer["neighbor"]) == ("10.1.255.30", "10.2.255.30")
    assert peer["asn"] == 65020
    assert peer["state"] == "Connected"
    assert peer["routesReceived"] >= 1


def test_get_learned_routes(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json VirtualNetworkGateways_GetLearnedRoutes (POST, no body,
    # LRO location) -> GatewayRouteListResult {value: GatewayRoute[]}; azure-facts.md: own
    # routes origin "Network", routes from a peer "EBgp" with the peer's AS path.
    connect_hubs(rg)
    response = arm.post(rg.net("virtualNetworkGateways", "hub1-gw") + "/getLearnedRoutes")
    assert response.status_code == 202
    assert response.content == b""
    routes = arm.wait_location(response).json()["value"]
    for route in routes:
        assert set(route) >= {"localAddress", "network", "origin", "asPath", "weight"}
        ipaddress.IPv4Network(route["network"])
    by_network = {r["network"]: r for r in routes}
    assert by_network["10.1.0.0/16"]["origin"] == "Network"
    learned = by_network["10.2.0.0/16"]
    assert learned["origin"] == "EBgp"
    assert learned["asPath"] == "65020"
    assert learned["sourcePeer"] == "10.2.255.30"


def test_get_advertised_routes_needs_the_peer_query(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json VirtualNetworkGateways_GetAdvertisedRoutes: required
    # query parameter `peer`; the result is a GatewayRouteListResult.
    connect_hubs(rg)
    path = rg.net("virtualNetworkGateways", "hub1-gw") + "/getAdvertisedRoutes"
    assert arm.post(path).status_code == 400
    result = arm.action(path, query={"peer": "10.2.255.30"})
    networks = {r["network"]: r for r in result["value"]}
    assert "10.1.0.0/16" in networks
    assert networks["10.1.0.0/16"]["asPath"].startswith("65010")


def test_actions_on_a_missing_gateway_are_404(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json (default: CloudError); observed ResourceNotFound text.
    response = arm.post(rg.net("virtualNetworkGateways", "nope") + "/getLearnedRoutes")
    assert_error(response, 404, "ResourceNotFound")


# ------------------------------------------------- transient states (slow)


def test_a_connection_goes_connecting_then_connected(slow: Arm, arm: Arm, rg: Group) -> None:
    # azure-facts.md: "Connections take a few minutes (Connecting, then Connected)";
    # NEX/VirtualNetworkGatewayConnectionGet.json shows "connectionStatus": "Connecting";
    # NEX/VirtualNetworkGatewayConnectionCreate.json answers provisioningState "Updating".
    # As recorded (azure-facts.md "As recorded"), the tunnel lags the operation: Unknown
    # while and right after it provisions, then Connecting, then Connected.
    put = connect_hubs(rg, second=slow)  # 120 Azure s at speed 60: 2 s
    assert put.json()["properties"]["provisioningState"] == "Updating"
    path = rg.net("connections", "hub1-to-hub2")
    during = arm.get(path).json()["properties"]
    assert (during["provisioningState"], during["connectionStatus"]) == ("Updating", "Unknown")
    other = arm.get(rg.net("connections", "hub2-to-hub1")).json()["properties"]
    assert (other["provisioningState"], other["connectionStatus"]) == ("Succeeded", "Connecting")
    assert slow.wait_async(put)["status"] == "Succeeded"
    order = ["Unknown", "Connecting", "Connected"]
    seen = [order.index(during["connectionStatus"])]
    for _ in range(MAX_POLLS):
        response = arm.get(path)
        after = response.json()["properties"]
        seen.append(order.index(after["connectionStatus"]))
        if after["connectionStatus"] == "Connected":
            break
        pause(response)
    assert after["provisioningState"] == "Succeeded"
    assert seen == sorted(seen) and seen[-1] == 2


def test_a_gateway_update_shows_updating(slow_gateway: Arm, arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json VirtualNetworkGateways_CreateOrUpdate (200 on update,
    # LRO azure-async-operation); RPC async-api-reference.md: non-terminal provisioningState
    # in the PUT answer and in GETs until the operation ends; the etag changes.
    gateway = create_hub(rg, "hub", 1, 65010)
    path = gateway["id"]
    body = gateway_body(rg, "hub", "hub-ip", 65010)
    body["tags"] = {"change": "1"}
    put = slow_gateway.put(path, body)  # 1200 Azure s at speed 1200: 1 s
    assert put.status_code == 200, put.text
    assert put.json()["properties"]["provisioningState"] == "Updating"
    during = arm.get(path).json()
    assert during["properties"]["provisioningState"] == "Updating"
    assert during["properties"]["ipConfigurations"][0]["properties"]["provisioningState"] == (
        "Updating"
    )
    assert arm.get(put.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress"
    assert slow_gateway.wait_async(put)["status"] == "Succeeded"
    after = arm.get(path).json()
    assert after["properties"]["provisioningState"] == "Succeeded"
    assert after["tags"] == {"change": "1"}
    assert after["etag"] != gateway["etag"]
