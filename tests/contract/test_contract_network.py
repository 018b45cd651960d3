"""Microsoft.Network spec examples, sent as they are (ids rewritten to the test's group),
and the fields of the example responses checked on what the emulator answers.

  NEX = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01/examples
  NET = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from contract.armhttp import (
    LOCATION,
    Arm,
    Group,
    assert_error,
    create_hub,
    create_vnet,
    nic_body,
    pages,
)


def is_guid(text: str) -> bool:
    return str(uuid.UUID(text)) == text.lower()


def check_tracked(body: dict[str, Any], g: Group, type_: str, name: str, location: str) -> None:
    """The envelope every NEX response shows: ARM id, name, type, location, etag, state."""
    assert body["id"] == g.net(type_, name)
    assert body["name"] == name
    assert body["type"] == f"Microsoft.Network/{type_}"
    assert body["location"] == location
    assert body["etag"].startswith('W/"')
    assert body["properties"]["provisioningState"] in ("Succeeded", "Updating")


# ----------------------------------------------------------- virtual networks


def test_virtual_network_create_with_subnet_example(arm: Arm, rg: Group) -> None:
    # NEX/VirtualNetworkCreateSubnet.json (request and 201/200 response fields).
    request = {
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "test-1", "properties": {"addressPrefix": "10.0.0.0/24"}}],
        },
        "location": "eastus",
    }
    path = rg.net("virtualNetworks", "test-vnet")
    response = arm.put(path, request)
    assert response.status_code == 201, response.text
    check_tracked(response.json(), rg, "virtualNetworks", "test-vnet", "eastus")
    body = arm.finish(response, path)
    props = body["properties"]
    assert props["provisioningState"] == "Succeeded"
    assert props["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16"]}
    assert props["virtualNetworkPeerings"] == []
    assert is_guid(props["resourceGuid"])
    [subnet] = props["subnets"]
    assert subnet["id"] == rg.net("virtualNetworks/subnets", "test-vnet", "test-1")
    assert subnet["name"] == "test-1"
    assert subnet["properties"]["addressPrefix"] == "10.0.0.0/24"
    assert subnet["properties"]["provisioningState"] == "Succeeded"


def test_subnet_create_example_and_subnet_list(arm: Arm, rg: Group) -> None:
    # NEX/SubnetCreate.json (PUT .../subnets/subnet1, LRO, 201) and NEX/SubnetList.json.
    create_vnet(rg, "vnetname", "10.0.0.0/16", {})
    path = rg.net("virtualNetworks/subnets", "vnetname", "subnet1")
    response = arm.put(path, {"properties": {"addressPrefix": "10.0.0.0/16"}})
    assert response.status_code == 201, response.text
    assert "Azure-AsyncOperation" in response.headers
    body = arm.finish(response, path)
    assert body["id"] == path
    assert body["name"] == "subnet1"
    assert body["type"] == "Microsoft.Network/virtualNetworks/subnets"
    assert body["properties"]["addressPrefix"] == "10.0.0.0/16"
    assert "location" not in body  # a child resource has no location
    listed = arm.get(rg.net("virtualNetworks/subnets", "vnetname")).json()["value"]
    assert [s["id"] for s in listed] == [path]


def test_virtual_network_put_without_its_subnets_removes_them(arm: Arm, rg: Group) -> None:
    # azure-facts.md "PUT replaces the whole resource: a VNet PUT without its subnets tries to
    # delete them"; NET/virtualNetwork.json VirtualNetworks_CreateOrUpdate (full replace).
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"a": "10.0.1.0/24", "b": "10.0.2.0/24"})
    body = create_vnet(rg, "vnet1", "10.0.0.0/16", {"a": "10.0.1.0/24"})
    assert [s["name"] for s in body["properties"]["subnets"]] == ["a"]
    gone = arm.get(rg.net("virtualNetworks/subnets", "vnet1", "b"))
    assert gone.status_code == 404


def test_virtual_network_peering_create_example(arm: Arm, rg: Group) -> None:
    # NEX/VirtualNetworkPeeringCreate.json: request flags + remoteVirtualNetwork; response
    # peeringState "Initiated" (one side only), remoteAddressSpace and
    # remoteVirtualNetworkAddressSpace of the remote VNet (12.0.0.0/8 in the example).
    create_vnet(rg, "vnet1", "10.0.0.0/16", {})
    create_vnet(rg, "vnet2", "12.0.0.0/8", {})
    request = {
        "properties": {
            "allowVirtualNetworkAccess": True,
            "allowForwardedTraffic": True,
            "allowGatewayTransit": False,
            "useRemoteGateways": False,
            "remoteVirtualNetwork": {"id": rg.net("virtualNetworks", "vnet2")},
        }
    }
    path = rg.net("virtualNetworks/virtualNetworkPeerings", "vnet1", "peer")
    body = arm.create(path, request)
    assert body["id"] == path
    assert body["name"] == "peer"
    props = body["properties"]
    for flag, value in request["properties"].items():
        assert props[flag] == value
    assert props["peeringState"] == "Initiated"
    assert props["remoteAddressSpace"] == {"addressPrefixes": ["12.0.0.0/8"]}
    assert props["remoteVirtualNetworkAddressSpace"] == {"addressPrefixes": ["12.0.0.0/8"]}
    vnet = arm.get(rg.net("virtualNetworks", "vnet1")).json()
    assert [p["id"] for p in vnet["properties"]["virtualNetworkPeerings"]] == [path]


def test_peering_becomes_connected_once_both_sides_exist(arm: Arm, rg: Group) -> None:
    # NET/virtualNetwork.json VirtualNetworkPeeringState enum Initiated | Connected |
    # Disconnected; azure-facts.md "deleting one side leaves the other Disconnected".
    create_vnet(rg, "vnet1", "10.1.0.0/16", {})
    create_vnet(rg, "vnet2", "10.2.0.0/16", {})

    def peer(local: str, remote: str) -> str:
        path = rg.net("virtualNetworks/virtualNetworkPeerings", local, f"to-{remote}")
        remote_ref = {"id": rg.net("virtualNetworks", remote)}
        arm.create(path, {"properties": {"remoteVirtualNetwork": remote_ref}})
        return path

    one = peer("vnet1", "vnet2")
    two = peer("vnet2", "vnet1")
    for path in (one, two):
        props = arm.get(path).json()["properties"]
        assert props["peeringState"] == "Connected"
        assert props["peeringSyncLevel"] == "FullyInSync"
    arm.remove(two)
    assert arm.get(one).json()["properties"]["peeringState"] == "Disconnected"


# ----------------------------------------------------------------- public IPs


def test_public_ip_create_defaults_example(arm: Arm, rg: Group) -> None:
    # NEX/PublicIpAddressCreateDefaults.json: request {"location": "eastus"}; response sku
    # Basic, publicIPAllocationMethod Dynamic, idleTimeoutInMinutes 4, IPv4.
    body = arm.create(rg.net("publicIPAddresses", "test-ip"), {"location": "eastus"})
    check_tracked(body, rg, "publicIPAddresses", "test-ip", "eastus")
    assert body["sku"]["name"] == "Basic"
    props = body["properties"]
    assert props["publicIPAllocationMethod"] == "Dynamic"
    assert props["idleTimeoutInMinutes"] == 4
    assert props["publicIPAddressVersion"] == "IPv4"


def test_public_ip_create_customized_values_example(arm: Arm, rg: Group) -> None:
    # NEX/PublicIpAddressCreateCustomizedValues.json (Standard/Global, Static, idle 10); the
    # address itself is shown as in NEX/PublicIpAddressList.json ("ipAddress": "40.85.154.247").
    request = {
        "properties": {
            "publicIPAllocationMethod": "Static",
            "idleTimeoutInMinutes": 10,
            "publicIPAddressVersion": "IPv4",
        },
        "sku": {"name": "Standard", "tier": "Global"},
        "location": "eastus",
    }
    path = rg.net("publicIPAddresses", "test-ip")
    body = arm.create(path, request)
    assert body["sku"] == {"name": "Standard", "tier": "Global"}
    props = body["properties"]
    assert props["publicIPAllocationMethod"] == "Static"
    assert props["idleTimeoutInMinutes"] == 10
    address = ipaddress.IPv4Address(props["ipAddress"])
    assert address.is_global
    again = arm.create(path, request)  # a static address survives an update
    assert again["properties"]["ipAddress"] == props["ipAddress"]


def test_public_ip_in_use_cannot_be_deleted(arm: Arm, rg: Group) -> None:
    # azure-facts.md (observed): 400 PublicIPAddressCannotBeDeleted while still attached.

    create_hub(rg, "hub", 1, 65010)
    response = arm.delete(rg.net("publicIPAddresses", "hub-ip"))
    assert_error(response, 400, "PublicIPAddressCannotBeDeleted")
    ip = arm.get(rg.net("publicIPAddresses", "hub-ip")).json()
    gateway_config = rg.net("virtualNetworkGateways", "hub-gw") + "/ipConfigurations/default"
    assert ip["properties"]["ipConfiguration"] == {"id": gateway_config}


# ------------------------------------------------------------ security groups

DEFAULT_RULES = {  # NEX/NetworkSecurityGroupCreate.json defaultSecurityRules, verbatim
    "AllowVnetInBound": ("Inbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"),
    "AllowAzureLoadBalancerInBound": ("Inbound", 65001, "AzureLoadBalancer", "*", "Allow"),
    "DenyAllInBound": ("Inbound", 65500, "*", "*", "Deny"),
    "AllowVnetOutBound": ("Outbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"),
    "AllowInternetOutBound": ("Outbound", 65001, "*", "Internet", "Allow"),
    "DenyAllOutBound": ("Outbound", 65500, "*", "*", "Deny"),
}


def check_default_rules(body: dict[str, Any], nsg_id: str) -> None:
    rules = body["properties"]["defaultSecurityRules"]
    assert [r["name"] for r in rules] == list(DEFAULT_RULES)
    for rule in rules:
        p = rule["properties"]
        direction, priority, source, destination, access = DEFAULT_RULES[rule["name"]]
        assert rule["id"] == f"{nsg_id}/defaultSecurityRules/{rule['name']}"
        assert (p["direction"], p["priority"], p["access"]) == (direction, priority, access)
        assert (p["sourceAddressPrefix"], p["destinationAddressPrefix"]) == (source, destination)
        assert (p["protocol"], p["sourcePortRange"], p["destinationPortRange"]) == ("*",) * 3
        assert p["provisioningState"] == "Succeeded"
        assert p["description"]


def test_network_security_group_create_example(arm: Arm, rg: Group) -> None:
    # NEX/NetworkSecurityGroupCreate.json: request {"location": "eastus"}; response
    # securityRules [] and the six defaultSecurityRules.
    path = rg.net("networkSecurityGroups", "testnsg")
    body = arm.create(path, {"location": "eastus"})
    check_tracked(body, rg, "networkSecurityGroups", "testnsg", "eastus")
    assert body["properties"]["securityRules"] == []
    check_default_rules(body, path)
    assert is_guid(body["properties"]["resourceGuid"])


def test_network_security_group_create_with_rule_example(arm: Arm, rg: Group) -> None:
    # NEX/NetworkSecurityGroupCreateWithRule.json: rule1 (priority 130, Inbound, port 80)
    # answered with its id and provisioningState, plus the six default rules.
    rule = {
        "protocol": "*",
        "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*",
        "access": "Allow",
        "destinationPortRange": "80",
        "sourcePortRange": "*",
        "priority": 130,
        "direction": "Inbound",
    }
    request = {
        "properties": {"securityRules": [{"name": "rule1", "properties": rule}]},
        "location": "eastus",
    }
    path = rg.net("networkSecurityGroups", "testnsg")
    body = arm.create(path, request)
    [answered] = body["properties"]["securityRules"]
    assert answered["name"] == "rule1"
    assert answered["id"] == f"{path}/securityRules/rule1"
    assert answered["properties"] == {**rule, "provisioningState": "Succeeded"}
    check_default_rules(body, path)


def test_security_rules_with_the_same_priority_and_direction_are_400(arm: Arm, rg: Group) -> None:
    # NET/networkSecurityGroup.json SecurityRulePropertiesFormat.priority: "The priority
    # number must be unique for each rule in the collection" (100-4096).
    def rule(name: str) -> dict[str, Any]:
        props = {"protocol": "Tcp", "access": "Allow", "priority": 200, "direction": "Inbound"}
        return {"name": name, "properties": props}

    request = {"location": LOCATION, "properties": {"securityRules": [rule("a"), rule("b")]}}
    response = arm.put(rg.net("networkSecurityGroups", "nsg"), request)
    assert response.status_code == 400


# -------------------------------------------------------- route tables, routes


def test_route_table_create_with_route_example(arm: Arm, rg: Group) -> None:
    # NEX/RouteTableCreateWithRoute.json: disableBgpRoutePropagation true and route1
    # (10.0.3.0/24 -> VirtualNetworkGateway) answered with its id.
    request = {
        "properties": {
            "disableBgpRoutePropagation": True,
            "routes": [
                {
                    "name": "route1",
                    "properties": {
                        "addressPrefix": "10.0.3.0/24",
                        "nextHopType": "VirtualNetworkGateway",
                    },
                }
            ],
        },
        "location": "westus",
    }
    path = rg.net("routeTables", "testrt")
    body = arm.create(path, request)
    check_tracked(body, rg, "routeTables", "testrt", "westus")
    props = body["properties"]
    assert props["disableBgpRoutePropagation"] is True
    [route] = props["routes"]
    assert route["name"] == "route1"
    assert route["id"] == f"{path}/routes/route1"
    assert route["properties"]["addressPrefix"] == "10.0.3.0/24"
    assert route["properties"]["nextHopType"] == "VirtualNetworkGateway"
    assert route["properties"]["provisioningState"] == "Succeeded"


def test_route_create_example_and_routes_list(arm: Arm, rg: Group) -> None:
    # NEX/RouteTableRouteCreate.json (PUT .../routes/route1, LRO, 201) and Routes_List.
    arm.create(rg.net("routeTables", "testrt"), {"location": LOCATION, "properties": {}})
    path = rg.net("routeTables/routes", "testrt", "route1")
    request = {
        "properties": {"addressPrefix": "10.0.3.0/24", "nextHopType": "VirtualNetworkGateway"}
    }
    response = arm.put(path, request)
    assert response.status_code == 201, response.text
    body = arm.finish(response, path)
    assert body["id"] == path
    assert body["name"] == "route1"
    assert body["properties"]["nextHopType"] == "VirtualNetworkGateway"
    routes = [r for page in pages(arm, rg.net("routeTables/routes", "testrt")) for r in page]
    assert [r["id"] for r in routes] == [path]
    table = arm.get(rg.net("routeTables", "testrt")).json()
    assert [r["id"] for r in table["properties"]["routes"]] == [path]


def test_next_hop_ip_address_only_with_virtual_appliance(arm: Arm, rg: Group) -> None:
    # NET/routeTable.json RoutePropertiesFormat.nextHopIpAddress: "Next hop values are only
    # allowed in routes where the next hop type is VirtualAppliance."
    arm.create(rg.net("routeTables", "rt"), {"location": LOCATION, "properties": {}})
    path = rg.net("routeTables/routes", "rt", "r1")
    bad = {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet", "nextHopIpAddress": "10.0.0.4"}
    assert arm.put(path, {"properties": bad}).status_code == 400
    good = {**bad, "nextHopType": "VirtualAppliance"}
    assert arm.create(path, {"properties": good})["properties"]["nextHopIpAddress"] == "10.0.0.4"


# ---------------------------------------------------------- network interfaces


def test_network_interface_create_example(arm: Arm, rg: Group) -> None:
    # NEX/NetworkInterfaceCreate.json, both ipConfigurations: ipconfig1 gets 172.20.2.4,
    # ipconfig2 (no subnet, privateIPAddressPrefixLength 28) gets 172.20.2.16/28 in the
    # primary's subnet; primary true/false, privateIPAddressVersion IPv4.
    create_vnet(rg, "rg1-vnet", "172.20.0.0/16", {"default": "172.20.2.0/24"})
    arm.create(
        rg.net("publicIPAddresses", "test-ip"),
        {"location": "eastus", "sku": {"name": "Standard"}, "properties": {}},
    )
    subnet = rg.net("virtualNetworks/subnets", "rg1-vnet", "default")
    request = {
        "properties": {
            "enableAcceleratedNetworking": True,
            "disableTcpStateTracking": True,
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "properties": {
                        "publicIPAddress": {"id": rg.net("publicIPAddresses", "test-ip")},
                        "subnet": {"id": subnet},
                    },
                },
                {"name": "ipconfig2", "properties": {"privateIPAddressPrefixLength": 28}},
            ],
        },
        "location": LOCATION,  # the example's eastus; a NIC must sit in its VNet's region
    }
    path = rg.net("networkInterfaces", "test-nic")
    body = arm.create(path, request)
    check_tracked(body, rg, "networkInterfaces", "test-nic", LOCATION)
    props = body["properties"]
    assert props["enableAcceleratedNetworking"] is True
    assert props["disableTcpStateTracking"] is True
    assert props["enableIPForwarding"] is False
    one, two = props["ipConfigurations"]
    assert one["id"] == f"{path}/ipConfigurations/ipconfig1"
    assert one["properties"]["privateIPAddress"] == "172.20.2.4"
    assert one["properties"]["privateIPAllocationMethod"] == "Dynamic"
    assert one["properties"]["primary"] is True
    assert one["properties"]["privateIPAddressVersion"] == "IPv4"
    assert one["properties"]["subnet"] == {"id": subnet}
    assert one["properties"]["publicIPAddress"] == {"id": rg.net("publicIPAddresses", "test-ip")}
    assert two["id"] == f"{path}/ipConfigurations/ipconfig2"
    assert two["properties"]["privateIPAddress"] == "172.20.2.16/28"
    assert two["properties"]["primary"] is False
    assert two["properties"]["subnet"] == {"id": subnet}
    used = arm.get(subnet).json()["properties"]["ipConfigurations"]
    assert {c["id"] for c in used} == {one["id"], two["id"]}


def test_a_second_nic_gets_the_next_free_address(arm: Arm, rg: Group) -> None:
    # NEX/NetworkInterfaceCreate.json (Dynamic allocation from .4: Azure reserves the first
    # four addresses of a subnet, azure-facts.md "first free private IP from .4").

    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    addresses = []
    for name in ("nic1", "nic2"):
        body = arm.create(rg.net("networkInterfaces", name), nic_body(rg, "vnet1", "default"))
        addresses.append(
            body["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
        )
    assert addresses == ["10.0.0.4", "10.0.0.5"]


def test_subnet_in_use_cannot_be_deleted(arm: Arm, rg: Group) -> None:
    # azure-facts.md (observed): 400 InUseSubnetCannotBeDeleted, also on VNet delete.

    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    arm.create(rg.net("networkInterfaces", "nic1"), nic_body(rg, "vnet1", "default"))
    subnet = arm.delete(rg.net("virtualNetworks/subnets", "vnet1", "default"))
    assert_error(subnet, 400, "InUseSubnetCannotBeDeleted")
    vnet = arm.delete(rg.net("virtualNetworks", "vnet1"))
    assert_error(vnet, 400, "InUseSubnetCannotBeDeleted")


# --------------------------------------------------------------- bastion hosts


def test_bastion_host_put_example(arm: Arm, rg: Group) -> None:
    # NEX/BastionHostPut.json (its sku and zones sit outside the body; the subnet is named
    # AzureBastionSubnet as Azure requires): response sku Standard, dnsName
    # bst-<guid>.bastion.azure.com, scaleUnits 2, feature flags false, the ipConfiguration
    # with id and type Microsoft.Network/bastionHosts/bastionHostIpConfigurations.
    create_vnet(rg, "vnet2", "10.2.0.0/16", {"AzureBastionSubnet": "10.2.1.0/26"})
    arm.create(
        rg.net("publicIPAddresses", "pipName"),
        {"location": LOCATION, "sku": {"name": "Standard"}, "properties": {}},
    )
    request = {
        "properties": {
            "ipConfigurations": [
                {
                    "name": "bastionHostIpConfiguration",
                    "properties": {
                        "subnet": {
                            "id": rg.net("virtualNetworks/subnets", "vnet2", "AzureBastionSubnet")
                        },
                        "publicIPAddress": {"id": rg.net("publicIPAddresses", "pipName")},
                    },
                }
            ]
        },
        "location": LOCATION,
    }
    path = rg.net("bastionHosts", "bastionhosttenant")
    response = arm.put(path, request)
    assert response.status_code == 201, response.text
    assert response.json()["properties"]["provisioningState"] == "Updating"
    body = arm.finish(response, path)
    check_tracked(body, rg, "bastionHosts", "bastionhosttenant", LOCATION)
    assert body["sku"] == {"name": "Standard"}
    props = body["properties"]
    assert props["dnsName"].startswith("bst-")
    assert props["dnsName"].endswith(".bastion.azure.com")
    assert props["scaleUnits"] == 2
    for flag in ("disableCopyPaste", "enableTunneling", "enableIpConnect", "enableShareableLink"):
        assert props[flag] is False
    [config] = props["ipConfigurations"]
    assert config["id"] == f"{path}/bastionHostIpConfigurations/bastionHostIpConfiguration"
    assert config["type"] == "Microsoft.Network/bastionHosts/bastionHostIpConfigurations"
    assert config["properties"]["privateIPAllocationMethod"] == "Dynamic"


# ------------------------------------------------------------ network watchers


def test_network_watcher_create_example_is_synchronous(arm: Arm, rg: Group) -> None:
    # NEX/NetworkWatcherCreate.json; NET/networkWatcher.json NetworkWatchers_CreateOrUpdate has
    # no x-ms-long-running-operation: 201 then 200, Succeeded at once. Azure names an
    # operation all the same (azure-facts.md "As recorded"): Azure-AsyncOperation, Succeeded.
    path = rg.net("networkWatchers", "nw1")
    request = {"location": "eastus", "properties": {}}
    created = arm.put(path, request)
    assert created.status_code == 201, created.text
    assert arm.get(created.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    body = created.json()
    check_tracked(body, rg, "networkWatchers", "nw1", "eastus")
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert arm.put(path, request).status_code == 200


def test_one_network_watcher_per_region(arm: Arm, rg: Group) -> None:
    # Network Watcher docs: one watcher per region per subscription
    # (errors.NetworkWatcherCountLimitReached; NET/networkWatcher.json).
    region = "southcentralus"
    arm.create(rg.net("networkWatchers", "nw-a"), {"location": region, "properties": {}})
    response = arm.put(rg.net("networkWatchers", "nw-b"), {"location": region, "properties": {}})
    assert_error(response, 400, "NetworkWatcherCountLimitReached")
