"""Why a probe cannot succeed, and which test VMs a user means, from the topology.

The routing model says where a packet dies ("route 10.0.0.0/8 next hop None drops
10.20.0.4"); a person wants the design reason behind it::

    unreachable_reason(plan, "vm-spoke10", "vm-spoke20", model_reason)
    # "spoke10 and spoke20 both peer only with hub00; peering is not transitive ..."
    select_vms(plan, ("spoke10",), "--from")      # ("vm-spoke10",)
"""

from __future__ import annotations

from hubvpn import naming
from hubvpn.errors import BadInput
from hubvpn.plan import Plan, VmSpec


def vm_networks(plan: Plan) -> dict[str, str]:
    """Each test VM by name -> the VNet set member (hub or spoke name) it sits in."""
    vm_of = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    out = {}
    for hub in plan.topology.hubs:
        for network in (hub.name, *(spoke.name for spoke in hub.spokes)):
            if naming.nic(network) in vm_of:
                out[vm_of[naming.nic(network)]] = network
    return out


def select_vms(plan: Plan, names: tuple[str, ...], option: str) -> tuple[str, ...]:
    """The test VMs named by ``vm-<vnet>`` or ``<vnet>``; an unknown name is bad input
    that lists the valid names."""
    networks = vm_networks(plan)
    by_network = {network: vm for vm, network in networks.items()}
    chosen = []
    for name in names:
        vm = name if name in networks else by_network.get(name)
        if vm is None:
            valid = ", ".join(networks)
            raise BadInput(f"{option} {name}: no such test VM; valid names: {valid}")
        if vm not in chosen:
            chosen.append(vm)
    return tuple(chosen)


def unreachable_reason(plan: Plan, source: str, destination: str, model_reason: str) -> str:
    """The design reason a probe from ``source`` to ``destination`` is unreachable, or
    the routing model's own account when no design rule explains it."""
    topology = plan.topology
    networks = vm_networks(plan)
    hub_of = {spoke.name: hub.name for hub in topology.hubs for spoke in hub.spokes}  # spokes only
    a, b = networks.get(source), networks.get(destination)
    if a in hub_of and b in hub_of and hub_of[a] == hub_of[b] and not topology.spoke_to_spoke:
        return (
            f"{a} and {b} both peer only with {hub_of[a]}; peering is not transitive "
            "(no UDR: routing.spoke_to_spoke is false)"
        )
    return model_reason
