"""ARM's long-running operation protocol and resource groups, in raw HTTP.

  RPC = Azure/azure-resource-manager-rpc v1.0/async-api-reference.md
  NET = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01
  RES = specification/resources/resource-manager/Microsoft.Resources/stable/2025-04-01

Transient states are watched through the ``slow`` server (speed 60): the test
builds through the fast server and sends only the watched operation slowly.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from contract.armhttp import (
    COMPUTE_API,
    LOCATION,
    RESOURCES_API,
    SUBSCRIPTION,
    Arm,
    Group,
    assert_error,
    create_group,
    create_hub,
    create_vm,
    create_vnet,
    gateway_body,
    is_absolute,
    pages,
)

OPERATION_URL = re.compile(
    rf"^/subscriptions/{SUBSCRIPTION}/providers/Microsoft\.Network/locations/{LOCATION}"
    r"/(operations|operationResults)/[0-9a-f-]{36}$"
)
TERMINAL = ("Succeeded", "Failed", "Canceled")


def has_retry_hint(headers: object) -> bool:
    from requests.structures import CaseInsensitiveDict

    assert isinstance(headers, CaseInsensitiveDict)
    if "Retry-After" in headers:
        return str(headers["Retry-After"]).isdigit()  # RPC: integer seconds, no http-date
    return str(headers.get("retry-after-ms", "")).isdigit()


def vnet(prefix: str = "10.0.0.0/16") -> dict[str, object]:
    return {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": [prefix]}}}


# -------------------------------------------------------------------- PUT


def test_put_create_is_201_with_azure_async_operation_and_a_retry_hint(arm: Arm, rg: Group) -> None:
    # NET/virtualNetwork.json VirtualNetworks_CreateOrUpdate: x-ms-long-running-operation,
    # final-state-via azure-async-operation, 201; RPC: PUT answers 201 with a non-terminal
    # provisioningState while work continues; Retry-After is an integer.
    response = arm.put(rg.net("virtualNetworks", "vnet1"), vnet())
    assert response.status_code == 201
    assert response.json()["properties"]["provisioningState"] not in TERMINAL
    url = response.headers["Azure-AsyncOperation"]
    assert is_absolute(url)
    assert OPERATION_URL.match(urlsplit(url).path), url
    assert "api-version=" in urlsplit(url).query
    assert has_retry_hint(response.headers)
    assert "Location" not in response.headers


def test_the_operation_resource_answers_200_with_status_until_succeeded(
    arm: Arm, rg: Group
) -> None:
    # RPC async-api-reference.md: "Azure-AsyncOperation URI returns 200 and status of the
    # operation is present in the response payload"; NET/network.json AzureAsyncOperationResult.
    response = arm.put(rg.net("virtualNetworks", "vnet1"), vnet())
    first = arm.get(response.headers["Azure-AsyncOperation"])
    assert first.status_code == 200
    assert first.json()["status"] in ("InProgress", "Succeeded")
    final = arm.wait_async(response)
    assert final["status"] == "Succeeded"
    assert final["name"] == urlsplit(response.headers["Azure-AsyncOperation"]).path.rsplit("/")[-1]
    assert final["startTime"] <= final["endTime"]
    got = arm.get(rg.net("virtualNetworks", "vnet1")).json()
    assert got["properties"]["provisioningState"] == "Succeeded"


def test_put_on_an_existing_resource_is_200(arm: Arm, rg: Group) -> None:
    # NET/virtualNetwork.json: 200 (update) and 201 (create) responses; RPC: PUT replaces.
    path = rg.net("virtualNetworks", "vnet1")
    arm.create(path, vnet())
    response = arm.put(path, vnet())
    assert response.status_code == 200
    assert "Azure-AsyncOperation" in response.headers
    assert arm.wait_async(response)["status"] == "Succeeded"


def test_an_unknown_operation_id_is_404(arm: Arm) -> None:
    # RPC async-api-reference.md: a 4xx from the status URL is a failure to read the status.
    url = (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/locations/{LOCATION}"
        "/operations/00000000-0000-0000-0000-000000000000"
    )
    response = arm.get(url)
    assert response.status_code == 404
    assert response.json()["error"]["code"]


# ----------------------------------------------------------------- DELETE


def test_delete_is_202_with_location_then_the_resource_is_gone(arm: Arm, rg: Group) -> None:
    # NET/routeTable.json RouteTables_Delete (LRO, final-state-via location, 202/200/204);
    # RPC: DELETE answers 202 + Location (absolute), no body; Location ends 200/204; GET 404.
    path = rg.net("routeTables", "rt")
    arm.create(path, {"location": LOCATION, "properties": {}})
    response = arm.delete(path)
    assert response.status_code == 202
    assert response.content == b""
    location = response.headers["Location"]
    assert is_absolute(location)
    assert OPERATION_URL.match(urlsplit(location).path), location
    assert has_retry_hint(response.headers)
    final = arm.wait_location(response)
    assert final.status_code in (200, 204)
    assert_error(arm.get(path), 404, "ResourceNotFound")


def test_delete_of_a_missing_resource_is_204(arm: Arm, rg: Group) -> None:
    # NET/routeTable.json RouteTables_Delete declares 204 ("Delete successful" / not found);
    # RPC resource-api-reference.md: DELETE of a resource that does not exist is 204.
    response = arm.delete(rg.net("routeTables", "never-was"))
    assert response.status_code == 204


def test_location_answers_202_while_deleting_then_204(slow: Arm, arm: Arm, rg: Group) -> None:
    # RPC async-api-reference.md: "Location URI should return 202 Accepted with no response
    # body while operation is in progress", then 200/204; the resource shows Deleting.
    # CMP VirtualMachines_Delete (LRO final-state-via location; 202 + Location, Retry-After).
    create_vnet(rg, "vnet1", "10.1.0.0/16", {"default": "10.1.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    path = rg.id("Microsoft.Compute/virtualMachines", "vm1")
    response = slow.delete(path, api_version=COMPUTE_API)  # 90 Azure s at speed 60: 1.5 s
    assert response.status_code == 202
    assert response.content == b""
    during = slow.get(response.headers["Location"])
    assert during.status_code == 202
    assert during.content == b""
    assert has_retry_hint(during.headers)
    state = slow.get(path, api_version=COMPUTE_API).json()["properties"]["provisioningState"]
    assert state == "Deleting"
    final = slow.wait_location(response)
    assert final.status_code == 204
    assert_error(arm.get(path, api_version=COMPUTE_API), 404, "ResourceNotFound")


def test_put_while_an_operation_runs_is_409_another_operation_in_progress(
    slow_gateway: Arm, arm: Arm, rg: Group
) -> None:
    # azure-facts.md "concurrent write on a busy resource": 409 AnotherOperationInProgress;
    # RPC async-api-reference.md (a resource keeps its non-terminal state until done).

    create_hub(rg, "hub", 1, 65010)
    body = gateway_body(rg, "hub", "hub-ip", 65010)
    path = rg.net("virtualNetworkGateways", "hub-gw")
    first = slow_gateway.put(path, body)  # an update: 1200 Azure s at speed 1200
    assert first.status_code == 200
    assert_error(arm.put(path, body), 409, "AnotherOperationInProgress")
    assert slow_gateway.wait_async(first)["status"] == "Succeeded"


# --------------------------------------------------------- resource groups


def test_create_resource_group_example_is_synchronous(arm: Arm) -> None:
    # RES/examples/CreateResourceGroup.json: request {"location": "eastus"}; 201 then 200 with
    # id (.../resourceGroups/...), name, location, properties.provisioningState; not an LRO.
    path = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-ct-example"
    created = arm.put(path, {"location": "eastus"}, api_version=RESOURCES_API)
    assert created.status_code == 201
    assert "Azure-AsyncOperation" not in created.headers
    assert "Location" not in created.headers
    body = created.json()
    assert body == {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-ct-example",
        "name": "rg-ct-example",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "eastus",
        "properties": {"provisioningState": "Succeeded"},
    }
    again = arm.put(path, {"location": "eastus"}, api_version=RESOURCES_API)
    assert again.status_code == 200
    assert again.json() == body


def test_resource_group_head_is_204_or_404(arm: Arm) -> None:
    # RES/resources.json ResourceGroups_CheckExistence: HEAD -> 204 (exists) | 404 (not).
    path = f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-ct-head"
    assert arm.head(path, api_version=RESOURCES_API).status_code == 404
    create_group(arm, "rg-ct-head")
    head = arm.head(path, api_version=RESOURCES_API)
    assert head.status_code == 204
    assert head.content == b""


def test_resource_group_in_another_location_is_409(arm: Arm, rg: Group) -> None:
    # Observed ARM code InvalidResourceGroupLocation: "Invalid resource group location
    # 'x'. The Resource group already exists in location 'y'."
    response = arm.put(rg.path, {"location": "eastus"}, api_version=RESOURCES_API)
    error = assert_error(response, 409, "InvalidResourceGroupLocation")
    assert "westeurope" in error["message"]


def test_resource_group_delete_is_an_lro_that_removes_everything(arm: Arm, rg: Group) -> None:
    # RES/resources.json ResourceGroups_Delete: x-ms-long-running-operation, 202 + location;
    # azure-facts.md: deleting the group deletes everything in it.
    create_vnet(rg, "vnet1", "10.1.0.0/16", {"default": "10.1.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    response = arm.delete(rg.path, api_version=RESOURCES_API)
    assert response.status_code == 202
    assert is_absolute(response.headers["Location"])
    final = arm.wait_location(response)
    assert final.status_code in (200, 204)
    assert_error(arm.get(rg.path, api_version=RESOURCES_API), 404, "ResourceGroupNotFound")
    assert arm.head(rg.path, api_version=RESOURCES_API).status_code == 404
    vm = rg.id("Microsoft.Compute/virtualMachines", "vm1")
    assert arm.get(vm).status_code == 404
    assert arm.get(rg.net("virtualNetworks/subnets", "vnet1", "default")).status_code == 404
    recreated = create_group(arm, rg.name)  # the name is free again, and the group empty
    assert arm.get(f"{recreated.path}/resources").json() == {"value": []}


def test_writes_into_a_group_being_deleted_are_409(slow: Arm, arm: Arm, rg: Group) -> None:
    # azure-facts.md: writes into a group being deleted -> 409 ResourceGroupBeingDeleted;
    # RES/resources.json ResourceGroups_Delete is long-running (the group shows Deleting).
    create_vnet(rg, "vnet1", "10.1.0.0/16", {"default": "10.1.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")  # VM 90 s + NIC + VNet: 1.75 s at speed 60
    response = slow.delete(rg.path, api_version=RESOURCES_API)
    assert response.status_code == 202
    write = arm.put(rg.net("routeTables", "late"), {"location": LOCATION, "properties": {}})
    assert_error(write, 409, "ResourceGroupBeingDeleted")
    again = arm.put(rg.path, {"location": LOCATION}, api_version=RESOURCES_API)
    assert_error(again, 409, "ResourceGroupBeingDeleted")
    state = arm.get(rg.path, api_version=RESOURCES_API).json()["properties"]["provisioningState"]
    assert state == "Deleting"  # so the refused writes did arrive during the deletion
    final = slow.wait_location(response)
    assert final.status_code in (200, 204)
    assert arm.get(rg.path, api_version=RESOURCES_API).status_code == 404


def test_list_resource_groups_includes_the_group(arm: Arm, rg: Group) -> None:
    # RES/resources.json ResourceGroups_List: GET /subscriptions/{s}/resourcegroups (pageable).
    path = f"/subscriptions/{SUBSCRIPTION}/resourcegroups"
    groups = [g for page in pages(arm, path, api_version=RESOURCES_API) for g in page]
    assert rg.name in [g["name"] for g in groups]
    assert all(g["type"] == "Microsoft.Resources/resourceGroups" for g in groups)
