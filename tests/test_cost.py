"""The lab's cost estimate: what bills, which price, and what the user reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import COST_LINES

from hubvpn import cost
from hubvpn.config import load_topology
from hubvpn.plan import build_plan

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "config" / "topology.toml"
MESH = ROOT / "tests" / "topologies" / "three_hub_mesh.toml"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _online(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests never reach the network: every fetch below is an in-memory page.
    monkeypatch.delenv(cost.PRICES_ENV, raising=False)


def reference_billables() -> tuple[cost.Billable, ...]:
    return cost.plan_billables(build_plan(load_topology(REFERENCE)))


def offline_estimate(path: Path = REFERENCE) -> cost.CostEstimate:
    billables = cost.plan_billables(build_plan(load_topology(path)))
    return cost.estimate_cost(billables, cost.bundled_prices())


def page(items: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    """A page shaped as the Retail Prices API answers (figures are test values)."""
    return {
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": items,
        "NextPageLink": next_link,
        "Count": len(items),
    }


def meter(meter_name: str, price: float, unit: str = "1 Hour", **extra: Any) -> dict[str, Any]:
    return {
        "currencyCode": "USD",
        "retailPrice": price,
        "unitPrice": price,
        "meterName": meter_name,
        "unitOfMeasure": unit,
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        **extra,
    }


def test_plan_billables_reference_lab_lists_gateways_bastions_ips_and_vms() -> None:
    kinds: dict[str, int] = {}
    for b in reference_billables():
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    assert kinds == {
        "public_ip": 4,
        "virtual_network_gateway": 2,
        "bastion": 2,
        "virtual_machine": 6,
    }
    gateways = [b for b in reference_billables() if b.kind == "virtual_network_gateway"]
    assert [(b.name, b.sku, b.region) for b in gateways] == [
        ("vpngw-hub01", "VpnGw1AZ", "japaneast"),
        ("vpngw-hub02", "VpnGw1AZ", "japanwest"),
    ]


def test_estimate_cost_reference_lab_offline_sums_bundled_prices() -> None:
    estimate = offline_estimate()
    # 2 gateways x 0.361 + 2 Bastions x 0.29 + 4 IPs x 0.005 + 6 VMs x 0.0832
    assert estimate.hourly == pytest.approx(2 * 0.361 + 2 * 0.29 + 4 * 0.005 + 6 * 0.0832)
    assert estimate.daily == pytest.approx(estimate.hourly * 24)
    assert estimate.origin == "bundled"
    assert all(item.price_region in ("eastus", "westus") for item in estimate.items)


def test_describe_estimate_reference_lab_offline_prints_exact_lines() -> None:
    assert cost.describe(offline_estimate()) == COST_LINES


def test_describe_estimate_unknown_sku_says_no_price_and_excludes_it() -> None:
    billables = (
        cost.Billable("virtual_network_gateway", "VpnGw5AZ", "japaneast", "vpngw-a"),
        cost.Billable("public_ip", "Standard", "japaneast", "pip-vpngw-a"),
    )
    estimate = cost.estimate_cost(billables, cost.bundled_prices())
    lines = cost.describe(estimate)
    assert (
        lines[0] == "Estimated cost: $0.01/hour, $0.12/day (without the items that have no price)"
    )
    assert "  VPN gateway VpnGw5AZ   japaneast       1 x no price" in lines
    assert [i.sku for i in estimate.unpriced] == ["VpnGw5AZ"]


def test_bundled_prices_every_entry_names_its_source_url() -> None:
    raw = json.loads((ROOT / "src" / "hubvpn" / "prices.json").read_text("utf-8"))
    assert raw["currency"] == "USD" and raw["compiled"]
    for entry in raw["prices"]:
        assert entry["source"].startswith("https://"), entry
        assert entry["note"], entry


def test_load_prices_offline_env_uses_bundled_table_without_fetching(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(cost.PRICES_ENV, "offline")

    def fetch(url: str) -> dict[str, Any]:
        raise AssertionError(f"fetched {url}")

    table = cost.load_prices(reference_billables(), tmp_path, fetch, NOW)
    assert table.origin == "bundled"
    assert not (tmp_path / cost.CACHE_FILE).exists()


def test_fetch_prices_gateway_follows_next_page_link_and_takes_hourly_meter() -> None:
    asked: list[str] = []
    pages = {
        "first": page([meter("VpnGw1AZ P2S Connection", 0.01, unit="1/Hour")], next_link="second"),
        "second": page(
            [
                meter("VpnGw1AZ S2S Connection", 0.015, skuName="VpnGw1AZ"),
                meter("VpnGw1AZ", 0.5, skuName="VpnGw1AZ"),
            ]
        ),
    }

    def fetch(url: str) -> dict[str, Any]:
        asked.append(url)
        return pages["second" if url == "second" else "first"]

    gateway = cost.Billable("virtual_network_gateway", "VpnGw1AZ", "japaneast", "vpngw-hub01")
    prices = cost.fetch_prices([gateway], fetch)
    assert prices == (
        cost.Price("virtual_network_gateway", "VpnGw1AZ", "japaneast", 0.5, cost.RETAIL_PRICES_URL),
    )
    assert len(asked) == 2 and asked[1] == "second"
    assert "%24filter=serviceName+eq+%27VPN+Gateway%27" in asked[0]
    assert "armRegionName+eq+%27japaneast%27" in asked[0]
    assert "priceType+eq+%27Consumption%27" in asked[0]


def test_hourly_meter_vm_skips_windows_spot_and_low_priority() -> None:
    items = [
        meter("B2ms", 0.2, productName="Virtual Machines BS Series Windows", skuName="B2ms"),
        meter("B2ms Spot", 0.02, productName="Virtual Machines BS Series", skuName="B2ms Spot"),
        meter(
            "B2ms Low Priority",
            0.03,
            productName="Virtual Machines BS Series",
            skuName="B2ms Low Priority",
        ),
        meter("B2ms", 0.1, productName="Virtual Machines BS Series", skuName="B2ms"),
    ]
    chosen = cost.hourly_meter("virtual_machine", items)
    assert chosen is not None and chosen["retailPrice"] == 0.1


def test_hourly_meter_public_ip_takes_static_ipv4() -> None:
    items = [
        meter("Standard IPv4 Static Public IP", 0.005, skuName="Standard"),
        meter("Standard IPv6 Static Public IP", 0.004, skuName="Standard"),
        meter("Standard IPv4 Dynamic Public IP", 0.001, skuName="Standard"),
    ]
    chosen = cost.hourly_meter("public_ip", items)
    assert chosen is not None and chosen["meterName"] == "Standard IPv4 Static Public IP"


def test_load_prices_api_answers_caches_and_reuses_within_a_week(tmp_path: Path) -> None:
    calls = 0

    def fetch(url: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return page([meter("Standard IPv4 Static Public IP", 1.0, skuName="x")])

    billables = reference_billables()
    table = cost.load_prices(billables, tmp_path, fetch, NOW)
    assert table.origin == "api" and table.date == "2026-12-01"
    first_calls = calls
    again = cost.load_prices(billables, tmp_path, fetch, NOW + timedelta(days=6))
    assert calls == first_calls
    assert again.prices == table.prices
    cost.load_prices(billables, tmp_path, fetch, NOW + timedelta(days=8))
    assert calls == 2 * first_calls


def test_load_prices_cached_answer_without_a_price_is_not_refetched(tmp_path: Path) -> None:
    calls = 0

    def fetch(url: str) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return page([])

    gateway = (cost.Billable("virtual_network_gateway", "VpnGw5AZ", "japaneast", "vpngw-a"),)
    table = cost.load_prices(gateway, tmp_path, fetch, NOW)
    cost.load_prices(gateway, tmp_path, fetch, NOW + timedelta(hours=1))
    assert calls == 1
    assert cost.estimate_cost(gateway, table).unpriced[0].sku == "VpnGw5AZ"


def test_load_prices_network_error_falls_back_to_bundled_and_says_why(tmp_path: Path) -> None:
    def fetch(url: str) -> dict[str, Any]:
        raise TimeoutError("timed out")

    table = cost.load_prices(reference_billables(), tmp_path, fetch, NOW)
    assert table.origin == "bundled"
    estimate = cost.estimate_cost(reference_billables(), table)
    assert cost.describe(estimate)[1:3] == [
        "  prices: bundled table of 2026-12-01, USD",
        "  Retail Prices API not used (TimeoutError)",
    ]


def test_describe_estimate_api_prices_names_the_api_and_date() -> None:
    table = cost.PriceTable(
        "api",
        "2026-12-01",
        "USD",
        (cost.Price("bastion", "Standard", "japaneast", 0.5, cost.RETAIL_PRICES_URL),),
    )
    billables = (cost.Billable("bastion", "Standard", "japaneast", "bas-hub00"),)
    lines = cost.describe(cost.estimate_cost(billables, table))
    assert lines[:4] == [
        "Estimated cost: $0.50/hour, $12.00/day",
        "  prices: Azure Retail Prices API, fetched 2026-12-01, USD",
        "                         region          n     each/h     hourly     daily",
        "  Bastion Standard       japaneast       1 x   0.5000      0.500     12.00",
    ]


def test_billable_from_arm_existing_resources_keeps_only_hourly_kinds() -> None:
    seen = [
        ("Microsoft.Network/virtualNetworkGateways", "vpngw-hub01", "japaneast", "VpnGw1AZ"),
        ("Microsoft.Network/virtualNetworks", "vnet-hub00", "japaneast", ""),
        ("Microsoft.Compute/virtualMachines", "vm-hub00", "japaneast", "Standard_B2ms"),
    ]
    found = [cost.billable_from_arm(*s) for s in seen]
    assert [b.name if b else None for b in found] == ["vpngw-hub01", None, "vm-hub00"]
    stopped = cost.estimate_cost([b for b in found if b], cost.bundled_prices())
    assert stopped.hourly == pytest.approx(0.361 + 0.0832)
    assert cost.describe(stopped, "Stops paying")[0] == "Stops paying: $0.44/hour, $10.66/day"


def test_estimate_json_reference_lab_has_contract_keys() -> None:
    body = offline_estimate().to_json()
    assert list(body)[:6] == ["currency", "source", "date", "hourly", "daily", "items"]
    assert body["source"] == "bundled" and body["currency"] == "USD"
    assert body["items"][0] == {
        "kind": "virtual_network_gateway",
        "sku": "VpnGw1AZ",
        "region": "japaneast",
        "count": 1,
        "names": ["vpngw-hub01"],
        "unitHourly": 0.361,
        "hourly": 0.361,
        "priceRegion": "eastus",
        "priceSource": body["items"][0]["priceSource"],
    }
    json.dumps(body)  # serialisable as is


def test_describe_estimate_three_hub_mesh_fits_80_columns() -> None:
    lines = cost.describe(offline_estimate(MESH))
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == "Estimated cost: $1.43/hour, $34.34/day"


def test_stops_paying_existing_models_counts_each_kind() -> None:
    # Real SDK models, built from ARM bodies as Azure returns them.
    from azure.mgmt.compute.models import VirtualMachine
    from azure.mgmt.network.models import BastionHost, VirtualNetwork, VirtualNetworkGateway

    def arm(kind: str, name: str, properties: dict[str, Any], **top: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "name": name,
            "location": "japaneast",
            "properties": properties,
            **top,
        }

    models = [
        VirtualNetworkGateway(
            arm(
                "Microsoft.Network/virtualNetworkGateways",
                "vpngw-hub01",
                {"sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"}},
            )
        ),
        BastionHost(
            arm("Microsoft.Network/bastionHosts", "bas-hub00", {}, sku={"name": "Standard"})
        ),
        *(
            VirtualMachine(
                arm(
                    "Microsoft.Compute/virtualMachines",
                    vm,
                    {"hardwareProfile": {"vmSize": "Standard_B2ms"}},
                )
            )
            for vm in ("vm-hub00", "vm-spoke10")
        ),
        VirtualNetwork(arm("Microsoft.Network/virtualNetworks", "vnet-hub00", {})),
    ]
    billables = [b for b in map(cost.billable_from_model, models) if b is not None]
    assert [(b.kind, b.sku) for b in billables] == [
        ("virtual_network_gateway", "VpnGw1AZ"),
        ("bastion", "Standard"),
        ("virtual_machine", "Standard_B2ms"),
        ("virtual_machine", "Standard_B2ms"),
    ]
    estimate = cost.estimate_cost(billables, cost.bundled_prices())
    assert cost.stops_paying(estimate) == [
        "Stops paying about $0.82/hour ($19.62/day) for 1 VPN gateway, 1 Bastion, 2 VMs."
    ]


def test_stops_paying_nothing_billable_says_so() -> None:
    empty = cost.estimate_cost([], cost.bundled_prices())
    assert cost.stops_paying(empty) == ["Nothing in it billed by the hour."]
