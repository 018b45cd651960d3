"""In-process transport: a ``requests`` adapter that calls the emulator's WSGI app.

The real SDK clients keep their https URL (they refuse bearer tokens over
http) and send through a session with this adapter mounted; no socket is
opened::

    session = requests.Session()
    session.mount("https://", WsgiAdapter(app))
"""

from __future__ import annotations

import io
import sys
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
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
