"""Raw ARM over HTTP for the contract suite: a client of one served emulator, and builders.

Nothing here knows the emulator's internals: every call is an HTTP request to
``hubvpn emulator serve`` (see ``conftest.py``), every answer is checked as a
client of Azure would see it. Long-running operations are followed the way ARM
documents them (Azure-AsyncOperation, then Location), with a bounded number of
polls and the server's own retry hint as the pause: no wall-clock assertion.

    g = Group(arm, "rg-ct-1234")          # a resource group (created by the rg fixture)
    vnet = create_vnet(g, "hub", "10.1.0.0/16", {"GatewaySubnet": "10.1.255.0/27"})
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

API = "2026-03-01"  # what azure-mgmt-network 33 sends (azure-facts.md)
COMPUTE_API = "2026-04-01"
RESOURCES_API = "2025-04-01"
SUBSCRIPTION = "0c0de000-c0de-4c0d-8c0d-00000000c0de"
LOCATION = "westeurope"
NETWORK = "Microsoft.Network"
MAX_POLLS = 2000  # a bound on every wait, never reached when the emulator is right
MAX_PAUSE_S = 0.2
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContractSuiteKeyNotARealKey00000000000 contract"

Body = dict[str, Any]


class Arm:
    """One served emulator, spoken to with plain ``requests``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        api_version: str | None = API,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        data: bytes | str | None = None,
    ) -> requests.Response:
        """``path`` is an ARM path (/subscriptions/...) or an absolute URL the server gave."""
        url = path if path.startswith("http") else self.base_url + path
        params: dict[str, str] = {}
        if api_version is not None and "api-version=" not in url:
            params["api-version"] = api_version
        params.update(query or {})
        if body is not None:
            data = None
        return self.http.request(
            method,
            url,
            params=params,
            json=body,
            data=data,
            headers=headers,
            timeout=30,
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("PUT", path, body, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)

    def head(self, path: str, **kw: Any) -> requests.Response:
        return self.call("HEAD", path, **kw)

    # ------------------------------------------------------- LRO protocol
    def wait_async(self, response: requests.Response) -> Body:
        """Poll Azure-AsyncOperation until a terminal status; return the last status body."""
        url = response.headers["Azure-AsyncOperation"]
        for _ in range(MAX_POLLS):
            status = self.get(url)
            assert status.status_code == 200, status.text  # RPC: the status read is always 200
            body: Body = status.json()
            if body["status"] not in ("InProgress", "Accepted", "Running", "Updating"):
                return body
            pause(status)
        raise AssertionError(f"operation {url} still running after {MAX_POLLS} polls")

    def wait_location(self, response: requests.Response) -> requests.Response:
        """Poll Location while it answers 202; return the first other answer."""
        url = response.headers["Location"]
        for _ in range(MAX_POLLS):
            result = self.get(url)
            if result.status_code != 202:
                return result
            assert result.content == b"", "RPC: 202 from a Location URL has no body"
            pause(result)
        raise AssertionError(f"operation {url} still running after {MAX_POLLS} polls")

    def wait_state(self, path: str, state: str = "Succeeded", **kw: Any) -> Body:
        """GET until properties.provisioningState is ``state`` (bounded)."""
        for _ in range(MAX_POLLS):
            got = self.get(path, **kw)
            assert got.status_code == 200, got.text
            body: Body = got.json()
            if body["properties"]["provisioningState"] == state:
                return body
            time.sleep(0.01)
        raise AssertionError(f"{path} never reached {state}")

    def create(self, path: str, body: Body, **kw: Any) -> Body:
        """PUT, follow the operation to Succeeded, return the resource as GET answers it."""
        put = self.put(path, body, **kw)
        assert put.status_code in (200, 201), put.text
        return self.finish(put, path, **kw)

    def finish(self, put: requests.Response, path: str, **kw: Any) -> Body:
        """Follow a PUT's operation to Succeeded; return the resource as GET answers it."""
        if "Azure-AsyncOperation" in put.headers:
            status = self.wait_async(put)
            assert status["status"] == "Succeeded", status
        return self.wait_state(path, **kw)

    def remove(self, path: str, **kw: Any) -> None:
        """DELETE and follow Location to the end."""
        response = self.delete(path, **kw)
        assert response.status_code in (200, 202, 204), response.text
        if response.status_code == 202:
            final = self.wait_location(response)
            assert final.status_code in (200, 204), final.text

    def action(self, path: str, body: Any = None, **kw: Any) -> Body:
        """POST an action, follow Location, return the 200 result body."""
        response = self.post(path, body, **kw)
        assert response.status_code == 202, response.text
        final = self.wait_location(response)
        assert final.status_code == 200, final.text
        result: Body = final.json()
        return result


def pages(arm: Arm, path: str, query: dict[str, str] | None = None, **kw: Any) -> list[list[Body]]:
    """Every page of a list: GET, then each nextLink until there is none (RPC paging)."""
    out: list[list[Body]] = []
    response = arm.get(path, query=query, **kw)
    for _ in range(MAX_POLLS):
        assert response.status_code == 200, response.text
        body = response.json()
        out.append(body["value"])
        link = body.get("nextLink")
        if link is None:
            return out
        assert link and is_absolute(link), link  # RPC: never an empty string
        assert "api-version=" in urlsplit(link).query, link  # the SDK GETs it as is
        response = arm.get(link)
    raise AssertionError("nextLink never ended")


def pause(response: requests.Response) -> None:
    """Wait as the server asks (Retry-After / retry-after-ms), capped: a poll loop, not a timer."""
    hint = response.headers.get("retry-after-ms")
    seconds = int(hint) / 1000.0 if hint else float(response.headers.get("Retry-After", "0"))
    time.sleep(min(max(seconds, 0.001), MAX_PAUSE_S))


def error_of(response: requests.Response) -> Body:
    """The ARM error envelope's inner object; asserts the envelope's shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    error: Body = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], body
    assert isinstance(error.get("message"), str) and error["message"], body
    return error


def assert_error(response: requests.Response, status: int, code: str) -> Body:
    assert response.status_code == status, (response.status_code, response.text)
    error = error_of(response)
    assert error["code"] == code, error
    return error


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# --------------------------------------------------------------- groups


@dataclass
class Group:
    arm: Arm
    name: str
    subscription: str = SUBSCRIPTION

    @property
    def path(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.name}"

    def id(self, type_: str, *names: str) -> str:
        """ARM id: id("Microsoft.Network/virtualNetworks/subnets", "vnet", "default").

        With one name fewer than types, the collection: id("Microsoft.Network/routeTables")."""
        namespace, *types = type_.split("/")
        segments = [s for pair in zip(types, names, strict=False) for s in pair]
        segments += types[len(names) :]
        assert len(types) - len(names) in (0, 1), (type_, names)
        return f"{self.path}/providers/{namespace}/{'/'.join(segments)}"

    def net(self, type_: str, *names: str) -> str:
        return self.id(f"{NETWORK}/{type_}", *names)


def create_group(arm: Arm, name: str, location: str = LOCATION) -> Group:
    response = arm.put(
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{name}",
        {"location": location},
        api_version=RESOURCES_API,
    )
    assert response.status_code in (200, 201), response.text
    return Group(arm, name)


# ------------------------------------------------------------- builders


def create_vnet(
    g: Group, name: str, prefix: str, subnets: dict[str, str], location: str = LOCATION
) -> Body:
    body = {
        "location": location,
        "properties": {
            "addressSpace": {"addressPrefixes": [prefix]},
            "subnets": [
                {"name": name, "properties": {"addressPrefix": p}} for name, p in subnets.items()
            ],
        },
    }
    return g.arm.create(g.net("virtualNetworks", name), body)


def create_public_ip(g: Group, name: str, location: str = LOCATION) -> Body:
    body = {
        "location": location,
        "sku": {"name": "Standard", "tier": "Regional"},
        "zones": ["1", "2", "3"],
        "properties": {"publicIPAllocationMethod": "Static"},
    }
    return g.arm.create(g.net("publicIPAddresses", name), body)


def gateway_body(g: Group, vnet: str, pip: str, asn: int, location: str = LOCATION) -> Body:
    """An active-standby VpnGw1AZ gateway with BGP (what hubvpn deploys)."""
    return {
        "location": location,
        "properties": {
            "gatewayType": "Vpn",
            "vpnType": "RouteBased",
            "sku": {"name": "VpnGw1AZ", "tier": "VpnGw1AZ"},
            "enableBgp": True,
            "activeActive": False,
            "vpnGatewayGeneration": "Generation1",  # VpnGw1AZ exists only in Generation1
            "bgpSettings": {"asn": asn},
            "ipConfigurations": [
                {
                    "name": "default",
                    "properties": {
                        "privateIPAllocationMethod": "Dynamic",
                        "subnet": {"id": g.net("virtualNetworks/subnets", vnet, "GatewaySubnet")},
                        "publicIPAddress": {"id": g.net("publicIPAddresses", pip)},
                    },
                }
            ],
        },
    }


def create_hub(g: Group, name: str, octet: int, asn: int, location: str = LOCATION) -> Body:
    """VNet 10.N.0.0/16 with default + GatewaySubnet, a zone-redundant IP, a BGP gateway."""
    create_vnet(
        g,
        name,
        f"10.{octet}.0.0/16",
        {"default": f"10.{octet}.0.0/24", "GatewaySubnet": f"10.{octet}.255.0/27"},
        location,
    )
    create_public_ip(g, f"{name}-ip", location)
    return g.arm.create(
        g.net("virtualNetworkGateways", f"{name}-gw"),
        gateway_body(g, name, f"{name}-ip", asn, location),
    )


def lng_body(gateway: Body, location: str = LOCATION) -> Body:
    """A local network gateway standing for ``gateway`` (its public IP, ASN, BGP address)."""
    bgp = gateway["properties"]["bgpSettings"]
    return {
        "location": location,
        "properties": {
            "gatewayIpAddress": bgp["bgpPeeringAddresses"][0]["tunnelIpAddresses"][0],
            "localNetworkAddressSpace": {"addressPrefixes": []},
            "bgpSettings": {"asn": bgp["asn"], "bgpPeeringAddress": bgp["bgpPeeringAddress"]},
        },
    }


def connection_body(g: Group, gateway: str, lng: str, key: str, location: str = LOCATION) -> Body:
    return {
        "location": location,
        "properties": {
            "connectionType": "IPsec",
            "connectionProtocol": "IKEv2",
            "enableBgp": True,
            "sharedKey": key,
            "virtualNetworkGateway1": {"id": g.net("virtualNetworkGateways", gateway)},
            "localNetworkGateway2": {"id": g.net("localNetworkGateways", lng)},
        },
    }


def nic_body(g: Group, vnet: str, subnet: str, location: str = LOCATION) -> Body:
    return {
        "location": location,
        "properties": {
            "ipConfigurations": [
                {
                    "name": "ipconfig1",
                    "properties": {
                        "subnet": {"id": g.net("virtualNetworks/subnets", vnet, subnet)},
                        "privateIPAllocationMethod": "Dynamic",
                    },
                }
            ]
        },
    }


def vm_body(g: Group, name: str, nic: str, location: str = LOCATION) -> Body:
    return {
        "location": location,
        "properties": {
            "hardwareProfile": {"vmSize": "Standard_B1s"},
            "storageProfile": {
                "imageReference": {
                    "publisher": "Canonical",
                    "offer": "ubuntu-24_04-lts",
                    "sku": "server",
                    "version": "latest",
                }
            },
            "osProfile": {
                "computerName": name,
                "adminUsername": "azureuser",
                "linuxConfiguration": {
                    "disablePasswordAuthentication": True,
                    "ssh": {
                        "publicKeys": [
                            {"path": "/home/azureuser/.ssh/authorized_keys", "keyData": SSH_KEY}
                        ]
                    },
                },
            },
            "networkProfile": {"networkInterfaces": [{"id": g.net("networkInterfaces", nic)}]},
        },
    }


WATCHER_AGENT = {
    "properties": {
        "publisher": "Microsoft.Azure.NetworkWatcher",
        "type": "NetworkWatcherAgentLinux",
        "typeHandlerVersion": "1.4",
        "autoUpgradeMinorVersion": True,
    }
}


def create_vm(g: Group, name: str, vnet: str, subnet: str, location: str = LOCATION) -> Body:
    """A NIC in ``vnet/subnet`` and a Linux VM on it (named ``{name}-nic`` and ``name``)."""
    g.arm.create(g.net("networkInterfaces", f"{name}-nic"), nic_body(g, vnet, subnet, location))
    return g.arm.create(
        g.id("Microsoft.Compute/virtualMachines", name),
        vm_body(g, name, f"{name}-nic", location),
        api_version=COMPUTE_API,
    )


def connect_hubs(
    g: Group, key: str = "contract-psk-1", *, second: Arm | None = None
) -> requests.Response:
    """Two BGP hubs (hub1 10.1/16 AS 65010, hub2 10.2/16 AS 65020) with a local network
    gateway and a connection each way. ``second`` sends the hub1 -> hub2 connection (a slow
    server, to watch it); returns the answer to that PUT."""
    gw1 = create_hub(g, "hub1", 1, 65010)
    gw2 = create_hub(g, "hub2", 2, 65020)
    g.arm.create(g.net("localNetworkGateways", "lng-hub2"), lng_body(gw2))
    g.arm.create(g.net("localNetworkGateways", "lng-hub1"), lng_body(gw1))
    g.arm.create(
        g.net("connections", "hub2-to-hub1"), connection_body(g, "hub2-gw", "lng-hub1", key)
    )
    sender = second or g.arm
    response = sender.put(
        g.net("connections", "hub1-to-hub2"), connection_body(g, "hub1-gw", "lng-hub2", key)
    )
    assert response.status_code == 201, response.text
    if second is None:
        assert g.arm.wait_async(response)["status"] == "Succeeded"
    return response
