"""Long-running operations as ARM answers them: 201/202 with poll URLs, then status.

A write that takes Azure time starts an operation (``World.start``); its answer
carries ``Azure-AsyncOperation`` (the status URL) and/or ``Location`` (the
result URL) and a ``Retry-After`` hint (``accepted``). Polling the status URL
answers ``InProgress`` until the operation's time has come, then
``Succeeded``/``Failed`` (``status``); the result URL answers 202 until then,
then the outcome: 204, a POST action's result, or the failure (``result``).
Deletes are polled with ARM's recorded hints (``arm.azure_poll_hint_s``). When a
delete's time has come, the resource (a group: everything in it) goes (``remove``,
called by ``settle``).
"""

from __future__ import annotations

import uuid

from hubvpn.emulator import errors
from hubvpn.emulator.arm import AZURE_HINT_S, RG_TYPE, Body, World, azure_poll_hint_s, retry_after
from hubvpn.emulator.routes import Response
from hubvpn.emulator.store import Record, Tx, utc_iso


def accepted(
    w: World,
    op: Record,
    *,
    status_url: bool = True,
    location: bool = True,
    hint_s: float = AZURE_HINT_S,
) -> dict[str, str]:
    """The headers of an answer that started ``op``: its poll URLs and when to poll
    (``hint_s``: what ARM's first answer says for this kind, in Azure seconds)."""
    async_url, location_url = w.op_urls(op)
    headers: dict[str, str] = {}
    if status_url:
        headers["Azure-AsyncOperation"] = async_url
    if location:
        headers["Location"] = location_url
    headers.update(_hint(w, op, first_s=hint_s))
    return headers


def start_action(w: World, rec: Record, namespace: str, result: Body, azure_s: float) -> Record:
    """A POST action's operation: it ends Succeeded with ``result`` after ``azure_s``."""
    op = {
        "name": str(uuid.uuid4()),
        "resource": rec["id"],
        "namespace": namespace,
        "location": rec.get("location") or "global",
        "kind": "post",
        "start": w.now,
        "until": w.now + w.settings.wall_s(azure_s),
        "status": "Succeeded",
        "result": result,
    }
    w.tx.put_operation(op)
    return op


def status(w: World, op_id: str) -> Response:
    """GET of an Azure-AsyncOperation URL."""
    op = _operation(w, op_id)
    body: Body = {
        "id": w.op_urls(op)[0].split("?")[0].removeprefix(w.base_url),
        "name": op["name"],
        "startTime": utc_iso(op["start"]),
    }
    if w.now < op["until"]:
        body["status"] = "InProgress"
        return Response(200, body, _hint(w, op))
    body["status"] = op["status"]
    body["endTime"] = utc_iso(op["until"])
    if op["status"] == "Failed":
        body["error"] = op["error"]
    return Response(200, body)


def result(w: World, op_id: str) -> Response:
    """GET of a Location URL."""
    op = _operation(w, op_id)
    if w.now < op["until"]:
        return Response(202, None, {"Location": w.op_urls(op)[1], **_hint(w, op)})
    if op["status"] == "Failed":
        error = op["error"]
        return Response(
            500 if error["code"] == "InternalServerError" else 400,
            {"error": {**error, "target": None, "details": []}},
        )
    if op["kind"] == "post":
        return Response(200, op["result"])
    return Response(204)


def remove(tx: Tx, rec: Record) -> None:
    """A delete finished: the resource (and, for a group, everything in it) is gone."""
    if rec["type"] == RG_TYPE:
        for member in tx.select(group=rec["group"]):
            tx.delete(member["id"])
        return
    for child in tx.select(parent=rec["id"]):
        tx.delete(child["id"])
    tx.delete(rec["id"])


def _operation(w: World, op_id: str) -> Record:
    op = w.tx.get_operation(op_id)
    if op is None:
        raise errors.NotFound(op_id, what="Operation")
    return op


def _hint(w: World, op: Record, first_s: float | None = None) -> dict[str, str]:
    """When to poll again. ``first_s``: the answer that started ``op``, which ARM gives
    its kind's hint; then each InProgress answer ARM's hint for that poll (10, 20, 20,
    40, 40, 80, 160, then 100 s of Azure time: ``azure_poll_hint_s``). With
    ``retry_after="azure"`` those, whatever is left; otherwise deletes' polls get them
    never past the operation's end, and the rest the time remaining."""
    azure = w.settings.retry_after == "azure"
    if first_s is not None:
        return retry_after(w.settings.wall_s(first_s) if azure else op["until"] - w.now)
    if not azure and op["kind"] != "delete":
        return retry_after(op["until"] - w.now)
    polls = int(op.get("polls", 0))
    op["polls"] = polls + 1
    w.tx.put_operation(op)
    hint_s = w.settings.wall_s(azure_poll_hint_s(polls))
    return retry_after(hint_s if azure else min(op["until"] - w.now, hint_s))
