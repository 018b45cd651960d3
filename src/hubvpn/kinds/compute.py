"""Compute bodies: the test VMs and their Network Watcher agent extension; the
emulator's side is ``emulator/resources/compute.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubvpn.kinds import Kind
from hubvpn.kinds.body import Body, Change, add_lab_tag, spec_of, tracked
from hubvpn.observe import text
from hubvpn.plan import UBUNTU_IMAGE, ExtensionSpec, Step, VmSpec

if TYPE_CHECKING:
    from hubvpn.resources import Context


def desired_vm(step: Step, ctx: Context) -> Any:
    from azure.mgmt.compute import models as c

    spec = spec_of(step, VmSpec)
    publisher, offer, sku, version = UBUNTU_IMAGE
    user = spec.admin_username
    return c.VirtualMachine(
        **tracked(step, ctx),
        properties=c.VirtualMachineProperties(
            hardware_profile=c.HardwareProfile(vm_size=spec.size),
            storage_profile=c.StorageProfile(
                image_reference=c.ImageReference(
                    publisher=publisher, offer=offer, sku=sku, version=version
                ),
                os_disk=c.OSDisk(
                    create_option="FromImage",
                    delete_option="Delete",
                    managed_disk=c.ManagedDiskParameters(storage_account_type="StandardSSD_LRS"),
                ),
            ),
            os_profile=c.OSProfile(
                computer_name=step.name,
                admin_username=user,
                linux_configuration=c.LinuxConfiguration(
                    disable_password_authentication=True,
                    ssh=c.SshConfiguration(
                        public_keys=[
                            c.SshPublicKey(
                                path=f"/home/{user}/.ssh/authorized_keys",
                                key_data=ctx.ssh_public_key,
                            )
                        ]
                    ),
                ),
            ),
            network_profile=c.NetworkProfile(
                network_interfaces=[
                    c.NetworkInterfaceReference(
                        id=ctx.rid(Kind.NETWORK_INTERFACE, spec.network_interface),
                        properties=c.NetworkInterfaceReferenceProperties(primary=True),
                    )
                ]
            ),
        ),
    )


def vm_differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    want = spec_of(step, VmSpec).size
    size = text(existing.properties.hardware_profile.vm_size)
    return [] if size == want else [("hardwareProfile.vmSize", size, want)]


def updated_vm(step: Step, existing: Any, ctx: Context) -> Any:
    """What exists, with the lab's tag and the planned size; the rest stays as Azure
    returned it."""
    model = add_lab_tag(existing, ctx)  # a copy of what was observed
    model.properties.hardware_profile.vm_size = spec_of(step, VmSpec).size
    return model


def desired_extension(step: Step, ctx: Context) -> Any:
    from azure.mgmt.compute import models as c

    spec = spec_of(step, ExtensionSpec)
    return c.VirtualMachineExtension(
        **tracked(step, ctx),
        properties=c.VirtualMachineExtensionProperties(
            publisher=spec.publisher,
            type=spec.type,
            type_handler_version=spec.version,
            auto_upgrade_minor_version=True,
        ),
    )


BODIES = {
    Kind.VIRTUAL_MACHINE: Body(desired_vm, vm_differences, updated_vm),
    Kind.VM_EXTENSION: Body(desired_extension, tagged=False),
}
