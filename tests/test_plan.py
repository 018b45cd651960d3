"""Pure tests of hubvpn.plan: the resources of a topology, the order Azure imposes
on them, and the reachability the routing model predicts. No SDK, no emulator."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys
import tomllib
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import REFERENCE

from hubvpn.config import Topology, load_topology, parse_topology
from hubvpn.kinds import KINDS, Kind
from hubvpn.plan import (
    ConnectionSpec,
    GatewaySpec,
    LocalGatewaySpec,
    NicSpec,
    PeeringSpec,
    Plan,
    RouteSpec,
    RouteTableSpec,
    Step,
    VirtualNetworkSpec,
    build_plan,
)
from hubvpn.predict import predicted

GROUP = "resource_group:rg-multi-hub-vpn"
VMS = ("vm-hub00", "vm-spoke10", "vm-spoke20", "vm-hub100", "vm-spoke110", "vm-spoke120")
# spoke -> (its hub, the hub's gateway)
SPOKES = {
    "spoke10": ("hub00", "vpngw-hub01"),
    "spoke20": ("hub00", "vpngw-hub01"),
    "spoke110": ("hub100", "vpngw-hub02"),
    "spoke120": ("hub100", "vpngw-hub02"),
}


@cache
def reference_plan() -> Plan:
    return build_plan(load_topology(REFERENCE))


def reference_data() -> dict[str, Any]:
    return tomllib.loads(REFERENCE.read_text(encoding="utf-8"))


def hub_table(index: int, spokes: int = 1, location: str | None = None) -> dict[str, Any]:
    """hub<index> at 10.<40*index>.0.0/16, its spokes at the next /16s."""
    octet = 40 * index
    table: dict[str, Any] = {
        "name": f"hub{index}",
        "address_space": f"10.{octet}.0.0/16",
        "default_subnet": f"10.{octet}.0.0/24",
        "gateway_subnet": f"10.{octet}.200.0/24",
        "asn": 65150 + index,
        "spokes": [
            {
                "name": f"spoke{index}{n}",
                "address_space": f"10.{octet + n}.0.0/16",
                "default_subnet": f"10.{octet + n}.0.0/24",
            }
            for n in range(1, spokes + 1)
        ],
    }
    if location is not None:
        table["location"] = location
    return table


def lab(
    hubs: int,
    *,
    spokes: int = 1,
    links: list[tuple[str, str]] | None = None,
    locations: tuple[str, ...] | None = None,
) -> Topology:
    data: dict[str, Any] = {
        "name": "lab",
        "resource_group": "rg-lab",
        "location": "japaneast",
        "vm": {
            "size": "Standard_B2ms",
            "admin_username": "azureuser",
            "ssh_public_key_file": "~/.ssh/id_ed25519.pub",
        },
        "hubs": [hub_table(i, spokes, locations[i] if locations else None) for i in range(hubs)],
    }
    if links is not None:
        data["links"] = [{"hubs": list(pair)} for pair in links]
    return parse_topology(data, Path("lab.toml"))


def steps_of(plan: Plan, kind: str) -> list[Step]:
    return [s for s in plan.steps if s.kind == kind]


# ----------------------------------------------------------------- names


@pytest.mark.parametrize(
    "key",
    [
        "virtual_network:vnet-hub00",
        "virtual_network:vnet-spoke10",
        "public_ip:pip-vpngw-hub01",
        "public_ip:pip-vpngw-hub02",
        "virtual_network_gateway:vpngw-hub01",
        "virtual_network_gateway:vpngw-hub02",
        "local_network_gateway:lng-vpngw-hub01",
        "local_network_gateway:lng-vpngw-hub02",
        "connection:conn-vpngw-hub01-vpngw-hub02",
        "connection:conn-vpngw-hub02-vpngw-hub01",
        "peering:vnet-hub00/hub00-to-spoke10",
        "peering:vnet-spoke10/spoke10-to-hub00",
        "network_interface:nic-spoke10",
        "virtual_machine:vm-spoke10",
    ],
)
def test_build_plan_reference_names_resource_as_design(key: str) -> None:
    assert key in reference_plan().by_key


def test_build_plan_reference_has_one_step_per_resource() -> None:
    plan = reference_plan()
    assert len({s.key for s in plan.steps}) == len(plan.steps)
    assert Counter(s.kind for s in plan.steps) == {
        "resource_group": 1,
        "network_security_group": 6,
        "virtual_network": 6,
        "public_ip": 4,  # two gateways, two Bastions
        "virtual_network_gateway": 2,
        "bastion": 2,
        "local_network_gateway": 2,
        "connection": 2,
        "peering": 8,
        "network_watcher": 2,
        "network_interface": 6,
        "virtual_machine": 6,
        "vm_extension": 6,
    }


def test_build_plan_orders_every_dependency_before_its_dependent() -> None:
    seen: set[str] = set()
    for step in reference_plan().steps:
        assert set(step.depends_on) <= seen, step.key
        seen.add(step.key)


def test_build_plan_reference_hub_vnet_has_the_three_subnets() -> None:
    spec = reference_plan().step("virtual_network:vnet-hub00").spec
    assert isinstance(spec, VirtualNetworkSpec)
    assert spec.address_space == ("10.0.0.0/16",)
    assert [(s.name, s.prefix, s.network_security_group) for s in spec.subnets] == [
        ("default", "10.0.0.0/24", "nsg-hub00-default"),
        ("AzureBastionSubnet", "10.0.100.0/24", None),
        ("GatewaySubnet", "10.0.200.0/24", None),
    ]


def test_build_plan_places_hub100_and_its_spokes_in_its_own_location() -> None:
    plan = reference_plan()
    assert plan.step("virtual_network:vnet-hub00").location == "japaneast"
    for name in ("vnet-hub100", "vnet-spoke110", "vnet-spoke120"):
        assert plan.step(f"virtual_network:{name}").location == "japanwest"


# ---------------------------------------------------------- dependencies


@pytest.mark.parametrize(("spoke", "hub_and_gateway"), SPOKES.items())
def test_build_plan_spoke_peering_waits_for_hub_gateway(
    spoke: str, hub_and_gateway: tuple[str, str]
) -> None:
    hub, gateway = hub_and_gateway
    step = reference_plan().step(f"peering:vnet-{spoke}/{spoke}-to-{hub}")
    assert step.spec == PeeringSpec(f"vnet-{spoke}", f"vnet-{hub}", True, True, False, True)
    assert f"virtual_network_gateway:{gateway}" in step.depends_on


@pytest.mark.parametrize(("spoke", "hub_and_gateway"), SPOKES.items())
def test_build_plan_hub_peering_allows_transit_without_waiting_for_gateway(
    spoke: str, hub_and_gateway: tuple[str, str]
) -> None:
    hub = hub_and_gateway[0]
    step = reference_plan().step(f"peering:vnet-{hub}/{hub}-to-{spoke}")
    assert step.spec == PeeringSpec(f"vnet-{hub}", f"vnet-{spoke}", True, True, True, False)
    assert set(step.depends_on) == {f"virtual_network:vnet-{hub}", f"virtual_network:vnet-{spoke}"}


@pytest.mark.parametrize(
    ("local", "remote", "location", "asn"),
    [
        ("vpngw-hub01", "vpngw-hub02", "japaneast", 65151),
        ("vpngw-hub02", "vpngw-hub01", "japanwest", 65150),
    ],
)
def test_build_plan_local_network_gateway_waits_for_remote_gateway(
    local: str, remote: str, location: str, asn: int
) -> None:
    step = reference_plan().step(f"local_network_gateway:lng-{remote}")
    assert f"virtual_network_gateway:{remote}" in step.depends_on
    assert f"virtual_network_gateway:{local}" not in step.depends_on
    assert step.location == location  # beside the local gateway that connects to it
    assert step.spec == LocalGatewaySpec(remote, f"pip-{remote}", asn)


@pytest.mark.parametrize(
    ("local", "remote"), [("vpngw-hub01", "vpngw-hub02"), ("vpngw-hub02", "vpngw-hub01")]
)
def test_build_plan_connection_waits_for_its_gateway_and_its_local_network_gateway(
    local: str, remote: str
) -> None:
    step = reference_plan().step(f"connection:conn-{local}-{remote}")
    assert set(step.depends_on) == {
        f"virtual_network_gateway:{local}",
        f"local_network_gateway:lng-{remote}",
    }
    assert step.spec == ConnectionSpec(
        local, f"lng-{remote}", remote, ("vpngw-hub01", "vpngw-hub02")
    )


@pytest.mark.parametrize(
    ("gateway", "hub", "asn", "bgp_address"),
    [
        ("vpngw-hub01", "hub00", 65150, "10.0.200.254"),
        ("vpngw-hub02", "hub100", 65151, "10.100.200.254"),
    ],
)
def test_build_plan_gateway_waits_for_its_vnet_and_public_ip(
    gateway: str, hub: str, asn: int, bgp_address: str
) -> None:
    step = reference_plan().step(f"virtual_network_gateway:{gateway}")
    assert set(step.depends_on) == {f"virtual_network:vnet-{hub}", f"public_ip:pip-{gateway}"}
    assert step.spec == GatewaySpec(f"vnet-{hub}", f"pip-{gateway}", "VpnGw1AZ", asn, bgp_address)


@pytest.mark.parametrize("network", ["hub00", "spoke10", "spoke120"])
def test_build_plan_chains_vnet_nic_vm_and_extension(network: str) -> None:
    plan = reference_plan()
    nic = plan.step(f"network_interface:nic-{network}")
    vm = plan.step(f"virtual_machine:vm-{network}")
    extension = plan.step(f"vm_extension:vm-{network}/AzureNetworkWatcherExtension")
    assert nic.depends_on == (f"virtual_network:vnet-{network}",)
    assert vm.depends_on == (nic.key,)
    assert extension.depends_on == (vm.key,)


def test_build_plan_predicts_first_free_address_of_default_subnet() -> None:
    spec = reference_plan().step("network_interface:nic-spoke20").spec
    assert spec == NicSpec("vnet-spoke20", "default", "10.20.0.4")


def test_build_plan_adds_one_network_watcher_per_location() -> None:
    watchers = steps_of(reference_plan(), "network_watcher")
    assert [(s.name, s.location) for s in watchers] == [
        ("NetworkWatcher_japaneast", "japaneast"),
        ("NetworkWatcher_japanwest", "japanwest"),
    ]


def test_build_plan_without_vm_table_has_no_vm_nic_extension_or_watcher() -> None:
    data = reference_data()
    del data["vm"]
    plan = build_plan(parse_topology(data, Path("no-vm.toml")))
    kinds = {s.kind for s in plan.steps}
    assert kinds.isdisjoint(
        {"network_interface", "virtual_machine", "vm_extension", "network_watcher"}
    )
    assert predicted(plan, 22) == {}


# ------------------------------------------------------------------ links


@pytest.mark.parametrize("hubs", [3, 4])
def test_build_plan_joins_every_pair_of_hubs_by_default(hubs: int) -> None:
    plan = build_plan(lab(hubs))
    gateways = [f"vpngw-hub{i}" for i in range(hubs)]
    connections = steps_of(plan, "connection")
    assert len(connections) == hubs * (hubs - 1)
    assert {s.name for s in connections} == {
        f"conn-{a}-{b}" for a in gateways for b in gateways if a != b
    }
    for step in connections:
        assert isinstance(step.spec, ConnectionSpec)
        assert step.name == f"conn-{step.spec.gateway}-{step.spec.remote_gateway}"
        assert step.spec.local_network_gateway == f"lng-{step.spec.remote_gateway}"


def test_build_plan_with_links_joins_only_the_linked_hubs() -> None:
    plan = build_plan(lab(3, links=[("hub0", "hub1"), ("hub1", "hub2")]))
    assert sorted(s.name for s in steps_of(plan, "connection")) == [
        "conn-vpngw-hub0-vpngw-hub1",
        "conn-vpngw-hub1-vpngw-hub0",
        "conn-vpngw-hub1-vpngw-hub2",
        "conn-vpngw-hub2-vpngw-hub1",
    ]


def test_build_plan_multi_region_mesh_puts_each_connection_beside_its_gateways() -> None:
    # Azure wants a connection, its gateway and its local network gateway in one region
    # (ConnectionGatewaysInDifferentRegion); hubs of two regions cannot share one LNG.
    plan = build_plan(lab(3, locations=("japaneast", "japanwest", "eastus")))
    for step in steps_of(plan, "connection"):
        assert isinstance(step.spec, ConnectionSpec)
        gateway = plan.step(f"virtual_network_gateway:{step.spec.gateway}")
        lng = plan.step(f"local_network_gateway:{step.spec.local_network_gateway}")
        assert (gateway.location, lng.location) == (step.location, step.location), step.name


def test_build_plan_gives_both_directions_of_a_pair_one_key_pair() -> None:
    plan = build_plan(lab(3))
    pairs = Counter(s.spec.pair for s in steps_of(plan, "connection"))  # type: ignore[union-attr]
    assert set(pairs.values()) == {2}
    assert all(pair == tuple(sorted(pair)) for pair in pairs)


# ---------------------------------------------------------- critical path


def test_critical_path_runs_through_vnet_gateway_lng_and_connection() -> None:
    plan = reference_plan()
    total, chain = plan.critical_path()
    kinds = [s.kind for s in chain]
    assert kinds[-3:] == ["virtual_network_gateway", "local_network_gateway", "connection"]
    assert kinds[-4] in ("virtual_network", "public_ip")
    for before, after in itertools.pairwise(chain):
        assert before.key in after.depends_on
    assert total == sum(s.azure_s for s in chain)
    # 2 resource group + 5 NSG + 5 VNet + 1800 gateway + 30 LNG + 120 connection
    assert total == 1962.0


def test_critical_path_is_the_longest_chain() -> None:
    plan = reference_plan()
    total, _ = plan.critical_path()
    gateway, connection = KINDS[Kind.VIRTUAL_NETWORK_GATEWAY], KINDS[Kind.CONNECTION]
    assert total >= gateway.azure_s + connection.azure_s
    finish: dict[str, float] = {}
    for step in plan.steps:
        finish[step.key] = step.azure_s + max((finish[d] for d in step.depends_on), default=0.0)
    assert total == max(finish.values())


def test_critical_path_with_everything_kept_is_zero() -> None:
    plan = reference_plan()
    total, _ = plan.critical_path({s.key: 0.0 for s in plan.steps})
    assert total == 0.0


# ------------------------------------------------------------ spoke to spoke


def spoke_to_spoke_plan() -> Plan:
    data = reference_data()
    data["routing"]["spoke_to_spoke"] = True
    return build_plan(parse_topology(data, Path("spoke-to-spoke.toml")))


@pytest.mark.parametrize(
    ("spoke", "sibling", "prefix"),
    [
        ("spoke10", "spoke20", "10.20.0.0/16"),
        ("spoke20", "spoke10", "10.10.0.0/16"),
        ("spoke110", "spoke120", "10.120.0.0/16"),
        ("spoke120", "spoke110", "10.110.0.0/16"),
    ],
)
def test_build_plan_spoke_to_spoke_routes_sibling_spoke_via_gateway(
    spoke: str, sibling: str, prefix: str
) -> None:
    plan = spoke_to_spoke_plan()
    table = plan.step(f"route_table:rt-{spoke}")
    assert table.spec == RouteTableSpec(
        (RouteSpec(f"to-{sibling}", prefix, "VirtualNetworkGateway"),)
    )
    vnet = plan.step(f"virtual_network:vnet-{spoke}")
    assert table.key in vnet.depends_on
    assert isinstance(vnet.spec, VirtualNetworkSpec)
    assert vnet.spec.subnets[0].route_table == f"rt-{spoke}"


def test_build_plan_spoke_to_spoke_leaves_hubs_without_route_table() -> None:
    plan = spoke_to_spoke_plan()
    assert sorted(s.name for s in steps_of(plan, "route_table")) == [
        "rt-spoke10",
        "rt-spoke110",
        "rt-spoke120",
        "rt-spoke20",
    ]


def test_build_plan_spoke_to_spoke_skips_hub_with_a_single_spoke() -> None:
    data = {
        "name": "lab",
        "resource_group": "rg-lab",
        "location": "japaneast",
        "routing": {"spoke_to_spoke": True},
        "hubs": [hub_table(0, spokes=2), hub_table(1, spokes=1)],
    }
    plan = build_plan(parse_topology(data, Path("lab.toml")))
    assert sorted(s.name for s in steps_of(plan, "route_table")) == ["rt-spoke01", "rt-spoke02"]


def test_build_plan_without_spoke_to_spoke_has_no_route_table() -> None:
    assert steps_of(reference_plan(), "route_table") == []


# -------------------------------------------------------------- prediction


def test_predicted_reachability_from_spoke10_matches_the_measured_lab() -> None:
    expected = predicted(reference_plan(), 22)
    assert {dst: ok for (src, dst), ok in expected.items() if src == "vm-spoke10"} == {
        "vm-hub00": True,
        "vm-spoke20": False,  # peering is not transitive
        "vm-hub100": True,  # BGP over the VPN
        "vm-spoke110": True,
        "vm-spoke120": True,
    }


def test_predicted_reachability_covers_every_ordered_pair_of_vms() -> None:
    expected = predicted(reference_plan(), 22)
    assert set(expected) == {(a, b) for a in VMS for b in VMS if a != b}
    assert {pair for pair, ok in expected.items() if not ok} == {
        ("vm-spoke10", "vm-spoke20"),
        ("vm-spoke20", "vm-spoke10"),
        ("vm-spoke110", "vm-spoke120"),
        ("vm-spoke120", "vm-spoke110"),
    }


def test_predicted_reachability_with_spoke_to_spoke_reaches_every_pair() -> None:
    expected = predicted(spoke_to_spoke_plan(), 22)
    assert len(expected) == len(VMS) * (len(VMS) - 1)
    assert all(expected.values())


@pytest.mark.parametrize("hubs", [3, 4])
def test_predicted_reachability_full_mesh_reaches_every_pair(hubs: int) -> None:
    expected = predicted(build_plan(lab(hubs)), 22)
    vms = 2 * hubs
    assert len(expected) == vms * (vms - 1)
    assert all(expected.values())


def test_predicted_reachability_chain_of_hubs_transits_the_middle_gateway() -> None:
    expected = predicted(build_plan(lab(3, links=[("hub0", "hub1"), ("hub1", "hub2")])), 22)
    assert expected[("vm-spoke01", "vm-spoke21")] is True
    assert expected[("vm-hub2", "vm-hub0")] is True


def test_predicted_reachability_unlinked_hub_is_unreachable() -> None:
    data = copy.deepcopy(reference_data())
    data["hubs"].append(hub_table(5, spokes=0))
    plan = build_plan(parse_topology(data, Path("island.toml")))
    expected = predicted(plan, 22)
    assert expected[("vm-spoke10", "vm-hub5")] is False
    assert expected[("vm-hub5", "vm-hub00")] is False


# ------------------------------------------------------------------ purity


def test_import_plan_loads_no_azure_sdk() -> None:
    code = (
        "import sys, hubvpn.plan, hubvpn.config, hubvpn.routing; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'azure'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# Source: learn.microsoft.com/azure/vpn-gateway/about-gateway-skus (2026): VpnGw1AZ is listed
# only under Generation1; Generation2 starts at VpnGw2AZ. Azure refuses a mismatch with 400
# VirtualNetworkGatewaySkuCannotBeCreatedForSpecifiedVmGeneration.
@pytest.mark.parametrize(
    ("sku", "generation"),
    [
        ("VpnGw1AZ", "Generation1"),
        ("VpnGw2AZ", "Generation2"),
        ("VpnGw3AZ", "Generation2"),
        ("VpnGw4AZ", "Generation2"),
        ("VpnGw5AZ", "Generation2"),
    ],
)
def test_build_plan_gateway_generation_follows_the_sku(sku: str, generation: str) -> None:
    data = reference_data()
    data["gateway"]["sku"] = sku
    plan = build_plan(parse_topology(data, Path("sku.toml")))
    specs = [s.spec for s in steps_of(plan, "virtual_network_gateway")]
    assert [(s.sku, s.generation) for s in specs if isinstance(s, GatewaySpec)] == [
        (sku, generation),
        (sku, generation),
    ]
