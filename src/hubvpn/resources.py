"""Plan steps as Azure SDK calls: the desired model of each step, how it differs from
what exists (only in the fields hubvpn owns), and the SDK call that writes it.

``deploy`` decides when; this module decides what, by the kind's ``Body``, declared
in the module of its area (``kinds/network.py``, ``vpn.py``, ``compute.py``,
``watcher.py``, ``group.py``)::

    model = desired(step, ctx)                  # the SDK model to PUT
    changes = differences(step, existing, ctx)  # [("bgpSettings.asn", 65150, 65160)]
    wait = begin_put(step, updated(step, existing, ctx), ctx)
    result = wait()

``Context`` is what a body sees of the run: the clients, the plan, what was
observed and what this run wrote, the SSH key and the pairs' shared keys.
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hubvpn import kinds, naming
from hubvpn.azure import Clients
from hubvpn.kinds import KINDS, Kind, compute, group, network, vpn, watcher
from hubvpn.kinds.body import Body, Change, add_lab_tag
from hubvpn.observe import Observed
from hubvpn.plan import Plan, Step, step_key


class SharedKeys:
    """One pre-shared key per hub pair: HUBVPN_SHARED_KEY, else the key an existing
    connection of the pair already has (read back from Azure), else a new random one."""

    def __init__(
        self, clients: Clients, group: str, fixed: str | None, observed: Observed | None = None
    ) -> None:
        self._clients = clients
        self._group = group
        self._fixed = fixed
        # A GET of a connection carries its sharedKey (azure-facts.md, LIST vs GET): what
        # observe read answers without one more request per connection.
        self._observed = observed
        self._keys: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def current(self, connection: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        if self._observed is not None:
            known = getattr(
                self._observed.get(step_key("connection", connection)), "shared_key", None
            )
            if known:
                return str(known)
        try:
            found = self._clients.network.virtual_network_gateway_connections.get_shared_key(
                self._group, connection
            )
        except ResourceNotFoundError:
            return None
        value = found.value
        return str(value) if value else None

    def for_pair(self, pair: tuple[str, str], existing: list[str]) -> str:
        with self._lock:
            if self._fixed:
                return self._fixed
            if pair not in self._keys:
                for connection in existing:
                    key = self.current(connection)
                    if key:
                        self._keys[pair] = key
                        break
                else:
                    self._keys[pair] = secrets.token_urlsafe(32)
            return self._keys[pair]


@dataclass
class Context:
    clients: Clients
    plan: Plan
    observed: Observed
    ssh_public_key: str | None
    shared_keys: SharedKeys
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return self.plan.topology.resource_group

    @property
    def tags(self) -> dict[str, str]:
        return {naming.TAG: self.plan.topology.name}

    def rid(self, kind: Kind, name: str) -> str:
        """The ARM id of a top-level resource of the lab's group."""
        return (
            f"/subscriptions/{self.clients.subscription_id}/resourceGroups/{self.group}"
            f"/providers/{KINDS[kind].arm_type}/{name}"
        )

    def subnet_id(self, vnet: str, subnet: str) -> str:
        return f"{self.rid(Kind.VIRTUAL_NETWORK, vnet)}/subnets/{subnet}"

    def model(self, kind: Kind, name: str, parent: str | None = None) -> Any | None:
        """A resource as last written in this run, else as observed."""
        key = step_key(kind, name, parent)
        return self.results.get(key) or self.observed.get(key)


# ------------------------------------------------------------------- bodies

BODIES: dict[Kind, Body] = {
    **group.BODIES,
    **network.BODIES,
    **vpn.BODIES,
    **compute.BODIES,
    **watcher.BODIES,
}


def body(step: Step) -> Body:
    return BODIES[Kind(step.kind)]


def desired(step: Step, ctx: Context) -> Any:
    """The SDK model to PUT for a step."""
    return body(step).desired(step, ctx)


def differences(step: Step, existing: Any, ctx: Context) -> list[Change]:
    """The owned fields where what exists differs from the plan, as (path, old, new)
    triples in the ARM body's words (empty: leave it). LookupError when an input is
    not known yet (the remote gateway of a local network gateway is still to come)."""
    found: list[Change] = []
    owner = (getattr(existing, "tags", None) or {}).get(naming.TAG)
    if body(step).tagged and owner != ctx.plan.topology.name:
        found.append((f"tags.{naming.TAG}", owner, ctx.plan.topology.name))
    return found + body(step).differences(step, existing, ctx)


def updated(step: Step, existing: Any, ctx: Context) -> Any:
    """The model to PUT over an existing resource; what was observed stays as observed."""
    existing = copy.deepcopy(existing)  # a body may change it and re-send it
    declared = body(step)
    if declared.updated is not None:
        return declared.updated(step, existing, ctx)
    model = declared.desired(step, ctx)
    return add_lab_tag(model, ctx, kept=existing) if declared.tagged else model


# ------------------------------------------------------------------- writing


def begin_put(step: Step, model: Any, ctx: Context) -> Callable[[], Any]:
    """Start the write; returns the wait (the poller's result)."""
    put = body(step).put
    if put is not None:
        return put(step, model, ctx)
    return kinds.begin_put(ctx.clients, ctx.group, step.kind, step.name, step.parent, model)


def read(step: Step, ctx: Context) -> Any | None:
    """GET one resource (None when it does not exist)."""
    where = body(step).group or ctx.group
    return kinds.get(ctx.clients, where, step.kind, step.name, step.parent)
