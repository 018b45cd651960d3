"""hubvpn's command line: parse, call one core function, render the result.

Errors become exit codes at one boundary (``boundary``, around every command):
``HubvpnError`` carries its own code (errors.py draws the tree), azure-core's
``AzureError`` is 1, the target's and the emulator's settings errors are 2, and
Ctrl-C is 130. Exit codes: 0 success; 1 the operation failed or verification
differs; 2 bad input (command line or topology file); 130 interrupted.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec

import typer

from hubvpn.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    HubvpnError,
    Interrupted,
    OperationFailed,
)

if TYPE_CHECKING:
    from hubvpn.azure import Clients, Target
    from hubvpn.config import Topology
    from hubvpn.console import Console
    from hubvpn.cost import CostEstimate
    from hubvpn.deploy import Report
    from hubvpn.plan import Plan

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


class TargetChoice(StrEnum):
    auto = "auto"
    azure = "azure"
    emulator = "emulator"


class Output(StrEnum):
    table = "table"
    json = "json"


def _choice(kind: type[StrEnum]) -> Callable[[str], StrEnum]:
    """A parser with click's wording for a bad value (Typer's own says "Value error, ...")."""

    def parse(value: str) -> StrEnum:
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(f"'{k.value}'" for k in kind)
            raise typer.BadParameter(f"'{value}' is not one of {allowed}.") from None

    return parse


def _whole(what: str, low: int, high: int) -> Callable[[str], int]:
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


_port = _whole("a TCP port (1-65535)", 1, 65535)


ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Topology file (TOML).", show_default=True)
]
TargetOpt = Annotated[
    TargetChoice,
    typer.Option(
        "--target",
        envvar="HUBVPN_TARGET",
        parser=_choice(TargetChoice),
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
        "--output", "-o", parser=_choice(Output), metavar="<table|json>", help="table or json."
    ),
]
PortOpt = Annotated[
    int, typer.Option("--port", parser=_port, metavar="<1-65535>", help="TCP port to probe.")
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


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"hubvpn {version('hubvpn')}")
        raise typer.Exit()


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print hubvpn's version."),
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
            code = error_code(err)
            _exit(Console(), f"{code + ': ' if code else ''}{error_message(err)}", EXIT_FAILED)
        except KeyboardInterrupt:
            _exit(Console(), "interrupted", EXIT_INTERRUPTED)

    _with_switches(run, command)
    return run


def _exit(console: Console, message: str, code: int) -> None:
    for line in message.splitlines() or [""]:
        console.error(line)
    raise typer.Exit(code=code) from None


def _begin(
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
    chosen = authenticate(resolve_target(target.value, subscription), debug=_debug())
    warnings = tuple(f"{config}: {warning}" for warning in topology.warnings)
    console.header(command, chosen.describe(), f"topology {topology.name}{detail}", warnings)
    return console, topology, chosen


def _debug() -> bool | None:
    """--debug, else HUBVPN_DEBUG decides."""
    return True if SWITCHES.debug else None


def _connect(target: Target) -> Clients:
    from hubvpn.azure import connect

    return connect(target, debug=_debug(), verbose=SWITCHES.verbose)


def _scale(clients: Clients) -> float:
    """Wall seconds per Azure second: the emulator runs Azure's durations faster."""
    return 1.0 / clients.emulator.settings.speed if clients.emulator else 1.0


def _confirm(target: Target, yes: bool, question: str) -> None:
    if target.is_emulator or yes:
        return
    if not typer.confirm(question, default=False, err=True):
        raise OperationFailed("cancelled")


@app.command()
@boundary
def deploy(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    output: OutputOpt = Output.table,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Also delete this topology's resources that it no longer has (only "
            "resources tagged with it, and the peerings of its VNets), once the rest "
            "has converged.",
        ),
    ] = False,
) -> None:
    """Create or converge the lab: only what is missing or differs is written.

    Independent resources are created in parallel; spoke peerings wait for their
    hub's gateway, local network gateways for the remote gateway. Safe to re-run
    after a failure or Ctrl-C: it attaches to what is still provisioning.
    --output json: the outcome of each resource on stdout (progress on stderr).

    \b
    Examples:
      hubvpn deploy
      hubvpn deploy -c config/topology.toml --target azure --yes
      hubvpn deploy --output json > deploy.json
    """
    from hubvpn.azure import state_dir
    from hubvpn.deploy import deploy as run_deploy
    from hubvpn.keys import shared_key_from_env, ssh_public_key
    from hubvpn.lock import topology_lock
    from hubvpn.plan import build_plan

    console, topology, chosen = _begin("deploy", config, target, subscription, f" ({config})")
    _confirm(
        chosen,
        yes,
        f"Deploy {topology.name} into {topology.resource_group} on Azure? VPN gateways "
        "take 30-45 minutes and are billed hourly.",
    )
    public_key = None
    notes: tuple[str, ...] = ()
    if topology.vm is not None:
        before = {p.name for p in (state_dir() / "ssh").glob("*")}
        public_key, generated = ssh_public_key(topology.vm.ssh_public_key_file, state_dir())
        if generated is not None and generated.name not in before:
            # Said once, when the pair is made; `hubvpn ssh` finds it afterwards.
            notes = (
                f"{topology.vm.ssh_public_key_file} not found: the VMs use the key pair "
                f"{generated} (private key, mode 0600), generated now",
            )
    plan = build_plan(topology)
    with topology_lock(state_dir(), topology.name), _connect(chosen) as clients:
        report = run_deploy(
            plan,
            clients,
            console.deploy_progress(_scale(clients)),
            ssh_public_key=public_key,
            shared_key=shared_key_from_env(),
            cancel=threading.Event(),  # set by deploy itself on Ctrl-C
            prune=prune,
        )
    console.deploy_summary(report, notes)
    _orphans_said(console, report)
    if output is Output.json:
        from hubvpn.outcomes import deploy_json

        console.json(deploy_json(report, topology, chosen.is_emulator))
    if report.interrupted:
        raise typer.Exit(code=EXIT_INTERRUPTED)
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
@boundary
def status(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
    hub: Annotated[
        str | None, typer.Option("--hub", help="Only this hub: its gateway, VNets and VMs.")
    ] = None,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Also the gateways' own (Network) and Azure's default routes."),
    ] = False,
) -> None:
    """Show what exists: provisioning states, connections, BGP peers and learned
    routes of each gateway, and the effective routes of each test VM.

    \b
    Examples:
      hubvpn status
      hubvpn status --output json | jq '.connections'
    """
    from hubvpn import views
    from hubvpn.plan import build_plan
    from hubvpn.status import status as read_status

    console, topology, chosen = _begin("status", config, target, subscription)
    hubs = [h.name for h in topology.hubs]
    if hub is not None and hub not in hubs:
        raise BadInput(f"--hub {hub}: no such hub; hubs: {', '.join(hubs)}")
    with _connect(chosen) as clients:
        result = read_status(build_plan(topology), clients, console.awaiting, hub=hub)
    if output is Output.json:
        console.json(result.as_json())
    else:
        views.status(console, result, show_all)


@app.command()
@boundary
def verify(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
    port: PortOpt = 22,
    sources: Annotated[
        list[str] | None,
        typer.Option("--from", help="Probe only from this test VM (vm-spoke10 or spoke10)."),
    ] = None,
    destinations: Annotated[
        list[str] | None,
        typer.Option("--to", help="Probe only to this test VM (repeatable)."),
    ] = None,
) -> None:
    """Probe TCP reachability between every pair of test VMs (Network Watcher
    connectivity checks) and compare with the reachability the topology predicts.
    Exits 1 when any probe differs from the prediction.

    \b
    Examples:
      hubvpn verify
      hubvpn verify --port 443 --output json
    """
    from hubvpn import views
    from hubvpn.explain import select_vms
    from hubvpn.plan import build_plan
    from hubvpn.verify import verify as run_verify

    console, topology, chosen = _begin(
        "verify", config, target, subscription, f", TCP {port}", need_vms=True
    )
    plan_ = build_plan(topology)
    chosen_from = select_vms(plan_, tuple(sources or ()), "--from")
    chosen_to = select_vms(plan_, tuple(destinations or ()), "--to")
    if chosen.is_emulator:
        console.info(
            "on the emulator, this checks the deployment against the plan with the "
            "emulator's copy of the routing model (not Azure's data plane)"
        )
    with _connect(chosen) as clients, console.probe_count() as counted:
        result = run_verify(
            plan_,
            clients,
            port,
            console.awaiting,
            counted,
            sources=chosen_from,
            destinations=chosen_to,
        )
    if output is Output.json:
        console.json(result.as_json())
    if not result.deployed:
        names = ", ".join(result.incomplete[:8]) + (" ..." if len(result.incomplete) > 8 else "")
        raise OperationFailed(
            f"nothing to verify: {topology.name} is not fully deployed (run hubvpn deploy): "
            + names
        )
    if not result.converged:
        raise OperationFailed(
            f"not converged yet: still waiting for {', '.join(result.awaited)}; "
            "run verify again in a minute"
        )
    if output is not Output.json:
        views.verification(console, result)
    if not result.ok:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
@boundary
def plan(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
    diagram: Annotated[
        bool,
        typer.Option(
            "--diagram",
            help="Draw the topology instead (connection states once deployed); "
            "--diagram mermaid writes Mermaid for docs.",
        ),
    ] = False,
    diagram_format: Annotated[
        str | None, typer.Argument(hidden=True, metavar="text|mermaid")
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Show this topology's resources that it no longer has as delete "
            "(what deploy --prune does) instead of orphan.",
        ),
    ] = False,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 0 when there is nothing to do, 2 when deploy would write (or wait), 1 on an "
            "error, including a blocked step (deploy would refuse it), as terraform plan "
            "-detailed-exitcode.",
        ),
    ] = False,
) -> None:
    """Show, without writing anything, what deploy would create or change, how long
    it should take on Azure, what the lab costs, and the reachability the topology
    predicts.

    \b
    Examples:
      hubvpn plan
      hubvpn plan --output json
      hubvpn plan --diagram mermaid > docs/topology.mmd
    """
    from hubvpn import views
    from hubvpn.cost import describe
    from hubvpn.diagram import FORMATS
    from hubvpn.keys import shared_key_from_env
    from hubvpn.preview import plan_against

    if diagram_format is not None and (not diagram or diagram_format not in FORMATS):
        raise BadInput(f"unexpected argument {diagram_format!r}: use --diagram [text|mermaid]")
    console, topology, chosen = _begin("plan", config, target, subscription)
    if diagram:
        _draw(console, topology, chosen, diagram_format or "text")
        return
    with _connect(chosen) as clients:
        result = plan_against(topology, clients, shared_key_from_env(), prune)
    estimate = _cost(result.plan)
    if output is Output.json:
        console.json({**result.as_json(), "cost": estimate.to_json()})
    else:
        views.plan(console, result)
        console.out.print()
        for line in describe(estimate):
            console.out.print(line, markup=False)
        console.out.print()
        console.out.print(views.plan_summary(result.actions), markup=False)
    if detailed_exitcode:
        _detailed_exit(result.actions)


def _orphans_said(console: Console, report: Report) -> None:
    """After deploy: the orphans deleted under --prune, or how to remove them."""
    if report.deleted:
        names = ", ".join(o.name for o in report.deleted)
        console.info(f"Deleted {len(report.deleted)} no longer in the topology: {names}")
    elif report.orphans:
        n = len(report.orphans)
        console.info(
            f"{n} resource{'s are' if n > 1 else ' is'} no longer in the topology: "
            "run hubvpn deploy --prune"
        )


def _detailed_exit(actions: dict[str, str]) -> None:
    """plan --detailed-exitcode: 1 blocked (an error), 2 writes or waits, 0 nothing to do."""
    blocked = sum(a == "blocked" for a in actions.values())
    if blocked:
        raise OperationFailed(f"{blocked} step(s) blocked: deploy would refuse them")
    if any(a in ("create", "update", "delete", "wait") for a in actions.values()):
        raise typer.Exit(code=2)


def _draw(console: Console, topology: Topology, chosen: Target, form: str) -> None:
    """plan --diagram: the topology, with each connection's status once deployed."""
    from hubvpn.diagram import mermaid_diagram, text_diagram
    from hubvpn.observe import observe, text
    from hubvpn.plan import build_plan

    drawn = build_plan(topology)
    with _connect(chosen) as clients:
        observed = observe(clients, topology.resource_group)
    states = None
    if observed.group is not None:
        states = {
            model.name: text(model.connection_status or "Unknown")
            for key, model in observed.resources.items()
            if key.startswith("connection:")
        }
    draw = mermaid_diagram if form == "mermaid" else text_diagram
    console.out.print(draw(drawn, states), end="", markup=False, emoji=False, soft_wrap=True)


def _cost(plan: Plan) -> CostEstimate:
    """The lab's estimated cost (Retail Prices API, cached; offline: the bundled table)."""
    from hubvpn.azure import state_dir
    from hubvpn.cost import estimate_cost, load_prices, plan_billables

    billables = plan_billables(plan)
    return estimate_cost(billables, load_prices(billables, state_dir()))


def _stops_paying(clients: Clients, topology: Topology) -> list[str]:
    """What deleting the group saves, from what exists in it."""
    from hubvpn.azure import state_dir
    from hubvpn.cost import billable_from_model, estimate_cost, load_prices, stops_paying
    from hubvpn.observe import observe

    observed = observe(clients, topology.resource_group)
    found = [billable_from_model(model) for model in observed.resources.values()]
    billables = [b for b in found if b is not None]
    return stops_paying(estimate_cost(billables, load_prices(billables, state_dir())))


@app.command()
@boundary
def destroy(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
    output: OutputOpt = Output.table,
) -> None:
    """Delete the topology's resource group, only if its tag names this topology.
    Safe to re-run. --output json: the outcome on stdout (messages on stderr).

    \b
    Examples:
      hubvpn destroy
      hubvpn destroy --target azure --yes --output json
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import duration
    from hubvpn.destroy import destroy as run_destroy
    from hubvpn.destroy import find_owned_group
    from hubvpn.lock import topology_lock

    console, topology, chosen = _begin("destroy", config, target, subscription)
    with topology_lock(state_dir(), topology.name), _connect(chosen) as clients:
        exists, count = find_owned_group(topology, clients)
        saving = _stops_paying(clients, topology) if exists else []
        if exists:
            _confirm(
                chosen,
                yes,
                f"Delete resource group {topology.resource_group} and its {count} resources?",
            )
            console.info(f"Deleting {topology.resource_group} ({count} top-level resources)...")
        try:
            with console.waiting(f"deleting {topology.resource_group}") as tick:
                result = run_destroy(topology, clients, tick)
        except KeyboardInterrupt:
            raise Interrupted(
                "interrupted: the deletion continues in Azure; re-run destroy to wait"
            ) from None
    if result.state == "absent":
        console.info(
            f"Nothing to destroy: resource group {topology.resource_group} does not exist."
        )
    else:
        console.info(
            f"[green]Destroyed[/] {topology.resource_group} ({result.resources} "
            f"top-level resources) in {duration(result.seconds)}.",
            markup=True,
        )
        for line in saving:
            console.info(line)
    if output is Output.json:
        from hubvpn.outcomes import destroy_json

        console.json(destroy_json(result, topology, chosen.is_emulator))


@app.command()
@boundary
def ssh(
    vm: Annotated[str, typer.Argument(help="Test VM: vm-<vnet> or <vnet> (vm-spoke10).")],
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    print_only: Annotated[
        bool, typer.Option("--print", help="Print the az command instead of running it.")
    ] = False,
) -> None:
    """Open SSH to a test VM through its hub's Bastion (az network bastion ssh, with
    the lab's key). A spoke's VM is reached through its hub's Bastion.

    \b
    Examples:
      hubvpn ssh vm-spoke10
      hubvpn ssh hub100 --print
    """
    import shutil
    import subprocess

    from hubvpn.azure import state_dir
    from hubvpn.ssh import SshTargetError, bastion_ssh

    console, topology, chosen = _begin("ssh", config, target, subscription, f", {vm}")
    try:
        command = bastion_ssh(topology, vm, chosen.subscription_id, state_dir())
    except SshTargetError as err:
        raise BadInput(str(err)) from None
    if print_only or chosen.is_emulator:
        for line in command.shell_lines():
            console.out.print(line, markup=False, emoji=False, soft_wrap=True)
        if chosen.is_emulator:
            console.info("the emulator has no VMs to log in to: run this against Azure")
            if not print_only:
                raise typer.Exit(code=EXIT_FAILED)
        return
    if shutil.which("az") is None:
        raise OperationFailed("az (the Azure CLI) is not installed: see --print")
    if not command.private_key.is_file():
        raise OperationFailed(f"no private key at {command.private_key}")
    if subprocess.run(command.argv, check=False).returncode != 0:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
@boundary
def probe(
    source: Annotated[str, typer.Argument(metavar="FROM", help="Test VM to probe from.")],
    destination: Annotated[str, typer.Argument(metavar="TO", help="Test VM to probe.")],
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    port: PortOpt = 22,
    output: OutputOpt = Output.table,
) -> None:
    """Test TCP from one test VM to another, on the VM itself (VM run-command: bash's
    /dev/tcp with a 5 s timeout; 30-60 s on Azure). Exits 0 reachable, 1 unreachable.

    \b
    Examples:
      hubvpn probe vm-spoke10 vm-hub100
      hubvpn probe spoke10 spoke20 --port 443 --output json
    """
    from hubvpn.console import duration
    from hubvpn.probe import probe as run_probe
    from hubvpn.probe import summary, vm_name

    console, topology, chosen = _begin(
        "probe", config, target, subscription, f", TCP {port}", need_vms=True
    )
    source, destination = vm_name(topology, source), vm_name(topology, destination)
    if source == destination:
        raise BadInput(f"FROM and TO are the same VM ({source})")
    with _connect(chosen) as clients, console.waiting(f"run-command on {source}") as tick:
        result = run_probe(topology, clients, source, destination, port, tick)
    if output is Output.json:
        console.json(result.as_json())
    else:
        console.out.print(summary(result), markup=False, emoji=False, soft_wrap=True)
    console.info(f"probed in {duration(result.seconds)} (VM run-command on {source})")
    if not result.reachable:
        raise typer.Exit(code=EXIT_FAILED)


@emulator_app.command("serve")
@boundary
def emulator_serve(
    port: Annotated[
        int, typer.Option(parser=_port, metavar="<1-65535>", help="Loopback port.")
    ] = 8943,
) -> None:
    """Serve the emulator's ARM REST API on http://127.0.0.1:PORT (Ctrl-C stops).

    \b
    Examples:
      hubvpn emulator serve
      hubvpn emulator serve --port 9000
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator import open_app
    from hubvpn.emulator.server import HOST, make

    try:
        server = make(open_app(state_dir()), port)
    except OSError as err:
        raise OperationFailed(f"cannot listen on {HOST}:{port}: {err.strerror}") from None
    Console().info(
        f"hubvpn emulator serving ARM on http://{HOST}:{port} (state {state_dir()}); Ctrl-C stops"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        raise typer.Exit(code=EXIT_OK) from None
    finally:
        server.server_close()


@emulator_app.command("requests")
@boundary
def emulator_requests(
    output: OutputOpt = Output.table,
    last: Annotated[
        int | None,
        typer.Option(
            "--last",
            parser=_whole("a positive count", 1, 10**9),
            metavar="<N>",
            help="Only the last N requests.",
        ),
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="Only this HTTP method (GET, PUT, ...).")
    ] = None,
    status: Annotated[
        int | None,
        typer.Option(
            "--status",
            parser=_whole("an HTTP status (100-599)", 100, 599),
            metavar="<code>",
            help="Only answers with this HTTP status.",
        ),
    ] = None,
) -> None:
    """List every request the emulator answered (method, path, status, time), oldest
    first.

    \b
    Examples:
      hubvpn emulator requests --last 20
      hubvpn emulator requests --method PUT --status 201 --output json
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    console = Console()
    rows = [
        row
        for row in Store(state_dir()).requests()
        if (method is None or row["method"] == method.upper())
        and (status is None or row["status"] == status)
    ]
    if last is not None:
        rows = rows[-last:]
    if output is Output.json:
        console.json({"requests": rows})
        return
    console.requests(rows)


@emulator_app.command("reset")
@boundary
def emulator_reset() -> None:
    """Empty the emulator: every resource, operation and logged request.

    \b
    Examples:
      hubvpn emulator reset
    """
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    Store(state_dir()).reset()
    Console().info(f"emulator state in {state_dir()} reset")


def main() -> None:
    app()
