"""``deploy --output json`` and ``destroy --output json``: what happened, for scripts.

Exit codes stay those of the table output; the JSON goes to stdout and the progress
to stderr. Every key is always present (null where it does not apply)::

    {"target": "emulator", "topology": "multi-hub-vpn", "resource_group": "rg-...",
     "ok": true, "interrupted": false, "seconds": 41.2, "writes": 53,
     "resources": [{"name": "vnet-hub00", "type": "Microsoft.Network/virtualNetworks",
                    "kind": "virtual_network", "state": "created", "seconds": 2.1,
                    "code": null, "detail": null}]}
"""

from __future__ import annotations

from typing import Any

from hubvpn.config import Topology
from hubvpn.deploy import Report
from hubvpn.destroy import DestroyResult
from hubvpn.kinds import KINDS, Kind


def _target(emulator: bool) -> str:
    return "emulator" if emulator else "azure"


def deploy_json(report: Report, topology: Topology, emulator: bool) -> dict[str, Any]:
    resources = []
    for outcome in report.outcomes.values():
        step = outcome.step
        name = f"{step.parent}/{step.name}" if step.parent else step.name
        resources.append(
            {
                "name": name,
                "type": KINDS[Kind(step.kind)].arm_type,
                "kind": str(step.kind),
                "state": outcome.state,
                "seconds": round(outcome.seconds, 1),
                "code": outcome.code,
                "detail": outcome.detail or None,
            }
        )
    return {
        "target": _target(emulator),
        "topology": topology.name,
        "resource_group": topology.resource_group,
        "ok": report.ok,
        "interrupted": report.interrupted,
        "seconds": round(report.seconds, 1),
        "writes": report.writes,
        "resources": resources,
    }


def destroy_json(result: DestroyResult, topology: Topology, emulator: bool) -> dict[str, Any]:
    deleted = result.state == "deleted"
    return {
        "target": _target(emulator),
        "topology": topology.name,
        "resource_group": topology.resource_group,
        "ok": True,
        "seconds": round(result.seconds, 1),
        "writes": 1 if deleted else 0,  # one DELETE of the group; ARM deletes the rest
        "resources": [
            {
                "name": topology.resource_group,
                "type": "Microsoft.Resources/resourceGroups",
                "state": result.state,  # deleted | absent
                "seconds": round(result.seconds, 1),
                "containing": result.resources,
                "code": None,
                "detail": None,
            }
        ],
    }
