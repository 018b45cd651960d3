"""hubvpn's command line: parse, call one core function, render the result.

``base`` holds the Typer applications and the one error boundary; ``options`` the
option types; the commands live by what they do (``lab``: deploy, plan, destroy;
``network``: status, verify, ssh, probe; ``emulator``). They are registered here,
in the order ``--help`` lists them, each inside the boundary.
"""

from __future__ import annotations

from collections.abc import Callable

from hubvpn.cli.base import app, boundary, emulator_app
from hubvpn.cli.emulator import emulator_requests, emulator_reset, emulator_serve
from hubvpn.cli.lab import deploy, destroy, plan
from hubvpn.cli.network import probe, ssh, status, verify

COMMANDS: tuple[Callable[..., None], ...] = (deploy, status, verify, plan, destroy, ssh, probe)
EMULATOR_COMMANDS: tuple[tuple[str, Callable[..., None]], ...] = (
    ("serve", emulator_serve),
    ("requests", emulator_requests),
    ("reset", emulator_reset),
)
for command in COMMANDS:
    app.command()(boundary(command))
for name, emulator_command in EMULATOR_COMMANDS:
    emulator_app.command(name)(boundary(emulator_command))


def main() -> None:
    app()


__all__ = ["app", "main"]
