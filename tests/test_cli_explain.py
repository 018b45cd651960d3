"""verify names the resource that breaks probes and the fix (issue 13): a connection
pair whose shared keys differ, a connection or peering deleted out of band, a Failed
gateway. Out-of-band changes go through the real SDK, as a person with the portal would
make them (``clients`` is another client on the same world). Exact text at 80 columns."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from azure.mgmt.network import models as n
from cli_helpers import deploy_reference, invoke, lines

from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.explain import causes, problems
from hubvpn.observe import observe
from hubvpn.plan import build_plan

GROUP = "rg-multi-hub-vpn"
FORWARD, BACK = "conn-vpngw-hub01-vpngw-hub02", "conn-vpngw-hub02-vpngw-hub01"
HEADER = [
    "hubvpn verify · target: embedded emulator · topology multi-hub-vpn, TCP 22",
    "on the emulator, this checks the deployment against the plan with the emulator's "
    "copy of the routing model (not Azure's data plane)",
]
CROSSING = [  # the 18 probes between hub00's set and hub100's set
    "    hub00 → hub100 spoke110 spoke120; spoke10 → hub100 spoke110 spoke120;",
    "    spoke20 → hub100 spoke110 spoke120; hub100 → hub00 spoke10 spoke20;",
    "    spoke110 → hub00 spoke10 spoke20; spoke120 → hub00 spoke10 spoke20",
]


@pytest.fixture
def deployed(tmp_path: Path, state_dir: Path) -> Path:
    return deploy_reference(tmp_path)


def test_verify_with_shared_keys_differing_names_both_connections_and_the_fix(
    deployed: Path, clients: Clients
) -> None:
    clients.network.virtual_network_gateway_connections.begin_set_shared_key(
        GROUP, BACK, n.ConnectionSharedKey(value="Another-key-for-one-side-7c1e")
    ).result()
    result = invoke("verify", "-c", deployed)
    assert result.exit_code == 1
    assert lines(result.stderr) == [
        *HEADER,
        "! differs from the prediction, ? not measured",
        f"✗ {FORWARD} and {BACK} are",
        "  NotConnected: their shared keys differ: run hubvpn deploy (it sets one key on",
        "  both)",
        "  breaks 18 probes:",
        *CROSSING,
        "verification failed",
    ]
    assert "Another-key" not in result.output  # a key is compared, never shown
    data = json.loads(invoke("verify", "-c", deployed, "--output", "json").stdout)
    assert [(c["resources"], c["problem"], len(c["probes"])) for c in data["causes"]] == [
        ([FORWARD, BACK], "are NotConnected: their shared keys differ", 18)
    ]
    spoke10_to_hub100 = next(
        p for p in data["probes"] if (p["from"], p["to"]) == ("vm-spoke10", "vm-hub100")
    )
    assert spoke10_to_hub100["reason"] == data["causes"][0]["text"]
    # and the fix it names is the fix: deploy sets one key, verify passes
    assert invoke("deploy", "-c", deployed).exit_code == 0
    assert invoke("verify", "-c", deployed).exit_code == 0


def test_verify_after_connection_deleted_out_of_band_stops_naming_it_and_the_fix(
    deployed: Path, clients: Clients
) -> None:
    clients.network.virtual_network_gateway_connections.begin_delete(GROUP, BACK).result()
    result = invoke("verify", "-c", deployed)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert lines(result.stderr) == [
        *HEADER,
        f"✗ {BACK} is missing: run hubvpn deploy",
        "  would break 18 of 30 probes:",
        *CROSSING,
        "error: nothing to verify: multi-hub-vpn is not fully deployed (see above)",
    ]


def test_verify_after_spoke_peering_deleted_names_it_and_the_probes_it_breaks(
    deployed: Path, clients: Clients
) -> None:
    clients.network.virtual_network_peerings.begin_delete(
        GROUP, "vnet-spoke10", "spoke10-to-hub00"
    ).result()
    result = invoke("verify", "-c", deployed, "--output", "json")
    assert result.exit_code == 1
    assert lines(result.stderr)[2:] == [
        "✗ spoke10-to-hub00 is missing: run hubvpn deploy",
        "  would break 8 of 30 probes:",
        "    hub00 → spoke10; spoke10 → hub00 hub100 spoke110 spoke120; hub100 → spoke10;",
        "    spoke110 → spoke10; spoke120 → spoke10",
        "error: nothing to verify: multi-hub-vpn is not fully deployed (see above)",
    ]
    (cause,) = json.loads(result.stdout)["causes"]
    assert (cause["resources"], cause["fix"]) == (["spoke10-to-hub00"], "run hubvpn deploy")


def test_problems_name_a_failed_gateway_with_the_fix_and_its_probes(
    deployed: Path, clients: Clients
) -> None:
    plan = build_plan(load_topology(deployed))
    observed = observe(clients, GROUP)
    assert problems(plan, observed) == []
    key = "virtual_network_gateway:vpngw-hub02"
    failed = copy.copy(observed.resources[key])
    failed.provisioning_state = "Failed"
    observed.resources[key] = failed
    pairs = [("vm-spoke10", "vm-hub100"), ("vm-spoke10", "vm-hub00")]
    (cause,) = causes(plan, observed, 22, pairs)
    assert cause.text == "vpngw-hub02 is Failed: run hubvpn deploy (it re-creates it)"
    assert cause.probes == (("vm-spoke10", "vm-hub100"),)  # not the one within hub00


def test_status_with_shared_keys_differing_says_so_under_its_summary(
    deployed: Path, clients: Clients
) -> None:
    clients.network.virtual_network_gateway_connections.begin_set_shared_key(
        GROUP, FORWARD, n.ConnectionSharedKey(value="Another-key-for-one-side-7c1e")
    ).result()
    result = invoke("status", "-c", deployed, "--hub", "hub100")
    assert result.exit_code == 0, result.output
    assert lines(result.stdout)[:8] == [
        "multi-hub-vpn in rg-multi-hub-vpn: 7 resources (7 Succeeded)",
        f"✗ {FORWARD} and {BACK} are",
        "  NotConnected: their shared keys differ: run hubvpn deploy (it sets one key on",
        "  both)",
        "",
        "Connections",
        "connection                    status",
        f"{BACK}  NotConnected",
    ]
    assert "Another-key" not in result.output
    problems_ = json.loads(invoke("status", "-c", deployed, "-o", "json").stdout)["problems"]
    assert [(p["resources"], p["fix"]) for p in problems_] == [
        ([FORWARD, BACK], "run hubvpn deploy (it sets one key on both)")
    ]


def test_status_on_a_healthy_lab_names_no_problem(deployed: Path) -> None:
    result = invoke("status", "-c", deployed, "-o", "json")
    assert json.loads(result.stdout)["problems"] == []
    assert "✗" not in invoke("status", "-c", deployed).stdout


def test_verify_with_a_peering_made_by_hand_names_it_as_what_opens_the_probe(
    deployed: Path, clients: Clients
) -> None:
    prefix = f"/subscriptions/{clients.subscription_id}/resourceGroups/{GROUP}"
    for a, b in (("spoke10", "spoke20"), ("spoke20", "spoke10")):
        remote = f"{prefix}/providers/Microsoft.Network/virtualNetworks/vnet-{b}"
        clients.network.virtual_network_peerings.begin_create_or_update(
            GROUP,
            f"vnet-{a}",
            f"{a}-to-{b}",
            n.VirtualNetworkPeering(
                remote_virtual_network=n.SubResource(id=remote),
                allow_virtual_network_access=True,
            ),
        ).result()
    result = invoke("verify", "-c", deployed, "--from", "spoke10", "--to", "spoke20")
    assert result.exit_code == 1
    assert lines(result.stdout) == [
        "vm-spoke10 → vm-spoke20 (10.20.0.4) TCP 22: reachable, avg latency 2 ms",
        "  hop            address      resource",
        "  Source         10.10.0.4    nic-spoke10",
        "  VNetPeering                 spoke10-to-spoke20",
        "  Destination    10.20.0.4    nic-spoke20",
        "! predicted unreachable",
    ]
    assert lines(result.stderr)[2:] == [
        "! differs from the prediction, ? not measured",
        "✗ spoke10-to-spoke20 is not in the topology (made by hand?): delete it (hubvpn",
        "  builds and verifies only what the topology describes)",
        "  opens 1 probe:",
        "    spoke10 → spoke20",
        "verification failed",
    ]


def test_verify_after_bastion_deleted_stops_naming_it_though_it_breaks_no_probe(
    deployed: Path, clients: Clients
) -> None:
    clients.network.bastion_hosts.begin_delete(GROUP, "bas-hub00").result()
    result = invoke("verify", "-c", deployed)
    assert result.exit_code == 1
    assert lines(result.stderr)[2:] == [
        "✗ bas-hub00 is missing: run hubvpn deploy",
        "error: nothing to verify: multi-hub-vpn is not fully deployed (see above)",
    ]
