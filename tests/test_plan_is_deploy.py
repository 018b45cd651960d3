"""Property: what ``plan`` lists as create/update/delete is exactly what ``deploy`` writes,
and ``plan`` right after ``deploy`` lists nothing to write (issue 11, done-when).

Each seed walks a random sequence of topology edits (hubs and spokes added or removed,
gateway SKU, a hub's ASN, spoke_to_spoke, the shared key), deployed with or without
``--prune`` (then the removals are DELETEs plan lists too) and out-of-band changes made
through the SDK (a peering deleted, an NSG's tags removed) or, where no Azure API
can, in the emulator's store (a resource left Failed). The writes are counted from the
emulator's request log, not from hubvpn's report. Plain ``random`` with fixed seeds.
"""

from __future__ import annotations

import copy
import random
import threading
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.network import models as n
from test_converge import fail_in_emulator

from hubvpn.azure import Clients
from hubvpn.config import parse_topology
from hubvpn.deploy import Report, deploy
from hubvpn.plan import Plan, Step, build_plan
from hubvpn.preview import plan_against

GROUP = "rg-prop"
SEEDS = (1, 2, 3)
EDITS_PER_SEED = 5
WRITES = frozenset({"PUT", "PATCH", "DELETE"})
KEYS = (None, "Prop-psk-one-1a2b3c4d", "Prop-psk-two-5e6f7a8b")


class Quiet:
    def started(self, plan: Plan) -> None:
        """Nothing to show."""

    def step(self, step: Step, state: str, detail: str = "") -> None:
        """Nothing to show."""

    def finished(self) -> None:
        """Nothing to show."""


def hub(index: int) -> dict[str, Any]:
    base = 100 + index * 10
    return {
        "name": f"hub{index}",
        "address_space": f"10.{base}.0.0/16",
        "default_subnet": f"10.{base}.0.0/24",
        "gateway_subnet": f"10.{base}.200.0/27",
        "asn": 65100 + index,
        "spokes": [],
    }


def spoke(hub_index: int, slot: int) -> dict[str, Any]:
    prefix = f"10.{100 + hub_index * 10 + slot}"
    return {
        "name": f"spoke{hub_index}{slot}",
        "address_space": f"{prefix}.0.0/16",
        "default_subnet": f"{prefix}.0.0/24",
    }


def start() -> dict[str, Any]:
    first, second = hub(0), hub(1)
    first["spokes"].append(spoke(0, 1))
    second["spokes"].append(spoke(1, 1))
    return {
        "name": "prop-lab",
        "resource_group": GROUP,
        "location": "westeurope",
        "gateway": {"sku": "VpnGw1AZ"},
        "routing": {"spoke_to_spoke": False},
        "hubs": [first, second],
    }


def edit(data: dict[str, Any], dice: random.Random) -> str:
    """One random topology edit, described."""
    hubs = data["hubs"]
    choice = dice.choice(["hub", "spoke", "sku", "asn", "spoke_to_spoke"])
    if choice == "hub":
        present = {h["name"] for h in hubs}
        absent = [i for i in range(4) if f"hub{i}" not in present]
        if len(hubs) > 2 and (not absent or dice.random() < 0.5):
            gone = hubs.pop(dice.randrange(1, len(hubs)))
            return f"remove {gone['name']}"
        if absent:
            hubs.append(hub(absent[0]))
            return f"add hub{absent[0]}"
    if choice == "spoke":
        target = dice.choice(hubs)
        index = int(target["name"][3:])
        slots = {int(s["name"][-1]) for s in target["spokes"]}
        free = [s for s in (1, 2, 3) if s not in slots]
        if target["spokes"] and (not free or dice.random() < 0.4):
            gone = target["spokes"].pop(dice.randrange(len(target["spokes"])))
            return f"remove {gone['name']}"
        if free:
            target["spokes"].append(spoke(index, free[0]))
            return f"add spoke{index}{free[0]}"
    if choice == "sku":
        data["gateway"]["sku"] = dice.choice(["VpnGw1AZ", "VpnGw2AZ", "VpnGw3AZ"])
        return f"sku {data['gateway']['sku']}"
    if choice == "asn":
        target = dice.choice(hubs)
        used = {h["asn"] for h in hubs}
        target["asn"] = dice.choice([a for a in range(65100, 65120) if a not in used])
        return f"asn {target['name']} {target['asn']}"
    data["routing"]["spoke_to_spoke"] = not data["routing"]["spoke_to_spoke"]
    return f"spoke_to_spoke {data['routing']['spoke_to_spoke']}"


def out_of_band(clients: Clients, dice: random.Random) -> str:
    """One change made behind hubvpn's back, through the SDK where Azure has a way."""
    net = clients.network
    choice = dice.choice(["peering", "tags", "failed", "none"])
    if choice == "peering":
        peerings = [
            (vnet.name, p.name)
            for vnet in net.virtual_networks.list(GROUP)
            for p in vnet.virtual_network_peerings or []
        ]
        if peerings:
            vnet, name = dice.choice(sorted(peerings))
            net.virtual_network_peerings.begin_delete(GROUP, vnet, name).result()
            return f"deleted peering {vnet}/{name}"
    if choice == "tags":
        nsg = dice.choice(sorted(g.name for g in net.network_security_groups.list(GROUP)))
        net.network_security_groups.update_tags(GROUP, nsg, n.TagsObject(tags={}))
        return f"removed tags of {nsg}"
    if choice == "failed":
        # Kinds whose re-creation keeps what other resources read from them.
        found = [*net.network_security_groups.list(GROUP), *net.route_tables.list(GROUP)]
        found += list(net.virtual_network_gateway_connections.list(GROUP))
        victim = dice.choice(sorted(found, key=lambda r: r.id))
        fail_in_emulator(clients, victim.id)
        return f"left {victim.name} Failed"
    return "nothing"


def planned_writes(
    data: dict[str, Any], clients: Clients, key: str | None, prune: bool = False
) -> list[str]:
    result = plan_against(parse_topology(data, Path("prop.toml")), clients, key, prune)
    steps = result.as_json()["steps"]
    return sorted(s["name"] for s in steps if s["action"] in ("create", "update", "delete"))


def deployed_writes(
    data: dict[str, Any], clients: Clients, key: str | None, prune: bool = False
) -> list[str]:
    assert clients.emulator is not None
    mark = len(clients.emulator.store.requests())
    report: Report = deploy(
        build_plan(parse_topology(data, Path("prop.toml"))),
        clients,
        Quiet(),
        ssh_public_key=None,
        shared_key=key,
        cancel=threading.Event(),
        prune=prune,
    )
    assert not report.interrupted
    written = [
        r["path"].rsplit("/", 1)[-1]
        for r in clients.emulator.store.requests()[mark:]
        if r["method"] in WRITES
    ]
    return sorted(written)


@pytest.mark.parametrize("seed", SEEDS)
def test_deploy_writes_exactly_what_plan_lists_for_random_edits(
    clients: Clients, seed: int
) -> None:
    dice = random.Random(seed)
    data = start()
    key: str | None = None
    history: list[str] = []
    assert planned_writes(data, clients, key) == deployed_writes(data, clients, key)
    for _ in range(EDITS_PER_SEED):
        data = copy.deepcopy(data)
        edited = edit(data, dice)
        history.append(edited)
        if dice.random() < 0.3:
            key = dice.choice(KEYS)
            history.append(f"key {key and key[:9]}")
        history.append(out_of_band(clients, dice))
        # removals and routing changes mostly deleted, else left as orphans for later
        prune = dice.random() < (0.8 if edited.startswith(("remove", "spoke_to")) else 0.3)
        history.append(f"prune {prune}")
        plan = planned_writes(data, clients, key, prune)
        assert deployed_writes(data, clients, key, prune) == plan, history
        assert planned_writes(data, clients, key, prune) == [], history
