"""The commands that look at the network and get onto it: status, verify, ssh, probe."""

from __future__ import annotations

from typing import Annotated

import typer

from hubvpn.cli.base import begin, connect_to
from hubvpn.cli.options import (
    DEFAULT_CONFIG,
    ConfigOpt,
    Output,
    OutputOpt,
    PortOpt,
    SubscriptionOpt,
    TargetChoice,
    TargetOpt,
)
from hubvpn.errors import EXIT_FAILED, BadInput, HubvpnError, OperationFailed


def _lab_names(ctx: typer.Context, incomplete: str, hubs_only: bool = False) -> list[str]:
    """Shell completion: the test VMs (or hubs) of the topology named by -c so far
    (else the default file); nothing when it cannot be read."""
    from pathlib import Path

    from hubvpn.config import load_topology
    from hubvpn.probe import lab_vms

    try:
        topology = load_topology(Path(ctx.params.get("config") or DEFAULT_CONFIG))
    except HubvpnError:
        return []
    names = [h.name for h in topology.hubs] if hubs_only else lab_vms(topology)
    if not hubs_only and incomplete and not "vm-".startswith(incomplete[:3]):
        names = [n.removeprefix("vm-") for n in names]  # "spo" -> spoke10 (also accepted)
    return [n for n in names if n.startswith(incomplete)]


def complete_vm(ctx: typer.Context, incomplete: str) -> list[str]:
    return _lab_names(ctx, incomplete)


def complete_hub(ctx: typer.Context, incomplete: str) -> list[str]:
    return _lab_names(ctx, incomplete, hubs_only=True)


def status(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
    hub: Annotated[
        str | None,
        typer.Option(
            "--hub", help="Only this hub: its gateway, VNets and VMs.", autocompletion=complete_hub
        ),
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

    console, topology, chosen = begin("status", config, target, subscription)
    hubs = [h.name for h in topology.hubs]
    if hub is not None and hub not in hubs:
        raise BadInput(f"--hub {hub}: no such hub; hubs: {', '.join(hubs)}")
    with connect_to(chosen) as clients:
        result = read_status(build_plan(topology), clients, console.awaiting, hub=hub)
    if output is Output.json:
        console.json(result.as_json())
    else:
        views.status(console, result, show_all)


def verify(
    config: ConfigOpt = DEFAULT_CONFIG,
    target: TargetOpt = TargetChoice.auto,
    subscription: SubscriptionOpt = None,
    output: OutputOpt = Output.table,
    port: PortOpt = 22,
    sources: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            help="Probe only from this test VM (vm-spoke10 or spoke10).",
            autocompletion=complete_vm,
        ),
    ] = None,
    destinations: Annotated[
        list[str] | None,
        typer.Option(
            "--to", help="Probe only to this test VM (repeatable).", autocompletion=complete_vm
        ),
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

    console, topology, chosen = begin(
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
    with connect_to(chosen) as clients, console.probe_count() as counted:
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
    if not result.deployed and result.causes:
        views.not_deployed(console, result)
        raise OperationFailed(
            f"nothing to verify: {topology.name} is not fully deployed (see above)"
        )
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


def ssh(
    vm: Annotated[
        str,
        typer.Argument(
            help="Test VM: vm-<vnet> or <vnet> (vm-spoke10).", autocompletion=complete_vm
        ),
    ],
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

    console, topology, chosen = begin("ssh", config, target, subscription, f", {vm}")
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


def probe(
    source: Annotated[
        str,
        typer.Argument(metavar="FROM", help="Test VM to probe from.", autocompletion=complete_vm),
    ],
    destination: Annotated[
        str, typer.Argument(metavar="TO", help="Test VM to probe.", autocompletion=complete_vm)
    ],
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

    console, topology, chosen = begin(
        "probe", config, target, subscription, f", TCP {port}", need_vms=True
    )
    source, destination = vm_name(topology, source), vm_name(topology, destination)
    if source == destination:
        raise BadInput(f"FROM and TO are the same VM ({source})")
    with connect_to(chosen) as clients, console.waiting(f"run-command on {source}") as tick:
        result = run_probe(topology, clients, source, destination, port, tick)
    if output is Output.json:
        console.json(result.as_json())
    else:
        console.out.print(summary(result), markup=False, emoji=False, soft_wrap=True)
    console.info(f"probed in {duration(result.seconds)} (VM run-command on {source})")
    if not result.reachable:
        raise typer.Exit(code=EXIT_FAILED)
