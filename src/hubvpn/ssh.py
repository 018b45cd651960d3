"""``hubvpn ssh VM``: the ``az network bastion ssh`` command that reaches a test VM.

A Bastion host (Standard, with native client support) reaches the VMs of its own
VNet and of peered VNets, so a hub's VM and its spokes' VMs go through the hub's
Bastion; peering is not transitive and a VPN link is not a peering, so a hub
without a Bastion leaves its VMs unreachable this way::

    command = bastion_ssh(topology, "vm-spoke10", subscription_id, state_dir())
    subprocess.run(command.argv)        # or print(command.shell())

The private key is the configured ``[vm].ssh_public_key_file`` without ``.pub`` or,
when that file does not exist, the key pair generated in the state directory.
Only its path appears in the command, never its content.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from hubvpn import naming
from hubvpn.config import Hub, Topology
from hubvpn.keys import GENERATED_KEY


class SshTargetError(Exception):
    """The VM cannot be reached through a Bastion of the lab (names the reason)."""


@dataclass(frozen=True)
class SshCommand:
    vm: str
    bastion: str
    resource_group: str
    vm_id: str
    username: str
    private_key: Path
    generated_key: bool  # the key pair hubvpn generated (the configured file is absent)

    @property
    def argv(self) -> tuple[str, ...]:
        return (
            "az",
            "network",
            "bastion",
            "ssh",
            "--name",
            self.bastion,
            "--resource-group",
            self.resource_group,
            "--target-resource-id",
            self.vm_id,
            "--auth-type",
            "ssh-key",
            "--username",
            self.username,
            "--ssh-key",
            str(self.private_key),
        )

    def shell(self) -> str:
        return shlex.join(self.argv)

    def shell_lines(self) -> list[str]:
        """The command as shell lines joined by backslashes: short lines, one per
        option group (only the VM's resource id may pass 80 columns)."""
        groups = (self.argv[:8], self.argv[8:10], self.argv[10:14], self.argv[14:])
        parts = [shlex.join(g) for g in groups]
        return [
            ("  " if i else "") + part + (" \\" if i < len(parts) - 1 else "")
            for i, part in enumerate(parts)
        ]


def vm_resource_id(subscription_id: str, resource_group: str, vm: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.Compute/virtualMachines/{vm}"
    )


def private_key_path(configured_public_key: str, state: Path) -> tuple[Path, bool]:
    """(private key path, generated?) as ``keys.ssh_public_key`` chooses the public key."""
    public = Path(configured_public_key).expanduser()
    if public.is_file():
        return (public.with_suffix("") if public.suffix == ".pub" else public), False
    return state / "ssh" / GENERATED_KEY, True


def serving_hub(topology: Topology, vm: str) -> tuple[Hub, str]:
    """(the hub whose Bastion serves the VM, the VM's network name)."""
    network = vm.removeprefix("vm-")
    for hub in topology.hubs:
        if network == hub.name or network in (s.name for s in hub.spokes):
            return hub, network
    known = [naming.vm(n) for h in topology.hubs for n in (h.name, *(s.name for s in h.spokes))]
    raise SshTargetError(f"no test VM '{vm}' in this topology: one of {', '.join(known)}")


def bastion_ssh(topology: Topology, vm: str, subscription_id: str, state: Path) -> SshCommand:
    """The command for a VM named ``vm-<network>`` (or just ``<network>``)."""
    if topology.vm is None:
        raise SshTargetError("the topology has no [vm] table: there are no test VMs")
    hub, network = serving_hub(topology, vm)
    if hub.bastion_subnet is None:
        raise SshTargetError(
            f"{naming.vm(network)} is in {'hub' if network == hub.name else 'a spoke of'}"
            f" {hub.name}, which has no Bastion: add bastion_subnet to hub {hub.name}"
        )
    key, generated = private_key_path(topology.vm.ssh_public_key_file, state)
    return SshCommand(
        vm=naming.vm(network),
        bastion=naming.bastion(hub.name),
        resource_group=topology.resource_group,
        vm_id=vm_resource_id(subscription_id, topology.resource_group, naming.vm(network)),
        username=topology.vm.admin_username,
        private_key=key,
        generated_key=generated,
    )
