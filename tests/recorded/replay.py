"""Replay recorded Azure traffic against the emulator and score how alike the answers are.

Every ``*.json`` under ``tests/recorded/`` is a recording in the Azure SDK test-proxy
format (``{"Entries": [{"RequestUri", "RequestMethod", "RequestHeaders", "RequestBody",
"StatusCode", "ResponseHeaders", "ResponseBody"}], "Variables": {}}``): fixtures trimmed
from Azure/azure-sdk-assets (see INDEX.md) and anything ``HUBVPN_RECORD=DIR`` wrote.

Each file runs on a fresh emulator world, in order. The recorded polls of operation
URLs are skipped: after each request the emulator answered with ``Azure-AsyncOperation``
or ``Location``, its own operation URL is polled until done. Per request the replay
compares the HTTP status, the LRO header kinds, the error code and the set of JSON key
paths of the body; the final answer of a POST action's ``Location`` is compared with the
recorded one too. An entry whose request carries ``x-hubvpn-replay: setup`` is sent but
not scored (a fixture's stand-in for a step the recording made another way; INDEX.md).
Differences listed in ``differences.py`` (each with its reason) are left out of the score.

    python tests/recorded/replay.py            # prints the fidelity table
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.core.rest import HttpRequest, HttpResponse

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":  # run as a script: make the sibling modules importable
    sys.path.insert(0, str(HERE.parent))

from hubvpn.emulator import open_app  # noqa: E402
from hubvpn.emulator.arm import Faults, Settings  # noqa: E402
from hubvpn.emulator.resources import KINDS  # noqa: E402
from hubvpn.emulator.transport import EmulatorTransport  # noqa: E402
from recorded.differences import DIFFERENCES, Difference  # noqa: E402

SPEED = 36000.0  # Azure seconds per wall second: a 30-minute gateway takes 50 ms
MAX_POLLS = 2000  # a bound on each wait, never reached when the emulator is right
MAX_PAUSE_S = 0.02
GROUP_TYPE = "Microsoft.Resources/resourceGroups"
SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions"
# The types hubvpn deploys and reads: the targets hold on these.
USED_TYPES = frozenset({GROUP_TYPE.lower(), SUBSCRIPTION_TYPE.lower(), *KINDS})
_OPERATION_PATH = re.compile(
    r"/providers/[^/]+/locations/[^/]+/(operations|operationresults|\w*operationresults)/",
    re.IGNORECASE,
)
_KEPT_REQUEST_HEADERS = ("if-match", "if-none-match", "content-type")
# A request a fixture adds to build what the recording built another way (e.g. through an
# ARM template deployment, which the emulator does not serve): sent, never scored.
SETUP_HEADER = "x-hubvpn-replay"

Body = dict[str, Any]


# ------------------------------------------------------------------ key paths


def key_paths(body: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value: ``properties.subnets[].name``; lists are the
    union of their elements' paths, marked ``[]``."""
    out: set[str] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= key_paths(value, path)
    elif isinstance(body, list):
        for item in body:
            out |= key_paths(item, f"{prefix}[]")
    return out


def error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return str(code) if code is not None else None
    return None


def lro_kinds(headers: Any) -> tuple[bool, bool]:
    """(Azure-AsyncOperation present, Location present), header names in any case."""
    names = {str(k).lower() for k in (headers or {})}
    return "azure-asyncoperation" in names, "location" in names


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


# ------------------------------------------------------------- resource types


def resource_type(uri: str, method: str = "GET") -> str:
    """The ARM type a request is about; a POST action counts for its resource's type, a
    GET of a child collection the emulator does not know (``.../gateways/g/connections``)
    for that collection."""
    parts = [p for p in urlsplit(uri).path.split("/") if p]
    low = [p.lower() for p in parts]
    if "providers" not in low:
        return GROUP_TYPE if "resourcegroups" in low else SUBSCRIPTION_TYPE
    at = len(low) - 1 - low[::-1].index("providers")
    rest = parts[at + 1 :]
    if len(rest) < 2:
        return "/".join(rest)
    namespace, tail = rest[0], rest[1:]
    if len(tail) >= 3 and tail[0].lower() == "locations":  # operations, usages, checks
        return f"{namespace}/locations/{tail[2]}"
    types = tail[0::2]
    if len(tail) % 2 == 1 and len(types) > 1:  # a child collection or an action
        child = "/".join((namespace, *types))
        if child.lower() not in KINDS and method != "GET":
            types = types[:-1]
    return "/".join((namespace, *types))


# ------------------------------------------------------------------- scoring


@dataclass
class Check:
    """One compared answer: what was recorded and what the emulator said."""

    source: str
    index: int
    method: str
    uri: str
    type: str
    status: tuple[int, int]  # (recorded, emulator)
    lro: tuple[tuple[bool, bool], tuple[bool, bool]]
    error: tuple[str | None, str | None]
    paths: tuple[frozenset[str], frozenset[str]]
    excused: list[str] = field(default_factory=list)  # reasons of the rows that applied

    def applies(self, row: Difference) -> bool:
        return (
            fnmatchcase(self.type.lower(), row.type.lower())
            and (row.method is None or row.method == self.method)
            and fnmatchcase(self.source, row.source)
        )

    def _excused(self, what: str) -> list[Difference]:
        return [r for r in DIFFERENCES if r.what in (what, "*") and self.applies(r)]

    @property
    def status_ok(self) -> bool:
        return self.status[0] == self.status[1] or self._excuse("status", str(self.status[0]))

    @property
    def lro_ok(self) -> bool:
        return self.lro[0] == self.lro[1] or self._excuse("lro", _lro_name(self.lro[0]))

    @property
    def error_counted(self) -> bool:
        return self.error[0] is not None or self.error[1] is not None

    @property
    def error_ok(self) -> bool:
        return self.error[0] == self.error[1] or self._excuse("error", str(self.error[0]))

    def _excuse(self, what: str, recorded: str) -> bool:
        for row in self._excused(what):
            if row.matches(recorded):
                self.excused.append(row.reason)
                return True
        return False

    def path_sets(self) -> tuple[set[str], set[str]]:
        """Recorded and emulated key paths, less those an accepted difference names."""
        recorded, emulated = set(self.paths[0]), set(self.paths[1])
        for row in self._excused("path"):
            hit = {p for p in recorded ^ emulated if row.matches(p)}
            if hit:
                self.excused.append(row.reason)
            recorded -= hit
            emulated -= hit
        return recorded, emulated


def _lro_name(kinds: tuple[bool, bool]) -> str:
    names = [n for n, on in zip(("Azure-AsyncOperation", "Location"), kinds, strict=True) if on]
    return "+".join(names) or "none"


@dataclass
class Score:
    requests: int = 0
    status_ok: int = 0
    lro_ok: int = 0
    errors: int = 0
    errors_ok: int = 0
    paths_common: int = 0
    paths_all: int = 0

    def add(self, check: Check) -> None:
        self.requests += 1
        self.status_ok += check.status_ok
        self.lro_ok += check.lro_ok
        if check.error_counted:
            self.errors += 1
            self.errors_ok += check.error_ok
        recorded, emulated = check.path_sets()
        self.paths_common += len(recorded & emulated)
        self.paths_all += len(recorded | emulated)

    @staticmethod
    def _pct(good: int, total: int) -> float:
        return 100.0 * good / total if total else 100.0

    @property
    def status_pct(self) -> float:
        return self._pct(self.status_ok, self.requests)

    @property
    def lro_pct(self) -> float:
        return self._pct(self.lro_ok, self.requests)

    @property
    def error_pct(self) -> float:
        return self._pct(self.errors_ok, self.errors)

    @property
    def paths_pct(self) -> float:
        return self._pct(self.paths_common, self.paths_all)


@dataclass
class Report:
    checks: list[Check]

    def by_type(self) -> dict[str, Score]:
        out: dict[str, Score] = {}
        for check in self.checks:
            out.setdefault(check.type, Score()).add(check)
        return dict(sorted(out.items(), key=lambda kv: kv[0].lower()))

    def total(self, used_only: bool = True) -> Score:
        score = Score()
        for check in self.checks:
            if not used_only or check.type.lower() in USED_TYPES:
                score.add(check)
        return score

    def table(self) -> str:
        head = f"{'resource type':<70}{'n':>5}{'status':>9}{'LRO':>9}{'errors':>11}{'paths':>9}"
        lines = [head, "-" * len(head)]
        for name, s in self.by_type().items():
            mark = "" if name.lower() in USED_TYPES else " (outside the targets)"
            lines.append(_row(name + mark, s))
        lines.append("-" * len(head))
        lines.append(_row("overall, types hubvpn uses", self.total()))
        lines.append(_row("overall, every recorded request", self.total(used_only=False)))
        return "\n".join(lines)

    def mismatches(self) -> list[str]:
        """One line per remaining (unexcused) difference, to read when a figure drops."""
        out: list[str] = []
        for c in self.checks:
            where = f"{c.source}#{c.index} {c.method} {c.type}"
            if not c.status_ok:
                out.append(f"{where}: status {c.status[0]} recorded, {c.status[1]} emulated")
            if not c.lro_ok:
                out.append(
                    f"{where}: LRO {_lro_name(c.lro[0])} recorded, {_lro_name(c.lro[1])} emulated"
                )
            if c.error_counted and not c.error_ok:
                out.append(f"{where}: error {c.error[0]} recorded, {c.error[1]} emulated")
            recorded, emulated = c.path_sets()
            if recorded - emulated:
                out.append(f"{where}: missing {sorted(recorded - emulated)}")
            if emulated - recorded:
                out.append(f"{where}: extra {sorted(emulated - recorded)}")
        return out

    def unused_differences(self) -> list[Difference]:
        """Rows of the table that excused nothing in this run (fixed, or stale)."""
        reasons = {r for c in self.checks for r in c.excused}
        return [row for row in DIFFERENCES if row.reason not in reasons]


def _row(name: str, s: Score) -> str:
    errors = f"{s.error_pct:.1f}%/{s.errors}" if s.errors else "-"
    return (
        f"{name:<70}{s.requests:>5}{s.status_pct:>8.1f}%{s.lro_pct:>8.1f}%"
        f"{errors:>11}{s.paths_pct:>8.1f}%"
    )


# -------------------------------------------------------------------- replay


def recordings(root: Path = HERE) -> list[Path]:
    """Every recording under ``root``: a fixture, or one dropped there by HUBVPN_RECORD."""
    return sorted(root.rglob("*.json"))


def load(path: Path) -> list[Body]:
    data = json.loads(path.read_text())
    entries = data.get("Entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: not a test-proxy recording (no 'Entries' list)")
    return entries


class Emulator:
    """A fresh emulator world, reached in-process at management.azure.com."""

    def __init__(self, state_dir: Path) -> None:
        app = open_app(state_dir, Settings(speed=SPEED, faults=Faults(), latency_ms=0.0))
        self.http = EmulatorTransport(app)

    def send(self, method: str, uri: str, body: Any, headers: Any) -> HttpResponse:
        kept = {
            k: str(v) for k, v in (headers or {}).items() if str(k).lower() in _KEPT_REQUEST_HEADERS
        }
        data: bytes | None = None
        if body is not None and body != "":
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            kept.setdefault("Content-Type", "application/json")
        return self.http.send(HttpRequest(method, _https(uri), content=data, headers=kept))

    def finish(self, response: HttpResponse) -> HttpResponse | None:
        """Follow the emulator's own operation to its end; the last answer, if any."""
        async_url = response.headers.get("Azure-AsyncOperation")
        location = response.headers.get("Location")
        last: HttpResponse | None = None
        if async_url:
            for _ in range(MAX_POLLS):
                last = self.http.send(HttpRequest("GET", _https(async_url)))
                status = last.json().get("status") if last.status_code == 200 else "Failed"
                if status not in ("InProgress", "Accepted", "Running", "Updating"):
                    break
                _pause(last)
        if location:
            for _ in range(MAX_POLLS):
                last = self.http.send(HttpRequest("GET", _https(location)))
                if last.status_code != 202:
                    break
                _pause(last)
        return last


def _https(uri: str) -> str:
    """The recorded URL as the in-process emulator takes it (any host, https)."""
    parts = urlsplit(uri)
    query = f"?{parts.query}" if parts.query else ""
    return f"https://management.azure.com{parts.path}{query}"


def _pause(response: HttpResponse) -> None:
    hint = response.headers.get("retry-after-ms")
    seconds = int(hint) / 1000.0 if hint else float(response.headers.get("Retry-After", "0"))
    time.sleep(min(max(seconds, 0.001), MAX_PAUSE_S))


def _json(response: HttpResponse) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _is_poll(uri: str, operation_urls: set[str]) -> bool:
    return _strip(uri) in operation_urls or _OPERATION_PATH.search(urlsplit(uri).path) is not None


def _strip(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.path.lower()}?{parts.query}"


def _final_recorded(entries: list[Body], start: int, url: str) -> Body | None:
    """The last recorded answer of a Location URL (the action's result)."""
    final: Body | None = None
    for entry in entries[start:]:
        if entry.get("RequestMethod") == "GET" and _strip(entry["RequestUri"]) == _strip(url):
            final = entry
    return final


def replay_file(path: Path, state_dir: Path) -> Iterator[Check]:
    """Send one recording's requests, in order, to a fresh world; yield each comparison."""
    entries = load(path)
    emulator = Emulator(state_dir)
    operation_urls: set[str] = set()
    source = path.relative_to(HERE).as_posix() if path.is_relative_to(HERE) else str(path)
    for index, entry in enumerate(entries):
        uri, method = entry["RequestUri"], entry["RequestMethod"].upper()
        if method == "GET" and _is_poll(uri, operation_urls):
            continue
        recorded_headers = entry.get("ResponseHeaders") or {}
        for name in ("azure-asyncoperation", "location"):
            url = _header(recorded_headers, name)
            if url:
                operation_urls.add(_strip(url))
        got = emulator.send(method, uri, entry.get("RequestBody"), entry.get("RequestHeaders"))
        if _header(entry.get("RequestHeaders"), SETUP_HEADER.lower()) == "setup":
            emulator.finish(got)  # stands in for a step the recording made another way
            continue
        kind = resource_type(uri, method)
        body = _json(got)
        recorded_body = entry.get("ResponseBody")
        yield Check(
            source,
            index,
            method,
            uri,
            kind,
            (int(entry["StatusCode"]), got.status_code),
            (lro_kinds(recorded_headers), lro_kinds(got.headers)),
            (error_code(recorded_body), error_code(body)),
            (frozenset(key_paths(recorded_body)), frozenset(key_paths(body))),
        )
        final = emulator.finish(got)
        recorded_location = _header(recorded_headers, "location")
        if method == "POST" and recorded_location:
            recorded_final = _final_recorded(entries, index + 1, recorded_location)
            if recorded_final is not None and final is not None:
                final_body = _json(final)
                result_body = recorded_final.get("ResponseBody")
                yield Check(
                    source,
                    index,
                    "RESULT",
                    uri,
                    kind,
                    (int(recorded_final["StatusCode"]), final.status_code),
                    ((False, False), (False, False)),
                    (error_code(result_body), error_code(final_body)),
                    (frozenset(key_paths(result_body)), frozenset(key_paths(final_body))),
                )


def replay_all(paths: list[Path] | None = None) -> Report:
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="hubvpn-replay-") as tmp:
        for number, path in enumerate(paths if paths is not None else recordings()):
            checks.extend(replay_file(path, Path(tmp) / str(number)))
    return Report(checks)


def main() -> None:
    report = replay_all()
    print(report.table())
    if "-v" in sys.argv[1:]:
        print("\nremaining differences:")
        for line in report.mismatches():
            print("  " + line)
    stale = report.unused_differences()
    if stale:
        print("\nrows of differences.py that excused nothing in this run:")
        for row in stale:
            print(f"  {row.type} {row.what} {row.pattern}: {row.reason}")


if __name__ == "__main__":
    main()
