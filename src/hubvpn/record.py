"""What hubvpn says to ARM, written down: a recording and a debug log, both sanitised.

Two azure-core pipeline policies, placed after the retry policy so that every attempt
is seen (a throttled request and its retry are two entries):

- ``Recorder`` keeps each exchange and ``save``s them in the Azure SDK test-proxy
  format (``{"Entries": [{"RequestUri", "RequestMethod", "RequestHeaders",
  "RequestBody", "StatusCode", "ResponseHeaders", "ResponseBody"}], "Variables": {}}``),
  the format of the public recordings in Azure/azure-sdk-assets. ``HUBVPN_RECORD=DIR``
  turns it on for any command.
- ``DebugLog`` writes one line per request (method, path, status, x-ms-request-id,
  Retry-After). ``HUBVPN_DEBUG=1`` turns it on.

``Sanitizer`` is their one idea of a secret: subscription and tenant ids become the
zero GUID; Authorization, shared keys (a connection's ``sharedKey``, the ``sharedkey``
endpoint's ``value``), SSH public keys and passwords become ``Sanitized``; every public
IPv4 address becomes a documentation address (203.0.113.N, the same N for the same
address within one recording). Only azure.py builds these (they import azure-core).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import SansIOHTTPPolicy

RECORD_ENV = "HUBVPN_RECORD"
DEBUG_ENV = "HUBVPN_DEBUG"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"
SANITIZED = "Sanitized"
# Body keys whose values are secrets wherever they appear.
SECRET_KEYS = frozenset(
    {"sharedkey", "keydata", "adminpassword", "customdata", "accesstoken", "refreshtoken"}
)
GUID_KEYS = frozenset({"tenantid", "subscriptionid", "homeTenantId".lower()})
SECRET_HEADERS = frozenset(
    {"authorization", "set-cookie", "cookie", "x-ms-authorization-auxiliary"}
)
# An address, not a prefix: "20.1.2.0/24" names a network (Azure's own routes), not a host.
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d./])")
_SSH_KEY = re.compile(r"(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-[\w-]+|sk-[\w@.-]+) [A-Za-z0-9+/=]+")
_SUBSCRIPTION_IN_PATH = re.compile(r"(?i)(/subscriptions/)[0-9a-f-]{36}")
_PUBLIC_PLACEHOLDER = "203.0.113.{}"  # TEST-NET-3 (RFC 5737): never a real host


class Sanitizer:
    """Replaces what must not leave the machine; consistent within one instance."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._ids = [i for i in ids if i and i != ZERO_GUID]
        self._public: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_id(self, value: str) -> None:
        """Another subscription or tenant id to hide (learnt after the start)."""
        if value and value != ZERO_GUID and value not in self._ids:
            self._ids.append(value)

    def text(self, value: str) -> str:
        for known in self._ids:
            value = re.sub(re.escape(known), ZERO_GUID, value, flags=re.IGNORECASE)
        value = _SUBSCRIPTION_IN_PATH.sub(rf"\g<1>{ZERO_GUID}", value)
        value = _SSH_KEY.sub(SANITIZED, value)
        return _IPV4.sub(self._address, value)

    def body(self, value: Any, *, secret_value: bool = False) -> Any:
        """A JSON body, sanitised; ``secret_value``: the ``value`` key is a secret too."""
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, item in value.items():
                low = key.lower()
                if low in SECRET_KEYS or (secret_value and low == "value"):
                    out[key] = SANITIZED if item is not None else None
                elif low in GUID_KEYS and isinstance(item, str):
                    out[key] = ZERO_GUID
                else:
                    out[key] = self.body(item, secret_value=secret_value)
            return out
        if isinstance(value, list):
            return [self.body(item, secret_value=secret_value) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def headers(self, headers: Any) -> dict[str, str]:
        return {
            str(k): SANITIZED if str(k).lower() in SECRET_HEADERS else self.text(str(v))
            for k, v in headers.items()
        }

    def _address(self, match: re.Match[str]) -> str:
        text = match.group(0)
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:
            return text
        if not address.is_global:
            return text
        with self._lock:
            if text not in self._public:
                self._public[text] = _PUBLIC_PLACEHOLDER.format(len(self._public) + 1)
            return self._public[text]


def _is_shared_key_call(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").lower().endswith("/sharedkey")


def _json_or_text(raw: bytes | str | None) -> Any:
    if raw is None or raw in (b"", ""):
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


class Recorder(SansIOHTTPPolicy):  # type: ignore[misc]  # azure-core is untyped here
    """Keeps every exchange, sanitised at once (a secret never sits in memory twice)."""

    _files = count(1)

    def __init__(self, directory: Path, sanitizer: Sanitizer) -> None:
        super().__init__()
        self.directory = directory
        self.sanitizer = sanitizer
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def on_response(self, request: PipelineRequest, response: PipelineResponse) -> None:
        http_request, http_response = request.http_request, response.http_response
        secret_value = _is_shared_key_call(http_request.url)
        clean = self.sanitizer
        request_headers = clean.headers(http_request.headers)
        request_headers["Authorization"] = SANITIZED  # added after this policy, always sent
        entry = {
            "RequestUri": clean.text(http_request.url),
            "RequestMethod": http_request.method,
            "RequestHeaders": request_headers,
            "RequestBody": clean.body(_json_or_text(http_request.body), secret_value=secret_value),
            "StatusCode": http_response.status_code,
            "ResponseHeaders": clean.headers(http_response.headers),
            "ResponseBody": clean.body(
                _json_or_text(http_response.body()), secret_value=secret_value
            ),
        }
        with self._lock:
            self.entries.append(entry)

    def save(self) -> Path | None:
        """Write the recording (none if nothing was sent); returns its path."""
        with self._lock:
            entries = list(self.entries)
        if not entries:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = self.directory / f"hubvpn-{stamp}-{os.getpid()}-{next(self._files)}.json"
        payload = {"Entries": entries, "Variables": {}}
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        return path


def _write_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class DebugLog(SansIOHTTPPolicy):  # type: ignore[misc]  # azure-core is untyped here
    """One line per request: ``debug: GET /subscriptions/…/x 200 x-ms-request-id=…``."""

    def __init__(self, sanitizer: Sanitizer, sink: Callable[[str], None] = _write_stderr) -> None:
        super().__init__()
        self.sanitizer = sanitizer
        self.sink = sink

    def on_response(self, request: PipelineRequest, response: PipelineResponse) -> None:
        self.sink(debug_line(self.sanitizer, request, response))


def debug_line(sanitizer: Sanitizer, request: PipelineRequest, response: PipelineResponse) -> str:
    # The path only: a query string may carry a token (a SAS), the path never does.
    path = sanitizer.text(urlsplit(request.http_request.url).path)
    headers = response.http_response.headers
    parts = [
        "debug:",
        request.http_request.method,
        path,
        str(response.http_response.status_code),
        f"x-ms-request-id={headers.get('x-ms-request-id', '-')}",
    ]
    for name in ("Retry-After", "retry-after-ms"):
        if headers.get(name):
            parts.append(f"{name}={headers[name]}")
    return " ".join(parts)


_WRITES = frozenset({"PUT", "PATCH", "POST", "DELETE"})


class WriteLog(SansIOHTTPPolicy):  # type: ignore[misc]  # azure-core is untyped here
    """``--verbose``: one line per ARM write, once its retries are done:
    ``verbose: PUT vnet-hub00 201`` (the resource's name, never its body)."""

    def __init__(self, sink: Callable[[str], None] = _write_stderr) -> None:
        super().__init__()
        self.sink = sink

    def on_response(self, request: PipelineRequest, response: PipelineResponse) -> None:
        method = request.http_request.method
        if method in _WRITES:
            name = resource_name(urlsplit(request.http_request.url).path)
            self.sink(f"verbose: {method} {name} {response.http_response.status_code}")


def resource_name(path: str) -> str:
    """``…/virtualNetworks/vnet-hub00/virtualNetworkPeerings/hub00-to-spoke10`` ->
    ``vnet-hub00/hub00-to-spoke10``; an action keeps its name (``vm-x/runCommand``)."""
    parts = [p for p in path.split("/") if p]
    low = [p.lower() for p in parts]
    if "providers" in low:
        rest = parts[low.index("providers") + 2 :]  # after the namespace
        names = rest[1::2]
        if len(rest) % 2:  # types and names alternate; an odd tail is an action
            names.append(rest[-1])
        return "/".join(names) or path
    if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts):
        return parts[low.index("resourcegroups") + 1]
    return path


def enabled(env: str) -> bool:
    return os.environ.get(env, "").strip().lower() not in ("", "0", "false", "no")
