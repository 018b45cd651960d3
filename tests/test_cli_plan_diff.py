"""plan as a diff at 80 columns: changed fields old → new, reasons, summary last,
and ``--detailed-exitcode`` as Terraform's (issue 12)."""

from __future__ import annotations

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
