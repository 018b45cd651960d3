"""plan as a diff at 80 columns: changed fields old → new, reasons, summary last,
and ``--detailed-exitcode`` as Terraform's (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import REFERENCE, invoke, lines, reference_with, writes

from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.plan import build_plan

COLUMNS_80 = {"COLUMNS": "80"}


@pytest.fixture
def deployed(tmp_path: Path, state_dir: Path) -> Path:
    """The reference lab deployed, its VMs pointed at an SSH key that does not exist."""
    key = tmp_path / "no-such-dir" / "id_ed25519.pub"
    config = reference_with(tmp_path, '"~/.ssh/id_ed25519.pub"', f'"{key}"')
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    return config


def resized(deployed: Path) -> Path:
    """The first hub's gateway one SKU larger and on another ASN; the second hub larger."""
    text = deployed.read_text(encoding="utf-8")
    text = text.replace('sku = "VpnGw1AZ"', 'sku = "VpnGw2AZ"', 1)
    text = text.replace("asn = 65150", "asn = 65160", 1)
    path = deployed.with_name("changed.toml")
    path.write_text(text, encoding="utf-8")
    return path


def test_plan_lists_changed_fields_old_to_new_under_each_update(deployed: Path) -> None:
    result = invoke("plan", "-c", resized(deployed), env=COLUMNS_80)
    assert result.exit_code == 0
    out = lines(result.stdout)
    assert out[:9] == [
        "multi-hub-vpn → rg-multi-hub-vpn: 53 resources (50 to keep, 3 to update)",
        "action  type           resource",
        "update  VPN gateway    vpngw-hub01",
        "    ~ sku.name VpnGw1AZ → VpnGw2AZ",
        "    ~ bgpSettings.asn 65150 → 65160",
        "update  VPN gateway    vpngw-hub02",
        "    ~ sku.name VpnGw1AZ → VpnGw2AZ",
        "update  local gateway  lng-vpngw-hub01",
        "    ~ bgpSettings.asn 65150 → 65160",
    ]
    assert out[-2:] == ["", "Plan: 0 to create, 3 to update, 0 to delete, 50 unchanged."]
    cost = out.index("Estimated cost: $2.18/hour, $52.30/day")
    assert cost < len(out) - 2  # the cost comes before the summary, which is last
    assert all(len(line) <= 80 for line in out[:9])


def test_plan_puts_dependencies_on_an_after_line_without_splitting_names(
    state_dir: Path,
) -> None:
    result = invoke("plan", "-c", REFERENCE, env=COLUMNS_80)
    assert result.exit_code == 0
    out = lines(result.stdout)
    gateway = out.index("create  VPN gateway      vpngw-hub01")
    assert out[gateway + 1 : gateway + 2] == ["    after vnet-hub00, pip-vpngw-hub01"]
    table = out[: next(i for i, line in enumerate(out) if line.startswith("Expected"))]
    afters = [line for line in table if line.startswith(("    after ", "          "))]
    assert afters and all(len(line) <= 80 for line in afters)
    names = {w.strip(",") for line in afters for w in line.split()} - {"after"}
    whole = {s.name for s in build_plan(load_topology(REFERENCE)).steps}
    assert names <= whole  # every name whole: none cut across lines
    assert out[-1] == "Plan: 53 to create, 0 to update, 0 to delete, 0 unchanged."


def test_plan_detailed_exitcode_is_2_with_changes_and_0_without(deployed: Path) -> None:
    assert invoke("plan", "-c", deployed, "--detailed-exitcode").exit_code == 0
    changed = invoke("plan", "-c", resized(deployed), "--detailed-exitcode", "-o", "json")
    assert changed.exit_code == 2
    assert lines(changed.stderr)[1:] == []


def test_plan_detailed_exitcode_is_1_when_a_step_is_blocked(
    clients: Clients, state_dir: Path
) -> None:
    from azure.mgmt.resource.resources import models

    clients.resource.resource_groups.create_or_update(
        "rg-multi-hub-vpn",
        models.ResourceGroup(location="japaneast", tags={"hubvpn-topology": "other-lab"}),
    )
    result = invoke("plan", "-c", REFERENCE, "--detailed-exitcode", env=COLUMNS_80)
    assert result.exit_code == 1
    out = lines(result.stdout)
    assert out[1:6] == [
        "action   type             resource",
        "blocked  resource group   rg-multi-hub-vpn",
        "    resource group 'rg-multi-hub-vpn' belongs to topology 'other-lab', not",
        "    'multi-hub-vpn': refusing to write into it (hubvpn touches only a group",
        "    tagged hubvpn-topology=multi-hub-vpn)",
    ]
    assert out[-1] == "Plan: 0 to create, 0 to update, 0 to delete, 0 unchanged, 53 blocked."
    assert lines(result.stderr)[1:] == ["error: 53 step(s) blocked: deploy would refuse them"]
    assert writes(state_dir) == [
        w for w in writes(state_dir) if w["path"].endswith("/resourcegroups/rg-multi-hub-vpn")
    ]


SPOKE20 = """  [[hubs.spokes]]
  name = "spoke20"
  address_space = "10.20.0.0/16"
  default_subnet = "10.20.0.0/24"
"""


def without_spoke20(deployed: Path) -> Path:
    text = deployed.read_text(encoding="utf-8")
    assert SPOKE20 in text
    path = deployed.with_name("removed.toml")
    path.write_text(text.replace(SPOKE20, ""), encoding="utf-8")
    return path


def test_plan_shows_removed_spoke_as_orphans_in_delete_order(deployed: Path) -> None:
    result = invoke("plan", "-c", without_spoke20(deployed), env=COLUMNS_80)
    assert result.exit_code == 0
    out = lines(result.stdout)
    assert out[:11] == [
        "multi-hub-vpn → rg-multi-hub-vpn: 46 resources (46 to keep, 7 orphaned)",
        "action  type          resource",
        "orphan  peering       vnet-hub00/hub00-to-spoke20",
        "orphan  peering       vnet-spoke20/spoke20-to-hub00",
        "orphan  VM extension  vm-spoke20/AzureNetworkWatcherExtension",
        "orphan  VM            vm-spoke20",
        "orphan  NIC           nic-spoke20",
        "orphan  VNet          vnet-spoke20",
        "orphan  NSG           nsg-spoke20-default",
        "7 resources are no longer in the topology: run hubvpn deploy --prune",
        "",
    ]
    assert out[-1] == "Plan: 0 to create, 0 to update, 0 to delete, 46 unchanged, 7 orphaned."


def test_plan_prune_json_lists_orphans_as_deletes_after_what_uses_them(
    deployed: Path,
) -> None:
    result = invoke("plan", "-c", without_spoke20(deployed), "--prune", "-o", "json")
    assert result.exit_code == 0
    steps = [s for s in json.loads(result.stdout)["steps"] if s["action"] != "keep"]
    assert [(s["action"], s["key"], s["dependsOn"]) for s in steps] == [
        ("delete", "peering:vnet-hub00/hub00-to-spoke20", []),
        ("delete", "peering:vnet-spoke20/spoke20-to-hub00", []),
        (
            "delete",
            "vm_extension:vm-spoke20/AzureNetworkWatcherExtension",
            ["peering:vnet-hub00/hub00-to-spoke20", "peering:vnet-spoke20/spoke20-to-hub00"],
        ),
        (
            "delete",
            "virtual_machine:vm-spoke20",
            ["vm_extension:vm-spoke20/AzureNetworkWatcherExtension"],
        ),
        ("delete", "network_interface:nic-spoke20", ["virtual_machine:vm-spoke20"]),
        ("delete", "virtual_network:vnet-spoke20", ["network_interface:nic-spoke20"]),
        (
            "delete",
            "network_security_group:nsg-spoke20-default",
            ["virtual_network:vnet-spoke20"],
        ),
    ]
    assert {(s["changes"] == [], s["reason"]) for s in steps} == {
        (True, "no longer in the topology")
    }
    assert steps[-1]["type"] == "Microsoft.Network/networkSecurityGroups"


def test_plan_never_calls_untagged_or_foreign_resources_orphans(
    deployed: Path, clients: Clients
) -> None:
    from azure.mgmt.network import models as n

    net = clients.network.network_security_groups
    net.begin_create_or_update(
        "rg-multi-hub-vpn", "nsg-mine", n.NetworkSecurityGroup(location="japaneast")
    ).result()
    net.begin_create_or_update(
        "rg-multi-hub-vpn",
        "nsg-theirs",
        n.NetworkSecurityGroup(location="japaneast", tags={"hubvpn-topology": "other-lab"}),
    ).result()
    result = invoke("plan", "-c", deployed, "--prune", "-o", "json")
    assert {s["action"] for s in json.loads(result.stdout)["steps"]} == {"keep"}


def test_deploy_names_orphans_then_prune_deletes_exactly_what_plan_listed(
    deployed: Path, state_dir: Path, clients: Clients
) -> None:
    removed = without_spoke20(deployed)
    kept = invoke("deploy", "-c", removed)
    assert kept.exit_code == 0
    assert lines(kept.stderr)[-1] == (
        "7 resources are no longer in the topology: run hubvpn deploy --prune"
    )
    plan = json.loads(invoke("plan", "-c", removed, "--prune", "-o", "json").stdout)
    listed = [s["name"] for s in plan["steps"] if s["action"] == "delete"]
    before = len(writes(state_dir))

    pruned = invoke("deploy", "-c", removed, "--prune")
    assert pruned.exit_code == 0, pruned.output
    assert lines(pruned.stderr)[-1] == (
        "Deleted 7 no longer in the topology: hub00-to-spoke20, spoke20-to-hub00, "
        "AzureNetworkWatcherExtension, vm-spoke20, nic-spoke20, vnet-spoke20, "
        "nsg-spoke20-default"
    )
    deletes = writes(state_dir)[before:]
    assert {r["method"] for r in deletes} == {"DELETE"}
    assert sorted(r["path"].rsplit("/", 1)[-1] for r in deletes) == sorted(listed)
    vnets = {v.name for v in clients.network.virtual_networks.list("rg-multi-hub-vpn")}
    assert "vnet-spoke20" not in vnets and "vnet-hub00" in vnets
    again = json.loads(invoke("plan", "-c", removed, "--prune", "-o", "json").stdout)
    assert {s["action"] for s in again["steps"]} == {"keep"}
