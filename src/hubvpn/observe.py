"""The read layer: what exists in a lab's resource group, in two rounds of concurrent reads.

``observe`` lists every resource type of the group at once (and the watchers of
the subscription); the second round reads what needs the first's answers: the VM
extensions, each connection by GET (a LIST carries no runtime fields), and any
calls the caller adds (status's BGP queries, verify's connectivity checks)::

    observed = observe(clients, "rg-multi-hub-vpn")
    state_of(observed.get("virtual_network_gateway:vpngw-hub01"))   # "Succeeded"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from hubvpn import naming
from hubvpn.azure import PARALLEL_READS, Clients
from hubvpn.errors import OwnershipError
from hubvpn.interrupts import completed, ctrl_c_noted, outcome_of
from hubvpn.kinds import KINDS
from hubvpn.plan import step_key

# The api-version of azure-mgmt-network's generated operations (its ``list`` and ``get``
# of connections send it); the raw LIST below sends the same (tests pin the equality).
NETWORK_API_VERSION = "2026-03-01"
TRANSIENT_STATES = frozenset({"Updating", "Creating", "Deleting", "Provisioning", "Migrating"})


def state_of(model: Any) -> str:
    """provisioningState as text (the SDK gives enums that print as ProvisioningState.X).

    An SDK model is a mapping over its REST body: the state is read from there, as
    ARM sent it (an attribute read serialises and deserialises the value on each read,
    and status and decide read the state of every resource several times)."""
    if isinstance(model, Mapping):
        properties = model.get("properties")
        raw = properties.get("provisioningState") if isinstance(properties, Mapping) else None
        raw = raw if raw is not None else model.get("provisioningState")
        if isinstance(raw, str):
            return text(raw)  # an enum member when a caller built the model
    value = getattr(model, "provisioning_state", None)
    if value is None:
        properties = getattr(model, "properties", None)
        value = getattr(properties, "provisioning_state", None)
    return str(getattr(value, "value", value or "Unknown"))


def field_of(model: Any, name: str) -> Any:
    """A top-level field spelled alike in ARM and the SDK (``id``, ``name``, ``type``) of a
    model or a JSON mapping, read from its REST body when it has one (no
    serialise-deserialise round per read)."""
    if isinstance(model, Mapping):
        return model.get(name)
    return getattr(model, name, None)


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


def parallel(
    calls: dict[str, Callable[[], Any]],
    workers: int = PARALLEL_READS,
    waiting: dict[str, Callable[[], Any]] | None = None,
) -> dict[str, Any]:
    """Run independent reads at once, ``workers`` at a time; results (or the exception
    raised) by name. ``waiting``: calls that mostly wait (long-running POSTs sleeping
    out ARM's Retry-After), each given a thread of its own pool, up to
    PARALLEL_READS, beside the reads."""
    waiting = waiting or {}
    if not calls and not waiting:
        return {}

    pools = [
        (ThreadPoolExecutor(max_workers=min(size, len(group))), group)
        for group, size in ((calls, workers), (waiting, PARALLEL_READS))
        if group
    ]
    # A Ctrl-C is noted, not raised where the main thread waits: the calls waiting for
    # Azure give up (interrupts.result_of), the queued ones never start, then it raises.
    with ctrl_c_noted() as pressed:
        try:
            futures = {
                pool.submit(outcome_of, fn): name
                for pool, group in pools
                for name, fn in group.items()
            }
            return {futures[f]: f.result() for f in completed(futures, pressed)}
        finally:
            for pool, _ in pools:
                pool.shutdown(cancel_futures=True)


def _listers(clients: Clients, group: str) -> dict[str, Callable[[], list[Any]]]:
    """One LIST per kind that has one (its ``KINDS`` row says which operation).
    Connections are listed as JSON (``listed_connections``): most are read again by GET."""
    calls: dict[str, Callable[[], list[Any]]] = {}
    for kind, info in KINDS.items():
        if info.lister is None:
            continue
        if kind.value == "connection":
            calls[kind.value] = partial(listed_connections, clients, group)
            continue
        operations = getattr(getattr(clients, info.client), info.operations)
        args = () if info.subscription_wide else (group,)
        calls[kind.value] = partial(_listed, getattr(operations, info.lister), *args)
    return calls


def _listed(lister: Callable[..., Any], *args: str) -> list[Any]:
    return list(lister(*args))


def listed_connections(
    clients: Clients, group: str, page_size: int | None = None
) -> list[dict[str, Any]]:
    """The group's connections as ARM's JSON, every page (``nextLink``).

    The same request as the SDK's ``virtual_network_gateway_connections.list`` through
    the same client pipeline (policies, retry), without building an SDK model per item:
    ``observe`` reads most connections again by GET, so their LIST models would be
    thrown away. Errors raise as the SDK's list raises them (ResourceNotFoundError for
    a missing group, HttpResponseError with the ARM code otherwise). ``page_size``:
    ``$top`` (ARM's default page otherwise).
    """
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ResourceNotModifiedError,
        map_error,
    )
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.exceptions import ARMErrorFormat

    error_map: dict[int, type[HttpResponseError]] = {
        401: ClientAuthenticationError,
        404: ResourceNotFoundError,
        409: ResourceExistsError,
        304: ResourceNotModifiedError,
    }
    params = {"api-version": NETWORK_API_VERSION}
    if page_size is not None:
        params["$top"] = str(page_size)
    path = (
        f"/subscriptions/{clients.subscription_id}/resourceGroups/{group}"
        "/providers/Microsoft.Network/connections"
    )
    request = HttpRequest("GET", path, params=params, headers={"Accept": "application/json"})
    items: list[dict[str, Any]] = []
    while True:
        response = clients.network.send_request(request)
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=error_map)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        body = response.json()
        items.extend(body.get("value") or [])
        next_link = body.get("nextLink")
        if not next_link:
            return items
        request = HttpRequest("GET", next_link, headers={"Accept": "application/json"})


def connection_model(item: dict[str, Any]) -> Any:
    """The SDK model of one connection's JSON (as the SDK's list would have built it)."""
    from azure.mgmt.network.models import VirtualNetworkGatewayConnection

    return VirtualNetworkGatewayConnection(item)


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    """A LIST item's identity and provisioning state (its other properties dropped)."""
    summary = {k: v for k, v in item.items() if k != "properties"}
    state = (item.get("properties") or {}).get("provisioningState")
    if state is not None:
        summary["properties"] = {"provisioningState": state}
    return summary


More = Callable[[Observed], dict[str, Callable[[], Any]]]


def observe(
    clients: Clients,
    group: str,
    more: More | None = None,
    connections: frozenset[str] | None = None,
) -> Observed:
    """Everything in the resource group, in two rounds of concurrent reads.

    ``more`` adds calls that need the first round's answers to the second round
    (status's BGP and route queries), so they cost no extra round trip; their
    results land in ``Observed.extra``. ``connections``: only these are read again by
    GET (a view of one hub); the others keep what the LIST said (no runtime fields).
    """
    calls: dict[str, Callable[[], Any]] = {
        "resource_group": lambda: clients.resource.resource_groups.get(group),
        **_listers(clients, group),
    }
    results = parallel(calls, clients.parallel_reads)
    rg = results.pop("resource_group")
    if isinstance(rg, Exception):
        if not_found(rg):
            # The region's watchers live outside the group: they exist without it.
            watchers = results.get("network_watcher")
            return Observed(None, watchers=watchers if isinstance(watchers, list) else [])
        raise rg
    observed = Observed(rg)
    listed: dict[str, dict[str, Any]] = {}
    for kind, items in results.items():
        if isinstance(items, Exception):
            if not_found(items):
                continue
            raise items
        if kind == "network_watcher":
            observed.watchers = items
            continue
        if kind == "connection":
            listed = {str(item["name"]): item for item in items}
            continue
        for item in items:
            observed.resources[step_key(kind, item.name)] = item
            if kind == "virtual_network":
                for peering in item.virtual_network_peerings or []:
                    observed.resources[step_key("peering", peering.name, item.name)] = peering
    vms = [m.name for k, m in observed.resources.items() if k.startswith("virtual_machine:")]
    # Azure's LIST of connections carries no runtime fields (connectionStatus, sharedKey,
    # tunnel and byte counters); only a GET of one connection does (azure-facts.md).
    read_again = [name for name in listed if connections is None or name in connections]
    for name, item in listed.items():
        # One read again gets its GET's model; until then, if ``more`` reads the first
        # round, its LIST item's summary as JSON (a mapping: ``state_of`` and
        # ``field_of`` read it): no model built only to be replaced.
        if connections is not None and name not in connections:
            observed.resources[step_key("connection", name)] = connection_model(item)
        elif more is not None:
            observed.resources[step_key("connection", name)] = _summary(item)
    second: dict[str, Callable[[], Any]] = {
        **{
            f"ext:{vm}": partial(clients.compute.virtual_machine_extensions.list, group, vm)
            for vm in vms
        },
        **{
            f"conn:{name}": partial(
                clients.network.virtual_network_gateway_connections.get, group, name
            )
            for name in read_again
        },
    }
    extra = more(observed) if more is not None else {}
    results = parallel(second, clients.parallel_reads, waiting=extra)
    observed.extra = {k: results[k] for k in extra}
    for vm in vms:
        found = results[f"ext:{vm}"]
        if isinstance(found, Exception):
            if not_found(found):
                continue
            raise found
        for ext in getattr(found, "value", None) or []:
            observed.resources[step_key("vm_extension", ext.name, vm)] = ext
    for name in read_again:
        found = results[f"conn:{name}"]
        if isinstance(found, Exception):
            if not_found(found):  # deleted between the two rounds
                observed.resources.pop(step_key("connection", name), None)
                continue
            raise found
        observed.resources[step_key("connection", name)] = found
    return observed


def owned_by(tags: dict[str, str] | None, topology: str) -> bool:
    return (tags or {}).get(naming.TAG) == topology


def ownership_refusal(group: Any | None, topology: str, refusing: str) -> str | None:
    """Why hubvpn must not write into or delete a resource group, or None: it does so
    only when the group is absent or tagged with this topology."""
    if group is None or owned_by(group.tags, topology):
        return None
    owner = (group.tags or {}).get(naming.TAG)
    whose = f"topology '{owner}'" if owner else "no hubvpn topology (no tag)"
    return (
        f"resource group '{group.name}' belongs to {whose}, not '{topology}': refusing to "
        f"{refusing} it (hubvpn touches only a group tagged {naming.TAG}={topology})"
    )


def check_owner(group: Any | None, topology: str, refusing: str) -> None:
    """The one ownership check (deploy and destroy): OwnershipError when refused."""
    refusal = ownership_refusal(group, topology, refusing)
    if refusal is not None:
        raise OwnershipError(refusal)
