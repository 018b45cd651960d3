"""The Typer applications and the one boundary every command runs inside.

Errors become exit codes at one boundary (``boundary``, around every command):
``HubvpnError`` carries its own code (errors.py draws the tree), azure-core's
``AzureError`` is 1, the target's and the emulator's settings errors are 2, and
Ctrl-C is 130. Exit codes: 0 success; 1 the operation failed or verification
differs; 2 bad input (command line or topology file); 130 interrupted.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from hubvpn.cli.options import (
    DEBUG_HELP,
    SWITCHES,
    VERBOSE_HELP,
    DebugOpt,
    TargetChoice,
    VerboseOpt,
    show_version,
)
from hubvpn.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    BadInput,
    HubvpnError,
    OperationFailed,
)

if TYPE_CHECKING:
    from hubvpn.azure import Clients, Target
    from hubvpn.config import Topology
    from hubvpn.console import Console

P = ParamSpec("P")

app = typer.Typer(
    help="Deploy, inspect, verify and destroy a multi-hub Azure VPN lab "
    "(hub-and-spoke VNets whose hub VPN gateways are joined by IPsec with BGP).\n\n"
    "Runs against Azure when a subscription is configured, else against the embedded "
    "ARM emulator (state in HUBVPN_STATE_DIR, default .hubvpn/).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: --help must not pay for rich's markdown stack
)
emulator_app = typer.Typer(
    rich_markup_mode=None,
    help="The embedded Azure Resource Manager emulator.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(emulator_app, name="emulator")


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=show_version, is_eager=True, help="Print hubvpn's version."
        ),
    ] = False,
) -> None:
    """Deploy, inspect, verify and destroy a multi-hub Azure VPN lab."""
    SWITCHES.verbose, SWITCHES.debug = verbose, debug  # each run starts afresh


def _with_switches(run: Callable[P, None], command: Callable[P, None]) -> None:
    """Give a command the --verbose and --debug options (Typer reads ``__signature__``)."""
    signature = inspect.signature(command, eval_str=True)
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=kind)
        for name, kind in (("verbose", VerboseOpt), ("debug", DebugOpt))
    ]
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    run.__annotations__ = {**command.__annotations__, "verbose": VerboseOpt, "debug": DebugOpt}


def boundary(command: Callable[P, None]) -> Callable[P, None]:
    """The one place where errors become messages and exit codes."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        from azure.core.exceptions import AzureError

        from hubvpn.azure import TargetError, error_code, error_message
        from hubvpn.console import Console
        from hubvpn.emulator import EmulatorSettingsError

        for switch in ("verbose", "debug"):  # already in SWITCHES (their callbacks)
            kwargs.pop(switch, None)
        try:
            command(*args, **kwargs)
        except HubvpnError as err:
            _exit(Console(), str(err), err.exit_code)
        except (TargetError, EmulatorSettingsError) as err:
            _exit(Console(), str(err), EXIT_BAD_INPUT)
        except AzureError as err:  # HttpResponseError and the transport's errors
            from hubvpn.failures import Cause, cause_of

            code = error_code(err)
            message = f"{code + ': ' if code else ''}{error_message(err)}"
            if cause_of(code) is Cause.TRANSIENT:  # outlived every retry: Azure's weather
                message += "\nAzure was throttling / failing; your topology is fine: run it again."
            _exit(Console(), message, EXIT_FAILED)
        except KeyboardInterrupt:
            _exit(Console(), "interrupted", EXIT_INTERRUPTED)

    _with_switches(run, command)
    return run


def _exit(console: Console, message: str, code: int) -> None:
    for line in message.splitlines() or [""]:
        console.error(line)
    raise typer.Exit(code=code) from None


def begin(
    command: str,
    config: Path,
    target: TargetChoice,
    subscription: str | None,
    detail: str = "",
    *,
    need_vms: bool = False,
) -> tuple[Console, Topology, Target]:
    """Every command's start: load and check the topology (exit 2 before any request),
    choose the target, and name it in the first line; topology warnings follow."""
    from hubvpn.azure import authenticate, resolve_target
    from hubvpn.config import load_topology
    from hubvpn.console import Console

    console = Console()
    topology = load_topology(config)
    if need_vms and topology.vm is None:
        raise BadInput(f"{config}: no [vm] table: there are no test VMs to probe from")
    # On Azure: the credential is tried (and the subscription named) before any prompt.
    chosen = authenticate(resolve_target(target.value, subscription), debug=debug_switch())
    warnings = tuple(f"{config}: {warning}" for warning in topology.warnings)
    console.header(command, chosen.describe(), f"topology {topology.name}{detail}", warnings)
    return console, topology, chosen


def debug_switch() -> bool | None:
    """--debug, else HUBVPN_DEBUG decides."""
    return True if SWITCHES.debug else None


def connect_to(target: Target) -> Clients:
    from hubvpn.azure import connect

    return connect(target, debug=debug_switch(), verbose=SWITCHES.verbose)


def speed_scale(clients: Clients) -> float:
    """Wall seconds per Azure second: the emulator runs Azure's durations faster."""
    return 1.0 / clients.emulator.settings.speed if clients.emulator else 1.0


def confirm(target: Target, yes: bool, question: str) -> None:
    if target.is_emulator or yes:
        return
    if not typer.confirm(question, default=False, err=True):
        raise OperationFailed("cancelled")
