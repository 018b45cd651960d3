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
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
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
"""

DB_FILE = "emulator.db"


def utc_iso(epoch: float) -> str:
    """ARM's timestamp form: 2026-11-26T09:00:00.123Z."""
    stamp = datetime.fromtimestamp(epoch, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


class Tx:
    """One transaction over the world."""

    def __init__(self, conn: sqlite3.Connection, now: float) -> None:
        self._conn = conn
        self.now = now

    # resources ----------------------------------------------------------
    def get(self, key: str) -> Record | None:
        row = self._conn.execute("SELECT data FROM resources WHERE key = ?", (key.lower(),))
        found = row.fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def put(self, rec: Record) -> None:
        pending = rec.get("pending")
        until = pending["until"] if pending else None
        self._conn.execute(
            "INSERT OR REPLACE INTO resources (key, grp, type, parent, until, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                rec["id"].lower(),
                rec["group"].lower(),
                rec["type"].lower(),
                (rec.get("parent") or "").lower() or None,
                until,
                json.dumps(rec),
            ),
        )

    def delete(self, key: str) -> None:
        self._conn.execute("DELETE FROM resources WHERE key = ?", (key.lower(),))
        self._conn.execute("DELETE FROM secrets WHERE key = ?", (key.lower(),))

    def select(
        self, *, type_: str | None = None, group: str | None = None, parent: str | None = None
    ) -> list[Record]:
        clauses: list[str] = []
        args: list[str] = []
        for column, value in (("type", type_), ("grp", group), ("parent", parent)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value.lower())
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._conn.execute(f"SELECT data FROM resources{where} ORDER BY key", args)
        return [dict(json.loads(r[0])) for r in rows]

    def due(self, now: float) -> list[Record]:
        rows = self._conn.execute(
            "SELECT data FROM resources WHERE until IS NOT NULL AND until <= ? ORDER BY until",
            (now,),
        )
        return [dict(json.loads(r[0])) for r in rows]

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

    # secrets (pre-shared keys): never part of a record, never logged ------
    def get_secret(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM secrets WHERE key = ?", (key.lower(),))
        found = row.fetchone()
        return None if found is None else str(found[0])

    def put_secret(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO secrets (key, value) VALUES (?, ?)", (key.lower(), value)
        )


class Store:
    """The SQLite file and its connections (one per thread)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / DB_FILE
        self._local = threading.local()
        self._lock = threading.Lock()
        state_dir.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.executescript(_SCHEMA)
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(conn, time.time())
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def log_request(self, method: str, path: str, status: int, started: float) -> None:
        conn = self._connect()
        with self._lock:
            conn.execute(
                "INSERT INTO requests (time, method, path, status, ms) VALUES (?, ?, ?, ?, ?)",
                (utc_iso(started), method, path, status, (time.time() - started) * 1000.0),
            )

    def requests(self) -> list[dict[str, Any]]:
        rows = self._connect().execute(
            "SELECT time, method, path, status, ms FROM requests ORDER BY time, seq"
        )
        return [
            {"time": t, "method": m, "path": p, "status": s, "durationMs": round(ms, 1)}
            for t, m, p, s, ms in rows
        ]

    def reset(self) -> None:
        conn = self._connect()
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            for table in ("resources", "operations", "secrets", "requests"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("COMMIT")
