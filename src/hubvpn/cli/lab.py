"""The commands that build and remove the lab: deploy, plan, destroy."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Annotated

import typer

from hubvpn.cli.base import begin, confirm, connect_to, speed_scale
from hubvpn.cli.options import (
    DEFAULT_CONFIG,
    ConfigOpt,
    Output,
    OutputOpt,
    SubscriptionOpt,
    TargetChoice,
    TargetOpt,
    YesOpt,
)
from hubvpn.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    BadInput,
    Interrupted,
    OperationFailed,
    OwnershipError,
)

if TYPE_CHECKING:
    from hubvpn.azure import Clients, Target
    from hubvpn.config import Topology
    from hubvpn.console import Console
    from hubvpn.cost import CostEstimate
    from hubvpn.deploy import Report
    from hubvpn.plan import Plan


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

    console, topology, chosen = begin("deploy", config, target, subscription, f" ({config})")
    plan = build_plan(topology)
    with topology_lock(state_dir(), topology.name), connect_to(chosen) as clients:
        if asks(chosen, yes):
            _confirm_deploy(console, topology, chosen, clients, prune)
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
        try:
            progress = console.deploy_progress(speed_scale(clients))
            report = run_deploy(
                plan,
                clients,
                progress,
                ssh_public_key=public_key,
                shared_key=shared_key_from_env(),
                cancel=threading.Event(),  # set by deploy itself on Ctrl-C
                prune=prune,
            )
        except OwnershipError as err:  # refused before the first write
            raise OwnershipError(f"{err}. Nothing was written.") from None
    console.deploy_summary(report, notes, frozenset(progress.sent))
    _orphans_said(console, report)
    if output is Output.json:
        from hubvpn.outcomes import deploy_json

        console.json(deploy_json(report, topology, chosen.is_emulator))
    if report.interrupted:
        raise typer.Exit(code=EXIT_INTERRUPTED)
    if not report.ok:
        raise typer.Exit(code=EXIT_FAILED)


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
    console, topology, chosen = begin("plan", config, target, subscription)
    if diagram:
        _draw(console, topology, chosen, diagram_format or "text")
        return
    with connect_to(chosen) as clients:
        result = plan_against(topology, clients, shared_key_from_env(), prune)
        before = _reachable_now(clients, topology, result.actions)
    estimate = _cost(result.plan)
    if output is Output.json:
        flips = [
            {"from": p.source, "to": p.destination, "reachable": p.expected}
            for p in result.reachability
            if before is not None
            and before.get((p.source, p.destination), p.expected) != p.expected
        ]
        console.json({**result.as_json(), "cost": estimate.to_json(), "flips": flips})
    else:
        views.plan(console, result, before)
        console.out.print()
        for line in describe(estimate):
            console.out.print(line, markup=False)
        console.out.print()
        console.out.print(views.plan_summary(result.actions), markup=False)
    if detailed_exitcode:
        _detailed_exit(result.actions)


def asks(target: Target, yes: bool) -> bool:
    """Whether deploy and destroy ask before writing: on Azure, unless --yes."""
    return not (target.is_emulator or yes)


def _confirm_deploy(
    console: Console, topology: Topology, chosen: Target, clients: Clients, prune: bool
) -> None:
    """On Azure: what deploy would write and what the lab costs (on stderr, so that
    --output json stays clean), then the question; nothing to write, nothing to ask."""
    from hubvpn import views
    from hubvpn.cost import describe
    from hubvpn.keys import shared_key_from_env
    from hubvpn.preview import plan_against

    result = plan_against(topology, clients, shared_key_from_env(), prune)
    estimate = _cost(result.plan)
    shown = console.on_stderr()
    views.plan_diff(shown, result)
    shown.out.print()
    for line in describe(estimate):
        shown.out.print(line, markup=False)
    shown.out.print()
    shown.out.print(views.plan_summary(result.actions), markup=False)
    if not any(a in ("create", "update", "delete") for a in result.actions.values()):
        return
    money = "$" if estimate.currency == "USD" else f"{estimate.currency} "
    confirm(
        chosen,
        False,
        f"Deploy this into {topology.resource_group} on Azure (about "
        f"{money}{estimate.hourly:.2f}/hour while it exists)?",
    )


def _reachable_now(
    clients: Clients, topology: Topology, actions: dict[str, str]
) -> dict[tuple[str, str], bool] | None:
    """What is reachable in the lab as deployed, when a change to it is planned (the
    matrix marks the cells it flips); None before the first deploy or without VMs."""
    from hubvpn.current import current_reachability
    from hubvpn.observe import observe
    from hubvpn.predict import SSH_PORT

    changes = any(a != "keep" for a in actions.values())
    deployed = any(a in ("keep", "update", "orphan", "delete") for a in actions.values())
    if topology.vm is None or not changes or not deployed:
        return None
    return current_reachability(observe(clients, topology.resource_group), SSH_PORT)


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
    with connect_to(chosen) as clients:
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


def _destroy_said(clients: Clients, topology: Topology, count: int) -> tuple[list[str], list[str]]:
    """What deleting the group removes (by kind, 80 columns) and what it stops paying for."""
    from hubvpn.azure import state_dir
    from hubvpn.cost import billable_from_model, estimate_cost, load_prices, stops_paying
    from hubvpn.failures import wrap
    from hubvpn.kinds import KINDS, Kind
    from hubvpn.observe import observe

    observed = observe(clients, topology.resource_group)
    found = [billable_from_model(model) for model in observed.resources.values()]
    billables = [b for b in found if b is not None]
    saving = stops_paying(estimate_cost(billables, load_prices(billables, state_dir())))
    kinds = Counter(key.split(":", 1)[0] for key in observed.resources)
    what = [
        f"{n}\u00a0{KINDS[kind].label}{'s' if n > 1 else ''}"
        for kind in Kind
        if (n := kinds.get(kind.value, 0)) and kind is not Kind.NETWORK_WATCHER
    ]
    text = (
        f"Deletes resource group {topology.resource_group} and its {count} top-level "
        f"resources, with everything in them: {', '.join(what)}."
    )
    deleted = [line.replace("\u00a0", " ") for line in wrap("", "", text.split(), 80)]
    return deleted, saving


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

    console, topology, chosen = begin("destroy", config, target, subscription)
    with topology_lock(state_dir(), topology.name), connect_to(chosen) as clients:
        exists, count = find_owned_group(topology, clients)
        deleted, saving = _destroy_said(clients, topology, count) if exists else ([], [])
        if exists and asks(chosen, yes):
            for line in deleted + saving:
                console.info(line)
            confirm(
                chosen,
                False,
                f"Delete resource group {topology.resource_group} and its {count} resources?",
            )
        if exists:
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
