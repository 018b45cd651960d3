"""Cross-type queries: who uses a subnet, a NIC, a public IP, a route table or NSG, a gateway.

Queries answer from the store's own records, not copies (``World.peek_referrers``): the
records they return are for reading; a caller that changes one ``get``s a copy first
(``reverse_peering`` hands out copies unless told otherwise: ``after_put`` changes it)."""

from __future__ import annotations

import ipaddress

from hubvpn.emulator.arm import (
    World,
)
from hubvpn.emulator.resources.common import ref_id
from hubvpn.emulator.store import Record
from hubvpn.emulator.types import (
    BASTION,
    CONNECTION,
    GATEWAY,
    NIC,
    PEERING,
    SUBNET,
    VM,
)


def ip_configuration_users(w: World, subnet_key: str) -> list[tuple[str, Record]]:
    """(ipConfiguration id, owner record) of everything placed in a subnet."""
    users: list[tuple[str, Record]] = []
    for type_ in (NIC, GATEWAY, BASTION):
        for rec in w.peek_referrers(subnet_key, type_):
            for cfg in rec["body"]["properties"].get("ipConfigurations", []):
                sid = ref_id(cfg.get("properties", {}).get("subnet"))
                if sid and sid.lower() == subnet_key.lower():
                    users.append((f"{rec['id']}/ipConfigurations/{cfg['name']}", rec))
    return users


def gateway_in_vnet(w: World, vnet_id: str) -> Record | None:
    """The VPN gateway whose GatewaySubnet lies in a VNet, if any."""
    prefix = vnet_id.lower() + "/subnets/"
    for subnet in w.peek_select(SUBNET, parent=vnet_id):
        for rec in w.peek_referrers(subnet["id"], GATEWAY):
            for cfg in rec["body"]["properties"].get("ipConfigurations", []):
                sid = ref_id(cfg.get("properties", {}).get("subnet")) or ""
                if sid.lower().startswith(prefix):
                    return rec
    return None


def reverse_peering(w: World, vnet_id: str, remote_id: str, *, copy: bool = True) -> Record | None:
    """The peering of ``remote_id`` back to ``vnet_id``, if any (a copy unless ``copy`` is
    False)."""
    peerings = (
        w.select(PEERING, parent=remote_id) if copy else w.peek_select(PEERING, parent=remote_id)
    )
    for peering in peerings:
        target = peering["body"]["properties"]["remoteVirtualNetwork"]["id"]
        if target.lower() == vnet_id.lower():
            return peering
    return None


def public_ip_user(w: World, ip_id: str) -> str | None:
    for type_ in (GATEWAY, BASTION, NIC):
        for rec in w.peek_referrers(ip_id, type_):
            for cfg in rec["body"]["properties"].get("ipConfigurations", []):
                pid = ref_id(cfg.get("properties", {}).get("publicIPAddress"))
                if pid and pid.lower() == ip_id.lower():
                    return f"{rec['id']}/ipConfigurations/{cfg['name']}"
    return None


def subnets_using(w: World, field: str, rid: str) -> list[str]:
    found = []
    for sub in w.peek_referrers(rid, SUBNET):
        target = ref_id(sub["body"]["properties"].get(field))
        if target and target.lower() == rid.lower():
            found.append(sub["id"])
    return found


def vm_of_nic(w: World, nic_id: str) -> Record | None:
    for vm in w.peek_referrers(nic_id, VM):
        for ref in vm["body"]["properties"].get("networkProfile", {}).get("networkInterfaces", []):
            if str(ref.get("id", "")).lower() == nic_id.lower():
                return vm
    return None


def used_private_addresses(w: World, subnet: Record, owner: str) -> set[ipaddress.IPv4Address]:
    """Addresses others hold in a subnet (a configuration may hold a prefix: x.x.x.16/28)."""
    used: set[ipaddress.IPv4Address] = set()
    for _cfg_id, rec in ip_configuration_users(w, subnet["id"]):
        if rec["id"].lower() == owner.lower():
            continue
        for cfg in rec["body"]["properties"].get("ipConfigurations", []):
            if cfg.get("properties", {}).get("privateIPAddress"):
                used.update(
                    ipaddress.IPv4Network(cfg["properties"]["privateIPAddress"], strict=False)
                )
    return used


def connection_using(w: World, field: str, gateway_id: str) -> Record | None:
    """A connection whose ``field`` (virtualNetworkGateway1, localNetworkGateway2) is the
    gateway, if any."""
    for conn in w.peek_referrers(gateway_id, CONNECTION):
        target = ref_id(conn["body"]["properties"].get(field)) or ""
        if target.lower() == gateway_id.lower():
            return conn
    return None
