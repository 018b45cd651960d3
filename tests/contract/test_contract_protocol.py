"""ARM's common contract, spoken in raw HTTP: api-version, errors, casing, etags, paging.

Sources are cited per test:
  NET = specification/network/resource-manager/Microsoft.Network/stable/2026-01-01
  RES = specification/resources/resource-manager/Microsoft.Resources/stable/2025-04-01
  RPC = Azure/azure-resource-manager-rpc v1.0/*.md
"""

from __future__ import annotations

import json

import pytest

from contract.armhttp import (
    API,
    LOCATION,
    RESOURCES_API,
    SUBSCRIPTION,
    Arm,
    Group,
    assert_error,
    create_group,
    create_hub,
    create_public_ip,
    create_vnet,
    error_of,
    gateway_body,
    pages,
)


def vnet_body(prefix: str = "10.0.0.0/16") -> dict[str, object]:
    return {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": [prefix]}}}


# ------------------------------------------------------------- api-version


@pytest.mark.parametrize("kind", ["resource group", "resource"])
def test_missing_api_version_is_400_missing_api_version_parameter(
    arm: Arm, rg: Group, kind: str
) -> None:
    # RPC: common-api-details.md (api-version is required on every request);
    # NET/network.json ApiVersionParameter (required). Observed code: MissingApiVersionParameter.
    path = rg.path if kind == "resource group" else rg.net("virtualNetworks", "any")
    assert_error(arm.get(path, api_version=None), 400, "MissingApiVersionParameter")


@pytest.mark.parametrize("version", ["2026-3-1", "latest", "20260301"])
def test_malformed_api_version_is_400_invalid_api_version_parameter(
    arm: Arm, rg: Group, version: str
) -> None:
    # RPC: common-api-details.md (api-version is a date, optionally -preview);
    # observed code InvalidApiVersionParameter (notes/azure-shapes.md §14).
    response = arm.get(rg.net("virtualNetworks", "any"), api_version=version)
    error = assert_error(response, 400, "InvalidApiVersionParameter")
    assert version in error["message"]


# ------------------------------------------------------ types, namespaces


def test_unknown_resource_type_is_404_invalid_resource_type(arm: Arm, rg: Group) -> None:
    # Observed ARM answer (Azure/azure-powershell#12061): 404 InvalidResourceType
    # "The resource type '...' could not be found in the namespace 'Microsoft.Network'".
    response = arm.get(rg.net("virtualNetworkThings", "x"))
    error = assert_error(response, 404, "InvalidResourceType")
    assert "Microsoft.Network" in error["message"]


def test_unknown_namespace_is_no_registered_provider_found(arm: Arm, rg: Group) -> None:
    # Observed ARM code NoRegisteredProviderFound (HTTP 400) for a provider/type ARM
    # cannot route (notes/azure-shapes.md §14).
    response = arm.put(rg.id("Microsoft.Nonexistent/widgets", "w1"), {"location": LOCATION})
    assert_error(response, 400, "NoRegisteredProviderFound")


def test_unknown_action_on_a_resource_is_404_invalid_resource_type(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json declares the gateway's POST actions; anything else
    # is a type ARM does not know (InvalidResourceType, as for an unknown type).
    create_vnet(rg, "vnet1", "10.0.0.0/16", {})
    response = arm.post(rg.net("virtualNetworks", "vnet1") + "/explode")
    assert_error(response, 404, "InvalidResourceType")


# --------------------------------------------------------- request bodies


def test_malformed_json_is_400_with_the_arm_error_envelope(arm: Arm, rg: Group) -> None:
    # RPC: common-api-details.md (error envelope {"error": {"code", "message"}});
    # observed code for an undeserializable body: InvalidRequestContent.
    response = arm.put(
        rg.net("virtualNetworks", "vnet1"),
        data=b'{"location": "westeurope", "properties": {',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400, "InvalidRequestContent")
    assert response.headers["Content-Type"].startswith("application/json")


def test_a_json_body_that_is_not_an_object_is_400(arm: Arm, rg: Group) -> None:
    # NET/virtualNetwork.json: the body parameter is a VirtualNetwork object.
    response = arm.put(rg.net("virtualNetworks", "vnet1"), ["not", "an", "object"])
    assert_error(response, 400, "InvalidRequestContent")


@pytest.mark.parametrize(
    ("type_", "field", "body"),
    [
        (
            "virtualNetworks",
            "properties.addressSpace.addressPrefixes",
            {"location": LOCATION, "properties": {"addressSpace": {"addressPrefixes": "10.0/16"}}},
        ),
        (
            "routeTables",
            "properties.disableBgpRoutePropagation",
            {"location": LOCATION, "properties": {"disableBgpRoutePropagation": "yes"}},
        ),
        (
            "networkSecurityGroups",
            "properties.securityRules",
            {"location": LOCATION, "properties": {"securityRules": {"name": "r1"}}},
        ),
        (
            "localNetworkGateways",
            "properties.bgpSettings.asn",
            {
                "location": LOCATION,
                "properties": {
                    "gatewayIpAddress": "203.0.113.10",
                    "bgpSettings": {"asn": "65050", "bgpPeeringAddress": "10.9.0.4"},
                },
            },
        ),
    ],
)
def test_wrong_json_types_for_known_fields_are_400(
    arm: Arm, rg: Group, type_: str, field: str, body: dict[str, object]
) -> None:
    # NET/virtualNetwork.json (addressPrefixes: array), NET/routeTable.json
    # (disableBgpRoutePropagation: boolean), NET/networkSecurityGroup.json
    # (securityRules: array), NET/virtualNetworkGateway.json (BgpSettings.asn: int64).
    response = arm.put(rg.net(type_, "wrongtype"), body)
    assert response.status_code == 400, response.text
    assert error_of(response)["target"] == field


def test_enable_bgp_as_a_string_on_a_gateway_is_400(arm: Arm, rg: Group) -> None:
    # NET/virtualNetworkGateway.json VirtualNetworkGatewayPropertiesFormat.enableBgp: boolean.

    create_vnet(rg, "hub", "10.1.0.0/16", {"GatewaySubnet": "10.1.255.0/27"})
    create_public_ip(rg, "hub-ip")
    body = gateway_body(rg, "hub", "hub-ip", 65010)
    body["properties"]["enableBgp"] = "true"
    response = arm.put(rg.net("virtualNetworkGateways", "gw"), body)
    assert response.status_code == 400, response.text
    assert error_of(response)["target"] == "properties.enableBgp"


def test_a_missing_location_is_400_location_required(arm: Arm, rg: Group) -> None:
    # NET/network.json Resource.location; ARM's LocationRequired for tracked resources.
    response = arm.put(rg.net("routeTables", "rt"), {"properties": {}})
    assert_error(response, 400, "LocationRequired")


def test_moving_a_resource_to_another_region_is_409_invalid_resource_location(
    arm: Arm, rg: Group
) -> None:
    # RPC: resource-api-reference.md (location is immutable); observed ARM code
    # InvalidResourceLocation (409) when a PUT names another region.
    path = rg.net("routeTables", "rt")
    arm.create(path, {"location": LOCATION, "properties": {}})
    response = arm.put(path, {"location": "northeurope", "properties": {}})
    assert_error(response, 409, "InvalidResourceLocation")


def test_a_region_display_name_is_stored_as_the_region_name(arm: Arm, rg: Group) -> None:
    # NET/examples/LocalNetworkGatewayCreate.json: request "Central US", response "centralus".
    body = {
        "location": "West Europe",
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
    }
    created = arm.create(rg.net("virtualNetworks", "vnet1"), body)
    assert created["location"] == "westeurope"


# ------------------------------------------------------------- case rules


def test_paths_are_case_insensitive_and_ids_keep_arm_casing(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md (URIs are case-insensitive); RES/resources.json uses
    # /resourcegroups/ while NET uses /resourceGroups/; ids answer in ARM's casing.
    upper = (
        f"/SUBSCRIPTIONS/{SUBSCRIPTION}/RESOURCEGROUPS/{rg.name}"
        "/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/vnet1"
    )
    put = arm.put(upper, vnet_body())
    assert put.status_code == 201, put.text
    body = put.json()
    assert body["type"] == "Microsoft.Network/virtualNetworks"
    assert body["id"] == rg.net("virtualNetworks", "vnet1")
    assert "/providers/Microsoft.Network/locations/" in put.headers["Azure-AsyncOperation"]
    assert arm.get(rg.net("virtualNetworks", "vnet1")).status_code == 200


def test_resource_names_are_case_insensitive_and_keep_their_casing(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md (resource names are case-insensitive, case-preserving).
    arm.create(rg.net("virtualNetworks", "vnet-A"), vnet_body())
    got = arm.get(rg.net("virtualNetworks", "VNET-a"))
    assert got.status_code == 200, got.text
    assert got.json()["name"] == "vnet-A"
    again = arm.put(rg.net("virtualNetworks", "VNET-A"), vnet_body())
    assert again.status_code == 200  # the same resource: an update, not a create
    listed = arm.get(rg.net("virtualNetworks")).json()["value"]
    assert [v["name"] for v in listed] == ["vnet-A"]


def test_resource_group_names_are_case_insensitive(arm: Arm, rg: Group) -> None:
    # RES/resources.json ResourceGroups_CheckExistence (HEAD .../resourcegroups/{rg}) as the
    # SDK sends it: lower-case 'resourcegroups' and any casing of the name.
    head = arm.head(f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{rg.name.upper()}")
    assert head.status_code == 204
    got = arm.get(f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg.name.upper()}")
    assert got.status_code == 200
    assert got.json()["name"] == rg.name


# ----------------------------------------------------------------- etags


def test_get_answers_an_etag_that_if_match_must_equal(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md (etag, If-Match -> 412 on mismatch);
    # NET examples carry "etag": "W/\"...\"" (e.g. NET/examples/VirtualNetworkGatewayUpdate.json).
    path = rg.net("routeTables", "rt")
    created = arm.create(path, {"location": LOCATION, "properties": {}})
    assert created["etag"].startswith('W/"')
    stale = 'W/"00000000-0000-0000-0000-000000000000"'
    response = arm.put(path, {"location": LOCATION, "properties": {}}, headers={"If-Match": stale})
    assert_error(response, 412, "PreconditionFailed")
    assert arm.get(path).json()["etag"] == created["etag"]  # nothing changed


def test_put_with_the_current_etag_is_accepted_and_the_etag_changes(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md (optimistic concurrency through etag / If-Match).
    path = rg.net("routeTables", "rt")
    created = arm.create(path, {"location": LOCATION, "properties": {}})
    update = {"location": LOCATION, "properties": {"disableBgpRoutePropagation": True}}
    response = arm.put(path, update, headers={"If-Match": created["etag"]})
    assert response.status_code == 200, response.text
    after = arm.finish(response, path)
    assert after["etag"] != created["etag"]
    assert after["properties"]["disableBgpRoutePropagation"] is True


def test_delete_with_a_stale_if_match_is_412(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md (If-Match applies to DELETE as well).
    path = rg.net("routeTables", "rt")
    arm.create(path, {"location": LOCATION, "properties": {}})
    response = arm.delete(path, headers={"If-Match": 'W/"stale"'})
    assert_error(response, 412, "PreconditionFailed")
    assert arm.get(path).status_code == 200


def test_patch_tags_replaces_all_tags_and_changes_the_etag(arm: Arm, rg: Group) -> None:
    # NET/routeTable.json RouteTables_UpdateTags (PATCH, TagsObject, 200, not an LRO).
    path = rg.net("routeTables", "rt")
    created = arm.create(path, {"location": LOCATION, "tags": {"a": "1"}, "properties": {}})
    response = arm.patch(path, {"tags": {"b": "2"}})
    assert response.status_code == 200, response.text
    assert "Azure-AsyncOperation" not in response.headers
    assert response.json()["tags"] == {"b": "2"}
    assert response.json()["etag"] != created["etag"]


# ---------------------------------------------------------------- paging


def test_list_pages_with_top_follow_next_link_until_exhausted(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md ("Clients must fetch records until the nextLink is not
    # returned"); NET/routeTable.json RouteTables_List x-ms-pageable nextLinkName=nextLink.
    names = [f"rt{i:02d}" for i in range(7)]
    for name in names:
        arm.create(rg.net("routeTables", name), {"location": LOCATION, "properties": {}})
    listed = pages(arm, rg.net("routeTables"), {"$top": "3"})
    assert [len(p) for p in listed] == [3, 3, 1]
    seen = [item["name"] for page in listed for item in page]
    assert sorted(seen) == names  # every item once


def test_list_pages_beyond_the_page_size_without_top(arm: Arm, rg: Group) -> None:
    # RPC: resource-api-reference.md (server-driven paging: the server chooses the page size
    # and answers nextLink); NET/networkSecurityGroup.json NetworkSecurityGroups_List.
    names = {f"nsg{i:03d}" for i in range(105)}
    for name in names:
        response = arm.put(rg.net("networkSecurityGroups", name), {"location": LOCATION})
        assert response.status_code == 201, response.text
    listed = pages(arm, rg.net("networkSecurityGroups"), {})
    assert len(listed) >= 2
    seen = [item["id"] for page in listed for item in page]
    assert len(seen) == len(set(seen)) == len(names)
    assert {i.rsplit("/", 1)[1] for i in seen} == names


def test_subscription_wide_list_includes_the_groups_resources(arm: Arm, rg: Group) -> None:
    # NET/virtualNetwork.json VirtualNetworks_ListAll:
    # GET /subscriptions/{s}/providers/Microsoft.Network/virtualNetworks (pageable).
    arm.create(rg.net("virtualNetworks", "vnet1"), vnet_body())
    path = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/virtualNetworks"
    ids = [item["id"] for page in pages(arm, path, {}) for item in page]
    assert rg.net("virtualNetworks", "vnet1") in ids


# ------------------------------------------------- resources of a group


def test_group_resources_lists_top_level_resources_only(arm: Arm, rg: Group) -> None:
    # RES/resources.json Resources_ListByResourceGroup (GenericResourceExpanded: top-level
    # tracked resources; subnets, peerings and routes are not listed).
    create_vnet(rg, "vnet1", "10.1.0.0/16", {"default": "10.1.0.0/24"})
    create_vnet(rg, "vnet2", "10.2.0.0/16", {"default": "10.2.0.0/24"})
    arm.create(
        rg.net("virtualNetworks/virtualNetworkPeerings", "vnet1", "to-vnet2"),
        {"properties": {"remoteVirtualNetwork": {"id": rg.net("virtualNetworks", "vnet2")}}},
    )
    arm.create(
        rg.net("routeTables", "rt"),
        {
            "location": LOCATION,
            "properties": {
                "routes": [
                    {
                        "name": "r1",
                        "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "Internet"},
                    }
                ]
            },
        },
    )
    response = arm.get(f"{rg.path}/resources", api_version=RESOURCES_API)
    assert response.status_code == 200, response.text
    items = response.json()["value"]
    assert sorted(i["id"] for i in items) == sorted(
        [
            rg.net("routeTables", "rt"),
            rg.net("virtualNetworks", "vnet1"),
            rg.net("virtualNetworks", "vnet2"),
        ]
    )
    for item in items:
        assert set(item) >= {"id", "name", "type", "location"}
        assert "provisioningState" not in item  # only with $expand
        assert "properties" not in item


def test_group_resources_expand_provisioning_state_survives_paging(arm: Arm, rg: Group) -> None:
    # RES/resources.json: $expand=provisioningState adds a top-level provisioningState
    # ("only present if requested via the $expand query parameter"); $top pages.
    for i in range(3):
        arm.create(rg.net("routeTables", f"rt{i}"), {"location": LOCATION, "properties": {}})
    query = {"$expand": "provisioningState", "$top": "2"}
    listed = pages(arm, f"{rg.path}/resources", query)
    items = [item for page in listed for item in page]
    assert len(listed) == 2
    assert len(items) == 3
    assert all(item["provisioningState"] == "Succeeded" for item in items)


def test_a_non_integer_top_is_400_with_the_envelope(arm: Arm, rg: Group) -> None:
    # RES/resources.json: $top is an int32 query parameter.
    response = arm.get(f"{rg.path}/resources", query={"$top": "many"})
    assert response.status_code == 400
    error_of(response)


# ----------------------------------------------------------- not found


def test_get_of_a_missing_resource_is_404_resource_not_found(arm: Arm, rg: Group) -> None:
    # Observed ARM message (notes/azure-shapes.md §14): "The Resource
    # 'Microsoft.Network/virtualNetworkGateways/{n}' under resource group '{rg}' was not found."
    response = arm.get(rg.net("virtualNetworkGateways", "nope"))
    error = assert_error(response, 404, "ResourceNotFound")
    assert (
        f"'Microsoft.Network/virtualNetworkGateways/nope' under resource group '{rg.name}'"
        in (error["message"])
    )


def test_writes_into_a_missing_group_are_404_resource_group_not_found(arm: Arm) -> None:
    # RPC: the ARM proxy answers 404 ResourceGroupNotFound before the RP is called.
    missing = Group(arm, "rg-ct-does-not-exist")
    response = arm.put(missing.net("virtualNetworks", "vnet1"), vnet_body())
    error = assert_error(response, 404, "ResourceGroupNotFound")
    assert "rg-ct-does-not-exist" in error["message"]


def test_head_of_a_resource_is_204_or_404_without_body(arm: Arm, rg: Group) -> None:
    # RES/resources.json Resources_CheckExistenceById: HEAD /{resourceId} -> 204 | 404.
    path = rg.net("routeTables", "rt")
    assert arm.head(path).status_code == 404
    arm.create(path, {"location": LOCATION, "properties": {}})
    head = arm.head(path)
    assert head.status_code == 204
    assert head.content == b""


def test_error_bodies_are_json_envelopes_with_code_and_message(arm: Arm, rg: Group) -> None:
    # RPC: common-api-details.md, error response body {"error": {"code", "message",
    # "target", "details"}}; NET/network.json CloudError.
    response = arm.get(rg.net("virtualNetworks", "nope"))
    body = json.loads(response.content)
    assert set(body["error"]) >= {"code", "message", "details"}
    assert isinstance(body["error"]["details"], list)


def test_an_api_version_in_the_query_is_all_the_emulator_needs(arm: Arm) -> None:
    # RES/resources.json ResourceGroups_CreateOrUpdate with the Resources API version and
    # NET with another: the emulator accepts any well-formed api-version (azure-facts.md).
    group = create_group(arm, "rg-ct-apiversions")
    response = arm.get(group.net("virtualNetworks"), api_version="2024-05-01")
    assert response.status_code == 200
    assert response.json() == {"value": []}
    assert API != "2024-05-01"


def test_a_full_hub_shows_in_the_group_listing(arm: Arm, rg: Group) -> None:
    # RES/resources.json Resources_ListByResourceGroup: every tracked type (VNet, public IP,
    # gateway) with its sku where the resource has one (GenericResource.sku).
    create_hub(rg, "hub", 1, 65010)
    items = {i["name"]: i for i in arm.get(f"{rg.path}/resources").json()["value"]}
    assert set(items) == {"hub", "hub-ip", "hub-gw"}
    assert items["hub-ip"]["sku"]["name"] == "Standard"
    assert items["hub-ip"]["zones"] == ["1", "2", "3"]
