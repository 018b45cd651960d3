"""VM run command (POST .../virtualMachines/{vm}/runCommand) through the real SDK.

The emulator's guest evaluates TCP probes with the routing model (only port 22 of a
running VM listens), ``echo``, and answers "command not found" for anything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.core.pipeline import PipelineResponse
from azure.mgmt.compute import models as c
from emulator_helpers import (
    GROUP,
    connect_at,
    expect_arm_error,
    network_interface,
    resource_group,
    virtual_machine,
    virtual_network,
)

from hubvpn.azure import Clients


def _two_vms(clients: Clients) -> str:
    """Two VMs on one subnet; returns the second VM's private address."""
    resource_group(clients)
    virtual_network(clients, "spoke", "10.1.0.0/16", {"default": "10.1.0.0/24"})
    network_interface(clients, "nic-a", "spoke", "default")
    target = network_interface(clients, "nic-b", "spoke", "default")
    virtual_machine(clients, "vm-a", "nic-a")
    virtual_machine(clients, "vm-b", "nic-b")
    address = target.ip_configurations[0].private_ip_address
    assert address is not None
    return str(address)


def _run(clients: Clients, vm: str, *script: str) -> str:
    command = c.RunCommandInput(command_id="RunShellScript", script=list(script))
    result = clients.compute.virtual_machines.begin_run_command(GROUP, vm, command).result()
    [status] = result.value or []
    assert (status.code, status.level, status.display_status) == (
        "ProvisioningState/succeeded",
        "Info",
        "Provisioning succeeded",
    )
    return str(status.message)


def test_run_command_dev_tcp_probe_prints_by_reachability(clients: Clients) -> None:
    address = _two_vms(clients)
    message = _run(
        clients,
        "vm-a",
        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/22' && echo open || echo closed",
        f"timeout 5 bash -c 'exec 3<>/dev/tcp/{address}/80' && echo open || echo closed",
        "timeout 5 bash -c 'exec 3<>/dev/tcp/10.9.9.9/22' && echo open || echo closed",
    )
    assert message == "Enable succeeded: \n[stdout]\nopen\nclosed\nclosed\n\n[stderr]\n"


def test_run_command_nc_probe_prints_by_reachability(clients: Clients) -> None:
    address = _two_vms(clients)
    message = _run(
        clients,
        "vm-a",
        f"nc -z -w 5 {address} 22 && echo REACHABLE || echo UNREACHABLE",
        f"nc -z -w 5 {address} 443 && echo REACHABLE || echo UNREACHABLE",
    )
    assert message == "Enable succeeded: \n[stdout]\nREACHABLE\nUNREACHABLE\n\n[stderr]\n"


def test_run_command_echo_and_unknown_command_split_stdout_stderr(clients: Clients) -> None:
    _two_vms(clients)
    message = _run(clients, "vm-b", "echo 'hello world'\nip route show", "echo done")
    assert message == (
        "Enable succeeded: \n[stdout]\nhello world\ndone\n\n[stderr]\nbash: ip: command not found\n"
    )


def test_run_command_answers_202_with_both_poll_urls(clients: Clients) -> None:
    _two_vms(clients)
    seen: list[tuple[int, dict[str, str]]] = []

    def hook(pipeline: PipelineResponse[Any, Any]) -> None:
        response = pipeline.http_response
        seen.append((response.status_code, dict(response.headers)))

    command = c.RunCommandInput(command_id="RunShellScript", script=["echo hi"])
    poller = clients.compute.virtual_machines.begin_run_command(
        GROUP, "vm-a", command, raw_response_hook=hook
    )
    poller.result()
    status, headers = seen[0]
    assert status == 202
    assert (
        "/providers/Microsoft.Compute/locations/westeurope/operations/"
        in (headers["Azure-AsyncOperation"])
    )
    assert (
        "/providers/Microsoft.Compute/locations/westeurope/operationResults/"
        in (headers["Location"])
    )
    assert seen[-1][0] == 200


def test_run_command_unknown_command_id_refused(clients: Clients) -> None:
    _two_vms(clients)
    command = c.RunCommandInput(command_id="RunPowerShellScript", script=["echo hi"])
    with expect_arm_error("InvalidParameter"):
        clients.compute.virtual_machines.begin_run_command(GROUP, "vm-a", command)


def test_run_command_vm_not_running_refused(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    virtual_network(clients, "spoke", "10.1.0.0/16", {"default": "10.1.0.0/24"})
    network_interface(clients, "nic-a", "spoke", "default")
    vm = virtual_machine(clients, "vm-a", "nic-a")
    with connect_at(state_dir, monkeypatch, speed=1.0) as slow:  # the update takes a minute
        slow.compute.virtual_machines.begin_create_or_update(GROUP, "vm-a", vm, polling=False)
        command = c.RunCommandInput(command_id="RunShellScript", script=["echo hi"])
        with expect_arm_error("OperationNotAllowed", 409):
            slow.compute.virtual_machines.begin_run_command(GROUP, "vm-a", command)
