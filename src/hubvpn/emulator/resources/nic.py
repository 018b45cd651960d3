"""Microsoft.Network/networkInterfaces: first free private IP from .4, in-use rules."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any, ClassVar

from hubvpn.emulator import errors, physics
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
from hubvpn.emulator.resources.common import props_of, subnet_prefix
from hubvpn.emulator.resources.references import used_private_addresses, vm_of_nic
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    NIC,
    NSG,
    PUBLIC_IP,
    SUBNET,
)

# Fields Azure fills in on every network interface it returns (recording: go armnetwork
# TestNetworkInterfaceTestSuite, tests/recorded/).
NIC_COMPUTED: dict[str, Any] = {
    "vnetEncryptionSupported": False,
    "disableTcpStateTracking": False,
    "hostedWorkloads": [],
    "tapConfigurations": [],
    "nicType": "Standard",
    "allowPort25Out": True,
    "auxiliaryMode": "None",
    "auxiliarySku": "None",
}


EFFECTIVE_ROUTES_S = 10.0


def effective_route_table(w: World, nic: Record, body: Body) -> tuple[Body, float]:
    vm = vm_of_nic(w, nic["id"])
    if vm is None or provisioning_state(vm) != "Succeeded":
        raise errors.NicNotAttachedToRunningVm(nic["id"])
    return {"value": physics.effective_routes(w, nic)}, EFFECTIVE_ROUTES_S


class NetworkInterface(Kind):
    type = NIC
    actions: ClassVar[dict[str, Action]] = {"effectiveRouteTable": effective_route_table}

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        configs = expect_type(props.get("ipConfigurations"), list, "properties.ipConfigurations")
        if not configs:
            raise errors.InvalidRequestBody(
                "A network interface needs at least one IP configuration.",
                target="properties.ipConfigurations",
            )
        out_configs = []
        old_ips = {}
        if old is not None:
            old_ips = {
                c["name"].lower(): c["properties"].get("privateIPAddress")
                for c in old["body"]["properties"]["ipConfigurations"]
            }
        primary_subnet: Record | None = None
        taken: set[ipaddress.IPv4Address] = set()  # addresses of this NIC's earlier configs
        for i, cfg in enumerate(configs):
            expect_type(cfg, dict, f"properties.ipConfigurations[{i}]")
            name = cfg.get("name") or f"ipconfig{i + 1}"
            cprops = dict(
                expect_type(
                    cfg.get("properties", {}), dict, f"properties.ipConfigurations[{i}].properties"
                )
                or {}
            )
            if cprops.get("subnet") is None and primary_subnet is not None:
                subnet = primary_subnet  # a secondary configuration shares the primary's subnet
            else:
                subnet = w.reference(cprops.get("subnet"), str(rid), kind=SUBNET)
            primary_subnet = primary_subnet or subnet
            if subnet["name"].lower() == "gatewaysubnet":
                raise errors.GatewaySubnet()
            w.succeeded(subnet, str(rid))
            vnet = w.get(subnet["parent"])
            if vnet is not None and vnet.get("location") != body.get("location"):
                raise errors.InvalidResourceReference(subnet["id"], f"{rid} (other region)")
            method = cprops.get("privateIPAllocationMethod", "Dynamic")
            length = expect_type(
                cprops.get("privateIPAddressPrefixLength"),
                int,
                f"properties.ipConfigurations[{i}].properties.privateIPAddressPrefixLength",
            )
            address = (
                cprops.get("privateIPAddress") if method == "Static" else old_ips.get(name.lower())
            )
            if length is not None:
                address = assign_private_prefix(w, subnet, str(rid), length, address, taken)
            else:
                address = assign_private_ip(w, subnet, str(rid), address, taken)
            taken.update(ipaddress.IPv4Network(address, strict=False))
            cprops = {k: v for k, v in cprops.items() if k != "provisioningState"}
            cprops.update(
                {
                    "subnet": {"id": subnet["id"]},
                    "privateIPAddress": address,
                    "privateIPAllocationMethod": method,
                    "privateIPAddressVersion": "IPv4",
                    "primary": i == 0,
                }
            )
            if cprops.get("publicIPAddress") is not None:
                w.reference(cprops["publicIPAddress"], str(rid), kind=PUBLIC_IP)
            out_configs.append(
                {
                    "name": name,
                    "id": f"{rid}/ipConfigurations/{name}",
                    "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                    "properties": cprops,
                }
            )
        if props.get("networkSecurityGroup") is not None:
            w.reference(props["networkSecurityGroup"], str(rid), kind=NSG)
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "ipConfigurations",
                "provisioningState",
                "resourceGuid",
                "virtualMachine",
                "macAddress",
                "primary",
            )
        }
        keep["ipConfigurations"] = out_configs
        keep.setdefault("enableAcceleratedNetworking", False)
        keep.setdefault("enableIPForwarding", False)
        return {"properties": keep}

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        for cfg in props["ipConfigurations"]:
            cfg["etag"] = rec["etag"]
            cfg["type"] = f"{NIC}/ipConfigurations"
            cfg["properties"]["provisioningState"] = "Succeeded"
        for field, value in NIC_COMPUTED.items():  # as recorded Azure shows them
            props.setdefault(field, copy.deepcopy(value))
        dns = props.setdefault("dnsSettings", {})
        dns.setdefault("dnsServers", [])
        dns.setdefault("appliedDnsServers", list(dns["dnsServers"]))
        dns.setdefault(
            "internalDomainNameSuffix",
            f"{rec['guid'].replace('-', '')[:26]}.dx.internal.cloudapp.net",
        )
        out["kind"] = "Regular"
        vm = vm_of_nic(w, rec["id"])
        if vm is not None:
            props["virtualMachine"] = {"id": vm["id"]}
            props["primary"] = True
            props["macAddress"] = "00-22-48-" + "-".join(
                rec["guid"].replace("-", "")[i : i + 2].upper() for i in (0, 2, 4)
            )
        return out

    def check_delete(self, w: World, rec: Record) -> None:
        vm = vm_of_nic(w, rec["id"])
        if vm is not None:
            raise errors.NicInUse(rec["id"], vm["id"])


def assign_private_prefix(
    w: World,
    subnet: Record,
    owner: str,
    length: int,
    kept: str | None,
    taken: set[ipaddress.IPv4Address],
) -> str:
    """privateIPAddressPrefixLength: the first aligned free block, e.g. 172.20.2.16/28."""
    net = subnet_prefix(subnet)
    if not net.prefixlen <= length <= 32:
        raise errors.InvalidRequestBody(
            f"privateIPAddressPrefixLength {length} does not fit subnet {net}.",
            target="privateIPAddressPrefixLength",
        )
    if kept is not None and "/" in kept and ipaddress.IPv4Network(kept).prefixlen == length:
        return kept
    unavailable = used_private_addresses(w, subnet, owner) | taken
    unavailable.update(net.network_address + i for i in range(4))
    unavailable.add(net.broadcast_address)
    for block in net.subnets(new_prefix=length):
        if not any(address in unavailable for address in block):
            return str(block)
    raise errors.SubnetIsFull(subnet["id"])


def assign_private_ip(
    w: World,
    subnet: Record,
    owner: str,
    wanted: str | None,
    taken: set[ipaddress.IPv4Address] | None = None,
) -> str:
    """Azure reserves the first four addresses and the last: the first free is x.x.x.4."""
    net = subnet_prefix(subnet)
    used = {str(a) for a in used_private_addresses(w, subnet, owner) | (taken or set())}
    if wanted is not None and "/" in wanted:
        wanted = None  # a former prefix configuration becomes a single address
    if wanted is not None:
        try:
            address = ipaddress.IPv4Address(wanted)
        except ValueError:
            raise errors.PrivateIPAddressNotInSubnet(str(wanted), str(net)) from None
        if (
            address not in net
            or int(address) - int(net.network_address) < 4
            or address == net.broadcast_address
        ):
            raise errors.PrivateIPAddressNotInSubnet(str(wanted), str(net))
        if str(address) in used:
            raise errors.PrivateIPAddressInUse(str(address))
        return str(address)
    for offset in range(4, net.num_addresses - 1):
        candidate = str(net.network_address + offset)
        if candidate not in used:
            return candidate
    raise errors.SubnetIsFull(subnet["id"])
