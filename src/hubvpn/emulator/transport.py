"""In-process transport: an azure-core ``HttpTransport`` that calls the emulator's WSGI app.

The real SDK clients keep their https URL (they refuse bearer tokens over http) and
their whole pipeline (retry, bearer token, recorder and debug policies); only the last
step differs: instead of a socket, ``EmulatorTransport.send`` turns azure-core's
``HttpRequest`` into a WSGI environ, calls the app and wraps its answer in an
``azure.core.rest.HttpResponse``::

    transport = EmulatorTransport(open_app(state))
    NetworkManagementClient(credential, subscription, transport=transport, base_url=...)

No ``requests`` objects are built on the way: a requests session, ``PreparedRequest``
and ``Response`` and azure-core's wrapping of them cost 0.15-0.25 ms of CPU per
request in a profile, as much as the emulator's own answer to a small GET; this
transport adds about 0.04 ms. ``observers`` see every request and its response as
they leave the transport, each attempt of a retried request included.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import (
    HttpResponseError,
    ResponseNotReadError,
    StreamClosedError,
    StreamConsumedError,
)
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.core.utils import case_insensitive_dict

from hubvpn.emulator.app import EmulatorApp

BLOCK_SIZE = 4096  # azure-core's default data_block_size: chunks of a streamed body
Observer = Callable[[HttpRequest, HttpResponse], None]


@dataclass(frozen=True)
class Answer:
    """What the WSGI app answered: status line, headers in order, the whole body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    payload: bytes


def call_app(
    app: EmulatorApp, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> Answer:
    """One request through the app, as a WSGI server would hand it over."""
    parts = urlsplit(url)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": parts.hostname or "localhost",
        "SERVER_PORT": str(parts.port or 443),
        "HTTP_HOST": parts.netloc,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": parts.scheme or "https",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
            environ[key] = str(value)
        else:
            environ["HTTP_" + key] = str(value)
    environ["CONTENT_LENGTH"] = str(len(body))  # the body as sent, whatever a header says
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        started.append((status, response_headers))

    payload = b"".join(app(environ, start_response))
    status, response_headers = started[-1]
    code, _, reason = status.partition(" ")
    return Answer(int(code), reason, response_headers, payload)


def request_body(content: Any) -> bytes:
    """The bytes of an ``azure.core.rest.HttpRequest``'s content (str, bytes, a file,
    an iterable of chunks, or none)."""
    if content is None:
        return b""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    if isinstance(content, Mapping):  # form data or files: never sent to ARM
        raise TypeError("cannot send form data or files to the emulator")
    if hasattr(content, "read"):
        data = content.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(content, Iterable):
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in content)
    raise TypeError(f"cannot send a request body of type {type(content).__name__}")


def _charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type (``application/json; charset=utf-8``)."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset" and value:
            return value.strip().strip('"').lower()
    return None


class EmulatorResponse(HttpResponse):  # type: ignore[misc]  # azure-core is untyped here
    """An answer of the app as an ``azure.core.rest.HttpResponse`` (the public abstract
    class, implemented here without the socket bookkeeping of azure-core's own):
    case-insensitive headers; ``read``/``iter_bytes``/``iter_raw`` over the body in
    blocks for ``stream=True`` calls (each stream once, as on a socket); ``text`` and
    ``json``; ``body()``, the legacy name of the read content, for policies that use it.
    """

    def __init__(
        self, request: HttpRequest, answer: Answer, block_size: int, *, stream: bool
    ) -> None:
        self._request = request
        self._status_code = answer.status
        self._reason = answer.reason
        self._headers: MutableMapping[str, str] = case_insensitive_dict(answer.headers)
        self._content_type: str | None = self._headers.get("Content-Type")
        self._payload = answer.payload
        self._block_size = block_size
        # Not streamed: read and closed at once, as azure-core's transports do.
        self._content: bytes | None = None if stream else answer.payload
        self._is_closed = not stream
        self._is_stream_consumed = not stream
        self._encoding: str | None = _charset(self._content_type)
        self._text: str | None = None
        self._json: Any = None

    @property
    def request(self) -> HttpRequest:
        return self._request

    @property
    def url(self) -> str:
        return str(self._request.url)

    @property
    def status_code(self) -> int:
        return self._status_code

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def headers(self) -> MutableMapping[str, str]:
        return self._headers

    @property
    def content_type(self) -> str | None:
        return self._content_type

    @property
    def is_closed(self) -> bool:
        return self._is_closed

    @property
    def is_stream_consumed(self) -> bool:
        return self._is_stream_consumed

    @property
    def encoding(self) -> str | None:
        return self._encoding

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        self._encoding = value
        self._text = None
        self._json = None

    @property
    def content(self) -> bytes:
        if self._content is None:
            raise ResponseNotReadError(self)
        return self._content

    def text(self, encoding: str | None = None) -> str:
        if encoding is None and self._text is not None:
            return self._text
        content = self.content
        chosen = encoding or self._encoding
        if chosen is None:  # undeclared: UTF-8 as azure-core guesses it, never failing
            text = content.decode("utf-8-sig", errors="replace")
        else:  # declared: that encoding, a BOM not being text
            text = content.decode("utf-8-sig" if chosen.lower() == "utf-8" else chosen)
        if encoding is None:
            self._text = text
        return text

    def json(self) -> Any:
        if self._json is None:
            self._json = json.loads(self.text())
        return self._json

    def raise_for_status(self) -> None:
        if self._status_code >= 400:
            raise HttpResponseError(response=self)

    def read(self) -> bytes:
        if self._content is None:
            self._content = b"".join(self._stream())
        self._is_stream_consumed = True
        self.close()
        return self._content

    def body(self) -> bytes:
        """The content, read if need be (the name legacy policies call)."""
        return self.read()

    def iter_bytes(self, **kwargs: Any) -> Iterator[bytes]:
        if self._content is not None:
            content = self._content
            for start in range(0, len(content), self._block_size):
                yield content[start : start + self._block_size]
            self.close()
        else:
            yield from self._stream()

    def iter_raw(self, **kwargs: Any) -> Iterator[bytes]:
        """The body as sent: the emulator never compresses, so as ``iter_bytes``."""
        yield from self._stream()

    def _stream(self) -> Iterator[bytes]:
        if self._is_stream_consumed:
            raise StreamConsumedError(self)
        if self._is_closed:
            raise StreamClosedError(self)
        self._is_stream_consumed = True
        payload, size = self._payload, self._block_size
        for start in range(0, len(payload), size):
            yield payload[start : start + size]
        self.close()

    def close(self) -> None:
        self._is_closed = True

    def __enter__(self) -> EmulatorResponse:
        return self

    def __exit__(self, *exc_details: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = f", Content-Type: {self._content_type}" if self._content_type else ""
        return f"<HttpResponse: {self._status_code} {self._reason}{kind}>"


class EmulatorTransport(HttpTransport):  # type: ignore[misc]  # azure-core is untyped here
    """Sends ``azure.core.rest`` requests to an ``EmulatorApp`` in this process."""

    def __init__(self, app: EmulatorApp, *, block_size: int = BLOCK_SIZE) -> None:
        self.app = app
        self.block_size = block_size
        self.observers: list[Observer] = []

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not isinstance(request, HttpRequest):
            raise TypeError(
                f"EmulatorTransport sends azure.core.rest.HttpRequest, not {type(request).__name__}"
            )
        answer = call_app(
            self.app, request.method, request.url, request.headers, request_body(request.content)
        )
        response = EmulatorResponse(
            request, answer, self.block_size, stream=bool(kwargs.get("stream"))
        )
        for observer in self.observers:
            observer(request, response)
        return response

    def open(self) -> None:
        """Nothing to open: no sockets."""

    def close(self) -> None:
        """Nothing to release: no sockets."""

    def __enter__(self) -> EmulatorTransport:
        return self

    def __exit__(self, *exc_details: Any) -> None:  # azure-core passes none
        self.close()
