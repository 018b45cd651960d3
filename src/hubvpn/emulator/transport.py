"""In-process transport: an azure-core ``HttpTransport`` that calls the emulator's WSGI app.

The real SDK clients keep their https URL (they refuse bearer tokens over http) and
their whole pipeline (retry, bearer token, recorder and debug policies); only the last
step differs: instead of a socket, ``EmulatorTransport.send`` turns azure-core's
``HttpRequest`` into a WSGI environ, calls the app and wraps its answer in an
``azure.core.rest.HttpResponse``::

    transport = EmulatorTransport(open_app(state))
    NetworkManagementClient(credential, subscription, transport=transport, base_url=...)

No ``requests`` objects are built on the way (a requests ``Session``,
``PreparedRequest`` and ``Response`` per request cost more CPU than the emulator's own
answer to a GET). ``observers`` see every request and its response as they leave
the transport, each attempt of a retried request included.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.core.rest._http_response_impl import HttpResponseImpl
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


class EmulatorResponse(HttpResponseImpl):  # type: ignore[misc]  # untyped base internals
    """An answer of the app as an ``azure.core.rest.HttpResponse``: case-insensitive
    headers, ``read``/``iter_bytes``/``iter_raw`` over the body in blocks (for
    ``stream=True`` calls), ``text``/``json``, ``body()`` for legacy policies."""

    def __init__(self, request: HttpRequest, answer: Answer, block_size: int) -> None:
        headers = case_insensitive_dict(answer.headers)
        stream = io.BytesIO(answer.payload)

        def blocks(**kwargs: Any) -> Iterator[bytes]:
            while chunk := stream.read(block_size):
                yield chunk

        content_type = headers.get("Content-Type")
        super().__init__(
            request=request,
            internal_response=stream,
            block_size=block_size,
            status_code=answer.status,
            reason=answer.reason,
            content_type=content_type,
            headers=headers,
            stream_download_generator=blocks,
        )
        # What azure-core would find with an email parser, found without one.
        self._encoding = _charset(content_type)


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
        response = EmulatorResponse(request, answer, self.block_size)
        if not kwargs.get("stream"):
            response.read()  # what RequestsTransport does for a rest request: read, close
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
