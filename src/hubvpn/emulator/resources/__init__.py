"""The resource types the emulator knows, by lower-cased ARM type (and the resource group)."""

from __future__ import annotations

import copy

from hubvpn.emulator.arm import Body, Kind, View, World, provisioning_state
from hubvpn.emulator.resources import (
    bastion,
    connection,
    local_network_gateway,
    nic,
    nsg,
    public_ip,
    resource_group,
    route_table,
    virtual_machine,
    virtual_network,
    virtual_network_gateway,
    vm_extension,
    watcher,
)
from hubvpn.emulator.store import Record

KINDS: dict[str, Kind] = {
    kind.type.lower(): kind
    for kind in (
        virtual_network.VirtualNetwork(),
        virtual_network.Subnet(),
        virtual_network.VirtualNetworkPeering(),
        public_ip.PublicIPAddress(),
        nsg.NetworkSecurityGroup(),
        route_table.RouteTable(),
        route_table.Route(),
        nic.NetworkInterface(),
        bastion.BastionHost(),
        watcher.NetworkWatcherKind(),
        virtual_network_gateway.VirtualNetworkGateway(),
        local_network_gateway.LocalNetworkGateway(),
        connection.Connection(),
        virtual_machine.VirtualMachine(),
        vm_extension.VirtualMachineExtension(),
    )
}

NAMESPACES = {t.split("/")[0] for t in KINDS}
RESOURCE_GROUP_KIND = resource_group.ResourceGroup(KINDS)


def kind_of(rec: Record) -> Kind:
    return KINDS[rec["type"].lower()]


def render_resource(w: World, rec: Record, *, view: View = "get") -> Body:
    """A resource as ARM answers GET (or a LIST, or a PUT: ``view``, see ``Kind.omit``):
    identity, etag, location, tags, properties."""
    kind = kind_of(rec)
    out: Body = {"name": rec["name"], "id": rec["id"], "etag": rec["etag"], "type": rec["type"]}
    if not getattr(kind, "has_etag", True):  # e.g. VM extensions carry none (as recorded)
        del out["etag"]
    if kind.has_location and rec.get("location") is not None:
        out["location"] = rec["location"]
    body = kind.render(w, rec)
    tags = rec["body"].get("tags")
    if tags is not None:
        out["tags"] = copy.deepcopy(tags)
    for field in ("sku", "zones", "kind"):
        if field in body:
            out[field] = body[field]
    props = body.get("properties", {})
    props["provisioningState"] = provisioning_state(rec)
    for field in kind.omit.get(view, ()):
        props.pop(field, None)
    out["properties"] = props
    return out
