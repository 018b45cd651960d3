"""Diagnostics and connectivity checks answer with their JSON, not SDK models.

``PatientPolling.answering_json`` makes a long-running operation's ``result()`` the
final answer's JSON: status and verify read thousands of routes and hops, and building
(then reading back) an SDK model for each cost most of their CPU at 20 hubs. Failures
must still raise the SDK's HttpResponseError with the ARM error code.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import models as n
from emulator_helpers import (
    GROUP,
    LOCATION,
    connect_at,
    expect_arm_error,
    network_interface,
    network_watcher_extension,
    resource_group,
    virtual_machine,
    virtual_network,
    virtual_network_model,
)
from test_deploy import deployed

from hubvpn.azure import Clients
from hubvpn.emulator.arm import LRO_FAILURE_CODES
from hubvpn.plan import Plan
from hubvpn.status import status
from hubvpn.verify import verify

__all__ = ["deployed"]  # the fixture, shared with test_deploy

WATCHERS, WATCHER = "NetworkWatcherRG", f"NetworkWatcher_{LOCATION}"
# The SDK models of the answers status and verify read.
ANSWER_MODELS = (
    n.BgpPeerStatusListResult,
    n.GatewayRouteListResult,
    n.EffectiveRouteListResult,
    n.ConnectivityInformation,
)


def checkable_vm(clients: Clients) -> n.ConnectivityParameters:
    """A VM (without the watcher agent), and a check from it to its subnet's next address."""
    resource_group(clients)
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    network_interface(clients, "nic", "hub", "default")
    vm = virtual_machine(clients, "vm", "nic")
    return n.ConnectivityParameters(
        source=n.ConnectivitySource(resource_id=vm.id),
        destination=n.ConnectivityDestination(address="10.0.0.5", port=22),
    )


def test_check_connectivity_answering_json_returns_the_answer_as_plain_json(
    clients: Clients,
) -> None:
    check = checkable_vm(clients)
    network_watcher_extension(clients, "vm")
    watchers = clients.network.network_watchers
    model = watchers.begin_check_connectivity(
        WATCHERS, WATCHER, check, polling=clients.polling()
    ).result()
    answer = watchers.begin_check_connectivity(
        WATCHERS, WATCHER, check, polling=clients.polling().answering_json()
    ).result()
    assert type(answer) is dict
    assert json.loads(json.dumps(answer)) == answer  # nothing but JSON inside
    assert answer["connectionStatus"] == model.connection_status
    assert [h["type"] for h in answer["hops"]] == [h.type for h in model.hops]


def test_check_connectivity_answering_json_refused_raises_its_arm_code(
    clients: Clients,
) -> None:
    check = checkable_vm(clients)  # no watcher agent on the VM
    with expect_arm_error("NetworkWatcherExtensionNotInstalled"):
        clients.network.network_watchers.begin_check_connectivity(
            WATCHERS, WATCHER, check, polling=clients.polling().answering_json()
        ).result()


def test_create_vnet_answering_json_failed_operation_raises_its_arm_code(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    with connect_at(state_dir, monkeypatch, speed=36000.0, faults="lro_fail=1,seed=1") as faulty:
        poller = faulty.network.virtual_networks.begin_create_or_update(
            GROUP,
            "hub",
            virtual_network_model("10.0.0.0/16", {}),
            polling=faulty.polling().answering_json(),
        )
        with pytest.raises(HttpResponseError) as info:
            poller.result()  # the operation ends Failed: its error, not a JSON answer
    assert info.value.error is not None
    assert info.value.error.code in {code for code, _ in LRO_FAILURE_CODES}


def test_status_and_verify_build_no_sdk_model_of_diagnostic_answers(
    clients: Clients, deployed: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: Counter[str] = Counter()
    for model in ANSWER_MODELS:
        original = model.__init__

        def counting(self: Any, *args: Any, _init: Any = original, **kwargs: Any) -> None:
            built[type(self).__name__] += 1
            _init(self, *args, **kwargs)

        monkeypatch.setattr(model, "__init__", counting)
    shown = status(deployed, clients, advertised=True)
    verified = verify(deployed, clients, 22)
    # What the answers say is read (peers, learned, advertised and effective routes,
    # measured probes)...
    assert all(g.peers and g.learned_routes and g.advertised_routes for g in shown.gateways)
    assert shown.effective_routes and all(shown.effective_routes.values())
    assert verified.ok and verified.paths
    # ...without building a model of any of them.
    assert built == Counter()
