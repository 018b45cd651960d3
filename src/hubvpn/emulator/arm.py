"""The pieces every resource type shares: ids, the world, kinds, long-running operations.

A *kind* (one per ARM resource type, in ``resources/``) validates a PUT body
into the resource's stored representation, renders it with the fields Azure
computes, guards deletes, and answers POST actions. The world (``World``) is
one transaction over the store plus the emulator's clock and fault dice.

Provisioning follows the wall clock: a write records ``pending.until``; until
then the resource shows its transient state (``Updating``, ``Creating``,
``Deleting``) and its operation answers ``InProgress``; any request after that
moment settles it (``settle``) to ``Succeeded``/``Failed`` or removes it.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from hubvpn.emulator import errors
from hubvpn.emulator.store import Record, Tx, clone
from hubvpn.emulator.types import RESOURCE_GROUP

Body = dict[str, Any]
View = Literal["get", "list", "put"]  # which answer a resource is rendered for
Action = Callable[["World", Record, Body], tuple[Body, float]]

RG_TYPE = RESOURCE_GROUP


@dataclass(frozen=True)
class ResourceId:
    """A parsed ARM id: /subscriptions/s/resourceGroups/g/providers/ns/type/name[/child/name]."""

    subscription: str
    group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def type(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def parent(self) -> ResourceId | None:
        if len(self.types) == 1:
            return None
        return ResourceId(
            self.subscription, self.group, self.namespace, self.types[:-1], self.names[:-1]
        )

    def __str__(self) -> str:
        tail = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names, strict=True))
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.group}"
            f"/providers/{self.namespace}/{tail}"
        )

    @property
    def key(self) -> str:
        return str(self).lower()


def normalize_location(location: str) -> str:
    """ARM stores a region by its name: "Central US" and "centralus" are one region."""
    return location.replace(" ", "").lower()


def group_id(subscription: str, group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}"


_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/(?P<ns>[^/]+)/(?P<rest>.+)$",
    re.IGNORECASE,
)


def parse_id(text: str) -> ResourceId | None:
    """Parse an ARM resource id; None when it is not one."""
    match = _ID.match(text.strip())
    if match is None:
        return None
    rest = match["rest"].strip("/").split("/")
    if len(rest) % 2:
        return None
    return ResourceId(match["sub"], match["rg"], match["ns"], tuple(rest[0::2]), tuple(rest[1::2]))


@dataclass(frozen=True)
class Faults:
    """HUBVPN_EMULATOR_FAULTS: throttle=0.2,error=0.1,lro_fail=0.05,seed=7."""

    throttle: float = 0.0
    error: float = 0.0
    lro_fail: float = 0.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str) -> Faults:
        values: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in ("throttle", "error", "lro_fail", "seed"):
                raise ValueError(
                    f"HUBVPN_EMULATOR_FAULTS: '{part}' is not one of throttle=P, error=P, "
                    "lro_fail=P, seed=N"
                )
            try:
                values[key.strip()] = float(value)
            except ValueError:
                raise ValueError(f"HUBVPN_EMULATOR_FAULTS: '{part}' needs a number") from None
        seed = values.pop("seed", None)
        for key, p in values.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"HUBVPN_EMULATOR_FAULTS: {key}={p} must be between 0 and 1")
        return cls(seed=None if seed is None else int(seed), **values)

    @property
    def any(self) -> bool:
        return bool(self.throttle or self.error or self.lro_fail)


@dataclass
class Settings:
    """How the emulator behaves: speed, faults, latency (from HUBVPN_EMULATOR_*)."""

    speed: float = 180.0  # Azure seconds per wall second: a 30-minute gateway takes 10 s
    faults: Faults = field(default_factory=Faults)
    latency_ms: float = 0.0
    # Azure creates NetworkWatcher_<region> in NetworkWatcherRG on a region's first VNet
    # write unless the subscription opted out (HUBVPN_EMULATOR_NO_AUTO_WATCHER=1: False).
    auto_network_watcher: bool = True
    # When to poll again: "remaining" (the operation's time left: one poll lands when it
    # ends) or "azure" (ARM's hints as recorded: a kind's first answer, then 10, 20, 20,
    # 40, 40, 80, 160, 100, 100 ... Azure seconds, whatever is left).
    # HUBVPN_EMULATOR_RETRY_AFTER.
    retry_after: str = "remaining"

    def __post_init__(self) -> None:
        self.dice = random.Random(self.faults.seed)

    def wall_s(self, azure_s: float) -> float:
        return azure_s / self.speed


# Codes an injected LRO failure ends with: two that Azure documents as
# retryable, one that is not (the client must report it and go on).
LRO_FAILURE_CODES = (
    (
        "RetryableErrorDueToAnotherOperation",
        "Operation could not be completed because another "
        "operation is being performed on the same or a dependent resource. Retry later.",
    ),
    (
        "AnotherOperationInProgress",
        "Another operation on this or dependent resource is in "
        "progress. Retry the operation after it completes.",
    ),
    ("InternalServerError", "An error occurred while provisioning the resource (injected)."),
)


class World:
    """One request's view: a transaction, the clock and the settings."""

    def __init__(self, tx: Tx, settings: Settings, base_url: str, path: str = "") -> None:
        self.tx = tx
        self.path = path
        self.now = tx.now
        self.settings = settings
        self.base_url = base_url

    # reading ---------------------------------------------------------------
    def get(self, rid: str) -> Record | None:
        return self.tx.get(rid)

    def select(
        self, type_: str | None = None, group: str | None = None, parent: str | None = None
    ) -> list[Record]:
        return self.tx.select(type_=type_, group=group, parent=parent)

    def referrers(self, target: str, type_: str | None = None) -> list[Record]:
        """Records (of ``type_``) whose body references ``target`` by id: who uses it."""
        return self.tx.referrers(target, type_)

    # reading without copies: the store's own records, never to be changed -------
    def peek(self, rid: str) -> Record | None:
        """``get`` without the copy, for a reader that never changes the record."""
        return self.tx.peek(rid)

    def peek_select(
        self, type_: str | None = None, group: str | None = None, parent: str | None = None
    ) -> list[Record]:
        """``select`` without copies, for a reader that never changes the records."""
        return self.tx.peek_select(type_=type_, group=group, parent=parent)

    def peek_referrers(self, target: str, type_: str | None = None) -> list[Record]:
        """``referrers`` without copies, for a reader that never changes the records."""
        return self.tx.peek_referrers(target, type_)

    def reference(self, ref: Any, by: str, *, kind: str | None = None) -> Record:
        """The record a body's ``{"id": ...}`` points at; InvalidResourceReference if none."""
        rid = ref.get("id") if isinstance(ref, dict) else None
        if not isinstance(rid, str):
            raise errors.InvalidRequestBody(f"A reference in {by} needs an 'id' string.")
        rec = self.get(rid)
        if rec is None or (kind is not None and rec["type"].lower() != kind.lower()):
            raise errors.InvalidResourceReference(rid, by)
        return rec

    def succeeded(self, rec: Record, by: str) -> Record:
        """Raise ReferencedResourceNotProvisioned unless ``rec`` is Succeeded."""
        state = provisioning_state(rec)
        if state != "Succeeded":
            raise errors.ReferencedResourceNotProvisioned(rec["id"], by, state, rec["type"])
        return rec

    # writing ---------------------------------------------------------------
    def put(self, rec: Record) -> None:
        self.tx.put(rec)

    def start(self, rec: Record, kind: str, azure_s: float, transient: str) -> Record:
        """Begin a long-running operation on ``rec``; returns the operation record."""
        op_id = str(uuid.uuid4())
        until = self.now + self.settings.wall_s(azure_s)
        outcome: dict[str, Any] = {"status": "Succeeded"}
        lro_fail = self.settings.faults.lro_fail
        if kind != "post" and lro_fail and self.settings.dice.random() < lro_fail:
            code, message = self.settings.dice.choice(LRO_FAILURE_CODES)
            outcome = {"status": "Failed", "error": {"code": code, "message": message}}
        rec["pending"] = {
            "op": op_id,
            "kind": kind,
            "until": until,
            "transient": transient,
            **outcome,
        }
        rec["etag"] = f'W/"{uuid.uuid4()}"'
        op = {
            "name": op_id,
            "resource": rec["id"],
            "namespace": rec["type"].split("/")[0],
            "location": rec.get("location") or "global",
            "kind": kind,
            "start": self.now,
            "until": until,
            **outcome,
        }
        self.tx.put_operation(op)
        return op

    def finished(self, rec: Record, kind: str) -> Record:
        """An operation on ``rec`` that ended Succeeded as it began (a synchronous PUT)."""
        op = {
            "name": str(uuid.uuid4()),
            "resource": rec["id"],
            "namespace": rec["type"].split("/")[0],
            "location": rec.get("location") or "global",
            "kind": kind,
            "start": self.now,
            "until": self.now,
            "status": "Succeeded",
        }
        self.tx.put_operation(op)
        return op

    def op_urls(self, op: Record) -> tuple[str, str]:
        """(Azure-AsyncOperation, Location) URLs of an operation."""
        sub = parse_subscription(op["resource"])
        base = (
            f"{self.base_url}/subscriptions/{sub}/providers/{op['namespace']}"
            f"/locations/{op['location']}"
        )
        query = "?api-version=2026-03-01"
        return (
            f"{base}/operations/{op['name']}{query}",
            f"{base}/operationResults/{op['name']}{query}",
        )


def parse_subscription(rid: str) -> str:
    return rid.strip("/").split("/")[1]


# ARM's retry hints as recorded: an operation's first answer says 10 s for most kinds;
# while it runs, its status answers 10, 20, 20, 40, 40, 80, 160, then 100 s, by poll,
# whenever the client polls (a gateway create polled by the Go SDK as told and by .NET
# after 1 s: TestVirtualNetworkGatewayTestSuite, VirtualNetworkGatewayConnectionWithBgpTest
# in Azure/azure-sdk-assets; connection creates and deletes start the same way).
AZURE_HINT_S = 10.0
AZURE_POLL_HINTS_S = (10.0, 20.0, 20.0, 40.0, 40.0, 80.0, 160.0)
AZURE_LATER_HINT_S = 100.0
RETRY_AFTER_MODES = ("remaining", "azure")


def azure_poll_hint_s(polls: int) -> float:
    """ARM's hint on the ``polls``-th InProgress answer of one operation (from 0)."""
    return AZURE_POLL_HINTS_S[polls] if polls < len(AZURE_POLL_HINTS_S) else AZURE_LATER_HINT_S


def retry_after(remaining_s: float) -> dict[str, str]:
    """Tell a poller when to come back: whole seconds as ARM does, then the rest in ms.

    ``Retry-After: 0`` makes azure-core fall back to its 30 s default, so below
    one second the hint goes in ``retry-after-ms`` instead (also read by azure-core).
    """
    if remaining_s >= 1.0:
        return {"Retry-After": str(int(remaining_s))}
    return {"retry-after-ms": str(max(1, math.ceil(remaining_s * 1000.0)))}


def provisioning_state(rec: Record) -> str:
    pending = rec.get("pending")
    if pending:
        return str(pending["transient"])
    return str(rec.get("state", "Succeeded"))


def settle(tx: Tx, now: float, on_removed: Callable[[Tx, Record], None]) -> None:
    """Finish every operation whose time has come (called at the start of each request)."""
    for rec in tx.due(now):
        pending = rec["pending"]
        if pending["kind"] == "delete" and pending["status"] == "Succeeded":
            on_removed(tx, rec)
            continue
        rec["pending"] = None
        if pending["kind"] == "post":
            continue
        rec["state"] = pending["status"]
        tx.put(rec)


class Kind:
    """One ARM resource type. Subclasses set the class attributes and override hooks."""

    type: ClassVar[str]
    create_s: ClassVar[float] = 5.0  # Azure's typical duration, seconds
    update_s: ClassVar[float] = 5.0
    delete_s: ClassVar[float] = 5.0
    # Retry-After (Azure seconds) of a PUT's and a DELETE's first answer, as recorded in
    # Azure/azure-sdk-assets (tests/recorded/): 10 unless a kind says otherwise.
    put_hint_s: ClassVar[float] = AZURE_HINT_S
    delete_hint_s: ClassVar[float] = AZURE_HINT_S
    creating_state: ClassVar[str] = "Updating"
    updating_state: ClassVar[str] = "Updating"
    has_location: ClassVar[bool] = True
    synchronous: ClassVar[bool] = False  # PUT completes in the response (no LRO)
    announces_operation: ClassVar[bool] = False  # ...yet answers an Azure-AsyncOperation
    actions: ClassVar[dict[str, Action]] = {}
    action_announces_operation: ClassVar[bool] = False  # POST 202 adds Azure-AsyncOperation
    # Properties Azure leaves out of some answers (e.g. runtime fields of a LIST).
    omit: ClassVar[dict[View, tuple[str, ...]]] = {}

    def validate(self, w: World, rid: ResourceId, body: Body, old: Record | None) -> Body:
        """Check a PUT body; return the stored representation (``properties`` etc.)."""
        return body

    def render(self, w: World, rec: Record) -> Body:
        """The resource as GET returns it, with fields Azure computes."""
        return body_copy(rec)

    def check_delete(self, w: World, rec: Record) -> None:
        """Raise when Azure refuses to delete (resource in use)."""

    def after_put(self, w: World, rec: Record, old: Record | None) -> None:
        """Side effects of a PUT on other records (e.g. subnets of a VNet)."""

    def create_duration(self, w: World, rec: Record, old: Record | None) -> float:
        return self.create_s if old is None else self.update_s


def body_copy(rec: Record) -> Body:
    """A deep copy of a record's stored representation, to render from."""
    out: Body = clone(rec["body"])
    return out


def new_group_record(subscription: str, group: str, location: str) -> Record:
    """A resource group as the store keeps it (tags go in ``body``)."""
    return {
        "id": group_id(subscription, group),
        "type": RG_TYPE,
        "group": group,
        "name": group,
        "parent": None,
        "location": location,
        "state": "Succeeded",
        "pending": None,
        "etag": None,
        "guid": str(uuid.uuid4()),
        "body": {},
    }


def new_record(rid: ResourceId, location: str | None) -> Record:
    parent = rid.parent
    return {
        "id": str(rid),
        "type": rid.type,
        "group": rid.group,
        "name": rid.name,
        "parent": str(parent) if parent else None,
        "location": location,
        "state": "Succeeded",
        "pending": None,
        "etag": f'W/"{uuid.uuid4()}"',
        "guid": str(uuid.uuid4()),
        "body": {},
    }


def strip_readonly(props: Body, fields: tuple[str, ...]) -> Body:
    return {k: v for k, v in props.items() if k not in fields}


def expect_type(value: Any, expected: type | tuple[type, ...], path: str) -> Any:
    """400 InvalidRequestFormat when a known field has the wrong JSON type."""
    if value is None:
        return None
    ok = isinstance(value, expected) and not (
        isinstance(value, bool) and expected in (int, float, (int, float))
    )
    if not ok:
        names = (
            " or ".join(t.__name__ for t in expected)
            if isinstance(expected, tuple)
            else expected.__name__
        )
        raise errors.InvalidRequestBody(
            f"Cannot parse the request: property '{path}' has a value of type "
            f"{type(value).__name__}; expected {_json_name(names)}.",
            target=path,
        )
    return value


def _json_name(py: str) -> str:
    return {
        "str": "string",
        "int": "integer",
        "float": "number",
        "bool": "boolean",
        "dict": "object",
        "list": "array",
    }.get(py, py)
