"""observe's reads, counted in the emulator's request log and in SDK models built
(through the real SDK): the connections LIST is read as JSON, each connection's model
comes from its GET (or, for one not read again, from its LIST item)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.network import models as n
from emulator_helpers import (
    GROUP,
    connect_at,
    connection,
    hub,
    local_network_gateway,
    resource_group,
    virtual_network_gateway,
)

from hubvpn.azure import PARALLEL_READS, Clients
from hubvpn.interrupts import NOTED, Interrupted, result_of
from hubvpn.observe import (
    NETWORK_API_VERSION,
    Observed,
    field_of,
    listed_connections,
    observe,
    parallel,
    state_of,
)
from hubvpn.plan import step_key

CONNECTIONS = ("to-a", "to-b", "to-c")


@pytest.fixture
def lab(clients: Clients) -> Clients:
    """One hub with a gateway and three connections (to three local gateways)."""
    resource_group(clients)
    hub(clients, "hub", 0)
    virtual_network_gateway(clients, "gw", "hub", "hub-ip")
    for i, name in enumerate(CONNECTIONS):
        local_network_gateway(
            clients, f"lng-{name}", f"203.0.113.{i + 1}", 65100 + i, f"169.254.21.{i + 1}"
        )
        connection(clients, name, "gw", f"lng-{name}", "not-a-secret-test-key")
    return clients


Sent = list[tuple[str, str, dict[str, list[str]]]]


@pytest.fixture
def sent(lab: Clients) -> Sent:
    """(method, path, query) of each request the transport sends from now on (the
    emulator's request log keeps no query string)."""
    out: Sent = []

    def observer(request: Any, response: Any) -> None:
        parts = urlsplit(request.url)
        out.append((request.method, parts.path, parse_qs(parts.query)))

    lab.transport.observers.append(observer)
    return out


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of each VirtualNetworkGatewayConnection model built with its properties
    (by any path; a summary, provisioning state only, is not counted)."""
    names: list[str] = []
    original = n.VirtualNetworkGatewayConnection.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.virtual_network_gateway1 is not None:
            names.append(str(self.name))

    monkeypatch.setattr(n.VirtualNetworkGatewayConnection, "__init__", counting)
    yield names


def test_list_connections_follows_next_link_pages(lab: Clients, sent: Sent) -> None:
    items = listed_connections(lab, GROUP, page_size=1)
    assert sorted(item["name"] for item in items) == sorted(CONNECTIONS)
    lists = [r for r in sent if r[1].endswith("/connections")]
    assert [(method, query.get("$skiptoken")) for method, _, query in lists] == [
        ("GET", None),
        ("GET", ["1"]),
        ("GET", ["2"]),
    ]


def test_list_connections_sends_the_path_and_api_version_of_the_sdk_list(
    lab: Clients, sent: Sent
) -> None:
    sdk = [c.name for c in lab.network.virtual_network_gateway_connections.list(GROUP)]
    raw = [item["name"] for item in listed_connections(lab, GROUP)]
    assert raw == sdk
    (sdk_request, raw_request) = sent
    assert raw_request == sdk_request
    assert sdk_request[2]["api-version"] == [NETWORK_API_VERSION]


def test_list_connections_of_missing_group_raises_as_the_sdk_list(clients: Clients) -> None:
    with pytest.raises(ResourceNotFoundError) as sdk:
        list(clients.network.virtual_network_gateway_connections.list("rg-missing"))
    with pytest.raises(ResourceNotFoundError) as raw:
        listed_connections(clients, "rg-missing")
    assert raw.value.error is not None and sdk.value.error is not None
    assert (raw.value.error.code, raw.value.status_code) == ("ResourceGroupNotFound", 404)
    assert raw.value.error.code == sdk.value.error.code


def test_list_connections_of_invalid_group_name_raises_http_response_error(
    clients: Clients,
) -> None:
    with pytest.raises(HttpResponseError) as sdk:
        list(clients.network.virtual_network_gateway_connections.list("bad(name"))
    with pytest.raises(HttpResponseError) as raw:
        listed_connections(clients, "bad(name")
    assert raw.value.error is not None and sdk.value.error is not None
    assert (raw.value.error.code, raw.value.status_code) == (
        sdk.value.error.code,
        sdk.value.status_code,
    )


def test_observe_builds_connection_models_only_from_gets(
    lab: Clients, sent: Sent, built: list[str]
) -> None:
    observed = observe(lab, GROUP)
    assert sorted(built) == sorted(CONNECTIONS)  # one model each: its GET's
    gets = [
        path.rsplit("/", 1)[-1]
        for method, path, _ in sent
        if method == "GET" and "/connections/" in path
    ]
    assert sorted(gets) == sorted(CONNECTIONS)
    for name in CONNECTIONS:
        found = observed.get(step_key("connection", name))
        assert isinstance(found, n.VirtualNetworkGatewayConnection)
        assert found.connection_status is not None  # a runtime field: from the GET


def test_observe_of_some_connections_builds_the_others_from_the_list(
    lab: Clients, sent: Sent, built: list[str]
) -> None:
    observed = observe(lab, GROUP, connections=frozenset({"to-a"}))
    assert sorted(built) == sorted(CONNECTIONS)
    gets = [
        path.rsplit("/", 1)[-1]
        for method, path, _ in sent
        if method == "GET" and "/connections/" in path
    ]
    assert gets == ["to-a"]
    read = observed.get(step_key("connection", "to-a"))
    listed = observed.get(step_key("connection", "to-b"))
    assert read is not None and read.connection_status is not None
    assert listed is not None and listed.connection_status is None  # LIST: no runtime fields
    assert listed.provisioning_state == "Succeeded"
    assert listed.virtual_network_gateway1.id.endswith("/virtualNetworkGateways/gw")


def test_state_of_model_reads_the_rest_body_not_the_attribute(
    lab: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = lab.network.virtual_network_gateway_connections.get(GROUP, "to-a")
    gateway = lab.network.virtual_network_gateways.get(GROUP, "gw")
    group = lab.resource.resource_groups.get(GROUP)
    assert [state_of(found), state_of(gateway), state_of(group.properties)] == ["Succeeded"] * 3

    def unread(self: Any) -> None:
        raise AssertionError("provisioning_state read as an attribute")

    for cls in (n.VirtualNetworkGatewayConnection, n.VirtualNetworkGateway):
        monkeypatch.setattr(cls, "provisioning_state", property(unread), raising=False)
    assert [state_of(found), state_of(gateway)] == ["Succeeded"] * 2


def test_state_of_model_built_with_enum_is_its_text() -> None:
    model = n.PublicIPAddress(properties=n.PublicIPAddressPropertiesFormat())
    model["properties"]["provisioningState"] = n.ProvisioningState.UPDATING
    assert state_of(model) == "Updating"
    assert state_of(None) == "Unknown"


def test_observe_shows_more_the_listed_state_of_connections_read_again(
    lab: Clients, built: list[str]
) -> None:
    seen: dict[str, str] = {}

    def more(first: Observed) -> dict[str, Any]:
        for name in CONNECTIONS:
            seen[name] = state_of(first.get(step_key("connection", name)))
        return {}

    observed = observe(lab, GROUP, more)
    assert seen == dict.fromkeys(CONNECTIONS, "Succeeded")
    assert sorted(built) == sorted(CONNECTIONS)  # the GETs' models only
    for name in CONNECTIONS:
        found = observed.get(step_key("connection", name))
        assert isinstance(found, n.VirtualNetworkGatewayConnection)
        assert field_of(found, "name") == name


def _most_reads_at_once(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> int:
    """The most of observe's reads in flight at one moment (through the transport)."""
    import threading

    lock = threading.Lock()
    now = [0, 0]  # in flight, most seen
    send = clients.transport.send

    def counting(request: Any, **kwargs: Any) -> Any:
        with lock:
            now[0] += 1
            now[1] = max(now)
        try:
            return send(request, **kwargs)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(clients.transport, "send", counting)
    observe(clients, GROUP)
    return now[1]


def test_observe_in_process_emulator_sends_one_read_at_a_time(
    lab: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In-process, a read is this process's CPU: more threads only contend (azure.py).
    assert lab.parallel_reads == 1
    assert _most_reads_at_once(lab, monkeypatch) == 1


def test_observe_emulator_with_latency_reads_in_parallel(
    lab: Clients, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With simulated network latency a read mostly waits, as on Azure: reads overlap.
    monkeypatch.setenv("HUBVPN_EMULATOR_LATENCY_MS", "20")
    with connect_at(state_dir, monkeypatch, speed=36000.0) as slow:
        assert slow.parallel_reads == PARALLEL_READS
        assert _most_reads_at_once(slow, monkeypatch) > 1


class NeverAnswers:
    """An LROPoller whose operation Azure has not finished (answers after 50 waits)."""

    def __init__(self) -> None:
        self.waits = 0

    def done(self) -> bool:
        return self.waits >= 50

    def wait(self, timeout: float) -> None:
        self.waits += 1
        time.sleep(timeout)

    def result(self) -> str:
        return "answered"


def test_parallel_interrupted_gives_up_waiting_for_azure_and_starts_nothing_queued() -> None:
    """Ctrl-C (here: SIGINT sent by the first call) during parallel reads: the calls
    waiting for an operation give up at once, the queued ones never start, and
    KeyboardInterrupt is raised in the caller's thread."""
    ended: list[str] = []
    lock = threading.Lock()

    def call(i: int) -> str:
        if i == 0:
            signal.raise_signal(signal.SIGINT)  # handled in the main thread
        try:
            answer: str = result_of(NeverAnswers())
        except Interrupted:
            answer = "interrupted"
        with lock:
            ended.append(answer)
        return answer

    waiting = {f"c{i}": partial(call, i) for i in range(100)}
    with pytest.raises(KeyboardInterrupt):
        parallel({}, waiting=waiting)
    assert 1 <= len(ended) <= PARALLEL_READS
    assert set(ended) == {"interrupted"}
    assert not NOTED.is_set()  # the next command's waits wait again
