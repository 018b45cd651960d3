"""Plan steps as Azure SDK calls: the desired model of each step, how it differs from
what exists (only in the fields hubvpn owns), and the SDK call that writes it.

``deploy`` decides when; this module decides what. Bodies are built with the
SDK's model classes (a plain dict would send snake_case keys to the wire).
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hubvpn import kinds, naming
from hubvpn.azure import Clients, error_code
from hubvpn.observe import Observed, text
from hubvpn.plan import (
    UBUNTU_IMAGE,
    BastionSpec,
    ConnectionSpec,
    ExtensionSpec,
    GatewaySpec,
    LocalGatewaySpec,
    NicSpec,
    PeeringSpec,
    Plan,
    PublicIpSpec,
    RouteTableSpec,
    Step,
    VirtualNetworkSpec,
    VmSpec,
    step_key,
)


class SharedKeys:
    """One pre-shared key per hub pair: HUBVPN_SHARED_KEY, else the key an existing
    connection of the pair already has (read back from Azure), else a new random one."""

    def __init__(
        self, clients: Clients, group: str, fixed: str | None, observed: Observed | None = None
    ) -> None:
        self._clients = clients
        self._group = group
        self._fixed = fixed
        # A GET of a connection carries its sharedKey (azure-facts.md, LIST vs GET): what
        # observe read answers without one more request per connection.
        self._observed = observed
        self._keys: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def current(self, connection: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        if self._observed is not None:
            known = getattr(
                self._observed.get(step_key("connection", connection)), "shared_key", None
            )
            if known:
                return str(known)
        try:
            found = self._clients.network.virtual_network_gateway_connections.get_shared_key(
                self._group, connection
            )
        except ResourceNotFoundError:
            return None
        value = found.value
        return str(value) if value else None

    def for_pair(self, pair: tuple[str, str], existing: list[str]) -> str:
        with self._lock:
            if self._fixed:
                return self._fixed
            if pair not in self._keys:
                for connection in existing:
                    key = self.current(connection)
                    if key:
                        self._keys[pair] = key
                        break
                else:
                    self._keys[pair] = secrets.token_urlsafe(32)
            return self._keys[pair]


@dataclass
class Context:
    clients: Clients
    plan: Plan
    observed: Observed
    ssh_public_key: str | None
    shared_keys: SharedKeys
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.plan.topology.resource_group

    @property
    def tags(self) -> dict[str, str]:
        return {naming.TAG: self.plan.topology.name}

    def rid(self, type_: str, name: str) -> str:
        return (
            f"/subscriptions/{self.clients.subscription_id}/resourceGroups/{self.group}"
            f"/providers/{type_}/{name}"
        )

    def subnet_id(self, vnet: str, subnet: str) -> str:
        return f"{self.rid('Microsoft.Network/virtualNetworks', vnet)}/subnets/{subnet}"

    def model(self, kind: str, name: str, parent: str | None = None) -> Any | None:
        """A resource as last written in this run, else as observed."""
        key = step_key(kind, name, parent)
        return self.results.get(key) or self.observed.get(key)


# ------------------------------------------------------------------ desired


def desired(step: Step, ctx: Context) -> Any:
    """The SDK model to PUT for a step."""
    from azure.mgmt.network import models as n

    spec = step.spec
    loc, tags = step.location, ctx.tags
    if step.kind == "resource_group":
        from azure.mgmt.resource.resources import models as r

        return r.ResourceGroup(location=loc, tags=tags)
    if step.kind == "network_security_group":
        return n.NetworkSecurityGroup(location=loc, tags=tags)
    if isinstance(spec, RouteTableSpec):
        return n.RouteTable(
            location=loc,
            tags=tags,
            disable_bgp_route_propagation=False,
            routes=[
                n.Route(name=r.name, address_prefix=r.address_prefix, next_hop_type=r.next_hop_type)
                for r in spec.routes
            ],
        )
    if isinstance(spec, VirtualNetworkSpec):
        subnets = []
        for s in spec.subnets:
            subnet = n.Subnet(name=s.name, address_prefix=s.prefix)
            if s.network_security_group:
                subnet.network_security_group = n.NetworkSecurityGroup(
                    id=ctx.rid("Microsoft.Network/networkSecurityGroups", s.network_security_group)
                )
            if s.route_table:
                subnet.route_table = n.RouteTable(
                    id=ctx.rid("Microsoft.Network/routeTables", s.route_table)
                )
            subnets.append(subnet)
        return n.VirtualNetwork(
            location=loc,
            tags=tags,
            subnets=subnets,
            address_space=n.AddressSpace(address_prefixes=list(spec.address_space)),
        )
    if isinstance(spec, PublicIpSpec):
        return n.PublicIPAddress(
            location=loc,
            tags=tags,
            zones=list(spec.zones),
            sku=n.PublicIPAddressSku(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
        )
    if isinstance(spec, GatewaySpec):
        return n.VirtualNetworkGateway(
            location=loc,
            tags=tags,
            gateway_type="Vpn",
            vpn_type="RouteBased",
            sku=n.VirtualNetworkGatewaySku(name=spec.sku, tier=spec.sku),
            enable_bgp=True,
            active_active=False,
            vpn_gateway_generation=spec.generation,
            bgp_settings=n.BgpSettings(asn=spec.asn),
            ip_configurations=[
                n.VirtualNetworkGatewayIPConfiguration(
                    name="default",
                    private_ip_allocation_method="Dynamic",
                    subnet=n.SubResource(
                        id=ctx.subnet_id(spec.virtual_network, naming.GATEWAY_SUBNET)
                    ),
                    public_ip_address=n.SubResource(
                        id=ctx.rid("Microsoft.Network/publicIPAddresses", spec.public_ip)
                    ),
                )
            ],
        )
    if isinstance(spec, LocalGatewaySpec):
        address, asn, bgp_address = remote_gateway_facts(spec, ctx)
        return n.LocalNetworkGateway(
            location=loc,
            tags=tags,
            gateway_ip_address=address,
            local_network_address_space=n.AddressSpace(address_prefixes=[]),
            bgp_settings=n.BgpSettings(asn=asn, bgp_peering_address=bgp_address),
        )
    if isinstance(spec, ConnectionSpec):
        return n.VirtualNetworkGatewayConnection(
            location=loc,
            tags=tags,
            connection_type="IPsec",
            connection_protocol="IKEv2",
            enable_bgp=True,
            shared_key=pair_key(spec, ctx),
            virtual_network_gateway1=n.VirtualNetworkGateway(
                id=ctx.rid("Microsoft.Network/virtualNetworkGateways", spec.gateway)
            ),
            local_network_gateway2=n.LocalNetworkGateway(
                id=ctx.rid("Microsoft.Network/localNetworkGateways", spec.local_network_gateway)
            ),
        )
    if isinstance(spec, PeeringSpec):
        return n.VirtualNetworkPeering(
            remote_virtual_network=n.SubResource(
                id=ctx.rid("Microsoft.Network/virtualNetworks", spec.remote_virtual_network)
            ),
            allow_virtual_network_access=spec.allow_virtual_network_access,
            allow_forwarded_traffic=spec.allow_forwarded_traffic,
            allow_gateway_transit=spec.allow_gateway_transit,
            use_remote_gateways=spec.use_remote_gateways,
        )
    if isinstance(spec, NicSpec):
        return n.NetworkInterface(
            location=loc,
            tags=tags,
            ip_configurations=[
                n.NetworkInterfaceIPConfiguration(
                    name="ipconfig1",
                    private_ip_allocation_method="Dynamic",
                    subnet=n.Subnet(id=ctx.subnet_id(spec.virtual_network, spec.subnet)),
                )
            ],
        )
    if isinstance(spec, BastionSpec):
        return n.BastionHost(
            location=loc,
            tags=tags,
            sku=n.Sku(name="Standard"),
            enable_tunneling=True,  # native client support: az network bastion ssh
            ip_configurations=[
                n.BastionHostIPConfiguration(
                    name="IpConf",
                    subnet=n.SubResource(
                        id=ctx.subnet_id(spec.virtual_network, naming.BASTION_SUBNET)
                    ),
                    public_ip_address=n.SubResource(
                        id=ctx.rid("Microsoft.Network/publicIPAddresses", spec.public_ip)
                    ),
                )
            ],
        )
    if step.kind == "network_watcher":
        # Untagged: the region's watcher serves every lab and outlives this one.
        return n.NetworkWatcher(location=loc)
    if isinstance(spec, VmSpec):
        return desired_vm(step, spec, ctx)
    if isinstance(spec, ExtensionSpec):
        from azure.mgmt.compute import models as c

        return c.VirtualMachineExtension(
            location=loc,
            tags=tags,
            properties=c.VirtualMachineExtensionProperties(
                publisher=spec.publisher,
                type=spec.type,
                type_handler_version=spec.version,
                auto_upgrade_minor_version=True,
            ),
        )
    raise ValueError(f"no desired model for {step.key}")


def desired_vm(step: Step, spec: VmSpec, ctx: Context) -> Any:
    from azure.mgmt.compute import models as c

    publisher, offer, sku, version = UBUNTU_IMAGE
    user = spec.admin_username
    return c.VirtualMachine(
        location=step.location,
        tags=ctx.tags,
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
                        id=ctx.rid("Microsoft.Network/networkInterfaces", spec.network_interface),
                        properties=c.NetworkInterfaceReferenceProperties(primary=True),
                    )
                ]
            ),
        ),
    )


def remote_gateway_facts(spec: LocalGatewaySpec, ctx: Context) -> tuple[str, int, str]:
    """(public IP, ASN, BGP peering address) of the remote gateway, as Azure assigned them."""
    gateway = ctx.model("virtual_network_gateway", spec.remote_gateway)
    pip = ctx.model("public_ip", spec.remote_public_ip)
    bgp = None if gateway is None else gateway.bgp_settings
    if bgp is None or not bgp.bgp_peering_address or pip is None or not pip.ip_address:
        raise LookupError(f"remote gateway {spec.remote_gateway} or its public IP is missing")
    return str(pip.ip_address), int(bgp.asn), str(bgp.bgp_peering_address)


def pair_key(spec: ConnectionSpec, ctx: Context) -> str:
    local, remote = spec.gateway, spec.remote_gateway
    # Sorted: whichever direction asks first, the pair's key is read from the same side.
    existing = [
        name
        for name in sorted((naming.connection(local, remote), naming.connection(remote, local)))
        if ctx.observed.get(step_key("connection", name)) is not None
    ]
    return ctx.shared_keys.for_pair(spec.pair, existing)


# -------------------------------------------------------------- differences

Change = tuple[str, Any, Any]  # (field path in the ARM body, what exists, what the plan wants)
UNTAGGED_KINDS = frozenset({"peering", "vm_extension", "network_watcher"})


def _id(ref: Any) -> str | None:
    value = getattr(ref, "id", None)
    return str(value) if value else None


def _same_id(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    """The owned fields where what exists differs from the plan, as (path, old, new)
    triples in the ARM body's words (empty: leave it). LookupError when an input is
    not known yet (the remote gateway of a local network gateway is still to come)."""
    spec = step.spec
    found: list[Change] = []
    tags = getattr(existing, "tags", None)
    owner = (tags or {}).get(naming.TAG)
    if step.kind not in UNTAGGED_KINDS and owner != ctx.plan.topology.name:
        found.append((f"tags.{naming.TAG}", owner, ctx.plan.topology.name))
    if isinstance(spec, VirtualNetworkSpec):
        prefixes = sorted(existing.address_space.address_prefixes or [])
        if prefixes != sorted(spec.address_space):
            found.append(("addressSpace.addressPrefixes", prefixes, sorted(spec.address_space)))
        have = {s.name.lower(): s for s in existing.subnets or []}
        for s in spec.subnets:
            sub = have.pop(s.name.lower(), None)
            path = f"subnets[{s.name}]"
            if sub is None or sub.address_prefix != s.prefix:
                old = None if sub is None else sub.address_prefix
                found.append((f"{path}.addressPrefix", old, s.prefix))
                continue
            nsg = s.network_security_group and ctx.rid(
                "Microsoft.Network/networkSecurityGroups", s.network_security_group
            )
            table = s.route_table and ctx.rid("Microsoft.Network/routeTables", s.route_table)
            for field_path, ref, want in (
                ("networkSecurityGroup.id", sub.network_security_group, nsg or None),
                ("routeTable.id", sub.route_table, table or None),
            ):
                if not _same_id(_id(ref), want):
                    found.append((f"{path}.{field_path}", _id(ref), want))
    elif isinstance(spec, RouteTableSpec):
        have_routes = sorted(
            [r.name, r.address_prefix, text(r.next_hop_type)] for r in existing.routes or []
        )
        want_routes = sorted([r.name, r.address_prefix, r.next_hop_type] for r in spec.routes)
        if have_routes != want_routes:
            found.append(("routes", have_routes, want_routes))
    elif isinstance(spec, GatewaySpec):
        if text(existing.sku.name) != spec.sku:
            found.append(("sku.name", text(existing.sku.name), spec.sku))
        if not existing.enable_bgp:
            found.append(("enableBgp", bool(existing.enable_bgp), True))
        asn = None if existing.bgp_settings is None else existing.bgp_settings.asn
        if asn != spec.asn:
            found.append(("bgpSettings.asn", asn, spec.asn))
        # vpnGatewayGeneration is the platform's: never drift (issue 9).
    elif isinstance(spec, LocalGatewaySpec):
        address, asn, bgp_address = remote_gateway_facts(spec, ctx)
        bgp = existing.bgp_settings
        if existing.gateway_ip_address != address:
            found.append(("gatewayIpAddress", existing.gateway_ip_address, address))
        if (None if bgp is None else bgp.asn) != asn:
            found.append(("bgpSettings.asn", None if bgp is None else bgp.asn, asn))
        if (None if bgp is None else bgp.bgp_peering_address) != bgp_address:
            old = None if bgp is None else bgp.bgp_peering_address
            found.append(("bgpSettings.bgpPeeringAddress", old, bgp_address))
    elif isinstance(spec, ConnectionSpec):
        if not existing.enable_bgp:
            found.append(("enableBgp", bool(existing.enable_bgp), True))
        want_lng = ctx.rid("Microsoft.Network/localNetworkGateways", spec.local_network_gateway)
        if not _same_id(_id(existing.local_network_gateway2), want_lng):
            found.append(
                ("localNetworkGateway2.id", _id(existing.local_network_gateway2), want_lng)
            )
    elif isinstance(spec, PeeringSpec):
        want_remote = ctx.rid("Microsoft.Network/virtualNetworks", spec.remote_virtual_network)
        if not _same_id(_id(existing.remote_virtual_network), want_remote):
            found.append(
                ("remoteVirtualNetwork.id", _id(existing.remote_virtual_network), want_remote)
            )
        for attr, wire, want_flag in (
            (
                "allow_virtual_network_access",
                "allowVirtualNetworkAccess",
                spec.allow_virtual_network_access,
            ),
            ("allow_forwarded_traffic", "allowForwardedTraffic", spec.allow_forwarded_traffic),
            ("allow_gateway_transit", "allowGatewayTransit", spec.allow_gateway_transit),
            ("use_remote_gateways", "useRemoteGateways", spec.use_remote_gateways),
        ):
            if bool(getattr(existing, attr)) != want_flag:
                found.append((wire, bool(getattr(existing, attr)), want_flag))
    elif isinstance(spec, BastionSpec):
        if not existing.enable_tunneling:
            found.append(("enableTunneling", bool(existing.enable_tunneling), True))
    elif isinstance(spec, NicSpec):
        configs = existing.ip_configurations or []
        have_subnet = _id(configs[0].subnet) if configs else None
        want_subnet = ctx.subnet_id(spec.virtual_network, spec.subnet)
        if not _same_id(have_subnet, want_subnet):
            found.append(("ipConfigurations[0].subnet.id", have_subnet, want_subnet))
    elif isinstance(spec, VmSpec):
        size = text(existing.properties.hardware_profile.vm_size)
        if size != spec.size:
            found.append(("hardwareProfile.vmSize", size, spec.size))
    return found


def updated(step: Step, existing: Any, ctx: Context) -> Any:
    """The model to PUT over an existing resource: what exists, with owned fields set.

    A gateway is never re-sent from scratch: its Azure-computed BGP fields and
    IP configurations stay as Azure returned them.
    """
    spec = step.spec
    existing = copy.deepcopy(existing)  # what was observed stays as observed
    if isinstance(spec, GatewaySpec):
        from azure.mgmt.network import models as n

        existing.tags = {**(existing.tags or {}), **ctx.tags}
        existing.sku = n.VirtualNetworkGatewaySku(name=spec.sku, tier=spec.sku)
        existing.enable_bgp = True
        existing.bgp_settings.asn = spec.asn
        return existing
    if isinstance(spec, VmSpec):
        existing.tags = {**(existing.tags or {}), **ctx.tags}
        existing.properties.hardware_profile.vm_size = spec.size
        return existing
    model = desired(step, ctx)
    if step.kind not in UNTAGGED_KINDS and getattr(existing, "tags", None):
        model.tags = {**existing.tags, **ctx.tags}
    if isinstance(spec, VirtualNetworkSpec):
        # A VNet PUT replaces the whole VNet: keep its peerings and foreign subnets.
        model.virtual_network_peerings = existing.virtual_network_peerings
        if isinstance(spec, VirtualNetworkSpec):
            ours = {s.name.lower() for s in spec.subnets}
            model.subnets += [s for s in existing.subnets or [] if s.name.lower() not in ours]
    # desired() already carries the pair's key: Azure may generate a new key for a
    # connection PUT without one, so every create and update sends it.
    return model


# ------------------------------------------------------------ network watchers


def regional_watcher(watchers: list[Any], location: str) -> Any | None:
    """The region's network watcher (Azure allows one per region and subscription)."""
    region = location.replace(" ", "").lower()
    return next(
        (w for w in watchers if (w.location or "").replace(" ", "").lower() == region), None
    )


def watcher_group(watcher: Any) -> str:
    return str(watcher.id.split("/")[4])


_WATCHER_GROUP_LOCK = threading.Lock()


def create_network_watcher(step: Step, model: Any, ctx: Context) -> Any:
    """Create the region's watcher where Azure would (``NetworkWatcherRG``, untagged).

    Returns the watcher to use. When another one appeared meanwhile (Azure creates
    one on a region's first VNet write), Azure refuses a second with
    NetworkWatcherCountLimitReached: the region's watcher is then the one to use.
    """
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.resource.resources import models as r

    groups = ctx.clients.resource.resource_groups
    group = naming.NETWORK_WATCHER_GROUP
    with _WATCHER_GROUP_LOCK:  # two regions' steps run at once; one PUT of the group
        if not groups.check_existence(group):
            try:
                groups.create_or_update(group, r.ResourceGroup(location=step.location))
            except HttpResponseError as err:
                # Azure made it meanwhile, in another region (a VNet write there creates
                # the region's watcher and this group): a group's region is only its
                # metadata's home, and the watcher goes in it all the same.
                if error_code(err) != "InvalidResourceGroupLocation":
                    raise
    watchers = ctx.clients.network.network_watchers
    try:
        return watchers.create_or_update(group, step.name, model)
    except HttpResponseError as err:
        if error_code(err) != "NetworkWatcherCountLimitReached":
            raise
        found = regional_watcher(list(watchers.list_all()), step.location)
        if found is None:
            raise
        return found


# ------------------------------------------------------------------- writing


def begin_put(step: Step, model: Any, ctx: Context) -> Callable[[], Any]:
    """Start the write; returns the wait (the poller's result)."""
    if step.kind == "network_watcher":  # the region's, in NetworkWatcherRG
        result = create_network_watcher(step, model, ctx)
        return lambda: result
    return kinds.begin_put(ctx.clients, ctx.group, step.kind, step.name, step.parent, model)


def read(step: Step, ctx: Context) -> Any | None:
    """GET one resource (None when it does not exist)."""
    group = naming.NETWORK_WATCHER_GROUP if step.kind == "network_watcher" else ctx.group
    return kinds.get(ctx.clients, group, step.kind, step.name, step.parent)
