"""Virtual machines, extensions, NIC effective routes and Network Watcher connectivity checks.

CMP = specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2025-11-01
NEX = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01/examples
NET = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from contract.armhttp import (
    COMPUTE_API,
    LOCATION,
    WATCHER_AGENT,
    Arm,
    Group,
    assert_error,
    create_vm,
    create_vnet,
    is_absolute,
    nic_body,
    pages,
)

VM = "Microsoft.Compute/virtualMachines"
EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
EXAMPLE_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCeClRAk2ipUs/l5voIsDC5q9RI+YSRd1Bvd/O+axgY4WiBzG+4F"
    "wJWZm/mLLe5DoOdHQwmU2FrKXZSW4w2sYE70KeWnrFViCOX5MTVvJgPE8ClugNl8RWth/tU849DvM9sT7vFgfVSHcA"
    "S2yDRyDlueii+8nF2ym8XWAPltFVCyLHRsyBp5YPqK8JFYIa1eybKsY3hEAxRCA+/7bq8et+Gj3coOsuRmrehav7rE"
    "6N12Pb80I6ofa6SM5XNYq4Xk0iYNx7R3kdz0Jj9XgZYWjAHjJmT0gTRoOnt6upOuxK7xI/ykWrllgpXrCPu3Ymz+c+"
    "ujaqcxDopnAl2lmf69/J1"
)


def vm_example(g: Group, nic: str) -> dict[str, Any]:
    """CMP/examples/virtualMachineExamples/VirtualMachine_Create_WithSshAuthentication.json,
    with its placeholders ({image_*}, {your-username}, {existing-nic-name}) filled in."""
    return {
        "location": "westus",
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_D1_v2"},
            "storageProfile": {
                "imageReference": {
                    "sku": "server",
                    "publisher": "Canonical",
                    "version": "latest",
                    "offer": "ubuntu-24_04-lts",
                },
                "osDisk": {
                    "caching": "ReadWrite",
                    "managedDisk": {"storageAccountType": "Standard_LRS"},
                    "name": "myVMosdisk",
                    "createOption": "FromImage",
                },
            },
            "osProfile": {
                "adminUsername": "azureuser",
                "computerName": "myVM",
                "linuxConfiguration": {
                    "ssh": {
                        "publicKeys": [
                            {
                                "path": "/home/azureuser/.ssh/authorized_keys",
                                "keyData": EXAMPLE_KEY,
                            }
                        ]
                    },
                    "disablePasswordAuthentication": True,
                },
            },
            "networkProfile": {
                "networkInterfaces": [
                    {"id": g.net("networkInterfaces", nic), "properties": {"primary": True}}
                ]
            },
        },
    }


def test_virtual_machine_create_with_ssh_authentication_example(arm: Arm, rg: Group) -> None:
    # CMP/examples/virtualMachineExamples/VirtualMachine_Create_WithSshAuthentication.json:
    # 201 with provisioningState "Creating"; the server adds vmId, osDisk.osType,
    # dataDisks [] and osProfile.secrets [], and keeps the caller's osDisk name.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"}, "westus")
    arm.create(rg.net("networkInterfaces", "nic1"), nic_body(rg, "vnet1", "default", "westus"))
    path = rg.id(VM, "myVM")
    request = vm_example(rg, "nic1")
    put = arm.put(path, request, api_version=COMPUTE_API)
    assert put.status_code == 201, put.text
    answer = put.json()
    assert answer["properties"]["provisioningState"] == "Creating"
    operation = put.headers.get("Azure-AsyncOperation") or put.headers["Location"]
    assert is_absolute(operation)
    assert "/providers/Microsoft.Compute/locations/westus/" in operation
    body = arm.finish(put, path, api_version=COMPUTE_API)
    assert body["id"] == path
    assert body["name"] == "myVM"
    assert body["type"] == VM
    assert body["location"] == "westus"
    props = body["properties"]
    assert str(uuid.UUID(props["vmId"])) == props["vmId"]
    assert props["hardwareProfile"] == {"vmSize": "Standard_D1_v2"}
    storage = props["storageProfile"]
    assert storage["imageReference"] == request["properties"]["storageProfile"]["imageReference"]
    assert storage["osDisk"]["osType"] == "Linux"
    assert storage["osDisk"]["name"] == "myVMosdisk"
    assert storage["osDisk"]["caching"] == "ReadWrite"
    # Once created, the disk has an id too (recorded: tests/recorded/, TestVirtualMachineTestSuite).
    assert storage["osDisk"]["managedDisk"]["storageAccountType"] == "Standard_LRS"
    assert storage["dataDisks"] == []
    os_profile = props["osProfile"]
    assert os_profile["secrets"] == []
    assert os_profile["adminUsername"] == "azureuser"
    assert os_profile["linuxConfiguration"]["disablePasswordAuthentication"] is True
    assert os_profile["linuxConfiguration"]["ssh"]["publicKeys"][0]["keyData"] == EXAMPLE_KEY
    assert props["networkProfile"] == request["properties"]["networkProfile"]
    nic = arm.get(rg.net("networkInterfaces", "nic1")).json()
    assert nic["properties"]["virtualMachine"] == {"id": path}


def test_a_reserved_admin_username_is_400_invalid_parameter(arm: Arm, rg: Group) -> None:
    # Azure's documented reserved Linux admin names ("admin", "root", ...); compute answers
    # InvalidParameter with target adminUsername (CMP/ComputeRP.json CloudError).
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"}, "westus")
    arm.create(rg.net("networkInterfaces", "nic1"), nic_body(rg, "vnet1", "default", "westus"))
    request = vm_example(rg, "nic1")
    request["properties"]["osProfile"]["adminUsername"] = "admin"
    response = arm.put(rg.id(VM, "vm1"), request, api_version=COMPUTE_API)
    error = assert_error(response, 400, "InvalidParameter")
    assert error["target"] == "adminUsername"


def test_a_nic_attached_to_a_vm_cannot_be_deleted_before_the_vm(arm: Arm, rg: Group) -> None:
    # azure-facts.md delete order "VMs before NICs"; CMP VirtualMachines_Delete (LRO location,
    # 202 + Location then 200/204); the NIC is free once the VM is gone.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    nic = rg.net("networkInterfaces", "vm1-nic")
    assert_error(arm.delete(nic), 400, "NicInUse")
    response = arm.delete(rg.id(VM, "vm1"), api_version=COMPUTE_API)
    assert response.status_code == 202
    assert arm.wait_location(response).status_code in (200, 204)
    arm.remove(nic)
    assert arm.get(nic).status_code == 404


def test_network_watcher_agent_extension(arm: Arm, rg: Group) -> None:
    # CMP VirtualMachineExtensions_CreateOrUpdate (LRO, 201 "Creating") with the body the
    # Network Watcher agent docs give (publisher Microsoft.Azure.NetworkWatcher,
    # NetworkWatcherAgentLinux 1.4); VirtualMachineExtensions_List -> {value: [...]}.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    path = rg.id(EXTENSION, "vm1", "AzureNetworkWatcherExtension")
    request = {"location": LOCATION, **WATCHER_AGENT}
    put = arm.put(path, request, api_version=COMPUTE_API)
    assert put.status_code == 201, put.text
    assert put.json()["properties"]["provisioningState"] == "Creating"
    body = arm.finish(put, path, api_version=COMPUTE_API)
    assert body["type"] == EXTENSION
    assert body["name"] == "AzureNetworkWatcherExtension"
    props = body["properties"]
    assert (props["publisher"], props["type"]) == (
        "Microsoft.Azure.NetworkWatcher",
        "NetworkWatcherAgentLinux",
    )
    assert props["typeHandlerVersion"] == "1.4"
    listed = arm.get(rg.id(EXTENSION, "vm1"), api_version=COMPUTE_API)
    assert [e["id"] for e in listed.json()["value"]] == [path]


def test_an_extension_needs_a_location(arm: Arm, rg: Group) -> None:
    # Compute/VirtualMachineExtension.tsp: VirtualMachineExtension is a TrackedResource
    # (location required; CMP/examples/virtualMachineExamples/
    # VirtualMachineExtension_CreateOrUpdate_MinimumSet_Gen.json sends only {"location"}).
    # The properties are those of CMP/.../VirtualMachineExtension_Update.json.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    properties = {
        "autoUpgradeMinorVersion": True,
        "publisher": "extPublisher",
        "type": "extType",
        "typeHandlerVersion": "1.2",
        "suppressFailures": True,
        "settings": {"UserName": "xyz@microsoft.com"},
    }
    path = rg.id(EXTENSION, "vm1", "myVMExtension")
    response = arm.put(path, {"properties": properties}, api_version=COMPUTE_API)
    assert_error(response, 400, "LocationRequired")
    body = arm.create(
        path, {"location": LOCATION, "properties": properties}, api_version=COMPUTE_API
    )
    assert body["location"] == LOCATION
    assert body["properties"]["settings"] == {"UserName": "xyz@microsoft.com"}


# ---------------------------------------------------------- effective routes


def effective_routes(arm: Arm, g: Group, nic: str) -> list[dict[str, Any]]:
    path = g.net("networkInterfaces", nic) + "/effectiveRouteTable"
    response = arm.post(path)
    assert response.status_code == 202, response.text
    assert response.content == b""
    final = arm.wait_location(response)
    assert final.status_code == 200
    routes: list[dict[str, Any]] = final.json()["value"]
    for route in routes:
        assert route["source"] in ("Unknown", "User", "VirtualNetworkGateway", "Default")
        assert route["state"] in ("Active", "Invalid")
        assert isinstance(route["addressPrefix"], list)
        assert isinstance(route["nextHopIpAddress"], list)
    return routes


def test_effective_route_table_example(arm: Arm, rg: Group) -> None:
    # NEX/NetworkInterfaceEffectiveRouteTableList.json: POST .../effectiveRouteTable (no body,
    # LRO final-state-via location) -> 200 {value: EffectiveRoute[]}: the VNet prefix
    # VnetLocal, 0.0.0.0/0 Internet, and 10/8, 100.64/10, 172.16/12, 192.168/16 None.
    create_vnet(rg, "vnet1", "172.20.0.0/16", {"default": "172.20.2.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    routes = effective_routes(arm, rg, "vm1-nic")
    table = {r["addressPrefix"][0]: (r["source"], r["state"], r["nextHopType"]) for r in routes}
    assert table["172.20.0.0/16"] == ("Default", "Active", "VnetLocal")
    assert table["0.0.0.0/0"] == ("Default", "Active", "Internet")
    for dropped in ("10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12", "192.168.0.0/16"):
        assert table[dropped][2] == "None"


def test_effective_routes_show_user_routes_and_peerings(arm: Arm, rg: Group) -> None:
    # NET/networkInterface.json EffectiveRouteSource "User" for a route table's routes;
    # azure-facts.md "each peered VNet's prefix -> VNetPeering" (observed Azure value; the
    # spec's RouteNextHopType enum is modelAsString).
    arm.create(
        rg.net("routeTables", "rt"),
        {
            "location": LOCATION,
            "properties": {
                "routes": [
                    {
                        "name": "to-appliance",
                        "properties": {
                            "addressPrefix": "192.168.10.0/24",
                            "nextHopType": "VirtualAppliance",
                            "nextHopIpAddress": "10.1.0.100",
                        },
                    }
                ]
            },
        },
    )
    body = {
        "location": LOCATION,
        "properties": {
            "addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
            "subnets": [
                {
                    "name": "default",
                    "properties": {
                        "addressPrefix": "10.1.0.0/24",
                        "routeTable": {"id": rg.net("routeTables", "rt")},
                    },
                }
            ],
        },
    }
    arm.create(rg.net("virtualNetworks", "vnet1"), body)
    create_vnet(rg, "vnet2", "10.2.0.0/16", {"default": "10.2.0.0/24"})
    for local, remote in (("vnet1", "vnet2"), ("vnet2", "vnet1")):
        arm.create(
            rg.net("virtualNetworks/virtualNetworkPeerings", local, f"to-{remote}"),
            {"properties": {"remoteVirtualNetwork": {"id": rg.net("virtualNetworks", remote)}}},
        )
    create_vm(rg, "vm1", "vnet1", "default")
    routes = {r["addressPrefix"][0]: r for r in effective_routes(arm, rg, "vm1-nic")}
    user = routes["192.168.10.0/24"]
    assert (user["source"], user["nextHopType"]) == ("User", "VirtualAppliance")
    assert user["nextHopIpAddress"] == ["10.1.0.100"]
    assert routes["10.2.0.0/16"]["nextHopType"] == "VNetPeering"


def test_effective_routes_need_a_nic_attached_to_a_running_vm(arm: Arm, rg: Group) -> None:
    # azure-facts.md "Effective routes need a NIC attached to a running VM".
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    arm.create(rg.net("networkInterfaces", "lonely"), nic_body(rg, "vnet1", "default"))
    response = arm.post(rg.net("networkInterfaces", "lonely") + "/effectiveRouteTable")
    assert response.status_code == 400
    assert response.json()["error"]["code"]


# ------------------------------------------------------- connectivity check


def two_vms_and_a_watcher(g: Group, region: str, *, agent: bool = True) -> str:
    """vm1 and vm2 in one VNet of ``region``, the agent on vm1, a watcher; returns vm2's IP."""
    arm = g.arm
    create_vnet(g, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"}, region)
    create_vm(g, "vm1", "vnet1", "default", region)
    create_vm(g, "vm2", "vnet1", "default", region)
    if agent:
        arm.create(
            g.id(EXTENSION, "vm1", "AzureNetworkWatcherExtension"),
            {"location": region, **WATCHER_AGENT},
            api_version=COMPUTE_API,
        )
    arm.create(g.net("networkWatchers", f"nw-{region}"), {"location": region, "properties": {}})
    nic = arm.get(g.net("networkInterfaces", "vm2-nic")).json()
    address: str = nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
    return address


def connectivity_request(g: Group, address: str, port: int) -> dict[str, Any]:
    # NEX/NetworkWatcherConnectivityCheck.json request shape (its 192.168.100.4:3389 is
    # replaced by the second VM's address).
    return {
        "source": {"resourceId": g.id(VM, "vm1")},
        "destination": {"address": address, "port": port},
        "preferredIPVersion": "IPv4",
    }


def test_connectivity_check_example(slow: Arm, arm: Arm, rg: Group) -> None:
    # NEX/NetworkWatcherConnectivityCheck.json + NET/networkWatcher.json
    # NetworkWatchers_CheckConnectivity (POST, LRO final-state-via location): 202 + Location,
    # the Location answers 202 while the probes run (RPC async-api-reference.md), then 200
    # ConnectivityInformation: hops[] (type, id, address, resourceId, nextHopIds, issues),
    # probesSent/probesFailed, latencies. connectionStatus "Reachable" as Azure answers
    # (docs network-watcher-connectivity-overview: "Possible results are Reachable and
    # Unreachable"; the spec's enum says Connected/Disconnected).
    address = two_vms_and_a_watcher(rg, "northeurope")
    path = rg.net("networkWatchers", "nw-northeurope") + "/connectivityCheck"
    response = slow.post(path, connectivity_request(rg, address, 22))  # 30 s at 60: 0.5 s
    assert response.status_code == 202, response.text
    assert is_absolute(response.headers["Location"])
    assert slow.get(response.headers["Location"]).status_code == 202
    final = slow.wait_location(response)
    assert final.status_code == 200
    result = final.json()
    assert result["connectionStatus"] == "Reachable"
    assert result["probesSent"] > 0
    assert result["probesFailed"] == 0
    assert result["minLatencyInMs"] <= result["avgLatencyInMs"] <= result["maxLatencyInMs"]
    hops = result["hops"]
    assert hops[0]["type"] == "Source"
    assert hops[-1]["address"] == address
    for hop in hops:
        assert set(hop) >= {"type", "id", "address", "resourceId", "nextHopIds", "issues"}
    for hop, following in itertools.pairwise(hops):
        assert hop["nextHopIds"] == [following["id"]]


def test_connectivity_check_to_a_closed_port_is_unreachable(arm: Arm, rg: Group) -> None:
    # NEX/NetworkWatcherConnectivityCheck.json's own destination port 3389 (nothing listens on
    # the Linux VM); docs: "Unreachable", probesFailed = probesSent, issues on the last hop.
    address = two_vms_and_a_watcher(rg, "francecentral")
    path = rg.net("networkWatchers", "nw-francecentral") + "/connectivityCheck"
    result = arm.action(path, connectivity_request(rg, address, 3389))
    assert result["connectionStatus"] == "Unreachable"
    assert result["probesFailed"] == result["probesSent"] > 0
    assert result["hops"][-1]["issues"]


def test_connectivity_check_needs_the_watcher_agent(arm: Arm, rg: Group) -> None:
    # Network Watcher docs: "Connectivity check requires a virtual machine extension
    # AzureNetworkWatcherExtension" (code NetworkWatcherExtensionNotInstalled is ours).
    address = two_vms_and_a_watcher(rg, "uksouth", agent=False)
    path = rg.net("networkWatchers", "nw-uksouth") + "/connectivityCheck"
    response = arm.post(path, connectivity_request(rg, address, 22))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "NetworkWatcherExtensionNotInstalled"


def test_vm_list_in_group(arm: Arm, rg: Group) -> None:
    # CMP VirtualMachines_List: GET {RG}/providers/Microsoft.Compute/virtualMachines, pageable.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    vms = [v for page in pages(arm, rg.id(VM), api_version=COMPUTE_API) for v in page]
    assert [v["name"] for v in vms] == ["vm1"]
    assert vms[0]["properties"]["provisioningState"] == "Succeeded"
