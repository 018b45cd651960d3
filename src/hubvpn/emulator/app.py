"""The emulator's ARM front door: a WSGI app that routes ARM paths to the kinds.

Paths are matched case-insensitively, as ARM does::

    /subscriptions/{s}/resourcegroups/{g}                          resource group
    /subscriptions/{s}/resourcegroups/{g}/resources                list of a group
    /subscriptions/{s}/resourcegroups/{g}/providers/{ns}/{type}    list of a type
    .../providers/{ns}/{type}/{name}[/{child}/{name}]              a resource
    .../providers/{ns}/{type}/{name}/{action}                      POST action, sharedkey
    /subscriptions/{s}/providers/{ns}/{type}                       list in the subscription
    /subscriptions/{s}/providers/{ns}/locations/{l}/operations/{id}        async status
    /subscriptions/{s}/providers/{ns}/locations/{l}/operationResults/{id}  async result

Every request is logged (method, path, status, time: never a body) and takes a
token from its subscription's bucket (``limits``).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlencode

from hubvpn.emulator import errors, limits
from hubvpn.emulator.arm import (
    RG_TYPE,
    Body,
    Kind,
    ResourceId,
    Settings,
    World,
    group_id,
    new_group_record,
    new_record,
    normalize_location,
    provisioning_state,
    retry_after,
    settle,
)
from hubvpn.emulator.resources import KINDS, NAMESPACES, kind_of, render_resource
from hubvpn.emulator.resources.vpn import SharedKeyActions
from hubvpn.emulator.store import Record, Store, Tx, utc_iso

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
DELETE_POLL_S = 10.0  # Azure seconds before a delete's first re-poll; doubles after
THROTTLE_RETRY_S = 10.0  # Azure seconds a throttled client is told to wait
RG_DELETE_TIER_S = (  # ARM deletes a group in dependency order, tier by tier
    (
        "microsoft.compute/virtualmachines",
        "microsoft.network/connections",
        "microsoft.network/bastionhosts",
    ),
    (
        "microsoft.network/virtualnetworkgateways",
        "microsoft.network/networkinterfaces",
        "microsoft.network/localnetworkgateways",
    ),
)


class Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}


class EmulatorApp:
    """WSGI application over a Store."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

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
        sub = parts[1]
        if len(low) == 2:
            return Response(
                200,
                {
                    "id": f"/subscriptions/{sub}",
                    "subscriptionId": sub,
                    "displayName": "hubvpn emulator",
                    "state": "Enabled",
                },
            )
        if low[2] == "resourcegroups":
            if len(low) == 3:
                return self._list(w, [r for r in w.select(RG_TYPE)], _render_group, query)
            group = parts[3]
            if len(low) == 4:
                return self._group(w, method, sub, group, body)
            self._require_group(
                w,
                sub,
                group,
                write=method in ("PUT", "PATCH", "DELETE", "POST")
                and not (len(low) > 5 and method == "POST"),
            )
            if len(low) == 5 and low[4] == "resources":
                return self._group_resources(w, sub, group, query)
            if len(low) >= 7 and low[4] == "providers":
                return self._provider(w, method, sub, group, parts[5:], query, body, if_match)
        if low[2] == "providers" and len(low) >= 4:
            namespace = parts[3]
            if (
                len(low) == 8
                and low[4] == "locations"
                and low[6] in ("operations", "operationresults")
            ):
                return self._operation(w, parts[7], low[6] == "operationresults")
            if len(low) == 5:
                kind = self._kind(namespace, (parts[4],))
                return self._list(
                    w, w.select(kind.type), lambda r: render_resource(w, r, view="list"), query
                )
        raise errors.InvalidRequestFormat(f"The path '/{'/'.join(parts)}' is not an ARM path.")

    def _kind(self, namespace: str, types: tuple[str, ...]) -> Kind:
        if namespace.lower() not in NAMESPACES:
            raise errors.NoRegisteredProviderFound(namespace)
        full = "/".join((namespace, *types)).lower()
        if full not in KINDS:
            raise errors.InvalidResourceType(namespace, "/".join(types))
        return KINDS[full]

    def _provider(
        self,
        w: World,
        method: str,
        sub: str,
        group: str,
        rest: list[str],
        query: dict[str, list[str]],
        body: Body,
        if_match: str | None,
    ) -> Response:
        namespace, tail = rest[0], rest[1:]
        if len(tail) % 2 == 1:  # a list, or an action on a resource
            if len(tail) == 1:
                kind = self._kind(namespace, (tail[0],))
                recs = w.select(kind.type, group=group)
                return self._list(w, recs, lambda r: render_resource(w, r, view="list"), query)
            names = tuple(tail[1:-1:2])
            action = tail[-1].lower()
            kind = self._kind(namespace, tuple(tail[0:-1:2]))
            rid = _canonical_id(kind, sub, group, names)
            child_type = f"{rid.type}/{tail[-1]}".lower()
            if child_type in KINDS and method == "GET":
                kind = KINDS[child_type]
                return self._list(
                    w,
                    w.select(kind.type, parent=str(rid)),
                    lambda r: render_resource(w, r, view="list"),
                    query,
                )
            return self._action(w, method, rid, action, query, body)
        kind = self._kind(namespace, tuple(tail[0::2]))
        rid = _canonical_id(kind, sub, group, tuple(tail[1::2]))
        if method == "HEAD":  # Resources_CheckExistenceById: 204 or 404, no body
            return Response(204 if w.get(str(rid)) is not None else 404)
        if method == "GET":
            rec = self._existing(w, rid)
            return Response(200, render_resource(w, rec), {"ETag": rec["etag"]})
        if method == "PUT":
            return self._put(w, kind, rid, body, if_match)
        if method == "PATCH":
            return self._patch(w, rid, body, if_match)
        if method == "DELETE":
            return self._delete(w, kind, rid, if_match)
        raise errors.MethodNotAllowed(method)

    # ---------------------------------------------------------- groups
    def _require_group(self, w: World, sub: str, group: str, *, write: bool) -> Record:
        rec = w.get(group_id(sub, group))
        if rec is None:
            raise errors.ResourceGroupNotFound(group)
        if write and rec.get("pending") and rec["pending"]["kind"] == "delete":
            raise errors.ResourceGroupBeingDeleted(group)
        return rec

    def _group(self, w: World, method: str, sub: str, group: str, body: Body) -> Response:
        gid = group_id(sub, group)
        rec = w.get(gid)
        if method in ("GET", "HEAD"):
            if rec is None:
                if method == "HEAD":
                    return Response(404)
                raise errors.ResourceGroupNotFound(group)
            return Response(
                204 if method == "HEAD" else 200, None if method == "HEAD" else _render_group(rec)
            )
        if method == "PUT":
            location = body.get("location")
            if not isinstance(location, str) or not location:
                raise errors.LocationRequired()
            location = normalize_location(location)
            if rec is not None and rec.get("pending"):
                raise errors.ResourceGroupBeingDeleted(group)
            if not re.fullmatch(r"[-\w._()]{1,90}", group) or group.endswith("."):
                raise errors.InvalidRequestBody(f"Resource group name '{group}' is invalid.")
            tags = body.get("tags")
            if tags is not None and not isinstance(tags, dict):
                raise errors.InvalidRequestBody("tags must be an object.", target="tags")
            created = rec is None
            if rec is None:
                rec = new_group_record(sub, group, location)
            elif normalize_location(rec["location"]) != location:
                raise errors.InvalidResourceGroupLocation(location, rec["location"])
            rec["body"] = {"tags": tags} if tags is not None else {}
            w.put(rec)
            return Response(201 if created else 200, _render_group(rec))
        if method == "PATCH":
            if rec is None:
                raise errors.ResourceGroupNotFound(group)
            if "tags" in body:
                rec["body"]["tags"] = body["tags"]
            w.put(rec)
            return Response(200, _render_group(rec))
        if method == "DELETE":
            if rec is None:
                raise errors.ResourceGroupNotFound(group)
            pending = rec.get("pending")
            if pending and pending["kind"] == "delete":
                op = w.tx.get_operation(pending["op"])
                assert op is not None
            else:
                op = w.start(rec, "delete", self._group_delete_s(w, group), "Deleting")
                w.put(rec)
            _, location_url = w.op_urls(op)
            return Response(202, None, {"Location": location_url, **w.retry_headers(op["until"])})
        raise errors.MethodNotAllowed(method)

    @staticmethod
    def _group_delete_s(w: World, group: str) -> float:
        members = [
            r for r in w.select(group=group) if r["type"] != RG_TYPE and r["type"].lower() in KINDS
        ]
        total = 0.0
        remaining = list(members)
        for tier in RG_DELETE_TIER_S:
            in_tier = [r for r in remaining if r["type"].lower() in tier]
            if in_tier:
                total += max(kind_of(r).delete_s for r in in_tier)
            remaining = [r for r in remaining if r["type"].lower() not in tier]
        if remaining:
            total += max(kind_of(r).delete_s for r in remaining)
        return max(total, 5.0)

    def _group_resources(
        self, w: World, sub: str, group: str, query: dict[str, list[str]]
    ) -> Response:
        expand = ",".join(query.get("$expand", [])).lower()
        items = []
        for rec in w.select(group=group):
            if rec["type"] == RG_TYPE or rec.get("parent"):
                continue
            item: Body = {
                "id": rec["id"],
                "name": rec["name"],
                "type": rec["type"],
                "location": rec["location"],
            }
            if rec["body"].get("tags") is not None:
                item["tags"] = rec["body"]["tags"]
            for field in ("sku", "zones"):
                if field in rec["body"]:
                    item[field] = rec["body"][field]
            if "provisioningstate" in expand:
                item["provisioningState"] = provisioning_state(rec)
            if "createdtime" in expand and rec.get("createdAt"):
                item["createdTime"] = rec["createdAt"]
            items.append(item)
        return self._list(w, items, lambda item: item, query)

    # ------------------------------------------------------- resources
    def _existing(self, w: World, rid: ResourceId) -> Record:
        rec = w.get(str(rid))
        if rec is None:
            parent = rid.parent
            if parent is not None:
                if w.get(str(parent)) is None:
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
        async_url, _ = w.op_urls(op)
        return Response(
            201 if old is None else 200,
            render_resource(w, rec, view="put"),
            {"Azure-AsyncOperation": async_url, **w.retry_headers(op["until"])},
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
        async_url, location_url = w.op_urls(op)
        return Response(
            202,
            None,
            {
                "Azure-AsyncOperation": async_url,
                "Location": location_url,
                **w.retry_headers(op["until"]),
            },
        )

    def _action(
        self,
        w: World,
        method: str,
        rid: ResourceId,
        action: str,
        query: dict[str, list[str]],
        body: Body,
    ) -> Response:
        rec = self._existing(w, rid)
        if action == "sharedkey" and rec["type"].lower() == "microsoft.network/connections":
            return self._shared_key(w, method, rec, body)
        handler = kind_of(rec).actions.get(action)
        if handler is None:
            raise errors.InvalidResourceType(rid.namespace, f"{'/'.join(rid.types)}/{action}")
        if method != "POST":
            raise errors.MethodNotAllowed(method)
        body = dict(body)
        body["_query"] = {k: v[0] for k, v in query.items()}
        result, azure_s = handler(w, rec, body)
        op_id = str(uuid.uuid4())
        until = w.now + self.settings.wall_s(azure_s)
        op = {
            "name": op_id,
            "resource": rec["id"],
            "namespace": rid.namespace,
            "location": rec.get("location") or "global",
            "kind": "post",
            "start": w.now,
            "until": until,
            "status": "Succeeded",
            "result": result,
        }
        w.tx.put_operation(op)
        async_url, location_url = w.op_urls(op)
        headers = {"Location": location_url, **w.retry_headers(until)}
        if kind_of(rec).action_announces_operation:
            headers["Azure-AsyncOperation"] = async_url
        return Response(202, None, headers)

    def _shared_key(self, w: World, method: str, rec: Record, body: Body) -> Response:
        if method == "GET":
            return Response(200, SharedKeyActions.get(w, rec))
        if method != "PUT":
            raise errors.MethodNotAllowed(method)
        if rec.get("pending"):
            raise errors.AnotherOperationInProgress(rec["id"])
        result = SharedKeyActions.put(w, rec, body)
        op = w.start(rec, "put", 60.0, "Updating")
        w.put(rec)
        async_url, _ = w.op_urls(op)
        return Response(
            200, result, {"Azure-AsyncOperation": async_url, **w.retry_headers(op["until"])}
        )

    # ------------------------------------------------------ operations
    def _operation(self, w: World, op_id: str, result: bool) -> Response:
        op = w.tx.get_operation(op_id)
        if op is None:
            raise errors.OperationNotFound(op_id)
        running = w.now < op["until"]
        if result:
            if running:
                _, location_url = w.op_urls(op)
                return Response(202, None, {"Location": location_url, **self._hint(w, op)})
            if op["status"] == "Failed":
                error = op["error"]
                return Response(
                    500 if error["code"] == "InternalServerError" else 400,
                    {"error": {**error, "target": None, "details": []}},
                )
            if op["kind"] == "post":
                return Response(200, op["result"])
            return Response(204)
        status: Body = {
            "id": w.op_urls(op)[0].split("?")[0].removeprefix(w.base_url),
            "name": op["name"],
            "startTime": utc_iso(op["start"]),
        }
        if running:
            status["status"] = "InProgress"
            return Response(200, status, self._hint(w, op))
        status["status"] = op["status"]
        status["endTime"] = utc_iso(op["until"])
        if op["status"] == "Failed":
            status["error"] = op["error"]
        return Response(200, status)

    def _hint(self, w: World, op: Record) -> dict[str, str]:
        """When to poll again. Deletes back off as ARM's do (10 s, 20 s, 40 s ... of
        Azure time), never past the operation's end; others get the time remaining."""
        if op["kind"] != "delete":
            return w.retry_headers(op["until"])
        polls = int(op.get("polls", 0))
        op["polls"] = polls + 1
        w.tx.put_operation(op)
        backoff_s = self.settings.wall_s(DELETE_POLL_S * 2**polls)
        return retry_after(min(op["until"] - w.now, backoff_s))

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


def _canonical_id(kind: Kind, sub: str, group: str, names: tuple[str, ...]) -> ResourceId:
    """The id with the type spelled as ARM spells it, whatever the request's casing."""
    namespace, *types = kind.type.split("/")
    return ResourceId(sub, group, namespace, tuple(types), names)


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


def _remove(tx: Tx, rec: Record) -> None:
    """A delete finished: the resource (and, for a group, everything in it) is gone."""
    if rec["type"] == RG_TYPE:
        for member in tx.select(group=rec["group"]):
            tx.delete(member["id"])
        return
    for child in tx.select(parent=rec["id"]):
        tx.delete(child["id"])
    tx.delete(rec["id"])


def _check_if_match(rec: Record | None, if_match: str | None) -> None:
    if if_match is None or (if_match == "*" and rec is not None):
        return
    if rec is None or rec.get("etag") != if_match:
        raise errors.PreconditionFailed()


def _render_group(rec: Record) -> Body:
    out: Body = {
        "id": rec["id"],
        "name": rec["name"],
        "type": RG_TYPE,
        "location": rec["location"],
        "properties": {"provisioningState": provisioning_state(rec)},
    }
    if rec["body"].get("tags") is not None:
        out["tags"] = rec["body"]["tags"]
    return out


def _read_body(environ: Environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length <= 0:
        return b""
    data: bytes = environ["wsgi.input"].read(length)
    return data
