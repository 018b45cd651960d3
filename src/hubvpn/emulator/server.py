"""``hubvpn emulator serve``: the emulator over plain HTTP on loopback.

Any client can speak ARM to it; the Azure SDK needs ``enforce_https`` off (it
refuses bearer tokens over http) or the in-process transport instead.
"""

from __future__ import annotations

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from hubvpn.emulator.app import EmulatorApp

HOST = "127.0.0.1"  # loopback only: the emulator has no authentication


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """The emulator keeps its own request log (hubvpn emulator requests)."""


def make(app: EmulatorApp, port: int) -> WSGIServer:
    return make_server(HOST, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
