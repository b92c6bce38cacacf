"""Aliases (``champion``, ``challenger``) over a service's model versions, with their history.

Why files and not the alert state's SQLite or PostgreSQL: a version is already a folder
of files under ``models/<service>/``; keeping its aliases beside it means one place to
back up, copy to another machine or inspect with ``cat``, and no second store that can
disagree with the folders (a database row pointing at a folder on another disk). The
volume is tiny (a row a week per service), so nothing needs a database's concurrency.

``models/<service>/history.jsonl`` is the only state. Every decision is a row, appended
under the service's lock and written atomically (the whole file is rewritten to a
temporary name, flushed and renamed), so a killed writer leaves the history as it was.
The aliases are not stored anywhere else: they are the fold of the history's moves, so
aliases and history can never disagree. A row names the sha256 of every version it
moves an alias to; loading through an alias checks the file against the metadata *and*
that row, so a model file and metadata edited together are still refused.
"""

from __future__ import annotations

import datetime as dt
import getpass
import socket
from pathlib import Path

from workbench._util import exclusive_lock
from workbench.config import Config
from workbench.errors import DataError, ParameterError
from workbench.lifecycle.journal import append_row, read_rows
from workbench.lifecycle.versions import (
    list_versions,
    load_version,
    remove_version,
    service_folder,
    verify_version,
)

__all__ = [
    "ALIASES",
    "CHALLENGER",
    "CHAMPION",
    "aliases",
    "history",
    "load_alias",
    "load_champion",
    "previous_champion",
    "protected_versions",
    "prune",
    "record",
    "rollback",
    "service_lock",
    "set_alias",
    "whoami",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
ALIASES = (CHAMPION, CHALLENGER)
HISTORY = "history.jsonl"


def _history_path(config: Config, service: str) -> Path:
    return service_folder(config, service) / HISTORY


def service_lock(config: Config, service: str):
    """The service's lock for read-then-append of its history and drift log (waits its turn)."""
    return exclusive_lock(service_folder(config, service) / ".history.lock")


def whoami() -> str:
    """``user@host`` of this process, for the history's ``by`` column."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container without a passwd entry
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def history(config: Config, service: str) -> list[dict]:
    """Every row of ``service``'s history, oldest first (``[]`` before the first decision).

    Raises :class:`DataError` for a damaged file (see :func:`~workbench.lifecycle.journal.read_rows`):
    a wrong champion is worse than none, so nothing is guessed.
    """
    rows = read_rows(_history_path(config, service), required=("at", "moves"))
    for n, row in enumerate(rows, 1):
        if not isinstance(row["moves"], dict):
            raise DataError(f"{_history_path(config, service)}, row {n}: 'moves' must be an object; restore the file from a backup")
    return rows


def _fold(rows: list[dict]) -> dict[str, str]:
    current: dict[str, str] = {}
    for row in rows:
        for alias, move in row["moves"].items():
            if move.get("to"):
                current[alias] = move["to"]
            else:
                current.pop(alias, None)
    return current


def aliases(config: Config, service: str) -> dict[str, str]:
    """``{alias: version}`` now: the fold of the history's moves."""
    return _fold(history(config, service))


def record(
    config: Config,
    service: str,
    *,
    action: str,
    moves: dict[str, str | None] | None = None,
    reason: str = "",
    figures: dict | None = None,
    by: str | None = None,
    expect: dict[str, str | None] | None = None,
    extra: dict | None = None,
) -> dict:
    """Append one decision to the history, moving ``moves`` (``{alias: version or None}``).

    ``expect`` is a compare-and-swap: the aliases it names must still point where the
    caller saw them (``None`` = unset), or nothing is written. A retrain that compared
    against one champion must not demote another that someone promoted meanwhile.
    ``extra`` adds fields to the row (a retrain's data time ``as_of``, its trigger).

    Returns the row written. Raises :class:`ParameterError` for an unknown alias or
    version, or when ``expect`` no longer holds.
    """
    moves = moves or {}
    unknown = sorted(set(moves) - set(ALIASES))
    if unknown:
        raise ParameterError(f"unknown alias {unknown}; aliases are {', '.join(ALIASES)}")
    with service_lock(config, service):
        rows = history(config, service)
        current = _fold(rows)
        for alias, seen in (expect or {}).items():
            if current.get(alias) != seen:
                raise ParameterError(
                    f"{service}: the {alias} changed while this run worked ({seen} -> {current.get(alias)}); "
                    "nothing was recorded, run it again"
                )
        known = {v["version"]: v for v in list_versions(config, service)}
        row_moves, sha = {}, {}
        for alias, version in moves.items():
            if version is not None and version not in known:
                raise ParameterError(f"{service} has no model version {version!r} (see workbench models list --service {service})")
            row_moves[alias] = {"from": current.get(alias), "to": version}
            if version is not None:
                sha[version] = known[version].get("sha256")
        row = {
            "seq": len(rows) + 1,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "service": service,
            "action": action,
            "by": by or whoami(),
            "moves": row_moves,
            "sha256": sha,
            "reason": reason,
            "figures": figures or {},
            **(extra or {}),
        }
        append_row(_history_path(config, service), rows, row)
    return row


def set_alias(config: Config, service: str, alias: str, version: str, *, reason: str, by: str | None = None, action: str = "promote") -> dict:
    """Point ``alias`` at ``version`` (``workbench models promote``); a history row with ``reason``."""
    return record(config, service, action=action, moves={alias: version}, reason=reason, by=by)


def previous_champion(rows: list[dict]) -> str | None:
    """The version that was champion before the current one (``None``: there was none)."""
    for row in reversed(rows):
        move = row["moves"].get(CHAMPION)
        if move and move.get("to") != move.get("from"):
            return move.get("from")
    return None


def rollback(config: Config, service: str, to: str | None = None, *, reason: str = "", by: str | None = None) -> dict:
    """Make the previous champion (or ``to``) the champion again; one history row.

    The previous champion is the one the last champion move replaced, so a second
    rollback undoes the first. Raises :class:`ParameterError` when there is nothing to
    roll back to, and :class:`DataError` when that version's file no longer matches its
    checksum (the champion stays as it was).
    """
    rows = history(config, service)
    current = _fold(rows).get(CHAMPION)
    target = to or previous_champion(rows)
    if target is None:
        raise ParameterError(f"{service}: no earlier champion to roll back to (see workbench models show --service {service})")
    if target == current:
        raise ParameterError(f"{service}: {target} is already the champion")
    verify_version(config, service, target)  # refuse a damaged target before moving anything (nothing unpickled)
    return record(
        config,
        service,
        action="rollback",
        moves={CHAMPION: target},
        reason=reason or f"rolled back from {current}",
        by=by,
        expect={CHAMPION: current},
    )


def load_alias(config: Config, service: str, alias: str = CHAMPION) -> tuple[object, dict]:
    """The model ``alias`` points at and its metadata, checksum-verified.

    Raises
    ------
    DataError
        No such alias yet; the alias points at a version that is gone; the file does
        not match the checksum in its metadata or in the history row that moved the
        alias (either way it is never unpickled).
    """
    rows = history(config, service)
    version = _fold(rows).get(alias)
    if version is None:
        raise DataError(f"{service} has no {alias} yet (workbench retrain, or workbench models promote VERSION)")
    if version not in {v["version"] for v in list_versions(config, service)}:
        raise DataError(
            f"the {alias} of {service} points at version {version}, which is not in {service_folder(config, service)}; "
            f"restore it, or choose another: workbench models rollback --service {service} --to VERSION"
        )
    promised = next((r["sha256"].get(version) for r in reversed(rows) if r["moves"].get(alias, {}).get("to") == version), None)
    return load_version(config, service, version, sha256=promised)


def load_champion(config: Config, service: str) -> tuple[object, dict]:
    """The model the live loop uses: the champion, checksum-verified.

    A project from before aliases (versions, no history) uses its newest version, and
    the metadata's ``alias`` says so; a project with a champion never falls back to
    another version, since silently scoring with an unreviewed model is worse than a
    clear error (the rules still page).
    """
    if CHAMPION not in aliases(config, service):
        model, meta = load_version(config, service)
        return model, {**meta, "alias": "newest (no champion set)"}
    model, meta = load_alias(config, service, CHAMPION)
    return model, {**meta, "alias": CHAMPION}


def protected_versions(config: Config, service: str, within, now=None) -> set[str]:
    """Versions an alias points at, or pointed at within ``within`` (a duration; rollback targets)."""
    import pandas as pd  # only here: rollback and promote never need it

    rows = history(config, service)
    now = now or pd.Timestamp.now(tz="UTC")
    keep = set(_fold(rows).values())
    for row in rows:
        if pd.Timestamp(row["at"]) >= now - pd.Timedelta(within):
            for move in row["moves"].values():
                keep.update(v for v in (move.get("from"), move.get("to")) if v)
    return keep


def prune(config: Config, service: str, keep: int, *, dry_run: bool = False) -> list[str]:
    """Remove all but the ``keep`` newest versions, never an aliased or recently aliased one.

    Returns the removed versions (what would be removed with ``dry_run``).
    """
    if keep < 0:
        raise ParameterError(f"--keep must be 0 or more, got {keep}")
    with service_lock(config, service):
        versions = [v["version"] for v in list_versions(config, service)]
        protected = protected_versions(config, service, config.lifecycle.protect)
        newest = set(versions[-keep:]) if keep else set()
        doomed = [v for v in versions if v not in newest and v not in protected]
        if not dry_run:
            for version in doomed:
                remove_version(config, service, version)
            _sweep(service_folder(config, service))
    return doomed


def _sweep(folder: Path, older_than: float = 3600.0) -> None:
    """Remove what killed saves and removals left behind (hidden ``.tmp`` / ``.removing`` folders over an hour old)."""
    import shutil
    import time

    for path in folder.glob(".*"):
        if path.is_dir() and path.name.endswith((".tmp", ".removing")) and time.time() - path.stat().st_mtime > older_than:
            shutil.rmtree(path, ignore_errors=True)
