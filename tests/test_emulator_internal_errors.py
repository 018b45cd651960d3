"""A failure inside the emulator is ARM's 500 InternalServerError to the client, as a
real ARM answers it, never a Python exception raised in the client's thread; the
traceback goes to the emulator's log (``logging``), not to the user."""

from __future__ import annotations

import logging

import pytest
from emulator_helpers import GROUP, expect_arm_error, resource_group

from hubvpn.azure import Clients
from hubvpn.emulator.routes import Endpoint


def test_get_group_when_emulator_handler_raises_answers_internal_server_error(
    clients: Clients, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    resource_group(clients)
    app = clients.emulator
    assert app is not None
    handlers = app._handlers
    working = handlers[Endpoint.GROUP]

    def broken(*args: object) -> object:
        raise KeyError("properties")  # what a bug in a handler raises

    monkeypatch.setitem(handlers, Endpoint.GROUP, broken)
    with (
        caplog.at_level(logging.ERROR, logger="hubvpn.emulator"),
        expect_arm_error("InternalServerError", 500),
    ):
        clients.resource.resource_groups.get(GROUP, retry_total=0)
    monkeypatch.setitem(handlers, Endpoint.GROUP, working)

    [logged] = [r for r in caplog.records if r.name == "hubvpn.emulator.app"]
    assert logged.exc_info is not None and logged.exc_info[0] is KeyError
    assert app.store.requests()[-1]["status"] == 500
    assert clients.resource.resource_groups.get(GROUP).name == GROUP  # the world is intact
