"""Tests of hubvpn.config: the topology file, its dataclasses and its validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from hubvpn.config import (
    DEFAULT_CONFIG,
    Hub,
    Link,
    Spoke,
    Topology,
    TopologyError,
    VmSettings,
    load_topology,
    parse_topology,
)

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / DEFAULT_CONFIG
BAD_TOPOLOGIES = sorted((Path(__file__).parent / "bad_topologies").glob("*.toml"))
SOURCE = Path("topology.toml")

# A small valid topology; each test changes one thing.
BASE: dict[str, Any] = {
    "name": "lab",
    "resource_group": "rg-lab",
    "location": "japaneast",
    "vm": {
        "size": "Standard_B2ms",
        "admin_username": "azureuser",
        "ssh_public_key_file": "~/.ssh/id_ed25519.pub",
    },
    "hubs": [
        {
            "name": "hub00",
            "address_space": "10.0.0.0/16",
            "default_subnet": "10.0.0.0/24",
            "gateway_subnet": "10.0.200.0/24",
            "bastion_subnet": "10.0.100.0/24",
            "asn": 65150,
            "spokes": [
                {
                    "name": "spoke10",
                    "address_space": "10.10.0.0/16",
                    "default_subnet": "10.10.0.0/24",
                }
            ],
        },
        {
            "name": "hub100",
            "address_space": "10.100.0.0/16",
            "default_subnet": "10.100.0.0/24",
            "gateway_subnet": "10.100.200.0/24",
            "asn": 65151,
        },
    ],
}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def third_hub(name: str = "hub200", second_octet: int = 200, asn: int = 65152) -> dict[str, Any]:
    return {
        "name": name,
        "address_space": f"10.{second_octet}.0.0/16",
        "default_subnet": f"10.{second_octet}.0.0/24",
        "gateway_subnet": f"10.{second_octet}.200.0/24",
        "asn": asn,
    }


def problems(data: dict[str, Any]) -> list[str]:
    """The problems parse_topology reports, as '<key>: <message>' lines."""
    with pytest.raises(TopologyError) as info:
        parse_topology(data, SOURCE)
    assert info.value.path == SOURCE
    return [f"{p.key}: {p.message}" for p in info.value.problems]


def only_problem(data: dict[str, Any]) -> str:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


# --- loading ----------------------------------------------------------------------------


def test_load_topology_reference_file_returns_reference_lab() -> None:
    topology = load_topology(REFERENCE)

    assert topology.name == "multi-hub-vpn"
    assert topology.resource_group == "rg-multi-hub-vpn"
    assert topology.location == "japaneast"
    assert topology.vm == VmSettings("Standard_B2ms", "azureuser", "~/.ssh/id_ed25519.pub")
    assert topology.gateway_sku == "VpnGw1AZ"
    assert topology.spoke_to_spoke is False
    assert [hub.name for hub in topology.hubs] == ["hub00", "hub100"]
    assert topology.links == (Link(("hub00", "hub100")),)
    assert topology.source == REFERENCE
    assert topology.warnings == ()
    assert topology.hub("hub00") == Hub(
        name="hub00",
        address_space="10.0.0.0/16",
        default_subnet="10.0.0.0/24",
        gateway_subnet="10.0.200.0/24",
        bastion_subnet="10.0.100.0/24",
        asn=65150,
        gateway_name="vpngw-hub01",
        gateway_sku="VpnGw1AZ",
        location="japaneast",
        spokes=(
            Spoke("spoke10", "10.10.0.0/16", "10.10.0.0/24", "japaneast"),
            Spoke("spoke20", "10.20.0.0/16", "10.20.0.0/24", "japaneast"),
        ),
    )


def test_load_topology_reference_file_second_hub_overrides_location() -> None:
    hub = load_topology(REFERENCE).hub("hub100")

    assert (hub.asn, hub.gateway_name, hub.location) == (65151, "vpngw-hub02", "japanwest")
    assert hub.bastion_subnet == "10.100.100.0/24"
    assert [(s.name, s.address_space, s.location) for s in hub.spokes] == [
        ("spoke110", "10.110.0.0/16", "japanwest"),
        ("spoke120", "10.120.0.0/16", "japanwest"),
    ]


def test_load_topology_missing_file_raises_topology_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    assert str(info.value) == f"{path}: cannot read file: No such file or directory"


def test_load_topology_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "lab"\nlocation = japaneast\n')
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    assert info.value.problems[0].key == ""
    assert str(info.value).startswith(f"{path}: invalid TOML: ")
    assert "line 2, column 12" in str(info.value)


def test_load_topology_non_utf8_file_raises_topology_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(TopologyError, match="not UTF-8 text"):
        load_topology(path)


def test_parse_topology_optional_tables_omitted_uses_defaults() -> None:
    data = base()
    del data["vm"]

    topology = parse_topology(data, SOURCE)

    assert topology.vm is None
    assert topology.gateway_sku == "VpnGw1AZ"
    assert topology.spoke_to_spoke is False
    assert topology.hubs[1].gateway_name == "vpngw-hub100"
    assert topology.hubs[1].bastion_subnet is None
    assert topology.hubs[1].spokes == ()
    assert topology.hubs[0].spokes[0].location == "japaneast"
    assert all(hub.gateway_sku == "VpnGw1AZ" for hub in topology.hubs)


def test_parse_topology_gateway_and_routing_set_applies_them() -> None:
    data = base() | {"gateway": {"sku": "VpnGw2AZ"}, "routing": {"spoke_to_spoke": True}}

    topology = parse_topology(data, SOURCE)

    assert (topology.gateway_sku, topology.spoke_to_spoke) == ("VpnGw2AZ", True)
    assert {hub.gateway_sku for hub in topology.hubs} == {"VpnGw2AZ"}


def test_parse_topology_links_omitted_defaults_to_full_mesh() -> None:
    data = base()
    data["hubs"] += [third_hub(), third_hub("hub300", 30, 65153)]

    topology = parse_topology(data, SOURCE)

    assert [link.hubs for link in topology.links] == [
        ("hub00", "hub100"),
        ("hub00", "hub200"),
        ("hub00", "hub300"),
        ("hub100", "hub200"),
        ("hub100", "hub300"),
        ("hub200", "hub300"),
    ]
    assert topology.warnings == ()


def test_parse_topology_explicit_links_keep_file_order() -> None:
    data = base()
    data["hubs"].append(third_hub())
    data["links"] = [{"hubs": ["hub200", "hub00"]}, {"hubs": ["hub100", "hub200"]}]

    topology = parse_topology(data, SOURCE)

    assert topology.links == (Link(("hub200", "hub00")), Link(("hub100", "hub200")))


def test_parse_topology_cidr_with_netmask_is_normalized() -> None:
    data = base()
    data["hubs"][1]["address_space"] = "10.100.0.0/255.255.0.0"

    assert parse_topology(data, SOURCE).hubs[1].address_space == "10.100.0.0/16"


def test_hub_unknown_name_raises_key_error() -> None:
    topology = parse_topology(base(), SOURCE)
    with pytest.raises(KeyError):
        topology.hub("hub99")


def test_topology_values_are_frozen() -> None:
    topology: Topology = parse_topology(base(), SOURCE)
    with pytest.raises(AttributeError):
        topology.name = "other"  # type: ignore[misc]


# --- error reporting --------------------------------------------------------------------


def test_str_topology_error_is_one_line_per_problem() -> None:
    data = base()
    data["hubs"][0]["asn"] = "65150"
    data["location"] = "Japan East"

    with pytest.raises(TopologyError) as info:
        parse_topology(data, SOURCE)

    assert str(info.value).splitlines() == [
        "topology.toml: location: 'Japan East' is not valid: Azure region names are lowercase"
        " without spaces, e.g. japaneast",
        "topology.toml: hubs[0].asn: expected an integer, got string '65150'",
    ]


def test_parse_topology_several_defects_reports_all() -> None:
    data = base()
    data["name"] = "my lab"
    data["hubs"][0]["asn"] = 65515
    data["hubs"][1]["spokes"] = [
        {"name": "spoke10", "address_space": "8.8.0.0/16", "default_subnet": "8.8.0.0/24"}
    ]
    data["links"] = [{"hubs": ["hub00", "hub00"]}]

    keys = [line.split(":")[0] for line in problems(data)]

    assert keys == [
        "name",
        "hubs[0].asn",
        "hubs[1].spokes[0].address_space",
        "hubs[1].spokes[0].name",
        "links[0].hubs",
    ]


# --- one test per rule ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ((), "owner", "owner: unknown key; allowed: name, resource_group, location, vm,"),
        (("vm",), "password", "vm.password: unknown key; allowed: size, admin_username,"),
        (("hubs", 0), "zone", "hubs[0].zone: unknown key; allowed: name, address_space,"),
        (("hubs", 0, "spokes", 0), "asn", "hubs[0].spokes[0].asn: unknown key; allowed: name,"),
    ],
)
def test_parse_topology_unknown_key_is_error(
    table: tuple[str | int, ...], key: str, expected: str
) -> None:
    data = base()
    target: Any = data
    for step in table:
        target = target[step]
    target[key] = 1

    assert only_problem(data).startswith(expected)


def test_parse_topology_misspelt_key_suggests_the_right_one() -> None:
    data = base()
    data["hubs"][1]["adress_space"] = data["hubs"][1].pop("address_space")

    typo, missing = problems(data)

    assert typo.startswith("hubs[1].adress_space: unknown key; did you mean 'address_space'?")
    assert missing == "hubs[1].address_space: missing required key"


def test_parse_topology_missing_required_key_is_error() -> None:
    data = base()
    del data["hubs"][1]["gateway_subnet"]

    assert only_problem(data) == "hubs[1].gateway_subnet: missing required key"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("65150", "expected an integer, got string '65150'"),
        (True, "expected an integer, got boolean true"),
        (65150.0, "expected an integer, got float 65150.0"),
    ],
)
def test_parse_topology_asn_wrong_type_is_error(value: object, expected: str) -> None:
    data = base()
    data["hubs"][0]["asn"] = value

    assert only_problem(data) == f"hubs[0].asn: {expected}"


def test_parse_topology_spoke_to_spoke_not_boolean_is_error() -> None:
    data = base() | {"routing": {"spoke_to_spoke": 1}}

    assert only_problem(data) == "routing.spoke_to_spoke: expected a boolean, got integer 1"


def test_parse_topology_hubs_not_array_of_tables_is_error() -> None:
    data = base()
    data["hubs"] = data["hubs"][0]

    assert only_problem(data) == "hubs: expected an array of tables ([[hubs]]), got table"


@pytest.mark.parametrize(
    ("cidr", "expected"),
    [
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IPv4 CIDR; expected e.g. 10.0.0.0/16"),
        ("10.0.0/16", "'10.0.0/16' is not an IPv4 CIDR; expected e.g. 10.0.0.0/16"),
        ("10.0.0.0", "'10.0.0.0' has no prefix length; expected a CIDR, e.g. 10.0.0.0/16"),
        ("fd00::/48", "'fd00::/48' is IPv6; only IPv4 CIDRs are supported"),
        ("10.0.0.1/16", "'10.0.0.1/16' has host bits set; did you mean '10.0.0.0/16'?"),
    ],
)
def test_parse_topology_bad_cidr_is_error(cidr: str, expected: str) -> None:
    data = base()
    data["hubs"][0]["address_space"] = cidr

    assert only_problem(data) == f"hubs[0].address_space: {expected}"


@pytest.mark.parametrize(
    "cidr", ["10.200.0.0/16", "172.20.0.0/16", "192.168.8.0/24", "100.80.0.0/16"]
)
def test_parse_topology_private_address_space_is_accepted(cidr: str) -> None:
    data = base()
    data["hubs"][1]["spokes"] = [{"name": "spoke1", "address_space": cidr, "default_subnet": cidr}]

    assert parse_topology(data, SOURCE).hubs[1].spokes[0].address_space == cidr


@pytest.mark.parametrize("cidr", ["20.0.0.0/16", "172.32.0.0/16", "192.169.0.0/16", "10.0.0.0/7"])
def test_parse_topology_public_address_space_is_error(cidr: str) -> None:
    data = base()
    data["hubs"][1]["spokes"] = [{"name": "spoke1", "address_space": cidr, "default_subnet": cidr}]

    message = only_problem(data)

    assert message.startswith(f"hubs[1].spokes[0].address_space: {cidr} is not a private range")
    assert "10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10" in message


def test_parse_topology_overlapping_vnets_names_both_keys() -> None:
    data = base()
    data["hubs"][1]["spokes"] = [
        {"name": "spoke110", "address_space": "10.10.128.0/17", "default_subnet": "10.10.128.0/24"}
    ]

    assert only_problem(data) == (
        "hubs[1].spokes[0].address_space: 10.10.128.0/17 overlaps 10.10.0.0/16"
        " (hubs[0].spokes[0].address_space); VNet address spaces must not overlap"
    )


def test_parse_topology_subnet_outside_vnet_is_error() -> None:
    data = base()
    data["hubs"][0]["spokes"][0]["default_subnet"] = "10.11.0.0/24"

    assert only_problem(data) == (
        "hubs[0].spokes[0].default_subnet: 10.11.0.0/24 is outside the VNet's address space"
        " 10.10.0.0/16 (hubs[0].spokes[0].address_space)"
    )


def test_parse_topology_overlapping_subnets_is_error() -> None:
    data = base()
    data["hubs"][0]["gateway_subnet"] = "10.0.0.224/27"

    assert only_problem(data) == (
        "hubs[0].gateway_subnet: 10.0.0.224/27 overlaps 10.0.0.0/24 (hubs[0].default_subnet);"
        " subnets of a VNet must not overlap"
    )


def test_parse_topology_gateway_subnet_30_is_error() -> None:
    data = base()
    data["hubs"][0]["gateway_subnet"] = "10.0.200.0/30"

    assert only_problem(data) == (
        "hubs[0].gateway_subnet: /30 is too small for a GatewaySubnet; Azure requires /29 or larger"
    )


@pytest.mark.parametrize("prefix", [28, 29])
def test_parse_topology_gateway_subnet_below_27_warns(prefix: int) -> None:
    data = base()
    data["hubs"][1]["gateway_subnet"] = f"10.100.200.0/{prefix}"

    topology = parse_topology(data, SOURCE)

    assert topology.warnings == (
        f"hubs[1].gateway_subnet: /{prefix} is smaller than the /27 Azure advises for a"
        " GatewaySubnet",
    )


def test_parse_topology_gateway_subnet_27_has_no_warning() -> None:
    data = base()
    data["hubs"][1]["gateway_subnet"] = "10.100.200.0/27"

    assert parse_topology(data, SOURCE).warnings == ()


def test_parse_topology_bastion_subnet_27_is_error() -> None:
    data = base()
    data["hubs"][0]["bastion_subnet"] = "10.0.100.0/27"

    assert only_problem(data) == (
        "hubs[0].bastion_subnet: /27 is too small for an AzureBastionSubnet;"
        " Azure requires /26 or larger"
    )


def test_parse_topology_default_subnet_30_is_error() -> None:
    data = base()
    data["hubs"][1]["default_subnet"] = "10.100.0.0/30"

    assert only_problem(data).startswith("hubs[1].default_subnet: /30 is too small for a subnet")


@pytest.mark.parametrize(
    ("asn", "reason"),
    [
        (8074, "reserved by Azure"),
        (8075, "reserved by Azure"),
        (12076, "reserved by Azure"),
        (65515, "reserved by Azure"),
        (65517, "reserved by Azure"),
        (65520, "reserved by Azure"),
        (0, "reserved by IANA"),
        (23456, "reserved by IANA"),
        (64496, "reserved by IANA"),
        (64511, "reserved by IANA"),
        (65535, "reserved by IANA"),
        (65551, "reserved by IANA"),
        (4294967295, "reserved by IANA"),
        (-1, "out of range 1-4294967294"),
        (4294967296, "out of range 1-4294967294"),
    ],
)
def test_parse_topology_reserved_or_invalid_asn_is_error(asn: int, reason: str) -> None:
    data = base()
    data["hubs"][1]["asn"] = asn

    assert only_problem(data) == (
        f"hubs[1].asn: {asn} is {reason}; use a private ASN such as 64512-65514 or 65521-65534"
    )


@pytest.mark.parametrize("asn", [1, 64512, 65514, 65516, 65521, 65534, 65552, 4200000000])
def test_parse_topology_usable_asn_is_accepted(asn: int) -> None:
    data = base()
    data["hubs"][1]["asn"] = asn

    assert parse_topology(data, SOURCE).hubs[1].asn == asn


def test_parse_topology_duplicate_asn_names_both_hubs() -> None:
    data = base()
    data["hubs"][1]["asn"] = 65150

    assert only_problem(data) == (
        "hubs[1].asn: 65150 is already used by hubs[0].asn; each hub needs its own ASN"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("name", "my lab", "name: 'my lab' is not valid: use 1-64 letters, digits"),
        ("name", "x" * 65, "name: 'xxx"),
        ("resource_group", "rg-lab.", "resource_group: 'rg-lab.' is not valid: use 1-90"),
        ("resource_group", "rg lab", "resource_group: 'rg lab' is not valid"),
        ("resource_group", "", "resource_group: '' is not valid"),
    ],
)
def test_parse_topology_bad_top_level_name_is_error(key: str, value: str, expected: str) -> None:
    data = base()
    data[key] = value

    assert only_problem(data).startswith(expected)


def test_parse_topology_azure_name_characters_are_accepted() -> None:
    data = base() | {"name": "lab_1.a-b", "resource_group": "rg_(lab)-1.x"}
    data["hubs"][0]["name"] = "Hub-0"
    data["hubs"][0]["gateway_name"] = "gw.hub_0_"

    topology = parse_topology(data, SOURCE)

    assert (topology.name, topology.hubs[0].gateway_name) == ("lab_1.a-b", "gw.hub_0_")


@pytest.mark.parametrize("name", ["hub_0", "-hub", "hub-", "hub 0", "", "h" * 41, "hüb"])
def test_parse_topology_bad_hub_or_spoke_name_is_error(name: str) -> None:
    data = base()
    data["hubs"][0]["spokes"][0]["name"] = name

    assert only_problem(data).startswith(f"hubs[0].spokes[0].name: {name!r} is not valid")


@pytest.mark.parametrize("name", ["-gw", ".gw", "gw-", "gw.", "gw 1", "g" * 81])
def test_parse_topology_bad_gateway_name_is_error(name: str) -> None:
    data = base()
    data["hubs"][0]["gateway_name"] = name

    assert only_problem(data).startswith(f"hubs[0].gateway_name: {name!r} is not valid")


def test_parse_topology_duplicate_name_ignoring_case_is_error() -> None:
    data = base()
    data["hubs"][1]["name"] = "Spoke10"

    assert only_problem(data) == (
        "hubs[1].name: 'Spoke10' is already used by hubs[0].spokes[0].name ('spoke10');"
        " hub and spoke names must be unique (case-insensitive)"
    )


def test_parse_topology_duplicate_gateway_name_is_error() -> None:
    data = base()
    data["hubs"][0]["gateway_name"] = "vpngw-HUB100"

    assert only_problem(data) == (
        "hubs[1].gateway_name: 'vpngw-hub100' is already used by hubs[0].gateway_name"
        " ('vpngw-HUB100'); gateway names must be unique (case-insensitive)"
    )


@pytest.mark.parametrize("location", ["Japan East", "JapanEast", "japan-east", ""])
def test_parse_topology_bad_location_is_error(location: str) -> None:
    data = base()
    data["hubs"][1]["location"] = location

    assert only_problem(data) == (
        f"hubs[1].location: {location!r} is not valid: Azure region names are lowercase"
        " without spaces, e.g. japaneast"
    )


@pytest.mark.parametrize("sku", ["VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ"])
def test_parse_topology_az_sku_is_accepted(sku: str) -> None:
    assert parse_topology(base() | {"gateway": {"sku": sku}}, SOURCE).gateway_sku == sku


@pytest.mark.parametrize(
    ("sku", "expected"),
    [
        ("VpnGw1", "non-AZ SKUs cannot be created since 1 January 2025; use VpnGw1AZ"),
        ("VpnGw5", "non-AZ SKUs cannot be created since 1 January 2025; use VpnGw5AZ"),
        ("Basic", "Basic has no BGP and no gateway transit; use one of VpnGw1AZ,"),
        ("vpngw2az", "did you mean 'VpnGw2AZ'? expected one of VpnGw1AZ,"),
        ("Standard", "expected one of VpnGw1AZ, VpnGw2AZ, VpnGw3AZ, VpnGw4AZ, VpnGw5AZ"),
    ],
)
def test_parse_topology_bad_sku_is_error(sku: str, expected: str) -> None:
    message = only_problem(base() | {"gateway": {"sku": sku}})

    assert message.startswith(f"gateway.sku: {sku!r} is not allowed: {expected}")


def test_parse_topology_vm_missing_key_is_error() -> None:
    data = base()
    del data["vm"]["size"]

    assert only_problem(data) == "vm.size: missing required key"


@pytest.mark.parametrize("size", ["B2ms", "standard_B2ms", "Standard_", ""])
def test_parse_topology_bad_vm_size_is_error(size: str) -> None:
    data = base()
    data["vm"]["size"] = size

    assert only_problem(data).startswith(f"vm.size: {size!r} is not valid")


@pytest.mark.parametrize("username", ["AzureUser", "1user", "-user", "user name", "", "u" * 65])
def test_parse_topology_bad_admin_username_is_error(username: str) -> None:
    data = base()
    data["vm"]["admin_username"] = username

    assert only_problem(data).startswith(f"vm.admin_username: {username!r} is not valid")


@pytest.mark.parametrize("username", ["admin", "administrator", "root", "user", "guest", "test"])
def test_parse_topology_reserved_admin_username_is_error(username: str) -> None:
    data = base()
    data["vm"]["admin_username"] = username

    assert only_problem(data) == (
        f"vm.admin_username: {username!r} is reserved by Azure; try 'azureuser'"
    )


def test_parse_topology_empty_ssh_public_key_file_is_error() -> None:
    data = base()
    data["vm"]["ssh_public_key_file"] = ""

    assert only_problem(data).startswith("vm.ssh_public_key_file: must not be empty")


def test_parse_topology_link_to_unknown_hub_is_error() -> None:
    data = base() | {"links": [{"hubs": ["hub00", "hub01"]}]}

    assert only_problem(data) == (
        "links[0].hubs[1]: 'hub01' is not a hub name; hubs are hub00, hub100"
    )


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (["hub00"], "links[0].hubs: expected an array of exactly 2 hub names, got 1"),
        ("hub00", "links[0].hubs: expected an array of exactly 2 hub names, got string 'hub00'"),
        (["hub00", 1], "links[0].hubs[1]: expected a string, got integer 1"),
        (["", "hub00"], "links[0].hubs[0]: '' is not a hub name; hubs are hub00, hub100"),
    ],
)
def test_parse_topology_link_not_two_names_is_error(pair: object, expected: str) -> None:
    assert only_problem(base() | {"links": [{"hubs": pair}]}) == expected


def test_parse_topology_self_link_is_error() -> None:
    data = base() | {"links": [{"hubs": ["hub100", "hub100"]}]}

    assert only_problem(data) == (
        "links[0].hubs: links hub 'hub100' to itself; a link joins two hubs"
    )


def test_parse_topology_duplicate_link_either_order_is_error() -> None:
    data = base() | {"links": [{"hubs": ["hub00", "hub100"]}, {"hubs": ["hub100", "hub00"]}]}

    assert only_problem(data) == "links[1].hubs: hub100-hub00 duplicates links[0]"


def test_parse_topology_hub_without_link_warns() -> None:
    data = base() | {"links": [{"hubs": ["hub00", "hub100"]}]}
    data["hubs"].append(third_hub())

    topology = parse_topology(data, SOURCE)

    assert topology.warnings == ("hubs[2]: hub 'hub200' is in no [[links]] entry: no VPN joins it",)


@pytest.mark.parametrize("count", [0, 1])
def test_parse_topology_fewer_than_two_hubs_is_error(count: int) -> None:
    data = base()
    data["hubs"] = data["hubs"][:count]

    assert only_problem(data) == (
        f"hubs: at least 2 hubs are required (hubvpn joins hubs by VPN); found {count}"
    )


def test_parse_topology_eight_hubs_is_accepted() -> None:
    data = base()
    data["hubs"] += [third_hub(f"hub{n}", n, 65200 + n) for n in range(200, 206)]

    topology = parse_topology(data, SOURCE)

    assert len(topology.hubs) == 8
    assert len(topology.links) == 28


# --- corpus of bad files ----------------------------------------------------------------


def read_header(path: Path) -> tuple[str, int]:
    """The '# expect: <fragment>' line and the optional '# problems: <n>' line (default 1)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].startswith("# expect: "), f"{path.name} lacks '# expect:'"
    count = 1
    if len(lines) > 1 and lines[1].startswith("# problems: "):
        count = int(lines[1].removeprefix("# problems: "))
    return lines[0].removeprefix("# expect: "), count


def test_read_bad_topologies_corpus_has_at_least_30_files() -> None:
    assert len(BAD_TOPOLOGIES) >= 30


@pytest.mark.parametrize("path", BAD_TOPOLOGIES, ids=[p.stem for p in BAD_TOPOLOGIES])
def test_load_topology_bad_file_raises_expected_error(path: Path) -> None:
    fragment, count = read_header(path)

    with pytest.raises(TopologyError) as info:
        load_topology(path)

    assert path.name in str(info.value)
    assert f"{path}: {fragment}" in str(info.value)
    assert len(info.value.problems) == count, str(info.value)


def test_parse_topology_hub_in_region_without_zones_warns() -> None:
    # learn.microsoft.com/azure/reliability/regions-list: westus has no availability zones;
    # an AZ gateway SKU needs a zonal public IP, which such a region refuses.
    data = base()
    data["hubs"][1]["location"] = "westus"

    topology = parse_topology(data, SOURCE)

    assert topology.warnings == (
        "hubs[1].location: westus has no availability zones (Azure regions list): the "
        "VpnGw1AZ gateway's zone-redundant public IP will be refused there; choose a region "
        "with zones",
    )


def test_parse_topology_hubs_in_regions_with_zones_do_not_warn() -> None:
    assert parse_topology(base(), SOURCE).warnings == ()
