"""``hubvpn probe FROM TO``: one TCP probe from a test VM to another, run on the VM.

Azure's VM run-command (``RunShellScript``) runs bash's ``/dev/tcp`` with a timeout on
the source VM and prints a marker the answer is parsed for; the emulator answers the
same action from its routing model. Run-command takes 30-60 s on Azure::

    result = probe(topology, clients, "vm-spoke10", "vm-hub00", 22, tick)
    result.reachable, result.as_json()

Names are ``vm-<vnet>`` or just ``<vnet>``; an unknown name is ``BadInput`` listing the
lab's VMs; a VM that does not exist (yet) is ``OperationFailed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubvpn import naming
from hubvpn.azure import Clients, error_code
from hubvpn.config import Topology
from hubvpn.errors import BadInput, OperationFailed

OPEN, CLOSED = "hubvpn-probe:open", "hubvpn-probe:closed"
PROBE_TIMEOUT_S = 5
TICK_S = 0.5  # how often the spinner's elapsed time moves while run-command runs


@dataclass(frozen=True)
class ProbeResult:
    source: str
    destination: str
    address: str
    port: int
    reachable: bool
    detail: str | None
    seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.destination,
            "address": self.address,
            "port": self.port,
            "reachable": self.reachable,
            "detail": self.detail,
            "seconds": round(self.seconds, 1),
        }


def lab_vms(topology: Topology) -> list[str]:
    return [naming.vm(n) for h in topology.hubs for n in (h.name, *(s.name for s in h.spokes))]


def vm_name(topology: Topology, name: str) -> str:
    """The lab's name for a VM given as ``vm-<vnet>`` or ``<vnet>``."""
    known = lab_vms(topology)
    full = name if name.startswith("vm-") else naming.vm(name)
    if full not in known:
        raise BadInput(f"no test VM '{name}' in this topology: one of {', '.join(known)}")
    return full


def probe_script(address: str, port: int) -> str:
    """The one line run on the source VM (the emulator's runCommand reads the same)."""
    return (
        f"timeout {PROBE_TIMEOUT_S} bash -c 'exec 3<>/dev/tcp/{address}/{port}' "
        f"&& echo {OPEN} || echo {CLOSED}"
    )


def parse_message(message: str) -> bool | None:
    """reachable? from RunShellScript's message ("Enable succeeded: \\n[stdout]\\n...");
    None when it holds no marker (the script did not run)."""
    stdout = message.split("[stderr]", 1)[0]
    if CLOSED in stdout:
        return False
    if OPEN in stdout:
        return True
    return None


def private_address(clients: Clients, group: str, vm: str) -> str:
    """The destination VM's private IP, from its NIC (``nic-<vnet>``)."""
    from azure.core.exceptions import ResourceNotFoundError

    nic_name = naming.nic(vm.removeprefix("vm-"))
    try:
        nic = clients.network.network_interfaces.get(group, nic_name)
    except ResourceNotFoundError:
        raise OperationFailed(f"{vm} does not exist ({nic_name} not found): run deploy") from None
    configs = nic.ip_configurations or []
    address = configs[0].private_ip_address if configs else None
    if not address:
        raise OperationFailed(f"{nic_name} has no private IP address yet: run deploy")
    return str(address)


def probe(
    topology: Topology,
    clients: Clients,
    source: str,
    destination: str,
    port: int,
    tick: Callable[[float], None] = lambda elapsed: None,
) -> ProbeResult:
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.compute import models as c

    group = topology.resource_group
    start = time.monotonic()
    address = private_address(clients, group, destination)
    command = c.RunCommandInput(command_id="RunShellScript", script=[probe_script(address, port)])
    try:
        poller = clients.compute.virtual_machines.begin_run_command(group, source, command)
        while not poller.done():  # run-command takes 30-60 s on Azure: keep the clock moving
            tick(time.monotonic() - start)
            poller.wait(TICK_S)
        answer = poller.result()
    except HttpResponseError as err:
        if error_code(err) in ("ResourceNotFound", "NotFound"):
            raise OperationFailed(f"{source} does not exist: run deploy") from None
        raise
    statuses = answer.value or []
    message = str(statuses[0].message or "") if statuses else ""
    reachable = parse_message(message)
    if reachable is None:
        first = message.strip().splitlines()[0] if message.strip() else "no output"
        raise OperationFailed(f"run-command on {source} gave no probe result: {first}")
    return ProbeResult(
        source=source,
        destination=destination,
        address=address,
        port=port,
        reachable=reachable,
        detail=None if reachable else f"no TCP connection within {PROBE_TIMEOUT_S} s",
        seconds=time.monotonic() - start,
    )


def summary(result: ProbeResult) -> str:
    """The one line ``probe`` prints: ``vm-spoke10 -> vm-hub00 10.0.0.4:22  reachable``."""
    where = f"{result.source} -> {result.destination} {result.address}:{result.port}"
    if result.reachable:
        return f"{where}  reachable"
    return f"{where}  NOT reachable: {result.detail}"
