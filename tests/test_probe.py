"""hubvpn probe: TCP from one test VM to another through VM run-command, on the emulator
(its runCommand answers bash's /dev/tcp probe from the routing model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_helpers import invoke, lines
from emulator_helpers import REFERENCE
from test_deploy import deployed

from hubvpn.azure import Clients
from hubvpn.plan import Plan
from hubvpn.probe import parse_message, probe_script

__all__ = ["deployed"]  # the fixture, shared with test_deploy
ELAPSED = re.compile(r"^probed in \d+\.\d s \(VM run-command on vm-spoke10\)$")


def run_commands(clients: Clients) -> list[str]:
    assert clients.emulator is not None
    return [
        r["method"] + " " + r["path"].rsplit("/", 2)[-2] + "/" + r["path"].rsplit("/", 1)[-1]
        for r in clients.emulator.store.requests()
        if r["path"].endswith("/runCommand")
    ]


def test_probe_spoke_to_remote_hub_over_vpn_is_reachable(clients: Clients, deployed: Plan) -> None:
    result = invoke("probe", "vm-spoke10", "vm-hub100", "-c", REFERENCE)
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == ["vm-spoke10 -> vm-hub100 10.100.0.4:22  reachable"]
    assert ELAPSED.match(lines(result.stderr)[-1]), result.stderr
    assert run_commands(clients) == ["POST vm-spoke10/runCommand"]


def test_probe_sibling_spoke_without_udr_is_unreachable_exit_1(
    clients: Clients, deployed: Plan
) -> None:
    result = invoke("probe", "spoke10", "spoke20", "-c", REFERENCE)
    assert result.exit_code == 1, result.output
    assert lines(result.stdout) == [
        "vm-spoke10 -> vm-spoke20 10.20.0.4:22  NOT reachable: no TCP connection within 5 s"
    ]


def test_probe_json_has_the_documented_keys(clients: Clients, deployed: Plan) -> None:
    result = invoke(
        "probe", "vm-spoke10", "vm-hub00", "--port", "22", "-o", "json", "-c", REFERENCE, "-v"
    )
    assert result.exit_code == 0, result.output
    # --verbose: one line per ARM write on stderr; stdout stays pure JSON.
    assert [line for line in lines(result.stderr) if line.startswith("verbose:")] == [
        "verbose: POST vm-spoke10/runCommand 202"
    ]
    answer = json.loads(result.stdout)
    assert answer.pop("seconds") >= 0
    assert answer == {
        "from": "vm-spoke10",
        "to": "vm-hub00",
        "address": "10.0.0.4",
        "port": 22,
        "reachable": True,
        "detail": None,
    }


def test_probe_unknown_vm_lists_the_lab_vms_exit_2(state_dir: Path) -> None:
    result = invoke("probe", "vm-spoke10", "vm-mars", "-c", REFERENCE)
    assert result.exit_code == 2
    assert lines(result.stderr)[-1] == (
        "error: no test VM 'vm-mars' in this topology: one of vm-hub00, vm-spoke10, "
        "vm-spoke20, vm-hub100, vm-spoke110, vm-spoke120"
    )


def test_probe_before_deploy_says_run_deploy_exit_1(state_dir: Path) -> None:
    result = invoke("probe", "vm-spoke10", "vm-hub00", "-c", REFERENCE)
    assert result.exit_code == 1
    assert (
        lines(result.stderr)[-1]
        == "error: vm-hub00 does not exist (nic-hub00 not found): run deploy"
    )


def test_parse_message_reads_azure_run_shell_script_message() -> None:
    assert parse_message("Enable succeeded: \n[stdout]\nhubvpn-probe:open\n\n[stderr]\n") is True
    assert parse_message("Enable succeeded: \n[stdout]\nhubvpn-probe:closed\n\n[stderr]\n") is False
    # A marker only in stderr (bash echoing the script) is no answer.
    assert parse_message("Enable succeeded: \n[stdout]\n\n[stderr]\nhubvpn-probe:open\n") is None


def test_probe_script_is_the_contract_line() -> None:
    assert probe_script("10.0.0.4", 22) == (
        "timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.0.4/22' "
        "&& echo hubvpn-probe:open || echo hubvpn-probe:closed"
    )
