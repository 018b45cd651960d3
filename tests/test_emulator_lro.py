"""ARM's long-running operation protocol as the emulator speaks it to the real SDK.

PUT answers 201/200 with a transient provisioningState, ``Azure-AsyncOperation``
and a retry hint; the operation resource answers InProgress until the (scaled)
Azure duration has passed; DELETE answers 202 and the resource is then gone;
POST actions answer 202 + Location. No test times the wall clock: durations are
read from what the emulator reports (retry hints, operation start/end times).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline import PipelineResponse
from azure.core.rest import HttpRequest
from emulator_helpers import (
    GATEWAY_CREATE_S,
    GROUP,
    REFERENCE,
    SSH_PUBLIC_KEY,
    connect_at,
    connection,
    expect_arm_error,
    gateway_model,
    hub,
    local_network_gateway,
    public_ip_model,
    resource_group,
    virtual_network,
    virtual_network_gateway,
    virtual_network_model,
)

from hubvpn.azure import Clients
from hubvpn.config import load_topology
from hubvpn.deploy import deploy
from hubvpn.emulator.arm import LRO_FAILURE_CODES
from hubvpn.emulator.transport import EmulatorTransport
from hubvpn.plan import Plan, Step, build_plan


class Responses:
    """A raw_response_hook that keeps (method, status, headers) of every response.

    Headers stay case-insensitive, as HTTP's are."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, Mapping[str, str]]] = []

    def __call__(self, pipeline: PipelineResponse[Any, Any]) -> None:
        response = pipeline.http_response
        self.seen.append((pipeline.http_request.method, response.status_code, response.headers))

    def first(self, method: str) -> tuple[int, Mapping[str, str]]:
        status, headers = next((s, h) for m, s, h in self.seen if m == method)
        return status, headers


class _Silent:
    def started(self, plan: Plan) -> None:
        """Nothing to show."""

    def step(self, step: Step, state: str, detail: str = "") -> None:
        """Nothing to show."""

    def finished(self) -> None:
        """Nothing to show."""


def retry_hint_s(headers: Mapping[str, str]) -> tuple[float, float]:
    """(seconds to wait, the hint's resolution) from Retry-After or retry-after-ms."""
    if "Retry-After" in headers:
        return float(headers["Retry-After"]), 1.0
    return float(headers["retry-after-ms"]) / 1000.0, 0.001


def operation_status(clients: Clients, url: str) -> dict[str, Any]:
    """GET an Azure-AsyncOperation URL through the same in-process transport."""
    assert clients.emulator is not None
    response = EmulatorTransport(clients.emulator).send(HttpRequest("GET", url))
    assert response.status_code == 200
    status: dict[str, Any] = response.json()
    return status


def parse_arm_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def hub_without_gateway(clients: Clients) -> Clients:
    """Resource group, hub VNet with GatewaySubnet and its zone-redundant public IP."""
    resource_group(clients)
    hub(clients, "hub", 0)
    return clients


# --------------------------------------------------------------------- PUT


def test_create_gateway_updating_until_done_seen_by_two_clients(
    hub_without_gateway: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    observer = hub_without_gateway  # its own Store connection: another process, in effect
    # At 1800 Azure seconds per second the 30-minute gateway takes 1 s.
    with connect_at(state_dir, monkeypatch, speed=1800.0) as creator:
        model = gateway_model(creator, "hub", "hub-ip")
        poller = creator.network.virtual_network_gateways.begin_create_or_update(
            GROUP, "hub-gateway", model
        )
        mid_way = [
            view.network.virtual_network_gateways.get(GROUP, "hub-gateway").provisioning_state
            for view in (creator, observer)
        ]
        # The poller follows the emulator's retry hints until the operation ends.
        done = poller.result()
    assert mid_way == ["Updating", "Updating"]
    assert poller.status() == "Succeeded"
    assert done.provisioning_state == "Succeeded"
    assert (
        observer.network.virtual_network_gateways.get(GROUP, "hub-gateway").provisioning_state
        == "Succeeded"
    )


def test_create_resource_answers_201_async_operation_and_retry_hint(
    clients: Clients,
) -> None:
    resource_group(clients)
    responses = Responses()
    clients.network.virtual_networks.begin_create_or_update(
        GROUP, "hub", virtual_network_model("10.0.0.0/16", {}), raw_response_hook=responses
    ).result()
    status, headers = responses.first("PUT")
    assert status == 201
    async_operation = headers["Azure-AsyncOperation"]
    assert (
        f"/subscriptions/{clients.subscription_id}/providers/Microsoft.Network/locations/"
        "westeurope/operations/" in async_operation
    )
    assert "Retry-After" in headers or "retry-after-ms" in headers


def test_update_resource_answers_200(clients: Clients) -> None:
    resource_group(clients)
    virtual_network(clients, "hub", "10.0.0.0/16", {})
    responses = Responses()
    clients.network.virtual_networks.begin_create_or_update(
        GROUP,
        "hub",
        virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"}),
        raw_response_hook=responses,
    ).result()
    status, headers = responses.first("PUT")
    assert status == 200
    assert "Azure-AsyncOperation" in headers


def test_create_gateway_operation_in_progress_while_updating(
    hub_without_gateway: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = Responses()
    with connect_at(state_dir, monkeypatch, speed=180.0) as slow:  # the gateway takes 10 s
        model = gateway_model(slow, "hub", "hub-ip")
        initial = slow.network.virtual_network_gateways.begin_create_or_update(
            GROUP, "hub-gateway", model, polling=False, raw_response_hook=responses
        ).result()
        url = responses.first("PUT")[1]["Azure-AsyncOperation"]
        status = operation_status(slow, url)
    assert initial.provisioning_state == "Updating"
    assert status["status"] == "InProgress"
    assert status["name"] in url
    assert "startTime" in status
    assert "endTime" not in status


@pytest.mark.parametrize("speed", [180.0, 720.0, 36000.0])
def test_create_gateway_retry_hint_scales_with_speed(
    hub_without_gateway: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch, speed: float
) -> None:
    responses = Responses()
    with connect_at(state_dir, monkeypatch, speed=speed) as scaled:
        model = gateway_model(scaled, "hub", "hub-ip")
        # polling=False: only the PUT's own answer is looked at.
        scaled.network.virtual_network_gateways.begin_create_or_update(
            GROUP, "hub-gateway", model, polling=False, raw_response_hook=responses
        )
    waited_s, resolution_s = retry_hint_s(responses.first("PUT")[1])
    assert abs(waited_s - GATEWAY_CREATE_S / speed) <= resolution_s


def test_create_gateway_polled_at_once_then_once_after_the_retry_hint(
    hub_without_gateway: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request count of an LRO: PUT, the SDK's immediate poll, one poll after the
    retry hint (which ends when the operation does), the final GET. A hint shorter than
    the time left would cost more polls; the immediate poll may already find it done."""
    assert hub_without_gateway.emulator is not None
    before = len(hub_without_gateway.emulator.store.requests())
    # At 1800 Azure seconds per second the 30-minute gateway takes 1 s.
    with connect_at(state_dir, monkeypatch, speed=1800.0) as scaled:
        model = gateway_model(scaled, "hub", "hub-ip")
        scaled.network.virtual_network_gateways.begin_create_or_update(
            GROUP, "hub-gateway", model
        ).result()
    rows = hub_without_gateway.emulator.store.requests()[before:]
    kinds = [
        (r["method"], "poll" if "/operations/" in r["path"] else r["path"].rsplit("/", 2)[-2])
        for r in rows
    ]
    assert kinds in (
        [("PUT", "virtualNetworkGateways"), ("GET", "poll"), ("GET", "virtualNetworkGateways")],
        [("PUT", "virtualNetworkGateways")]
        + [("GET", "poll")] * 2
        + [("GET", "virtualNetworkGateways")],
    )


def test_create_gateway_operation_times_scale_with_speed(clients: Clients) -> None:
    resource_group(clients)
    hub(clients, "hub", 0)
    responses = Responses()
    model = gateway_model(clients, "hub", "hub-ip")
    # Wait for the end: the operation reports endTime only once it is over.
    clients.network.virtual_network_gateways.begin_create_or_update(
        GROUP, "hub-gateway", model, raw_response_hook=responses
    ).result()
    status = operation_status(clients, responses.first("PUT")[1]["Azure-AsyncOperation"])
    assert status["status"] == "Succeeded"
    wall_s = (
        parse_arm_time(status["endTime"]) - parse_arm_time(status["startTime"])
    ).total_seconds()
    assert clients.emulator is not None
    speed = clients.emulator.settings.speed
    # Times are reported to the millisecond: allow one millisecond either way.
    assert abs(wall_s - GATEWAY_CREATE_S / speed) <= 0.001


# ------------------------------------------------------------------ failure


def test_create_lro_failed_raises_and_leaves_failed_state(
    clients: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    with connect_at(state_dir, monkeypatch, speed=36000.0, faults="lro_fail=1,seed=1") as faulty:
        poller = faulty.network.virtual_networks.begin_create_or_update(
            GROUP, "hub", virtual_network_model("10.0.0.0/16", {"default": "10.0.0.0/24"})
        )
        with pytest.raises(HttpResponseError) as info:
            # The operation ends Failed: the poller raises its error.
            poller.result()
    assert info.value.error is not None
    assert info.value.error.code in {code for code, _ in LRO_FAILURE_CODES}
    vnet = clients.network.virtual_networks.get(GROUP, "hub")
    assert vnet.provisioning_state == "Failed"


# ------------------------------------------------------------------- DELETE


def test_delete_answers_202_then_get_404(clients: Clients) -> None:
    resource_group(clients)
    clients.network.public_ip_addresses.begin_create_or_update(
        GROUP, "hub-ip", public_ip_model()
    ).result()
    responses = Responses()
    # DELETE's poller returns nothing; waiting makes the resource gone for the GET.
    gone = clients.network.public_ip_addresses.begin_delete(
        GROUP, "hub-ip", raw_response_hook=responses
    ).result()
    status, headers = responses.first("DELETE")
    assert gone is None
    assert status == 202
    assert "Location" in headers
    with expect_arm_error("ResourceNotFound", 404):
        clients.network.public_ip_addresses.get(GROUP, "hub-ip")


def test_delete_polls_grow_their_retry_after(
    hub_without_gateway: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ARM backs a delete's pollers off as recorded: 10 s, 20 s, 20 s, 40 s of Azure time
    # (arm.azure_poll_hint_s), never past the end. At speed 1 a gateway delete takes
    # 600 s, so no hint is capped here.
    virtual_network_gateway(hub_without_gateway, "gw", "hub", "hub-ip")
    with connect_at(state_dir, monkeypatch, speed=1) as slow:
        responses = Responses()
        slow.network.virtual_network_gateways.begin_delete(
            GROUP, "gw", polling=False, raw_response_hook=responses
        )
        _, headers = responses.first("DELETE")
        assert slow.emulator is not None
        transport = EmulatorTransport(slow.emulator)
        answers = [transport.send(HttpRequest("GET", headers["Location"])) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 202]
    assert [a.headers["Retry-After"] for a in answers] == ["10", "20", "20", "40"]


def test_delete_resource_group_removes_its_resources(clients: Clients) -> None:
    resource_group(clients)
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    responses = Responses()
    clients.resource.resource_groups.begin_delete(GROUP, raw_response_hook=responses).result()
    assert responses.first("DELETE")[0] == 202
    assert not clients.resource.resource_groups.check_existence(GROUP)
    with expect_arm_error("ResourceGroupNotFound", 404):
        clients.network.virtual_networks.get(GROUP, "hub")


# -------------------------------------------------------------- POST action


def test_get_bgp_peer_status_answers_202_location_then_result(
    hub_without_gateway: Clients,
) -> None:
    clients = hub_without_gateway
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    local_network_gateway(clients, "remote", "20.1.2.3", 65020, "10.2.255.30")
    connection(clients, "hub-to-remote", "hub-gateway", "remote", "key-1")
    responses = Responses()
    # The result is what the Location URL finally answers.
    peers = clients.network.virtual_network_gateways.begin_get_bgp_peer_status(
        GROUP, "hub-gateway", raw_response_hook=responses
    ).result()
    status, headers = responses.first("POST")
    assert status == 202
    assert "/operationResults/" in headers["Location"]
    assert [(p.neighbor, p.asn) for p in peers.value] == [("10.2.255.30", 65020)]


# -------------------------------------------------------------- request log


def test_request_log_records_method_path_status_never_body(hub_without_gateway: Clients) -> None:
    clients = hub_without_gateway
    virtual_network_gateway(clients, "hub-gateway", "hub", "hub-ip")
    local_network_gateway(clients, "remote", "20.1.2.3", 65020, "10.2.255.30")
    connection(clients, "hub-to-remote", "hub-gateway", "remote", "Log-Me-Not-42")
    with expect_arm_error("ResourceNotFound", 404):
        clients.network.virtual_network_gateways.get(GROUP, "missing")
    assert clients.emulator is not None
    log = clients.emulator.store.requests()
    assert all(set(entry) == {"time", "method", "path", "status", "durationMs"} for entry in log)
    connection_path = (
        f"/subscriptions/{clients.subscription_id}/resourceGroups/{GROUP}"
        "/providers/Microsoft.Network/connections/hub-to-remote"
    )
    missing_path = connection_path.replace(
        "connections/hub-to-remote", "virtualNetworkGateways/missing"
    )
    triples = [(e["method"], e["path"], e["status"]) for e in log]
    assert ("PUT", connection_path, 201) in triples
    assert ("GET", missing_path, 404) in triples
    assert not any("Log-Me-Not-42" in str(entry) for entry in log)


# ------------------------------------------- ARM's retry hints, as recorded


def test_azure_hints_first_answer_per_kind_then_arm_series(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HUBVPN_EMULATOR_RETRY_AFTER=azure: a write's first answer says what ARM said in
    the recordings for its kind (VNet 3 s, public IP 1 s, gateway 10 s), and a running
    operation's status answers 10, 20, 20, 40, 40, 80, 160, then 100 s, whatever is
    left."""
    monkeypatch.setenv("HUBVPN_EMULATOR_RETRY_AFTER", "azure")
    speed = 180.0  # the gateway takes 10 s: it is still running while it is polled
    with connect_at(state_dir, monkeypatch, speed=speed) as armlike:
        resource_group(armlike)
        first: dict[str, float] = {}
        running: list[str] = []
        for name, begin in (
            (
                "vnet",
                lambda hook: armlike.network.virtual_networks.begin_create_or_update(
                    GROUP,
                    "hub",
                    virtual_network_model("10.0.0.0/16", {"GatewaySubnet": "10.0.255.0/27"}),
                    polling=False,
                    raw_response_hook=hook,
                ),
            ),
            (
                "public ip",
                lambda hook: armlike.network.public_ip_addresses.begin_create_or_update(
                    GROUP, "hub-ip", public_ip_model(), polling=False, raw_response_hook=hook
                ),
            ),
        ):
            responses = Responses()
            begin(responses)
            headers = responses.first("PUT")[1]
            first[name] = retry_hint_s(headers)[0] * speed
            running.append(headers["Azure-AsyncOperation"])
        for url in running:  # the gateway needs both Succeeded (5 Azure seconds each)
            while (status := operation_status(armlike, url))["status"] == "InProgress":
                time.sleep(0.01)
            assert status["status"] == "Succeeded"
        responses = Responses()
        armlike.network.virtual_network_gateways.begin_create_or_update(
            GROUP,
            "hub-gateway",
            gateway_model(armlike, "hub", "hub-ip"),
            polling=False,
            raw_response_hook=responses,
        )
        headers = responses.first("PUT")[1]
        first["gateway"] = retry_hint_s(headers)[0] * speed
        polls = []
        assert armlike.emulator is not None
        for _ in range(9):
            response = EmulatorTransport(armlike.emulator).send(
                HttpRequest("GET", headers["Azure-AsyncOperation"])
            )
            assert response.json()["status"] == "InProgress"
            polls.append(round(retry_hint_s(response.headers)[0] * speed))
    assert {k: round(v) for k, v in first.items()} == {"vnet": 3, "public ip": 1, "gateway": 10}
    assert polls == [10, 20, 20, 40, 40, 80, 160, 100, 100]


def test_azure_hints_deploy_converges_polling_running_operations_again(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ARM's hints a write is polled until done, not once as it ends: the reference
    lab still deploys, with more polls than long-running writes (with the emulator's
    own hint, the time left, each costs exactly one: test_deploy_requests)."""
    monkeypatch.setenv("HUBVPN_EMULATOR_RETRY_AFTER", "azure")
    # At 1800 Azure seconds per second a gateway takes 1 s and ARM's 10 s hint is 6 ms:
    # a gateway is polled many times before it ends.
    with connect_at(state_dir, monkeypatch, speed=1800.0) as armlike:
        assert armlike.emulator is not None
        assert armlike.emulator.settings.retry_after == "azure"
        report = deploy(
            build_plan(load_topology(REFERENCE)),
            armlike,
            _Silent(),
            ssh_public_key=SSH_PUBLIC_KEY,
            shared_key=None,
            cancel=threading.Event(),
        )
        assert report.ok, [o.detail for o in report.failed]
        rows = armlike.emulator.store.requests()
    polls = sum(1 for r in rows if r["method"] == "GET" and "/operations/" in r["path"])
    puts = [r["path"].split("?")[0].rsplit("/", 2)[-2] for r in rows if r["method"] == "PUT"]
    operations = len([p for p in puts if p not in ("resourcegroups", "networkWatchers")])
    assert polls > operations
