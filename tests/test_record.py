"""HUBVPN_RECORD and HUBVPN_DEBUG: ARM traffic written down, with no secret in it.

The recording is in the Azure SDK test-proxy format of Azure/azure-sdk-assets (e.g.
net/sdk/network/Azure.ResourceManager.Network/tests/SessionRecords/GatewayOperationsTests/
VirtualNetworkGatewayConnectionWithBgpTest.json): ``Entries`` of RequestUri,
RequestMethod, RequestHeaders, RequestBody, StatusCode, ResponseHeaders, ResponseBody,
and ``Variables``. A known subscription id, pre-shared key, SSH key and public IP are
sent through the real SDK to the emulator; none of them may reach the file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import (
    GROUP,
    SSH_PUBLIC_KEY,
    connection,
    hub,
    local_network_gateway,
    network_interface,
    resource_group,
    virtual_machine,
    virtual_network_gateway,
)
from test_cli import REFERENCE, invoke

from hubvpn.azure import Target, connect
from hubvpn.record import SANITIZED, ZERO_GUID, Sanitizer

SUBSCRIPTION = "3f2e1d0c-9b8a-4765-8432-10fedcba9876"
SHARED_KEY = "Psk-record-test-7a6b5c4d"
SECOND_KEY = "Psk-record-reset-1e2f3a4b"
REMOTE_IP = "52.174.10.20"  # a public address: the far end of the tunnel
ENTRY_KEYS = {
    "RequestUri",
    "RequestMethod",
    "RequestHeaders",
    "RequestBody",
    "StatusCode",
    "ResponseHeaders",
    "ResponseBody",
}


def recording(directory: Path) -> tuple[str, dict[str, Any]]:
    files = sorted(directory.glob("*.json"))
    assert len(files) == 1, files
    text = files[0].read_text(encoding="utf-8")
    return text, json.loads(text)


@pytest.fixture
def recorded_lab(state_dir: Path, tmp_path: Path) -> tuple[str, dict[str, Any], list[str]]:
    """A gateway, a connection (its key set twice), a VM: recorded, under another
    subscription id than the emulator's usual zeros."""
    record = tmp_path / "recorded"
    target = Target("emulator", SUBSCRIPTION, "test")
    with connect(target, state_dir, record=record) as clients:
        resource_group(clients)
        hub(clients, "hub", 1)
        gateway = virtual_network_gateway(clients, "gw", "hub", "hub-ip")
        local_network_gateway(clients, "lng", REMOTE_IP, 65020, "10.2.255.30")
        connection(clients, "conn", "gw", "lng", SHARED_KEY)
        connections = clients.network.virtual_network_gateway_connections
        connections.begin_set_shared_key(GROUP, "conn", {"value": SECOND_KEY}).result()
        connections.get_shared_key(GROUP, "conn")
        network_interface(clients, "nic", "hub", "default")
        virtual_machine(clients, "vm", "nic")
        public = clients.network.public_ip_addresses.get(GROUP, "hub-ip").ip_address
        tunnel = [
            ip
            for peering in gateway.bgp_settings.bgp_peering_addresses or []
            for ip in peering.tunnel_ip_addresses or []
        ]
    text, data = recording(record)
    return text, data, [public, *tunnel]


def test_record_lab_writes_test_proxy_format(
    recorded_lab: tuple[str, dict[str, Any], list[str]],
) -> None:
    _, data, _ = recorded_lab
    assert set(data) == {"Entries", "Variables"}
    assert data["Variables"] == {}
    entries = data["Entries"]
    assert all(set(e) == ENTRY_KEYS for e in entries)
    assert all(e["RequestHeaders"]["Authorization"] == SANITIZED for e in entries)
    methods = {e["RequestMethod"] for e in entries}
    assert {"PUT", "GET"} <= methods
    put = next(
        e for e in entries if e["RequestMethod"] == "PUT" and "/virtualNetworks/" in e["RequestUri"]
    )
    assert put["RequestUri"].startswith(
        f"https://management.emulator.hubvpn.invalid/subscriptions/{ZERO_GUID}/resourceGroups/"
    )
    assert put["RequestBody"]["properties"]["addressSpace"] == {"addressPrefixes": ["10.1.0.0/16"]}
    assert put["StatusCode"] == 201


def test_record_lab_never_holds_subscription_key_ssh_or_public_ip(
    recorded_lab: tuple[str, dict[str, Any], list[str]],
) -> None:
    text, data, public_ips = recorded_lab
    assert public_ips[0]  # the emulator assigned the gateway an address
    ssh_key_body = SSH_PUBLIC_KEY.split()[1]
    for secret in (SUBSCRIPTION, SHARED_KEY, SECOND_KEY, ssh_key_body, REMOTE_IP, *public_ips):
        assert secret not in text
    shared_key_calls = [
        e for e in data["Entries"] if e["RequestUri"].split("?")[0].endswith("/sharedkey")
    ]
    assert shared_key_calls
    lng = next(
        e["RequestBody"]
        for e in data["Entries"]
        if e["RequestMethod"] == "PUT" and "/localNetworkGateways/" in e["RequestUri"]
    )
    assert re.fullmatch(r"203\.0\.113\.\d+", lng["properties"]["gatewayIpAddress"])


def test_debug_log_prints_one_line_per_request(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect(Target("emulator", ZERO_GUID, "test"), state_dir, debug=True) as clients:
        resource_group(clients)
        clients.resource.resource_groups.get(GROUP)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert re.fullmatch(
        rf"debug: PUT /subscriptions/{ZERO_GUID}/resourcegroups/{GROUP} 201 "
        r"x-ms-request-id=[0-9a-f-]{36}",
        err[0],
    ), err[0]
    assert err[1].startswith(f"debug: GET /subscriptions/{ZERO_GUID}/resourcegroups/{GROUP} 200")


def test_debug_log_shows_retry_after_of_throttled_request(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUBVPN_EMULATOR_FAULTS", "throttle=0.5,seed=3")
    monkeypatch.setenv("HUBVPN_DEBUG", "1")
    with connect(Target("emulator", ZERO_GUID, "test"), state_dir) as clients:
        for _ in range(4):
            resource_group(clients)
    err = capsys.readouterr().err.splitlines()
    throttled = [line for line in err if " 429 " in line]
    assert throttled
    assert all(re.search(r"(Retry-After|retry-after-ms)=\d+$", line) for line in throttled)


def test_deploy_with_record_env_keeps_psk_out_of_the_file(state_dir: Path, tmp_path: Path) -> None:
    record = tmp_path / "rec"
    key = "Psk-cli-record-0f1e2d3c"
    result = invoke(
        "deploy",
        "-c",
        REFERENCE,
        "--target",
        "emulator",
        env={"HUBVPN_RECORD": str(record), "HUBVPN_SHARED_KEY": key},
    )
    assert result.exit_code == 0, result.stderr
    text, data = recording(record)
    assert key not in text
    puts = [e for e in data["Entries"] if e["RequestMethod"] == "PUT"]
    connection_puts = [e for e in puts if "/connections/" in e["RequestUri"]]
    assert len(connection_puts) == 2
    assert all(e["RequestBody"]["properties"]["sharedKey"] == SANITIZED for e in connection_puts)
    vm_put = next(e for e in puts if "/virtualMachines/vm-" in e["RequestUri"])
    keys = vm_put["RequestBody"]["properties"]["osProfile"]["linuxConfiguration"]["ssh"]
    assert {k["keyData"] for k in keys["publicKeys"]} == {SANITIZED}


def test_sanitize_text_hides_ids_ssh_keys_and_public_addresses() -> None:
    clean = Sanitizer([SUBSCRIPTION])
    text = (
        f"/subscriptions/{SUBSCRIPTION.upper()}/x peer {REMOTE_IP}, again {REMOTE_IP}, "
        f"other 40.1.2.3, private 10.0.0.4, route 20.1.2.0/24, key {SSH_PUBLIC_KEY}"
    )
    assert clean.text(text) == (
        f"/subscriptions/{ZERO_GUID}/x peer 203.0.113.1, again 203.0.113.1, "
        "other 203.0.113.2, private 10.0.0.4, route 20.1.2.0/24, key Sanitized test"
    )


def test_sanitize_body_hides_shared_key_endpoint_value_and_tenant() -> None:
    body = {"value": SHARED_KEY, "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"}
    assert Sanitizer().body(body, secret_value=True) == {"value": SANITIZED, "tenantId": ZERO_GUID}
    assert Sanitizer().body({"value": "10.0.0.0/16"}) == {"value": "10.0.0.0/16"}
