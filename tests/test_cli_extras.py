"""plan's cost and diagram, and ssh, through Typer's runner with the exact text users see."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import COST_LINES, invoke, lines, reference_without_key
from emulator_helpers import REFERENCE


def test_plan_table_reference_lab_ends_with_cost_then_summary(state_dir: Path) -> None:
    result = invoke("plan", "-c", REFERENCE)
    assert result.exit_code == 0, result.output
    out = lines(result.stdout)
    assert out[-len(COST_LINES) - 2 : -2] == COST_LINES
    assert out[-2:] == ["", "Plan: 53 to create, 0 to update, 0 to delete, 0 unchanged."]
    assert max(len(line) for line in out[-len(COST_LINES) :]) <= 80


def test_plan_json_reference_lab_has_cost_object(state_dir: Path) -> None:
    result = invoke("plan", "-c", REFERENCE, "--output", "json")
    assert result.exit_code == 0, result.output
    cost = json.loads(result.stdout)["cost"]
    assert (cost["currency"], cost["source"], cost["date"]) == ("USD", "bundled", "2026-12-01")
    assert (cost["hourly"], cost["daily"]) == (1.8212, 43.71)
    assert [(i["kind"], i["region"], i["count"]) for i in cost["items"]] == [
        ("virtual_network_gateway", "japaneast", 1),
        ("virtual_network_gateway", "japanwest", 1),
        ("bastion", "japaneast", 1),
        ("bastion", "japanwest", 1),
        ("public_ip", "japaneast", 2),
        ("public_ip", "japanwest", 2),
        ("virtual_machine", "japaneast", 3),
        ("virtual_machine", "japanwest", 3),
    ]


def test_plan_diagram_before_deploy_prints_the_text_diagram(state_dir: Path) -> None:
    from test_diagram import REFERENCE_TEXT

    result = invoke("plan", "-c", REFERENCE, "--diagram")
    assert result.exit_code == 0, result.output
    assert result.stdout == REFERENCE_TEXT
    assert lines(result.stderr) == [
        "hubvpn plan · target: embedded emulator · topology multi-hub-vpn"
    ]


def test_plan_diagram_mermaid_prints_only_mermaid_on_stdout(state_dir: Path) -> None:
    from test_diagram import REFERENCE_MERMAID

    result = invoke("plan", "-c", REFERENCE, "--diagram", "mermaid")
    assert result.exit_code == 0, result.output
    assert result.stdout == REFERENCE_MERMAID


def test_plan_diagram_after_deploy_shows_connection_states(tmp_path: Path, state_dir: Path) -> None:
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config).exit_code == 0
    result = invoke("plan", "-c", config, "--diagram")
    assert result.exit_code == 0, result.output
    assert (
        "    conn-vpngw-hub01-vpngw-hub02 via lng-vpngw-hub02  Connected\n"
        "    conn-vpngw-hub02-vpngw-hub01 via lng-vpngw-hub01  Connected\n"
    ) in result.stdout


def test_plan_diagram_unknown_format_exits_2(state_dir: Path) -> None:
    result = invoke("plan", "-c", REFERENCE, "--diagram", "svg")
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        "error: unexpected argument 'svg': use --diagram [text|mermaid]"
    ]


def test_plan_format_without_diagram_flag_exits_2(state_dir: Path) -> None:
    result = invoke("plan", "-c", REFERENCE, "mermaid")
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        "error: unexpected argument 'mermaid': use --diagram [text|mermaid]"
    ]


def ssh_lines(state_dir: Path, vm: str, bastion: str) -> list[str]:
    return [
        f"az network bastion ssh --name {bastion} --resource-group rg-multi-hub-vpn \\",
        "  --target-resource-id /subscriptions/00000000-0000-0000-0000-000000000000"
        f"/resourceGroups/rg-multi-hub-vpn/providers/Microsoft.Compute/virtualMachines/{vm} \\",
        "  --auth-type ssh-key --username azureuser \\",
        f"  --ssh-key {state_dir}/ssh/id_ed25519_hubvpn",
    ]


def test_ssh_print_on_emulator_prints_command_and_exits_0(tmp_path: Path, state_dir: Path) -> None:
    result = invoke("ssh", "vm-spoke110", "-c", reference_without_key(tmp_path), "--print")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == ssh_lines(state_dir, "vm-spoke110", "bas-hub100")
    assert lines(result.stderr) == [
        "hubvpn ssh · target: embedded emulator · topology multi-hub-vpn, vm-spoke110",
        "the emulator has no VMs to log in to: run this against Azure",
    ]


def test_ssh_on_emulator_without_print_says_it_cannot_connect_and_exits_1(
    tmp_path: Path, state_dir: Path
) -> None:
    result = invoke("ssh", "hub00", "-c", reference_without_key(tmp_path))
    assert result.exit_code == 1
    assert lines(result.stdout) == ssh_lines(state_dir, "vm-hub00", "bas-hub00")
    assert lines(result.stderr)[-1] == (
        "the emulator has no VMs to log in to: run this against Azure"
    )


def test_ssh_unknown_vm_exits_2_listing_the_lab_vms(state_dir: Path) -> None:
    result = invoke("ssh", "vm-spoke99", "-c", REFERENCE, "--print")
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == (
        "error: no test VM 'vm-spoke99' in this topology: one of vm-hub00, vm-spoke10,"
        " vm-spoke20, vm-hub100, vm-spoke110, vm-spoke120"
    )
    assert result.stdout == ""
