"""hubvpn ssh: which Bastion serves which VM, with which key, as an az command."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hubvpn import ssh
from hubvpn.config import Topology, VmSettings, load_topology

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "config" / "topology.toml"
MESH = ROOT / "tests" / "topologies" / "three_hub_mesh.toml"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def with_key(path: Path, source: Path = REFERENCE) -> Topology:
    topology = load_topology(source)
    assert topology.vm is not None
    vm = VmSettings(topology.vm.size, topology.vm.admin_username, str(path))
    return dataclasses.replace(topology, vm=vm)


def test_bastion_ssh_spoke_vm_goes_through_its_hubs_bastion(tmp_path: Path) -> None:
    topology = with_key(tmp_path / "absent.pub")
    command = ssh.bastion_ssh(topology, "vm-spoke120", SUBSCRIPTION, tmp_path / "state")
    assert command.shell() == (
        "az network bastion ssh --name bas-hub100 --resource-group rg-multi-hub-vpn"
        " --target-resource-id /subscriptions/00000000-0000-0000-0000-000000000000"
        "/resourceGroups/rg-multi-hub-vpn/providers/Microsoft.Compute/virtualMachines/vm-spoke120"
        " --auth-type ssh-key --username azureuser"
        f" --ssh-key {tmp_path}/state/ssh/id_ed25519_hubvpn"
    )
    assert command.generated_key


def test_bastion_ssh_hub_vm_by_network_name_uses_hub_bastion(tmp_path: Path) -> None:
    command = ssh.bastion_ssh(with_key(tmp_path / "absent.pub"), "hub00", SUBSCRIPTION, tmp_path)
    assert (command.vm, command.bastion) == ("vm-hub00", "bas-hub00")
    assert command.argv[:4] == ("az", "network", "bastion", "ssh")


def test_bastion_ssh_configured_key_file_uses_private_key_beside_it(tmp_path: Path) -> None:
    public = tmp_path / "id_ed25519.pub"
    public.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0 me\n", encoding="utf-8")
    command = ssh.bastion_ssh(with_key(public), "vm-spoke10", SUBSCRIPTION, tmp_path / "state")
    assert command.private_key == tmp_path / "id_ed25519"
    assert not command.generated_key
    assert command.argv[-2:] == ("--ssh-key", str(tmp_path / "id_ed25519"))


def test_bastion_ssh_hub_without_bastion_names_the_fix(tmp_path: Path) -> None:
    topology = with_key(tmp_path / "absent.pub", MESH)
    with pytest.raises(ssh.SshTargetError) as err:
        ssh.bastion_ssh(topology, "vm-spoke01", SUBSCRIPTION, tmp_path)
    assert str(err.value) == (
        "vm-spoke01 is in a spoke of hub0, which has no Bastion: add bastion_subnet to hub hub0"
    )


def test_bastion_ssh_unknown_vm_lists_the_lab_vms(tmp_path: Path) -> None:
    with pytest.raises(ssh.SshTargetError) as err:
        ssh.bastion_ssh(with_key(tmp_path / "k.pub"), "vm-spoke99", SUBSCRIPTION, tmp_path)
    assert str(err.value) == (
        "no test VM 'vm-spoke99' in this topology: one of vm-hub00, vm-spoke10, vm-spoke20,"
        " vm-hub100, vm-spoke110, vm-spoke120"
    )


def test_bastion_ssh_topology_without_vms_refuses(tmp_path: Path) -> None:
    topology = dataclasses.replace(load_topology(REFERENCE), vm=None)
    with pytest.raises(ssh.SshTargetError, match="no \\[vm\\] table"):
        ssh.bastion_ssh(topology, "vm-hub00", SUBSCRIPTION, tmp_path)


def test_shell_lines_split_by_option_group_and_rejoin_to_the_command(tmp_path: Path) -> None:
    command = ssh.bastion_ssh(with_key(tmp_path / "k.pub"), "vm-hub00", SUBSCRIPTION, tmp_path)
    out = command.shell_lines()
    assert out == [
        "az network bastion ssh --name bas-hub00 --resource-group rg-multi-hub-vpn \\",
        f"  --target-resource-id {command.vm_id} \\",
        "  --auth-type ssh-key --username azureuser \\",
        f"  --ssh-key {tmp_path}/ssh/id_ed25519_hubvpn",
    ]
    assert " ".join(line.rstrip("\\").strip() for line in out) == command.shell()
