"""hubvpn's command line: parse, call one core function, map errors to exit codes.

Exit codes: 0 success; 1 the operation failed or verification differs;
2 bad input (command line or topology file); 130 interrupted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from hubvpn.azure import Clients, Target
    from hubvpn.config import Topology
    from hubvpn.console import Console
    from hubvpn.cost import CostEstimate
    from hubvpn.plan import Plan

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

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


def _fail(console: Console, message: str, code: int) -> NoReturn:
    console.error(message)
    raise typer.Exit(code=code)


def _load(console: Console, config: Path) -> Topology:
    from hubvpn.config import TopologyError, load_topology

    try:
        topology = load_topology(config)
    except TopologyError as err:
        for line in str(err).splitlines():
            console.error(line)
        raise typer.Exit(code=EXIT_BAD_INPUT) from None
    return topology


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
    from hubvpn.console import Console

    console = Console()
    topology = _load(console, config)
    if need_vms and topology.vm is None:
        _fail(
            console, f"{config}: no [vm] table: there are no test VMs to probe from", EXIT_BAD_INPUT
        )
    chosen = _target(console, target, subscription)
    warnings = tuple(f"{config}: {warning}" for warning in topology.warnings)
    console.header(command, chosen.describe(), f"topology {topology.name}{detail}", warnings)
    return console, topology, chosen


def _target(console: Console, target: TargetChoice, subscription: str | None) -> Target:
    from hubvpn.azure import TargetError, resolve_target

    try:
        return resolve_target(target.value, subscription)
    except TargetError as err:
        _fail(console, str(err), EXIT_BAD_INPUT)


def _connect(console: Console, target: Target) -> Clients:
    from hubvpn.azure import TargetError, connect
    from hubvpn.emulator import EmulatorSettingsError

    try:
        return connect(target)
    except (TargetError, EmulatorSettingsError) as err:
        _fail(console, str(err), EXIT_BAD_INPUT)


@contextmanager
def _locked(console: Console, topology: Topology) -> Iterator[None]:
    from hubvpn.azure import state_dir
    from hubvpn.lock import LockHeld, topology_lock

    try:
        with topology_lock(state_dir(), topology.name):
            yield
    except LockHeld as err:
        _fail(console, str(err), EXIT_FAILED)


def _azure_error(console: Console, err: Exception) -> NoReturn:
    from hubvpn.azure import error_code, error_message

    code = error_code(err)
    _fail(console, f"{code + ': ' if code else ''}{error_message(err)}", EXIT_FAILED)


def _confirm(console: Console, target: Target, yes: bool, question: str) -> None:
    if target.is_emulator or yes:
        return
    if not typer.confirm(question, default=False, err=True):
        _fail(console, "cancelled", EXIT_FAILED)


@app.command()
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
    from hubvpn.deploy import OwnershipError
    from hubvpn.deploy import deploy as run_deploy
    from hubvpn.keys import SshKeyError, shared_key_from_env, ssh_public_key
    from hubvpn.plan import build_plan

    console, topology, chosen = _begin("deploy", config, target, subscription, f" ({config})")
    _confirm(
        console,
        chosen,
        yes,
        f"Deploy {topology.name} into {topology.resource_group} on Azure? VPN gateways "
        "take 30-45 minutes and are billed hourly.",
    )
    public_key = None
    if topology.vm is not None:
        from hubvpn.azure import state_dir

        try:
            public_key, generated = ssh_public_key(topology.vm.ssh_public_key_file, state_dir())
        except (SshKeyError, OSError) as err:
            _fail(console, str(err), EXIT_BAD_INPUT)
        if generated is not None:
            console.info(
                f"{topology.vm.ssh_public_key_file} not found: the VMs use the key pair "
                f"{generated} (private key, mode 0600)",
                markup=False,
            )
    plan = build_plan(topology)
    cancel = threading.Event()
    with _locked(console, topology), _connect(console, chosen) as clients:
        try:
            report = run_deploy(
                plan,
                clients,
                console.deploy_progress(),
                ssh_public_key=public_key,
                shared_key=shared_key_from_env(),
                cancel=cancel,
            )
        except OwnershipError as err:
            _fail(console, str(err), EXIT_FAILED)
        except KeyboardInterrupt:
            cancel.set()
            console.error("interrupted")
            raise typer.Exit(code=EXIT_INTERRUPTED) from None
        except Exception as err:
            _azure_error(console, err)
    console.deploy_summary(report)
    if report.interrupted:
        raise typer.Exit(code=EXIT_INTERRUPTED)
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
def status(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
) -> None:
    """Show what exists: provisioning states, connections, BGP peers and learned
    routes of each gateway, and the effective routes of each test VM."""
    from hubvpn.inspect import status as read_status
    from hubvpn.plan import build_plan

    console, topology, chosen = _begin("status", config, target, subscription)
    with _connect(console, chosen) as clients:
        try:
            result = read_status(build_plan(topology), clients)
        except Exception as err:
            _azure_error(console, err)
    if output is Output.json:
        console.json(result.as_json())
    else:
        console.status(result)


@app.command()
def verify(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port to probe.")] = 22,
) -> None:
    """Probe TCP reachability between every pair of test VMs (Network Watcher
    connectivity checks) and compare with the reachability the topology predicts.
    Exits 1 when any probe differs from the prediction."""
    from hubvpn.inspect import verify as run_verify
    from hubvpn.plan import build_plan

    console, topology, chosen = _begin(
        "verify", config, target, subscription, f", TCP {port}", need_vms=True
    )
    with _connect(console, chosen) as clients:
        try:
            probes = run_verify(build_plan(topology), clients, port)
        except Exception as err:
            _azure_error(console, err)
    ok = all(p.reachable == p.expected for p in probes)
    if output is Output.json:
        console.json({"port": port, "ok": ok, "probes": [p.as_json() for p in probes]})
    elif all(p.reachable is None for p in probes):
        _fail(
            console,
            f"nothing to verify: {topology.name} has no deployed test VM (run hubvpn deploy)",
            EXIT_FAILED,
        )
    else:
        console.verify(probes, port, ok)
    if not ok:
        raise typer.Exit(code=EXIT_FAILED)


@app.command()
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
    it should take on Azure, and the reachability the topology predicts."""
    from hubvpn.cost import describe
    from hubvpn.diagram import FORMATS, mermaid_diagram, text_diagram
    from hubvpn.planning import plan_against

    if diagram_format is not None and (not diagram or diagram_format not in FORMATS):
        from hubvpn.console import Console

        _fail(
            Console(),
            f"unexpected argument '{diagram_format}': use --diagram [text|mermaid]",
            EXIT_BAD_INPUT,
        )
    console, topology, chosen = _begin("plan", config, target, subscription)
    if diagram:
        from hubvpn.plan import build_plan

        draw = mermaid_diagram if diagram_format == "mermaid" else text_diagram
        drawn = build_plan(topology)
        with _connect(console, chosen) as clients:
            try:
                states = _connection_states(drawn, clients)
            except Exception as err:
                _azure_error(console, err)
        console.out.print(draw(drawn, states), end="", markup=False, emoji=False, soft_wrap=True)
        return
    with _connect(console, chosen) as clients:
        try:
            result = plan_against(topology, clients)
        except Exception as err:
            _azure_error(console, err)
    estimate = _cost(result.plan)
    if output is Output.json:
        console.json({**result.as_json(), "cost": estimate.to_json()})
        return
    console.plan(result.plan, result.actions, result.critical, result.remaining_s)
    if result.reachability:
        names = list(dict.fromkeys(p.source for p in result.reachability))
        cells = {(p.source, p.destination): (p.reachable, None) for p in result.reachability}
        console.out.print()
        console.matrix("Predicted TCP 22 reachability", names, cells)
    console.out.print()
    for line in describe(estimate):
        console.out.print(line, markup=False)


def _connection_states(plan: Plan, clients: Clients) -> dict[str, str] | None:
    """Each existing connection's status (a GET: a LIST omits it); None before deploy."""
    from functools import partial

    from hubvpn.inspect import Observed, observe, text

    group = plan.topology.resource_group
    get = clients.network.virtual_network_gateway_connections.get

    def gets(found: Observed) -> dict[str, Callable[[], Any]]:
        return {
            key: partial(get, group, model.name)
            for key, model in found.resources.items()
            if key.startswith("connection:")
        }

    observed = observe(clients, group, gets)
    if observed.group is None:
        return None
    return {
        conn.name: text(conn.connection_status or "Unknown")
        for conn in observed.extra.values()
        if not isinstance(conn, Exception)  # deleted meanwhile: shown as absent
    }


def _stops_paying(clients: Clients, topology: Topology) -> list[str]:
    """What deleting the group saves, from what exists in it."""
    from hubvpn.azure import state_dir
    from hubvpn.cost import billable_from_model, estimate_cost, load_prices, stops_paying
    from hubvpn.inspect import observe

    observed = observe(clients, topology.resource_group)
    found = [billable_from_model(model) for model in observed.resources.values()]
    billables = [b for b in found if b is not None]
    return stops_paying(estimate_cost(billables, load_prices(billables, state_dir())))


def _cost(plan: Plan) -> CostEstimate:
    """The lab's estimated cost (Retail Prices API, cached; offline: the bundled table)."""
    from hubvpn.azure import state_dir
    from hubvpn.cost import estimate_cost, load_prices, plan_billables

    billables = plan_billables(plan)
    return estimate_cost(billables, load_prices(billables, state_dir()))


@app.command()
def destroy(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    yes: YesOpt = False,
) -> None:
    """Delete the topology's resource group, only if its tag names this topology.
    Safe to re-run."""
    from hubvpn.console import duration
    from hubvpn.deploy import OwnershipError
    from hubvpn.destroy import destroy as run_destroy
    from hubvpn.destroy import find_owned_group

    console, topology, chosen = _begin("destroy", config, target, subscription)
    cancel = threading.Event()
    with _locked(console, topology), _connect(console, chosen) as clients:
        try:
            exists, count = find_owned_group(topology, clients)
            saving = _stops_paying(clients, topology) if exists else None
            if exists:
                _confirm(
                    console,
                    chosen,
                    yes,
                    f"Delete resource group {topology.resource_group} and its {count} resources?",
                )
                console.info(
                    f"Deleting {topology.resource_group} ({count} top-level resources)...",
                    markup=False,
                )
            with console.waiting(f"deleting {topology.resource_group}") as tick:
                result = run_destroy(topology, clients, cancel, tick)
        except OwnershipError as err:
            _fail(console, str(err), EXIT_FAILED)
        except KeyboardInterrupt:
            console.error("interrupted: the deletion continues in Azure; re-run destroy to wait")
            raise typer.Exit(code=EXIT_INTERRUPTED) from None
        except Exception as err:
            _azure_error(console, err)
    if result.state == "absent":
        console.info(
            f"Nothing to destroy: resource group {topology.resource_group} does not exist.",
            markup=False,
        )
    else:
        console.info(
            f"[green]Destroyed[/] {topology.resource_group} ({result.resources} "
            f"top-level resources) in {duration(result.seconds)}.",
            markup=True,
        )
        for line in saving or []:
            console.info(line, markup=False)


@app.command()
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
        _fail(console, str(err), EXIT_BAD_INPUT)
    if print_only or chosen.is_emulator:
        for line in command.shell_lines():
            console.out.print(line, markup=False, emoji=False, soft_wrap=True)
        if chosen.is_emulator:
            console.info("the emulator has no VMs to log in to: run this against Azure")
            if not print_only:
                raise typer.Exit(code=EXIT_FAILED)
        return
    if shutil.which("az") is None:
        _fail(console, "az (the Azure CLI) is not installed: see --print", EXIT_FAILED)
    if not command.private_key.is_file():
        _fail(console, f"no private key at {command.private_key}", EXIT_FAILED)
    try:
        code = subprocess.run(command.argv, check=False).returncode
    except KeyboardInterrupt:
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    if code != 0:
        raise typer.Exit(code=EXIT_FAILED)


@emulator_app.command("serve")
def emulator_serve(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Loopback port.")] = 8943,
) -> None:
    """Serve the emulator's ARM REST API on http://127.0.0.1:PORT (Ctrl-C stops)."""
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator import EmulatorSettingsError, open_app
    from hubvpn.emulator.server import HOST, make

    console = Console()
    try:
        server = make(open_app(state_dir()), port)
    except EmulatorSettingsError as err:
        _fail(console, str(err), EXIT_BAD_INPUT)
    except OSError as err:
        _fail(console, f"cannot listen on {HOST}:{port}: {err.strerror}", EXIT_FAILED)
    console.info(
        f"hubvpn emulator serving ARM on http://{HOST}:{port} (state {state_dir()}); Ctrl-C stops",
        markup=False,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        raise typer.Exit(code=EXIT_OK) from None
    finally:
        server.server_close()


@emulator_app.command("requests")
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
def emulator_reset() -> None:
    """Empty the emulator: every resource, operation and logged request."""
    from hubvpn.azure import state_dir
    from hubvpn.console import Console
    from hubvpn.emulator.store import Store

    Store(state_dir()).reset()
    Console().info(f"emulator state in {state_dir()} reset")


def main() -> None:
    app()
