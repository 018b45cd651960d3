"""POST .../virtualMachines/{vm}/runCommand: a shell script run by the guest.

The script runs in ``guest`` (a few commands the lab uses); its probes leave
from the VM's first NIC through the routing model (``physics.connectivity``).
"""

from __future__ import annotations

from hubvpn.emulator import errors, guest, physics
from hubvpn.emulator.arm import Body, World, expect_type, provisioning_state
from hubvpn.emulator.store import Record

RUN_COMMAND_S = 30.0  # Azure's run command takes about half a minute
# Linux command ids Azure lists for RunCommand; only the shell script runs here.
RUN_SHELL_SCRIPT = "RunShellScript"


def run_command(w: World, vm: Record, body: Body) -> tuple[Body, float]:
    """POST .../virtualMachines/{vm}/runCommand: the script run by the guest (see
    ``guest``), probes leaving from the VM's first NIC through the routing model."""
    command_id = expect_type(body.get("commandId"), str, "commandId")
    if command_id != RUN_SHELL_SCRIPT:
        raise errors.InvalidParameter(
            f"The value '{command_id}' of parameter 'commandId' is not a valid run command "
            "for this VM.",
            target="commandId",
        )
    script = expect_type(body.get("script"), list, "script") or []
    if provisioning_state(vm) != "Succeeded":
        raise errors.OperationNotAllowed()
    nic = w.peek(vm["body"]["properties"]["networkProfile"]["networkInterfaces"][0]["id"])

    def probe(address: str, port: int) -> bool:
        if nic is None:
            return False
        result = physics.connectivity(w, nic, address, port)
        return bool(result["connectionStatus"] == "Reachable")

    output = guest.run_script([str(line) for line in script], probe)
    message = f"Enable succeeded: \n[stdout]\n{output.stdout}\n[stderr]\n{output.stderr}"
    status = {
        "code": "ProvisioningState/succeeded",
        "level": "Info",
        "displayStatus": "Provisioning succeeded",
        "message": message,
    }
    return {"value": [status]}, RUN_COMMAND_S
