"""The in-process transport: the real SDK clients, their pipeline, the emulator's app.

What a socket would carry must arrive: request bodies byte for byte, streamed bodies,
headers whatever their case, errors as the SDK's own exceptions, every attempt in the
emulator's request log and before the transport's observers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceNotFoundError,
    ResponseNotReadError,
    StreamConsumedError,
)
from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.transport import HttpRequest as LegacyHttpRequest
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.network import models as n
from emulator_helpers import GROUP, LOCATION, connect_at, resource_group, virtual_network

from hubvpn.azure import ARM_SCOPE, EMULATOR_URL, Clients, connect, resolve_target
from hubvpn.emulator.transport import EmulatorTransport, _charset, request_body

THROTTLED = "throttle=0.5,seed=3"


def vnet_path(clients: Clients, name: str) -> str:
    return (
        f"/subscriptions/{clients.subscription_id}/resourceGroups/{GROUP}"
        f"/providers/Microsoft.Network/virtualNetworks/{name}"
    )


def small_block_client(clients: Clients, block_size: int) -> NetworkManagementClient:
    """A network client on the same emulator whose transport streams ``block_size`` bytes
    at a time."""
    assert clients.emulator is not None
    return NetworkManagementClient(
        clients._credential,
        clients.subscription_id,
        base_url=EMULATOR_URL,
        credential_scopes=[ARM_SCOPE],
        transport=EmulatorTransport(clients.emulator, block_size=block_size),
    )


def test_get_stream_through_sdk_returns_body_in_blocks(clients: Clients) -> None:
    resource_group(clients)
    virtual_network(clients, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    client = small_block_client(clients, 64)
    chunks = list(client.virtual_networks.get(GROUP, "hub", stream=True))
    body = json.loads(b"".join(chunks))
    assert len(chunks) > 1
    assert all(len(chunk) <= 64 for chunk in chunks)
    assert (body["name"], body["properties"]["addressSpace"]["addressPrefixes"]) == (
        "hub",
        ["10.0.0.0/16"],
    )


def test_put_body_through_sdk_arrives_byte_for_byte(clients: Clients) -> None:
    resource_group(clients)
    sent: list[bytes] = []

    def keep(request: HttpRequest, response: HttpResponse) -> None:
        if request.method == "PUT":
            sent.append(request_body(request.content))

    clients.transport.observers.append(keep)
    tags = {"owner": "Zoë ☃ 東京", "quote": 'a "b" \\ c'}
    model = n.VirtualNetwork(
        location=LOCATION, address_space=n.AddressSpace(address_prefixes=["10.9.0.0/16"]), tags=tags
    )
    clients.network.virtual_networks.begin_create_or_update(GROUP, "tagged", model).result()
    got = clients.network.virtual_networks.get(GROUP, "tagged")
    assert got.tags == tags
    assert len(sent) == 1
    assert json.loads(sent[0])["tags"] == tags


def test_get_missing_resource_raises_resource_not_found(clients: Clients) -> None:
    resource_group(clients)
    with pytest.raises(ResourceNotFoundError) as info:
        clients.network.virtual_networks.get(GROUP, "absent")
    assert info.value.status_code == 404
    assert info.value.error is not None
    assert info.value.error.code == "ResourceNotFound"


def test_response_headers_through_sdk_match_any_case(clients: Clients) -> None:
    resource_group(clients)
    seen: list[Any] = []

    def hook(pipeline: PipelineResponse[Any, Any]) -> None:
        seen.append(pipeline.http_response)

    clients.resource.resource_groups.get(GROUP, raw_response_hook=hook)
    (response,) = seen
    request_id = response.headers["x-ms-request-id"]
    assert request_id
    assert response.headers["X-MS-REQUEST-ID"] == request_id
    assert response.headers.get("X-Ms-Request-Id") == request_id
    assert "CONTENT-TYPE" in response.headers
    assert (response.status_code, response.reason) == (200, "OK")
    assert response.content_type == "application/json; charset=utf-8"
    assert response.json()["name"] == GROUP


def test_request_log_after_sdk_calls_has_every_request(clients: Clients) -> None:
    assert clients.emulator is not None
    before = len(clients.emulator.store.requests())
    resource_group(clients)
    clients.resource.resource_groups.get(GROUP)
    with pytest.raises(ResourceNotFoundError):
        clients.network.virtual_networks.get(GROUP, "absent")
    rows = clients.emulator.store.requests()[before:]
    assert [(row["method"], row["status"]) for row in rows] == [
        ("PUT", 201),
        ("GET", 200),
        ("GET", 404),
    ]
    assert rows[2]["path"] == vnet_path(clients, "absent")


def test_observers_with_throttling_see_every_attempt(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Half the requests throttled (seeded): the retry policy tries again, and each
    # attempt crosses the transport and reaches the request log.
    with connect_at(state_dir, monkeypatch, speed=36000, faults=THROTTLED) as throttled:
        statuses: list[int] = []
        throttled.transport.observers.append(lambda req, resp: statuses.append(resp.status_code))
        for name in ("rg-a", "rg-b", "rg-c"):
            resource_group(throttled, name)
        assert throttled.emulator is not None
        logged = [row["status"] for row in throttled.emulator.store.requests()]
    assert statuses.count(201) == 3
    assert 429 in statuses
    assert set(statuses) == {201, 429}
    assert logged == statuses


def test_send_raw_request_keeps_query_and_headers(clients: Clients) -> None:
    assert clients.emulator is not None
    transport = EmulatorTransport(clients.emulator)
    resource_group(clients)
    request = HttpRequest(
        "GET",
        f"{EMULATOR_URL}/subscriptions/{clients.subscription_id}/resourcegroups/{GROUP}",
        headers={"Accept": "application/json"},
    )
    missing_version = transport.send(request)
    assert missing_version.status_code == 400
    assert missing_version.json()["error"]["code"] == "MissingApiVersionParameter"
    versioned = transport.send(HttpRequest("GET", request.url + "?api-version=2022-09-01"))
    assert (versioned.status_code, versioned.json()["name"]) == (200, GROUP)


def test_stream_response_before_and_after_read_behaves_like_a_socket(clients: Clients) -> None:
    assert clients.emulator is not None
    resource_group(clients)
    transport = EmulatorTransport(clients.emulator, block_size=16)
    url = f"{EMULATOR_URL}/subscriptions/{clients.subscription_id}/resourcegroups/{GROUP}"
    request = HttpRequest("GET", url + "?api-version=2022-09-01")
    streamed = transport.send(request, stream=True)
    with pytest.raises(ResponseNotReadError):
        streamed.content  # noqa: B018  # the property raises until the body is read
    body = b"".join(streamed.iter_bytes())
    assert json.loads(body)["name"] == GROUP
    with pytest.raises(StreamConsumedError):
        list(streamed.iter_bytes())
    whole = transport.send(request)
    assert (whole.read(), whole.content, whole.is_closed) == (body, body, True)
    assert b"".join(whole.iter_bytes()) == body  # read content replays in blocks


def test_raise_for_status_of_missing_group_raises_http_error(clients: Clients) -> None:
    assert clients.emulator is not None
    url = f"{EMULATOR_URL}/subscriptions/{clients.subscription_id}/resourcegroups/absent"
    response = EmulatorTransport(clients.emulator).send(
        HttpRequest("GET", url + "?api-version=2022-09-01")
    )
    with pytest.raises(HttpResponseError) as info:
        response.raise_for_status()
    assert info.value.status_code == 404
    assert response.json()["error"]["code"] == "ResourceGroupNotFound"


def test_record_of_streamed_put_keeps_response_body(state_dir: Path, tmp_path: Path) -> None:
    # An LRO's first PUT is sent with stream=True: the recorder reads the body before
    # the SDK does, and both must see it.
    folder = tmp_path / "recordings"
    with connect(resolve_target("emulator", None), state_dir, record=folder) as recording:
        resource_group(recording)
        made = virtual_network(recording, "hub", "10.0.0.0/16", {"default": "10.0.0.0/24"})
    assert made.name == "hub"
    (path,) = folder.glob("*.json")
    entries = json.loads(path.read_text())["Entries"]
    put = next(
        e for e in entries if e["RequestMethod"] == "PUT" and "/virtualNetworks/" in e["RequestUri"]
    )
    assert put["StatusCode"] == 201
    assert put["ResponseBody"]["name"] == "hub"
    assert put["ResponseBody"]["properties"]["addressSpace"] == {"addressPrefixes": ["10.0.0.0/16"]}


def test_send_legacy_request_is_refused(clients: Clients) -> None:
    assert clients.emulator is not None
    with pytest.raises(TypeError):
        EmulatorTransport(clients.emulator).send(LegacyHttpRequest("GET", EMULATOR_URL))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, b""),
        ("é", "é".encode()),
        (b"\x00\xff", b"\x00\xff"),
        ([b"a", b"b"], b"ab"),
    ],
)
def test_request_body_of_content_gives_its_bytes(content: Any, expected: bytes) -> None:
    assert request_body(content) == expected


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("application/json; charset=utf-8", "utf-8"),
        ('text/plain; Charset="ISO-8859-1"', "iso-8859-1"),
        ("application/json", None),
        (None, None),
    ],
)
def test_charset_of_content_type_is_its_parameter(
    content_type: str | None, charset: str | None
) -> None:
    assert _charset(content_type) == charset


def test_emulator_clients_import_no_requests(state_dir: Path) -> None:
    # The emulator path builds no requests objects: the package is never even imported.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from hubvpn.azure import connect, resolve_target\n"
        f"with connect(resolve_target('emulator', None), Path({str(state_dir)!r})) as c:\n"
        "    list(c.resource.resource_groups.list())\n"
        "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
