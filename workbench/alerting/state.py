"""The live loop's durable state: which windows were scored, the episodes, the outbox, and
the models' per-window scores (the champion's and the challenger's shadow scores).

One SQLite file (``alerting.state``, under ``data/`` by default; the same tables in PostgreSQL
when the store is PostgreSQL, :mod:`workbench.alerting.state_postgres`), in WAL mode so a reader
(``workbench alerts``, the 06 notebook) never blocks the scorer. Every change a scoring
cycle makes for a service (the last scored window, the episode's new state, the events it
must send) is written in **one transaction**: a process killed mid-cycle leaves the state
as it was before the cycle, and the next run does the cycle again. Delivery marks each
outbox row in its own transaction after the sink accepted it, so an event is sent at least
once; the sinks make a repeat harmless (stable keys, idempotent receivers).

Times are stored as ISO 8601 UTC text (sortable); payloads as JSON.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from workbench._util import exclusive_lock
from workbench.alerting.episodes import ADVICE_FIELDS
from workbench.errors import StoreError

__all__ = ["AlertState", "EPISODE_FIELDS", "alert_state_exists", "open_alert_state"]

#: The columns of an episode, as stored and as returned.
EPISODE_FIELDS = [
    "key",
    "service",
    "status",
    "opened",
    "last_alert",
    "action",
    "source",
    "confidence",
    # The most abnormal model window's log10 tail probability and its words ("once in 10^9
    # normal weeks"): they rank episodes whose confidence reads 100.
    "log10_tail",
    "unusual",
    "rules",
    "top_features",
    "model_version",
    "normal_windows",
    "resolved",
    "updated",
    # The runbook advice the page carried.
    *ADVICE_FIELDS,
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scored (
    service TEXT PRIMARY KEY,
    last_window TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episodes (
    key TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    opened TEXT NOT NULL,
    last_alert TEXT NOT NULL,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    confidence REAL,
    rules TEXT NOT NULL DEFAULT '',
    top_features TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT '',
    normal_windows INTEGER NOT NULL DEFAULT 0,
    resolved TEXT,
    updated TEXT NOT NULL,
    suggestion TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '',
    similar_incidents TEXT NOT NULL DEFAULT '',
    log10_tail REAL,
    unusual TEXT NOT NULL DEFAULT ''
);
-- At most one open episode per service: the database refuses a second one.
CREATE UNIQUE INDEX IF NOT EXISTS one_open_episode ON episodes (service) WHERE status = 'open';
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sink TEXT NOT NULL,
    episode TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('trigger', 'update', 'resolve')),
    payload TEXT NOT NULL,
    created TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    -- 1 once the event may have reached the receiver (handed over, outcome unknown or a
    -- timeout): such a trigger is never held back, or its page would never be resolved.
    maybe_sent INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT,
    finished TEXT,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sink, state, id);
-- Each scored window's model confidence, by role: the champion's (what paged) and the
-- challenger's shadow score (what would have), so a retrain can compare them on live windows.
CREATE TABLE IF NOT EXISTS window_scores (
    service TEXT NOT NULL,
    window_start TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('champion', 'challenger')),
    version TEXT NOT NULL,
    confidence REAL,
    PRIMARY KEY (service, window_start, role)
);
"""
#: Columns added after a state file may have been created: (table, column, definition).
#: Opening an older state adds them, so an upgrade needs no manual step and loses nothing.
_ADDED_COLUMNS = [
    ("episodes", "suggestion", "TEXT NOT NULL DEFAULT ''"),
    ("episodes", "citations", "TEXT NOT NULL DEFAULT ''"),
    ("episodes", "similar_incidents", "TEXT NOT NULL DEFAULT ''"),
    ("episodes", "log10_tail", "REAL"),
    ("episodes", "unusual", "TEXT NOT NULL DEFAULT ''"),
]


def _iso(value) -> str | None:
    """ISO 8601 UTC text (sortable as text), or ``None`` for a missing time."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return None
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat()


def _where(**equal) -> tuple[str, list]:
    """`` WHERE a = ? AND b = ?`` for the filters given (None: no filter) and their values.

    The column names are this module's own keywords, never input.
    """
    given = {k: v for k, v in equal.items() if v}
    clause = " WHERE " + " AND ".join(f"{k} = ?" for k in given) if given else ""
    return clause, list(given.values())


class AlertState:
    """The alert state in a SQLite file (created on first use).

    Parameters
    ----------
    path
        The database file; its folder is created.
    timeout
        Seconds to wait for another writer's lock before a :class:`StoreError`.
    """

    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in transaction()).
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed cycle survives a power cut, not only a killed process.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._upgrade()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the alert state ({exc}); move the file aside to start afresh") from exc
        self._depth = 0

    def _missing_columns(self) -> list[str]:
        missing = []
        for table, column, definition in _ADDED_COLUMNS:
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                missing.append(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
        return missing

    def _upgrade(self) -> None:
        """Add the columns an older state file lacks (:data:`_ADDED_COLUMNS`), in one transaction."""
        if not self._missing_columns():
            return
        # Decided again under the write lock: another process may have upgraded meanwhile.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in self._missing_columns():
                self._db.execute(statement)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- the backend: SQLite here, PostgreSQL in a subclass --------------------------------
    def _run(self, sql: str, args=()):
        return self._db.execute(sql, args)

    def _many(self, sql: str, rows) -> None:
        self._db.executemany(sql, rows)

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock now, so two writers serialise instead of failing late.
        self._db.execute("BEGIN IMMEDIATE")

    @contextlib.contextmanager
    def run_lock(self) -> Iterator[None]:
        """Held for a whole scoring run: an overlapping run waits for it (a file lock here)."""
        with exclusive_lock(self.path.with_name(self.path.name + ".lock")):
            yield

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AlertState:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen together or not at all (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._begin()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: the alert state is locked by another run ({exc})") from exc
        self._depth = 1
        try:
            yield
        except BaseException:
            self._run("ROLLBACK")
            raise
        else:
            self._run("COMMIT")
        finally:
            self._depth = 0

    # -- scored windows -------------------------------------------------------------------
    def last_scored(self, service: str) -> pd.Timestamp | None:
        """Start of the last window scored for ``service``, or ``None`` before the first run."""
        row = self._run("SELECT last_window FROM scored WHERE service = ?", (service,)).fetchone()
        return pd.Timestamp(row["last_window"]) if row else None

    def set_scored(self, service: str, window: pd.Timestamp) -> None:
        self._run(
            "INSERT INTO scored (service, last_window) VALUES (?, ?) "
            "ON CONFLICT (service) DO UPDATE SET last_window = excluded.last_window",
            (service, _iso(window)),
        )

    # -- episodes -------------------------------------------------------------------------
    def open_episode(self, service: str) -> dict | None:
        row = self._run("SELECT * FROM episodes WHERE service = ? AND status = 'open'", (service,)).fetchone()
        return self._episode(row) if row else None

    def save_episode(self, episode: dict) -> None:
        """Insert or replace an episode (all of :data:`EPISODE_FIELDS`)."""
        values = {k: episode.get(k) for k in EPISODE_FIELDS}
        for key in (*ADVICE_FIELDS, "unusual"):
            values[key] = values[key] or ""  # an episode made without advice (or a model window) has none
        if values["log10_tail"] is not None and pd.isna(values["log10_tail"]):
            values["log10_tail"] = None
        for key in ("opened", "last_alert", "resolved", "updated"):
            values[key] = _iso(values[key])
        columns = ", ".join(EPISODE_FIELDS)
        marks = ", ".join("?" for _ in EPISODE_FIELDS)
        # An upsert on the key, not INSERT OR REPLACE: REPLACE would quietly delete another
        # service's open episode to satisfy the one-open-episode index.
        updates = ", ".join(f"{k} = excluded.{k}" for k in EPISODE_FIELDS if k != "key")
        self._run(
            f"INSERT INTO episodes ({columns}) VALUES ({marks}) ON CONFLICT (key) DO UPDATE SET {updates}",
            [values[k] for k in EPISODE_FIELDS],
        )

    def episodes(self, status: str | None = None, service: str | None = None) -> pd.DataFrame:
        """Episodes, oldest first, optionally only ``open`` or ``resolved`` ones of one service."""
        where, args = _where(status=status, service=service)
        rows = [self._episode(r) for r in self._run(f"SELECT * FROM episodes{where} ORDER BY opened, key", args)]
        return pd.DataFrame(rows, columns=EPISODE_FIELDS)

    @staticmethod
    def _episode(row: sqlite3.Row) -> dict:
        out = dict(row)
        for key in ("opened", "last_alert", "resolved", "updated"):
            out[key] = pd.Timestamp(out[key]) if out[key] else None
        return out

    # -- per-window model scores (champion and shadow challenger) ------------------------
    def save_scores(self, service: str, rows: list[tuple[pd.Timestamp, str, str, float | None]]) -> None:
        """Store ``(window, role, version, confidence)`` rows; a rescored window replaces its row."""
        self._many(
            "INSERT INTO window_scores (service, window_start, role, version, confidence) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (service, window_start, role) DO UPDATE SET version = excluded.version, confidence = excluded.confidence",
            [(service, _iso(w), role, version, None if pd.isna(c) else float(c)) for w, role, version, c in rows],
        )

    def window_scores(self, service: str, start=None, end=None) -> pd.DataFrame:
        """``service``'s stored scores in ``[start, end)``: columns window (UTC), role, version, confidence (0-100; NaN = none)."""
        sql, args = "SELECT window_start, role, version, confidence FROM window_scores WHERE service = ?", [service]
        if start is not None:
            sql, args = sql + " AND window_start >= ?", [*args, _iso(start)]
        if end is not None:
            sql, args = sql + " AND window_start < ?", [*args, _iso(end)]
        rows = [dict(r) for r in self._run(sql + " ORDER BY window_start, role", args)]
        out = pd.DataFrame(rows, columns=["window_start", "role", "version", "confidence"]).rename(columns={"window_start": "window"})
        out["window"] = pd.to_datetime(out["window"], utc=True, format="ISO8601")
        out["confidence"] = out["confidence"].astype(float)
        return out

    def forget_scores(self, before: pd.Timestamp) -> int:
        """Drop stored scores of windows before ``before``; returns how many rows went."""
        return self._run("DELETE FROM window_scores WHERE window_start < ?", (_iso(before),)).rowcount

    # -- the outbox -----------------------------------------------------------------------
    def enqueue(self, sinks: list[str], episode: str, event: str, payload: dict, created: pd.Timestamp) -> None:
        """One pending row per sink for an episode's event."""
        text = json.dumps(payload, sort_keys=True, default=str)
        self._many(
            "INSERT INTO outbox (sink, episode, event, payload, created) VALUES (?, ?, ?, ?, ?)",
            [(sink, episode, event, text, _iso(created)) for sink in sinks],
        )

    def pending(self, sink: str, limit: int = 1000, after: int = 0) -> list[dict]:
        """The sink's pending rows after row ``after``, oldest first (the order they must be delivered in)."""
        rows = self._run(
            "SELECT * FROM outbox WHERE sink = ? AND state = 'pending' AND id > ? ORDER BY id LIMIT ?", (sink, after, limit)
        ).fetchall()
        return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]

    def came_and_went(self, sink: str) -> set[str]:
        """Episodes whose trigger never reached ``sink`` (not even maybe) and whose resolve is waiting too."""
        rows = self._run(
            "SELECT DISTINCT t.episode FROM outbox t JOIN outbox r ON r.episode = t.episode AND r.sink = t.sink "
            "WHERE t.sink = ? AND t.state = 'pending' AND t.event = 'trigger' AND t.maybe_sent = 0 "
            "AND r.state = 'pending' AND r.event = 'resolve'",
            (sink,),
        ).fetchall()
        return {r["episode"] for r in rows}

    def dead_episodes(self, sink: str) -> set[str]:
        """Episodes with a dead letter for ``sink`` (their later events wait behind it)."""
        rows = self._run("SELECT DISTINCT episode FROM outbox WHERE sink = ? AND state = 'dead'", (sink,)).fetchall()
        return {r["episode"] for r in rows}

    def finish(self, row_id: int, state: str, at: pd.Timestamp, attempts: int, error: str = "") -> None:
        """Mark a row ``delivered``, ``dead`` or ``skipped`` after ``attempts`` tries in all."""
        self._run(
            "UPDATE outbox SET state = ?, finished = ?, error = ?, attempts = ? WHERE id = ?",
            (state, _iso(at), error, attempts, row_id),
        )

    def sending(self, row_id: int, attempts: int) -> None:
        """About to hand the row over (attempt number ``attempts``): from now on it may have been sent."""
        self._run("UPDATE outbox SET attempts = ?, maybe_sent = 1 WHERE id = ?", (attempts, row_id))

    def postpone(self, row_id: int, next_attempt: pd.Timestamp, attempts: int, error: str, maybe_sent: bool) -> None:
        """Failed ``attempts`` times so far; try again at ``next_attempt``."""
        self._run(
            "UPDATE outbox SET attempts = ?, next_attempt = ?, error = ?, maybe_sent = ? WHERE id = ?",
            (attempts, _iso(next_attempt), error, int(maybe_sent), row_id),
        )

    def outbox(self, state: str | None = None, sink: str | None = None) -> pd.DataFrame:
        """Outbox rows (optionally of one state and sink), oldest first; the payload as JSON text."""
        where, args = _where(state=state, sink=sink)
        return pd.DataFrame([dict(r) for r in self._run(f"SELECT * FROM outbox{where} ORDER BY id", args)], columns=[
            "id", "sink", "episode", "event", "payload", "created", "state", "attempts", "maybe_sent", "next_attempt", "finished", "error",
        ])

    def retry_dead(self, sink: str | None = None) -> int:
        """Put dead letters back in the queue (after the cause is fixed); returns how many."""
        where, args = _where(state="dead", sink=sink)
        with self.transaction():
            return self._run(f"UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = NULL, finished = NULL{where}", args).rowcount


def alert_state_exists(config) -> bool:
    """Whether the live loop may have left state to read: always for PostgreSQL, else when the
    SQLite file is there (a reader must not create an empty one)."""
    return config.store.kind == "postgres" or (config.root / config.alerting.state).exists()


def open_alert_state(config) -> AlertState:
    """The configured alert state: in the store's PostgreSQL database when ``store.kind`` is
    ``postgres``, else the SQLite file ``alerting.state`` under the project."""
    if config.store.kind == "postgres":
        from workbench.alerting.state_postgres import PostgresAlertState
        from workbench.settings import postgres_dsn

        return PostgresAlertState(postgres_dsn(config.store.postgres))
    return AlertState(config.root / config.alerting.state)
