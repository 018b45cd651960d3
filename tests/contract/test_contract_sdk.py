"""The real Azure SDK against the served emulator over http://127.0.0.1.

The SDK refuses bearer tokens over plain http: azure-core's BearerTokenCredentialPolicy
calls ``_enforce_https`` (azure/core/pipeline/policies/_authentication.py), which raises
ServiceRequestError unless the request's context says ``enforce_https`` is False. That
option is per operation (``enforce_https=False`` keyword) and LRO polls are new requests,
so the clients here get an ``authentication_policy`` that sets it on every request: the
same ARMChallengeAuthenticationPolicy, allowed to send its token to loopback only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError
from azure.core.pipeline import PipelineRequest
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as n
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources import models as r

from contract.armhttp import (
    COMPUTE_API,
    LOCATION,
    SUBSCRIPTION,
    Arm,
    Group,
    connect_hubs,
    create_vm,
    create_vnet,
)

ARM_SCOPE = "https://management.azure.com/.default"


class StaticCredential:
    """A TokenCredential with a fixed token (the emulator checks none)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("contract-suite-token", int(time.time()) + 3600)


class LoopbackBearerPolicy(ARMChallengeAuthenticationPolicy):
    """ARM's bearer policy, allowed to use http:// for the loopback emulator only."""

    def on_request(self, request: PipelineRequest[Any]) -> None:
        host = urlsplit(request.http_request.url).hostname
        if host == "127.0.0.1":
            request.context["enforce_https"] = False
        super().on_request(request)


class Sdk:
    def __init__(self, arm: Arm) -> None:
        credential = StaticCredential()
        options: dict[str, Any] = {
            "base_url": arm.base_url,
            "credential_scopes": [ARM_SCOPE],
            "authentication_policy": LoopbackBearerPolicy(credential, ARM_SCOPE),
            "polling_interval": 1,
        }
        self.resource = ResourceManagementClient(credential, SUBSCRIPTION, **options)
        self.network = NetworkManagementClient(credential, SUBSCRIPTION, **options)
        self.compute = ComputeManagementClient(credential, SUBSCRIPTION, **options)

    def close(self) -> None:
        for client in (self.resource, self.network, self.compute):
            client.close()


@pytest.fixture
def sdk(arm: Arm) -> Iterator[Sdk]:
    clients = Sdk(arm)
    yield clients
    clients.close()


def test_the_sdk_refuses_http_without_the_policy_and_accepts_it_per_call(arm: Arm) -> None:
    # azure-core _authentication.py _enforce_https: "Bearer token authentication is not
    # permitted for non-TLS protected (non-https) URLs"; the per-call enforce_https=False
    # option lifts it (azure-facts.md "The SDK refuses bearer tokens over http://").
    client = ResourceManagementClient(
        StaticCredential(), SUBSCRIPTION, base_url=arm.base_url, retry_total=0
    )
    try:
        with pytest.raises(ServiceRequestError, match="non-TLS"):
            client.resource_groups.check_existence("rg-ct-sdk-none")
        assert (
            client.resource_groups.check_existence("rg-ct-sdk-none", enforce_https=False) is False
        )
    finally:
        client.close()


def test_sdk_resource_groups(sdk: Sdk) -> None:
    # RES/resources.json ResourceGroups_CreateOrUpdate (sync 201), _CheckExistence (HEAD
    # .../resourcegroups/{rg}, 204/404), _Get; the SDK sends lower-case 'resourcegroups'.
    name = "rg-ct-sdk-groups"
    group = sdk.resource.resource_groups.create_or_update(name, r.ResourceGroup(location=LOCATION))
    assert group.id == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"
    assert group.properties.provisioning_state == "Succeeded"
    assert sdk.resource.resource_groups.check_existence(name) is True
    assert sdk.resource.resource_groups.check_existence(name + "-not") is False
    assert sdk.resource.resource_groups.get(name.upper()).name == name


def test_sdk_virtual_network_lro_and_list(sdk: Sdk, rg: Group) -> None:
    # NET/virtualNetwork.json VirtualNetworks_CreateOrUpdate through ARMPolling
    # (Azure-AsyncOperation, final GET of the resource) and VirtualNetworks_List (paged).
    model = n.VirtualNetwork(
        location=LOCATION,
        address_space=n.AddressSpace(address_prefixes=["10.5.0.0/16"]),
        subnets=[n.Subnet(name="default", address_prefix="10.5.0.0/24")],
    )
    poller = sdk.network.virtual_networks.begin_create_or_update(rg.name, "vnet-sdk", model)
    vnet = poller.result()
    assert poller.status() == "Succeeded"
    assert vnet.provisioning_state == "Succeeded"
    assert vnet.subnets[0].id == rg.net("virtualNetworks/subnets", "vnet-sdk", "default")
    assert vnet.resource_guid
    names = [v.name for v in sdk.network.virtual_networks.list(rg.name)]
    assert names == ["vnet-sdk"]


def test_sdk_gateway_post_actions(sdk: Sdk, rg: Group) -> None:
    # NET/virtualNetworkGateway.json GetBgpPeerStatus / GetLearnedRoutes: POST, LRO
    # final-state-via location; ARMPolling's result is what the Location URL finally answers.
    connect_hubs(rg)
    gateways = sdk.network.virtual_network_gateways
    peers = gateways.begin_get_bgp_peer_status(rg.name, "hub1-gw").result()
    assert [(p.neighbor, p.asn, p.state) for p in peers.value] == [
        ("10.2.255.30", 65020, "Connected")
    ]
    routes = gateways.begin_get_learned_routes(rg.name, "hub1-gw").result()
    assert {route.network for route in routes.value} >= {"10.1.0.0/16", "10.2.0.0/16"}


def test_sdk_deletes_and_reads_compute(sdk: Sdk, rg: Group) -> None:
    # NET/publicIpAddress.json PublicIPAddresses_Delete (LRO location, result None; then GET
    # 404 -> ResourceNotFoundError) and CMP VirtualMachines_Get through ComputeManagementClient.
    create_vnet(rg, "vnet1", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    create_vm(rg, "vm1", "vnet1", "default")
    vm = sdk.compute.virtual_machines.get(rg.name, "vm1")
    assert vm.provisioning_state == "Succeeded"
    assert vm.network_profile.network_interfaces[0].id == rg.net("networkInterfaces", "vm1-nic")
    assert COMPUTE_API  # the compute client sends its own api-version; any is accepted
    ip = n.PublicIPAddress(
        location=LOCATION,
        sku=n.PublicIPAddressSku(name="Standard"),
        public_ip_allocation_method="Static",
    )
    created = sdk.network.public_ip_addresses.begin_create_or_update(rg.name, "ip1", ip).result()
    assert created.ip_address
    assert sdk.network.public_ip_addresses.begin_delete(rg.name, "ip1").result() is None
    with pytest.raises(ResourceNotFoundError):
        sdk.network.public_ip_addresses.get(rg.name, "ip1")
