"""status and verify as a person reads them (issue 13): az-shaped routing views,
narrowed verify with hops, every ✗ with its reason. Exact text at 80 columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import ENV, deploy_reference, invoke, lines
from emulator_helpers import REFERENCE
from typer.testing import CliRunner, Result

from hubvpn.cli import app

HEADER = "hubvpn verify · target: embedded emulator · topology multi-hub-vpn, TCP 22"
VALID = "vm-hub00, vm-spoke10, vm-spoke20, vm-hub100, vm-spoke110, vm-spoke120"


@pytest.fixture
def deployed(tmp_path: Path, state_dir: Path) -> Path:
    return deploy_reference(tmp_path)


# ----------------------------------------------------------------- verify


def test_verify_with_unknown_from_exits_2_listing_valid_names(state_dir: Path) -> None:
    result = invoke("verify", "-c", REFERENCE, "--from", "spoke99")
    assert result.exit_code == 2
    assert (
        lines(result.stderr)[-1] == f"error: --from spoke99: no such test VM; valid names: {VALID}"
    )


def test_verify_with_unknown_to_exits_2_before_reading_azure(state_dir: Path) -> None:
    result = invoke("verify", "-c", REFERENCE, "--to", "vm-nope")
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == f"error: --to vm-nope: no such test VM; valid names: {VALID}"
    assert result.stdout == ""


def test_verify_one_pair_prints_its_hops_with_types(deployed: Path) -> None:
    result = invoke("verify", "-c", deployed, "--from", "vm-spoke10", "--to", "vm-hub100")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        "vm-spoke10 → vm-hub100 (10.100.0.4) TCP 22: reachable, avg latency 2 ms",
        "  hop                      address           resource",
        "  Source                   10.10.0.4         nic-spoke10",
        "  VirtualNetworkGateway    10.0.200.4        vpngw-hub01",
        f"  VpnConnection            {public_ip(result)}    conn-vpngw-hub01-vpngw-hub02",
        "  VirtualNetworkGateway    10.100.200.4      vpngw-hub02",
        "  Destination              10.100.0.4        nic-hub100",
    ]
    assert lines(result.stderr)[-1] == "verified: measured matrix equals the prediction"


def public_ip(result: Result) -> str:
    """The VPN connection hop's address: the remote gateway's public IP (allocated)."""
    row = next(line for line in lines(result.stdout) if "VpnConnection" in line)
    address = row.split()[1]
    assert address.count(".") == 3 and len(address) == 14, row
    return address


def test_verify_one_expected_unreachable_pair_says_why(deployed: Path) -> None:
    result = invoke("verify", "-c", deployed, "--from", "spoke10", "--to", "spoke20")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [
        "vm-spoke10 → vm-spoke20 (10.20.0.4) TCP 22: unreachable",
        "  hop       address      resource",
        "  Source    10.10.0.4    nic-spoke10",
        "✗ as predicted: spoke10 and spoke20 both peer only with hub00; peering is not",
        "transitive (no UDR: routing.spoke_to_spoke is false)",
    ]


def test_verify_from_one_vm_narrows_the_matrix_and_explains_each_cross(
    deployed: Path,
) -> None:
    result = invoke("verify", "-c", deployed, "--from", "spoke10", "--output", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(p["from"], p["to"]) for p in data["probes"]] == [
        ("vm-spoke10", vm)
        for vm in ("vm-hub00", "vm-spoke20", "vm-hub100", "vm-spoke110", "vm-spoke120")
    ]
    blocked = data["probes"][1]
    assert blocked["reason"] == (
        "spoke10 and spoke20 both peer only with hub00; peering is not transitive "
        "(no UDR: routing.spoke_to_spoke is false)"
    )
    assert data["probes"][0]["reason"] is None
    assert [(h["type"], h["resource"]) for h in data["probes"][0]["hopDetails"]] == [
        ("Source", "nic-spoke10"),
        ("VNetPeering", "spoke10-to-hub00"),
        ("Destination", "nic-hub00"),
    ]
    table = invoke("verify", "-c", deployed, "--from", "spoke10")
    assert lines(table.stdout) == [
        "Measured TCP 22",
        "from \\ to  hub00  spoke20  hub100  spoke110  spoke120",
        "spoke10      ✓       ✗       ✓        ✓         ✓",
        "✗ spoke10 → spoke20:  spoke10 and spoke20 both peer only with hub00; peering is",
        "                      not transitive (no UDR: routing.spoke_to_spoke is false)",
    ]


def test_verify_to_repeatable_selects_each_destination(deployed: Path) -> None:
    result = invoke(
        "verify", "-c", deployed, "--to", "hub00", "--to", "vm-spoke120", "--output", "json"
    )
    assert result.exit_code == 0, result.output
    pairs = {(p["from"], p["to"]) for p in json.loads(result.stdout)["probes"]}
    assert {to for _, to in pairs} == {"vm-hub00", "vm-spoke120"}
    assert len(pairs) == 10  # 5 sources to each (every VM but itself)


# ----------------------------------------------------------------- status

PUBLIC = re.compile(r"\b20\.\d+\.\d+\.\d+")  # the emulator's public IP range


def test_status_hub_narrows_to_one_hub_as_az_shows_it_at_80_columns(deployed: Path) -> None:
    result = invoke("status", "-c", deployed, "--hub", "hub100")
    assert result.exit_code == 0, result.output
    assert [PUBLIC.sub("<public>", line) for line in lines(result.stdout)] == [
        "multi-hub-vpn in rg-multi-hub-vpn: 7 resources (7 Succeeded)",
        "",
        "Connections",
        "connection                    status",
        "conn-vpngw-hub02-vpngw-hub01  Connected",
        "",
        "hub100 (japanwest)",
        "  gateway vpngw-hub02  AS 65151  BGP 10.100.200.254",
        "BGP peers of vpngw-hub02",
        "Neighbor      ASN    State      ConnectedDuration  RoutesReceived",
        "10.0.200.254  65150  Connected  01:00:00.0000000   3",
        "Learned routes of vpngw-hub02",
        "Network       NextHop       Origin  SourcePeer    AsPath  Weight",
        "10.0.0.0/16   10.0.200.254  EBgp    10.0.200.254  65150   32768",
        "10.10.0.0/16  10.0.200.254  EBgp    10.0.200.254  65150   32768",
        "10.20.0.0/16  10.0.200.254  EBgp    10.0.200.254  65150   32768",
        "Advertised to 10.0.200.254",
        "Network        NextHop         Origin  SourcePeer  AsPath       Weight",
        "10.100.0.0/16  10.100.200.254  Igp                 65151        0",
        "10.110.0.0/16  10.100.200.254  Igp                 65151        0",
        "10.120.0.0/16  10.100.200.254  Igp                 65151        0",
        "10.0.0.0/16    10.100.200.254  Igp                 65151 65150  0",
        "10.10.0.0/16   10.100.200.254  Igp                 65151 65150  0",
        "10.20.0.0/16   10.100.200.254  Igp                 65151 65150  0",
        "Peerings",
        "Name                PeeringState",
        "hub100-to-spoke110  Connected",
        "spoke110-to-hub100  Connected",
        "hub100-to-spoke120  Connected",
        "spoke120-to-hub100  Connected",
        "Effective routes of vm-hub100 (8 Default hidden; --all shows them)",
        "Source                State  Address Prefix  Next Hop Type         Next Hop IP",
        "VirtualNetworkGateway Active 10.0.0.0/16     VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.0.200.254/32 VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.10.0.0/16    VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.20.0.0/16    VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "Effective routes of vm-spoke110 (7 Default hidden; --all shows them)",
        "Source                State  Address Prefix  Next Hop Type         Next Hop IP",
        "VirtualNetworkGateway Active 10.0.0.0/16     VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.0.200.254/32 VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.10.0.0/16    VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.20.0.0/16    VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "Effective routes of vm-spoke120 (7 Default hidden; --all shows them)",
        "Source                State  Address Prefix  Next Hop Type         Next Hop IP",
        "VirtualNetworkGateway Active 10.0.0.0/16     VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.0.200.254/32 VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.10.0.0/16    VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "VirtualNetworkGateway Active 10.20.0.0/16    VirtualNetworkGateway 10.100.200.4",
        "                                                                   10.100.200.5",
        "Addresses",
        "Kind               Name             Address",
        "gateway public IP  pip-vpngw-hub02  <public>",
        "BGP peering        vpngw-hub02      10.100.200.254",
        "gateway instance   vpngw-hub02      10.100.200.4",
        "gateway instance   vpngw-hub02      10.100.200.5",
        "bastion            bas-hub100       <public>",
        "vm                 vm-hub100        10.100.0.4",
        "vm                 vm-spoke110      10.110.0.4",
        "vm                 vm-spoke120      10.120.0.4",
    ]


def test_status_with_unknown_hub_exits_2_naming_the_hubs(state_dir: Path) -> None:
    result = invoke("status", "-c", REFERENCE, "--hub", "hub01")
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == "error: --hub hub01: no such hub; hubs: hub00, hub100"
    assert result.stdout == ""


def test_status_all_adds_default_and_network_origin_routes(deployed: Path) -> None:
    plain = lines(invoke("status", "-c", deployed, "--hub", "hub00").stdout)
    full = lines(invoke("status", "-c", deployed, "--hub", "hub00", "--all").stdout)
    vnet_local = "Default               Active 10.10.0.0/16      VnetLocal"
    assert vnet_local not in plain and vnet_local in full
    network_origin = ["10.0.0.0/16", "Network", "10.0.200.254", "32768"]
    assert network_origin not in [line.split() for line in plain]
    assert network_origin in [line.split() for line in full]
    spoke10 = full.index("Effective routes of vm-spoke10")
    assert full[spoke10 + 1].split()[:2] == ["Source", "State"]


def test_status_json_adds_peerings_inventory_and_advertised_routes(deployed: Path) -> None:
    data = json.loads(invoke("status", "-c", deployed, "--output", "json").stdout)
    # One POST per link: the whole lab's JSON says they were not read (null), one hub's has them.
    assert {g["name"]: g["advertisedRoutes"] for g in data["gateways"]} == {
        "vpngw-hub01": None,
        "vpngw-hub02": None,
    }
    hub00 = json.loads(invoke("status", "-c", deployed, "--hub", "hub00", "-o", "json").stdout)
    assert {
        "name": "spoke10-to-hub00",
        "peeringState": "Connected",
        "provisioningState": "Succeeded",
    } in data["peerings"]
    assert {"hub": "hub00", "kind": "vm", "name": "vm-spoke10", "address": "10.10.0.4"} in data[
        "inventory"
    ]
    assert [(i["kind"], i["address"]) for i in data["inventory"] if i["hub"] == "hub00"][1:4] == [
        ("BGP peering", "10.0.200.254"),
        ("gateway instance", "10.0.200.4"),
        ("gateway instance", "10.0.200.5"),
    ]
    hub01 = next(g for g in data["gateways"] if g["name"] == "vpngw-hub01")
    assert [g["name"] for g in hub00["gateways"]] == ["vpngw-hub01"]
    advertised = hub00["gateways"][0]["advertisedRoutes"]["10.100.200.254"]
    assert {
        "network": "10.10.0.0/16",
        "nextHop": "10.0.200.254",
        "origin": "Igp",
        "asPath": "65150",
        "sourcePeer": None,
        "weight": 0,
    } in advertised
    assert {r["inTopology"] for r in data["resources"]} == {True}
    assert hub01["peers"][0]["connectedDuration"] == "01:00:00.0000000"


@pytest.fixture
def deployed_with_udrs(tmp_path: Path, state_dir: Path) -> Path:
    """The reference lab with routing.spoke_to_spoke = true: a route table on each spoke
    sends the other spokes of its hub to the hub's gateway."""
    text = REFERENCE.read_text(encoding="utf-8")
    assert "spoke_to_spoke = false" in text
    config = tmp_path / "topology.toml"
    config.write_text(
        text.replace('"~/.ssh/id_ed25519.pub"', f'"{tmp_path / "none" / "id.pub"}"', 1).replace(
            "spoke_to_spoke = false", "spoke_to_spoke = true", 1
        ),
        encoding="utf-8",
    )
    result = invoke("deploy", "-c", config)
    assert result.exit_code == 0, result.output
    return config


def test_status_with_udrs_lists_user_routes_first_among_effective_routes(
    deployed_with_udrs: Path,
) -> None:
    result = invoke("status", "-c", deployed_with_udrs, "--hub", "hub00")
    assert result.exit_code == 0, result.output
    assert [PUBLIC.sub("<public>", line) for line in lines(result.stdout)] == [
        "multi-hub-vpn in rg-multi-hub-vpn: 7 resources (7 Succeeded)",
        "",
        "Connections",
        "connection                    status",
        "conn-vpngw-hub01-vpngw-hub02  Connected",
        "",
        "hub00 (japaneast)",
        "  gateway vpngw-hub01  AS 65150  BGP 10.0.200.254",
        "BGP peers of vpngw-hub01",
        "Neighbor        ASN    State      ConnectedDuration  RoutesReceived",
        "10.100.200.254  65151  Connected  01:00:00.0000000   3",
        "Learned routes of vpngw-hub01",
        "Network        NextHop         Origin  SourcePeer      AsPath  Weight",
        "10.100.0.0/16  10.100.200.254  EBgp    10.100.200.254  65151   32768",
        "10.110.0.0/16  10.100.200.254  EBgp    10.100.200.254  65151   32768",
        "10.120.0.0/16  10.100.200.254  EBgp    10.100.200.254  65151   32768",
        "Advertised to 10.100.200.254",
        "Network        NextHop       Origin  SourcePeer  AsPath       Weight",
        "10.0.0.0/16    10.0.200.254  Igp                 65150        0",
        "10.10.0.0/16   10.0.200.254  Igp                 65150        0",
        "10.20.0.0/16   10.0.200.254  Igp                 65150        0",
        "10.100.0.0/16  10.0.200.254  Igp                 65150 65151  0",
        "10.110.0.0/16  10.0.200.254  Igp                 65150 65151  0",
        "10.120.0.0/16  10.0.200.254  Igp                 65150 65151  0",
        "Peerings",
        "Name              PeeringState",
        "hub00-to-spoke10  Connected",
        "spoke10-to-hub00  Connected",
        "hub00-to-spoke20  Connected",
        "spoke20-to-hub00  Connected",
        "Effective routes of vm-hub00 (8 Default hidden; --all shows them)",
        "Source                State  Address Prefix    Next Hop Type         Next Hop IP",
        "VirtualNetworkGateway Active 10.100.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.100.200.254/32 VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.110.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.120.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "Effective routes of vm-spoke10 (7 Default hidden; --all shows them)",
        "Source                State  Address Prefix    Next Hop Type         Next Hop IP",
        "User                  Active 10.20.0.0/16      VirtualNetworkGateway",
        "VirtualNetworkGateway Active 10.100.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.100.200.254/32 VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.110.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.120.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "Effective routes of vm-spoke20 (7 Default hidden; --all shows them)",
        "Source                State  Address Prefix    Next Hop Type         Next Hop IP",
        "User                  Active 10.10.0.0/16      VirtualNetworkGateway",
        "VirtualNetworkGateway Active 10.100.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.100.200.254/32 VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.110.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "VirtualNetworkGateway Active 10.120.0.0/16     VirtualNetworkGateway 10.0.200.4",
        "                                                                     10.0.200.5",
        "Addresses",
        "Kind               Name             Address",
        "gateway public IP  pip-vpngw-hub01  <public>",
        "BGP peering        vpngw-hub01      10.0.200.254",
        "gateway instance   vpngw-hub01      10.0.200.4",
        "gateway instance   vpngw-hub01      10.0.200.5",
        "bastion            bas-hub00        <public>",
        "vm                 vm-hub00         10.0.0.4",
        "vm                 vm-spoke10       10.10.0.4",
        "vm                 vm-spoke20       10.20.0.4",
    ]
    routes = json.loads(invoke("status", "-c", deployed_with_udrs, "--output", "json").stdout)[
        "effectiveRoutes"
    ]
    assert [r for r in routes["vm-spoke10"] if r["source"] == "User"] == [
        {
            "addressPrefix": ["10.20.0.0/16"],
            "nextHopType": "VirtualNetworkGateway",
            "source": "User",
            "state": "Active",
            "nextHopIpAddress": [],
        }
    ]
    assert not [r for r in routes["vm-hub00"] if r["source"] == "User"]  # spokes only


def test_status_in_a_terminal_styles_user_routes(deployed_with_udrs: Path) -> None:
    env = {**ENV, "FORCE_COLOR": "1"}
    result = CliRunner(env=env).invoke(
        app, ["status", "-c", str(deployed_with_udrs), "--hub", "hub00"], prog_name="hubvpn"
    )
    user = next(line for line in result.stdout.splitlines() if "User  " in line)
    magenta = "\x1b[1;35m"  # USER_ROUTE: bold magenta
    assert user.startswith(f"{magenta}User") and f"{magenta}10.20.0.0/16" in user
    other = next(line for line in result.stdout.splitlines() if "Active" in line)
    assert magenta not in other


def test_status_and_verify_piped_carry_no_trailing_spaces(deployed: Path) -> None:
    # rich pads every table cell to its column; a pipe must get the lines without it.
    for command in ("status", "verify"):
        result = invoke(command, "-c", deployed)
        assert result.exit_code == 0, result.output
        padded = [line for line in result.output.splitlines() if line != line.rstrip()]
        assert padded == [], command
