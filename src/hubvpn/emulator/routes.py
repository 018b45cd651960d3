"""The ARM paths the emulator answers: one table of path templates (as moto's ``urls.py``).

Each route is a template and the endpoint that answers it; a resource type's
routes come from its kind (``resources.KINDS``): its lists, the resource, its
POST actions. ``table()`` prints them all; for example::

    /subscriptions/{subscription}                                          SUBSCRIPTION
    /subscriptions/{subscription}/resourceGroups/{group}                   GROUP
    /subscriptions/{subscription}/resourceGroups/{group}/resources         GROUP_RESOURCES
    /subscriptions/{subscription}/providers/Microsoft.Network/virtualNetworks    LIST
    .../resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{name}  RESOURCE
    .../virtualNetworks/{parent}/subnets                                   CHILDREN
    .../virtualNetworkGateways/{name}/getBgpPeerStatus                     ACTION
    .../connections/{name}/sharedkey                                       SHARED_KEY
    /subscriptions/{subscription}/providers/{namespace}/locations/{location}/operations/{operation}

Paths match case-insensitively, as ARM's do. The templates are compiled once
into a tree of path segments (literal segments before placeholders), so a
request is matched in one walk over its segments. A path that matches no
route gets ARM's error for why (``unmatched``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from hubvpn.emulator import errors
from hubvpn.emulator.arm import Action, Kind, ResourceId
from hubvpn.emulator.resources import KINDS, NAMESPACES
from hubvpn.emulator.types import CONNECTION


class Endpoint(enum.Enum):
    """What answers a route (``EmulatorApp`` has one handler for each)."""

    SUBSCRIPTION = "subscription"
    GROUPS = "groups"  # the subscription's resource groups
    GROUP = "group"
    GROUP_RESOURCES = "group resources"  # everything in a group
    LIST = "list"  # a type's resources, in a subscription or a group
    CHILDREN = "children"  # a parent's child resources of a type
    RESOURCE = "resource"
    ACTION = "action"  # POST .../{name}/{action}
    SHARED_KEY = "shared key"  # GET/PUT .../connections/{name}/sharedkey
    OPERATION = "operation"  # Azure-AsyncOperation status
    OPERATION_RESULT = "operation result"  # Location

    @property
    def in_group(self) -> bool:
        """Answered inside an existing group (all but the group itself)."""
        return self is not Endpoint.GROUP


@dataclass(frozen=True)
class Route:
    template: str
    endpoint: Endpoint
    kind: Kind | None = None
    action: Action | None = None
    # Worked out once from the template: where each placeholder sits among the path's
    # segments, the resource's names (a slice of them) and its type spelled as ARM does.
    positions: dict[str, int] = field(init=False, repr=False, compare=False)
    names: slice = field(init=False, repr=False, compare=False)
    type_parts: tuple[str, ...] = field(init=False, repr=False, compare=False)
    in_group: bool = field(init=False)  # the group must exist (and, to write, not be deleted)

    def __post_init__(self) -> None:
        positions = {s.strip("{}"): i for i, s in enumerate(self.segments) if s.startswith("{")}
        at = [positions[p] for p in ("parent", "name") if p in positions]
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "names", slice(at[0], at[-1] + 1, 2) if at else slice(0, 0))
        object.__setattr__(
            self, "type_parts", tuple(self.kind.type.split("/")) if self.kind else ()
        )
        object.__setattr__(self, "in_group", "group" in positions and self.endpoint.in_group)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.template.strip("/").split("/"))


class Match(NamedTuple):  # a tuple: made once per request, cheaply
    """A route and the path's segments, as the request spelled them."""

    route: Route
    parts: list[str]

    def param(self, name: str) -> str:
        """The value of a placeholder: ``param("group")``."""
        return self.parts[self.route.positions[name]]

    @property
    def kind(self) -> Kind:
        assert self.route.kind is not None
        return self.route.kind

    @property
    def resource_id(self) -> ResourceId:
        """The resource the path names (of CHILDREN: the parent), its type spelled as ARM
        spells it whatever the request's casing."""
        route, parts = self.route, self.parts
        names = tuple(parts[route.names])
        group = parts[route.positions["group"]]
        types = route.type_parts[1 : 1 + len(names)]
        return ResourceId(parts[1], group, route.type_parts[0], types, names)


class Response:
    """What an endpoint answers: status, JSON body (None: no body) and headers."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


_SUBSCRIPTION = "/subscriptions/{subscription}"
_GROUP = f"{_SUBSCRIPTION}/resourceGroups/{{group}}"
_PROVIDER_LOCATION = f"{_SUBSCRIPTION}/providers/{{namespace}}/locations/{{location}}"


def kind_routes(kind: Kind) -> list[Route]:
    """A resource type's routes: its lists, the resource itself, its POST actions."""
    namespace, *types = kind.type.split("/")
    provider = f"{_GROUP}/providers/{namespace}"
    if len(types) == 1:
        resource = f"{provider}/{types[0]}/{{name}}"
        routes = [
            Route(f"{_SUBSCRIPTION}/providers/{namespace}/{types[0]}", Endpoint.LIST, kind),
            Route(f"{provider}/{types[0]}", Endpoint.LIST, kind),
        ]
    elif len(types) == 2:
        resource = f"{provider}/{types[0]}/{{parent}}/{types[1]}/{{name}}"
        routes = [Route(resource.removesuffix("/{name}"), Endpoint.CHILDREN, kind)]
    else:
        raise ValueError(f"{kind.type}: the routes go two types deep at most")
    routes.append(Route(resource, Endpoint.RESOURCE, kind))
    for name, action in kind.actions.items():
        routes.append(Route(f"{resource}/{name}", Endpoint.ACTION, kind, action))
    if kind.type == CONNECTION:
        routes.append(Route(f"{resource}/sharedkey", Endpoint.SHARED_KEY, kind))
    return routes


ROUTES: tuple[Route, ...] = (
    Route(_SUBSCRIPTION, Endpoint.SUBSCRIPTION),
    Route(f"{_SUBSCRIPTION}/resourceGroups", Endpoint.GROUPS),
    Route(_GROUP, Endpoint.GROUP),
    Route(f"{_GROUP}/resources", Endpoint.GROUP_RESOURCES),
    *(route for type_ in sorted(KINDS) for route in kind_routes(KINDS[type_])),
    Route(f"{_PROVIDER_LOCATION}/operations/{{operation}}", Endpoint.OPERATION),
    Route(f"{_PROVIDER_LOCATION}/operationResults/{{operation}}", Endpoint.OPERATION_RESULT),
)


@dataclass
class _Node:
    """One path segment of the compiled table: literal children first, then a placeholder."""

    literal: dict[str, _Node] = field(default_factory=dict)
    placeholder: _Node | None = None
    route: Route | None = None


def _compile(routes: tuple[Route, ...]) -> _Node:
    root = _Node()
    for route in routes:
        node = root
        for segment in route.segments:
            if segment.startswith("{"):
                node.placeholder = node.placeholder or _Node()
                node = node.placeholder
            else:
                node = node.literal.setdefault(segment.lower(), _Node())
        if node.route is not None:
            raise ValueError(f"{route.template} repeats {node.route.template}")
        node.route = route
    return root


_TREE = _compile(ROUTES)


def match(parts: list[str], low: list[str]) -> Match | None:
    """The route of a path (its segments, and the same lower-cased), or None.

    One walk down the tree, a literal segment before a placeholder; only where both
    fit (a namespace under ``/providers``) is the placeholder kept to try after."""
    node: _Node | None = _TREE
    i, n = 0, len(low)
    later: list[tuple[_Node, int]] = []
    while node is not None:
        if i == n:
            if node.route is not None:
                return Match(node.route, parts)
            node = None
        else:
            literal = node.literal.get(low[i])
            if literal is None:
                node = node.placeholder
            else:
                if node.placeholder is not None:
                    later.append((node.placeholder, i + 1))
                node = literal
            i += 1
        if node is None and later:
            node, i = later.pop()
    return None


def kind_named(namespace: str, types: list[str]) -> Kind:
    """The kind of ``namespace/types``, or ARM's error for a namespace or type it lacks."""
    if namespace.lower() not in NAMESPACES:
        raise errors.NoRegisteredProviderFound(namespace)
    full = "/".join((namespace, *types)).lower()
    if full not in KINDS:
        raise errors.InvalidResourceType(namespace, "/".join(types))
    return KINDS[full]


def table() -> str:
    """Every route, one a line: the template and its endpoint."""
    width = max(len(r.template) for r in ROUTES)
    return "\n".join(f"{r.template:<{width}}  {r.endpoint.name}" for r in ROUTES)
