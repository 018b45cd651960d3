"""Network Watcher belongs to the region, as on Azure (azure-facts.md, "As recorded").

Azure creates ``NetworkWatcher_<region>`` in ``NetworkWatcherRG`` (the group too, if
absent) when a VNet is created or updated in a region that has no watcher, unless the
subscription opted out (here: HUBVPN_EMULATOR_NO_AUTO_WATCHER=1); it allows one
watcher per region per subscription (400 NetworkWatcherCountLimitReached, "Cannot
create more than 1 network watchers for this subscription in this region."); and a
watcher PUT answers 201 with Azure-AsyncOperation and a Succeeded body.
Microsoft Learn: network-watcher/network-watcher-create ("Network Watcher is enabled
automatically", "Opt out of Network Watcher automatic enablement").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.core.pipeline import PipelineResponse
from azure.mgmt.network import models as n
from emulator_helpers import (
    GROUP,
    LOCATION,
    connect_at,
    expect_arm_error,
    network_watcher,
    resource_group,
    virtual_network,
    virtual_network_model,
)

from hubvpn.azure import Clients

WATCHERS = "NetworkWatcherRG"
WATCHER = f"NetworkWatcher_{LOCATION}"


def test_create_vnet_creates_region_watcher_in_network_watcher_rg(clients: Clients) -> None:
    resource_group(clients)
    with pytest.raises(ResourceNotFoundError):
        clients.resource.resource_groups.get(WATCHERS)
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    group = clients.resource.resource_groups.get(WATCHERS)
    assert (group.location, group.tags) == (LOCATION, None)
    watcher = clients.network.network_watchers.get(WATCHERS, WATCHER)
    assert (watcher.location, watcher.provisioning_state) == (LOCATION, "Succeeded")
    assert [w.name for w in clients.network.network_watchers.list_all()] == [WATCHER]


def test_create_network_watcher_refused_once_vnet_made_region_watcher(
    clients: Clients,
) -> None:
    resource_group(clients)
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    with expect_arm_error("NetworkWatcherCountLimitReached") as info:
        network_watcher(clients, "watcher")
    assert info.value.error.message == (
        "Cannot create more than 1 network watchers for this subscription in this region."
    )


def test_update_vnet_creates_region_watcher_again_after_its_delete(clients: Clients) -> None:
    resource_group(clients)
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    clients.network.network_watchers.begin_delete(WATCHERS, WATCHER).result()
    assert list(clients.network.network_watchers.list_all()) == []
    model = virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"})
    clients.network.virtual_networks.begin_create_or_update(GROUP, "vnet", model).result()
    assert [w.name for w in clients.network.network_watchers.list_all()] == [WATCHER]


def test_create_vnet_keeps_existing_region_watcher(clients: Clients) -> None:
    resource_group(clients)
    network_watcher(clients, "lab-watcher")  # the region's watcher, in another group
    virtual_network(clients, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    assert [w.name for w in clients.network.network_watchers.list_all()] == ["lab-watcher"]


def test_create_vnet_creates_no_watcher_when_subscription_opted_out(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBVPN_EMULATOR_NO_AUTO_WATCHER", "1")
    with connect_at(state_dir, monkeypatch, speed=36000.0) as opted_out:
        resource_group(opted_out)
        virtual_network(opted_out, "vnet", "10.0.0.0/16", {"default": "10.0.0.0/24"})
        assert list(opted_out.network.network_watchers.list_all()) == []
        network_watcher(opted_out, "watcher")  # the subscription's first in the region


def test_create_network_watcher_answers_201_async_operation_succeeded(
    clients: Clients,
) -> None:
    resource_group(clients)
    seen: list[tuple[int, dict[str, str]]] = []

    def hook(pipeline: PipelineResponse[Any, Any]) -> None:
        response = pipeline.http_response
        seen.append((response.status_code, dict(response.headers)))

    watcher = clients.network.network_watchers.create_or_update(
        GROUP, "watcher", n.NetworkWatcher(location=LOCATION), raw_response_hook=hook
    )
    [(status, headers)] = seen
    assert (status, watcher.provisioning_state) == (201, "Succeeded")
    assert (
        "/providers/Microsoft.Network/locations/westeurope/operations/"
        in (headers["Azure-AsyncOperation"])
    )
