"""Microsoft.Network/bastionHosts."""

from __future__ import annotations

from hubvpn.emulator import errors
from hubvpn.emulator.arm import (
    Body,
    Kind,
    ResourceId,
    World,
    body_copy,
    expect_type,
)
from hubvpn.emulator.resources.common import DedicatedSubnet, props_of
from hubvpn.emulator.resources.references import public_ip_user
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    BASTION,
    PUBLIC_IP,
)

BASTION_SUBNET = DedicatedSubnet(
    "AzureBastionSubnet", 26, errors.BastionSubnetRequired, errors.AzureBastionSubnetTooSmall
)


class BastionHost(Kind):
    type = BASTION
    create_s = 600.0
    update_s = 300.0
    delete_s = 300.0

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        sku = (expect_type(body.get("sku", {"name": "Standard"}), dict, "sku") or {}).get(
            "name", "Standard"
        )
        if sku not in ("Developer", "Basic", "Standard", "Premium"):
            raise errors.InvalidRequestBody(f"Bastion SKU '{sku}' is invalid.", target="sku.name")
        configs = expect_type(props.get("ipConfigurations"), list, "properties.ipConfigurations")
        if not configs:
            raise errors.InvalidRequestBody("A Bastion host needs one IP configuration.")
        cfg = configs[0]
        cprops = cfg.get("properties", {})
        subnet = BASTION_SUBNET.check(w, cprops.get("subnet"), rid)
        pip = w.reference(cprops.get("publicIPAddress"), str(rid), kind=PUBLIC_IP)
        w.succeeded(pip, str(rid))
        if pip["body"]["sku"]["name"] != "Standard":
            raise errors.InvalidRequestBody(
                f"Bastion needs a Standard public IP; {pip['id']} is Basic."
            )
        user = public_ip_user(w, pip["id"])
        if user is not None and not user.lower().startswith(str(rid).lower()):
            raise errors.InvalidRequestBody(f"Public IP {pip['id']} is already used by {user}.")
        name = cfg.get("name") or "IpConf"
        keep = {
            k: v
            for k, v in props.items()
            if k not in ("ipConfigurations", "provisioningState", "dnsName")
        }
        keep["ipConfigurations"] = [
            {
                "name": name,
                "id": f"{rid}/bastionHostIpConfigurations/{name}",
                "type": "Microsoft.Network/bastionHosts/bastionHostIpConfigurations",
                "properties": {
                    "subnet": {"id": subnet["id"]},
                    "publicIPAddress": {"id": pip["id"]},
                    "privateIPAllocationMethod": "Dynamic",
                },
            }
        ]
        keep.setdefault("scaleUnits", 2)
        for flag in (  # BastionHostPut.json answers every feature flag, false by default
            "disableCopyPaste",
            "enableTunneling",
            "enableIpConnect",
            "enableShareableLink",
            "enableKerberos",
            "enableSessionRecording",
            "enablePrivateOnlyBastion",
        ):
            keep[flag] = bool(expect_type(keep.get(flag, False), bool, f"properties.{flag}"))
        return {"properties": keep, "sku": {"name": sku}}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        out["properties"]["dnsName"] = f"bst-{rec['guid']}.bastion.azure.com"
        for cfg in out["properties"].get("ipConfigurations", []):  # as recorded (bastion suite)
            cfg["etag"] = rec["etag"]
            cfg.setdefault("properties", {})["provisioningState"] = "Succeeded"
        return out
