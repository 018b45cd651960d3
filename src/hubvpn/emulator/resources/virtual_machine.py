"""Microsoft.Compute/virtualMachines: Linux (and Windows) virtual machines.

A VM takes its NIC (which must exist, be Succeeded, sit in the VM's region and
not belong to another VM). Linux VMs with SSH keys only, as the lab uses. Its
one POST action, runCommand, lives in ``run_command``.
"""

from __future__ import annotations

import copy
import re
from typing import Any, ClassVar

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Action,
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
    provisioning_state,
)
from hubvpn.emulator.resources.common import props_of
from hubvpn.emulator.resources.references import vm_of_nic
from hubvpn.emulator.resources.run_command import run_command
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import NIC, VM

# Names Azure refuses as adminUsername on Linux (documented list, abridged).
RESERVED_ADMIN_NAMES = frozenset(
    {
        "administrator",
        "admin",
        "user",
        "user1",
        "test",
        "user2",
        "test1",
        "user3",
        "admin1",
        "1",
        "123",
        "a",
        "actuser",
        "adm",
        "admin2",
        "aspnet",
        "backup",
        "console",
        "david",
        "guest",
        "john",
        "owner",
        "root",
        "server",
        "sql",
        "support",
        "support_388945a0",
        "sys",
        "test2",
        "test3",
        "user4",
        "user5",
    }
)
_SSH_KEY = re.compile(
    r"^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?$"
)
_SIZE = re.compile(r"^(Standard|Basic)_[A-Za-z0-9_]+$")


class VirtualMachine(Kind):
    type = VM
    actions: ClassVar[dict[str, Action]] = {"runCommand": run_command}
    action_announces_operation = True  # compute answers POSTs with both poll URLs
    create_s = 120.0
    update_s = 60.0
    delete_s = 90.0
    creating_state = "Creating"

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        hardware = (
            expect_type(props.get("hardwareProfile"), dict, "properties.hardwareProfile") or {}
        )
        size = hardware.get("vmSize")
        if not isinstance(size, str) or not _SIZE.match(size):
            raise errors.InvalidParameter(
                f"The value {size} provided for the VM size is not valid.",
                target="hardwareProfile.vmSize",
            )
        storage = expect_type(props.get("storageProfile"), dict, "properties.storageProfile") or {}
        image = expect_type(
            storage.get("imageReference"), dict, "properties.storageProfile.imageReference"
        )
        if old is None and not image:
            raise errors.InvalidParameter(
                "Required parameter 'imageReference' is missing (null).",
                target="storageProfile.imageReference",
            )
        if image:
            for field in ("publisher", "offer", "sku"):
                if not isinstance(image.get(field), str) or not image[field]:
                    raise errors.InvalidParameter(
                        f"The value of parameter imageReference.{field} is invalid.",
                        target=f"imageReference.{field}",
                    )
        if old is None:
            self._check_os_profile(props)
        network = expect_type(props.get("networkProfile"), dict, "properties.networkProfile") or {}
        refs = expect_type(
            network.get("networkInterfaces"), list, "properties.networkProfile.networkInterfaces"
        )
        if not refs:
            raise errors.InvalidParameter(
                "At least one network interface is required.",
                target="networkProfile.networkInterfaces",
            )
        for ref in refs:
            nic = w.reference(ref, str(rid), kind=NIC)
            w.succeeded(nic, str(rid))
            if nic.get("location") != body.get("location"):
                raise errors.InvalidParameter(
                    f"The network interface {nic['id']} is in region {nic.get('location')}; the "
                    f"virtual machine is in {body.get('location')}.",
                    target="networkInterfaces",
                )
            owner = vm_of_nic(w, nic["id"])
            if owner is not None and owner["id"].lower() != str(rid).lower():
                raise errors.NicInUse(
                    nic["id"], owner["id"], to="attach it to another virtual machine"
                )
        keep = {
            k: v
            for k, v in props.items()
            if k not in ("provisioningState", "vmId", "instanceView", "timeCreated")
        }
        if old is not None:
            keep["osProfile"] = old["body"]["properties"].get("osProfile")
            keep.setdefault("storageProfile", {})["imageReference"] = old["body"]["properties"][
                "storageProfile"
            ].get("imageReference")
        else:
            os_profile = copy.deepcopy(keep["osProfile"])
            os_profile.pop("adminPassword", None)  # write-only: never stored, never returned
            os_profile.setdefault("secrets", [])
            keep["osProfile"] = os_profile
        os_disk = keep["storageProfile"].setdefault("osDisk", {})
        os_disk.update({"osType": _os_type(keep), "createOption": "FromImage"})
        old_disk = old["body"]["properties"]["storageProfile"].get("osDisk", {}) if old else {}
        os_disk.setdefault("name", old_disk.get("name", f"{rid.name}_OsDisk_1"))  # caller's kept
        keep["storageProfile"].setdefault("dataDisks", [])
        return {"properties": keep}

    @staticmethod
    def _check_os_profile(props: Body) -> None:
        os_profile = expect_type(props.get("osProfile"), dict, "properties.osProfile")
        if not os_profile:
            raise errors.InvalidParameter(
                "Required parameter 'osProfile' is missing (null).", target="osProfile"
            )
        user = os_profile.get("adminUsername")
        if not isinstance(user, str) or not user:
            raise errors.InvalidParameter(
                "Required parameter 'adminUsername' is missing (null).", target="adminUsername"
            )
        if user.lower() in RESERVED_ADMIN_NAMES:
            raise errors.InvalidParameter(
                "The Admin Username specified is not allowed.", target="adminUsername"
            )
        computer = os_profile.get("computerName")
        if computer is not None and (not isinstance(computer, str) or not 1 <= len(computer) <= 64):
            raise errors.InvalidParameter(
                "Linux host name cannot exceed 64 characters in length "
                "or contain the following characters: ...",
                target="computerName",
            )
        linux = (
            expect_type(
                os_profile.get("linuxConfiguration", {}),
                dict,
                "properties.osProfile.linuxConfiguration",
            )
            or {}
        )
        keys = (linux.get("ssh") or {}).get("publicKeys") or []
        for key in keys:
            data = key.get("keyData", "")
            if not isinstance(data, str) or not _SSH_KEY.match(data.strip()):
                raise errors.InvalidParameter(
                    "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.",
                    target="linuxConfiguration.ssh.publicKeys.keyData",
                )
        if linux.get("disablePasswordAuthentication") and not keys:
            raise errors.InvalidParameter(
                "Authentication using either SSH or by user name and password must be enabled "
                "in Linux profile.",
                target="linuxConfiguration",
            )
        if not linux.get("disablePasswordAuthentication") and not os_profile.get("adminPassword"):
            raise errors.InvalidParameter(
                "Required parameter 'adminPassword' is missing (null).", target="adminPassword"
            )

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["vmId"] = rec["guid"]
        props["timeCreated"] = rec.get("createdAt")
        # What Azure fills in (recording: go armcompute TestVirtualMachineTestSuite).
        disk = props["storageProfile"]["osDisk"]
        windows = disk.get("osType") == "Windows"
        disk.setdefault("caching", "ReadWrite")
        disk.setdefault("deleteOption", "Detach")
        disk.setdefault("diskSizeGB", 127 if windows else 30)
        if provisioning_state(rec) != "Creating":  # the disk exists once the VM is created
            disk.setdefault("managedDisk", {}).setdefault(
                "id",
                f"{rec['id'].split('/providers/')[0]}/providers/Microsoft.Compute/disks/"
                f"{disk['name']}",
            )
        os_profile = props.get("osProfile")
        if isinstance(os_profile, dict):
            os_profile.setdefault("allowExtensionOperations", True)
            os_profile.setdefault("requireGuestProvisionSignal", True)
            name = "windowsConfiguration" if windows else "linuxConfiguration"
            config = os_profile.setdefault(name, {})
            for field, value in (WINDOWS_CONFIGURATION if windows else LINUX_CONFIGURATION).items():
                config.setdefault(field, copy.deepcopy(value))
        return out

    def create_duration(self, w: World, rec: Record, old: Record | None) -> float:
        return self.create_s if old is None else self.update_s


LINUX_CONFIGURATION: dict[str, Any] = {
    "disablePasswordAuthentication": False,
    "provisionVMAgent": True,
    "patchSettings": {"patchMode": "ImageDefault", "assessmentMode": "ImageDefault"},
    "enableVMAgentPlatformUpdates": False,
}
WINDOWS_CONFIGURATION: dict[str, Any] = {
    "provisionVMAgent": True,
    "enableAutomaticUpdates": True,
    "patchSettings": {"patchMode": "AutomaticByOS", "assessmentMode": "ImageDefault"},
    "enableVMAgentPlatformUpdates": False,
}


def _os_type(props: Body) -> str:
    """Windows for a Windows image or profile, Linux otherwise (as Azure reports osType)."""
    image = (props.get("storageProfile") or {}).get("imageReference") or {}
    publisher = str(image.get("publisher", ""))
    os_profile = props.get("osProfile") or {}
    if publisher.lower().startswith("microsoftwindows") or "windowsConfiguration" in os_profile:
        return "Windows"
    return "Linux"
