"""hubvpn's command line: parse, call one core function, render the result.

Errors become exit codes at one boundary (``boundary``, around every command):
``HubvpnError`` carries its own code (errors.py draws the tree), azure-core's
``AzureError`` is 1, the target's and the emulator's settings errors are 2, and
Ctrl-C is 130. Exit codes: 0 success; 1 the operation failed or verification
differs; 2 bad input (command line or topology file); 130 interrupted.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
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
    from hubvpn.plan import Plan

P = ParamSpec("P")

app = typer.Typer(
    help="Deploy, inspect, verify and destroy a multi-hub Azure VPN lab "
    "(hub-and-spoke VNets whose hub VPN gateways are joined by IPsec with BGP).\n\n"
    "Runs against Azure when a subscription is configured, else against the embedded "
    "ARM emulator (state in HUBVPN_STATE_DIR, default .hubvpn/).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: --help must not pay for rich's markdown stack
)
emulator_app = typer.Typer(
    rich_markup_mode=None,
    help="The embedded Azure Resource Manager emulator.",
    no_args_is_help=True,
)
app.add_typer(emulator_app, name="emulator")


class TargetChoice(StrEnum):
    auto = "auto"
    azure = "azure"
    emulator = "emulator"


class Output(StrEnum):
    table = "table"
    json = "json"


ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Topology file (TOML).", show_default=True)
]
TargetOpt = Annotated[
    TargetChoice,
    typer.Option(
        "--target",
        envvar="HUBVPN_TARGET",
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
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table or json.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation on Azure.")]

DEFAULT_CONFIG = Path("config/topology.toml")


def boundary(command: Callable[P, None]) -> Callable[P, None]:
    """The one place where errors become messages and exit codes."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        from azure.core.exceptions import AzureError

        from hubvpn.azure import TargetError, error_code, error_message
        from hubvpn.console import Console
        from hubvpn.emulator import EmulatorSettingsError

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
    chosen = authenticate(resolve_target(target.value, subscription))
    warnings = tuple(f"{config}: {warning}" for warning in topology.warnings)
    console.header(command, chosen.describe(), f"topology {topology.name}{detail}", warnings)
    return console, topology, chosen


def _connect(target: Target) -> Clients:
    from hubvpn.azure import connect

    return connect(target)


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
) -> None:
    """Create or converge the lab: only what is missing or differs is written.

    Independent resources are created in parallel; spoke peerings wait for their
    hub's gateway, local network gateways for the remote gateway. Safe to re-run
    after a failure or Ctrl-C: it attaches to what is still provisioning.
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
    if topology.vm is not None:
        public_key, generated = ssh_public_key(topology.vm.ssh_public_key_file, state_dir())
        if generated is not None:
            console.info(
                f"{topology.vm.ssh_public_key_file} not found: the VMs use the key pair "
                f"{generated} (private key, mode 0600)"
            )
    plan = build_plan(topology)
    with topology_lock(state_dir(), topology.name), _connect(chosen) as clients:
        report = run_deploy(
            plan,
            clients,
            console.deploy_progress(),
            ssh_public_key=public_key,
            shared_key=shared_key_from_env(),
            cancel=threading.Event(),  # set by deploy itself on Ctrl-C
        )
    console.deploy_summary(report)
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
    routes of each gateway, and the effective routes of each test VM."""
    from hubvpn import views
    from hubvpn.plan import build_plan
    from hubvpn.status import status as read_status

    console, topology, chosen = _begin("status", config, target, subscription)
    hubs = [h.name for h in topology.hubs]
    if hub is not None and hub not in hubs:
        raise BadInput(f"--hub {hub}: no such hub; hubs: {', '.join(hubs)}")
    with _connect(chosen) as clients:
        result = read_status(build_plan(topology), clients, console.awaiting)
    if hub is not None and result.deployed:
        result = result.narrowed(hub)
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
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to probe.")] = 22,
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
    Exits 1 when any probe differs from the prediction."""
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
    with _connect(chosen) as clients:
        result = run_verify(plan_, clients, port, console.awaiting, chosen_from, chosen_to)
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
) -> None:
    """Show, without writing anything, what deploy would create or change, how long
    it should take on Azure, what the lab costs, and the reachability the topology
    predicts."""
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
        result = plan_against(topology, clients, shared_key_from_env())
    estimate = _cost(result.plan)
    if output is Output.json:
        console.json({**result.as_json(), "cost": estimate.to_json()})
        return
    views.plan(console, result)
    console.out.print()
    for line in describe(estimate):
        console.out.print(line, markup=False)


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
) -> None:
    """Delete the topology's resource group, only if its tag names this topology.
    Safe to re-run."""
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
    the lab's key). A spoke's VM is reached through its hub's Bastion."""
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


@emulator_app.command("serve")
@boundary
def emulator_serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Loopback port.")] = 8943,
) -> None:
    """Serve the emulator's ARM REST API on http://127.0.0.1:PORT (Ctrl-C stops)."""
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
def emulator_requests(output: OutputOpt = Output.table) -> None:
    """List every request the emulator answered (method, path, status, time)."""
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    console = Console()
    rows = Store(state_dir()).requests()
    if output is Output.json:
        console.json({"requests": rows})
        return
    console.requests(rows)


@emulator_app.command("reset")
@boundary
def emulator_reset() -> None:
    """Empty the emulator: every resource, operation and logged request."""
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    Store(state_dir()).reset()
    Console().info(f"emulator state in {state_dir()} reset")


def main() -> None:
    app()
