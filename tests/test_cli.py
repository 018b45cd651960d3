"""The command line through Typer's runner: exit codes and the exact text users see.

Every command runs on the embedded emulator in the test's own state directory.
stdout carries results (tables, JSON) and stderr carries the header, progress and
errors, so each test reads the stream the user would.
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import REFERENCE
from typer.testing import CliRunner, Result

from hubvpn.azure import Clients
from hubvpn.cli import app
from hubvpn.console import ProbeCount
from hubvpn.emulator.store import Store

# A wide terminal, so that long paths stay on one line, and none of the user's
# own settings (target, colours) leak in.
ENV: dict[str, str | None] = {
    "COLUMNS": "500",
    "HUBVPN_TARGET": None,
    "FORCE_COLOR": None,
    "NO_COLOR": None,
    "TTY_COMPATIBLE": None,
    "TTY_INTERACTIVE": None,
}
COMMANDS = ("deploy", "status", "verify", "plan", "destroy")
NO_SUBSCRIPTION = (
    "error: no Azure subscription configured: pass --subscription, set "
    "AZURE_SUBSCRIPTION_ID, or run 'az login'"
)
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PROGRESS = re.compile(r"\[\s*\d+\.\ds\] (creating|created)\s+\S")


def invoke(*args: str | Path, env: dict[str, str | None] | None = None, input: str = "") -> Result:
    runner = CliRunner(env=ENV)
    return runner.invoke(
        app, [str(a) for a in args], env=env, input=input or None, prog_name="hubvpn"
    )


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def requests(state_dir: Path) -> list[dict[str, Any]]:
    return Store(state_dir).requests()


def writes(state_dir: Path) -> list[dict[str, Any]]:
    return [r for r in requests(state_dir) if r["method"] in ("PUT", "PATCH", "DELETE")]


def reference_with(tmp_path: Path, old: str, new: str, name: str = "topology.toml") -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.fixture
def missing_key(tmp_path: Path) -> Path:
    return tmp_path / "no-such-dir" / "id_ed25519.pub"


@pytest.fixture
def config(tmp_path: Path, state_dir: Path, missing_key: Path) -> Path:
    """The reference lab, its VMs pointed at an SSH key that does not exist."""
    return reference_with(tmp_path, '"~/.ssh/id_ed25519.pub"', f'"{missing_key}"')


@pytest.fixture
def deployed(config: Path) -> Path:
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    return config


# ------------------------------------------------------------------- help


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:", 1)[1]
    assert re.findall(r"^\s+([a-z]+)\s{2,}\S", commands, re.MULTILINE) == [
        *COMMANDS,
        "ssh",
        "probe",
        "emulator",
    ]


def test_help_of_emulator_lists_its_commands() -> None:
    result = invoke("emulator", "--help")
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:", 1)[1]
    assert re.findall(r"^\s+([a-z]+)\s{2,}\S", commands, re.MULTILINE) == [
        "serve",
        "requests",
        "reset",
    ]


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize("command", COMMANDS)
def test_command_with_bad_topology_exits_2_naming_file_and_key(
    command: str, tmp_path: Path, state_dir: Path
) -> None:
    bad = reference_with(tmp_path, "asn = 65151", "asn = 65515")
    result = invoke(command, "-c", bad)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert lines(result.stderr) == [
        f"error: {bad}: hubs[1].asn: 65515 is reserved by Azure; use a private ASN such as "
        "64512-65514 or 65521-65534"
    ]
    assert requests(state_dir) == []  # nothing was sent


def test_deploy_with_every_problem_listed_one_per_line(tmp_path: Path, state_dir: Path) -> None:
    bad = reference_with(tmp_path, 'name = "spoke120"', 'name = "spoke120"\n  colour = "red"')
    bad.write_text(
        bad.read_text(encoding="utf-8").replace(
            'address_space = "10.110.0.0/16"', 'address_space = "10.10.0.0/16"'
        ),
        encoding="utf-8",
    )
    result = invoke("deploy", "-c", bad)
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        f"error: {bad}: hubs[1].spokes[0].default_subnet: 10.110.0.0/24 is outside the "
        "VNet's address space 10.10.0.0/16 (hubs[1].spokes[0].address_space)",
        f"error: {bad}: hubs[1].spokes[1].colour: unknown key; allowed: name, address_space, "
        "default_subnet",
        f"error: {bad}: hubs[1].spokes[0].address_space: 10.10.0.0/16 overlaps 10.10.0.0/16 "
        "(hubs[0].spokes[0].address_space); VNet address spaces must not overlap",
    ]


def test_deploy_with_toml_syntax_error_exits_2(tmp_path: Path, state_dir: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text('name = "lab"\nresource_group = \n', encoding="utf-8")
    result = invoke("deploy", "-c", bad)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: invalid TOML: ")
    assert len(lines(result.stderr)) == 1


def test_bad_topology_error_stays_on_one_line_when_not_a_terminal(
    tmp_path: Path, state_dir: Path
) -> None:
    bad = reference_with(tmp_path, "asn = 65151", "asn = 65515", name=f"{'d' * 150}/lab.toml")
    result = invoke("plan", "-c", bad, env={"COLUMNS": None})
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        f"error: {bad}: hubs[1].asn: 65515 is reserved by Azure; use a private ASN such as "
        "64512-65514 or 65521-65534"
    ]


def test_missing_config_file_exits_2(tmp_path: Path, state_dir: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    result = invoke("plan", "-c", missing)
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        f"error: {missing}: cannot read file: No such file or directory"
    ]


def test_default_config_missing_in_current_directory_exits_2(
    tmp_path: Path, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("status")
    assert result.exit_code == 2
    assert lines(result.stderr) == [
        "error: config/topology.toml: cannot read file: No such file or directory"
    ]


@pytest.mark.parametrize("how", ["option", "env"])
def test_unknown_target_exits_2(how: str, state_dir: Path) -> None:
    if how == "option":
        result = invoke("plan", "-c", REFERENCE, "--target", "nope")
    else:
        result = invoke("plan", "-c", REFERENCE, env={"HUBVPN_TARGET": "nope"})
    assert result.exit_code == 2
    assert "Invalid value for '--target'" in result.stderr
    assert "'nope' is not one of 'auto', 'azure', 'emulator'" in result.stderr
    assert requests(state_dir) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_target_azure_without_subscription_exits_2(command: str, state_dir: Path) -> None:
    result = invoke(command, "-c", REFERENCE, "--target", "azure")
    assert result.exit_code == 2
    assert lines(result.stderr) == [NO_SUBSCRIPTION]


def test_target_azure_from_env_without_subscription_exits_2(state_dir: Path) -> None:
    result = invoke("status", "-c", REFERENCE, env={"HUBVPN_TARGET": "azure"})
    assert result.exit_code == 2
    assert lines(result.stderr) == [NO_SUBSCRIPTION]


def test_verify_port_out_of_range_exits_2(state_dir: Path) -> None:
    result = invoke("verify", "-c", REFERENCE, "--port", "0")
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.stderr


def without_vm_table(tmp_path: Path) -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    start, end = text.index("[vm]"), text.index("[gateway]")
    path = tmp_path / "no-vm.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return path


def with_unlinked_hub(tmp_path: Path) -> Path:
    hub200 = (
        '[[hubs]]\nname = "hub200"\naddress_space = "10.200.0.0/16"\n'
        'default_subnet = "10.200.0.0/24"\ngateway_subnet = "10.200.200.0/24"\n'
        'asn = 65152\n\n[[links]]\nhubs = ["hub00"'
    )
    return reference_with(tmp_path, '[[links]]\nhubs = ["hub00"', hub200, name="island.toml")


def test_verify_without_vm_table_exits_2(tmp_path: Path, state_dir: Path) -> None:
    no_vm = without_vm_table(tmp_path)
    result = invoke("verify", "-c", no_vm)
    assert result.exit_code == 2
    assert len(lines(result.stderr)) == 1
    assert result.stderr.startswith(f"error: {no_vm}: no ")
    assert result.stderr.endswith(" table: there are no test VMs to probe from\n")


def test_plan_with_unlinked_hub_warns_and_goes_on(tmp_path: Path, state_dir: Path) -> None:
    island = with_unlinked_hub(tmp_path)
    result = invoke("plan", "-c", island, "--output", "json")
    assert result.exit_code == 0
    assert any(
        line.startswith(f"warning: {island}: hubs[2]: hub 'hub200' is in no ")
        for line in lines(result.stderr)
    )


@pytest.mark.parametrize("case", ["no-vm-table", "hubs-not-array", "bracket-in-path", "warning"])
def test_messages_keep_square_brackets(case: str, tmp_path: Path, state_dir: Path) -> None:
    if case == "no-vm-table":
        path = without_vm_table(tmp_path)
        result = invoke("verify", "-c", path)
        expected = f"error: {path}: no [vm] table: there are no test VMs to probe from"
    elif case == "hubs-not-array":
        path = reference_with(tmp_path, "[[hubs]]", "[hubs]")
        path.write_text(path.read_text(encoding="utf-8").split("[[hubs]]")[0], encoding="utf-8")
        result = invoke("plan", "-c", path)
        expected = f"error: {path}: hubs: expected an array of tables ([[hubs]]), got table"
    elif case == "bracket-in-path":
        path = reference_with(tmp_path, "asn = 65151", "asn = 65515", name="[lab]/t.toml")
        result = invoke("plan", "-c", path)
        expected = (
            f"error: {path}: hubs[1].asn: 65515 is reserved by Azure; use a private ASN such "
            "as 64512-65514 or 65521-65534"
        )
    else:
        path = with_unlinked_hub(tmp_path)
        result = invoke("plan", "-c", path, "--output", "json")
        expected = (
            f"warning: {path}: hubs[2]: hub 'hub200' is in no [[links]] entry: no VPN joins it"
        )
    assert expected in lines(result.stderr)


def test_plan_with_warning_still_names_target_first(tmp_path: Path, state_dir: Path) -> None:
    result = invoke("plan", "-c", with_unlinked_hub(tmp_path), "--output", "json")
    assert lines(result.stderr)[0] == (
        "hubvpn plan · target: embedded emulator · topology multi-hub-vpn"
    )


def test_deploy_with_unusable_public_key_exits_2(tmp_path: Path, state_dir: Path) -> None:
    key = tmp_path / "id.pub"
    key.write_text("not a key\n", encoding="utf-8")
    config = reference_with(tmp_path, '"~/.ssh/id_ed25519.pub"', f'"{key}"')
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 2
    assert lines(result.stderr)[1:] == [
        f"error: {key} is not an OpenSSH public key (ssh-ed25519/ssh-rsa ...)"
    ]
    assert requests(state_dir) == []


# ----------------------------------------------------------------- deploy


def test_deploy_on_emulator_exits_0_naming_target_first(
    config: Path, state_dir: Path, missing_key: Path
) -> None:
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    out = lines(result.stderr)
    assert (
        out[0] == f"hubvpn deploy · target: embedded emulator · topology multi-hub-vpn ({config})"
    )
    assert re.fullmatch(r"Deployed in \d+\.\d s: 53 created\.", out[-1])
    end = out.index("Resources:")
    # A slow machine may add heartbeats ("still creating ...") between the events.
    progress = [line for line in out[1:end] if "] still " not in line]
    assert len(progress) == 2 * 53  # creating, then created, for each resource
    assert all(PROGRESS.match(line) for line in progress), progress
    assert len(out[end + 1 : end + 14]) == 13  # one line per kind
    assert out[end + 14 :] == [
        "Addresses:",
        "  vpngw-hub01  public 20.202.145.67  BGP 10.0.200.254 (AS 65150)",
        "  vpngw-hub02  public 20.193.125.221  BGP 10.100.200.254 (AS 65151)",
        "  vm-hub00  private 10.0.0.4",
        "  vm-hub100  private 10.100.0.4",
        "  vm-spoke10  private 10.10.0.4",
        "  vm-spoke110  private 10.110.0.4",
        "  vm-spoke120  private 10.120.0.4",
        "  vm-spoke20  private 10.20.0.4",
        "Next: hubvpn verify · hubvpn ssh vm-spoke10 · hubvpn destroy",
        f"{missing_key} not found: the VMs use the key pair "
        f"{state_dir / 'ssh' / 'id_ed25519_hubvpn'} (private key, mode 0600), generated now",
        out[-1],
    ]
    assert any(line.endswith("] created   VPN gateway vpngw-hub01") for line in progress)
    assert any(
        line.endswith("] created   peering vnet-spoke10/spoke10-to-hub00") for line in progress
    )


def test_deploy_twice_reports_everything_unchanged(deployed: Path, state_dir: Path) -> None:
    before = len(requests(state_dir))
    result = invoke("deploy", "-c", deployed)
    assert result.exit_code == 0
    assert re.fullmatch(r"Deployed in \d+\.\d s: 53 unchanged\.", lines(result.stderr)[-1])
    assert not any("key pair" in line for line in lines(result.stderr))  # said once
    sent = requests(state_dir)[before:]
    assert sent
    assert [r for r in sent if r["method"] in ("PUT", "PATCH", "DELETE")] == []


def test_deploy_into_group_of_other_topology_exits_1(
    config: Path, clients: Clients, state_dir: Path
) -> None:
    from azure.mgmt.resource.resources import models

    clients.resource.resource_groups.create_or_update(
        "rg-multi-hub-vpn",
        models.ResourceGroup(location="japaneast", tags={"hubvpn-topology": "other-lab"}),
    )
    before = len(writes(state_dir))
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 1
    assert lines(result.stderr)[-1] == (
        "error: resource group 'rg-multi-hub-vpn' belongs to topology 'other-lab', not "
        "'multi-hub-vpn': refusing to write into it (hubvpn touches only a group tagged "
        "hubvpn-topology=multi-hub-vpn). Nothing was written."
    )
    assert len(writes(state_dir)) == before


def test_deploy_generated_key_is_private_and_never_printed(deployed: Path, state_dir: Path) -> None:
    private = state_dir / "ssh" / "id_ed25519_hubvpn"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    secret = private.read_text(encoding="utf-8")
    body = [line for line in secret.splitlines() if line and not line.startswith("-----")]
    assert body

    outputs = [
        invoke("deploy", "-c", deployed),
        invoke("status", "-c", deployed),
        invoke("status", "-c", deployed, "--output", "json"),
        invoke("verify", "-c", deployed, "--output", "json"),
        invoke("plan", "-c", deployed, "--output", "json"),
        invoke("emulator", "requests", "--output", "json"),
    ]
    assert [r.exit_code for r in outputs] == [0] * len(outputs)
    assert private.read_text(encoding="utf-8") == secret  # reused, not regenerated
    for result in outputs:
        for line in body:
            assert line not in result.output


def test_deploy_shared_key_from_env_is_never_printed(config: Path, state_dir: Path) -> None:
    key = "Psk-from-env-9b8e7f6a"
    env = {"HUBVPN_SHARED_KEY": key}
    outputs = [
        invoke("deploy", "-c", config, env=env),
        invoke("status", "-c", config, "--output", "json", env=env),
        invoke("deploy", "-c", config, env=env),
        invoke("emulator", "requests", "--output", "json"),
    ]
    assert [r.exit_code for r in outputs] == [0, 0, 0, 0]
    assert all(key not in r.output for r in outputs)


# ----------------------------------------------------------------- status


def test_status_json_after_deploy_has_contract_keys(deployed: Path) -> None:
    result = invoke("status", "-c", deployed, "--output", "json")
    assert result.exit_code == 0
    assert lines(result.stderr) == [
        "hubvpn status · target: embedded emulator · topology multi-hub-vpn"
    ]
    data = json.loads(result.stdout)
    assert (data["target"], data["topology"], data["resource_group"]) == (
        "emulator",
        "multi-hub-vpn",
        "rg-multi-hub-vpn",
    )
    assert data["resources"]
    for resource in data["resources"]:
        assert {"id", "type", "name", "provisioningState"} <= resource.keys()
    vnet = next(r for r in data["resources"] if r["name"] == "vnet-hub00")
    assert (vnet["type"], vnet["provisioningState"]) == (
        "Microsoft.Network/virtualNetworks",
        "Succeeded",
    )
    assert [(c["name"], c["connectionStatus"]) for c in data["connections"]] == [
        ("conn-vpngw-hub01-vpngw-hub02", "Connected"),
        ("conn-vpngw-hub02-vpngw-hub01", "Connected"),
    ]
    hub01 = next(g for g in data["gateways"] if g["name"] == "vpngw-hub01")
    assert (hub01["asn"], hub01["bgpPeeringAddress"]) == (65150, "10.0.200.254")
    assert [
        {k: p[k] for k in ("neighbor", "asn", "state", "routesReceived")} for p in hub01["peers"]
    ] == [{"neighbor": "10.100.200.254", "asn": 65151, "state": "Connected", "routesReceived": 3}]
    assert {
        "network": "10.110.0.0/16",
        "nextHop": "10.100.200.254",
        "origin": "EBgp",
        "asPath": "65151",
        "sourcePeer": "10.100.200.254",
        "weight": 32768,
    } in hub01["learnedRoutes"]
    routes = data["effectiveRoutes"]
    assert sorted(routes) == sorted(
        ["vm-hub00", "vm-spoke10", "vm-spoke20", "vm-hub100", "vm-spoke110", "vm-spoke120"]
    )
    assert {
        "addressPrefix": ["10.100.0.0/16"],
        "nextHopType": "VirtualNetworkGateway",
        "source": "VirtualNetworkGateway",
    }.items() <= next(
        r for r in routes["vm-spoke10"] if r["addressPrefix"] == ["10.100.0.0/16"]
    ).items()


def test_status_table_after_deploy_shows_connections_and_bgp(deployed: Path) -> None:
    result = invoke("status", "-c", deployed)
    assert result.exit_code == 0
    out = lines(result.stdout)
    assert re.fullmatch(
        r"multi-hub-vpn in rg-multi-hub-vpn: (\d+) resources \(\1 Succeeded\)", out[0]
    )
    assert "conn-vpngw-hub01-vpngw-hub02  Connected" in out
    assert "conn-vpngw-hub02-vpngw-hub01  Connected" in out
    # grouped by hub: each hub's gateway, its BGP peers (az's columns), then its VMs'
    # effective routes
    hub00, hub100 = out.index("hub00 (japaneast)"), out.index("hub100 (japanwest)")
    assert out[hub00 + 1] == "  gateway vpngw-hub01  AS 65150  BGP 10.0.200.254"
    assert out[hub00 + 2] == "BGP peers of vpngw-hub01"
    assert out[hub00 + 4].split() == [
        "10.100.200.254",
        "65151",
        "Connected",
        "01:00:00.0000000",
        "3",
        "0",
        "0",
    ]
    assert out[hub100 + 1] == "  gateway vpngw-hub02  AS 65151  BGP 10.100.200.254"
    assert out[hub100 + 4].split()[:5] == [
        "10.0.200.254",
        "65150",
        "Connected",
        "01:00:00.0000000",
        "3",
    ]
    spoke10 = out.index("Effective routes of vm-spoke10 (7 Default hidden; --all shows them)")
    assert hub00 < spoke10 < hub100


def test_status_undeployed_exits_0_with_empty_lists(state_dir: Path) -> None:
    result = invoke("status", "-c", REFERENCE, "--output", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["target"], data["topology"], data["resource_group"]) == (
        "emulator",
        "multi-hub-vpn",
        "rg-multi-hub-vpn",
    )
    assert (data["resources"], data["connections"], data["gateways"]) == ([], [], [])
    assert data["effectiveRoutes"] == {}
    assert writes(state_dir) == []


def test_status_table_undeployed_says_so(state_dir: Path) -> None:
    result = invoke("status", "-c", REFERENCE)
    assert result.exit_code == 0
    assert lines(result.stdout) == [
        "Topology multi-hub-vpn is not deployed (resource group rg-multi-hub-vpn does not exist)."
    ]


# ----------------------------------------------------------------- verify


def test_verify_json_after_deploy_matches_prediction(deployed: Path) -> None:
    result = invoke("verify", "-c", deployed, "--output", "json")
    assert result.exit_code == 0
    assert lines(result.stderr) == [
        "hubvpn verify · target: embedded emulator · topology multi-hub-vpn, TCP 22",
        "on the emulator, this checks the deployment against the plan with the emulator's "
        "copy of the routing model (not Azure's data plane)",
    ]
    data = json.loads(result.stdout)
    assert (data["port"], data["ok"]) == (22, True)
    assert len(data["probes"]) == 30
    for probe in data["probes"]:
        assert {"from", "to", "address", "expected", "reachable", "hops"} <= probe.keys()
        assert probe["reachable"] == probe["expected"]
    blocked = next(
        p for p in data["probes"] if (p["from"], p["to"]) == ("vm-spoke10", "vm-spoke20")
    )
    assert (blocked["address"], blocked["expected"], blocked["reachable"], blocked["hops"]) == (
        "10.20.0.4",
        False,
        False,
        [],
    )
    remote = next(
        p for p in data["probes"] if (p["from"], p["to"]) == ("vm-spoke10", "vm-spoke120")
    )
    assert (remote["address"], remote["reachable"]) == ("10.120.0.4", True)
    assert remote["hops"][0] == "10.10.0.4"
    assert remote["hops"][-1] == "10.120.0.4"


def test_verify_table_after_deploy_shows_the_matrix(deployed: Path) -> None:
    result = invoke("verify", "-c", deployed)
    assert result.exit_code == 0
    out = [line.split() for line in lines(result.stdout)]
    assert out[0] == ["Measured", "TCP", "22"]
    assert out[1] == [
        "from",
        "\\",
        "to",
        "hub00",
        "spoke10",
        "spoke20",
        "hub100",
        "spoke110",
        "spoke120",
    ]
    assert out[3] == ["spoke10", "✓", "·", "✗", "✓", "✓", "✓"]
    assert lines(result.stderr)[-1] == "verified: measured matrix equals the prediction"


def test_verify_counts_probes_with_time_left_every_ten_seconds_when_piped(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock that advances one second per reading: one reading when the count starts,
    # one per answer (the first at 0 answered), so lines come at 10, 20 and 30 s.
    ticks = iter(range(1000))
    monkeypatch.setattr(ProbeCount, "clock", staticmethod(lambda: float(next(ticks))))
    result = invoke("verify", "-c", deployed, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert lines(result.stderr) == [
        "hubvpn verify · target: embedded emulator · topology multi-hub-vpn, TCP 22",
        "on the emulator, this checks the deployment against the plan with the emulator's "
        "copy of the routing model (not Azure's data plane)",
        "9/30 probes · about 23s left",
        "19/30 probes · about 12s left",
        "29/30 probes · about 1s left",
        "verified: measured matrix equals the prediction",
    ]


def test_verify_before_deploy_exits_1(state_dir: Path) -> None:
    result = invoke("verify", "-c", REFERENCE, "--output", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert {p["reachable"] for p in data["probes"]} == {None}
    assert lines(result.stderr)[-1] == (
        "error: nothing to verify: multi-hub-vpn is not fully deployed (run hubvpn deploy): "
        "rg-multi-hub-vpn (missing)"
    )


# ------------------------------------------------------------------- plan


def test_plan_json_before_deploy_creates_everything_and_predicts_reachability(
    state_dir: Path,
) -> None:
    result = invoke("plan", "-c", REFERENCE, "--output", "json")
    assert result.exit_code == 0
    assert lines(result.stderr) == [
        "hubvpn plan · target: embedded emulator · topology multi-hub-vpn"
    ]
    data = json.loads(result.stdout)
    assert {s["action"] for s in data["steps"]} == {"create"}
    assert len(data["steps"]) == 53
    assert data["expectedSeconds"] == data["fullDeploySeconds"] == 1962.0
    reachability = data["reachability"]
    assert reachability["port"] == 22
    assert len(reachability["probes"]) == 30
    from_spoke10 = {
        p["to"]: p["expected"] for p in reachability["probes"] if p["from"] == "vm-spoke10"
    }
    assert from_spoke10 == {
        "vm-hub00": True,
        "vm-spoke20": False,
        "vm-hub100": True,
        "vm-spoke110": True,
        "vm-spoke120": True,
    }
    assert writes(state_dir) == []  # plan writes nothing


def test_plan_json_reachability_has_the_verify_shape(state_dir: Path) -> None:
    data = json.loads(invoke("plan", "-c", REFERENCE, "--output", "json").stdout)
    reachability = data["reachability"]
    blocked = next(
        p for p in reachability["probes"] if (p["from"], p["to"]) == ("vm-spoke10", "vm-spoke20")
    )
    assert (blocked.get("address"), blocked["expected"]) == ("10.20.0.4", False)
    assert {"port", "ok", "probes"} <= reachability.keys()


def test_plan_after_deploy_keeps_everything(deployed: Path, state_dir: Path) -> None:
    before = len(writes(state_dir))
    result = invoke("plan", "-c", deployed, "--output", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {s["action"] for s in data["steps"]} == {"keep"}
    assert (data["expectedSeconds"], data["fullDeploySeconds"]) == (0.0, 1962.0)
    assert len(writes(state_dir)) == before


def test_plan_table_before_deploy_shows_duration_and_prediction(state_dir: Path) -> None:
    result = invoke("plan", "-c", REFERENCE)
    assert result.exit_code == 0
    out = lines(result.stdout)
    assert out[0] == "multi-hub-vpn → rg-multi-hub-vpn: 53 resources (53 to create)"
    duration = next(line for line in out if line.startswith("Expected duration"))
    assert re.fullmatch(
        r"Expected duration on Azure: 32 min 42 s \(a full deploy: 32 min 42 s; critical path "
        r"nsg-hub\d+-default → vnet-hub\d+ → vpngw-hub0\d → lng-vpngw-hub0\d → "
        r"conn-vpngw-hub0\d-vpngw-hub0\d\)",
        duration,
    )
    assert "Predicted TCP 22 reachability" in out
    assert ["spoke10", "✓", "·", "✗", "✓", "✓", "✓"] in [line.split() for line in out]


# ---------------------------------------------------------------- destroy


def test_destroy_yes_exits_0_and_is_safe_to_rerun(deployed: Path) -> None:
    first = invoke("destroy", "-c", deployed, "--yes")
    assert first.exit_code == 0
    out = lines(first.stderr)
    assert out[0] == "hubvpn destroy · target: embedded emulator · topology multi-hub-vpn"
    assert out[1] == "Deleting rg-multi-hub-vpn (36 top-level resources)..."
    assert re.fullmatch(
        r"Destroyed rg-multi-hub-vpn \(36 top-level resources\) in \d+\.\d s\.", out[2]
    )
    assert out[3:] == [
        "Stops paying about $1.82/hour ($43.71/day) for 2 VPN gateways, 2 Bastions,",
        "4 public IPs, 6 VMs.",
    ]

    second = invoke("destroy", "-c", deployed, "--yes")
    assert second.exit_code == 0
    assert lines(second.stderr)[1:] == [
        "Nothing to destroy: resource group rg-multi-hub-vpn does not exist."
    ]
    assert json.loads(invoke("status", "-c", deployed, "-o", "json").stdout)["resources"] == []


def test_destroy_refuses_group_of_other_topology(clients: Clients, state_dir: Path) -> None:
    from azure.mgmt.resource.resources import models

    clients.resource.resource_groups.create_or_update(
        "rg-multi-hub-vpn",
        models.ResourceGroup(location="japaneast", tags={"hubvpn-topology": "other-lab"}),
    )
    result = invoke("destroy", "-c", REFERENCE, "--yes")
    assert result.exit_code == 1
    assert lines(result.stderr)[1:] == [
        "error: resource group 'rg-multi-hub-vpn' belongs to topology 'other-lab', not "
        "'multi-hub-vpn': refusing to delete it (hubvpn touches only a group tagged "
        "hubvpn-topology=multi-hub-vpn)"
    ]
    assert [r for r in writes(state_dir) if r["method"] == "DELETE"] == []
    assert clients.resource.resource_groups.check_existence("rg-multi-hub-vpn")


# --------------------------------------------------------------- emulator


def test_emulator_requests_json_lists_what_deploy_sent(deployed: Path, state_dir: Path) -> None:
    result = invoke("emulator", "requests", "--output", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["requests"]
    for entry in data["requests"]:
        assert {"time", "method", "path", "status"} <= entry.keys()
        assert ISO_TIME.fullmatch(entry["time"])
    created = [
        r
        for r in data["requests"]
        if r["method"] == "PUT" and r["path"].endswith("/virtualNetworks/vnet-hub00")
    ]
    assert [(r["status"], r["path"].split("/")[1:5]) for r in created] == [
        (
            201,
            [
                "subscriptions",
                "00000000-0000-0000-0000-000000000000",
                "resourceGroups",
                "rg-multi-hub-vpn",
            ],
        )
    ]


def test_emulator_requests_are_listed_oldest_first(deployed: Path) -> None:
    times = [
        r["time"]
        for r in json.loads(invoke("emulator", "requests", "-o", "json").stdout)["requests"]
    ]
    assert times == sorted(times)


def test_emulator_requests_table_counts_them(deployed: Path, state_dir: Path) -> None:
    count = len(requests(state_dir))
    result = invoke("emulator", "requests")
    assert result.exit_code == 0
    assert lines(result.stderr) == [f"{count} requests"]
    assert lines(result.stdout)[0].split() == ["time", "method", "status", "ms", "path"]


def test_emulator_reset_empties_requests_and_resources(deployed: Path, state_dir: Path) -> None:
    result = invoke("emulator", "reset")
    assert result.exit_code == 0
    assert lines(result.stderr) == [f"emulator state in {state_dir} reset"]
    assert json.loads(invoke("emulator", "requests", "--output", "json").stdout) == {"requests": []}
    status = invoke("status", "-c", deployed)
    assert lines(status.stdout) == [
        "Topology multi-hub-vpn is not deployed (resource group rg-multi-hub-vpn does not exist)."
    ]
