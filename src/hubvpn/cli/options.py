"""The command line's vocabulary: option types shared by the commands, the parsers
that word bad values for users, and the global --verbose/--debug switches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class TargetChoice(StrEnum):
    auto = "auto"
    azure = "azure"
    emulator = "emulator"


class Output(StrEnum):
    table = "table"
    json = "json"


def choice(kind: type[StrEnum]) -> Callable[[str], StrEnum]:
    """A parser with click's wording for a bad value (Typer's own says "Value error, ...")."""

    def parse(value: str) -> StrEnum:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(f"'{k.value}'" for k in kind)
            raise typer.BadParameter(f"'{value}' is not one of {allowed}.") from None

    return parse


def whole(what: str, low: int, high: int) -> Callable[[str], int]:
    """A parser of a whole number in [low, high], worded for users (not "Input should
    be ...")."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise typer.BadParameter(f"'{value}' is not {what}.")
        return number

    return parse


port_number = whole("a TCP port (1-65535)", 1, 65535)

HTTP_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD", "OPTIONS")


def http_method(value: str) -> str:
    """An HTTP method, any case; a typo is bad input, not an empty answer."""
    if value.upper() not in HTTP_METHODS:
        raise typer.BadParameter(f"'{value}' is not an HTTP method ({', '.join(HTTP_METHODS)}).")
    return value.upper()


ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Topology file (TOML).", show_default=True)
]
TargetOpt = Annotated[
    TargetChoice,
    typer.Option(
        "--target",
        envvar="HUBVPN_TARGET",
        parser=choice(TargetChoice),
        metavar="<auto|azure|emulator>",
        help="azure, emulator, or auto: Azure when a subscription is configured, "
        "else the emulator.",
    ),
]
SubscriptionOpt = Annotated[
    str | None,
    typer.Option(
        "--subscription",
        help="Azure subscription id (else AZURE_SUBSCRIPTION_ID, else the Azure CLI's default).",
    ),
]
OutputOpt = Annotated[
    Output,
    typer.Option(
        "--output", "-o", parser=choice(Output), metavar="<table|json>", help="table or json."
    ),
]
PortOpt = Annotated[
    int, typer.Option("--port", parser=port_number, metavar="<1-65535>", help="TCP port to probe.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on Azure.")]

DEFAULT_CONFIG = Path("config/topology.toml")


@dataclass
class Switches:
    """The global flags, set once per run: before the command (``hubvpn --debug status``)
    or after it (``hubvpn status --debug``)."""

    verbose: bool = False
    debug: bool = False


SWITCHES = Switches()
VERBOSE_HELP = "One line per ARM write: method, resource, status."
DEBUG_HELP = (
    "Every ARM request: method, path, status, x-ms-request-id, Retry-After "
    "(secrets redacted; also HUBVPN_DEBUG=1)."
)


def _set_verbose(value: bool) -> None:
    SWITCHES.verbose = SWITCHES.verbose or value


def _set_debug(value: bool) -> None:
    SWITCHES.debug = SWITCHES.debug or value


# On every command (``boundary`` adds them): they set SWITCHES and reach no parameter.
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help=VERBOSE_HELP, callback=_set_verbose, expose_value=False),
]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help=DEBUG_HELP, callback=_set_debug, expose_value=False)
]


def show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"hubvpn {version('hubvpn')}")
        raise typer.Exit()
