"""plan --diagram: the topology drawn as text (80 columns) and as Mermaid."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hubvpn import diagram
from hubvpn.config import load_topology
from hubvpn.plan import Plan, build_plan

REFERENCE = Path(__file__).resolve().parents[1] / "config" / "topology.toml"

LEGEND = """\
Names
  vnet-<vnet>               virtual network of a hub or spoke
  vm-<vnet>, nic-<vnet>     the VNet's test VM and its NIC
  nsg-<vnet>-default        NSG of the VNet's default subnet
  rt-<spoke>                route table of a spoke (UDRs, with spoke_to_spoke)
  pip-<owner>               public IP of a gateway or Bastion: pip-vpngw-hub01
  bas-<hub>                 Bastion host of a hub
  <a>-to-<b>                peering from VNet a to VNet b: spoke10-to-hub00
  conn-<local>-<remote>     VPN connection, one each way between two gateways
  lng-<remote gw>           local network gateway: the remote gateway as a
                            connection sees it (public IP, ASN, BGP address)
  lng-<remote gw>-<region>  the same, for hubs in another region than the
                            first hub linked to it: lng-vpngw-hub02-eastasia
"""

REFERENCE_TEXT = (
    """\
multi-hub-vpn: 2 hubs, 4 spokes, 1 VPN link (resource group rg-multi-hub-vpn)

hub00  vnet-hub00 10.0.0.0/16  japaneast
│ gateway  vpngw-hub01  VpnGw1AZ  ASN 65150  BGP 10.0.200.254
│ bastion  bas-hub00
├── spoke10  vnet-spoke10 10.10.0.0/16
└── spoke20  vnet-spoke20 10.20.0.0/16

hub100  vnet-hub100 10.100.0.0/16  japanwest
│ gateway  vpngw-hub02  VpnGw1AZ  ASN 65151  BGP 10.100.200.254
│ bastion  bas-hub100
├── spoke110  vnet-spoke110 10.110.0.0/16
└── spoke120  vnet-spoke120 10.120.0.0/16

VPN links (IPsec IKEv2 with BGP, a connection each way)
  hub00 vpngw-hub01 AS65150 <==> hub100 vpngw-hub02 AS65151
    conn-vpngw-hub01-vpngw-hub02 via lng-vpngw-hub02
    conn-vpngw-hub02-vpngw-hub01 via lng-vpngw-hub01

Spokes of one hub do not reach each other: peering is not
transitive (routing.spoke_to_spoke = true adds UDRs).

"""
    + LEGEND
)

REFERENCE_MERMAID = """\
flowchart TB
  subgraph hub_hub00["hub00, japaneast"]
    vnet_hub00["vnet-hub00<br/>10.0.0.0/16"]
    vpngw_hub01{{"vpngw-hub01<br/>VpnGw1AZ, AS 65150"}}
    vpngw_hub01 --- vnet_hub00
    bas_hub00["bas-hub00"] --- vnet_hub00
    vnet_spoke10["vnet-spoke10<br/>10.10.0.0/16"]
    vnet_spoke10 ---|peering| vnet_hub00
    vnet_spoke20["vnet-spoke20<br/>10.20.0.0/16"]
    vnet_spoke20 ---|peering| vnet_hub00
  end
  subgraph hub_hub100["hub100, japanwest"]
    vnet_hub100["vnet-hub100<br/>10.100.0.0/16"]
    vpngw_hub02{{"vpngw-hub02<br/>VpnGw1AZ, AS 65151"}}
    vpngw_hub02 --- vnet_hub100
    bas_hub100["bas-hub100"] --- vnet_hub100
    vnet_spoke110["vnet-spoke110<br/>10.110.0.0/16"]
    vnet_spoke110 ---|peering| vnet_hub100
    vnet_spoke120["vnet-spoke120<br/>10.120.0.0/16"]
    vnet_spoke120 ---|peering| vnet_hub100
  end
  vpngw_hub01 <==>|"IPsec + BGP"| vpngw_hub02
"""


def reference_plan(**changes: object) -> Plan:
    return build_plan(dataclasses.replace(load_topology(REFERENCE), **changes))  # type: ignore[arg-type]


def six_hub_plan(tmp_path: Path) -> Plan:
    hubs = []
    for i in range(6):
        hubs.append(
            f"""
[[hubs]]
name = "hub{i}"
address_space = "10.{i * 40}.0.0/16"
default_subnet = "10.{i * 40}.0.0/24"
gateway_subnet = "10.{i * 40}.200.0/27"
bastion_subnet = "10.{i * 40}.100.0/26"
asn = {65100 + i}
location = "{"japaneast" if i % 2 else "eastasia"}"

  [[hubs.spokes]]
  name = "spoke{i}a"
  address_space = "10.{i * 40 + 1}.0.0/16"
  default_subnet = "10.{i * 40 + 1}.0.0/24"
"""
        )
    path = tmp_path / "six.toml"
    path.write_text(
        'name = "six-hubs"\nresource_group = "rg-six-hubs"\nlocation = "japaneast"\n'
        + "".join(hubs),
        encoding="utf-8",
    )
    return build_plan(load_topology(path))


def test_text_diagram_reference_lab_draws_hubs_spokes_links_and_legend() -> None:
    assert diagram.text_diagram(reference_plan()) == REFERENCE_TEXT


def test_text_diagram_reference_lab_fits_80_columns() -> None:
    assert max(len(line) for line in REFERENCE_TEXT.splitlines()) <= 80


def test_text_diagram_deployed_lab_shows_each_connection_state() -> None:
    text = diagram.text_diagram(reference_plan(), {"conn-vpngw-hub01-vpngw-hub02": "Connected"})
    assert (
        "    conn-vpngw-hub01-vpngw-hub02 via lng-vpngw-hub02  Connected\n"
        "    conn-vpngw-hub02-vpngw-hub01 via lng-vpngw-hub01  absent\n"
    ) in text


def test_text_diagram_spoke_to_spoke_lists_udrs_under_each_spoke() -> None:
    text = diagram.text_diagram(reference_plan(spoke_to_spoke=True))
    assert (
        "├── spoke10  vnet-spoke10 10.10.0.0/16\n"
        "│     UDR 10.20.0.0/16 -> vpngw-hub01 (rt-spoke10)\n"
        "└── spoke20  vnet-spoke20 10.20.0.0/16\n"
        "      UDR 10.10.0.0/16 -> vpngw-hub01 (rt-spoke20)\n"
    ) in text
    assert "Spokes of one hub reach each other through its gateway (UDRs).\n" in text


def test_text_diagram_six_hub_mesh_lists_15_links_within_80_columns(tmp_path: Path) -> None:
    text = diagram.text_diagram(six_hub_plan(tmp_path))
    assert text.splitlines()[0] == (
        "six-hubs: 6 hubs, 6 spokes, 15 VPN links (resource group rg-six-hubs)"
    )
    assert text.count(" <==> ") == 15
    assert max(len(line) for line in text.splitlines()) <= 80
    # hubs in a second region get their own local network gateway, named with it
    assert "    conn-vpngw-hub2-vpngw-hub0 via lng-vpngw-hub0-eastasia\n" in text


def test_mermaid_diagram_reference_lab_is_a_flowchart() -> None:
    assert diagram.mermaid_diagram(reference_plan()) == REFERENCE_MERMAID


def test_mermaid_diagram_deployed_lab_labels_link_with_states() -> None:
    states = {
        "conn-vpngw-hub01-vpngw-hub02": "Connected",
        "conn-vpngw-hub02-vpngw-hub01": "Connecting",
    }
    text = diagram.mermaid_diagram(reference_plan(), states)
    assert '  vpngw_hub01 <==>|"IPsec + BGP: Connected / Connecting"| vpngw_hub02\n' in text


def test_mermaid_diagram_spoke_to_spoke_draws_udr_edges() -> None:
    text = diagram.mermaid_diagram(reference_plan(spoke_to_spoke=True))
    assert '    vnet_spoke10 -.->|"UDR 10.20.0.0/16"| vpngw_hub01\n' in text
