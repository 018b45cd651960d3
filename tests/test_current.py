"""The reachability of what is deployed, by the routing model, from observed SDK models."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import invoke, reference_without_key

from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.current import current_reachability
from hubvpn.observe import observe
from hubvpn.plan import build_plan
from hubvpn.predict import predicted


def test_current_reachability_of_deployed_lab_equals_prediction(
    tmp_path: Path, clients: Clients
) -> None:
    config = reference_without_key(tmp_path)
    assert invoke("deploy", "-c", config).exit_code == 0
    now = current_reachability(observe(clients, "rg-multi-hub-vpn"), 22)
    assert now == predicted(build_plan(load_topology(config)), 22)
    assert now[("vm-spoke10", "vm-spoke20")] is False  # spokes of one hub, no UDRs
    assert now[("vm-spoke10", "vm-spoke110")] is True  # across the VPN


def test_current_reachability_of_empty_group_is_empty(clients: Clients) -> None:
    assert current_reachability(observe(clients, "rg-multi-hub-vpn"), 22) == {}
