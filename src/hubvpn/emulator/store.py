"""The emulator's world, kept in SQLite so that separate processes share it.

One file, ``emulator.db`` in the state directory. Every request runs in one
``BEGIN IMMEDIATE`` transaction (the one lock), so concurrent requests from the
SDK's poller threads and from other processes see a consistent world::

    store = Store(Path(".hubvpn"))
    with store.transaction() as tx:
        rec = tx.get(resource_id)
        tx.put(rec)

Records are plain JSON dicts; keys are lower-cased ARM ids (ARM ids are
case-insensitive). Time is the wall clock, so a gateway that was provisioning
when a process died keeps provisioning.

SQLite is the durable store; each process keeps the decoded records in memory
(``_Cache``) with indexes by id, type, group, parent and reference, so that a
request costs what it touches, not what the world holds. Every transaction that
changes a resource or a secret stamps a new version token in the ``meta`` table
(operations and request limits are read from the file, not cached: they stamp none);
a transaction that finds another token than the one its cache was built at (another
process wrote) reloads the cache first. Records handed out are copies: mutating one
changes nothing until ``put``. Readers that only render or inspect a record (a GET, a
LIST, the physics) use the ``peek`` methods, which hand out the cached records
themselves and must never change them; ``Store.copies`` counts the copies made.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Record = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    key TEXT PRIMARY KEY, grp TEXT NOT NULL, type TEXT NOT NULL, parent TEXT,
    until REAL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS resources_grp ON resources (grp);
CREATE INDEX IF NOT EXISTS resources_until ON resources (until);
CREATE TABLE IF NOT EXISTS operations (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, status INTEGER NOT NULL, ms REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, at REAL NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 'initial');
"""

DB_FILE = "emulator.db"


def utc_iso(epoch: float) -> str:
    """ARM's timestamp form: 2026-11-26T09:00:00.123Z."""
    stamp = datetime.fromtimestamp(epoch, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def clone(value: Any) -> Any:
    """A deep copy of JSON data (several times faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def _references(value: Any, own: str, found: set[str]) -> None:
    """Lower-cased ARM ids a body points at (``{"id": "/subscriptions/..."}``), not its own."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "id" and isinstance(v, str):
                target = v.lower()
                if target.startswith("/subscriptions/") and not target.startswith(own):
                    found.add(target)
            elif isinstance(v, (dict, list)):
                _references(v, own, found)
    elif isinstance(value, list):
        for v in value:
            _references(v, own, found)


def _add(index: dict[Any, set[str]], at: Any, key: str) -> None:
    index.setdefault(at, set()).add(key)


def _discard(index: dict[Any, set[str]], at: Any, key: str) -> None:
    keys = index.get(at)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[at]


class _Cache:
    """The decoded world of one process at one version, with its indexes."""

    def __init__(self) -> None:
        self.version: str | None = None  # None: must reload before use
        self.copies = 0  # records handed out as copies (``Tx.get``, ``select``, ...)
        self.memo: dict[Any, Any] = {}  # answers derived from the world as it is
        self._empty()

    def _empty(self) -> None:
        self.records: dict[str, Record] = {}
        self.by_type: dict[str, set[str]] = {}
        self.by_group: dict[str, set[str]] = {}
        self.by_parent: dict[str, set[str]] = {}
        self.referrers: dict[str, set[str]] = {}
        self.refs: dict[str, frozenset[str]] = {}
        self.addresses: dict[str, str] = {}  # public address -> key of its holder
        self.secrets: dict[str, str | None] = {}  # read from the file once per version

    def load(self, conn: sqlite3.Connection, version: str) -> None:
        self._empty()
        self.changed()
        for key, data in conn.execute("SELECT key, data FROM resources"):
            self.index(key, json.loads(data))
        self.version = version

    def changed(self) -> None:
        if self.memo:
            self.memo = {}

    def index(self, key: str, rec: Record) -> None:
        if key in self.records:
            self.unindex(key)
        self.records[key] = rec
        _add(self.by_type, rec["type"].lower(), key)
        _add(self.by_group, rec["group"].lower(), key)
        parent = (rec.get("parent") or "").lower()
        if parent:
            _add(self.by_parent, parent, key)
        found: set[str] = set()
        _references(rec.get("body"), key + "/", found)
        self.refs[key] = frozenset(found)
        for target in found:
            _add(self.referrers, target, key)
        address = (rec.get("body") or {}).get("properties", {}).get("ipAddress")
        if isinstance(address, str):
            self.addresses[address] = key

    def unindex(self, key: str) -> None:
        rec = self.records.pop(key, None)
        if rec is None:
            return
        _discard(self.by_type, rec["type"].lower(), key)
        _discard(self.by_group, rec["group"].lower(), key)
        parent = (rec.get("parent") or "").lower()
        if parent:
            _discard(self.by_parent, parent, key)
        for target in self.refs.pop(key, frozenset()):
            _discard(self.referrers, target, key)
        address = (rec.get("body") or {}).get("properties", {}).get("ipAddress")
        if isinstance(address, str) and self.addresses.get(address) == key:
            del self.addresses[address]


class Tx:
    """One transaction over the world."""

    def __init__(self, conn: sqlite3.Connection, now: float, cache: _Cache) -> None:
        self._conn = conn
        self._cache = cache
        self.now = now
        self.dirty = False
        self.stale = False  # the cache holds writes a savepoint undid: reload after commit
        self._changes = 0

    def _wrote(self) -> None:
        self.dirty = True
        self._changes += 1
        self._cache.changed()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction undone alone when it raises (the rest commits)."""
        self._conn.execute("SAVEPOINT part")
        changes = self._changes
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK TO part")
            self._conn.execute("RELEASE part")
            if self._changes != changes:
                self.stale = True
                self._cache.changed()
            raise
        self._conn.execute("RELEASE part")

    def log_request(self, method: str, path: str, status: int, started: float) -> None:
        """The request log's row of this request (method, path, status, time; no body)."""
        self._conn.execute(
            "INSERT INTO requests (time, method, path, status, ms) VALUES (?, ?, ?, ?, ?)",
            (utc_iso(started), method, path, status, (time.time() - started) * 1000.0),
        )

    @property
    def memo(self) -> dict[Any, Any]:
        """A dict for answers derived from the world as it is now; emptied by any change."""
        return self._cache.memo

    # resources ----------------------------------------------------------
    def get(self, key: str) -> Record | None:
        found = self._cache.records.get(key.lower())
        if found is None:
            return None
        self._cache.copies += 1
        copy: Record = clone(found)
        return copy

    def peek(self, key: str) -> Record | None:
        """The record itself, not a copy: for reading only (never change what it returns)."""
        return self._cache.records.get(key.lower())

    def referrer_keys(self, target: str, type_: str | None = None) -> list[str]:
        """Keys of the records whose body references ``target`` (optionally of one type)."""
        keys = self._cache.referrers.get(target.lower(), ())
        if type_ is None:
            return sorted(keys)
        members = self._cache.by_type.get(type_.lower(), set())
        return sorted(k for k in keys if k in members)

    def put(self, rec: Record) -> None:
        pending = rec.get("pending")
        until = pending["until"] if pending else None
        key = rec["id"].lower()
        self._conn.execute(
            "INSERT OR REPLACE INTO resources (key, grp, type, parent, until, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                key,
                rec["group"].lower(),
                rec["type"].lower(),
                (rec.get("parent") or "").lower() or None,
                until,
                json.dumps(rec),
            ),
        )
        self._cache.index(key, clone(rec))
        self._wrote()

    def delete(self, key: str) -> None:
        key = key.lower()
        self._conn.execute("DELETE FROM resources WHERE key = ?", (key,))
        self._conn.execute("DELETE FROM secrets WHERE key = ?", (key,))
        self._cache.secrets.pop(key, None)
        self._cache.unindex(key)
        self._wrote()

    def select(
        self, *, type_: str | None = None, group: str | None = None, parent: str | None = None
    ) -> list[Record]:
        """Records matching every filter given, by key; costs the smallest index's size."""
        return self._records(self._select_keys(type_, group, parent))

    def peek_select(
        self, *, type_: str | None = None, group: str | None = None, parent: str | None = None
    ) -> list[Record]:
        """``select``'s records themselves, not copies: for reading only (never change them)."""
        records = self._cache.records
        return [records[k] for k in sorted(self._select_keys(type_, group, parent))]

    def _select_keys(
        self, type_: str | None, group: str | None, parent: str | None
    ) -> Iterable[str]:
        cache = self._cache
        candidates: list[set[str]] = []
        for index, value in (
            (cache.by_type, type_),
            (cache.by_group, group),
            (cache.by_parent, parent),
        ):
            if value is not None:
                candidates.append(index.get(value.lower(), set()))
        if not candidates:
            return cache.records
        candidates.sort(key=len)
        return candidates[0].intersection(*candidates[1:]) if len(candidates) > 1 else candidates[0]

    def referrers(self, target: str, type_: str | None = None) -> list[Record]:
        """Records whose body references ``target`` by id (optionally of one type), by key."""
        return self._records(self.referrer_keys(target, type_))

    def peek_referrers(self, target: str, type_: str | None = None) -> list[Record]:
        """``referrers``' records themselves, not copies: for reading only."""
        records = self._cache.records
        return [records[k] for k in self.referrer_keys(target, type_)]

    def address_holder(self, address: str) -> str | None:
        """The id (lower-cased) of the record holding a public address, if any."""
        return self._cache.addresses.get(address)

    def _records(self, keys: Iterable[str]) -> list[Record]:
        records = self._cache.records
        found = [clone(records[k]) for k in sorted(keys)]
        self._cache.copies += len(found)
        return found

    def due(self, now: float) -> list[Record]:
        rows = self._conn.execute(
            "SELECT key FROM resources WHERE until IS NOT NULL AND until <= ? ORDER BY until",
            (now,),
        )
        return self._records_in_order(k for (k,) in rows)

    def _records_in_order(self, keys: Iterable[str]) -> list[Record]:
        records = self._cache.records
        found = [clone(records[k]) for k in keys if k in records]
        self._cache.copies += len(found)
        return found

    # operations ---------------------------------------------------------
    def get_operation(self, op_id: str) -> Record | None:
        row = self._conn.execute("SELECT data FROM operations WHERE id = ?", (op_id.lower(),))
        found = row.fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def put_operation(self, op: Record) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO operations (id, data) VALUES (?, ?)",
            (op["name"].lower(), json.dumps(op)),
        )
        # Not part of the world: read from the file by every process (no cached copy), so
        # no new version. A connectivity check or a delete's poll writes one; a new version
        # would make every other process reload its world for nothing.

    # request limits (limits.py): not part of the world, so no new version ---
    def get_bucket(self, key: str) -> tuple[float, float] | None:
        row = self._conn.execute("SELECT tokens, at FROM buckets WHERE key = ?", (key,))
        found = row.fetchone()
        return None if found is None else (float(found[0]), float(found[1]))

    def put_bucket(self, key: str, tokens: float, at: float) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO buckets (key, tokens, at) VALUES (?, ?, ?)", (key, tokens, at)
        )

    # secrets (pre-shared keys): never part of a record, never logged ------
    def get_secret(self, key: str) -> str | None:
        """A secret, read from the file once per version of the world (a GET of a
        connection shows its key; a LIST of hundreds asks for each)."""
        key = key.lower()
        secrets = self._cache.secrets
        if key not in secrets:
            row = self._conn.execute("SELECT value FROM secrets WHERE key = ?", (key,))
            found = row.fetchone()
            secrets[key] = None if found is None else str(found[0])
        return secrets[key]

    def put_secret(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO secrets (key, value) VALUES (?, ?)", (key.lower(), value)
        )
        self._cache.secrets[key.lower()] = value
        self._wrote()


class Store:
    """The SQLite file and this process's one connection to it.

    Every use of the connection holds ``_lock`` (transactions are serialised anyway:
    BEGIN IMMEDIATE), so the SDK's poller threads share it; one connection per thread
    cost a connection, its pragmas and a schema read for every poller thread.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / DB_FILE
        self._lock = threading.Lock()
        self._cache = _Cache()
        state_dir.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        return self._conn

    @contextmanager
    def transaction(self, now: float | None = None) -> Iterator[Tx]:
        """One transaction; ``now`` (default: the clock) is the time the world sees."""
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            tx: Tx | None = None
            try:
                (version,) = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
                if version != self._cache.version:
                    self._cache.load(conn, version)  # another process wrote, or first use
                tx = Tx(conn, time.time() if now is None else now, self._cache)
                yield tx
                if tx.dirty:
                    version = uuid.uuid4().hex
                    conn.execute("UPDATE meta SET value = ? WHERE key = 'version'", (version,))
                    self._cache.version = None if tx.stale else version
                conn.execute("COMMIT")
            except BaseException:
                if tx is None or tx.dirty:
                    self._cache.version = None  # it may hold the rolled-back writes
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @property
    def copies(self) -> int:
        """How many records this process handed out as copies (reads that may change them)."""
        return self._cache.copies

    def log_request(self, method: str, path: str, status: int, started: float) -> None:
        """Log a request refused before its transaction (``Tx.log_request`` otherwise)."""
        conn = self._connect()
        with self._lock:
            conn.execute(
                "INSERT INTO requests (time, method, path, status, ms) VALUES (?, ?, ?, ?, ?)",
                (utc_iso(started), method, path, status, (time.time() - started) * 1000.0),
            )

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = (
                self._connect()
                .execute("SELECT time, method, path, status, ms FROM requests ORDER BY time, seq")
                .fetchall()
            )
        return [
            {"time": t, "method": m, "path": p, "status": s, "durationMs": round(ms, 1)}
            for t, m, p, s, ms in rows
        ]

    def reset(self) -> None:
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            for table in ("resources", "operations", "secrets", "requests", "buckets"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("UPDATE meta SET value = ? WHERE key = 'version'", (uuid.uuid4().hex,))
            conn.execute("COMMIT")
            self._cache.version = None
