"""Convergence: a changed topology changes only what it must, and routing follows.

Each test deploys the reference lab on the emulator, edits the topology, deploys
again and reads the emulator's request log for the writes the second run sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_deploy import CONNECTIONS, deployed, reference_data, run, states, writes

from hubvpn.azure import Clients
from hubvpn.config import parse_topology
from hubvpn.errors import OwnershipError
from hubvpn.plan import Plan, build_plan
from hubvpn.preview import plan_against
from hubvpn.status import status
from hubvpn.verify import verify

__all__ = ["deployed"]  # the fixture, shared with test_deploy
GATEWAYS = ("vpngw-hub01", "vpngw-hub02")


def plan_of(data: dict[str, Any]) -> Plan:
    return build_plan(parse_topology(data, Path("edited.toml")))


def written_names(clients: Clients, since: int) -> list[str]:
    return sorted(r["path"].rsplit("/", 1)[-1] for r in writes(clients, since))


def request_count(clients: Clients) -> int:
    assert clients.emulator is not None
    return len(clients.emulator.store.requests())


def test_deploy_gateway_sku_change_updates_only_the_gateway_keeping_bgp(
    clients: Clients, deployed: Plan
) -> None:
    before = status(deployed, clients)
    data = reference_data()
    data["gateway"]["sku"] = "VpnGw2AZ"
    plan = plan_of(data)
    mark = request_count(clients)
    report, _ = run(plan, clients)
    assert report.ok
    assert written_names(clients, mark) == ["vpngw-hub01", "vpngw-hub02"]
    assert states(report)["virtual_network_gateway:vpngw-hub01"] == "updated"
    gateway = clients.network.virtual_network_gateways.get("rg-multi-hub-vpn", "vpngw-hub01")
    assert gateway.sku.name == "VpnGw2AZ"
    after = status(plan, clients)
    # The Azure-computed BGP fields survived the update and the tunnels stayed up.
    assert [g.bgp_peering_address for g in after.gateways] == [
        g.bgp_peering_address for g in before.gateways
    ]
    assert {c.connection_status for c in after.connections} == {"Connected"}


def test_deploy_added_hub_creates_its_set_and_links_without_touching_the_rest(
    clients: Clients, deployed: Plan
) -> None:
    data = reference_data()
    data["hubs"].append(
        {
            "name": "hub200",
            "address_space": "10.200.0.0/16",
            "default_subnet": "10.200.0.0/24",
            "gateway_subnet": "10.200.200.0/24",
            "asn": 65152,
        }
    )
    data["links"].append({"hubs": ["hub00", "hub200"]})
    plan = plan_of(data)
    mark = request_count(clients)
    report, _ = run(plan, clients)
    assert report.ok
    assert written_names(clients, mark) == sorted(
        [
            "nsg-hub200-default",
            "vnet-hub200",
            "pip-vpngw-hub200",
            "vpngw-hub200",
            "lng-vpngw-hub200",
            "lng-vpngw-hub01-japaneast",
            "conn-vpngw-hub01-vpngw-hub200",
            "conn-vpngw-hub200-vpngw-hub01",
            "nic-hub200",
            "vm-hub200",
            "AzureNetworkWatcherExtension",
        ]
    )
    probes = verify(plan, clients, 22).probes
    assert all(p.reachable == p.expected for p in probes)
    # hub100 reaches hub200 only through hub00's gateway: BGP transit.
    assert next(
        p for p in probes if (p.source, p.destination) == ("vm-hub100", "vm-hub200")
    ).reachable


def test_deploy_spoke_to_spoke_makes_sibling_spokes_reachable(
    clients: Clients, deployed: Plan
) -> None:
    data = reference_data()
    data["routing"]["spoke_to_spoke"] = True
    plan = plan_of(data)
    mark = request_count(clients)
    report, _ = run(plan, clients)
    assert report.ok
    assert written_names(clients, mark) == sorted(
        [
            "rt-spoke10",
            "rt-spoke20",
            "rt-spoke110",
            "rt-spoke120",
            "vnet-spoke10",
            "vnet-spoke20",
            "vnet-spoke110",
            "vnet-spoke120",
        ]
    )
    probes = {(p.source, p.destination): p for p in verify(plan, clients, 22).probes}
    assert probes[("vm-spoke10", "vm-spoke20")].reachable
    assert probes[("vm-spoke20", "vm-spoke10")].reachable
    assert all(p.reachable for p in probes.values())
    routes = status(plan, clients).effective_routes["vm-spoke10"]
    user = [r.as_json() for r in routes if r.source == "User"]
    assert user == [
        {
            "addressPrefix": ["10.20.0.0/16"],
            "nextHopType": "VirtualNetworkGateway",
            "source": "User",
            "state": "Active",
            "nextHopIpAddress": [],
        }
    ]


def test_deploy_chain_of_hubs_transits_bgp_through_the_middle(clients: Clients) -> None:
    data = reference_data()
    data["hubs"].append(
        {
            "name": "hub200",
            "address_space": "10.200.0.0/16",
            "default_subnet": "10.200.0.0/24",
            "gateway_subnet": "10.200.200.0/27",
            "asn": 65152,
            "location": "westeurope",
        }
    )
    data["links"] = [{"hubs": ["hub00", "hub100"]}, {"hubs": ["hub100", "hub200"]}]
    plan = plan_of(data)
    report, _ = run(plan, clients)
    assert report.ok, [o.detail for o in report.failed]
    gateways = {g.name: g for g in status(plan, clients).gateways}
    learned = {r.network: r.as_path for r in gateways["vpngw-hub01"].learned_routes}
    assert learned["10.200.0.0/16"] == "65151 65152"
    assert learned["10.110.0.0/16"] == "65151"
    assert all(p.reachable == p.expected for p in verify(plan, clients, 22).probes)


def test_deploy_refuses_to_move_a_resource_to_another_region(
    clients: Clients, deployed: Plan
) -> None:
    # Listing hub200 (japaneast) before hub100 makes japaneast the home of
    # lng-vpngw-hub01, which exists in japanwest: Azure cannot move it.
    data = reference_data()
    hub200 = {
        "name": "hub200",
        "address_space": "10.200.0.0/16",
        "default_subnet": "10.200.0.0/24",
        "gateway_subnet": "10.200.200.0/24",
        "asn": 65152,
    }
    data["hubs"].insert(1, hub200)
    data["links"].append({"hubs": ["hub00", "hub200"]})
    plan = plan_of(data)
    mark = request_count(clients)
    report, _ = run(plan, clients)
    assert not report.ok
    failed = {o.step.name: o.detail for o in report.failed}
    # ... and hub100's connection would have to be re-pointed to a new LNG, which Azure
    # refuses in place: both are reported, nothing else fails.
    assert sorted(failed) == ["conn-vpngw-hub02-vpngw-hub01", "lng-vpngw-hub01"]
    assert failed["conn-vpngw-hub02-vpngw-hub01"] == (
        "conn-vpngw-hub02-vpngw-hub01 would have to move from lng-vpngw-hub01 to "
        "lng-vpngw-hub01-japanwest, which Azure refuses in place (PropertyChangeNotAllowed): "
        "delete the connection, then deploy"
    )
    assert (
        "exists in japanwest but the topology now places it in japaneast"
        in failed["lng-vpngw-hub01"]
    )
    written = written_names(clients, mark)
    assert "lng-vpngw-hub01" not in written
    assert "conn-vpngw-hub02-vpngw-hub01" not in written


def test_deploy_reference_creates_vpngw1az_gateways_in_generation1(
    clients: Clients, deployed: Plan
) -> None:
    # about-gateway-skus (2026): VpnGw1AZ exists only as Generation1.
    ops = clients.network.virtual_network_gateways
    generations = {ops.get("rg-multi-hub-vpn", n).vpn_gateway_generation for n in GATEWAYS}
    assert generations == {"Generation1"}


def test_deploy_after_a_platform_generation_change_writes_nothing(clients: Clients) -> None:
    # VpnGw2AZ exists in both generations: hubvpn creates Generation2, and a gateway that
    # Azure reports in Generation1 is not drift (the generation is the platform's to choose).
    data = reference_data()
    data["gateway"]["sku"] = "VpnGw2AZ"
    plan = plan_of(data)
    assert run(plan, clients)[0].ok
    ops = clients.network.virtual_network_gateways
    assert {ops.get("rg-multi-hub-vpn", n).vpn_gateway_generation for n in GATEWAYS} == {
        "Generation2"
    }
    gateway = ops.get("rg-multi-hub-vpn", GATEWAYS[0])
    gateway.vpn_gateway_generation = "Generation1"
    ops.begin_create_or_update("rg-multi-hub-vpn", GATEWAYS[0], gateway).result()
    mark = request_count(clients)
    report, _ = run(plan, clients)
    assert report.ok
    assert written_names(clients, mark) == []


# ------------------------------------------- plan says what deploy does (issue 11)


def planned(data: dict[str, Any], clients: Clients, shared_key: str | None = None) -> PlanView:
    result = plan_against(parse_topology(data, Path("edited.toml")), clients, shared_key)
    return PlanView(result.as_json()["steps"])


class PlanView:
    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.all = steps
        self.steps = {s["name"]: s for s in steps}  # by name, where names are unique

    def writes(self) -> list[str]:
        """Names of what plan says deploy writes (one per resource, as the request log)."""
        return sorted(s["name"] for s in self.all if s["action"] in ("create", "update", "delete"))

    def action(self, name: str) -> tuple[str, str | None]:
        return self.steps[name]["action"], self.steps[name]["reason"]


def test_plan_with_another_shared_key_updates_both_connections_as_deploy_does(
    clients: Clients, deployed: Plan
) -> None:
    view = planned(reference_data(), clients, "Another-psk-for-tests-77")
    assert view.writes() == list(CONNECTIONS)
    assert view.steps[CONNECTIONS[0]]["changes"] == [
        {"path": "sharedKey", "old": "(sensitive)", "new": "(sensitive)"}
    ]
    mark = request_count(clients)
    report, _ = run(deployed, clients, shared_key="Another-psk-for-tests-77")
    assert report.ok
    assert written_names(clients, mark) == view.writes()


def test_plan_after_an_asn_change_lists_the_local_gateways_deploy_updates(
    clients: Clients, deployed: Plan
) -> None:
    data = reference_data()
    data["hubs"][0]["asn"] = 65160
    view = planned(data, clients)
    assert view.steps["lng-vpngw-hub01"]["changes"] == [
        {"path": "bgpSettings.asn", "old": 65150, "new": 65160}
    ]
    mark = request_count(clients)
    report, _ = run(plan_of(data), clients)
    assert report.ok, [o.detail for o in report.failed]
    assert written_names(clients, mark) == view.writes()
    assert "lng-vpngw-hub01" in view.writes()
    assert planned(data, clients).writes() == []


def test_plan_blocks_a_region_move_with_the_reason_deploy_gives(
    clients: Clients, deployed: Plan
) -> None:
    data = reference_data()
    data["hubs"].insert(
        1,
        {
            "name": "hub200",
            "address_space": "10.200.0.0/16",
            "default_subnet": "10.200.0.0/24",
            "gateway_subnet": "10.200.200.0/24",
            "asn": 65152,
        },
    )
    data["links"].append({"hubs": ["hub00", "hub200"]})
    view = planned(data, clients)
    mark = request_count(clients)
    report, _ = run(plan_of(data), clients)
    failed = {o.step.name: o.detail for o in report.failed}
    assert {n: view.action(n) for n in failed} == {n: ("blocked", r) for n, r in failed.items()}
    assert written_names(clients, mark) == view.writes()


def test_plan_blocks_every_step_in_a_group_of_another_topology(clients: Clients) -> None:
    from azure.mgmt.resource.resources import models

    clients.resource.resource_groups.create_or_update(
        "rg-multi-hub-vpn",
        models.ResourceGroup(location="japaneast", tags={"hubvpn-topology": "x"}),
    )
    view = planned(reference_data(), clients)
    reason = (
        "resource group 'rg-multi-hub-vpn' belongs to topology 'x', not 'multi-hub-vpn': "
        "refusing to write into it (hubvpn touches only a group tagged "
        "hubvpn-topology=multi-hub-vpn)"
    )
    assert {(s["action"], s["reason"]) for s in view.all} == {("blocked", reason)}
    with pytest.raises(OwnershipError) as raised:
        run(plan_of(reference_data()), clients)
    assert str(raised.value) == reason


def fail_in_emulator(clients: Clients, resource_id: str) -> None:
    """Leave a resource Failed, as an operation that ended Failed does. No Azure API sets
    that state, so this is the one place a test writes the emulator's store directly."""
    assert clients.emulator is not None
    with clients.emulator.store.transaction() as tx:
        record = tx.get(resource_id)
        assert record is not None
        record["state"] = "Failed"
        tx.put(record)


def test_plan_recreates_a_failed_resource_as_deploy_does(clients: Clients, deployed: Plan) -> None:
    nsg = clients.network.network_security_groups.get("rg-multi-hub-vpn", "nsg-spoke10-default")
    fail_in_emulator(clients, nsg.id)
    view = planned(reference_data(), clients)
    assert view.action("nsg-spoke10-default") == (
        "create",
        "re-created: the earlier attempt ended in state Failed",
    )
    mark = request_count(clients)
    assert run(deployed, clients)[0].ok
    assert written_names(clients, mark) == view.writes() == ["nsg-spoke10-default"]
    assert planned(reference_data(), clients).writes() == []


def test_deploy_bastion_without_native_client_support_updates_only_that_bastion(
    clients: Clients, deployed: Plan
) -> None:
    # `az network bastion ssh` needs Standard with enableTunneling (issue 13).
    ops = clients.network.bastion_hosts
    assert ops.get("rg-multi-hub-vpn", "bas-hub00").enable_tunneling is True
    bastion = ops.get("rg-multi-hub-vpn", "bas-hub00")
    bastion.enable_tunneling = False
    ops.begin_create_or_update("rg-multi-hub-vpn", "bas-hub00", bastion).result()
    view = planned(reference_data(), clients)
    assert view.writes() == ["bas-hub00"]
    assert view.steps["bas-hub00"]["changes"] == [
        {"path": "enableTunneling", "old": False, "new": True}
    ]
    mark = request_count(clients)
    report, _ = run(deployed, clients)
    assert report.ok
    assert written_names(clients, mark) == ["bas-hub00"]
    assert ops.get("rg-multi-hub-vpn", "bas-hub00").enable_tunneling is True
