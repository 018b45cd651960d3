"""The emulator's ARM front door: a WSGI app that answers ARM paths.

A request's path is matched once against the table of ARM path templates
(``routes``); the route names its endpoint (a resource, a list, a POST action,
a group, an operation) and, for a resource type, its kind (``resources/``),
and the endpoint's handler here answers::

    request -> routes.match -> handler -> kind (validate, render, actions) -> Response

Long-running answers and their polling are ``lro``; the resource group's rules
are ``resources.resource_group``. Every request is logged (method, path,
status, time: never a body) and takes a token from its subscription's bucket
(``limits``).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from hubvpn.emulator import errors, limits, lro, routes
from hubvpn.emulator.arm import (
    RG_TYPE,
    Body,
    Kind,
    ResourceId,
    Settings,
    World,
    group_id,
    new_record,
    normalize_location,
    retry_after,
    settle,
)
from hubvpn.emulator.lro import remove as _remove  # what settling a finished delete does
from hubvpn.emulator.resources import RESOURCE_GROUP_KIND, connection, render_resource
from hubvpn.emulator.routes import Endpoint, Match, Response
from hubvpn.emulator.store import Record, Store, utc_iso

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
Environ = dict[str, Any]

_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
PAGE_SIZE = 100
UNEXPECTED_ERROR = "The server encountered an internal error. Please retry the request."
# Tracebacks of the emulator's own failures: for whoever configures logging (the
# served emulator, a test), never printed to a hubvpn user (no handler of last resort).
_LOG = logging.getLogger(__name__)
logging.getLogger("hubvpn.emulator").addHandler(logging.NullHandler())
THROTTLE_RETRY_S = 10.0  # Azure seconds a throttled client is told to wait
# Retry-After of a resource group DELETE, as recorded (tests/recorded/: 15 s).
GROUP_DELETE_HINT_S = 15.0
_WRITES = frozenset({"PUT", "PATCH", "DELETE"})  # into a group: refused while it is deleted


@dataclass(frozen=True)
class Request:
    """What a handler reads of a request besides its path."""

    method: str
    query: dict[str, list[str]]
    body: Body
    if_match: str | None


Handler = Callable[[World, Match, Request], Response]


class EmulatorApp:
    """WSGI application over a Store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._handlers: dict[Endpoint, Handler] = {
            Endpoint.SUBSCRIPTION: self._subscription,
            Endpoint.GROUPS: self._groups,
            Endpoint.GROUP: self._group,
            Endpoint.GROUP_RESOURCES: self._group_resources,
            Endpoint.LIST: self._list_of_type,
            Endpoint.CHILDREN: self._children,
            Endpoint.RESOURCE: self._resource,
            Endpoint.ACTION: self._action,
            Endpoint.SHARED_KEY: self._shared_key,
            Endpoint.OPERATION: self._operation_status,
            Endpoint.OPERATION_RESULT: self._operation_result,
        }

    # ------------------------------------------------------------ WSGI
    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.time()
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if self.settings.latency_ms:
            time.sleep(self.settings.latency_ms / 1000.0)
        base_url = (
            f"{environ.get('wsgi.url_scheme', 'https')}://{environ.get('HTTP_HOST', 'localhost')}"
        )
        limit: dict[str, str] = {}
        try:
            raw = _read_body(environ)
            response = self.handle(method, path, query, raw, environ, base_url, limit, started)
        except errors.ArmError as err:  # refused before its transaction: logged apart
            response = self._error(err)
            self.store.log_request(method, path, response.status, started)
        except Exception:  # a bug of the emulator: ARM answers 500, not a Python exception
            _LOG.exception("%s %s failed inside the emulator", method, path)
            response = self._error(errors.InternalServerError(UNEXPECTED_ERROR))
            self.store.log_request(method, path, response.status, started)
        response.headers.update(limit)
        payload = (
            b"" if response.body is None or method == "HEAD" else json.dumps(response.body).encode()
        )
        headers = [("x-ms-request-id", str(uuid.uuid4())), *response.headers.items()]
        if response.body is not None:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        headers.append(("Content-Length", str(len(payload))))
        start_response(f"{response.status} {_REASONS.get(response.status, 'OK')}", headers)
        return [payload]

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        raw: bytes,
        environ: Environ,
        base_url: str,
        limit: dict[str, str],
        started: float,
    ) -> Response:
        """Answer one request; ``limit`` receives the rate-limit header of its bucket.

        One transaction settles what is due, takes the request's token, answers it and
        logs it; a failed request's own writes are undone (a savepoint), the rest stays.
        """
        versions = query.get("api-version")
        if not versions or not versions[0]:
            raise errors.MissingApiVersionParameter()
        if not _API_VERSION.match(versions[0]):
            raise errors.InvalidApiVersionParameter(versions[0])
        self._inject_faults()
        body: Body = {}
        if raw.strip() and method in ("PUT", "POST", "PATCH"):
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError as err:
                raise errors.InvalidRequestContent(
                    f"invalid JSON ({err.msg} at position {err.pos})"
                ) from None
            if not isinstance(parsed, dict):
                raise errors.InvalidRequestContent("the body must be a JSON object")
            body = parsed
        parts = [p for p in path.split("/") if p]
        low = [p.lower() for p in parts]
        if len(low) < 2 or low[0] != "subscriptions":
            raise errors.InvalidRequestFormat(f"The path '{path}' is not an ARM path.")
        now = time.time()
        with self.store.transaction(now) as tx:
            settle(tx, now, _remove)
            try:
                limit.update(limits.take(tx, self.settings, parts[1], method))
                with tx.savepoint():
                    w = World(tx, self.settings, base_url, path)
                    if_match = environ.get("HTTP_IF_MATCH")
                    response = self._route(w, method, parts, low, query, body, if_match)
            except errors.ArmError as err:
                response = self._error(err)
            tx.log_request(method, path, response.status, started)
            return response

    def _error(self, err: errors.ArmError) -> Response:
        response = Response(err.status, err.envelope())
        if isinstance(err, errors.TooManyRequests):
            wait_s = err.retry_after_s
            if wait_s is None:
                wait_s = self.settings.wall_s(THROTTLE_RETRY_S)
            response.headers.update(retry_after(wait_s))
        return response

    def _inject_faults(self) -> None:
        faults = self.settings.faults
        if not (faults.throttle or faults.error):
            return
        roll = self.settings.dice.random()
        if roll < faults.throttle:
            raise errors.TooManyRequests()
        if roll < faults.throttle + faults.error:
            if self.settings.dice.random() < 0.5:
                raise errors.InternalServerError()
            raise errors.ServiceUnavailable()

    # --------------------------------------------------------- routing
    def _route(
        self,
        w: World,
        method: str,
        parts: list[str],
        low: list[str],
        query: dict[str, list[str]],
        body: Body,
        if_match: str | None,
    ) -> Response:
        """Match the path once against the table (``routes``); its endpoint's handler
        answers, inside the group the path names (which must exist)."""
        found = routes.match(parts, low)
        if found is None:
            raise self._unmatched(w, method, parts, low)
        if found.route.in_group:
            RESOURCE_GROUP_KIND.require(w, parts[1], found.param("group"), write=method in _WRITES)
        request = Request(method, query, body, if_match)
        return self._handlers[found.route.endpoint](w, found, request)

    # ------------------------------------------------ subscription, groups
    def _subscription(self, w: World, m: Match, r: Request) -> Response:
        sub = m.param("subscription")
        return Response(
            200,
            {
                "id": f"/subscriptions/{sub}",
                "subscriptionId": sub,
                "displayName": "hubvpn emulator",
                "state": "Enabled",
            },
        )

    def _groups(self, w: World, m: Match, r: Request) -> Response:
        return self._list(w, w.peek_select(RG_TYPE), RESOURCE_GROUP_KIND.render, r.query)

    def _group(self, w: World, m: Match, r: Request) -> Response:
        sub, group, method = m.param("subscription"), m.param("group"), r.method
        if method in ("GET", "HEAD"):
            rec = w.peek(group_id(sub, group))  # rendered into a new object
            if rec is None:
                if method == "HEAD":
                    return Response(404)
                raise errors.ResourceGroupNotFound(group)
            if method == "HEAD":
                return Response(204)
            return Response(200, RESOURCE_GROUP_KIND.render(rec))
        if method == "PUT":
            rec, created = RESOURCE_GROUP_KIND.put(w, sub, group, r.body)
            return Response(201 if created else 200, RESOURCE_GROUP_KIND.render(rec))
        if method == "PATCH":
            rec = RESOURCE_GROUP_KIND.patch(w, sub, group, r.body)
            return Response(200, RESOURCE_GROUP_KIND.render(rec))
        if method == "DELETE":
            rec = RESOURCE_GROUP_KIND.existing(w, sub, group, write=False)
            pending = rec.get("pending")
            if pending and pending["kind"] == "delete":
                op = w.tx.get_operation(pending["op"])
                assert op is not None
            else:
                delete_s = RESOURCE_GROUP_KIND.delete_s(w, group)
                op = w.start(rec, "delete", delete_s, "Deleting")
                w.put(rec)
            return Response(
                202, None, lro.accepted(w, op, status_url=False, hint_s=GROUP_DELETE_HINT_S)
            )
        raise errors.MethodNotAllowed(method)

    def _group_resources(self, w: World, m: Match, r: Request) -> Response:
        expand = ",".join(r.query.get("$expand", [])).lower()
        items = RESOURCE_GROUP_KIND.members(w, m.param("group"), expand)
        return self._list(w, items, lambda item: item, r.query)

    # ------------------------------------------------------- resources
    def _list_of_type(self, w: World, m: Match, r: Request) -> Response:
        # rendered into new objects: the store's records are read, not copied
        recs = w.peek_select(m.kind.type, group=m.param("group") if m.route.in_group else None)
        return self._list(w, recs, lambda rec: render_resource(w, rec, view="list"), r.query)

    def _children(self, w: World, m: Match, r: Request) -> Response:
        parent = m.resource_id
        if r.method != "GET":  # no action of the parent's has the child type's name
            self._existing(w, parent)
            child = m.kind.type.rsplit("/", 1)[1].lower()
            raise errors.InvalidResourceType(parent.namespace, f"{'/'.join(parent.types)}/{child}")
        recs = w.peek_select(m.kind.type, parent=str(parent))
        return self._list(w, recs, lambda rec: render_resource(w, rec, view="list"), r.query)

    def _resource(self, w: World, m: Match, r: Request) -> Response:
        kind = m.kind
        rid = m.resource_id
        if r.method == "HEAD":  # Resources_CheckExistenceById: 204 or 404, no body
            return Response(204 if w.peek(str(rid)) is not None else 404)
        if r.method == "GET":
            rec = self._existing(w, rid, copy=False)  # rendered into new objects
            return Response(200, render_resource(w, rec), {"ETag": rec["etag"]})
        if r.method == "PUT":
            return self._put(w, kind, rid, r.body, r.if_match)
        if r.method == "PATCH":
            return self._patch(w, rid, r.body, r.if_match)
        if r.method == "DELETE":
            return self._delete(w, kind, rid, r.if_match)
        raise errors.MethodNotAllowed(r.method)

    def _existing(self, w: World, rid: ResourceId, *, copy: bool = True) -> Record:
        """The record ``rid`` names (a copy unless ``copy`` is False: then the store's own,
        for a reader that never changes it); ARM's not-found error otherwise."""
        rec = w.get(str(rid)) if copy else w.peek(str(rid))
        if rec is None:
            parent = rid.parent
            if parent is not None:
                if w.peek(str(parent)) is None:
                    raise errors.ResourceNotFound(parent.type, parent.name, rid.group)
                raise errors.NotFound(str(rid))
            raise errors.ResourceNotFound(rid.type, rid.name, rid.group)
        return rec

    def _put(
        self, w: World, kind: Kind, rid: ResourceId, body: Body, if_match: str | None
    ) -> Response:
        old = w.get(str(rid))
        _check_if_match(old, if_match)
        if old is not None and old.get("pending"):
            raise errors.AnotherOperationInProgress(old["id"])
        location = body.get("location")
        if kind.has_location:
            if not isinstance(location, str) or not location:
                raise errors.LocationRequired()
            location = normalize_location(location)
            if old is not None and normalize_location(old["location"]) != location:
                raise errors.InvalidResourceLocation(rid.name, rid.group, old["location"], location)
            body = {**body, "location": location}  # kinds compare regions by name
        tags = body.get("tags")
        if tags is not None and (
            not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values())
        ):
            raise errors.InvalidRequestBody("tags must be an object of strings.", target="tags")
        if not re.fullmatch(r"[A-Za-z0-9][-\w.]{0,79}", rid.name) or (
            rid.name.endswith((".", "-"))
            and kind.type.lower() != "microsoft.compute/virtualmachines"
        ):
            raise errors.InvalidResourceName(rid.name, kind.type)
        stored = kind.validate(w, rid, body, old)
        if tags is not None:
            stored["tags"] = dict(tags)
        rec = new_record(rid, location if kind.has_location else None) if old is None else old
        if old is None:
            rec["createdAt"] = utc_iso(w.now)
            rec["id"] = str(rid)
        rec["body"] = stored
        rec["state"] = "Succeeded"
        if kind.synchronous:  # done in the request (the spec declares no LRO)
            rec["pending"] = None
            kind.after_put(w, rec, old)
            w.put(rec)
            headers = {}
            if kind.announces_operation:  # Azure names an operation all the same
                async_url, _ = w.op_urls(w.finished(rec, "put"))
                headers["Azure-AsyncOperation"] = async_url
            body = render_resource(w, rec, view="put")
            return Response(201 if old is None else 200, body, headers)
        transient = kind.creating_state if old is None else kind.updating_state
        op = w.start(rec, "put", kind.create_duration(w, rec, old), transient)
        kind.after_put(w, rec, old)
        w.put(rec)
        return Response(
            201 if old is None else 200,
            render_resource(w, rec, view="put"),
            lro.accepted(w, op, location=False, hint_s=kind.put_hint_s),
        )

    def _patch(self, w: World, rid: ResourceId, body: Body, if_match: str | None) -> Response:
        rec = self._existing(w, rid)
        _check_if_match(rec, if_match)
        if set(body) - {"tags"}:
            raise errors.InvalidRequestBody("Only tags can be updated with PATCH.")
        if not isinstance(body.get("tags", {}), dict):
            raise errors.InvalidRequestBody("tags must be an object.", target="tags")
        rec["body"]["tags"] = dict(body.get("tags", {}))
        rec["etag"] = f'W/"{uuid.uuid4()}"'
        w.put(rec)
        return Response(200, render_resource(w, rec))

    def _delete(self, w: World, kind: Kind, rid: ResourceId, if_match: str | None) -> Response:
        rec = w.get(str(rid))
        if rec is None:
            return Response(204)
        _check_if_match(rec, if_match)
        pending = rec.get("pending")
        if pending and pending["kind"] == "delete":
            op = w.tx.get_operation(pending["op"])
            assert op is not None
        else:
            if pending:
                raise errors.AnotherOperationInProgress(rec["id"])
            kind.check_delete(w, rec)
            op = w.start(rec, "delete", kind.delete_s, "Deleting")
            w.put(rec)
            for child in w.select(parent=rec["id"]):
                child["pending"] = dict(rec["pending"])
                w.put(child)
        return Response(202, None, lro.accepted(w, op, hint_s=kind.delete_hint_s))

    # ---------------------------------------------------- POST actions
    def _action(self, w: World, m: Match, r: Request) -> Response:
        rid = m.resource_id
        rec = self._existing(w, rid, copy=False)  # actions read the resource, never change it
        if r.method != "POST":
            raise errors.MethodNotAllowed(r.method)
        assert m.route.action is not None
        body = {**r.body, "_query": {k: v[0] for k, v in r.query.items()}}
        result, azure_s = m.route.action(w, rec, body)
        op = lro.start_action(w, rec, rid.namespace, result, azure_s)
        status_url = m.kind.action_announces_operation
        return Response(202, None, lro.accepted(w, op, status_url=status_url))

    def _shared_key(self, w: World, m: Match, r: Request) -> Response:
        rid = m.resource_id
        rec = self._existing(w, rid)
        if r.method == "GET":
            return Response(200, connection.shared_key(w, rec))
        if r.method != "PUT":
            raise errors.MethodNotAllowed(r.method)
        if rec.get("pending"):
            raise errors.AnotherOperationInProgress(rec["id"])
        result = connection.set_shared_key(w, rec, r.body)
        op = w.start(rec, "put", connection.SET_SHARED_KEY_S, "Updating")
        w.put(rec)
        return Response(200, result, lro.accepted(w, op, location=False))

    # ------------------------------------------------------ operations
    def _operation_status(self, w: World, m: Match, r: Request) -> Response:
        return lro.status(w, m.param("operation"))

    def _operation_result(self, w: World, m: Match, r: Request) -> Response:
        return lro.result(w, m.param("operation"))

    # --------------------------------------------- paths with no route
    def _unmatched(self, w: World, method: str, parts: list[str], low: list[str]) -> Exception:
        """ARM's error for a path no route matches: the group first, then the namespace,
        the type, the resource of an unknown action; else the path is not ARM's."""
        if len(low) >= 5 and low[2] == "resourcegroups":
            RESOURCE_GROUP_KIND.require(w, parts[1], parts[3], write=method in _WRITES)
            if len(low) >= 7 and low[4] == "providers":
                namespace, tail = parts[5], parts[6:]
                if len(tail) % 2 == 0 or len(tail) == 1:  # a type ARM does not know
                    routes.kind_named(namespace, tail[0::2])
                else:  # .../{type}/{name}/{action}: a known type, an action it does not have
                    kind = routes.kind_named(namespace, tail[0:-1:2])
                    namespace, *types = kind.type.split("/")
                    rid = ResourceId(parts[1], parts[3], namespace, tuple(types), tuple(tail[1::2]))
                    self._existing(w, rid)
                    action = f"{'/'.join(types)}/{tail[-1].lower()}"
                    return errors.InvalidResourceType(namespace, action)
        elif len(low) == 5 and low[2] == "providers":
            routes.kind_named(parts[3], [parts[4]])
        return errors.InvalidRequestFormat(f"The path '/{'/'.join(parts)}' is not an ARM path.")

    # ----------------------------------------------------------- lists
    def _list(
        self, w: World, items: list[Any], render: Callable[[Any], Body], query: dict[str, list[str]]
    ) -> Response:
        skip = _int_query(query, "$skiptoken", 0)
        top = max(1, min(PAGE_SIZE, _int_query(query, "$top", PAGE_SIZE)))
        page = items[skip : skip + top]
        out: Body = {"value": [render(i) for i in page]}
        if skip + top < len(items):
            # The next page keeps the caller's query ($top, $expand, api-version).
            params = {k: v[0] for k, v in query.items() if k.lower() != "$skiptoken"}
            params["$skiptoken"] = str(skip + top)
            out["nextLink"] = f"{w.base_url}{w.path}?{urlencode(params, safe='$')}"
        return Response(200, out)


def _int_query(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values or not values[0]:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise errors.InvalidRequestFormat(
            f"The query parameter '{name}' value '{values[0]}' is not an integer."
        ) from None
    if value < 0:
        raise errors.InvalidRequestFormat(f"The query parameter '{name}' must not be negative.")
    return value


def _check_if_match(rec: Record | None, if_match: str | None) -> None:
    if if_match is None or (if_match == "*" and rec is not None):
        return
    if rec is None or rec.get("etag") != if_match:
        raise errors.PreconditionFailed()


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length <= 0:
        return b""
    data: bytes = environ["wsgi.input"].read(length)
    return data
