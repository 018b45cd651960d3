"""In-process transport: a ``requests`` adapter that calls the emulator's WSGI app.

The real SDK clients keep their https URL (they refuse bearer tokens over
http) and send through a session with this adapter mounted; no socket is
opened::

    session = EmulatorSession()
    session.mount("https://", WsgiAdapter(app))

``EmulatorSession`` hands each request straight to the adapter: a plain
``requests.Session`` merges cookies, auth, proxies and environment settings and
resolves redirects for every request, a third of an in-process request's CPU,
none of which the emulator needs (no cookies, no redirects, no socket).
"""

from __future__ import annotations

import io
import sys
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.hooks import default_hooks, dispatch_hook
from requests.structures import CaseInsensitiveDict

from hubvpn.emulator.app import EmulatorApp


class WsgiAdapter(BaseAdapter):
    def __init__(self, app: EmulatorApp) -> None:
        super().__init__()
        self.app = app

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes):
            body = b"".join(
                part if isinstance(part, bytes) else str(part).encode()
                for part in body  # type: ignore[union-attr]
            )
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method or "GET",
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "SERVER_NAME": url.hostname or "localhost",
            "SERVER_PORT": str(url.port or 443),
            "HTTP_HOST": url.netloc,
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": url.scheme or "https",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["reason"] = status.split(" ", 1)[1] if " " in status else ""
            captured["headers"] = headers

        payload = b"".join(self.app(environ, start_response))
        response = requests.Response()
        response.status_code = captured["status"]
        response.reason = captured["reason"]
        response.headers = CaseInsensitiveDict(dict(captured["headers"]))
        response._content = payload
        response.raw = io.BytesIO(payload)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        """Nothing to release: no sockets."""


class EmulatorSession(requests.Session):
    """A session that sends a request as given to its adapter, then its response hooks.

    What azure-core sends (a method, an encoded URL, headers, a str or bytes body) takes
    the short way; anything else (params, files, cookies, auth, form data) goes the
    usual way through ``requests.Session``.
    """

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        data = kwargs.get("data")
        plain = (
            not args
            and isinstance(method, str)
            and isinstance(url, str)
            and (data is None or isinstance(data, (str, bytes)))
            and not any(kwargs.get(k) for k in ("params", "files", "cookies", "auth", "json"))
        )
        if not plain:
            return super().request(method, url, *args, **kwargs)
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        prepared.url = url
        prepared.headers = CaseInsensitiveDict(kwargs.get("headers") or {})
        prepared.body = data.encode() if isinstance(data, str) else data
        prepared.hooks = default_hooks()
        response = self.get_adapter(url).send(
            prepared,
            stream=bool(kwargs.get("stream")),
            timeout=kwargs.get("timeout"),
            verify=kwargs.get("verify", True),
            cert=kwargs.get("cert"),
            proxies=kwargs.get("proxies"),
        )
        hooked: requests.Response = dispatch_hook("response", self.hooks, response)
        return hooked
