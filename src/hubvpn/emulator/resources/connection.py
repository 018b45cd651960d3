"""Microsoft.Network/connections: IPsec site-to-site connections and their shared key.

A connection joins a virtual network gateway and a local network gateway of
its region, both Succeeded; neither can be changed afterwards. The shared key
is a secret: kept apart from the body (``Tx.put_secret``), generated when none
is given, readable on GET and through ``.../sharedkey``. Status, tunnels and
BGP come from ``physics``.
"""

from __future__ import annotations

import secrets
import string
from typing import Any, ClassVar

from hubvpn.emulator import errors, physics
from hubvpn.emulator.arm import Body, Kind, ResourceId, View, World, body_copy, expect_type
from hubvpn.emulator.resources.common import props_of, ref_id
from hubvpn.emulator.store import Record, clone
from hubvpn.emulator.types import CONNECTION, GATEWAY, LOCAL_GATEWAY

_PRINTABLE = set(string.printable) - set("\t\n\r\x0b\x0c")


def check_shared_key(key: Any) -> str:
    if (
        not isinstance(key, str)
        or not 1 <= len(key) <= 128
        or not set(key) <= _PRINTABLE
        or key != key.strip()
    ):
        raise errors.InvalidSharedKey()
    return key


class Connection(Kind):
    type = CONNECTION
    create_s = 120.0
    update_s = 60.0
    delete_s = 60.0
    # As recorded (Azure/azure-sdk-assets, net/.../GatewayOperationsTests/
    # VirtualNetworkGatewayConnectionWithBgpTest.json): a GET carries sharedKey,
    # connectionStatus and the byte counters; a LIST carries the byte counters only;
    # the PUT's answer has no connectionStatus yet.
    omit: ClassVar[dict[View, tuple[str, ...]]] = {
        "list": ("sharedKey", "connectionStatus", "tunnelConnectionStatus"),
        "put": ("connectionStatus", "tunnelConnectionStatus"),
    }

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        props = props_of(body, self.type)
        ctype = props.get("connectionType")
        if ctype not in ("IPsec", "Vnet2Vnet", "ExpressRoute", "VPNClient"):
            raise errors.InvalidRequestBody(
                f"connectionType '{ctype}' is invalid.", target="properties.connectionType"
            )
        if ctype != "IPsec":
            raise errors.InvalidRequestBody(
                f"connectionType '{ctype}' is not supported by this emulator (only IPsec)."
            )
        expect_type(props.get("enableBgp"), bool, "properties.enableBgp")
        gateway = w.reference(props.get("virtualNetworkGateway1"), str(rid), kind=GATEWAY)
        lng = w.reference(props.get("localNetworkGateway2"), str(rid), kind=LOCAL_GATEWAY)
        w.succeeded(gateway, str(rid))
        w.succeeded(lng, str(rid))
        location = body.get("location")
        if gateway.get("location") != location or lng.get("location") != location:
            raise errors.ConnectionGatewaysInDifferentRegion(str(rid))
        if old is not None:
            for field, now in (("virtualNetworkGateway1", gateway), ("localNetworkGateway2", lng)):
                before = ref_id(old["body"]["properties"].get(field)) or ""
                if before.lower() != now["id"].lower():
                    raise errors.PropertyChangeNotAllowed(field)
        enable_bgp = bool(props.get("enableBgp", False))
        # Azure accepts enableBgp on a gateway without BGP (no session comes up; recorded:
        # VirtualNetworkGatewayConnectionWithBgpTest, tests/recorded/).
        if enable_bgp and not lng["body"]["properties"].get("bgpSettings"):
            raise errors.InvalidRequestBody(
                f"Connection {rid} has enableBgp but local network gateway {lng['id']} has no "
                "bgpSettings."
            )
        protocol = props.get("connectionProtocol", "IKEv2")
        if protocol not in ("IKEv1", "IKEv2"):
            raise errors.InvalidRequestBody(f"connectionProtocol '{protocol}' is invalid.")
        if "sharedKey" in props and props["sharedKey"] is not None:
            check_shared_key(props["sharedKey"])
        keep = {
            k: v
            for k, v in props.items()
            if k
            not in (
                "sharedKey",
                "provisioningState",
                "resourceGuid",
                "connectionStatus",
                "ingressBytesTransferred",
                "egressBytesTransferred",
                "tunnelConnectionStatus",
            )
        }
        keep.update(
            {
                "connectionType": ctype,
                "connectionProtocol": protocol,
                "enableBgp": enable_bgp,
                "virtualNetworkGateway1": {"id": gateway["id"]},
                "localNetworkGateway2": {"id": lng["id"]},
                "routingWeight": int(props.get("routingWeight", 0)),
                "usePolicyBasedTrafficSelectors": bool(
                    props.get("usePolicyBasedTrafficSelectors", False)
                ),
                "dpdTimeoutSeconds": int(props.get("dpdTimeoutSeconds", 45)),
                "connectionMode": props.get("connectionMode", "Default"),
                "useLocalAzureIpAddress": bool(props.get("useLocalAzureIpAddress", False)),
                "ipsecPolicies": list(props.get("ipsecPolicies") or []),
            }
        )
        keep["_sharedKey"] = props.get("sharedKey")
        return {"properties": keep}

    def after_put(self, w: World, rec: Record, old: Record | None) -> None:
        key = rec["body"]["properties"].pop("_sharedKey")
        if key is None and w.tx.get_secret(rec["id"]) is None:
            key = secrets.token_urlsafe(24)  # Azure generates one when none is given
        if key is not None:
            w.tx.put_secret(rec["id"], key)
        physics.schedule_tunnel(w, rec)

    def render(self, w: World, rec: Record) -> Body:
        out = body_copy(rec)
        props = out["properties"]
        props["resourceGuid"] = rec["guid"]
        for ref in ("virtualNetworkGateway1", "localNetworkGateway2"):
            # The spec types these as full resources; Azure answers the id only (recorded:
            # VirtualNetworkGatewayConnectionWithBgpTest, tests/recorded/).
            props[ref] = {"id": props[ref]["id"]}
        for field, value in CONNECTION_COMPUTED.items():  # as recorded Azure shows them
            props.setdefault(field, clone(value))
        status = physics.connection_status(w, rec)
        props["sharedKey"] = w.tx.get_secret(rec["id"]) or ""
        props["connectionStatus"] = status
        props["ingressBytesTransferred"] = 0
        props["egressBytesTransferred"] = 0
        if status == "Connected":  # absent until a tunnel is up, as recorded
            props["tunnelConnectionStatus"] = [
                {
                    "tunnel": rec["name"],
                    "connectionStatus": "Connected",
                    "ingressBytesTransferred": 0,
                    "egressBytesTransferred": 0,
                }
            ]
        return out


# Fields Azure fills in on every IPsec connection it returns, whatever the PUT sent
# (recording: .NET VirtualNetworkGatewayConnectionWithBgpTest, tests/recorded/).
CONNECTION_COMPUTED: dict[str, Any] = {
    "packetCaptureDiagnosticState": "None",
    "trafficSelectorPolicies": [],
    "expressRouteGatewayBypass": False,
    "enablePrivateLinkFastPath": False,
    "gatewayCustomBgpIpAddresses": [],
}


SET_SHARED_KEY_S = 60.0  # Azure seconds a key change takes (the connection shows Updating)


def shared_key(w: World, rec: Record) -> Body:
    """GET .../connections/{c}/sharedkey."""
    key = w.tx.get_secret(rec["id"]) or ""
    return {"id": f"{rec['id']}/sharedkey", "value": key}


def set_shared_key(w: World, rec: Record, body: Body) -> Body:
    """PUT .../connections/{c}/sharedkey (long-running: ``SET_SHARED_KEY_S``)."""
    key = check_shared_key(body.get("value"))
    w.tx.put_secret(rec["id"], key)
    return {"id": f"{rec['id']}/sharedkey", "value": key}
