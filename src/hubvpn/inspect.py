"""Reading what exists: one round of concurrent list calls, then the diagnostics.

``observe`` lists every resource type of the group at once (plus the VM
extensions), so the state of a whole lab costs two round trips, not one per
resource. ``status`` adds BGP peers, learned routes and effective routes; and
``probe`` runs the Network Watcher connectivity checks behind ``verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hubvpn import naming
from hubvpn.azure import Clients, error_code, error_message
from hubvpn.kinds import KINDS, Kind
from hubvpn.plan import Plan, VmSpec, step_key

MAX_PARALLEL_READS = 32
TRANSIENT_STATES = frozenset({"Updating", "Creating", "Deleting", "Provisioning", "Migrating"})


def state_of(model: Any) -> str:
    """provisioningState as text (the SDK gives enums that print as ProvisioningState.X)."""
    value = getattr(model, "provisioning_state", None)
    if value is None:
        properties = getattr(model, "properties", None)
        value = getattr(properties, "provisioning_state", None)
    return str(getattr(value, "value", value or "Unknown"))


def text(value: Any) -> str:
    return str(getattr(value, "value", value))


def not_found(err: Exception) -> bool:
    return getattr(err, "status_code", None) == 404


@dataclass
class Observed:
    """What exists, by plan step key (kind:name or kind:parent/name)."""

    group: Any | None
    resources: dict[str, Any] = field(default_factory=dict)
    watchers: list[Any] = field(default_factory=list)  # every watcher in the subscription
    extra: dict[str, Any] = field(default_factory=dict)  # answers to observe(more=...)

    def get(self, key: str) -> Any | None:
        return self.resources.get(key)


def parallel(calls: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run independent reads at once; results (or the exception raised) by name."""
    if not calls:
        return {}

    def run(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as err:  # returned to the caller, which decides
            return err

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_READS, len(calls))) as pool:
        futures = {name: pool.submit(run, fn) for name, fn in calls.items()}
        return {name: f.result() for name, f in futures.items()}


def _listers(clients: Clients, group: str) -> dict[str, Callable[[], list[Any]]]:
    net, compute = clients.network, clients.compute
    return {
        "network_security_group": lambda: list(net.network_security_groups.list(group)),
        "route_table": lambda: list(net.route_tables.list(group)),
        "virtual_network": lambda: list(net.virtual_networks.list(group)),
        "public_ip": lambda: list(net.public_ip_addresses.list(group)),
        "virtual_network_gateway": lambda: list(net.virtual_network_gateways.list(group)),
        "local_network_gateway": lambda: list(net.local_network_gateways.list(group)),
        "connection": lambda: list(net.virtual_network_gateway_connections.list(group)),
        "network_interface": lambda: list(net.network_interfaces.list(group)),
        "virtual_machine": lambda: list(compute.virtual_machines.list(group)),
        "bastion": lambda: list(net.bastion_hosts.list_by_resource_group(group)),
        "network_watcher": lambda: list(net.network_watchers.list_all()),
    }


More = Callable[[Observed], dict[str, Callable[[], Any]]]


def observe(clients: Clients, group: str, more: More | None = None) -> Observed:
    """Everything in the resource group, in two rounds of concurrent reads.

    ``more`` adds calls that need the first round's answers to the second round
    (status's BGP and route queries), so they cost no extra round trip; their
    results land in ``Observed.extra``.
    """
    calls: dict[str, Callable[[], Any]] = {
        "resource_group": lambda: clients.resource.resource_groups.get(group),
        **_listers(clients, group),
    }
    results = parallel(calls)
    rg = results.pop("resource_group")
    if isinstance(rg, Exception):
        if not_found(rg):
            # The region's watchers live outside the group: they exist without it.
            watchers = results.get("network_watcher")
            return Observed(None, watchers=watchers if isinstance(watchers, list) else [])
        raise rg
    observed = Observed(rg)
    for kind, items in results.items():
        if isinstance(items, Exception):
            if not_found(items):
                continue
            raise items
        if kind == "network_watcher":
            observed.watchers = items
            continue
        for item in items:
            observed.resources[step_key(kind, item.name)] = item
            if kind == "virtual_network":
                for peering in item.virtual_network_peerings or []:
                    observed.resources[step_key("peering", peering.name, item.name)] = peering
    vms = [m.name for k, m in observed.resources.items() if k.startswith("virtual_machine:")]
    second: dict[str, Callable[[], Any]] = {
        f"ext:{vm}": partial(clients.compute.virtual_machine_extensions.list, group, vm)
        for vm in vms
    }
    extra = more(observed) if more is not None else {}
    results = parallel({**second, **extra})
    observed.extra = {k: results[k] for k in extra}
    for vm in vms:
        found = results[f"ext:{vm}"]
        if isinstance(found, Exception):
            if not_found(found):
                continue
            raise found
        for ext in getattr(found, "value", None) or []:
            observed.resources[step_key("vm_extension", ext.name, vm)] = ext
    return observed


def owned_by(tags: dict[str, str] | None, topology: str) -> bool:
    return (tags or {}).get(naming.TAG) == topology


# ----------------------------------------------------------------- status


@dataclass(frozen=True)
class Status:
    target: str
    topology: str
    resource_group: str
    deployed: bool
    resources: list[dict[str, Any]]
    connections: list[dict[str, Any]]
    gateways: list[dict[str, Any]]
    effective_routes: dict[str, list[dict[str, Any]]]
    missing: list[str]
    # hub name -> (location, gateway name, test VM names): how a person reads the lab
    hubs: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "topology": self.topology,
            "resource_group": self.resource_group,
            "deployed": self.deployed,
            "resources": self.resources,
            "connections": self.connections,
            "gateways": self.gateways,
            "effectiveRoutes": self.effective_routes,
            "missing": self.missing,
        }


def _ordered_resources(plan: Plan, observed: Observed) -> Iterable[tuple[str, Any]]:
    for step in plan.steps:
        if step.kind == "resource_group":
            continue
        model = observed.get(step.key)
        if step.kind == "network_watcher":  # the region's watcher, wherever it lives
            model = next(
                (w for w in observed.watchers if w.location == step.location),
                None,
            )
        if model is not None:
            yield step.key, model


def status(plan: Plan, clients: Clients) -> Status:
    topology = plan.topology
    group = topology.resource_group
    observed = observe(clients, group, partial(_diagnostic_calls, plan, clients))
    target = clients.target.name
    if observed.group is None:
        return Status(
            target, topology.name, group, False, [], [], [], {}, [s.key for s in plan.steps]
        )
    resources = [
        {
            "id": observed.group.id,
            "type": KINDS[Kind.RESOURCE_GROUP].arm_type,
            "name": group,
            "provisioningState": state_of(observed.group.properties),
        }
    ]
    for key, model in _ordered_resources(plan, observed):
        resources.append(_entry(key, model))
    for key, model in observed.resources.items():
        if key not in plan.by_key:  # found in the group, not (or no longer) in the topology
            resources.append({**_entry(key, model), "inTopology": False})
    connections = []
    for step in plan.steps:
        if step.kind == "connection":
            conn = observed.get(step.key)
            if conn is not None:
                connections.append(
                    {
                        "name": conn.name,
                        "connectionStatus": text(conn.connection_status or "Unknown"),
                        "provisioningState": state_of(conn),
                    }
                )
    gateways, routes = _diagnostics(plan, observed)
    missing = [
        s.key
        for s in plan.steps
        if s.kind != "resource_group"
        and observed.get(s.key) is None
        and not _watcher_present(s, observed)
    ]
    return Status(
        target,
        topology.name,
        group,
        True,
        resources,
        connections,
        gateways,
        routes,
        missing,
        hubs_of(plan),
    )


def hubs_of(plan: Plan) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """Each hub's location, gateway and the test VMs of its VNet set."""
    vm_of = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    out = {}
    for hub in plan.topology.hubs:
        networks = [hub.name, *(spoke.name for spoke in hub.spokes)]
        vms = tuple(vm_of[naming.nic(n)] for n in networks if naming.nic(n) in vm_of)
        out[hub.name] = (hub.location, hub.gateway_name, vms)
    return out


def _entry(key: str, model: Any) -> dict[str, Any]:
    return {
        "id": model.id,
        "type": KINDS[Kind(key.split(":", 1)[0])].arm_type,
        "name": model.name,
        "provisioningState": state_of(model),
    }


def _watcher_present(step: Any, observed: Observed) -> bool:
    return step.kind == "network_watcher" and any(
        w.location == step.location for w in observed.watchers
    )


def _diagnostic_calls(
    plan: Plan, clients: Clients, observed: Observed
) -> dict[str, Callable[[], Any]]:
    """BGP peers, learned routes and effective routes of what is Succeeded."""
    group = plan.topology.resource_group
    net = clients.network
    calls: dict[str, Callable[[], Any]] = {}
    for step in plan.steps:
        model = observed.get(step.key)
        if model is None or state_of(model) != "Succeeded":
            continue
        if step.kind == "virtual_network_gateway":
            name = model.name
            gateway_ops = net.virtual_network_gateways
            calls[f"peers:{name}"] = partial(
                _lro, gateway_ops.begin_get_bgp_peer_status, group, name
            )
            calls[f"learned:{name}"] = partial(
                _lro, gateway_ops.begin_get_learned_routes, group, name
            )
        elif step.kind == "virtual_machine" and isinstance(step.spec, VmSpec):
            nic = observed.get(step_key("network_interface", step.spec.network_interface))
            if nic is None:
                continue
            calls[f"routes:{model.name}"] = partial(
                _lro, net.network_interfaces.begin_get_effective_route_table, group, nic.name
            )
    return calls


def _diagnostics(
    plan: Plan, observed: Observed
) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The answers to ``_diagnostic_calls``, in status's JSON shape."""
    results = observed.extra
    gateways = [
        observed.resources[s.key]
        for s in plan.steps
        if s.kind == "virtual_network_gateway" and f"peers:{s.name}" in results
    ]
    out_gateways = []
    for gw in gateways:
        peers = results.get(f"peers:{gw.name}")
        learned = results.get(f"learned:{gw.name}")
        bgp = gw.bgp_settings
        out_gateways.append(
            {
                "name": gw.name,
                "asn": bgp.asn if bgp else None,
                "bgpPeeringAddress": bgp.bgp_peering_address if bgp else None,
                "peers": []
                if _failed(peers)
                else [
                    {
                        "neighbor": p.neighbor,
                        "asn": p.asn,
                        "state": text(p.state),
                        "routesReceived": p.routes_received,
                    }
                    for p in _values(peers)
                ],
                "learnedRoutes": []
                if _failed(learned)
                else [
                    {
                        "network": r.network,
                        "nextHop": r.next_hop,
                        "origin": text(r.origin),
                        "asPath": r.as_path or "",
                    }
                    for r in _values(learned)
                ],
            }
        )
    routes: dict[str, list[dict[str, Any]]] = {}
    for key, value in results.items():
        if key.startswith("routes:") and not _failed(value):
            routes[key.split(":", 1)[1]] = [
                {
                    "addressPrefix": list(r.address_prefix or []),
                    "nextHopType": text(r.next_hop_type),
                    "source": text(r.source),
                    "state": text(r.state),
                    "nextHopIpAddress": list(r.next_hop_ip_address or []),
                }
                for r in value.value or []
            ]
    return out_gateways, routes


def _lro(begin: Callable[..., Any], *args: Any) -> Any:
    """Start a POST action and wait for its result (ARM answers it as an LRO)."""
    return begin(*args).result()


def _values(result: Any) -> list[Any]:
    return [] if _failed(result) else list(result.value or [])


def _failed(value: Any) -> bool:
    return value is None or isinstance(value, Exception)


# ------------------------------------------------------------------ verify


@dataclass(frozen=True)
class Probe:
    source: str  # VM name
    destination: str
    address: str
    expected: bool
    reachable: bool | None  # None: could not be measured
    hops: tuple[str, ...]
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.destination,
            "address": self.address,
            "expected": self.expected,
            "reachable": self.reachable,
            "hops": list(self.hops),
            **({"detail": self.detail} if self.detail else {}),
        }


def predicted_probes(plan: Plan, port: int) -> list[Probe]:
    """The prediction in verify's shape: predicted addresses and hops, before anything exists."""
    from hubvpn import routing
    from hubvpn.plan import NicSpec, predicted_network

    nic_to_vm = {s.spec.network_interface: s.name for s in plan.steps if isinstance(s.spec, VmSpec)}
    address = {s.name: s.spec.predicted_ip for s in plan.steps if isinstance(s.spec, NicSpec)}
    traces = routing.reachability(predicted_network(plan), port)
    probes = []
    for (a, b), trace in traces.items():
        if a in nic_to_vm and b in nic_to_vm:
            hops = tuple(h.address for h in trace.hops if h.address and "/" not in h.address)
            probes.append(
                Probe(
                    nic_to_vm[a],
                    nic_to_vm[b],
                    address[b],
                    trace.reachable,
                    trace.reachable,
                    hops if trace.reachable else (),
                    "" if trace.reachable else trace.reason,
                )
            )
    return probes


def predicted(plan: Plan, port: int) -> dict[tuple[str, str], bool]:
    """Reachability between test VMs that the routing model predicts from the topology."""
    return {(p.source, p.destination): p.expected for p in predicted_probes(plan, port)}


def verify(plan: Plan, clients: Clients, port: int) -> list[Probe]:
    """All-pairs connectivity checks between the test VMs, beside the prediction."""
    expected = predicted(plan, port)
    vms = [s for s in plan.steps if isinstance(s.spec, VmSpec)]
    addresses: dict[str, str] = {}
    problems: dict[str, str] = {}

    def checks(observed: Observed) -> dict[str, Callable[[], Any]]:
        """The probes, sent in observe's second round (they need only its first)."""
        for step in vms:
            assert isinstance(step.spec, VmSpec)
            nic = observed.get(step_key("network_interface", step.spec.network_interface))
            if nic is not None and nic.ip_configurations:
                addresses[step.name] = nic.ip_configurations[0].private_ip_address
        watchers = {w.location: w for w in observed.watchers}
        calls: dict[str, Callable[[], Any]] = {}
        for src in vms:
            vm = observed.get(src.key)
            watcher = watchers.get(src.location)
            for dst in vms:
                if src is dst:
                    continue
                pair = f"{src.name}>{dst.name}"
                if vm is None or state_of(vm) != "Succeeded":
                    problems[pair] = f"{src.name} is not deployed"
                elif dst.name not in addresses:
                    problems[pair] = f"{dst.name} has no address"
                elif watcher is None:
                    problems[pair] = f"no network watcher in {src.location}"
                else:
                    calls[pair] = _check(clients, watcher, vm.id, addresses[dst.name], port)
        return calls

    results = observe(clients, plan.topology.resource_group, checks).extra
    probes = []
    for src in vms:
        for dst in vms:
            if src is dst:
                continue
            pair = f"{src.name}>{dst.name}"
            want = expected.get((src.name, dst.name), False)
            address = addresses.get(dst.name, "")
            result = results.get(pair)
            if pair in problems or isinstance(result, Exception) or result is None:
                if pair in problems:
                    detail = problems[pair]
                elif result is None:
                    detail = f"{plan.topology.name} is not deployed"
                else:
                    detail = f"{error_code(result) or type(result).__name__}: "
                    detail += error_message(result)
                probes.append(Probe(src.name, dst.name, address, want, None, (), detail))
                continue
            reachable = text(result.connection_status) in ("Reachable", "Connected")
            hops = tuple(h.address for h in result.hops or [] if h.address and "/" not in h.address)
            issue = ""
            for hop in result.hops or []:
                for found in hop.issues or []:
                    for ctx in found.context or []:
                        issue = issue or "; ".join(f"{v}" for v in ctx.values())
            probes.append(
                Probe(
                    src.name, dst.name, address, want, reachable, hops if reachable else (), issue
                )
            )
    return probes


def _check(
    clients: Clients, watcher: Any, vm_id: str, address: str, port: int
) -> Callable[[], Any]:
    from azure.mgmt.network import models as n

    parts = watcher.id.split("/")
    group, name = parts[4], parts[-1]
    params = n.ConnectivityParameters(
        source=n.ConnectivitySource(resource_id=vm_id),
        destination=n.ConnectivityDestination(address=address, port=port),
        protocol="Tcp",
    )
    return lambda: clients.network.network_watchers.begin_check_connectivity(
        group, name, params
    ).result()
