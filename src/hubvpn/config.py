"""The topology file (``config/topology.toml``) as frozen dataclasses, with validation.

Usage::

    from hubvpn.config import DEFAULT_CONFIG, TopologyError, load_topology

    try:
        topology = load_topology(DEFAULT_CONFIG)
    except TopologyError as err:
        print(err)                # one line per problem: "<file>: <key>: <message>"
    else:
        hub = topology.hub("hub00")
        print(hub.asn, [spoke.name for spoke in hub.spokes], topology.warnings)

Every problem in the file is collected and reported at once, each naming its key path
(``hubs[1].spokes[0].address_space``) in one ``TopologyError`` (a ``BadInput``: exit 2;
the tree is drawn in ``errors.py``). Here: the model, and the rules Azure and the lab
set on it; reading typed TOML values and collecting the problems is ``checks.py``'s.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hubvpn import naming
from hubvpn.checks import Checker, Problem, describe, join
from hubvpn.errors import BadInput
from hubvpn.regions import has_zones

DEFAULT_CONFIG = Path("config/topology.toml")
DEFAULT_GATEWAY_SKU = "VpnGw1AZ"

GATEWAY_SKUS = ("VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ")
RETIRED_GATEWAY_SKUS = ("VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5")
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(cidr)
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
ASN_MAX = 4294967294
AZURE_RESERVED_ASNS = frozenset({8074, 8075, 12076, 65515, 65517, 65518, 65519, 65520})
IANA_RESERVED_ASNS = frozenset({0, 23456, 4294967295, *range(64496, 64512), *range(65535, 65552)})
# Azure's documented list of user names it refuses for Linux VMs (those that fit the
# Linux user name pattern), plus a few Linux system accounts. Not exhaustive.
# fmt: off
RESERVED_ADMIN_USERNAMES = frozenset(
    {
        "a", "actuser", "adm", "admin", "admin1", "admin2", "administrator", "aspnet",
        "backup", "bin", "console", "daemon", "david", "guest", "john", "nobody", "owner",
        "root", "server", "sql", "support", "support_388945a0", "sys", "test", "test1",
        "test2", "test3", "user", "user1", "user2", "user3", "user4", "user5",
    }
)
# fmt: on

_TOPOLOGY_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_RESOURCE_GROUP = re.compile(r"[A-Za-z0-9_().-]{0,89}[A-Za-z0-9_()-]")
_VNET_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?")
_GATEWAY_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?")
_LOCATION = re.compile(r"[a-z0-9]+")
_VM_SIZE = re.compile(r"Standard_[A-Za-z0-9_]+")
_ADMIN_USERNAME = re.compile(r"[a-z_][a-z0-9_-]{0,63}")

# The keys of each table, in schema order; "?" marks an optional key.
_TOP_KEYS = ["name", "resource_group", "location", "vm?", "gateway?", "routing?", "hubs", "links?"]
_VM_KEYS = ["size", "admin_username", "ssh_public_key_file"]
_GATEWAY_KEYS = ["sku?"]
_ROUTING_KEYS = ["spoke_to_spoke?"]
_HUB_KEYS = ["name", "address_space", "default_subnet", "gateway_subnet", "bastion_subnet?"]
_HUB_KEYS += ["asn", "gateway_name?", "location?", "spokes?"]
_SPOKE_KEYS = ["name", "address_space", "default_subnet"]
_LINK_KEYS = ["hubs"]


@dataclass(frozen=True)
class VmSettings:
    size: str
    admin_username: str
    ssh_public_key_file: str  # as written (may contain ~): not expanded, not read here


@dataclass(frozen=True)
class Spoke:
    name: str
    address_space: str  # normalized CIDR, e.g. "10.10.0.0/16"
    default_subnet: str
    location: str  # inherited from its hub


@dataclass(frozen=True)
class Hub:
    name: str
    address_space: str
    default_subnet: str
    gateway_subnet: str
    bastion_subnet: str | None
    asn: int
    gateway_name: str  # default "vpngw-<name>"
    gateway_sku: str
    location: str  # the hub's own location, or the topology's
    spokes: tuple[Spoke, ...]


@dataclass(frozen=True)
class Link:
    hubs: tuple[str, str]  # hub names, in file order


@dataclass(frozen=True)
class Topology:
    name: str
    resource_group: str
    location: str
    vm: VmSettings | None
    gateway_sku: str
    spoke_to_spoke: bool
    hubs: tuple[Hub, ...]
    links: tuple[Link, ...]  # as written, or the full mesh of hubs in hub order
    source: Path
    warnings: tuple[str, ...]  # "<key>: <message>", non-fatal

    def hub(self, name: str) -> Hub:
        for hub in self.hubs:
            if hub.name == name:
                return hub
        raise KeyError(name)


class TopologyError(BadInput):
    """Invalid topology file. str() is one line per problem: '<file>: <key>: <message>'."""

    def __init__(self, path: Path, problems: tuple[Problem, ...]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(
            "\n".join(
                f"{path}: {p.key}: {p.message}" if p.key else f"{path}: {p.message}"
                for p in problems
            )
        )


def load_topology(path: Path) -> Topology:
    """Read and validate a topology file; raise TopologyError listing every problem."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        problem = Problem("", f"cannot read file: {exc.strerror or exc}")
        raise TopologyError(path, (problem,)) from None
    except UnicodeDecodeError as exc:
        raise TopologyError(path, (Problem("", f"not UTF-8 text: {exc}"),)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TopologyError(path, (Problem("", f"invalid TOML: {exc}"),)) from None
    return parse_topology(data, path)


def parse_topology(data: dict[str, object], source: Path) -> Topology:
    """Validate already-parsed TOML; raise TopologyError listing every problem."""
    c = _TopologyChecker()
    c.keys(data, "", _TOP_KEYS)
    name = c.string(data, "", "name")
    if name is not None:
        c.match(_TOPOLOGY_NAME, name, "name", "use 1-64 letters, digits, '-', '_' or '.'")
    resource_group = c.string(data, "", "resource_group")
    if resource_group is not None:
        rule = "use 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending with '.'"
        c.match(_RESOURCE_GROUP, resource_group, "resource_group", rule)
    location = c.location(data, "", "location") or ""

    vm = _parse_vm(c, data)
    sku = DEFAULT_GATEWAY_SKU
    gateway = c.table(data, "", "gateway")
    if gateway is not None:
        c.keys(gateway, "gateway", _GATEWAY_KEYS)
        sku = c.string(gateway, "gateway", "sku") or sku
        _check_sku(c, sku)
    spoke_to_spoke = False
    routing = c.table(data, "", "routing")
    if routing is not None:
        c.keys(routing, "routing", _ROUTING_KEYS)
        spoke_to_spoke = bool(c.boolean(routing, "routing", "spoke_to_spoke"))

    hubs: list[Hub] = []
    hub_tables = c.array_of_tables(data, "", "hubs", "[[hubs]]")
    if hub_tables is not None:
        for index, table in enumerate(hub_tables):
            if table is not None:
                hubs.append(_parse_hub(c, table, f"hubs[{index}]", location, sku))
        if len(hub_tables) < 2:
            message = "at least 2 hubs are required (hubvpn joins hubs by VPN)"
            c.error("hubs", f"{message}; found {len(hub_tables)}")
    c.check_unique(c.names, "hub and spoke names must be unique (case-insensitive)")
    c.check_unique(c.gateway_names, "gateway names must be unique (case-insensitive)")
    c.check_unique(c.asns, "each hub needs its own ASN")
    c.check_overlaps(c.vnets, "VNet address spaces must not overlap")

    # Link names are checked only when every hub has a usable name (no false "unknown hub").
    complete = hub_tables is not None and len(c.hub_names) == len(hub_tables)
    known = c.hub_names if complete else None
    if "links" in data:
        links = _parse_links(c, data, known)
    else:
        links = tuple(Link((a, b)) for a, b in itertools.combinations(c.hub_names, 2))

    if c.problems:
        raise TopologyError(source, tuple(c.problems))
    return Topology(
        name=name or "",
        resource_group=resource_group or "",
        location=location,
        vm=vm,
        gateway_sku=sku,
        spoke_to_spoke=spoke_to_spoke,
        hubs=tuple(hubs),
        links=links,
        source=source,
        warnings=tuple(c.warnings),
    )


def _parse_vm(c: _TopologyChecker, data: Mapping[str, object]) -> VmSettings | None:
    table = c.table(data, "", "vm")
    if table is None:
        return None
    c.keys(table, "vm", _VM_KEYS)
    size = c.string(table, "vm", "size")
    if size is not None:
        c.match(_VM_SIZE, size, "vm.size", "expected an Azure VM size such as Standard_B2ms")
    username = c.string(table, "vm", "admin_username")
    if username is not None:
        rule = "use 1-64 lowercase letters, digits, '-' or '_', not starting with a digit or '-'"
        if c.match(_ADMIN_USERNAME, username, "vm.admin_username", rule) and (
            username in RESERVED_ADMIN_USERNAMES
        ):
            c.error("vm.admin_username", f"{username!r} is reserved by Azure; try 'azureuser'")
    key_file = c.string(table, "vm", "ssh_public_key_file")
    if key_file == "":
        c.error("vm.ssh_public_key_file", "must not be empty, e.g. ~/.ssh/id_ed25519.pub")
    return VmSettings(size or "", username or "", key_file or "")


def _check_sku(c: _TopologyChecker, sku: str) -> None:
    allowed = ", ".join(GATEWAY_SKUS)
    if sku in GATEWAY_SKUS:
        return
    if sku in RETIRED_GATEWAY_SKUS:
        reason = f"non-AZ SKUs cannot be created since 1 January 2025; use {sku}AZ"
    elif sku == "Basic":
        reason = f"Basic has no BGP and no gateway transit; use one of {allowed}"
    else:
        close = [s for s in GATEWAY_SKUS if s.lower() == sku.lower()]
        hint = f"did you mean {close[0]!r}? " if close else ""
        reason = f"{hint}expected one of {allowed} (route-based, BGP, zone-redundant)"
    c.error("gateway.sku", f"{sku!r} is not allowed: {reason}")


def _parse_hub(
    c: _TopologyChecker, table: Mapping[str, object], key: str, default_location: str, sku: str
) -> Hub:
    c.keys(table, key, _HUB_KEYS)
    name = c.vnet_name(table, key)
    location = c.location(table, key, "location") or default_location
    if location and has_zones(location) is False:
        # An AZ SKU needs zonal public IPs (VmssVpnGatewayPublicIpsMustHaveZonesConfigured),
        # and a region without zones refuses them (LocationNotSupportAvailabilityZones).
        c.warn(
            f"{key}.location" if "location" in table else key,
            f"{location} has no availability zones (Azure regions list): the {sku} gateway's "
            "zone-redundant public IP will be refused there; choose a region with zones",
        )
    address_space = c.address_space(table, key)
    default_subnet = c.subnet(table, key, "default_subnet", 29, "a subnet")
    gateway_subnet = c.subnet(table, key, "gateway_subnet", 29, "a GatewaySubnet")
    if gateway_subnet is not None and 27 < gateway_subnet.prefixlen <= 29:
        c.warn(
            f"{key}.gateway_subnet",
            f"/{gateway_subnet.prefixlen} is smaller than the /27 Azure advises for a "
            "GatewaySubnet",
        )
    bastion_subnet = c.subnet(table, key, "bastion_subnet", 26, "an AzureBastionSubnet")
    c.check_subnets(key, address_space, default_subnet, gateway_subnet, bastion_subnet)

    asn = c.integer(table, key, "asn")
    if asn is not None:
        usable = "use a private ASN such as 64512-65514 or 65521-65534"
        if asn in AZURE_RESERVED_ASNS:
            c.error(f"{key}.asn", f"{asn} is reserved by Azure; {usable}")
        elif asn in IANA_RESERVED_ASNS:
            c.error(f"{key}.asn", f"{asn} is reserved by IANA; {usable}")
        elif not 1 <= asn <= ASN_MAX:
            c.error(f"{key}.asn", f"{asn} is out of range 1-{ASN_MAX}; {usable}")
        else:
            c.asns.append((f"{key}.asn", str(asn)))

    gateway_name = c.string(table, key, "gateway_name")
    if gateway_name is not None:
        rule = (
            "use 1-80 letters, digits, '-', '_' or '.', starting with a letter or digit and"
            " ending with a letter, digit or '_'"
        )
        c.match(_GATEWAY_NAME, gateway_name, f"{key}.gateway_name", rule)
    elif name is not None:
        gateway_name = naming.default_gateway(name)
    if gateway_name is not None:
        c.gateway_names.append((f"{key}.gateway_name", repr(gateway_name)))

    spokes: list[Spoke] = []
    spoke_tables = c.array_of_tables(table, key, "spokes", "[[hubs.spokes]]") or []
    for index, spoke_table in enumerate(spoke_tables):
        if spoke_table is not None:
            spoke_key = f"{key}.spokes[{index}]"
            c.keys(spoke_table, spoke_key, _SPOKE_KEYS)
            spoke_name = c.vnet_name(spoke_table, spoke_key)
            spoke_space = c.address_space(spoke_table, spoke_key)
            spoke_subnet = c.subnet(spoke_table, spoke_key, "default_subnet", 29, "a subnet")
            c.check_subnets(spoke_key, spoke_space, spoke_subnet, None, None)
            spokes.append(Spoke(spoke_name or "", _str(spoke_space), _str(spoke_subnet), location))
    if name is not None:
        c.hub_names.append(name)
    # Placeholders ("", 0) stand for invalid values; a Topology is only built without problems.
    return Hub(
        name=name or "",
        address_space=_str(address_space),
        default_subnet=_str(default_subnet),
        gateway_subnet=_str(gateway_subnet),
        bastion_subnet=str(bastion_subnet) if bastion_subnet is not None else None,
        asn=asn or 0,
        gateway_name=gateway_name or "",
        gateway_sku=sku,
        location=location,
        spokes=tuple(spokes),
    )


def _parse_links(
    c: _TopologyChecker, data: Mapping[str, object], hub_names: list[str] | None
) -> tuple[Link, ...]:
    links: list[Link] = []
    seen: dict[frozenset[str], str] = {}
    for index, table in enumerate(c.array_of_tables(data, "", "links", "[[links]]") or []):
        key = f"links[{index}]"
        if table is None:
            continue
        c.keys(table, key, _LINK_KEYS)
        if "hubs" not in table:
            continue
        pair = table["hubs"]
        if not isinstance(pair, list) or len(pair) != 2:
            got = describe(pair) if not isinstance(pair, list) else f"{len(pair)}"
            c.error(f"{key}.hubs", f"expected an array of exactly 2 hub names, got {got}")
            continue
        a, b = (c.string({str(i): n}, f"{key}.hubs", str(i)) for i, n in enumerate(pair))
        if a is None or b is None:
            continue
        unknown = [n for n in (a, b) if hub_names is not None and n not in hub_names]
        for i, n in enumerate((a, b)):
            if n in unknown:
                listed = ", ".join(hub_names or [])
                c.error(f"{key}.hubs[{i}]", f"{n!r} is not a hub name; hubs are {listed}")
        if unknown:
            continue
        if a == b:
            c.error(f"{key}.hubs", f"links hub {a!r} to itself; a link joins two hubs")
        elif frozenset((a, b)) in seen:
            c.error(f"{key}.hubs", f"{a}-{b} duplicates {seen[frozenset((a, b))]}")
        else:
            seen[frozenset((a, b))] = key
            links.append(Link((a, b)))
    linked = {name for link in links for name in link.hubs}
    if hub_names is not None:
        for index, name in enumerate(hub_names):
            if name not in linked:
                c.warn(f"hubs[{index}]", f"hub {name!r} is in no [[links]] entry: no VPN joins it")
    return tuple(links)


@dataclass
class _TopologyChecker(Checker):
    """The topology's rules on top of typed reading, and the values that must be unique
    across the file (names, gateway names, ASNs, VNet address spaces)."""

    names: list[tuple[str, str]] = field(default_factory=list)  # (key path, value)
    gateway_names: list[tuple[str, str]] = field(default_factory=list)
    asns: list[tuple[str, str]] = field(default_factory=list)
    vnets: list[tuple[str, ipaddress.IPv4Network]] = field(default_factory=list)
    hub_names: list[str] = field(default_factory=list)

    def location(self, table: Mapping[str, object], path: str, key: str) -> str | None:
        value = self.string(table, path, key)
        rule = "Azure region names are lowercase without spaces, e.g. japaneast"
        if value is not None and self.match(_LOCATION, value, join(path, key), rule):
            return value
        return None

    def vnet_name(self, table: Mapping[str, object], path: str) -> str | None:
        value = self.string(table, path, "name")
        if value is None:
            return None
        rule = (
            "use 1-40 letters, digits or '-', starting and ending with a letter or digit "
            "(it becomes the VNet name vnet-<name> and the host name vm-<name>)"
        )
        self.names.append((f"{path}.name", repr(value)))
        return value if self.match(_VNET_NAME, value, f"{path}.name", rule) else None

    def address_space(self, table: Mapping[str, object], path: str) -> ipaddress.IPv4Network | None:
        network = self.cidr(table, path, "address_space")
        if network is None:
            return None
        if not any(network.subnet_of(private) for private in PRIVATE_RANGES):
            ranges = ", ".join(str(r) for r in PRIVATE_RANGES)
            self.error(
                f"{path}.address_space",
                f"{network} is not a private range; use RFC 1918 or shared space: {ranges}",
            )
            return None
        self.vnets.append((f"{path}.address_space", network))
        return network

    def subnet(
        self, table: Mapping[str, object], path: str, key: str, max_prefix: int, what: str
    ) -> ipaddress.IPv4Network | None:
        network = self.cidr(table, path, key)
        if network is not None and network.prefixlen > max_prefix:
            self.error(
                join(path, key),
                f"/{network.prefixlen} is too small for {what}; Azure requires /{max_prefix} "
                "or larger",
            )
        return network

    def check_subnets(
        self, path: str, vnet: ipaddress.IPv4Network | None, *subnets: ipaddress.IPv4Network | None
    ) -> None:
        keys = ("default_subnet", "gateway_subnet", "bastion_subnet")
        named = [(f"{path}.{k}", s) for k, s in zip(keys, subnets, strict=True) if s is not None]
        if vnet is not None:
            for key, subnet in named:
                if not subnet.subnet_of(vnet):
                    where = f"the VNet's address space {vnet} ({path}.address_space)"
                    self.error(key, f"{subnet} is outside {where}")
        self.check_overlaps(named, "subnets of a VNet must not overlap")


def _str(network: ipaddress.IPv4Network | None) -> str:
    return str(network) if network is not None else ""
