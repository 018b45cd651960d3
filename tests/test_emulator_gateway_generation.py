"""A gateway's generation follows its SKU, as Azure's SKU table says.

Source: Microsoft Learn, about-gateway-skus ("Gateway SKUs by performance"):
Generation1 has VpnGw1-3 and VpnGw1AZ-3AZ, Generation2 has VpnGw2-5 and
VpnGw2AZ-5AZ. Azure refuses a pair outside the table with 400
VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration, and a gateway
created without a generation comes back Generation1 (azure-facts.md, "As recorded").
"""

from __future__ import annotations

import pytest
from emulator_helpers import GROUP, expect_arm_error, gateway_model, hub, resource_group

from hubvpn.azure import Clients


@pytest.fixture
def hub0(clients: Clients) -> Clients:
    resource_group(clients)
    hub(clients, "hub", 0)
    return clients


def test_create_gateway_vpngw1az_generation2_refused(hub0: Clients) -> None:
    model = gateway_model(hub0, "hub", "hub-ip", sku="VpnGw1AZ")
    model.vpn_gateway_generation = "Generation2"
    with expect_arm_error("VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration") as e:
        hub0.network.virtual_network_gateways.begin_create_or_update(GROUP, "gw", model)
    assert e.value.error.message == (
        "The Virtual Network Gateway Sku VpnGw1AZ cannot be used when "
        "VirtualNetworkVpnGatewayGeneration is set to Generation2."
    )


def test_create_gateway_vpngw4az_generation1_refused(hub0: Clients) -> None:
    model = gateway_model(hub0, "hub", "hub-ip", sku="VpnGw4AZ")
    model.vpn_gateway_generation = "Generation1"
    with expect_arm_error("VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration"):
        hub0.network.virtual_network_gateways.begin_create_or_update(GROUP, "gw", model)


@pytest.mark.parametrize(
    ("sku", "generation"), [("VpnGw1AZ", "Generation1"), ("VpnGw2AZ", "Generation2")]
)
def test_create_gateway_sku_in_its_generation_accepted(
    hub0: Clients, sku: str, generation: str
) -> None:
    model = gateway_model(hub0, "hub", "hub-ip", sku=sku)
    model.vpn_gateway_generation = generation
    gateway = hub0.network.virtual_network_gateways.begin_create_or_update(
        GROUP, "gw", model
    ).result()
    assert (gateway.sku.name, gateway.vpn_gateway_generation) == (sku, generation)


def test_create_gateway_without_generation_comes_back_generation1(hub0: Clients) -> None:
    model = gateway_model(hub0, "hub", "hub-ip", sku="VpnGw1AZ")
    model.vpn_gateway_generation = None
    hub0.network.virtual_network_gateways.begin_create_or_update(GROUP, "gw", model).result()
    gateway = hub0.network.virtual_network_gateways.get(GROUP, "gw")
    assert gateway.vpn_gateway_generation == "Generation1"
